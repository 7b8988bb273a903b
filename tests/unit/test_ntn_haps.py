"""HIBS cells and HAPS feeder links: bands, hand-worked budgets, availability invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu import geo
from tsunagu.errors import ModelRangeError
from tsunagu.ntn import haps
from tsunagu.ntn import linkbudget as lb


def _ecef(lat: float | np.ndarray, lon: float | np.ndarray, alt: float | np.ndarray) -> np.ndarray:
    return np.stack(geo.geodetic_to_ecef(lat, lon, alt), axis=-1).reshape(-1, 3)


@pytest.mark.parametrize(
    ("freq_hz", "bw_hz", "band"),
    [
        (700e6, 10e6, "694-960 MHz (WRC-23)"),
        (1.8e9, 20e6, "1710-1885 MHz (WRC-23)"),
        (2.14e9, 20e6, "2110-2170 MHz (RR 5.388A)"),
        (2.6e9, 40e6, "2500-2690 MHz (WRC-23)"),
    ],
)
def test_hibs_bands(freq_hz: float, bw_hz: float, band: str) -> None:
    assert haps.check_band(freq_hz, bw_hz, haps.HIBS_BANDS_HZ, "x") == band


def test_carriers_outside_the_bands_are_refused() -> None:
    with pytest.raises(ModelRangeError, match="694-960 MHz"):
        haps.HibsCell(3.5e9, 20e6, 10.0)
    with pytest.raises(ModelRangeError):
        haps.HibsCell(1.88e9, 20e6, 10.0)  # straddles 1885 MHz: 1870-1890 MHz
    with pytest.raises(ModelRangeError, match=r"38-39\.5 GHz"):
        haps.FeederLink(40e9, 100e6, 50.0, 10.0)
    with pytest.raises(ModelRangeError, match="min_elevation_deg"):
        haps.HibsCell(2.14e9, 20e6, 10.0, min_elevation_deg=2.0)


def test_user_under_the_platform_gets_the_hand_computed_budget() -> None:
    cell = haps.HibsCell(2.14e9, 20e6, eirp_density_dbw_per_mhz=10.0)
    lat, lon = np.array([37.3]), np.array([136.9])
    links = haps.hibs_user_links(
        _ecef(lat, lon, 0.0), lat, lon, _ecef(37.3, 136.9, 20e3), 20e3, cell
    )
    assert links.haps_index.tolist() == [0]
    assert float(links.elevation_deg[0]) == pytest.approx(90.0, abs=1e-6)
    atm = lb.itur_slant_path_losses(lat, lon, 2.14e9, 90.0, 1.0, 0.1, top_altitude_m=20e3)
    hand = (
        10.0
        + 10 * math.log10(20.0)  # EIRP over 20 MHz
        - 31.6  # handheld G/T
        - 10 * math.log10(1.380649e-23)
        - 20 * math.log10(4 * math.pi * 20e3 * 2.14e9 / 299_792_458.0)
        - float(atm.total_db[0])
        - 3.0  # shadowing margin
        - 10 * math.log10(20e6)
    )
    assert float(links.cnr_db[0]) == pytest.approx(hand, abs=1e-9)
    assert bool(links.usable[0])


def test_users_outside_every_footprint_get_no_link() -> None:
    cell = haps.HibsCell(2.14e9, 20e6, 10.0, min_elevation_deg=21.6)  # 50 km footprint
    lat = np.array([37.3, 38.3])  # 0 km and ~111 km from the sub-platform point
    lon = np.array([136.9, 136.9])
    links = haps.hibs_user_links(
        _ecef(lat, lon, 0.0), lat, lon, _ecef(37.3, 136.9, 20e3), 20e3, cell
    )
    assert links.haps_index.tolist() == [0, -1]
    assert links.rate_bps[1] == 0.0
    assert np.isnan(links.cnr_db[1])
    down = haps.hibs_user_links(
        _ecef(lat, lon, 0.0), lat, lon, _ecef(37.3, 136.9, 20e3), 20e3, cell, haps_up=[False]
    )
    assert down.haps_index.tolist() == [-1, -1]


@settings(max_examples=15, deadline=None)
@given(m1=st.floats(0.1, 60.0), dm=st.floats(0.0, 20.0))
def test_feeder_availability_grows_with_margin(m1: float, dm: float) -> None:
    a = haps.feeder_rain_availability_pct(35.7, 139.7, 38.5e9, 35.0, [m1, m1 + dm])
    assert 95.0 <= a[0] <= a[1] + 1e-12 <= 99.999 + 1e-9


def test_feeder_availability_inverts_p618() -> None:
    itur = lb._itur()
    a01 = float(itur.models.itu618.rain_attenuation(35.7, 139.7, 38.5, 35.0, p=0.1, tau=45.0).value)
    avail = float(haps.feeder_rain_availability_pct(35.7, 139.7, 38.5e9, 35.0, a01))
    # 0.1 % exceedance <-> 99.9 % availability; log-p interpolation between grid nodes.
    assert avail == pytest.approx(99.9, abs=0.002)
    assert float(haps.feeder_rain_availability_pct(35.7, 139.7, 38.5e9, 35.0, 0.0)) == 0.0


def test_feeder_budget_paired_rows() -> None:
    feeder = haps.FeederLink(38.5e9, 100e6, eirp_dbw=50.0, g_over_t_db_per_k=10.0)
    gs = _ecef(np.array([37.0, 39.0]), np.array([136.9, 141.5]), 0.0)
    hp = _ecef(np.array([37.3, 39.3]), np.array([136.9, 141.8]), 20e3)
    res = haps.feeder_availability(gs, [37.0, 39.0], [136.9, 141.5], hp, 20e3, feeder)
    np.testing.assert_allclose(res.slant_range_m, np.linalg.norm(hp - gs, axis=1))
    assert np.all(res.fade_margin_db == res.clear_sky_cnr_db - lb.DVBS2_MIN_ESN0_DB)
    assert np.all((res.availability_pct > 99.0) & (res.availability_pct <= 99.999 + 1e-9))
    with pytest.raises(ModelRangeError, match="paired"):
        haps.feeder_availability(gs, [37.0, 39.0], [136.9, 141.5], hp[:1], 20e3, feeder)
