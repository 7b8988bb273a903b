"""National traffic in the run: volumes against MIC's figures, destinations, congestion,
blocking with its binding resource, and the load sweep."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from tsunagu.errors import ScenarioError
from tsunagu.scenario import load_scenario
from tsunagu.scenario.loader import scenario_from_text
from tsunagu.scenario.schema import Event, Scenario, Timeline
from tsunagu.sim.background import Background, resolve_destinations
from tsunagu.sim.engine import run_twin
from tsunagu.sim.kpis import RunResult
from tsunagu.sim.twin import Twin
from tsunagu.traffic.national import NationalTraffic, TrafficSection

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


@functools.cache
def _minimal() -> Scenario:
    return load_scenario(MINIMAL)


@functools.cache
def _run(scale: float = 1.0, hours: int = 1, year: int = 2030, cut: str = "") -> RunResult:
    sc = _minimal()
    traffic = sc.traffic.model_copy(update={"scale": scale, "year": year})
    events = [Event(kind="link_down", target=cut, start_s=0.0, end_s=hours * 3600.0)] if cut else []
    tl = Timeline(start_hour_local=21.0, duration_s=hours * 3600.0, step_s=3600.0, seed=1)
    return run_twin(
        Twin(sc.model_copy(update={"traffic": traffic, "timeline": tl, "events": events}))
    )


def test_base_year_day_mean_is_mics_published_figure() -> None:
    """Fixed download, Nov 2023: 34.5 Tb/s month average (MIC press release 2024-02-27). A run
    of a day of hourly steps in the base year offers that mean over Japan's demand points,
    read from the run's own traffic table.

    Tolerance 1 %: the run is evaluated in the middle of November of the base year, the
    published figure is the month's average; the profile's day mean is 1 by construction.
    """
    sc = load_scenario("japan-2030")
    tl = Timeline(start_hour_local=21.0, duration_s=86_400.0, step_s=3600.0, seed=1)
    traffic = sc.traffic.model_copy(update={"year": 2023, "base_year": 2023})
    res = run_twin(Twin(sc.model_copy(update={"timeline": tl, "traffic": traffic})))
    assert res.summary["counts"]["demand_points"] == 576  # all of Japan's, no area filter
    tr = res.traffic.to_pandas()
    fixed = tr[tr["class"] == "fixed_down"].sort_values("step")
    assert fixed.offered_bps.mean() == pytest.approx(34.5e12, rel=0.01)
    # Hour by hour the offered traffic follows the shipped diurnal profile, busy hour included.
    national = NationalTraffic.load()
    tod_s = (21.0 * 3600.0 + fixed.time_s.to_numpy()) % 86_400.0
    np.testing.assert_allclose(
        fixed.offered_bps / fixed.offered_bps.mean(), national.profile(tod_s), rtol=1e-9
    )
    busy = national.busy_hour("fixed_down")
    peak_h = int(tod_s[int(np.argmax(fixed.offered_bps))] // 3600)
    assert peak_h in (busy, (busy + 1) % 24)  # the peak bin's edges bracket its middle
    assert 20 <= busy <= 23  # MIC: the busy hour is in the evening (21-23 h)


def test_year_scaling_grows_at_the_stated_basis() -> None:
    """2023 → 2030 at the fixed-download basis (CAGR of MIC's Nov 2020 and Nov 2024 figures,
    19.9 → 38.9 Tb/s: 18.2 %/yr)."""
    twin = Twin(_minimal())
    a = Background(twin).per_person_bps(21.0)
    sc = _minimal().model_copy(update={"traffic": TrafficSection(year=2023)})
    b = Background(Twin(sc)).per_person_bps(21.0)
    cagr = (38.9 / 19.9) ** (1.0 / 4.0) - 1.0
    assert a["fixed_down"] / b["fixed_down"] == pytest.approx((1.0 + cagr) ** 7, rel=1e-9)


def test_every_class_is_carried_to_its_destinations_in_both_directions() -> None:
    res = _run()
    tr = res.traffic.to_pandas().set_index("class")
    twin = Twin(_minimal())
    pp = Background(twin).per_person_bps(21.0)
    pop = float(twin.demand.population.sum())
    # Fixed traffic: every person's share of the national rate, offered at the central office.
    for c in ("fixed_down", "fixed_up"):
        assert tr.offered_bps[c] == pytest.approx(pp[c] * pop, rel=1e-9)
    # Mobile: every person, also those the cells could not carry.
    for c in ("mobile_down", "mobile_up"):
        assert tr.offered_bps[c] == pytest.approx(pp[c] * pop, rel=1e-9)
    assert (tr.carried_bps > 0).all()
    # Downloads flow from the destinations to the offices and uploads back: both directions
    # of the links homing the Tokyo backbone node are loaded.
    ll = res.link_loads.to_pandas()
    tokyo = ll[(ll.src.str.endswith(":Tokyo") | ll.dst.str.endswith(":Tokyo"))]
    assert (tokyo.load_forward_bps > 0).any()
    assert (tokyo.load_reverse_bps > 0).any()


def test_destinations_resolve_by_city_site_or_data_centres_and_teach_otherwise() -> None:
    twin = Twin(_minimal())
    names = np.asarray(twin.static.nodes.name)
    d = resolve_destinations(twin, TrafficSection(destinations={"tokyo": 3.0, "osaka": 1.0}))
    assert [names[i] for i in d.node] == ["op-a:Tokyo", "op-a:Osaka"]
    assert d.names == ("tokyo", "osaka")
    np.testing.assert_allclose(d.weight, [0.75, 0.25])
    dc = resolve_destinations(twin, TrafficSection(destinations={"data_centres": 1.0}))
    assert sorted(names[dc.node]) == sorted(s.name for s in twin.scenario.compute.sites)
    assert set(dc.group_of) == {0}
    one = resolve_destinations(twin, TrafficSection(destinations={"dc-osaka": 1.0}))
    assert names[one.node[0]] == "dc-osaka"
    with pytest.raises(ScenarioError, match=r"backbone cities: .*Tokyo"):
        resolve_destinations(twin, TrafficSection(destinations={"atlantis": 1.0}))


def test_the_replaced_per_person_background_field_teaches_the_traffic_section() -> None:
    text = MINIMAL.read_text().replace("ran:\n", "ran:\n  background_bps_per_person: 1.0e5\n", 1)
    with pytest.raises(ScenarioError, match="traffic"):
        scenario_from_text(text)


def test_load_sweep_blocks_more_at_each_multiple_and_names_the_binding_link() -> None:
    """×1 … ×8 the national traffic at the busy hour: the carried share never rises, links are
    never above capacity, and beyond the network's capacity the binding resource is a fibre
    link, named per class."""
    shares = []
    for scale in (1.0, 2.0, 4.0, 8.0):
        res = _run(scale)
        k = res.summary["kpis"]
        shares.append(k["traffic_carried_share"])
        ll = res.link_loads.to_pandas()
        assert (ll.load_forward_bps <= ll.capacity_bps * (1 + 1e-9)).all()
        assert (ll.load_reverse_bps <= ll.capacity_bps * (1 + 1e-9)).all()
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(shares))
    assert shares[-1] < shares[0]
    tr = _run(8.0).traffic.to_pandas().set_index("class")
    assert tr.blocked_network_bps["fixed_down"] > 0
    assert tr.binding["fixed_down"].startswith("capacity: fibre ")
    # The named link is full in the direction that blocked.
    ll = _run(8.0).link_loads.to_pandas()
    name = tr.binding["fixed_down"].removeprefix("capacity: fibre ")
    src, dst = name.split("→")
    fwd = ll[(ll.src == src) & (ll.dst == dst)]
    rev = ll[(ll.src == dst) & (ll.dst == src)]
    full = np.concatenate(
        [
            (fwd.load_forward_bps / fwd.capacity_bps).to_numpy(),
            (rev.load_reverse_bps / rev.capacity_bps).to_numpy(),
        ]
    )
    assert full.size == 1
    assert full[0] == pytest.approx(1.0, abs=1e-6)


def test_a_cut_link_carries_nothing_and_its_traffic_goes_round_it() -> None:
    cut = _run(1.0, cut="Tokyo--Nagoya")
    ll = cut.link_loads.to_pandas()
    link = ll[
        ll.src.str.endswith(":Tokyo") & ll.dst.str.endswith(":Nagoya")
        | ll.src.str.endswith(":Nagoya") & ll.dst.str.endswith(":Tokyo")
    ]
    assert len(link) == 1
    assert float(link.load_bps.iloc[0]) == 0.0
    # Its traffic goes round it: nearly all is still carried, over longer paths.
    base = _run(1.0)
    before = base.traffic.to_pandas().set_index("class")
    after = cut.traffic.to_pandas().set_index("class")
    assert after.carried_bps.sum() >= 0.95 * before.carried_bps.sum()
    bl = base.link_loads.to_pandas()
    more = (ll.load_bps.to_numpy() - bl.load_bps.to_numpy())[ll.link != link.link.iloc[0]]
    assert more.max() > 0.05 * float(bl.load_bps[link.index[0]])  # others took its load


def test_flows_report_their_carried_share_and_the_reason_for_the_rest() -> None:
    res = _run(8.0)
    f = res.flows
    carried = f["carried_share"].to_numpy()
    placed = pc.not_equal(f["site"], "").to_numpy(zero_copy_only=False)
    reason = np.asarray(f["reject_reason"].to_pylist())
    part = placed & (carried < 1.0 - 1e-12)
    assert part.any()  # congestion drops part of some flows' requests
    # Only network resources cut an admitted flow short: fibre, or the feeder of a LEO user's
    # satellite (people the cells refuse spill over to LEO).
    assert all(
        r.startswith(("capacity: fibre ", "capacity: feeder ")) or r == "no path"
        for r in reason[part]
    )
    k = res.summary["kpis"]
    # Served requests count only the carried share.
    w = f["demand_rps"].to_numpy()
    assert k["served_share"] == pytest.approx(float((w * carried).sum() / w.sum()), rel=1e-9)
