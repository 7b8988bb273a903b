"""RAN models against published reference values and hand calculations.

Sources
-------
* 3GPP TS 38.306 v17 §4.1.2 — approximate maximum data rate; TS 38.101-1/-2 Table 5.3.2-1.
* 3GPP TR 38.901 v17.0.0 Table 7.4.1-1 — path loss; Table 7.4.2-1 — LOS probability.
* 3GPP TR 38.803 Annex A.1 / ITU-R M.2101 — truncated Shannon (DL max 5.98, UL max 2.93 b/s/Hz).

Path-loss references were worked by hand from the TR equations (intermediate values in the
comments, logarithms to 5–6 digits); the tolerance 0.01 dB covers that rounding only.
"""

from __future__ import annotations

import pytest

from tsunagu.ran import pathloss as pl
from tsunagu.ran import rate

HAND_TOL_DB = 0.01  # rounding of hand-worked logarithms, not model uncertainty


def test_peak_rate_n78_100mhz_4_layers_256qam() -> None:
    # TS 38.306 §4.1.2: 4 · 8 · 1 · (948/1024) · 273 · 12 / (1e-3 / (14 · 2)) · (1 − 0.14)
    #   = 29.625 · 273 · 12 · 28,000 · 0.86 = 2,337,000,120 b/s ≈ 2.34 Gb/s.
    n = rate.n_prb(100, 30, "FR1")
    assert n == 273
    got = float(rate.nr_peak_rate_bps(4, 8, n, 1, rate.NR_OVERHEAD_DL_FR1))
    assert got == pytest.approx(2_337_000_120.0, abs=1e-3)


def test_peak_rate_n257_400mhz_2_layers_64qam() -> None:
    # FR2, 400 MHz at 120 kHz (μ = 3): N_RB 264 (TS 38.101-2 Table 5.3.2-1).
    # 2 · 6 · (948/1024) · 264 · 12 / (1e-3/112) · (1 − 0.18):
    # 11.109375 · 264 = 2932.875; · 12 = 35,194.5; · 112,000 = 3,941,784,000; · 0.82
    #   = 3,232,262,880 b/s.
    n = rate.n_prb(400, 120, "FR2")
    assert n == 264
    got = float(rate.nr_peak_rate_bps(2, 6, n, 3, rate.NR_OVERHEAD_DL_FR2))
    assert got == pytest.approx(3_232_262_880.0, abs=1e-3)


def test_truncated_shannon_published_maxima() -> None:
    assert float(rate.truncated_shannon_bps_per_hz(35.0, *rate.DL_TRUNCATED_SHANNON)) == (
        pytest.approx(5.98, abs=0.005)
    )
    assert float(rate.truncated_shannon_bps_per_hz(35.0, *rate.UL_TRUNCATED_SHANNON)) == (
        pytest.approx(2.93, abs=0.005)
    )


# All at fc = 3.5 GHz: 20·log10(3.5) = 10.8814.


def test_uma_los_before_breakpoint() -> None:
    # d2D 100 m, hBS 25, hUT 1.5: d3D = sqrt(100² + 23.5²) = 102.724, log10 = 2.011672.
    # d'BP = 4 · 24 · 0.5 · 3.5e9 / 3e8 = 560 m > 100 m → PL1.
    # PL1 = 28 + 22 · 2.011672 + 10.8814 = 28 + 44.2568 + 10.8814 = 83.1382 dB.
    assert float(pl.uma_los_db(100.0, None, 3.5)) == pytest.approx(83.1382, abs=HAND_TOL_DB)


def test_uma_los_after_breakpoint() -> None:
    # d2D 1000 m: d3D = sqrt(1e6 + 552.25) = 1000.2761, log10 = 3.000120.
    # d'BP² + Δh² = 313,600 + 552.25 = 314,152.25, log10 = 5.497141.
    # PL2 = 28 + 40 · 3.000120 + 10.8814 − 9 · 5.497141 = 28 + 120.0048 + 10.8814 − 49.4743
    #     = 109.4119 dB.
    assert float(pl.uma_los_db(1000.0, None, 3.5)) == pytest.approx(109.4119, abs=HAND_TOL_DB)


def test_uma_nlos() -> None:
    # PL' = 13.54 + 39.08 · 2.011672 + 10.8814 − 0 = 13.54 + 78.6161 + 10.8814 = 103.0375 dB
    # > PL_LOS 83.14 → 103.04 dB.
    assert float(pl.uma_nlos_db(100.0, None, 3.5)) == pytest.approx(103.0375, abs=HAND_TOL_DB)


def test_umi_los_and_nlos() -> None:
    # hBS 10: d3D = sqrt(100² + 8.5²) = 100.3606, log10 = 2.001563; d'BP = 4·9·0.5·3.5e9/3e8
    # = 210 m → PL1 = 32.4 + 21 · 2.001563 + 10.8814 = 32.4 + 42.0328 + 10.8814 = 85.3142 dB.
    assert float(pl.umi_los_db(100.0, None, 3.5)) == pytest.approx(85.3142, abs=HAND_TOL_DB)
    # PL' = 35.3 · 2.001563 + 22.4 + 21.3 · 0.544068 = 70.6552 + 22.4 + 11.5886 = 104.6438 dB.
    assert float(pl.umi_nlos_db(100.0, None, 3.5)) == pytest.approx(104.6438, abs=HAND_TOL_DB)


def test_rma_los_and_nlos() -> None:
    # hBS 35, hUT 1.5, h 5, W 20; d2D 1000 m: d3D = sqrt(1e6 + 33.5²) = 1000.5610,
    # log10 = 3.000244. dBP = 2π · 35 · 1.5 · 3.5e9 / 3e8 = 3848.45 m > 1000 m → PL1.
    # 20·log10(40π · 1000.561 · 3.5 / 3) = 20 · log10(146,689.4) = 103.3282
    # h^1.72 = 5^1.72 = 15.9293: min(0.4779, 10) · 3.000244 = 1.4338; min(0.7009, 14.77)
    # 0.002 · log10(5) · 1000.561 = 0.002 · 0.698970 · 1000.561 = 1.3987
    # PL1 = 103.3282 + 1.4338 − 0.7009 + 1.3987 = 105.4598 dB.
    assert float(pl.rma_los_db(1000.0, None, 3.5)) == pytest.approx(105.4598, abs=HAND_TOL_DB)
    # PL' = 161.04 − 7.1 · 1.301030 + 7.5 · 0.698970 − (24.37 − 3.7 · (5/35)²) · 1.544068
    #       + (43.42 − 3.1 · 1.544068) · 0.000244 + 10.8814 − (3.2 · log10(17.625)² − 4.97)
    #     = 161.04 − 9.2373 + 5.2423 − 24.2945 · 1.544068 + 38.6334 · 0.000244 + 10.8814
    #       − (3.2 · 1.246129² − 4.97)
    #     = 161.04 − 9.2373 + 5.2423 − 37.5124 + 0.0094 + 10.8814 − (−0.0009) = 130.4243 dB.
    assert float(pl.rma_nlos_db(1000.0, None, 3.5)) == pytest.approx(130.4243, abs=HAND_TOL_DB)


def test_expected_uma_100m() -> None:
    # P_LOS = 18/100 + exp(−100/63) · 0.82 = 0.18 + 0.204476 · 0.82 = 0.347670.
    # gain = 0.347670 · 10^−8.31382 + 0.652330 · 10^−10.30375
    #      = 0.347670 · 4.85477e−9 + 0.652330 · 4.96992e−11 = 1.68786e−9 + 3.24203e−11
    #      = 1.72028e−9 → PL = −10 · log10(1.72028e−9) = 87.6440 dB.
    assert float(pl.los_probability_uma(100.0)) == pytest.approx(0.347670, abs=1e-6)
    assert float(pl.expected_pathloss_db("uma", 100.0, 3.5)) == pytest.approx(
        87.6440, abs=HAND_TOL_DB
    )


def test_inh_office_los_and_nlos() -> None:
    # d3D 10 m at 3.5 GHz: PL_LOS = 32.4 + 17.3 · 1 + 10.8814 = 60.5814 dB;
    # PL'_NLOS = 38.3 · 1 + 17.30 + 24.9 · 0.544068 = 69.1473 dB (> LOS).
    assert float(pl.inh_los_db(10.0, 3.5)) == pytest.approx(60.5814, abs=HAND_TOL_DB)
    assert float(pl.inh_nlos_db(10.0, 3.5)) == pytest.approx(69.1473, abs=HAND_TOL_DB)
    # Mixed office LOS probability at 4 m: exp(−2.8/4.7) = 0.551152; at 20 m:
    # 0.32 · exp(−13.5/32.6) = 0.32 · 0.660928 = 0.211497.
    assert float(pl.los_probability_inh(4.0)) == pytest.approx(0.551152, abs=1e-6)
    assert float(pl.los_probability_inh(20.0)) == pytest.approx(0.211497, abs=1e-6)


def test_umi_user_above_the_base_station() -> None:
    # Table 7.2-1 drops UMi users up to 22.5 m, above the 10 m BS. d2D 100 m, hUT 22.5:
    # d3D = sqrt(100² + 12.5²) = 100.7782, log10 = 2.003366; d'BP = 4·9·21.5·3.5e9/3e8 = 9030 m.
    # PL1 = 32.4 + 21 · 2.003366 + 10.8814 = 85.3521 dB;
    # PL' = 35.3 · 2.003366 + 22.4 + 11.5886 − 0.3 · 21 = 98.4074 dB.
    assert float(pl.umi_los_db(100.0, None, 3.5, h_ut_m=22.5)) == pytest.approx(
        85.3521, abs=HAND_TOL_DB
    )
    assert float(pl.umi_nlos_db(100.0, None, 3.5, h_ut_m=22.5)) == pytest.approx(
        98.4074, abs=HAND_TOL_DB
    )


def test_free_space_tr38811() -> None:
    # 32.45 + 20 log10(2) + 20 log10(20,000) = 32.45 + 6.0206 + 86.0206 = 124.4912 dB.
    assert float(pl.free_space_db(20_000.0, 2.0)) == pytest.approx(124.4912, abs=HAND_TOL_DB)


def test_gas_attenuation_itu_p676() -> None:
    # ITU-R P.676-12 Fig. 1 (sea level, 7.5 g/m³, 15 °C): about 15 dB/km at the 60 GHz oxygen
    # peak and about 0.1 dB/km near 28–30 GHz. Read off a log-scale figure: ±15 %.
    assert pl.gas_specific_attenuation_db_per_km(60.0) == pytest.approx(15.0, rel=0.15)
    assert pl.gas_specific_attenuation_db_per_km(28.0) == pytest.approx(0.1, rel=0.5)
    assert float(pl.gas_loss_db(1000.0, 3.5)) == 0.0
