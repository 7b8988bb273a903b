"""Analytic checks of the QoT model functions (tsunagu.optical.qot, tsunagu.optical.equipment)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX
from tsunagu.errors import DataError, ModelRangeError, ScenarioError
from tsunagu.optical.equipment import (
    AmplifierType,
    amplifier_noise_figure_db,
    load_equipment,
    variable_gain_nf_model,
)
from tsunagu.optical.qot import (
    H_PLANCK_J_S,
    ase_inverse_snr,
    ase_noise_power_w,
    channel_comb_hz,
    compose_noise_segments,
    compose_noise_shares,
    fibre_alpha_per_m,
    fibre_beta2_s2_per_m,
    fibre_effective_area_m2,
    fibre_gamma_per_w_m,
    gn_model_analytic_eta,
    gsnr_of_chains,
    lightpath_qot,
    nli_inverse_snr,
    noise_share_factors,
    power_transfer_accumulation,
)

F_HZ = 193.4e12


def test_ase_power_of_one_amplified_span() -> None:
    """One 80 km span + EDFA, single channel, no other noise: OSNR = P_in - NF - 10log10(hνB).

    Launch -10 dBm, P_in = -10 - 0.2 dB/km · 80 km = -26 dBm; NF = 5 dB; hν·12.5 GHz at
    193.4 THz = -57.95 dBm, so OSNR(0.1 nm) = -26 - 5 + 57.95 = 26.95 dB (textbook, e.g.
    Desurvire 1994). Tolerance 1e-3 dB: at -10 dBm the NLI takes ~1e-5 of the channel power
    before the amplifier, which the power-transfer accounting subtracts from the signal.
    """
    r = lightpath_qot(
        [[80.0]],
        baud_rate_hz=32e9,
        launch_power_dbm=-10.0,
        amp_noise_figure_db=5.0,
        roadm_count=0,
        tx_osnr_01nm_db=math.inf,
        f_min_hz=F_HZ,
    )
    hvb_dbm = 10 * math.log10(H_PLANCK_J_S * F_HZ * 12.5e9 * 1e3)
    assert hvb_dbm == pytest.approx(-57.95, abs=0.01)
    expected = -26.0 - 5.0 - hvb_dbm
    assert r.osnr_ase_01nm_db[0, 0] == pytest.approx(expected, abs=1e-3)
    # the ASE power itself: F h ν B at the amplifier input, and its ratio to the signal
    p = ase_noise_power_w(5.0, F_HZ, 12.5e9)
    assert 10 * math.log10(p * 1e3) == pytest.approx(5.0 + hvb_dbm, abs=1e-12)
    inv = ase_inverse_snr(5.0, -26.0, [F_HZ], 12.5e9)
    assert -10 * math.log10(float(inv[0])) == pytest.approx(expected, abs=1e-12)


def test_single_channel_spm_matches_closed_form() -> None:
    """One channel: eq. 120 is η = (8/27)γ²Leff² asinh(π²/2|β2|La Rs²) / (π|β2|La Rs²).

    The reduced form is Poggiolini, JLT 30(24) 2012, eq. 15 for one channel (independently
    derived there); it checks the double-sided psi, the SPM weight and the units.
    """
    rs = 32e9
    alpha = fibre_alpha_per_m(0.2)
    beta2 = float(fibre_beta2_s2_per_m(1.67e-5, F_HZ))
    gamma = float(fibre_gamma_per_w_m(80e-12, F_HZ))
    length = 80e3
    eta = gn_model_analytic_eta([F_HZ], rs, alpha, [beta2], [gamma], length)[0, 0]
    la = 1 / alpha
    leff = (1 - math.exp(-alpha * length)) / alpha
    b2 = abs(beta2)
    ref = (8 / 27) * gamma**2 * leff**2 * math.asinh(math.pi**2 / 2 * b2 * la * rs**2)
    ref /= math.pi * b2 * la * rs**2
    assert eta == pytest.approx(ref, rel=1e-12)
    # SSMF at 1550 nm: β2 ≈ -21.3 ps²/km, γ ≈ 1.3 /W/km (Agrawal)
    assert beta2 * 1e27 == pytest.approx(-21.7, abs=0.6)
    assert gamma * 1e3 == pytest.approx(1.3, abs=0.1)


@given(
    p_dbm=st.floats(-10.0, 6.0),
    delta_db=st.floats(0.5, 10.0),
    length_km=st.floats(1.0, 150.0),
)
@settings(max_examples=40, deadline=None)
def test_nli_scales_with_launch_power_cubed(
    p_dbm: float, delta_db: float, length_km: float
) -> None:
    """P_NLI ∝ P³: raising the comb power by Δ dB raises the NLI power by 3Δ dB."""
    f = channel_comb_hz(192e12, 50e9, 9)
    x1 = nli_inverse_snr(f, 32e9, [length_km], 0.2, [p_dbm])
    x2 = nli_inverse_snr(f, 32e9, [length_km], 0.2, [p_dbm + delta_db])
    nli1_db = 10 * np.log10(x1) + p_dbm
    nli2_db = 10 * np.log10(x2) + p_dbm + delta_db
    np.testing.assert_allclose(nli2_db - nli1_db, 3 * delta_db, atol=1e-9)


def test_nli_centre_channel_worst_and_grows_with_channels() -> None:
    f = channel_comb_hz(192e12, 50e9, 41)
    x = nli_inverse_snr(f, 32e9, [80.0], 0.2, [0.0])[0]
    # centre channels see the most XPM (the peak leans to high frequency, where γ(f) grows)
    assert 14 <= np.argmax(x) <= 26
    assert x[0] < x[20]
    assert x[-1] < x[20]
    x_few = nli_inverse_snr(f[18:23], 32e9, [80.0], 0.2, [0.0])[0]
    assert x_few[2] < x[20]


def test_effective_area_and_beta2_at_reference() -> None:
    ref = C_M_PER_S / 1550e-9
    assert float(fibre_effective_area_m2(80e-12, ref)) == pytest.approx(80e-12, rel=1e-12)
    assert float(fibre_effective_area_m2(80e-12, ref * 1.02)) < 80e-12  # shorter λ, tighter mode
    d = 1.67e-5
    assert float(fibre_beta2_s2_per_m(d, ref)) == pytest.approx(
        -((1550e-9) ** 2) * d / (2 * math.pi * C_M_PER_S), rel=1e-12
    )


def test_latency_is_length_over_group_velocity() -> None:
    r = lightpath_qot([[80.0, 70.0, 0.0]], baud_rate_hz=32e9)
    assert r.latency_s[0] == pytest.approx(150e3 * FIBRE_GROUP_INDEX / C_M_PER_S, rel=1e-12)
    assert r.latency_s[0] * 1e6 / 150 == pytest.approx(4.897, abs=1e-3)


@given(
    spans=st.lists(st.floats(20.0, 120.0), min_size=1, max_size=8),
    launch=st.floats(-4.0, 4.0),
)
@settings(max_examples=30, deadline=None)
def test_invariants_of_lightpath_qot(spans: list[float], launch: float) -> None:
    """GSNR ≤ OSNR-ASE; one more span lowers the GSNR; padding changes nothing."""
    n = len(spans)
    rows = np.zeros((3, n + 2))
    rows[0, :n] = spans
    rows[1, : n + 1] = [*spans, 80.0]
    rows[2, :n] = spans
    r = lightpath_qot(rows, baud_rate_hz=32e9, launch_power_dbm=launch, channel_count=5)
    assert np.all(r.gsnr_db <= r.osnr_ase_db + 1e-12)
    assert np.all(r.gsnr_db[1] < r.gsnr_db[0])
    np.testing.assert_allclose(r.gsnr_db[2], r.gsnr_db[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.gsnr_01nm_db - r.gsnr_db, 10 * np.log10(32e9 / 12.5e9))


def test_power_transfer_exceeds_first_order_and_composes() -> None:
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 2e-3, size=(2, 12, 4))
    x = rng.uniform(0, 1e-3, size=(2, 12, 4))
    inv_g, inv_o = power_transfer_accumulation(a, x)
    first_order = a.sum(axis=1) + x.sum(axis=1)
    assert np.all(inv_g >= first_order)
    assert np.all(inv_g <= first_order * 1.05)
    assert np.all(inv_o <= inv_g)
    # composing two halves (as OMS segments) gives the whole chain
    lm, b = noise_share_factors(a, x)
    tot_lm, tot_b = compose_noise_shares(lm, b)
    h1 = compose_noise_shares(lm[:, :5], b[:, :5])
    h2 = compose_noise_shares(lm[:, 5:], b[:, 5:])
    seg_lm = np.stack([h1[0], h2[0]], axis=1)
    seg_b = np.stack([h1[1], h2[1]], axis=1)
    re_lm, re_b = compose_noise_shares(seg_lm, seg_b)
    np.testing.assert_allclose(re_lm, tot_lm, rtol=1e-12)
    np.testing.assert_allclose(re_b, tot_b, rtol=1e-12)
    flat_lm, flat_b = compose_noise_segments(lm.reshape(-1, 4), b.reshape(-1, 4), [0, 12])
    np.testing.assert_allclose(flat_lm, tot_lm, rtol=1e-12)
    np.testing.assert_allclose(flat_b, tot_b, rtol=1e-12)


def test_gsnr_of_chains_first_order_close_to_exact_accounting() -> None:
    r1 = lightpath_qot([[80.0, 80.0]], baud_rate_hz=32e9, roadm_count=0, channel_count=3)
    r2 = gsnr_of_chains(
        frequency_hz=channel_comb_hz(193.1e12, 50e9, 3),
        baud_rate_hz=32e9,
        span_length_km=[[80.0, 80.0]],
        span_loss_db_per_km=0.2,
        span_launch_power_dbm=0.0,
        amp_input_power_dbm=[[-16.0, -16.0]],
        amp_noise_figure_db=[[5.5, 5.5]],
        osnr_01nm_db=[[40.0]],
    )
    # two spans at GSNR ≈ 30 dB: the first-order sum differs from the exact one by ~0.001 dB
    np.testing.assert_allclose(r1.gsnr_db, r2.gsnr_db, atol=0.01)
    assert np.all(r1.gsnr_db <= r2.gsnr_db)


def test_model_range_errors() -> None:
    with pytest.raises(ModelRangeError, match="dispersion"):
        gn_model_analytic_eta([F_HZ], 32e9, 4.6e-5, [0.0], [1.3e-3], 80e3)
    with pytest.raises(ModelRangeError, match="loss"):
        gn_model_analytic_eta([F_HZ], 32e9, 0.0, [-2e-26], [1.3e-3], 80e3)
    with pytest.raises(ModelRangeError):
        power_transfer_accumulation([[[0.0]]], [[[1.5]]])
    with pytest.raises(ScenarioError, match="baud_rate_hz"):
        lightpath_qot([[80.0]], baud_rate_hz=0.0)
    with pytest.raises(ScenarioError, match="span_loss_db_per_km"):
        lightpath_qot([[80.0, 80.0]], baud_rate_hz=32e9, span_loss_db_per_km=[0.2, 0.2, 0.2])


def test_variable_gain_nf_model_reproduces_its_inputs() -> None:
    """GNPy std_medium_gain: NF 6 dB at 26 dB gain, 10 dB at 15 dB gain (eqpt_config.json)."""
    nf1, nf2, dp = variable_gain_nf_model(15, 26, 6.0, 10.0)
    amp = AmplifierType(
        type_variety="m",
        model="variable_gain",
        gain_flatmax_db=26,
        gain_min_db=15,
        p_max_dbm=23,
        nf1_db=nf1,
        nf2_db=nf2,
        nf_delta_p_db=dp,
    )
    assert amplifier_noise_figure_db(amp, 26.0) == pytest.approx(6.0, abs=0.01)
    assert amplifier_noise_figure_db(amp, 15.0) == pytest.approx(10.0, abs=0.01)
    # below gain_min the amplifier pads its input: NF rises dB for dB
    assert amplifier_noise_figure_db(amp, 13.0) == pytest.approx(12.0, abs=0.01)
    with pytest.raises(DataError, match="nf_min"):
        variable_gain_nf_model(15, 26, 10.0, 6.0, "Edfa 'x'")


def test_equipment_errors_name_section_variety_and_field() -> None:
    base = {
        "Edfa": [{"type_variety": "a", "type_def": "variable_gain", "gain_flatmax": 26}],
        "Roadm": [{"target_pch_out_db": -20}],
    }
    with pytest.raises(DataError, match=r"Edfa 'a'.*'gain_min'"):
        load_equipment(base)
    with pytest.raises(DataError, match=r"Edfa 'b'.*'type_def'"):
        load_equipment({"Edfa": [{"type_variety": "b", "type_def": "magic"}]})
    with pytest.raises(DataError, match=r"Roadm 'default'.*'target_pch_out_db'"):
        load_equipment({"Roadm": [{"add_drop_osnr": 38}]})
    with pytest.raises(DataError, match=r"Transceiver 't' mode 'm1'.*'baud_rate'"):
        load_equipment(
            {"Transceiver": [{"type_variety": "t", "mode": [{"format": "m1", "OSNR": 11}]}]}
        )
    with pytest.raises(DataError, match=r"Span.*'delta_power_range_db'"):
        load_equipment({"Span": [{"delta_power_range_db": [1, 2]}]})
    with pytest.raises(DataError, match="not valid JSON"):
        load_equipment(__file__)


def test_margin_and_roll_off_checks() -> None:
    r = lightpath_qot(
        [[80.0] * 10, [80.0] * 3 + [0.0] * 7],
        baud_rate_hz=32e9,
        channel_count=9,
        required_osnr_01nm_db=[12.0, 30.0],
    )
    assert r.margin_db is not None
    np.testing.assert_allclose(r.margin_db, r.gsnr_01nm_min_db - [12.0, 30.0])
    assert lightpath_qot([[80.0]], baud_rate_hz=32e9).margin_db is None
    with pytest.raises(ScenarioError, match="roll_off"):
        lightpath_qot([[80.0]], baud_rate_hz=32e9, roll_off=1.5)
    with pytest.raises(ScenarioError, match="spacing"):
        lightpath_qot([[80.0]], baud_rate_hz=64e9, spacing_hz=50e9, channel_count=3)
