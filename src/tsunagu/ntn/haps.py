"""HAPS: HIBS service cells and 38–39.5 GHz feeder links with rain availability.

Spectrum (ITU Radio Regulations)
--------------------------------
* **HIBS** (HAPS as IMT base stations): WRC-23 (agenda item 1.4, Resolution 221
  (Rev. WRC-23)) identified 694–960 MHz, 1 710–1 885 MHz and 2 500–2 690 MHz; the 2 GHz IMT
  bands 1 885–1 980, 2 010–2 025 and 2 110–2 170 MHz have been open to HAPS as IMT base
  stations since WRC-2000 (RR No. 5.388A). :data:`HIBS_BANDS_HZ`.
* **Fixed-service HAPS** links (feeders): 38–39.5 GHz worldwide (WRC-19, RR No. 5.550D,
  Resolution 168). :data:`HAPS_FEEDER_BANDS_HZ`.

Models
------
* Service link (platform → handheld): the TR 38.821 C/N of :mod:`tsunagu.ntn.linkbudget` with
  the true slant range from ECEF positions, atmosphere from ``itur`` truncated at the platform
  height (:func:`~tsunagu.ntn.linkbudget.itur_slant_path_losses` with ``top_altitude_m``), and
  DVB-S2 ACM for the rate. Below 1 GHz (outside ``itur``'s P.618 range) the atmospheric term is
  omitted: P.676 specific attenuation there is below 0.01 dB/km, i.e. < 0.1 dB on any HAPS
  path, smaller than the 0.1 dB resolution of a link budget.
* Feeder availability: the share of an average year during which the P.618-13 rain attenuation
  stays below the feeder's clear-sky fade margin. ``itur``'s P.618 rain model is evaluated on
  a grid of exceedance probabilities 0.001–5 % and the margin is inverted by interpolation in
  ``log p`` (P.618's ``A(p)`` is monotone in ``p``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.errors import ModelRangeError
from tsunagu.ntn import linkbudget as lb
from tsunagu.ntn.geometry import elevation_and_range

__all__ = [
    "HAPS_FEEDER_BANDS_HZ",
    "HIBS_BANDS_HZ",
    "FeederLink",
    "FeederResult",
    "HapsLinks",
    "HibsCell",
    "RateFn",
    "check_band",
    "feeder_availability",
    "feeder_rain_availability_pct",
    "hibs_user_links",
]

FloatArray = NDArray[np.float64]
#: C/N (dB) and bandwidth (Hz) → information rate (b/s); default DVB-S2 ACM.
RateFn = Callable[[FloatArray, float], FloatArray]

#: HIBS bands, (low, high) Hz, with their ITU source.
HIBS_BANDS_HZ: Final[dict[str, tuple[float, float]]] = {
    "694-960 MHz (WRC-23)": (694e6, 960e6),
    "1710-1885 MHz (WRC-23)": (1710e6, 1885e6),
    "1885-1980 MHz (RR 5.388A)": (1885e6, 1980e6),
    "2010-2025 MHz (RR 5.388A)": (2010e6, 2025e6),
    "2110-2170 MHz (RR 5.388A)": (2110e6, 2170e6),
    "2500-2690 MHz (WRC-23)": (2500e6, 2690e6),
}
#: Fixed-service HAPS bands usable for feeder links, (low, high) Hz.
HAPS_FEEDER_BANDS_HZ: Final[dict[str, tuple[float, float]]] = {
    "38-39.5 GHz (WRC-19, RR 5.550D)": (38.0e9, 39.5e9),
}

_P_GRID_PCT: Final = np.logspace(-3.0, math.log10(5.0), 22)


def check_band(
    freq_hz: float, bandwidth_hz: float, bands: dict[str, tuple[float, float]], what: str
) -> str:
    """Name of the band that holds the whole carrier ``freq_hz ± bandwidth_hz/2``.

    Raises
    ------
    ModelRangeError
        If no band holds it; the message lists the bands.

    Examples
    --------
    >>> check_band(2.14e9, 20e6, HIBS_BANDS_HZ, "HIBS cell")
    '2110-2170 MHz (RR 5.388A)'
    """
    lo, hi = freq_hz - bandwidth_hz / 2.0, freq_hz + bandwidth_hz / 2.0
    for name, (b_lo, b_hi) in bands.items():
        if b_lo <= lo and hi <= b_hi:
            return name
    raise ModelRangeError(
        f"{what}: carrier {freq_hz / 1e6:g} MHz ± {bandwidth_hz / 2e6:g} MHz lies in no "
        f"identified band; use one of: {', '.join(bands)}."
    )


@dataclass(frozen=True)
class HibsCell:
    """A HIBS downlink carrier to handheld UEs.

    Attributes
    ----------
    freq_hz, bandwidth_hz : float
        Carrier; must lie inside one of :data:`HIBS_BANDS_HZ`.
    eirp_density_dbw_per_mhz : float
        Platform EIRP density towards the cell (dBW/MHz).
    ue_g_over_t_db_per_k : float
        UE figure of merit; TR 38.821 handheld: −31.6 dB/K.
    min_elevation_deg : float
        Lowest elevation served (sets the footprint: 10.8° ↔ 100 km radius at 20 km).
    shadowing_margin_db, polarization_loss_db, additional_losses_db : float
        Other TR 38.821 terms (dB).
    exceedance_pct : float
        Atmospheric attenuation percentile (P.618), used from 1 GHz up.
    roll_off : float
        Carrier roll-off for the DVB-S2 rate mapping.
    """

    freq_hz: float
    bandwidth_hz: float
    eirp_density_dbw_per_mhz: float
    ue_g_over_t_db_per_k: float = -31.6
    min_elevation_deg: float = 10.0
    shadowing_margin_db: float = 3.0
    polarization_loss_db: float = 0.0
    additional_losses_db: float = 0.0
    exceedance_pct: float = 1.0
    roll_off: float = 0.2

    def __post_init__(self) -> None:
        check_band(self.freq_hz, self.bandwidth_hz, HIBS_BANDS_HZ, "HIBS cell")
        if not lb.MIN_ITUR_ELEVATION_DEG <= self.min_elevation_deg < 90.0:
            raise ModelRangeError(
                f"HIBS cell: min_elevation_deg must lie in [5, 90) degrees; got "
                f"{self.min_elevation_deg!r}."
            )


class HapsLinks(NamedTuple):
    """Best HAPS service link of each user (−1 / NaN / 0 where none)."""

    haps_index: NDArray[np.int64]
    elevation_deg: FloatArray
    cnr_db: FloatArray
    rate_bps: FloatArray
    usable: NDArray[np.bool_]


def hibs_user_links(
    user_ecef_m: ArrayLike,
    user_lat_deg: ArrayLike,
    user_lon_deg: ArrayLike,
    haps_ecef_m: ArrayLike,
    haps_alt_m: float,
    cell: HibsCell,
    haps_up: ArrayLike | None = None,
    min_elevation_deg: ArrayLike | None = None,
    rate_fn: RateFn | None = None,
) -> HapsLinks:
    """Serving platform, C/N and DVB-S2 rate of each user under a set of HIBS platforms.

    The serving platform is the one seen at the highest elevation (shortest range) among those
    at or above ``cell.min_elevation_deg``; a link is usable when its rate is above zero
    (C/N clears QPSK 1/4).

    Parameters
    ----------
    user_ecef_m : array_like, shape (N, 3)
    user_lat_deg, user_lon_deg : array_like, shape (N,)
    haps_ecef_m : array_like, shape (H, 3)
    haps_alt_m : float
        Platform height for the atmospheric truncation (m).
    cell : HibsCell
    haps_up : array_like of bool, shape (H,), optional
        Platforms in service (default all).
    min_elevation_deg : array_like, shape (H,), optional
        Per-platform elevation mask (e.g. from each platform's footprint radius); default
        ``cell.min_elevation_deg``. Values below 5° are raised to 5° (P.618 validity).
    rate_fn : callable, optional
        ``(cnr_db, bandwidth_hz) -> rate_bps`` replacing the DVB-S2 ACM mapping, e.g. an NR
        link-to-system mapping supplied by the caller (HIBS cells are IMT base stations).

    Returns
    -------
    HapsLinks
    """
    users = np.asarray(user_ecef_m, dtype=np.float64).reshape(-1, 3)
    haps = np.asarray(haps_ecef_m, dtype=np.float64).reshape(-1, 3)
    n = users.shape[0]
    idx = np.full(n, -1, dtype=np.int64)
    el_best = np.full(n, np.nan)
    cnr = np.full(n, np.nan)
    rate = np.zeros(n)
    if n == 0 or haps.shape[0] == 0:
        return HapsLinks(idx, el_best, cnr, rate, rate > 0.0)
    up = np.ones(haps.shape[0], dtype=bool) if haps_up is None else np.asarray(haps_up, bool)
    mask = np.broadcast_to(
        np.asarray(
            cell.min_elevation_deg if min_elevation_deg is None else min_elevation_deg,
            dtype=np.float64,
        ),
        (haps.shape[0],),
    )
    mask = np.maximum(mask, lb.MIN_ITUR_ELEVATION_DEG)
    el, rng = elevation_and_range(users, haps)
    el = np.where(up[np.newaxis, :] & (el >= mask[np.newaxis, :]), el, -np.inf)
    best = np.argmax(el, axis=1)
    e = el[np.arange(n), best]
    ok = np.isfinite(e)
    if not np.any(ok):
        return HapsLinks(idx, el_best, cnr, rate, rate > 0.0)
    d = rng[np.arange(n), best][ok]
    lat = np.asarray(user_lat_deg, dtype=np.float64).reshape(-1)[ok]
    lon = np.asarray(user_lon_deg, dtype=np.float64).reshape(-1)[ok]
    if cell.freq_hz >= 1e9:
        atm = lb.itur_slant_path_losses(
            lat,
            lon,
            cell.freq_hz,
            e[ok],
            cell.exceedance_pct,
            antenna_diameter_m=0.1,
            top_altitude_m=haps_alt_m,
        ).total_db
    else:
        atm = np.zeros(d.size)
    c = lb.cnr_db(
        lb.eirp_dbw(cell.eirp_density_dbw_per_mhz, cell.bandwidth_hz),
        cell.ue_g_over_t_db_per_k,
        lb.free_space_path_loss_db(d, cell.freq_hz),
        cell.bandwidth_hz,
        atmospheric_loss_db=atm,
        shadowing_margin_db=cell.shadowing_margin_db,
        polarization_loss_db=cell.polarization_loss_db,
        additional_losses_db=cell.additional_losses_db,
    )
    idx[ok] = best[ok]
    el_best[ok] = e[ok]
    cnr[ok] = c
    rate[ok] = (
        lb.dvbs2_rate_bps(c, cell.bandwidth_hz, cell.roll_off)
        if rate_fn is None
        else np.maximum(np.asarray(rate_fn(c, cell.bandwidth_hz), dtype=np.float64), 0.0)
    )
    return HapsLinks(idx, el_best, cnr, rate, rate > 0.0)


def feeder_rain_availability_pct(
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    freq_hz: float,
    elevation_deg: ArrayLike,
    fade_margin_db: ArrayLike,
    polarization_tilt_deg: float = 45.0,
) -> FloatArray:
    """Percentage of an average year the P.618-13 rain fade stays within ``fade_margin_db``.

    ``availability = 100 − p*`` where ``A_rain(p*) = margin`` (ITU-R P.618-13 §2.2.1.1, via
    ``itur.models.itu618.rain_attenuation``, evaluated at 22 exceedances 0.001–5 % and
    interpolated in ``log p``). Results are clipped to the method's range: a margin above the
    0.001 % fade gives 99.999 %, one below the 5 % fade gives 95 % (read both as bounds).

    Parameters
    ----------
    lat_deg, lon_deg : array_like
        Ground station location (degrees).
    freq_hz : float
        Feeder frequency (Hz), 1–55 GHz.
    elevation_deg : array_like
        Elevation of the platform from the ground station, ≥ 5°.
    fade_margin_db : array_like
        Clear-sky C/N minus the C/N the feeder needs (dB); ≤ 0 gives 0 % availability.

    Returns
    -------
    numpy.ndarray
        Availability (%), broadcast shape of the inputs.
    """
    f_ghz = float(freq_hz) / 1e9
    if not 1.0 <= f_ghz <= 55.0:
        raise ModelRangeError(
            f"feeder_rain_availability_pct: freq_hz must lie in 1-55 GHz; got {f_ghz:g} GHz."
        )
    lat, lon, el, margin = np.broadcast_arrays(
        np.asarray(lat_deg, dtype=np.float64),
        np.asarray(lon_deg, dtype=np.float64),
        np.asarray(elevation_deg, dtype=np.float64),
        np.asarray(fade_margin_db, dtype=np.float64),
    )
    if np.any(~((el >= lb.MIN_ITUR_ELEVATION_DEG) & (el <= 90.0))):
        raise ModelRangeError(
            "feeder_rain_availability_pct: elevation_deg must lie in [5, 90] degrees "
            "(ITU-R P.618 validity)."
        )
    shape = lat.shape
    itur = lb._itur()
    fades = np.empty((_P_GRID_PCT.size, lat.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k, p in enumerate(_P_GRID_PCT):  # loop over the exceedance grid, not over stations
            fades[k] = np.asarray(
                itur.models.itu618.rain_attenuation(
                    lat.ravel(),
                    lon.ravel(),
                    f_ghz,
                    el.ravel(),
                    p=float(p),
                    tau=polarization_tilt_deg,
                ).value,
                dtype=np.float64,
            ).reshape(-1)
    m = margin.ravel()
    logp = np.log10(_P_GRID_PCT)
    # A(p) decreases with p: count grid points whose fade exceeds the margin.
    above = fades > m[np.newaxis, :]
    k = np.clip(np.sum(above, axis=0), 1, _P_GRID_PCT.size - 1)  # p* between grid k-1 and k
    cols = np.arange(m.size)
    a0, a1 = fades[k - 1, cols], fades[k, cols]
    frac = np.where(a0 != a1, (a0 - m) / np.where(a0 != a1, a0 - a1, 1.0), 0.0)
    p_star = 10.0 ** (logp[k - 1] + np.clip(frac, 0.0, 1.0) * (logp[k] - logp[k - 1]))
    p_star = np.where(m >= fades[0], _P_GRID_PCT[0], p_star)
    p_star = np.where(m < fades[-1], _P_GRID_PCT[-1], p_star)
    avail = np.where(m <= 0.0, 0.0, 100.0 - p_star)
    return np.asarray(avail.reshape(shape))


@dataclass(frozen=True)
class FeederLink:
    """A ground station ↔ HAPS feeder in the fixed-service HAPS band.

    Attributes
    ----------
    freq_hz, bandwidth_hz : float
        Carrier; must lie inside :data:`HAPS_FEEDER_BANDS_HZ` (38–39.5 GHz).
    eirp_dbw : float
        Transmit EIRP over the carrier (dBW).
    g_over_t_db_per_k : float
        Receiver G/T (dB/K).
    required_cnr_db : float
        C/N the feeder needs (e.g. the Es/N0 threshold of its lowest MODCOD).
    ground_antenna_diameter_m : float
        Ground dish diameter for scintillation averaging.
    exceedance_pct : float
        Percentile of the clear-sky gas + cloud + scintillation allowance (P.618).
    """

    freq_hz: float
    bandwidth_hz: float
    eirp_dbw: float
    g_over_t_db_per_k: float
    required_cnr_db: float = lb.DVBS2_MIN_ESN0_DB
    ground_antenna_diameter_m: float = 1.2
    exceedance_pct: float = 1.0

    def __post_init__(self) -> None:
        check_band(self.freq_hz, self.bandwidth_hz, HAPS_FEEDER_BANDS_HZ, "HAPS feeder link")


class FeederResult(NamedTuple):
    """Per feeder: geometry, clear-sky C/N, fade margin and rain availability."""

    elevation_deg: FloatArray
    slant_range_m: FloatArray
    clear_sky_cnr_db: FloatArray
    fade_margin_db: FloatArray
    availability_pct: FloatArray


def feeder_availability(
    gs_ecef_m: ArrayLike,
    gs_lat_deg: ArrayLike,
    gs_lon_deg: ArrayLike,
    haps_ecef_m: ArrayLike,
    haps_alt_m: float,
    feeder: FeederLink,
) -> FeederResult:
    """Clear-sky budget and rain availability of feeder ``i`` between ground station ``i`` and
    platform ``i`` (paired rows).

    Clear sky: FSPL + gas (truncated at the platform) + clouds + scintillation at
    ``feeder.exceedance_pct``; the rain fade is then charged against the remaining margin by
    :func:`feeder_rain_availability_pct`.
    """
    gs = np.asarray(gs_ecef_m, dtype=np.float64).reshape(-1, 3)
    hp = np.asarray(haps_ecef_m, dtype=np.float64).reshape(-1, 3)
    if gs.shape != hp.shape:
        raise ModelRangeError(
            "feeder_availability: pass one ground station per platform (paired rows); got "
            f"{gs.shape[0]} stations and {hp.shape[0]} platforms."
        )
    d = hp - gs
    rng = np.sqrt(np.einsum("nk,nk->n", d, d))
    el, _ = elevation_and_range(gs, hp)
    el = np.diagonal(el).copy()
    lat = np.asarray(gs_lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(gs_lon_deg, dtype=np.float64).reshape(-1)
    atm = lb.itur_slant_path_losses(
        lat,
        lon,
        feeder.freq_hz,
        el,
        feeder.exceedance_pct,
        feeder.ground_antenna_diameter_m,
        top_altitude_m=haps_alt_m,
    )
    clear = np.sqrt(atm.cloud_db**2 + atm.scintillation_db**2) + atm.gas_db
    cnr = lb.cnr_db(
        feeder.eirp_dbw,
        feeder.g_over_t_db_per_k,
        lb.free_space_path_loss_db(rng, feeder.freq_hz),
        feeder.bandwidth_hz,
        atmospheric_loss_db=clear,
    )
    margin = cnr - feeder.required_cnr_db
    avail = feeder_rain_availability_pct(lat, lon, feeder.freq_hz, el, margin)
    return FeederResult(el, rng, cnr, margin, avail)
