"""Direct-to-device coverage of Japan: population, land, sea and islands with a usable link.

A place has a *usable* direct-to-device link at a time step when the best platform it sees
above the elevation mask closes the TR 38.821 link budget of :mod:`tsunagu.ntn.linkbudget`
with at least the most robust DVB-S2 mode (QPSK 1/4, Es/N0 −2.35 dB) — for LEO the satellite
at the highest elevation, for HAPS the platform at the highest elevation
(:func:`tsunagu.ntn.haps.hibs_user_links`).

What is measured
----------------
* **Population**: :func:`tsunagu.geo.demand_points` with every GeoNames place of ≥ 1,000
  people (about 2,100 points scaled to the 2020 census), so remote islands (Ogasawara, Daito,
  Yonaguni, Amami, …) carry their own population. *Island population* is the population of the
  points outside the outlines of the prefectures' main parts
  (:func:`tsunagu.geo.prefecture_outlines`) by more than :data:`ISLAND_MIN_OFFSHORE_KM` (5 km):
  the outlines are simplified, and mainland coastal towns fall up to about 4 km outside them.
  Near-shore islands (Miyajima, Etajima) therefore count as mainland; Sado, Oki, Tsushima,
  Iki, Goto, Amami, Okinawa's outer islands, the Izu and Ogasawara islands count as islands.
  Okinawa Island itself is the main part of Okinawa prefecture, so it is land, not island.
* **Area**: a regular latitude × longitude grid over an EEZ-like box, 20–46° N × 122–154° E
  (Okinotorishima to Soya, Yonaguni to Minamitorishima), each cell weighted by its area on the
  sphere; *land* cells are those whose centre lies inside a main-part outline, the rest count as
  *sea* (small islands are thus sea in the area measure and are covered by the island
  population measure instead). The box is not the legal EEZ boundary.

Cost
----
Atmospheric losses come from :class:`~tsunagu.ntn.linkbudget.AtmosphereGrid` (``itur`` once on
a 2° × 2° × 10-elevation table, < 1 s once ``itur``'s maps are loaded), so a step costs one
elevation/range evaluation of the points against the satellites near Japan (satellites are
pre-filtered by sub-satellite point).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu import geo
from tsunagu.constants import EARTH_MEAN_RADIUS_M
from tsunagu.errors import ModelRangeError
from tsunagu.ntn import linkbudget as lb
from tsunagu.ntn.geometry import elevation_and_range
from tsunagu.ntn.haps import HibsCell, RateFn, hibs_user_links

__all__ = [
    "ISLAND_MIN_OFFSHORE_KM",
    "JAPAN_BOX_LAT_DEG",
    "JAPAN_BOX_LON_DEG",
    "MEASURES",
    "TR38821_LEO_S_BAND_HANDHELD",
    "CoveragePoints",
    "D2DAccess",
    "D2DLink",
    "D2DStep",
    "LinkSet",
    "coverage_points",
    "coverage_series",
    "distance_to_main_outlines_km",
    "haps_min_elevation_deg",
    "inside_main_outlines",
    "leo_user_links",
]

FloatArray = NDArray[np.float64]

JAPAN_BOX_LAT_DEG: Final = (20.0, 46.0)
JAPAN_BOX_LON_DEG: Final = (122.0, 154.0)
#: Population points farther than this outside every main-part outline are islands.
ISLAND_MIN_OFFSHORE_KM: Final = 5.0
#: Sub-satellite points farther than this from the box cannot serve it above a 10° mask at
#: up to 1,300 km altitude (Earth-central angle 23.8°); used only to skip far satellites.
_SAT_PREFILTER_DEG: Final = 25.0


@dataclass(frozen=True)
class D2DLink:
    """Satellite → handheld downlink parameters (TR 38.821 terms).

    Attributes
    ----------
    freq_hz, bandwidth_hz : float
        Carrier.
    eirp_density_dbw_per_mhz : float
        Satellite EIRP density (dBW/MHz).
    ue_g_over_t_db_per_k : float
        Handheld G/T (dB/K).
    min_elevation_deg : float
        Elevation mask (≥ 5°, P.618 validity).
    shadowing_margin_db, scintillation_margin_db, polarization_loss_db, additional_losses_db
        Allowances (dB). ``scintillation_margin_db`` is the ionospheric allowance of the TR
        (tropospheric scintillation comes from ``itur``).
    exceedance_pct : float
        Percentile of the ``itur`` atmospheric attenuation.
    roll_off : float
        DVB-S2 roll-off for the rate.
    """

    freq_hz: float
    bandwidth_hz: float
    eirp_density_dbw_per_mhz: float
    ue_g_over_t_db_per_k: float
    min_elevation_deg: float = 25.0
    shadowing_margin_db: float = 3.0
    scintillation_margin_db: float = 2.2
    polarization_loss_db: float = 0.0
    additional_losses_db: float = 0.0
    exceedance_pct: float = 1.0
    roll_off: float = 0.2

    def __post_init__(self) -> None:
        if not lb.MIN_ITUR_ELEVATION_DEG <= self.min_elevation_deg < 90.0:
            raise ModelRangeError(
                f"D2DLink: min_elevation_deg must lie in [5, 90) degrees; got "
                f"{self.min_elevation_deg!r}."
            )
        if self.bandwidth_hz <= 0.0 or self.freq_hz < 1e9:
            raise ModelRangeError(
                "D2DLink: freq_hz must be >= 1 GHz (itur range) and bandwidth_hz > 0; got "
                f"{self.freq_hz!r}, {self.bandwidth_hz!r}."
            )


#: TR 38.821 Set-1 LEO S-band satellite (Table 6.1.1.1-1: 34 dBW/MHz) to a handheld
#: (Table 6.1.1.1-3: G/T −31.6 dB/K) over 30 MHz at 2 GHz, with the shadowing (3 dB) and
#: scintillation (2.2 dB) allowances of Table 6.1.3.3-1 row SC9.
TR38821_LEO_S_BAND_HANDHELD: Final = D2DLink(
    freq_hz=2.0e9,
    bandwidth_hz=30e6,
    eirp_density_dbw_per_mhz=34.0,
    ue_g_over_t_db_per_k=-31.6,
)


class LinkSet(NamedTuple):
    """Per point: serving platform (−1 none), elevation, C/N (NaN none), rate, usable."""

    platform: NDArray[np.int64]
    elevation_deg: FloatArray
    cnr_db: FloatArray
    rate_bps: FloatArray
    usable: NDArray[np.bool_]


def _empty_links(n: int) -> LinkSet:
    return LinkSet(
        np.full(n, -1, dtype=np.int64),
        np.full(n, np.nan),
        np.full(n, np.nan),
        np.zeros(n),
        np.zeros(n, dtype=bool),
    )


def _subpoint_deg(ecef: FloatArray) -> tuple[FloatArray, FloatArray]:
    r = np.linalg.norm(ecef, axis=1)
    lat = np.degrees(np.arcsin(np.clip(ecef[:, 2] / np.where(r > 0, r, 1.0), -1.0, 1.0)))
    lon = np.degrees(np.arctan2(ecef[:, 1], ecef[:, 0]))
    return lat, lon


def leo_user_links(
    user_ecef_m: ArrayLike,
    user_lat_deg: ArrayLike,
    user_lon_deg: ArrayLike,
    sat_ecef_m: ArrayLike,
    link: D2DLink,
    atmosphere: lb.AtmosphereGrid,
    sat_up: ArrayLike | None = None,
    chunk_pairs: int = 4_000_000,
    rate_fn: RateFn | None = None,
) -> LinkSet:
    """Best satellite (highest elevation ≥ mask) of each point, its C/N and DVB-S2 rate.

    Parameters
    ----------
    user_ecef_m : array_like, shape (N, 3)
    user_lat_deg, user_lon_deg : array_like, shape (N,)
    sat_ecef_m : array_like, shape (M, 3)
        Satellite positions at one instant (ECEF m).
    link : D2DLink
    atmosphere : AtmosphereGrid
        Tabulated ``itur`` losses for ``link`` (see :meth:`D2DAccess.__init__`).
    sat_up : array_like of bool, shape (M,), optional
        Satellites in service (default all).
    chunk_pairs : int
        Points × satellites evaluated at once (memory ≈ 40 bytes per pair).
    rate_fn : callable, optional
        ``(cnr_db, bandwidth_hz) -> rate_bps`` replacing the DVB-S2 ACM mapping.

    Returns
    -------
    LinkSet
        ``platform`` indexes the rows of ``sat_ecef_m``.
    """
    users = np.asarray(user_ecef_m, dtype=np.float64).reshape(-1, 3)
    sats = np.asarray(sat_ecef_m, dtype=np.float64).reshape(-1, 3)
    n = users.shape[0]
    out = _empty_links(n)
    if n == 0 or sats.shape[0] == 0:
        return out
    up = np.ones(sats.shape[0], bool) if sat_up is None else np.asarray(sat_up, dtype=bool)
    lat = np.asarray(user_lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(user_lon_deg, dtype=np.float64).reshape(-1)
    s_lat, s_lon = _subpoint_deg(sats)
    dlon = (s_lon - 0.5 * (lon.min() + lon.max()) + 180.0) % 360.0 - 180.0
    half_lon = 0.5 * (lon.max() - lon.min())
    near = (
        up
        & (s_lat >= lat.min() - _SAT_PREFILTER_DEG)
        & (s_lat <= lat.max() + _SAT_PREFILTER_DEG)
        & (np.abs(dlon) <= half_lon + _SAT_PREFILTER_DEG / max(0.2, np.cos(np.radians(lat.mean()))))
    )
    cand = np.flatnonzero(near)
    if cand.size == 0:
        return out
    step = max(1, chunk_pairs // cand.size)
    best_i = np.full(n, -1, dtype=np.int64)
    best_el = np.full(n, -np.inf)
    best_d = np.full(n, np.inf)
    for start in range(0, n, step):  # chunks of points bound memory
        sl = slice(start, start + step)
        el, rng = elevation_and_range(users[sl], sats[cand])
        j = np.argmax(el, axis=1)
        rows = np.arange(el.shape[0])
        best_el[sl] = el[rows, j]
        best_d[sl] = rng[rows, j]
        best_i[sl] = cand[j]
    ok = best_el >= link.min_elevation_deg
    if not np.any(ok):
        return out
    atm = atmosphere.total_db(lat[ok], lon[ok], best_el[ok])
    cnr = lb.cnr_db(
        lb.eirp_dbw(link.eirp_density_dbw_per_mhz, link.bandwidth_hz),
        link.ue_g_over_t_db_per_k,
        lb.free_space_path_loss_db(best_d[ok], link.freq_hz),
        link.bandwidth_hz,
        atmospheric_loss_db=atm,
        shadowing_margin_db=link.shadowing_margin_db,
        scintillation_loss_db=link.scintillation_margin_db,
        polarization_loss_db=link.polarization_loss_db,
        additional_losses_db=link.additional_losses_db,
    )
    rate = (
        lb.dvbs2_rate_bps(cnr, link.bandwidth_hz, link.roll_off)
        if rate_fn is None
        else np.maximum(np.asarray(rate_fn(cnr, link.bandwidth_hz), dtype=np.float64), 0.0)
    )
    out.platform[ok] = best_i[ok]
    out.elevation_deg[ok] = best_el[ok]
    out.cnr_db[ok] = cnr
    out.rate_bps[ok] = rate
    out.usable[ok] = rate > 0.0
    return out


def haps_min_elevation_deg(radius_m: ArrayLike, alt_m: ArrayLike) -> FloatArray:
    """Elevation at the edge of a HAPS footprint of ground radius ``radius_m`` (sphere).

    With Earth-central angle ``γ = r/R``: ``tan el = (cos γ − R/(R+h)) / sin γ``.

    Examples
    --------
    >>> [round(float(x), 1) for x in haps_min_elevation_deg([50e3, 100e3, 200e3], 20e3)]
    [21.5, 10.8, 4.8]
    """
    r = np.asarray(radius_m, dtype=np.float64)
    h = np.asarray(alt_m, dtype=np.float64)
    if np.any(~(r > 0.0)) or np.any(~(h > 0.0)):
        raise ModelRangeError("haps_min_elevation_deg: radius_m and alt_m must be > 0 m.")
    g = r / EARTH_MEAN_RADIUS_M
    k = EARTH_MEAN_RADIUS_M / (EARTH_MEAN_RADIUS_M + h)
    return np.asarray(np.degrees(np.arctan2(np.cos(g) - k, np.sin(g))))


class D2DStep(NamedTuple):
    """Access of every point at one step: LEO and HAPS link sets."""

    leo: LinkSet
    haps: LinkSet

    def population_share(self, population: ArrayLike) -> dict[str, float]:
        """Population-weighted share (0–1) with a usable LEO, HAPS, and either link.

        Examples
        --------
        >>> none = _empty_links(2)
        >>> one = none._replace(usable=np.array([True, False]))
        >>> D2DStep(one, none).population_share([3.0, 1.0])
        {'leo': 0.75, 'haps': 0.0, 'any': 0.75}
        """
        w = np.asarray(population, dtype=np.float64)
        tot = float(w.sum())
        if w.shape != self.leo.usable.shape or not tot > 0.0:
            raise ModelRangeError(
                "population_share: pass one non-negative population per point with a positive "
                f"total; got shape {w.shape} for {self.leo.usable.size} points."
            )
        masks = {"leo": self.leo.usable, "haps": self.haps.usable}
        masks["any"] = masks["leo"] | masks["haps"]
        return {k: float(np.sum(w[m]) / tot) for k, m in masks.items()}


@dataclass
class D2DAccess:
    """Direct-to-device access for a fixed set of ground points (the engine's demand points, or
    coverage sample points): built once, then :meth:`step` per time step.

    HAPS are quasi-stationary, so their links (C/N for every point × platform in view) are
    computed once here; :meth:`step` picks the best platform in service. LEO links are computed
    per step from the satellite positions.

    Parameters
    ----------
    lat_deg, lon_deg : array_like, shape (N,)
        Ground points (height 0 on the ellipsoid).
    leo_link : D2DLink or None
    haps_cell : HibsCell or None
    haps_lat_deg, haps_lon_deg, haps_alt_m, haps_radius_m : array_like, shape (H,)
        Platforms; the footprint radius sets each platform's elevation mask
        (:func:`haps_min_elevation_deg`, not below 5°).
    atmosphere_step_deg : float
        Grid step of the tabulated LEO atmosphere.
    rate_fn : callable, optional
        ``(cnr_db, bandwidth_hz) -> rate_bps`` for both access kinds, replacing DVB-S2 ACM
        (the orchestrator can pass an NR mapping from the RAN domain here).
    """

    lat_deg: FloatArray
    lon_deg: FloatArray
    leo_link: D2DLink | None = None
    haps_cell: HibsCell | None = None
    haps_lat_deg: FloatArray = field(default_factory=lambda: np.zeros(0))
    haps_lon_deg: FloatArray = field(default_factory=lambda: np.zeros(0))
    haps_alt_m: FloatArray = field(default_factory=lambda: np.zeros(0))
    haps_radius_m: FloatArray = field(default_factory=lambda: np.zeros(0))
    atmosphere_step_deg: float = 2.0
    rate_fn: RateFn | None = None

    def __post_init__(self) -> None:
        self.lat_deg = np.asarray(self.lat_deg, dtype=np.float64).reshape(-1)
        self.lon_deg = np.asarray(self.lon_deg, dtype=np.float64).reshape(-1)
        self.ecef_m = np.stack(geo.geodetic_to_ecef(self.lat_deg, self.lon_deg, 0.0), axis=-1)
        n = self.lat_deg.size
        self._atm: lb.AtmosphereGrid | None = None
        if self.leo_link is not None and n:
            pad = self.atmosphere_step_deg
            self._atm = lb.AtmosphereGrid.build(
                (float(self.lat_deg.min()) - pad, float(self.lat_deg.max()) + pad),
                (float(self.lon_deg.min()) - pad, float(self.lon_deg.max()) + pad),
                self.leo_link.freq_hz,
                self.leo_link.exceedance_pct,
                antenna_diameter_m=0.1,
                min_elevation_deg=self.leo_link.min_elevation_deg,
                step_deg=self.atmosphere_step_deg,
            )
        h_lat = np.asarray(self.haps_lat_deg, dtype=np.float64).reshape(-1)
        n_h = h_lat.size
        self._haps_rate = np.zeros((n, n_h))
        self._haps_cnr = np.full((n, n_h), np.nan)
        self._haps_el = np.full((n, n_h), -np.inf)
        if self.haps_cell is not None and n_h and n:
            alt = np.broadcast_to(np.asarray(self.haps_alt_m, dtype=np.float64), (n_h,))
            rad = np.broadcast_to(np.asarray(self.haps_radius_m, dtype=np.float64), (n_h,))
            h_ecef = np.stack(
                geo.geodetic_to_ecef(h_lat, np.asarray(self.haps_lon_deg, np.float64), alt),
                axis=-1,
            )
            masks = np.maximum(haps_min_elevation_deg(rad, alt), lb.MIN_ITUR_ELEVATION_DEG)
            for k in range(n_h):  # a handful of platforms; each call is vectorised over points
                only = np.zeros(n_h, dtype=bool)
                only[k] = True
                lk = hibs_user_links(
                    self.ecef_m,
                    self.lat_deg,
                    self.lon_deg,
                    h_ecef,
                    float(alt[k]),
                    self.haps_cell,
                    haps_up=only,
                    min_elevation_deg=masks,
                    rate_fn=self.rate_fn,
                )
                self._haps_rate[:, k] = lk.rate_bps
                self._haps_cnr[:, k] = lk.cnr_db
                self._haps_el[:, k] = np.where(lk.haps_index >= 0, lk.elevation_deg, -np.inf)

    def step(
        self,
        sat_ecef_m: ArrayLike | None = None,
        sat_up: ArrayLike | None = None,
        haps_up: ArrayLike | None = None,
    ) -> D2DStep:
        """Usable LEO and HAPS links of every point at one instant.

        Parameters
        ----------
        sat_ecef_m : array_like, shape (M, 3), optional
            Satellite positions (ECEF m); ``None`` or empty for no LEO.
        sat_up : array_like of bool, shape (M,), optional
        haps_up : array_like of bool, shape (H,), optional

        Returns
        -------
        D2DStep
        """
        n = self.lat_deg.size
        if self.leo_link is not None and self._atm is not None and sat_ecef_m is not None:
            leo = leo_user_links(
                self.ecef_m,
                self.lat_deg,
                self.lon_deg,
                sat_ecef_m,
                self.leo_link,
                self._atm,
                sat_up,
                rate_fn=self.rate_fn,
            )
        else:
            leo = _empty_links(n)
        n_h = self._haps_rate.shape[1]
        if n_h == 0:
            return D2DStep(leo, _empty_links(n))
        up = np.ones(n_h, bool) if haps_up is None else np.asarray(haps_up, dtype=bool)
        el = np.where(up[np.newaxis, :], self._haps_el, -np.inf)
        best = np.argmax(el, axis=1)
        rows = np.arange(n)
        has = np.isfinite(el[rows, best])
        rate = np.where(has, self._haps_rate[rows, best], 0.0)
        haps = LinkSet(
            np.where(has, best, -1).astype(np.int64),
            np.where(has, el[rows, best], np.nan),
            np.where(has, self._haps_cnr[rows, best], np.nan),
            rate,
            rate > 0.0,
        )
        return D2DStep(leo, haps)


# ---------------------------------------------------------------------------------------------
# Sample points for coverage statistics
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _outline_edges() -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, NDArray[np.int64]]:
    rings = geo.prefecture_outlines()
    x1 = np.concatenate([r.lon_deg[:-1] for r in rings])
    y1 = np.concatenate([r.lat_deg[:-1] for r in rings])
    x2 = np.concatenate([r.lon_deg[1:] for r in rings])
    y2 = np.concatenate([r.lat_deg[1:] for r in rings])
    ring = np.concatenate([np.full(r.lon_deg.size - 1, i) for i, r in enumerate(rings)])
    return x1, y1, x2, y2, ring


def inside_main_outlines(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.bool_]:
    """Whether each point lies inside the outline of a prefecture's main part (even-odd rule).

    Examples
    --------
    >>> inside_main_outlines([35.68, 27.09, 30.0], [139.69, 142.20, 135.0]).tolist()
    [True, False, False]
    """
    lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
    x1, y1, x2, y2, ring = _outline_edges()
    starts = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    out = np.zeros(lat.size, dtype=bool)
    step = max(1, 2_000_000 // x1.size)
    dy = np.where(y2 != y1, y2 - y1, 1.0)
    for lo in range(0, lat.size, step):  # chunks of points bound the points × edges memory
        qy = lat[lo : lo + step, None]
        qx = lon[lo : lo + step, None]
        crossing = ((y1 > qy) != (y2 > qy)) & (qx < x1 + (qy - y1) * (x2 - x1) / dy)
        counts = np.add.reduceat(crossing.astype(np.int64), starts, axis=1)
        out[lo : lo + step] = (counts % 2 == 1).any(axis=1)
    return out


def distance_to_main_outlines_km(lat_deg: ArrayLike, lon_deg: ArrayLike) -> FloatArray:
    """Distance (km) from each point to the nearest main-part outline edge.

    Local equirectangular metric at each point's latitude (1° of latitude = 111.2 km), adequate
    at the tens-of-kilometres scale it is used at.

    Examples
    --------
    >>> round(float(distance_to_main_outlines_km([27.09688], [142.20377])[0]), -1)
    900.0
    """
    lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
    x1, y1, x2, y2, _ = _outline_edges()
    out = np.empty(lat.size)
    ex, ey = x2 - x1, y2 - y1
    step = max(1, 2_000_000 // x1.size)
    for lo in range(0, lat.size, step):  # chunks of points bound the points × edges memory
        qy = lat[lo : lo + step, None]
        kx = np.cos(np.radians(qy))
        wx, wy = (lon[lo : lo + step, None] - x1) * kx, qy - y1
        exk = ex * kx
        len2 = np.maximum(exk**2 + ey**2, 1e-18)
        t = np.clip((wx * exk + wy * ey) / len2, 0.0, 1.0)
        d = np.sqrt((wx - t * exk) ** 2 + (wy - t * ey) ** 2)
        out[lo : lo + step] = d.min(axis=1) * (np.pi / 180.0) * EARTH_MEAN_RADIUS_M / 1e3
    return out


@dataclass(frozen=True)
class CoveragePoints:
    """Sample points and their weights.

    ``kind`` 0 = population point (weight: people), 1 = land cell, 2 = sea cell (weight: km²).
    ``island`` marks population points more than :data:`ISLAND_MIN_OFFSHORE_KM` outside the
    main-part outlines; ``name`` is the
    GeoNames place of a population point ("" for grid cells).
    """

    name: NDArray[np.str_]
    lat_deg: FloatArray
    lon_deg: FloatArray
    weight: FloatArray
    kind: NDArray[np.int64]
    island: NDArray[np.bool_]

    def share(self, mask: NDArray[np.bool_], which: str) -> float:
        """Weighted share (0–1) of ``mask`` among ``which`` ∈ population, island, land, sea."""
        sel = {
            "population": self.kind == 0,
            "island": (self.kind == 0) & self.island,
            "land": self.kind == 1,
            "sea": self.kind == 2,
        }[which]
        w = self.weight[sel]
        tot = float(w.sum())
        return float(np.sum(w[mask[sel]]) / tot) if tot > 0 else float("nan")


def coverage_points(grid_step_deg: float = 0.5, min_city_population: int = 1000) -> CoveragePoints:
    """Population points (GeoNames ≥ ``min_city_population``, census-scaled) plus an area grid.

    Parameters
    ----------
    grid_step_deg : float
        Area grid spacing over the box (degrees), 0.05–5.
    min_city_population : int
        Smallest GeoNames place kept as a population point (≥ 500).

    Returns
    -------
    CoveragePoints
    """
    if not 0.05 <= grid_step_deg <= 5.0:
        raise ModelRangeError(
            f"coverage_points: grid_step_deg must lie in 0.05-5 degrees; got {grid_step_deg!r}."
        )
    dp = geo.demand_points(min_city_population=min_city_population, max_points=50_000)
    p_lat = np.asarray(dp.lat_deg, dtype=np.float64)
    p_lon = np.asarray(dp.lon_deg, dtype=np.float64)
    island = ~inside_main_outlines(p_lat, p_lon)
    island[island] = distance_to_main_outlines_km(p_lat[island], p_lon[island]) > (
        ISLAND_MIN_OFFSHORE_KM
    )
    lat_c = np.arange(JAPAN_BOX_LAT_DEG[0] + grid_step_deg / 2, JAPAN_BOX_LAT_DEG[1], grid_step_deg)
    lon_c = np.arange(JAPAN_BOX_LON_DEG[0] + grid_step_deg / 2, JAPAN_BOX_LON_DEG[1], grid_step_deg)
    g_lat, g_lon = (a.ravel() for a in np.meshgrid(lat_c, lon_c, indexing="ij"))
    h = np.radians(grid_step_deg / 2.0)
    area_km2 = (
        (EARTH_MEAN_RADIUS_M / 1e3) ** 2
        * np.radians(grid_step_deg)
        * (np.sin(np.radians(g_lat) + h) - np.sin(np.radians(g_lat) - h))
    )
    land = inside_main_outlines(g_lat, g_lon)
    return CoveragePoints(
        name=np.concatenate([np.asarray(dp.name, dtype=np.str_), np.full(g_lat.size, "")]),
        lat_deg=np.concatenate([p_lat, g_lat]),
        lon_deg=np.concatenate([p_lon, g_lon]),
        weight=np.concatenate([np.asarray(dp.population, dtype=np.float64), area_km2]),
        kind=np.concatenate(
            [np.zeros(p_lat.size, dtype=np.int64), np.where(land, 1, 2).astype(np.int64)]
        ),
        island=np.concatenate([island, np.zeros(g_lat.size, dtype=bool)]),
    )


#: Measures reported by :func:`coverage_series`.
MEASURES: Final = ("population", "island", "land", "sea")


def coverage_series(
    points: CoveragePoints,
    access: D2DAccess,
    sat_ecef_m: ArrayLike | None,
    haps_up: ArrayLike | None = None,
) -> dict[str, FloatArray]:
    """Share (0–1) of each measure with a usable link at each step, per access kind.

    Parameters
    ----------
    points : CoveragePoints
        The points ``access`` was built on (same order).
    access : D2DAccess
    sat_ecef_m : array_like, shape (T, M, 3), or None
        Satellite positions per step; ``None`` for HAPS only (then T = 1).
    haps_up : array_like of bool, shape (H,), optional

    Returns
    -------
    dict
        Keys ``"{measure}_{leo|haps|any}"`` for measures population, island, land, sea, each an
        array of shape (T,); and ``"points_{leo|haps|any}"``, shape (N,), the share of steps
        each point had a usable link.
    """
    if access.lat_deg.size != points.lat_deg.size:
        raise ModelRangeError(
            "coverage_series: build the D2DAccess on the same points as CoveragePoints "
            f"({access.lat_deg.size} != {points.lat_deg.size})."
        )
    sats = None if sat_ecef_m is None else np.asarray(sat_ecef_m, dtype=np.float64)
    n_t = 1 if sats is None else sats.shape[0]
    out = {f"{m}_{k}": np.zeros(n_t) for m in MEASURES for k in ("leo", "haps", "any")}
    counts = {k: np.zeros(points.lat_deg.size) for k in ("leo", "haps", "any")}
    for t in range(n_t):  # time steps; each step is vectorised over points and satellites
        st = access.step(None if sats is None else sats[t], haps_up=haps_up)
        masks = {"leo": st.leo.usable, "haps": st.haps.usable}
        masks["any"] = masks["leo"] | masks["haps"]
        for k, mask in masks.items():
            counts[k] += mask
            for m in MEASURES:
                out[f"{m}_{k}"][t] = points.share(mask, m)
    for k, c in counts.items():
        out[f"points_{k}"] = c / n_t
    return out
