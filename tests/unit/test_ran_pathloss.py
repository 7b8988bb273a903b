"""Unit tests of tsunagu.ran.pathloss (TR 38.901 path loss, LOS probability, O2I)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tsunagu.errors import ModelRangeError
from tsunagu.ran import pathloss as pl

d2d_st = st.floats(min_value=10.0, max_value=5000.0)
freq_st = st.floats(min_value=0.5, max_value=100.0)
freq_rma_st = st.floats(min_value=0.5, max_value=30.0)


@pytest.mark.parametrize(
    ("los", "nlos"),
    [(pl.uma_los_db, pl.uma_nlos_db), (pl.umi_los_db, pl.umi_nlos_db)],
)
@settings(max_examples=50, deadline=None)
@given(d=d2d_st, f=freq_st, h_ut=st.floats(min_value=1.5, max_value=8.0))
def test_nlos_is_never_below_los(los, nlos, d: float, f: float, h_ut: float) -> None:
    # NLOS = max(LOS, NLOS') by definition (Table 7.4.1-1).
    assert nlos(d, None, f, h_ut_m=h_ut) >= los(d, None, f, h_ut_m=h_ut) - 1e-12


@settings(max_examples=50, deadline=None)
@given(d=st.floats(min_value=10.0, max_value=4999.0), f=freq_rma_st)
def test_rma_nlos_is_never_below_los(d: float, f: float) -> None:
    assert pl.rma_nlos_db(d, None, f) >= pl.rma_los_db(d, None, f) - 1e-12


@pytest.mark.parametrize("func", [pl.uma_los_db, pl.umi_los_db, pl.uma_nlos_db, pl.umi_nlos_db])
def test_monotone_in_distance_and_continuous_at_breakpoint(func) -> None:
    d = np.linspace(10.0, 5000.0, 20_000)
    loss = func(d, None, 3.5)
    assert np.all(np.diff(loss) > 0.0)
    # At d2D = d'BP, d3D² = d'BP² + Δh², so PL2 = PL1 exactly (40 − 2·9 = 22; 40 − 2·9.5 = 21).
    d_bp = float(pl.breakpoint_distance_m(25.0 if "uma" in func.__name__ else 10.0, 1.5, 3.5))
    jump = func(d_bp * (1 + 1e-12), None, 3.5) - func(d_bp, None, 3.5)
    assert abs(float(jump)) < 1e-6


def test_rma_los_continuous_at_breakpoint() -> None:
    d_bp = float(pl.rma_breakpoint_distance_m(35.0, 1.5, 3.5))
    below = pl.rma_los_db(d_bp - 1e-6, None, 3.5)
    above = pl.rma_los_db(d_bp + 1e-6, None, 3.5)
    # PL2 uses PL1(dBP) evaluated at d3D = dBP, PL1 at d3D = sqrt(dBP² + 33.5²): < 0.01 dB.
    assert abs(float(above - below)) < 0.01


def test_ue_at_base_station_gives_finite_value_of_10_m() -> None:
    d = np.array([0.0, 3.0, 10.0])
    for func in (pl.uma_los_db, pl.uma_nlos_db, pl.umi_los_db, pl.umi_nlos_db):
        loss = func(d, None, 3.5)
        assert np.all(np.isfinite(loss))
        assert loss[0] == loss[1] == loss[2]
    for func in (pl.rma_los_db, pl.rma_nlos_db):
        loss = func(d, None, 3.5)
        assert np.all(np.isfinite(loss))
        assert loss[0] == loss[2]
    assert np.all(np.isfinite(pl.expected_pathloss_db("uma", d, 3.5)))


def test_given_d3d_matches_computed() -> None:
    d2d = np.array([50.0, 800.0])
    d3d = np.sqrt(d2d**2 + 23.5**2)
    np.testing.assert_allclose(pl.uma_los_db(d2d, d3d, 28.0), pl.uma_los_db(d2d, None, 28.0))


def test_broadcasting_shapes() -> None:
    d = np.linspace(20, 2000, 7)[:, np.newaxis]
    f = np.array([0.7, 3.5, 28.0])[np.newaxis, :]
    assert pl.uma_nlos_db(d, None, f).shape == (7, 3)
    assert pl.expected_pathloss_db("umi", d, f).shape == (7, 3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: pl.uma_los_db(5001.0, None, 3.5), "UMa LOS.*d2d_m"),
        (lambda: pl.umi_nlos_db(-1.0, None, 3.5), "UMi NLOS.*d2d_m"),
        (lambda: pl.uma_los_db(np.nan, None, 3.5), "d2d_m"),
        (lambda: pl.uma_los_db(100.0, None, 0.4), r"UMa LOS.*freq_ghz.*\[0.5, 100\]"),
        (lambda: pl.uma_nlos_db(100.0, None, 101.0), "freq_ghz"),
        (lambda: pl.rma_los_db(100.0, None, 31.0), r"RMa LOS.*\[0.5, 30\]"),
        (lambda: pl.rma_los_db(10_001.0, None, 3.5), "RMa LOS.*10000"),
        (lambda: pl.rma_nlos_db(5001.0, None, 3.5), "RMa NLOS.*5000"),
        (lambda: pl.uma_los_db(100.0, None, 3.5, h_ut_m=30.0), "h_ut_m"),
        (lambda: pl.rma_nlos_db(100.0, None, 3.5, street_width_m=60.0), "street_width_m"),
        (lambda: pl.los_probability_uma(-5.0), "LOS probability"),
        (lambda: pl.expected_pathloss_db("inh", 100.0, 3.5), "uma"),  # type: ignore[arg-type]
    ],
)
def test_out_of_range_raises(call, match: str) -> None:
    with pytest.raises(ModelRangeError, match=match):
        call()


def test_los_probabilities_values() -> None:
    # Hand-computed from Table 7.4.2-1.
    assert float(pl.los_probability_umi(18.0)) == 1.0
    assert float(pl.los_probability_uma(18.0)) == 1.0
    expected_umi = 18 / 200 + np.exp(-200 / 36) * (1 - 18 / 200)
    assert float(pl.los_probability_umi(200.0)) == pytest.approx(expected_umi, rel=1e-12)
    c_prime = ((20.0 - 13.0) / 10.0) ** 1.5
    base = 18 / 200 + np.exp(-200 / 63) * (1 - 18 / 200)
    expected_uma = base * (1 + c_prime * 1.25 * 2.0**3 * np.exp(-200 / 150))
    assert float(pl.los_probability_uma(200.0, 20.0)) == pytest.approx(expected_uma, rel=1e-12)
    assert float(pl.los_probability_rma(10.0)) == 1.0
    assert float(pl.los_probability_rma(2010.0)) == pytest.approx(np.exp(-2.0), rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(d=st.floats(min_value=0.0, max_value=1e5), h_ut=st.floats(min_value=1.0, max_value=23.0))
@example(d=18.125, h_ut=18.0)  # the raw product is 1.0006 here
def test_los_probability_in_unit_interval(d: float, h_ut: float) -> None:
    for p in (
        pl.los_probability_uma(d, h_ut),
        pl.los_probability_umi(d),
        pl.los_probability_rma(d),
    ):
        assert 0.0 <= float(p) <= 1.0


@settings(max_examples=50, deadline=None)
@given(d=st.floats(min_value=10.0, max_value=4999.0), f=freq_rma_st)
def test_expected_between_los_and_nlos(d: float, f: float) -> None:
    for sc, los, nlos in (
        ("uma", pl.uma_los_db, pl.uma_nlos_db),
        ("umi", pl.umi_los_db, pl.umi_nlos_db),
        ("rma", pl.rma_los_db, pl.rma_nlos_db),
    ):
        e = float(pl.expected_pathloss_db(sc, d, f))  # type: ignore[arg-type]
        assert float(los(d, None, f)) - 1e-9 <= e <= float(nlos(d, None, f)) + 1e-9


def test_expected_pathloss_linear_combination() -> None:
    p = float(pl.los_probability_uma(300.0))
    a = float(pl.uma_los_db(300.0, None, 3.5))
    b = float(pl.uma_nlos_db(300.0, None, 3.5))
    want = -10 * np.log10(p * 10 ** (-a / 10) + (1 - p) * 10 ** (-b / 10))
    assert float(pl.expected_pathloss_db("uma", 300.0, 3.5)) == pytest.approx(want, abs=1e-9)


def test_o2i_mean_and_random() -> None:
    # 28 GHz, 10 m indoors: L_glass 7.6, L_concrete 117 dB → PL_tw = 5 − 10log10(0.3·10^-0.76 +
    # 0.7·10^-11.7) = 5 + 7.6 + 5.229 = 17.829 dB; PL_in = 5 dB.
    mean = float(pl.o2i_low_loss_db(28.0, 10.0))
    want = 5.0 - 10 * np.log10(0.3 * 10**-0.76 + 0.7 * 10**-11.7) + 5.0
    assert mean == pytest.approx(want, abs=1e-9)
    draws = pl.o2i_low_loss_db(28.0, np.full(20_000, 10.0), rng=np.random.default_rng(1))
    # Standard error of the mean 4.4/sqrt(20000) = 0.031 dB; allow 4 σ.
    assert abs(draws.mean() - mean) < 0.125
    assert np.std(draws) == pytest.approx(pl.O2I_LOW_LOSS_STD_DB, rel=0.03)
    assert float(pl.o2i_high_loss_db(28.0, 10.0)) > mean


def test_shadow_fading_constants() -> None:
    assert (pl.SF_STD_UMA_LOS_DB, pl.SF_STD_UMA_NLOS_DB) == (4.0, 6.0)
    assert (pl.SF_STD_UMI_LOS_DB, pl.SF_STD_UMI_NLOS_DB) == (4.0, 7.82)
    assert pl.SF_STD_RMA_NLOS_DB == 8.0


def test_pathloss_dispatch_matches_formulas() -> None:
    d = np.array([30.0, 300.0, 3000.0])
    for sc, los, nlos in (
        ("uma", pl.uma_los_db, pl.uma_nlos_db),
        ("umi", pl.umi_los_db, pl.umi_nlos_db),
        ("rma", pl.rma_los_db, pl.rma_nlos_db),
    ):
        h_bs = {"uma": 25.0, "umi": 10.0, "rma": 35.0}[sc]
        np.testing.assert_allclose(
            pl.pathloss_db(sc, d, None, 3.5, True, h_bs, 1.5),
            los(d, None, 3.5),  # type: ignore[arg-type]
        )
        np.testing.assert_allclose(
            pl.pathloss_db(sc, d, None, 3.5, False, h_bs, 1.5),
            nlos(d, None, 3.5),  # type: ignore[arg-type]
        )
    got = pl.pathloss_db("inh", np.array([5.0]), None, 28.0, [False], 3.0, 1.0)
    np.testing.assert_allclose(got, pl.inh_nlos_db(np.sqrt(25.0 + 4.0), 28.0))


def test_shadow_fading_std_table() -> None:
    los = np.array([True, False])
    np.testing.assert_array_equal(pl.shadow_fading_std_db("uma", los), [4.0, 6.0])
    np.testing.assert_array_equal(pl.shadow_fading_std_db("umi", los), [4.0, 7.82])
    np.testing.assert_array_equal(pl.shadow_fading_std_db("inh", los), [3.0, 8.03])
    np.testing.assert_array_equal(
        pl.shadow_fading_std_db("rma", [True, True, False], [False, True, True]), [4.0, 6.0, 8.0]
    )


def test_uma_effective_environment_height_draws() -> None:
    rng = np.random.default_rng(2)
    low = pl.uma_effective_env_height_m(np.full(1000, 100.0), 1.5, rng)
    assert np.all(low == 1.0)  # C = 0 below 13 m
    high = pl.uma_effective_env_height_m(np.full(20_000, 100.0), 22.5, rng)
    # C = ((22.5-13)/10)^1.5 · 1.25 · 1 · e^(-2/3) = 0.9259 · 1.25 · 0.5134 = 0.5942;
    # P(h_E = 1) = 1/(1 + C) = 0.6273; otherwise uniform on {12, 15, 18, 21}.
    assert np.mean(high == 1.0) == pytest.approx(1 / (1 + 0.5942), abs=0.015)
    assert set(np.unique(high)) == {1.0, 12.0, 15.0, 18.0, 21.0}


def test_inh_range_and_ue_at_access_point() -> None:
    assert np.isfinite(float(pl.inh_los_db(0.0, 3.5)))
    with pytest.raises(ModelRangeError, match=r"InH LOS.*150"):
        pl.inh_los_db(151.0, 3.5)
    with pytest.raises(ModelRangeError, match="layout"):
        pl.los_probability_inh(10.0, "closed")  # type: ignore[arg-type]
    with pytest.raises(ModelRangeError, match=r"P\.676"):
        pl.gas_specific_attenuation_db_per_km(0.5)
