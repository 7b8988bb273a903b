"""Parts of tsunagu.ran.sinr that the mutation run (``make mutate``) found untested.

``nearest_cells`` and the site-level k-nearest search against brute-force distances, and
``cell_loads`` against a count by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.ran import antenna, sinr
from tsunagu.ran import pathloss as pl
from tsunagu.ran.layout import hex_sites_m, three_sector_cells


def _cells(xy: np.ndarray, site: np.ndarray) -> sinr.CellLayer:
    n = xy.shape[0]
    return sinr.CellLayer(
        x_m=xy[:, 0],
        y_m=xy[:, 1],
        height_m=np.full(n, 25.0),
        azimuth_deg=np.zeros(n),
        tilt_deg=np.full(n, 102.0),
        tx_power_dbm=np.full(n, 46.0),
        site=site,
        freq_ghz=3.5,
        bandwidth_hz=20e6,
        environment="uma",
    )


def _brute_sites(ue: np.ndarray, site_xy: np.ndarray, n: int) -> list[set[int]]:
    d = np.hypot(ue[:, None, 0] - site_xy[None, :, 0], ue[:, None, 1] - site_xy[None, :, 1])
    return [set(np.argsort(row, kind="stable")[:n].tolist()) for row in d]


def test_nearest_cells_three_sector_sites_match_brute_force() -> None:
    sites = hex_sites_m(500.0)
    xy, _, site = three_sector_cells(sites)
    cells = _cells(xy, site)
    rng = np.random.default_rng(4)
    ue = rng.uniform(-900.0, 900.0, (200, 2))
    for k in (1, 3, 4, 7):
        idx = sinr.nearest_cells(ue, cells, k)
        n_sites = -(-k // 3)  # K = 3 · ceil(k / 3) cells: all sectors of the nearest sites
        assert idx.shape == (200, 3 * n_sites)
        assert idx.dtype == np.int64
        want = _brute_sites(ue, sites, n_sites)
        for row, w in zip(idx, want, strict=True):
            assert set(site[row].tolist()) == w
            assert len(set(row.tolist())) == 3 * n_sites  # each sector of those sites once
    # k at or above the number of cells: every cell, in order, for every user.
    full = sinr.nearest_cells(ue[:3], cells, cells.n_cells)
    np.testing.assert_array_equal(full, np.tile(np.arange(cells.n_cells), (3, 1)))
    assert full.flags.writeable
    np.testing.assert_array_equal(sinr.nearest_cells(ue[:3], cells, 10_000), full)
    # a single position is accepted as one user
    assert sinr.nearest_cells(ue[0], cells, 3).shape == (1, 3)
    # k = 0 still returns the nearest site's cells
    assert sinr.nearest_cells(ue[:2], cells, 0).shape == (2, 3)


def test_nearest_cells_uneven_sites_use_the_cell_tree() -> None:
    # Sites with 1 and 2 cells: no site-level shortcut, the k nearest cells themselves.
    xy = np.array([[0.0, 0.0], [0.0, 0.0], [300.0, 0.0], [0.0, 400.0], [0.0, 400.0]])
    site = np.array([0, 0, 1, 2, 2])
    cells = _cells(xy, site)
    ue = np.array([[290.0, 10.0], [10.0, 390.0], [-50.0, -50.0]])
    idx = sinr.nearest_cells(ue, cells, 2)
    assert idx.shape == (3, 2)
    d = np.hypot(ue[:, None, 0] - xy[None, :, 0], ue[:, None, 1] - xy[None, :, 1])
    for row, drow in zip(idx, d, strict=True):
        assert sorted(drow[row].tolist()) == sorted(np.sort(drow)[:2].tolist())
    # nearest first: user 0 is at the 1-cell site 1
    assert idx[0, 0] == 2


def test_k_nearest_dense_and_site_tree_agree_in_downlink_sinr() -> None:
    sites = hex_sites_m(500.0)
    xy, az, site = three_sector_cells(sites)
    cells = sinr.CellLayer(
        x_m=xy[:, 0],
        y_m=xy[:, 1],
        height_m=np.full(xy.shape[0], 25.0),
        azimuth_deg=az,
        tilt_deg=np.full(xy.shape[0], 102.0),
        tx_power_dbm=np.full(xy.shape[0], 46.0),
        site=site,
        freq_ghz=3.5,
        bandwidth_hz=20e6,
        environment="uma",
    )
    ue = np.random.default_rng(5).uniform(-600.0, 600.0, (300, 2))
    idx = sinr.nearest_cells(ue, cells, 9)
    a = sinr.downlink_sinr(ue, 1.5, cells, cell_index=idx)
    b = sinr.downlink_sinr(ue, 1.5, cells, k_nearest=9)
    np.testing.assert_array_equal(a.serving_cell, b.serving_cell)
    np.testing.assert_allclose(a.sinr_db, b.sinr_db, atol=1e-9)


def test_cell_loads_counts_and_weights() -> None:
    serving = np.array([0, 2, 2, -1, 4, 2])
    np.testing.assert_array_equal(sinr.cell_loads(serving, 6), [1, 0, 3, 0, 1, 0])
    w = np.array([0.5, 1.0, 2.0, 9.0, 4.0, 0.25])
    np.testing.assert_allclose(sinr.cell_loads(serving, 6, w), [0.5, 0, 3.25, 0, 4.0, 0])
    out = sinr.cell_loads(np.array([-1, -1]), 3)
    assert out.shape == (3,)
    assert out.dtype == np.float64
    assert float(out.sum()) == 0.0


# --------------------------------------------------------------------------- random streams

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _splitmix_finaliser(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def test_mix64_is_splitmix64() -> None:
    # Published SplitMix64 outputs for seed 1234567: the first five draws listed by the
    # Rosetta Code task "Pseudo-random numbers/Splitmix64" (Vigna's splitmix64.c: state +=
    # 0x9E3779B97F4A7C15, then the finaliser).
    want = [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]
    states = np.array([(1234567 + (i + 1) * _GOLDEN) & _M64 for i in range(5)], dtype=np.uint64)
    assert [int(v) for v in sinr._mix64(states)] == want
    assert [_splitmix_finaliser(int(s)) for s in states] == want


def test_hashed_draws_follow_the_documented_construction() -> None:
    # Reproducibility contract: key = mix(a·0xD1B54A32D192ED03 + (b XOR seed·golden)),
    # stream s = mix(key + s·golden); uniform = top 53 bits · 2^-53; normal = Box–Muller on
    # the two 32-bit halves. Written out with Python integers.
    import math

    for seed, a, b, stream in ((0, 0, 0, 0), (1, 7, 3, 1), (12345, 999, 42, 4), (7, 2**40, 5, 2)):
        salt = (seed * _GOLDEN) & _M64
        key = _splitmix_finaliser(((a * 0xD1B54A32D192ED03) & _M64) + (b ^ salt) & _M64)
        x = _splitmix_finaliser((key + ((stream * _GOLDEN) & _M64)) & _M64)
        u = (x >> 11) * 2.0**-53
        u1 = ((x >> 32) + 1.0) * 2.0**-32
        u2 = (x & 0xFFFFFFFF) * 2.0**-32
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        assert float(sinr.hashed_uniform(seed, [a], [b], stream)[0]) == u
        assert float(sinr.hashed_normal(seed, [a], [b], stream)[0]) == pytest.approx(z, abs=1e-12)
    # broadcasting of the two key parts
    assert sinr.hashed_uniform(3, [1, 2, 3], 4, 0).shape == (3,)
    assert sinr.hashed_uniform(3, 1, 4, 0).shape == (1,)


# --------------------------------------------------------------------------- link budget wiring


def _one(az_deg: float = 0.0, **kw: object) -> sinr.CellLayer:
    args: dict[str, object] = {
        "x_m": [0.0],
        "y_m": [0.0],
        "height_m": [25.0],
        "azimuth_deg": [az_deg],
        "tilt_deg": [102.0],
        "tx_power_dbm": [46.0],
        "site": [0],
        "freq_ghz": 3.5,
        "bandwidth_hz": 20e6,
        "environment": "uma",
    }
    args.update(kw)
    return sinr.CellLayer(**args)  # type: ignore[arg-type]


def test_sector_gain_peaks_towards_the_boresight() -> None:
    # Users on a 300 m circle around a cell pointing at 120° (counter-clockwise from x): the
    # coupling gain peaks at bearing 120°, is symmetric about it, and 60° off boresight it is
    # lower by the Table 7.3-1 horizontal cut 12 (60/65)² = 10.225 dB (same path loss, same
    # zenith angle, the vertical array factor does not depend on azimuth).
    bearing = np.arange(0.0, 360.0, 15.0)
    ue = 300.0 * np.column_stack([np.cos(np.radians(bearing)), np.sin(np.radians(bearing))])
    g = sinr.downlink_sinr(ue, 1.5, _one(120.0)).coupling_gain_db
    assert bearing[int(np.argmax(g))] == 120.0
    by = dict(zip(bearing.tolist(), g.tolist(), strict=True))
    for off in (15.0, 45.0, 90.0):
        assert by[120.0 + off] == pytest.approx(by[120.0 - off], abs=1e-9)
    assert by[120.0] - by[180.0] == pytest.approx(12.0 * (60.0 / 65.0) ** 2, abs=1e-9)


def test_element_gain_per_cell_follows_the_cell_index() -> None:
    # Two co-located cells, same pattern, element gains 11 and 5 dBi (default 8): their
    # coupling gains differ by exactly 6 dB, whatever order the candidates are listed in.
    cells = sinr.CellLayer(
        x_m=[0.0, 0.0],
        y_m=[0.0, 0.0],
        height_m=[25.0, 25.0],
        azimuth_deg=[0.0, 0.0],
        tilt_deg=[102.0, 102.0],
        tx_power_dbm=[46.0, 46.0],
        site=[0, 0],
        freq_ghz=3.5,
        bandwidth_hz=20e6,
        environment="uma",
        element_gain_dbi=np.array([11.0, 5.0]),
    )
    ref = sinr.downlink_sinr([[200.0, 0.0]], 1.5, _one()).coupling_gain_db[0]
    for order in ([[0, 1]], [[1, 0]]):
        res = sinr.downlink_sinr([[200.0, 0.0]], 1.5, cells, cell_index=order)
        assert res.serving_cell[0] == 0
        assert float(res.coupling_gain_db[0]) == pytest.approx(float(ref) + 3.0, abs=1e-9)
        # the 5 dBi cell interferes 6 dB below the serving one
        assert float(res.sir_db[0]) == pytest.approx(6.0, abs=1e-9)


def test_tx_power_override_shifts_received_power_only() -> None:
    cells = _one()
    base = sinr.downlink_sinr([[200.0, 0.0]], 1.5, cells)
    low = sinr.downlink_sinr([[200.0, 0.0]], 1.5, cells, tx_power_dbm=40.0)
    assert float(low.serving_rx_dbm[0]) == pytest.approx(float(base.serving_rx_dbm[0]) - 6.0)
    assert float(low.coupling_gain_db[0]) == pytest.approx(float(base.coupling_gain_db[0]))


def test_unserved_and_uninterfered_users_are_minus_infinity() -> None:
    xy = np.array([[-300.0, 0.0], [300.0, 0.0]])
    cells = _cells(xy, np.array([0, 1]))
    none = sinr.downlink_sinr([[0.0, 0.0]], 1.5, cells, cell_on=[False, False])
    for arr in (none.serving_rx_dbm, none.coupling_gain_db, none.interference_dbm):
        assert np.isneginf(arr[0])
    assert np.isneginf(none.sinr_db[0])
    assert np.isneginf(none.sir_db[0])
    # one cell off: it neither serves nor interferes
    one = sinr.downlink_sinr([[0.0, 0.0]], 1.5, cells, cell_on=[True, False])
    assert one.serving_cell[0] == 0
    assert np.isneginf(one.interference_dbm[0])
    assert np.isposinf(one.sir_db[0])
    # half-loaded cells: the other cell interferes at half its power, the serving one not at all
    full = sinr.downlink_sinr([[-100.0, 0.0]], 1.5, cells)
    half = sinr.downlink_sinr([[-100.0, 0.0]], 1.5, cells, cell_load=[0.5, 0.5])
    want = float(full.interference_dbm[0]) - 10.0 * np.log10(2.0)
    assert float(half.interference_dbm[0]) == pytest.approx(want, abs=1e-9)
    # load 0 is accepted (an idle cell), NaN is not
    idle = sinr.downlink_sinr([[-100.0, 0.0]], 1.5, cells, cell_load=[1.0, 0.0])
    assert np.isposinf(idle.sir_db[0])
    with pytest.raises(ScenarioError, match="cell_load"):
        sinr.downlink_sinr([[-100.0, 0.0]], 1.5, cells, cell_load=[1.0, np.nan])


def test_default_noise_figure_is_9_db() -> None:
    # -174 dBm/Hz + 10 log10(20 MHz) + 9 dB = -91.99 dBm
    res = sinr.downlink_sinr([[200.0, 0.0]], 1.5, _one())
    assert res.noise_dbm == pytest.approx(-174.0 + 10.0 * np.log10(20e6) + 9.0, abs=1e-9)


# --------------------------------------------------------------------------- arguments


def test_unknown_beyond_range_names_the_choices() -> None:
    cells = _one()
    for bad in ("Drop", "RAISE", "ignore", ""):
        with pytest.raises(ModelRangeError, match=r"beyond_range.*\['raise', 'drop'\]"):
            sinr.downlink_sinr([[200.0, 0.0]], 1.5, cells, beyond_range=bad)  # type: ignore[arg-type]
    # the two valid choices agree inside the model range; only "drop" survives a far user
    a = sinr.downlink_sinr([[200.0, 0.0]], 1.5, cells, beyond_range="raise")
    b = sinr.downlink_sinr([[200.0, 0.0]], 1.5, cells, beyond_range="drop")
    assert float(a.sinr_db[0]) == float(b.sinr_db[0])
    with pytest.raises(ModelRangeError, match="d2d_m"):
        sinr.downlink_sinr([[6000.0, 0.0]], 1.5, cells)  # default: raise


# --------------------------------------------------------------------------- random link state


def _sector_gain_on_axis(d2d: np.ndarray, h_ut: np.ndarray, h_bs: float) -> np.ndarray:
    # users on the x-axis of a cell pointing along x: zenith angle from the cell, φ = 0
    return antenna.sector_gain_dbi(np.degrees(np.arctan2(d2d, h_ut - h_bs)), 0.0)


def _uma_env_height_by_hand(
    d: np.ndarray, h: np.ndarray, u1: np.ndarray, u2: np.ndarray
) -> np.ndarray:
    # TR 38.901 Table 7.4.1-1 Note 1: h_E = 1 m with probability 1/(1 + C(d2D, hUT)), else
    # uniform on {12, 15, ..., hUT - 1.5}; C = 0 below 13 m, g(d2D) = 0 up to 18 m.
    g = np.where(d <= 18.0, 0.0, 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0))
    c = np.where(h < 13.0, 0.0, ((np.maximum(h, 13.0) - 13.0) / 10.0) ** 1.5 * g)
    n = np.floor((h - 13.5) / 3.0) + 1.0
    return np.where(u1 < 1.0 / (1.0 + c), 1.0, 12.0 + 3.0 * np.floor(u2 * np.maximum(n, 1.0)))


# 13.5 m users alone at 0.5 GHz: the h_E draw starts at hUT = 13 m (not only for higher users),
# and h_E = 12 m moves their breakpoint d'BP = 4 (hBS - hE)(hUT - hE) fc / c to 130 m.
@pytest.mark.parametrize(
    ("heights", "freq_ghz", "n", "d_max_m"),
    [((13.5,), 0.5, 20_000, 600.0), ((1.5, 13.5, 16.5, 22.5), 3.5, 3000, 1200.0)],
)
def test_uma_random_links_follow_the_documented_streams(
    heights: tuple[float, ...], freq_ghz: float, n: int, d_max_m: float
) -> None:
    # Consistency check of the wiring (module docstring): per link key (seed, user, site),
    # stream 1 < P_LOS gives LOS, streams 2-3 the UMa h_E, stream 4 the shadow fading added
    # with σ 4 dB (LOS) / 6 dB (NLOS). P_LOS (Table 7.4.2-1, with C'(hUT) for high users),
    # h_E (Note 1) and σ (Table 7.4.1-1) are written out here; the path-loss formulas
    # themselves are pl.pathloss_db's (validated against the TR tables elsewhere).
    rng = np.random.default_rng(21)
    seed = 17
    d = np.round(rng.uniform(30.0, d_max_m, n), 1)
    h = rng.choice(np.array(heights), n)
    uid = np.arange(n) * 7 + 3
    res = sinr.downlink_sinr(
        np.column_stack([d, np.zeros(n)]), h, _one(freq_ghz=freq_ghz), seed=seed, ue_id=uid
    )
    dd = np.maximum(d, 18.0)
    c_prime = np.where(h <= 13.0, 0.0, ((np.maximum(h, 13.0) - 13.0) / 10.0) ** 1.5)
    p_los = (18.0 / dd + np.exp(-dd / 63.0) * (1.0 - 18.0 / dd)) * (
        1.0 + c_prime * 1.25 * (dd / 100.0) ** 3 * np.exp(-dd / 150.0)
    )
    p_los = np.minimum(p_los, 1.0)
    los = sinr.hashed_uniform(seed, uid, 0, 1) < p_los
    h_e = _uma_env_height_by_hand(
        d, h, sinr.hashed_uniform(seed, uid, 0, 2), sinr.hashed_uniform(seed, uid, 0, 3)
    )
    loss = pl.pathloss_db("uma", d, None, freq_ghz, los, 25.0, h, h_e)
    loss = loss + np.where(los, 4.0, 6.0) * sinr.hashed_normal(seed, uid, 0, 4)
    want = _sector_gain_on_axis(d, h, 25.0) - loss
    np.testing.assert_allclose(res.coupling_gain_db, want, rtol=0.0, atol=1e-9)
    # the drop exercises every branch: LOS and NLOS, and h_E above 1 m at 13.5 m and higher
    assert 0.05 < float(np.mean(los)) < 0.95
    assert np.any((h_e > 1.0) & (h == 13.5))
    # ... and h_E changes the loss: some LOS link with h_E > 1 m lies beyond its d'BP
    d_bp = 4.0 * (25.0 - h_e) * (h - h_e) * freq_ghz * 1e9 / 3.0e8
    assert np.any(los & (h_e > 1.0) & (d > d_bp))
    if 22.5 in heights:
        assert np.any((h_e > 12.0) & (h == 22.5))


def test_rma_random_links_switch_sigma_at_the_breakpoint() -> None:
    # RMa LOS: σ 4 dB up to dBP = 2π hBS hUT fc / c (PL1, d2D <= dBP), 6 dB beyond (PL2);
    # NLOS σ 8 dB (Table 7.4.1-1); P_LOS = exp(-(d - 10)/1000) beyond 10 m (Table 7.4.2-1).
    # 0.7 GHz, hBS 35 m, hUT 1.5 m: dBP = 769.7 m; 300 users sit exactly at dBP.
    cells = _one(height_m=[35.0], environment="rma", freq_ghz=0.7)
    d_bp = 2.0 * np.pi * 35.0 * 1.5 * 0.7e9 / 3.0e8
    rng = np.random.default_rng(8)
    d = np.concatenate([np.round(rng.uniform(100.0, 2500.0, 3000), 1), np.full(300, d_bp)])
    n, seed = d.size, 4
    uid = np.arange(n)
    res = sinr.downlink_sinr(np.column_stack([d, np.zeros(n)]), 1.5, cells, seed=seed)
    los = sinr.hashed_uniform(seed, uid, 0, 1) < np.exp(-(d - 10.0) / 1000.0)
    sigma = np.where(los, np.where(d > d_bp, 6.0, 4.0), 8.0)
    loss = pl.pathloss_db("rma", d, None, 0.7, los, 35.0, 1.5)
    loss = loss + sigma * sinr.hashed_normal(seed, uid, 0, 4)
    want = _sector_gain_on_axis(d, np.full(n, 1.5), 35.0) - loss
    np.testing.assert_allclose(res.coupling_gain_db, want, rtol=0.0, atol=1e-9)
    assert np.any(los & (d > d_bp))
    assert np.any(los & (d == d_bp))
    assert np.any(~los)


def test_high_user_los_probability_in_the_mean_path_loss() -> None:
    # seed=None: P_LOS of a 22.5 m user at 100 m includes C'(hUT) = (0.95)^1.5 (Table 7.4.2-1):
    # [18/100 + e^(-100/63) (1 - 18/100)] [1 + C' (5/4) e^(-100/150)] = 0.5542.
    import math

    d, h = 100.0, 22.5
    p = (18.0 / d + math.exp(-d / 63.0) * (1.0 - 18.0 / d)) * (
        1.0 + 0.95**1.5 * 1.25 * math.exp(-d / 150.0)
    )
    assert p == pytest.approx(0.5542, abs=1e-4)
    los = float(pl.uma_los_db(d, None, 3.5, 25.0, h))
    nlos = float(pl.uma_nlos_db(d, None, 3.5, 25.0, h))
    mean = -10.0 * math.log10(p * 10 ** (-los / 10) + (1 - p) * 10 ** (-nlos / 10))
    res = sinr.downlink_sinr([[d, 0.0]], h, _one())
    want = float(_sector_gain_on_axis(np.array([d]), np.array([h]), 25.0)[0]) - mean
    assert float(res.coupling_gain_db[0]) == pytest.approx(want, abs=1e-9)


def test_ue_id_keeps_a_users_draws_in_a_subset() -> None:
    xy, az, site = three_sector_cells(hex_sites_m(500.0))
    cells = _cells(xy, site)
    cells = sinr.CellLayer(**{**cells.__dict__, "azimuth_deg": az})  # type: ignore[arg-type]
    ue = np.random.default_rng(3).uniform(-600.0, 600.0, (40, 2))
    full = sinr.downlink_sinr(ue, 1.5, cells, seed=9)
    pick = np.array([31, 5, 17])
    sub = sinr.downlink_sinr(ue[pick], 1.5, cells, seed=9, ue_id=pick)
    np.testing.assert_array_equal(sub.serving_cell, full.serving_cell[pick])
    np.testing.assert_array_equal(sub.coupling_gain_db, full.coupling_gain_db[pick])
    # without the ids the subset's users take the draws of users 0, 1, 2
    other = sinr.downlink_sinr(ue[pick], 1.5, cells, seed=9)
    assert np.all(other.coupling_gain_db != full.coupling_gain_db[pick])


# --------------------------------------------------------------------------- geometry and layers


def test_link_geometry_takes_the_nearest_image_of_each_cell() -> None:
    # Asymmetric translations (the images of cell c sit at c + s): brute force over the images.
    cells = _cells(np.array([[0.0, 0.0], [100.0, 50.0]]), np.array([0, 1]))
    shifts = np.array([[0.0, 0.0], [1000.0, 0.0], [0.0, 1000.0], [-700.0, 300.0]])
    ue = np.random.default_rng(6).uniform(-800.0, 1500.0, (200, 2))
    h = np.full(200, 1.5)
    idx = np.tile(np.arange(2), (200, 1))
    d2d, d3d, az, zen = sinr.link_geometry(ue, h, cells, idx, shifts)
    img = cells.xy_m[:, None, :] + shifts[None, :, :]  # (cell, image, xy)
    v = ue[:, None, None, :] - img[None, :, :, :]
    dist = np.hypot(v[..., 0], v[..., 1])
    best = np.argmin(dist, axis=2)
    vb = np.take_along_axis(v, best[..., None, None], axis=2)[:, :, 0, :]
    np.testing.assert_allclose(d2d, dist.min(axis=2), rtol=1e-12)
    np.testing.assert_allclose(d3d, np.hypot(dist.min(axis=2), 23.5), rtol=1e-12)
    np.testing.assert_allclose(az, np.degrees(np.arctan2(vb[..., 1], vb[..., 0])), atol=1e-9)
    np.testing.assert_allclose(zen, np.degrees(np.arctan2(d2d, -23.5)), atol=1e-9)
    assert len(np.unique(best)) == 4  # every image wins somewhere


def test_beam_width_per_cell_follows_the_cell_index() -> None:
    # Two beams from one HAPS, 20° and 40° wide, both pointing 30° off nadir towards +x: a
    # user 10° off both axes gets G_max - 12 (10/α3dB)² = 17 and 19.25 dBi (Table 7.3-1
    # parabola), whatever order the candidate cells are listed in.
    h = 20_000.0
    cells = sinr.CellLayer(
        x_m=[0.0, 0.0],
        y_m=[0.0, 0.0],
        height_m=[h, h],
        azimuth_deg=[0.0, 0.0],
        tilt_deg=[150.0, 150.0],
        tx_power_dbm=[43.0, 43.0],
        site=[0, 0],
        freq_ghz=2.0,
        bandwidth_hz=20e6,
        environment="fspl",
        pattern="beam",
        element_gain_dbi=20.0,
        beam_hpbw_deg=np.array([20.0, 40.0]),
    )
    x = (h - 1.5) * np.tan(np.radians(40.0))  # 40° off nadir = 10° off the 30° axis
    fspl = float(pl.free_space_db(np.hypot(x, h - 1.5), 2.0))
    for order in ([[0, 1]], [[1, 0]]):
        res = sinr.downlink_sinr([[x, 0.0]], 1.5, cells, cell_index=order)
        assert res.serving_cell[0] == 1
        assert float(res.coupling_gain_db[0]) == pytest.approx(19.25 - fspl, abs=1e-9)
        assert float(res.sir_db[0]) == pytest.approx(2.25, abs=1e-9)


def test_drop_keeps_the_links_inside_the_model_range() -> None:
    # A user 4,800 m from cell 0 and 5,200 m from cell 1 (UMa range 5 km): with "drop" cell 0
    # serves with exactly the link budget it has alone, and cell 1 does not interfere.
    xy = np.array([[0.0, 0.0], [10_000.0, 0.0]])
    for freq in (3.5, 28.0):
        two = _cells(xy, np.array([0, 1]))
        two = sinr.CellLayer(**{**two.__dict__, "freq_ghz": freq})  # type: ignore[arg-type]
        one = _one(freq_ghz=freq)
        ue = [[4800.0, 0.0], [4800.0, 300.0]]
        for seed in (None, 2):
            res = sinr.downlink_sinr(ue, 1.5, two, seed=seed, beyond_range="drop")
            ref = sinr.downlink_sinr(ue, 1.5, one, seed=seed)
            np.testing.assert_array_equal(res.serving_cell, [0, 0])
            np.testing.assert_allclose(res.coupling_gain_db, ref.coupling_gain_db, atol=1e-9)
            assert np.all(np.isneginf(res.interference_dbm))
            assert np.all(np.isposinf(res.sir_db))


@pytest.mark.parametrize("freq_ghz", [6.0, 6.5, 28.0, 60.0])
def test_gas_loss_is_added_from_6_ghz(freq_ghz: float) -> None:
    # TR 38.901 §7.6.1: α(fc) d3D / 1000 added to the path loss, α from ITU-R P.676; the layer
    # applies it from 6 GHz on.
    d = 1000.0
    res = sinr.downlink_sinr([[d, 0.0]], 1.5, _one(freq_ghz=freq_ghz))
    alpha = pl.gas_specific_attenuation_db_per_km(freq_ghz)
    d3d = float(np.hypot(d, 23.5))
    no_gas = float(_sector_gain_on_axis(np.array([d]), np.array([1.5]), 25.0)[0]) - float(
        pl.expected_pathloss_db("uma", d, freq_ghz)
    )
    assert float(res.coupling_gain_db[0]) == pytest.approx(no_gas - alpha * d3d / 1000.0, abs=1e-9)
    if freq_ghz == 60.0:
        # independent: Table 7.6.1-1 lists α = 15 dB/km at 60 GHz (P.676 sea level: 14.8)
        assert float(no_gas - res.coupling_gain_db[0]) == pytest.approx(15.0 * d3d / 1000, abs=0.5)


def test_no_gas_loss_below_6_ghz() -> None:
    d = 1000.0
    res = sinr.downlink_sinr([[d, 0.0]], 1.5, _one(freq_ghz=5.9))
    want = float(_sector_gain_on_axis(np.array([d]), np.array([1.5]), 25.0)[0]) - float(
        pl.expected_pathloss_db("uma", d, 5.9)
    )
    assert float(res.coupling_gain_db[0]) == pytest.approx(want, abs=1e-9)


def test_cell_layer_checks_and_column_types() -> None:
    with pytest.raises(ScenarioError, match="finite"):
        _one(x_m=[np.nan])
    with pytest.raises(ScenarioError, match="finite"):
        _one(y_m=[np.inf])
    with pytest.raises(ScenarioError, match="bandwidth_hz"):
        _one(bandwidth_hz=0.0)
    # the band edges 0.4 and 100 GHz are accepted, just outside them not
    for f in (0.4, 100.0):
        assert _one(freq_ghz=f, environment="fspl").freq_ghz == f
    for f in (0.39, 100.5):
        with pytest.raises(ModelRangeError, match="freq_ghz"):
            _one(freq_ghz=f)
    # 1 Hz of bandwidth: the noise is the -174 dBm/Hz density plus the noise figure
    res = sinr.downlink_sinr([[200.0, 0.0]], 1.5, _one(bandwidth_hz=1.0), noise_figure_db=7.0)
    assert res.noise_dbm == pytest.approx(-167.0, abs=1e-9)
    # integer columns (e.g. read from a CSV) are stored as float64 / int64 arrays
    cells = sinr.CellLayer(
        x_m=[0, 100],
        y_m=[0, 0],
        height_m=[25, 25],
        azimuth_deg=[0, 180],
        tilt_deg=[102, 102],
        tx_power_dbm=[46, 43],
        site=np.array([0, 1], dtype=np.int32),
        freq_ghz=3.5,
        bandwidth_hz=20e6,
        environment="uma",
        element_gain_dbi=np.array([8, 5]),
    )
    for name in ("x_m", "y_m", "height_m", "azimuth_deg", "tilt_deg", "tx_power_dbm"):
        assert getattr(cells, name).dtype == np.float64, name
    assert cells.site.dtype == np.int64
    assert isinstance(cells.element_gain_dbi, np.ndarray)
    assert cells.element_gain_dbi.dtype == np.float64


def test_cell_on_accepts_zero_one_numbers() -> None:
    # cell_on given as 0/1 floats (a CSV column) means the same as booleans, in both modes
    xy = np.array([[-300.0, 0.0], [300.0, 0.0]])
    cells = _cells(xy, np.array([0, 1]))
    for mode in ("raise", "drop"):
        a = sinr.downlink_sinr([[0.0, 10.0]], 1.5, cells, cell_on=[1.0, 0.0], beyond_range=mode)
        b = sinr.downlink_sinr([[0.0, 10.0]], 1.5, cells, cell_on=[True, False])
        assert a.serving_cell[0] == 0
        assert float(a.sinr_db[0]) == float(b.sinr_db[0])


def test_cell_index_shape_is_checked() -> None:
    cells = _cells(np.array([[0.0, 0.0], [300.0, 0.0]]), np.array([0, 1]))
    ue = [[10.0, 0.0], [200.0, 0.0]]
    for bad in ([[0, 1]], [[0, 1], [1, 0], [0, 1]], [0, 1]):
        with pytest.raises(ScenarioError, match="cell_index"):
            sinr.downlink_sinr(ue, 1.5, cells, cell_index=bad)


# --------------------------------------------------------------------------- nearest cells


def test_one_nearest_cell_of_single_cell_sites() -> None:
    # One cell per site at uneven spacing: k = 1 is the nearest cell alone, so nothing
    # interferes (SIR +inf); k = 2 adds the second nearest.
    xy = np.array([[0.0, 0.0], [400.0, 0.0], [0.0, 900.0], [0.0, 902.0]])
    cells = _cells(xy, np.array([0, 1, 2, 2]))  # uneven: site 2 has two cells
    ue = np.array([[50.0, 0.0], [350.0, 10.0], [0.0, 880.0]])
    idx = sinr.nearest_cells(ue, cells, 1)
    np.testing.assert_array_equal(idx, [[0], [1], [2]])
    res = sinr.downlink_sinr(ue, 1.5, cells, k_nearest=1)
    np.testing.assert_array_equal(res.serving_cell, [0, 1, 2])
    assert np.all(np.isposinf(res.sir_db))
    two = sinr.downlink_sinr(ue, 1.5, cells, k_nearest=2)
    assert np.all(np.isfinite(two.sir_db))


def test_single_site_layer_nearest_cells() -> None:
    xy, _, site = three_sector_cells(np.array([[0.0, 0.0]]))
    cells = _cells(xy, site)
    ue = np.array([[100.0, 0.0], [-50.0, 80.0]])
    idx = sinr.nearest_cells(ue, cells, 1)
    np.testing.assert_array_equal(idx, [[0, 1, 2], [0, 1, 2]])
    res = sinr.downlink_sinr(ue, 1.5, cells, k_nearest=2)
    dense = sinr.downlink_sinr(ue, 1.5, cells)
    np.testing.assert_array_equal(res.sinr_db, dense.sinr_db)


def test_k_nearest_breaks_ties_like_dense_evaluation() -> None:
    # 60 sites of 3 identical co-located cells (same azimuth), cell numbers shuffled: the
    # three cells of a site tie exactly, dense evaluation serves the lowest cell number, and
    # the site-tree search must list a site's cells in ascending order to do the same.
    sites = hex_sites_m(500.0, rings=4)[:60]
    perm = np.random.default_rng(2).permutation(np.repeat(np.arange(60), 3))
    cells = _cells(sites[perm], perm)
    ue = np.random.default_rng(7).uniform(-1500.0, 1500.0, (300, 2))
    idx = sinr.nearest_cells(ue, cells, 6)
    for row in idx:  # each site's three cells, nearest site first, ascending within a site
        assert np.all(np.diff(row.reshape(2, 3), axis=1) > 0)
    dense = sinr.downlink_sinr(ue, 1.5, cells)
    near = sinr.downlink_sinr(ue, 1.5, cells, k_nearest=6)
    # where the dense best server's site is among the two nearest, both pick the same cell
    seen = np.array(
        [site in perm[row] for site, row in zip(perm[dense.serving_cell], idx, strict=True)]
    )
    assert seen.mean() > 0.7
    np.testing.assert_array_equal(near.serving_cell[seen], dense.serving_cell[seen])
    assert np.all(
        dense.serving_cell == [np.flatnonzero(perm == s)[0] for s in perm[dense.serving_cell]]
    )


def test_drop_keeps_a_link_at_the_range_limit() -> None:
    # UMa is defined up to d2D = 5,000 m inclusive: a user exactly there is served with "drop"
    # exactly as with "raise"; 1 m farther it is dropped.
    cells = _one()
    edge = sinr.downlink_sinr([[5000.0, 0.0]], 1.5, cells, beyond_range="drop")
    ref = sinr.downlink_sinr([[5000.0, 0.0]], 1.5, cells)
    assert edge.serving_cell[0] == 0
    assert float(edge.sinr_db[0]) == float(ref.sinr_db[0])
    past = sinr.downlink_sinr([[5001.0, 0.0]], 1.5, cells, beyond_range="drop")
    assert past.serving_cell[0] == -1


def test_too_high_uma_user_is_told_the_path_loss_height_range() -> None:
    # TR 38.901 Table 7.4.1-1: UMa 1.5 m <= hUT <= 22.5 m. A 23.5 m user is refused with that
    # range (not the 0-23 m of the LOS-probability table), with and without random states.
    for seed in (None, 1):
        with pytest.raises(ModelRangeError, match=r"h_ut_m must lie in \[1.5, 22.5\]"):
            sinr.downlink_sinr([[200.0, 0.0]], 23.5, _one(), seed=seed)
