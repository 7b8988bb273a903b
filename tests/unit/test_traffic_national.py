from __future__ import annotations

import csv
import importlib.resources
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tsunagu.errors import ScenarioError
from tsunagu.traffic import CLASSES, NationalTraffic, TrafficSection, spread_demand

T_S = np.arange(0.0, 86_400.0, 300.0)


def test_profile_mean_one_and_evening_peak() -> None:
    nt = NationalTraffic.load()
    for c in CLASSES:
        p = nt.profile(T_S, c)
        assert p.mean() == pytest.approx(1.0, rel=1e-12)
        assert p.min() > 0.0
        assert nt.busy_hour(c) >= 17
    # periodic: midnight equals 24 h
    assert nt.profile([0.0], "fixed_down")[0] == pytest.approx(nt.profile([86_400.0])[0])


def test_year_scales_as_documented() -> None:
    nt = NationalTraffic.load()
    base = nt.offered_bps(TrafficSection(base_year=2023, year=2023), T_S)
    later = nt.offered_bps(TrafficSection(base_year=2023, year=2030), T_S)
    for c in CLASSES:
        g = nt.growth_per_year[c]
        assert later[c].mean() / base[c].mean() == pytest.approx((1 + g) ** 7, rel=1e-9)
    fixed = nt.offered_bps(TrafficSection(year=2025, growth_per_year=0.1), T_S)
    assert fixed["fixed_down"].mean() / base["fixed_down"].mean() == pytest.approx(1.21)


def test_growth_basis_is_cagr_of_mic_points() -> None:
    nt = NationalTraffic.load()
    assert nt.growth_per_year["fixed_down"] == pytest.approx((38.9 / 19.9) ** 0.25 - 1, rel=1e-9)
    assert 0.17 < nt.growth_per_year["fixed_down"] < 0.19


def test_share_scale_and_disabled() -> None:
    nt = NationalTraffic.load()
    a = nt.offered_bps(TrafficSection(), T_S)
    b = nt.offered_bps(TrafficSection(share=0.4, scale=2.0), T_S)
    np.testing.assert_allclose(b["mobile_down"], 0.8 * a["mobile_down"])
    off = nt.offered_bps(TrafficSection(enabled=False), T_S)
    assert all(v.sum() == 0.0 for v in off.values())
    assert "national" in TrafficSection().label


def test_section_rejects_bad_input() -> None:
    with pytest.raises(ValidationError):
        TrafficSection(destinations={})
    with pytest.raises(ValidationError):
        TrafficSection(shares=1.0)  # type: ignore[call-arg]
    with pytest.raises(ScenarioError):
        NationalTraffic.load().profile(T_S, "satellite")


@settings(max_examples=60, deadline=None)
@given(
    pop=st.lists(st.floats(0.0, 1e7), min_size=1, max_size=30).filter(lambda p: sum(p) > 0),
    w=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=6).filter(lambda w: sum(w) > 1e-6),
    tot=st.lists(st.floats(0.0, 1e14), min_size=1, max_size=5),
)
def test_spread_demand_conserves_totals(pop: list[float], w: list[float], tot: list[float]) -> None:
    out = spread_demand(np.array(pop), np.array(w), np.array(tot))
    assert out.shape == (len(tot), len(pop), len(w))
    np.testing.assert_allclose(out.sum(axis=(1, 2)), tot, rtol=1e-9, atol=1e-6)
    # each point gets its population share, each destination its weight share
    p = np.array(pop) / sum(pop)
    np.testing.assert_allclose(out.sum(axis=2), np.outer(tot, p), rtol=1e-9, atol=1e-6)
    assert np.all(out >= 0.0)
    single = spread_demand(np.array(pop), np.array(w), tot[0])
    assert single.shape == (len(pop), len(w))


def test_spread_demand_rejects_bad_input() -> None:
    with pytest.raises(ScenarioError):
        spread_demand(np.zeros(3), np.ones(2), 1.0)
    with pytest.raises(ScenarioError):
        spread_demand(np.ones(3), np.array([1.0, -1.0]), 1.0)


def test_profile_passes_through_shipped_hourly_means() -> None:
    """At the middle of each local hour the multiplier is that hour's shipped weight / mean."""
    text = importlib.resources.files("tsunagu.data").joinpath("traffic_diurnal.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    nt = NationalTraffic.load()
    mid_s = (np.arange(24) + 0.5) * 3600.0
    for c in CLASSES:
        w = np.array([float(r[c]) for r in rows])
        np.testing.assert_allclose(nt.profile(mid_s, c), w / w.mean(), rtol=1e-12)


def test_demand_bps_spreads_the_offered_traffic() -> None:
    nt = NationalTraffic.load()
    sec = TrafficSection(destinations={"tokyo": 3.0, "osaka": 1.0})
    pop = np.array([1e6, 3e6, 0.0])
    names, d = nt.demand_bps(sec, pop, T_S[:12])
    assert names == ("tokyo", "osaka")
    off = nt.offered_bps(sec, T_S[:12])
    for c in CLASSES:
        assert d[c].shape == (12, 3, 2)
        np.testing.assert_allclose(d[c].sum(axis=(1, 2)), off[c], rtol=1e-12)
        np.testing.assert_allclose(d[c][:, 1, 0], off[c] * 0.75 * 0.75, rtol=1e-12)
        assert np.all(d[c][:, 2, :] == 0.0)
