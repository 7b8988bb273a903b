"""End-to-end tests of ``tsunagu ntn rtt`` on small inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from tsunagu.cli import app
from tsunagu.constants import C_M_PER_S
from tsunagu.ntn import constellations, orbits

runner = CliRunner()


def test_rtt_preset_json() -> None:
    res = runner.invoke(
        app,
        [
            "ntn",
            "rtt",
            "--constellation",
            "kuiper-630",
            "--from",
            "Tokyo",
            "--to",
            "Naha",
            "--duration",
            "60",
            "--step",
            "10",
            "--min-elevation",
            "30",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["satellites"] == 1156
    assert out["steps"] == 7
    assert out["isl"] == "grid"
    rtt = np.array([x for x in out["series"]["rtt_ms"] if x is not None])
    assert rtt.size == 7
    # Tokyo–Naha is 1,550 km: the RTT is above the straight-chord light time and, over a
    # 630 km shell, below 4× that (a few hops up, across and down).
    lat = np.radians([out["from"]["lat_deg"], out["to"]["lat_deg"]])
    lon = np.radians([out["from"]["lon_deg"], out["to"]["lon_deg"]])
    xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    chord_m = 6.371e6 * np.linalg.norm(xyz[0] - xyz[1])
    assert np.all(rtt > 2e3 * chord_m / C_M_PER_S)
    assert np.all(rtt < 4 * 2e3 * chord_m / C_M_PER_S)
    assert out["summary"]["rtt_ms_min"] == rtt.min()
    assert out["summary"]["available_share"] == 1.0


def test_rtt_table_output() -> None:
    res = runner.invoke(
        app, ["ntn", "rtt", "--from", "Tokyo", "--to", "Sapporo", "--duration", "20", "--step", "5"]
    )
    assert res.exit_code == 0, res.output
    assert "RTT median (ms)" in res.stdout
    assert "path changes" in res.stdout


def test_rtt_from_tle_file(tmp_path: Path) -> None:
    # A TLE file written from SGP4 elements of a small Walker shell (2 planes × 20, 1,200 km).
    from datetime import UTC, datetime

    from sgp4.exporter import export_tle

    es = orbits.walker_elements(6, 20, 1, 1200e3, 53.0, datetime(2026, 2, 1, tzinfo=UTC))
    lines = []
    for name, sat in zip(es.names, es.satrecs, strict=True):
        l1, l2 = export_tle(sat)
        lines += [name, l1, l2]
    f = tmp_path / "shell.tle"
    f.write_text("\n".join(lines) + "\n")
    res = runner.invoke(
        app,
        [
            "ntn",
            "rtt",
            "--constellation",
            str(f),
            "--from",
            "35.68,139.69",
            "--to",
            "43.06,141.35",
            "--duration",
            "30",
            "--step",
            "10",
            "--min-elevation",
            "10",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["satellites"] == 120
    assert out["isl"] == "nearest"
    assert out["start_utc"].startswith("2026-02-01T00:00:00")


def test_rtt_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tle"
    bad.write_text(
        "SAT\n1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2920\n"
        "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537\n"
    )
    for args, want in (
        (["--constellation", str(bad)], "bad.tle, line 2: checksum"),
        (["--constellation", "iridium"], "unknown constellation preset"),
        (["--to", "Atlantisville"], "no city named"),
        (["--step", "0"], "--step > 0"),
        (["--isl", "mesh"], "--isl"),
    ):
        base = {"--constellation": "kuiper-630", "--from": "Tokyo", "--to": "Naha"}
        base.update(dict(zip(args[::2], args[1::2], strict=True)))
        argv = ["ntn", "rtt", "--duration", "10"]
        if "--step" not in base:
            argv += ["--step", "5"]
        for k, v in base.items():
            argv += [k, v]
        res = runner.invoke(app, argv)
        assert res.exit_code == 2, (args, res.output)
        assert want in res.output, (args, res.output)
        assert "Traceback" not in res.output


def test_preset_names_are_documented_in_help() -> None:
    res = runner.invoke(app, ["ntn", "rtt", "--help"])
    assert res.exit_code == 0
    assert "kuiper" in res.stdout
    assert "starlink-gen1" in constellations.preset_names()
