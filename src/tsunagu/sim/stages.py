"""The engine's stages: each step of a run is ``state → events → access → demand → route →
measure``, each a named function ``stage(run, step)`` that reads and fills the step's
:class:`Step`.

A stage is replaced by name or by callable (``run_twin(twin, stages={"demand": my_demand})``)
in the manner of pvlib's ``ModelChain``: the rest of the chain reads only the fields the
replaced stage fills (documented on :class:`Step`). :data:`STAGES` is the default chain.

Models and their stated assumptions:

* **Shared access resources** (RAN cell clusters, HAPS platforms' beams, LEO satellites'
  beams; :mod:`tsunagu.sim.access`): the offered load on a resource is the AI bits of its
  rows plus the background traffic of their people; where it exceeds the resource's capacity
  times ``access_max_utilisation`` the people above that are *blocked* (admission at
  the people level), each blocked row naming the resource. Transfers on a resource see an
  M/G/1 processor-sharing delay ``b / (C (1 − ρ))`` (:func:`tsunagu.ran.domain.ps_transfer_time_s`).
* **Links**: each link's load is the sum of the carried flows' bits on its shortest path
  (:func:`tsunagu.net.paths.walk`); its queueing delay is M/M/1 per packet,
  ``W = (L / C) · ρ / (1 − ρ)`` with packets of ``PACKET_BITS``, and a link at ``ρ ≥ 1`` is
  reported as overloaded in ``link_loads``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tsunagu.compute.models import carbon_kg, mmc_mean_wait_s
from tsunagu.errors import ScenarioError
from tsunagu.geo import ecef_to_geodetic
from tsunagu.net.paths import Walks, shortest_paths, walk
from tsunagu.net.tables import NetworkState
from tsunagu.orchestrate.policy import AllocationProblem, Policy
from tsunagu.ran.domain import ps_transfer_time_s
from tsunagu.ran.energy import fleet_energy_by_state_j
from tsunagu.scenario.schema import Scenario
from tsunagu.sim import catalogue as kc
from tsunagu.sim.access import AccessContext, AccessLayer, AccessRows, LeoLayer, cascade
from tsunagu.sim.demand import offered_rps, profile_weight
from tsunagu.sim.events import EventSchedule
from tsunagu.sim.kpis import StepRecord
from tsunagu.sim.twin import Twin

__all__ = [
    "LINK_LOADS_SCHEMA",
    "PACKET_BITS",
    "STAGES",
    "RunSetup",
    "Stage",
    "Step",
    "resolve_stages",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Mean packet size of the M/M/1 link queue: 1,500-byte Ethernet MTU frames (an upper bound on
#: the mean, so the queueing delay is not understated).
PACKET_BITS = 1500.0 * 8.0

#: Columns of ``link_loads.parquet``: every link's capacity, load and queueing per step.
LINK_LOADS_SCHEMA = pa.schema(
    [
        ("step", pa.int32()),
        ("time_s", pa.float64()),
        ("link", pa.int32()),
        ("src", pa.string()),
        ("dst", pa.string()),
        ("domain", pa.string()),
        ("resource", pa.string()),
        ("capacity_bps", pa.float64()),
        ("load_bps", pa.float64()),
        ("utilisation", pa.float64()),
        ("queue_delay_s", pa.float64()),
    ]
)


@dataclass
class RunSetup:
    """What every step shares: the twin, the policy, the events and per-service arrays."""

    twin: Twin
    policy: Policy
    events: EventSchedule
    layers: tuple[AccessLayer, ...]
    adoption: FloatArray
    per_day: FloatArray
    req_bits: FloatArray
    resp_bits: FloatArray
    processing_s: FloatArray
    sla_s: FloatArray
    energy_wh: FloatArray
    site_price: FloatArray | None
    site_names: npt.NDArray[np.str_]
    service_names: npt.NDArray[np.str_]
    link_resource: npt.NDArray[np.str_]

    @property
    def bits(self) -> FloatArray:
        return self.req_bits + self.resp_bits

    @classmethod
    def build(
        cls, twin: Twin, policy: Policy, events: EventSchedule, layers: tuple[AccessLayer, ...]
    ) -> RunSetup:
        sc = twin.scenario
        svc = sc.services
        prices = [s.cost_per_gpu_hour for s in sc.compute.sites]
        links = twin.static.links
        kind = np.asarray(links.extra.get("kind", np.full(len(links), "")), dtype=str)
        medium = np.asarray(links.medium, dtype=str)
        resource = np.where(
            medium == "fibre",
            "fibre",
            np.where(np.char.find(kind, "feeder") >= 0, "feeder", medium),
        )
        return cls(
            twin=twin,
            policy=policy,
            events=events,
            layers=layers,
            adoption=np.array([k.adoption for k in svc]),
            per_day=np.array([k.requests_per_user_per_day for k in svc]),
            req_bits=np.array([k.request_bytes * 8.0 for k in svc]),
            resp_bits=np.array([k.response_bytes * 8.0 for k in svc]),
            processing_s=np.array([k.processing_s for k in svc]),
            sla_s=np.array([k.sla_latency_ms / 1e3 for k in svc]),
            energy_wh=np.array([k.energy_wh_per_request for k in svc]),
            site_price=np.array(prices, dtype=np.float64) if None not in prices else None,
            site_names=np.array([s.name for s in sc.compute.sites]),
            service_names=np.array([k.name for k in svc]),
            link_resource=np.asarray(resource, dtype=str),
        )


@dataclass
class Step:
    """One step's data, filled stage by stage.

    ``state`` fills ``sat_ecef_m``, ``sat_owner`` and ``network``; ``events`` applies the
    failures to ``network`` and fills ``ran_share_down``, ``ntn_blocked`` and ``surge``;
    ``access`` fills ``dist``/``pred`` (from every compute site), ``reachable``, ``site_up``
    and ``rows``; ``demand`` fills the flow arrays (``flow_*``), ``blocked`` and
    ``access_load``; ``route`` fills ``choice``, ``walks`` and the latency split; ``measure``
    fills ``flows``, ``satellites``, ``link_loads`` and ``record``.
    """

    step: int
    time_s: float
    hour_local: float
    sat_ecef_m: FloatArray = field(default_factory=lambda: np.zeros((0, 3)))
    sat_owner: npt.NDArray[np.str_] = field(default_factory=lambda: np.zeros(0, dtype=str))
    network: NetworkState | None = None
    ran_share_down: FloatArray = field(default_factory=lambda: np.zeros(0))
    ntn_blocked: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    surge: FloatArray = field(default_factory=lambda: np.zeros(0))
    dist: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    pred: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    reachable: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    site_up: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    rows: AccessRows | None = None
    visible: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    flows: pa.Table | None = None
    satellites: pa.Table | None = None
    link_loads: pa.Table | None = None
    record: StepRecord | None = None


Stage = Callable[[RunSetup, Step], None]


def _network(s: Step) -> NetworkState:
    if s.network is None:
        raise ScenarioError("the state stage must fill step.network before the later stages")
    return s.network


def _filled(s: Step) -> tuple[AccessRows, NetworkState]:
    if s.rows is None:
        raise ScenarioError("the access stage must fill step.rows before demand, route, measure")
    return s.rows, _network(s)


# --------------------------------------------------------------------------------------------
# state


def state_stage(run: RunSetup, s: Step) -> None:
    """Satellite positions at this step only (streamed, never all steps at once) and the
    network state: the static layers plus the satellites and their gateway feeder links."""
    sat, owner = run.twin.satellites_ecef(s.time_s)
    s.sat_ecef_m, s.sat_owner = sat[0], owner
    s.network = run.twin.state(s.time_s, s.sat_ecef_m)


def events_stage(run: RunSetup, s: Step) -> None:
    """The step's failures on the state, and the RAN, NTN and demand-surge factors."""
    s.network = run.events.apply(_network(s), s.time_s)
    s.ran_share_down = run.events.ran_share_down(s.time_s)
    s.ntn_blocked = run.events.ntn_blocked(s.time_s)
    s.surge = run.events.surge(s.time_s)


def access_stage(run: RunSetup, s: Step) -> None:
    """Shortest paths from every compute site that is up, then the access layers' cascade."""
    network = _network(s)
    twin = run.twin
    s.dist, s.pred = shortest_paths(network, twin.idx_site, weight="latency_s")
    s.site_up = np.asarray(network.nodes.up[twin.idx_site], dtype=bool)
    s.dist[~s.site_up, :] = np.inf
    s.reachable = np.asarray(np.isfinite(s.dist).any(axis=0), dtype=bool)
    n_p = twin.demand.name.size
    ctx = AccessContext(
        time_s=s.time_s,
        state=network,
        reachable=s.reachable,
        sat_ecef_m=s.sat_ecef_m,
        sat_owner=s.sat_owner,
        ran_share_down=s.ran_share_down,
        ntn_blocked=s.ntn_blocked,
        pending=np.ones(n_p, dtype=bool),
    )
    s.rows = cascade(run.layers, ctx, twin.idx_demand)
    s.visible = sum(layer.visible(ctx) for layer in run.layers if isinstance(layer, LeoLayer))


# --------------------------------------------------------------------------------------------
# demand


def demand_stage(run: RunSetup, s: Step) -> None:
    """Offered AI requests per point and service, the load on each shared access resource,
    admission where a resource is over its capacity, and the access transfer delays."""
    rows, _ = _filled(s)
    twin = run.twin
    sc = twin.scenario
    n_k = run.adoption.size
    weights = np.array([profile_weight(k.profile, s.hour_local) for k in sc.services]).ravel()
    rps = offered_rps(twin.demand.population, run.adoption, run.per_day, weights)  # (P, K)
    rps = rps * s.surge[:, None]
    people = twin.demand.population[rows.point] * rows.weight
    # Offered bits per second of each row: its AI requests and its people's background.
    ai_bps = (rps[rows.point] * rows.weight[:, None] * run.bits[None, :]).sum(axis=1)
    bg_bps = people * sc.ran.background_bps_per_person * float(weights.mean())
    row_bps = ai_bps + bg_bps
    # One key per (access layer, resource); rows without a resource share nothing.
    key = np.where(rows.resource >= 0, rows.access * (1 << 40) + rows.resource, -1)
    has = key >= 0
    uniq, inv = np.unique(key[has], return_inverse=True)
    offered = np.bincount(inv, weights=row_bps[has], minlength=uniq.size)
    cap = np.zeros(uniq.size)
    cap[inv] = rows.shared_capacity_bps[has]
    rho_max = sc.capacity.access_max_utilisation
    admit_r = np.ones(uniq.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        over = offered > rho_max * cap
        admit_r[over] = np.where(offered[over] > 0, rho_max * cap[over] / offered[over], 1.0)
    admit = np.ones(rows.point.size)
    admit[has] = admit_r[inv]
    load = np.zeros(rows.point.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(cap > 0, np.minimum(offered, rho_max * cap) / cap, 0.0)
    rho = np.where(np.isfinite(cap), rho, 0.0)
    load[has] = rho[inv]
    # Split each row over-capacity into its admitted and blocked people.
    blocked_row = admit < 1.0
    base = np.concatenate([np.arange(rows.point.size), np.flatnonzero(blocked_row)])
    part = np.concatenate([admit, (1.0 - admit)[blocked_row]])
    is_blocked = np.concatenate([np.zeros(rows.point.size, bool), np.ones(blocked_row.sum(), bool)])
    order = np.argsort(rows.point[base], kind="stable")
    base, part, is_blocked = base[order], part[order], is_blocked[order]
    keep = part > 0
    base, part, is_blocked = base[keep], part[keep], is_blocked[keep]
    n_r = base.size
    flow_r = np.repeat(np.arange(n_r), n_k)
    flow_k = np.tile(np.arange(n_k), n_r)
    rb = base[flow_r]
    flow_p = rows.point[rb]
    w_row = rows.weight[base] * part
    flow_rps = (rps[rows.point[base]] * w_row[:, None]).ravel()
    bits = run.bits[flow_k]
    rate = rows.rate_bps[rb]
    cap_rate = np.where(rate > 0, rate, np.inf)  # rows without access: no transfer
    total_tx = ps_transfer_time_s(bits, cap_rate, load[rb])
    tx = bits / cap_rate
    eq = sc.optical.equipment
    s.data.update(
        rps=rps,
        row_base=base,
        row_weight=w_row,
        row_blocked=is_blocked,
        flow_r=flow_r,
        flow_k=flow_k,
        flow_p=flow_p,
        flow_rb=rb,
        flow_rps=flow_rps,
        flow_blocked=is_blocked[flow_r],
        access_tx_s=tx + 2.0 * bits / eq.transceiver_rate_bps,
        access_queue_s=np.where(np.isfinite(total_tx), total_tx - tx, np.inf),
        resource_key=uniq,
        resource_offered_bps=offered,
        resource_capacity_bps=cap,
        point_load=load,
        weights=weights,
    )


# --------------------------------------------------------------------------------------------
# route and allocate


def route_stage(run: RunSetup, s: Step) -> None:
    """Place every admitted flow on a site (the policy), walk its path and load the links."""
    rows, state = _filled(s)
    twin = run.twin
    sc = twin.scenario
    d = s.data
    rb, flow_k, flow_rps = d["flow_rb"], d["flow_k"], d["flow_rps"]
    access = rows.access[rb]
    node = rows.node[rb]
    one_way = rows.one_way_s[rb][:, None] + rows.equipment_s[rb][:, None] + s.dist[:, node].T
    flow_lat = (
        2.0 * one_way
        + d["access_tx_s"][:, None]
        + d["access_queue_s"][:, None]
        + run.processing_s[flow_k][:, None]
    )
    flow_lat = np.where((access[:, None] == 0) | d["flow_blocked"][:, None], np.inf, flow_lat)
    problem = AllocationProblem(
        latency_s=flow_lat,
        load_gpu=(flow_rps[:, None] * twin.gpu_s[flow_k]).max(axis=1),
        capacity_gpu=twin.site_gpus * sc.compute.max_utilisation * s.site_up,
        sla_s=run.sla_s[flow_k],
        carbon_g_per_request=run.energy_wh[flow_k][:, None]
        / 1000.0
        * twin.site_pue[None, :]
        * twin.site_carbon_g_per_kwh[None, :],
        energy_wh_per_request=run.energy_wh[flow_k][:, None] * twin.site_pue[None, :],
        cost_per_request=twin.gpu_s[flow_k] / 3600.0 * run.site_price[None, :]
        if run.site_price is not None
        else None,
    )
    choice = run.policy.allocate(problem)
    served = choice >= 0
    site_of = np.maximum(choice, 0)
    lookup = state.link_lookup("latency_s")
    walks: Walks = walk(s.pred, twin.idx_site, node[served], rows=site_of[served], lookup=lookup)
    links = state.links
    n_links = len(links)
    link_bps = walks.load(flow_rps[served] * run.bits[flow_k[served]], n_links)
    cap = np.asarray(links.capacity_bps, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, link_bps / cap, 0.0)
        queue = np.where(
            util < 1.0, (PACKET_BITS / cap) * util / np.maximum(1.0 - util, 1e-300), np.inf
        )
    queue = np.where(link_bps > 0, queue, 0.0)
    prop = np.zeros(flow_rps.size)
    equip = np.zeros(flow_rps.size)
    lq = np.zeros(flow_rps.size)
    hops = np.zeros(flow_rps.size, dtype=np.int64)
    prop[served] = walks.sum(links.propagation_s)
    equip[served] = walks.sum(links.latency_s) - prop[served]
    lq[served] = walks.sum(queue)
    hops[served] = walks.n_hops
    reason = np.where(
        served,
        "",
        np.where(
            access == 0,
            "no access",
            np.where(
                d["flow_blocked"],
                "capacity: " + rows.labels[rb] + " " + _resource_name(run, rows, rb),
                np.where(np.isfinite(flow_lat).any(axis=1), "capacity: gpu", "no path"),
            ),
        ),
    )
    d.update(
        choice=choice,
        served=served,
        site_of=site_of,
        prop_s=prop,
        equip_s=equip,
        link_queue_s=lq,
        hops=hops,
        reason=reason,
        link_bps=link_bps,
        link_util=util,
        link_queue_delay_s=queue,
    )


def _resource_name(run: RunSetup, rows: AccessRows, rb: IntArray) -> npt.NDArray[np.str_]:
    """A readable name of each row's shared access resource (point, platform or satellite)."""
    twin = run.twin
    names = np.asarray(rows.labels[rb], dtype=str)
    res = rows.resource[rb]
    out = np.full(rb.size, "", dtype=object)
    ran = names == "ran"
    out[ran] = "cells of " + twin.demand.name[rows.point[rb][ran]].astype(object)
    haps = names == "haps"
    if haps.any() and twin.idx_haps.size:
        hn = np.array([h.name for h in twin.scenario.ntn.haps], dtype=object)
        out[haps] = "beams of " + hn[np.maximum(res[haps], 0)]
    other = ~(ran | haps)
    out[other] = "beam " + res[other].astype(str).astype(object)
    return np.asarray(out.astype(str))


# --------------------------------------------------------------------------------------------
# measure


def measure_stage(run: RunSetup, s: Step) -> None:
    """Latency split, compute queueing, energy and carbon; the step's tables and record."""
    rows, state = _filled(s)
    twin = run.twin
    sc = twin.scenario
    tl = sc.timeline
    eq = sc.optical.equipment
    d = s.data
    n_s = twin.site_gpus.size
    served, site_of = d["served"], d["site_of"]
    flow_k, flow_rps, rb, flow_p = d["flow_k"], d["flow_rps"], d["flow_rb"], d["flow_p"]
    site_rps = np.bincount(site_of[served], weights=flow_rps[served], minlength=n_s)
    site_gpu_s = np.bincount(
        site_of[served], weights=(flow_rps * twin.gpu_s[flow_k, site_of])[served], minlength=n_s
    )
    mean_service = np.where(site_rps > 0, site_gpu_s / np.maximum(site_rps, 1e-300), 1.0)
    wait = mmc_mean_wait_s(site_rps, mean_service, twin.site_gpus)
    lat_prop = 2.0 * (rows.one_way_s[rb] + d["prop_s"])
    lat_proc = 2.0 * (rows.equipment_s[rb] + d["equip_s"]) + run.processing_s[flow_k]
    lat_queue = d["access_queue_s"] + wait[site_of] + 2.0 * d["link_queue_s"]
    lat_tx = d["access_tx_s"]
    total = np.where(served, lat_prop + lat_tx + lat_queue + lat_proc, np.inf)

    # ---- energy and carbon ------------------------------------------------------------------
    h = tl.step_s / 3600.0
    links = state.links
    link_bps = d["link_bps"]
    fibre = (np.asarray(links.medium) == "fibre") & state.usable(True)
    lightpaths = np.where(fibre, np.maximum(1.0, np.ceil(link_bps / eq.transceiver_rate_bps)), 0.0)
    node_power = np.asarray(state.nodes.extra["power_w"], dtype=np.float64)
    optical_node = np.asarray(state.nodes.domain) == "optical"
    optical_w = (
        float(np.sum(np.asarray(links.power_w)[fibre]))
        + float(np.sum(lightpaths)) * 2.0 * eq.transceiver_power_w
        + float(np.sum(node_power[optical_node & np.asarray(state.nodes.up)]))
    )
    co_up = state.nodes.up[twin.idx_demand]
    ran_on = np.where(co_up, 1.0 - s.ran_share_down, 0.0)
    optical_w += twin.dci.optical_power_w + float(
        np.sum(twin.fronthaul.wavelengths * ran_on) * 2.0 * eq.transceiver_power_w
    )
    ran_rows = rows.labels == "ran"
    ran_load = np.zeros(twin.demand.name.size)
    ran_load[rows.point[ran_rows]] = d["point_load"][ran_rows]
    ran_w = _ran_power_w(sc, twin.ran.sites * ran_on, np.minimum(ran_load, 1.0), tl.step_s)
    gw_up = state.nodes.up[twin.idx_gateway] if twin.idx_gateway.size else np.zeros(0, bool)
    ntn_w = float(np.sum(gw_up)) * sc.ntn.gateway_power_w
    requests = flow_rps * tl.step_s
    compute_kwh_site = np.bincount(
        site_of[served],
        weights=(requests * run.energy_wh[flow_k])[served]
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

    n_f = flow_rps.size
    row_w = d["row_weight"][d["flow_r"]]
    s.flows = pa.table(
        {
            "step": np.full(n_f, s.step, dtype=np.int64),
            "time_s": np.full(n_f, s.time_s),
            "demand": twin.demand.name[flow_p],
            "prefecture": twin.demand.prefecture[flow_p],
            "region": twin.demand.region[flow_p],
            "lat_deg": twin.demand.lat_deg[flow_p],
            "lon_deg": twin.demand.lon_deg[flow_p],
            "population": twin.demand.population[flow_p] * row_w,
            "population_share": row_w,
            "service": run.service_names[flow_k],
            kc.DEMAND_RPS.name: flow_rps,
            "access": rows.labels[rb],
            "site": np.where(served, run.site_names[site_of], ""),
            "latency_propagation_ms": np.where(served, lat_prop * 1e3, np.nan),
            "latency_transmission_ms": np.where(served, lat_tx * 1e3, np.nan),
            "latency_queueing_ms": np.where(served, lat_queue * 1e3, np.nan),
            "latency_processing_ms": np.where(served, lat_proc * 1e3, np.nan),
            "latency_total_ms": np.where(served, total * 1e3, np.nan),
            "sla_ms": run.sla_s[flow_k] * 1e3,
            "sla_met": served & (total <= run.sla_s[flow_k]),
            "hops": d["hops"],
            "reject_reason": d["reason"],
        }
    )
    n_sat = s.sat_ecef_m.shape[0]
    if n_sat:
        la, lo, al = ecef_to_geodetic(s.sat_ecef_m[:, 0], s.sat_ecef_m[:, 1], s.sat_ecef_m[:, 2])
        s.satellites = pa.table(
            {
                "step": np.full(n_sat, s.step, dtype=np.int64),
                "time_s": np.full(n_sat, s.time_s),
                "constellation": s.sat_owner,
                "sat_id": np.arange(n_sat, dtype=np.int64),
                "lat_deg": la,
                "lon_deg": lo,
                "alt_m": al,
            }
        )
    s.link_loads = _link_loads(run, s)
    cap = np.asarray(links.capacity_bps, dtype=np.float64)
    s.record = StepRecord(
        step=s.step,
        time_s=s.time_s,
        hour_local=s.hour_local,
        energy_optical_kwh=e_opt,
        energy_ran_kwh=e_ran,
        energy_ntn_kwh=e_ntn,
        energy_compute_kwh=e_cmp,
        carbon_kg=co2,
        satellites_visible=s.visible,
        links_down=int(np.count_nonzero(~state.usable(True))),
        nodes_down=int(np.count_nonzero(~state.nodes.up)),
        max_link_utilisation=_max_utilisation(link_bps, cap),
        n_nodes=state.n_nodes,
    )


def _max_utilisation(load_bps: FloatArray, capacity_bps: FloatArray) -> float:
    """Highest load / capacity; a loaded link without capacity (no transceiver mode closes
    its QoT) counts as infinitely loaded, an idle one as 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(
            capacity_bps > 0, load_bps / capacity_bps, np.where(load_bps > 0, np.inf, 0.0)
        )
    return float(np.max(util, initial=0.0))


def _link_loads(run: RunSetup, s: Step) -> pa.Table:
    """The step's ``link_loads`` rows: every static link (satellite feeders are per step)."""
    network = _network(s)
    twin = run.twin
    n = len(twin.static.links)
    links = network.links
    names = network.nodes.name
    d = s.data
    return pa.table(
        {
            "step": np.full(n, s.step, dtype=np.int32),
            "time_s": np.full(n, s.time_s),
            "link": np.arange(n, dtype=np.int32),
            "src": np.asarray(names)[np.asarray(links.src)[:n]],
            "dst": np.asarray(names)[np.asarray(links.dst)[:n]],
            "domain": np.asarray(links.domain)[:n],
            "resource": run.link_resource,
            "capacity_bps": np.asarray(links.capacity_bps, dtype=np.float64)[:n],
            "load_bps": d["link_bps"][:n],
            "utilisation": d["link_util"][:n],
            "queue_delay_s": d["link_queue_delay_s"][:n],
        },
        schema=LINK_LOADS_SCHEMA,
    )


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


#: The default chain, in order.
STAGES: tuple[tuple[str, Stage], ...] = (
    ("state", state_stage),
    ("events", events_stage),
    ("access", access_stage),
    ("demand", demand_stage),
    ("route", route_stage),
    ("measure", measure_stage),
)

#: Alternative stage implementations by (stage, name), selectable by name.
_NAMED: dict[tuple[str, str], Stage] = {(n, "default"): f for n, f in STAGES}


def register_stage(stage: str, name: str, fn: Stage) -> None:
    """Register ``fn`` as implementation ``name`` of ``stage`` (selectable by name)."""
    if stage not in dict(STAGES):
        raise ScenarioError(f"unknown stage {stage!r}; stages: {[n for n, _ in STAGES]}")
    _NAMED[(stage, name)] = fn


def resolve_stages(overrides: Mapping[str, str | Stage] | None) -> tuple[tuple[str, Stage], ...]:
    """The chain with ``overrides`` (stage → implementation name or callable) applied."""
    chain = dict(STAGES)
    for stage, impl in (overrides or {}).items():
        if stage not in chain:
            raise ScenarioError(f"unknown stage {stage!r}; stages: {list(chain)}")
        if isinstance(impl, str):
            if (stage, impl) not in _NAMED:
                known = sorted(n for s, n in _NAMED if s == stage)
                raise ScenarioError(f"no {stage} stage named {impl!r}; known: {known}")
            chain[stage] = _NAMED[(stage, impl)]
        elif callable(impl):
            chain[stage] = impl
        else:
            raise ScenarioError(f"stage {stage!r} must be a name or a callable, got {impl!r}")
    return tuple(chain.items())
