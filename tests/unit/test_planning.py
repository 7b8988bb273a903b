"""Placement MILP against brute force, the greedy heuristic's bounds, and input checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import InfeasibleError, ScenarioError
from tsunagu.orchestrate.planning import (
    PlanningProblem,
    objective_value,
    plan_greedy,
    plan_milp,
)


def _brute_force(problem: PlanningProblem) -> float:
    """Minimum objective over every assignment in {-1, 0, .., S-1}^F, all at once in NumPy."""
    f, s = problem.n_flows, problem.n_sites
    combos = np.array(list(itertools.product(range(-1, s), repeat=f)), dtype=np.int64)  # (C, F)
    served = combos >= 0
    site = np.maximum(combos, 0)
    flows = np.arange(f)[None, :]
    ok = np.all(~served | problem.allowed[flows, site], axis=1)
    used = np.zeros((combos.shape[0], s))
    for k in range(s):  # S ≤ 3 sites: a loop over sites, not over assignments
        used[:, k] = np.sum(np.where(served & (site == k), problem.load_gpu[None, :], 0.0), axis=1)
    ok &= np.all(used <= problem.capacity_gpu[None, :] + 1e-9, axis=1)
    rps = problem.demand_rps[None, :]
    value = np.sum(np.where(served, rps * problem.cost_per_request[flows, site], 0.0), axis=1)
    value += np.sum(np.where(served, 0.0, rps), axis=1) * problem.penalty
    if problem.site_fixed is not None:
        opened = np.stack([np.any(served & (site == k), axis=1) for k in range(s)], axis=1)
        value += opened @ problem.site_fixed
    return float(np.min(value[ok]))


@st.composite
def instances(draw: st.DrawFn) -> PlanningProblem:
    f = draw(st.integers(1, 5))
    s = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    rps = rng.uniform(0.1, 10.0, f)
    load = rps * rng.uniform(0.1, 1.0, f)
    cap = rng.uniform(0.0, 1.2, s) * load.sum()
    lat = rng.uniform(1e-3, 0.1, (f, s))
    lat[rng.random((f, s)) < 0.2] = np.inf
    sla = rng.uniform(0.02, 0.1, f)
    avail = 1.0 - rng.uniform(0, 1e-3, (f, s))
    req = rng.choice([0.0, 0.9995], f)
    fixed = rng.uniform(0.0, 20.0, s) if draw(st.booleans()) else None
    return PlanningProblem(
        demand_rps=rps,
        load_gpu=load,
        capacity_gpu=cap,
        latency_s=lat,
        sla_s=sla,
        cost_per_request=rng.uniform(0.0, 5.0, (f, s)),
        availability=avail,
        required_availability=req,
        site_fixed=fixed,
    )


@settings(max_examples=60, deadline=None)
@given(instances())
def test_milp_equals_brute_force_optimum(problem: PlanningProblem) -> None:
    best = _brute_force(problem)
    # HiGHS alone, without the heuristics' assignments competing:
    alone = plan_milp(problem, time_limit_s=30.0, mip_rel_gap=0.0, warm_start=False)
    assert alone.method == "milp (highs)"
    assert alone.objective == pytest.approx(best, rel=1e-7, abs=1e-7)
    plan = plan_milp(problem, time_limit_s=30.0, mip_rel_gap=0.0)
    assert plan.optimal
    # HiGHS works in double precision with 1e-6 feasibility/optimality tolerances.
    assert plan.objective == pytest.approx(best, rel=1e-7, abs=1e-7)
    assert objective_value(problem, plan.site) == pytest.approx(plan.objective)
    assert plan.bound <= plan.objective + 1e-6
    # The heuristic is feasible and never beats the optimum.
    greedy = plan_greedy(problem)
    assert greedy.objective >= best - 1e-7


def test_greedy_is_optimal_when_capacity_is_loose() -> None:
    rng = np.random.default_rng(3)
    f, s = 40, 4
    problem = PlanningProblem(
        demand_rps=rng.uniform(1, 5, f),
        load_gpu=rng.uniform(0.1, 1, f),
        capacity_gpu=np.full(s, 1e6),
        latency_s=rng.uniform(0.0, 0.1, (f, s)),
        sla_s=np.full(f, 0.08),
        cost_per_request=rng.uniform(0, 1, (f, s)),
    )
    g = plan_greedy(problem)
    m = plan_milp(problem, mip_rel_gap=0.0)
    # With no binding capacity each flow's cheapest allowed site is optimal.
    assert g.objective == pytest.approx(m.objective, rel=1e-9)
    assert m.gap <= 1e-9


def test_objective_value_refuses_infeasible_assignments() -> None:
    problem = PlanningProblem(
        demand_rps=np.array([1.0, 1.0]),
        load_gpu=np.array([1.0, 1.0]),
        capacity_gpu=np.array([1.5]),
        latency_s=np.array([[0.01], [0.5]]),
        sla_s=np.array([0.1, 0.1]),
        cost_per_request=np.array([[1.0], [1.0]]),
    )
    with pytest.raises(InfeasibleError, match="breaks its SLA"):
        objective_value(problem, [0, 0])
    assert objective_value(problem, [0, -1]) == pytest.approx(1.0 + problem.penalty)


def test_capacity_violation_is_named() -> None:
    problem = PlanningProblem(
        demand_rps=np.array([1.0, 1.0]),
        load_gpu=np.array([1.0, 1.0]),
        capacity_gpu=np.array([1.5]),
        latency_s=np.array([[0.01], [0.01]]),
        sla_s=np.array([0.1, 0.1]),
        cost_per_request=np.array([[1.0], [1.0]]),
    )
    with pytest.raises(InfeasibleError, match="above its capacity"):
        objective_value(problem, [0, 0])
    plan = plan_milp(problem)
    assert plan.served_share == pytest.approx(0.5)


def test_bad_shapes_are_named() -> None:
    with pytest.raises(ScenarioError, match="capacity_gpu has shape"):
        PlanningProblem(
            demand_rps=np.ones(2),
            load_gpu=np.ones(2),
            capacity_gpu=np.ones(3),
            latency_s=np.ones((2, 2)),
            sla_s=np.ones(2),
            cost_per_request=np.ones((2, 2)),
        )
