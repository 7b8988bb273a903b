"""``tsunagu ran control`` on a tiny layout: table, JSON and clean errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tsunagu.cli import app

runner = CliRunner()
SMALL = ["ran", "control", "--rings", "0", "--seeds", "2", "--step-s", "21600"]


def test_control_json_compares_on_the_same_seeds() -> None:
    res = runner.invoke(
        app, [*SMALL, "--controller", "threshold", "--controller", "milp", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["seeds"] == [0, 1]
    assert data["sites"] == 1
    assert data["steps_per_day"] == 4
    assert set(data["summary"]) == {"always-on", "threshold", "milp"}
    ref = data["per_seed"]["always-on"]["energy_kwh"]
    for name in ("threshold", "milp"):
        row = data["summary"][name]
        assert row["energy_kwh"] <= data["summary"]["always-on"]["energy_kwh"]
        assert len(data["per_seed"][name]["energy_kwh"]) == len(ref) == 2
        assert 0.0 <= row["served_share"] <= 1.0


def test_control_table_and_earth_model() -> None:
    res = runner.invoke(app, [*SMALL, "--energy-model", "earth"])
    assert res.exit_code == 0, res.output
    assert "milp" in res.stdout
    assert "threshold" in res.stdout
    assert "kWh" in res.stdout


def test_control_errors_are_one_line() -> None:
    res = runner.invoke(app, [*SMALL, "--controller", "nope"])
    assert res.exit_code == 2
    assert "unknown controller 'nope'" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, [*SMALL, "--energy-model", "magic"])
    assert res.exit_code == 2
    assert "tr38864" in res.output
    res = runner.invoke(app, ["ran", "control", "--step-s", "7000"])
    assert res.exit_code == 2
    assert "divisor of 86400" in res.output
