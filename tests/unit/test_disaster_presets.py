"""Disaster presets expanded against the japan-2030 twin: derivation, windows and bad input."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import DataError, ModelRangeError, ScenarioError
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Event
from tsunagu.sim.disasters import (
    PRESETS,
    CountSeries,
    decay_rate_per_s,
    expand_disaster,
    fit_restoration_rates,
    two_population_share,
)
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
    # From the peak (2 h: + power, batteries out) the two populations come back, in 1 h windows
    # read at their middle: 80 % (power loss) at k_fast, 20 % (transmission, damage) at k_slow.
    p = PRESETS["tohoku-2011"].params
    for t in (2 * HOUR, 9 * 86_400.0):
        mid = math.floor(t / HOUR) * HOUR + 0.5 * HOUR - 2 * HOUR
        left = 0.8 * math.exp(-p["k_fast_per_s"] * mid) + 0.2 * math.exp(-p["k_slow_per_s"] * mid)
        assert _share_at(events, "Tohoku", t) == pytest.approx(peak * left, rel=1e-12)
    assert _share_at(events, "Tohoku", 9 * 86_400.0) < 0.25 * peak


def test_nankai_applies_the_tohoku_share_along_the_trough() -> None:
    events = _expand("nankai")
    tohoku_peak = (6720 + 3680 + 3786) / 3 / _schedule()._sites_in("Tohoku", None)
    areas = {e.target for e in events}
    assert {"Shizuoka", "Kochi", "Wakayama", "Miyazaki"} <= areas
    tohoku = _expand("tohoku-2011")
    for a in ("Shizuoka", "Kochi"):
        assert _share_at(events, a, HOUR) == pytest.approx(0.2 * tohoku_peak)
        for t in (3 * HOUR, 5 * 86_400.0):  # Tohoku's restoration too
            assert _share_at(events, a, t) == pytest.approx(_share_at(tohoku, "Tohoku", t))


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


@settings(max_examples=30, deadline=None)
@given(
    k_slow_per_day=st.floats(0.01, 0.2),
    ratio=st.floats(2.0, 20.0),
    slow_share=st.floats(0.1, 0.9),
)
def test_restoration_fit_recovers_exact_two_population_rates(
    k_slow_per_day: float, ratio: float, slow_share: float
) -> None:
    """Counts drawn from the closed form N_peak ((1 - s) e^(-k_f t) + s e^(-k_s t)) give back
    k_f and k_s (two series with other shares and peaks, as in the published fit)."""
    kf, ks = ratio * k_slow_per_day / 86_400.0, k_slow_per_day / 86_400.0
    series = []
    for name, s, t_peak, n_peak, days in (
        ("a", slow_share, 3600.0, 800.0, (1.0, 3.0, 11.0)),
        ("b", 1.0 - slow_share, 7200.0, 5000.0, (2.0, 13.0)),
    ):
        pts = tuple(
            (
                t_peak + d * 86_400.0,
                n_peak * ((1 - s) * math.exp(-kf * d * 86_400) + s * math.exp(-ks * d * 86_400)),
            )
            for d in days
        )
        series.append(CountSeries(name, (t_peak, n_peak), pts, s))
    fit = fit_restoration_rates(series)
    assert fit.k_fast_per_s == pytest.approx(kf, rel=1e-5)
    assert fit.k_slow_per_s == pytest.approx(ks, rel=1e-5)
    assert fit.dof == 3
    assert max(abs(r) for r in fit.residuals_ln) < 1e-8


def test_two_population_share_broadcasts_and_refuses_bad_input() -> None:
    day = 86_400.0
    t = np.array([[0.0], [day], [10 * day]])
    s = np.array([0.2, 0.6])
    out = two_population_share(t, s, 0.3 / day, 0.05 / day)
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out[0], 1.0)
    assert out[2, 1] == pytest.approx(0.4 * math.exp(-3.0) + 0.6 * math.exp(-0.5), rel=1e-12)
    assert np.all(np.diff(out, axis=0) < 0)  # restoration only
    with pytest.raises(ModelRangeError, match="after the peak"):
        two_population_share(-1.0, 0.5, 1e-5, 1e-6)
    with pytest.raises(ModelRangeError, match="slow_share"):
        two_population_share(1.0, 1.5, 1e-5, 1e-6)


def test_restoration_fit_needs_a_degree_of_freedom_and_counts_after_the_peak() -> None:
    one = CountSeries("x", (0.0, 100.0), ((86_400.0, 50.0), (2 * 86_400.0, 30.0)), 0.5)
    with pytest.raises(DataError, match="give at least 3"):
        fit_restoration_rates([one])
    early = CountSeries("y", (86_400.0, 100.0), ((0.0, 50.0), (2e5, 40.0), (3e5, 30.0)), 0.5)
    with pytest.raises(DataError, match="precedes the peak"):
        fit_restoration_rates([early])


def test_bad_restoration_rates_are_named() -> None:
    with pytest.raises(ScenarioError, match="k_slow_per_s <= k_fast_per_s"):
        _expand("noto-2024", k_fast_per_s=1e-7, k_slow_per_s=1e-6)
