"""The disaster presets against the public figures they are built from, and a Noto 2024 run.

Sources (primary figures, see docs/disasters.md; the counts with their sources are in
``src/tsunagu/data/disaster_counts.csv``, each row with its role):

* 2024 Noto: ~60 % of outages from cut transmission links, 664 Starlink kits (MIC figures quoted
  in REFERENCES.md "Disasters"); Starlink kits in use in Wajima on 5 Jan (Kyodo News photo dated
  2024-01-05).
* 2011 Tohoku: docomo 6,720, au 3,680, SoftBank 3,786 base stations down, ~80 % from power
  loss, batteries 1–3 h (REFERENCES.md "Disasters").

Restoration model (``sim.disasters.two_population_share``; the rates fitted once by
``published_restoration_fit``, the split fixed by the cause shares above):

* **Fit data** (roles ``peak`` and ``fit``): Noto 2024, all four operators: 839 (3 Jan 07:30,
  the peak), about 600 (6 Jan 14:30), 215 (14 Jan). Tohoku 2011 (Impress K-tai Watch, from the
  operators' reports): docomo 5,490 (12 Mar 08:00, peak), 3,200 (14 Mar), 770 (25 Mar); au
  3,800 (12 Mar 05:00, peak), 1,880 (14 Mar), 324 (25 Mar); SoftBank 3,768 (12 Mar, peak), 472
  (25 Mar). 7 counts after the peaks, 2 rates: 5 degrees of freedom.
* **Test data** (role ``test``, held out, read only by the validation below): Noto 122 (31 Jan
  2024) and 15 (1 Jul 2024); docomo 680 (29 Mar) and 570 (2 Apr 2011); au 264 (29 Mar) and 202
  (1 Apr); SoftBank 382 (29 Mar) and 257 (4 Apr).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest

from tsunagu.report.figures import WITHOUT_SERVICE_TRACE, build_figures
from tsunagu.runner import run
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Event, Scenario, Timeline
from tsunagu.sim.background import Background
from tsunagu.sim.disasters import (
    PRESETS,
    count_series,
    expand_disaster,
    fit_restoration_rates,
    published_counts,
    published_restoration_fit,
    two_population_share,
)
from tsunagu.sim.kpis import RunResult
from tsunagu.sim.twin import Twin

HOUR = 3600.0
DAY = 86_400.0
QUAKE_S = 16 * HOUR + 10 * 60  # 1 Jan 2024 16:10 JST, the run starting at local midnight
STEP_S = 3 * HOUR


def test_preset_figures_are_the_published_ones() -> None:
    noto = PRESETS["noto-2024"].params
    assert noto["base_stations_down_peak"] == 839
    # 1 Jan 16:10 -> 3 Jan 07:30
    assert noto["peak_after_s"] == pytest.approx((39 + 20 / 60) * HOUR)
    assert noto["carriers"] == 4  # docomo, KDDI, SoftBank, Rakuten Mobile
    assert noto["transmission_share"] == 0.6
    tohoku = PRESETS["tohoku-2011"].params
    assert tohoku["base_stations_down_peak"] == 6720 + 3680 + 3786
    assert tohoku["transmission_share"] == pytest.approx(1.0 - 0.8)
    assert 1 * HOUR <= tohoku["battery_hold_s"] <= 3 * HOUR
    # Every preset restores at the rates fitted to the published fit rows.
    fit = published_restoration_fit()
    for p in (noto, tohoku):
        assert (p["k_fast_per_s"], p["k_slow_per_s"]) == (fit.k_fast_per_s, fit.k_slow_per_s)
    # The Nankai analogue takes Tohoku's figures, scaled by Tohoku's share of sites down.
    assert PRESETS["nankai"].params == tohoku
    assert PRESETS["nankai"].reference_area == ("Tohoku",)


def _counts(event: str, operator: str, role: str) -> list[tuple[float, float]]:
    return [
        (c.after_s, c.base_stations_down)
        for c in published_counts(event)
        if c.operator == operator and c.role == role
    ]


_SITES = 1.0e6  # a stub twin with more sites than went down: the share is N / carriers / sites


def _preset_down(t_after_quake_s: float) -> float:
    """Base stations down (all carriers) that ``expand_disaster`` gives at a time after the quake.

    Read back from the expanded ``ran_outage`` windows of the noto-2024 preset on a stub twin
    whose share never saturates; 0 once the preset counts the area restored.
    """
    run_end_s = t_after_quake_s + 2 * HOUR
    events = expand_disaster(
        Event(preset="noto-2024", start_s=0.0), 0, lambda area, circle: _SITES, run_end_s
    )
    share = sum(
        e.factor
        for e in events
        if e.kind == "ran_outage" and e.start_s <= t_after_quake_s < float(e.end_s or 0.0)
    )
    return share * _SITES * PRESETS["noto-2024"].params["carriers"]


def _model_down(event: str, operator: str, t_after_quake_s: float) -> float:
    """The restoration model's count for one operator's series, from its published peak."""
    if event == "noto-2024":
        return _preset_down(t_after_quake_s)  # through the preset: the run's timeline
    fit = published_restoration_fit()
    ((t_peak, n_peak),) = _counts(event, operator, "peak")
    slow = PRESETS[event].params["transmission_share"]
    share = two_population_share(t_after_quake_s - t_peak, slow, fit.k_fast_per_s, fit.k_slow_per_s)
    return n_peak * float(share)


def _log_rate_per_s(event: str, t_after_peak_s: float) -> float:
    """|d ln N / dt| of the model at a time after the peak (1/s)."""
    fit = published_restoration_fit()
    s = PRESETS[event].params["transmission_share"]
    kf, ks = fit.k_fast_per_s, fit.k_slow_per_s
    fast, slow = (1 - s) * math.exp(-kf * t_after_peak_s), s * math.exp(-ks * t_after_peak_s)
    return (kf * fast + ks * slow) / (fast + slow)


def _operator_spread_ln() -> float:
    """Tolerance: ln of the spread between operators hit by the same disaster.

    One restoration curve per event cannot come closer to one operator's count than the
    operators of that event are to each other. On the last fit date of Tohoku 2011 (25 Mar) the
    three operators still had 0.140 (docomo), 0.085 (au) and 0.125 (SoftBank) of their own peaks
    down: a factor 1.65 between them (fit rows only).
    """
    last = [s.points[-1][1] / s.peak[1] for s in count_series("tohoku-2011")]
    return math.log(max(last) / min(last))


_HOUR_UNCERTAINTY_S = 12 * HOUR  # report hours not given are taken as the morning report or noon


def _hour_uncertainty_ln(event: str, operator: str, t_after_quake_s: float) -> float:
    """The model's change of ln N over ±12 h of report hour at a count's time."""
    ((t_peak, _),) = _counts(event, operator, "peak")
    return _log_rate_per_s(event, t_after_quake_s - t_peak) * _HOUR_UNCERTAINTY_S


def _tolerance_ln(event: str, operator: str, t_after_quake_s: float) -> float:
    """Operator spread plus the model's change over ±12 h of report hour."""
    return _operator_spread_ln() + _hour_uncertainty_ln(event, operator, t_after_quake_s)


def test_restoration_fit_reads_only_the_peak_and_fit_rows() -> None:
    """The fit sees 7 counts after 4 peaks and no held-out row; 2 rates, 5 degrees of freedom."""
    fit = published_restoration_fit()
    series = count_series("noto-2024") + count_series("tohoku-2011")
    held_out = {(e, c.after_s) for e in PRESETS for c in published_counts(e) if c.role == "test"}
    used = {(s.name.split("/")[0], t) for s in series for t, _ in s.points}
    assert len(used) == 7
    assert not used & held_out
    assert fit.dof == 5
    assert fit.series == tuple(s.name for s in series)
    again = fit_restoration_rates(series)
    assert (again.k_fast_per_s, again.k_slow_per_s) == (fit.k_fast_per_s, fit.k_slow_per_s)
    # Measured: k_fast 0.2424 /day (half-life 2.9 days), k_slow 0.0726 /day (9.5 days).
    assert fit.k_fast_per_s * DAY == pytest.approx(0.2424, abs=5e-4)
    assert fit.k_slow_per_s * DAY == pytest.approx(0.0726, abs=5e-4)


def test_restoration_reproduces_the_counts_it_is_fitted_to() -> None:
    """Consistency check (the counts the rates were fitted to; the model through the presets
    for Noto). Tolerance: the Tohoku operators' spread on their last fit date (a factor 1.65)
    plus ±12 h of report hour (0.54-0.60 in ln). Measured ln(model / reported): Noto 600 -0.09,
    215 +0.15; docomo 3,200 +0.12, 770 -0.25; au 1,880 +0.26, 324 +0.22; SoftBank 472 -0.13.
    """
    for event, operator in [("noto-2024", "all")] + [
        ("tohoku-2011", op) for op in ("docomo", "au", "softbank")
    ]:
        for t, reported in _counts(event, operator, "fit"):
            err = math.log(_model_down(event, operator, t) / reported)
            assert abs(err) < _tolerance_ln(event, operator, t), (event, operator, reported, err)


# The held-out rows the model misses, with the model's count as measured: it under-predicts
# them. The docomo counts are of radio stations (several per base station), so its series stays
# higher than the others'; Noto's 31 Jan count comes after the end of emergency restoration
# (15-17 Jan), where only the road-cut sites were left; on 1 Jul 12 of the 15 are Rakuten sites
# with no area impaired, a permanent remainder that no decaying population holds.
_MISSES = {
    ("noto-2024", "all", 122.0): 65.4,
    ("noto-2024", "all", 15.0): 0.0,
    ("tohoku-2011", "docomo", 680.0): 382.7,
    ("tohoku-2011", "docomo", 570.0): 261.3,
}


@pytest.mark.parametrize(
    ("event", "operator"),
    [
        ("noto-2024", "all"),
        ("tohoku-2011", "docomo"),
        ("tohoku-2011", "au"),
        ("tohoku-2011", "softbank"),
    ],
)
def test_restoration_on_held_out_counts(event: str, operator: str) -> None:
    """Validation on held-out data: each ``test`` row against the model fitted without it.

    Tolerance: ln(model / reported) within the operator spread of the fit rows (a factor 1.65,
    :func:`_operator_spread_ln`) plus the model's change over ±12 h of report hour: 0.54-0.55
    in ln (-42 % / +72 %); the rounding of "about" counts (±5 of 570, ±0.9 %) is below it. Measured
    (model vs reported; the single exponential of the first version in brackets, per series
    fitted the same way): Noto 31 Jan 65.4 vs 122, -46 % (27.1, -78 %), a miss; 1 Jul 0 vs 15
    (0), a miss; docomo 29 Mar 382.7 vs 680, -44 % (-40 %), a miss; 2 Apr 261.3 vs 570, -54 %
    (-61 %), a miss; au 29 Mar 261.5 vs 264, -1 % (-43 %); 1 Apr 197.2 vs 202, -2 % (-57 %);
    SoftBank 29 Mar 267.2 vs 382, -30 % (-33 %); 4 Apr 154.8 vs 257, -40 % (-60 %). A miss is
    asserted as measured (to the model's change over ±12 h of report hour), so that an
    improvement or a regression of the model shows here.
    """
    held_out = _counts(event, operator, "test")
    assert len(held_out) == 2
    for t, reported in held_out:
        model = _model_down(event, operator, t)
        tol = _tolerance_ln(event, operator, t)
        miss = _MISSES.get((event, operator, reported))
        if miss is None:
            assert abs(math.log(model / reported)) < tol, (event, operator, reported, model)
        elif miss == 0.0:
            assert model < 0.5  # the preset counts the area restored: under half a station
        else:
            assert math.log(reported / model) > tol  # under-predicted beyond the tolerance
            assert model == pytest.approx(miss, rel=_hour_uncertainty_ln(event, operator, t))


def _noto_scenario() -> Scenario:
    base = load_scenario("japan-2030")
    return base.model_copy(
        update={
            "timeline": Timeline(start_hour_local=0.0, duration_s=5 * 86_400, step_s=STEP_S),
            "events": [Event(preset="noto-2024", start_s=QUAKE_S)],
        }
    )


@functools.cache
def _noto_run(out: str) -> RunResult:
    return run(_noto_scenario(), out_dir=out)


@pytest.fixture(scope="module")
def noto(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    out = tmp_path_factory.mktemp("noto")
    return _noto_run(str(out)), out


def _first_step_at_or_after(t_s: float) -> float:
    return math.ceil(t_s / STEP_S) * STEP_S


def test_noto_loses_service_in_the_affected_area_only(noto: tuple[RunResult, Path]) -> None:
    res, _ = noto
    areas = res.areas.to_pandas()
    hit = areas[areas.population_without_service > 0]
    assert set(hit.prefecture_name) == {"Ishikawa"}
    # Before the quake nobody is without service.
    steps = res.steps.to_pandas()
    assert (steps.population_unserved[steps.time_s < QUAKE_S] == 0).all()
    # The twin's only demand point within 70 km of the epicentre is Nanao; the twin's 94 sites
    # there are fewer than the 839 / 4 that went down per carrier, so every cell goes dark:
    # first the 60 % cut off by transmission links, then the rest when the batteries run out.
    ishikawa = areas[areas.prefecture_name == "Ishikawa"].set_index("time_s")
    nanao = 66_218.27364906885  # GeoNames population attributed to Nanao (census-scaled)
    first = _first_step_at_or_after(QUAKE_S)
    dark = _first_step_at_or_after(QUAKE_S + 3 * HOUR)
    assert ishikawa.population_without_service[first] == pytest.approx(0.6 * nanao, rel=1e-9)
    assert ishikawa.population_without_service[dark] == pytest.approx(nanao, rel=1e-9)


def test_noto_ntn_backup_carries_what_its_capacity_allows(noto: tuple[RunResult, Path]) -> None:
    """When the NTN arrives, HAPS-Noto's beams (1,555.3 Mb/s) fill up: they carry the AI and
    mobile traffic of as many people as ρ_max · C allows; the rest spill over to the LEO layer,
    whose beam fills too, and what it refuses stays without service, blocked at that beam
    (consistency check of the admission arithmetic)."""
    res, _ = noto
    r = res.summary["restoration"]["Ishikawa"]
    arrive = _first_step_at_or_after(QUAKE_S + PRESETS["noto-2024"].params["ntn_delay_s"])
    assert r["lost_at_s"] == _first_step_at_or_after(QUAKE_S)
    areas = res.areas.to_pandas()
    ish = areas[areas.prefecture_name == "Ishikawa"].set_index("time_s")
    nanao = 66_218.27364906885  # GeoNames population attributed to Nanao (census-scaled)
    assert ish.population_on_ntn[ish.index < arrive].max() == 0.0
    on_ntn = float(ish.population_on_ntn[arrive])
    assert 0.0 < on_ntn < nanao
    # The NTN's capacity, not its coverage, leaves the rest without service: never restored.
    assert ish.population_without_service[arrive] == pytest.approx(nanao - on_ntn, rel=1e-9)
    assert r["restored_at_s"] is None
    assert res.summary["kpis"]["areas_lost"] == 1
    assert res.summary["kpis"]["areas_restored"] == 0
    f = res.flows.to_pandas()
    f = f[(f.time_s == arrive) & (f.prefecture == 17)]
    # The people the platform refuses spill over to the LEO layer, whose beam over Nanao is
    # full too: each refused flow names the last full resource, a LEO beam.
    refused = set(f.reject_reason[f.site == ""])
    assert refused
    assert all(r.startswith("capacity: leo beam ") for r in refused)
    leo = (f.access == "leo") & (f.site != "")
    assert leo.any()  # the LEO beam admits what it can before it refuses the rest
    # The platform's admitted bits: its people's AI requests and their mobile traffic.
    twin = Twin(_noto_scenario())
    on = (f.access == "haps") & (f.site != "")
    bits = {k.name: (k.request_bytes + k.response_bytes) * 8.0 for k in twin.scenario.services}
    ai_bps = float((f.demand_rps[on] * f.service[on].map(bits)).sum())
    people = float(f.population[on].sum()) / len(twin.scenario.services)
    people_leo = float(f.population[leo].sum()) / len(twin.scenario.services)
    assert people + people_leo == pytest.approx(on_ntn, rel=1e-9)
    pp = Background(twin).per_person_bps(arrive / HOUR % 24.0)
    haps = next(h for h in twin.scenario.ntn.haps if h.name == "HAPS-Noto")
    rho = twin.scenario.capacity.access_max_utilisation
    assert ai_bps + people * (pp["mobile_down"] + pp["mobile_up"]) == pytest.approx(
        rho * haps.capacity_bps, rel=1e-9
    )
    # Every step's rows still account for the whole population.
    np.testing.assert_allclose(
        res.steps["population_served"].to_numpy() + res.steps["population_unserved"].to_numpy(),
        126_146_099,
        rtol=1e-9,
    )


def test_report_shows_the_population_without_service_curve(noto: tuple[RunResult, Path]) -> None:
    res, out = noto
    fig = build_figures(out)["outage-time"]
    curve = next(t for t in fig.data if t.name == WITHOUT_SERVICE_TRACE)
    y = np.asarray(curve.y, dtype=float)
    assert y.max() == pytest.approx(res.summary["kpis"]["population_without_service_peak"])
    assert y[0] == 0
    assert y[-1] == pytest.approx(res.steps["population_unserved"].to_numpy()[-1])
    assert (y > 0).sum() >= 25
    assert any(t.name == "without service: Ishikawa" for t in fig.data)
    assert any(t.name == "population on HAPS" for t in fig.data)
    from tsunagu.report.html import render_report

    page = render_report(out)
    assert 'id="outage-time"' in page
    assert 'id="restoration"' in page
