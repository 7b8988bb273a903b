"""Sub-city demand points (``geo.split_demand_points``) against independent references: the
apportionment by a plain loop ("the next part goes to the point whose parts hold the most
people"), distances by the haversine formula written here, and the census totals."""

from __future__ import annotations

import heapq
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu import geo
from tsunagu.constants import EARTH_MEAN_RADIUS_M
from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.scenario import load_scenario
from tsunagu.sim.twin import Twin

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


def _brute_parts(population: list[float], target: int) -> list[int]:
    """Adams' method by a loop: give the next part to the largest p / parts (lowest row wins
    ties)."""
    parts = [1] * len(population)
    heap = [(-p / 1.0, i) for i, p in enumerate(population)]
    heapq.heapify(heap)
    for _ in range(target - len(population)):
        _, i = heapq.heappop(heap)
        parts[i] += 1
        heapq.heappush(heap, (-population[i] / parts[i], i))
    return parts


def _haversine_m(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_MEAN_RADIUS_M * np.arcsin(np.sqrt(a)))


@settings(max_examples=80, deadline=None)
@given(
    population=st.lists(st.integers(1, 10**6), min_size=1, max_size=12),
    extra=st.integers(0, 40),
)
def test_parts_are_adams_apportionment(population: list[int], extra: int) -> None:
    # Integer populations: no two quotients p/j that the loop compares differ by rounding only.
    pop = np.array(population, dtype=np.float64)
    got = geo._split_counts(pop, pop.size + extra)
    want = _brute_parts([float(p) for p in population], pop.size + extra)
    # Ties between equal quotients may go either way; the multiset of largest sub-point sizes
    # is the same, and so is the total.
    assert int(got.sum()) == pop.size + extra
    assert max(pop / got) == pytest.approx(max(pop / np.array(want)), rel=1e-12)
    assert sorted((pop / got).tolist()) == pytest.approx(sorted((pop / np.array(want)).tolist()))


def test_split_conserves_people_and_places_points_in_the_disc() -> None:
    d = geo.demand_points()
    area = np.full(len(d), 200.0)
    s = geo.split_demand_points(d, area, 2_000)
    assert len(s) == 2_000
    pts = s.points
    # People conserved per parent and per prefecture (hence the census total).
    per_parent = np.bincount(s.parent, weights=pts.population, minlength=len(d))
    np.testing.assert_allclose(per_parent, d.population, rtol=1e-12)
    for pref in np.unique(d.prefecture):
        assert pts.population[pts.prefecture == pref].sum() == pytest.approx(
            d.population[d.prefecture == pref].sum(), rel=1e-12
        )
    # Sub-point m of k stands at R sqrt((m + 1/2) / k) from the parent, R = sqrt(area / pi).
    k = s.parts[s.parent]
    m = np.arange(len(s)) - np.repeat(np.cumsum(s.parts) - s.parts, s.parts)
    dist = _haversine_m(d.lat_deg[s.parent], d.lon_deg[s.parent], pts.lat_deg, pts.lon_deg)
    radius_m = 1000.0 * math.sqrt(200.0 / math.pi)
    want = np.where(k > 1, radius_m * np.sqrt((m + 0.5) / k), 0.0)
    np.testing.assert_allclose(dist, want, atol=1e-3)  # 1 mm: haversine vs the direct formula
    assert (dist < radius_m).all()
    np.testing.assert_allclose(s.area_km2, 200.0 / k)
    # Sub-point names are unique and none is an unsplit point's name (GeoNames itself repeats
    # some city names, which unsplit points keep); unsplit points keep theirs.
    names = np.asarray(pts.name)
    assert np.unique(names[k > 1]).size == int((k > 1).sum())
    assert not set(names[k > 1]) & set(names[k == 1])
    alone = s.parts == 1
    kept = np.isin(np.arange(len(s)), np.flatnonzero(k == 1))
    assert set(np.asarray(pts.name)[kept]) == set(np.asarray(d.name)[alone])
    # The most populous city is split most.
    assert s.parts[np.argmax(d.population)] == s.parts.max()


def test_split_refuses_fewer_points_and_bad_areas() -> None:
    d = geo.demand_points()
    with pytest.raises(ModelRangeError, match="never merged"):
        geo.split_demand_points(d, np.ones(len(d)), len(d) - 1)
    with pytest.raises(ModelRangeError, match="one finite area"):
        geo.split_demand_points(d, np.ones(3), len(d) + 5)
    same = geo.split_demand_points(d, np.ones(len(d)), len(d))
    np.testing.assert_array_equal(same.points.lat_deg, d.lat_deg)


def test_twin_with_sub_city_points_keeps_the_population() -> None:
    sc = load_scenario(MINIMAL)
    base = Twin(sc)
    n = len(base.demand.name)
    twin = Twin(
        sc.model_copy(update={"demand": sc.demand.model_copy(update={"target_points": 3 * n})})
    )
    assert len(twin.demand.name) == 3 * n
    assert twin.demand.population.sum() == pytest.approx(base.demand.population.sum(), rel=1e-12)
    with pytest.raises(ScenarioError, match="target_points"):
        Twin(sc.model_copy(update={"demand": sc.demand.model_copy(update={"target_points": 1})}))
