"""Compute data and models: shipped carbon intensities, AI service profiles, chains, M/M/c."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.compute.carbon import load_carbon_intensity
from tsunagu.compute.models import (
    carbon_kg,
    erlang_b,
    erlang_c,
    gpu_seconds_per_request,
    mmc_mean_wait_s,
    mmc_wait_quantile_s,
    site_energy_kwh,
)
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


def _erlang_b_recursion(c: int, a: float) -> float:
    # The textbook recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)), independent of the
    # Poisson-ratio form the model uses.
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def test_erlang_b_against_recursion_and_table() -> None:
    for c, a in ((1, 1.0), (1, 0.3), (5, 2.0), (10, 4.46), (30, 25.0), (100, 120.0)):
        assert float(erlang_b(c, a)) == pytest.approx(_erlang_b_recursion(c, a), rel=1e-10)
    assert float(erlang_b(1, 1.0)) == pytest.approx(0.5, rel=1e-12)  # a / (1 + a)
    # Erlang B tables: 10 circuits carry 4.46 E at 1 % blocking (to the table's 3 digits).
    assert float(erlang_b(10, 4.46)) == pytest.approx(0.0100, abs=5e-5)
    # No traffic, no blocking; integer input is accepted.
    assert float(erlang_b(5, 0.0)) == 0.0
    assert float(erlang_b(5, 2)) == pytest.approx(_erlang_b_recursion(5, 2.0), rel=1e-10)


@pytest.mark.parametrize(("c", "a"), [(0, 1.0), (0.5, 1.0), (3, -1.0)])
def test_erlang_b_rejects_bad_input(c: float, a: float) -> None:
    with pytest.raises(ModelRangeError, match="erlang_b"):
        erlang_b(c, a)


def test_erlang_c_closed_forms() -> None:
    # M/M/1: C = ρ. M/M/2: C = 2ρ² / (1 + ρ) (Kleinrock 1975, §3.6 with c = 2).
    assert float(erlang_c(1, 0.6)) == pytest.approx(0.6, rel=1e-12)
    rho = 0.7
    assert float(erlang_c(2, 2 * rho)) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-12)
    # At and beyond ρ = 1 every arrival waits: exactly 1, never 1 ± rounding.
    for c in range(1, 40):
        assert float(erlang_c(c, float(c))) == 1.0
    assert erlang_c([2, 2, 2], [3.0, 5.0, 1.0]).tolist()[:2] == [1.0, 1.0]


def test_mmc_mean_wait_closed_forms_with_service_time() -> None:
    # M/M/1, mean service 2 s, λ = 0.3/s: ρ = 0.6, W = ρ·s / (1 − ρ) = 3 s.
    assert float(mmc_mean_wait_s(0.3, 2.0, 1)) == pytest.approx(3.0, rel=1e-12)
    # M/M/2, s = 0.5 s, λ = 2.8/s: ρ = 0.7, C = 2ρ²/(1+ρ), W = C / (cμ − λ) = C / 1.2.
    c_wait = 2 * 0.7**2 / 1.7
    assert float(mmc_mean_wait_s(2.8, 0.5, 2)) == pytest.approx(c_wait / 1.2, rel=1e-12)
    # No arrivals: no wait; integer input accepted.
    assert float(mmc_mean_wait_s(0, 1, 2)) == 0.0
    # At the critical load and beyond, the queue grows without bound.
    assert mmc_mean_wait_s([2.0, 3.0], 1.0, 2).tolist() == [np.inf, np.inf]


@pytest.mark.parametrize(("lam", "s", "c"), [(-1.0, 1.0, 2), (1.0, 0.0, 2), (1.0, 1.0, 0)])
def test_mmc_models_reject_bad_input(lam: float, s: float, c: int) -> None:
    with pytest.raises(ModelRangeError, match="mmc_mean_wait_s"):
        mmc_mean_wait_s(lam, s, c)
    with pytest.raises(ModelRangeError, match="mmc_wait_quantile_s"):
        mmc_wait_quantile_s(lam, s, c, 0.5)


def test_mmc_wait_quantile_with_service_time_and_edges() -> None:
    # M/M/1, s = 2 s, λ = 0.3/s: C = 0.6, cμ − λ = 0.2/s, p95 = ln(0.6 / 0.05) / 0.2.
    assert float(mmc_wait_quantile_s(0.3, 2.0, 1, 0.95)) == pytest.approx(
        np.log(0.6 / 0.05) / 0.2, rel=1e-12
    )
    # No arrivals: nobody waits (C = 0, whose logarithm must not warn).
    assert float(mmc_wait_quantile_s(0.0, 1.0, 3, 0.95)) == 0.0
    # At exactly the critical load the quantile is infinite.
    assert np.isinf(mmc_wait_quantile_s(2.0, 1.0, 2, 0.5))
    # Median of M/M/1 at ρ = 0.5 (C = 0.5 = 1 − q): zero; integer quantile 0 is accepted.
    assert float(mmc_wait_quantile_s(0.5, 1.0, 1, 0.5)) == 0.0
    assert float(mmc_wait_quantile_s(0.5, 1.0, 1, 0)) == 0.0


def test_gpu_seconds_energy_and_carbon() -> None:
    # 1 Wh at 700 W: 3600/700 s; a low-power accelerator (0.5 W) is legal.
    assert float(gpu_seconds_per_request(1.0, 700.0)) == pytest.approx(3600.0 / 700.0)
    assert float(gpu_seconds_per_request(0.01, 0.5)) == pytest.approx(72.0)
    for e, p in ((0.0, 700.0), (-1.0, 700.0), (1.0, 0.0), (1.0, -700.0)):
        with pytest.raises(ModelRangeError):
            gpu_seconds_per_request(e, p)
    # 1,000 requests × 0.3 Wh at PUE 1.2 = 0.36 kWh; PUE 1 (no overhead) is the floor.
    assert float(site_energy_kwh(1000, 0.3, 1.2)) == pytest.approx(0.36, rel=1e-12)
    assert float(site_energy_kwh(1000, 0.3, 1.0)) == pytest.approx(0.3, rel=1e-12)
    with pytest.raises(ModelRangeError, match="PUE"):
        site_energy_kwh(1000, 0.3, 0.95)
    # 0.36 kWh at Japan's 464 g/kWh = 0.16704 kg CO2-eq.
    assert float(carbon_kg(0.36, 464.0)) == pytest.approx(0.16704, rel=1e-12)
    assert carbon_kg([1.0, 2.0], 500).tolist() == [0.5, 1.0]
