"""The Twin: a scenario built into a static network plus the domains' time-varying parts.

Building happens once: demand points from population data, the optical backbone of every
operator, metro fibre homing demand points, compute sites and gateways onto the backbone
(dual-homed to the two nearest backbone nodes), HAPS feeder links, and the RAN plan. Per step,
:meth:`Twin.state` adds the satellites and their gateway feeder links, and applies the step's
failures to the ``up`` columns. :meth:`Twin.site_distances` gives the latency from every
compute site over that state without transit through the space segment.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu import geo
from tsunagu.adapters.dci import DciPlan, plan_dci
from tsunagu.adapters.fronthaul import FronthaulPlan, plan_fronthaul
from tsunagu.compute.models import gpu_seconds_per_request
from tsunagu.constants import WGS84_A_M
from tsunagu.errors import ScenarioError
from tsunagu.net.graph import to_csr
from tsunagu.net.paths import shortest_paths
from tsunagu.net.tables import LinkTable, NetworkState, NodeTable, StaticNetwork
from tsunagu.ntn.constellations import Shell, isl_pairs_for_shells
from tsunagu.ntn.geometry import elevation_and_range
from tsunagu.ntn.isl import isl_feasible
from tsunagu.ntn.orbits import walker_positions_ecef_m
from tsunagu.optical.domain import (
    Backbone,
    build_backbone,
    fibre_capacity,
    ip_capacity,
    nearest_homes,
)
from tsunagu.ran.domain import RanPlan, plan_cells
from tsunagu.scenario.schema import Scenario

__all__ = ["Twin"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _ecef(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, alt_m: npt.ArrayLike = 0.0) -> FloatArray:
    x, y, z = geo.geodetic_to_ecef(lat_deg, lon_deg, alt_m)
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1).astype(np.float64)


def _prefecture_area_km2() -> dict[int, float]:
    """Area of each prefecture's outline (its main part), km², on a local equal-area projection."""
    areas: dict[int, float] = {}
    for ring in geo.prefecture_outlines():
        lat0 = np.deg2rad(np.mean(ring.lat_deg))
        x = np.deg2rad(ring.lon_deg) * np.cos(lat0) * 6371.0088
        y = np.deg2rad(ring.lat_deg) * 6371.0088
        a = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        areas[int(ring.jis_code)] = areas.get(int(ring.jis_code), 0.0) + a
    return areas


def _area_filter(
    areas: list[str], prefecture: IntArray, region: npt.NDArray[np.str_]
) -> npt.NDArray[np.bool_]:
    """Demand points inside the named regions or prefectures (all when ``areas`` is empty)."""
    if not areas:
        return np.ones(prefecture.size, dtype=bool)
    prefs = geo.load_prefectures()
    by_name = {str(n).lower(): int(c) for n, c in zip(prefs.name_en, prefs.jis_code, strict=True)}
    regions = {str(r).lower() for r in prefs.region}
    keep = np.zeros(prefecture.size, dtype=bool)
    for a in areas:
        key = a.lower()
        if key in by_name:
            keep |= prefecture == by_name[key]
        elif key in regions:
            keep |= np.char.lower(region.astype(str)) == key
        else:
            import difflib

            known = sorted({*(str(n) for n in prefs.name_en), *(str(r) for r in prefs.region)})
            close = difflib.get_close_matches(a, known, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ScenarioError(
                f"demand.areas: {a!r} is neither a region nor a prefecture{hint} "
                f"(regions: {sorted({str(r) for r in prefs.region})})"
            )
    if not keep.any():
        raise ScenarioError(
            f"demand.areas {areas} keep no demand point; lower demand.min_city_population"
        )
    return keep


@dataclass(frozen=True)
class DemandLayer:
    name: npt.NDArray[np.str_]
    lat_deg: FloatArray
    lon_deg: FloatArray
    prefecture: IntArray
    region: npt.NDArray[np.str_]
    grid_region: npt.NDArray[np.str_]
    population: FloatArray
    area_km2: FloatArray
    ecef_m: FloatArray


class Twin:
    """A scenario, built. Cheap to query per step; immutable after construction."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        sc = scenario
        eq = sc.optical.equipment

        # --- demand points -------------------------------------------------------------------
        dp = geo.demand_points(sc.demand.min_city_population, sc.demand.max_points)
        keep = _area_filter(sc.demand.areas, np.asarray(dp.prefecture), np.asarray(dp.region))
        areas = _prefecture_area_km2()
        pref = np.asarray(dp.prefecture, dtype=np.int64)
        popu = np.asarray(dp.population, dtype=np.float64)
        pref_pop = np.bincount(pref, weights=popu, minlength=48)
        # Everyone of Japan's demand points, before the area filter: national traffic is spread
        # per person over this population (tsunagu.sim.background).
        self.national_population = float(popu.sum())
        share = popu / pref_pop[pref]
        area = share * np.array([areas.get(int(p), 0.0) for p in pref])
        if sc.demand.target_points is not None:
            # Sub-city points: the most populous kept points split until there are that many.
            n_kept = int(keep.sum())
            if sc.demand.target_points < n_kept:
                raise ScenarioError(
                    f"demand.target_points: {sc.demand.target_points} is below the {n_kept} "
                    f"cities kept (min_city_population {sc.demand.min_city_population}, "
                    f"max_points {sc.demand.max_points}, areas {sc.demand.areas or 'all'}); "
                    f"raise it to at least {n_kept}, or lower demand.max_points to use fewer "
                    "cities"
                )
            sub = geo.split_demand_points(dp.select(keep), area[keep], sc.demand.target_points)
            dp, area = sub.points, np.asarray(sub.area_km2)
            keep = np.ones(len(dp), dtype=bool)
            pref = np.asarray(dp.prefecture, dtype=np.int64)
            popu = np.asarray(dp.population, dtype=np.float64)
        self.demand = DemandLayer(
            name=np.asarray(dp.name).astype(str)[keep],
            lat_deg=np.asarray(dp.lat_deg, dtype=np.float64)[keep],
            lon_deg=np.asarray(dp.lon_deg, dtype=np.float64)[keep],
            prefecture=pref[keep],
            region=np.asarray(dp.region).astype(str)[keep],
            grid_region=np.asarray(dp.grid_region).astype(str)[keep],
            population=popu[keep],
            area_km2=area[keep],
            ecef_m=_ecef(np.asarray(dp.lat_deg)[keep], np.asarray(dp.lon_deg)[keep]),
        )
        missing = sorted(set(self.demand.grid_region) - set(sc.compute.carbon_intensity_g_per_kwh))
        if missing:
            raise ScenarioError(
                f"compute.carbon_intensity_g_per_kwh has no entry for grid regions {missing} "
                "where demand points lie; add them"
            )

        # --- optical backbone ---------------------------------------------------------------
        bb = build_backbone(sc.optical)
        self.backbone: Backbone = bb
        n_bb = bb.node_name.size

        # --- other fixed nodes: demand COs, compute sites, gateways, HAPS --------------------
        sites = sc.compute.sites
        gws = sc.ntn.gateways
        haps = sc.ntn.haps
        n_dp = self.demand.name.size
        site_lat = np.array([s.lat_deg for s in sites])
        site_lon = np.array([s.lon_deg for s in sites])
        gw_lat = np.array([g.lat_deg for g in gws], dtype=np.float64)
        gw_lon = np.array([g.lon_deg for g in gws], dtype=np.float64)
        haps_lat = np.array([h.lat_deg for h in haps], dtype=np.float64)
        haps_lon = np.array([h.lon_deg for h in haps], dtype=np.float64)
        haps_alt = np.array([h.alt_m for h in haps], dtype=np.float64)

        names = np.concatenate(
            [
                bb.node_name,
                np.char.add("CO:", self.demand.name) if n_dp else np.array([], dtype=str),
                np.array([s.name for s in sites]),
                np.array([g.name for g in gws], dtype=str),
                np.array([h.name for h in haps], dtype=str),
            ]
        )
        # GeoNames names repeat (two Sendai); make CO names unique with their index.
        co = slice(n_bb, n_bb + n_dp)
        names[co] = np.char.add(np.char.add(names[co], "#"), np.arange(n_dp).astype(str))
        kind = np.concatenate(
            [
                np.full(n_bb, "roadm"),
                np.full(n_dp, "demand point"),
                np.array(["dc" if s.kind != "edge" else "edge" for s in sites]),
                np.full(len(gws), "gateway"),
                np.full(len(haps), "haps"),
            ]
        )
        domain = np.concatenate(
            [
                np.full(n_bb, "optical"),
                np.full(n_dp, "demand"),
                np.full(len(sites), "compute"),
                np.full(len(gws) + len(haps), "ntn"),
            ]
        )
        operator = np.concatenate(
            [bb.node_operator, np.full(n_dp + len(sites) + len(gws) + len(haps), "")]
        )
        lat = np.concatenate([bb.lat_deg, self.demand.lat_deg, site_lat, gw_lat, haps_lat])
        lon = np.concatenate([bb.lon_deg, self.demand.lon_deg, site_lon, gw_lon, haps_lon])
        alt = np.concatenate([np.zeros(n_bb + n_dp + len(sites) + len(gws)), haps_alt])
        power = np.concatenate(
            [
                bb.node_power_w,
                np.zeros(n_dp + len(sites)),
                np.full(len(gws), sc.ntn.gateway_power_w),
                np.zeros(len(haps)),
            ]
        )
        nodes = NodeTable.build(
            name=names,
            kind=kind,
            domain=domain,
            operator=operator,
            lat_deg=lat,
            lon_deg=lon,
            alt_m=alt,
            extra={"power_w": power},
        )
        self.idx_demand = np.arange(n_bb, n_bb + n_dp, dtype=np.int64)
        self.idx_site = np.arange(n_bb + n_dp, n_bb + n_dp + len(sites), dtype=np.int64)
        self.idx_gateway = self.idx_site[-1] + 1 + np.arange(len(gws), dtype=np.int64)
        self.idx_haps = n_bb + n_dp + len(sites) + len(gws) + np.arange(len(haps), dtype=np.int64)

        # --- links ---------------------------------------------------------------------------
        span_km = sc.optical.operators[0].fibre.span_length_km
        homed = np.concatenate([self.idx_demand, self.idx_site, self.idx_gateway])
        home_idx, home_d = nearest_homes(lat[homed], lon[homed], bb, k=2)
        h_src = np.repeat(homed, home_idx.shape[1])
        h_dst = home_idx.ravel()
        h_len = np.maximum(home_d.ravel() * sc.optical.metro_route_factor, 100.0)
        h_amp = np.maximum(np.ceil(h_len / 1e3 / span_km) - 1.0, 0.0)

        # HAPS feeder: to the nearest fixed ground node (backbone, CO or gateway).
        ground = np.concatenate([np.arange(n_bb), self.idx_demand, self.idx_gateway])
        if len(haps):
            haps_ecef = _ecef(haps_lat, haps_lon, haps_alt)
            g_ecef = _ecef(lat[ground], lon[ground])
            d = np.linalg.norm(haps_ecef[:, None, :] - g_ecef[None, :, :], axis=-1)
            nearest = np.argmin(d, axis=1)
            f_src = self.idx_haps
            f_dst = ground[nearest]
            f_len = d[np.arange(len(haps)), nearest]
        else:
            f_src = f_dst = np.array([], dtype=np.int64)
            f_len = np.array([], dtype=np.float64)

        # Capacities, once: fibre from the QoT of each link's spans and the lit wavelengths
        # (metro fibre with the first operator's line system), feeders from the scenario.
        metro_cap, metro_ports_bind = ip_capacity(
            fibre_capacity(
                sc.optical,
                h_len / 1e3,
                sc.optical.metro_wavelengths,
                sc.optical.operators[0].fibre,
            ).capacity_bps,
            np.inf if sc.optical.metro_ip_ports is None else sc.optical.metro_ip_ports,
            eq.ip_port_rate_bps,
        )
        haps_feeder_cap = np.array(
            [np.inf if h.feeder_capacity_bps is None else h.feeder_capacity_bps for h in haps],
            dtype=np.float64,
        )
        self.gateway_feeder_capacity_bps = np.array(
            [g.feeder_capacity_bps for g in gws], dtype=np.float64
        )
        n_bl = bb.src.size
        links = LinkTable.build(
            src=np.concatenate([bb.src, h_src, f_src]),
            dst=np.concatenate([bb.dst, h_dst, f_dst]),
            domain=np.concatenate(
                [
                    np.full(n_bl, "optical"),
                    np.full(h_src.size, "optical"),
                    np.full(f_src.size, "ntn"),
                ]
            ),
            medium=np.concatenate(
                [np.full(n_bl + h_src.size, "fibre"), np.full(f_src.size, "free_space")]
            ),
            length_m=np.concatenate([bb.length_m, h_len, f_len]),
            equipment_delay_s=np.concatenate(
                [
                    np.full(n_bl + h_src.size, eq.roadm_delay_s),
                    np.full(f_src.size, sc.ntn.processing_delay_s),
                ]
            ),
            capacity_bps=np.concatenate(
                [
                    bb.capacity_bps,
                    metro_cap,
                    haps_feeder_cap,  # f_src is self.idx_haps: one feeder per platform
                ]
            ),
            power_w=np.concatenate(
                [bb.link_power_w, h_amp * eq.amplifier_power_w, np.zeros(f_src.size)]
            ),
            operator=np.concatenate([bb.link_operator, np.full(h_src.size + f_src.size, "")]),
            # Each operator's fibre has its own group index (the backbone's, the first
            # operator's for metro spurs); the HAPS feeder is free space.
            group_index=np.concatenate(
                [
                    bb.group_index,
                    np.full(h_src.size, sc.optical.operators[0].fibre.group_index),
                    np.full(f_src.size, np.nan),
                ]
            ),
            extra={
                "kind": np.concatenate(
                    [bb.link_kind, np.full(h_src.size, "metro"), np.full(f_src.size, "haps feeder")]
                ),
                # What bounds the link's capacity: its router ports or its optics.
                "port_limited": np.concatenate(
                    [bb.port_limited, metro_ports_bind, np.zeros(f_src.size, dtype=bool)]
                ),
            },
        )
        self.static = StaticNetwork(nodes=nodes, links=links)

        # --- RAN plan ------------------------------------------------------------------------
        self.ran: RanPlan = plan_cells(sc.ran, self.demand.population, self.demand.area_km2)

        # --- compute -------------------------------------------------------------------------
        self.site_gpus = np.array([s.gpus for s in sites], dtype=np.float64)
        self.site_pue = np.array([s.pue for s in sites], dtype=np.float64)
        self.site_gpu_power_w = np.array([s.gpu_power_w for s in sites], dtype=np.float64)
        ci = sc.compute.carbon_intensity_g_per_kwh
        self.site_carbon_g_per_kwh = np.array([ci[s.grid_region] for s in sites], dtype=np.float64)
        self.network_carbon_g_per_kwh = float(ci.get("Japan", np.mean(list(ci.values()))))
        self.demand_carbon_g_per_kwh = np.array([ci[g] for g in self.demand.grid_region])
        svc = sc.services
        # GPU-seconds per request of service k at site s: (K, S).
        self.gpu_s = gpu_seconds_per_request(
            np.array([k.energy_wh_per_request for k in svc])[:, None],
            self.site_gpu_power_w[None, :],
        )

        # --- NTN -----------------------------------------------------------------------------
        self.gateway_ecef = _ecef(gw_lat, gw_lon) if len(gws) else np.zeros((0, 3))
        self.haps_ecef = _ecef(haps_lat, haps_lon, haps_alt) if len(haps) else np.zeros((0, 3))
        # ISLs of the national state: the +Grid of every shell, kept at each step among the
        # satellites whose footprint (the constellation's user mask) can reach the spherical cap
        # around the demand points and gateways, so that the run's routing sees the laser mesh
        # over its own area and not the whole globe.
        ntn = sc.ntn
        self.isl_pairs = (
            isl_pairs_for_shells(self.shells)
            if ntn.isl_pattern == "grid" and self.shells
            else np.zeros((0, 2), dtype=np.int64)
        )
        ground_ecef = np.concatenate([self.demand.ecef_m, self.gateway_ecef])
        if ground_ecef.shape[0]:
            unit = ground_ecef / np.linalg.norm(ground_ecef, axis=1, keepdims=True)
            centre = unit.sum(axis=0)
            self._area_centre = centre / np.linalg.norm(centre)
            cos_off = np.clip(unit @ self._area_centre, -1.0, 1.0)
            self._area_radius_rad = float(np.max(np.arccos(cos_off)))
        else:
            self._area_centre = np.array([1.0, 0.0, 0.0])
            self._area_radius_rad = -np.inf
        # Earth central angle of each satellite's footprint at its constellation's user mask.
        foot = []
        for c in ntn.constellations:
            el = np.radians(c.min_elevation_deg)
            ratio = WGS84_A_M * np.cos(el) / (WGS84_A_M + c.altitude_km * 1e3)
            foot.append(np.full(c.planes * c.sats_per_plane, np.arccos(ratio) - el))
        self._footprint_rad = np.concatenate(foot) if foot else np.zeros(0)

    # ----------------------------------------------------------------------------------------
    @functools.cached_property
    def fronthaul(self) -> FronthaulPlan:
        """Split-7.2x fronthaul of each demand point's RAN sites (:mod:`tsunagu.adapters`)."""
        return plan_fronthaul(self.scenario, self.ran.sites, self.ran.area_km2)

    @functools.cached_property
    def dci(self) -> DciPlan:
        """DCI lightpaths between the compute sites across the operators' APN."""
        sites = self.scenario.compute.sites
        return plan_dci(
            self.scenario,
            self.backbone,
            np.array([s.lat_deg for s in sites], dtype=np.float64),
            np.array([s.lon_deg for s in sites], dtype=np.float64),
        )

    @functools.cached_property
    def shells(self) -> tuple[Shell, ...]:
        """The scenario's constellations as Walker shells (satellites numbered as here)."""
        return tuple(
            Shell(
                c.name,
                c.planes,
                c.sats_per_plane,
                c.phasing,
                c.altitude_km * 1e3,
                c.inclination_deg,
                c.pattern,
            )
            for c in self.scenario.ntn.constellations
        )

    @functools.cached_property
    def times_s(self) -> FloatArray:
        tl = self.scenario.timeline
        n = int(np.floor(tl.duration_s / tl.step_s + 1e-9))
        return np.arange(n, dtype=np.float64) * tl.step_s

    def satellites_ecef(self, time_s: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.str_]]:
        """Positions (T, N, 3) of every constellation's satellites and their constellation."""
        t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
        parts = []
        owner = []
        for c in self.scenario.ntn.constellations:
            parts.append(
                walker_positions_ecef_m(
                    c.planes,
                    c.sats_per_plane,
                    c.phasing,
                    c.altitude_km * 1e3,
                    c.inclination_deg,
                    t,
                    pattern=c.pattern,
                )
            )
            owner.append(np.full(c.planes * c.sats_per_plane, c.name))
        if not parts:
            return np.zeros((t.size, 0, 3)), np.array([], dtype=str)
        return np.concatenate(parts, axis=1), np.concatenate(owner)

    def state(self, time_s: float, sat_ecef_m: FloatArray | None = None) -> NetworkState:
        """The network at ``time_s``: static layers plus satellites, gateway feeder links and the
        ISLs that work at this instant among the satellites that can serve the area."""
        if sat_ecef_m is None:
            sat_ecef_m = self.satellites_ecef(time_s)[0][0]
        n_sat = sat_ecef_m.shape[0]
        if n_sat == 0 or self.gateway_ecef.shape[0] == 0:
            return self.static.state_at(time_s)
        lat, lon, alt = geo.ecef_to_geodetic(sat_ecef_m[:, 0], sat_ecef_m[:, 1], sat_ecef_m[:, 2])
        sat_nodes = NodeTable.build(
            name=np.char.add("SAT-", np.arange(n_sat).astype(str)),
            kind="satellite",
            domain="ntn",
            lat_deg=lat,
            lon_deg=lon,
            alt_m=alt,
            extra={"power_w": 0.0},
        )
        masks = np.array([g.min_elevation_deg for g in self.scenario.ntn.gateways])
        el, rng = elevation_and_range(self.gateway_ecef, sat_ecef_m)
        gi, si = np.nonzero(el >= masks[:, None])
        feeder = LinkTable.build(
            src=self.idx_gateway[gi],
            dst=self.static.n_nodes + si,
            domain="ntn",
            medium="free_space",
            length_m=rng[gi, si],
            equipment_delay_s=self.scenario.ntn.processing_delay_s,
            capacity_bps=self.gateway_feeder_capacity_bps[gi],
            extra={"kind": "gateway feeder"},
        )
        isl = self._isl_links(sat_ecef_m)
        if isl is not None:
            feeder = LinkTable.concat(feeder, isl)
        return self.static.state_at(time_s, sat_nodes, feeder)

    def _isl_links(self, sat_ecef_m: FloatArray) -> LinkTable | None:
        """The ISLs that work now with both satellites' footprints reaching the area."""
        if self.isl_pairs.shape[0] == 0 or sat_ecef_m.shape[0] != self._footprint_rad.size:
            return None
        ntn = self.scenario.ntn
        unit = sat_ecef_m / np.linalg.norm(sat_ecef_m, axis=1, keepdims=True)
        off = np.arccos(np.clip(unit @ self._area_centre, -1.0, 1.0))
        near = off <= self._area_radius_rad + self._footprint_rad
        a, b = self.isl_pairs[:, 0], self.isl_pairs[:, 1]
        cand = np.flatnonzero(near[a] & near[b])
        if cand.size == 0:
            return None
        up, length_m = isl_feasible(
            sat_ecef_m,
            self.isl_pairs[cand],
            (ntn.isl_max_range_km or np.inf) * 1e3,
            ntn.isl_min_grazing_km * 1e3,
        )
        keep = cand[up]
        n0 = self.static.n_nodes
        return LinkTable.build(
            src=n0 + a[keep],
            dst=n0 + b[keep],
            domain="ntn",
            medium="free_space",
            length_m=length_m[up],
            equipment_delay_s=ntn.processing_delay_s,
            capacity_bps=np.inf if ntn.isl_capacity_bps is None else ntn.isl_capacity_bps,
            extra={"kind": "isl"},
        )

    def site_distances(self, state: NetworkState) -> tuple[FloatArray, IntArray]:
        """Latency (s) and predecessors from every compute site to every node of ``state``.

        Over the usable links in both directions, except that no path leaves the space
        segment for the ground: satellites are reached through their feeders and ISLs, and
        never carry ground traffic between two gateways (the operator's satellites relay their
        own users only). The engine's access stage and the orchestrator's view both use this.
        """
        links = state.links
        use = state.usable(True)
        src = np.asarray(links.src)[use]
        dst = np.asarray(links.dst)[use]
        w = np.asarray(links.latency_s, dtype=np.float64)[use]
        a_src = np.concatenate([src, dst])
        a_dst = np.concatenate([dst, src])
        n0 = self.static.n_nodes
        ok = ~((a_src >= n0) & (a_dst < n0))
        a_w = np.concatenate([w, w])
        m = to_csr(state.n_nodes, a_src[ok], a_dst[ok], a_w[ok], undirected=False)
        return shortest_paths(m, self.idx_site)
