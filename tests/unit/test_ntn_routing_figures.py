"""Unit tests of tsunagu.report.fig_ntn (satellite map and RTT figures)."""

from __future__ import annotations

import numpy as np
import pytest

from tsunagu.errors import ModelRangeError
from tsunagu.geo import ecef_to_geodetic
from tsunagu.ntn import isl, orbits, routing
from tsunagu.report import fig_ntn


def test_satellite_map_marks_the_satellites_over_japan() -> None:
    t = np.arange(0.0, 1200.0, 30.0)
    pos = orbits.walker_positions_ecef_m(72, 22, 39, 550e3, 53.0, t)
    ground = routing.ground_points(["Tokyo"], [35.68], [139.69])
    fig = fig_ntn.satellite_map_figure(pos, t, step=3, ground=ground)
    names = [tr.name for tr in fig.data]
    assert names[:3] == ["prefectures", fig_ntn.GROUND_TRACK_TRACE, "satellites at t = 90 s"]
    assert names[3] == "ground points"
    lat, lon, _ = ecef_to_geodetic(pos[3, :, 0], pos[3, :, 1], pos[3, :, 2])
    lo0, lo1, la0, la1 = fig_ntn.JAPAN_BOX_DEG
    want = int(np.sum((lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1)))
    assert want > 0
    assert len(fig.data[2].x) == want
    # Tracks stay inside the box (NaN gaps elsewhere).
    tx = np.asarray(fig.data[1].x, dtype=float)
    assert np.nanmin(tx) >= lo0
    assert np.nanmax(tx) <= lo1
    with pytest.raises(ModelRangeError, match="T = len"):
        fig_ntn.satellite_map_figure(pos[:2], t)


def test_rtt_figure_has_a_line_per_pair_with_gaps() -> None:
    t = np.arange(0.0, 300.0, 20.0)
    pos = orbits.walker_positions_ecef_m(34, 34, 1, 630e3, 51.9, t)
    ground = routing.ground_points(["Tokyo", "Naha"], [35.68, 26.21], [139.69, 127.68])
    rs = routing.route_series(pos, t, isl.grid_isl_pairs(34, 34), ground, [("Tokyo", "Naha")], 30.0)
    fig = fig_ntn.rtt_time_figure(rs)
    assert fig.data[0].name == "Tokyo → Naha"
    y = np.asarray(fig.data[0].y, dtype=float)
    np.testing.assert_allclose(y[np.isfinite(y)], rs.rtt_s[np.isfinite(rs.rtt_s[:, 0]), 0] * 1e3)
    # No outage here, so every path change is marked once.
    assert rs.outages[0].shape == (0, 2)
    assert len(fig.data[1].x) == int(rs.path_changes[0])
    assert fig.data[1].name.endswith(f"({int(rs.path_changes[0])})")
