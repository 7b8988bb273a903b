"""Dynamic spectrum sharing: protection and minimality of the manager's decisions (properties)."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ScenarioError
from tsunagu.ran.sharing import (
    ImtTransmitters,
    IncumbentRegistry,
    coupling_mw,
    decide,
)

LAT0, LON0 = 35.68, 139.77  # Tokyo
KINDS = ("fss_earth_station", "broadcast_fpu", "radio_astronomy")
TOL = 1.0 + 1e-9


def _world(
    seed: int, n_inc: int, n_tx: int, thr_dbm: float
) -> tuple[IncumbentRegistry, ImtTransmitters]:
    rng = np.random.default_rng(seed)
    reg = IncumbentRegistry()
    for i in range(n_inc):
        lo = 2330e6 + 5e6 * rng.integers(0, 6)
        start = float(rng.uniform(0.0, 80_000.0))
        reg = reg.register(
            f"inc{i}",
            KINDS[i % 3],
            LAT0 + rng.uniform(-0.1, 0.1),
            LON0 + rng.uniform(-0.1, 0.1),
            lo,
            lo + 10e6,
            thr_dbm + rng.uniform(-10.0, 10.0),
            1e6,
            rx_gain_dbi=float(rng.uniform(-10.0, 10.0)),
            percentile=float(rng.uniform(50.0, 99.0)),
            start_s=start,
            end_s=start + float(rng.uniform(600.0, 20_000.0)),
        )
    ch = rng.integers(0, 4, n_tx)
    tx = ImtTransmitters.from_arrays(
        LAT0 + rng.uniform(-0.2, 0.2, n_tx),
        LON0 + rng.uniform(-0.2, 0.2, n_tx),
        rng.uniform(30.0, 60.0, n_tx),
        2330e6 + 10e6 * ch,
        2340e6 + 10e6 * ch,
        rng.uniform(10.0, 40.0, n_tx),
    )
    return reg, tx


def _scale(level: np.ndarray, step_db: float, n_backoff: int) -> np.ndarray:
    return np.where(level > n_backoff, 0.0, 10.0 ** (-level * step_db / 10.0))


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_inc=st.integers(0, 6),
    n_tx=st.integers(1, 60),
    thr=st.floats(-135.0, -95.0),
    pick=st.integers(0, 6),
    frac=st.floats(0.0, 0.999),
    step_db=st.sampled_from([1.0, 3.0, 6.0]),
    max_db=st.sampled_from([0.0, 6.0, 12.0]),
)
def test_protection_and_minimality(
    seed: int,
    n_inc: int,
    n_tx: int,
    thr: float,
    pick: int,
    frac: float,
    step_db: float,
    max_db: float,
) -> None:
    reg, tx = _world(seed, n_inc, n_tx, thr)
    # a time inside a random registration's window (so that some incumbent is active), or
    # after every window when pick is out of range
    if pick < len(reg):
        t_s = float(reg.start_s[pick] + frac * (reg.end_s[pick] - reg.start_s[pick]))
    else:
        t_s = 200_000.0
    g = coupling_mw(reg, tx)
    d = decide(reg, tx, t_s, backoff_step_db=step_db, max_backoff_db=max_db, coupling=g)
    act = reg.active(t_s)
    assert np.array_equal(d.active, act)
    allowed = 10.0 ** (reg.allowed_dbm()[act] / 10.0)
    ga = g[act]
    # (1) protection: every active incumbent at or below its threshold after the manager acts
    agg = ga @ _scale(d.level, step_db, d.n_backoff)
    assert np.all(agg <= allowed * TOL)
    # (2) minimality: raising any limited/revoked transmitter by one level alone breaks some
    # active incumbent's protection (so nobody is stopped or limited without need)
    for j in np.nonzero(d.level > 0)[0]:
        lv = d.level.copy()
        lv[j] -= 1
        agg_j = ga @ _scale(lv, step_db, d.n_backoff)
        assert np.any(agg_j > allowed * TOL), f"transmitter {j} was limited without need"
    # (3) inactive registrations never limit anyone
    if not act.any():
        assert np.all(d.level == 0)
    # reported aggregate matches an independent recomputation
    np.testing.assert_allclose(10 ** (d.aggregate_dbm[act] / 10), agg, rtol=1e-9)


def test_property_worlds_exercise_every_outcome() -> None:
    # the worlds of the property test do produce grants, limits and revocations
    seen: set[str] = set()
    for seed in range(30):
        reg, tx = _world(seed, 4, 30, -110.0)
        d = decide(reg, tx, float(reg.start_s[0]) + 1.0)
        seen |= set(d.status.tolist())
    assert seen == {"granted", "limited", "revoked"}


def test_far_transmitters_keep_their_grant_and_the_nearest_is_stopped() -> None:
    reg = IncumbentRegistry().register(
        "FPU Shibuya", "broadcast_fpu", LAT0, LON0, 2330e6, 2370e6, -110.0, 1e6, height_m=5.0
    )
    tx = ImtTransmitters.from_arrays(
        [LAT0 + 0.001, LAT0 + 3.0, LAT0 - 3.0],  # 110 m, ~330 km, ~330 km
        [LON0, LON0, LON0],
        46.0,
        2340e6,
        2350e6,
    )
    d = decide(reg, tx, 0.0)
    assert d.status.tolist() == ["revoked", "granted", "granted"]
    assert d.aggregate_dbm[0] <= d.allowed_dbm[0]


def test_power_backoff_before_revocation() -> None:
    # one transmitter whose full-power interference exceeds the threshold by ~4 dB: a 6 dB
    # back-off suffices, so it is limited (not revoked) with a 3 dB ladder.
    reg0 = IncumbentRegistry().register("ES", "fss_earth_station", LAT0, LON0, 2330e6, 2340e6, 0.0)
    tx = ImtTransmitters.from_arrays([LAT0 + 0.05], [LON0], 46.0, 2330e6, 2340e6)
    g = coupling_mw(reg0, tx)[0, 0]
    thr = 10 * np.log10(g) - 4.0 - 10.0  # dBm per MHz over a 10 MHz band
    reg = IncumbentRegistry().register("ES", "fss_earth_station", LAT0, LON0, 2330e6, 2340e6, thr)
    d = decide(reg, tx, 0.0, backoff_step_db=3.0, max_backoff_db=9.0)
    assert d.status.tolist() == ["limited"]
    assert d.backoff_db[0] == 6.0


def test_adjacent_channel_leaks_at_aclr_and_far_channels_not_at_all() -> None:
    reg = IncumbentRegistry().register("RAS", "radio_astronomy", LAT0, LON0, 2330e6, 2340e6, -150.0)
    tx = ImtTransmitters.from_arrays(
        [LAT0 + 0.05] * 3, [LON0] * 3, 46.0, [2330e6, 2340e6, 2360e6], [2340e6, 2350e6, 2370e6]
    )
    g = coupling_mw(reg, tx)[0]
    # 45 dB ACLR; the two channels' centres differ (2335 vs 2345 MHz), so free space and clutter
    # differ by 20·log10(2345/2335) + 3·log10(2345/2335)·(weight) ≈ 0.04–0.06 dB
    assert 10 * np.log10(g[0] / g[1]) == pytest.approx(45.0, abs=0.1)
    assert g[2] == 0.0


def test_registry_activity_arrow_and_duckdb() -> None:
    reg = (
        IncumbentRegistry()
        .register("A", "broadcast_fpu", LAT0, LON0, 2330e6, 2340e6, -110.0, start_s=0, end_s=100)
        .register("B", "fss_earth_station", LAT0, LON0, 2350e6, 2370e6, -129.0, start_s=50)
    )
    assert reg.active(75.0).tolist() == [True, True]
    assert reg.active(100.0).tolist() == [False, True]
    registry = reg.to_arrow()  # noqa: F841 (queried by name below)
    rows = duckdb.sql("select count(*) from registry where kind = 'broadcast_fpu'").fetchall()
    assert rows == [(1,)]
    # threshold in dBm per MHz over a 20 MHz band: −129 + 13.01 dB
    assert reg.allowed_dbm()[1] == pytest.approx(-129.0 + 10 * np.log10(20.0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"freq_lo_hz": 2340e6, "freq_hi_hz": 2330e6},
        {"percentile": 100.0},
        {"kind": "radar"},
        {"start_s": 10.0, "end_s": 5.0},
        {"lat_deg": 95.0},
    ],
)
def test_registry_rejects_bad_registrations(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {
        "name": "x",
        "kind": "broadcast_fpu",
        "lat_deg": LAT0,
        "lon_deg": LON0,
        "freq_lo_hz": 2330e6,
        "freq_hi_hz": 2340e6,
        "threshold_dbm": -110.0,
    }
    base.update(kwargs)
    with pytest.raises(ScenarioError):
        IncumbentRegistry().register(**base)  # type: ignore[arg-type]


def test_decide_rejects_bad_ladder_and_coupling_shape() -> None:
    reg, tx = _world(1, 2, 3, -110.0)
    with pytest.raises(ScenarioError, match="backoff_step_db"):
        decide(reg, tx, 0.0, backoff_step_db=0.0)
    with pytest.raises(ScenarioError, match="coupling"):
        decide(reg, tx, 0.0, coupling=np.zeros((1, 1)))
