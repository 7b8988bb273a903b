"""Walker constellations on circular two-body orbits, positions in an Earth-fixed frame.

Model and its limits
--------------------
* **Two-body, circular, no perturbations**: no J2 nodal regression or apsidal drift, no drag.
  Over a day J2 moves the node of a 550 km/53° orbit by about 4.5°; use SGP4 (TLE/OMM input)
  where that matters.
* **Spherical Earth for the orbit radius**: ``a = WGS84_A_M + altitude_m``, so ``|r| = a``
  exactly; the altitude is therefore above the equatorial radius, not above the ellipsoid.
* **Earth rotation about +z only**: inertial → Earth-fixed by the angle
  ``θ(t) = epoch_gmst_rad + ω_E t`` (no precession, nutation or polar motion). The inertial
  frame is the one whose x axis points to the Greenwich meridian when ``θ = 0``.

Walker notation ``i: t/p/f`` (Walker, J. Br. Interplanet. Soc. 37, 1984): ``t`` satellites in
``p`` equally spaced planes, ``f`` the phasing factor (0 … p−1). Plane ``k`` has right ascension
``raan0 + k·ΔΩ`` with ``ΔΩ = 360°/p`` (delta) or ``180°/p`` (star); satellite ``j`` of plane
``k`` starts at argument of latitude ``360°·j/s + 360°·f·k/t`` (``s = t/p``).
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.constants import EARTH_MU_M3_PER_S2, EARTH_ROTATION_RAD_PER_S, WGS84_A_M
from tsunagu.errors import ModelRangeError

__all__ = [
    "MIN_ALTITUDE_M",
    "WalkerPattern",
    "orbital_period_s",
    "walker_positions_ecef_m",
    "walker_positions_eci_m",
]

WalkerPattern = Literal["delta", "star"]

#: Lowest altitude accepted: below about 160 km an orbit decays within a few revolutions.
MIN_ALTITUDE_M: Final = 160_000.0


def _check_altitude(model: str, altitude_m: NDArray[np.float64]) -> None:
    if np.any(~(altitude_m >= MIN_ALTITUDE_M)) or np.any(~np.isfinite(altitude_m)):
        raise ModelRangeError(
            f"{model}: altitude_m must be a finite value >= {MIN_ALTITUDE_M:.0f} m "
            f"(160 km; lower orbits decay at once); got {altitude_m!r}. Altitudes are in metres."
        )


def orbital_period_s(altitude_m: ArrayLike) -> NDArray[np.float64]:
    """Period of a circular two-body orbit, Kepler's third law ``T = 2π sqrt(a³/μ)``.

    ``a = WGS84_A_M + altitude_m``, ``μ = EARTH_MU_M3_PER_S2``.

    Parameters
    ----------
    altitude_m : array_like
        Altitude above the equatorial radius (m), >= 160 km.

    Returns
    -------
    numpy.ndarray
        Period in seconds.

    Examples
    --------
    >>> round(float(orbital_period_s(550e3)), 1)
    5739.0
    """
    h = np.asarray(altitude_m, dtype=np.float64)
    _check_altitude("orbital_period_s (circular two-body)", h)
    a = WGS84_A_M + h
    return np.asarray(2.0 * np.pi * np.sqrt(a**3 / EARTH_MU_M3_PER_S2))


def _walker_elements(
    planes: int,
    sats_per_plane: int,
    phasing: int,
    altitude_m: float,
    inclination_deg: float,
    pattern: WalkerPattern,
    raan0_deg: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, float, float]:
    """Validate and return (raan_rad (N,), u0_rad (N,), a_m, n_rad_per_s, inc_rad)."""
    model = "Walker constellation (circular two-body)"
    if int(planes) != planes or planes < 1:
        raise ModelRangeError(f"{model}: planes must be an integer >= 1; got {planes!r}.")
    if int(sats_per_plane) != sats_per_plane or sats_per_plane < 1:
        raise ModelRangeError(
            f"{model}: sats_per_plane must be an integer >= 1; got {sats_per_plane!r}."
        )
    if int(phasing) != phasing or not 0 <= phasing <= planes - 1:
        raise ModelRangeError(
            f"{model}: phasing f must be an integer in 0..planes-1 = 0..{planes - 1}; "
            f"got {phasing!r}."
        )
    if not 0.0 <= inclination_deg <= 180.0:
        raise ModelRangeError(
            f"{model}: inclination_deg must lie in [0, 180] degrees; got {inclination_deg!r}."
        )
    if pattern == "delta":
        spread_deg = 360.0
    elif pattern == "star":
        spread_deg = 180.0
    else:
        raise ModelRangeError(f"{model}: pattern must be 'delta' or 'star'; got {pattern!r}.")
    h = np.asarray(altitude_m, dtype=np.float64)
    _check_altitude(model, h)
    total = planes * sats_per_plane
    k = np.repeat(np.arange(planes, dtype=np.float64), sats_per_plane)
    j = np.tile(np.arange(sats_per_plane, dtype=np.float64), planes)
    raan = np.deg2rad(raan0_deg + spread_deg * k / planes)
    u0 = np.deg2rad(360.0 * j / sats_per_plane + 360.0 * phasing * k / total)
    a = float(WGS84_A_M + h)
    n = float(np.sqrt(EARTH_MU_M3_PER_S2 / a**3))
    return raan, u0, a, n, float(np.deg2rad(inclination_deg))


def walker_positions_eci_m(
    planes: int,
    sats_per_plane: int,
    phasing: int,
    altitude_m: float,
    inclination_deg: float,
    time_s: ArrayLike,
    pattern: WalkerPattern = "delta",
    raan0_deg: float = 0.0,
) -> NDArray[np.float64]:
    """Inertial positions of a Walker constellation, shape (T, N, 3), metres.

    Same model and arguments as :func:`walker_positions_ecef_m`, without the Earth rotation.
    """
    raan, u0, a, n, inc = _walker_elements(
        planes, sats_per_plane, phasing, altitude_m, inclination_deg, pattern, raan0_deg
    )
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ModelRangeError(
            f"Walker constellation: time_s must be a finite scalar or 1-D array; shape {t.shape}."
        )
    u = u0[np.newaxis, :] + n * t[:, np.newaxis]  # (T, N) argument of latitude
    cos_u, sin_u = np.cos(u), np.sin(u)
    cos_o, sin_o = np.cos(raan), np.sin(raan)
    cos_i, sin_i = np.cos(inc), np.sin(inc)
    out = np.empty((t.size, raan.size, 3), dtype=np.float64)
    out[..., 0] = a * (cos_o * cos_u - sin_o * sin_u * cos_i)
    out[..., 1] = a * (sin_o * cos_u + cos_o * sin_u * cos_i)
    out[..., 2] = a * (sin_u * sin_i)
    return out


def walker_positions_ecef_m(
    planes: int,
    sats_per_plane: int,
    phasing: int,
    altitude_m: float,
    inclination_deg: float,
    time_s: ArrayLike,
    pattern: WalkerPattern = "delta",
    raan0_deg: float = 0.0,
    epoch_gmst_rad: float = 0.0,
) -> NDArray[np.float64]:
    """Earth-fixed positions of a Walker constellation, shape (T, N, 3), metres.

    Circular Keplerian orbits (two-body, no J2) of radius ``WGS84_A_M + altitude_m``, laid out
    as Walker ``i: t/p/f`` (see module docstring), rotated into the Earth-fixed frame by
    ``θ(t) = epoch_gmst_rad + ω_E t``. Satellite ``k·sats_per_plane + j`` is satellite ``j`` of
    plane ``k``. Fully vectorised over time and satellites; memory is ``24·T·N`` bytes, so chunk
    long time series in the caller.

    Parameters
    ----------
    planes, sats_per_plane : int
        ``p`` and ``t/p`` (both >= 1).
    phasing : int
        Walker phasing factor ``f``, 0 … planes−1.
    altitude_m : float
        Altitude above the equatorial radius (m), >= 160 km.
    inclination_deg : float
        Inclination, 0–180°.
    time_s : array_like
        Times since epoch (s), scalar or 1-D.
    pattern : {"delta", "star"}
        Node spread 360° (delta) or 180° (star).
    raan0_deg : float
        Right ascension of the first plane at epoch.
    epoch_gmst_rad : float
        Greenwich sidereal angle at ``time_s = 0``.

    Returns
    -------
    numpy.ndarray
        Positions (T, N, 3) in metres.

    Raises
    ------
    ModelRangeError
        For altitude < 160 km, inclination outside 0–180°, planes or sats < 1, bad phasing.

    Examples
    --------
    >>> r = walker_positions_ecef_m(72, 22, 39, 550e3, 53.0, [0.0, 60.0])
    >>> r.shape
    (2, 1584, 3)
    """
    eci = walker_positions_eci_m(
        planes, sats_per_plane, phasing, altitude_m, inclination_deg, time_s, pattern, raan0_deg
    )
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    theta = epoch_gmst_rad + EARTH_ROTATION_RAD_PER_S * t
    c, s = np.cos(theta)[:, np.newaxis], np.sin(theta)[:, np.newaxis]
    out = np.empty_like(eci)
    out[..., 0] = c * eci[..., 0] + s * eci[..., 1]
    out[..., 1] = -s * eci[..., 0] + c * eci[..., 1]
    out[..., 2] = eci[..., 2]
    return out
