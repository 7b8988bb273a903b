"""Unit tests of tsunagu.ran.coverage on a small synthetic country (three demand points)."""

from __future__ import annotations

import numpy as np
import pytest

from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.ran import coverage as cov
from tsunagu.scenario.schema import Carrier, RanSection


def _demand() -> cov.DemandAreas:
    # A dense city (Tokyo-like density), a mid town and a rural village, in two prefectures.
    pop = np.array([300_000.0, 40_000.0, 3_000.0])
    area = np.array([50.0, 40.0, 30.0])
    return cov.DemandAreas(
        name=np.array(["City", "Town", "Village"]),
        lat_deg=np.array([35.68, 35.80, 36.40]),
        lon_deg=np.array([139.76, 139.40, 138.20]),
        prefecture=np.array([13, 13, 20], dtype=np.int64),
        city_population=np.array([300_000, 40_000, 3_000], dtype=np.int64),
        population=pop,
        area_km2=area,
        density_per_km2=pop / area,
    )


def _ran(**kw: object) -> RanSection:
    args: dict[str, object] = {
        "carriers": [Carrier(band="n78", freq_ghz=3.7, bandwidth_mhz=100.0, layers=4)],
        "urban_density_per_km2": 1000.0,
        "mmwave_min_city_population": 200_000,
    }
    args.update(kw)
    return RanSection(**args)  # type: ignore[arg-type]


HAPS = [cov.HapsSite("H", 36.40, 138.20, 50.0)]


def test_plan_layers_and_site_carriers() -> None:
    d = _demand()
    plan = cov.plan_national_cells(_ran(), d, HAPS)
    kinds = [lp.kind for lp in plan.layers]
    assert kinds == ["macro-uma", "macro-rma", "mmwave", "hibs"]
    uma = plan.layers[0]
    # Hex fill ≈ disc area / site area: 90 km² / (√3/2 · 0.5²) km² ≈ 416 sites (±edge effects).
    assert 0.8 * 416 < uma.site_lat_deg.size < 1.25 * 416
    mm = plan.layers[2]
    # 1 km core disc, ISD 200 m: π / (√3/2 · 0.04) ≈ 91 sites.
    assert 0.8 * 91 < mm.site_lat_deg.size < 1.25 * 91
    assert plan.layers[3].cells.n_cells == 7
    sc = plan.site_carriers()
    assert sc.site_id.size == sum(lp.site_lat_deg.size for lp in plan.layers)
    assert set(sc.band) == {"n78", "n257", "hibs-1.7-1.9"}
    assert set(sc.antenna_ports[sc.band == "n78"]) == {4}
    assert np.all(sc.sectors[sc.kind == "macro-uma"] == 3)
    # Active users per sector: density × sector area × share, e.g. the city:
    # 6,000/km² × (√3/2 · 0.25 / 3) km² × 0.02 = 8.66.
    assert float(uma.cell_active_users.max()) == pytest.approx(8.660, abs=0.01)  # type: ignore[union-attr]


def test_coverage_shares() -> None:
    d = _demand()
    res = cov.national_coverage(_ran(), d, HAPS, n_user_points=4000, seed=3, workers=1)
    for share in (res.pop_share, res.area_share):
        assert np.all((share >= 0.0) & (share <= 1.0))
        assert np.all(np.diff(share) <= 1e-12)  # higher thresholds, smaller shares
    assert res.pop_share[0] > 0.9  # macro everywhere: almost everyone above 1 Mb/s
    assert np.all(np.isnan(res.by_prefecture_pop_share[1]))  # no user in Hokkaido here
    assert np.all(np.isfinite(res.by_prefecture_pop_share[[13, 20]]))
    # Population-weighted national share = population-weighted mean of the prefectures'.
    w = np.array([340_000.0, 3_000.0])
    agg = (res.by_prefecture_pop_share[[13, 20]] * w[:, None]).sum(0) / w.sum()
    np.testing.assert_allclose(agg, res.pop_share, atol=1e-12)
    assert np.all(np.isfinite(res.rate_bps))
    assert np.all(res.rate_bps >= 0.0)
    assert res.n_cells_by_layer["mmwave:n257"] > 0


def test_coverage_does_not_depend_on_sampling_density() -> None:
    d = _demand()
    a = cov.national_coverage(_ran(), d, [], n_user_points=3000, seed=1, workers=1)
    b = cov.national_coverage(_ran(), d, [], n_user_points=12_000, seed=1, workers=1)
    # Flow-level cell loads come from densities, not from sampled users: shares agree within
    # the sampling error of 3,000 points (±2 σ ≈ 0.02).
    np.testing.assert_allclose(a.pop_share, b.pop_share, atol=0.03)


def test_bad_inputs() -> None:
    d = _demand()
    with pytest.raises(ScenarioError, match="n_points"):
        cov.national_coverage(_ran(), d, [], n_user_points=2)
    bad = _ran(carriers=[Carrier(band="n78", freq_ghz=3.79, bandwidth_mhz=100.0)])
    with pytest.raises(ModelRangeError, match="outside band n78"):
        cov.plan_national_cells(bad, d, [])


def test_demand_areas_filter() -> None:
    everything = cov.demand_areas()
    tokyo = cov.demand_areas(areas=["Tokyo"])
    assert np.all(tokyo.prefecture == 13)
    assert tokyo.population.size < everything.population.size
    # The kept points keep the areas they have in the full set.
    sel = everything.prefecture == 13
    np.testing.assert_allclose(np.sort(tokyo.area_km2), np.sort(everything.area_km2[sel]))
    with pytest.raises(ScenarioError, match="neither a prefecture nor a region"):
        cov.demand_areas(areas=["Atlantis"])


def test_prefecture_down_falls_back_on_hibs() -> None:
    d = _demand()
    base = cov.national_coverage(_ran(), d, HAPS, n_user_points=3000, seed=5, workers=1)
    down = cov.national_coverage(
        _ran(), d, HAPS, n_user_points=3000, seed=5, workers=1, down_prefectures=[20]
    )
    # Prefecture 20 (the village, under the HAPS) loses its macro sites; HIBS takes over some
    # of its users, so its share above 1 Mb/s drops but the HIBS layer now carries traffic.
    assert down.by_prefecture_pop_share[20, 0] < base.by_prefecture_pop_share[20, 0]
    assert down.mean_rate_by_layer_bps["hibs:hibs-1.7-1.9"] > 0.0
    np.testing.assert_allclose(
        down.by_prefecture_pop_share[13], base.by_prefecture_pop_share[13], atol=1e-12
    )
