"""The engine as named stages over registered access layers: a toy access layer defined here
only, stage replacement, and per-step conservation of traffic, link loads and capacity."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsunagu.errors import ScenarioError
from tsunagu.orchestrate.policy import get_policy
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Event
from tsunagu.sim import catalogue as kc
from tsunagu.sim.access import (
    AccessContext,
    AccessOptions,
    access_names,
    build_access_layers,
    register_access,
    unregister_access,
)
from tsunagu.sim.background import Background
from tsunagu.sim.engine import run_twin
from tsunagu.sim.events import EventSchedule
from tsunagu.sim.kpis import RunResult
from tsunagu.sim.stages import STAGES, RunSetup, Step, demand_stage
from tsunagu.sim.twin import Twin

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


@functools.cache
def _twin(haps_capacity_bps: float | None = None, events: tuple[str, ...] = ()) -> Twin:
    sc = load_scenario(MINIMAL)
    if haps_capacity_bps is not None:
        ntn = sc.ntn.model_copy(
            update={
                "haps": [
                    h.model_copy(update={"capacity_bps": haps_capacity_bps}) for h in sc.ntn.haps
                ]
            }
        )
        sc = sc.model_copy(update={"ntn": ntn})
    sc = sc.model_copy(update={"events": [Event.model_validate_json(e) for e in events]})
    return Twin(sc)


class FixedWireless:
    """A toy fixed-wireless layer: points with more than 300,000 people, 5 ms, 1 Gb/s."""

    name = "fwa"

    def __init__(self, twin: Twin) -> None:
        self._node = twin.idx_demand
        self._big = twin.demand.population > 300_000

    def at(self, ctx: AccessContext) -> AccessOptions:
        n = self._node.size
        return AccessOptions(
            node=self._node,
            one_way_s=np.full(n, 2e-3),
            equipment_s=np.full(n, 3e-3),
            rate_bps=np.full(n, 1e9),
            resource=np.arange(n, dtype=np.int64),
            shared_capacity_bps=np.full(n, np.inf),
            share=np.full(n, 0.25),
            ok=self._big & ctx.state.nodes.up[self._node],
        )


def test_the_chain_is_the_six_named_stages() -> None:
    assert [n for n, _ in STAGES] == ["state", "events", "access", "demand", "route", "measure"]


def test_a_toy_access_layer_registered_here_appears_in_flows_and_summary() -> None:
    register_access("fwa", FixedWireless, before="haps")
    try:
        assert access_names() == ("ran", "fwa", "haps", "leo")
        # Half of every point's cells down: the RAN is offered half (and admits what its
        # remaining cells carry), the toy is offered a quarter of the rest, spill-over included.
        outage = Event(kind="ran_outage", target="all", start_s=0.0, end_s=3600.0, factor=0.5)
        twin = Twin(load_scenario(MINIMAL).model_copy(update={"events": [outage]}))
        res = run_twin(twin)
    finally:
        unregister_access("fwa")
    assert "fwa" not in access_names()
    f = res.flows
    fwa = f.filter(pc.equal(f["access"], "fwa"))
    assert fwa.num_rows > 0
    # Per point and step: the toy carries a quarter of what the RAN did not (its capacity is
    # unlimited); 0.125 where the RAN's remaining cells admit all of their half.
    df = f.to_pandas()
    df = df[df.service == df.service.iloc[0]]
    reason = df.reject_reason.astype(str)
    ran_in = (df.access == "ran") & ~reason.str.startswith("capacity: ran cells of ")
    ran_w = df[ran_in].groupby(["step", "demand", "prefecture"]).population_share.sum()
    fwa_w = df[df.access == "fwa"].groupby(["step", "demand", "prefecture"]).population_share.sum()
    np.testing.assert_allclose(
        fwa_w.to_numpy(), 0.25 * (1.0 - ran_w.reindex(fwa_w.index).to_numpy()), rtol=1e-9
    )
    # Where the RAN's remaining cells admit all of their half, the toy carries 0.125.
    whole = np.isclose(ran_w.reindex(fwa_w.index).to_numpy(), 0.5, rtol=1e-9)
    assert whole.any()
    np.testing.assert_allclose(fwa_w.to_numpy()[whole], 0.125, rtol=1e-9)
    key = kc.access_population("fwa").name
    assert key in res.summary["kpis"]
    assert key in res.steps.column_names
    big = twin.demand.population > 300_000
    assert set(fwa["demand"].to_pylist()) <= set(twin.demand.name[big])


def test_a_stage_is_replaced_by_callable_and_unknown_names_teach() -> None:
    twin = _twin()
    seen: list[int] = []

    def demand_twice(run: RunSetup, s: Step) -> None:
        seen.append(s.step)
        s.surge = s.surge * 2.0
        demand_stage(run, s)

    base = run_twin(twin)
    doubled = run_twin(twin, stages={"demand": demand_twice})
    assert seen == list(range(twin.times_s.size))
    # Twice the requests offered at every step (admission may split rows differently).
    for res_a, res_b in ((base, doubled),):
        a = np.bincount(res_a.flows["step"].to_numpy(), weights=res_a.flows["demand_rps"])
        b = np.bincount(res_b.flows["step"].to_numpy(), weights=res_b.flows["demand_rps"])
        np.testing.assert_allclose(b, 2.0 * a, rtol=1e-12)
    with pytest.raises(ScenarioError, match="stages"):
        run_twin(twin, stages={"no-such": demand_twice})
    with pytest.raises(ScenarioError, match="known"):
        run_twin(twin, stages={"route": "no-such-route"})


def _check_conservation(twin: Twin, res: RunResult) -> None:
    f = res.flows
    placed = pc.not_equal(f["site"], "").to_numpy(zero_copy_only=False)
    carried = f["carried_share"].to_numpy()
    reason = np.asarray(f["reject_reason"].to_pylist())
    assert ((carried >= 0.0) & (carried <= 1.0 + 1e-12)).all()
    assert (carried[~placed] == 0.0).all()
    # Every flow not wholly served says why; a wholly served one says nothing.
    whole = placed & (carried >= 1.0 - 1e-12)
    assert (reason[whole] == "").all()
    assert (reason[~whole] != "").all()
    # Offered = carried + blocked per service and step: rows partition each point's people.
    pop = f["population"].to_numpy()
    step = f["step"].to_numpy()
    n_k = len(twin.scenario.services)
    per_step = np.bincount(step[::n_k], weights=pop[::n_k])
    np.testing.assert_allclose(per_step, twin.demand.population.sum(), rtol=1e-9)
    # Per step and class: offered = carried + blocked, blocked = at access + in the network.
    tr = res.traffic.to_pandas()
    assert len(tr) == res.steps.num_rows * 5
    np.testing.assert_allclose(tr.offered_bps, tr.carried_bps + tr.blocked_bps, rtol=1e-9)
    np.testing.assert_allclose(
        tr.blocked_bps, tr.blocked_access_bps + tr.blocked_network_bps, rtol=1e-9, atol=1e-3
    )
    assert (tr[["carried_bps", "blocked_access_bps", "blocked_network_bps"]] >= -1e-3).all().all()
    assert ((tr.binding != "") == (tr.binding_blocked_bps > 0)).all()
    # The AI bits the network carried are the flows' carried share of their bits.
    rps = f["demand_rps"].to_numpy()
    svc = np.asarray(f["service"].to_pylist())
    bits = {k.name: (k.request_bytes + k.response_bytes) * 8.0 for k in twin.scenario.services}
    ai_bits = rps * np.array([bits[x] for x in svc]) * carried
    ai = tr[tr["class"] == "ai"].sort_values("step")
    np.testing.assert_allclose(
        ai.carried_bps.to_numpy(), np.bincount(step, weights=ai_bits), rtol=1e-9
    )
    # No arc above its capacity; utilisation is the busier direction's load over capacity.
    loads = res.link_loads
    cap = loads["capacity_bps"].to_numpy()
    fwd = loads["load_forward_bps"].to_numpy()
    rev = loads["load_reverse_bps"].to_numpy()
    assert (fwd <= cap * (1 + 1e-9)).all()
    assert (rev <= cap * (1 + 1e-9)).all()
    util = loads["utilisation"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        expect = np.where(cap > 0, np.maximum(fwd, rev) / cap, 0.0)
    np.testing.assert_allclose(util, expect, rtol=1e-12)
    assert np.isfinite(loads["queue_delay_s"].to_numpy()).all()
    # Every carried bit crosses at least one link: the links' loads are at least the carried
    # traffic (origins and destinations are distinct nodes).
    for t in range(res.steps.num_rows):
        lm = pc.equal(loads["step"], t).to_numpy(zero_copy_only=False)
        on_links = (fwd[lm] + rev[lm]).sum()
        assert on_links >= tr.carried_bps[tr.step == t].sum() * (1 - 1e-9)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cap=st.sampled_from([None, 2e6, 5e7]),
    cut=st.booleans(),
)
def test_conservation_every_step(cap: float | None, cut: bool) -> None:
    events = (
        (
            Event(
                kind="ran_outage", target="Kanto", start_s=0.0, end_s=1800.0, factor=1.0
            ).model_dump_json(),
        )
        if cut
        else ()
    )
    twin = _twin(cap, events)
    res = _run(twin)
    _check_conservation(twin, res)


@functools.cache
def _run(twin: Twin) -> RunResult:
    return run_twin(twin)


def test_people_on_haps_are_bounded_by_beam_capacity() -> None:
    """Independent arithmetic: at admission the HAPS carries ρ_max · C of offered bits."""
    outage = Event(kind="ran_outage", target="Kanto", start_s=0.0, end_s=1800.0, factor=1.0)
    cap = 5e7
    twin = _twin(cap, (outage.model_dump_json(),))
    res = _run(twin)
    f = res.flows.filter(pc.equal(res.flows["step"], 0))
    on = pc.and_(pc.equal(f["access"], "haps"), pc.not_equal(f["site"], "")).to_numpy(
        zero_copy_only=False
    )
    bits = {k.name: (k.request_bytes + k.response_bytes) * 8.0 for k in twin.scenario.services}
    carried = float(
        np.sum(
            f["demand_rps"].to_numpy()[on]
            * np.array([bits[s] for s in f["service"].to_pylist()])[on]
        )
    )
    # The platform's beams are shared with the mobile traffic of the people they carry.
    hour = twin.scenario.timeline.start_hour_local
    pp = Background(twin).per_person_bps(hour)
    people = float(np.sum(f["population"].to_numpy()[on])) / len(twin.scenario.services)
    mobile = people * (pp["mobile_down"] + pp["mobile_up"])
    rho = twin.scenario.capacity.access_max_utilisation
    assert carried + mobile == pytest.approx(rho * cap, rel=1e-9)
    unlimited = _run(_twin(None, (outage.model_dump_json(),)))
    assert res.steps["population_haps"][0].as_py() < unlimited.steps["population_haps"][0].as_py()
    # The people the full platform refuses spill over to the LEO layer: same people in all.
    spilled = (
        unlimited.steps["population_haps"][0].as_py() - res.steps["population_haps"][0].as_py()
    )
    gained = res.steps["population_leo"][0].as_py() - unlimited.steps["population_leo"][0].as_py()
    assert gained > 0.0
    assert gained <= spilled * (1.0 + 1e-9)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scale=st.sampled_from([1.0, 6.0]), hour=st.sampled_from([4.0, 21.0]))
def test_each_links_load_is_the_sum_of_the_flows_on_it(scale: float, hour: float) -> None:
    """Stage by stage on one step: every demand is in one (source, destination) pair, each
    arc's load is the sum of the carried rates of the paths over it, each link's two
    directions are its two arcs, and each pair's carried rate is the sum over its paths."""
    sc = load_scenario(MINIMAL)
    sc = sc.model_copy(update={"traffic": sc.traffic.model_copy(update={"scale": scale})})
    twin = Twin(sc)
    run = RunSetup.build(
        twin, get_policy(sc.policy), EventSchedule(sc.events, twin), build_access_layers(twin)
    )
    step = Step(0, 0.0, hour)
    for _, stage in STAGES:
        stage(run, step)
    d = step.data
    res, arcs, demands, pair = d["flow_result"], d["arcs"], d["demands"], d["demand_pair"]
    np.testing.assert_allclose(
        np.bincount(pair, weights=demands.bps, minlength=res.demand_offered_bps.size),
        res.demand_offered_bps,
        rtol=1e-12,
    )
    on_arcs = res.incidence.T @ res.path_carried_bps
    np.testing.assert_allclose(res.arc_load_bps, on_arcs, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(
        np.bincount(res.path_demand, weights=res.path_carried_bps, minlength=pair.max() + 1),
        res.demand_carried_bps,
        rtol=1e-9,
        atol=1e-6,
    )
    assert (res.arc_shared_load_bps <= arcs.capacity_bps * (1 + 1e-9)).all()
    fwd = np.zeros(len(step.network.links)) if step.network else np.zeros(0)
    rev = fwd.copy()
    real = arcs.link >= 0  # the others join a destination's nodes to its virtual node
    # An ISL direction is one arc per plane (satellites' entry and exit nodes): summed.
    np.add.at(fwd, arcs.link[arcs.forward & real], res.arc_load_bps[arcs.forward & real])
    np.add.at(rev, arcs.link[~arcs.forward & real], res.arc_load_bps[~arcs.forward & real])
    assert step.link_loads is not None
    np.testing.assert_allclose(step.link_loads["load_forward_bps"].to_numpy(), fwd, rtol=1e-12)
    np.testing.assert_allclose(step.link_loads["load_reverse_bps"].to_numpy(), rev, rtol=1e-12)
