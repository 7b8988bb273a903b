"""TR 38.901 path loss and LOS probability against hand values over heights, frequencies, distances.

Reference: 3GPP TR 38.901 v17.0.0 Table 7.4.1-1 (path loss), Table 7.4.2-1 (LOS probability)
and Table 7.4.3-1/-2 (O2I penetration). The expected values below are **computed in this file**
from the formulas as printed in those tables, written out again with :mod:`math` only (no NumPy,
nothing imported from tsunagu), so that a slip in tsunagu's transcription — a sign, a
coefficient, a height term, a breakpoint — makes the two disagree. The geometries cover user
heights 1.5–22.5 m (the ``hUT`` terms vanish at 1.5 m, where most hand-worked examples sit),
carriers 0.9–70 GHz and distances on both sides of the breakpoints.

Tolerance 1e-6 dB: both sides evaluate the same closed forms in double precision; the
tolerance covers floating-point rounding only (no model uncertainty is involved).
"""

from __future__ import annotations

import math

import pytest

from tsunagu.ran import pathloss as pl

TOL_DB = 1e-6  # floating-point rounding of the same closed form, nothing else
C_M_PER_S = 3.0e8  # TR 38.901 Table 7.4.1-1 Note 1


# --------------------------------------------------------------------------- the TR, by hand


def _d3d(d2d: float, h_bs: float, h_ut: float) -> float:
    return math.hypot(d2d, h_bs - h_ut)


def _d_bp_prime(h_bs: float, h_ut: float, fc_ghz: float, h_e: float = 1.0) -> float:
    # Note 1: d'BP = 4 h'BS h'UT fc / c, h' = h - hE, fc in Hz.
    return 4.0 * (h_bs - h_e) * (h_ut - h_e) * fc_ghz * 1e9 / C_M_PER_S


def tr_uma_los(d2d: float, fc: float, h_ut: float, h_bs: float = 25.0) -> float:
    d3d = _d3d(d2d, h_bs, h_ut)
    d_bp = _d_bp_prime(h_bs, h_ut, fc)
    if d2d <= d_bp:
        return 28.0 + 22.0 * math.log10(d3d) + 20.0 * math.log10(fc)
    return (
        28.0
        + 40.0 * math.log10(d3d)
        + 20.0 * math.log10(fc)
        - 9.0 * math.log10(d_bp**2 + (h_bs - h_ut) ** 2)
    )


def tr_uma_nlos(d2d: float, fc: float, h_ut: float, h_bs: float = 25.0) -> float:
    d3d = _d3d(d2d, h_bs, h_ut)
    prime = 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(fc) - 0.6 * (h_ut - 1.5)
    return max(tr_uma_los(d2d, fc, h_ut, h_bs), prime)


def tr_umi_los(d2d: float, fc: float, h_ut: float, h_bs: float = 10.0) -> float:
    d3d = _d3d(d2d, h_bs, h_ut)
    d_bp = _d_bp_prime(h_bs, h_ut, fc)
    if d2d <= d_bp:
        return 32.4 + 21.0 * math.log10(d3d) + 20.0 * math.log10(fc)
    return (
        32.4
        + 40.0 * math.log10(d3d)
        + 20.0 * math.log10(fc)
        - 9.5 * math.log10(d_bp**2 + (h_bs - h_ut) ** 2)
    )


def tr_umi_nlos(d2d: float, fc: float, h_ut: float, h_bs: float = 10.0) -> float:
    d3d = _d3d(d2d, h_bs, h_ut)
    prime = 35.3 * math.log10(d3d) + 22.4 + 21.3 * math.log10(fc) - 0.3 * (h_ut - 1.5)
    return max(tr_umi_los(d2d, fc, h_ut, h_bs), prime)


def _rma_pl1(d: float, fc: float, h: float) -> float:
    return (
        20.0 * math.log10(40.0 * math.pi * d * fc / 3.0)
        + min(0.03 * h**1.72, 10.0) * math.log10(d)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * math.log10(h) * d
    )


def tr_rma_los(
    d2d: float, fc: float, h_ut: float, h_bs: float = 35.0, w: float = 20.0, h: float = 5.0
) -> float:
    d3d = _d3d(d2d, h_bs, h_ut)
    d_bp = 2.0 * math.pi * h_bs * h_ut * fc * 1e9 / C_M_PER_S
    if d2d <= d_bp:
        return _rma_pl1(d3d, fc, h)
    return _rma_pl1(d_bp, fc, h) + 40.0 * math.log10(d3d / d_bp)


def tr_rma_nlos(
    d2d: float, fc: float, h_ut: float, h_bs: float = 35.0, w: float = 20.0, h: float = 5.0
) -> float:
    d3d = _d3d(d2d, h_bs, h_ut)
    prime = (
        161.04
        - 7.1 * math.log10(w)
        + 7.5 * math.log10(h)
        - (24.37 - 3.7 * (h / h_bs) ** 2) * math.log10(h_bs)
        + (43.42 - 3.1 * math.log10(h_bs)) * (math.log10(d3d) - 3.0)
        + 20.0 * math.log10(fc)
        - (3.2 * math.log10(11.75 * h_ut) ** 2 - 4.97)
    )
    return max(tr_rma_los(d2d, fc, h_ut, h_bs, w, h), prime)


def tr_inh_los(d3d: float, fc: float) -> float:
    return 32.4 + 17.3 * math.log10(d3d) + 20.0 * math.log10(fc)


def tr_inh_nlos(d3d: float, fc: float) -> float:
    return max(tr_inh_los(d3d, fc), 38.3 * math.log10(d3d) + 17.30 + 24.9 * math.log10(fc))


# --------------------------------------------------------------------------- UMa / UMi

# (d2D m, fc GHz, hUT m): both sides of d'BP, every user height class of Table 7.2-1.
UMA_CASES = [
    (35.0, 3.5, 1.5),
    (300.0, 3.5, 1.5),
    (1200.0, 3.5, 1.5),
    (4000.0, 0.9, 1.5),
    (60.0, 6.0, 4.5),
    (800.0, 6.0, 7.5),
    (150.0, 28.0, 10.5),
    (2500.0, 28.0, 13.5),
    (90.0, 70.0, 16.5),
    (1500.0, 70.0, 22.5),
    (400.0, 2.0, 22.5),
    (20.0, 0.9, 19.5),
]
UMI_CASES = [
    (15.0, 3.5, 1.5),
    (150.0, 3.5, 1.5),
    (900.0, 3.5, 1.5),
    (3000.0, 0.9, 1.5),
    (70.0, 6.0, 4.5),
    (450.0, 28.0, 7.5),
    (120.0, 70.0, 13.5),
    (600.0, 70.0, 22.5),
    (40.0, 2.0, 22.5),
    (250.0, 0.9, 10.5),
]


def test_cases_cross_breakpoints() -> None:
    # The case lists must exercise PL1 and PL2 of both scenarios, or the table proves less.
    uma_beyond = [d > _d_bp_prime(25.0, h, f) for d, f, h in UMA_CASES]
    umi_beyond = [d > _d_bp_prime(10.0, h, f) for d, f, h in UMI_CASES]
    assert any(uma_beyond)
    assert not all(uma_beyond)
    assert any(umi_beyond)
    assert not all(umi_beyond)


@pytest.mark.parametrize(("d2d", "fc", "h_ut"), UMA_CASES)
def test_uma_table(d2d: float, fc: float, h_ut: float) -> None:
    los, nlos = tr_uma_los(d2d, fc, h_ut), tr_uma_nlos(d2d, fc, h_ut)
    assert float(pl.uma_los_db(d2d, None, fc, 25.0, h_ut)) == pytest.approx(los, abs=TOL_DB)
    assert float(pl.uma_nlos_db(d2d, None, fc, 25.0, h_ut)) == pytest.approx(nlos, abs=TOL_DB)
    # The per-link dispatcher used by the SINR engine gives the same numbers.
    for state, want in ((True, los), (False, nlos)):
        got = float(pl.pathloss_db("uma", d2d, None, fc, state, 25.0, h_ut))
        assert got == pytest.approx(want, abs=TOL_DB)


@pytest.mark.parametrize(("d2d", "fc", "h_ut"), UMI_CASES)
def test_umi_table(d2d: float, fc: float, h_ut: float) -> None:
    los, nlos = tr_umi_los(d2d, fc, h_ut), tr_umi_nlos(d2d, fc, h_ut)
    assert float(pl.umi_los_db(d2d, None, fc, 10.0, h_ut)) == pytest.approx(los, abs=TOL_DB)
    assert float(pl.umi_nlos_db(d2d, None, fc, 10.0, h_ut)) == pytest.approx(nlos, abs=TOL_DB)
    for state, want in ((True, los), (False, nlos)):
        got = float(pl.pathloss_db("umi", d2d, None, fc, state, 10.0, h_ut))
        assert got == pytest.approx(want, abs=TOL_DB)


def test_nlos_height_term_is_visible() -> None:
    # At hUT = 22.5 m the UMa term −0.6 (hUT − 1.5) is −12.6 dB and PL' still exceeds PL_LOS,
    # so the max() does not hide it: flipping its sign would move the value by 25.2 dB.
    d2d, fc, h_ut = 1500.0, 70.0, 22.5
    d3d = _d3d(d2d, 25.0, h_ut)
    prime = 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(fc) - 0.6 * (h_ut - 1.5)
    assert prime > tr_uma_los(d2d, fc, h_ut) + 1.0
    got = float(pl.uma_nlos_db(d2d, None, fc, 25.0, h_ut))
    assert got == pytest.approx(prime, abs=TOL_DB)
    # Height lowers the NLOS loss: 3 m higher is 1.8 dB less at the same d3D (UMi: 0.9 dB).
    a = float(pl.pathloss_db("uma", 500.0, 600.0, 3.5, False, 25.0, 4.5))
    b = float(pl.pathloss_db("uma", 500.0, 600.0, 3.5, False, 25.0, 7.5))
    assert a - b == pytest.approx(1.8, abs=TOL_DB)
    a = float(pl.pathloss_db("umi", 500.0, 600.0, 3.5, False, 10.0, 4.5))
    b = float(pl.pathloss_db("umi", 500.0, 600.0, 3.5, False, 10.0, 7.5))
    assert a - b == pytest.approx(0.9, abs=TOL_DB)


# --------------------------------------------------------------------------- RMa

# (d2D, fc, hUT, W, h)
RMA_CASES = [
    (200.0, 3.5, 1.5, 20.0, 5.0),
    (2000.0, 3.5, 1.5, 20.0, 5.0),
    (4500.0, 0.9, 1.5, 20.0, 5.0),
    (800.0, 0.9, 5.0, 10.0, 10.0),
    (3000.0, 28.0, 8.0, 40.0, 15.0),
    (60.0, 6.0, 10.0, 5.0, 50.0),
]


@pytest.mark.parametrize(("d2d", "fc", "h_ut", "w", "h"), RMA_CASES)
def test_rma_table(d2d: float, fc: float, h_ut: float, w: float, h: float) -> None:
    los = tr_rma_los(d2d, fc, h_ut, 35.0, w, h)
    nlos = tr_rma_nlos(d2d, fc, h_ut, 35.0, w, h)
    assert float(pl.rma_los_db(d2d, None, fc, 35.0, h_ut, w, h)) == pytest.approx(los, abs=TOL_DB)
    got = float(pl.rma_nlos_db(d2d, None, fc, 35.0, h_ut, w, h))
    assert got == pytest.approx(nlos, abs=TOL_DB)


def test_rma_los_beyond_breakpoint_to_10_km() -> None:
    # LOS reaches 10 km (NLOS stops at 5 km): PL2 = PL1(dBP) + 40 log10(d3D/dBP).
    for d2d, fc in ((9000.0, 3.5), (6000.0, 0.9)):
        want = tr_rma_los(d2d, fc, 1.5)
        assert float(pl.rma_los_db(d2d, None, fc)) == pytest.approx(want, abs=TOL_DB)


# --------------------------------------------------------------------------- InH


@pytest.mark.parametrize(("d3d", "fc"), [(3.0, 3.5), (30.0, 28.0), (120.0, 70.0), (8.0, 0.9)])
def test_inh_table(d3d: float, fc: float) -> None:
    assert float(pl.inh_los_db(d3d, fc)) == pytest.approx(tr_inh_los(d3d, fc), abs=TOL_DB)
    assert float(pl.inh_nlos_db(d3d, fc)) == pytest.approx(tr_inh_nlos(d3d, fc), abs=TOL_DB)


# --------------------------------------------------------------------------- LOS probability


def tr_p_los_uma(d: float, h_ut: float) -> float:
    if d <= 18.0:
        return 1.0
    c = 0.0 if h_ut <= 13.0 else ((h_ut - 13.0) / 10.0) ** 1.5
    base = 18.0 / d + math.exp(-d / 63.0) * (1.0 - 18.0 / d)
    return base * (1.0 + c * 5.0 / 4.0 * (d / 100.0) ** 3 * math.exp(-d / 150.0))


def tr_p_los_umi(d: float) -> float:
    return 1.0 if d <= 18.0 else 18.0 / d + math.exp(-d / 36.0) * (1.0 - 18.0 / d)


def tr_p_los_rma(d: float) -> float:
    return 1.0 if d <= 10.0 else math.exp(-(d - 10.0) / 1000.0)


@pytest.mark.parametrize("d", [12.0, 40.0, 100.0, 250.0, 900.0])
@pytest.mark.parametrize("h_ut", [1.5, 13.0, 17.5, 22.5])
def test_los_probability_table(d: float, h_ut: float) -> None:
    want = tr_p_los_uma(d, h_ut)
    assert want <= 1.0  # these geometries avoid the product's tiny overshoot near 18 m
    assert float(pl.los_probability_uma(d, h_ut)) == pytest.approx(want, abs=1e-12)
    assert float(pl.los_probability("uma", d, h_ut)) == pytest.approx(want, abs=1e-12)
    assert float(pl.los_probability_umi(d)) == pytest.approx(tr_p_los_umi(d), abs=1e-12)
    assert float(pl.los_probability_rma(d)) == pytest.approx(tr_p_los_rma(d), abs=1e-12)


# --------------------------------------------------------------------------- O2I


@pytest.mark.parametrize(("fc", "d_in"), [(3.5, 0.0), (6.0, 12.5), (28.0, 5.0), (70.0, 20.0)])
def test_o2i_table(fc: float, d_in: float) -> None:
    # Table 7.4.3-1 materials; Table 7.4.3-2: low loss 30 % standard glass / 70 % concrete,
    # high loss 70 % IRR glass / 30 % concrete; PL_in = 0.5 d2D-in.
    glass, irr, concrete = 2.0 + 0.2 * fc, 23.0 + 0.3 * fc, 5.0 + 4.0 * fc
    low = 5.0 - 10.0 * math.log10(0.3 * 10 ** (-glass / 10) + 0.7 * 10 ** (-concrete / 10))
    high = 5.0 - 10.0 * math.log10(0.7 * 10 ** (-irr / 10) + 0.3 * 10 ** (-concrete / 10))
    assert float(pl.o2i_low_loss_db(fc, d_in)) == pytest.approx(low + 0.5 * d_in, abs=TOL_DB)
    assert float(pl.o2i_high_loss_db(fc, d_in)) == pytest.approx(high + 0.5 * d_in, abs=TOL_DB)
