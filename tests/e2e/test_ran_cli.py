"""``tsunagu ran calibrate`` and ``tsunagu ran coverage``: JSON, tables and clean errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tsunagu.cli import app

runner = CliRunner()


def test_calibrate_json_passes_within_tolerance() -> None:
    res = runner.invoke(app, ["ran", "calibrate", "--scenario", "umi", "--freq-ghz", "6", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["passed"] is True
    assert data["max_abs_error_db_p5_p50_p95"] <= 1.5
    assert [r["percentile"] for r in data["percentiles"]] == list(range(5, 100, 5))
    for r in data["percentiles"]:
        assert abs(r["geometry_db"] - r["geometry_ref_db"]) < 3.0


def test_calibrate_table_and_failing_tolerance_exit_code() -> None:
    res = runner.invoke(app, ["ran", "calibrate", "--scenario", "uma", "--freq-ghz", "30"])
    assert res.exit_code == 0, res.output
    assert "PASS" in res.stdout
    assert "3GPP" in res.stdout
    strict = runner.invoke(
        app, ["ran", "calibrate", "--scenario", "uma", "--users", "2000", "--tolerance-db", "0.01"]
    )
    assert strict.exit_code == 1
    assert "FAIL" in strict.stdout


def test_calibrate_bad_input_is_one_line() -> None:
    res = runner.invoke(app, ["ran", "calibrate", "--scenario", "rma"])
    assert res.exit_code == 2
    assert "uma or umi" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["ran", "calibrate", "--freq-ghz", "3.5"])
    assert res.exit_code == 2
    assert "6, 30 and 70 GHz" in res.output


def test_coverage_json_small() -> None:
    res = runner.invoke(app, ["ran", "coverage", "--users", "3000", "--seed", "1", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["scenario"] == "japan-2030"
    shares = data["population_share"]
    assert len(shares) == len(data["thresholds_bps"]) == 4
    assert all(0.0 <= s <= 1.0 for s in shares)
    assert shares == sorted(shares, reverse=True)
    assert len(data["by_prefecture"]) == 47
    assert sum(data["cells_by_layer"].values()) >= 20_000
    assert any(k.startswith("hibs") for k in data["cells_by_layer"])


def test_coverage_bad_scenario() -> None:
    res = runner.invoke(app, ["ran", "coverage", "no-such-scenario"])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
