"""Congestion-aware routing and allocation (net/flow.py): the M/M/1 cost, errors and the
conservation invariants on small random graphs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import breadth_first_order

from tsunagu.errors import DataError, TsunaguError
from tsunagu.net.flow import (
    NO_PATH_KIND,
    FlowResult,
    allocate_paths,
    mm1_sojourn_time_s,
    route_and_allocate,
    wardrop_msa,
)


def test_mm1_sojourn_is_packet_over_spare_capacity() -> None:
    # Kleinrock vol. 1 §3.2: T = 1/(mu - lambda) with mu = C/S, lambda = x/S.
    s_bits, c = 12_000.0, 10e9
    x = np.array([0.0, 2.5e9, 5e9, 9e9])
    mu, lam = c / s_bits, x / s_bits
    np.testing.assert_allclose(mm1_sojourn_time_s(x, c, s_bits), 1.0 / (mu - lam), rtol=1e-12)


def test_mm1_tangent_above_the_cap_is_continuous_and_increasing() -> None:
    s_bits, c, rho = 1.0, 1.0, 0.9
    t_cap = s_bits / (c - rho * c)
    slope = s_bits / (c - rho * c) ** 2
    x = np.array([0.9, 1.0, 2.0, 5.0])
    np.testing.assert_allclose(
        mm1_sojourn_time_s(x, c, s_bits, rho), t_cap + slope * (x - 0.9), rtol=1e-12
    )
    grid = np.linspace(0.0, 3.0, 301)
    assert np.all(np.diff(mm1_sojourn_time_s(grid, c, s_bits, rho)) > 0.0)


def test_mm1_unlimited_and_zero_capacity() -> None:
    out = mm1_sojourn_time_s([5.0, 5.0], [np.inf, 0.0], 1.0)
    assert out[0] == 0.0
    assert np.isinf(out[1])


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"capacity_bps": [-1.0]}, "capacity_bps[0]"),
        ({"offered_bps": [np.nan]}, "offered_bps[0]"),
        ({"demand_src": [5]}, "demand_src"),
        ({"arc_src": [0.5]}, "arc_src"),
    ],
)
def test_bad_input_is_a_teaching_error(kwargs: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {
        "n_nodes": 2,
        "arc_src": [0],
        "arc_dst": [1],
        "capacity_bps": [1.0],
        "propagation_delay_s": [0.0],
        "demand_src": [0],
        "demand_dst": [1],
        "offered_bps": [1.0],
    }
    args.update(kwargs)
    with pytest.raises(DataError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        route_and_allocate(**args)  # type: ignore[arg-type]
    assert issubclass(DataError, TsunaguError)


def test_unreachable_demand_is_blocked_with_no_path() -> None:
    r = route_and_allocate(3, [0], [1], [10.0], [1e-3], [0, 0], [1, 2], [4.0, 3.0])
    np.testing.assert_allclose(r.demand_carried_bps, [4.0, 0.0])
    np.testing.assert_allclose(r.demand_blocked_bps, [0.0, 3.0])
    assert r.demand_binding_arc.tolist() == [-1, -1]
    assert r.demand_binding_kind.tolist() == ["", NO_PATH_KIND]
    assert np.isinf(r.demand_delay_s[1])


def test_zero_capacity_arc_is_not_used_and_kind_names_the_resource() -> None:
    # Two parallel arcs, the short one has no capacity: the traffic takes the long one and is
    # blocked there, which is named with its kind.
    r = route_and_allocate(
        2, [0, 0], [1, 1], [0.0, 2.0], [1e-3, 5e-3], [0], [1], [3.0], arc_kind=["fibre", "beam"],
        mean_packet_bits=1.0,
    )  # fmt: skip
    assert r.arc_load_bps[0] == 0.0
    assert r.demand_carried_bps[0] == pytest.approx(2.0, rel=1e-9)
    assert r.demand_binding_arc[0] == 1
    assert r.demand_binding_kind[0] == "beam"


def test_delay_is_propagation_plus_mm1_at_the_carried_load() -> None:
    s_bits = 12_000.0
    r = route_and_allocate(
        3, [0, 1], [1, 2], [10e9, 4e9], [1e-3, 2e-3], [0], [2], [1e9], mean_packet_bits=s_bits
    )
    expected = 3e-3 + s_bits / (10e9 - 1e9) + s_bits / (4e9 - 1e9)
    assert r.demand_delay_s[0] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(r.arc_utilisation, [0.1, 0.25])


def test_allocate_paths_rejects_a_path_over_a_zero_capacity_arc() -> None:
    inc = sp.csr_matrix(np.array([[1.0, 1.0]]))
    with pytest.raises(DataError, match="mark it unusable"):
        allocate_paths(inc, [1.0], [1.0, 0.0])


# ------------------------------------------------------------------ invariants (hypothesis)


@st.composite
def _networks(draw: st.DrawFn) -> dict[str, np.ndarray | int]:
    n = draw(st.integers(2, 7))
    n_arcs = draw(st.integers(1, 16))
    src = np.array(draw(st.lists(st.integers(0, n - 1), min_size=n_arcs, max_size=n_arcs)))
    dst = np.array(draw(st.lists(st.integers(0, n - 1), min_size=n_arcs, max_size=n_arcs)))
    cap = np.array(
        draw(
            st.lists(
                st.one_of(st.just(0.0), st.floats(0.5, 50.0), st.just(np.inf)),
                min_size=n_arcs,
                max_size=n_arcs,
            )
        )
    )
    tau = np.array(draw(st.lists(st.floats(0.0, 5.0), min_size=n_arcs, max_size=n_arcs)))
    n_dem = draw(st.integers(1, 10))
    dsrc = np.array(draw(st.lists(st.integers(0, n - 1), min_size=n_dem, max_size=n_dem)))
    ddst = np.array(draw(st.lists(st.integers(0, n - 1), min_size=n_dem, max_size=n_dem)))
    off = np.array(draw(st.lists(st.floats(0.0, 40.0), min_size=n_dem, max_size=n_dem)))
    cls = np.array(draw(st.lists(st.integers(0, 2), min_size=n_dem, max_size=n_dem)))
    return {"n": n, "src": src, "dst": dst, "cap": cap, "tau": tau,
            "dsrc": dsrc, "ddst": ddst, "off": off, "cls": cls}  # fmt: skip


def _run(g: dict[str, np.ndarray | int], overflow_rounds: int = 0) -> FlowResult:
    return route_and_allocate(
        int(g["n"]), g["src"], g["dst"], g["cap"], g["tau"], g["dsrc"], g["ddst"], g["off"],
        g["cls"], mean_packet_bits=1.0, max_iterations=20, overflow_rounds=overflow_rounds,
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(_networks(), st.sampled_from([0, 50]))
def test_conservation_invariants(g: dict[str, np.ndarray | int], overflow_rounds: int) -> None:
    r = _run(g, overflow_rounds)
    off = np.asarray(g["off"])
    # offered = carried + blocked, per demand and per class; nothing negative.
    np.testing.assert_allclose(r.demand_carried_bps + r.demand_blocked_bps, off, atol=1e-9)
    assert np.all(r.demand_carried_bps >= 0.0)
    assert np.all(r.demand_blocked_bps >= -1e-12)
    classes, o, c, b = r.class_totals()
    for k, cl in enumerate(classes):
        assert o[k] == pytest.approx(off[np.asarray(g["cls"]) == cl].sum(), abs=1e-9)
        assert o[k] == pytest.approx(c[k] + b[k], abs=1e-9)
    # each arc's load is the sum of the carried path rates on it; each demand's carried rate
    # the sum over its paths.
    n_arcs = np.asarray(g["src"]).size
    expect = np.zeros(n_arcs)
    coo = r.incidence.tocoo()
    np.add.at(expect, coo.col, r.path_carried_bps[coo.row])
    np.testing.assert_allclose(r.arc_load_bps, expect, atol=1e-9)
    per_dem = np.bincount(r.path_demand, weights=r.path_carried_bps, minlength=off.size)
    np.testing.assert_allclose(np.minimum(per_dem, off), r.demand_carried_bps, atol=1e-9)
    # no arc above capacity unless reported; after allocation none is.
    cap = np.asarray(g["cap"])
    over = r.arc_load_bps > cap * (1.0 + 1e-9)
    assert np.array_equal(over, r.arc_overloaded)
    assert not np.any(r.arc_overloaded)
    # every path is a walk from its demand's source to its destination on usable arcs.
    n = int(g["n"])
    src, dst = np.asarray(g["src"]), np.asarray(g["dst"])
    e_out = sp.csr_matrix((np.ones(n_arcs), (np.arange(n_arcs), src)), shape=(n_arcs, n))
    e_in = sp.csr_matrix((np.ones(n_arcs), (np.arange(n_arcs), dst)), shape=(n_arcs, n))
    balance = np.asarray((r.incidence @ (e_out - e_in)).todense())
    want = np.zeros_like(balance)
    ds, dd = np.asarray(g["dsrc"])[r.path_demand], np.asarray(g["ddst"])[r.path_demand]
    rows = np.arange(r.path_demand.size)
    np.add.at(want, (rows, ds), 1.0)
    np.add.at(want, (rows, dd), -1.0)
    np.testing.assert_allclose(balance, want)
    assert np.all(cap[coo.col] > 0.0)
    # the binding resource of every blocked demand lies on one of its paths.
    blocked = np.flatnonzero(r.demand_blocked_bps > 1e-9)
    for f in blocked:  # a handful of demands per example: checking, not modelling
        arc = int(r.demand_binding_arc[f])
        paths = np.flatnonzero(r.path_demand == f)
        if paths.size == 0:
            assert arc == -1
            assert r.demand_binding_kind[f] == NO_PATH_KIND
            continue
        assert arc >= 0, f"demand {f} lost traffic but names no binding arc"
        assert r.incidence[paths][:, arc].nnz > 0
        assert r.demand_binding_kind[f] == "link"
        assert r.arc_pass_fraction[arc] < 1.0 or r.arc_utilisation[arc] >= 1.0 - 1e-9


# --------------------------------------------------------------------------- overflow


def _reaches(n: int, src: np.ndarray, dst: np.ndarray, use: np.ndarray, a: int, b: int) -> bool:
    """Whether node ``b`` is reachable from ``a`` over the arcs ``use`` (breadth-first)."""
    g = sp.csr_matrix((np.ones(int(use.sum())), (src[use], dst[use])), shape=(n, n))
    return bool(np.isin(b, breadth_first_order(g, a, directed=True, return_predecessors=False)))


@settings(max_examples=60, deadline=None)
@given(_networks())
def test_overflow_leaves_no_blocked_demand_a_path_with_spare_capacity(
    g: dict[str, np.ndarray | int],
) -> None:
    """After the overflow no blocked demand's destination is reachable from its source over
    arcs with spare capacity (a breadth-first search, independent of the routing); carried
    never falls below the plain allocation's, and the binding arc is full and on the boundary
    of the region the source still reaches."""
    r = _run(g, overflow_rounds=50)
    plain = _run(g)
    n = int(g["n"])
    src, dst, cap = np.asarray(g["src"]), np.asarray(g["dst"]), np.asarray(g["cap"])
    off = np.asarray(g["off"])
    assert r.demand_carried_bps.sum() >= plain.demand_carried_bps.sum() - 1e-9
    room = (cap > 0.0) & (np.isinf(cap) | (r.arc_load_bps < cap * (1.0 - 1e-6)))
    for f in np.flatnonzero(r.demand_blocked_bps > 1e-6 * np.maximum(off, 1.0)):
        a, b = int(np.asarray(g["dsrc"])[f]), int(np.asarray(g["ddst"])[f])
        assert not _reaches(n, src, dst, room, a, b), f"demand {f} could still overflow"
        arc = int(r.demand_binding_arc[f])
        if arc < 0:
            assert r.demand_binding_kind[f] == NO_PATH_KIND
            continue
        assert r.arc_utilisation[arc] >= 1.0 - 1e-6
        # the source side of the cut: its tail reached over room (or searched from the
        # destination: its head reaches the destination over room).
        tail_side = _reaches(n, src, dst, room, a, int(src[arc])) and not _reaches(
            n, src, dst, room, a, int(dst[arc])
        )
        head_side = _reaches(n, src, dst, room, int(dst[arc]), b) and not _reaches(
            n, src, dst, room, int(src[arc]), b
        )
        assert tail_side or head_side


def test_overflow_puts_the_blocked_excess_on_the_longer_path() -> None:
    """Closed form: 10 b/s from 0 to 2 over a short path of 4 b/s (0→1→2) and a long one of
    5 b/s (0→3→2). With no overload price the equilibrium puts everything on the short path,
    which carries 4; the overflow carries 5 more on the long one, and 1 b/s is blocked at the
    cut {0→1, 3→2}, named at the arc the equilibrium loaded most (0→1)."""
    args = (4, [0, 1, 0, 3], [1, 2, 3, 2], [4.0, 100.0, 100.0, 5.0], [1.0, 1.0, 2.0, 2.0])
    dem = ([0], [2], [10.0])
    plain = route_and_allocate(*args, *dem, mean_packet_bits=1e-6)
    assert plain.demand_carried_bps[0] == pytest.approx(4.0, rel=1e-9)
    r = route_and_allocate(*args, *dem, mean_packet_bits=1e-6, overflow_rounds=5)
    assert r.demand_carried_bps[0] == pytest.approx(9.0, rel=1e-9)
    assert r.demand_blocked_bps[0] == pytest.approx(1.0, rel=1e-9)
    assert r.arc_load_bps == pytest.approx([4.0, 4.0, 5.0, 5.0], rel=1e-9)
    assert int(r.demand_binding_arc[0]) == 0
    assert r.overflow_rounds == 1
    # Room for all of it on the long path: nothing blocked.
    wide = (4, [0, 1, 0, 3], [1, 2, 3, 2], [4.0, 100.0, 100.0, 50.0], [1.0, 1.0, 2.0, 2.0])
    r = route_and_allocate(*wide, *dem, mean_packet_bits=1e-6, overflow_rounds=5)
    assert r.demand_blocked_bps[0] == pytest.approx(0.0, abs=1e-9)
    assert (r.demand_binding_kind == "").all()


def test_overflow_carries_a_detour_and_blocks_only_the_demand_behind_the_cut() -> None:
    """Closed form. Demand A (0→3, 12 b/s) has a short path 0→2→3 and a detour 0→4→3;
    demand B (1→3, 6 b/s) only 1→2→3; 2→3 carries 8 b/s. The equilibrium puts both on 2→3,
    which passes 8/18 of them: A carries 5.33, B 2.67, both named at 2→3. The overflow moves
    A's 6.67 blocked b/s to the detour; B has no route left, its 3.33 blocked b/s named at
    2→3, the one full arc out of the nodes it reaches ({1, 2})."""
    n, src, dst = 5, [0, 1, 2, 0, 4], [2, 2, 3, 4, 3]
    cap, tau = [10.0, 100.0, 8.0, 100.0, 100.0], [1.0, 1.0, 1.0, 5.0, 5.0]
    dem = ([0, 1], [3, 3], [12.0, 6.0])
    plain = route_and_allocate(n, src, dst, cap, tau, *dem, mean_packet_bits=1e-6)
    assert plain.demand_carried_bps == pytest.approx([12 * 8 / 18, 6 * 8 / 18], rel=1e-6)
    assert plain.demand_binding_arc.tolist() == [2, 2]
    r = route_and_allocate(n, src, dst, cap, tau, *dem, mean_packet_bits=1e-6, overflow_rounds=9)
    assert r.demand_carried_bps == pytest.approx([12.0, 6 * 8 / 18], rel=1e-6)
    assert r.demand_binding_arc.tolist() == [-1, 2]
    b = 12 * 10 / 18
    assert r.arc_load_bps == pytest.approx([12 - b, 6 - 10 / 3, 8.0, b, b], rel=1e-6)
    assert r.overflow_rounds == 1


def test_overflow_names_the_cut_arc_whose_capacity_would_carry_more() -> None:
    """Closed form. 20 b/s from 0 to 3 over 0→1→3 (6 b/s each, short) and 0→2→3 (100 and
    4 b/s): 6 + 4 b/s carried, 10 blocked. All three full arcs bound the regions the demand
    reaches, but only more of 2→3 would carry more of it (0→1 and 1→3 are full in series), so
    2→3 is named, not 0→1, which the equilibrium loaded most (20 b/s offered)."""
    args = (4, [0, 1, 0, 2], [1, 3, 2, 3], [6.0, 6.0, 100.0, 4.0], [1.0, 1.0, 2.0, 2.0])
    r = route_and_allocate(*args, [0], [3], [20.0], mean_packet_bits=1e-6, overflow_rounds=5)
    assert r.demand_carried_bps[0] == pytest.approx(10.0, rel=1e-9)
    assert r.arc_offered_load_bps.tolist() == pytest.approx([20.0, 20.0, 0.0, 0.0])
    assert int(r.demand_binding_arc[0]) == 3


def test_many_sources_to_one_destination_walk_the_reversed_tree() -> None:
    # A line 0 -> 1 -> 2 -> 3 plus a shortcut 0 -> 3: three sources, one destination, so the
    # routing searches from the destination on the reversed graph.
    r = route_and_allocate(
        4, [0, 1, 2, 0], [1, 2, 3, 3], np.inf, [1.0, 1.0, 1.0, 2.5], [0, 1, 2], [3, 3, 3],
        [1.0, 1.0, 1.0],
    )  # fmt: skip
    assert [r.demand_path(f).tolist() for f in range(3)] == [[3], [1, 2], [2]]
    np.testing.assert_allclose(r.demand_delay_s, [2.5, 2.0, 1.0])


def test_line_search_stops_when_its_steps_stall() -> None:
    """Braess at 6,000 (interior equilibrium): Frank-Wolfe approaches it with ever smaller
    steps; with ``min_step`` it stops after five steps in a row below it, before reaching the
    gap, at loads within 1 % of the demand of the closed form (4,500 / 1,500 / 1,500 / 4,500 /
    3,000)."""

    def cost(x: np.ndarray) -> np.ndarray:
        return np.array([x[0] / 100.0, 45.0, 45.0, x[3] / 100.0, 0.0])

    args = (4, [0, 1, 0, 2, 1], [1, 3, 2, 3, 2], [0], [3], [6000.0], cost)
    full = wardrop_msa(*args, max_iterations=400, relative_gap=1e-12, step_rule="line-search")
    stalled = wardrop_msa(
        *args, max_iterations=400, relative_gap=1e-12, step_rule="line-search", min_step=1e-2
    )
    assert 5 < stalled.iterations < full.iterations
    np.testing.assert_allclose(stalled.arc_load_bps, [4500, 1500, 1500, 4500, 3000], atol=60.0)
    np.testing.assert_allclose(stalled.path_share.sum(), 1.0, rtol=1e-12)


def test_demands_alone_on_their_own_numbered_arcs_keep_their_paths() -> None:
    # Regression: demand f routed on arc f alone once hashed its path to the same key as every
    # other such demand, so the second was merged into the first's path and lost (no path).
    r = route_and_allocate(
        4, [0, 2], [1, 3], [10.0, 10.0], [0.0, 0.0], [0, 2, 2], [1, 3, 3], [8.0, 8.0, 1.0]
    )
    assert r.demand_carried_bps == pytest.approx([8.0, 8.0, 1.0])
    assert r.arc_load_bps == pytest.approx([8.0, 9.0])
    assert (r.demand_binding_kind == "").all()


# --------------------------------------------------------------------------- arc groups
# Two arcs that share one capacity (one physical direction represented twice, as the engine
# does for a satellite's laser link in its download and upload planes).


def test_grouped_arcs_share_their_capacity_in_the_allocation() -> None:
    # Arcs 0→1 and 2→3 share 10 b/s; 8 b/s offered on each and no other path: the group passes
    # 10/16 of what it is offered, so each demand carries 5 b/s (closed form), where separate
    # 10 b/s arcs would carry all 16.
    args = (4, [0, 2], [1, 3], [10.0, 10.0], [0.0, 0.0], [0, 2], [1, 3], [8.0, 8.0])
    alone = route_and_allocate(*args, mean_packet_bits=1.0)
    assert alone.demand_blocked_bps.tolist() == [0.0, 0.0]
    r = route_and_allocate(*args, mean_packet_bits=1.0, arc_group=[7, 7])
    assert r.demand_carried_bps == pytest.approx([5.0, 5.0], rel=1e-9)
    assert r.demand_binding_arc.tolist() == [0, 1]
    assert r.arc_load_bps == pytest.approx([5.0, 5.0], rel=1e-9)
    assert r.arc_shared_load_bps == pytest.approx([10.0, 10.0], rel=1e-9)
    assert r.arc_utilisation == pytest.approx([1.0, 1.0], rel=1e-9)
    assert not r.arc_overloaded.any()


def test_grouped_arcs_price_each_others_load_in_the_routing() -> None:
    # Demand A (0→1, 6 b/s) has a direct arc (τ 0) and a detour (τ 1 ms), each 10 b/s. The
    # direct arc shares its 10 b/s with arc 2→3, which carries demand B (6 b/s, no other path).
    # Closed form with the overload price P = 1 s and negligible queueing (1e-9-bit packets):
    # A fills the group's 4 b/s of room, then overloads it until P·over/C equals the detour's
    # 1 ms, over = 1e-3 · 10 / 1 = 0.01 b/s, and sends the remaining ≈ 1.99 b/s on the detour.
    # Without the group, all of A would stay on its direct arc.
    args = (4, [0, 0, 2], [1, 1, 3], [10.0, 10.0, 10.0], [0.0, 1e-3, 0.0], [0, 2], [1, 3])
    kw = {
        "mean_packet_bits": 1e-9,
        "overload_penalty_s": 1.0,
        "step_rule": "line-search",
        "max_iterations": 200,
        "relative_gap": 1e-12,
    }
    alone = route_and_allocate(*args, [6.0, 6.0], **kw)  # type: ignore[arg-type]
    assert alone.arc_offered_load_bps[1] == pytest.approx(0.0, abs=1e-6)
    r = route_and_allocate(*args, [6.0, 6.0], arc_group=[0, 1, 0], **kw)  # type: ignore[arg-type]
    # 5 % of the 0.01 b/s overload: the line search's residual (as in the ungrouped case).
    assert r.arc_offered_load_bps[0] == pytest.approx(4.01, abs=5e-4)
    assert r.arc_offered_load_bps[1] == pytest.approx(1.99, abs=5e-4)
    assert r.arc_shared_load_bps[0] <= 10.0 * (1 + 1e-9)
    assert r.demand_blocked_bps.sum() == pytest.approx(0.01, abs=1e-3)


def test_arc_group_needs_one_capacity_per_group() -> None:
    with pytest.raises(DataError, match="share one capacity"):
        route_and_allocate(
            3, [0, 1], [1, 2], [10.0, 5.0], [0.0, 0.0], [0], [2], [1.0], arc_group=[0, 0]
        )
    with pytest.raises(DataError, match="one per arc"):
        route_and_allocate(
            3, [0, 1], [1, 2], [10.0, 5.0], [0.0, 0.0], [0], [2], [1.0], arc_group=[0]
        )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    power=st.sampled_from([1.0, 4.0]),
)
def test_line_step_is_the_root_of_the_beckmann_derivative(seed: int, power: float) -> None:
    # Costs t = a + b (x / c)^p on a few arcs (p = 1: linear, the root in closed form
    # λ* = −Σ d (a + b x) / Σ b d², clipped to [0, 1]; p = 4: BPR, the root by scipy's brentq).
    from scipy.optimize import brentq

    from tsunagu.net.flow import _line_step

    rng = np.random.default_rng(seed)
    n = 6
    a = rng.uniform(1e-3, 1e-2, n)
    b = rng.uniform(1e-3, 1e-1, n)
    c = rng.uniform(1.0, 10.0, n)
    x = rng.uniform(0.0, 10.0, n)
    y = rng.uniform(0.0, 10.0, n)

    def cost(load: np.ndarray) -> np.ndarray:
        return np.asarray(a + b * (load / c) ** power)

    def slope(lam: float) -> float:
        return float(np.sum((y - x) * cost(x + lam * (y - x))))

    got = _line_step(cost, x, y)
    if slope(1.0) <= 0.0:
        want = 1.0
    elif slope(0.0) >= 0.0:
        want = 0.0
    elif power == 1.0:
        d = y - x
        want = float(-np.sum(d * (a + b * x / c)) / np.sum(b / c * d * d))
    else:
        want = float(brentq(slope, 0.0, 1.0, xtol=1e-14))
    assert got == pytest.approx(want, abs=1e-9)
