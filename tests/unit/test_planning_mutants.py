"""Planning terms pinned one by one against hand-worked values (found by mutation testing).

Every expected number below is worked out by hand in the comments from the formulas in the
module docstring of :mod:`tsunagu.orchestrate.planning` (the MILP of a generalised assignment
problem with site opening) — none is a snapshot of the code's output.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from scipy.optimize import OptimizeResult

import tsunagu.orchestrate.planning as planning_module
from tsunagu.errors import InfeasibleError, ScenarioError
from tsunagu.orchestrate.planning import (
    PlanningProblem,
    _lp_rounding,
    _served_share,
    aggregate_problem,
    objective_value,
    plan_greedy,
    plan_milp,
)
from tsunagu.orchestrate.policy import AllocationProblem
from tsunagu.orchestrate.view import NetworkView
from tsunagu.scenario.schema import Service
from tsunagu.sim.demand import PROFILES

INF = np.inf


def _problem(**kw: Any) -> PlanningProblem:
    base: dict[str, Any] = {
        "demand_rps": np.array([1.0, 2.0]),
        "load_gpu": np.array([1.0, 1.0]),
        "capacity_gpu": np.array([5.0, 5.0]),
        "latency_s": np.array([[0.01, 0.02], [0.03, 0.04]]),
        "sla_s": np.array([0.1, 0.1]),
        "cost_per_request": np.array([[1.0, 2.0], [3.0, 4.0]]),
    }
    base.update(kw)
    return PlanningProblem(**base)


# ---------------------------------------------------------------------------------------------
# PlanningProblem: shapes, signs, the allowed set and the default penalty


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("demand_rps", np.ones(3)),
        ("load_gpu", np.ones(3)),
        ("capacity_gpu", np.ones(3)),
        ("sla_s", np.ones(3)),
        ("cost_per_request", np.ones((2, 3))),
        ("availability", np.ones((3, 2))),
        ("required_availability", np.ones(3)),
        ("site_fixed", np.ones(3)),
    ],
)
def test_every_shape_is_checked_and_named(field: str, value: Any) -> None:
    with pytest.raises(ScenarioError, match=rf"PlanningProblem\.{field} has shape") as exc:
        _problem(**{field: value})
    assert "for 2 flows and 2 sites" in str(exc.value)


def test_matching_optional_shapes_are_accepted() -> None:
    p = _problem(
        availability=np.ones((2, 2)),
        required_availability=np.zeros(2),
        site_fixed=np.zeros(2),
    )
    assert (p.n_flows, p.n_sites) == (2, 2)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"demand_rps": np.array([1.0, -1e-9])}, "demand_rps and load_gpu must be >= 0"),
        ({"load_gpu": np.array([-1e-9, 1.0])}, "demand_rps and load_gpu must be >= 0"),
        ({"capacity_gpu": np.array([5.0, -1e-9])}, "capacity_gpu must be >= 0"),
        ({"site_fixed": np.array([-1e-9, 0.0])}, "site_fixed must be >= 0"),
        ({"cost_per_request": np.array([[INF, 2.0], [3.0, 4.0]])}, "must be finite"),
        ({"cost_per_request": np.array([[1.0, 2.0], [3.0, np.nan]])}, "must be finite"),
    ],
)
def test_negative_inputs_and_infinite_allowed_costs_are_refused(
    kw: dict[str, Any], match: str
) -> None:
    with pytest.raises(ScenarioError, match=match):
        _problem(**kw)


def test_zero_inputs_are_valid_and_non_finite_cost_is_fine_where_not_allowed() -> None:
    p = _problem(
        demand_rps=np.zeros(2),
        load_gpu=np.zeros(2),
        capacity_gpu=np.zeros(2),
        site_fixed=np.zeros(2),
        # flow 1 may not use site 1 (latency above its SLA), so its cost there is never used
        latency_s=np.array([[0.01, 0.02], [0.03, 0.5]]),
        cost_per_request=np.array([[1.0, 2.0], [3.0, INF]]),
    )
    assert p.allowed.tolist() == [[True, True], [True, False]]


def test_allowed_boundaries_are_inclusive() -> None:
    # latency == SLA is allowed, availability == required is allowed; inf latency never is.
    p = _problem(
        latency_s=np.array([[0.1, 0.1 + 1e-12], [INF, 0.0]]),
        sla_s=np.array([0.1, INF]),
        availability=np.array([[0.999, 0.999], [1.0, 0.999 - 1e-12]]),
        required_availability=np.array([0.999, 0.999]),
        cost_per_request=np.array([[1.0, 2.0], [3.0, 4.0]]),
    )
    assert p.allowed.tolist() == [[True, False], [False, False]]
    assert p.allowed.dtype == np.bool_


def test_availability_applies_only_with_a_requirement() -> None:
    low = np.array([[0.1, 0.1], [0.1, 0.1]])
    assert _problem(availability=low).allowed.all()
    assert _problem(required_availability=np.array([0.9, 0.9])).allowed.all()
    assert not _problem(availability=low, required_availability=np.array([0.9, 0.9])).allowed.any()


def test_default_penalty_closed_form() -> None:
    # 2·max|c| + Σ fixed / min(positive rps) + 1 = 2·7 + (3 + 5)/0.5 + 1 = 31; the zero-demand
    # flow is left out of the minimum, the −7 enters through |c|, the inf cost (not allowed:
    # latency inf) is left out of the maximum.
    p = _problem(
        demand_rps=np.array([0.0, 0.5, 4.0]),
        load_gpu=np.ones(3),
        latency_s=np.array([[0.01, INF], [0.01, 0.01], [0.01, 0.01]]),
        sla_s=np.ones(3),
        cost_per_request=np.array([[1.0, INF], [-7.0, 2.0], [3.0, 4.0]]),
        site_fixed=np.array([3.0, 5.0]),
    )
    assert p.penalty == pytest.approx(31.0, rel=1e-15)
    assert isinstance(p.penalty, float)
    # without fixed costs the middle term is 0: 2·7 + 1
    q = _problem(cost_per_request=np.array([[1.0, 2.0], [-7.0, 4.0]]))
    assert q.penalty == pytest.approx(15.0, rel=1e-15)
    # no positive demand: no per-rps term (and no division by zero)
    z = _problem(demand_rps=np.zeros(2), site_fixed=np.array([3.0, 5.0]))
    assert z.penalty == pytest.approx(2.0 * 4.0 + 1.0, rel=1e-15)
    # an explicit penalty wins and is returned as a float
    e = _problem(unserved_penalty=np.int64(123))
    assert e.penalty == 123.0
    assert type(e.penalty) is float


def test_default_penalty_with_all_costs_zero_is_one() -> None:
    assert _problem(cost_per_request=np.zeros((2, 2))).penalty == 1.0


# ---------------------------------------------------------------------------------------------
# from_allocation


def _allocation(**kw: Any) -> AllocationProblem:
    base: dict[str, Any] = {
        "latency_s": np.array([[0.01, INF], [0.02, 0.03]]),
        "load_gpu": np.array([0.5, 0.25]),
        "capacity_gpu": np.array([1.0, 2.0]),
        "sla_s": np.array([0.05, 0.05]),
        "carbon_g_per_request": np.array([[1.0, INF], [2.0, 3.0]]),
        "energy_wh_per_request": np.array([[10.0, INF], [20.0, 30.0]]),
        "cost_per_request": np.array([[100.0, INF], [200.0, 300.0]]),
    }
    base.update(kw)
    return AllocationProblem(**base)


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        ("carbon", [[1.0, 0.0], [2.0, 3.0]]),
        ("energy", [[10.0, 0.0], [20.0, 30.0]]),
        ("latency", [[0.01, 0.0], [0.02, 0.03]]),
        ("cost", [[100.0, 0.0], [200.0, 300.0]]),
    ],
)
def test_from_allocation_takes_the_named_objective_and_zeroes_unreachable(
    objective: str, expected: list[list[float]]
) -> None:
    a = _allocation()
    p = PlanningProblem.from_allocation(a, [3, 4], objective)
    np.testing.assert_array_equal(p.cost_per_request, expected)
    np.testing.assert_array_equal(p.demand_rps, [3.0, 4.0])
    assert p.demand_rps.dtype == np.float64
    np.testing.assert_array_equal(p.load_gpu, a.load_gpu)
    np.testing.assert_array_equal(p.capacity_gpu, a.capacity_gpu)
    np.testing.assert_array_equal(p.latency_s, a.latency_s)
    np.testing.assert_array_equal(p.sla_s, a.sla_s)
    assert p.site_fixed is None


def test_from_allocation_defaults_to_carbon_and_converts_site_fixed() -> None:
    p = PlanningProblem.from_allocation(_allocation(), [1, 1], site_fixed=[1, 2])
    np.testing.assert_array_equal(p.cost_per_request, [[1.0, 0.0], [2.0, 3.0]])
    assert p.site_fixed is not None
    assert p.site_fixed.dtype == np.float64
    np.testing.assert_array_equal(p.site_fixed, [1.0, 2.0])


def test_from_allocation_errors_name_the_objective() -> None:
    with pytest.raises(ScenarioError, match=r"unknown objective 'water'.*'carbon'"):
        PlanningProblem.from_allocation(_allocation(), [1, 1], "water")
    with pytest.raises(ScenarioError, match="has no energy per request"):
        PlanningProblem.from_allocation(_allocation(energy_wh_per_request=None), [1, 1], "energy")
    with pytest.raises(ScenarioError, match="has no cost per request"):
        PlanningProblem.from_allocation(_allocation(cost_per_request=None), [1, 1], "cost")


# ---------------------------------------------------------------------------------------------
# objective_value and served share


def test_objective_value_hand_worked_with_site_opening() -> None:
    # flows (rps 1, 2, 4) at sites (0, -1, 0), site 1 unused:
    # served 1·1 + 4·5 = 21; unserved 2·penalty(=100); fixed cost of site 0 only (3).
    p = PlanningProblem(
        demand_rps=np.array([1.0, 2.0, 4.0]),
        load_gpu=np.array([1.0, 1.0, 1.0]),
        capacity_gpu=np.array([2.0, 2.0]),
        latency_s=np.full((3, 2), 0.01),
        sla_s=np.full(3, 0.1),
        cost_per_request=np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
        site_fixed=np.array([3.0, 50.0]),
        unserved_penalty=100.0,
    )
    assert objective_value(p, [0, -1, 0]) == pytest.approx(21.0 + 200.0 + 3.0, rel=1e-15)
    # both sites open: 1·2 + 2·3 + 4·5 + 3 + 50
    assert objective_value(p, [1, 0, 0]) == pytest.approx(2.0 + 6.0 + 20.0 + 53.0, rel=1e-15)
    # nothing served: no site opens
    assert objective_value(p, [-1, -1, -1]) == pytest.approx(700.0, rel=1e-15)


def test_capacity_check_tolerance_is_relative_and_absolute() -> None:
    # capacity 1e6: the tolerance is 1e6·1e-9 + 1e-9 ≈ 1.000000001e-3 GPU-s/s.
    p = _problem(
        load_gpu=np.array([5e5, 5e5 + 9e-4]),
        capacity_gpu=np.array([1e6, 1e6]),
    )
    assert objective_value(p, [0, 0]) == pytest.approx(1.0 + 6.0)
    over = _problem(load_gpu=np.array([5e5, 5e5 + 2e-3]), capacity_gpu=np.array([1e6, 1e6]))
    with pytest.raises(InfeasibleError, match="site 0 carries 1e\\+06 GPU-s/s above"):
        objective_value(over, [0, 0])
    # at zero capacity only the absolute 1e-9 is left
    z = _problem(load_gpu=np.array([5e-10, 2e-9]), capacity_gpu=np.array([0.0, 0.0]))
    assert objective_value(z, [0, -1]) == pytest.approx(1.0 + 2.0 * z.penalty)
    with pytest.raises(InfeasibleError, match="site 1 carries"):
        objective_value(z, [-1, 1])


def test_objective_value_names_the_first_bad_flow() -> None:
    p = _problem(latency_s=np.array([[0.01, 0.5], [0.5, 0.04]]))
    with pytest.raises(InfeasibleError, match="flow 1 is placed at site 0"):
        objective_value(p, [0, 0])
    with pytest.raises(InfeasibleError, match="flow 0 is placed at site 1"):
        objective_value(p, [1, 0])


def test_served_share_weights_by_demand() -> None:
    p = _problem(demand_rps=np.array([1.0, 3.0]))
    assert _served_share(p, np.array([-1, 0])) == 0.75
    assert _served_share(p, np.array([0, -1])) == 0.25
    assert _served_share(_problem(demand_rps=np.zeros(2)), np.array([-1, -1])) == 1.0


# ---------------------------------------------------------------------------------------------
# plan_greedy and plan_milp: the plan's fields


def _tight() -> PlanningProblem:
    # Two flows want site 0 (cost 1 each); it holds only one. Optimum: flow with the larger
    # saving (flow 1: 1·(10 − 1) vs flow 0: 1·(2 − 1)) at site 0, the other at site 1:
    # 1·2 + 1·1 = 3. Greedy asks in flow order at equal cost and puts flow 0 first: 1 + 10 = 11.
    return PlanningProblem(
        demand_rps=np.array([1.0, 1.0]),
        load_gpu=np.array([1.0, 1.0]),
        capacity_gpu=np.array([1.0, 1.0]),
        latency_s=np.full((2, 2), 0.01),
        sla_s=np.full(2, 0.1),
        cost_per_request=np.array([[1.0, 2.0], [1.0, 10.0]]),
    )


def test_greedy_plan_fields() -> None:
    g = plan_greedy(_tight())
    assert g.site.tolist() == [0, 1]
    assert g.objective == pytest.approx(11.0, rel=1e-15)
    assert np.isnan(g.bound)
    assert np.isnan(g.gap)
    assert g.optimal is False
    assert g.method == "greedy"
    assert g.served_share == 1.0
    assert g.runtime_s >= 0.0


@pytest.mark.parametrize("warm_start", [True, False])
@pytest.mark.parametrize("time_limit_s", [60.0, None])
def test_milp_plan_fields(warm_start: bool, time_limit_s: float | None) -> None:
    m = plan_milp(_tight(), time_limit_s=time_limit_s, warm_start=warm_start)
    assert m.site.tolist() == [1, 0]
    assert m.site.dtype == np.int64
    assert m.objective == pytest.approx(3.0, rel=1e-12)
    assert m.bound == pytest.approx(3.0, rel=1e-9)
    assert 0.0 <= m.gap <= 1e-9
    assert m.optimal is True
    assert m.method == "milp (highs)"  # ties go to HiGHS's own incumbent
    assert m.served_share == 1.0
    assert m.runtime_s >= 0.0


def test_milp_reports_unserved_demand_and_its_penalty() -> None:
    # One site of capacity 1; flows of load 1 and 2: only flow 0 fits, flow 1 is unserved.
    p = PlanningProblem(
        demand_rps=np.array([1.0, 3.0]),
        load_gpu=np.array([1.0, 2.0]),
        capacity_gpu=np.array([1.0]),
        latency_s=np.full((2, 1), 0.01),
        sla_s=np.full(2, 0.1),
        cost_per_request=np.array([[2.0], [2.0]]),
    )
    m = plan_milp(p)
    assert m.site.tolist() == [0, -1]
    # 1·2 + 3·penalty, penalty = 2·2 + 1 = 5
    assert m.objective == pytest.approx(2.0 + 15.0, rel=1e-12)
    assert m.served_share == pytest.approx(0.25, rel=1e-15)


def test_milp_opens_only_paying_sites() -> None:
    # Site 1 is cheaper per request (1 vs 2) but costs 10 to open; 3 rps of demand saves only
    # 3·1 = 3 < 10 there, so site 0 serves everything: 3·2 + 1 = 7 (site 0 opens for 1).
    p = PlanningProblem(
        demand_rps=np.array([1.0, 2.0]),
        load_gpu=np.array([1.0, 1.0]),
        capacity_gpu=np.array([5.0, 5.0]),
        latency_s=np.full((2, 2), 0.01),
        sla_s=np.full(2, 0.1),
        cost_per_request=np.array([[2.0, 1.0], [2.0, 1.0]]),
        site_fixed=np.array([1.0, 10.0]),
    )
    m = plan_milp(p, mip_rel_gap=0.0)
    assert m.site.tolist() == [0, 0]
    assert m.objective == pytest.approx(7.0, rel=1e-12)
    assert m.bound == pytest.approx(7.0, rel=1e-9)
    # greedy ignores the opening cost: both at site 1, 3·1 + 10 = 13
    g = plan_greedy(p)
    assert g.site.tolist() == [1, 1]
    assert g.objective == pytest.approx(13.0, rel=1e-12)
    # with more demand opening site 1 pays: 30 rps save 30 > 10 − 1
    q = PlanningProblem(
        demand_rps=np.array([10.0, 20.0]),
        load_gpu=np.array([1.0, 1.0]),
        capacity_gpu=np.array([5.0, 5.0]),
        latency_s=np.full((2, 2), 0.01),
        sla_s=np.full(2, 0.1),
        cost_per_request=np.array([[2.0, 1.0], [2.0, 1.0]]),
        site_fixed=np.array([1.0, 10.0]),
    )
    assert plan_milp(q, mip_rel_gap=0.0).objective == pytest.approx(30.0 + 10.0, rel=1e-12)


def test_milp_site_fixed_all_zero_is_the_problem_without_sites() -> None:
    p = _tight()
    q = PlanningProblem(
        demand_rps=p.demand_rps,
        load_gpu=p.load_gpu,
        capacity_gpu=p.capacity_gpu,
        latency_s=p.latency_s,
        sla_s=p.sla_s,
        cost_per_request=p.cost_per_request,
        site_fixed=np.zeros(2),
    )
    m = plan_milp(q)
    assert m.site.tolist() == [1, 0]
    assert m.objective == pytest.approx(3.0, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# LP rounding


def test_lp_rounding_keeps_integral_flows_and_places_the_rest_in_leftover_capacity() -> None:
    # 3 flows, 2 sites, every pair allowed; x_lp over pairs in np.nonzero order
    # (f0s0, f0s1, f1s0, f1s1, f2s0, f2s1).
    p = PlanningProblem(
        demand_rps=np.ones(3),
        load_gpu=np.array([2.0, 1.0, 1.0]),
        capacity_gpu=np.array([2.5, 1.0]),
        latency_s=np.full((3, 2), 0.01),
        sla_s=np.full(3, 0.1),
        cost_per_request=np.array([[1.0, 5.0], [1.0, 2.0], [3.0, 1.0]]),
    )
    ff, ss = np.nonzero(p.allowed)
    # f0 wholly at s0 (1 − 1e-10 counts as whole), f1 split, f2 wholly at s1.
    x = np.array([1.0 - 1e-10, 0.0, 0.5, 0.5, 0.0, 1.0])
    site = _lp_rounding(p, x, ff, ss)
    # leftover: s0 2.5 − 2 = 0.5, s1 1 − 1 = 0: flow 1 (load 1) fits nowhere
    assert site.tolist() == [0, -1, 1]
    # with s0 holding 3, flow 1 takes its cheapest site with room (s0, cost 1)
    q = PlanningProblem(
        demand_rps=np.ones(3),
        load_gpu=np.array([2.0, 1.0, 1.0]),
        capacity_gpu=np.array([3.0, 1.0]),
        latency_s=np.full((3, 2), 0.01),
        sla_s=np.full(3, 0.1),
        cost_per_request=np.array([[1.0, 5.0], [1.0, 2.0], [3.0, 1.0]]),
    )
    assert _lp_rounding(q, x, ff, ss).tolist() == [0, 0, 1]
    # a value just below the 1 − 1e-9 threshold is not whole: f0 then competes greedily too
    x2 = np.array([1.0 - 1e-8, 0.0, 0.5, 0.5, 0.0, 1.0])
    # rest = f0, f1 at s0 (leftover 3): cheapest first (both cost 1; stable order f0, f1):
    # cumulative loads 2, 3 both fit
    assert _lp_rounding(q, x2, ff, ss).tolist() == [0, 0, 1]
    assert _lp_rounding(p, x2, ff, ss).tolist() == [0, -1, 1]


def test_lp_rounding_respects_the_allowed_set_and_clamps_negative_leftover() -> None:
    # f1 may not use s0 (latency above its SLA). x puts f0 at s0 with load 2 > capacity 1.5
    # (an LP within tolerance cannot, but the leftover must clamp at 0, not go negative).
    p = PlanningProblem(
        demand_rps=np.ones(2),
        load_gpu=np.array([2.0, 0.5]),
        capacity_gpu=np.array([1.5, 1.0]),
        latency_s=np.array([[0.01, 0.01], [0.5, 0.01]]),
        sla_s=np.full(2, 0.1),
        cost_per_request=np.array([[1.0, 1.0], [0.1, 9.0]]),
    )
    ff, ss = np.nonzero(p.allowed)  # f0s0, f0s1, f1s1
    site = _lp_rounding(p, np.array([1.0, 0.0, 0.0]), ff, ss)
    assert site.tolist() == [0, 1]
    assert site.dtype == np.int64


# ---------------------------------------------------------------------------------------------
# aggregate_problem: demand, latency, load and per-request objectives by hand


def _service(**kw: Any) -> Service:
    return Service(**kw)


def _twin_and_view(with_price: bool = True) -> tuple[Any, NetworkView]:
    services = [
        # A: 0.2 × 8.64 / 86 400 = 2e-5 requests/s per person, flat profile (weight 1)
        _service(
            name="a",
            energy_wh_per_request=0.5,
            processing_s=0.02,
            request_bytes=1000.0,
            response_bytes=4000.0,  # 40 000 bits
            sla_latency_ms=75.0,
            adoption=0.2,
            requests_per_user_per_day=8.64,
            profile="flat",
        ),
        # B: 0.5 × 17.28 / 86 400 = 1e-4 requests/s per person × the residential weight
        _service(
            name="b",
            energy_wh_per_request=2.0,
            processing_s=0.1,
            request_bytes=500.0,
            response_bytes=500.0,  # 8 000 bits
            sla_latency_ms=200.0,
            adoption=0.5,
            requests_per_user_per_day=17.28,
            profile="residential",
        ),
    ]
    twin = SimpleNamespace(
        scenario=SimpleNamespace(services=services),
        demand=SimpleNamespace(population=np.array([100_000.0, 50_000.0, 25_000.0])),
        gpu_s=np.array([[0.01, 0.02], [0.05, 0.04]]),  # (K, S) GPU-s per request
    )
    p, a, s = 3, 2, 2  # three points, two services: P ≠ K
    view = NetworkView(
        time_s=0.0,
        access_names=("x", "y"),
        point_name=np.array(["p0", "p1", "p2"]),
        site_name=np.array(["s0", "s1"]),
        access_ok=np.array([[True, False], [True, True], [True, False]]),
        # point 0's second access has no rate (its tx time is inf: never the best)
        access_rate_bps=np.array([[1e6, 0.0], [2e6, 4e5], [1e6, 0.0]]),
        one_way_s=np.array(
            [
                [[0.005, INF], [0.001, 0.001]],
                [[0.004, INF], [0.002, 0.003]],
                [[0.005, INF], [0.001, 0.001]],  # p2: p0's paths
            ]
        ),
        availability=np.ones((p, a, s)),
        geometry_floor_s=np.full((p, s), 1e-4),
        distance_km=np.full((p, s), 30.0),
        site_up=np.ones(s, dtype=bool),
        site_gpus=np.array([10.0, 20.0]),
        site_capacity_gpu=np.array([10.0, 20.0]),
        site_gpu_power_w=np.array([700.0, 700.0]),
        site_pue=np.array([1.2, 1.5]),
        site_carbon_g_per_kwh=np.array([400.0, 100.0]),
        site_cost_per_gpu_hour=np.array([3.6, 7.2]) if with_price else None,
    )
    return twin, view


# Flows in order (p0, a), (p0, b), (p1, a), (p1, b), (p2, a), (p2, b). Latency = min over access of
# 2·one_way + bits/rate, + processing:
#  p0 a: s0 2·0.005 + 0.04 + 0.02 = 0.07;  s1 inf (the only finite path has no rate)
#  p0 b: s0 2·0.005 + 0.008 + 0.1 = 0.118; s1 inf
#  p1 a: s0 min(0.008 + 0.02, 0.004 + 0.1) + 0.02 = 0.048; s1 0.006 + 0.1 + 0.02 = 0.126
#  p1 b: s0 min(0.008 + 0.004, 0.004 + 0.02) + 0.1 = 0.112; s1 0.006 + 0.02 + 0.1 = 0.126
#  p2 (p0's access and paths, a quarter of its people): as p0
LATENCY = np.array(
    [[0.07, INF], [0.118, INF], [0.048, 0.126], [0.112, 0.126], [0.07, INF], [0.118, INF]]
)


def _rps(hour: int, scale: float = 1.0) -> np.ndarray:
    w = float(PROFILES["residential"][hour])
    return np.array([2.0, 10.0 * w, 1.0, 5.0 * w, 0.5, 2.5 * w]) * scale


@pytest.mark.parametrize(
    ("objective", "cost"),
    [
        # energy × PUE: a (0.6, 0.75), b (2.4, 3.0)
        ("energy", [[0.6, 0.75], [2.4, 3.0]] * 3),
        # facility Wh / 1000 × g/kWh: a (0.24, 0.075), b (0.96, 0.3)
        ("carbon", [[0.24, 0.075], [0.96, 0.3]] * 3),
        # GPU-s / 3600 × price per GPU-hour: a (1e-5, 4e-5), b (5e-5, 8e-5)
        ("cost", [[1e-5, 4e-5], [5e-5, 8e-5]] * 3),
        # the latency itself, 0 where unreachable
        (
            "latency",
            [[0.07, 0.0], [0.118, 0.0], [0.048, 0.126], [0.112, 0.126], [0.07, 0.0], [0.118, 0.0]],
        ),
    ],
)
def test_aggregate_problem_hand_worked(objective: str, cost: list[list[float]]) -> None:
    twin, view = _twin_and_view()
    p = aggregate_problem(twin, view, 9.0, objective, 2.5)
    rps = _rps(9, 2.5)
    np.testing.assert_allclose(p.demand_rps, rps, rtol=1e-13)
    # load: rps × the largest GPU-s per request over sites (a 0.02, b 0.05)
    np.testing.assert_allclose(p.load_gpu, rps * np.array([0.02, 0.05] * 3), rtol=1e-13)
    np.testing.assert_array_equal(p.capacity_gpu, [10.0, 20.0])
    np.testing.assert_allclose(p.latency_s, LATENCY, rtol=1e-13)
    np.testing.assert_allclose(p.sla_s, [0.075, 0.2] * 3, rtol=1e-15)
    np.testing.assert_allclose(p.cost_per_request, cost, rtol=1e-13)
    assert p.site_fixed is None
    assert p.availability is None


def test_aggregate_problem_defaults_are_carbon_at_20h_unscaled() -> None:
    twin, view = _twin_and_view()
    p = aggregate_problem(twin, view)
    np.testing.assert_allclose(p.demand_rps, _rps(20), rtol=1e-13)
    np.testing.assert_allclose(p.cost_per_request[:2], [[0.24, 0.075], [0.96, 0.3]], rtol=1e-13)
    # the hour reads the residential bins: 20:30 is the 20 h bin, 44 h wraps to 20 h
    for hour in (20.5, 44.0):
        q = aggregate_problem(twin, view, hour)
        np.testing.assert_allclose(q.demand_rps, _rps(20), rtol=1e-13)


def test_aggregate_problem_refuses_bad_scale_and_missing_price() -> None:
    twin, view = _twin_and_view(with_price=False)
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(ScenarioError, match="demand_scale must be > 0"):
            aggregate_problem(twin, view, 20.0, "carbon", bad)
    with pytest.raises(ScenarioError, match="objective 'cost' needs data the scenario lacks"):
        aggregate_problem(twin, view, 20.0, "cost")
    # without a price the other objectives still work
    p = aggregate_problem(twin, view, 20.0, "energy")
    np.testing.assert_allclose(p.cost_per_request[0], [0.6, 0.75], rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# plan_milp: what reaches HiGHS, and what comes back when it stops early

_real_milp = planning_module.milp


def _spy(monkeypatch: pytest.MonkeyPatch, mip_result: Any = None) -> list[dict[str, Any]]:
    """Record every ``milp`` call; ``mip_result(res)`` may replace the integer solve's result."""
    calls: list[dict[str, Any]] = []

    def fake(c: Any, **kw: Any) -> Any:
        calls.append({**kw, "options": dict(kw.get("options") or {})})
        res = _real_milp(c, **kw)
        integral = kw.get("integrality") is not None and bool(np.any(kw["integrality"]))
        return mip_result(res) if integral and mip_result is not None else res

    monkeypatch.setattr(planning_module, "milp", fake)
    return calls


def test_milp_options_reach_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch)
    plan_milp(_tight(), time_limit_s=5.0, mip_rel_gap=0.25)
    lp, mip = calls  # the LP relaxation (warm start), then the MILP
    assert lp["options"] == {"disp": False}
    assert not np.any(lp["integrality"])
    assert len(lp["constraints"]) == 2
    assert mip["options"]["disp"] is False
    assert mip["options"]["mip_rel_gap"] == 0.25
    # the limit covers the whole call: HiGHS gets what is left of the 5 s
    assert 0.0 < mip["options"]["time_limit"] <= 5.0
    # x (4 pairs) and y binary, u (2 flows) continuous
    np.testing.assert_array_equal(mip["integrality"], [1, 1, 1, 1, 0, 0])
    calls.clear()
    plan_milp(_tight(), time_limit_s=0.0)
    assert calls[-1]["options"]["time_limit"] == 1e-3  # never a zero or negative limit
    calls.clear()
    plan_milp(_tight(), time_limit_s=None)
    assert "time_limit" not in calls[-1]["options"]
    calls.clear()
    plan_milp(_tight())  # defaults: warm start, 60 s, gap 1e-6
    assert len(calls) == 2
    assert calls[-1]["options"]["mip_rel_gap"] == 1e-6
    assert 0.0 < calls[-1]["options"]["time_limit"] <= 60.0


def test_milp_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    plan_milp(_tight())
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def _no_incumbent(res: Any) -> Any:
    return OptimizeResult(x=None, status=1, message="Time limit reached")


def test_plan_comes_from_lp_rounding_when_highs_has_no_incumbent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _spy(monkeypatch, _no_incumbent)
    # greedy gives 11 on _tight, the LP relaxation is integral at the optimum 3
    m = plan_milp(_tight())
    assert m.method == "milp (lp-rounding)"
    assert m.site.tolist() == [1, 0]
    assert m.objective == pytest.approx(3.0, rel=1e-12)
    # no bound from HiGHS and no proof: bound and gap are unknown, not the objective
    assert np.isnan(m.bound)
    assert np.isnan(m.gap)
    assert m.optimal is False


def test_greedy_wins_ties_among_heuristics(monkeypatch: pytest.MonkeyPatch) -> None:
    _spy(monkeypatch, _no_incumbent)
    p = _problem(capacity_gpu=np.array([10.0, 10.0]))  # loose: greedy is optimal (1 + 6)
    m = plan_milp(p)
    assert m.method == "milp (greedy)"
    assert m.objective == pytest.approx(7.0, rel=1e-12)


def test_no_placement_at_all_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _spy(monkeypatch, _no_incumbent)
    with pytest.raises(InfeasibleError, match=r"HiGHS found no placement \(Time limit reached\)"):
        plan_milp(_tight(), warm_start=False)


def _stopped_with_bound(bound: float) -> Any:
    def replace(res: Any) -> Any:
        out = OptimizeResult(dict(res))
        out.status = 1  # stopped by the time limit with an incumbent
        out.mip_dual_bound = bound
        return out

    return replace


@pytest.mark.parametrize(
    ("cost", "value", "bound", "gap"),
    [
        # _tight: optimum 3 (flow 1 at site 0, flow 0 at site 1); (3 − 1.5) / 3
        ([[1.0, 2.0], [1.0, 10.0]], 3.0, 1.5, 0.5),
        # flow 1 at site 0 (0) + flow 0 at site 1 (2) = 2 beats 1 + 10; (2 − 0.5) / 2
        ([[1.0, 2.0], [0.0, 10.0]], 2.0, 0.5, 0.75),
    ],
)
def test_gap_to_highs_dual_bound(
    monkeypatch: pytest.MonkeyPatch,
    cost: list[list[float]],
    value: float,
    bound: float,
    gap: float,
) -> None:
    _spy(monkeypatch, _stopped_with_bound(bound))
    p = _problem(
        demand_rps=np.array([1.0, 1.0]),
        load_gpu=np.array([1.0, 1.0]),
        capacity_gpu=np.array([1.0, 1.0]),
        cost_per_request=np.array(cost),
    )
    m = plan_milp(p, mip_rel_gap=gap)
    assert m.objective == pytest.approx(value, rel=1e-12)
    assert m.bound == bound
    assert m.gap == pytest.approx(gap, rel=1e-12)
    assert m.optimal is True  # gap within mip_rel_gap (inclusive), although HiGHS stopped
    assert plan_milp(p, mip_rel_gap=gap * 0.99).optimal is False


def test_gap_with_unit_and_negative_objectives(monkeypatch: pytest.MonkeyPatch) -> None:
    one = _problem(
        demand_rps=np.array([1.0]),
        load_gpu=np.array([1.0]),
        capacity_gpu=np.array([1.0]),
        latency_s=np.array([[0.01]]),
        sla_s=np.array([0.1]),
        cost_per_request=np.array([[1.0]]),
    )
    neg = _problem(
        demand_rps=np.array([1.0]),
        load_gpu=np.array([1.0]),
        capacity_gpu=np.array([1.0]),
        latency_s=np.array([[0.01]]),
        sla_s=np.array([0.1]),
        cost_per_request=np.array([[-2.0]]),
    )
    _spy(monkeypatch, _stopped_with_bound(0.25))
    m = plan_milp(one)
    assert m.objective == 1.0
    assert m.gap == pytest.approx(0.75, rel=1e-12)
    _spy(monkeypatch, _stopped_with_bound(-3.0))
    m = plan_milp(neg)
    # (−2 − (−3)) / |−2| = 0.5
    assert m.objective == -2.0
    assert m.gap == pytest.approx(0.5, rel=1e-12)


def test_zero_objective_has_zero_gap() -> None:
    m = plan_milp(_problem(cost_per_request=np.zeros((2, 2))))
    assert m.objective == 0.0
    assert m.gap == 0.0
    assert m.optimal is True


def test_runtime_is_the_call_duration() -> None:
    for plan in (plan_milp, plan_greedy):
        t0 = time.perf_counter()
        r = plan(_tight())
        elapsed = time.perf_counter() - t0
        assert 0.0 <= r.runtime_s <= elapsed


def test_small_fixed_costs_still_open_sites() -> None:
    # one flow: site 0 costs 1 + 0.5 to open, site 1 costs 1.3 and nothing to open → site 1
    p = _problem(
        demand_rps=np.array([1.0]),
        load_gpu=np.array([1.0]),
        capacity_gpu=np.array([5.0, 5.0]),
        latency_s=np.array([[0.01, 0.01]]),
        sla_s=np.array([0.1]),
        cost_per_request=np.array([[1.0, 1.3]]),
        site_fixed=np.array([0.5, 0.0]),
    )
    m = plan_milp(p)
    assert m.site.tolist() == [1]
    assert m.objective == pytest.approx(1.3, rel=1e-12)


def test_a_flow_without_load_still_opens_its_site() -> None:
    # x ≤ y: with zero load the capacity row cannot force y, so only the link rows make a
    # zero-load flow pay its site's opening. Site 0: 1 + 10; site 1: 2 + 0 → site 1.
    p = _problem(
        demand_rps=np.array([1.0]),
        load_gpu=np.array([0.0]),
        capacity_gpu=np.array([5.0, 5.0]),
        latency_s=np.array([[0.01, 0.01]]),
        sla_s=np.array([0.1]),
        cost_per_request=np.array([[1.0, 2.0]]),
        site_fixed=np.array([10.0, 0.0]),
    )
    m = plan_milp(p, mip_rel_gap=0.0)
    assert m.site.tolist() == [1]
    assert m.objective == pytest.approx(2.0, rel=1e-12)
    assert m.bound == pytest.approx(2.0, rel=1e-9)


def test_negative_costs_serve_each_flow_once() -> None:
    # A credit per request (negative cost) must not tempt the solver to serve a flow twice:
    # Σ_s x + u = 1 is an equality. Best single site: −2.
    p = _problem(
        demand_rps=np.array([1.0]),
        load_gpu=np.array([1.0]),
        capacity_gpu=np.array([5.0, 5.0]),
        latency_s=np.array([[0.01, 0.01]]),
        sla_s=np.array([0.1]),
        cost_per_request=np.array([[-1.0, -2.0]]),
    )
    m = plan_milp(p, mip_rel_gap=0.0)
    assert m.site.tolist() == [1]
    assert m.objective == pytest.approx(-2.0, rel=1e-12)
    assert m.bound == pytest.approx(-2.0, rel=1e-9)


def test_lp_rounding_threshold_is_one_minus_1e9() -> None:
    # f0 wholly at s1 in the LP (kept although s0 is cheaper); f1 at 1 − 1e-9 is not whole
    # (strict >), so it is placed greedily at its cheapest site s0. Pairs: f0s0 f0s1 f1s0 f1s1.
    p = _problem(
        load_gpu=np.array([1.0, 1.0]),
        capacity_gpu=np.array([10.0, 10.0]),
        cost_per_request=np.array([[1.0, 5.0], [1.0, 5.0]]),
    )
    ff, ss = np.nonzero(p.allowed)
    x = np.array([0.0, 1.0, 1e-9, 1.0 - 1e-9])
    assert _lp_rounding(p, x, ff, ss).tolist() == [1, 0]


def test_objective_value_reads_sites_given_as_floats() -> None:
    # e.g. an assignment read back from a CSV file
    p = _problem()
    assert objective_value(p, np.array([1.0, -1.0])) == pytest.approx(2.0 + 2.0 * p.penalty)


def test_capacity_exactly_at_the_tolerance_is_accepted() -> None:
    # zero capacity: the threshold is 0·(1 + 1e-9) + 1e-9 = 1e-9 exactly
    z = _problem(load_gpu=np.array([1e-9, 1.0]), capacity_gpu=np.array([0.0, 0.0]))
    assert objective_value(z, [0, -1]) == pytest.approx(1.0 + 2.0 * z.penalty)


def test_served_share_below_one_rps_in_total() -> None:
    p = _problem(demand_rps=np.array([0.25, 0.5]))
    assert _served_share(p, np.array([-1, 0])) == pytest.approx(2.0 / 3.0, rel=1e-15)


def test_highs_wins_ties_with_the_heuristics() -> None:
    # loose capacity: greedy, LP rounding and HiGHS all reach the optimum 1·1 + 2·3 = 7; the
    # plan names HiGHS, whose optimality is proven
    m = plan_milp(_problem(capacity_gpu=np.array([10.0, 10.0])))
    assert m.objective == pytest.approx(7.0, rel=1e-12)
    assert m.method == "milp (highs)"
