"""The command line on small scenarios: run, validate, compare, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tsunagu.cli import app
from tsunagu.constants import C_M_PER_S
from tsunagu.geo import great_circle_m
from tsunagu.optical.domain import build_backbone, nearest_homes
from tsunagu.scenario import scenario_from_text

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
runner = CliRunner()


def _write(tmp_path: Path, data: dict[str, Any], name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run(path: Path, out: Path) -> dict[str, Any]:
    res = runner.invoke(app, ["run", str(path), "--out", str(out), "--json", "--no-report"])
    assert res.exit_code == 0, res.output
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def test_run_json_writes_a_complete_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = _run(MINIMAL, out)
    for name in (
        "summary.json",
        "scenario.yaml",
        "steps.parquet",
        "flows.parquet",
        "nodes.parquet",
        "links.parquet",
        "satellites.parquet",
        "results.duckdb",
    ):
        assert (out / name).is_file(), name
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["kpis"] == summary["kpis"]
    assert summary["steps"] == 2
    assert 0.0 < summary["kpis"]["served_share"] <= 1.0
    assert summary["kpis"]["energy_total_kwh"] > 0.0
    # Views read their Parquet files relative to the run directory (file_search_path).
    con = duckdb.connect(
        str(out / "results.duckdb"), read_only=True, config={"file_search_path": str(out)}
    )
    n_flows = con.execute("SELECT count(*) FROM flows").fetchone()
    assert n_flows is not None
    # One row per point, access row and service at each step; admission splits an
    # overloaded row into its carried and its blocked people.
    assert n_flows[0] >= summary["counts"]["demand_points"] * summary["counts"]["services"] * 2
    # The resolved scenario written beside the results loads back to the same scenario.
    again = scenario_from_text((out / "scenario.yaml").read_text(), "scenario.yaml")
    assert again.name == "minimal"


def _single_site(dc: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MINIMAL.read_text())
    data["compute"]["sites"] = [dc]
    data["events"] = []
    data["ntn"]["haps"] = []
    # The AI flows alone: these tests check path geometry, which load-dependent routing of the
    # national traffic would blur (its splits move with the load).
    data["traffic"] = {"enabled": False}
    return data


def test_moving_a_data_centre_moves_latency_by_the_fibre_it_adds(tmp_path: Path) -> None:
    """Moving the only DC away changes each flow's propagation by 2·Δ(metro fibre)·n/c."""
    dc = {
        "name": "dc",
        "kind": "core",
        "lat_deg": 35.70,
        "lon_deg": 139.80,
        "gpus": 100000,
        "grid_region": "Tokyo",
    }
    moved = {**dc, "lat_deg": 35.80, "lon_deg": 139.95}
    a = _run(_write(tmp_path, _single_site(dc), "a"), tmp_path / "a")
    b = _run(_write(tmp_path, _single_site(moved), "b"), tmp_path / "b")
    assert b["kpis"]["latency_p50_ms"] > a["kpis"]["latency_p50_ms"]

    sc = scenario_from_text(MINIMAL.read_text())
    bb = build_backbone(sc.optical)
    homes, _ = nearest_homes([dc["lat_deg"]], [dc["lon_deg"]], bb)
    homes_b, _ = nearest_homes([moved["lat_deg"]], [moved["lon_deg"]], bb)
    assert set(homes[0]) == set(homes_b[0]), "test set-up: the DC must keep its homes"
    factor = sc.optical.metro_route_factor
    d_a = great_circle_m(dc["lat_deg"], dc["lon_deg"], bb.lat_deg[homes[0]], bb.lon_deg[homes[0]])
    d_b = great_circle_m(
        moved["lat_deg"], moved["lon_deg"], bb.lat_deg[homes[0]], bb.lon_deg[homes[0]]
    )
    expected_ms = 2.0 * factor * (d_b - d_a) * 1.468 / C_M_PER_S * 1e3  # one value per home

    ta = pq.read_table(tmp_path / "a" / "flows.parquet")
    tb = pq.read_table(tmp_path / "b" / "flows.parquet")
    same_hops = ta["hops"].to_numpy() == tb["hops"].to_numpy()
    ran = ta["access"].to_numpy(zero_copy_only=False) == "ran"
    delta = tb["latency_propagation_ms"].to_numpy() - ta["latency_propagation_ms"].to_numpy()
    delta = delta[same_hops & ran]
    assert delta.size > 50
    # Each flow leaves the DC through one of its two homes: its change is one of two values.
    err = np.min(np.abs(delta[:, None] - expected_ms[None, :]), axis=1)
    assert np.all(err < 1e-6), f"max error {err.max():.3g} ms"
    assert np.all(delta > 0.0)


def test_longer_backbone_links_never_shorten_latency(tmp_path: Path) -> None:
    osaka = {
        "name": "dc-osaka",
        "kind": "core",
        "lat_deg": 34.69,
        "lon_deg": 135.50,
        "gpus": 100000,
        "grid_region": "Kansai",
    }
    data = _single_site(osaka)
    longer = yaml.safe_load(yaml.safe_dump(data))
    longer["optical"]["operators"][0]["route_factor"] = 1.25
    a = _run(_write(tmp_path, data, "a"), tmp_path / "a")
    b = _run(_write(tmp_path, longer, "b"), tmp_path / "b")
    ta = pq.read_table(tmp_path / "a" / "flows.parquet")
    tb = pq.read_table(tmp_path / "b" / "flows.parquet")
    same_site = ta["site"].to_numpy(zero_copy_only=False) == tb["site"].to_numpy(
        zero_copy_only=False
    )
    pa_ms = ta["latency_propagation_ms"].to_numpy()[same_site]
    pb_ms = tb["latency_propagation_ms"].to_numpy()[same_site]
    assert np.all(pb_ms >= pa_ms - 1e-9)
    # Backbone fibre is at most the whole path: growing it by 25 % grows latency by at most 25 %.
    assert np.all(pb_ms <= 1.25 * pa_ms + 1e-9)
    # Kanto's requests cross the Tokyo–Nagoya–Osaka backbone (≈ 550 km): +25 % is ≥ 1 ms.
    assert np.any(pb_ms > pa_ms + 1.0)
    assert b["kpis"]["latency_p95_ms"] >= a["kpis"]["latency_p95_ms"]


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("loss_db_per_km: 0.2", "los_db_per_km: 0.2", "did you mean 'loss_db_per_km'"),
        ("altitude_km: 550.0", "altitude_km: 550 km", "plain number"),
        ("  step_s: 1800.0\n", "", None),
        ("name: minimal", "name: [minimal", "invalid YAML"),
    ],
)
def test_validate_reports_one_clear_line(
    tmp_path: Path, old: str, new: str, expect: str | None
) -> None:
    text = MINIMAL.read_text()
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    res = runner.invoke(app, ["validate", str(bad)])
    if expect is None:  # removing a field with a default is still valid
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert f"{bad}:" in res.output.replace("\n", "")
    assert expect in res.output.replace("\n", " ")


def test_unknown_event_target_names_close_matches(tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load(MINIMAL.read_text())
    data["events"] = [{"kind": "link_down", "target": "Tokio--Nagoya", "start_s": 0, "end_s": 10}]
    res = runner.invoke(
        app, ["run", str(_write(tmp_path, data, "ev")), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    assert "Tokyo" in res.output
    assert "Traceback" not in res.output


def test_compare_and_report(tmp_path: Path) -> None:
    _run(MINIMAL, tmp_path / "a")
    data: dict[str, Any] = yaml.safe_load(MINIMAL.read_text())
    data["compute"]["sites"] = data["compute"]["sites"][:1]
    _run(_write(tmp_path, data, "b"), tmp_path / "b")
    res = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json"])
    assert res.exit_code == 0, res.output
    cmp = json.loads(res.stdout)
    assert set(cmp["kpis"]) >= {"latency_p50_ms", "energy_total_kwh", "carbon_kg"}
    table = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert table.exit_code == 0
    assert "latency p50" in table.stdout
    rep = runner.invoke(app, ["report", str(tmp_path / "a")])
    assert rep.exit_code == 0, rep.output
    assert (tmp_path / "a" / "report.html").stat().st_size > 100_000
    missing = runner.invoke(app, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code == 2
    assert "tsunagu run" in missing.output
