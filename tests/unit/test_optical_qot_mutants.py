"""QoT terms pinned one by one against closed forms (found by mutation testing).

Every expected value is computed here from the published formula it names — the textbook ASE
power F·h·ν·B, the dB/km → 1/m conversion, the GN model's single-channel closed form
(Poggiolini, JLT 30(24) 2012, eq. 15), the power-transfer accounting written out for one and
two spans, the group delay L·n_g/c — with the standard library, never by calling the function
under test on other inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import tsunagu.optical.qot as qot
from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX
from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.optical.qot import (
    H_PLANCK_J_S,
    NONLINEAR_INDEX_M2_PER_W,
    ase_inverse_snr,
    ase_noise_power_w,
    channel_comb_hz,
    compose_noise_segments,
    compose_noise_shares,
    fibre_alpha_per_m,
    fibre_beta2_s2_per_m,
    fibre_effective_area_m2,
    fibre_gamma_per_w_m,
    gsnr_of_chains,
    lightpath_qot,
    nli_inverse_snr,
    noise_share_factors,
    power_transfer_accumulation,
    qot_from_inverse_snr,
    snr_01nm_to_bandwidth_db,
    snr_bandwidth_to_01nm_db,
)

F_REF_HZ = C_M_PER_S / 1550e-9
CORE_RADIUS_M = 4.2e-6  # the Marcuse fit's core radius (module docstring)


def db2lin(x: float) -> float:
    return 10.0 ** (x / 10.0)


def lin2db(x: float) -> float:
    return 10.0 * math.log10(x)


# ---------------------------------------------------------------------------------------------
# unit conversions and fibre parameters


def test_osnr_bandwidth_conversions_hand_values() -> None:
    # 25 GBd is twice the 12.5 GHz reference: 10·log10(2) = 3.0103 dB
    assert float(snr_01nm_to_bandwidth_db(20.0, 25e9)) == pytest.approx(20.0 - lin2db(2.0))
    assert float(snr_bandwidth_to_01nm_db(20.0, 25e9)) == pytest.approx(20.0 + lin2db(2.0))
    # 64 GBd: 10·log10(5.12) = 7.0927 dB; the two are inverses
    x = np.array([12.0, 15.5])
    back = snr_bandwidth_to_01nm_db(snr_01nm_to_bandwidth_db(x, 64e9), 64e9)
    np.testing.assert_allclose(back, x, rtol=1e-14)
    np.testing.assert_allclose(snr_01nm_to_bandwidth_db(x, 64e9), x - 7.092699609758306)


def test_fibre_alpha_from_db_per_km() -> None:
    # 0.2 dB/km: α = 0.2 · ln(10) / 10 per km = 0.0460517 /km = 4.60517e-5 /m
    assert float(fibre_alpha_per_m(0.2)) == pytest.approx(0.2 * math.log(10) / 10 / 1e3)
    np.testing.assert_allclose(
        fibre_alpha_per_m([0.17, 0.25]), np.array([0.17, 0.25]) * math.log(10) / 1e4
    )


def test_beta2_is_frequency_independent_under_the_no_slope_convention() -> None:
    # β2 = −D(f)λ²/(2πc) with D(f) = D_ref (f/f_ref)² and λ = c/f: the f² cancels, leaving
    # −D_ref c / (2π f_ref²) at every frequency.
    d = 1.67e-5
    expected = -d * C_M_PER_S / (2 * math.pi * F_REF_HZ**2)
    f = np.array([191.0e12, F_REF_HZ, 196.0e12])
    np.testing.assert_allclose(fibre_beta2_s2_per_m(d, f), expected, rtol=1e-13)
    # another reference frequency moves it by (f_ref / f_ref')²
    got = float(fibre_beta2_s2_per_m(d, 194e12, ref_frequency_hz=192e12))
    assert got == pytest.approx(-d * C_M_PER_S / (2 * math.pi * 192e12**2), rel=1e-13)


def _marcuse_area(a_ref: float, f: float, f_ref: float = F_REF_HZ) -> float:
    # V = exp(π a² / A_ref) at f_ref, V ∝ f; w² = a² / ln V; A = π w²
    v = math.exp(math.pi * CORE_RADIUS_M**2 / a_ref) * f / f_ref
    return math.pi * CORE_RADIUS_M**2 / math.log(v)


def test_effective_area_and_gamma_off_the_reference() -> None:
    f = 1.02 * F_REF_HZ
    a = _marcuse_area(80e-12, f)
    assert float(fibre_effective_area_m2(80e-12, f)) == pytest.approx(a, rel=1e-13)
    gamma = 2 * math.pi * NONLINEAR_INDEX_M2_PER_W * f / (C_M_PER_S * a)
    assert float(fibre_gamma_per_w_m(80e-12, f)) == pytest.approx(gamma, rel=1e-13)
    # a reference frequency of its own
    a2 = _marcuse_area(83e-12, 195e12, 193e12)
    assert float(fibre_effective_area_m2(83e-12, 195e12, 193e12)) == pytest.approx(a2, rel=1e-13)
    g2 = 2 * math.pi * NONLINEAR_INDEX_M2_PER_W * 195e12 / (C_M_PER_S * a2)
    assert float(fibre_gamma_per_w_m(83e-12, 195e12, 193e12)) == pytest.approx(g2, rel=1e-13)
    with pytest.raises(ModelRangeError, match="effective_area_m2 must be > 0"):
        fibre_effective_area_m2(0.0, f)


def test_ase_power_hand_value() -> None:
    # NF 6 dB, 195 THz, 32 GHz: 10^0.6 · h · ν · B
    p = float(ase_noise_power_w(6.0, 195e12, 32e9))
    assert p == pytest.approx(10**0.6 * H_PLANCK_J_S * 195e12 * 32e9, rel=1e-14)


def test_channel_comb_values_and_errors() -> None:
    np.testing.assert_array_equal(
        channel_comb_hz(193.1e12, 50e9, 3), [193.1e12, 193.15e12, 193.2e12]
    )
    assert channel_comb_hz(193e12, 0.5, 2)[1] == 193e12 + 0.5  # any spacing > 0 is a comb
    for count, spacing in ((0, 50e9), (2, 0.0), (2, -1.0)):
        with pytest.raises(ScenarioError, match="count >= 1 and spacing > 0"):
            channel_comb_hz(193e12, spacing, count)


def test_ase_inverse_snr_padding_contributes_nothing() -> None:
    # valid amplifier: F h ν Rs / P_in with P_in = -20 dBm = 1e-5 W; NaN NF (padding): 0,
    # whatever power the padding carries
    inv = ase_inverse_snr([5.0, np.nan], [-20.0, 7.0], [194e12], 32e9)
    expected = db2lin(5.0) * H_PLANCK_J_S * 194e12 * 32e9 / 1e-5
    assert inv.shape == (2, 1)
    assert inv[0, 0] == pytest.approx(expected, rel=1e-13)
    assert inv[1, 0] == 0.0


# ---------------------------------------------------------------------------------------------
# NLI of spans


def _eta_single_channel(
    loss_db_km: float, length_km: float, d: float, aeff: float, f: float, rs: float
) -> float:
    """Poggiolini 2012 eq. 15 (one channel): (8/27)γ²Leff² asinh(π²/2|β2|La Rs²)/(π|β2|La Rs²)."""
    alpha = loss_db_km * math.log(10) / 10 / 1e3
    la = 1 / alpha
    leff = (1 - math.exp(-alpha * length_km * 1e3)) / alpha
    b2 = d * C_M_PER_S / (2 * math.pi * F_REF_HZ**2)
    a = _marcuse_area(aeff, f)
    gamma = 2 * math.pi * NONLINEAR_INDEX_M2_PER_W * f / (C_M_PER_S * a)
    x = math.pi**2 / 2 * b2 * la * rs**2
    return (8 / 27) * gamma**2 * leff**2 * math.asinh(x) / (math.pi * b2 * la * rs**2)


def test_nli_of_one_span_is_eta_times_power_squared() -> None:
    f, rs = 193.5e12, 32e9
    for length, loss, p_dbm in ((80.0, 0.2, 0.0), (45.0, 0.25, 3.0)):
        x = nli_inverse_snr([f], rs, [length], loss, [p_dbm], 1.67e-5, 80e-12)
        eta = _eta_single_channel(loss, length, 1.67e-5, 80e-12, f, rs)
        assert x.shape == (1, 1)
        assert x[0, 0] == pytest.approx(eta * (db2lin(p_dbm) * 1e-3) ** 2, rel=1e-12)


def test_nli_mixed_fibre_types_and_padding() -> None:
    # three spans of two fibre types plus a zero-length pad whose loss is 0 (never used)
    f, rs = 193.5e12, 32e9
    spans = [
        (80.0, 0.2, 1.67e-5, 80e-12),
        (60.0, 0.25, 1.67e-5, 80e-12),
        (70.0, 0.2, 1.67e-5, 80e-12),
        (0.0, 0.0, 1.67e-5, 80e-12),
    ]
    length, loss, disp, aeff = (np.array(c) for c in zip(*spans, strict=True))
    x = nli_inverse_snr([f], rs, length, loss, [1.0, 1.0, 1.0, 1.0], disp, aeff)
    p2 = (db2lin(1.0) * 1e-3) ** 2
    for k, (ln, ls, d, a) in enumerate(spans[:3]):
        assert x[k, 0] == pytest.approx(_eta_single_channel(ls, ln, d, a, f, rs) * p2, rel=1e-12)
    assert x[3, 0] == 0.0
    # per-span dispersion differing only in D is a third fibre type
    x2 = nli_inverse_snr([f], rs, [80.0, 80.0], 0.2, [1.0, 1.0], [1.67e-5, 4e-6], 80e-12)
    assert x2[0, 0] == pytest.approx(_eta_single_channel(0.2, 80.0, 1.67e-5, 80e-12, f, rs) * p2)
    assert x2[1, 0] == pytest.approx(_eta_single_channel(0.2, 80.0, 4e-6, 80e-12, f, rs) * p2)
    # all spans of zero length: no NLI anywhere
    np.testing.assert_array_equal(nli_inverse_snr([f], rs, [0.0, 0.0], 0.0, [0.0, 0.0]), 0.0)


def test_nli_per_channel_launch_power() -> None:
    # x_i = Σ_j η_ij P_j²: with the pump channel off (P → 0) only the CUT's SPM is left, which
    # is the single-channel closed form at the CUT's own power.
    f = channel_comb_hz(193.5e12, 50e9, 2)
    x = nli_inverse_snr(f, 32e9, [80.0], 0.2, [[2.0, -200.0]], 1.67e-5, 80e-12)
    eta = _eta_single_channel(0.2, 80.0, 1.67e-5, 80e-12, f[0], 32e9)
    assert x[0, 0] == pytest.approx(eta * (db2lin(2.0) * 1e-3) ** 2, rel=1e-9)


@pytest.mark.parametrize(
    "name", ["loss_db_per_km", "launch_power_dbm", "dispersion_s_per_m2", "effective_area_m2"]
)
def test_nli_shape_errors_name_the_argument(name: str) -> None:
    kw: dict[str, Any] = {
        "loss_db_per_km": 0.2,
        "launch_power_dbm": [0.0, 0.0],
        "dispersion_s_per_m2": 1.67e-5,
        "effective_area_m2": 80e-12,
    }
    kw[name] = [1.0, 2.0, 3.0]
    with pytest.raises(ScenarioError, match=rf"^{name} has shape \(3,\)"):
        nli_inverse_snr([193.5e12], 32e9, [80.0, 80.0], **kw)


# ---------------------------------------------------------------------------------------------
# power-transfer accounting


def test_noise_share_factor_bounds() -> None:
    for a, x in (([0.0], [1.0]), ([-1e-12], [0.0]), ([0.0], [-1e-12])):
        with pytest.raises(ModelRangeError, match=r"must lie in \[0, 1\)"):
            noise_share_factors(a, x)
    lm, b = noise_share_factors([0.5], [0.25])
    assert lm[0] == pytest.approx(math.log(0.75) - math.log(1.5), rel=1e-15)
    assert b[0] == 0.5


def test_cumsum_runs_along_the_first_axis_on_both_paths() -> None:
    rng = np.random.default_rng(5)
    for shape in ((64, 3), (65, 3), (100, 3, 2), (130, 7)):
        x = rng.uniform(0, 1, shape)
        # both paths (row loop up to 64 rows, contiguous cumsum above) are bitwise exact
        np.testing.assert_array_equal(qot._cumsum_axis0(x), np.cumsum(x, axis=0))
        assert qot._cumsum_axis0(x).shape == shape


def test_index_gathers_element_rows() -> None:
    rng = np.random.default_rng(7)
    table_a = rng.uniform(0, 1e-3, (5, 2))
    table_x = rng.uniform(0, 1e-3, (5, 2))
    table_a[0] = table_x[0] = 0.0  # row 0: the zero pad
    index = np.array([[1, 2, 3], [4, 1, 0]])
    g_index, o_index = power_transfer_accumulation(table_a, table_x, index)
    g_dense, o_dense = power_transfer_accumulation(table_a[index], table_x[index])
    np.testing.assert_allclose(g_index, g_dense, rtol=1e-14)
    np.testing.assert_allclose(o_index, o_dense, rtol=1e-14)
    lm, b = noise_share_factors(table_a, table_x)
    t_index = compose_noise_shares(lm, b, index)
    t_dense = compose_noise_shares(lm[index], b[index])
    np.testing.assert_allclose(t_index[0], t_dense[0], rtol=1e-14)
    np.testing.assert_allclose(t_index[1], t_dense[1], rtol=1e-14)


def test_segments_of_different_lengths() -> None:
    rng = np.random.default_rng(11)
    lm = -rng.uniform(0, 1e-3, (9, 3))
    b = rng.uniform(0, 1e-3, (9, 3))
    starts = [0, 2, 7]  # chains of 2, 5 and 2 rows
    seg_lm, seg_b = compose_noise_segments(lm, b, starts)
    for k, (lo, hi) in enumerate(((0, 2), (2, 7), (7, 9))):
        one_lm, one_b = compose_noise_shares(lm[None, lo:hi], b[None, lo:hi])
        np.testing.assert_allclose(seg_lm[k], one_lm[0], rtol=1e-13)
        np.testing.assert_allclose(seg_b[k], one_b[0], rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# assembling the result


def test_qot_from_inverse_snr_hand_worked() -> None:
    rs = 25e9  # twice 12.5 GHz: +3.0103 dB to 0.1 nm
    inv_ase = np.array([[1e-3, 2e-3], [4e-3, 4e-3]])
    inv_nli = np.array([[1e-3, 0.0], [1e-3, 2e-3]])
    # lightpath 0: OSNR 30 dB (0.1 nm) once and a pad; lightpath 1: 20 dB and 30 dB
    osnr = np.array([[30.0, np.nan], [20.0, 30.0]])
    r = qot_from_inverse_snr(
        frequency_hz=[193e12, 193.05e12],
        baud_rate_hz=rs,
        inv_snr_ase=inv_ase,
        inv_snr_nli=inv_nli,
        osnr_01nm_db=osnr,
        length_km=[100.0, 250.0],
        equipment_latency_s=[1e-6, 0.0],
    )
    # OSNR in 0.1 nm → inverse SNR in 25 GHz: 10^(−OSNR/10) · 2
    other = np.array([1e-3 * 2, (1e-2 + 1e-3) * 2])
    tot_ase = inv_ase + other[:, None]
    np.testing.assert_allclose(r.osnr_ase_db, -10 * np.log10(tot_ase), rtol=1e-13)
    np.testing.assert_allclose(r.gsnr_db, -10 * np.log10(tot_ase + inv_nli), rtol=1e-13)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(r.snr_nli_db, -10 * np.log10(inv_nli), rtol=1e-13)
    assert r.snr_nli_db[0, 1] == np.inf  # no NLI: infinite SNR, no warning
    to01 = lin2db(2.0)
    np.testing.assert_allclose(r.gsnr_01nm_db, r.gsnr_db + to01, rtol=1e-13)
    np.testing.assert_allclose(r.osnr_ase_01nm_db, r.osnr_ase_db + to01, rtol=1e-13)
    np.testing.assert_allclose(r.gsnr_mean_db, r.gsnr_db.mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(r.gsnr_01nm_mean_db, r.gsnr_db.mean(axis=1) + to01, rtol=1e-13)
    np.testing.assert_allclose(r.gsnr_01nm_min_db, r.gsnr_db.min(axis=1) + to01, rtol=1e-13)
    np.testing.assert_allclose(r.osnr_ase_mean_db, r.osnr_ase_db.mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(r.osnr_ase_01nm_mean_db, r.osnr_ase_db.mean(axis=1) + to01)
    # group delay L n_g / c plus equipment
    lat = np.array([100e3, 250e3]) * FIBRE_GROUP_INDEX / C_M_PER_S + [1e-6, 0.0]
    np.testing.assert_allclose(r.latency_s, lat, rtol=1e-14)
    np.testing.assert_array_equal(r.length_km, [100.0, 250.0])
    np.testing.assert_array_equal(r.frequency_hz, [193e12, 193.05e12])
    assert r.baud_rate_hz == 25e9
    assert type(r.baud_rate_hz) is float
    assert r.margin_db is None


def test_qot_from_inverse_snr_without_other_noise_and_defaults() -> None:
    # no OSNR column at all (size 0) and a scalar length: no other noise, no equipment delay
    r = qot_from_inverse_snr(
        frequency_hz=193e12,
        baud_rate_hz=np.int64(32_000_000_000),
        inv_snr_ase=[1e-3],
        inv_snr_nli=[1e-3],
        osnr_01nm_db=np.zeros((1, 0)),
        length_km=np.int64(80),
    )
    assert r.gsnr_db[0, 0] == pytest.approx(-lin2db(2e-3), rel=1e-13)
    assert r.latency_s[0] == pytest.approx(80e3 * FIBRE_GROUP_INDEX / C_M_PER_S, rel=1e-14)
    assert r.latency_s.dtype == np.float64
    assert r.length_km.dtype == np.float64
    assert r.frequency_hz.shape == (1,)


# ---------------------------------------------------------------------------------------------
# gsnr_of_chains and lightpath_qot against the closed forms


def _one_span(
    loss: float, length: float, extra: float, launch: float, nf: float, f: float, rs: float
) -> tuple[float, float]:
    """(x, a) of a fibre span and the amplifier that restores its loss."""
    x = _eta_single_channel(loss, length, 1.67e-5, 83e-12, f, rs) * (db2lin(launch) * 1e-3) ** 2
    p_in_w = db2lin(launch - loss * length - extra) * 1e-3
    a = db2lin(nf) * H_PLANCK_J_S * f * rs / p_in_w
    return x, a


def test_lightpath_qot_one_span_closed_form() -> None:
    # One span then its amplifier: the signal share of the channel power becomes
    # s = (1 − x)/(1 + a), so 1/GSNR = (1 + a)/(1 − x) − 1 and A/s = a/(1 − x); transmitter
    # and ROADM noise add their inverse OSNRs (0.1 nm, scaled to the 32 GBd bandwidth).
    f, rs = 193.1e12, 32e9
    x, a = _one_span(0.22, 80.0, 1.0, 3.0, 5.0, f, rs)
    other = (db2lin(-40.0) + db2lin(-35.0)) * rs / 12.5e9
    r = lightpath_qot(
        [[80.0]],
        baud_rate_hz=rs,
        span_loss_db_per_km=0.22,
        span_extra_loss_db=1.0,
        launch_power_dbm=3.0,
        amp_noise_figure_db=5.0,
        roadm_count=1,
        roadm_osnr_01nm_db=35.0,
        tx_osnr_01nm_db=40.0,
        required_osnr_01nm_db=14.0,
    )
    inv_g = (1 + a) / (1 - x) - 1 + other
    inv_o = a / (1 - x) + other
    assert r.gsnr_db[0, 0] == pytest.approx(-lin2db(inv_g), abs=1e-9)
    assert r.osnr_ase_db[0, 0] == pytest.approx(-lin2db(inv_o), abs=1e-9)
    assert r.snr_nli_db[0, 0] == pytest.approx(-lin2db(x / (1 - x)), abs=1e-9)
    assert r.margin_db is not None
    assert r.margin_db[0] == pytest.approx(-lin2db(inv_g) + lin2db(rs / 12.5e9) - 14.0, abs=1e-9)
    np.testing.assert_array_equal(r.frequency_hz, [193.1e12])  # the default comb: one channel


def test_lightpath_qot_two_spans_closed_form_and_defaults() -> None:
    # Two different spans: s1 = (1 − x1)/(1 + a1), s2 = s1 (1 − x2)/(1 + a2);
    # A/s = a1/(1 − x1) + a2/(s1 (1 − x2)). Defaults: 0.2 dB/km, no extra loss, 0 dBm, NF 5.5,
    # two ROADMs at 38 dB and a transmitter at 40 dB (0.1 nm), 193.1 THz.
    f, rs = 193.1e12, 32e9
    x1, a1 = _one_span(0.2, 90.0, 0.0, 0.0, 5.5, f, rs)
    x2, a2 = _one_span(0.2, 40.0, 0.0, 0.0, 5.5, f, rs)
    s1 = (1 - x1) / (1 + a1)
    s2 = s1 * (1 - x2) / (1 + a2)
    other = (db2lin(-40.0) + 2 * db2lin(-38.0)) * rs / 12.5e9
    inv_g = 1 / s2 - 1 + other
    inv_o = a1 / (1 - x1) + a2 / (s1 * (1 - x2)) + other
    r = lightpath_qot([[90.0, 40.0, 0.0]], baud_rate_hz=rs)
    assert r.gsnr_db[0, 0] == pytest.approx(-lin2db(inv_g), abs=1e-9)
    assert r.osnr_ase_db[0, 0] == pytest.approx(-lin2db(inv_o), abs=1e-9)
    assert r.latency_s[0] == pytest.approx(130e3 * FIBRE_GROUP_INDEX / C_M_PER_S, rel=1e-14)
    assert r.length_km[0] == 130.0


def test_lightpath_qot_roadm_count_per_lightpath() -> None:
    # only the ROADM terms differ: 0, 1 and 3 stages at 30 dB on the same span
    r = lightpath_qot(
        [[60.0]] * 3, baud_rate_hz=32e9, roadm_count=[0, 1, 3], roadm_osnr_01nm_db=30.0
    )
    inv = 10 ** (-r.osnr_ase_01nm_db[:, 0] / 10)  # in 0.1 nm
    np.testing.assert_allclose(inv[1] - inv[0], db2lin(-30.0), rtol=1e-9)
    np.testing.assert_allclose(inv[2] - inv[0], 3 * db2lin(-30.0), rtol=1e-9)
    with pytest.raises(ScenarioError, match="roadm_count must be >= 0"):
        lightpath_qot([[60.0]], baud_rate_hz=32e9, roadm_count=-1)


def test_lightpath_qot_zero_roadms_everywhere_leaves_the_transmitter() -> None:
    f, rs = 193.1e12, 32e9
    x, a = _one_span(0.2, 50.0, 0.0, 0.0, 5.5, f, rs)
    r = lightpath_qot([[50.0]], baud_rate_hz=rs, roadm_count=0)
    inv_o = a / (1 - x) + db2lin(-40.0) * rs / 12.5e9
    assert r.osnr_ase_db[0, 0] == pytest.approx(-lin2db(inv_o), abs=1e-9)


def test_lightpath_qot_default_comb_spacing() -> None:
    r = lightpath_qot([[80.0]], baud_rate_hz=32e9, channel_count=3)
    np.testing.assert_array_equal(r.frequency_hz, 193.1e12 + 50e9 * np.arange(3.0))


def test_lightpath_qot_chunks_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    spans = [
        [80.0, 60.0, 0.0],
        [100.0, 0.0, 0.0],
        [20.0, 30.0, 40.0],
        [70.0, 70.0, 0.0],
        [50.0, 0.0, 0.0],
    ]
    whole = lightpath_qot(spans, baud_rate_hz=32e9, channel_count=2)
    monkeypatch.setattr(qot, "_CHAIN_CHUNK_ELEMENTS", 12)  # 2 lightpaths of 3 spans × 2 per chunk
    parts = lightpath_qot(spans, baud_rate_hz=32e9, channel_count=2)
    np.testing.assert_array_equal(parts.gsnr_db, whole.gsnr_db)
    np.testing.assert_array_equal(parts.osnr_ase_db, whole.osnr_ase_db)
    # each row is the lightpath alone
    for k, row in enumerate(spans):
        alone = lightpath_qot([row], baud_rate_hz=32e9, channel_count=2)
        np.testing.assert_allclose(whole.gsnr_db[k], alone.gsnr_db[0], rtol=1e-13)


def test_lightpath_qot_padding_below_one_km_is_a_span() -> None:
    # a 0.5 km span is a real span: its amplifier adds a2 / (s1 (1 − x2)) to 1/OSNR-ASE;
    # only length 0 is padding
    f, rs = 193.1e12, 32e9
    x1, a1 = _one_span(0.2, 80.0, 0.0, 0.0, 5.5, f, rs)
    x2, a2 = _one_span(0.2, 0.5, 0.0, 0.0, 5.5, f, rs)
    s1 = (1 - x1) / (1 + a1)
    short = lightpath_qot([[80.0, 0.5]], baud_rate_hz=rs, roadm_count=0)
    alone = lightpath_qot([[80.0, 0.0]], baud_rate_hz=rs, roadm_count=0)
    added = 10 ** (-short.osnr_ase_db[0, 0] / 10) - 10 ** (-alone.osnr_ase_db[0, 0] / 10)
    assert added == pytest.approx(a2 / (s1 * (1 - x2)), rel=1e-6)


@pytest.mark.parametrize(
    "name", ["span_loss_db_per_km", "span_extra_loss_db", "launch_power_dbm", "amp_noise_figure_db"]
)
def test_lightpath_qot_shape_errors_name_the_argument(name: str) -> None:
    with pytest.raises(ScenarioError, match=rf"^{name} has shape \(3,\)"):
        lightpath_qot([[80.0, 80.0]], baud_rate_hz=32e9, **{name: [1.0, 2.0, 3.0]})


def test_lightpath_qot_argument_boundaries() -> None:
    # roll-off 0 and 1 are valid; baud rates below 1 Hz are positive
    lightpath_qot([[80.0]], baud_rate_hz=32e9, roll_off=0.0)
    lightpath_qot([[80.0]], baud_rate_hz=25e9, roll_off=1.0, channel_count=2)
    lightpath_qot([[1.0]], baud_rate_hz=0.5, roadm_count=0)
    with pytest.raises(ScenarioError, match="span_length_km must be >= 0"):
        lightpath_qot([[80.0, -1e-9]], baud_rate_hz=32e9)
    # spacing exactly Rs (1 + roll-off) fits; one channel needs no spacing check
    lightpath_qot([[80.0]], baud_rate_hz=40e9, spacing_hz=50e9, channel_count=2, roll_off=0.25)
    lightpath_qot([[80.0]], baud_rate_hz=64e9, spacing_hz=50e9, channel_count=1)
    with pytest.raises(ScenarioError, match="narrower than the channel"):
        lightpath_qot(
            [[80.0]], baud_rate_hz=40e9, spacing_hz=50e9 - 1e-3, channel_count=2, roll_off=0.25
        )
    with pytest.raises(ScenarioError, match="narrower than the channel"):
        lightpath_qot([[80.0]], baud_rate_hz=40e9, spacing_hz=45e9, channel_count=2, roll_off=0.2)


def test_gsnr_of_chains_hand_worked() -> None:
    # Two lightpaths, first-order sums. Lightpath 0: two amplifiers (NF 5 dB at −20 dBm, NF 6 dB
    # at −18 dBm), one 80 km span at 0 dBm, OSNRs 40 and 38 dB; lightpath 1: one amplifier and
    # a padded one (NaN), one span and a padded one, one OSNR and a pad (inf).
    f, rs = 193.1e12, 32e9
    r = gsnr_of_chains(
        frequency_hz=[f],
        baud_rate_hz=rs,
        span_length_km=[[80.0, 0.0], [60.0, 0.0]],
        span_loss_db_per_km=0.2,
        span_launch_power_dbm=[[0.0, 0.0], [2.0, 0.0]],
        amp_input_power_dbm=[[-20.0, -18.0], [-12.0, 0.0]],
        amp_noise_figure_db=[[5.0, 6.0], [5.5, np.nan]],
        osnr_01nm_db=[[40.0, 38.0], [35.0, np.inf]],
        equipment_latency_s=[2e-6, 0.0],
    )

    def a(nf: float, p_dbm: float) -> float:
        return db2lin(nf) * H_PLANCK_J_S * f * rs / (db2lin(p_dbm) * 1e-3)

    def x(length: float, p_dbm: float) -> float:
        eta = _eta_single_channel(0.2, length, 1.67e-5, 83e-12, f, rs)
        return eta * (db2lin(p_dbm) * 1e-3) ** 2

    k = rs / 12.5e9
    inv0 = a(5.0, -20.0) + a(6.0, -18.0) + x(80.0, 0.0) + (db2lin(-40.0) + db2lin(-38.0)) * k
    inv1 = a(5.5, -12.0) + x(60.0, 2.0) + db2lin(-35.0) * k
    np.testing.assert_allclose(r.gsnr_db[:, 0], [-lin2db(inv0), -lin2db(inv1)], atol=1e-9)
    np.testing.assert_allclose(
        r.snr_nli_db[:, 0], [-lin2db(x(80.0, 0.0)), -lin2db(x(60.0, 2.0))], atol=1e-9
    )
    lat = np.array([80e3, 60e3]) * FIBRE_GROUP_INDEX / C_M_PER_S + [2e-6, 0.0]
    np.testing.assert_allclose(r.latency_s, lat, rtol=1e-14)
    np.testing.assert_array_equal(r.frequency_hz, [f])


def test_gsnr_of_chains_broadcasts_rows_and_names_bad_shapes() -> None:
    # one amplifier row and one OSNR row serve both lightpaths; no equipment delay by default
    kw: dict[str, Any] = {
        "frequency_hz": [193.1e12],
        "baud_rate_hz": 32e9,
        "span_length_km": [[80.0], [80.0]],
        "span_loss_db_per_km": 0.2,
        "span_launch_power_dbm": 0.0,
        "amp_input_power_dbm": [[-16.0, -16.0, -16.0]],
        "amp_noise_figure_db": [[5.0, 5.0, 5.0]],
        "osnr_01nm_db": [[40.0, 38.0]],
    }
    r = gsnr_of_chains(**kw)
    np.testing.assert_array_equal(r.gsnr_db[0], r.gsnr_db[1])
    assert r.latency_s[0] == pytest.approx(80e3 * FIBRE_GROUP_INDEX / C_M_PER_S, rel=1e-14)
    for name, bad in (
        ("amp_noise_figure_db", [[5.0, 5.0]] * 3),
        ("amp_input_power_dbm", [[-16.0, -16.0]]),
        ("osnr_01nm_db", [[40.0]] * 3),
    ):
        with pytest.raises(ScenarioError, match=rf"^{name} has shape"):
            gsnr_of_chains(**{**kw, name: bad})
    with pytest.raises(ScenarioError, match="baud_rate_hz must be > 0"):
        gsnr_of_chains(**{**kw, "baud_rate_hz": 0.0})
    with pytest.raises(ScenarioError, match="span_length_km must be >= 0"):
        gsnr_of_chains(**{**kw, "span_length_km": [[80.0], [-1e-9]]})
    # a sub-hertz baud rate is still positive; a sub-kilometre span is a span
    gsnr_of_chains(**{**kw, "baud_rate_hz": 0.5, "span_length_km": [[0.5], [0.0]]})


def test_lightpath_qot_latency_per_lightpath_with_equipment() -> None:
    r = lightpath_qot(
        [[80.0, 20.0], [50.0, 0.0]], baud_rate_hz=32e9, equipment_latency_s=[5e-6, 1e-6]
    )
    lat = np.array([100e3, 50e3]) * FIBRE_GROUP_INDEX / C_M_PER_S + [5e-6, 1e-6]
    np.testing.assert_allclose(r.latency_s, lat, rtol=1e-14)
    np.testing.assert_array_equal(r.length_km, [100.0, 50.0])


def test_lightpath_qot_spacing_tolerance_is_one_microhertz() -> None:
    # at 1 Bd and no roll-off a channel is 1 Hz wide; the check allows 1e-6 Hz of rounding
    lightpath_qot([[80.0]], baud_rate_hz=1.0, spacing_hz=1.0 - 5e-7, channel_count=2, roll_off=0)
    with pytest.raises(ScenarioError, match="narrower than the channel"):
        lightpath_qot([[80.0]], baud_rate_hz=1.0, spacing_hz=0.5, channel_count=2, roll_off=0.0)


def test_qot_from_inverse_snr_stores_float_frequencies() -> None:
    r = qot_from_inverse_snr(
        frequency_hz=np.int64(193_000_000_000_000),
        baud_rate_hz=32e9,
        inv_snr_ase=[1e-3],
        inv_snr_nli=[1e-3],
        osnr_01nm_db=[[np.nan]],
        length_km=[80.0],
    )
    assert r.frequency_hz.dtype == np.float64
    assert r.frequency_hz[0] == 193e12


def test_fibre_parameters_reach_the_nli_of_both_entry_points() -> None:
    # a non-default effective area (80 µm²) and dispersion (4 ps/nm/km) must be the ones used
    f, rs = 193.1e12, 32e9
    d, aeff = 4e-6, 80e-12
    x = _eta_single_channel(0.2, 80.0, d, aeff, f, rs) * (1e-3) ** 2  # 0 dBm
    r = lightpath_qot(
        [[80.0]],
        baud_rate_hz=rs,
        roadm_count=0,
        tx_osnr_01nm_db=math.inf,
        span_dispersion_s_per_m2=d,
        span_effective_area_m2=aeff,
    )
    assert r.snr_nli_db[0, 0] == pytest.approx(-lin2db(x / (1 - x)), abs=1e-9)
    c = gsnr_of_chains(
        frequency_hz=[f],
        baud_rate_hz=rs,
        span_length_km=[[80.0]],
        span_loss_db_per_km=0.2,
        span_launch_power_dbm=0.0,
        amp_input_power_dbm=[[-16.0]],
        amp_noise_figure_db=[[5.0]],
        osnr_01nm_db=[[np.inf]],
        span_dispersion_s_per_m2=d,
        span_effective_area_m2=aeff,
    )
    assert c.snr_nli_db[0, 0] == pytest.approx(-lin2db(x), abs=1e-9)
