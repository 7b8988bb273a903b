"""Unit tests of tsunagu.ran.rate (noise, truncated Shannon, NR peak rate, N_RB table)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ModelRangeError
from tsunagu.ran import rate


def test_thermal_noise() -> None:
    # −174 + 10·log10(20e6) + 9 = −174 + 73.0103 + 9
    assert float(rate.thermal_noise_dbm(20e6, 9.0)) == pytest.approx(-91.9897, abs=1e-4)
    with pytest.raises(ModelRangeError, match="bandwidth_hz"):
        rate.thermal_noise_dbm(0.0, 7.0)


def test_truncated_shannon_dl_and_ul_maxima() -> None:
    # TR 38.803 Annex A.1: DL 0.6·log2(1 + 10^3) = 5.98, UL 0.4·log2(1 + 10^2.2) = 2.93 b/s/Hz.
    assert float(rate.truncated_shannon_bps_per_hz(50.0)) == pytest.approx(5.98, abs=0.005)
    alpha, lo, hi = rate.UL_TRUNCATED_SHANNON
    ul = rate.truncated_shannon_bps_per_hz(50.0, alpha, lo, hi)
    assert float(ul) == pytest.approx(2.93, abs=0.005)
    assert float(rate.truncated_shannon_bps_per_hz(-10.0001)) == 0.0
    # At 10 dB: 0.6·log2(11) = 2.0757
    assert float(rate.truncated_shannon_bps_per_hz(10.0)) == pytest.approx(
        0.6 * np.log2(11.0), rel=1e-12
    )
    assert float(rate.truncated_shannon_bps_per_hz(40.0, se_max_bps_per_hz=4.4)) == 4.4


@settings(max_examples=100, deadline=None)
@given(a=st.floats(-30, 60), b=st.floats(-30, 60))
def test_truncated_shannon_monotone_and_bounded(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    se = rate.truncated_shannon_bps_per_hz(np.array([lo, hi]))
    assert se[0] <= se[1]
    assert se[0] >= 0.0
    assert se[1] <= 0.6 * np.log2(1001.0) + 1e-12


def test_truncated_shannon_bad_input() -> None:
    with pytest.raises(ModelRangeError, match="alpha"):
        rate.truncated_shannon_bps_per_hz(0.0, alpha=0.0)
    with pytest.raises(ModelRangeError, match="sinr_min_db"):
        rate.truncated_shannon_bps_per_hz(0.0, sinr_min_db=10.0, sinr_max_db=5.0)


def test_peak_rate_scales_linearly() -> None:
    base = float(rate.nr_peak_rate_bps(1, 2, 100, 0, 0.0))
    # 1·2·(948/1024)·100·12·14000 = 31,106,250 b/s
    assert base == pytest.approx(2 * 948 / 1024 * 100 * 12 * 14_000, rel=1e-12)
    assert float(rate.nr_peak_rate_bps(2, 2, 100, 0, 0.0)) == pytest.approx(2 * base)
    assert float(rate.nr_peak_rate_bps(1, 2, 100, 1, 0.0)) == pytest.approx(2 * base)
    assert float(rate.nr_peak_rate_bps(1, 2, 100, 0, 0.0, scaling=0.75)) == pytest.approx(
        0.75 * base
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layers": 9}, "layers"),
        ({"qm": 3}, "qm"),
        ({"n_prb": 0}, "n_prb"),
        ({"mu": 7}, "mu"),
        ({"overhead": 1.0}, "overhead"),
        ({"scaling": 0.5}, "scaling"),
    ],
)
def test_peak_rate_bad_input(kwargs: dict[str, float], match: str) -> None:
    args: dict[str, float] = {"layers": 4, "qm": 8, "n_prb": 273, "mu": 1, "overhead": 0.14}
    args.update(kwargs)
    with pytest.raises(ModelRangeError, match=match):
        rate.nr_peak_rate_bps(**args)


@pytest.mark.parametrize(
    ("bw", "scs", "fr", "n"),
    [
        (100, 30, "FR1", 273),
        (20, 15, "FR1", 106),
        (40, 30, "FR1", 106),
        (100, 60, "FR1", 135),
        (50, 60, "FR2", 66),
        (100, 60, "FR2", 132),
        (100, 120, "FR2", 66),
        (400, 120, "FR2", 264),
    ],
)
def test_n_prb_table(bw: int, scs: int, fr: rate.FrequencyRange, n: int) -> None:
    assert rate.n_prb(bw, scs, fr) == n


def test_n_prb_unknown_combination() -> None:
    with pytest.raises(ModelRangeError, match="pass one of"):
        rate.n_prb(60, 15, "FR1")
    with pytest.raises(ModelRangeError, match="no entry"):
        rate.n_prb(100, 240, "FR2")
    with pytest.raises(ModelRangeError, match="pass one of"):
        rate.n_prb(20.5, 30)
