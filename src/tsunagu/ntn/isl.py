"""Inter-satellite links (ISLs): which satellite pairs carry a laser link, and when it works.

Topology
--------
* :func:`grid_isl_pairs` builds the "+Grid" pattern (each satellite linked to its two
  neighbours in its plane and to the satellites in the same slot of the two adjacent planes;
  Bhattacherjee & Singla, CoNEXT 2019; Hypatia, Kassing et al., IMC 2020) and any other
  regular pattern given as (plane offset, slot offset) pairs.
* :func:`nearest_isl_pairs` links each satellite to its ``k`` nearest neighbours at one instant,
  for element sets read from TLE/OMM files whose plane structure is unknown.

Feasibility per instant (:func:`isl_feasible`): both ends have positions, the link is no longer
than ``max_range_m`` and the line of sight stays above ``min_grazing_altitude_m`` over a
**spherical Earth of radius WGS84_A_M** (the equatorial radius: at high latitudes the real
surface is up to 21 km lower, so the test is conservative there). Hypatia's assumption is 80 km,
above most of the atmosphere's refraction and absorption.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from tsunagu.constants import WGS84_A_M
from tsunagu.errors import ModelRangeError

__all__ = [
    "PLUS_GRID",
    "grid_isl_pairs",
    "isl_feasible",
    "nearest_isl_pairs",
]

#: +Grid as (plane offset, slot offset): next satellite in the plane, same slot in the next plane.
PLUS_GRID: tuple[tuple[int, int], ...] = ((0, 1), (1, 0))


def _unique_undirected(a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
    pairs = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    if pairs.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(pairs, axis=0).astype(np.int64)


def grid_isl_pairs(
    planes: int,
    sats_per_plane: int,
    pattern: Sequence[tuple[int, int]] = PLUS_GRID,
    *,
    inter_plane_shift: int = 0,
    cross_seam: bool = True,
    seam_shift: int = 0,
    first_index: int = 0,
) -> NDArray[np.int64]:
    """Undirected ISL pairs of a regular pattern on a ``planes × sats_per_plane`` shell.

    Satellite index ``first_index + k·sats_per_plane + j`` is slot ``j`` of plane ``k`` (the
    order of :func:`tsunagu.ntn.orbits.walker_positions_ecef_m`). For each ``(dp, ds)`` in
    ``pattern`` satellite ``(k, j)`` links to ``(k + dp, j + ds + inter_plane_shift·[dp ≠ 0])``,
    slots modulo ``sats_per_plane``.

    Parameters
    ----------
    planes, sats_per_plane : int
        Shell layout (>= 1).
    pattern : sequence of (int, int)
        (plane offset >= 0, slot offset) pairs; default +Grid ``((0, 1), (1, 0))``.
    inter_plane_shift : int
        Extra slot offset on inter-plane links (Hypatia's ``isl_shift``).
    cross_seam : bool
        Link the last plane back to the first (True for Walker delta shells; set False for a
        Walker star shell, whose first and last planes counter-rotate).
    seam_shift : int
        Extra slot offset on links that wrap from the last plane to the first. A Walker delta
        shell with phasing ``f`` keeps equal phase across the seam with ``seam_shift = f``;
        Hypatia uses 0.
    first_index : int
        Index of the shell's first satellite in a multi-shell array.

    Returns
    -------
    numpy.ndarray of int64, shape (E, 2)
        Unique pairs ``(a, b)`` with ``a < b``, sorted.

    Examples
    --------
    >>> grid_isl_pairs(72, 22).shape  # 2 links per satellite
    (3168, 2)
    """
    if int(planes) != planes or planes < 1 or int(sats_per_plane) != sats_per_plane:
        raise ModelRangeError(
            f"grid_isl_pairs: planes and sats_per_plane must be integers >= 1; got "
            f"{planes!r}, {sats_per_plane!r}."
        )
    if sats_per_plane < 1:
        raise ModelRangeError(f"grid_isl_pairs: sats_per_plane must be >= 1; got {sats_per_plane}.")
    k = np.repeat(np.arange(planes, dtype=np.int64), sats_per_plane)
    j = np.tile(np.arange(sats_per_plane, dtype=np.int64), planes)
    a_all: list[NDArray[np.int64]] = []
    b_all: list[NDArray[np.int64]] = []
    for dp, ds in pattern:  # a handful of pattern entries
        if int(dp) != dp or not 0 <= dp < max(planes, 2) or int(ds) != ds:
            raise ModelRangeError(
                f"grid_isl_pairs: pattern entries are integer (plane offset 0..planes-1, slot "
                f"offset) pairs; got {(dp, ds)!r} for {planes} planes."
            )
        if dp >= planes:  # a one-plane shell has no neighbouring plane
            continue
        k2 = k + dp
        wraps = k2 >= planes
        slot = j + ds + (inter_plane_shift if dp != 0 else 0) + np.where(wraps, seam_shift, 0)
        keep = np.ones_like(wraps) if cross_seam else ~wraps
        a = first_index + k * sats_per_plane + j
        b = first_index + (k2 % planes) * sats_per_plane + slot % sats_per_plane
        a_all.append(a[keep])
        b_all.append(b[keep])
    if not a_all:
        return np.zeros((0, 2), dtype=np.int64)
    return _unique_undirected(np.concatenate(a_all), np.concatenate(b_all))


def nearest_isl_pairs(sat_ecef_m: ArrayLike, k: int = 4) -> NDArray[np.int64]:
    """Undirected pairs linking each satellite to its ``k`` nearest satellites at one instant.

    The union of every satellite's choices, so a satellite can end up with more than ``k``
    links when others choose it. Satellites with NaN positions get none.

    Returns
    -------
    numpy.ndarray of int64, shape (E, 2)
    """
    pos = np.asarray(sat_ecef_m, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ModelRangeError(f"nearest_isl_pairs: sat_ecef_m must be (N, 3); got {pos.shape}.")
    if int(k) != k or k < 1:
        raise ModelRangeError(f"nearest_isl_pairs: k must be an integer >= 1; got {k!r}.")
    ok = np.flatnonzero(np.all(np.isfinite(pos), axis=1))
    if ok.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    kk = min(int(k), ok.size - 1)
    _, nbr = cKDTree(pos[ok]).query(pos[ok], k=kk + 1)
    nbr = np.asarray(nbr, dtype=np.int64).reshape(ok.size, kk + 1)[:, 1:]
    a = np.repeat(ok, kk)
    b = ok[nbr.ravel()]
    return _unique_undirected(a, b)


def isl_feasible(
    sat_ecef_m: ArrayLike,
    pairs: ArrayLike,
    max_range_m: float = np.inf,
    min_grazing_altitude_m: float = 80e3,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which ISLs work at each instant, and their lengths.

    Parameters
    ----------
    sat_ecef_m : array_like, shape (T, N, 3) or (N, 3)
        Satellite positions (m); NaN for a satellite without a position.
    pairs : array_like of int, shape (E, 2)
        Satellite index pairs.
    max_range_m : float
        Longest usable laser link (m); ``inf`` for no limit.
    min_grazing_altitude_m : float
        The straight line between the two satellites must stay at least this high above a
        sphere of radius ``WGS84_A_M`` (Hypatia: 80 km).

    Returns
    -------
    up : numpy.ndarray of bool, shape (T, E) (or (E,) for 2-D input)
    length_m : numpy.ndarray, shape like ``up``
        Straight-line distance (m), NaN where a position is missing.

    Examples
    --------
    >>> import numpy as np
    >>> r, a = 6378137.0 + 550e3, np.radians([0.0, 20.0, 90.0])
    >>> sats = np.stack([r * np.cos(a), r * np.sin(a), 0 * a], axis=1)
    >>> up, d = isl_feasible(sats, [[0, 1], [0, 2]])
    >>> up.tolist()  # the 90° link would dip to 4,899 km from the centre: below the surface
    [True, False]
    """
    pos = np.asarray(sat_ecef_m, dtype=np.float64)
    squeeze = pos.ndim == 2
    if squeeze:
        pos = pos[np.newaxis]
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ModelRangeError(
            f"isl_feasible: sat_ecef_m must be (T, N, 3) or (N, 3) metres; got {pos.shape}."
        )
    pr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if pr.size and (pr.min() < 0 or pr.max() >= pos.shape[1]):
        raise ModelRangeError(
            f"isl_feasible: pair indices must lie in 0..{pos.shape[1] - 1}; got "
            f"{pr.min()}..{pr.max()}."
        )
    if not max_range_m > 0.0:
        raise ModelRangeError(f"isl_feasible: max_range_m must be > 0; got {max_range_m!r}.")
    if not min_grazing_altitude_m >= 0.0:
        raise ModelRangeError(
            f"isl_feasible: min_grazing_altitude_m must be >= 0 m; got {min_grazing_altitude_m!r}."
        )
    p = pos[:, pr[:, 0], :]
    d = pos[:, pr[:, 1], :] - p
    length_sq = np.einsum("tek,tek->te", d, d)
    length = np.sqrt(length_sq)
    # Closest point of the segment p + s·d (0 <= s <= 1) to the Earth's centre.
    s = np.clip(
        np.divide(
            -np.einsum("tek,tek->te", p, d),
            length_sq,
            out=np.zeros_like(length_sq),
            where=length_sq > 0.0,
        ),
        0.0,
        1.0,
    )
    closest = p + s[..., np.newaxis] * d
    clearance_sq = np.einsum("tek,tek->te", closest, closest)
    floor = WGS84_A_M + min_grazing_altitude_m
    with np.errstate(invalid="ignore"):
        up = (length <= max_range_m) & (clearance_sq >= floor * floor)
    up &= np.isfinite(length)
    if squeeze:
        return up[0], length[0]
    return up, length
