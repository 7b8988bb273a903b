"""The pre-run memory estimate (tsunagu.sim.estimate): its terms scale with the scenario's
sizes, the budget is parsed and enforced with the fix, and — a consistency check against this
code's own runs, not an independent reference — the estimate lies near the measured peak."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tsunagu.errors import ScenarioError
from tsunagu.scenario import Scenario, load_scenario, scenario_from_text
from tsunagu.sim.estimate import (
    BUDGET_ENV,
    check_memory,
    estimate_run,
    memory_budget_bytes,
    parse_bytes,
    run_fix,
)

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"


def _with(**timeline: float) -> Scenario:
    data = yaml.safe_load(MINIMAL.read_text())
    data.setdefault("timeline", {}).update(timeline)
    return scenario_from_text(yaml.safe_dump(data), "m.yaml")


def test_per_step_parts_scale_with_the_number_of_steps() -> None:
    a = estimate_run(_with(step_s=600.0, duration_s=3600.0), demand_points=100)
    b = estimate_run(_with(step_s=300.0, duration_s=3600.0), demand_points=100)
    assert b.steps == 2 * a.steps
    for part in ("flows_table", "flows_summary", "satellite_positions", "satellites_table"):
        assert b.parts_bytes[part] == pytest.approx(2 * a.parts_bytes[part])
    assert b.parts_bytes["step_working_set"] == a.parts_bytes["step_working_set"]


def test_flow_rows_double_only_inside_event_windows() -> None:
    sc = load_scenario("japan-2030")
    quiet = estimate_run(sc.model_copy(update={"events": []}), demand_points=500)
    assert quiet.flow_rows_per_step == 500 * len(sc.services)


def test_satellite_parts_follow_the_constellation_size() -> None:
    sc = load_scenario("japan-2030")
    n = sum(c.planes * c.sats_per_plane for c in sc.ntn.constellations)
    est = estimate_run(sc, demand_points=500)
    assert est.satellites == n
    assert est.parts_bytes["satellite_positions"] == 2 * est.steps * n * 3 * 8


@pytest.mark.parametrize(
    ("text", "value"),
    [("16GB", 16e9), ("512 MiB", 512 * 2**20), ("2e9", 2e9), ("1.5g", 1.5e9), ("3tib", 3 * 2**40)],
)
def test_sizes_parse(text: str, value: float) -> None:
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "lots", "-1GB", "0", "1e999", "5 parsecs"])
def test_bad_sizes_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ScenarioError, match="16GB"):
        parse_bytes(text)


def test_budget_from_option_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUDGET_ENV, "3GB")
    assert memory_budget_bytes(None) == 3e9
    assert memory_budget_bytes("5GB") == 5e9
    monkeypatch.delenv(BUDGET_ENV)
    assert memory_budget_bytes(None) > 0


def test_over_budget_is_refused_with_estimate_budget_and_fix() -> None:
    sc = load_scenario("japan-2030")
    est = estimate_run(
        sc.model_copy(update={"timeline": sc.timeline.model_copy(update={"step_s": 1.0})}),
        demand_points=576,
    )
    fix = run_fix(est, sc)
    with pytest.raises(ScenarioError) as info:
        check_memory(est.total_bytes, 4e9, "this run", fix)
    message = str(info.value)
    assert "over the memory budget of 4.0 GB" in message
    assert "step_s" in message
    assert "--memory-budget" in message
    check_memory(est.total_bytes, est.total_bytes * 1.01, "this run", fix)


def test_estimate_is_near_the_measured_peak_of_a_run(tmp_path: Path) -> None:
    """Consistency check: japan-2030 at 2-hour steps in a child process, peak from VmHWM.

    Not ``ru_maxrss``: Linux carries the peak of the image before ``execve`` into it, and the
    child is started by vfork from this test process, so it would report this process's peak.
    """
    sc = load_scenario("japan-2030")
    data = sc.model_dump(mode="json")
    data["timeline"]["step_s"] = 7200.0
    path = tmp_path / "j.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = (
        "import json, sys; from tsunagu.scenario import load_scenario; "
        "from tsunagu.sim.estimate import preflight; from tsunagu.sim.engine import run_twin; "
        "sc = load_scenario(sys.argv[1]); twin, est = preflight(sc, float('inf')); "
        "run_twin(twin); "
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]; "
        "print(json.dumps({'est': est.total_bytes, 'peak': int(hwm[0].split()[1]) * 1024}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    ratio = got["est"] / got["peak"]
    # The terms are shapes times element sizes; allocator slack and small arrays are not in
    # them, so allow a third either way.
    assert 0.67 < ratio < 1.5, got


def test_the_memory_benchmark_reports_the_childs_own_peak(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``python -m benchmarks memory`` reads the child's VmHWM. ``ru_maxrss`` of a child started
    by vfork carries this process's own peak: with 1 GB of ballast here it read 1.5 GB for the
    minimal scenario, whose run peaks near 0.3 GB."""
    import re

    from benchmarks.bench_memory import main

    ballast = bytearray(1_000_000_000)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))  # resident, not just mapped
    assert main(["--scenario", str(MINIMAL), "--step-s", "1800"]) == 0
    del ballast
    out = capsys.readouterr().out
    found = re.search(r"measured peak \([^)]*\)\s*│\s*([0-9.]+) (MB|GB)", out)
    assert found is not None, out
    peak = float(found.group(1)) * (1e6 if found.group(2) == "MB" else 1e9)
    assert 50e6 < peak < 0.9e9, out
