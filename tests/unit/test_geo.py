"""Unit tests of tsunagu.geo: invariants, broadcasting, input checks, Japan data consistency."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu import geo
from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX, WGS84_A_M, WGS84_F
from tsunagu.errors import ModelRangeError, TsunaguError

MM = 1e-3
GEO_RADIUS_M = 42_164_172.0  # geostationary orbit radius (μ / ω²)^(1/3), WGS84 μ and ω
GEO_ALT_M = GEO_RADIUS_M - WGS84_A_M  # 35,786,035 m above the equator

lats = st.floats(-90.0, 90.0, allow_nan=False)
lons = st.floats(-180.0, 180.0, allow_nan=False)
alts = st.floats(-1_000.0, 40_000_000.0, allow_nan=False)


# --- ECEF --------------------------------------------------------------------------------------


@given(lats, lons, alts)
@settings(max_examples=300, deadline=None)
def test_geodetic_ecef_round_trip_sub_mm(lat: float, lon: float, alt: float) -> None:
    x, y, z = geo.geodetic_to_ecef(lat, lon, alt)
    lat2, lon2, alt2 = geo.ecef_to_geodetic(x, y, z)
    x2, y2, z2 = geo.geodetic_to_ecef(lat2, lon2, alt2)
    # position error of the round trip, in metres; sub-millimetre required
    assert np.sqrt((x2 - x) ** 2 + (y2 - y) ** 2 + (z2 - z) ** 2) < 0.1 * MM
    assert abs(float(alt2) - alt) < 0.1 * MM


def test_ecef_known_points() -> None:
    x, y, z = geo.geodetic_to_ecef([0.0, 90.0, 0.0], [0.0, 0.0, 90.0], [0.0, 0.0, 100.0])
    b_m = WGS84_A_M * (1 - WGS84_F)
    np.testing.assert_allclose(x, [WGS84_A_M, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(y, [0.0, 0.0, WGS84_A_M + 100.0], atol=1e-6)
    np.testing.assert_allclose(z, [0.0, b_m, 0.0], atol=1e-6)
    lat, _, alt = geo.ecef_to_geodetic(0.0, 0.0, -(b_m + 500.0))
    assert float(lat) == pytest.approx(-90.0, abs=1e-12)
    assert float(alt) == pytest.approx(500.0, abs=1e-6)


def test_ecef_broadcasts_and_rejects_bad_input() -> None:
    x, y, z = geo.geodetic_to_ecef(np.zeros((3, 1)), np.zeros((1, 4)), 0.0)
    assert x.shape == y.shape == z.shape == (3, 4)
    with pytest.raises(ModelRangeError, match="latitude"):
        geo.geodetic_to_ecef(91.0, 0.0, 0.0)
    with pytest.raises(ModelRangeError, match="centre"):
        geo.ecef_to_geodetic(1000.0, 0.0, 0.0)
    with pytest.raises(TsunaguError):
        geo.ecef_to_geodetic(np.nan, 0.0, 0.0)


# --- distances ---------------------------------------------------------------------------------


def test_great_circle_known_values() -> None:
    r = 6_371_008.8
    d = geo.great_circle_m([0.0, 0.0, 90.0], [0.0, 0.0, 0.0], [0.0, 0.0, -90.0], [90.0, 180.0, 0])
    np.testing.assert_allclose(d, [np.pi / 2 * r, np.pi * r, np.pi * r], rtol=1e-12)


@given(lats, lons, lats, lons)
@settings(max_examples=200, deadline=None)
def test_distances_symmetric_and_close(la1: float, lo1: float, la2: float, lo2: float) -> None:
    s12 = geo.geodesic_m(la1, lo1, la2, lo2)
    s21 = geo.geodesic_m(la2, lo2, la1, lo1)
    g = geo.great_circle_m(la1, lo1, la2, lo2)
    assert float(s12) == pytest.approx(float(s21), abs=1 * MM)
    # the sphere of mean radius is within 0.6 % of the ellipsoid (flattening 0.34 %)
    assert abs(float(s12) - float(g)) <= 0.006 * float(g) + 1 * MM
    # the geodesic is never shorter than the chord
    x1, y1, z1 = geo.geodetic_to_ecef(la1, lo1, 0.0)
    x2, y2, z2 = geo.geodetic_to_ecef(la2, lo2, 0.0)
    chord = float(np.sqrt((x2 - x1) ** 2 + (y2 - y1) ** 2 + (z2 - z1) ** 2))
    assert float(s12) >= chord - 1 * MM


def test_geodesic_triangle_inequality_and_broadcast() -> None:
    rng = np.random.default_rng(7)
    lat = rng.uniform(-80, 80, (3, 500))
    lon = rng.uniform(-180, 180, (3, 500))
    ab = geo.geodesic_m(lat[0], lon[0], lat[1], lon[1])
    bc = geo.geodesic_m(lat[1], lon[1], lat[2], lon[2])
    ac = geo.geodesic_m(lat[0], lon[0], lat[2], lon[2])
    assert np.all(ac <= ab + bc + 1 * MM)
    m = geo.geodesic_m(lat[0][:, None], lon[0][:, None], lat[1][None, :5], lon[1][None, :5])
    assert m.shape == (500, 5)
    np.testing.assert_allclose(np.diagonal(m[:5]), ab[:5], atol=1e-9)


def test_geodesic_equator_and_meridian() -> None:
    # along the equator the geodesic is the equatorial arc a·Δλ (for Δλ < (1 − f)·180°)
    d = geo.geodesic_m(0.0, 0.0, 0.0, 90.0)
    assert float(d) == pytest.approx(WGS84_A_M * np.pi / 2, abs=1e-6)
    assert float(geo.geodesic_m(10.0, 20.0, 10.0, 20.0)) == 0.0


def test_geodesic_fallback_agrees_with_iteration() -> None:
    # the bisection fallback (used only near antipodes) reproduces Vincenty's iteration
    rng = np.random.default_rng(3)
    lat1, lat2 = rng.uniform(-89, 89, (2, 3000))
    dlon = rng.uniform(-179, 179, 3000)
    s_m, converged = geo._vincenty_inverse(
        lat1, np.zeros_like(dlon), lat2, dlon, WGS84_A_M, WGS84_F
    )
    assert converged.all()

    def reduced(lat: np.ndarray) -> np.ndarray:
        phi = np.radians(lat)
        return np.arctan2((1 - WGS84_F) * np.sin(phi), np.cos(phi))

    s_b = geo._geodesic_bisection(
        reduced(lat1), reduced(lat2), np.radians(dlon), WGS84_A_M, WGS84_F
    )
    assert np.max(np.abs(s_b - s_m)) < 0.01 * MM


def test_geodesic_near_antipodal_is_continuous() -> None:
    # across the region where Vincenty's iteration fails, the result stays smooth and below
    # half the meridian circumference (~20,003,931 m)
    dlon = np.linspace(179.0, 180.0, 201)
    s = geo.geodesic_m(0.0, 0.0, 0.5, dlon)
    _, converged = geo._vincenty_inverse(
        np.array(0.0), np.array(0.0), np.array(0.5), dlon, WGS84_A_M, WGS84_F
    )
    assert not converged.all()  # the fallback is exercised
    assert np.all(np.abs(np.diff(s)) < 1_000.0)
    assert np.all(s < 20_003_932.0)


# --- look angles -------------------------------------------------------------------------------


@given(lats, lons, st.floats(0.0, 1e6), st.floats(1.0, 4e7))
@settings(max_examples=200, deadline=None)
def test_target_straight_above_is_at_zenith(lat: float, lon: float, h: float, dh: float) -> None:
    x, y, z = geo.geodetic_to_ecef(lat, lon, h + dh)
    el, _, rng_m = geo.look_angles(lat, lon, h, x, y, z)
    assert float(el) == pytest.approx(90.0, abs=1e-6)
    assert float(rng_m) == pytest.approx(dh, abs=1 * MM)


def test_geostationary_from_subsatellite_point() -> None:
    x, y, z = geo.geodetic_to_ecef(0.0, 140.0, GEO_ALT_M)
    el, _, r = geo.look_angles(0.0, 140.0, 0.0, x, y, z)
    assert float(el) == pytest.approx(90.0, abs=1e-9)
    assert float(r) == pytest.approx(35_786_035.0, abs=1.0)
    assert float(r) / 1e3 == pytest.approx(35_786.0, abs=0.5)


def test_look_angle_symmetry_and_azimuths() -> None:
    # a GEO satellite at 140°E seen from 35°N at 140°E ± 10° has the same elevation and
    # mirrored azimuths; due south from the meridian
    x, y, z = geo.geodetic_to_ecef(0.0, 140.0, GEO_ALT_M)
    el, az, r = geo.look_angles(35.0, np.array([130.0, 140.0, 150.0]), 0.0, x, y, z)
    assert el[0] == pytest.approx(el[2], abs=1e-9)
    assert r[0] == pytest.approx(r[2], abs=1e-6)
    assert az[0] + az[2] == pytest.approx(360.0, abs=1e-9)
    assert az[1] == pytest.approx(180.0, abs=1e-9)
    assert el[1] > el[0]
    # elevation of GEO from 35°N on its meridian; spherical Earth: tan el = (cos φ − a/r)/sin φ
    phi = np.radians(35.0)
    el_sphere = np.degrees(np.arctan((np.cos(phi) - WGS84_A_M / GEO_RADIUS_M) / np.sin(phi)))
    assert el_sphere == pytest.approx(49.35, abs=0.01)
    assert el[1] == pytest.approx(el_sphere, abs=0.1)  # ellipsoid vs sphere: 0.02°
    # a point on the ground 1° east on the equator is just below the horizon, due east
    xe, ye, ze = geo.geodetic_to_ecef(0.0, 1.0, 0.0)
    el_e, az_e, _ = geo.look_angles(0.0, 0.0, 0.0, xe, ye, ze)
    assert float(az_e) == pytest.approx(90.0, abs=1e-9)
    assert -0.6 < float(el_e) < 0.0


def test_look_angles_broadcast_observers_against_targets() -> None:
    obs_lat = np.array([[35.0], [43.0], [26.0]])
    obs_lon = np.array([[139.0], [141.0], [127.7]])
    tx, ty, tz = geo.geodetic_to_ecef(0.0, np.array([[100.0, 120.0, 140.0, 160.0]]), GEO_ALT_M)
    el, az, r = geo.look_angles(obs_lat, obs_lon, 0.0, tx, ty, tz)
    assert el.shape == az.shape == r.shape == (3, 4)
    one = geo.look_angles(43.0, 141.0, 0.0, tx[0, 2], ty[0, 2], tz[0, 2])
    assert el[1, 2] == float(one[0])
    assert np.all((az >= 0.0) & (az < 360.0))


@given(lats, lons, st.floats(-1_000.0, 1e6), lats, lons, alts)
@settings(max_examples=200, deadline=None)
def test_slant_range_at_least_altitude_difference(
    la: float, lo: float, h: float, tla: float, tlo: float, th: float
) -> None:
    x, y, z = geo.geodetic_to_ecef(tla, tlo, th)
    el, az, r = geo.look_angles(la, lo, h, x, y, z)
    assert float(r) >= abs(th - h) - 1 * MM
    assert -90.0 <= float(el) <= 90.0
    assert 0.0 <= float(az) < 360.0


# --- delay -------------------------------------------------------------------------------------


def test_propagation_delay() -> None:
    assert float(geo.propagation_delay_s(C_M_PER_S)) == 1.0
    # 1 km of G.652 fibre: 4.897 µs
    assert float(geo.propagation_delay_s(1_000.0, FIBRE_GROUP_INDEX)) * 1e6 == pytest.approx(
        4.8967, abs=1e-4
    )
    d = geo.propagation_delay_s(np.array([[1.0], [2.0]]), np.array([1.0, 1.5]))
    assert d.shape == (2, 2)
    with pytest.raises(ModelRangeError, match="length_m"):
        geo.propagation_delay_s(-1.0)
    with pytest.raises(ModelRangeError, match="group_index"):
        geo.propagation_delay_s(1.0, 0.5)


# --- prefectures -------------------------------------------------------------------------------


def test_prefecture_table() -> None:
    p = geo.load_prefectures()
    assert len(p) == 47
    assert int(p.population_2020.sum()) == 126_146_099  # 2020 census final count
    assert p.jis_code.tolist() == list(range(1, 48))
    assert set(p.region.tolist()) == set(geo.REGIONS)
    assert set(p.grid_region.tolist()) == set(geo.GRID_REGIONS)
    row = {n: i for i, n in enumerate(p.name_en.tolist())}
    assert p.geonames_admin1[row["Tokyo"]] == "40"
    assert p.geonames_admin1[row["Hokkaido"]] == "12"
    assert p.geonames_admin1[row["Okinawa"]] == "47"
    assert p.grid_region[row["Shizuoka"]] == "Chubu"
    assert p.grid_region[row["Niigata"]] == "Tohoku"
    assert p.grid_region[row["Yamanashi"]] == "Tokyo"
    assert p.population_2020[row["Tokyo"]] == 14_047_594
    assert p.population_2020[row["Tottori"]] == p.population_2020.min()
    with pytest.raises(ValueError, match="read-only"):
        p.population_2020[0] = 0
    assert geo.load_prefectures() is p  # cached


def _spherical_area_km2(lon_deg: np.ndarray, lat_deg: np.ndarray) -> float:
    lam, phi = np.radians(lon_deg), np.radians(lat_deg)
    r_km = 6_371.0088
    s = np.sum((lam[1:] - lam[:-1]) * (2 + np.sin(phi[:-1]) + np.sin(phi[1:])))
    return float(abs(s) * r_km**2 / 2)


def test_prefecture_outlines_are_closed_rings_of_sensible_size() -> None:
    outlines = geo.prefecture_outlines()
    assert [o.jis_code for o in outlines] == list(range(1, 48))
    for o in outlines:
        assert o.lon_deg[0] == o.lon_deg[-1]
        assert o.lat_deg[0] == o.lat_deg[-1]
        # true, unshifted coordinates (japanmap moves Hokkaido and Okinawa for display only)
        assert o.lon_deg.min() > 122.0
        assert o.lon_deg.max() < 146.0
        assert o.lat_deg.min() > 24.0
        assert o.lat_deg.max() < 46.0
    area = {o.jis_code: _spherical_area_km2(o.lon_deg, o.lat_deg) for o in outlines}
    assert 75_000 < area[1] < 80_000  # Hokkaido main island, 77,984 km²
    assert 1_500 < area[13] < 2_000  # Tokyo without its islands, ~1,780 km²
    assert 1_000 < area[47] < 1_400  # Okinawa main island, 1,207 km²
    assert max(area, key=area.__getitem__) == 1
    assert 10_000 < area[3] < 16_000  # Iwate, 15,275 km², 2nd largest


def test_prefecture_of_capitals_and_islands() -> None:
    # prefectural offices (approximate coordinates)
    capitals = {
        1: (43.064, 141.347),  # Sapporo
        13: (35.690, 139.692),  # Shinjuku
        14: (35.448, 139.642),  # Yokohama
        22: (34.977, 138.383),  # Shizuoka
        27: (34.686, 135.520),  # Osaka
        40: (33.606, 130.418),  # Fukuoka
        47: (26.212, 127.681),  # Naha
    }
    lat = np.array([v[0] for v in capitals.values()])
    lon = np.array([v[1] for v in capitals.values()])
    assert geo.prefecture_of(lat, lon).tolist() == list(capitals)
    # islands outside the outlines fall back to the nearest outline, never 0
    islands = geo.prefecture_of([38.05, 24.34, 45.18, 36.20], [138.40, 124.16, 141.24, 133.30])
    assert islands.tolist() == [15, 47, 1, 32]  # Sado, Ishigaki, Rishiri, Oki
    # a known limitation of the fallback: Tsushima (Nagasaki) is nearer Saga's outline
    assert geo.prefecture_of(34.20, 129.29) == 41
    grid = geo.prefecture_of(np.linspace(31, 45, 30)[:, None], np.linspace(129, 145, 40))
    assert grid.shape == (30, 40)
    assert grid.min() >= 1
    assert grid.max() <= 47


# --- demand points -----------------------------------------------------------------------------


def test_demand_points_drop_aggregates_and_keep_wards() -> None:
    d = geo.demand_points()
    names = set(d.name.tolist())
    assert "Tokyo" not in names  # GeoNames aggregate of the 23 special wards
    assert {"Setagaya", "Adachi", "Shinjuku", "Suginami"} <= names
    # real large cities are not mistaken for aggregates
    assert {"Yokohama", "Osaka", "Nagoya", "Sapporo", "Sakai", "Kawasaki"} <= names


def test_demand_points_sum_to_census_per_prefecture() -> None:
    d = geo.demand_points()
    p = geo.load_prefectures()
    assert np.unique(d.prefecture).tolist() == list(range(1, 48))
    per_pref = np.bincount(d.prefecture - 1, weights=d.population, minlength=47)
    np.testing.assert_allclose(per_pref, p.population_2020, rtol=1e-12)
    assert d.population.sum() == pytest.approx(126_146_099, abs=1e-3)
    # a city below the threshold is kept only as the single point of its prefecture
    small = d.city_population < 50_000
    counts = np.bincount(d.prefecture, minlength=48)
    assert np.all(counts[d.prefecture[small]] == 1)
    assert np.all(d.region == p.region[d.prefecture - 1])
    assert np.all(d.grid_region == p.grid_region[d.prefecture - 1])
    # deterministic order: descending city population, then name
    key = list(zip((-d.city_population).tolist(), d.name.tolist(), strict=True))
    assert key == sorted(key)


def test_demand_points_cap_keeps_every_prefecture() -> None:
    d = geo.demand_points(min_city_population=15_000, max_points=100)
    assert len(d) == 100
    assert np.unique(d.prefecture).size == 47
    assert d.population.sum() == pytest.approx(126_146_099, abs=1e-3)
    full = geo.demand_points(min_city_population=15_000, max_points=5_000)
    assert len(full) > 1_000
    assert set(d.name.tolist()) <= set(full.name.tolist())
    with pytest.raises(ModelRangeError, match="max_points"):
        geo.demand_points(max_points=10)
    with pytest.raises(ModelRangeError, match="min_city_population"):
        geo.demand_points(min_city_population=100)
