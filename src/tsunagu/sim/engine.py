"""The engine: the timeline loop that joins every domain, step by step.

Per step ``t``::

    state  = twin.state(t)                 # static layers + satellites and their feeder links
    state  = events.apply(state, t)        # failures set ``up`` to False
    dist   = dijkstra(state, from sites)   # over surviving links: rerouting is implicit
    access = RAN, else HAPS, else LEO      # RAN for users of cells up whose office reaches a
                                           # site; the rest on the NTN backup (sim/events.py)
    plan   = policy.allocate(problem)      # which site serves each (point, service) flow
    kpis.record(t, state, plan)            # latency split, energy, carbon, coverage

After the loop, run-level tables (population without service per prefecture and step, loss and
restoration per prefecture, the resolved events) are built by :func:`summarise`, and the
domains' run-level tables are added: the DCI lightpaths planned across the operators' APN with
their GSNR margin and their power and latency against IP hops (``Twin.dci``), the LEO RTT series
between the scenario's place pairs, and ground tracks for the map. The optical energy of every
step includes the DCI lightpaths and the split-7.2x fronthaul of the RAN sites that are up
(``Twin.fronthaul``).

A request's end-to-end latency is one round trip: propagation there and back, transmission of
the request and the response, queueing in the cell and at the compute site, and processing
(network equipment delay, the air interface and the AI service itself).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy.sparse import csgraph

from tsunagu.compute.models import carbon_kg, mmc_mean_wait_s
from tsunagu.constants import C_M_PER_S
from tsunagu.geo import ecef_to_geodetic
from tsunagu.ntn.constellations import Shell
from tsunagu.ntn.geometry import best_bent_pipe, elevation_and_range, haps_coverage
from tsunagu.ntn.routing import walker_rtt_series
from tsunagu.orchestrate.policy import AllocationProblem, get_policy
from tsunagu.ran.domain import ps_transfer_time_s
from tsunagu.ran.energy import fleet_energy_by_state_j
from tsunagu.scenario.schema import Scenario
from tsunagu.sim import catalogue as kc
from tsunagu.sim.demand import offered_rps, profile_weight
from tsunagu.sim.events import EventSchedule
from tsunagu.sim.kpis import (
    LIGHTPATHS_SCHEMA,
    NTN_RTT_SCHEMA,
    NTN_TRACKS_SCHEMA,
    RunResult,
    StepRecord,
    finite_or_none,
    summarise,
)
from tsunagu.sim.twin import Twin

__all__ = ["run_twin"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ACCESS = np.array(["none", "ran", "haps", "leo"])


@dataclass(frozen=True)
class _PathWalk:
    propagation_s: FloatArray
    equipment_s: FloatArray
    hops: IntArray


def _walk_paths(
    pred: IntArray,
    src_row: IntArray,
    target: IntArray,
    source_node: IntArray,
    state_links_prop: FloatArray,
    state_links_latency: FloatArray,
    find: Callable[[IntArray, IntArray], IntArray],
    link_bits: FloatArray,
    bits: FloatArray,
) -> _PathWalk:
    """Follow predecessors of many (source row, target) pairs at once.

    Accumulates propagation and equipment delay and hop counts along each path, and adds each
    pair's ``bits`` per second to ``link_bits`` of every link on its path (in place).
    """
    n = target.size
    prop = np.zeros(n)
    equip = np.zeros(n)
    hops = np.zeros(n, dtype=np.int64)
    cur = target.copy()
    active = cur != source_node
    for _ in range(pred.shape[1]):
        if not active.any():
            break
        a = np.flatnonzero(active)
        prev = pred[src_row[a], cur[a]]
        link = find(prev, cur[a])
        p = state_links_prop[link]
        prop[a] += p
        equip[a] += state_links_latency[link] - p
        hops[a] += 1
        np.add.at(link_bits, link, bits[a])
        cur[a] = prev
        active[a] = prev != source_node[a]
    return _PathWalk(prop, equip, hops)


def run_twin(
    twin: Twin,
    progress: Callable[[int, int], None] | None = None,
    seed: int | None = None,
) -> RunResult:
    """Run every step of the twin's timeline and return the result tables.

    Parameters
    ----------
    twin : the built scenario.
    progress : called with (steps done, steps in all) after every step.
    seed : seed of the event draws (which links of an area are cut, which satellites fail);
        defaults to the scenario's ``timeline.seed``. Same twin and seed, same results.
    """
    sc = twin.scenario
    tl = sc.timeline
    eq = sc.optical.equipment
    policy = get_policy(sc.policy)
    events = EventSchedule(sc.events, twin, seed=seed)
    svc = sc.services
    n_k = len(svc)
    n_p = twin.demand.name.size
    n_s = twin.site_gpus.size
    times = twin.times_s
    sat_all, sat_owner = twin.satellites_ecef(times)
    n_sat = sat_all.shape[1]
    const = {c.name: c for c in sc.ntn.constellations}
    sat_mask = np.array([const[o].min_elevation_deg for o in sat_owner]) if n_sat else np.zeros(0)
    sat_rate = np.array([const[o].user_rate_bps for o in sat_owner]) if n_sat else np.zeros(0)
    gw_mask = min((g.min_elevation_deg for g in sc.ntn.gateways), default=90.0)
    haps_radius = np.array([h.coverage_radius_km * 1e3 for h in sc.ntn.haps])
    haps_rate = np.array([h.user_rate_bps for h in sc.ntn.haps])

    adoption = np.array([k.adoption for k in svc])
    per_day = np.array([k.requests_per_user_per_day for k in svc])
    bits = np.array([(k.request_bytes + k.response_bytes) * 8.0 for k in svc])
    req_bits = np.array([k.request_bytes * 8.0 for k in svc])
    resp_bits = np.array([k.response_bytes * 8.0 for k in svc])
    processing = np.array([k.processing_s for k in svc])
    sla_s = np.array([k.sla_latency_ms / 1e3 for k in svc])
    prices = [s.cost_per_gpu_hour for s in sc.compute.sites]
    site_price = np.array(prices, dtype=np.float64) if None not in prices else None
    energy_wh = np.array([k.energy_wh_per_request for k in svc])

    flows_tables: list[pa.Table] = []
    sat_tables: list[pa.Table] = []
    records: list[StepRecord] = []
    wall0 = time.perf_counter()
    for step, t in enumerate(times):
        hour = (tl.start_hour_local + t / 3600.0) % 24.0
        sat_ecef = sat_all[step]
        state = twin.state(float(t), sat_ecef)
        state = events.apply(state, float(t))
        n_nodes = state.n_nodes

        # ---- transport: latency of every node from every compute site that is up --------
        csr = state.csr("latency_s")
        site_up = state.nodes.up[twin.idx_site]
        dist, pred = csgraph.dijkstra(
            csr, directed=False, indices=twin.idx_site, return_predecessors=True
        )
        dist[~site_up, :] = np.inf
        reachable = np.isfinite(dist).any(axis=0)  # (N,) some up site reaches the node

        # ---- access: RAN where its cells are up and its office is reachable, else the NTN
        # backup (HAPS, else LEO bent pipe) where it reaches the users and its ground node --
        t_s = float(t)
        share_down = events.ran_share_down(t_s)
        ntn_ok = ~events.ntn_blocked(t_s)
        co_up = state.nodes.up[twin.idx_demand]
        ran_reach = co_up & reachable[twin.idx_demand]
        if twin.haps_ecef.shape[0]:
            h_idx, h_slant = haps_coverage(twin.demand.ecef_m, twin.haps_ecef, haps_radius)
            h_node = twin.idx_haps[np.maximum(h_idx, 0)]
            h_ok = (h_idx >= 0) & state.nodes.up[h_node] & reachable[h_node] & ntn_ok
        else:
            h_idx = np.full(n_p, -1)
            h_node = twin.idx_demand
            h_slant = np.full(n_p, np.inf)
            h_ok = np.zeros(n_p, dtype=bool)
        if n_sat and twin.gateway_ecef.shape[0]:
            # The bent pipe is searched only for points that need a backup this step.
            need = np.flatnonzero(~ran_reach | (share_down > 0.0))
            up_sat = state.nodes.up[twin.static.n_nodes :]
            s_idx = np.full(n_p, -1, dtype=np.int64)
            g_idx = np.full(n_p, -1, dtype=np.int64)
            s_len = np.full(n_p, np.inf)
            if need.size:
                s_sub, g_sub, len_sub = best_bent_pipe(
                    twin.demand.ecef_m[need],
                    twin.gateway_ecef,
                    sat_ecef[up_sat],
                    float(np.min(sat_mask)),
                    gw_mask,
                )
                s_idx[need] = np.where(s_sub >= 0, np.flatnonzero(up_sat)[np.maximum(s_sub, 0)], -1)
                g_idx[need] = g_sub
                s_len[need] = len_sub
            g_node = twin.idx_gateway[np.maximum(g_idx, 0)]
            l_ok = (s_idx >= 0) & reachable[g_node] & ntn_ok
            el, _ = elevation_and_range(twin.demand.ecef_m, sat_ecef)
            visible = int(np.count_nonzero((el >= sat_mask[None, :]).any(axis=0)))
        else:
            s_idx = g_idx = np.full(n_p, -1)
            g_node = twin.idx_demand
            s_len = np.full(n_p, np.inf)
            l_ok = np.zeros(n_p, dtype=bool)
            visible = 0
        backup = np.where(h_ok, 2, np.where(l_ok, 3, 0))
        # A point whose cells are partly down is two rows: the users of the cells still up
        # (RAN) and the others (backup). A point whose office is cut off is one backup row.
        row_ran = ran_reach & (share_down < 1.0)
        row_bak = ~ran_reach | (share_down > 0.0)
        row_p = np.concatenate([np.flatnonzero(row_ran), np.flatnonzero(row_bak)])
        row_acc = np.concatenate([np.ones(int(row_ran.sum()), dtype=np.int64), backup[row_bak]])
        row_w = np.concatenate(
            [1.0 - share_down[row_ran], np.where(ran_reach, share_down, 1.0)[row_bak]]
        )
        order = np.argsort(row_p, kind="stable")
        row_p, row_acc, row_w = row_p[order], row_acc[order], row_w[order]
        n_r = row_p.size
        access_node = np.select(
            [row_acc == 1, row_acc == 2, row_acc == 3],
            [twin.idx_demand[row_p], h_node[row_p], g_node[row_p]],
            default=twin.idx_demand[row_p],
        )
        access_prop_s = np.select(
            [row_acc == 1, row_acc == 2, row_acc == 3],
            [
                twin.ran.access_propagation_s[row_p],
                h_slant[row_p] / C_M_PER_S,
                s_len[row_p] / C_M_PER_S,
            ],
            default=np.inf,
        )
        access_equip_s = np.where(row_acc == 1, sc.ran.air_interface_delay_s, 0.0) + np.where(
            row_acc >= 2, sc.ntn.processing_delay_s, 0.0
        )
        access_rate = np.select(
            [row_acc == 2, row_acc == 3],
            [
                haps_rate[np.maximum(h_idx, 0)][row_p] if haps_rate.size else np.zeros(n_r),
                sat_rate[np.maximum(s_idx, 0)][row_p] if n_sat else np.zeros(n_r),
            ],
            default=np.inf,
        )

        # ---- demand ---------------------------------------------------------------------
        weights = np.array([profile_weight(k.profile, hour) for k in svc]).ravel()
        rps = offered_rps(twin.demand.population, adoption, per_day, weights)  # (P, K)
        rps = rps * events.surge(t_s)[:, None]
        flow_r = np.repeat(np.arange(n_r), n_k)
        flow_p = row_p[flow_r]
        flow_k = np.tile(np.arange(n_k), n_r)
        flow_rps = (rps[row_p] * row_w[:, None]).ravel()

        # RAN cell load (AI + background traffic) and flow-level transfer times. The users of
        # the cells still up load those cells: the load per cell does not change with the share.
        ran_bps = (rps * bits[None, :]).sum(
            axis=1
        ) + twin.demand.population * sc.ran.background_bps_per_person * weights.mean()
        cap = twin.ran.sites * twin.ran.site_capacity_bps
        ran_load = np.where(ran_reach, ran_bps / cap, 0.0)
        site_cap = twin.ran.site_capacity_bps[flow_p] / sc.ran.sectors_per_site
        ran_tx = (req_bits[flow_k] + resp_bits[flow_k]) / site_cap
        ran_total = ps_transfer_time_s(
            req_bits[flow_k] + resp_bits[flow_k], site_cap, ran_load[flow_p]
        )
        other_tx = bits[flow_k] / access_rate[flow_r]
        acc_f = row_acc[flow_r]
        transmission = (
            np.where(acc_f == 1, ran_tx, other_tx) + 2.0 * bits[flow_k] / eq.transceiver_rate_bps
        )
        ran_queue = np.where(acc_f == 1, ran_total - ran_tx, 0.0)

        transport_s = dist[:, access_node].T  # (R, S)
        one_way = access_prop_s[:, None] + access_equip_s[:, None] + transport_s  # (R, S)
        flow_lat = (
            2.0 * one_way[flow_r]
            + transmission[:, None]
            + ran_queue[:, None]
            + processing[flow_k][:, None]
        )
        flow_lat = np.where(acc_f[:, None] == 0, np.inf, flow_lat)
        gpu_load = flow_rps[:, None] * twin.gpu_s[flow_k]  # (F, S)
        problem = AllocationProblem(
            latency_s=flow_lat,
            load_gpu=gpu_load.max(axis=1),
            capacity_gpu=twin.site_gpus * sc.compute.max_utilisation * site_up,
            sla_s=sla_s[flow_k],
            carbon_g_per_request=energy_wh[flow_k][:, None]
            / 1000.0
            * twin.site_pue[None, :]
            * twin.site_carbon_g_per_kwh[None, :],
            energy_wh_per_request=energy_wh[flow_k][:, None] * twin.site_pue[None, :],
            cost_per_request=twin.gpu_s[flow_k] / 3600.0 * site_price[None, :]
            if site_price is not None
            else None,
        )
        choice = policy.allocate(problem)
        served = choice >= 0
        site_of = np.maximum(choice, 0)

        # ---- path walk: latency split, hop counts and link loads -----------------------
        link_bits = np.zeros(len(state.links))
        lookup = state.link_lookup("latency_s")
        prop_links = state.links.propagation_s
        walk = _walk_paths(
            pred,
            site_of[served],
            access_node[flow_r[served]],
            twin.idx_site[site_of[served]],
            prop_links,
            state.links.latency_s,
            lookup.find,
            link_bits,
            flow_rps[served] * bits[flow_k[served]],
        )
        prop = np.zeros(flow_rps.size)
        equip = np.zeros(flow_rps.size)
        hops = np.zeros(flow_rps.size, dtype=np.int64)
        prop[served] = walk.propagation_s
        equip[served] = walk.equipment_s
        hops[served] = walk.hops

        # ---- compute queueing -----------------------------------------------------------
        site_rps = np.bincount(site_of[served], weights=flow_rps[served], minlength=n_s)
        site_gpu_s = np.bincount(
            site_of[served], weights=(flow_rps * twin.gpu_s[flow_k, site_of])[served], minlength=n_s
        )
        mean_service = np.where(site_rps > 0, site_gpu_s / np.maximum(site_rps, 1e-300), 1.0)
        wait = mmc_mean_wait_s(site_rps, mean_service, twin.site_gpus)

        lat_prop = 2.0 * (access_prop_s[flow_r] + prop)
        lat_proc = 2.0 * (access_equip_s[flow_r] + equip) + processing[flow_k]
        lat_queue = ran_queue + wait[site_of]
        lat_tx = transmission
        total = lat_prop + lat_tx + lat_queue + lat_proc
        total = np.where(served, total, np.inf)
        reason = np.where(
            served,
            "",
            np.where(
                acc_f == 0,
                "no access",
                np.where(np.isfinite(flow_lat).any(axis=1), "capacity", "no path"),
            ),
        )

        # ---- energy and carbon ----------------------------------------------------------
        h = tl.step_s / 3600.0
        fibre = (state.links.medium_code == 0) & state.usable(True)
        lightpaths = np.where(
            fibre, np.maximum(1.0, np.ceil(link_bits / eq.transceiver_rate_bps)), 0.0
        )
        optical_w = (
            float(np.sum(state.links.power_w[fibre]))
            + float(np.sum(lightpaths)) * 2.0 * eq.transceiver_power_w
            + float(
                np.sum(
                    np.asarray(state.nodes.extra["power_w"])[: twin.backbone.node_name.size][
                        state.nodes.up[: twin.backbone.node_name.size]
                    ]
                )
            )
        )
        # DCI lightpaths (transceivers and line share) and the WDM fronthaul of the sites
        # that are up, both planned once by the adapters at build.
        ran_on = np.where(co_up, 1.0 - share_down, 0.0)
        optical_w += twin.dci.optical_power_w + float(
            np.sum(twin.fronthaul.wavelengths * ran_on) * 2.0 * eq.transceiver_power_w
        )
        # Cells with power draw their idle power plus load; cells down draw nothing.
        ran_w = _ran_power_w(sc, twin.ran.sites * ran_on, np.minimum(ran_load, 1.0), tl.step_s)
        gw_up = (
            state.nodes.up[twin.idx_gateway] if twin.idx_gateway.size else np.zeros(0, dtype=bool)
        )
        ntn_w = float(np.sum(gw_up)) * sc.ntn.gateway_power_w
        requests = flow_rps * tl.step_s
        compute_kwh_site = np.bincount(
            site_of[served],
            weights=(requests * energy_wh[flow_k])[served]
            / 1000.0
            * twin.site_pue[site_of[served]],
            minlength=n_s,
        )
        e_opt = optical_w * h / 1000.0
        e_ran = float(np.sum(ran_w)) * h / 1000.0
        e_ntn = ntn_w * h / 1000.0
        e_cmp = float(np.sum(compute_kwh_site))
        co2 = (
            float(carbon_kg(e_opt + e_ntn, twin.network_carbon_g_per_kwh))
            + float(np.sum(carbon_kg(ran_w * h / 1000.0, twin.demand_carbon_g_per_kwh)))
            + float(np.sum(carbon_kg(compute_kwh_site, twin.site_carbon_g_per_kwh)))
        )

        site_names = np.array([s.name for s in sc.compute.sites])
        flows_tables.append(
            pa.table(
                {
                    "step": np.full(flow_rps.size, step, dtype=np.int64),
                    "time_s": np.full(flow_rps.size, t),
                    "demand": twin.demand.name[flow_p],
                    "prefecture": twin.demand.prefecture[flow_p],
                    "region": twin.demand.region[flow_p],
                    "lat_deg": twin.demand.lat_deg[flow_p],
                    "lon_deg": twin.demand.lon_deg[flow_p],
                    "population": twin.demand.population[flow_p] * row_w[flow_r],
                    "population_share": row_w[flow_r],
                    "service": np.array([k.name for k in svc])[flow_k],
                    kc.DEMAND_RPS.name: flow_rps,
                    "access": ACCESS[acc_f],
                    "site": np.where(served, site_names[site_of], ""),
                    "latency_propagation_ms": np.where(served, lat_prop * 1e3, np.nan),
                    "latency_transmission_ms": np.where(served, lat_tx * 1e3, np.nan),
                    "latency_queueing_ms": np.where(served, lat_queue * 1e3, np.nan),
                    "latency_processing_ms": np.where(served, lat_proc * 1e3, np.nan),
                    "latency_total_ms": np.where(served, total * 1e3, np.nan),
                    "sla_ms": sla_s[flow_k] * 1e3,
                    "sla_met": served & (total <= sla_s[flow_k]),
                    "hops": hops,
                    "reject_reason": reason,
                }
            )
        )
        if n_sat:
            la, lo, al = ecef_to_geodetic(sat_ecef[:, 0], sat_ecef[:, 1], sat_ecef[:, 2])
            sat_tables.append(
                pa.table(
                    {
                        "step": np.full(n_sat, step, dtype=np.int64),
                        "time_s": np.full(n_sat, t),
                        "constellation": sat_owner,
                        "sat_id": np.arange(n_sat, dtype=np.int64),
                        "lat_deg": la,
                        "lon_deg": lo,
                        "alt_m": al,
                    }
                )
            )
        records.append(
            StepRecord(
                step=step,
                time_s=float(t),
                hour_local=float(hour),
                energy_optical_kwh=e_opt,
                energy_ran_kwh=e_ran,
                energy_ntn_kwh=e_ntn,
                energy_compute_kwh=e_cmp,
                carbon_kg=co2,
                satellites_visible=visible,
                links_down=int(np.count_nonzero(~state.usable(True))),
                nodes_down=int(np.count_nonzero(~state.nodes.up)),
                max_link_utilisation=float(
                    np.max(link_bits / state.links.capacity_bps, initial=0.0)
                ),
                n_nodes=n_nodes,
            )
        )
        if progress is not None:
            progress(step + 1, times.size)
    runtime = time.perf_counter() - wall0
    log.info("ran %d steps in %.2f s", times.size, runtime)

    # ---- run-level tables: restoration by area and the events as resolved ----------------
    result = summarise(
        twin,
        records,
        flows_tables,
        sat_tables,
        runtime,
        events=events.table(),
        event_start_s=events.first_start_s,
        seed=events.seed,
    )
    # ---- run-level domain tables: APN lightpaths, LEO RTT series and ground tracks --------
    lightpaths = pa.Table.from_pydict(twin.dci.columns, schema=LIGHTPATHS_SCHEMA)
    rtt, rtt_kpis = _ntn_rtt_table(twin)
    tracks = _ntn_tracks_table(twin)
    fh = twin.fronthaul
    kpis = dict(result.summary["kpis"])
    kpis.update(twin.dci.kpis())
    kpis.update(rtt_kpis)
    kpis.update(
        {
            kc.FRONTHAUL_SITE_GBPS.name: fh.site_bps / 1e9,
            kc.FRONTHAUL_TOTAL_TBPS.name: float(np.sum(fh.demand_bps)) / 1e12,
            kc.FRONTHAUL_REACH_KM.name: fh.reach_km,
            kc.FRONTHAUL_SITES_WITHIN_BUDGET_SHARE.name: fh.share_within_budget,
            kc.FRONTHAUL_WAVELENGTHS.name: float(np.sum(fh.wavelengths)),
        }
    )
    summary = dict(result.summary)
    summary["kpis"] = finite_or_none(kpis)
    return dataclasses.replace(
        result, summary=summary, lightpaths=lightpaths, ntn_rtt=rtt, ntn_tracks=tracks
    )


#: Ground tracks for the report's map: this long a window at this step from the run's start.
_TRACK_WINDOW_S = 1800.0
_TRACK_STEP_S = 60.0


def _ran_power_w(sc: Scenario, sites_on: FloatArray, load: FloatArray, step_s: float) -> FloatArray:
    """Power (W) of the RAN sites that are on, per demand point, by the scenario's model."""
    ran = sc.ran
    if ran.energy_model == "linear":
        return np.asarray(
            sites_on * (ran.site_power_w + ran.site_power_per_load_w * load), dtype=np.float64
        )
    cells = sites_on * ran.sectors_per_site
    energy = fleet_energy_by_state_j(
        cells, load, step_s, model=ran.energy_model, sectors_per_site=ran.sectors_per_site
    )
    return np.asarray(energy["total"] / step_s, dtype=np.float64)


def _ntn_rtt_table(twin: Twin) -> tuple[pa.Table, dict[str, float]]:
    """RTT over the LEO ISL mesh between the scenario's place pairs through the run."""
    sc = twin.scenario
    ntn = sc.ntn
    if not ntn.rtt_pairs or not ntn.constellations:
        return NTN_RTT_SCHEMA.empty_table(), {}
    tl = sc.timeline
    step = min(ntn.rtt_step_s, tl.step_s)
    times = np.arange(0.0, tl.duration_s, step)
    sat, _ = twin.satellites_ecef(times)
    shells = [
        Shell(
            c.name,
            c.planes,
            c.sats_per_plane,
            c.phasing,
            c.altitude_km * 1e3,
            c.inclination_deg,
            c.pattern,
        )
        for c in ntn.constellations
    ]
    series = walker_rtt_series(
        shells,
        [(a, b) for a, b in ntn.rtt_pairs],
        times,
        sat_ecef_m=sat,
        min_elevation_deg=min(c.min_elevation_deg for c in ntn.constellations),
        isl_pattern=ntn.isl_pattern,
        max_isl_range_m=(ntn.isl_max_range_km or np.inf) * 1e3,
        min_grazing_altitude_m=ntn.isl_min_grazing_km * 1e3,
    )
    n_t, n_p = series.rtt_s.shape
    changed = np.zeros((n_t, n_p), dtype=bool)
    if n_t > 1:
        # The satellite sequence of a route changed since the previous step.
        changed[1:] = np.any(series.paths[1:] != series.paths[:-1], axis=-1)
    labels = np.array([f"{a} → {b}" for a, b in series.pairs])
    rtt_ms = series.rtt_s * 1e3
    table = pa.table(
        {
            "time_s": np.repeat(series.time_s, n_p),
            "pair": np.tile(labels, n_t),
            "rtt_ms": np.where(np.isfinite(rtt_ms), rtt_ms, np.nan).ravel(),
            "hops": series.hops.astype(np.int64).ravel(),
            "path_change": changed.ravel(),
        },
        schema=NTN_RTT_SCHEMA,
    )
    ok = np.isfinite(rtt_ms)
    kpis = {
        kc.NTN_RTT_P50_MS.name: float(np.median(rtt_ms[ok])) if ok.any() else float("nan"),
        kc.NTN_RTT_MAX_MS.name: float(np.max(rtt_ms[ok])) if ok.any() else float("nan"),
        kc.NTN_RTT_PATH_CHANGES.name: float(np.sum(series.path_changes)),
        kc.NTN_RTT_OUTAGE_SHARE.name: float(1.0 - ok.mean()),
    }
    return table, kpis


def _ntn_tracks_table(twin: Twin) -> pa.Table:
    """Sub-satellite points every minute over the first half hour, for the map's tracks."""
    sc = twin.scenario
    if not sc.ntn.constellations:
        return NTN_TRACKS_SCHEMA.empty_table()
    window = min(_TRACK_WINDOW_S, sc.timeline.duration_s)
    times = np.arange(0.0, window + 1e-9, _TRACK_STEP_S)
    sat, owner = twin.satellites_ecef(times)
    n_t, n_sat = sat.shape[:2]
    lat, lon, alt = ecef_to_geodetic(sat[..., 0], sat[..., 1], sat[..., 2])
    return pa.table(
        {
            "time_s": np.repeat(times, n_sat),
            "sat_id": np.tile(np.arange(n_sat, dtype=np.int64), n_t),
            "constellation": np.tile(np.asarray(owner).astype(str), n_t),
            "lat_deg": np.asarray(lat).ravel(),
            "lon_deg": np.asarray(lon).ravel(),
            "alt_m": np.asarray(alt).ravel(),
        },
        schema=NTN_TRACKS_SCHEMA,
    )
