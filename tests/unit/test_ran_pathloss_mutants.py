"""Edges of tsunagu.ran.pathloss that the mutation run (``make mutate``) showed untested.

Range limits at their exact bounds (TR 38.901 Table 7.4.1-1 applicability), the messages that
teach the fix (model, argument and unit named), an explicit ``d3d_m`` and ``h_e_m`` reaching
every formula, the short-distance rule, the LOS-probability corners of Table 7.4.2-1 and the
h_E law of Note 1. Expected values are written out by hand from the TR formulas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

from tsunagu.errors import ModelRangeError
from tsunagu.ran import pathloss as pl

TOL_DB = 1e-9

# (call that must pass at the bound, call just beyond it, words the message must contain)
BOUNDS: list[tuple[Callable[[], object], Callable[[], object], tuple[str, ...]]] = [
    (
        lambda: pl.uma_los_db(100.0, None, 3.5, 25.0, 22.5),
        lambda: pl.uma_los_db(100.0, None, 3.5, 25.0, 22.51),
        ("TR 38.901 UMa LOS", "h_ut_m", "22.5", "] m"),
    ),
    (
        lambda: pl.uma_nlos_db(100.0, None, 3.5, 150.0, 1.5),
        lambda: pl.uma_nlos_db(100.0, None, 3.5, 150.01, 1.5),
        ("TR 38.901 UMa NLOS", "h_bs_m", "150", "] m"),
    ),
    (
        lambda: pl.umi_los_db(100.0, None, 3.5, 1.0 + 2e-9, 1.5),
        lambda: pl.umi_los_db(100.0, None, 3.5, 1.0, 1.5),
        ("TR 38.901 UMi LOS", "h_bs_m", "] m"),
    ),
    (
        lambda: pl.umi_nlos_db(5000.0, None, 100.0),
        lambda: pl.umi_nlos_db(5000.01, None, 3.5),
        ("TR 38.901 UMi NLOS", "d2d_m", "5000", "] m", "clipped to 10 m"),
    ),
    (
        lambda: pl.uma_nlos_db(5000.0, None, 0.5),
        lambda: pl.uma_nlos_db(100.0, None, 0.49),
        ("TR 38.901 UMa NLOS", "freq_ghz", "0.5", "] GHz"),
    ),
    (
        lambda: pl.rma_los_db(100.0, None, 30.0),
        lambda: pl.rma_los_db(100.0, None, 30.01),
        ("TR 38.901 RMa LOS", "freq_ghz", "30", "] GHz"),
    ),
    (
        lambda: pl.rma_nlos_db(100.0, None, 30.0),
        lambda: pl.rma_nlos_db(100.0, None, 30.01),
        ("TR 38.901 RMa NLOS", "freq_ghz", "30", "] GHz"),
    ),
    (
        lambda: pl.rma_los_db(100.0, None, 3.5, 150.0, 10.0),
        lambda: pl.rma_los_db(100.0, None, 3.5, 150.01, 1.5),
        ("TR 38.901 RMa LOS", "h_bs_m", "150", "] m"),
    ),
    (
        lambda: pl.rma_los_db(100.0, None, 3.5, 10.0, 1.5),
        lambda: pl.rma_los_db(100.0, None, 3.5, 9.99, 1.5),
        ("TR 38.901 RMa LOS", "h_bs_m", "10", "] m"),
    ),
    (
        lambda: pl.rma_nlos_db(100.0, None, 3.5, 35.0, 10.0),
        lambda: pl.rma_nlos_db(100.0, None, 3.5, 35.0, 10.01),
        ("TR 38.901 RMa NLOS", "h_ut_m", "10", "] m"),
    ),
    (
        lambda: pl.rma_nlos_db(100.0, None, 3.5, 35.0, 1.0),
        lambda: pl.rma_nlos_db(100.0, None, 3.5, 35.0, 0.99),
        ("TR 38.901 RMa NLOS", "h_ut_m", "] m"),
    ),
    (
        lambda: pl.rma_los_db(100.0, None, 3.5, 35.0, 1.5, 50.0, 50.0),
        lambda: pl.rma_los_db(100.0, None, 3.5, 35.0, 1.5, 50.01, 5.0),
        ("TR 38.901 RMa LOS", "street_width_m", "50", "] m"),
    ),
    (
        lambda: pl.rma_los_db(100.0, None, 3.5, 35.0, 1.5, 5.0, 5.0),
        lambda: pl.rma_los_db(100.0, None, 3.5, 35.0, 1.5, 4.99, 5.0),
        ("TR 38.901 RMa LOS", "street_width_m", "] m"),
    ),
    (
        lambda: pl.rma_nlos_db(100.0, None, 3.5, 35.0, 1.5, 20.0, 50.0),
        lambda: pl.rma_nlos_db(100.0, None, 3.5, 35.0, 1.5, 20.0, 50.01),
        ("TR 38.901 RMa NLOS", "building_height_m", "50", "] m"),
    ),
    (
        lambda: pl.rma_nlos_db(5000.0, None, 3.5),
        lambda: pl.rma_nlos_db(5000.01, None, 3.5),
        ("TR 38.901 RMa NLOS", "d2d_m", "5000"),
    ),
    (
        lambda: pl.rma_los_db(10_000.0, None, 3.5),
        lambda: pl.rma_los_db(10_000.01, None, 3.5),
        ("TR 38.901 RMa LOS", "d2d_m", "10000"),
    ),
    (
        lambda: pl.inh_los_db(150.0, 3.5),
        lambda: pl.inh_los_db(150.01, 3.5),
        ("TR 38.901 InH LOS", "d3d_m", "150", "] m", "clipped to 1 m"),
    ),
    (
        lambda: pl.los_probability_uma(100.0, 23.0),
        lambda: pl.los_probability_uma(100.0, 23.01),
        ("TR 38.901 UMa LOS probability", "h_ut_m", "23", "] m"),
    ),
    (
        lambda: pl.los_probability_uma(0.0, 0.0),
        lambda: pl.los_probability_uma(100.0, -0.01),
        ("TR 38.901 UMa LOS probability", "h_ut_m", "] m"),
    ),
    (
        lambda: pl.los_probability_umi(0.0),
        lambda: pl.los_probability_umi(-0.01),
        ("TR 38.901 UMi LOS probability", "d2d_m", "] m"),
    ),
    (
        lambda: pl.los_probability_rma(0.0),
        lambda: pl.los_probability_rma(-0.01),
        ("TR 38.901 RMa LOS probability", "d2d_m"),
    ),
    (
        lambda: pl.los_probability_inh(0.0),
        lambda: pl.los_probability_inh(-0.01),
        ("TR 38.901 InH LOS probability", "d2d_m"),
    ),
    (
        lambda: pl.o2i_low_loss_db(3.5, 0.0),
        lambda: pl.o2i_low_loss_db(3.5, -0.01),
        ("TR 38.901 O2I low-loss", "d2d_in_m", "] m"),
    ),
    (
        lambda: pl.o2i_high_loss_db(100.0, 0.0),
        lambda: pl.o2i_high_loss_db(100.01, 0.0),
        ("TR 38.901 O2I high-loss", "freq_ghz", "] GHz"),
    ),
    (
        lambda: pl.pathloss_db("umi", 100.0, None, 3.5, False, 10.0, 22.51),
        lambda: pl.pathloss_db("umi", 100.0, None, 3.5, False, 10.0, 22.51),
        ("TR 38.901 UMi NLOS", "h_ut_m"),
    ),
    (
        lambda: pl.pathloss_db("uma", 5000.0, None, 3.5, False, 25.0, 1.5),
        lambda: pl.pathloss_db("uma", 5000.01, None, 3.5, False, 25.0, 1.5),
        ("TR 38.901 UMa NLOS", "d2d_m", "5000"),
    ),
]


@pytest.mark.parametrize("case", range(len(BOUNDS)))
def test_bounds_and_messages(case: int) -> None:
    ok, bad, words = BOUNDS[case]
    if ok is not bad and words != ("TR 38.901 UMi NLOS", "h_ut_m"):
        assert np.all(np.isfinite(np.asarray(ok())))
    with pytest.raises(ModelRangeError) as info:
        bad()
    msg = str(info.value)
    for w in words:
        assert w in msg, (w, msg)
    assert "Pass values inside the validity range" in msg


def test_unknown_names_are_refused_with_the_choices() -> None:
    for call in (
        lambda: pl.los_probability("suburb", 10.0),  # type: ignore[arg-type]
        lambda: pl.pathloss_db("suburb", 10.0, None, 3.5, True, 25.0, 1.5),  # type: ignore[arg-type]
        lambda: pl.shadow_fading_std_db("suburb", True),  # type: ignore[arg-type]
        lambda: pl.expected_pathloss_db("suburb", 10.0, 3.5),  # type: ignore[arg-type]
        lambda: pl.los_probability_inh(10.0, "cubicle"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ModelRangeError, match=r"unknown (scenario|layout) 'suburb'|'cubicle'"):
            call()


def test_breakpoint_exact_and_its_errors() -> None:
    # 4 · 24 · 0.5 · 3.5e9 / 3e8 = 560 m exactly; RMa 2π · 35 · 1.5 · 3.5e9 / 3e8.
    assert float(pl.breakpoint_distance_m(25.0, 1.5, 3.5)) == pytest.approx(560.0, rel=1e-14)
    want_rma = 2.0 * math.pi * 35.0 * 1.5 * 3.5e9 / 3e8
    assert float(pl.rma_breakpoint_distance_m(35.0, 1.5, 3.5)) == pytest.approx(want_rma, rel=1e-14)
    for args in ((1.0, 1.5, 3.5), (25.0, 1.0, 3.5), (25.0, 1.5, 0.0)):
        with pytest.raises(ModelRangeError, match=re.escape("TR 38.901 breakpoint d'BP")):
            pl.breakpoint_distance_m(*args)


def _uma_los_hand(d3d: float, d2d: float, fc: float, h_ut: float, h_e: float) -> float:
    d_bp = 4.0 * (25.0 - h_e) * (h_ut - h_e) * fc * 1e9 / 3e8
    if d2d <= d_bp:
        return 28.0 + 22.0 * math.log10(d3d) + 20.0 * math.log10(fc)
    return (
        28.0
        + 40.0 * math.log10(d3d)
        + 20.0 * math.log10(fc)
        - 9.0 * math.log10(d_bp**2 + (25.0 - h_ut) ** 2)
    )


def test_explicit_d3d_and_environment_height_reach_every_formula() -> None:
    # A d3D that differs from the one the heights imply (e.g. terrain) must be used as given.
    d2d, d3d, fc, h_ut = 800.0, 900.0, 3.5, 7.5
    los = _uma_los_hand(d3d, d2d, fc, h_ut, 1.0)
    nlos = max(los, 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(fc) - 0.6 * 6.0)
    assert float(pl.uma_los_db(d2d, d3d, fc, 25.0, h_ut)) == pytest.approx(los, abs=TOL_DB)
    assert float(pl.uma_nlos_db(d2d, d3d, fc, 25.0, h_ut)) == pytest.approx(nlos, abs=TOL_DB)
    got = pl.pathloss_db("uma", d2d, d3d, fc, np.array([True, False]), 25.0, h_ut)
    np.testing.assert_allclose(got, [los, nlos], atol=TOL_DB)
    # At 0.9 GHz h_E = 4 m moves d'BP from 1872 m to 882 m: 1300 m is beyond it only then.
    d2d, d3d, fc = 1300.0, 1300.5, 0.9
    los_he = _uma_los_hand(d3d, d2d, fc, h_ut, 4.0)
    assert abs(los_he - _uma_los_hand(d3d, d2d, fc, h_ut, 1.0)) > 0.1
    assert float(pl.uma_los_db(d2d, d3d, fc, 25.0, h_ut, 4.0)) == pytest.approx(los_he, abs=TOL_DB)
    # The NLOS max() compares with the LOS value for the same h_E: near the BS at high fc
    # PL_LOS(h_E) can exceed PL' only via h_E, so compare with the hand value directly.
    nlos_he = max(los_he, 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(fc) - 3.6)
    assert float(pl.uma_nlos_db(d2d, d3d, fc, 25.0, h_ut, 4.0)) == pytest.approx(
        nlos_he, abs=TOL_DB
    )
    assert float(pl.pathloss_db("uma", d2d, d3d, fc, True, 25.0, h_ut, 4.0)) == pytest.approx(
        los_he, abs=TOL_DB
    )
    # UMi with an explicit d3D.
    d2d, d3d = 300.0, 330.0
    d_bp = 4.0 * 9.0 * 0.5 * 3.5e9 / 3e8
    umi_los = (
        32.4 + 40 * math.log10(d3d) + 20 * math.log10(3.5) - 9.5 * math.log10(d_bp**2 + 8.5**2)
    )
    umi_nlos = max(umi_los, 35.3 * math.log10(d3d) + 22.4 + 21.3 * math.log10(3.5))
    assert float(pl.umi_los_db(d2d, d3d, 3.5)) == pytest.approx(umi_los, abs=TOL_DB)
    assert float(pl.umi_nlos_db(d2d, d3d, 3.5)) == pytest.approx(umi_nlos, abs=TOL_DB)
    got = pl.pathloss_db("umi", d2d, d3d, 3.5, np.array([True, False]), 10.0, 1.5)
    np.testing.assert_allclose(got, [umi_los, umi_nlos], atol=TOL_DB)


def test_rma_explicit_d3d_and_geometry_reach_nlos() -> None:
    d2d, d3d, fc, w, h = 1000.0, 1100.0, 3.5, 10.0, 20.0

    def pl1(d: float) -> float:
        return (
            20 * math.log10(40 * math.pi * d * fc / 3)
            + min(0.03 * h**1.72, 10) * math.log10(d)
            - min(0.044 * h**1.72, 14.77)
            + 0.002 * math.log10(h) * d
        )

    los = pl1(d3d)  # dBP 3848 m > d2D
    nlos_p = (
        161.04
        - 7.1 * math.log10(w)
        + 7.5 * math.log10(h)
        - (24.37 - 3.7 * (h / 35.0) ** 2) * math.log10(35.0)
        + (43.42 - 3.1 * math.log10(35.0)) * (math.log10(d3d) - 3)
        + 20 * math.log10(fc)
        - (3.2 * math.log10(11.75 * 1.5) ** 2 - 4.97)
    )
    assert float(pl.rma_los_db(d2d, d3d, fc, 35.0, 1.5, w, h)) == pytest.approx(los, abs=TOL_DB)
    got = float(pl.rma_nlos_db(d2d, d3d, fc, 35.0, 1.5, w, h))
    assert got == pytest.approx(max(los, nlos_p), abs=TOL_DB)
    both = pl.pathloss_db("rma", d2d, d3d, fc, np.array([True, False]), 35.0, 1.5)
    np.testing.assert_allclose(
        both, [pl.rma_los_db(d2d, d3d, fc), pl.rma_nlos_db(d2d, d3d, fc)], atol=TOL_DB
    )
    # Defaults of the dispatcher: W 20 m, h 5 m, hBS as passed, hUT as passed.
    d2d = 2000.0
    np.testing.assert_allclose(
        pl.pathloss_db("rma", d2d, None, fc, np.array([True, False]), 35.0, 8.0),
        [pl.rma_los_db(d2d, None, fc, 35.0, 8.0), pl.rma_nlos_db(d2d, None, fc, 35.0, 8.0)],
        atol=TOL_DB,
    )


def test_short_distance_rule_with_explicit_d3d() -> None:
    # d2D < 10 m is evaluated at 10 m: d3D = sqrt(10² + Δh²) whatever d3D was passed.
    at_10 = math.sqrt(100.0 + 23.5**2)
    want = 28.0 + 22.0 * math.log10(at_10) + 20.0 * math.log10(3.5)
    assert float(pl.uma_los_db(4.0, 24.0, 3.5)) == pytest.approx(want, abs=TOL_DB)
    # Exactly 10 m keeps the d3D passed (here larger than the heights imply).
    want = 28.0 + 22.0 * math.log10(40.0) + 20.0 * math.log10(3.5)
    assert float(pl.uma_los_db(10.0, 40.0, 3.5)) == pytest.approx(want, abs=TOL_DB)
    # A d3D shorter than d2D is raised to d2D.
    want = 28.0 + 22.0 * math.log10(50.0) + 20.0 * math.log10(3.5)
    assert float(pl.uma_los_db(50.0, 20.0, 3.5)) == pytest.approx(want, abs=TOL_DB)
    for bad in (-1.0, float("nan")):
        with pytest.raises(ModelRangeError, match="d3d_m must be >= 0 m"):
            pl.uma_los_db(50.0, bad, 3.5)
    assert float(pl.uma_los_db(50.0, 0.0, 3.5)) == pytest.approx(want, abs=TOL_DB)
    # InH below 1 m is evaluated at 1 m.
    assert float(pl.inh_los_db(0.5, 3.5)) == pytest.approx(
        32.4 + 20.0 * math.log10(3.5), abs=TOL_DB
    )
    assert float(pl.inh_los_db(1.5, 3.5)) == pytest.approx(
        32.4 + 17.3 * math.log10(1.5) + 20.0 * math.log10(3.5), abs=TOL_DB
    )
    # The InH dispatcher computes d3D from d2D and the heights, or takes it as given.
    d3d = math.hypot(20.0, 1.5)
    assert float(pl.pathloss_db("inh", 20.0, None, 3.5, True, 3.0, 1.5)) == pytest.approx(
        32.4 + 17.3 * math.log10(d3d) + 20.0 * math.log10(3.5), abs=TOL_DB
    )
    assert float(pl.pathloss_db("inh", 20.0, 30.0, 3.5, False, 3.0, 1.5)) == pytest.approx(
        float(pl.inh_nlos_db(30.0, 3.5)), abs=TOL_DB
    )


def test_los_probability_corners() -> None:
    # Between 18 and 19 m the curve is already below 1 (UMa, UMi); at 18 m exactly it is 1.
    d = 18.5
    uma = 18 / d + math.exp(-d / 63) * (1 - 18 / d)
    umi = 18 / d + math.exp(-d / 36) * (1 - 18 / d)
    assert float(pl.los_probability_uma(d)) == pytest.approx(uma, abs=1e-15)
    assert float(pl.los_probability_umi(d)) == pytest.approx(umi, abs=1e-15)
    assert float(pl.los_probability_uma(18.0)) == 1.0
    assert float(pl.los_probability_umi(18.0)) == 1.0
    assert float(pl.los_probability_rma(10.5)) == pytest.approx(math.exp(-0.5 / 1000), abs=1e-15)
    assert float(pl.los_probability_rma(10.0)) == 1.0
    # C'(hUT) for a mixed array: 0 at hUT <= 13 m, ((hUT − 13)/10)^1.5 above.
    d = 60.0
    base = 18 / d + math.exp(-d / 63) * (1 - 18 / d)
    g = 1.25 * (d / 100) ** 3 * math.exp(-d / 150)
    want = [base, base, base * (1 + 0.05**1.5 * g), base * (1 + 0.7**1.5 * g)]
    got = pl.los_probability_uma(d, np.array([1.5, 13.0, 13.5, 20.0]))
    np.testing.assert_allclose(got, want, rtol=1e-14)
    # The product exceeds 1 just past 18 m for high users; it is capped at 1.
    assert float(pl.los_probability_uma(18.2, 23.0)) <= 1.0
    raw = (18 / 18.2 + math.exp(-18.2 / 63) * (1 - 18 / 18.2)) * (
        1 + 1.0 * 1.25 * 0.182**3 * math.exp(-18.2 / 150)
    )
    assert raw > 1.0
    assert float(pl.los_probability_uma(18.2, 23.0)) == 1.0
    # Dispatcher: each scenario's own curve, default hUT 1.5 m.
    assert float(pl.los_probability("uma", 60.0)) == pytest.approx(base, abs=1e-15)
    assert float(pl.los_probability("umi", 60.0)) == pytest.approx(
        0.3 + math.exp(-60 / 36) * 0.7, abs=1e-15
    )
    assert float(pl.los_probability("rma", 60.0)) == pytest.approx(math.exp(-0.05), abs=1e-15)
    assert float(pl.los_probability("inh", 3.0)) == pytest.approx(math.exp(-1.8 / 4.7), abs=1e-15)


def test_inh_los_probability_every_branch() -> None:
    # Mixed office: 1 up to 1.2 m, exp(−(d − 1.2)/4.7) below 6.5 m, 0.32 exp(−(d − 6.5)/32.6).
    d = np.array([1.2, 1.5, 2.0, 6.4, 6.5, 7.0, 40.0])
    mixed = np.where(
        d <= 1.2,
        1.0,
        np.where(d < 6.5, np.exp(-(d - 1.2) / 4.7), 0.32 * np.exp(-(d - 6.5) / 32.6)),
    )
    np.testing.assert_allclose(pl.los_probability_inh(d, "mixed"), mixed, rtol=1e-14)
    assert mixed[4] == pytest.approx(0.32)  # the published curve jumps at 6.5 m
    # Open office: 1 up to 5 m, exp(−(d − 5)/70.8) to 49 m, 0.54 exp(−(d − 49)/211.7).
    d = np.array([5.0, 5.5, 6.0, 30.0, 49.0, 49.5, 50.0, 120.0])
    hand = [
        1.0,
        math.exp(-0.5 / 70.8),
        math.exp(-1.0 / 70.8),
        math.exp(-25.0 / 70.8),
        math.exp(-44.0 / 70.8),
        0.54 * math.exp(-0.5 / 211.7),
        0.54 * math.exp(-1.0 / 211.7),
        0.54 * math.exp(-71.0 / 211.7),
    ]
    np.testing.assert_allclose(pl.los_probability_inh(d, "open"), hand, rtol=1e-14)


def test_o2i_random_term_is_added_with_its_sigma() -> None:
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    mean = float(pl.o2i_high_loss_db(28.0, 10.0))
    got = pl.o2i_high_loss_db(28.0, np.full(20_000, 10.0), rng=rng_a)
    draws = rng_b.normal(0.0, 6.5, size=20_000)
    np.testing.assert_allclose(got, mean + draws, atol=1e-9)
    low = pl.o2i_low_loss_db(28.0, np.full(20_000, 10.0), rng=np.random.default_rng(7))
    np.testing.assert_allclose(
        low, float(pl.o2i_low_loss_db(28.0, 10.0)) + 4.4 / 6.5 * draws, atol=1e-9
    )


def test_expected_pathloss_uses_height_and_bs_height() -> None:
    def mix(p: float, a: float, b: float) -> float:
        return -10 * math.log10(p * 10 ** (-a / 10) + (1 - p) * 10 ** (-b / 10))

    for scen, los_f, nlos_f, h_bs, h_ut in (
        ("uma", pl.uma_los_db, pl.uma_nlos_db, 30.0, 19.5),
        ("umi", pl.umi_los_db, pl.umi_nlos_db, 12.0, 16.5),
        ("rma", pl.rma_los_db, pl.rma_nlos_db, 40.0, 7.0),
    ):
        d = 300.0
        p = float(pl.los_probability(scen, d, h_ut))  # type: ignore[arg-type]
        want = mix(
            p, float(los_f(d, None, 3.5, h_bs, h_ut)), float(nlos_f(d, None, 3.5, h_bs, h_ut))
        )
        got = float(pl.expected_pathloss_db(scen, d, 3.5, h_bs, h_ut))  # type: ignore[arg-type]
        assert got == pytest.approx(want, abs=TOL_DB)
        # Default BS height of Table 7.2-1 when none is given.
        default = {"uma": 25.0, "umi": 10.0, "rma": 35.0}[scen]
        want = mix(
            p,
            float(los_f(d, None, 3.5, default, h_ut)),
            float(nlos_f(d, None, 3.5, default, h_ut)),
        )
        got = float(pl.expected_pathloss_db(scen, d, 3.5, None, h_ut))  # type: ignore[arg-type]
        assert got == pytest.approx(want, abs=TOL_DB)


def test_shadow_fading_defaults_and_rma_breakpoint_flag() -> None:
    np.testing.assert_array_equal(pl.shadow_fading_std_db("rma", [True, False]), [4.0, 8.0])
    np.testing.assert_array_equal(
        pl.shadow_fading_std_db("rma", [True, True], np.array([0, 1])), [4.0, 6.0]
    )
    np.testing.assert_array_equal(pl.shadow_fading_std_db("inh", np.array([1, 0])), [3.0, 8.03])


def test_environment_height_law_from_given_uniforms() -> None:
    # Note 1: C = ((hUT − 13)/10)^1.5 g(d2D), g = (5/4)(d2D/100)³ exp(−d2D/150) beyond 18 m.
    d, h = 120.0, 22.5
    g = 1.25 * (d / 100) ** 3 * math.exp(-d / 150)
    c = ((h - 13) / 10) ** 1.5 * g
    p1 = 1 / (1 + c)
    n = math.floor((h - 1.5 - 12) / 3) + 1  # {12, 15, 18, 21}
    u_state = np.array([p1 - 1e-9, p1 + 1e-9, p1 + 1e-9, p1 + 1e-9, p1 + 1e-9])
    u_height = np.array([0.9, 0.0, 1.01 / n, 2.01 / n, 0.999])
    got = pl.uma_env_height_from_uniforms_m(d, h, u_state, u_height)
    np.testing.assert_array_equal(got, [1.0, 12.0, 15.0, 18.0, 21.0])
    # Exactly at the threshold the draw is not below it: h_E ≠ 1 m.
    assert float(pl.uma_env_height_from_uniforms_m(d, h, p1, 0.0)) == 12.0
    # At 18 m and below, and for hUT < 13 m, h_E is 1 m whatever the draw.
    assert float(pl.uma_env_height_from_uniforms_m(18.0, h, 0.999, 0.5)) == 1.0
    assert float(pl.uma_env_height_from_uniforms_m(d, 12.9, 0.999, 0.5)) == 1.0
    # hUT = 13.5 m: C > 0 but only h_E = 12 m is allowed (12 <= hUT − 1.5).
    c = 0.05**1.5 * g
    assert float(pl.uma_env_height_from_uniforms_m(d, 13.5, 1 / (1 + c) + 1e-9, 0.99)) == 12.0
    assert float(pl.uma_env_height_from_uniforms_m(d, 13.5, 1 / (1 + c) - 1e-9, 0.99)) == 1.0
    # hUT = 13 m exactly: C = 0 → always 1 m.
    assert float(pl.uma_env_height_from_uniforms_m(d, 13.0, 0.999999, 0.99)) == 1.0
    # The generator form draws the same law: share of h_E = 1 m ≈ 1/(1 + C) at 22.5 m.
    rng = np.random.default_rng(3)
    draws = pl.uma_effective_env_height_m(np.full(40_000, d), np.full(40_000, h), rng)
    # SE sqrt(p(1−p)/n) ≈ 0.0025 → 0.01 is four SE.
    assert float(np.mean(draws == 1.0)) == pytest.approx(p1, abs=0.01)
    assert set(np.unique(draws)) <= {1.0, 12.0, 15.0, 18.0, 21.0}
    assert draws.shape == (40_000,)


def test_free_space_and_gas() -> None:
    assert float(pl.free_space_db(0.5, 2.0)) == pytest.approx(32.45 + 20 * math.log10(2.0))
    assert float(pl.free_space_db(1.5, 2.0)) == pytest.approx(
        32.45 + 20 * math.log10(2.0) + 20 * math.log10(1.5)
    )
    assert float(pl.free_space_db(0.0, 2.0)) == pytest.approx(32.45 + 20 * math.log10(2.0))
    for d, f in ((-1.0, 2.0), (float("nan"), 2.0)):
        with pytest.raises(ModelRangeError, match=re.escape("d3d_m must be >= 0 m")):
            pl.free_space_db(d, f)
    for f in (0.0, -1.0):
        with pytest.raises(ModelRangeError, match="freq_ghz must be > 0"):
            pl.free_space_db(10.0, f)
    assert float(pl.free_space_db(10.0, 0.5)) == pytest.approx(32.45 + 20 * math.log10(0.5) + 20)
    # P.676 is defined on 1–350 GHz; both ends are accepted.
    assert pl.gas_specific_attenuation_db_per_km(1.0) > 0.0
    assert pl.gas_specific_attenuation_db_per_km(350.0) > 0.0
    for f in (0.99, 350.01):
        with pytest.raises(ModelRangeError, match=re.escape("ITU-R P.676")):
            pl.gas_specific_attenuation_db_per_km(f)
    # Reference atmosphere: 7.5 g/m³ water vapour, 1013.25 hPa, 288.15 K. A drier, colder,
    # lower-pressure air has less attenuation at the 22 GHz water line.
    ref = pl.gas_specific_attenuation_db_per_km(22.0)
    assert ref == pytest.approx(
        pl.gas_specific_attenuation_db_per_km(22.0, 1013.25, 288.15, 7.5), rel=1e-12
    )
    assert pl.gas_specific_attenuation_db_per_km(22.0, 1013.25, 288.15, 8.5) > ref * 1.05
    assert pl.gas_specific_attenuation_db_per_km(60.0, 1014.25) != pytest.approx(
        pl.gas_specific_attenuation_db_per_km(60.0), rel=1e-6
    )
    assert pl.gas_specific_attenuation_db_per_km(60.0, 1013.25, 289.15) != pytest.approx(
        pl.gas_specific_attenuation_db_per_km(60.0), rel=1e-6
    )
    # Gas loss = α d3D / 1000 above 6 GHz, zero below.
    alpha = pl.gas_specific_attenuation_db_per_km(28.0)
    np.testing.assert_allclose(
        pl.gas_loss_db(np.array([500.0, 2000.0]), 28.0), [alpha / 2, 2 * alpha]
    )
    np.testing.assert_array_equal(pl.gas_loss_db(np.array([500.0, 2000.0]), 5.9), [0.0, 0.0])
    assert float(pl.gas_loss_db(1000.0, 6.0)) > 0.0


# --------------------------------------------------------------------------- second round


def _uma_prime(d3d: float, fc: float, h_ut: float) -> float:
    return 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(fc) - 0.6 * (h_ut - 1.5)


def _umi_los(d3d: float, d2d: float, fc: float, h_ut: float) -> float:
    d_bp = 4.0 * 9.0 * (h_ut - 1.0) * fc * 1e9 / 3e8
    if d2d <= d_bp:
        return 32.4 + 21.0 * math.log10(d3d) + 20.0 * math.log10(fc)
    return (
        32.4
        + 40.0 * math.log10(d3d)
        + 20.0 * math.log10(fc)
        - 9.5 * math.log10(d_bp**2 + (10.0 - h_ut) ** 2)
    )


def _umi_prime(d3d: float, fc: float, h_ut: float) -> float:
    return 35.3 * math.log10(d3d) + 22.4 + 21.3 * math.log10(fc) - 0.3 * (h_ut - 1.5)


def test_nlos_max_where_the_los_value_wins() -> None:
    # High users close to the BS: PL_LOS exceeds PL'_NLOS, so NLOS = PL_LOS of the same link
    # (same d3D, same hUT, same h_E).
    d2d, d3d, fc, h_ut = 20.0, 30.0, 3.5, 22.5
    los = _uma_los_hand(d3d, d2d, fc, h_ut, 1.0)
    assert los > _uma_prime(d3d, fc, h_ut)
    assert float(pl.uma_nlos_db(d2d, d3d, fc, 25.0, h_ut)) == pytest.approx(los, abs=TOL_DB)
    # Beyond d'BP with h_E = 21 m at 0.5 GHz (d'BP = 40 m) the LOS value still wins.
    d2d = 300.0
    d3d = math.hypot(d2d, 2.5)
    los = _uma_los_hand(d3d, d2d, 0.5, h_ut, 21.0)
    assert los > _uma_prime(d3d, 0.5, h_ut)
    assert float(pl.uma_nlos_db(d2d, None, 0.5, 25.0, h_ut, 21.0)) == pytest.approx(los, abs=TOL_DB)
    # UMi: a user at 10.5 m, 10 m from a 10 m BS.
    for d2d, d3d_in in ((10.0, None), (10.0, 10.5)):
        d3d = math.hypot(d2d, 0.5) if d3d_in is None else max(d3d_in, d2d)
        los = _umi_los(d3d, d2d, 3.5, 10.5)
        want = max(los, _umi_prime(d3d, 3.5, 10.5))
        got = float(pl.umi_nlos_db(d2d, d3d_in, 3.5, 10.0, 10.5))
        assert got == pytest.approx(want, abs=TOL_DB)
    # Same user through the per-link dispatcher.
    got = float(pl.pathloss_db("umi", 10.0, 10.5, 3.5, False, 10.0, 10.5))
    assert got == pytest.approx(max(_umi_los(10.5, 10.0, 3.5, 10.5), _umi_prime(10.5, 3.5, 10.5)))


def test_rma_nlos_takes_the_los_value_of_the_same_geometry() -> None:
    # At 30 GHz from a 150 m mast to a 10 m user the RMa LOS value exceeds PL'_NLOS.
    d2d, d3d, fc, h_bs, h_ut, w, h = 300.0, 330.0, 30.0, 150.0, 10.0, 20.0, 20.0

    def pl1(d: float) -> float:
        return (
            20 * math.log10(40 * math.pi * d * fc / 3)
            + min(0.03 * h**1.72, 10) * math.log10(d)
            - min(0.044 * h**1.72, 14.77)
            + 0.002 * math.log10(h) * d
        )

    los = pl1(d3d)  # dBP = 2π·150·10·30e9/3e8 ≫ 300 m
    prime = (
        161.04
        - 7.1 * math.log10(w)
        + 7.5 * math.log10(h)
        - (24.37 - 3.7 * (h / h_bs) ** 2) * math.log10(h_bs)
        + (43.42 - 3.1 * math.log10(h_bs)) * (math.log10(d3d) - 3)
        + 20 * math.log10(fc)
        - (3.2 * math.log10(11.75 * h_ut) ** 2 - 4.97)
    )
    assert los > prime
    got = float(pl.rma_nlos_db(d2d, d3d, fc, h_bs, h_ut, w, h))
    assert got == pytest.approx(los, abs=TOL_DB)


def test_rma_exactly_at_the_breakpoint_uses_pl1() -> None:
    # d2D = dBP exactly: PL1(d3D) (the "10 m <= d2D <= dBP" row), which differs from
    # PL2 = PL1(dBP) + 40 log10(d3D/dBP) by about 3e-4 dB here.
    d_bp = float(pl.rma_breakpoint_distance_m(35.0, 1.5, 3.5))
    d3d = math.hypot(d_bp, 33.5)
    h = 5.0
    want = (
        20 * math.log10(40 * math.pi * d3d * 3.5 / 3)
        + min(0.03 * h**1.72, 10) * math.log10(d3d)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * math.log10(h) * d3d
    )
    assert float(pl.rma_los_db(d_bp, None, 3.5)) == pytest.approx(want, abs=TOL_DB)


def test_messages_start_with_the_model_and_name_the_argument() -> None:
    cases = [
        (lambda: pl.uma_los_db(100.0, None, 0.4), "TR 38.901 UMa LOS", "freq_ghz", "GHz; got"),
        (lambda: pl.uma_nlos_db(5000.5, None, 3.5), "TR 38.901 UMa NLOS", "d2d_m", "m (below"),
        (lambda: pl.umi_los_db(5000.5, None, 3.5), "TR 38.901 UMi LOS", "d2d_m", "m (below"),
        (lambda: pl.umi_los_db(100.0, None, 0.4), "TR 38.901 UMi LOS", "freq_ghz", "GHz; got"),
        (lambda: pl.umi_nlos_db(100.0, None, 0.4), "TR 38.901 UMi NLOS", "freq_ghz", "GHz;"),
        (
            lambda: pl.umi_nlos_db(100.0, None, 3.5, 10.0, 23.0),
            "TR 38.901 UMi NLOS",
            "h_ut_m",
            "m; got",
        ),
        (lambda: pl.rma_los_db(100.0, None, 31.0), "TR 38.901 RMa LOS", "freq_ghz", "GHz;"),
        (lambda: pl.rma_nlos_db(100.0, None, 31.0), "TR 38.901 RMa NLOS", "freq_ghz", "GHz;"),
        (
            lambda: pl.rma_nlos_db(100.0, None, 3.5, 35.0, 1.5, 4.0),
            "TR 38.901 RMa NLOS",
            "street_width_m",
            "m; got",
        ),
        (
            lambda: pl.rma_nlos_db(100.0, None, 3.5, 35.0, 1.5, 20.0, 4.0),
            "TR 38.901 RMa NLOS",
            "building_height_m",
            "m; got",
        ),
        (lambda: pl.rma_los_db(100.0, None, 3.5, 9.0), "TR 38.901 RMa LOS", "h_bs_m", "m; got"),
        (
            lambda: pl.rma_los_db(100.0, None, 3.5, 35.0, 11.0),
            "TR 38.901 RMa LOS",
            "h_ut_m",
            "m; got",
        ),
        (lambda: pl.uma_los_db(100.0, None, 3.5, 200.0), "TR 38.901 UMa LOS", "h_bs_m", "m; got"),
        (lambda: pl.inh_los_db(10.0, 0.4), "TR 38.901 InH LOS", "freq_ghz", "GHz;"),
        (lambda: pl.inh_nlos_db(10.0, 0.4), "TR 38.901 InH NLOS", "freq_ghz", "GHz;"),
        (lambda: pl.inh_nlos_db(151.0, 3.5), "TR 38.901 InH NLOS", "d3d_m", "m (below 1 m is"),
        (
            lambda: pl.los_probability_uma(-1.0),
            "TR 38.901 UMa LOS probability",
            "d2d_m",
            "m; got",
        ),
        (
            lambda: pl.los_probability_uma(10.0, 24.0),
            "TR 38.901 UMa LOS probability",
            "h_ut_m",
            "m; got",
        ),
        (lambda: pl.los_probability_umi(-1.0), "TR 38.901 UMi LOS probability", "d2d_m", "m;"),
        (lambda: pl.los_probability_rma(-1.0), "TR 38.901 RMa LOS probability", "d2d_m", "m;"),
        (lambda: pl.los_probability_inh(-1.0), "TR 38.901 InH LOS probability", "d2d_m", "m;"),
        (lambda: pl.o2i_low_loss_db(3.5, -1.0), "TR 38.901 O2I low-loss", "d2d_in_m", "m;"),
        (lambda: pl.o2i_high_loss_db(3.5, -1.0), "TR 38.901 O2I high-loss", "d2d_in_m", "m;"),
        (
            lambda: pl.pathloss_db("uma", 100.0, None, 0.4, False, 25.0, 1.5),
            "TR 38.901 UMa NLOS",
            "freq_ghz",
            "GHz;",
        ),
        (
            lambda: pl.pathloss_db("umi", 100.0, None, 0.4, False, 10.0, 1.5),
            "TR 38.901 UMi NLOS",
            "freq_ghz",
            "GHz;",
        ),
    ]
    for call, model, name, tail in cases:
        with pytest.raises(ModelRangeError) as info:
            call()
        msg = str(info.value)
        assert msg.startswith(model + ": "), msg
        assert f": {name} must lie in [" in msg, msg
        assert tail in msg, msg


def test_message_names_the_offending_value() -> None:
    # Of [lower bound, offending value] the message reports the offending one, at both ends.
    with pytest.raises(ModelRangeError, match=r"got 6000\.0"):
        pl.uma_los_db(np.array([0.0, 6000.0]), None, 3.5)
    with pytest.raises(ModelRangeError, match=r"got -1\.0"):
        pl.uma_los_db(np.array([5000.0, -1.0]), None, 3.5)


def test_los_probability_below_the_first_breakpoints() -> None:
    # InH mixed office is 1 below 1.2 m; open office 1 below 5 m (the exponentials exceed 1
    # there, so the first branch matters).
    np.testing.assert_array_equal(pl.los_probability_inh(np.array([0.0, 0.5, 1.0])), 1.0)
    np.testing.assert_array_equal(pl.los_probability_inh(np.array([0.0, 2.0, 4.9]), "open"), 1.0)
    # UMa C'(hUT) for a single user at 13.5 m.
    d = 60.0
    base = 18 / d + math.exp(-d / 63) * (1 - 18 / d)
    g = 1.25 * (d / 100) ** 3 * math.exp(-d / 150)
    assert float(pl.los_probability_uma(d, 13.5)) == pytest.approx(
        base * (1 + 0.05**1.5 * g), rel=1e-14
    )


def test_environment_height_just_beyond_18_m_and_shapes() -> None:
    # g(d2D) > 0 from just beyond 18 m: with hUT 22.5 m and a draw above 1/(1 + C) the
    # user is given h_E = 12 m at 18.5 m.
    d, h = 18.5, 22.5
    c = ((h - 13) / 10) ** 1.5 * 1.25 * (d / 100) ** 3 * math.exp(-d / 150)
    u = 1 / (1 + c) + 1e-6
    assert float(pl.uma_env_height_from_uniforms_m(d, h, u, 0.0)) == 12.0
    # A scalar distance with an array of heights draws one state per user.
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    heights = np.array([22.5, 22.5, 22.5, 22.5, 22.5, 22.5])
    got = pl.uma_effective_env_height_m(120.0, heights, rng_a)
    want = pl.uma_env_height_from_uniforms_m(
        120.0, heights, rng_b.random(heights.shape), rng_b.random(heights.shape)
    )
    np.testing.assert_array_equal(got, want)
    assert got.shape == (6,)


def test_gas_loss_keeps_the_shape_below_6_ghz() -> None:
    out = pl.gas_loss_db(np.array([500.0, 2000.0]), 5.9)
    assert out.shape == (2,)
    assert out.dtype == np.float64


def test_umi_nlos_uses_the_given_d3d_for_its_los_value() -> None:
    # A 22.5 m user 10 m from a 10 m BS with a given d3D of 11 m: PL_LOS(11 m) wins the max().
    los = _umi_los(11.0, 10.0, 3.5, 22.5)
    assert los > _umi_prime(11.0, 3.5, 22.5)
    assert float(pl.umi_nlos_db(10.0, 11.0, 3.5, 10.0, 22.5)) == pytest.approx(los, abs=TOL_DB)


def test_gas_attenuation_is_the_p676_annex2_approximation() -> None:
    # Our wrapper returns itur's P.676 terrestrial value at the reference atmosphere (a check of
    # the call, not of P.676; itur 0.4 gives the same number whatever the mode or elevation).
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from itur.models import itu676

        for f in (28.0, 60.0, 120.0):
            want = itu676.gaseous_attenuation_terrestrial_path(
                1.0, f, 0.0, 7.5, 1013.25, 288.15, "approx"
            )
            got = pl.gas_specific_attenuation_db_per_km(f)
            assert got == pytest.approx(float(want.value), rel=1e-12)
