"""``tsunagu run --policy``: policies selected by name on the command line, and their errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from tsunagu.cli import app

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
runner = CliRunner()


def _run(args: list[str], out: Path) -> Any:
    return runner.invoke(app, ["run", *args, "--out", str(out), "--json", "--no-report"])


def test_unknown_policy_is_one_line_naming_it_and_the_available_ones(tmp_path: Path) -> None:
    res = _run([str(MINIMAL), "--policy", "greenest"], tmp_path / "r")
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "unknown policy 'greenest'" in res.output
    for name in ("carbon-first", "energy-first", "latency-first", "cost"):
        assert name in res.output
    assert not (tmp_path / "r").exists()  # nothing is written before the check


def test_unknown_policy_in_the_scenario_file_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    data["policy"] = "greenest"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = _run([str(path)], tmp_path / "r")
    assert res.exit_code == 2
    assert "unknown policy 'greenest'" in res.output


def test_cost_policy_needs_site_prices(tmp_path: Path) -> None:
    res = _run([str(MINIMAL), "--policy", "cost"], tmp_path / "r")
    assert res.exit_code == 2
    assert "cost_per_gpu_hour" in res.output
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    for site, price in zip(data["compute"]["sites"], (4.0, 2.0, 9.0), strict=True):
        site["cost_per_gpu_hour"] = price
    path = tmp_path / "priced.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = _run([str(path), "--policy", "cost"], tmp_path / "r2")
    assert res.exit_code == 0, res.output


def test_policies_change_the_run(tmp_path: Path) -> None:
    """With SLAs every site meets, carbon-first moves load to the cleaner grid (Kansai)."""
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    for svc in data["services"]:
        svc["sla_latency_ms"] = 5000.0  # loose: every site meets it, the objective decides
    data["traffic"] = {"enabled": False}  # no access blocking: every request can be placed
    path = tmp_path / "loose.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = {}
    for name in ("latency-first", "carbon-first", "energy-first"):
        res = _run([str(path), "--policy", name], tmp_path / name)
        assert res.exit_code == 0, res.output
        out[name] = json.loads(res.stdout)
        assert out[name]["policy"] == name
    lat, co2 = out["latency-first"]["kpis"], out["carbon-first"]["kpis"]
    assert co2["carbon_kg"] < lat["carbon_kg"]
    assert co2["latency_p50_ms"] >= lat["latency_p50_ms"]
    assert co2["sla_share"] == lat["sla_share"] == 1.0
