"""Coverage figures: traces, units and offline-safe (cartesian) axes."""

from __future__ import annotations

import numpy as np

from tsunagu.report.fig_ntn_coverage import coverage_map_figure, coverage_time_figure


def test_time_figure_has_one_trace_per_series_in_percent() -> None:
    t = np.array([0.0, 60.0, 120.0])
    series = {
        "population_leo": np.array([1.0, 0.5, 0.25]),
        "population_haps": np.array([0.1]),  # HAPS-only series has one step
        "sea_any": np.array([0.0, 1.0, 1.0]),
    }
    fig = coverage_time_figure(t, series, "x")
    names = [tr.name for tr in fig.data]
    assert names == ["population · LEO", "population · HAPS", "sea area · LEO or HAPS"]
    assert list(fig.data[0].y) == [100.0, 50.0, 25.0]
    assert list(fig.data[1].y) == [10.0, 10.0, 10.0]
    assert list(fig.data[0].x) == [0.0, 60 / 3600, 120 / 3600]
    assert all(tr.type == "scatter" for tr in fig.data)


def test_map_figure_colours_points_by_time_share() -> None:
    fig = coverage_map_figure([35.0, 26.2], [139.0, 127.7], [1.0, 0.5])
    pts = fig.data[-1]
    assert list(pts.marker.color) == [100.0, 50.0]
    assert fig.data[0].name == "prefectures"
    assert all(tr.type == "scatter" for tr in fig.data)  # no geo traces: no CDN base map
