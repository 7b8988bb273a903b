"""A real run carries the domains' run-level results: DCI lightpaths, fronthaul, LEO RTT."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import yaml
from typer.testing import CliRunner

from tsunagu.cli import app
from tsunagu.constants import C_M_PER_S
from tsunagu.geo import great_circle_m
from tsunagu.report.figures import build_figures

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
TOKYO = (35.6895, 139.6917)
OSAKA = (34.6937, 135.5023)


def _run(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    data = yaml.safe_load(MINIMAL.read_text())
    data["ntn"]["rtt_pairs"] = [["Tokyo", "Osaka"]]
    data["ntn"]["rtt_step_s"] = 600.0
    scenario = tmp_path / "domains.yaml"
    scenario.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_run_writes_lightpaths_fronthaul_and_rtt(tmp_path: Path) -> None:
    out, summary = _run(tmp_path)
    kpis = summary["kpis"]
    data = yaml.safe_load(MINIMAL.read_text())
    sites = data["compute"]["sites"]

    lp = pq.read_table(out / "lightpaths.parquet").to_pydict()
    n_core = sum(s["kind"] == "core" for s in sites)
    assert len(lp["src"]) == n_core * (n_core - 1) // 2 + len(sites) - n_core
    ok = np.array(lp["reason"]) == ""
    assert kpis["dci_established"] == ok.sum()
    margin = np.array(lp["margin_db"], dtype=float)[ok]
    assert np.all(margin >= 1.0 - 1e-9)  # scenario default margin
    assert np.all(np.array(lp["power_w"])[ok] <= np.array(lp["ip_power_w"])[ok])

    # Optical energy includes at least the DCI transceivers and the fronthaul wavelengths.
    hours = summary["steps"] * summary["step_s"] / 3600.0
    floor_kwh = (kpis["dci_optical_power_w"]) * hours / 1000.0
    assert kpis["energy_optical_kwh"] >= floor_kwh
    assert kpis["fronthaul_wavelengths"] >= 1
    assert 0.0 < kpis["fronthaul_sites_within_budget_share"] <= 1.0

    rtt = pq.read_table(out / "ntn_rtt.parquet").to_pydict()
    assert set(rtt["pair"]) == {"Tokyo → Osaka"}
    rtt_ms = np.array(rtt["rtt_ms"], dtype=float)
    finite = np.isfinite(rtt_ms)
    assert finite.any()  # the 48-satellite shell links the two cities at some steps
    # No route is faster than light along the great circle and back.
    floor_ms = 2.0 * float(great_circle_m(*TOKYO, *OSAKA)) / C_M_PER_S * 1e3
    assert np.all(rtt_ms[finite] >= floor_ms)
    assert kpis["ntn_rtt_outage_share"] == 1.0 - finite.mean()

    figures = build_figures(out)
    bars = figures["apn-margin"].data[0]
    assert len(bars.x) == ok.sum()
    np.testing.assert_allclose(sorted(bars.x), sorted(margin))
    assert any(t.name == "Tokyo → Osaka" for t in figures["ntn-rtt"].data)
    tracks = pq.read_table(out / "ntn_tracks.parquet")
    assert tracks.num_rows == 31 * 6 * 8  # 30 min at 60 s, 6 planes x 8 satellites
