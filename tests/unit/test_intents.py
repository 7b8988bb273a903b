"""Intents on the minimal twin: options, each binding constraint named with its numbers, online
admission with capacity bookkeeping and release, and the invariants of every admission."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.compute.services import ServiceChain, ServiceProfile
from tsunagu.constants import C_M_PER_S
from tsunagu.errors import ScenarioError
from tsunagu.geo import geodetic_to_ecef
from tsunagu.orchestrate.admission import OnlineAdmission
from tsunagu.orchestrate.intents import evaluate_intents, make_intents
from tsunagu.orchestrate.policy import AllocationProblem, get_policy
from tsunagu.orchestrate.view import NetworkView, view_from_twin
from tsunagu.scenario import load_scenario
from tsunagu.sim.twin import Twin

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
SMALL_AI = ServiceProfile("small-ai", energy_wh_per_request=0.05, latency_s=0.01)


@pytest.fixture(scope="module")
def twin() -> Twin:
    return Twin(load_scenario(MINIMAL))


@pytest.fixture(scope="module")
def view(twin: Twin) -> NetworkView:
    return view_from_twin(twin, 0.0)


def _ms(text: str, label: str) -> float:
    m = re.search(label + r" ([0-9.]+) ms", text)
    assert m, text
    return float(m.group(1))


def test_view_respects_the_geometry_floor(view: NetworkView) -> None:
    finite = np.isfinite(view.one_way_s)
    floor = np.broadcast_to(view.geometry_floor_s[:, None, :], view.one_way_s.shape)
    assert finite.any()
    assert np.all(view.one_way_s[finite] >= floor[finite])


def test_latency_floor_from_geometry_is_named(twin: Twin, view: NetworkView) -> None:
    p = int(np.argmax(view.geometry_floor_s.min(axis=1)))  # the point farthest from any site
    it = make_intents(view, [p], SMALL_AI, sla_latency_ms=10.5)
    # Independent floor: chord to the nearest site at c, there and back, plus processing.
    sites = twin.scenario.compute.sites
    sx, sy, sz = geodetic_to_ecef([s.lat_deg for s in sites], [s.lon_deg for s in sites], 0.0)
    chord = np.linalg.norm(np.stack([sx, sy, sz], -1) - twin.demand.ecef_m[p], axis=1)
    floor_ms = (2.0 * chord.min() / C_M_PER_S + SMALL_AI.latency_s) * 1e3
    assert floor_ms > 10.5  # the intent is infeasible by physics alone
    opts = evaluate_intents(view, it)
    assert opts.constraint[0] == 3
    reason = str(opts.reason[0])
    assert reason.startswith("latency floor")
    assert _ms(reason, "latency floor") == pytest.approx(floor_ms, abs=0.005)
    assert "> SLA 10.50 ms at p95" in reason


def test_latency_beyond_the_floor_is_named(view: NetworkView) -> None:
    p = 0
    floor_s = 2.0 * view.geometry_floor_s[p].min() + SMALL_AI.latency_s
    best_s = float(np.min(2.0 * view.one_way_s[p])) + SMALL_AI.latency_s
    sla_ms = (floor_s + best_s) / 2.0 * 1e3
    it = make_intents(view, [p], SMALL_AI, sla_latency_ms=sla_ms, request_bytes=1, response_bytes=1)
    opts = evaluate_intents(view, it)
    assert opts.constraint[0] == 4
    reason = str(opts.reason[0])
    assert _ms(reason, "best option") >= sla_ms
    assert _ms(reason, "geometry floor") == pytest.approx(floor_s * 1e3, abs=0.005)


def test_availability_is_named(twin: Twin) -> None:
    v = view_from_twin(twin, 0.0, site_availability=0.999)
    it = make_intents(v, [0], SMALL_AI, sla_latency_ms=500.0, availability=0.9999)
    opts = evaluate_intents(v, it)
    assert opts.constraint[0] == 5
    assert "availability" in str(opts.reason[0])
    assert "< required 0.999900" in str(opts.reason[0])
    ok = make_intents(v, [0], SMALL_AI, sla_latency_ms=500.0, availability=0.998)
    assert evaluate_intents(v, ok).constraint[0] == 0


def test_bandwidth_and_no_access_are_named(twin: Twin, view: NetworkView) -> None:
    it = make_intents(view, [0], SMALL_AI, sla_latency_ms=500.0, bandwidth_bps=1e12)
    opts = evaluate_intents(view, it)
    assert opts.constraint[0] == 2
    assert "bandwidth: SLA 1e+06 Mb/s" in str(opts.reason[0])
    dark = view_from_twin(twin, 0.0, ran_up=np.zeros(view.n_points, dtype=bool))
    ran_only = dataclasses.replace(
        make_intents(dark, [0], SMALL_AI, sla_latency_ms=500.0),
        allowed_access=np.array([[True, False, False]]),
    )
    opts = evaluate_intents(dark, ran_only)
    assert opts.constraint[0] == 1
    assert str(opts.reason[0]).startswith("no access at")


def test_capacity_is_named_and_released_after_holding(view: NetworkView) -> None:
    caps = view.site_capacity_gpu  # dc-tokyo 5400, dc-osaka 2700, edge-nagoya 7.2 GPU
    gpu_per_request = 3600.0 * SMALL_AI.energy_wh_per_request / 700.0
    rate = 0.4 * caps.max() / gpu_per_request  # each intent takes 40 % of the largest site
    it = make_intents(
        view,
        [0] * 5,
        SMALL_AI,
        sla_latency_ms=1000.0,
        request_rate_per_s=rate,
        arrival_s=[0.0, 1.0, 2.0, 3.0, 11.0],
        holding_s=10.0,
    )
    adm = OnlineAdmission(view, "latency-first")
    res = adm.admit(it)
    # Two fit the largest site, one the second; the fourth finds no site with that much free;
    # the fifth arrives after the first ended (t = 10 s) and takes its place.
    assert res.admitted.tolist() == [True, True, True, False, True]
    assert res.constraint_names().tolist() == ["", "", "", "capacity", ""]
    assert res.site[0] == res.site[1] == res.site[4] == int(np.argmax(caps))
    assert "capacity:" in str(res.reason[3])
    assert adm.active == 2  # at t = 11 s the first two (ending at 10 s and 11 s) were released
    assert np.all(adm.remaining_gpu >= -1e-9)
    adm.release_until(1e9)
    assert np.allclose(adm.remaining_gpu, view.site_capacity_gpu)
    with pytest.raises(ScenarioError, match="time order"):
        adm.admit(make_intents(view, [0], SMALL_AI, sla_latency_ms=1000.0, arrival_s=5.0))


def test_carbon_first_prefers_the_cleaner_grid(view: NetworkView) -> None:
    tokyo = int(np.argmin(view.geometry_floor_s[:, 0]))  # the point nearest dc-tokyo
    it = make_intents(view, [tokyo], SMALL_AI, sla_latency_ms=1000.0)
    lat = OnlineAdmission(view, "latency-first").admit(it)
    co2 = OnlineAdmission(view, "carbon-first").admit(it)
    assert view.site_name[lat.site[0]] == "dc-tokyo"
    # Kansai (365 g/kWh) beats Tokyo (539 g/kWh) at the same PUE.
    assert view.site_carbon_g_per_kwh[co2.site[0]] == pytest.approx(365.0)
    # A tight SLA that only the near site meets keeps carbon-first there.
    tight_ms = float(lat.latency_s[0]) * 1e3 * 1.01
    it2 = make_intents(view, [tokyo], SMALL_AI, sla_latency_ms=tight_ms)
    co2_tight = OnlineAdmission(view, "carbon-first").admit(it2)
    assert co2_tight.admitted[0]
    assert co2_tight.latency_s[0] <= tight_ms / 1e3


def test_chain_is_placed_as_one_service(view: NetworkView) -> None:
    chain = ServiceChain("asr-llm-tts", (SMALL_AI, SMALL_AI, SMALL_AI))
    it = make_intents(view, [0], chain, sla_latency_ms=1000.0)
    assert it.processing_s[0] == pytest.approx(0.03)
    assert it.energy_wh_per_request[0] == pytest.approx(0.15)


class _AllocateOnly:
    """A user policy without ``preference``: admission must ask it per arrival."""

    name = "allocate-only"

    def allocate(self, problem: AllocationProblem) -> np.ndarray:
        return get_policy("latency-first").allocate(problem)


def test_policies_without_preference_admit_the_same(view: NetworkView) -> None:
    rng = np.random.default_rng(5)
    n = 80
    it = make_intents(
        view,
        rng.integers(0, view.n_points, n),
        SMALL_AI,
        sla_latency_ms=rng.uniform(10.0, 60.0, n),
        request_rate_per_s=rng.uniform(1.0, 3e4, n),
        arrival_s=np.sort(rng.uniform(0.0, 10.0, n)),
        holding_s=rng.exponential(3.0, n) + 1e-3,
    )
    fast = OnlineAdmission(view, "latency-first").admit(it)
    slow = OnlineAdmission(view, _AllocateOnly()).admit(it)
    assert 0 < fast.admitted.sum() < n  # capacity binds for some
    assert np.array_equal(fast.site, slow.site)
    assert np.array_equal(fast.constraint, slow.constraint)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    policy=st.sampled_from(["latency-first", "energy-first", "carbon-first"]),
)
def test_every_admission_meets_its_sla_and_capacity(
    view: NetworkView, seed: int, n: int, policy: str
) -> None:
    rng = np.random.default_rng(seed)
    it = make_intents(
        view,
        rng.integers(0, view.n_points, n),
        SMALL_AI,
        sla_latency_ms=rng.uniform(1.0, 60.0, n),
        percentile=rng.choice([0.5, 0.95, 0.999], n),
        availability=rng.choice([0.0, 0.99], n),
        bandwidth_bps=rng.choice([1e6, 100e6], n),
        request_rate_per_s=rng.uniform(1.0, 2e4, n),
        arrival_s=np.sort(rng.uniform(0.0, 10.0, n)),
        holding_s=rng.exponential(3.0, n) + 1e-3,
    )
    adm = OnlineAdmission(view, policy)
    res = adm.admit(it)
    a = res.admitted
    p = it.point[a]
    floor = 2.0 * view.geometry_floor_s[p, res.site[a]] + it.processing_s[a]
    assert np.all(res.latency_s[a] >= floor)
    assert np.all(res.latency_s[a] <= it.sla_latency_s[a])
    assert np.all(res.availability[a] >= it.availability[a])
    assert np.all(adm.remaining_gpu >= -1e-6)
    assert np.all(view.access_ok[p, res.access[a]])
    # Every rejection names one constraint and says it in words.
    assert np.all((res.constraint == 0) == a)
    assert all(r for r in res.reason[~a])


def test_a_site_outage_in_the_state_moves_intents_elsewhere(twin: Twin) -> None:
    state = twin.state(0.0)
    up = np.asarray(state.nodes.up).copy()
    up[twin.idx_site[0]] = False  # dc-tokyo down
    v = view_from_twin(twin, 0.0, state=state.with_up(node_up=up))
    assert not v.site_up[0]
    assert np.all(np.isinf(v.one_way_s[:, :, 0]))
    assert v.site_capacity_gpu[0] == 0.0
    res = OnlineAdmission(v, "latency-first").admit(
        make_intents(v, np.arange(5), SMALL_AI, sla_latency_ms=1000.0)
    )
    assert res.admitted.all()
    assert np.all(res.site != 0)


def test_points_by_name_and_bad_inputs_are_named(view: NetworkView) -> None:
    name = str(view.point_name[3])
    it = make_intents(view, [name], SMALL_AI, sla_latency_ms=100.0)
    assert view.point_name[it.point[0]] == name
    with pytest.raises(ScenarioError, match="unknown demand point 'Atlantis'"):
        make_intents(view, ["Atlantis"], SMALL_AI, sla_latency_ms=100.0)
    with pytest.raises(ScenarioError, match="unknown device class 'tractor'"):
        make_intents(view, [0], SMALL_AI, sla_latency_ms=100.0, device="tractor")
    with pytest.raises(ScenarioError, match="percentile"):
        make_intents(view, [0], SMALL_AI, sla_latency_ms=100.0, percentile=95.0)
