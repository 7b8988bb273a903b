"""Policies: built-in rules, the registry's errors, and plug-ins found through entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest

from tsunagu.errors import ScenarioError
from tsunagu.orchestrate import policy as pol
from tsunagu.orchestrate.policy import (
    AllocationProblem,
    get_policy,
    registered_policies,
    sla_tiered_cost,
    with_policy,
)
from tsunagu.scenario import load_scenario

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


def _problem() -> AllocationProblem:
    # Two flows, three sites: site 0 is fast and dirty, site 1 slow and clean, site 2 medium.
    lat = np.array([[0.010, 0.030, 0.020], [0.010, 0.030, 0.020]])
    return AllocationProblem(
        latency_s=lat,
        load_gpu=np.array([1.0, 1.0]),
        capacity_gpu=np.array([10.0, 10.0, 10.0]),
        sla_s=np.array([0.05, 0.025]),
        carbon_g_per_request=np.array([[5.0, 1.0, 3.0], [5.0, 1.0, 3.0]]),
        energy_wh_per_request=np.array([[1.0, 2.0, 0.5], [1.0, 2.0, 0.5]]),
        cost_per_request=np.array([[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]]),
    )


def test_builtin_policies_follow_their_objective_within_the_sla() -> None:
    p = _problem()
    assert get_policy("latency-first").allocate(p).tolist() == [0, 0]
    assert get_policy("nearest-feasible").allocate(p).tolist() == [0, 0]
    # Flow 1's SLA (25 ms) rules out site 1 (30 ms): carbon-first takes the cleanest of the rest.
    assert get_policy("carbon-first").allocate(p).tolist() == [1, 2]
    assert get_policy("energy-first").allocate(p).tolist() == [2, 2]
    assert get_policy("cost").allocate(p).tolist() == [2, 2]


def test_sla_tiered_cost_ranks_meeting_sites_first() -> None:
    p = _problem()
    c = sla_tiered_cost(p, p.carbon_g_per_request)
    meets = p.latency_s <= p.sla_s[:, None]
    assert np.max(c[meets]) < np.min(c[~meets])


def test_policies_that_need_missing_data_say_what_to_add() -> None:
    p = _problem()
    bare = AllocationProblem(
        p.latency_s, p.load_gpu, p.capacity_gpu, p.sla_s, p.carbon_g_per_request
    )
    with pytest.raises(ScenarioError, match="cost_per_gpu_hour"):
        get_policy("cost").allocate(bare)
    with pytest.raises(ScenarioError, match="energy_wh_per_request"):
        get_policy("energy-first").allocate(bare)


def test_unknown_policy_names_it_and_lists_the_available_ones() -> None:
    with pytest.raises(ScenarioError) as exc:
        get_policy("carbon-frist")
    msg = str(exc.value)
    assert "'carbon-frist'" in msg
    for name in ("latency-first", "energy-first", "carbon-first", "cost"):
        assert name in msg
    assert "Did you mean 'carbon-first'?" in msg


def test_with_policy_checks_before_building() -> None:
    sc = load_scenario(MINIMAL)
    assert with_policy(sc, "energy-first").policy == "energy-first"
    with pytest.raises(ScenarioError, match="unknown policy 'nope'"):
        with_policy(sc, "nope")
    with pytest.raises(ScenarioError, match=r"missing for \['dc-tokyo'"):
        with_policy(sc, "cost")


class _Everything:
    """A user policy: always the last site."""

    name = "last-site"

    def allocate(self, problem: AllocationProblem) -> np.ndarray:
        return np.full(problem.latency_s.shape[0], problem.latency_s.shape[1] - 1)


def test_entry_point_policies_are_discovered(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [
        EntryPoint(name="last-site", value=f"{__name__}:_Everything", group=pol.ENTRY_POINT_GROUP),
        # A built-in name in the group never replaces the built-in.
        EntryPoint(name="latency-first", value=f"{__name__}:_Everything", group="x"),
    ]

    def fake(group: str | None = None, **_: object) -> list[EntryPoint]:
        return eps if group == pol.ENTRY_POINT_GROUP else []

    monkeypatch.setattr("importlib.metadata.entry_points", fake)
    monkeypatch.setattr(pol, "_REGISTRY", dict(pol._REGISTRY))
    monkeypatch.setattr(pol, "_ENTRY_POINTS_LOADED", False)
    assert "last-site" in registered_policies()
    assert get_policy("last-site").allocate(_problem()).tolist() == [2, 2]
    assert isinstance(get_policy("latency-first"), pol.LatencyFirst)


def test_broken_entry_point_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [EntryPoint(name="broken", value="no_such_module_xyz:P", group=pol.ENTRY_POINT_GROUP)]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group=None, **_: eps)
    monkeypatch.setattr(pol, "_REGISTRY", dict(pol._REGISTRY))
    monkeypatch.setattr(pol, "_ENTRY_POINTS_LOADED", False)
    with pytest.raises(ScenarioError, match=r"'broken' .*no_such_module_xyz:P.* failed to load"):
        get_policy("broken")
