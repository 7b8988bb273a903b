"""Disaster presets expanded against the japan-2030 twin: derivation, windows and bad input."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ScenarioError
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Event
from tsunagu.sim.disasters import decay_rate_per_s, expand_disaster
from tsunagu.sim.events import EventSchedule
from tsunagu.sim.twin import Twin

HOUR = 3600.0
RUN_END = 10 * 86_400.0


@functools.cache
def _twin() -> Twin:
    return Twin(load_scenario("japan-2030"))


@functools.cache
def _schedule() -> EventSchedule:
    return EventSchedule([], _twin())


def _expand(preset: str, start_s: float = 0.0, **params: float) -> list[Event]:
    ev = Event(preset=preset, start_s=start_s, params=params)  # type: ignore[arg-type]
    return expand_disaster(ev, 0, _schedule()._sites_in, RUN_END)


def _share_at(events: list[Event], area: str, t: float) -> float:
    return sum(
        e.factor
        for e in events
        if e.kind == "ran_outage" and e.target == area and e.start_s <= t < float(e.end_s or 0)
    )


def test_tohoku_share_is_reported_sites_over_the_twins_sites() -> None:
    events = _expand("tohoku-2011")
    sites = _schedule()._sites_in("Tohoku", None)
    per_network = (6720 + 3680 + 3786) / 3
    peak = min(1.0, per_network / sites)
    assert 0.0 < peak < 1.0  # the twin has more sites in Tohoku than one carrier lost
    assert _share_at(events, "Tohoku", 0.0) == pytest.approx(0.2 * peak)  # transmission
    assert _share_at(events, "Tohoku", 2 * HOUR) == pytest.approx(peak)  # + power, batteries out
    assert _share_at(events, "Tohoku", 9 * 86_400) == pytest.approx(peak)  # no later counts


def test_nankai_applies_the_tohoku_share_along_the_trough() -> None:
    events = _expand("nankai")
    tohoku_peak = (6720 + 3680 + 3786) / 3 / _schedule()._sites_in("Tohoku", None)
    areas = {e.target for e in events}
    assert {"Shizuoka", "Kochi", "Wakayama", "Miyazaki"} <= areas
    for a in ("Shizuoka", "Kochi"):
        assert _share_at(events, a, 3 * HOUR) == pytest.approx(tohoku_peak)


def test_noto_windows_decay_and_ntn_gap() -> None:
    events = _expand("noto-2024", start_s=HOUR, window_s=6 * HOUR)
    outages = [e for e in events if e.kind == "ran_outage"]
    starts = np.array([e.start_s for e in outages])
    ends = np.array([float(e.end_s or 0) for e in outages])
    assert np.all(ends > starts)
    assert ends.max() <= RUN_END
    gaps = [e for e in events if e.kind == "ntn_access_down"]
    assert len(gaps) == 1
    assert gaps[0].end_s == pytest.approx(HOUR + 91.8 * HOUR)
    assert all(e.radius_km == 70.0 and e.target == "Ishikawa" for e in events)
    # Shrinking the twin's share only through the decay: never above 1, non-increasing.
    t = np.arange(40.0 * HOUR, RUN_END, 6 * HOUR)
    share = np.array([_share_at(events, "Ishikawa", x) for x in t])
    assert np.all(share <= 1.0)
    assert np.all(np.diff(share) <= 1e-12)
    # Parameters override by name; a zero NTN delay drops the gap.
    assert not [e for e in _expand("noto-2024", ntn_delay_s=0.0) if e.kind == "ntn_access_down"]


def test_bad_preset_parameters_are_named() -> None:
    with pytest.raises(ScenarioError, match=r"no parameter\(s\) \['batery_hold_s'\]"):
        _expand("noto-2024", batery_hold_s=3600.0)
    with pytest.raises(ScenarioError, match="carriers must be positive"):
        _expand("noto-2024", carriers=0.0)
    with pytest.raises(ScenarioError, match="transmission_share"):
        _expand("noto-2024", transmission_share=1.5)


def test_preset_outside_the_twins_demand_area_says_how_to_fix_it() -> None:
    sc = load_scenario("tests/data/scenarios/minimal.yaml")  # Kanto and Kinki only
    sc = sc.model_copy(update={"events": [Event(preset="noto-2024", start_s=0.0)]})
    with pytest.raises(ScenarioError, match=r"no RAN site .*Ishikawa.*demand.areas"):
        EventSchedule(sc.events, Twin(sc))


@settings(max_examples=30, deadline=None)
@given(
    k_per_day=st.floats(0.01, 2.0),
    days=st.lists(st.floats(0.5, 20.0), min_size=1, max_size=4, unique=True),
)
def test_decay_fit_recovers_an_exact_exponential(k_per_day: float, days: list[float]) -> None:
    k = k_per_day / 86_400.0
    points = tuple((d * 86_400.0, 1000.0 * math.exp(-k * d * 86_400.0)) for d in days)
    assert decay_rate_per_s(points, (0.0, 1000.0)) == pytest.approx(k, rel=1e-9)
