"""`tsunagu run` writes latency.parquet: round-trip distributions per service and region."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml
from typer.testing import CliRunner

from tsunagu.cli import app
from tsunagu.report.fig_latency import LATENCY_CHART_ID, LATENCY_TABLE_ID, latency_figure
from tsunagu.sim import catalogue as kc
from tsunagu.sim.latency import ALL, LATENCY_SCHEMA

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


def test_run_writes_latency_distributions(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(MINIMAL), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    table = pq.read_table(out / "latency.parquet")
    assert table.schema.names == LATENCY_SCHEMA.names
    lat = {k: np.asarray(v) for k, v in table.to_pydict().items()}
    flows = pq.read_table(out / "flows.parquet").to_pydict()
    served = np.asarray(flows["site"]) != ""
    svc = np.asarray(flows["service"])
    reg = np.asarray(flows["region"])
    # The requests the network carries there and back.
    carried = np.asarray(flows["carried_share"], dtype=float)
    requests = np.asarray(flows[kc.DEMAND_RPS.name]) * carried * summary["step_s"]
    prop = np.asarray(flows["latency_propagation_ms"], dtype=float)

    pair = (lat["service"] != ALL) & (lat["region"] != ALL)
    assert pair.any()
    for i in np.flatnonzero(pair):
        mine = served & (svc == lat["service"][i]) & (reg == lat["region"][i])
        # Every served request of the group is counted once.
        np.testing.assert_allclose(lat["requests"][i], requests[mine].sum(), rtol=1e-9)
        # Ordered quantiles, none below the group's fastest propagation.
        assert lat["p99_ms"][i] >= lat["p95_ms"][i] >= lat["p50_ms"][i] >= prop[mine].min()
        assert lat["network_p50_ms"][i] >= prop[mine].min()
        assert lat["p50_ms"][i] >= lat["network_p50_ms"][i]
        assert 0.0 < lat["cdf_error"][i] < 0.01
    overall = np.flatnonzero((lat["service"] == ALL) & (lat["region"] == ALL))[0]
    np.testing.assert_allclose(lat["requests"][overall], requests[served].sum(), rtol=1e-9)
    # The network part is the round trip less the AI part; the AI part is at least the
    # services' processing time (the GPU queue adds to it).
    np.testing.assert_allclose(
        lat["mean_ms"], lat["network_mean_ms"] + lat["processing_mean_ms"], rtol=1e-12
    )
    services = yaml.safe_load(MINIMAL.read_text())["services"]
    for k in services:
        row = np.flatnonzero((lat["service"] == k["name"]) & (lat["region"] == ALL))[0]
        assert lat["processing_mean_ms"][row] >= k["processing_s"] * 1e3 * (1.0 - 1e-12)

    kpis = summary["kpis"]
    assert kpis[kc.LATENCY_DIST_P95_MS.name] == lat["p95_ms"][overall]
    assert kpis[kc.LATENCY_DIST_P99_MS.name] >= kpis[kc.LATENCY_DIST_P50_MS.name]
    for name in set(svc):
        row = np.flatnonzero((lat["service"] == name) & (lat["region"] == ALL))[0]
        assert summary["per_service"][name][kc.LATENCY_DIST_P95_MS.name] == lat["p95_ms"][row]

    # The report shows the table and the chart from the same file.
    page = (out / "report.html").read_text()
    assert f'id="{LATENCY_TABLE_ID}"' in page
    assert f'id="{LATENCY_CHART_ID}"' in page
    assert page.count("<tr><td>", page.index(f'id="{LATENCY_TABLE_ID}"')) >= table.num_rows
    fig = latency_figure({k: np.asarray(v) for k, v in lat.items()})
    p99 = next(t for t in fig.data if t.name == "round trip p99")
    per_service = (lat["region"] == ALL) & (lat["service"] != ALL)
    assert list(p99.x) == list(lat["service"][per_service])
    np.testing.assert_array_equal(p99.y, lat["p99_ms"][per_service])
