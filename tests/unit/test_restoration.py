"""Restoration in the engine: rerouting, NTN backup, compute re-placement, and its KPIs."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.constants import C_M_PER_S
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Event
from tsunagu.sim.engine import run_twin
from tsunagu.sim.kpis import RunResult, restoration
from tsunagu.sim.twin import Twin
from tsunagu.traffic.national import TrafficSection

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


def _run(*events: Event) -> tuple[Twin, RunResult]:
    return _cached_run(tuple(e.model_dump_json() for e in events))


@functools.cache
def _cached_run(events_json: tuple[str, ...]) -> tuple[Twin, RunResult]:
    # The AI flows alone: these tests follow the restoration mechanics (rerouting, NTN
    # backup, re-placement) without congestion, which tests/unit/test_engine_traffic.py covers.
    base = load_scenario(MINIMAL)
    events = [Event.model_validate_json(e) for e in events_json]
    quiet = TrafficSection(enabled=False)
    twin = Twin(base.model_copy(update={"events": events, "traffic": quiet}))
    return twin, run_twin(twin)


def _ev(**kw: Any) -> Event:
    return Event(**{"start_s": 1800.0, "end_s": 3600.0, **kw})


def _flows(res: RunResult, step: int) -> Any:
    f = res.flows
    return f.filter(pc.equal(f["step"], step)).to_pandas()


def test_restoration_worked_example() -> None:
    r = restoration([0, 3600, 7200, 10800, 14400], [10, 10, 510, 110, 10], 3600.0, 3600.0)
    assert r["baseline"] == 10
    assert r["lost_at_s"] == 7200
    assert r["restored_at_s"] == 14400
    assert r["time_to_restore_s"] == 7200
    assert r["peak_without_service"] == 500
    assert r["person_hours"] == pytest.approx(600.0)
    never = restoration([0, 3600, 7200], [0, 100, 100], 3600.0, 3600.0)
    assert never["lost_at_s"] == 3600
    assert never["time_to_restore_s"] is None
    nothing = restoration([0, 3600], [0, 0], 0.0, 3600.0)
    assert nothing["lost_at_s"] is None
    assert nothing["person_hours"] == 0


@settings(max_examples=60, deadline=None)
@given(
    unserved=st.lists(st.floats(0.0, 1e6), min_size=2, max_size=30),
    start=st.integers(0, 29),
)
def test_restoration_invariants(unserved: list[float], start: int) -> None:
    t = np.arange(len(unserved)) * 3600.0
    r = restoration(t, unserved, start * 3600.0, 3600.0)
    assert r["peak_without_service"] is not None
    assert r["peak_without_service"] >= 0
    assert r["person_hours"] is not None
    assert r["person_hours"] >= 0
    if r["time_to_restore_s"] is not None:
        assert r["lost_at_s"] is not None
        assert r["restored_at_s"] is not None
        assert r["time_to_restore_s"] > 0
        assert r["restored_at_s"] == r["lost_at_s"] + r["time_to_restore_s"]
        i = int(r["restored_at_s"] // 3600)
        assert unserved[i] <= r["baseline"] + 0.5


def test_backbone_cut_reroutes_over_surviving_paths() -> None:
    """Tokyo--Nagoya cut (in the minimal scenario at 1800 s): everyone stays served."""
    _, res = _run(Event(kind="link_down", target="Tokyo--Nagoya", start_s=1800, end_s=3600))
    before, after = _flows(res, 0), _flows(res, 1)
    assert (after.site != "").all()
    # Flows that crossed the cut link now take a longer path: more propagation, never less.
    cross = (before.region == "Kanto") & (before.site == "dc-osaka")
    if cross.any():
        assert (
            after.latency_propagation_ms[cross].to_numpy()
            >= before.latency_propagation_ms[cross].to_numpy() - 1e-9
        ).all()
    assert res.summary["kpis"]["areas_lost"] == 0


def test_site_down_replaces_compute_elsewhere() -> None:
    _, res = _run(_ev(kind="site_down", target="dc-tokyo"))
    before, after = _flows(res, 0), _flows(res, 1)
    assert (before.site == "dc-tokyo").any()
    assert not (after.site == "dc-tokyo").any()
    # Osaka and Nagoya take what their GPUs can; the rest is refused for capacity, not path.
    moved_ok = (before.site == "dc-tokyo").to_numpy() & (after.site != "").to_numpy()
    assert moved_ok.any()
    # Refused for capacity, the binding resource named after the colon (here the GPUs).
    assert set(after.reject_reason[after.site == ""]) <= {"capacity: gpu"}
    assert res.summary["kpis"]["served_share"] < 1.0
    # Physics floor of the moved Kanto flows: at least the Tokyo-Osaka straight line and back.
    moved = after[moved_ok & (after.region == "Kanto").to_numpy()]
    floor_ms = 2 * 390e3 / C_M_PER_S * 1e3  # Tokyo-Osaka great circle ~ 400 km
    assert (moved.latency_propagation_ms > floor_ms).all()


def test_isolated_offices_fall_back_to_ntn_then_nothing() -> None:
    cut = _ev(kind="link_down", target="Chiba", factor=1.0)
    twin, res = _run(cut)
    after = _flows(res, 1)
    chiba = after.prefecture == 12
    # The HAPS feeder lands on a Chiba office whose fibre is cut too, so LEO is the backup.
    assert set(after.access[chiba]) <= {"haps", "leo"}
    assert (after.site[chiba] != "").all()
    assert (after.access[~chiba] == "ran").all()
    # Without NTN backup in Chiba, the same cut leaves its population without service.
    _, res2 = _run(cut, _ev(kind="ntn_access_down", target="Chiba"))
    after2 = _flows(res2, 1)
    chiba2 = after2.prefecture == 12
    assert (after2.access[chiba2] == "none").all()
    assert (after2.reject_reason[chiba2] == "no access").all()
    lost = float(twin.demand.population[twin.demand.prefecture == 12].sum())
    assert res2.steps["population_unserved"][1].as_py() == pytest.approx(lost)
    assert res2.summary["restoration"]["Chiba"]["lost_at_s"] == 1800.0
    assert res2.summary["restoration"]["Chiba"]["time_to_restore_s"] is None


def test_partial_ran_outage_splits_users_between_ran_and_backup() -> None:
    twin, res = _run(_ev(kind="ran_outage", target="Kanto", factor=0.25))
    after = _flows(res, 1)
    n_k = len(twin.scenario.services)
    rows = after.iloc[::n_k]
    kanto = rows.region == "Kanto"
    n_kanto = int((twin.demand.region == "Kanto").sum())
    assert int((rows.access[kanto] == "ran").sum()) == n_kanto
    assert int((rows.access[kanto] != "ran").sum()) == n_kanto  # one backup row per point
    assert (rows.access[~kanto] == "ran").all()
    shares = rows[kanto].groupby(["demand", "lat_deg", "lon_deg"]).population_share.sum()
    np.testing.assert_allclose(shares.to_numpy(), 1.0)
    ran_share = rows[kanto & (rows.access == "ran")].population_share
    np.testing.assert_allclose(ran_share.to_numpy(), 0.75)
    # People are neither lost nor double counted.
    assert rows.population.sum() == pytest.approx(twin.demand.population.sum(), rel=1e-12)
    # RAN energy falls by the share of cells down in Kanto.
    e = res.steps["energy_ran_kwh"].to_numpy()
    assert e[1] < e[0]
