"""Smoke test of the benchmark suite: quick mode on the minimal scenario; no time assertions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from benchmarks.bench_engine import main

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"


def test_quick_run_prints_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--scenario", str(MINIMAL)]) == 0
    out = capsys.readouterr().out
    for heading in (
        "Default run: minimal",
        "Scaling with demand points",
        "Scaling with steps",
        "Twin build (s)",
        "run_twin (s)",
        "tracemalloc",
        "ru_maxrss",
        "target_points",
        "ms/step",
        "Scaling with national traffic",
        "offered (Tb/s)",
    ):
        assert heading in out
    build = re.search(r"Twin build \(s\)\s*│\s*([0-9.]+)", out)
    run = re.search(r"run_twin \(s\)\s*│\s*([0-9.]+)", out)
    assert build is not None
    assert run is not None
    assert float(build.group(1)) >= 0.0
    assert float(run.group(1)) > 0.0
    # Points table: the scenario's cities, then 2,000 sub-city points.
    row = re.search(r"│\s*cities\s*│\s*(\d+)\s*│\s*(\d+)\s*│", out)
    assert row is not None
    assert 0 < int(row.group(1)) < 2000
    assert int(row.group(2)) == 2  # minimal.yaml: 3600 s at 1800 s steps
    assert re.search(r"│\s*2000\s*│\s*2000\s*│\s*2\s*│", out)
    # Steps table: one day at 7200 s steps is 12 steps, at 3600 s 24.
    assert re.search(r"│\s*7200\s*│\s*12\s*│", out)
    assert re.search(r"│\s*3600\s*│\s*24\s*│", out)
