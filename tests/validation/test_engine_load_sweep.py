"""japan-2030 under ×1, ×2, ×4, ×8 its busy-hour traffic, against max-flow/min-cut.

With every download coming from Tokyo's backbone nodes (``traffic.destinations: {tokyo: 1}``),
the downloads the network can deliver are bounded by the maximum flow from those nodes to the
offices (Ford and Fulkerson 1956), computed here by ``scipy.sparse.csgraph.maximum_flow`` on
the twin's links and capacities — an algorithm independent of the twin's routing and
allocation. The bound predicts the load multiple at which blocking must begin (the smallest
multiple whose demand exceeds the maximum flow) and the saturated cut that causes it.

Tolerances: the twin's routing stops at a relative gap of about 1-5 % (reported per step), so
below the predicted multiple it may block a little (at most 0.5 % of the downloads here), and
beyond it carries at most the maximum flow (to 1e-6, the allocation's tolerance).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Timeline
from tsunagu.sim.background import Background
from tsunagu.sim.engine import run_twin
from tsunagu.sim.kpis import RunResult
from tsunagu.sim.stages import RunSetup, Step, events_stage
from tsunagu.sim.twin import Twin

SCALES = (1.0, 2.0, 4.0, 8.0)
BUSY_HOUR = 22.0
UNIT_BPS = 1e9  # max-flow capacities in whole Gb/s (scipy needs integers)


@functools.cache
def _twin() -> Twin:
    sc = load_scenario("japan-2030")
    tl = Timeline(start_hour_local=BUSY_HOUR, duration_s=3600.0, step_s=3600.0, seed=1)
    traffic = sc.traffic.model_copy(update={"destinations": {"tokyo": 1.0}})
    return Twin(sc.model_copy(update={"timeline": tl, "traffic": traffic, "events": []}))


@functools.cache
def _run(scale: float) -> RunResult:
    def events_scaled(run: RunSetup, s: Step) -> None:
        events_stage(run, s)
        s.surge = s.surge * scale  # every class and the AI requests, at every point

    return run_twin(_twin(), stages={"events": events_scaled})


def _download_demand_bps(twin: Twin) -> tuple[np.ndarray, float]:
    """Per node: fixed and mobile download offered at the busy hour (×1); its total."""
    pp = Background(twin).per_person_bps(BUSY_HOUR)
    per_node = np.zeros(twin.static.n_nodes)
    np.add.at(
        per_node,
        twin.idx_demand,
        twin.demand.population * (pp["fixed_down"] + pp["mobile_down"]),
    )
    return per_node, float(per_node.sum())


def _max_flow_bps(twin: Twin, scale: float) -> tuple[float, np.ndarray]:
    """Max flow from Tokyo's backbone nodes to every office's download demand × scale, and
    the links of a minimum cut (the saturated arcs from the source side to the sink side)."""
    links = twin.static.links
    n = twin.static.n_nodes
    dest = Background(twin).destinations
    demand, total = _download_demand_bps(twin)
    src, dst = np.asarray(links.src), np.asarray(links.dst)
    cap = np.floor(np.asarray(links.capacity_bps) / UNIT_BPS)
    s_node, t_node = n, n + 1
    # Any Tokyo node may send (the twin's destinations are anycast over their nodes).
    rows = np.concatenate([src, dst, np.full(dest.node.size, s_node), np.arange(n)])
    cols = np.concatenate([dst, src, dest.node, np.full(n, t_node)])
    sink_cap = np.floor(demand * scale / UNIT_BPS)
    source_cap = np.full(dest.node.size, np.ceil(total * scale / UNIT_BPS))
    vals = np.concatenate([cap, cap, source_cap, sink_cap]).astype(np.int64)
    keep = vals > 0
    graph = sp.csr_matrix(
        (vals[keep].astype(np.int32), (rows[keep], cols[keep])), shape=(n + 2, n + 2)
    )
    graph.sum_duplicates()
    res = maximum_flow(graph, s_node, t_node)
    # Source side of a minimum cut: nodes reachable in the residual graph.
    residual = graph - res.flow
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    reach = sp.csgraph.breadth_first_order(residual, s_node, return_predecessors=False)
    side = np.zeros(n + 2, dtype=bool)
    side[reach] = True
    cut = np.flatnonzero(side[src] != side[dst])
    return float(res.flow_value) * UNIT_BPS, cut


def _first_blocking_scale(twin: Twin) -> float:
    """The smallest multiple whose downloads exceed the max flow (bisection, 1 % resolution)."""
    _, total = _download_demand_bps(twin)
    lo, hi = 0.25, 16.0
    while hi / lo > 1.01:
        mid = float(np.sqrt(lo * hi))
        flow, _ = _max_flow_bps(twin, mid)
        if flow >= total * mid * (1.0 - 1e-6) - 2 * UNIT_BPS * twin.static.n_nodes:
            lo = mid
        else:
            hi = mid
    return hi


def test_carried_downloads_never_exceed_the_max_flow_and_block_beyond_it() -> None:
    twin = _twin()
    s_star = _first_blocking_scale(twin)
    _, total = _download_demand_bps(twin)
    assert 1.0 < s_star < 8.0  # the sweep crosses the predicted multiple
    for scale in SCALES:
        tr = _run(scale).traffic.to_pandas().set_index("class")
        down = ["fixed_down", "mobile_down"]
        carried = float(tr.carried_bps[down].sum())
        net_blocked = float(tr.blocked_network_bps[down].sum())
        flow, _ = _max_flow_bps(twin, scale)
        assert carried <= flow * (1 + 1e-6) + UNIT_BPS * twin.static.n_nodes
        if scale < 0.8 * s_star:
            assert net_blocked <= 5e-3 * total * scale
        if scale > 1.25 * s_star:
            assert net_blocked > 0.0
            assert tr.binding["fixed_down"].startswith("capacity: fibre ")


def test_utilisation_queueing_and_blocking_rise_with_the_load() -> None:
    util, queue, carried = [], [], []
    for scale in SCALES:
        res = _run(scale)
        ll = res.link_loads.to_pandas()
        util.append(float(ll.utilisation.mean()))
        queue.append(float(ll.queue_delay_s.mean()))  # M/M/1 sojourn, mean over the links
        carried.append(res.summary["kpis"]["traffic_carried_share"])
    assert np.all(np.diff(util) > 0.0)
    assert np.all(np.diff(queue) > 0.0)
    assert np.all(np.diff(carried) <= 1e-6)
    assert carried[-1] < carried[0]


def test_the_twins_first_blocking_is_on_the_predicted_cut() -> None:
    """Just beyond the predicted multiple, the link that blocks most downloads is one of the
    minimum cut's links (or runs between nodes on the same side of it only if it is full)."""
    twin = _twin()
    s_star = _first_blocking_scale(twin)
    scale = min(SCALES, key=lambda s: s if s > 1.25 * s_star else np.inf)
    _, cut = _max_flow_bps(twin, scale)
    names = np.asarray(twin.static.nodes.name).astype(str)
    links = twin.static.links
    cut_pairs = {frozenset((names[links.src[i]], names[links.dst[i]])) for i in cut}
    tr = _run(scale).traffic.to_pandas().set_index("class")
    a, b = tr.binding["fixed_down"].removeprefix("capacity: fibre ").split("→")
    ll = _run(scale).link_loads.to_pandas()
    row = ll[((ll.src == a) & (ll.dst == b)) | ((ll.src == b) & (ll.dst == a))]
    assert float(row.utilisation.max()) == pytest.approx(1.0, abs=1e-6)
    assert frozenset((a, b)) in cut_pairs
