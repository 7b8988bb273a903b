"""The disaster presets against the public figures they are built from, and a Noto 2024 run.

Sources (primary figures, see docs/disasters.md):

* 2024 Noto: peak 839 base stations down on 3 Jan, 215 on 14 Jan, ~60 % of outages from cut
  transmission links, 664 Starlink kits (MIC figures quoted in REFERENCES.md "Disasters");
  603 down on 6 Jan 14:30 (MIC via Yomiuri Shimbun, 2024-01-07); Starlink kits in use in Wajima
  on 5 Jan (Kyodo News photo dated 2024-01-05).
* 2011 Tohoku: docomo 6,720, au 3,680, SoftBank 3,786 base stations down, ~80 % from power
  loss, batteries 1–3 h (REFERENCES.md "Disasters").
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
from tsunagu.sim.disasters import PRESETS, decay_rate_per_s
from tsunagu.sim.kpis import RunResult
from tsunagu.sim.twin import Twin

HOUR = 3600.0
QUAKE_S = 16 * HOUR + 10 * 60  # 1 Jan 2024 16:10 JST, the run starting at local midnight
STEP_S = 3 * HOUR


def test_preset_figures_are_the_published_ones() -> None:
    noto = PRESETS["noto-2024"].params
    assert noto["base_stations_down_peak"] == 839
    assert noto["carriers"] == 4  # docomo, KDDI, SoftBank, Rakuten Mobile
    assert noto["transmission_share"] == 0.6
    assert dict(PRESETS["noto-2024"].counts_after_peak)[303.8 * HOUR] == 215
    tohoku = PRESETS["tohoku-2011"].params
    assert tohoku["base_stations_down_peak"] == 6720 + 3680 + 3786
    assert tohoku["transmission_share"] == pytest.approx(1.0 - 0.8)
    assert 1 * HOUR <= tohoku["battery_hold_s"] <= 3 * HOUR
    # The Nankai analogue takes Tohoku's figures, scaled by Tohoku's share of sites down.
    assert PRESETS["nankai"].params == tohoku
    assert PRESETS["nankai"].reference_area == ("Tohoku",)


def test_noto_decay_reproduces_the_reported_counts() -> None:
    """One exponential through the 3 Jan peak, fitted to 6 Jan and 14 Jan.

    Tolerance: 10 % of the reported count — restoration is a sequence of site visits, not an
    exponential, and the counts were reported at different times of day (±6 h).
    """
    p = PRESETS["noto-2024"]
    t_peak = p.params["peak_after_s"]
    k = decay_rate_per_s(p.counts_after_peak, (t_peak, 839.0))
    for t, reported in p.counts_after_peak:
        model = 839.0 * math.exp(-k * (t - t_peak))
        assert model == pytest.approx(reported, rel=0.10), (t / HOUR, reported, model)
    # Measured: 603 -> 563.1 (-6.6 %), 215 -> 219.4 (+2.1 %); half-life 5.7 days.
    assert math.log(2) / k / 86_400 == pytest.approx(5.7, abs=0.1)


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
    mobile traffic of as many people as ρ_max · C allows, and the rest stays without service,
    blocked at the platform's beams (consistency check of the admission arithmetic)."""
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
    assert set(f.reject_reason[f.site == ""]) == {"capacity: haps beams of HAPS-Noto"}
    # The platform's admitted bits: its people's AI requests and their mobile traffic.
    twin = Twin(_noto_scenario())
    on = (f.access == "haps") & (f.site != "")
    bits = {k.name: (k.request_bytes + k.response_bytes) * 8.0 for k in twin.scenario.services}
    ai_bps = float((f.demand_rps[on] * f.service[on].map(bits)).sum())
    people = float(f.population[on].sum()) / len(twin.scenario.services)
    assert people == pytest.approx(on_ntn, rel=1e-9)
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
