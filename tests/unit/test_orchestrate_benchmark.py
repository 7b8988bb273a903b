"""Smoke test of the orchestration benchmark in quick mode on the minimal scenario (no timings
are asserted: only that every table is printed with sane figures)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from benchmarks.bench_orchestrate import main

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"


def test_quick_run_prints_every_table(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--quick", "--scenario", str(MINIMAL), "--intents", "400", "--milp-time-limit", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for heading in ("Online intents", "Heuristic gap on minimal", "Planning MILP scaling"):
        assert heading in out
    rates = [float(r.replace(",", "")) for r in re.findall(r"│\s*([0-9,]+)\s*│\n", out)]
    assert len(rates) == 6  # 3 policies × 2 load levels
    assert all(r > 0 for r in rates)
    assert re.search(r"25 points × 3 sites", out)
