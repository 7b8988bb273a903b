"""The engine's stages: each step of a run is ``state → events → access → demand → route →
measure``, each a named function ``stage(run, step)`` that reads and fills the step's
:class:`Step`.

A stage is replaced by name or by callable (``run_twin(twin, stages={"demand": my_demand})``)
in the manner of pvlib's ``ModelChain``: the rest of the chain reads only the fields the
replaced stage fills (documented on :class:`Step`). :data:`STAGES` is the default chain.

Models and their stated assumptions:

* **Shared access resources** (RAN cell clusters, HAPS platforms' beams, LEO satellites'
  beams; :mod:`tsunagu.sim.access`): the offered load on a resource is the AI bits of the
  people offered to it plus their mobile traffic; where it exceeds the resource's capacity
  times ``access_max_utilisation`` each point's people on it are admitted in proportion
  (admission at the people level) and the rest *spill over* to the later access layers,
  which admit them within their own capacities; what none admits is blocked, the row naming
  the last full resource that refused it. Transfers on a resource see an M/G/1
  processor-sharing delay ``b / (C (1 − ρ))`` (:func:`tsunagu.ran.domain.ps_transfer_time_s`).
* **Fixed access** (:mod:`tsunagu.sim.fixed_access`): FTTH's share of each point's fixed
  traffic rides its PON trees (⌈subscribers / split⌉ of the scenario's technology); each
  direction is admitted up to ``access_max_utilisation`` of the trees' capacity and the rest
  is blocked, named ``capacity: pon trees of <point>``.
* **National traffic** (:mod:`tsunagu.sim.background`): MIC's fixed and mobile volumes for
  the scenario year with the diurnal profile, per person; mobile rides the access rows (and
  loads their cells and beams), fixed enters at each point's central office (FTTH's share
  within its PON trees' capacity); both go to and
  from the section's destinations (Tokyo, Osaka, the data centres).
* **Links**: every full-duplex link is two directed arcs with the link's capacity each. All
  demands of the step — AI requests (access node → site) and responses, fixed and mobile
  traffic — are routed together to a Wardrop equilibrium of M/M/1 link delays
  (``S / (C − x)``, packets of ``PACKET_BITS``) by the method of successive averages, then
  allocated within the arcs' capacities (reduced-load fixed point), so no arc is above its
  capacity and every loss names its binding arc (:func:`tsunagu.net.flow.route_and_allocate`).
  A request is served as far as both its request and its response get through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tsunagu.compute.models import carbon_kg, mmc_mean_wait_s
from tsunagu.errors import ScenarioError
from tsunagu.geo import ecef_to_geodetic
from tsunagu.net.flow import NO_PATH_KIND, route_and_allocate
from tsunagu.net.tables import NetworkState
from tsunagu.orchestrate.policy import AllocationProblem, Policy
from tsunagu.ran.domain import ps_transfer_time_s
from tsunagu.ran.energy import fleet_energy_by_state_j
from tsunagu.scenario.schema import Scenario
from tsunagu.sim import catalogue as kc
from tsunagu.sim import latency
from tsunagu.sim.access import AccessContext, AccessLayer, AccessRows, LeoLayer, cascade
from tsunagu.sim.background import CLASS_NAMES, Background
from tsunagu.sim.demand import offered_rps, profile_weight
from tsunagu.sim.events import EventSchedule
from tsunagu.sim.fixed_access import FixedAccess, FixedAdmission, admit_fixed
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

#: Pass fractions of the step's allocation are iterated until none moves by more than this:
#: a part per million of a link's traffic, far below what the demand data resolve (the
#: allocation's final scaling keeps every link within capacity whatever the residual).
ALLOCATION_TOLERANCE = 1e-6

#: The routing stops once five line-search steps in a row move every path's share by less
#: than this (Frank-Wolfe's zigzag near the equilibrium; tsunagu.net.flow.wardrop_msa).
ROUTING_MIN_STEP = 1e-3

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
        ("load_forward_bps", pa.float64()),
        ("load_reverse_bps", pa.float64()),
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
    background: Background | None
    fixed_access: FixedAccess

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
            background=Background(twin) if sc.traffic.enabled else None,
            fixed_access=FixedAccess.build(
                twin.demand.population,
                sc.fixed_access.technology,
                sc.fixed_access.split,
                sc.fixed_access.subscriptions_per_person,
                sc.fixed_access.traffic_share,
            ),
        )


@dataclass
class Step:
    """One step's data, filled stage by stage.

    ``state`` fills ``sat_ecef_m``, ``sat_owner`` and ``network``; ``events`` applies the
    failures to ``network`` and fills ``ran_share_down``, ``ntn_blocked`` and ``surge``;
    ``access`` fills ``dist``/``pred`` (from every compute site), ``reachable``, ``site_up``
    and ``access_context``; ``demand`` fills ``rows`` (the access cascade with admission),
    the flow arrays (``flow_*``) and the rows' people admitted and blocked; ``route`` fills
    ``choice``, the carried shares, the network latency split,
    the link loads and ``traffic``; ``measure``
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
    access_context: AccessContext | None = None
    rows: AccessRows | None = None
    visible: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    flows: pa.Table | None = None
    satellites: pa.Table | None = None
    link_loads: pa.Table | None = None
    traffic: pa.Table | None = None
    record: StepRecord | None = None


Stage = Callable[[RunSetup, Step], None]


def _network(s: Step) -> NetworkState:
    if s.network is None:
        raise ScenarioError("the state stage must fill step.network before the later stages")
    return s.network


def _filled(s: Step) -> tuple[AccessRows, NetworkState]:
    if s.rows is None:
        raise ScenarioError("the demand stage must fill step.rows before route and measure")
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
    """Shortest paths from every compute site that is up, and what the access layers see
    (their cascade, which needs the offered demand, runs in the demand stage)."""
    network = _network(s)
    twin = run.twin
    s.dist, s.pred = twin.site_distances(network)
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
    s.access_context = ctx
    s.visible = sum(layer.visible(ctx) for layer in run.layers if isinstance(layer, LeoLayer))


# --------------------------------------------------------------------------------------------
# demand


def demand_stage(run: RunSetup, s: Step) -> None:
    """Offered AI requests per point and service, the access layers' cascade with admission
    on their shared resources (people a full resource refuses spill over to the later
    layers; :func:`tsunagu.sim.access.cascade`), and the access transfer delays."""
    if s.access_context is None:
        raise ScenarioError("the access stage must fill step.access_context before demand")
    twin = run.twin
    sc = twin.scenario
    n_k = run.adoption.size
    weights = np.array([profile_weight(k.profile, s.hour_local) for k in sc.services]).ravel()
    rps = offered_rps(twin.demand.population, run.adoption, run.per_day, weights)  # (P, K)
    rps = rps * s.surge[:, None]
    # What all of a point's people offer a shared access resource: their AI requests and
    # their mobile traffic (both directions share the cells' and beams' capacity: TDD, and
    # one capacity per beam).
    per_person = run.background.per_person_bps(s.hour_local) if run.background else {}
    mobile_pp = per_person.get("mobile_down", 0.0) + per_person.get("mobile_up", 0.0)
    point_bps = (rps * run.bits[None, :]).sum(axis=1) + (
        twin.demand.population * s.surge * mobile_pp
    )
    rows = cascade(
        run.layers,
        s.access_context,
        twin.idx_demand,
        demand_bps=point_bps,
        max_utilisation=sc.capacity.access_max_utilisation,
    )
    s.rows = rows
    people = twin.demand.population[rows.point] * rows.weight * s.surge[rows.point]
    carried_row = (rows.access > 0) & ~rows.blocked
    n_r = rows.point.size
    flow_r = np.repeat(np.arange(n_r), n_k)
    flow_k = np.tile(np.arange(n_k), n_r)
    rb = flow_r
    flow_p = rows.point[rb]
    flow_rps = (rps[rows.point] * rows.weight[:, None]).ravel()
    bits = run.bits[flow_k]
    rate = rows.rate_bps[rb]
    cap_rate = np.where(rate > 0, rate, np.inf)  # rows without access: no transfer
    total_tx = ps_transfer_time_s(bits, cap_rate, rows.utilisation[rb])
    tx = bits / cap_rate
    eq = sc.optical.equipment
    s.data.update(
        rps=rps,
        row_weight=rows.weight,
        row_blocked=rows.blocked,
        flow_r=flow_r,
        flow_k=flow_k,
        flow_p=flow_p,
        flow_rb=rb,
        flow_rps=flow_rps,
        flow_blocked=rows.blocked[flow_r],
        access_tx_s=tx + 2.0 * bits / eq.transceiver_rate_bps,
        access_queue_s=np.where(np.isfinite(total_tx), total_tx - tx, np.inf),
        point_demand_bps=point_bps,
        point_load=rows.utilisation,
        weights=weights,
        per_person_bps=per_person,
        # Mobile people each access row carries after admission, and those it blocks (the
        # blocked rows name the last full resource; rows without access, none).
        row_people_admitted=np.where(carried_row, people, 0.0),
        row_people_blocked=np.where(carried_row, 0.0, people),
        # Fixed broadband per point: its people's traffic, the FTTH share of it admitted on
        # the point's PON trees (the rest enters at the central office unlimited).
        point_people=twin.demand.population * s.surge,
        fixed=admit_fixed(
            run.fixed_access,
            twin.demand.population * s.surge * per_person.get("fixed_down", 0.0),
            twin.demand.population * s.surge * per_person.get("fixed_up", 0.0),
            sc.capacity.access_max_utilisation,
        ),
    )


# --------------------------------------------------------------------------------------------
# route and allocate


def route_stage(run: RunSetup, s: Step) -> None:
    """Place every admitted AI flow on a site (the policy), then route all traffic — AI
    requests and responses, national fixed and mobile traffic — to a load-dependent equilibrium
    over the directed arcs of the usable links and allocate it within their capacities
    (:func:`tsunagu.net.flow.route_and_allocate`), with what that blocks re-offered on the
    links with spare capacity (``capacity.routing_overflow_rounds``): carried and blocked
    rates, the binding link of every loss (a full link of its cut), per-arc load and M/M/1
    delay."""
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
    placed = choice >= 0
    site_of = np.maximum(choice, 0)

    # ---- every demand of the step, by (source node, destination node) -------------------
    # The routing graph (see _Arcs): ground network, two virtual nodes per background
    # destination, and each satellite as an entry and an exit node.
    arcs = _arcs(run, state)
    n_nodes = arcs.n_nodes
    demands = _step_demands(run, s, placed, site_of, arcs)
    key = demands.src * n_nodes + demands.dst
    pair_key, pair_of = np.unique(key, return_inverse=True)
    pair_bps = np.bincount(pair_of, weights=demands.bps, minlength=pair_key.size)
    res = route_and_allocate(
        n_nodes,
        arcs.src,
        arcs.dst,
        arcs.capacity_bps,
        arcs.latency_s,
        pair_key // n_nodes,
        pair_key % n_nodes,
        pair_bps,
        arc_kind=arcs.resource,
        mean_packet_bits=PACKET_BITS,
        max_iterations=sc.capacity.routing_iterations,
        relative_gap=sc.capacity.routing_relative_gap,
        allocation_tolerance=ALLOCATION_TOLERANCE,
        overload_penalty_s=sc.capacity.routing_overload_penalty_s,
        step_rule="line-search",
        min_step=ROUTING_MIN_STEP,
        arc_group=arcs.group,
        overflow_rounds=sc.capacity.routing_overflow_rounds,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        pair_pass = np.where(pair_bps > 0.0, res.demand_carried_bps / pair_bps, 1.0)
    pair_pass = np.where(res.demand_binding_kind == NO_PATH_KIND, 0.0, pair_pass)
    pair_prop = res.demand_path_mean(arcs.propagation_s)
    pair_equip = res.demand_path_mean(arcs.latency_s - arcs.propagation_s)
    pair_queue = res.demand_path_mean(np.where(res.arc_load_bps > 0, res.arc_queue_delay_s, 0.0))
    pair_hops = res.demand_path_mean(np.ones(arcs.src.size))
    binding_name = np.asarray(res.demand_binding_kind, dtype=object)
    bound = res.demand_binding_arc >= 0
    if bound.any():
        arc_ids, arc_of = np.unique(res.demand_binding_arc[bound], return_inverse=True)
        binding_name[bound] = ("capacity: " + arcs.names(arc_ids).astype(object))[arc_of]
    binding_name = np.asarray(binding_name.astype(str))

    # ---- back to the AI flows: both directions must pass ---------------------------------
    n_f = flow_rps.size
    req = np.full(n_f, -1, dtype=np.int64)
    resp = np.full(n_f, -1, dtype=np.int64)
    req[demands.ai_flow_req] = pair_of[demands.ai_req]
    resp[demands.ai_flow_resp] = pair_of[demands.ai_resp]
    has = placed & (req >= 0) & (resp >= 0)
    rq, rs = np.maximum(req, 0), np.maximum(resp, 0)
    carried = np.where(has, pair_pass[rq] * pair_pass[rs], 0.0)
    served = placed & (carried > 0.0)
    lost_req = np.where(has, 1.0 - pair_pass[rq], 0.0)
    lost_resp = np.where(has, 1.0 - pair_pass[rs], 0.0)
    net_binding = np.where(lost_req >= lost_resp, binding_name[rq], binding_name[rs])

    def both(x: FloatArray) -> FloatArray:
        return np.where(has, x[rq] + x[rs], 0.0)

    reason = np.where(
        access == 0,
        "no access",
        np.where(
            d["flow_blocked"],
            "capacity: " + rows.labels[rb] + " " + _resource_name(run, rows, rb),
            np.where(
                ~placed,
                np.where(np.isfinite(flow_lat).any(axis=1), "capacity: gpu", "no path"),
                np.where(carried < 1.0, net_binding, ""),
            ),
        ),
    )
    link_fwd, link_rev = _per_link(arcs, res.arc_load_bps, len(state.links))
    cap = np.asarray(state.links.capacity_bps, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        util_f = np.where(cap > 0, link_fwd / cap, np.where(link_fwd > 0, np.inf, 0.0))
        util_r = np.where(cap > 0, link_rev / cap, np.where(link_rev > 0, np.inf, 0.0))
    q_f, q_r = _per_link(arcs, res.arc_queue_delay_s, len(state.links), fill=0.0, add=False)
    d.update(
        choice=choice,
        served=served,
        placed=placed,
        site_of=site_of,
        carried_share=carried,
        net_prop_rt_s=both(pair_prop),
        net_equip_rt_s=both(pair_equip),
        net_queue_rt_s=both(pair_queue),
        hops=np.where(has, np.rint(np.nan_to_num(pair_hops[rq])), 0).astype(np.int64),
        reason=reason,
        link_fwd_bps=link_fwd,
        link_rev_bps=link_rev,
        link_bps=np.maximum(link_fwd, link_rev),
        link_util=np.maximum(util_f, util_r),
        link_queue_delay_s=np.where(
            util_f >= util_r, np.where(link_fwd > 0, q_f, 0.0), np.where(link_rev > 0, q_r, 0.0)
        ),
        routing_gap=res.relative_gap,
        routing_iterations=res.iterations,
        # The step's routing problem and its solution, for inspection and tests.
        demands=demands,
        demand_pair=pair_of,
        arcs=arcs,
        flow_result=res,
    )
    s.traffic = _traffic_table(run, s, demands, pair_of, pair_pass, binding_name)


@dataclass(frozen=True)
class _Demands:
    """The step's demands before aggregation: one entry per (origin, class, destination)."""

    src: IntArray
    dst: IntArray
    bps: FloatArray
    cls: IntArray
    ai_req: IntArray  # demand index of each placed flow's request
    ai_flow_req: IntArray  # its flow
    ai_resp: IntArray
    ai_flow_resp: IntArray
    # Access-level losses, per class: (class, binding name, blocked b/s).
    access_blocked: tuple[IntArray, npt.NDArray[np.str_], FloatArray]


def _step_demands(
    run: RunSetup, s: Step, placed: BoolArray, site_of: IntArray, arcs: _Arcs
) -> _Demands:
    """AI requests (access node → site) and responses (site → access node) of the placed
    flows; national mobile traffic of each access row's admitted people and fixed traffic of
    each point's people, to and from every destination node. Traffic from a satellite's users
    starts at its exit node, traffic to them ends at its entry node (see :class:`_Arcs`)."""
    rows, _ = _filled(s)
    twin = run.twin
    d = s.data
    rb, flow_k, flow_rps = d["flow_rb"], d["flow_k"], d["flow_rps"]
    ai = np.flatnonzero(placed)
    a_node = rows.node[rb[ai]]
    a_site = twin.idx_site[site_of[ai]]
    parts_src = [arcs.exit(a_node), a_site]
    parts_dst = [a_site, arcs.entry(a_node)]
    parts_bps = [flow_rps[ai] * run.req_bits[flow_k[ai]], flow_rps[ai] * run.resp_bits[flow_k[ai]]]
    parts_cls = [np.zeros(2 * ai.size, dtype=np.int64)]
    n_ai = ai.size
    pp = d["per_person_bps"]
    blk_cls: list[IntArray] = []
    blk_name: list[npt.NDArray[np.str_]] = []
    blk_bps: list[FloatArray] = []
    if run.background is not None:
        dest = run.background.destinations
        n_j = dest.weight.size
        # Each destination is a virtual source of its downloads and a virtual sink of its
        # uploads, joined to its members (see _arcs).
        dest_src = twin.static.n_nodes + np.arange(n_j, dtype=np.int64)
        dest_dst = dest_src + n_j
        mobile = np.flatnonzero(d["row_people_admitted"] > 0.0)
        fixed_people = d["point_people"]
        fixed = np.flatnonzero(fixed_people > 0.0)
        fa: FixedAdmission = d["fixed"]
        # Fixed traffic per point: all of it less what its PON trees blocked.
        fixed_down = fixed_people * pp["fixed_down"] - fa.blocked_down_bps
        fixed_up = fixed_people * pp["fixed_up"] - fa.blocked_up_bps
        m_people = d["row_people_admitted"][mobile]
        # Origins: mobile rows at their access node, fixed points at their central office.
        for origins, down_bps, up_bps, codes in (
            (
                rows.node[mobile],
                m_people * pp["mobile_down"],
                m_people * pp["mobile_up"],
                ("mobile_down", "mobile_up"),
            ),
            (
                twin.idx_demand[fixed],
                fixed_down[fixed],
                fixed_up[fixed],
                ("fixed_down", "fixed_up"),
            ),
        ):
            o = np.repeat(origins, n_j)
            j = np.tile(np.arange(n_j), origins.size)
            w = dest.weight[j]
            down, up = codes
            parts_src += [dest_src[j], arcs.exit(o)]
            parts_dst += [arcs.entry(o), dest_dst[j]]
            parts_bps += [np.repeat(down_bps, n_j) * w, np.repeat(up_bps, n_j) * w]
            parts_cls += [
                np.full(o.size, CLASS_NAMES.index(down), dtype=np.int64),
                np.full(o.size, CLASS_NAMES.index(up), dtype=np.int64),
            ]
        # Mobile people the access resources could not carry (or without access at all).
        lost = np.flatnonzero(d["row_people_blocked"] > 0.0)
        if lost.size:
            name = np.where(
                rows.access[lost] == 0,
                "no access",
                "capacity: "
                + rows.labels[lost]
                + " "
                + _resource_name(run, rows, lost.astype(np.int64)),
            )
            for c in ("mobile_down", "mobile_up"):
                blk_cls.append(np.full(lost.size, CLASS_NAMES.index(c), dtype=np.int64))
                blk_name.append(np.asarray(name, dtype=str))
                blk_bps.append(d["row_people_blocked"][lost] * pp[c])
        # Fixed traffic the PON trees of its point could not carry.
        for c, blocked in (("fixed_down", fa.blocked_down_bps), ("fixed_up", fa.blocked_up_bps)):
            at = np.flatnonzero(blocked > 0.0)
            if at.size:
                blk_cls.append(np.full(at.size, CLASS_NAMES.index(c), dtype=np.int64))
                blk_name.append(
                    np.asarray(
                        "capacity: pon trees of " + twin.demand.name[at].astype(object)
                    ).astype(str)
                )
                blk_bps.append(blocked[at])
    return _Demands(
        src=np.concatenate(parts_src).astype(np.int64),
        dst=np.concatenate(parts_dst).astype(np.int64),
        bps=np.concatenate(parts_bps).astype(np.float64),
        cls=np.concatenate(parts_cls),
        ai_req=np.arange(n_ai, dtype=np.int64),
        ai_flow_req=ai,
        ai_resp=n_ai + np.arange(n_ai, dtype=np.int64),
        ai_flow_resp=ai,
        access_blocked=(
            np.concatenate(blk_cls) if blk_cls else np.zeros(0, dtype=np.int64),
            np.concatenate(blk_name) if blk_name else np.zeros(0, dtype=str),
            np.concatenate(blk_bps) if blk_bps else np.zeros(0),
        ),
    )


@dataclass(frozen=True)
class _Arcs:
    """The step's routing graph: directed arcs over ``n_nodes`` routing nodes.

    Ground nodes keep their state ids; each background destination adds a virtual download
    source and upload sink; each satellite of the state is split into an *entry* node (traffic
    towards its users: the forward feeders from gateways and the ISLs of the download plane)
    and an *exit* node (traffic from its users: the return feeders and the upload plane), so no
    path can carry ground traffic through the space segment. Every full-duplex ground or feeder
    link is two arcs with the link's capacity each; each direction of an ISL is two arcs, one
    per plane, that share that direction's capacity (``group``). ``link`` is the state's link
    id (-1: virtual), ``forward`` whether the arc runs src → dst of that link.
    """

    src: IntArray
    dst: IntArray
    capacity_bps: FloatArray
    latency_s: FloatArray
    propagation_s: FloatArray
    link: IntArray
    forward: BoolArray
    group: IntArray
    resource: npt.NDArray[np.str_]
    node_name: npt.NDArray[np.str_]
    n_nodes: int
    n_ground: int
    n_sat: int

    def entry(self, node: IntArray) -> IntArray:
        """Routing node where traffic *to* state node ``node`` ends (a satellite's entry)."""
        base = self.n_nodes - 2 * self.n_sat
        return np.where(node < self.n_ground, node, base + (node - self.n_ground))

    def exit(self, node: IntArray) -> IntArray:
        """Routing node where traffic *from* state node ``node`` starts (a satellite's exit)."""
        base = self.n_nodes - self.n_sat
        return np.where(node < self.n_ground, node, base + (node - self.n_ground))

    def names(self, arcs: IntArray) -> npt.NDArray[np.str_]:
        """``resource src→dst`` of the given arcs (only the few that bind are named)."""
        a = np.asarray(arcs, dtype=np.int64)
        return np.asarray(
            [
                f"{r} {u}→{v}"
                for r, u, v in zip(
                    self.resource[a],
                    self.node_name[self.src[a]],
                    self.node_name[self.dst[a]],
                    strict=True,
                )
            ],
            dtype=str,
        )


def _arcs(run: RunSetup, state: NetworkState) -> _Arcs:
    links = state.links
    n_ground = run.twin.static.n_nodes
    n_sat = state.n_nodes - n_ground
    l_src = np.asarray(links.src)
    l_dst = np.asarray(links.dst)
    usable = state.usable(True)
    sat_src = l_src >= n_ground
    sat_dst = l_dst >= n_ground
    ground = np.flatnonzero(usable & ~sat_src & ~sat_dst)
    feeder = np.flatnonzero(usable & (sat_src != sat_dst))  # gateway ↔ satellite
    isl = np.flatnonzero(usable & sat_src & sat_dst)
    names = np.asarray(state.nodes.name, dtype=str)
    resource_all = _link_resource(run, state)
    # Virtual arcs (link -1), free and unlimited, so the routing picks the member: from each
    # destination's download source (n_ground + g) to its members, and from its members to
    # its upload sink (n_ground + G + g). Neither node has arcs both in and out, so no path
    # passes through one from a member to another.
    if run.background is not None:
        dest = run.background.destinations
        up = state.nodes.up[dest.node]
        n_g = dest.weight.size
        members = dest.node[up]
        v_src = n_ground + dest.group_of[up]
        v_dst = v_src + n_g
        label = np.array([f"{g} (any node)" for g in dest.names])
        virt_names = np.concatenate([label, label])
    else:
        n_g = 0
        members = v_src = v_dst = np.zeros(0, dtype=np.int64)
        virt_names = np.zeros(0, dtype=str)
    n_v = members.size
    sat_names = names[n_ground:]
    node_name = np.concatenate(
        [
            names[:n_ground],
            virt_names,
            np.char.add(sat_names, " (to users)"),
            np.char.add(sat_names, " (from users)"),
        ]
    )
    n_nodes = n_ground + 2 * n_g + 2 * n_sat
    base_in = n_ground + 2 * n_g
    base_out = base_in + n_sat

    def ent(x: IntArray) -> IntArray:
        return np.where(x < n_ground, x, base_in + (x - n_ground))

    def ext(x: IntArray) -> IntArray:
        return np.where(x < n_ground, x, base_out + (x - n_ground))

    # Feeders: the gateway → satellite direction ends at the satellite's entry, the satellite
    # → gateway direction starts at its exit (each with the feeder's capacity).
    f_gw = np.where(sat_src[feeder], l_dst[feeder], l_src[feeder])
    f_sat = np.where(sat_src[feeder], l_src[feeder], l_dst[feeder])
    f_fwd = ~sat_src[feeder]  # the link runs gateway → satellite
    i_a, i_b = l_src[isl], l_dst[isl]
    parts = [
        # (src, dst, link ids, forward)
        (l_src[ground], l_dst[ground], ground, np.ones(ground.size, bool)),
        (l_dst[ground], l_src[ground], ground, np.zeros(ground.size, bool)),
        (f_gw, ent(f_sat), feeder, f_fwd),
        (ext(f_sat), f_gw, feeder, ~f_fwd),
        (ent(i_a), ent(i_b), isl, np.ones(isl.size, bool)),
        (ext(i_a), ext(i_b), isl, np.ones(isl.size, bool)),
        (ent(i_b), ent(i_a), isl, np.zeros(isl.size, bool)),
        (ext(i_b), ext(i_a), isl, np.zeros(isl.size, bool)),
    ]
    link = np.concatenate([p[2] for p in parts])
    forward = np.concatenate([p[3] for p in parts])
    real_src = np.concatenate([p[0] for p in parts])
    real_dst = np.concatenate([p[1] for p in parts])
    cap = np.asarray(links.capacity_bps, dtype=np.float64)[link]
    lat = np.asarray(links.latency_s, dtype=np.float64)[link]
    prop = np.asarray(links.propagation_s, dtype=np.float64)[link]
    # One capacity per (link, direction): the two planes of an ISL direction share it.
    group = 2 * link + (~forward).astype(np.int64)
    return _Arcs(
        src=np.concatenate([real_src, v_src, members]).astype(np.int64),
        dst=np.concatenate([real_dst, members, v_dst]).astype(np.int64),
        capacity_bps=np.concatenate([cap, np.full(2 * n_v, np.inf)]),
        latency_s=np.concatenate([lat, np.zeros(2 * n_v)]),
        propagation_s=np.concatenate([prop, np.zeros(2 * n_v)]),
        link=np.concatenate([link, np.full(2 * n_v, -1, dtype=np.int64)]),
        forward=np.concatenate([forward, np.ones(2 * n_v, bool)]),
        group=np.concatenate([group, 2 * len(links) + np.arange(2 * n_v, dtype=np.int64)]),
        resource=np.concatenate([resource_all[link], np.full(2 * n_v, "anycast")]),
        node_name=node_name,
        n_nodes=n_nodes,
        n_ground=n_ground,
        n_sat=n_sat,
    )


def _per_link(
    arcs: _Arcs, values: FloatArray, n_links: int, fill: float = 0.0, *, add: bool = True
) -> tuple[FloatArray, FloatArray]:
    """An arc quantity as (forward, reverse) arrays per link (``fill`` where unusable): the
    sum over the arcs of each direction (``add``; an ISL direction has one arc per plane), or
    the value of any of them (a quantity of the shared capacity, the same on each)."""
    real = arcs.link >= 0
    out = []
    for sel in (arcs.forward & real, ~arcs.forward & real):
        x = np.full(n_links, fill)
        if add:
            used = np.zeros(n_links, dtype=bool)
            used[arcs.link[sel]] = True
            x[used] = 0.0
            np.add.at(x, arcs.link[sel], values[sel])
        else:
            x[arcs.link[sel]] = values[sel]
        out.append(x)
    return out[0], out[1]


def _link_resource(run: RunSetup, state: NetworkState) -> npt.NDArray[np.str_]:
    """What each link of the state is: ``fibre`` (or ``ip ports`` where the routers' ports,
    not the optics, bound its capacity), ``feeder`` or its medium."""
    links = state.links
    kind = np.asarray(links.extra.get("kind", np.full(len(links), "")), dtype=str)
    ports = np.asarray(links.extra.get("port_limited", np.zeros(len(links))), dtype=bool)
    medium = np.asarray(links.medium, dtype=str)
    return np.asarray(
        np.where(
            medium == "fibre",
            np.where(ports, "ip ports", "fibre"),
            np.where(
                np.char.find(kind, "feeder") >= 0, "feeder", np.where(kind == "isl", "isl", medium)
            ),
        ),
        dtype=str,
    )


#: Columns of ``traffic.parquet``: per step and demand class, what was offered, carried and
#: blocked, and the resource that blocked the most.
TRAFFIC_SCHEMA = pa.schema(
    [
        ("step", pa.int32()),
        ("time_s", pa.float64()),
        ("class", pa.string()),
        ("offered_bps", pa.float64()),
        ("carried_bps", pa.float64()),
        ("blocked_bps", pa.float64()),
        ("blocked_access_bps", pa.float64()),
        ("blocked_network_bps", pa.float64()),
        ("binding", pa.string()),
        ("binding_blocked_bps", pa.float64()),
    ]
)


def _traffic_table(
    run: RunSetup,
    s: Step,
    demands: _Demands,
    pair_of: IntArray,
    pair_pass: FloatArray,
    binding_name: npt.NDArray[np.str_],
) -> pa.Table:
    """Per demand class: offered, carried and blocked b/s and the resource blocking most.

    AI: offered are the bits of every flow (also those blocked at access or without a GPU);
    mobile: also the people the access resources could not carry."""
    d = s.data
    n_c = len(CLASS_NAMES)
    carried_each = demands.bps * pair_pass[pair_of]
    lost_each = demands.bps - carried_each
    net_carried = np.bincount(demands.cls, weights=carried_each, minlength=n_c)
    net_offered = np.bincount(demands.cls, weights=demands.bps, minlength=n_c)
    # AI requests count as carried as far as they are served (request and response both
    # through; the flows' carried share): a request whose response is lost carried its bytes
    # on the links (link_loads) but not as a service.
    net_carried[0] = float(np.sum(d["flow_rps"] * run.bits[d["flow_k"]] * d["carried_share"]))
    a_cls, a_name, a_bps = demands.access_blocked
    acc_blocked = np.bincount(a_cls, weights=a_bps, minlength=n_c)
    # AI bits that never reached the network: blocked at access, no GPU, no path, no access.
    ai_all = float(np.sum(d["flow_rps"] * run.bits[d["flow_k"]]))
    ai_net = float(net_offered[0])
    acc_blocked[0] = max(ai_all - ai_net, 0.0)
    ai_names = np.asarray(d["reason"], dtype=str)
    not_placed = ~d["placed"]
    # Candidate binding resources: network arcs (per class) and the access / placement causes.
    lost = lost_each > 0.0
    cand_cls = np.concatenate(
        [demands.cls[lost], a_cls, np.zeros(int(not_placed.sum()), dtype=np.int64)]
    )
    cand_name = np.concatenate(
        [
            np.asarray(binding_name, dtype=str)[pair_of[lost]],
            a_name,
            ai_names[not_placed],
        ]
    ).astype(str)
    cand_bps = np.concatenate(
        [
            lost_each[lost],
            a_bps,
            (d["flow_rps"] * run.bits[d["flow_k"]])[not_placed],
        ]
    )
    offered = net_offered + acc_blocked
    offered[0] = ai_all
    top_name = np.full(n_c, "", dtype=object)
    top_bps = np.zeros(n_c)
    if cand_bps.size:
        names, name_of = np.unique(cand_name, return_inverse=True)
        uniq, inv = np.unique(cand_cls * names.size + name_of, return_inverse=True)
        tot = np.bincount(inv, weights=cand_bps, minlength=uniq.size)
        u_cls = uniq // names.size
        order = np.lexsort((-tot, u_cls))
        first = np.ones(order.size, dtype=bool)
        first[1:] = u_cls[order][1:] != u_cls[order][:-1]
        best = order[first & (tot[order] > 0.0)]
        top_name[u_cls[best]] = names[uniq[best] % names.size]
        top_bps[u_cls[best]] = tot[best]
    blocked_net = net_offered - net_carried
    return pa.table(
        {
            "step": np.full(n_c, s.step, dtype=np.int32),
            "time_s": np.full(n_c, s.time_s),
            "class": np.array(CLASS_NAMES),
            "offered_bps": offered,
            "carried_bps": net_carried,
            "blocked_bps": offered - net_carried,
            "blocked_access_bps": acc_blocked,
            "blocked_network_bps": blocked_net,
            "binding": top_name.astype(str),
            "binding_blocked_bps": top_bps,
        },
        schema=TRAFFIC_SCHEMA,
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
    # Requests reach the site only as far as the network carries them there and back.
    carried_rps = flow_rps * d["carried_share"]
    site_rps = np.bincount(site_of[served], weights=carried_rps[served], minlength=n_s)
    site_gpu_s = np.bincount(
        site_of[served], weights=(carried_rps * twin.gpu_s[flow_k, site_of])[served], minlength=n_s
    )
    mean_service = np.where(site_rps > 0, site_gpu_s / np.maximum(site_rps, 1e-300), 1.0)
    wait = mmc_mean_wait_s(site_rps, mean_service, twin.site_gpus)
    lat_prop = 2.0 * rows.one_way_s[rb] + d["net_prop_rt_s"]
    lat_proc = 2.0 * rows.equipment_s[rb] + d["net_equip_rt_s"] + run.processing_s[flow_k]
    lat_queue = d["access_queue_s"] + wait[site_of] + d["net_queue_rt_s"]
    lat_tx = d["access_tx_s"]
    total = np.where(served, lat_prop + lat_tx + lat_queue + lat_proc, np.inf)
    # The served flows as distributions (queueing models, last mile) for latency.parquet.
    d[latency.STEP_KEY] = latency.flow_latency(
        served=served,
        point=flow_p,
        service=flow_k,
        access=rows.labels[rb],
        requests=carried_rps * tl.step_s,
        propagation_s=lat_prop,
        transmission_s=lat_tx,
        equipment_s=lat_proc - run.processing_s[flow_k],
        access_equipment_s=2.0 * rows.equipment_s[rb],
        processing_s=run.processing_s[flow_k],
        access_queue_s=d["access_queue_s"],
        link_queue_s=d["net_queue_rt_s"],
        site=site_of,
        site_rps=site_rps,
        site_service_s=mean_service,
        site_servers=twin.site_gpus,
    )

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
    requests = carried_rps * tl.step_s
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
            "carried_share": d["carried_share"],
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
    traffic = s.traffic
    offered_bps = float(pc.sum(traffic["offered_bps"]).as_py()) if traffic is not None else 0.0
    carried_bps = float(pc.sum(traffic["carried_bps"]).as_py()) if traffic is not None else 0.0
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
        traffic_offered_bps=offered_bps,
        traffic_carried_bps=carried_bps,
        routing_gap=float(d["routing_gap"]),
        fixed_access_utilisation=d["fixed"].aggregate_utilisation(),
        fixed_access_utilisation_max=float(np.max(d["fixed"].utilisation, initial=0.0)),
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
    """The step's ``link_loads`` rows: every link of the step's state (static links first,
    then the step's satellite feeders), its load per direction and the busier direction's
    utilisation and M/M/1 sojourn time."""
    network = _network(s)
    links = network.links
    n = len(links)
    names = np.asarray(network.nodes.name)
    d = s.data
    return pa.table(
        {
            "step": np.full(n, s.step, dtype=np.int32),
            "time_s": np.full(n, s.time_s),
            "link": np.arange(n, dtype=np.int32),
            "src": names[np.asarray(links.src)],
            "dst": names[np.asarray(links.dst)],
            "domain": np.asarray(links.domain),
            "resource": _link_resource(run, network),
            "capacity_bps": np.asarray(links.capacity_bps, dtype=np.float64),
            "load_bps": d["link_bps"],
            "load_forward_bps": d["link_fwd_bps"],
            "load_reverse_bps": d["link_rev_bps"],
            "utilisation": d["link_util"],
            "queue_delay_s": d["link_queue_delay_s"],
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
