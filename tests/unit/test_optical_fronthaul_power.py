"""Fronthaul bit rate and latency reach; APN lightpath vs IP-hop power and latency."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ModelRangeError
from tsunagu.optical import fronthaul as fh
from tsunagu.optical import power as pw


def test_prb_bits_match_the_oran_payload_sizes() -> None:
    # Bytes per PRB of IQ data = 3 × udIqWidth (12 subcarriers × I,Q); BFP adds 1 exponent byte.
    widths = np.arange(1, 17)
    np.testing.assert_array_equal(fh.split72_prb_bits(widths, "none") / 8, 3 * widths)
    np.testing.assert_array_equal(fh.split72_prb_bits(widths, "bfp") / 8, 3 * widths + 1)


def test_split72_rate_by_hand_for_n78_100mhz_4_layers() -> None:
    # 273 PRB × 28 B (BFP-9) = 7,644 B in one jumbo message per symbol and stream, + 12 B
    # eCPRI/O-RAN/section headers + 2 B compression header + 42 B Ethernet on the wire;
    # 14 × 2 × 1000 = 28,000 symbols/s at 30 kHz; 4 streams.
    wire_bytes = 273 * 28 + 4 + 4 + 4 + 2 + 42
    expected = wire_bytes * 8 * 28_000 * 4
    assert float(fh.split72_bitrate_bps(273, 30, 4)) == pytest.approx(expected, rel=1e-12)


def test_split72_standard_mtu_splits_a_symbol_into_messages() -> None:
    # 16-bit fixed point: 48 B per PRB; (1500 − 12) B hold 31 PRBs → 9 messages for 273 PRBs.
    wire_bytes = 273 * 48 + 9 * (12 + 42)
    expected = wire_bytes * 8 * 28_000 * 2
    got = fh.split72_bitrate_bps(273, 30, 2, iq_width_bits=16, compression="none", mtu_bytes=1500)
    assert float(got) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    prb=st.integers(1, 275),
    mu=st.integers(0, 3),
    streams=st.integers(1, 16),
    width=st.integers(1, 16),
    util=st.floats(0.0, 1.0),
)
def test_split72_rate_is_monotone_and_at_least_the_payload(
    prb: int, mu: int, streams: int, width: int, util: float
) -> None:
    scs = 15 * 2**mu
    rate = float(fh.split72_bitrate_bps(prb, scs, streams, width, prb_utilisation=util))
    payload = np.ceil(prb * util) * (24 * width + 8) * 14 * 2**mu * 1000 * streams
    assert rate >= payload
    assert rate <= float(fh.split72_bitrate_bps(prb, scs, streams + 1, width, prb_utilisation=util))
    if width < 16:
        assert rate <= float(
            fh.split72_bitrate_bps(prb, scs, streams, width + 1, prb_utilisation=util)
        )


def test_fronthaul_reach_from_latency_classes() -> None:
    reach = fh.fronthaul_reach_km(
        [fh.ECPRI_LATENCY_CLASS_S[c] for c in ("high25", "high100", "high200", "high500")]
    )
    # 4.897 µs/km in fibre: 100 µs ≈ 20.4 km.
    np.testing.assert_allclose(reach, np.array([25, 100, 200, 500]) / 4.8967, rtol=1e-4)
    assert float(fh.fronthaul_reach_km(100e-6, equipment_delay_s=200e-6)) == 0.0


def test_fronthaul_rejects_bad_inputs() -> None:
    with pytest.raises(ModelRangeError, match="15·2"):
        fh.split72_bitrate_bps(273, 20, 4)
    with pytest.raises(ModelRangeError, match="IQ width"):
        fh.split72_bitrate_bps(273, 30, 4, iq_width_bits=20)
    with pytest.raises(ModelRangeError, match="compression"):
        fh.split72_prb_bits(9, "mulaw")  # type: ignore[arg-type]


def _compare(traffic: float, hops: int) -> pw.PathComparison:
    return pw.compare_apn_ip(
        traffic,
        1000e3,
        hops,
        12,
        transceiver_rate_bps=400e9,
        transceiver_power_w=16.0,
        amplifier_power_w=110.0,
        roadm_degree_power_w=85.0,
        router_power_w_per_bps=10e-9,
        router_delay_s=20e-6,
        spectrum_share_per_lightpath=1 / 64,
    )


def test_apn_vs_ip_by_hand() -> None:
    c = _compare(400e9, 4)
    share = 1 / 64
    line = share * (12 * 110.0 + 8 * 85.0)
    apn = 2 * 16.0 + line + 2 * 400.0 * 10.0
    ip = 4 * 2 * 16.0 + line + 5 * 400.0 * 10.0
    assert float(c.apn_power_w) == pytest.approx(apn)
    assert float(c.ip_power_w) == pytest.approx(ip)
    assert float(c.apn_w_per_gbps) == pytest.approx(apn / 400.0)
    tx = 8 * 1500 / 400e9
    per_router = 20e-6 + tx / (1 - 0.5)
    prop = 1000e3 * 1.468 / 299_792_458.0
    assert float(c.apn_latency_s) == pytest.approx(prop + 2 * per_router)
    assert float(c.ip_latency_s) == pytest.approx(prop + 5 * per_router)


@settings(max_examples=60, deadline=None)
@given(traffic=st.floats(1e9, 4e12), hops=st.integers(1, 12))
def test_bypass_never_costs_more_and_one_hop_is_equal(traffic: float, hops: int) -> None:
    c = _compare(traffic, hops)
    assert float(c.apn_power_w) <= float(c.ip_power_w) + 1e-9
    assert float(c.apn_latency_s) <= float(c.ip_latency_s) + 1e-15
    if hops == 1:
        assert float(c.apn_power_w) == pytest.approx(float(c.ip_power_w))
        assert float(c.apn_latency_s) == pytest.approx(float(c.ip_latency_s))


def test_power_rejects_bad_inputs() -> None:
    with pytest.raises(ModelRangeError, match="share"):
        pw.lightpath_power_w(1, 16, 1, 110, 2, 85, 1.5)
    with pytest.raises(ModelRangeError, match="utilisation"):
        pw.ip_path_latency_s(1e3, 2, 20e-6, 400e9, utilisation=1.0)
    with pytest.raises(ModelRangeError, match="at least one hop"):
        pw.ip_path_power_w(1e9, 0, 1e-8, 400e9, 16, 0, 0, 0, 0, 0.1)
