"""``tsunagu ntn coverage``: JSON output on a small run, and one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tsunagu.cli import app

runner = CliRunner()


def test_coverage_json_has_a_row_per_deployment() -> None:
    res = runner.invoke(
        app,
        ["ntn", "coverage", "--duration", "120", "--step", "60", "--grid-deg", "4", "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["scenario"] == "japan-2030"
    assert out["steps"] == 3
    kinds = {r["kind"]: r for r in out["rows"]}
    assert set(kinds) == {"leo", "haps"}
    for r in out["rows"]:
        for m in ("population", "island", "land", "sea"):
            assert 0.0 <= r[f"{m}_share_min"] <= r[f"{m}_share_mean"] <= 1.0
        names = {i["name"]: i for i in r["islands"]}
        assert "Ogasawara" in names
        assert all(0.0 <= i["time_share"] <= 1.0 for i in r["islands"])
    # Ogasawara (~900 km offshore) is far outside every HAPS footprint
    assert {i["name"]: i for i in kinds["haps"]["islands"]}["Ogasawara"]["time_share"] == 0.0
    # Four HAPS of 100 km radius (Noto, Sanriku, Amami, Izu) cannot cover most of Japan.
    assert 0.0 < kinds["haps"]["population_share_mean"] < 0.5
    assert out["leo_link"]["eirp_density_dbw_per_mhz"] == 34.0
    # One 38.5 GHz feeder per HAPS, to a town a few km away, available most of the year.
    assert [f["platform"] for f in out["feeders"]] == [
        "HAPS-Noto",
        "HAPS-Sanriku",
        "HAPS-Amami",
        "HAPS-Izu-Islands",
    ]
    for f in out["feeders"]:
        assert f["ground_distance_km"] < 50.0
        assert f["elevation_deg"] > 20.0
        assert 95.0 <= f["availability_pct"] <= 99.999 + 1e-9
        assert f["fade_margin_db"] == pytest.approx(f["clear_sky_cnr_db"] + 2.35, abs=1e-9)


def test_coverage_table_output() -> None:
    res = runner.invoke(
        app, ["ntn", "coverage", "--duration", "0", "--step", "60", "--grid-deg", "4"]
    )
    assert res.exit_code == 0, res.output
    assert "D2D coverage" in res.stdout
    assert "HAPS" in res.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--step", "0"], "--step"),
        (["--min-elevation", "2"], "min_elevation_deg"),
        (["--haps-freq-mhz", "3500"], "identified band"),
        (["--grid-deg", "0"], "grid_step_deg"),
    ],
)
def test_bad_options_give_one_line_errors(args: list[str], needle: str) -> None:
    res = runner.invoke(app, ["ntn", "coverage", *args])
    assert res.exit_code == 2
    text = res.output.strip()
    assert needle in text
    assert "Traceback" not in text


def test_preset_constellations_and_a_weaker_payload_lose_coverage() -> None:
    args = ["ntn", "coverage", "--duration", "600", "--step", "300", "--grid-deg", "4", "--json"]
    strong = json.loads(runner.invoke(app, [*args, "--constellation", "oneweb"]).stdout)
    weak = json.loads(
        runner.invoke(
            app, [*args, "--constellation", "oneweb", "--leo-eirp-dbw-per-mhz", "20"]
        ).stdout
    )
    assert [r["deployment"] for r in strong["rows"]] == ["oneweb", "4 HAPS"]
    s, w = strong["rows"][0], weak["rows"][0]
    # 14 dB less EIRP at 1,200 km: part of Japan no longer closes the link.
    assert w["population_share_mean"] < s["population_share_mean"]
    res = runner.invoke(app, ["ntn", "coverage", "--constellation", "no-such-shell"])
    assert res.exit_code == 2
    assert "unknown constellation preset" in res.output
