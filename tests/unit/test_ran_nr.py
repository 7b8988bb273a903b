"""Unit tests of tsunagu.ran.nr (TS 38.214 MCS tables, SINR → SE mappings, PF sharing, bands)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ModelRangeError
from tsunagu.ran import nr


@pytest.mark.parametrize(
    ("name", "rows", "max_se", "max_qm"),
    [("qam64", 29, 5.5547, 6), ("qam256", 28, 7.4063, 8), ("qam1024", 27, 9.2578, 10)],
)
def test_mcs_tables_as_published(
    name: nr.McsTableName, rows: int, max_se: float, max_qm: int
) -> None:
    t = nr.mcs_table(name)
    assert t.mcs.size == rows
    assert list(t.mcs) == list(range(rows))
    # TS 38.214 prints SE = Qm · R/1024 to 4 decimals: every row must agree to that rounding.
    np.testing.assert_allclose(t.se_bps_per_hz, t.qm * t.rate_x1024 / 1024.0, atol=6e-5)
    assert float(t.se_bps_per_hz[-1]) == max_se
    assert int(t.qm.max()) == max_qm
    assert float(t.se_bps_per_hz[0]) == 0.2344  # MCS 0: QPSK, R = 120/1024
    assert set(np.unique(t.qm)) <= {2, 4, 6, 8, 10}


def test_mcs_mapping_quantises_truncated_shannon() -> None:
    s = np.linspace(-15.0, 45.0, 601)
    se_mcs = nr.spectral_efficiency_bps_per_hz(s, "mcs", "qam256")
    bound = 0.6 * np.log2(1.0 + 10.0 ** (s / 10.0))
    assert np.all(se_mcs <= bound + 1e-12)
    assert np.all(np.diff(se_mcs) >= 0.0)
    # Table 1's non-monotone pair: 2.568 b/s/Hz fits MCS 17 (2.5664) but not MCS 16 (2.5703).
    s_17 = 10 * np.log10(2 ** (2.568 / 0.6) - 1)
    assert int(nr.mcs_index(s_17, "qam64")) == 17
    assert float(se_mcs[-1]) == 7.4063
    # 10 dB: 0.6·log2(11) = 2.0757 → highest MCS ≤ that is MCS 7 (1.9141).
    assert int(nr.mcs_index(10.0)) == 7
    assert float(nr.spectral_efficiency_bps_per_hz(-np.inf, "mcs")) == 0.0
    assert float(nr.spectral_efficiency_bps_per_hz(-np.inf)) == 0.0


@settings(max_examples=50, deadline=None)
@given(a=st.floats(-40, 60), b=st.floats(-40, 60))
def test_mappings_monotone(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    for mapping in ("shannon", "mcs"):
        se = nr.spectral_efficiency_bps_per_hz(np.array([lo, hi]), mapping)  # type: ignore[arg-type]
        assert 0.0 <= se[0] <= se[1]


def test_pf_full_buffer_shares() -> None:
    se = np.array([2.0, 4.0, 1.0, 3.0])
    serving = np.array([0, 0, 1, -1])
    rate, n = nr.pf_user_rate_bps(se, serving, 2, 10e6, 0.14)
    # Cell 0 has two users: each gets SE · B · (1 − OH) / 2.
    np.testing.assert_allclose(rate, [2 * 10e6 * 0.86 / 2, 4 * 10e6 * 0.86 / 2, 1 * 10e6 * 0.86, 0])
    np.testing.assert_array_equal(n, [2.0, 1.0])
    rate_w, _ = nr.pf_user_rate_bps(se, serving, 2, 10e6, 0.14, users=[5.0, 5.0, 0.5, 1.0])
    assert rate_w[0] == pytest.approx(2 * 10e6 * 0.86 / 10)
    assert rate_w[2] == pytest.approx(10e6 * 0.86)  # fewer than one user: no sharing
    # Σ over users of rate/SE·B(1−OH) is the cell's time share: exactly 1 per loaded cell.
    assert float(ps := nr.ps_mean_rate_bps(100e6, 0.75)) == 25e6
    assert ps > 0
    assert float(nr.ps_mean_rate_bps(100e6, 1.2)) == 0.0


def test_bands_and_overheads() -> None:
    nr.check_carrier_band("n78", 3.7, 100.0)
    nr.check_carrier_band("n79", 4.5, 100.0)
    nr.check_carrier_band("n257", 28.0, 400.0)
    nr.check_carrier_band("imt-7.125-8.4", 7.5, 200.0)
    nr.check_carrier_band("my-own-band", 12.0, 100.0)  # unknown bands are not checked
    with pytest.raises(ModelRangeError, match="outside band n78"):
        nr.check_carrier_band("n78", 3.78, 100.0)
    assert nr.dl_overhead(3.7) == 0.14
    assert nr.dl_overhead(28.0) == 0.18
    with pytest.raises(ModelRangeError, match="qam64"):
        nr.mcs_table("qam16")  # type: ignore[arg-type]
    with pytest.raises(ModelRangeError, match="mapping"):
        nr.spectral_efficiency_bps_per_hz(0.0, "lut")  # type: ignore[arg-type]
