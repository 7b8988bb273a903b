"""Visibility geometry between ground points, satellites and HAPS (Earth-fixed, metres).

* **Local vertical**: the outward normal of the WGS84 ellipsoid scaled through the ground point,
  ``(x/a², y/a², z/b²)`` normalised. On the ellipsoid it is the geodetic normal exactly; for a
  point at height ``h`` it differs from the geodetic normal by about ``e² h / a`` rad
  (< 0.0003° for |h| < 10 km), negligible for elevation masks.
* **Elevation** is the angle between the line of sight and the local horizontal plane,
  ``asin(û·d/|d|)``; a zero-length line of sight gives 0°.
* **HAPS footprints** use great-circle distance on a sphere of radius ``EARTH_MEAN_RADIUS_M``
  between the geocentric directions of the user and of the platform (its sub-platform point).

Pairwise arrays are (N, M); the search functions process users in chunks so that memory stays
near ``chunk · M · 24`` bytes.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.constants import EARTH_MEAN_RADIUS_M, WGS84_A_M, WGS84_F
from tsunagu.errors import ModelRangeError

__all__ = [
    "best_bent_pipe",
    "elevation_and_range",
    "haps_coverage",
    "local_vertical",
    "nearest_visible",
    "seen_by_any",
]

_B_M: Final = WGS84_A_M * (1.0 - WGS84_F)
_CHUNK_ELEMENTS: Final = 2_000_000  # pairs per chunk (about 48 MB of float64 vectors)


def _as_points(name: str, x: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == 0:
        return arr.reshape(0, 3)
    if arr.ndim == 1 and arr.shape[0] == 3:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ModelRangeError(f"{name} must have shape (n, 3) of ECEF metres; got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ModelRangeError(f"{name} contains NaN or infinite coordinates.")
    return arr


def local_vertical(ecef_m: ArrayLike) -> NDArray[np.float64]:
    """Unit outward normal of the WGS84 ellipsoid through each point, shape (N, 3).

    Examples
    --------
    >>> local_vertical([[6378137.0, 0.0, 0.0]]).round(6).tolist()
    [[1.0, 0.0, 0.0]]
    """
    p = _as_points("ecef_m", ecef_m)
    g = p / np.array([WGS84_A_M**2, WGS84_A_M**2, _B_M**2])
    norm = np.linalg.norm(g, axis=1, keepdims=True)
    if np.any(norm == 0.0):
        raise ModelRangeError("local_vertical: the Earth's centre has no local vertical.")
    return np.asarray(g / norm)


def _elev_range(
    ground: NDArray[np.float64], up: NDArray[np.float64], sat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    d = sat[np.newaxis, :, :] - ground[:, np.newaxis, :]  # (n, m, 3)
    rng = np.sqrt(np.einsum("nmk,nmk->nm", d, d))
    proj = np.einsum("nmk,nk->nm", d, up)
    sin_el = np.divide(proj, rng, out=np.zeros_like(rng), where=rng > 0.0)
    return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0))), rng


def elevation_and_range(
    ground_ecef_m: ArrayLike, sat_ecef_m: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Elevation of each satellite seen from each ground point, and the slant range.

    Parameters
    ----------
    ground_ecef_m : array_like, shape (N, 3)
        Ground (or aircraft) positions, ECEF metres.
    sat_ecef_m : array_like, shape (M, 3)
        Satellite or platform positions, ECEF metres.

    Returns
    -------
    elevation_deg : numpy.ndarray, shape (N, M)
        Elevation above the local horizontal (ellipsoid normal), −90…90°.
    slant_range_m : numpy.ndarray, shape (N, M)
        Straight-line distance (m).

    Examples
    --------
    >>> el, r = elevation_and_range([[6378137.0, 0, 0]], [[6378137.0 + 550e3, 0, 0]])
    >>> float(el[0, 0]), float(r[0, 0])
    (90.0, 550000.0)
    """
    ground = _as_points("ground_ecef_m", ground_ecef_m)
    sat = _as_points("sat_ecef_m", sat_ecef_m)
    return _elev_range(ground, local_vertical(ground), sat)


def seen_by_any(
    ground_ecef_m: ArrayLike, sat_ecef_m: ArrayLike, min_elevation_deg: ArrayLike
) -> NDArray[np.bool_]:
    """Whether each satellite is at or above its elevation mask from at least one ground point.

    The same test as ``elevation_and_range(...)[0] >= min_elevation_deg`` reduced over the
    points, without the arcsine and square root: ``el ≥ m`` ⇔ ``(s − g)·u ≥ sin(m) |s − g|``,
    squared where both sides are positive. Points are taken in chunks, so memory stays
    bounded for many points.

    Parameters
    ----------
    ground_ecef_m : array_like, shape (N, 3)
    sat_ecef_m : array_like, shape (M, 3)
    min_elevation_deg : array_like, scalar or shape (M,)
        Each satellite's mask, −90…90°.

    Returns
    -------
    numpy.ndarray of bool, shape (M,)

    Examples
    --------
    >>> seen_by_any([[6378137.0, 0, 0]], [[7e6, 0, 0], [0, 7e6, 0]], 10.0).tolist()
    [True, False]
    """
    ground = _as_points("ground_ecef_m", ground_ecef_m)
    sat = _as_points("sat_ecef_m", sat_ecef_m)
    mask = np.broadcast_to(np.asarray(min_elevation_deg, dtype=np.float64), sat.shape[:1])
    if np.any(~np.isfinite(mask) | (np.abs(mask) > 90.0)):
        raise ModelRangeError("min_elevation_deg must be finite, between -90 and 90 degrees.")
    up = local_vertical(ground) if ground.shape[0] else ground
    sin_m = np.sin(np.radians(mask))
    s_sq = np.einsum("mk,mk->m", sat, sat)
    seen = np.zeros(sat.shape[0], dtype=bool)
    step = _chunk_rows(sat.shape[0])
    for start in range(0, ground.shape[0], step):
        g, u = ground[start : start + step], up[start : start + step]
        proj = u @ sat.T - np.einsum("nk,nk->n", g, u)[:, np.newaxis]
        rng_sq = np.maximum(
            s_sq[np.newaxis, :] + np.einsum("nk,nk->n", g, g)[:, np.newaxis] - 2.0 * (g @ sat.T),
            0.0,
        )
        rhs = sin_m * sin_m * rng_sq
        ok = np.where(
            sin_m >= 0.0, (proj >= 0.0) & (proj * proj >= rhs), (proj >= 0.0) | (proj * proj <= rhs)
        )
        seen |= ok.any(axis=0)
    return seen


def _chunk_rows(n_cols: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(1, n_cols))


def best_bent_pipe(
    user_ecef_m: ArrayLike,
    gateway_ecef_m: ArrayLike,
    sat_ecef_m: ArrayLike,
    min_elev_user_deg: float,
    min_elev_gw_deg: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Shortest transparent (bent-pipe) path user → satellite → gateway for every user.

    A satellite qualifies when the user sees it at ``>= min_elev_user_deg`` and some gateway
    sees it at ``>= min_elev_gw_deg``. The path length is ``|u - s| + |s - g|``; since the
    gateway term depends only on the satellite, each satellite's nearest visible gateway is
    found once (G × M), then each user minimises over satellites (N × M, in chunks).

    Parameters
    ----------
    user_ecef_m : array_like, shape (N, 3)
    gateway_ecef_m : array_like, shape (G, 3)
    sat_ecef_m : array_like, shape (M, 3)
        Positions in ECEF metres at one instant.
    min_elev_user_deg, min_elev_gw_deg : float
        Elevation masks (degrees).

    Returns
    -------
    sat_index : numpy.ndarray of int64, shape (N,)
        Chosen satellite, −1 when none qualifies.
    gateway_index : numpy.ndarray of int64, shape (N,)
        Chosen gateway, −1 when none.
    path_length_m : numpy.ndarray, shape (N,)
        ``|u - s| + |s - g|`` (m), ``inf`` when none.
    """
    users = _as_points("user_ecef_m", user_ecef_m)
    gws = _as_points("gateway_ecef_m", gateway_ecef_m)
    sats = _as_points("sat_ecef_m", sat_ecef_m)
    n_users, n_sats = users.shape[0], sats.shape[0]
    sat_index = np.full(n_users, -1, dtype=np.int64)
    gateway_index = np.full(n_users, -1, dtype=np.int64)
    path_length = np.full(n_users, np.inf)
    if n_users == 0 or n_sats == 0 or gws.shape[0] == 0:
        return sat_index, gateway_index, path_length

    # Nearest visible gateway of every satellite.
    gw_best = np.full(n_sats, -1, dtype=np.int64)
    gw_dist = np.full(n_sats, np.inf)
    gw_up = local_vertical(gws)
    step = _chunk_rows(n_sats)
    for start in range(0, gws.shape[0], step):
        el, rng = _elev_range(gws[start : start + step], gw_up[start : start + step], sats)
        rng = np.where(el >= min_elev_gw_deg, rng, np.inf)
        idx = np.argmin(rng, axis=0)
        best = rng[idx, np.arange(n_sats)]
        better = best < gw_dist
        gw_dist = np.where(better, best, gw_dist)
        gw_best = np.where(better, idx + start, gw_best)

    best_sat, best_len = _nearest_in_view(users, sats, min_elev_user_deg, gw_dist)
    ok = best_sat >= 0
    sat_index[:] = best_sat
    gateway_index[:] = np.where(ok, gw_best[np.maximum(best_sat, 0)], -1)
    path_length[:] = best_len
    return sat_index, gateway_index, path_length


def nearest_visible(
    user_ecef_m: ArrayLike, sat_ecef_m: ArrayLike, min_elev_user_deg: float
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Nearest satellite at or above the elevation mask of every user, and its slant range.

    The serving satellite of a user whose traffic leaves the satellite over inter-satellite
    links rather than straight down to a gateway (regenerative payload): the link that
    matters at the user is the shortest slant range above the mask.

    Parameters
    ----------
    user_ecef_m : array_like, shape (N, 3)
    sat_ecef_m : array_like, shape (M, 3)
        Positions in ECEF metres at one instant.
    min_elev_user_deg : float
        The users' elevation mask (degrees).

    Returns
    -------
    sat_index : numpy.ndarray of int64, shape (N,)
        Nearest satellite in view, −1 when none is above the mask.
    slant_range_m : numpy.ndarray, shape (N,)
        Its range (m), ``inf`` when none.

    Examples
    --------
    >>> sats = [[7e6, 1e5, 0], [6378137.0 + 550e3, 0, 0]]
    >>> idx, rng = nearest_visible([[6378137.0, 0, 0]], sats, 25.0)
    >>> int(idx[0]), float(rng[0])
    (1, 550000.0)
    """
    users = _as_points("user_ecef_m", user_ecef_m)
    sats = _as_points("sat_ecef_m", sat_ecef_m)
    if users.shape[0] == 0 or sats.shape[0] == 0:
        return np.full(users.shape[0], -1, dtype=np.int64), np.full(users.shape[0], np.inf)
    return _nearest_in_view(users, sats, min_elev_user_deg, np.zeros(sats.shape[0]))


def _nearest_in_view(
    users: NDArray[np.float64],
    sats: NDArray[np.float64],
    min_elev_deg: float,
    extra_m: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Per user, the satellite in view minimising slant range + ``extra_m[sat]`` (chunked)."""
    n_users, n_sats = users.shape[0], sats.shape[0]
    sat_index = np.full(n_users, -1, dtype=np.int64)
    length = np.full(n_users, np.inf)
    user_up = local_vertical(users)
    step = _chunk_rows(n_sats)
    for start in range(0, n_users, step):
        sl = slice(start, start + step)
        el, rng = _elev_range(users[sl], user_up[sl], sats)
        total = np.where(el >= min_elev_deg, rng + extra_m[np.newaxis, :], np.inf)
        best = np.argmin(total, axis=1)
        best_len = total[np.arange(total.shape[0]), best]
        sat_index[sl] = np.where(np.isfinite(best_len), best, -1)
        length[sl] = best_len
    return sat_index, length


def haps_coverage(
    user_ecef_m: ArrayLike, haps_ecef_m: ArrayLike, radius_m: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Serving HAPS of each user: the nearest platform whose ground footprint covers it.

    A platform covers a user when the great-circle distance between the user and the
    sub-platform point (sphere of radius ``EARTH_MEAN_RADIUS_M``, geocentric directions) is at
    most ``radius_m``. Among covering platforms the one at the shortest slant range is chosen.

    Parameters
    ----------
    user_ecef_m : array_like, shape (N, 3)
    haps_ecef_m : array_like, shape (H, 3)
        ECEF metres.
    radius_m : array_like
        Footprint radius on the ground (m), scalar or per platform (H,).

    Returns
    -------
    haps_index : numpy.ndarray of int64, shape (N,)
        Serving platform, −1 when none covers the user.
    slant_m : numpy.ndarray, shape (N,)
        User–platform distance (m), ``inf`` when none.
    """
    users = _as_points("user_ecef_m", user_ecef_m)
    haps = _as_points("haps_ecef_m", haps_ecef_m)
    radius = np.broadcast_to(np.asarray(radius_m, dtype=np.float64), (haps.shape[0],))
    if np.any(~(radius >= 0.0)):
        raise ModelRangeError(f"haps_coverage: radius_m must be >= 0 m; got {radius!r}.")
    u_hat = users / np.linalg.norm(users, axis=1, keepdims=True)
    h_hat = haps / np.linalg.norm(haps, axis=1, keepdims=True)
    haps_index = np.full(users.shape[0], -1, dtype=np.int64)
    slant = np.full(users.shape[0], np.inf)
    if users.shape[0] == 0 or haps.shape[0] == 0:
        return haps_index, slant
    step = _chunk_rows(haps.shape[0])
    for start in range(0, users.shape[0], step):
        sl = slice(start, start + step)
        cos_c = u_hat[sl] @ h_hat.T
        sin_c = np.linalg.norm(np.cross(u_hat[sl, np.newaxis, :], h_hat[np.newaxis]), axis=2)
        ground_m = EARTH_MEAN_RADIUS_M * np.arctan2(sin_c, cos_c)
        d = haps[np.newaxis, :, :] - users[sl, np.newaxis, :]
        rng = np.sqrt(np.einsum("nmk,nmk->nm", d, d))
        rng = np.where(ground_m <= radius[np.newaxis, :], rng, np.inf)
        best = np.argmin(rng, axis=1)
        best_rng = rng[np.arange(rng.shape[0]), best]
        ok = np.isfinite(best_rng)
        haps_index[sl] = np.where(ok, best, -1)
        slant[sl] = best_rng
    return haps_index, slant
