"""Unit tests of tsunagu.ntn.isl: ISL patterns and per-instant feasibility."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.constants import WGS84_A_M
from tsunagu.errors import ModelRangeError
from tsunagu.ntn import isl, orbits


def _degrees(pairs: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(pairs.ravel(), minlength=n)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 20), st.integers(3, 30))
def test_plus_grid_every_satellite_has_four_links(p: int, s: int) -> None:
    pairs = isl.grid_isl_pairs(p, s)
    assert pairs.shape == (2 * p * s, 2)
    assert np.all(pairs[:, 0] < pairs[:, 1])
    assert np.all(_degrees(pairs, p * s) == 4)
    # Intra-plane neighbours are consecutive slots; inter-plane links keep the slot.
    plane = pairs // s
    slot = pairs % s
    intra = plane[:, 0] == plane[:, 1]
    assert np.all(np.isin((slot[intra, 1] - slot[intra, 0]) % s, [1, s - 1]))
    assert np.all(slot[~intra, 0] == slot[~intra, 1])


def test_grid_options() -> None:
    # No seam crossing (Walker star): the first and last planes lose their cross links.
    pairs = isl.grid_isl_pairs(4, 5, cross_seam=False)
    deg = _degrees(pairs, 20)
    assert deg[:5].tolist() == [3] * 5
    assert deg[15:].tolist() == [3] * 5
    assert deg[5:15].tolist() == [4] * 10
    # Shifts: plane 0 slot 0 links to plane 1 slot 2; across the seam plane 3 -> plane 0 + 1.
    sh = isl.grid_isl_pairs(4, 5, inter_plane_shift=2, seam_shift=1)
    assert [0, 7] in sh.tolist()
    assert [3, 15] in sh.tolist()  # (3, 0) -> (0, 0 + 2 + 1) = index 3
    # Offsets in a multi-shell array, and a one-plane ring (only in-plane links).
    assert isl.grid_isl_pairs(2, 3, first_index=100).min() >= 100
    ring = isl.grid_isl_pairs(1, 11)
    assert ring.shape == (11, 2)
    assert np.all(_degrees(ring, 11) == 2)
    with pytest.raises(ModelRangeError, match="pattern entries"):
        isl.grid_isl_pairs(4, 4, pattern=[(-1, 0)])


def test_feasibility_range_and_grazing() -> None:
    r = WGS84_A_M + 550e3
    ang = np.radians([0.0, 10.0, 40.0, 60.0])
    sats = np.stack([r * np.cos(ang), r * np.sin(ang), np.zeros(4)], axis=1)
    pairs = np.array([[0, 1], [0, 2], [0, 3]])
    up, length = isl.isl_feasible(sats, pairs)
    # Closest approach of a chord spanning angle θ is r·cos(θ/2): 40° -> 6,510 km (clears
    # 6,458 km), 60° -> 6,000 km (below the surface).
    assert up.tolist() == [True, True, False]
    np.testing.assert_allclose(length, 2 * r * np.sin(np.radians([5.0, 20.0, 30.0])))
    up, _ = isl.isl_feasible(sats, pairs, max_range_m=2 * r * np.sin(np.radians(6.0)))
    assert up.tolist() == [True, False, False]
    # Raising the grazing floor to 200 km cuts the 40° link (6,510 < 6,578 km).
    up, _ = isl.isl_feasible(sats, pairs, min_grazing_altitude_m=200e3)
    assert up.tolist() == [True, False, False]
    # Missing positions make a link unusable, and (T, N, 3) input gives (T, E).
    both = np.stack([sats, np.where(np.arange(4)[:, None] == 1, np.nan, sats)])
    up, _ = isl.isl_feasible(both, pairs)
    assert up.tolist() == [[True, True, False], [False, True, False]]
    with pytest.raises(ModelRangeError, match="pair indices"):
        isl.isl_feasible(sats, [[0, 9]])


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 5000.0), st.floats(0.0, 200e3))
def test_grazing_matches_dense_sampling(t: float, graze: float) -> None:
    pos = orbits.walker_positions_ecef_m(8, 10, 3, 550e3, 53.0, [t])[0]
    rng = np.random.default_rng(0)
    pairs = np.unique(np.sort(rng.integers(0, 80, (60, 2)), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    up, _ = isl.isl_feasible(pos, pairs, min_grazing_altitude_m=graze)
    s = np.linspace(0.0, 1.0, 2001)[:, None, None]
    pts = pos[pairs[:, 0]] + s * (pos[pairs[:, 1]] - pos[pairs[:, 0]])
    lowest = np.linalg.norm(pts, axis=2).min(axis=0)
    floor = WGS84_A_M + graze
    clear = np.abs(lowest - floor) > 2e3  # sampling resolution
    assert np.array_equal(up[clear], (lowest >= floor)[clear])


def test_nearest_pairs() -> None:
    pos = orbits.walker_positions_ecef_m(6, 12, 1, 550e3, 53.0, [0.0])[0]
    pairs = isl.nearest_isl_pairs(pos, k=2)
    deg = _degrees(pairs, 72)
    assert np.all(deg >= 2)
    # Every satellite is linked to its two nearest neighbours found by brute force.
    d = np.linalg.norm(pos[:, None] - pos[None], axis=2)
    np.fill_diagonal(d, np.inf)
    got = {tuple(p) for p in pairs.tolist()}
    for i, row in enumerate(np.argsort(d, axis=1)[:, :2].tolist()):
        for j in row:
            assert (min(i, j), max(i, j)) in got
    pos[3] = np.nan
    assert 3 not in isl.nearest_isl_pairs(pos, k=2)
