"""The cross-domain adapters: RAN carriers → fronthaul, compute sites → DCI lightpaths."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from tsunagu.adapters.dci import dci_pairs, plan_dci
from tsunagu.adapters.fronthaul import plan_fronthaul, sector_fronthaul_bps
from tsunagu.geo import great_circle_m
from tsunagu.optical.fronthaul import fronthaul_reach_km, split72_bitrate_bps
from tsunagu.scenario import Scenario, load_scenario
from tsunagu.sim.twin import Twin


@functools.cache
def _japan() -> tuple[Scenario, Twin]:
    sc = load_scenario("japan-2030")
    return sc, Twin(sc)


def test_sector_fronthaul_is_the_sum_over_carriers() -> None:
    sc, _ = _japan()
    # japan-2030: n78 and n79, 100 MHz each at 30 kHz (273 PRB), 4 layers, BFP-9.
    assert [c.bandwidth_mhz for c in sc.ran.carriers] == [100.0, 100.0]
    expected = 2 * float(split72_bitrate_bps(273, 30, 4))
    assert sector_fronthaul_bps(sc) == pytest.approx(expected, rel=1e-12)


def test_fronthaul_plan_is_consistent() -> None:
    sc, twin = _japan()
    plan = plan_fronthaul(sc, twin.ran.sites, twin.ran.area_km2)
    assert plan.reach_km == pytest.approx(float(fronthaul_reach_km(100e-6)))
    assert np.all(plan.sites_within_budget <= plan.sites + 1e-9)
    assert 0.0 < plan.share_within_budget <= 1.0
    np.testing.assert_allclose(plan.demand_bps, plan.sites_within_budget * plan.site_bps)
    assert np.all(plan.wavelengths * 400e9 >= plan.demand_bps)
    tight = sc.model_copy(
        update={
            "optical": sc.optical.model_copy(
                update={
                    "fronthaul": sc.optical.fronthaul.model_copy(update={"latency_class": "high25"})
                }
            )
        }
    )
    tighter = plan_fronthaul(tight, twin.ran.sites, twin.ran.area_km2)
    assert tighter.share_within_budget < plan.share_within_budget


def test_dci_pairs_rules() -> None:
    kinds = ["core", "core", "regional", "edge", "core"]
    lat = np.array([35.0, 34.0, 35.1, 33.9, 43.0])
    lon = np.array([140.0, 135.0, 140.1, 135.1, 141.0])
    mesh = dci_pairs(kinds, lat, lon, "core-mesh")
    assert {tuple(p) for p in mesh.tolist()} == {(0, 1), (0, 4), (1, 4)}
    full = dci_pairs(kinds, lat, lon, "core-mesh+nearest-core")
    assert {tuple(p) for p in full.tolist()} - {tuple(p) for p in mesh.tolist()} == {
        (2, 0),
        (3, 1),
    }
    assert dci_pairs(kinds, lat, lon, "none").shape == (0, 2)


def test_dci_plan_on_japan_2030() -> None:
    sc, twin = _japan()
    sites = sc.compute.sites
    lat = np.array([s.lat_deg for s in sites])
    lon = np.array([s.lon_deg for s in sites])
    plan = plan_dci(sc, twin.backbone, lat, lon)
    c = plan.columns
    n_core = sum(s.kind == "core" for s in sites)
    assert c["src"].size == n_core * (n_core - 1) // 2 + (len(sites) - n_core)
    ok = plan.established
    assert ok.any()
    # Every established lightpath meets its format's threshold plus the required margin.
    assert np.all(c["margin_db"][ok] >= sc.optical.dci.margin_db - 1e-9)
    # A route is never shorter than the great circle between the two sites, up to the ±2.6 %
    # by which topohub's own SINET link lengths differ from our great circles (measured).
    name_to = {s.name: i for i, s in enumerate(sites)}
    ia = np.array([name_to[n] for n in c["src"]])
    ib = np.array([name_to[n] for n in c["dst"]])
    gc_km = great_circle_m(lat[ia], lon[ia], lat[ib], lon[ib]) / 1e3
    assert np.all(c["length_km"][ok] >= 0.97 * gc_km[ok])
    # Optical bypass never costs more power or latency than the same traffic over IP hops,
    # and saves both as soon as a route has an intermediate node.
    assert np.all(c["power_w"][ok] <= c["ip_power_w"][ok] + 1e-9)
    assert np.all(c["latency_ms"][ok] <= c["ip_latency_ms"][ok] + 1e-12)
    multi = ok & (c["hops"] > 1)
    assert np.all(c["ip_power_w"][multi] > c["power_w"][multi])
    k = plan.kpis()
    assert k["dci_established"] == float(ok.sum())
    assert k["dci_power_w"] == pytest.approx(float(np.sum(c["power_w"][ok])))
