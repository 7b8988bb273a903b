"""Congestion-aware routing and allocation against references independent of tsunagu.

* Wardrop equilibria with closed forms: Pigou's two-link network (A. C. Pigou, *The Economics
  of Welfare*, 1920; in the form of T. Roughgarden, *Selfish Routing and the Price of Anarchy*,
  MIT Press 2005, §1.1) and Braess's network (D. Braess, Unternehmensforschung 12, 1968; the
  textbook instance with costs x/100 and 45), and two parallel M/M/1 links whose equal-delay
  split solves a quadratic by hand.
* Blocking against max-flow/min-cut: the carried rate of one commodity can never exceed the
  maximum flow (Ford and Fulkerson 1956), computed here by ``scipy.sparse.csgraph.maximum_flow``
  (an implementation independent of ours); on a three-node network whose routes saturate the
  minimum cut the blocked amount equals offered − min-cut.

Tolerances come from the iteration's own relative gap: for convex costs the Beckmann objective
B satisfies ``B(x) − B(x*) ≤ gap · Σ x t(x)`` and, with curvature at least ``m`` along the
feasible direction, ``|x − x*| ≤ sqrt(2 · gap · Σ x t / m)`` (strong convexity).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import maximum_flow

from tsunagu.net.flow import mm1_link_cost, route_and_allocate, wardrop_msa

FloatArray = np.ndarray


def _gap_tolerance(gap: float, tstt: float, curvature: float) -> float:
    return math.sqrt(2.0 * max(gap, 1e-16) * tstt / curvature)


def test_pigou_equilibrium() -> None:
    # Pigou with t1 = 1, t2 = 2x and one unit of demand: Wardrop has t2 = t1, x2 = 1/2.
    def cost(x: FloatArray) -> FloatArray:
        return np.array([1.0, 2.0 * x[1]])

    eq = wardrop_msa(2, [0, 0], [1, 1], [0], [1], [1.0], cost, max_iterations=300,
                     relative_gap=1e-10)  # fmt: skip
    tstt = float(eq.arc_load_bps @ cost(eq.arc_load_bps))
    tol = _gap_tolerance(eq.relative_gap, tstt, curvature=2.0)
    assert eq.arc_load_bps[1] == pytest.approx(0.5, abs=max(tol, 1e-12))
    assert eq.arc_load_bps.sum() == pytest.approx(1.0, abs=1e-12)


def test_classic_pigou_puts_everything_on_the_variable_link() -> None:
    # t1 = 1, t2 = x: the equilibrium is x2 = 1 (both costs 1), the price of anarchy 4/3.
    def cost(x: FloatArray) -> FloatArray:
        return np.array([1.0, x[1]])

    eq = wardrop_msa(2, [0, 0], [1, 1], [0], [1], [1.0], cost, max_iterations=300,
                     relative_gap=1e-10)  # fmt: skip
    tstt = float(eq.arc_load_bps @ cost(eq.arc_load_bps))
    assert eq.arc_load_bps[1] == pytest.approx(1.0, abs=_gap_tolerance(eq.relative_gap, tstt, 1.0))
    # Social optimum is x2 = 1/2 with cost 3/4, so the equilibrium cost is 4/3 of it.
    assert tstt / 0.75 == pytest.approx(4.0 / 3.0, rel=1e-6)


@pytest.mark.parametrize(("demand", "expected"), [
    # arcs: s->A (x/100), A->t (45), s->B (45), B->t (x/100), A->B (0)
    (6000.0, [4500.0, 1500.0, 1500.0, 4500.0, 3000.0]),  # interior: all three paths cost 90
    (4000.0, [4000.0, 0.0, 0.0, 4000.0, 4000.0]),        # textbook: all on s-A-B-t, cost 80
    (10000.0, [5000.0, 5000.0, 5000.0, 5000.0, 0.0]),    # zigzag unused (it would cost 100)
])  # fmt: skip
@pytest.mark.parametrize("rule", ["msa", "line-search"])
def test_braess_equilibrium(demand: float, expected: list[float], rule: str) -> None:
    def cost(x: FloatArray) -> FloatArray:
        return np.array([x[0] / 100.0, 45.0, 45.0, x[3] / 100.0, 0.0])

    eq = wardrop_msa(4, [0, 1, 0, 2, 1], [1, 3, 2, 3, 2], [0], [3], [demand], cost,
                     max_iterations=400, relative_gap=1e-9, step_rule=rule)  # fmt: skip
    tstt = float(eq.arc_load_bps @ cost(eq.arc_load_bps))
    tol = _gap_tolerance(eq.relative_gap, tstt, curvature=1.0 / 100.0)
    np.testing.assert_allclose(eq.arc_load_bps, expected, atol=max(tol, 1e-6))


@pytest.mark.parametrize("rule", ["msa", "line-search"])
def test_two_parallel_mm1_links_split_to_equal_delay(rule: str) -> None:
    # tau1 + S/(C1 - x1) = tau2 + S/(C2 - x2), x1 + x2 = D. With the spare capacities
    # u = C1 - x1 and v = C2 - x2 = k - u (k = C1 + C2 - D) this is a quadratic in u.
    s_bits, c1, c2, tau1, tau2, demand = 1.0, 10.0, 6.0, 0.05, 0.2, 9.0
    k = c1 + c2 - demand  # spare capacity in total: u + v = k, v = C2 - x2
    # tau1 + S/u = tau2 + S/(k - u)  ⇔  (tau2 - tau1) u (k - u) = S (k - u) - S u
    a, b, c = -(tau2 - tau1), (tau2 - tau1) * k + 2.0 * s_bits, -s_bits * k
    u = (-b + math.sqrt(b * b - 4.0 * a * c)) / (2.0 * a)
    u = u if 0.0 < u < k else (-b - math.sqrt(b * b - 4.0 * a * c)) / (2.0 * a)
    x1 = c1 - u
    cost = mm1_link_cost([c1, c2], [tau1, tau2], mean_packet_bits=s_bits)
    eq = wardrop_msa(2, [0, 0], [1, 1], [0], [1], [demand], cost, max_iterations=400,
                     relative_gap=1e-9, step_rule=rule)  # fmt: skip
    tstt = float(eq.arc_load_bps @ cost(eq.arc_load_bps))
    curvature = s_bits / c1**2 + s_bits / c2**2  # B''(x1) = t1'(x1) + t2'(D - x1) >= this
    tol = _gap_tolerance(eq.relative_gap, tstt, curvature)
    assert 0.0 < x1 < demand
    assert eq.arc_load_bps[0] == pytest.approx(x1, abs=tol)
    assert tol < 0.05 * demand, f"MSA did not converge (gap {eq.relative_gap:.2e})"


def test_overload_penalty_moves_traffic_to_the_longer_path_before_blocking() -> None:
    """Two parallel paths, 4 b/s on the short one (1 ms), 100 b/s on the long one (11 ms),
    10 b/s offered. On delay alone (tiny packets: no queueing to speak of) everything takes the
    short path and 6 b/s are blocked. With an overload price P the equilibrium has
    ``τ1 + P (x1 − C1)/C1 = τ2``: the short path overloaded by ``(τ2 − τ1) C1 / P`` only, which
    is all the allocation blocks (closed form, M/M/1 terms negligible at S = 1e-6 bit)."""
    args = (2, [0, 0], [1, 1], [4.0, 100.0], [1e-3, 11e-3], [0], [1], [10.0])
    blind = route_and_allocate(*args, mean_packet_bits=1e-6, step_rule="line-search")
    assert blind.demand_blocked_bps[0] == pytest.approx(6.0, abs=1e-6)
    penalty = 1.0
    priced = route_and_allocate(
        *args, mean_packet_bits=1e-6, overload_penalty_s=penalty, step_rule="line-search",
        max_iterations=200, relative_gap=1e-12,
    )  # fmt: skip
    expected = (11e-3 - 1e-3) * 4.0 / penalty  # 0.04 b/s over the short path's capacity
    assert priced.demand_blocked_bps[0] == pytest.approx(expected, rel=0.05)
    assert priced.arc_load_bps[1] == pytest.approx(6.0 - expected, rel=1e-3)


def test_blocked_equals_offered_minus_min_cut_on_three_nodes() -> None:
    # A(0) -> B(1) 10 b/s, B -> C(2) 4 b/s, A -> C 3 b/s; 12 b/s offered from A to C.
    src, dst, cap = [0, 1, 0], [1, 2, 2], [10, 4, 3]
    graph = sp.csr_matrix((np.array(cap, dtype=np.int32), (src, dst)), shape=(3, 3))
    min_cut = maximum_flow(graph, 0, 2).flow_value
    assert min_cut == 7
    r = route_and_allocate(3, src, dst, np.array(cap, float), [1e-3, 1e-3, 1e-3], [0], [2],
                           [12.0], mean_packet_bits=1e-3)  # fmt: skip
    assert r.demand_blocked_bps[0] == pytest.approx(12.0 - min_cut, abs=1e-9)
    # Both cut arcs are full; the binding resource is one of them.
    np.testing.assert_allclose(r.arc_utilisation[[1, 2]], 1.0, atol=1e-9)
    assert int(r.demand_binding_arc[0]) in (1, 2)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 6),
    arcs=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(1, 20)),
        min_size=2,
        max_size=14,
    ),
    offered=st.floats(1.0, 100.0),
)
def test_carried_never_exceeds_max_flow(
    n: int, arcs: list[tuple[int, int, int]], offered: float
) -> None:
    a = np.array([(u % n, v % n, c) for u, v, c in arcs if u % n != v % n], dtype=np.int64)
    if a.size == 0:
        return
    graph = sp.coo_matrix((a[:, 2].astype(np.int32), (a[:, 0], a[:, 1])), shape=(n, n)).tocsr()
    max_flow = maximum_flow(graph, 0, n - 1).flow_value  # parallel arcs summed: same cut value
    r = route_and_allocate(n, a[:, 0], a[:, 1], a[:, 2].astype(float), 0.01, [0], [n - 1],
                           [offered], mean_packet_bits=1.0, max_iterations=30)  # fmt: skip
    assert r.demand_carried_bps[0] <= max_flow + 1e-9
    assert r.demand_carried_bps[0] + r.demand_blocked_bps[0] == pytest.approx(offered)


def test_load_sweep_first_blocking_at_the_predicted_bottleneck() -> None:
    """japan-2030 backbone, capacities from the GN-model QoT (GNPy's example Voyager modes,
    8 wavelengths, the library's 2 dB margin), uniform all-pairs demand swept ×1, ×2, ×4, ×8.

    Independent prediction: shortest propagation paths by networkx's Dijkstra (not our
    path code), loads summed by hand; the first blocking appears at the scale ``1 / max(load /
    capacity)`` on the link of that maximum. The base demand per pair is set so that this
    predicted scale is 3 (between the sweep points ×2 and ×4); it is a test set-up, not a model
    parameter. Under light load the M/M/1 term (ns on Tb/s links) does not move any route, so
    the routing must agree with the prediction until blocking starts.
    """
    import networkx as nx
    from gnpy.tools import json_io as gnpy_json_io

    from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX
    from tsunagu.optical.capacity import ModeTable, fibre_link_capacity
    from tsunagu.optical.domain import build_backbone
    from tsunagu.optical.equipment import load_equipment
    from tsunagu.scenario.loader import load_scenario

    examples = Path(gnpy_json_io.__file__).resolve().parent.parent / "example-data"
    eqpt = load_equipment(examples / "eqpt_config.json")
    bb = build_backbone(load_scenario("japan-2030").optical)
    modes = ModeTable.from_transceiver(eqpt.transceivers["Voyager"])
    fibre = fibre_link_capacity(bb.length_m / 1e3, 8, modes, margin_db=eqpt.si.sys_margins_db)
    n = bb.node_name.size
    src = np.concatenate([bb.src, bb.dst])  # full duplex: one arc per direction
    dst = np.concatenate([bb.dst, bb.src])
    cap = np.concatenate([fibre.capacity_bps, fibre.capacity_bps])
    tau = np.concatenate([bb.length_m, bb.length_m]) / (C_M_PER_S / FIBRE_GROUP_INDEX)
    assert np.all(cap > 0.0)
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    pairs = ii != jj
    d_src, d_dst = ii[pairs], jj[pairs]

    graph = nx.DiGraph()
    for a in np.argsort(tau, kind="stable")[::-1]:  # parallel arcs: the shortest is added last
        graph.add_edge(int(src[a]), int(dst[a]), w=float(tau[a]), arc=int(a))
    load_per_unit = np.zeros(src.size)
    for s in range(n):  # 59 sources: the reference, not the model
        for path in nx.single_source_dijkstra_path(graph, s, weight="w").values():
            for u, v in itertools.pairwise(path):
                load_per_unit[graph[u][v]["arc"]] += 1.0
    ratio = load_per_unit / cap
    bottleneck = int(np.argmax(ratio))
    base = 1.0 / ratio[bottleneck] / 3.0

    results = {}
    for k in (1, 2, 4, 8):
        results[k] = route_and_allocate(
            n, src, dst, cap, tau, d_src, d_dst, np.full(d_src.size, base * k), max_iterations=60
        )
    blocked = [results[k].demand_blocked_bps.sum() / results[k].demand_offered_bps.sum()
               for k in (1, 2, 4, 8)]  # fmt: skip
    assert blocked[0] == 0.0
    assert blocked[1] == 0.0
    assert 0.0 < blocked[2] <= blocked[3]
    # Utilisation and queueing rise monotonically with the load.
    util = [results[k].arc_utilisation.max() for k in (1, 2, 4, 8)]
    queue = [results[k].arc_queue_delay_s.mean() for k in (1, 2, 4, 8)]
    assert np.all(np.diff(util) >= 0.0)
    assert np.all(np.diff(queue) > 0.0)
    np.testing.assert_allclose(util[:2], [1 / 3, 2 / 3], rtol=1e-9)
    # The first blocking is at the predicted bottleneck, and only at links predicted over.
    binding = set(results[4].demand_binding_arc[results[4].demand_binding_arc >= 0].tolist())
    assert bottleneck in binding
    assert binding <= set(np.flatnonzero(ratio * base * 4 > 1.0).tolist())
