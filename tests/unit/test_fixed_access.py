"""Fixed access on PON trees: trees from subscribers ÷ split, admission within ρ_max of the
trees' capacity, the blocked rest named at the point's trees, and conservation in the run.

The expectations are the closed form of the scenario's numbers, written out here:
subscribers s = people · subscriptions_per_person, trees T = ⌈s / split⌉, capacity per
direction C = T · rate (``pon_technologies.csv``), offered X = traffic_share · people · per-person
rate, admitted min(X, ρ_max C), blocked X − min(X, ρ_max C).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest

from tsunagu.errors import ScenarioError
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import FixedAccessSection, Scenario, Timeline
from tsunagu.sim.background import Background
from tsunagu.sim.engine import run_twin
from tsunagu.sim.fixed_access import FixedAccess, admit_fixed, pon_technologies, pon_trees
from tsunagu.sim.kpis import RunResult
from tsunagu.sim.twin import Twin

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
HOUR = 21.0


def test_shipped_technologies_carry_the_standards_rates() -> None:
    """GE-PON (IEEE 802.3ah) 1 Gb/s both ways; 10G-EPON (IEEE 802.3av) 10/10 and 10/1 Gb/s;
    XGS-PON (ITU-T G.9807.1) 10 Gb/s both ways."""
    t = pon_technologies()
    rates = {k: (v.downstream_bps, v.upstream_bps) for k, v in t.items()}
    assert rates == {
        "ge-pon": (1e9, 1e9),
        "10g-epon": (10e9, 10e9),
        "10g-epon-asymmetric": (10e9, 1e9),
        "xgs-pon": (10e9, 10e9),
    }
    assert all(v.source for v in t.values())


def test_trees_are_subscribers_over_the_split_rounded_up() -> None:
    np.testing.assert_array_equal(pon_trees([0, 31, 32, 33, 3200], 32), [0, 1, 1, 2, 100])
    with pytest.raises(ScenarioError, match="split"):
        pon_trees([1.0], 0)


def test_the_scenario_section_refuses_an_unknown_technology_and_names_the_known() -> None:
    with pytest.raises(ValueError, match="ge-pon"):
        FixedAccessSection(technology="gpon-9000")
    assert FixedAccessSection(technology="none").technology == "none"


def test_a_point_above_its_pon_capacity_blocks_exactly_the_excess_at_rho_max() -> None:
    """japan-2030's section (GE-PON 1:32, 0.3169 subscriptions per person, 86 % of fixed
    traffic on FTTH) and its ρ_max; a point of 100,000 people offering 30 Mb/s per person down
    and 2 Mb/s up, and one offering 1 kb/s (far below capacity)."""
    sc = load_scenario("japan-2030")
    fa_sc, rho = sc.fixed_access, sc.capacity.access_max_utilisation
    people = np.array([100_000.0, 100_000.0])
    fa = FixedAccess.build(
        people, fa_sc.technology, fa_sc.split, fa_sc.subscriptions_per_person, fa_sc.traffic_share
    )
    down = people * np.array([30e6, 1e3])
    up = people * np.array([2e6, 1e3])
    adm = admit_fixed(fa, down, up, rho)
    # Closed form from the scenario's numbers.
    trees = math.ceil(100_000.0 * fa_sc.subscriptions_per_person / fa_sc.split)
    assert trees == math.ceil(31_690.0 / 32) == 991
    cap = trees * 1e9  # GE-PON, both directions
    for offered, admitted, util in (
        (down, adm.admitted_down_bps, adm.utilisation_down),
        (up, adm.admitted_up_bps, adm.utilisation_up),
    ):
        x = fa_sc.traffic_share * offered
        assert admitted[0] == pytest.approx(min(x[0], rho * cap), rel=1e-12)
        assert admitted[1] == pytest.approx(x[1], rel=1e-12)  # within capacity: all of it
        assert util[0] == pytest.approx(min(x[0], rho * cap) / cap, rel=1e-12)
        assert (util <= rho + 1e-12).all()
    x_down = fa_sc.traffic_share * 100_000.0 * 30e6
    assert x_down > rho * cap  # the down direction is overloaded (2,580 vs 892 Gb/s)
    assert adm.blocked_down_bps[0] == pytest.approx(x_down - rho * cap, rel=1e-12)
    assert adm.blocked_down_bps[1] == 0.0
    assert adm.utilisation_down[0] == pytest.approx(rho, rel=1e-12)
    # Up: 0.86 · 100,000 · 2 Mb/s = 172 Gb/s of 991 Gb/s, all admitted.
    assert adm.blocked_up_bps[0] == 0.0


def test_without_a_pon_technology_nothing_is_offered_to_trees() -> None:
    fa = FixedAccess.build([1e5], "none", 32, 0.3, 0.86)
    adm = admit_fixed(fa, np.array([1e12]), np.array([1e12]), 0.9)
    assert adm.blocked_down_bps[0] == 0.0
    assert adm.aggregate_utilisation() == 0.0


@functools.cache
def _scenario(split: int, scale: float) -> Scenario:
    """The minimal scenario at 21 h with GE-PON trees of ``split`` subscribers and its
    national traffic × ``scale``."""
    sc = load_scenario(MINIMAL)
    tl = Timeline(start_hour_local=HOUR, duration_s=3600.0, step_s=3600.0, seed=1)
    fa = FixedAccessSection(technology="ge-pon", split=split)
    traffic = sc.traffic.model_copy(update={"scale": scale})
    return sc.model_copy(update={"timeline": tl, "fixed_access": fa, "traffic": traffic})


@functools.cache
def _run(split: int, scale: float) -> RunResult:
    return run_twin(Twin(_scenario(split, scale)))


def _closed_form(split: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Per point: fixed download offered, admitted on its trees (closed form), capacity; ρ."""
    twin = Twin(_scenario(split, scale))
    sc = twin.scenario
    pp = Background(twin).per_person_bps(HOUR)
    pop = twin.demand.population
    fa = sc.fixed_access
    rho = sc.capacity.access_max_utilisation
    cap = np.ceil(pop * fa.subscriptions_per_person / split) * 1e9
    on_pon = fa.traffic_share * pop * pp["fixed_down"]
    return pop * pp["fixed_down"], np.minimum(on_pon, rho * cap), cap, rho


def test_the_run_blocks_the_fixed_excess_at_the_points_trees_and_conserves_traffic() -> None:
    """At 1:256 and twice the 2030 traffic a GE-PON tree is offered 256 subscribers' evening
    traffic (about 1.8 Gb/s): the run blocks at each point what its trees cannot carry at
    ρ_max, no more, names the point's trees, and offered = carried + blocked in every class."""
    split, scale = 256, 2.0
    offered, admitted, cap, rho = _closed_form(split, scale)
    on_pon = FixedAccessSection().traffic_share * offered
    assert (on_pon > rho * cap).any()  # the test overloads some points' trees
    res = _run(split, scale)
    tr = res.traffic.to_pandas().set_index("class")
    expect_blocked = float(np.sum(on_pon - admitted))
    assert tr.blocked_access_bps["fixed_down"] == pytest.approx(expect_blocked, rel=1e-9)
    assert tr.offered_bps["fixed_down"] == pytest.approx(float(offered.sum()), rel=1e-9)
    np.testing.assert_allclose(
        tr.offered_bps, tr.carried_bps + tr.blocked_bps, rtol=1e-12, atol=1e-3
    )
    np.testing.assert_allclose(
        tr.blocked_bps, tr.blocked_access_bps + tr.blocked_network_bps, rtol=1e-9, atol=1e-3
    )
    k = res.summary["kpis"]
    assert k["fixed_access_utilisation_max"] == pytest.approx(rho, rel=1e-9)
    assert k["fixed_access_utilisation"] <= rho + 1e-12
    assert k["fixed_access_utilisation"] == pytest.approx(
        float(admitted.sum() / cap.sum()), rel=1e-9
    )
    # The binding resource of the downloads is the trees of the point that blocks the most
    # (more than the network blocks in all).
    worst = int(np.argmax(on_pon - admitted))
    assert tr.blocked_network_bps["fixed_down"] < float(np.max(on_pon - admitted))
    name = f"capacity: pon trees of {Twin(_scenario(split, scale)).demand.name[worst]}"
    assert tr.binding["fixed_down"] == name


def test_at_the_standard_split_the_minimal_run_blocks_no_fixed_traffic() -> None:
    _, admitted, cap, rho = _closed_form(32, 1.0)
    res = _run(32, 1.0)
    tr = res.traffic.to_pandas().set_index("class")
    assert tr.blocked_access_bps["fixed_down"] == 0.0
    assert tr.blocked_access_bps["fixed_up"] == 0.0
    k = res.summary["kpis"]
    assert k["fixed_access_utilisation"] == pytest.approx(
        float(admitted.sum() / cap.sum()), rel=1e-9
    )
    assert 0.0 < k["fixed_access_utilisation_max"] < rho
