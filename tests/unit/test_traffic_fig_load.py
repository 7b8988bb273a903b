"""The load figures from a synthetic ``link_loads`` table (expected values computed here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tsunagu.errors import DataError
from tsunagu.report import fig_load, html

NODES = {
    "name": ["tokyo", "osaka", "sendai", "sat-1", "sat-2"],
    "lat_deg": [35.68, 34.69, 38.27, np.nan, np.nan],
    "lon_deg": [139.69, 135.50, 140.87, np.nan, np.nan],
}
# link: (src, dst, domain, resource, capacity_bps)
LINKS = [
    ("tokyo", "osaka", "optical", "fibre", 400e9),
    ("tokyo", "sendai", "optical", "fibre", 200e9),
    ("osaka", "tokyo", "ip", "port", 100e9),
    ("sendai", "sendai", "ran", "cell", 2e9),
    ("sat-1", "sat-2", "ntn", "isl", 100e9),
]
STEPS = 4
# load of each link per step (Gb/s); step 2 carries the most in total
LOAD_GBPS = np.array(
    [
        [100.0, 50.0, 20.0, 0.5, 10.0],
        [200.0, 150.0, 60.0, 1.0, 30.0],
        [390.0, 210.0, 97.0, 1.9, 60.0],
        [300.0, 100.0, 50.0, 1.5, 40.0],
    ]
)


def _write(run_dir: Path, drop: str | None = None) -> dict[str, Any]:
    n = len(LINKS)
    cap = np.tile([lk[4] for lk in LINKS], STEPS)
    load = LOAD_GBPS.ravel() * 1e9
    util = load / cap
    cols: dict[str, Any] = {
        "step": pa.array(np.repeat(np.arange(STEPS), n).astype(np.int32)),
        "time_s": np.repeat(np.arange(STEPS) * 3600.0, n),
        "link": pa.array(np.tile(np.arange(n), STEPS).astype(np.int32)),
        "src": [lk[0] for lk in LINKS] * STEPS,
        "dst": [lk[1] for lk in LINKS] * STEPS,
        "domain": [lk[2] for lk in LINKS] * STEPS,
        "resource": [lk[3] for lk in LINKS] * STEPS,
        "capacity_bps": cap,
        "load_bps": load,
        "utilisation": util,
        "queue_delay_s": np.where(util < 1.0, 1e-5 / np.maximum(1.0 - util, 1e-3), 1.0),
    }
    if drop:
        del cols[drop]
    pq.write_table(pa.table(cols), run_dir / "link_loads.parquet")
    pq.write_table(pa.table(NODES), run_dir / "nodes.parquet")
    return cols


def test_busy_step_and_map_classes(tmp_path: Path) -> None:
    _write(tmp_path)
    loads = fig_load.read_link_loads(tmp_path)
    assert loads is not None
    assert fig_load.busy_step(loads) == int(np.argmax(LOAD_GBPS.sum(axis=1))) == 2
    nodes = fig_load._read_nodes(tmp_path)
    fig = fig_load.load_map_figure(loads, nodes)
    assert fig.layout.meta["busy_step"] == 2
    assert fig.layout.meta["links_hidden"] == 1  # the ISL has no ground coordinates
    # utilisation at step 2: 0.975, 1.05, 0.97, 0.95 → bins 95–100, ≥100, 95–100, 95–100
    counts = {t.name.rsplit(" (", 1)[0]: t.meta["links"] for t in fig.data if t.meta}
    assert counts["95–100 %"] == 3
    assert counts["≥ 100 % (overloaded)"] == 1
    assert counts["< 50 %"] == 0


def test_resource_summary_aggregates(tmp_path: Path) -> None:
    _write(tmp_path)
    loads = fig_load.read_link_loads(tmp_path)
    assert loads is not None
    s = fig_load.resource_summary(loads)
    fibre = LOAD_GBPS[:, 0:2].sum(axis=1) / 600.0
    np.testing.assert_allclose(s["fibre"]["aggregate"], fibre, rtol=1e-12)
    np.testing.assert_allclose(s["fibre"]["max"], np.max(LOAD_GBPS[:, 0:2] / [400, 200], axis=1))
    assert sorted(s) == ["cell", "fibre", "isl", "port"]
    fig = fig_load.resource_utilisation_figure(loads)
    assert len(fig.data) == 2 * len(s)


def test_section_renders_only_with_table(tmp_path: Path) -> None:
    assert fig_load.load_section(tmp_path) == ""
    _write(tmp_path)
    page = fig_load.load_section(tmp_path)
    assert f'id="{fig_load.LOAD_MAP_ID}"' in page
    assert f'id="{fig_load.RESOURCE_CHART_ID}"' in page
    assert 'id="load-busy"' in page
    assert "105.0%" in page  # tokyo → sendai overloaded at the busy step


def test_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    _write(tmp_path, drop="queue_delay_s")
    with pytest.raises(DataError, match="queue_delay_s"):
        fig_load.read_link_loads(tmp_path)


def test_report_hook_adds_the_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path)
    seen: dict[str, str] = {}
    monkeypatch.setattr(html, "read_run", lambda _p: None)
    monkeypatch.setattr(html, "figures_from_data", lambda _r: {})

    def page(_run: Any, _figs: Any, extra: str = "") -> str:
        seen["extra"] = extra
        return extra

    monkeypatch.setattr(html, "_page", page)
    html.render_report(tmp_path)
    assert fig_load.LOAD_MAP_ID in seen["extra"]
