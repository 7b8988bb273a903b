"""Unit tests of tsunagu.ran.sinr: association, interference, noise, k-nearest, randomness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.ran import antenna, sinr
from tsunagu.ran import pathloss as pl
from tsunagu.ran.layout import hex_sites_m, three_sector_cells
from tsunagu.ran.rate import thermal_noise_dbm


def _layer(xy: np.ndarray, az: np.ndarray, site: np.ndarray, **kw: object) -> sinr.CellLayer:
    n = xy.shape[0]
    args: dict[str, object] = {
        "x_m": xy[:, 0],
        "y_m": xy[:, 1],
        "height_m": np.full(n, 25.0),
        "azimuth_deg": az,
        "tilt_deg": np.full(n, 102.0),
        "tx_power_dbm": np.full(n, 46.0),
        "site": site,
        "freq_ghz": 3.5,
        "bandwidth_hz": 20e6,
        "environment": "uma",
    }
    args.update(kw)
    return sinr.CellLayer(**args)  # type: ignore[arg-type]


def test_single_cell_link_budget_by_hand() -> None:
    cells = _layer(np.array([[0.0, 0.0]]), np.array([0.0]), np.array([0]))
    res = sinr.downlink_sinr([[200.0, 0.0]], 1.5, cells, noise_figure_db=9.0)
    # Expected loss (LOS-probability weighted, no SF) + antenna towards θ = 90 + atan(23.5/200).
    theta = 90.0 + np.degrees(np.arctan2(23.5, 200.0))
    gain = float(antenna.sector_gain_dbi(theta, 0.0))
    loss = float(pl.expected_pathloss_db("uma", 200.0, 3.5))
    assert float(res.coupling_gain_db[0]) == pytest.approx(gain - loss, abs=1e-9)
    noise = float(thermal_noise_dbm(20e6, 9.0))
    assert float(res.sinr_db[0]) == pytest.approx(46.0 + gain - loss - noise, abs=1e-9)
    assert res.serving_cell[0] == 0
    assert np.isposinf(res.sir_db[0])  # no interferer


def test_symmetric_midpoint_and_interference_sum() -> None:
    xy = np.array([[-300.0, 0.0], [300.0, 0.0]])
    cells = _layer(xy, np.array([0.0, 180.0]), np.array([0, 1]))
    res = sinr.downlink_sinr([[0.0, 0.0]], 1.5, cells)
    assert float(res.sir_db[0]) == pytest.approx(0.0, abs=1e-9)
    # Serving + interference powers add up to the total received power.
    tot = 10 ** (res.serving_rx_dbm / 10) + 10 ** (res.interference_dbm / 10)
    one = sinr.downlink_sinr([[0.0, 0.0]], 1.5, _layer(xy[:1], np.array([0.0]), np.array([0])))
    assert float(tot[0]) == pytest.approx(2 * float(10 ** (one.serving_rx_dbm[0] / 10)), rel=1e-9)


def test_cell_off_and_load() -> None:
    xy = np.array([[-300.0, 0.0], [300.0, 0.0]])
    cells = _layer(xy, np.array([0.0, 180.0]), np.array([0, 1]))
    full = sinr.downlink_sinr([[-100.0, 0.0]], 1.5, cells)
    half = sinr.downlink_sinr([[-100.0, 0.0]], 1.5, cells, cell_load=[1.0, 0.5])
    assert float(half.sir_db[0]) == pytest.approx(
        float(full.sir_db[0]) + 10 * np.log10(2), abs=1e-9
    )
    off = sinr.downlink_sinr([[-100.0, 0.0]], 1.5, cells, cell_on=[False, True])
    assert off.serving_cell[0] == 1
    none = sinr.downlink_sinr([[-100.0, 0.0]], 1.5, cells, cell_on=[False, False])
    assert none.serving_cell[0] == -1
    assert np.isneginf(none.sinr_db[0])
    assert not np.isnan(none.sinr_db[0])


def test_ue_at_base_station_is_finite() -> None:
    xy, az, site = three_sector_cells(hex_sites_m(500.0))
    cells = _layer(xy, az, site)
    res = sinr.downlink_sinr(xy[:3] + 0.0, 1.5, cells, seed=3)
    for arr in (res.sinr_db, res.sir_db, res.coupling_gain_db, res.serving_rx_dbm):
        assert np.all(np.isfinite(arr))


def test_k_nearest_matches_dense_and_chunking_does_not_matter() -> None:
    xy, az, site = three_sector_cells(hex_sites_m(500.0, rings=3))
    cells = _layer(xy, az, site)
    rng = np.random.default_rng(0)
    ue = rng.uniform(-400.0, 400.0, (300, 2))
    dense = sinr.downlink_sinr(ue, 1.5, cells)
    near = sinr.downlink_sinr(ue, 1.5, cells, k_nearest=21, chunk_links=500, workers=2)
    # Without shadow fading the best server is among the 7 nearest sites: same serving cell and
    # coupling gain; the truncated interference can only be smaller, and only slightly.
    np.testing.assert_array_equal(dense.serving_cell, near.serving_cell)
    np.testing.assert_allclose(dense.coupling_gain_db, near.coupling_gain_db, atol=1e-9)
    assert np.all(near.interference_dbm <= dense.interference_dbm + 1e-9)
    assert np.median(dense.interference_dbm - near.interference_dbm) < 1.0
    # With σ 6 dB shadow fading a farther site sometimes wins; nearest-7 still finds most.
    d_sf = sinr.downlink_sinr(ue, 1.5, cells, seed=7)
    n_sf = sinr.downlink_sinr(ue, 1.5, cells, seed=7, k_nearest=21)
    assert np.mean(d_sf.serving_cell == n_sf.serving_cell) > 0.9
    dense = d_sf
    again = sinr.downlink_sinr(ue, 1.5, cells, seed=7, chunk_links=64, workers=1)
    np.testing.assert_array_equal(dense.sinr_db, again.sinr_db)


def test_shadow_fading_statistics() -> None:
    # NLOS-dominated distance: SF draws should show σ ≈ 6 dB around the NLOS law.
    cells = _layer(np.array([[0.0, 0.0]]), np.array([0.0]), np.array([0]))
    ue = np.column_stack([np.full(20_000, 1500.0), np.zeros(20_000)])
    det = sinr.downlink_sinr(ue[:1], 1.5, cells)
    rnd = sinr.downlink_sinr(ue, 1.5, cells, seed=11)
    p_los = float(pl.los_probability_uma(1500.0))
    assert p_los < 0.02
    g = rnd.coupling_gain_db
    # Mixture: (1 - p) N(-NLOS, 6²) + p N(-LOS, 4²); its σ² = (1-p)36 + p16 + p(1-p)Δ².
    delta = float(pl.uma_nlos_db(1500.0, None, 3.5) - pl.uma_los_db(1500.0, None, 3.5))
    sigma = np.sqrt((1 - p_los) * 36.0 + p_los * 16.0 + p_los * (1 - p_los) * delta**2)
    assert float(np.std(g)) == pytest.approx(sigma, rel=0.03)  # 20,000 draws: SE ≈ 1 %
    ant_gain = float(det.coupling_gain_db[0]) + float(pl.expected_pathloss_db("uma", 1500.0, 3.5))
    nlos = float(pl.uma_nlos_db(1500.0, None, 3.5))
    assert float(np.median(g)) == pytest.approx(ant_gain - nlos, abs=0.3)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), a=st.integers(0, 10**9), b=st.integers(0, 10**6))
def test_hashed_draws_are_keyed(seed: int, a: int, b: int) -> None:
    u = sinr.hashed_uniform(seed, [a, a], [b, b], 3)
    assert u[0] == u[1]
    assert 0.0 <= u[0] < 1.0
    z = sinr.hashed_normal(seed, a, b, 4)
    assert np.all(np.isfinite(z))


def test_hashed_normal_distribution() -> None:
    z = sinr.hashed_normal(5, np.arange(200_000), 7, 4)
    assert abs(float(z.mean())) < 0.01
    assert float(z.std()) == pytest.approx(1.0, abs=0.01)


def test_beam_layer_hibs() -> None:
    cells = sinr.CellLayer(
        x_m=[0.0, 0.0],
        y_m=[0.0, 0.0],
        height_m=[20_000.0, 20_000.0],
        azimuth_deg=[0.0, 0.0],
        tilt_deg=[180.0, 135.0],
        tx_power_dbm=[43.0, 43.0],
        site=[0, 0],
        freq_ghz=2.0,
        bandwidth_hz=20e6,
        environment="fspl",
        pattern="beam",
        element_gain_dbi=np.array([5.0, 15.0]),
        beam_hpbw_deg=np.array([100.0, 30.0]),
    )
    res = sinr.downlink_sinr([[0.0, 0.0], [20_000.0, 0.0]], 1.5, cells)
    assert list(res.serving_cell) == [0, 1]
    # Nadir user: FSPL over 19,998.5 m + 5 dBi.
    want = 5.0 - float(pl.free_space_db(19_998.5, 2.0))
    assert float(res.coupling_gain_db[0]) == pytest.approx(want, abs=1e-9)


def test_errors() -> None:
    cells = _layer(np.array([[0.0, 0.0]]), np.array([0.0]), np.array([0]))
    with pytest.raises(ModelRangeError, match=r"UMa NLOS.*d2d_m.*5000"):
        sinr.downlink_sinr([[6000.0, 0.0]], 1.5, cells)
    res = sinr.downlink_sinr([[6000.0, 0.0]], 1.5, cells, beyond_range="drop")
    assert res.serving_cell[0] == -1
    with pytest.raises(ScenarioError, match="shape"):
        sinr.downlink_sinr([[0.0, 0.0, 0.0]], 1.5, cells)
    with pytest.raises(ScenarioError, match="cell_load"):
        sinr.downlink_sinr([[10.0, 0.0]], 1.5, cells, cell_load=[2.0])
    with pytest.raises(ScenarioError, match="tilt_deg"):
        _layer(np.array([[0.0, 0.0]]), np.array([0.0]), np.array([0]), tilt_deg=np.ones(2))
    with pytest.raises(ScenarioError, match="environment"):
        _layer(np.array([[0.0, 0.0]]), np.array([0.0]), np.array([0]), environment="moon")
    bad = _layer(
        np.array([[0.0, 0.0]]), np.array([0.0]), np.array([0]), environment="rma", freq_ghz=40.0
    )
    with pytest.raises(ModelRangeError, match=r"RMa.*freq_ghz.*\[0.5, 30\]"):
        sinr.downlink_sinr([[100.0, 0.0]], 1.5, bad)


def test_los_probability_uses_the_outdoor_distance() -> None:
    # TR 38.901 §7.4.2 / §7.4.3: an indoor user's LOS probability is evaluated at
    # d2D-out = d2D − d2D-in, the path loss at the full d2D. Two users at the same spot, one
    # outdoors and one 40 m inside: their coupling gains differ only through P_LOS.
    import math

    cells = _layer(np.array([[0.0, 0.0]]), np.array([0.0]), np.array([0]))
    res = sinr.downlink_sinr(
        [[100.0, 0.0], [100.0, 0.0]], 1.5, cells, ue_d2d_in_m=np.array([0.0, 40.0])
    )
    los = float(pl.uma_los_db(100.0, None, 3.5))
    nlos = float(pl.uma_nlos_db(100.0, None, 3.5))

    def mixed(d_out: float) -> float:  # Table 7.4.2-1 UMa, hUT <= 13 m, by hand
        p = 18.0 / d_out + math.exp(-d_out / 63.0) * (1.0 - 18.0 / d_out)
        return -10.0 * math.log10(p * 10 ** (-los / 10) + (1 - p) * 10 ** (-nlos / 10))

    diff = float(res.coupling_gain_db[1] - res.coupling_gain_db[0])
    # P_LOS 0.3477 at 100 m, 0.5701 at 60 m: the indoor user loses about 2.4 dB less.
    assert diff == pytest.approx(mixed(100.0) - mixed(60.0), abs=1e-9)
    assert diff > 2.0
    # With random states the LOS share follows P_LOS(d2D-out): 4000 indoor users at
    # d2D 100 m, d2D-in 40 m, each on its own site key; LOS links have the lower mean loss.
    n = 4000
    far = sinr.downlink_sinr(
        np.tile([[100.0, 0.0]], (n, 1)),
        1.5,
        cells,
        seed=5,
        ue_d2d_in_m=np.full(n, 40.0),
        ue_id=np.arange(n),
    )
    loss = -np.asarray(far.coupling_gain_db)
    gain_ant = float(res.coupling_gain_db[0]) + mixed(100.0)  # antenna gain to that spot
    loss = loss + gain_ant
    # LOS (σ 4 dB around 83.1 dB) and NLOS (σ 6 dB around 103.0 dB) separate at ~93 dB.
    share_los = float(np.mean(loss < 0.5 * (los + nlos)))
    p_out = 18.0 / 60.0 + math.exp(-60.0 / 63.0) * (1.0 - 18.0 / 60.0)
    # Binomial SE sqrt(0.57·0.43/4000) = 0.008; tails crossing the 93 dB split ≈ 0.01.
    assert share_los == pytest.approx(p_out, abs=0.04)
