"""Compute data and models: shipped carbon intensities, AI service profiles, chains, M/M/c."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.compute.carbon import load_carbon_intensity
from tsunagu.compute.models import erlang_c, mmc_wait_quantile_s
from tsunagu.compute.services import (
    ServiceChain,
    ServiceProfile,
    chain_latency_s,
    load_service_profiles,
)
from tsunagu.errors import DataError, ModelRangeError
from tsunagu.scenario import load_scenario


def test_shipped_carbon_intensity_matches_the_default_scenario() -> None:
    data = load_carbon_intensity()
    # Electricity Maps 2024 lifecycle via co2.js (REFERENCES.md): JP 464 ... Okinawa 593.
    assert data["Japan"] == 464.0
    assert data["Kyushu"] == 309.0
    assert data["Okinawa"] == 593.0
    assert len(data) == 11
    sc = load_scenario("japan-2030")
    assert sc.compute.carbon_intensity_g_per_kwh == data


def test_service_profiles_carry_sources_and_gpu_seconds() -> None:
    prof = load_service_profiles()
    assert prof["llm-chat"].energy_wh_per_request == 0.34
    assert prof["image-generation"].energy_wh_per_request == 2.9
    assert all(p.energy_source for p in prof.values())
    # 0.34 Wh on a 700 W H100 occupies 3600 · 0.34 / 700 = 1.7486 GPU-seconds.
    assert float(prof["llm-chat"].gpu_s_per_request(700.0)) == pytest.approx(1.748571, rel=1e-6)
    with pytest.raises(DataError, match="unknown AI service profiles"):
        load_service_profiles(["nope"])
    with pytest.raises(ModelRangeError):
        ServiceProfile("bad", 0.0, 1.0)


def test_chain_latency_adds_hops_between_stages() -> None:
    access = np.array([0.001, 0.004, 0.010])
    d = np.array([[0.0, 0.003, 0.009], [0.003, 0.0, 0.006], [0.009, 0.006, 0.0]])
    proc = np.array([0.02, 0.05])
    placements = np.array([[0, 0], [0, 1], [2, 1]])
    got = chain_latency_s(access, d, proc, placements)
    expected = [
        0.001 + 0.0 + 0.001 + 0.07,
        0.001 + 0.003 + 0.004 + 0.07,
        0.010 + 0.006 + 0.004 + 0.07,
    ]
    assert got == pytest.approx(expected)
    with pytest.raises(ModelRangeError, match="one site index per stage"):
        chain_latency_s(access, d, proc, [[0, 1, 2]])
    chain = ServiceChain("c", (ServiceProfile("a", 0.1, 0.02), ServiceProfile("b", 0.2, 0.05)))
    assert chain.as_profile().latency_s == pytest.approx(float(proc.sum()))
    assert chain.energy_wh_per_request == pytest.approx(0.3)


def test_mm1_wait_quantile_closed_form() -> None:
    # M/M/1: P(W > t) = ρ·exp(−(μ − λ)t). λ = 0.8, μ = 1: p95 = ln(0.8/0.05)/0.2 = 13.8629 s.
    assert float(mmc_wait_quantile_s(0.8, 1.0, 1, 0.95)) == pytest.approx(
        np.log(0.8 / 0.05) / 0.2, rel=1e-12
    )
    # Below the probability of waiting the quantile is zero; overload is infinite.
    assert float(mmc_wait_quantile_s(0.1, 1.0, 1, 0.5)) == 0.0
    assert np.isinf(mmc_wait_quantile_s(2.0, 1.0, 1, 0.5))
    with pytest.raises(ModelRangeError, match="quantile"):
        mmc_wait_quantile_s(0.1, 1.0, 1, 1.0)


@settings(max_examples=50, deadline=None)
@given(
    c=st.integers(1, 200),
    rho=st.floats(0.05, 0.98),
    q=st.floats(0.0, 0.999),
)
def test_wait_quantile_inverts_the_tail(c: int, rho: float, q: float) -> None:
    lam = rho * c  # μ = 1
    t = float(mmc_wait_quantile_s(lam, 1.0, c, q))
    pw = float(erlang_c(c, lam))
    tail = pw * np.exp(-(c - lam) * t)
    if t > 0:
        assert tail == pytest.approx(1.0 - q, rel=1e-9)
    else:
        assert pw <= 1.0 - q + 1e-12
