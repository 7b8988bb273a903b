"""National RAN coverage: cells from population, user points, SINR and rate, by prefecture.

The plan (:func:`plan_national_cells`) follows the twin's demand model: each demand point owns
a disc whose area is its population share of its prefecture's land (so the discs of a
prefecture add up to its area, as in :func:`tsunagu.ran.domain.plan_cells`), and

* **macro sub-6 sites** cover every disc on a hexagonal grid — UMa (25 m, ``isd_urban_m``)
  where the prefecture's density reaches ``urban_density_per_km2``, RMa (35 m,
  ``isd_rural_m``) elsewhere — three sectors each, radiating every carrier of ``ran.carriers``;
* **mmWave small cells** (``ran.mmwave_carrier``, UMi, 10 m, ``mmwave_isd_m``) cover a core
  disc of ``mmwave_core_radius_m`` around urban cities of at least
  ``mmwave_min_city_population``;
* **HIBS cells** (``ran.hibs_carrier``) hang at ``hibs_altitude_m`` above each HAPS: one nadir
  beam and up to six ring beams filling the HAPS's coverage radius.

Users (:func:`user_points`) are spread uniformly over each disc, their number proportional to
population; 80 % are indoor (TR 38.901 Table 7.2-1) with the O2I loss of §7.4.3 (50 % low, 50 %
high loss). Every layer is evaluated with :func:`tsunagu.ran.sinr.downlink_sinr` on the
``k`` nearest cells; rates follow the selected link abstraction and proportional-fair sharing
among the active users of each cell (:mod:`tsunagu.ran.nr`); terrestrial carriers aggregate
(carrier aggregation / NR-DC sums their rates); users whose terrestrial rate stays below the
lowest threshold attach to HIBS.

Simplifications, stated: positions use a sinusoidal (equal-area) projection centred on
136° E (scale error < 1 % over Japan); UMa and RMa cells of one carrier are evaluated as separate
layers (no interference across the urban/rural border); mmWave cells use the 10-element
column of the calibration (no beamforming gain); HIBS links are free space (TR 38.811 eq.
6.6-2) without clutter loss; one MIMO layer per user.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from tsunagu import geo
from tsunagu.errors import ScenarioError
from tsunagu.ran import nr
from tsunagu.ran import pathloss as pl
from tsunagu.ran.layout import SECTOR_AZIMUTHS_DEG
from tsunagu.ran.sinr import CellLayer, downlink_sinr, nearest_cells
from tsunagu.scenario.schema import Carrier, RanSection

__all__ = [
    "CoverageResult",
    "DemandAreas",
    "HapsSite",
    "LayerPlan",
    "NationalCells",
    "SiteCarriers",
    "UserPoints",
    "demand_areas",
    "national_coverage",
    "plan_national_cells",
    "user_points",
]

Float = NDArray[np.float64]
Int = NDArray[np.int64]
LayerKind = Literal["macro-uma", "macro-rma", "mmwave", "hibs"]

_R_EARTH_M: Final = 6_371_008.8
_LON0_DEG: Final = 136.0
_COS30: Final = math.sqrt(3.0) / 2.0
_INDOOR_SHARE: Final = 0.8  # TR 38.901 Table 7.2-1 (UMa, UMi)
_N_PREF: Final = 47


def _project(lat_deg: Float, lon_deg: Float) -> Float:
    """Sinusoidal projection (m) centred on 136° E."""
    lat = np.radians(lat_deg)
    x = _R_EARTH_M * np.radians(lon_deg - _LON0_DEG) * np.cos(lat)
    y = _R_EARTH_M * lat
    return np.column_stack([x, y])


def _unproject(xy: Float) -> tuple[Float, Float]:
    lat = xy[:, 1] / _R_EARTH_M
    lon = _LON0_DEG + np.degrees(xy[:, 0] / (_R_EARTH_M * np.maximum(np.cos(lat), 1e-9)))
    return np.degrees(lat), lon


# --------------------------------------------------------------------------- demand


@dataclass(frozen=True)
class DemandAreas:
    """Demand points with the land area each one stands for (columns over points)."""

    name: NDArray[np.str_]
    lat_deg: Float
    lon_deg: Float
    prefecture: Int
    city_population: Int
    population: Float
    area_km2: Float
    density_per_km2: Float


def _prefecture_area_km2() -> Float:
    area = np.zeros(_N_PREF + 1)
    for ring in geo.prefecture_outlines():
        lat0 = np.radians(float(np.mean(ring.lat_deg)))
        x = np.radians(ring.lon_deg) * np.cos(lat0) * _R_EARTH_M / 1e3
        y = np.radians(ring.lat_deg) * _R_EARTH_M / 1e3
        area[int(ring.jis_code)] += 0.5 * abs(
            float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        )
    return area


def demand_areas(
    min_city_population: int = 50_000, max_points: int = 2_000, areas: Sequence[str] = ()
) -> DemandAreas:
    """The twin's demand points, each with its population share of its prefecture's area.

    ``areas`` keeps only points in the named prefectures or regions (``demand.areas`` of a
    scenario); the areas are computed before filtering, so each kept point keeps its share.

    Raises
    ------
    ScenarioError
        If a name is neither a prefecture nor a region, or nothing is kept.
    """
    dp = geo.demand_points(min_city_population, max_points)
    pref = np.asarray(dp.prefecture, dtype=np.int64)
    pop = np.asarray(dp.population, dtype=np.float64)
    pref_pop = np.bincount(pref, weights=pop, minlength=_N_PREF + 1)
    pref_area = _prefecture_area_km2()
    area = pop / pref_pop[pref] * pref_area[pref]
    dens = pref_pop[pref] / np.maximum(pref_area[pref], 1e-9)
    keep = np.ones(pref.size, dtype=bool)
    if areas:
        prefs = geo.load_prefectures()
        by_name = {
            str(n).lower(): int(c) for n, c in zip(prefs.name_en, prefs.jis_code, strict=True)
        }
        regions = {str(r).lower() for r in prefs.region}
        region = np.char.lower(np.asarray(dp.region).astype(str))
        keep[:] = False
        for a in areas:
            key = a.lower()
            if key in by_name:
                keep |= pref == by_name[key]
            elif key in regions:
                keep |= region == key
            else:
                raise ScenarioError(
                    f"demand.areas: {a!r} is neither a prefecture nor a region; pass names like "
                    f"'Tokyo' or one of {sorted({str(r) for r in prefs.region})}."
                )
        if not keep.any():
            raise ScenarioError(f"demand.areas {list(areas)} keep no demand point.")
    return DemandAreas(
        name=np.asarray(dp.name).astype(str)[keep],
        lat_deg=np.asarray(dp.lat_deg, dtype=np.float64)[keep],
        lon_deg=np.asarray(dp.lon_deg, dtype=np.float64)[keep],
        prefecture=pref[keep],
        city_population=np.asarray(dp.city_population, dtype=np.int64)[keep],
        population=pop[keep],
        area_km2=np.asarray(area, dtype=np.float64)[keep],
        density_per_km2=np.asarray(dens, dtype=np.float64)[keep],
    )


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class HapsSite:
    """A HAPS carrying HIBS cells: position and ground coverage radius."""

    name: str
    lat_deg: float
    lon_deg: float
    coverage_radius_km: float


@dataclass(frozen=True)
class LayerPlan:
    """One evaluated layer: its cells and what it is.

    ``cell_active_users`` is the expected number of simultaneously active users of each cell:
    the active-user density of the demand point that owns its site times the sector's area
    (``√3/2 · ISD² / sectors``) — a flow-level load independent of how many user points are
    sampled. ``None`` (HIBS) counts the sampled users attached to each cell instead.
    """

    kind: LayerKind
    carrier: Carrier
    cells: CellLayer
    site_lat_deg: Float
    site_lon_deg: Float
    site_prefecture: Int
    sectors_per_site: int
    serves_point: NDArray[np.bool_]
    serve_radius_m: Float
    cell_active_users: Float | None = None


@dataclass(frozen=True)
class SiteCarriers:
    """Per-site carrier configuration (one row per site × carrier): the fronthaul hook.

    ``antenna_ports`` is the carrier's MIMO layers (one split-7.2x stream per layer and
    sector); ``sectors`` the cells of the site on that carrier.
    """

    site_id: NDArray[np.str_]
    kind: NDArray[np.str_]
    lat_deg: Float
    lon_deg: Float
    prefecture: Int
    band: NDArray[np.str_]
    freq_ghz: Float
    bandwidth_mhz: Float
    antenna_ports: Int
    sectors: Int


@dataclass(frozen=True)
class NationalCells:
    """All layers of the national plan."""

    layers: tuple[LayerPlan, ...]

    @property
    def n_cells(self) -> int:
        return int(sum(lp.cells.n_cells for lp in self.layers))

    def site_carriers(self) -> SiteCarriers:
        """Flatten every layer's sites into :class:`SiteCarriers`."""
        cols: dict[str, list[NDArray[np.generic]]] = {k: [] for k in SiteCarriers.__annotations__}
        for lp in self.layers:
            n = lp.site_lat_deg.size
            cols["site_id"].append(np.char.add(f"{lp.kind}-", np.arange(n).astype(str)))
            cols["kind"].append(np.full(n, lp.kind))
            cols["lat_deg"].append(lp.site_lat_deg)
            cols["lon_deg"].append(lp.site_lon_deg)
            cols["prefecture"].append(lp.site_prefecture)
            cols["band"].append(np.full(n, lp.carrier.band))
            cols["freq_ghz"].append(np.full(n, lp.carrier.freq_ghz))
            cols["bandwidth_mhz"].append(np.full(n, lp.carrier.bandwidth_mhz))
            cols["antenna_ports"].append(np.full(n, lp.carrier.layers, dtype=np.int64))
            cols["sectors"].append(np.full(n, lp.sectors_per_site, dtype=np.int64))
        out = {k: np.concatenate(v) if v else np.empty(0) for k, v in cols.items()}
        return SiteCarriers(
            site_id=out["site_id"].astype(str),
            kind=out["kind"].astype(str),
            lat_deg=out["lat_deg"].astype(np.float64),
            lon_deg=out["lon_deg"].astype(np.float64),
            prefecture=out["prefecture"].astype(np.int64),
            band=out["band"].astype(str),
            freq_ghz=out["freq_ghz"].astype(np.float64),
            bandwidth_mhz=out["bandwidth_mhz"].astype(np.float64),
            antenna_ports=out["antenna_ports"].astype(np.int64),
            sectors=out["sectors"].astype(np.int64),
        )


def _hex_fill(centres_xy: Float, radius_m: Float, isd_m: float) -> tuple[Float, Int]:
    """Hexagonal-grid sites (neighbours at 30°, 90°, …) inside each disc; centre always kept."""
    a = np.array([_COS30, 0.5]) * isd_m
    b = np.array([0.0, 1.0]) * isd_m
    rings = np.ceil(radius_m / (isd_m * _COS30)).astype(np.int64) + 1
    xs: list[Float] = []
    owner: list[Int] = []
    # Group discs by ring count so each group is one vectorised mask (few distinct counts).
    for n in np.unique(rings):
        sel = np.nonzero(rings == n)[0]
        r = np.arange(-n, n + 1)
        i, j = (g.ravel() for g in np.meshgrid(r, r, indexing="ij"))
        off = i[:, None] * a + j[:, None] * b
        dist = np.hypot(off[:, 0], off[:, 1])
        inside = dist[None, :] <= radius_m[sel, None]
        inside[:, np.argmin(dist)] = True
        d_idx, o_idx = np.nonzero(inside)
        xs.append(centres_xy[sel[d_idx]] + off[o_idx])
        owner.append(sel[d_idx].astype(np.int64))
    return np.vstack(xs), np.concatenate(owner)


def _sector_layer(
    sites_xy: Float,
    carrier: Carrier,
    env: Literal["uma", "umi", "rma"],
    height_m: float,
) -> CellLayer:
    n_sec = len(SECTOR_AZIMUTHS_DEG)
    xy = np.repeat(sites_xy, n_sec, axis=0)
    n = xy.shape[0]
    return CellLayer(
        x_m=xy[:, 0],
        y_m=xy[:, 1],
        height_m=np.full(n, height_m),
        azimuth_deg=np.tile(np.asarray(SECTOR_AZIMUTHS_DEG), sites_xy.shape[0]),
        tilt_deg=np.full(n, 102.0),
        tx_power_dbm=np.full(n, carrier.tx_power_dbm),
        site=np.repeat(np.arange(sites_xy.shape[0], dtype=np.int64), n_sec),
        freq_ghz=carrier.freq_ghz,
        bandwidth_hz=carrier.bandwidth_mhz * 1e6,
        environment=env,
        pattern="sector",
        layers=carrier.layers,
        band=carrier.band,
    )


def _hibs_layer(
    haps: list[HapsSite], carrier: Carrier, altitude_m: float, beams: int
) -> tuple[CellLayer, Float]:
    n = len(haps)
    lat = np.array([h.lat_deg for h in haps])
    lon = np.array([h.lon_deg for h in haps])
    rad = np.array([h.coverage_radius_km for h in haps]) * 1e3
    xy = _project(lat, lon)
    ring = beams - 1
    if ring == 0:
        tilt = np.full((n, 1), 180.0)
        hpbw = np.degrees(2.0 * np.arctan(rad / altitude_m))[:, None]
        az = np.zeros((n, 1))
    else:
        inner = rad / 3.0
        tilt = np.column_stack(
            [np.full(n, 180.0)]
            + [180.0 - np.degrees(np.arctan(2.0 * rad / 3.0 / altitude_m))] * ring
        )
        centre_bw = np.degrees(2.0 * np.arctan(inner / altitude_m))
        ring_bw = np.degrees(np.arctan(rad / altitude_m) - np.arctan(inner / altitude_m))
        hpbw = np.column_stack([centre_bw] + [ring_bw] * ring)
        az = np.column_stack([np.zeros(n)] + [np.full(n, 360.0 * k / ring) for k in range(ring)])
    # Directivity of a circular beam of 3 dB width θ (degrees): D ≈ 41,253 / θ² (Kraus).
    g_each = 10.0 * np.log10(41_253.0 / hpbw**2)
    n_cells = n * beams
    layer = CellLayer(
        x_m=np.repeat(xy[:, 0], beams),
        y_m=np.repeat(xy[:, 1], beams),
        height_m=np.full(n_cells, altitude_m),
        azimuth_deg=az.ravel(),
        tilt_deg=tilt.ravel(),
        tx_power_dbm=np.full(n_cells, carrier.tx_power_dbm),
        site=np.repeat(np.arange(n, dtype=np.int64), beams),
        freq_ghz=carrier.freq_ghz,
        bandwidth_hz=carrier.bandwidth_mhz * 1e6,
        environment="fspl",
        pattern="beam",
        element_gain_dbi=g_each.ravel(),
        beam_hpbw_deg=hpbw.ravel(),
        layers=carrier.layers,
        band=carrier.band,
    )
    return layer, xy


def _sector_users(demand: DemandAreas, site_owner: Int, isd_m: float, share: float) -> Float:
    n_sec = len(SECTOR_AZIMUTHS_DEG)
    density = demand.population[site_owner] / np.maximum(demand.area_km2[site_owner], 1e-9)
    per_sector = density * (math.sqrt(3.0) / 2.0 * (isd_m / 1e3) ** 2 / n_sec) * share
    return np.asarray(np.repeat(per_sector, n_sec), dtype=np.float64)


def plan_national_cells(
    ran: RanSection, demand: DemandAreas, haps: list[HapsSite] | None = None
) -> NationalCells:
    """Generate the macro, mmWave and HIBS layers of the national plan (module docstring).

    Raises
    ------
    ModelRangeError
        If a carrier of a listed band lies outside it (:func:`nr.check_carrier_band`).
    """
    carriers = list(ran.carriers)
    for c in [*carriers, ran.mmwave_carrier, ran.hibs_carrier]:
        if c is not None:
            nr.check_carrier_band(c.band, c.freq_ghz, c.bandwidth_mhz)
    centres = _project(demand.lat_deg, demand.lon_deg)
    radius = np.sqrt(demand.area_km2 * 1e6 / np.pi)
    urban = demand.density_per_km2 >= ran.urban_density_per_km2
    layers: list[LayerPlan] = []
    macro: tuple[tuple[LayerKind, NDArray[np.bool_], float, Literal["uma", "rma"], float], ...] = (
        ("macro-uma", urban, ran.isd_urban_m, "uma", ran.bs_height_m),
        ("macro-rma", ~urban, ran.isd_rural_m, "rma", 35.0),
    )
    for kind, mask, isd, env, h in macro:
        if not mask.any():
            continue
        sel = np.nonzero(mask)[0]
        sites, owner = _hex_fill(centres[sel], radius[sel], isd)
        lat, lon = _unproject(sites)
        users_macro = _sector_users(demand, sel[owner], isd, ran.active_user_share)
        for c in carriers:
            if env == "rma" and c.freq_ghz > 30.0:
                continue  # RMa is defined to 30 GHz (TR 38.901 §7.4.1)
            layers.append(
                LayerPlan(
                    kind,
                    c,
                    _sector_layer(sites, c, env, h),
                    lat,
                    lon,
                    demand.prefecture[sel[owner]],
                    len(SECTOR_AZIMUTHS_DEG),
                    mask,
                    np.full(mask.size, np.inf),
                    users_macro,
                )
            )
    mm = ran.mmwave_carrier
    if mm is not None:
        core = urban & (demand.city_population >= ran.mmwave_min_city_population)
        if core.any():
            sel = np.nonzero(core)[0]
            r_core = np.minimum(radius[sel], ran.mmwave_core_radius_m)
            sites, owner = _hex_fill(centres[sel], r_core, ran.mmwave_isd_m)
            lat, lon = _unproject(sites)
            users_mm = _sector_users(demand, sel[owner], ran.mmwave_isd_m, ran.active_user_share)
            layers.append(
                LayerPlan(
                    "mmwave",
                    mm,
                    _sector_layer(sites, mm, "umi", 10.0),
                    lat,
                    lon,
                    demand.prefecture[sel[owner]],
                    len(SECTOR_AZIMUTHS_DEG),
                    core,
                    np.minimum(radius, ran.mmwave_core_radius_m),
                    users_mm,
                )
            )
    hc = ran.hibs_carrier
    if hc is not None and haps:
        layer, _ = _hibs_layer(haps, hc, ran.hibs_altitude_m, ran.hibs_beams)
        lat_h = np.array([h.lat_deg for h in haps])
        lon_h = np.array([h.lon_deg for h in haps])
        layers.append(
            LayerPlan(
                "hibs",
                hc,
                layer,
                lat_h,
                lon_h,
                geo.prefecture_of(lat_h, lon_h).astype(np.int64),
                ran.hibs_beams,
                np.ones(demand.population.size, dtype=bool),
                np.full(demand.population.size, np.inf),
            )
        )
    return NationalCells(tuple(layers))


# --------------------------------------------------------------------------- users


@dataclass(frozen=True)
class UserPoints:
    """User points spread over the demand discs (columns over points)."""

    xy_m: Float
    r_m: Float
    demand_point: Int
    prefecture: Int
    active_users: Float
    population: Float
    area_km2: Float
    indoor: NDArray[np.bool_]
    d2d_in_m: Float


def user_points(
    demand: DemandAreas,
    n_points: int,
    active_user_share: float,
    rng: np.random.Generator,
    indoor_share: float = _INDOOR_SHARE,
) -> UserPoints:
    """Spread ``n_points`` user points over the discs, ∝ population (at least one per disc).

    Each point stands for ``population_i / n_i`` residents and ``active_user_share`` of them
    as simultaneously active users, and for ``area_i / n_i`` km². 80 % are indoor with an
    indoor distance ``min(U(0, 25), U(0, 25))`` m (TR 38.901 Table 7.2-1, §7.4.3).
    """
    p = demand.population
    if n_points < p.size:
        raise ScenarioError(
            f"user_points: n_points must be at least the number of demand points ({p.size}); "
            f"got {n_points}."
        )
    quota = n_points * p / p.sum()
    counts = np.maximum(np.floor(quota).astype(np.int64), 1)
    short = n_points - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(quota - np.floor(quota)))[:short]] += 1
    owner = np.repeat(np.arange(p.size, dtype=np.int64), counts)
    n = owner.size
    radius = np.sqrt(demand.area_km2 * 1e6 / np.pi)[owner]
    r = radius * np.sqrt(rng.random(n))
    th = 2.0 * np.pi * rng.random(n)
    centre = _project(demand.lat_deg, demand.lon_deg)[owner]
    xy = centre + np.column_stack([r * np.cos(th), r * np.sin(th)])
    indoor = rng.random(n) < indoor_share
    d_in = np.where(indoor, np.minimum(rng.uniform(0, 25, n), rng.uniform(0, 25, n)), 0.0)
    return UserPoints(
        xy_m=xy,
        r_m=r,
        demand_point=owner,
        prefecture=demand.prefecture[owner],
        active_users=(p * active_user_share / counts)[owner],
        population=(p / counts)[owner],
        area_km2=(demand.area_km2 / counts)[owner],
        indoor=indoor,
        d2d_in_m=d_in,
    )


def _o2i_db(users: UserPoints, freq_ghz: float, seed: int) -> Float:
    """Per-user O2I loss at one frequency: 50 % low / 50 % high loss, drawn per user."""
    rng = np.random.default_rng([seed, round(freq_ghz * 1000)])
    n = users.indoor.size
    high = rng.random(n) < 0.5
    low = pl.o2i_low_loss_db(freq_ghz, users.d2d_in_m, rng=rng)
    hi = pl.o2i_high_loss_db(freq_ghz, users.d2d_in_m, rng=rng)
    return np.asarray(np.where(users.indoor, np.where(high, hi, low), 0.0), dtype=np.float64)


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class CoverageResult:
    """National coverage: per user point, per demand point and per prefecture.

    ``pop_share[t]`` / ``area_share[t]``: share of population / land with a user rate at
    least ``thresholds_bps[t]``. ``by_prefecture_*`` rows are JIS codes 1–47 (index 0 unused).
    """

    thresholds_bps: Float
    rate_bps: Float
    best_sinr_db: Float
    users: UserPoints
    pop_share: Float
    area_share: Float
    by_prefecture_pop_share: Float
    by_prefecture_area_share: Float
    by_demand_point_pop_share: Float
    n_cells_by_layer: dict[str, int]
    n_sites_by_layer: dict[str, int]
    mean_rate_by_layer_bps: dict[str, float]
    cells: NationalCells = field(repr=False)


def national_coverage(
    ran: RanSection,
    demand: DemandAreas,
    haps: list[HapsSite] | None = None,
    *,
    n_user_points: int = 200_000,
    seed: int = 0,
    k_nearest: int = 21,
    cells: NationalCells | None = None,
    workers: int | None = None,
    down_prefectures: Sequence[int] = (),
) -> CoverageResult:
    """Plan (or take) the national cells, drop user points and compute rate coverage.

    Parameters
    ----------
    ran : RanSection
        The scenario's RAN section (carriers, ISDs, thresholds, rate mapping, …).
    demand : DemandAreas
        From :func:`demand_areas`.
    haps : list of HapsSite or None
        HAPS carrying HIBS cells.
    n_user_points : int
        User points to evaluate (≥ number of demand points).
    seed : int
        Seeds the drop, O2I, LOS states and shadow fading.
    k_nearest : int
        Cells evaluated per user and layer (21 = the 7 nearest three-sector sites).
    cells : NationalCells or None
        A precomputed plan (e.g. to time the link budget alone).
    workers : int or None
        Threads for the link budget (default: every core).
    down_prefectures : sequence of int
        JIS codes of prefectures whose terrestrial sites are off (e.g. after a disaster);
        their users fall back on neighbouring sites and on HIBS.

    Returns
    -------
    CoverageResult
    """
    plan = plan_national_cells(ran, demand, haps) if cells is None else cells
    rng = np.random.default_rng(seed)
    users = user_points(demand, n_user_points, ran.active_user_share, rng)
    n = users.xy_m.shape[0]
    h_ut = np.full(n, ran.ue_height_m)
    thresholds = np.sort(np.asarray(ran.coverage_thresholds_bps, dtype=np.float64))
    terrestrial = np.zeros(n)
    best_sinr = np.full(n, -np.inf)
    mean_rate: dict[str, float] = {}
    n_cells: dict[str, int] = {}
    n_sites: dict[str, int] = {}
    hibs: list[LayerPlan] = []
    o2i_cache: dict[float, Float] = {}
    neighbours: dict[int, tuple[NDArray[np.int64], Int]] = {}
    ue_ids = np.arange(n, dtype=np.int64)
    for lp in plan.layers:
        name = f"{lp.kind}:{lp.carrier.band}"
        n_cells[name] = n_cells.get(name, 0) + lp.cells.n_cells
        n_sites[name] = n_sites.get(name, 0) + int(lp.site_lat_deg.size)
        if lp.kind == "hibs":
            hibs.append(lp)
            continue
        sub = np.nonzero(
            lp.serves_point[users.demand_point]
            & (users.r_m <= lp.serve_radius_m[users.demand_point])
        )[0]
        mean_rate[name] = 0.0
        if sub.size == 0:
            continue
        site_on = ~np.isin(lp.site_prefecture, np.asarray(down_prefectures, dtype=np.int64))
        cell_on = np.repeat(site_on, lp.sectors_per_site)
        grid = id(lp.site_lat_deg)  # carriers of one site grid share their neighbours
        if grid not in neighbours:
            neighbours[grid] = (sub, nearest_cells(users.xy_m[sub], lp.cells, k_nearest))
        f = lp.carrier.freq_ghz
        if f not in o2i_cache:
            o2i_cache[f] = _o2i_db(users, f, seed)
        res = downlink_sinr(
            users.xy_m[sub],
            h_ut[sub],
            lp.cells,
            noise_figure_db=ran.noise_figure_db,
            seed=seed,
            ue_d2d_in_m=users.d2d_in_m[sub],
            ue_extra_loss_db=o2i_cache[f][sub],
            ue_id=ue_ids[sub],
            cell_index=neighbours[grid][1],
            cell_on=cell_on,
            beyond_range="drop",
            workers=workers,
        )
        rate = _layer_rate(res.sinr_db, res.serving_cell, lp, ran, users.active_users[sub])
        terrestrial[sub] += rate
        best_sinr[sub] = np.maximum(best_sinr[sub], res.sinr_db)
        mean_rate[name] = float(np.average(rate, weights=users.population[sub]))
    total = terrestrial.copy()
    need = terrestrial < thresholds[0]
    for lp in hibs:
        name = f"{lp.kind}:{lp.carrier.band}"
        mean_rate[name] = 0.0
        if not need.any():
            continue
        f = lp.carrier.freq_ghz
        if f not in o2i_cache:
            o2i_cache[f] = _o2i_db(users, f, seed)
        sub = np.nonzero(need)[0]
        res = downlink_sinr(
            users.xy_m[sub],
            h_ut[sub],
            lp.cells,
            noise_figure_db=ran.noise_figure_db,
            k_nearest=min(k_nearest, lp.cells.n_cells),
            seed=seed,
            ue_extra_loss_db=o2i_cache[f][sub],
            ue_id=ue_ids[sub],
            workers=workers,
        )
        rate = _layer_rate(res.sinr_db, res.serving_cell, lp, ran, users.active_users[sub])
        total[sub] += rate
        best_sinr[sub] = np.maximum(best_sinr[sub], res.sinr_db)
        mean_rate[name] = float(np.average(rate, weights=users.population[sub]))

    ok = total[:, None] >= thresholds[None, :]
    pop_w = users.population[:, None]
    area_w = users.area_km2[:, None]
    pop_share = (ok * pop_w).sum(axis=0) / users.population.sum()
    area_share = (ok * area_w).sum(axis=0) / users.area_km2.sum()
    pref = users.prefecture
    by_pop = np.zeros((_N_PREF + 1, thresholds.size))
    by_area = np.zeros((_N_PREF + 1, thresholds.size))
    den_p = np.bincount(pref, weights=users.population, minlength=_N_PREF + 1)
    den_a = np.bincount(pref, weights=users.area_km2, minlength=_N_PREF + 1)
    n_dp = demand.population.size
    by_dp = np.zeros((n_dp, thresholds.size))
    den_dp = np.bincount(users.demand_point, weights=users.population, minlength=n_dp)
    for t in range(thresholds.size):
        by_pop[:, t] = np.bincount(pref, weights=ok[:, t] * users.population, minlength=48)
        by_area[:, t] = np.bincount(pref, weights=ok[:, t] * users.area_km2, minlength=48)
        by_dp[:, t] = np.bincount(
            users.demand_point, weights=ok[:, t] * users.population, minlength=n_dp
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        by_pop = np.where(den_p[:, None] > 0, by_pop / den_p[:, None], np.nan)
        by_area = np.where(den_a[:, None] > 0, by_area / den_a[:, None], np.nan)
        by_dp = np.where(den_dp[:, None] > 0, by_dp / den_dp[:, None], np.nan)
    return CoverageResult(
        thresholds_bps=thresholds,
        rate_bps=total,
        best_sinr_db=best_sinr,
        users=users,
        pop_share=np.asarray(pop_share, dtype=np.float64),
        area_share=np.asarray(area_share, dtype=np.float64),
        by_prefecture_pop_share=by_pop,
        by_prefecture_area_share=by_area,
        by_demand_point_pop_share=by_dp,
        n_cells_by_layer=n_cells,
        n_sites_by_layer=n_sites,
        mean_rate_by_layer_bps=mean_rate,
        cells=plan,
    )


def _layer_rate(
    sinr_db: Float, serving: Int, lp: LayerPlan, ran: RanSection, active_users: Float
) -> Float:
    se = nr.spectral_efficiency_bps_per_hz(sinr_db, ran.rate_mapping, ran.mcs_table)
    oh = nr.dl_overhead(lp.carrier.freq_ghz)
    if lp.cell_active_users is None:
        rate, _ = nr.pf_user_rate_bps(
            se, serving, lp.cells.n_cells, lp.cells.bandwidth_hz, oh, active_users
        )
        return rate
    n_c = np.maximum(lp.cell_active_users, 1.0)[np.maximum(serving, 0)]
    peak = se * lp.cells.bandwidth_hz * (1.0 - oh)
    return np.asarray(np.where(serving >= 0, peak / n_c, 0.0), dtype=np.float64)
