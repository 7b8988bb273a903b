"""Invariants of the twin and the engine on the minimal scenario, and of their model functions."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu import geo
from tsunagu.compute.models import erlang_c, mmc_mean_wait_s
from tsunagu.constants import C_M_PER_S
from tsunagu.optical.topology import load_jpn12
from tsunagu.orchestrate.policy import AllocationProblem, NearestFeasible, get_policy
from tsunagu.scenario import load_scenario
from tsunagu.sim.demand import PROFILES, offered_rps
from tsunagu.sim.engine import run_twin
from tsunagu.sim.kpis import RunResult, weighted_quantile
from tsunagu.sim.twin import Twin

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


@functools.cache
def _run() -> tuple[Twin, RunResult]:
    twin = Twin(load_scenario(MINIMAL))
    return twin, run_twin(twin)


def test_jpn12_has_the_official_lengths() -> None:
    t = load_jpn12()
    assert t.n_nodes == 12
    assert t.n_links == 17
    assert t.length_km.sum() == pytest.approx(7433.8, abs=1e-9)


def test_default_scenario_demand_totals_the_census() -> None:
    twin = Twin(load_scenario("japan-2030"))
    assert twin.demand.population.sum() == pytest.approx(126_146_099, rel=1e-12)
    assert set(twin.demand.prefecture) == set(range(1, 48))


def test_latency_components_add_up_and_respect_physics() -> None:
    twin, res = _run()
    f = res.flows
    served = np.asarray(f["site"].to_numpy(zero_copy_only=False) != "")
    assert served.any()
    parts = sum(
        f[c].to_numpy()[served]
        for c in (
            "latency_propagation_ms",
            "latency_transmission_ms",
            "latency_queueing_ms",
            "latency_processing_ms",
        )
    )
    np.testing.assert_allclose(parts, f["latency_total_ms"].to_numpy()[served], rtol=1e-12)
    # A round trip is never faster than light in vacuum along the great circle.
    site_names = [s.name for s in twin.scenario.compute.sites]
    site = np.array([site_names.index(s) for s in f["site"].to_numpy(zero_copy_only=False)[served]])
    slat = np.array([s.lat_deg for s in twin.scenario.compute.sites])[site]
    slon = np.array([s.lon_deg for s in twin.scenario.compute.sites])[site]
    d = geo.great_circle_m(
        f["lat_deg"].to_numpy()[served], f["lon_deg"].to_numpy()[served], slat, slon
    )
    floor_ms = 2.0 * d / C_M_PER_S * 1e3
    assert np.all(f["latency_propagation_ms"].to_numpy()[served] >= floor_ms - 1e-9)
    # Every served request pays at least its service's processing time.
    proc_ms = {k.name: k.processing_s * 1e3 for k in twin.scenario.services}
    svc = f["service"].to_numpy(zero_copy_only=False)[served]
    floor = np.array([proc_ms[k] for k in svc])
    assert np.all(f["latency_total_ms"].to_numpy()[served] >= floor)


def test_energy_is_non_negative_and_adds_up() -> None:
    _, res = _run()
    s = res.steps
    parts = sum(
        s[c].to_numpy()
        for c in ("energy_optical_kwh", "energy_ran_kwh", "energy_ntn_kwh", "energy_compute_kwh")
    )
    np.testing.assert_allclose(parts, s["energy_total_kwh"].to_numpy())
    assert np.all(s["energy_total_kwh"].to_numpy() > 0)
    assert np.all(s["carbon_kg"].to_numpy() > 0)


def test_link_down_event_takes_links_down_in_its_window() -> None:
    _, res = _run()
    down = res.steps["links_down"].to_numpy()
    assert down[0] == 0  # the minimal scenario cuts Tokyo–Nagoya from t = 1800 s
    assert down[1] >= 1


def test_demand_profiles_keep_the_daily_volume() -> None:
    for w in PROFILES.values():
        assert w.mean() == pytest.approx(1.0)
    rps = offered_rps([1000.0], [0.5], [24.0], [1.0])
    assert rps[0, 0] * 86_400 == pytest.approx(1000 * 0.5 * 24)


def test_erlang_c_known_values() -> None:
    # M/M/2 with a = 1 Erlang: C = 1/3 (Kleinrock eq. 3.40 worked by hand).
    assert float(erlang_c(2, 1.0)) == pytest.approx(1.0 / 3.0)
    # M/M/1: C = ρ, W = ρ/(μ − λ).
    assert float(erlang_c(1, 0.5)) == pytest.approx(0.5)
    assert float(mmc_mean_wait_s(0.5, 1.0, 1)) == pytest.approx(1.0)
    assert np.isinf(mmc_mean_wait_s(2.0, 1.0, 1))


def test_weighted_quantile() -> None:
    assert weighted_quantile([1.0, 2.0, 3.0], [1.0, 1.0, 2.0], 0.5)[0] == 3.0 - 1.0
    assert weighted_quantile([1.0, np.inf], [1.0, 3.0], 0.5)[0] == np.inf


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_flows=st.integers(1, 40),
    n_sites=st.integers(1, 6),
)
def test_nearest_feasible_never_exceeds_capacity(seed: int, n_flows: int, n_sites: int) -> None:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(0.001, 0.1, (n_flows, n_sites))
    lat[rng.random((n_flows, n_sites)) < 0.2] = np.inf
    load = rng.uniform(0.1, 2.0, n_flows)
    cap = rng.uniform(0.0, 5.0, n_sites)
    problem = AllocationProblem(
        lat, load, cap, np.full(n_flows, 0.05), np.zeros((n_flows, n_sites))
    )
    choice = NearestFeasible().allocate(problem)
    served = choice >= 0
    used = np.bincount(choice[served], weights=load[served], minlength=n_sites)
    assert np.all(used <= cap + 1e-9)
    assert np.all(np.isfinite(lat[np.flatnonzero(served), choice[served]]))
    # A rejected flow fits at none of its reachable sites given what is left.
    left = cap - used
    for f in np.flatnonzero(~served):
        reach = np.isfinite(lat[f])
        assert not np.any(load[f] <= left[reach] + 1e-12)


def test_unknown_policy_is_named() -> None:
    with pytest.raises(Exception, match="nearest-feasible"):
        get_policy("nearest-feasable")


def test_the_operators_group_index_sets_the_engine_links_latency() -> None:
    """A fibre group index of 1.9 (instead of 1.468) scales every backbone link's propagation
    delay, the one the engine routes on, by 1.9 / 1.468 (closed form L·n/c)."""
    sc = load_scenario(MINIMAL)
    ops = [
        op.model_copy(update={"fibre": op.fibre.model_copy(update={"group_index": 1.9})})
        for op in sc.optical.operators
    ]
    slow = sc.model_copy(update={"optical": sc.optical.model_copy(update={"operators": ops})})
    a, b = Twin(sc).static.links, Twin(slow).static.links
    kind = np.asarray(a.extra["kind"], dtype=str)
    bb = kind == "backbone"
    assert bb.any()
    np.testing.assert_allclose(b.propagation_s[bb], b.length_m[bb] * 1.9 / C_M_PER_S, rtol=1e-12)
    np.testing.assert_allclose(
        b.latency_s[bb] - a.latency_s[bb], a.length_m[bb] * (1.9 - 1.468) / C_M_PER_S, rtol=1e-9
    )
    feeder = np.char.find(kind, "feeder") >= 0
    np.testing.assert_allclose(b.latency_s[feeder], a.latency_s[feeder])  # free space: unchanged


def test_link_capacities_come_from_the_qot_and_the_scenario() -> None:
    """Fibre links: provisioned wavelengths × the best feasible mode of their length; feeders:
    the scenario's per-gateway and per-HAPS fields; all as arrays in the static network."""
    from tsunagu.optical.capacity import fibre_link_capacity, shipped_modes

    sc = load_scenario(MINIMAL)
    gw = sc.ntn.gateways[0].model_copy(update={"feeder_capacity_bps": 7.5e9})
    hp = sc.ntn.haps[0].model_copy(update={"feeder_capacity_bps": 2.5e9})
    # One operator whose links are stretched 3x: the longer links need slower modes.
    op = sc.optical.operators[0].model_copy(
        update={"route_factor": 3.0, "provisioned_wavelengths": 10}
    )
    sc = sc.model_copy(
        update={
            "ntn": sc.ntn.model_copy(update={"gateways": [gw], "haps": [hp]}),
            "optical": sc.optical.model_copy(update={"operators": [op], "metro_wavelengths": 5}),
        }
    )
    twin = Twin(sc)
    links = twin.static.links
    kind = np.asarray(links.extra["kind"])
    cap = np.asarray(links.capacity_bps)
    length_km = np.asarray(links.length_m) / 1e3
    eq = sc.optical.equipment
    modes = shipped_modes(eq.transceiver_modes)
    for k, lit in (("backbone", 10), ("metro", 5)):
        m = kind == k
        ref = fibre_link_capacity(
            length_km[m], lit, modes, margin_db=eq.system_margin_db, span_length_km=80.0
        )
        np.testing.assert_array_equal(cap[m], ref.capacity_bps)
        # Capacity is a whole number of lit wavelengths of a library mode's rate.
        assert set(np.unique(cap[m] / lit).tolist()) <= set(modes.rate_bps.tolist())
    bb = kind == "backbone"
    # The stretched JPN12 links span hundreds to thousands of km: more than one mode is
    # chosen, the shortest link runs the fastest and the longest the slowest.
    assert np.unique(cap[bb]).size > 1
    o = np.argsort(length_km[bb])
    assert cap[bb][o][0] == cap[bb].max() > cap[bb].min() == cap[bb][o][-1]
    assert np.all(cap[kind == "haps feeder"] == 2.5e9)
    state = twin.state(0.0)
    skind = np.asarray(state.links.extra["kind"])
    feeder = skind == "gateway feeder"
    assert feeder.any()
    np.testing.assert_array_equal(np.asarray(state.links.capacity_bps)[feeder], 7.5e9)
