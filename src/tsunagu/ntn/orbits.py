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

``phase_mode="hypatia"`` replaces the Walker phasing by Hypatia's (satgenpy's
``generate_tles_from_scratch``, "phase diff"): odd planes shifted by half a slot,
``360°·j/s + (k mod 2)·180°/s``, even planes not shifted; ``f`` must then be 0.

SGP4 path (TLE/OMM and Walker shells as mean elements)
------------------------------------------------------
* :func:`walker_elements` writes a Walker shell as SGP4 mean elements (circular, mean motion of
  the two-body orbit of radius ``WGS84_A_M + altitude_m``, no drag) so the same shell can be
  propagated by SGP4 with J2–J4 secular and periodic terms, and by any other SGP4 tool
  (Skyfield agrees within 0.2 mm, ``tests/validation/test_ntn_orbit_reference.py``).
* :func:`sgp4_teme_km` runs the ``sgp4`` package's vectorised ``SatrecArray`` (Vallado's C++
  SGP4, WGS72 constants, improved mode) and returns TEME positions in km.
* :func:`teme_to_ecef_m` rotates TEME into the Earth-fixed frame by the IAU-1982 Greenwich
  mean sidereal time ``θ_GMST82(UT1)`` about +z, which is the TEME → PEF rotation of Vallado et
  al., AIAA 2006-6753, appendix C. **Polar motion is neglected** (PEF is taken as ITRF): the pole
  wanders by under 0.5″ (IERS), so positions err by under 0.5″ × 8,000 km ≈ 20 m at LEO/MEO
  radii, 0.07 µs of light time. UT1 − UTC is an argument (default 0 s); leaving it at 0 rotates
  the Earth by up to 0.9 s × ω_E, i.e. up to 460 m along the equator of a 7,000 km orbit.
* :func:`iter_sgp4_positions_ecef_m` chunks time so memory stays near ``max_chunk_bytes``
  (a day of 4,408 satellites at 1 s would be 9 GB of positions alone).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sgp4.api import WGS72, Satrec, jday

from tsunagu.constants import EARTH_MU_M3_PER_S2, EARTH_ROTATION_RAD_PER_S, WGS84_A_M
from tsunagu.errors import ModelRangeError
from tsunagu.ntn.tle import ElementSet

__all__ = [
    "MIN_ALTITUDE_M",
    "PhaseMode",
    "WalkerPattern",
    "gmst82_rad",
    "iter_sgp4_positions_ecef_m",
    "julian_date",
    "orbital_period_s",
    "sgp4_positions_ecef_m",
    "sgp4_teme_km",
    "teme_to_ecef_m",
    "walker_elements",
    "walker_positions_ecef_m",
    "walker_positions_eci_m",
]

WalkerPattern = Literal["delta", "star"]
#: In-plane phasing between planes: Walker's ``f`` or Hypatia's half-slot shift of odd planes.
PhaseMode = Literal["walker", "hypatia"]

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
    phase_mode: PhaseMode = "walker",
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
    if phase_mode == "walker":
        u0 = np.deg2rad(360.0 * j / sats_per_plane + 360.0 * phasing * k / total)
    elif phase_mode == "hypatia":
        if phasing != 0:
            raise ModelRangeError(
                f"{model}: phase_mode 'hypatia' shifts odd planes by half a slot and takes no "
                f"Walker phasing; pass phasing 0 (got {phasing})."
            )
        u0 = np.deg2rad(360.0 * j / sats_per_plane + (k % 2) * 180.0 / sats_per_plane)
    else:
        raise ModelRangeError(
            f"{model}: phase_mode must be 'walker' or 'hypatia'; got {phase_mode!r}."
        )
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
    *,
    phase_mode: PhaseMode = "walker",
) -> NDArray[np.float64]:
    """Inertial positions of a Walker constellation, shape (T, N, 3), metres.

    Same model and arguments as :func:`walker_positions_ecef_m`, without the Earth rotation.
    """
    raan, u0, a, n, inc = _walker_elements(
        planes, sats_per_plane, phasing, altitude_m, inclination_deg, pattern, raan0_deg, phase_mode
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
    *,
    phase_mode: PhaseMode = "walker",
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
    phase_mode : {"walker", "hypatia"}
        Walker phasing ``f`` or Hypatia's half-slot shift of odd planes (module docstring).

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
        planes,
        sats_per_plane,
        phasing,
        altitude_m,
        inclination_deg,
        time_s,
        pattern,
        raan0_deg,
        phase_mode=phase_mode,
    )
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    theta = epoch_gmst_rad + EARTH_ROTATION_RAD_PER_S * t
    c, s = np.cos(theta)[:, np.newaxis], np.sin(theta)[:, np.newaxis]
    out = np.empty_like(eci)
    out[..., 0] = c * eci[..., 0] + s * eci[..., 1]
    out[..., 1] = -s * eci[..., 0] + c * eci[..., 1]
    out[..., 2] = eci[..., 2]
    return out


# ------------------------------------------------------------------------------------ SGP4 path

_JD_J2000: Final = 2451545.0
_SECONDS_PER_DAY: Final = 86_400.0
_JD_1949_12_31: Final = 2433281.5


def julian_date(when: datetime) -> tuple[float, float]:
    """Julian date of a UTC instant as (whole part ending in .5, fraction of day).

    A naive datetime is taken as UTC.

    Examples
    --------
    >>> julian_date(datetime(2000, 1, 1, 12))
    (2451544.5, 0.5)
    """
    t = when.astimezone(UTC) if when.tzinfo is not None else when
    jd, fr = jday(t.year, t.month, t.day, t.hour, t.minute, t.second + t.microsecond * 1e-6)
    return float(jd), float(fr)


def gmst82_rad(jd_ut1: ArrayLike, fr_ut1: ArrayLike = 0.0) -> NDArray[np.float64]:
    """Greenwich mean sidereal angle, IAU 1982 model, in radians 0…2π.

    ``θ = 67310.54841 s + (876600 h + 8640184.812866 s) T + 0.093104 s T² − 6.2e-6 s T³`` with
    ``T`` Julian centuries of UT1 from J2000 (Aoki et al. 1982; Vallado, *Fundamentals of
    Astrodynamics*, eq. 3-47; AIAA 2006-6753 appendix C). Whole and fractional Julian dates are
    kept apart so the angle keeps sub-microsecond time resolution.

    Examples
    --------
    >>> round(float(gmst82_rad(2451545.0)), 9)  # J2000.0: 280.46061837°
    4.894961213
    """
    t = (
        (np.asarray(jd_ut1, dtype=np.float64) - _JD_J2000) + np.asarray(fr_ut1, dtype=np.float64)
    ) / 36525.0
    # Seconds of time; 876600 h = 3,155,760,000 s of the (1 + 1/365.25...) day rate.
    g = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866 + (0.093104 - 6.2e-6 * t) * t) * t
    return np.asarray(np.mod(g * (2.0 * math.pi / _SECONDS_PER_DAY), 2.0 * math.pi))


def teme_to_ecef_m(
    r_teme_km: ArrayLike,
    jd_utc: ArrayLike,
    fr_utc: ArrayLike,
    ut1_minus_utc_s: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Rotate TEME positions (km) into Earth-fixed metres by ``R_z(θ_GMST82(UT1))``.

    Polar motion is neglected (see the module docstring for the resulting error).

    Parameters
    ----------
    r_teme_km : array_like, shape (T, ..., 3)
        TEME positions in km, time along the first axis.
    jd_utc, fr_utc : array_like, shape (T,)
        UTC Julian date, whole and fractional parts.
    ut1_minus_utc_s : array_like
        UT1 − UTC in seconds, scalar or per time (|value| < 0.9 s; IERS Bulletin A).

    Returns
    -------
    numpy.ndarray
        Earth-fixed positions in metres, the shape of ``r_teme_km``.
    """
    r = np.asarray(r_teme_km, dtype=np.float64)
    dut1 = np.asarray(ut1_minus_utc_s, dtype=np.float64)
    if np.any(~(np.abs(dut1) <= 1.0)):
        raise ModelRangeError(
            f"teme_to_ecef_m: ut1_minus_utc_s must lie within ±1 s (IERS keeps |UT1-UTC| < 0.9 s);"
            f" got {ut1_minus_utc_s!r}."
        )
    theta = gmst82_rad(jd_utc, np.asarray(fr_utc, dtype=np.float64) + dut1 / _SECONDS_PER_DAY)
    theta = theta.reshape(theta.shape + (1,) * (r.ndim - 1 - theta.ndim))
    c, s = np.cos(theta), np.sin(theta)
    out = np.empty_like(r)
    out[..., 0] = 1e3 * (c * r[..., 0] + s * r[..., 1])
    out[..., 1] = 1e3 * (-s * r[..., 0] + c * r[..., 1])
    out[..., 2] = 1e3 * r[..., 2]
    return out


def sgp4_teme_km(
    elements: ElementSet, jd_utc: ArrayLike, fr_utc: ArrayLike
) -> tuple[NDArray[np.uint8], NDArray[np.float64], NDArray[np.float64]]:
    """SGP4/SDP4 positions and velocities in TEME for every satellite and time.

    Thin wrapper over ``sgp4.api.SatrecArray.sgp4`` (Vallado et al., AIAA 2006-6753; the
    ``sgp4`` package's C++ core), vectorised over satellites and times.

    Parameters
    ----------
    elements : ElementSet
    jd_utc, fr_utc : array_like, shape (T,)
        UTC Julian dates, whole and fractional parts.

    Returns
    -------
    error : numpy.ndarray of uint8, shape (N, T)
        SGP4 error code, 0 when fine (1–6: see ``sgp4.api.SGP4_ERRORS``; 6 = decayed).
    r_km, v_km_per_s : numpy.ndarray, shape (N, T, 3)
        TEME position (km) and velocity (km/s). Where ``error`` is non-zero they are NaN or
        meaningless (decay, code 6, still returns numbers): mask on ``error``.
    """
    jd = np.atleast_1d(np.asarray(jd_utc, dtype=np.float64))
    fr = np.atleast_1d(np.asarray(fr_utc, dtype=np.float64))
    jd, fr = np.broadcast_arrays(jd, fr)
    if jd.ndim != 1 or not (np.all(np.isfinite(jd)) and np.all(np.isfinite(fr))):
        raise ModelRangeError("sgp4_teme_km: jd_utc and fr_utc must be finite 1-D arrays.")
    e, r, v = elements.satrec_array().sgp4(np.ascontiguousarray(jd), np.ascontiguousarray(fr))
    return np.asarray(e, dtype=np.uint8), np.asarray(r), np.asarray(v)


def _times(
    start_utc: datetime, time_s: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ModelRangeError(
            "SGP4 positions: time_s must be a finite scalar or 1-D array of seconds; "
            f"shape {t.shape}."
        )
    jd0, fr0 = julian_date(start_utc)
    return t, np.full(t.shape, jd0), fr0 + t / _SECONDS_PER_DAY


def sgp4_positions_ecef_m(
    elements: ElementSet,
    start_utc: datetime,
    time_s: ArrayLike,
    ut1_minus_utc_s: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Earth-fixed positions (T, N, 3) in metres from SGP4 at ``start_utc + time_s``.

    Satellites whose propagation fails at a time (SGP4 error: decayed, eccentricity out of
    range) are NaN there. Memory is about ``72·T·N`` bytes at the peak; use
    :func:`iter_sgp4_positions_ecef_m` for long series.

    Examples
    --------
    >>> es = walker_elements(2, 3, 1, 550e3, 53.0, datetime(2026, 1, 1))
    >>> sgp4_positions_ecef_m(es, datetime(2026, 1, 1), [0.0, 60.0]).shape
    (2, 6, 3)
    """
    _, jd, fr = _times(start_utc, time_s)
    err, r, _ = sgp4_teme_km(elements, jd, fr)
    r = np.where(err[..., np.newaxis] == 0, r, np.nan)
    return teme_to_ecef_m(np.swapaxes(r, 0, 1), jd, fr, ut1_minus_utc_s)


def iter_sgp4_positions_ecef_m(
    elements: ElementSet,
    start_utc: datetime,
    time_s: ArrayLike,
    ut1_minus_utc_s: ArrayLike = 0.0,
    max_chunk_bytes: int = 256 * 2**20,
) -> Iterator[tuple[int, NDArray[np.float64]]]:
    """Yield ``(first_step, positions (Tc, N, 3))`` in time chunks of bounded memory.

    Each chunk needs about ``72·Tc·N`` bytes while it is computed (position, velocity and the
    rotated copy); ``Tc`` is chosen so that stays under ``max_chunk_bytes``.
    """
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    n = max(1, len(elements))
    steps = max(1, int(max_chunk_bytes) // (72 * n))
    for start in range(0, t.size, steps):
        yield (
            start,
            sgp4_positions_ecef_m(elements, start_utc, t[start : start + steps], ut1_minus_utc_s),
        )


def walker_elements(
    planes: int,
    sats_per_plane: int,
    phasing: int,
    altitude_m: float,
    inclination_deg: float,
    epoch_utc: datetime,
    pattern: WalkerPattern = "delta",
    raan0_deg: float = 0.0,
    first_satnum: int = 1,
    name: str = "walker",
    *,
    phase_mode: PhaseMode = "walker",
) -> ElementSet:
    """A Walker shell as SGP4 mean elements at ``epoch_utc``.

    Same layout and satellite order as :func:`walker_positions_ecef_m`: circular
    (eccentricity 0, argument of perigee 0, mean anomaly = initial argument of latitude),
    Kozai mean motion ``sqrt(μ/a³)`` with ``a = WGS84_A_M + altitude_m``, BSTAR and the mean
    motion derivatives 0 (no drag). The RAAN is measured in TEME at the epoch. Under SGP4 the
    orbit radius then oscillates by a few km about ``a`` (J2 short-period terms) and the nodes
    regress (≈ −4.5°/day at 550 km, 53°).

    Parameters
    ----------
    planes, sats_per_plane, phasing, altitude_m, inclination_deg, pattern, raan0_deg, phase_mode
        As in :func:`walker_positions_ecef_m` (same checks and errors).
    epoch_utc : datetime
        Element epoch (UTC).
    first_satnum : int
        Catalogue number given to the first satellite; the rest count up.
    name : str
        Name prefix; satellites are ``{name}-P{plane}-S{slot}``.

    Returns
    -------
    ElementSet
    """
    raan, u0, _, n_rad_s, inc = _walker_elements(
        planes, sats_per_plane, phasing, altitude_m, inclination_deg, pattern, raan0_deg, phase_mode
    )
    jd, fr = julian_date(epoch_utc)
    epoch_days = (jd - _JD_1949_12_31) + fr
    no_kozai = n_rad_s * 60.0  # rad/min
    raan_w = np.mod(raan, 2.0 * math.pi)
    m_w = np.mod(u0, 2.0 * math.pi)
    recs: list[Satrec] = []
    for k in range(raan.size):  # building records once per satellite, not a hot path
        sat = Satrec()
        sat.sgp4init(
            WGS72,
            "i",
            first_satnum + k,
            epoch_days,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            inc,
            float(m_w[k]),
            no_kozai,
            float(raan_w[k]),
        )
        recs.append(sat)
    idx = np.arange(raan.size)
    names = tuple(
        f"{name}-P{p}-S{j}"
        for p, j in zip(
            (idx // sats_per_plane).tolist(), (idx % sats_per_plane).tolist(), strict=True
        )
    )
    return ElementSet(
        names,
        first_satnum + idx.astype(np.int64),
        tuple(recs),
        (idx // sats_per_plane).astype(np.int64),
        (idx % sats_per_plane).astype(np.int64),
    )
