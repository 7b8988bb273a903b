"""End-to-end tests of the HTML report: self-contained, offline, complete, atomic, robust."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import plotly.offline
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tsunagu.errors import DataError
from tsunagu.report import write_report
from tsunagu.report.figures import (
    COMPUTE_TRACE,
    DEMAND_TRACE,
    FIGURE_IDS,
    OUTLINE_TRACE,
    SATELLITE_TRACE,
    build_figures,
)

# The page contract: users and the dashboard link to these ids.
EXPECTED_FIGURE_IDS = (
    "map",
    "latency-time",
    "energy-time",
    "carbon-time",
    "share-time",
    "outage-time",
    "latency-dist",
    "latency-region",
    "latency-components",
    "apn-margin",
    "apn-vs-ip",
    "ntn-map",
    "ntn-rtt",
)
REQUIRED_FILES = (
    "summary.json",
    "nodes.parquet",
    "links.parquet",
    "steps.parquet",
    "flows.parquet",
    "satellites.parquet",
)
N_PREFECTURES = 47
# Request-weighted means are sums of a few hundred float64 products: agreement to a nanosecond
# of latency is far above rounding error and far below anything a reader could see.
LATENCY_TOL_MS = 1e-6
CHROMIUM = Path("/usr/bin/chromium")


class _Page(HTMLParser):
    """Collects element ids, classes, URL-bearing attributes and script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None
        self._script_text: list[str] = []
        # classes seen inside each element with a watched id (tracked by div depth)
        self.classes_in: dict[str, set[str]] = {}
        self._open: list[tuple[str, int]] = []
        self._div_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href", "xlink:href", "action", "data"):
            value = attributes.get(name)
            if value is not None:
                self.urls.append((tag, name, value))
        element_id = attributes.get("id")
        if element_id:
            self.ids.append(element_id)
        for watched, _depth in self._open:
            self.classes_in[watched].update((attributes.get("class") or "").split())
        if tag == "div":
            self._div_depth += 1
            if element_id:
                self.classes_in.setdefault(element_id, set())
                self._open.append((element_id, self._div_depth))
        if tag == "script":
            self._script, self._script_text = attributes, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._open = [(i, d) for i, d in self._open if d < self._div_depth]
            self._div_depth -= 1
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._script_text)))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_text.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _trace(fig: Any, name: str) -> Any:
    matches = [t for t in fig.data if t.name is not None and t.name.startswith(name)]
    assert len(matches) == 1, f"expected one trace named {name!r}, got {[t.name for t in fig.data]}"
    return matches[0]


def _rewrite_parquet(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


@pytest.fixture
def report(synthetic_run: Path) -> tuple[Path, str, _Page]:
    path = write_report(synthetic_run)
    text = path.read_text(encoding="utf-8")
    return path, text, _parse(text)


# -- self-contained and offline ------------------------------------------------------------------


def test_report_loads_nothing_from_the_network(report: tuple[Path, str, _Page]) -> None:
    path, text, page = report
    assert path.name == "report.html"
    external = [u for u in page.urls if re.match(r"^\s*(https?:)?//", u[2], re.IGNORECASE)]
    assert external == []
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text, re.IGNORECASE)  # CSS fonts/images
    assert not any(tag == "link" for tag, _, _ in page.urls)
    assert all(attrs.get("src") is None for attrs, _ in page.scripts)


def test_plotly_js_is_embedded_exactly_once(report: tuple[Path, str, _Page]) -> None:
    _, text, _ = report
    bundle = plotly.offline.get_plotlyjs()
    banner = next(line for line in bundle.splitlines() if "plotly.js v" in line)
    assert bundle.count(banner) == 1
    assert text.count(banner) == 1
    assert bundle in text


def test_no_figure_uses_traces_that_fetch_map_data(synthetic_run: Path) -> None:
    # scattergeo/choropleth fetch topojson from a CDN; mapbox/map traces fetch tiles.
    types = {trace.type for fig in build_figures(synthetic_run).values() for trace in fig.data}
    assert types <= {"scatter", "bar"}


# -- contents ------------------------------------------------------------------------------------


def test_every_figure_has_its_div(report: tuple[Path, str, _Page]) -> None:
    _, text, page = report
    assert FIGURE_IDS == EXPECTED_FIGURE_IDS
    for fid in EXPECTED_FIGURE_IDS:
        assert page.ids.count(fid) == 1, fid
        assert re.search(r'Plotly\.newPlot\(\s*"' + re.escape(fid) + '"', text), fid
    assert "kpis" in page.ids


def test_embedded_summary_equals_summary_json(
    synthetic_run: Path, report: tuple[Path, str, _Page]
) -> None:
    _, _, page = report
    blocks = [body for attrs, body in page.scripts if attrs.get("id") == "tsunagu-summary"]
    assert len(blocks) == 1
    attrs = next(a for a, _ in page.scripts if a.get("id") == "tsunagu-summary")
    assert attrs.get("type") == "application/json"
    summary = json.loads((synthetic_run / "summary.json").read_text(encoding="utf-8"))
    assert json.loads(blocks[0]) == summary


def test_header_names_the_scenario_and_counts(
    synthetic_run: Path, report: tuple[Path, str, _Page]
) -> None:
    _, text, _ = report
    summary = json.loads((synthetic_run / "summary.json").read_text(encoding="utf-8"))
    assert f"<h1>tsunagu report: {summary['scenario']}</h1>" in text
    assert "30 demand points" in text
    assert "20 satellites" in text


def test_map_shows_outlines_demand_sites_and_satellites(synthetic_run: Path) -> None:
    fig = build_figures(synthetic_run)["map"]
    summary = json.loads((synthetic_run / "summary.json").read_text(encoding="utf-8"))

    outlines = _trace(fig, OUTLINE_TRACE)
    rings = int(np.isnan(np.asarray(outlines.x, dtype=float)).sum())
    assert rings >= N_PREFECTURES
    lon = np.asarray(outlines.x, dtype=float)
    lat = np.asarray(outlines.y, dtype=float)
    # Japan's extent, degrees
    assert np.nanmin(lon) > 122.0
    assert np.nanmax(lon) < 154.0
    assert np.nanmin(lat) > 20.0
    assert np.nanmax(lat) < 46.0

    demand = _trace(fig, DEMAND_TRACE)
    assert len(demand.x) == summary["counts"]["demand_points"] == 30
    assert len(_trace(fig, COMPUTE_TRACE).x) == summary["counts"]["compute_sites"] == 5

    # Satellites: those at the first step inside the map's axes, counted independently.
    sats = pq.read_table(synthetic_run / "satellites.parquet").to_pydict()
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    expected = sum(
        1
        for step, slon, slat in zip(sats["step"], sats["lon_deg"], sats["lat_deg"], strict=True)
        if step == min(sats["step"]) and x0 <= slon <= x1 and y0 <= slat <= y1
    )
    assert 0 < len(_trace(fig, SATELLITE_TRACE).x) == expected

    # Fibre only: the free-space HAPS feeder in links.parquet is not drawn.
    drawn = [t for t in fig.data if t.name.startswith("fibre")]
    assert sum(int(np.isnan(np.asarray(t.x, dtype=float)).sum()) for t in drawn) == 12


def test_map_aspect_follows_latitude(synthetic_run: Path) -> None:
    fig = build_figures(synthetic_run)["map"]
    y0, y1 = fig.layout.yaxis.range
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.yaxis.scaleratio == pytest.approx(1.0 / np.cos(np.deg2rad((y0 + y1) / 2)))


def test_demand_colour_is_request_weighted_mean_latency(synthetic_run: Path) -> None:
    demand = _trace(build_figures(synthetic_run)["map"], DEMAND_TRACE)
    flows = str(synthetic_run / "flows.parquet")
    rows = duckdb.sql(
        "SELECT lon_deg, lat_deg, sum(demand_rps * latency_total_ms) / sum(demand_rps) "
        f"FROM read_parquet('{flows}') WHERE access <> 'none' AND isfinite(latency_total_ms) "
        "GROUP BY demand, lon_deg, lat_deg"
    ).fetchall()
    expected = {(lon, lat): mean for lon, lat, mean in rows}
    got = {
        (float(x), float(y)): float(c)
        for x, y, c in zip(demand.x, demand.y, demand.marker.color, strict=True)
    }
    assert got.keys() == expected.keys()
    for key, mean in expected.items():
        assert got[key] == pytest.approx(mean, abs=LATENCY_TOL_MS)


def test_latency_components_add_up_to_the_total(synthetic_run: Path) -> None:
    # Invariant: with total = sum of components per flow, the request-weighted mean of the
    # total equals the sum of the components' request-weighted means.
    fig = build_figures(synthetic_run)["latency-components"]
    stacked = np.sum([np.asarray(t.y, dtype=float) for t in fig.data], axis=0)
    flows = str(synthetic_run / "flows.parquet")
    rows = duckdb.sql(
        "SELECT service, sum(demand_rps * latency_total_ms) / sum(demand_rps) "
        f"FROM read_parquet('{flows}') WHERE access <> 'none' GROUP BY service ORDER BY service"
    ).fetchall()
    assert list(fig.data[0].x) == [s for s, _ in rows]
    np.testing.assert_allclose(stacked, [m for _, m in rows], rtol=0, atol=LATENCY_TOL_MS)
    assert np.all(stacked > 0)


def test_time_series_follow_steps(synthetic_run: Path) -> None:
    figures = build_figures(synthetic_run)
    steps = pq.read_table(synthetic_run / "steps.parquet").to_pydict()
    p95 = _trace(figures["latency-time"], "latency p95")
    np.testing.assert_allclose(p95.y, steps["latency_p95_ms"])
    np.testing.assert_allclose(p95.x, np.asarray(steps["time_s"]) / 3600.0)
    energy = np.sum([np.asarray(t.y, dtype=float) for t in figures["energy-time"].data], axis=0)
    np.testing.assert_allclose(energy, steps["energy_total_kwh"], rtol=1e-12)
    for trace in figures["latency-dist"].data:  # each service's histogram sums to 100 %
        assert np.sum(np.asarray(trace.y)[:-1]) == pytest.approx(100.0)


def test_region_medians_match_summary(synthetic_run: Path) -> None:
    fig = build_figures(synthetic_run)["latency-region"]
    summary = json.loads((synthetic_run / "summary.json").read_text(encoding="utf-8"))
    p50 = _trace(fig, "latency p50")
    got = dict(zip(p50.x, p50.y, strict=True))
    assert got.keys() == summary["per_region"].keys()
    for region, stats in summary["per_region"].items():
        assert got[region] == pytest.approx(stats["latency_p50_ms"], abs=1e-3)  # summary rounds


def test_every_axis_has_a_title_with_a_unit(synthetic_run: Path) -> None:
    for fid, fig in build_figures(synthetic_run).items():
        for axis in (fig.layout.xaxis, fig.layout.yaxis):
            title = axis.title.text
            assert title, fid
            assert fid in ("latency-region", "latency-components") or re.search(r"\(.+\)", title), (
                fid,
                title,
            )
        assert fig.layout.title.text, fid


# -- atomic writes -------------------------------------------------------------------------------


def test_existing_report_is_replaced_and_nothing_else_left(synthetic_run: Path) -> None:
    target = synthetic_run / "report.html"
    target.write_text("stale", encoding="utf-8")
    before = sorted(p.name for p in synthetic_run.iterdir())
    assert write_report(synthetic_run) == target
    assert sorted(p.name for p in synthetic_run.iterdir()) == before
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert os.stat(target).st_mode & 0o777 == 0o644


def test_failed_build_leaves_old_report_untouched(synthetic_run: Path) -> None:
    target = synthetic_run / "report.html"
    target.write_text("previous report", encoding="utf-8")
    (synthetic_run / "flows.parquet").unlink()
    before = sorted(p.name for p in synthetic_run.iterdir())
    with pytest.raises(DataError):
        write_report(synthetic_run)
    assert target.read_text(encoding="utf-8") == "previous report"
    assert sorted(p.name for p in synthetic_run.iterdir()) == before


def test_failed_rename_leaves_no_temp_file(
    synthetic_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = synthetic_run / "report.html"
    target.write_text("previous report", encoding="utf-8")
    before = sorted(p.name for p in synthetic_run.iterdir())

    def refuse(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_report(synthetic_run)
    assert target.read_text(encoding="utf-8") == "previous report"
    assert sorted(p.name for p in synthetic_run.iterdir()) == before


def test_out_path_elsewhere(synthetic_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "japan.html"
    assert write_report(synthetic_run, out) == out
    assert out.is_file()
    assert not (synthetic_run / "report.html").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["japan.html"]


# -- robustness ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_missing_file_is_named(synthetic_run: Path, name: str) -> None:
    (synthetic_run / name).unlink()
    with pytest.raises(DataError, match=re.escape(name)) as err:
        write_report(synthetic_run)
    assert "tsunagu run" in str(err.value)
    assert not (synthetic_run / "report.html").exists()


def test_missing_run_dir_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist.*tsunagu run"):
        write_report(tmp_path / "nowhere")


def test_missing_column_is_named(synthetic_run: Path) -> None:
    _rewrite_parquet(synthetic_run / "flows.parquet", lambda t: t.drop(["latency_total_ms"]))
    with pytest.raises(DataError, match=r"flows\.parquet lacks column\(s\) latency_total_ms"):
        write_report(synthetic_run)


def test_missing_summary_key_is_named(synthetic_run: Path) -> None:
    path = synthetic_run / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    del summary["kpis"]
    path.write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(DataError, match=r"summary\.json has no 'kpis' key"):
        write_report(synthetic_run)


def test_corrupt_parquet_is_named(synthetic_run: Path) -> None:
    (synthetic_run / "steps.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"steps\.parquet is not a readable Parquet file"):
        write_report(synthetic_run)


def test_zero_satellites_still_renders(make_run: Callable[..., Path]) -> None:
    run = make_run(n_satellites=0)
    fig = build_figures(run)["map"]
    assert len(_trace(fig, SATELLITE_TRACE).x) == 0
    page = _parse(write_report(run).read_text(encoding="utf-8"))
    assert set(EXPECTED_FIGURE_IDS) <= set(page.ids)


def test_service_without_flows_still_renders(make_run: Callable[..., Path]) -> None:
    run = make_run(services_without_flows=("robot-control",))
    figures = build_figures(run)
    assert "robot-control" not in list(figures["latency-components"].data[0].x)
    text = write_report(run).read_text(encoding="utf-8")
    assert "robot-control" in text  # still in the per-service table from summary.json


def test_service_never_served_still_renders(synthetic_run: Path) -> None:
    def refuse_robots(table: pa.Table) -> pa.Table:
        robots = np.asarray(table["service"].to_pylist()) == "robot-control"
        access = np.where(robots, "none", np.asarray(table["access"].to_pylist()))
        total = np.where(robots, np.nan, table["latency_total_ms"].to_numpy(zero_copy_only=False))
        table = table.set_column(table.schema.get_field_index("access"), "access", [access])
        index = table.schema.get_field_index("latency_total_ms")
        return table.set_column(index, "latency_total_ms", [total])

    _rewrite_parquet(synthetic_run / "flows.parquet", refuse_robots)
    figures = build_figures(synthetic_run)
    names = [t.name for t in figures["latency-dist"].data]
    assert "robot-control (no served requests)" in names
    write_report(synthetic_run)


def test_no_flows_at_all_still_renders(synthetic_run: Path) -> None:
    _rewrite_parquet(synthetic_run / "flows.parquet", lambda t: t.slice(0, 0))
    figures = build_figures(synthetic_run)
    assert len(_trace(figures["map"], DEMAND_TRACE).x) == 0
    assert write_report(synthetic_run).is_file()


# -- rendering -----------------------------------------------------------------------------------


def test_report_renders(synthetic_run: Path, tmp_path: Path) -> None:
    """Render in headless Chromium when installed; otherwise check the page's static wiring.

    Not skipped without Chromium: the static half still proves every figure div is followed by
    the call that draws into it after plotly.js is defined.
    """
    path = write_report(synthetic_run)
    text = path.read_text(encoding="utf-8")
    bundle_at = text.index(plotly.offline.get_plotlyjs())
    for fid in EXPECTED_FIGURE_IDS:
        div_at = text.index(f'id="{fid}"')
        call = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(fid) + '"', text[div_at:])
        assert call is not None, fid
        assert bundle_at < div_at, fid

    chromium = shutil.which("chromium") or (str(CHROMIUM) if CHROMIUM.exists() else None)
    if chromium is None:
        return
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--dump-dom",
            path.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = _parse(done.stdout)
    for fid in EXPECTED_FIGURE_IDS:
        assert "main-svg" in dom.classes_in.get(fid, set()), fid
    assert "scatterlayer" in dom.classes_in["map"]
