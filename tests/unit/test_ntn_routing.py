"""Unit tests of tsunagu.ntn.routing: graph per step, routes, series statistics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.constants import C_M_PER_S, WGS84_A_M
from tsunagu.errors import DataError, ModelRangeError
from tsunagu.ntn import isl, orbits, routing

R_SAT = WGS84_A_M + 550e3


def _ring(angles_deg: np.ndarray) -> np.ndarray:
    a = np.radians(angles_deg)
    return np.stack([R_SAT * np.cos(a), R_SAT * np.sin(a), np.zeros_like(a)], axis=-1)


def test_hand_built_equatorial_route() -> None:
    # Two stations on the equator at 0° and 12° longitude; satellites every 4° on an
    # equatorial ring, linked to their neighbours. Each station sees only the satellite above
    # it at >= 80°, so the route is 0 → sats 0,1,2,3 → 12°.
    ground = routing.ground_points(["A", "B"], [0.0, 0.0], [0.0, 12.0])
    sats = _ring(np.arange(0.0, 360.0, 4.0))[None]
    pairs = isl.grid_isl_pairs(1, 90)
    rs = routing.route_series(sats, [0.0], pairs, ground, [("A", "B"), ("B", "A")], 80.0)
    assert rs.paths[0, 0, :4].tolist() == [0, 1, 2, 3]
    assert rs.paths[0, 1, :4].tolist() == [3, 2, 1, 0]
    assert rs.hops[0].tolist() == [5, 5]
    chord = 2 * R_SAT * np.sin(np.radians(2.0))
    want = 2 * 550e3 + 3 * chord
    np.testing.assert_allclose(rs.length_m[0], want, rtol=1e-12)
    np.testing.assert_allclose(rs.rtt_s[0], 2 * want / C_M_PER_S, rtol=1e-12)


def test_outages_handovers_and_changes() -> None:
    ground = routing.ground_points(["A", "B"], [0.0, 0.0], [0.0, 12.0])
    base = _ring(np.arange(0.0, 360.0, 4.0))
    shifted = _ring(np.arange(2.0, 362.0, 4.0))  # nobody overhead: no satellite at >= 80°
    moved = _ring(np.arange(0.0, 360.0, 4.0) - 4.0)  # same geometry, renumbered satellites
    sats = np.stack([base, base, shifted, shifted, base, moved])
    t = np.arange(6) * 10.0
    rs = routing.route_series(sats, t, isl.grid_isl_pairs(1, 90), ground, [("A", "B")], 80.0)
    assert np.isinf(rs.rtt_s[2:4, 0]).all()
    assert rs.hops[2:4, 0].tolist() == [-1, -1]
    np.testing.assert_array_equal(rs.outages[0], [[20.0, 40.0]])
    # Changes: 1→2 (lost), 3→4 (back), 4→5 (renumbered path); handovers only 4→5 (both ends).
    assert rs.path_changes.tolist() == [3]
    assert rs.handovers.tolist() == [2]
    # An outage running to the end closes one step after the last time.
    rs = routing.route_series(sats[:3], t[:3], isl.grid_isl_pairs(1, 90), ground, [(0, 1)], 80.0)
    np.testing.assert_array_equal(rs.outages[0], [[20.0, 30.0]])


def _cities() -> routing.GroundPoints:
    rng = np.random.default_rng(3)
    n = 12
    return routing.ground_points(
        [f"c{k}" for k in range(n)], rng.uniform(-50, 50, n), rng.uniform(-180, 180, n)
    )


@settings(max_examples=15, deadline=None)
@given(st.floats(0.0, 6000.0), st.floats(10.0, 40.0))
def test_reported_length_is_the_sum_of_its_links(t: float, mask: float) -> None:
    ground = _cities()
    sats = orbits.walker_positions_ecef_m(24, 16, 5, 550e3, 53.0, [t])
    pairs = isl.grid_isl_pairs(24, 16)
    want = [(a, b) for a in range(0, 12, 3) for b in range(1, 12, 4) if a != b]
    rs = routing.route_series(sats, [t], pairs, ground, want, mask)
    up, _ = isl.isl_feasible(sats[0], pairs)
    usable = {tuple(p) for p in pairs[up].tolist()}
    for k, (a, b) in enumerate(want):
        if not np.isfinite(rs.length_m[0, k]):
            continue
        path = [int(x) for x in rs.paths[0, k] if x >= 0]
        pts = np.vstack([ground.ecef_m[a], sats[0, path], ground.ecef_m[b]])
        total = np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()
        assert total == pytest.approx(rs.length_m[0, k], rel=1e-12)
        for u, v in itertools.pairwise(path):
            assert (min(u, v), max(u, v)) in usable
        # Both end satellites are above the mask, and light time bounds the RTT from below.
        from tsunagu.ntn.geometry import elevation_and_range

        el_a, _ = elevation_and_range(ground.ecef_m[a], sats[0, path[0]])
        el_b, _ = elevation_and_range(ground.ecef_m[b], sats[0, path[-1]])
        assert float(el_a[0, 0]) >= mask - 1e-9
        assert float(el_b[0, 0]) >= mask - 1e-9
        chord = np.linalg.norm(ground.ecef_m[a] - ground.ecef_m[b])
        assert rs.rtt_s[0, k] >= 2 * chord / C_M_PER_S


def test_all_pairs_agrees_with_route_series_and_chunks() -> None:
    ground = _cities()
    t = np.arange(0.0, 300.0, 60.0)
    sats = orbits.walker_positions_ecef_m(24, 16, 5, 550e3, 53.0, t)
    pairs = isl.grid_isl_pairs(24, 16)
    full = routing.all_pairs_rtt_s(sats, pairs, ground.ecef_m, 25.0)
    chunked = routing.all_pairs_rtt_s(iter([sats[:2], sats[2:]]), pairs, ground.ecef_m, 25.0)
    np.testing.assert_array_equal(full, chunked)
    want = [(a, b) for a in range(12) for b in range(12)]
    rs = routing.route_series(sats, t, pairs, ground, want, 25.0)
    np.testing.assert_allclose(rs.rtt_s, full.reshape(t.size, -1), rtol=1e-12)
    # Symmetric graph: RTT(a, b) = RTT(b, a).
    np.testing.assert_allclose(full, np.swapaxes(full, 1, 2), rtol=1e-12)


def test_errors() -> None:
    ground = _cities()
    sats = orbits.walker_positions_ecef_m(4, 4, 1, 550e3, 53.0, [0.0])
    pairs = isl.grid_isl_pairs(4, 4)
    with pytest.raises(ModelRangeError, match="not in ground"):
        routing.route_series(sats, [0.0], pairs, ground, [("c0", "Atlantis")])
    with pytest.raises(ModelRangeError, match="min_elevation_deg"):
        routing.route_series(sats, [0.0], pairs, ground, [("c0", "c1")], 95.0)
    with pytest.raises(ModelRangeError, match="2 times but positions for 1"):
        routing.route_series(sats, [0.0, 1.0], pairs, ground, [("c0", "c1")])
    with pytest.raises(ModelRangeError, match="only 16 satellites"):
        routing.all_pairs_rtt_s(sats, [[0, 40]], ground.ecef_m)


def test_resolve_places() -> None:
    g = routing.resolve_places(["Tokyo", "Naha, JP", "26.2,127.7"])
    assert g.names == ("Tokyo", "Naha", "26.2,127.7")
    assert g.lat_deg[0] == pytest.approx(35.69, abs=0.1)
    assert g.lon_deg[1] == pytest.approx(127.68, abs=0.1)
    with pytest.raises(DataError, match="lat,lon"):
        routing.resolve_places(["Tokyoo"])
    with pytest.raises(ModelRangeError, match="latitude"):
        routing.resolve_places(["95,10"])


def test_walker_rtt_series_hook() -> None:
    from tsunagu.ntn.constellations import Shell

    shells = [Shell("s", 24, 16, 5, 550e3, 53.0)]
    t = np.array([0.0, 600.0, 1200.0])
    rs = routing.walker_rtt_series(
        shells, [("Tokyo", "Naha, JP"), ("Tokyo", "26.2,127.7")], t, min_elevation_deg=20.0
    )
    # Same as route_series on the positions Twin.satellites_ecef computes (two-body Walker).
    pos = orbits.walker_positions_ecef_m(24, 16, 5, 550e3, 53.0, t)
    ground = routing.resolve_places(["26.2,127.7", "Naha, JP", "Tokyo"])
    want = routing.route_series(pos, t, isl.grid_isl_pairs(24, 16), ground, [(2, 1), (2, 0)], 20.0)
    np.testing.assert_array_equal(rs.rtt_s, want.rtt_s)
    assert rs.pairs == (("Tokyo", "Naha"), ("Tokyo", "26.2,127.7"))
    none = routing.walker_rtt_series(shells, [("Tokyo", "Naha")], t, isl_pattern="none")
    assert np.all(none.rtt_s[np.isfinite(none.rtt_s)] >= rs.rtt_s[:, :1][np.isfinite(none.rtt_s)])
    with pytest.raises(ModelRangeError, match="isl_pattern"):
        routing.walker_rtt_series(shells, [("Tokyo", "Naha")], t, isl_pattern="mesh")  # type: ignore[arg-type]


def test_all_pairs_workers_give_identical_results() -> None:
    ground = _cities()
    t = np.arange(0.0, 240.0, 60.0)
    sats = orbits.walker_positions_ecef_m(12, 10, 5, 550e3, 53.0, t)
    pairs = isl.grid_isl_pairs(12, 10)
    one = routing.all_pairs_rtt_s(sats, pairs, ground.ecef_m, 20.0)
    two = routing.all_pairs_rtt_s(sats, pairs, ground.ecef_m, 20.0, workers=2)
    np.testing.assert_array_equal(one, two)
    with pytest.raises(ModelRangeError, match="workers"):
        routing.all_pairs_rtt_s(sats, pairs, ground.ecef_m, workers=0)


# ------------------------------------------------------------------ ground-link geometry, pinned

_A, _F = 6378137.0, 1 / 298.257223563  # WGS84, written out here (not imported) on purpose


def _enu_frame(lat_deg: float, lon_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geodetic station position and its east/north/up unit vectors, from closed forms."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    e2 = _F * (2 - _F)
    n = _A / np.sqrt(1 - e2 * np.sin(la) ** 2)
    pos = np.array(
        [n * np.cos(la) * np.cos(lo), n * np.cos(la) * np.sin(lo), n * (1 - e2) * np.sin(la)]
    )
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.array([-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)])
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    return pos, east, north, up  # type: ignore[return-value]


def _one_sat_per_step(
    lat: float, lon: float, el_deg: np.ndarray, az_deg: np.ndarray, d_m: np.ndarray
) -> np.ndarray:
    pos, east, north, up = _enu_frame(lat, lon)  # type: ignore[misc]
    el, az = np.radians(el_deg), np.radians(az_deg)
    look = (
        np.cos(el)[:, None] * (np.cos(az)[:, None] * north + np.sin(az)[:, None] * east)
        + np.sin(el)[:, None] * up
    )
    return (pos + d_m[:, None] * look)[:, None, :]  # (T, 1, 3): one candidate satellite per step


def _seen(
    sats: np.ndarray, lat: float, lon: float, **rule: object
) -> tuple[np.ndarray, np.ndarray]:
    g = routing.ground_points(["A", "B"], [lat, lat], [lon, lon])
    t = np.arange(sats.shape[0], dtype=float)
    rs = routing.route_series(sats, t, np.zeros((0, 2)), g, [("A", "B")], **rule)  # type: ignore[arg-type]
    return np.isfinite(rs.length_m[:, 0]), rs.length_m[:, 0]


@pytest.mark.parametrize("lat", [45.0, -60.0, 0.0])
def test_elevation_mask_flips_at_the_geodetic_elevation(lat: float) -> None:
    # Just below and just above a 25° mask, looking north, south, east and west. At 45° the
    # geocentric vertical is 0.19° off the geodetic one, so a mask measured from the wrong
    # vertical (or from the ellipsoid's centre) flips some of these 0.02°-margin cases.
    az = np.repeat([0.0, 90.0, 180.0, 270.0], 2)
    el = np.tile([24.98, 25.02], 4)
    d = np.full(az.size, 1_200e3)
    seen, length = _seen(_one_sat_per_step(lat, 30.0, el, az, d), lat, 30.0, min_elevation_deg=25.0)
    assert seen.tolist() == [False, True] * 4
    # The link's weight is the slant range: up and down to the one satellite.
    np.testing.assert_allclose(length[seen], 2 * d[seen], rtol=1e-12)


def test_max_range_rule_ignores_the_mask_but_not_the_horizon() -> None:
    el = np.array([10.0, 10.0, 60.0, 60.0, 89.0, -0.5])
    d = np.array([1259.9e3, 1260.1e3, 1259.9e3, 1260.1e3, 700e3, 500e3])
    sats = _one_sat_per_step(35.0, 139.0, el, np.zeros(el.size), d)
    seen, length = _seen(
        sats, 35.0, 139.0, min_elevation_deg=45.0, gsl_rule="max_range", max_gsl_range_m=1260e3
    )
    assert seen.tolist() == [True, False, True, False, True, False]
    np.testing.assert_allclose(length[seen], 2 * d[seen], rtol=1e-12)
    # The elevation rule on the same satellites: only the mask decides.
    seen_el, _ = _seen(sats, 35.0, 139.0, min_elevation_deg=45.0)
    assert seen_el.tolist() == [False, False, True, True, True, False]


def test_hypatia_range_convention_and_per_satellite_ranges() -> None:
    # Hypatia: sqrt((h/tan e)^2 + h^2) = h/sin e; Kuiper-630 at 30°: 1,260 km; Starlink 550/25°.
    assert float(routing.hypatia_max_gsl_range_m(630e3, 30.0)) == pytest.approx(1_260e3, rel=1e-12)
    assert float(routing.hypatia_max_gsl_range_m(550e3, 25.0)) == pytest.approx(
        550e3 / np.sin(np.radians(25.0)), rel=1e-12
    )
    with pytest.raises(ModelRangeError, match="min_elevation_deg in"):
        routing.hypatia_max_gsl_range_m(630e3, 0.0)
    # Two satellites per step, each with its own longest link.
    sats = _one_sat_per_step(
        0.0, 0.0, np.array([50.0, 50.0]), np.zeros(2), np.array([900e3, 900e3])
    )
    both = np.concatenate([sats[:1], sats[1:]], axis=1)  # (1, 2, 3)
    g = routing.ground_points(["A", "B"], [0.0, 0.0], [0.0, 0.0])
    for ranges, reach in (([1e6, 8e5], True), ([8e5, 8e5], False)):
        rs = routing.route_series(
            both,
            [0.0],
            np.zeros((0, 2)),
            g,
            [("A", "B")],
            gsl_rule="max_range",
            max_gsl_range_m=ranges,
        )
        assert bool(np.isfinite(rs.length_m[0, 0])) is reach
    with pytest.raises(ModelRangeError, match="needs max_gsl_range_m"):
        routing.route_series(both, [0.0], np.zeros((0, 2)), g, [("A", "B")], gsl_rule="max_range")
    with pytest.raises(ModelRangeError, match="3 values for 2 satellites"):
        routing.route_series(
            both,
            [0.0],
            np.zeros((0, 2)),
            g,
            [("A", "B")],
            gsl_rule="max_range",
            max_gsl_range_m=[1e6, 1e6, 1e6],
        )
    with pytest.raises(ModelRangeError, match="gsl_rule must be one of"):
        routing.route_series(both, [0.0], np.zeros((0, 2)), g, [("A", "B")], gsl_rule="cone")  # type: ignore[arg-type]


def test_a_pair_that_never_has_a_path_is_a_result_not_a_crash() -> None:
    # Regression: route_series raised IndexError when no step had a path for any pair.
    g = routing.ground_points(["A", "B"], [0.0, -60.0], [0.0, 0.0])
    sats = _ring(np.array([180.0]))[None].repeat(3, axis=0)  # one satellite, far side
    rs = routing.route_series(sats, [0.0, 1.0, 2.0], np.zeros((0, 2)), g, [("A", "B")])
    assert np.isinf(rs.rtt_s).all()
    assert rs.hops[:, 0].tolist() == [-1, -1, -1]
    assert rs.path_changes.tolist() == [0]
    assert rs.handovers.tolist() == [0]
    np.testing.assert_array_equal(rs.outages[0], [[0.0, 3.0]])


@pytest.mark.parametrize("place", ["", "   "])
def test_empty_place_name_is_refused(place: str) -> None:
    # Regression: an empty name matched a GeoNames alternate name and resolved to Shanghai.
    with pytest.raises(DataError, match="empty place name"):
        routing.resolve_places(["Tokyo", place])


def test_all_pairs_applies_the_range_rule_like_route_series() -> None:
    ground = _cities()
    sats = orbits.walker_positions_ecef_m(12, 10, 1, 630e3, 53.0, [0.0, 300.0])
    pairs = isl.grid_isl_pairs(12, 10)
    rule = {
        "gsl_rule": "max_range",
        "max_gsl_range_m": routing.hypatia_max_gsl_range_m(630e3, 30.0),
    }
    full = routing.all_pairs_rtt_s(sats, pairs, ground.ecef_m, **rule)  # type: ignore[arg-type]
    rs = routing.route_series(
        sats, [0.0, 300.0], pairs, ground, [("c0", "c5"), ("c3", "c7")], **rule
    )  # type: ignore[arg-type]
    np.testing.assert_allclose(rs.rtt_s[:, 0], full[:, 0, 5], rtol=1e-12)
    np.testing.assert_allclose(rs.rtt_s[:, 1], full[:, 3, 7], rtol=1e-12)
    # The range rule is not the 30° mask: some pair's reachability or RTT differs.
    masked = routing.all_pairs_rtt_s(sats, pairs, ground.ecef_m, 30.0)
    assert (
        not np.array_equal(np.isfinite(full), np.isfinite(masked))
        or np.nanmax(np.abs(np.where(np.isfinite(full) & np.isfinite(masked), full - masked, 0.0)))
        > 1e-6
    )
