"""Hexagonal site layouts, three-sector cells, wrap-around and uniform user drops.

The layout of TR 38.901 §7.8 / Table 7.2-1 (and of ITU-R M.2412 and TR 36.814 before it):
19 sites on a hexagonal grid (a centre site and two rings), three sectors per site with
boresights at 30°, 150° and 270°, users dropped uniformly over the sites' hexagons with a
minimum horizontal distance to their site, and geographic wrap-around so every site sees a
full ring of interferers.

Orientation matters: with sector boresights at 30°/150°/270°, the sector cells tile the plane
as regular hexagons only if each boresight points at a neighbouring site, i.e. the site grid has
its neighbours at 30°, 90°, 150°, … (one neighbour due "north" of the x-axis plane). A grid
rotated by 30° with the same boresights misaligns sectors and cells and shifts the geometry CDF
by about 2 dB (REFERENCES.md, "Calibration" pitfall). :func:`hex_sites_m` builds the aligned
grid; :func:`three_sector_cells` the matching sectors.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from tsunagu.errors import ScenarioError

__all__ = [
    "SECTOR_AZIMUTHS_DEG",
    "drop_uniform_in_hexagons",
    "hex_sites_m",
    "three_sector_cells",
    "wrap_shifts_m",
]

Float = NDArray[np.float64]
Int = NDArray[np.int64]

#: Sector boresights of TR 38.901 Table 7.8-1 ("3 sectors per cell: 30, 150 and 270 degrees").
SECTOR_AZIMUTHS_DEG: Final = (30.0, 150.0, 270.0)

_COS30: Final = float(np.sqrt(3.0) / 2.0)


def _basis(isd_m: float) -> tuple[Float, Float]:
    a = np.array([_COS30, 0.5]) * isd_m  # neighbour at 30°
    b = np.array([0.0, 1.0]) * isd_m  # neighbour at 90°
    return a, b


def hex_sites_m(isd_m: float, rings: int = 2) -> Float:
    """Site positions (m) of a hexagonal grid of ``1 + 3 rings (rings + 1)`` sites (19 for 2).

    The centre site is at the origin; neighbours lie at 30°, 90°, 150°, … at distance
    ``isd_m``.

    Examples
    --------
    >>> hex_sites_m(500.0).shape
    (19, 2)
    """
    if not isd_m > 0.0:
        raise ScenarioError(f"hex_sites_m: isd_m must be > 0 m; got {isd_m}.")
    if rings < 0:
        raise ScenarioError(f"hex_sites_m: rings must be >= 0; got {rings}.")
    a, b = _basis(isd_m)
    r = np.arange(-rings, rings + 1)
    i, j = (g.ravel() for g in np.meshgrid(r, r, indexing="ij"))
    keep = np.maximum(np.maximum(np.abs(i), np.abs(j)), np.abs(i + j)) <= rings
    i, j = i[keep], j[keep]
    order = np.lexsort((j, i, np.maximum(np.maximum(np.abs(i), np.abs(j)), np.abs(i + j))))
    return np.asarray(i[order, None] * a + j[order, None] * b, dtype=np.float64)


def wrap_shifts_m(isd_m: float) -> Float:
    """The 7 translations (incl. 0) of the 19-site cluster used for wrap-around (m).

    The cluster tiles the plane under ``3a + 2b`` and its rotations by 60° (``|T| = √19 ISD``),
    with ``a``, ``b`` the grid vectors to the neighbours at 30° and 90°.
    """
    a, b = _basis(isd_m)
    ij = [(0, 0), (3, 2), (-2, 5), (-5, 3), (-3, -2), (2, -5), (5, -3)]
    return np.asarray([i * a + j * b for i, j in ij], dtype=np.float64)


def three_sector_cells(
    sites_xy_m: Float, azimuths_deg: tuple[float, ...] = SECTOR_AZIMUTHS_DEG
) -> tuple[Float, Float, Int]:
    """Sectors of every site: positions ``(C, 2)``, boresight azimuths ``(C,)``, site index.

    Cell ``3 s + k`` is sector ``k`` of site ``s``.
    """
    sites = np.asarray(sites_xy_m, dtype=np.float64)
    n_sec = len(azimuths_deg)
    xy = np.repeat(sites, n_sec, axis=0)
    az = np.tile(np.asarray(azimuths_deg, dtype=np.float64), sites.shape[0])
    site = np.repeat(np.arange(sites.shape[0], dtype=np.int64), n_sec)
    return xy, az, site


def drop_uniform_in_hexagons(
    sites_xy_m: Float,
    isd_m: float,
    n_users: int,
    min_d2d_m: float,
    rng: np.random.Generator,
) -> tuple[Float, Int]:
    """Drop ``n_users`` uniformly over the sites' hexagons (Voronoi cells of the grid).

    Each user picks a site uniformly, then a point uniformly in that site's hexagon (apothem
    ``isd/2``, vertices at 0°, 60°, …), rejecting points closer than ``min_d2d_m`` to the site
    (TR 38.901 Table 7.2-1 minimum BS–UT distance: 35 m UMa, 10 m UMi).

    Returns
    -------
    xy_m : (n_users, 2) array
    site : (n_users,) int array — the site whose hexagon holds the user.
    """
    if n_users < 1:
        raise ScenarioError(f"drop_uniform_in_hexagons: n_users must be >= 1; got {n_users}.")
    if not 0.0 <= min_d2d_m < 0.5 * isd_m:
        raise ScenarioError(
            f"drop_uniform_in_hexagons: min_d2d_m must lie in [0, isd/2); got {min_d2d_m}."
        )
    sites = np.asarray(sites_xy_m, dtype=np.float64)
    circ = isd_m / np.sqrt(3.0)
    normals = np.array([[np.cos(np.radians(t)), np.sin(np.radians(t))] for t in (30, 90, 150)])
    out = np.empty((0, 2))
    while out.shape[0] < n_users:
        m = 2 * (n_users - out.shape[0]) + 16
        p = np.column_stack(
            [rng.uniform(-circ, circ, m), rng.uniform(-0.5 * isd_m, 0.5 * isd_m, m)]
        )
        inside = np.all(np.abs(p @ normals.T) <= 0.5 * isd_m, axis=1)
        inside &= np.hypot(p[:, 0], p[:, 1]) >= min_d2d_m
        out = np.vstack([out, p[inside]])
    out = out[:n_users]
    site = rng.integers(0, sites.shape[0], n_users).astype(np.int64)
    return np.asarray(out + sites[site], dtype=np.float64), site
