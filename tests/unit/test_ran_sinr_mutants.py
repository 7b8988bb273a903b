"""Parts of tsunagu.ran.sinr that the mutation run (``make mutate``) found untested.

``nearest_cells`` and the site-level k-nearest search against brute-force distances, and
``cell_loads`` against a count by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.ran import sinr
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
