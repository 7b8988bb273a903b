"""Link-budget model functions: invariants, hand-worked values, input errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.errors import ModelRangeError
from tsunagu.ntn import linkbudget as lb
from tsunagu.ntn.geometry import elevation_and_range


def test_slant_range_zenith_equals_altitude() -> None:
    assert float(lb.slant_range_m(550e3, 90.0)) == pytest.approx(550e3, abs=1e-6)


@given(
    h=st.floats(20e3, 36_000e3),
    el1=st.floats(0.0, 89.0),
    d_el=st.floats(0.5, 10.0),
)
def test_slant_range_decreases_with_elevation_and_closes_the_triangle(
    h: float, el1: float, d_el: float
) -> None:
    el2 = min(90.0, el1 + d_el)
    d1 = float(lb.slant_range_m(h, el1))
    d2 = float(lb.slant_range_m(h, el2))
    assert d2 <= d1 + 1e-6
    assert d1 >= h - 1e-6
    # law of cosines in the Earth-centre / ground / platform triangle
    r = lb.TR38811_EARTH_RADIUS_M
    lhs = (r + h) ** 2
    rhs = r**2 + d1**2 + 2 * r * d1 * math.sin(math.radians(el1))
    assert lhs == pytest.approx(rhs, rel=1e-9)


def test_slant_range_matches_ecef_geometry_on_a_sphere_point() -> None:
    # Ground point on the equator at the WGS84 radius (= local sphere radius there).
    r = 6_378_137.0
    h = 600e3
    ground = np.array([[r, 0.0, 0.0]])
    gamma = math.radians(8.0)
    sat = np.array([[(r + h) * math.cos(gamma), (r + h) * math.sin(gamma), 0.0]])
    el, rng = elevation_and_range(ground, sat)
    assert float(lb.slant_range_m(h, float(el[0, 0]), earth_radius_m=r)) == pytest.approx(
        float(rng[0, 0]), abs=1e-3
    )


def test_fspl_doubles_distance_adds_6_02_db() -> None:
    a = lb.free_space_path_loss_db([1e3, 2e3], 2e9)
    assert float(a[1] - a[0]) == pytest.approx(20 * math.log10(2), abs=1e-12)
    # hand value: 1 km at 1 GHz = 92.448 dB
    assert float(lb.free_space_path_loss_db(1e3, 1e9)) == pytest.approx(92.4478, abs=1e-4)


def test_cnr_terms_add_linearly() -> None:
    base = float(lb.cnr_db(30.0, 15.0, 180.0, 1e6))
    assert base == pytest.approx(30 + 15 + 228.5991 - 180 - 60, abs=1e-3)
    less = float(lb.cnr_db(30.0, 15.0, 180.0, 1e6, 1.0, 2.0, 3.0, 4.0, 5.0))
    assert base - less == pytest.approx(15.0, abs=1e-12)


def test_g_over_t_reduces_to_antenna_temperature_when_noise_free() -> None:
    assert float(lb.g_over_t_db_per_k(10.0, 0.0, 100.0)) == pytest.approx(-10.0, abs=1e-12)


@given(st.lists(st.floats(-10.0, 30.0), min_size=2, max_size=20))
def test_dvbs2_efficiency_is_monotone_in_cnr(cnrs: list[float]) -> None:
    x = np.sort(np.asarray(cnrs))
    eff, idx = lb.dvbs2_spectral_efficiency(x)
    assert np.all(np.diff(eff) >= 0.0)
    assert np.all((eff == 0.0) == (idx < 0))
    ok = idx >= 0
    thresholds = np.array([lb.DVBS2_MODCODS[i].esn0_db for i in idx[ok]])
    assert np.all(thresholds <= x[ok])


def test_dvbs2_threshold_edges() -> None:
    eff, _ = lb.dvbs2_spectral_efficiency([-2.36, -2.35, 16.05, 40.0])
    assert eff.tolist() == [0.0, 0.490243, 4.453027, 4.453027]
    assert float(lb.dvbs2_rate_bps(-2.35 - 10 * math.log10(1.2), 1.2e6)) == pytest.approx(
        0.490243e6, rel=1e-9
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: lb.slant_range_m(-1.0, 30.0),
        lambda: lb.slant_range_m(600e3, 91.0),
        lambda: lb.free_space_path_loss_db(0.0, 2e9),
        lambda: lb.eirp_dbw(34.0, 0.0),
        lambda: lb.cnr_db(1.0, 1.0, 1.0, -1.0),
        lambda: lb.g_over_t_db_per_k(0.0, -1.0),
        lambda: lb.dvbs2_spectral_efficiency(1.0, margin_db=-1.0),
        lambda: lb.itur_slant_path_losses(35.0, 139.0, 0.5e9, 30.0, 1.0, 1.0),
        lambda: lb.itur_slant_path_losses(35.0, 139.0, 20e9, 3.0, 1.0, 1.0),
        lambda: lb.itur_slant_path_losses(35.0, 139.0, 20e9, 30.0, 10.0, 1.0),
    ],
)
def test_bad_inputs_raise_model_range_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelRangeError):
        call()


def test_haps_truncation_only_removes_the_oxygen_share_above_the_platform() -> None:
    whole = lb.itur_slant_path_losses([35.7, 43.0], [139.7, 141.3], 38.5e9, 30.0, 1.0, 1.0)
    haps = lb.itur_slant_path_losses(
        [35.7, 43.0], [139.7, 141.3], 38.5e9, 30.0, 1.0, 1.0, top_altitude_m=20e3
    )
    np.testing.assert_allclose(haps.rain_db, whole.rain_db)
    np.testing.assert_allclose(haps.cloud_db, whole.cloud_db)
    np.testing.assert_allclose(haps.scintillation_db, whole.scintillation_db)
    np.testing.assert_allclose(haps.gas_db, whole.gas_db * (1 - math.exp(-20 / 6.1)))
    assert np.all(haps.total_db < whole.total_db)


def test_atmosphere_grid_interpolates_itur_at_s_band() -> None:
    # The grid serves direct-to-device links (S band); at 20 GHz it is not accurate to 0.1 dB
    # (measured up to 0.7 dB: itur takes each point's P.1511 terrain height, which varies
    # under a 1-degree table) - see the AtmosphereGrid docstring.
    grid = lb.AtmosphereGrid.build(
        (33.0, 36.0), (133.0, 136.0), 2e9, 1.0, 0.6, min_elevation_deg=20.0
    )
    rng = np.random.default_rng(3)
    lat = rng.uniform(33.0, 36.0, 40)
    lon = rng.uniform(133.0, 136.0, 40)
    el = rng.uniform(20.0, 90.0, 40)
    direct = lb.itur_slant_path_losses(lat, lon, 2e9, el, 1.0, 0.6).total_db
    # 0.05 dB, half the 0.1 dB a link budget is quoted at (measured 0.012 dB).
    np.testing.assert_allclose(grid.total_db(lat, lon, el), direct, atol=0.05)


def test_gas_from_zenith_equals_itur_slant_path() -> None:
    # Our wrapper evaluates gases once per location at zenith and scales by 1/sin(el)
    # (P.676-12 Annex 2); it must equal itur's own slant-path gas at every elevation.
    itur = lb._itur()
    lat = np.array([35.7, 35.7, 26.2, 43.0, 26.2])
    lon = np.array([139.7, 139.7, 127.7, 141.3, 127.7])
    el = np.array([5.0, 47.0, 12.0, 88.0, 30.0])
    ours = lb.itur_slant_path_losses(lat, lon, 28e9, el, 0.5, 1.2).gas_db
    ref = itur.atmospheric_attenuation_slant_path(
        lat, lon, 28.0, el, 0.5, 1.2, return_contributions=True
    )[0].value
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)


# ------------------------------------------------------------- boundaries and documented forms


def test_closed_forms_at_the_edges_of_their_domains() -> None:
    # Zenith: the slant range is the altitude, for any altitude > 0.
    assert float(lb.slant_range_m(1.0, 90.0)) == pytest.approx(1.0, abs=1e-6)
    # FSPL 20·log10(4π d f / c) holds for any positive d and f.
    want = 20.0 * math.log10(4.0 * math.pi * 0.5 * 0.5 / 299_792_458.0)
    assert float(lb.free_space_path_loss_db(0.5, 0.5)) == pytest.approx(want, abs=1e-12)
    # An EIRP density in dBW/MHz over exactly 1 MHz is the density; over 0.5 Hz it is 63 dB less.
    assert float(lb.eirp_dbw(34.0, 1e6)) == pytest.approx(34.0, abs=1e-12)
    assert float(lb.eirp_dbw(34.0, 0.5)) == pytest.approx(34.0 + 10 * math.log10(0.5e-6))
    # Feeder loss lowers the EIRP: 23 dBm − 30 + 10 dBi − 2 dB = 1 dBW.
    assert float(lb.eirp_from_power_dbw(23.0, 10.0, 2.0)) == pytest.approx(1.0, abs=1e-12)
    # A noiseless cold antenna (Ta = 0 K): only the receiver's T0·(F − 1) remains.
    t_rx = 290.0 * (10 ** (2.0 / 10) - 1.0)
    assert float(lb.g_over_t_db_per_k(30.0, 2.0, 0.0)) == pytest.approx(
        30.0 - 10 * math.log10(t_rx), abs=1e-12
    )
    # CNR over a 0.5 Hz noise bandwidth: −10·log10(0.5) = +3.01 dB above 1 Hz.
    one_hz = float(lb.cnr_db(0.0, 0.0, 0.0, 1.0))
    assert float(lb.cnr_db(0.0, 0.0, 0.0, 0.5)) == pytest.approx(one_hz + 10 * math.log10(2.0))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lb.slant_range_m(0.0, 30.0), "altitude_m"),
        (lambda: lb.slant_range_m(np.nan, 30.0), "^altitude_m must be finite"),
        (lambda: lb.slant_range_m(600e3, np.nan), "^elevation_deg must be finite"),
        (lambda: lb.free_space_path_loss_db(1e3, 0.0), "freq_hz"),
        (lambda: lb.cnr_db(1.0, 1.0, 1.0, 0.0), "bandwidth_hz"),
        (lambda: lb.g_over_t_db_per_k(0.0, 1.0, -1.0), "antenna_temperature_k"),
        (lambda: lb.dvbs2_rate_bps(5.0, 1e6, roll_off=1.5), "roll_off"),
    ],
)
def test_bad_inputs_name_the_argument(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelRangeError, match=match):
        call()


def test_dvbs2_margin_roll_off_and_failure_index() -> None:
    # A 1 dB margin at Es/N0 8.5 dB leaves 7.5 dB: 8PSK 2/3 (6.62 dB), not 8PSK 3/4 (7.91 dB).
    eff, idx = lb.dvbs2_spectral_efficiency([8.5, -5.0], margin_db=1.0)
    assert eff.tolist() == [1.980636, 0.0]
    assert idx.tolist() == [12, -1]
    # Es/N0 = C/N + 10·log10(1 + roll-off): at roll-off 1 (+3.01 dB) a C/N 0.1 dB short of
    # QPSK 1/2 (1.00 dB) gets QPSK 2/5 over B/2 symbols per second.
    cn = 1.00 - 10 * math.log10(2.0) - 0.1
    assert float(lb.dvbs2_rate_bps(cn, 2e6, roll_off=1.0)) == pytest.approx(0.789412e6, rel=1e-12)
    # Roll-off 0 (Nyquist) is legal: the symbol rate is the bandwidth.
    assert float(lb.dvbs2_rate_bps(8.5, 1e6, roll_off=0.0)) == pytest.approx(2.228124e6)
    # The margin is applied in the rate too.
    assert float(lb.dvbs2_rate_bps(8.5 - 10 * math.log10(1.2), 1.2e6, margin_db=1.0)) == (
        pytest.approx(1.980636e6, rel=1e-12)
    )


# ------------------------------------------------------------------- the itur wrapper's edges


def test_itur_single_point_empty_input_and_polarisation() -> None:
    one = lb.itur_slant_path_losses(35.7, 139.7, 20e9, 30.0, 0.1, 1.0)
    assert one.total_db.shape == ()
    assert float(one.gas_db) > 0.0
    assert float(one.rain_db) > 0.0
    # The default tilt is circular polarisation (45°), between horizontal and vertical.
    circ = lb.itur_slant_path_losses(35.7, 139.7, 20e9, 30.0, 0.1, 1.0, polarization_tilt_deg=45)
    hor = lb.itur_slant_path_losses(35.7, 139.7, 20e9, 30.0, 0.1, 1.0, polarization_tilt_deg=0)
    assert float(one.rain_db) == float(circ.rain_db)
    assert float(hor.rain_db) > float(circ.rain_db)
    empty = lb.itur_slant_path_losses([], [], 20e9, [], 1.0, 1.0)
    assert len(empty) == 5
    for term in empty:
        assert isinstance(term, np.ndarray)
        assert term.shape == (0,)


def test_itur_station_height_lowers_gas_and_rain() -> None:
    # A station 2 km higher has less atmosphere above it and a shorter path under the rain
    # height (about 4-5 km over Tokyo, P.839): both terms must fall, in both itur calls.
    low, high = (
        lb.itur_slant_path_losses(35.7, 139.7, 20e9, 30.0, 0.1, 1.0, station_altitude_m=h)
        for h in (0.0, 2000.0)
    )
    assert float(high.gas_db) < float(low.gas_db)
    assert float(high.rain_db) < float(low.rain_db)


def test_itur_accepts_its_stated_ranges_inclusive() -> None:
    for kw in (
        {"freq_hz": 1e9},
        {"freq_hz": 1.5e9},
        {"freq_hz": 55e9},
        {"exceedance_pct": 5.0},
        {"antenna_efficiency": 1.0},
        {"top_altitude_m": 1.0},
    ):
        args = {
            "lat_deg": 35.7,
            "lon_deg": 139.7,
            "freq_hz": 20e9,
            "elevation_deg": 30.0,
            "exceedance_pct": 1.0,
            "antenna_diameter_m": 1.0,
        }
        args.update(kw)
        out = lb.itur_slant_path_losses(**args)  # type: ignore[arg-type]
        assert np.isfinite(float(out.total_db)), kw


@pytest.mark.parametrize(
    "kw",
    [
        {"freq_hz": 55.5e9},
        {"exceedance_pct": 5.5},
        {"antenna_diameter_m": 0.0},
        {"antenna_efficiency": 0.0},
        {"antenna_efficiency": 1.5},
        {"elevation_deg": 90.5},
        {"lat_deg": 90.5},
        {"lat_deg": 95.0},
        {"top_altitude_m": 0.0},
    ],
)
def test_itur_rejects_outside_its_ranges(kw: dict[str, float]) -> None:
    args: dict[str, float] = {
        "lat_deg": 35.7,
        "lon_deg": 139.7,
        "freq_hz": 20e9,
        "elevation_deg": 30.0,
        "exceedance_pct": 1.0,
        "antenna_diameter_m": 1.0,
    }
    args.update(kw)
    with pytest.raises(ModelRangeError):
        lb.itur_slant_path_losses(**args)  # type: ignore[arg-type]


def test_atmosphere_grid_nodes_clamping_and_shapes() -> None:
    kw = {"top_altitude_m": 20e3, "step_deg": 1.5, "min_elevation_deg": 20.0}
    grid = lb.AtmosphereGrid.build((33.0, 36.0), (133.0, 136.0), 20e9, 1.0, 0.6, **kw)
    assert grid.lat_deg.tolist() == [33.0, 34.5, 36.0]
    assert grid.lon_deg.tolist() == [133.0, 134.5, 136.0]
    # Ten elevation nodes from the mask to zenith, equally spaced in 1/sin(el).
    el = grid.elevation_deg
    assert len(el) == 10
    assert el[0] == 20.0
    assert el[-1] == 90.0
    np.testing.assert_allclose(
        np.diff(1.0 / np.sin(np.radians(el))), -np.ptp(1 / np.sin(np.radians(el))) / 9
    )
    assert grid.table_db.shape == (3, 3, 10)
    # At the nodes the table is itur itself (with the HAPS truncation it was built with).
    nodes = (np.array([33.0, 36.0, 34.5]), np.array([133.0, 136.0, 134.5]), el[[0, -1, 4]])
    direct = lb.itur_slant_path_losses(*nodes[:2], 20e9, nodes[2], 1.0, 0.6, top_altitude_m=20e3)
    np.testing.assert_allclose(grid.total_db(*nodes), direct.total_db, rtol=1e-9)
    # Outside the box and the elevation range the table's edge values are used.
    assert float(grid.total_db(30.0, 130.0, 10.0)) == pytest.approx(grid.table_db[0, 0, 0])
    assert float(grid.total_db(40.0, 140.0, 95.0)) == pytest.approx(grid.table_db[-1, -1, -1])
    # Any query shape comes back in that shape.
    lat2 = np.array([[33.2, 35.9], [34.0, 33.5]])
    lon2 = np.array([[133.1, 134.0], [134.4, 133.3]])
    el2 = np.array([[25.0, 80.0], [47.0, 33.0]])
    got = grid.total_db(lat2, lon2, el2)
    assert got.shape == (2, 2)
    np.testing.assert_array_equal(
        got.ravel(), grid.total_db(lat2.ravel(), lon2.ravel(), el2.ravel())
    )


def test_atmosphere_grid_defaults_and_limits() -> None:
    grid = lb.AtmosphereGrid.build((33.0, 34.0), (133.0, 134.0), 2e9, 1.0, 0.6, 10.0)
    assert grid.lat_deg.tolist() == [33.0, 34.0]  # default 1° table
    assert len(grid.elevation_deg) == 10
    two = lb.AtmosphereGrid.build((33.0, 33.0), (133.0, 133.0), 2e9, 1.0, 0.6, 10.0, n_elevation=2)
    assert two.elevation_deg.tolist() == [10.0, 90.0]
    for bad in ({"step_deg": 0.0}, {"n_elevation": 1}):
        with pytest.raises(ModelRangeError):
            lb.AtmosphereGrid.build((33.0, 34.0), (133.0, 134.0), 2e9, 1.0, 0.6, 10.0, **bad)  # type: ignore[arg-type]


def test_itur_slant_path_losses_rejects_the_poles() -> None:
    # itur 0.4 returns NaN gas and cloud attenuation at latitude ±90°: refused with the fix.
    from tsunagu.errors import ModelRangeError
    from tsunagu.ntn.linkbudget import itur_slant_path_losses

    for lat in (90.0, -90.0, float("nan")):
        with pytest.raises(ModelRangeError, match="off the pole"):
            itur_slant_path_losses(lat, 0.0, 20e9, 40.0, 1.0, 0.6)
