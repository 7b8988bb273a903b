"""Events: resolution of targets, bad input naming the culprit, and each kind's effect."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ScenarioError
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Event
from tsunagu.sim import events
from tsunagu.sim.events import EventSchedule
from tsunagu.sim.twin import Twin

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


@functools.cache
def _twin() -> Twin:
    return Twin(load_scenario(MINIMAL))


def _ev(**kw: Any) -> Event:
    return Event(**{"start_s": 0.0, "end_s": 3600.0, **kw})


def _schedule(*events: Event, seed: int | None = None) -> EventSchedule:
    return EventSchedule(list(events), _twin(), seed=seed)


# --- bad input: unknown targets and contradictions name what was wrong ------------------------


@pytest.mark.parametrize(
    ("event", "names"),
    [
        (_ev(kind="node_down", target="op-a:Tokio"), ["events[0]", "op-a:Tokio", "op-a:Tokyo"]),
        (_ev(kind="site_down", target="dc-tokio"), ["dc-tokio", "dc-tokyo"]),
        (_ev(kind="site_down", target="op-a:Tokyo"), ["compute site", "op-a:Tokyo"]),
        (_ev(kind="link_down", target="Tokyo--Nagoyaa"), ["Nagoyaa", "Nagoya"]),
        (_ev(kind="link_down", target="Sapporo--Naha"), ["no link", "Sapporo", "Naha"]),
        (_ev(kind="demand_surge", target="Kantoo", factor=2.0), ["area", "Kantoo", "Kanto"]),
        (_ev(kind="ran_outage", target="Ishikwa", factor=0.5), ["Ishikwa", "Ishikawa"]),
        (_ev(kind="satellite_failure", target="shell-55", factor=0.1), ["shell-55", "shell-550"]),
        (_ev(kind="satellite_failure", target="shell-550:3,99"), ["99", "0..47"]),
        (_ev(kind="satellite_failure", target="shell-550:a,b"), ["comma-separated"]),
    ],
)
def test_unknown_targets_are_named_with_a_suggestion(event: Event, names: list[str]) -> None:
    with pytest.raises(ScenarioError) as exc:
        _schedule(event)
    for n in names:
        assert n in str(exc.value)


def test_contradictory_events_name_both() -> None:
    a = _ev(kind="demand_surge", target="Kanto", factor=2.0, end_s=2000.0)
    b = _ev(kind="demand_surge", target="Kanto", factor=3.0, start_s=1000.0)
    with pytest.raises(ScenarioError) as exc:
        _schedule(a, b)
    msg = str(exc.value)
    for part in ("events[0]", "events[1]", "contradict", "demand_surge", "'Kanto'", "2 vs 3"):
        assert part in msg
    # The same two events without overlap, or with one factor, are fine.
    _schedule(a, b.model_copy(update={"start_s": 2000.0}))
    _schedule(a, b.model_copy(update={"factor": 2.0}))
    # Another area, or another kind, is no contradiction: surges compose.
    _schedule(a, b.model_copy(update={"target": "Kinki"}))


def test_contradictory_outage_shares_on_a_link_set() -> None:
    a = _ev(kind="link_down", target="backbone", factor=0.5)
    b = _ev(kind="link_down", target="backbone", factor=0.25, start_s=100.0)
    with pytest.raises(ScenarioError, match=r"events\[0\] and events\[1\] contradict"):
        _schedule(a, b)


@pytest.mark.parametrize(
    ("fields", "fix"),
    [
        ({"kind": "link_down", "target": "A--B", "start_s": 0}, "end_s"),
        ({"kind": "ran_outage", "end_s": 10}, "target"),
        ({"target": "Kanto", "end_s": 10}, "kind"),
        ({"kind": "ran_outage", "target": "Kanto", "end_s": 10, "factor": 1.5}, "share"),
        ({"kind": "link_down", "preset": "noto-2024"}, "drop kind"),
        ({"kind": "disaster"}, "needs preset"),
        ({"kind": "ran_outage", "target": "X", "end_s": 10, "radius_km": 5.0}, "circle"),
        ({"kind": "ran_outage", "target": "X", "end_s": 10, "params": {"a": 1}}, "params"),
        ({"kind": "ran_outage", "target": "X", "start_s": 10, "end_s": 5}, "after start_s"),
    ],
)
def test_schema_refuses_incomplete_events(fields: dict[str, Any], fix: str) -> None:
    with pytest.raises(ValueError, match=fix):
        Event(**fields)


# --- effects ----------------------------------------------------------------------------------


def test_power_loss_waits_for_the_batteries_and_shares_add_up_to_one() -> None:
    twin = _twin()
    hold = twin.scenario.ran.battery_hold_s
    s = _schedule(
        _ev(kind="region_power_loss", target="Kanto", factor=0.4, end_s=hold + 7200.0),
        _ev(kind="ran_outage", target="Kanto", factor=0.3, end_s=hold + 7200.0),
        _ev(kind="ran_outage", target="Tokyo", factor=0.5, end_s=hold + 7200.0),
    )
    kanto = twin.demand.region == "Kanto"
    tokyo = twin.demand.prefecture == 13
    before = s.ran_share_down(hold - 1.0)
    after = s.ran_share_down(hold)
    np.testing.assert_allclose(before[kanto & ~tokyo], 0.3)
    np.testing.assert_allclose(after[kanto & ~tokyo], 0.7)
    np.testing.assert_allclose(after[tokyo], 1.0)  # 0.4 + 0.3 + 0.5, capped at all cells
    assert np.all(after[~kanto] == 0.0)
    assert np.all(s.ran_share_down(hold + 7200.0) == 0.0)  # window is [start, end)


def test_circle_narrows_an_area() -> None:
    twin = _twin()
    # 30 km around Osaka station: Osaka and its neighbours, not Kyoto's far side or Wakayama.
    s = _schedule(
        _ev(
            kind="ntn_access_down",
            target="Kinki",
            center_lat_deg=34.70,
            center_lon_deg=135.50,
            radius_km=30.0,
        )
    )
    blocked = s.ntn_blocked(0.0)
    names = set(twin.demand.name[blocked])
    assert "Osaka" in names
    assert "Sakai" in names
    assert "Wakayama" not in names
    assert "Yokohama" not in names
    assert not s.ntn_blocked(3600.0).any()


def test_random_draws_follow_the_seed() -> None:
    ev = _ev(kind="link_down", target="backbone", factor=0.5)
    a = _schedule(ev, seed=1).events[0].links
    b = _schedule(ev, seed=1).events[0].links
    c = _schedule(ev, seed=2).events[0].links
    np.testing.assert_array_equal(a, b)
    assert a.size == round(0.5 * 17)
    assert not np.array_equal(a, c)
    sats = _schedule(_ev(kind="satellite_failure", target="shell-550", factor=0.25)).events[0]
    assert sats.satellites.size == 12
    assert np.unique(sats.satellites).size == 12


def test_failures_reach_the_network_state() -> None:
    twin = _twin()
    s = _schedule(
        _ev(kind="satellite_failure", target="shell-550:0,5"),
        _ev(kind="site_down", target="dc-osaka"),
        _ev(kind="link_down", target="Kanto", factor=1.0),
    )
    state = s.apply(twin.state(0.0), 0.0)
    n = twin.static.n_nodes
    assert not state.nodes.up[n + 0]
    assert not state.nodes.up[n + 5]
    assert state.nodes.up[n + 1]
    names = np.asarray(state.nodes.name)
    assert not state.nodes.up[np.flatnonzero(names == "dc-osaka")[0]]
    # Every fibre link of a Kanto central office is cut; none of a Kinki one.
    links = twin.static.links
    co_kanto = twin.idx_demand[twin.demand.region == "Kanto"]
    co_kinki = twin.idx_demand[twin.demand.region == "Kinki"]
    up = np.asarray(state.links.up)[: len(links)]
    fibre = links.medium_code == 0
    touches_kanto = np.isin(links.src, co_kanto) | np.isin(links.dst, co_kanto)
    assert touches_kanto[fibre].sum() >= 2 * co_kanto.size  # dual-homed offices
    assert not up[fibre & touches_kanto].any()
    assert up[~fibre].all()  # the HAPS feeder is free space, not fibre
    assert up[np.isin(links.src, co_kinki) | np.isin(links.dst, co_kinki)].all()
    np.testing.assert_array_equal(s.failed_satellites(0.0).nonzero()[0], [0, 5])
    assert s.apply(twin.state(3600.0), 3600.0).nodes.up.all()


_NESTED = ("all", "Kanto", "Tokyo", "Kinki", "Osaka")


def _in(area: str) -> np.ndarray:
    d = _twin().demand
    return {
        "all": np.ones(d.name.size, dtype=bool),
        "Kanto": d.region == "Kanto",
        "Tokyo": d.prefecture == 13,
        "Kinki": d.region == "Kinki",
        "Osaka": d.prefecture == 27,
    }[area]


@settings(max_examples=40, deadline=None)
@given(
    shares=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=5),
    t=st.floats(0.0, 7200.0),
)
def test_share_down_is_a_share(shares: list[float], t: float) -> None:
    """Shares on nested areas add up where they overlap in time and place, capped at 1."""
    events = [
        _ev(
            kind="ran_outage",
            target=_NESTED[i],
            factor=f,
            start_s=600.0 * i,
            end_s=600.0 * i + 3600.0,
        )
        for i, f in enumerate(shares)
    ]
    share = _schedule(*events).ran_share_down(t)
    assert np.all((share >= 0.0) & (share <= 1.0))
    expected = sum(
        np.where(_in(_NESTED[i]), f, 0.0)
        for i, f in enumerate(shares)
        if 600.0 * i <= t < 600.0 * i + 3600.0
    )
    np.testing.assert_allclose(share, np.minimum(expected, 1.0), atol=1e-12)


def test_surges_multiply_demand_and_the_table_lists_events() -> None:
    s = _schedule(
        _ev(kind="demand_surge", target="all", factor=2.0),
        _ev(kind="demand_surge", target="Kinki", factor=1.5),
    )
    f = s.surge(0.0)
    kinki = _twin().demand.region == "Kinki"
    np.testing.assert_allclose(f[kinki], 3.0)
    np.testing.assert_allclose(f[~kinki], 2.0)
    tbl = s.table()
    assert tbl.num_rows == 2
    assert tbl["kind"].to_pylist() == ["demand_surge"] * 2
    assert tbl["demand_points"].to_pylist()[0] == _twin().demand.name.size


# --- the registry: a kind added in this file only ------------------------------------------


def _resolve_isolation(ev: Event, ctx: events.ResolveContext) -> events.ResolvedEvent:
    """Toy kind: every link touching the target node is cut (the node itself stays up)."""
    if ev.target not in ctx.node_index:
        raise ctx.unknown("node", ev.target, list(ctx.node_index))
    node = ctx.node_index[ev.target]
    links = ctx.twin.static.links
    hit = np.flatnonzero((links.src == node) | (links.dst == node)).astype(np.intp)
    return dataclasses.replace(ctx.blank(ev), links=hit, params={"node": float(node)})


def _apply_isolation(e: events.ResolvedEvent, time_s: float, eff: events.StepEffects) -> None:
    eff.link_down[e.links] = True


def test_a_registered_kind_is_validated_resolved_and_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "_REGISTRY", dict(events._REGISTRY))  # undone after the test
    with pytest.raises(ValueError, match="register_event"):
        _ev(kind="toy_isolation", target="op-a:Tokyo")
    events.register_event("toy_isolation", _resolve_isolation, _apply_isolation)
    assert "toy_isolation" in events.registered_event_kinds()
    with pytest.raises(ScenarioError, match="already registered"):
        events.register_event("toy_isolation", _resolve_isolation, _apply_isolation)
    twin = _twin()
    s = _schedule(_ev(kind="toy_isolation", target="op-a:Tokyo", start_s=600.0, end_s=1800.0))
    (e,) = s.events
    node = int(e.params["node"])
    links = twin.static.links
    touching = (links.src == node) | (links.dst == node)
    assert touching.sum() >= 2
    during = np.asarray(s.apply(twin.state(600.0), 600.0).links.up)[: len(links)]
    assert not during[touching].any()
    assert during[~touching].all()
    assert s.apply(twin.state(600.0), 600.0).nodes.up[node]
    for t in (0.0, 1800.0):  # outside the window nothing is cut
        assert np.asarray(s.apply(twin.state(t), t).links.up).all()
    assert s.table().column("kind").to_pylist() == ["toy_isolation"]
    with pytest.raises(ScenarioError, match="op-a:Tokyo"):
        _schedule(_ev(kind="toy_isolation", target="op-a:Tokio"))


def test_unknown_kind_names_the_close_ones() -> None:
    with pytest.raises(ValueError, match="did you mean 'link_down'"):
        _ev(kind="link_dwn", target="A--B")
