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


# ----------------------------------------------------------------- edges of the topology rules


def _pair_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in pairs}


def test_small_shells_and_duplicate_links() -> None:
    # One satellite: its only +Grid neighbour is itself, so no link; (0, 2) int64 still.
    for planes, sats in ((1, 1), (3, 1), (2, 2), (2, 3)):
        pairs = isl.grid_isl_pairs(planes, sats)
        assert pairs.shape[1] == 2
        assert pairs.dtype == np.int64
    assert isl.grid_isl_pairs(1, 1).shape == (0, 2)
    # One satellite per plane: a ring through the planes.
    assert _pair_set(isl.grid_isl_pairs(3, 1)) == {(0, 1), (1, 2), (0, 2)}
    # Two planes: plane 1 → plane 0 across the seam is the same link as plane 0 → plane 1,
    # and with two slots the forward and backward in-plane links coincide: counted once.
    assert _pair_set(isl.grid_isl_pairs(2, 2)) == {(0, 1), (2, 3), (0, 2), (1, 3)}
    assert len(isl.grid_isl_pairs(2, 3)) == 2 * 3 + 3
    # Sorted unique rows.
    pairs = isl.grid_isl_pairs(5, 7)
    assert np.array_equal(pairs, np.unique(pairs, axis=0))


def test_one_plane_shell_has_only_its_ring() -> None:
    ring = {(j, (j + 1) % 6) if j < 5 else (0, 5) for j in range(6)}
    # The inter-plane entry has no plane to link to, whatever the slot shift, and the entries
    # after it still apply.
    for pattern in (isl.PLUS_GRID, ((1, 0), (0, 1))):
        got = isl.grid_isl_pairs(1, 6, pattern, inter_plane_shift=2)
        assert _pair_set(got) == ring
    empty = isl.grid_isl_pairs(1, 4, pattern=[(1, 0)])
    assert empty.shape == (0, 2)
    assert empty.dtype == np.int64


def test_pattern_offsets_follow_the_documented_rule() -> None:
    # (k, j) links to (k + dp, j + ds + shift·[dp != 0]); 3 planes × 4 slots.
    diag = _pair_set(isl.grid_isl_pairs(3, 4, pattern=[(1, 1)]))
    assert (0, 5) in diag
    assert (0, 7) not in diag
    shifted = _pair_set(isl.grid_isl_pairs(3, 4, inter_plane_shift=1))
    assert (0, 1) in shifted
    assert (0, 2) not in shifted
    assert (0, 5) in shifted
    assert (0, 4) not in shifted


@pytest.mark.parametrize(
    ("planes", "sats", "pattern"),
    [
        (0, 5, isl.PLUS_GRID),
        (2.5, 4, isl.PLUS_GRID),
        (3, 0, isl.PLUS_GRID),
        (3, 4, [(3, 0)]),  # plane offset must be < planes
        (1, 4, [(2, 0)]),  # a one-plane shell allows offset 1 only (skipped)
    ],
)
def test_grid_rejects_bad_layouts(planes: float, sats: int, pattern: list[tuple[int, int]]) -> None:
    with pytest.raises(ModelRangeError):
        isl.grid_isl_pairs(planes, sats, pattern)


def test_grazing_and_range_limits_are_inclusive() -> None:
    # Two satellites symmetric about the x axis: the segment's closest point to the centre is
    # (x, 0, 0) exactly, so a link grazing at exactly 80 km (Hypatia's rule: at least 80 km)
    # is up, and a link exactly as long as the maximum range is up.
    x = WGS84_A_M + 80e3
    sats = np.array([[x, -1e6, 0.0], [x, 1e6, 0.0]])
    up, d = isl.isl_feasible(sats, [[0, 1]])
    assert up.tolist() == [True]
    assert d.tolist() == [2e6]
    assert isl.isl_feasible(sats, [[0, 1]], max_range_m=2e6)[0].tolist() == [True]
    assert isl.isl_feasible(sats, [[0, 1]], min_grazing_altitude_m=80.001e3)[0].tolist() == [False]


def test_segment_endpoints_bound_the_closest_point() -> None:
    # Radially aligned satellites: the line through them passes the centre, the segment does
    # not. LEO under MEO and LEO under GEO (s = r1/(r1 - r2) > 1 from the outer end) are up in
    # both orders.
    leo, meo, geo = WGS84_A_M + 550e3, WGS84_A_M + 2000e3, 42_164e3
    for outer in (meo, geo):
        sats = np.array([[leo, 0.0, 0.0], [outer, 0.0, 0.0]])
        up, d = isl.isl_feasible(sats, [[0, 1], [1, 0]])
        assert up.tolist() == [True, True]
        assert d == pytest.approx([outer - leo] * 2)


def test_degenerate_links() -> None:
    r = WGS84_A_M + 550e3
    # Coincident satellites: a zero-length link, above the floor.
    up, d = isl.isl_feasible(np.array([[r, 0.0, 0.0], [r, 0.0, 0.0]]), [[0, 1]])
    assert up.tolist() == [True]
    assert d.tolist() == [0.0]
    # A 0.8 m link whose midpoint dips 5 nm below the 80 km floor while both ends clear it.
    floor = WGS84_A_M + 80e3
    x = floor - 5e-9
    sats = np.array([[x, -0.4, 0.0], [x, 0.4, 0.0]])
    assert np.all(np.einsum("nk,nk->n", sats, sats) > floor * floor)
    assert isl.isl_feasible(sats, [[0, 1]])[0].tolist() == [False]
    # Integer coordinates (metres) are accepted; no pairs gives (T, 0).
    ints = np.array([[[7_000_000, 0, 0], [0, 7_000_000, 0]]])
    up, d = isl.isl_feasible(ints, [[0, 1]])
    assert up.shape == (1, 1)
    assert d[0, 0] == pytest.approx(7e6 * np.sqrt(2.0))
    up, d = isl.isl_feasible(ints, [])
    assert up.shape == (1, 0)
    assert d.shape == (1, 0)


@pytest.mark.parametrize(
    ("pos", "pairs", "kw"),
    [
        (np.zeros((1, 4, 2)), [[0, 1]], {}),  # 2-D vectors
        (np.ones((4, 3)), [[0, 4]], {}),  # index = N
        (np.ones((4, 3)), [[0, 1]], {"max_range_m": 0.0}),
    ],
)
def test_feasibility_rejects_bad_input(
    pos: np.ndarray, pairs: list[list[int]], kw: dict[str, float]
) -> None:
    with pytest.raises(ModelRangeError):
        isl.isl_feasible(pos, pairs, **kw)


def test_short_maximum_range_is_legal() -> None:
    sats = np.array([[7e6, 0.0, 0.0], [7e6, 0.25, 0.0]])
    assert isl.isl_feasible(sats, [[0, 1]], max_range_m=0.5)[0].tolist() == [True]


def test_nearest_pairs_counts() -> None:
    r = WGS84_A_M + 550e3
    a = np.radians(np.arange(6) * 60.0)
    hexagon = np.stack([r * np.cos(a), r * np.sin(a), 0 * a], axis=1)
    # Default k = 4: every satellite skips only the opposite one: 15 - 3 pairs.
    pairs = isl.nearest_isl_pairs(hexagon)
    assert len(pairs) == 12
    assert pairs.dtype == np.int64
    assert (0, 3) not in _pair_set(pairs)
    # k = 1 on a line with gaps 1, 2, 4 m: each satellite with its nearest.
    line = np.array([[r + dx, 0.0, 0.0] for dx in (0.0, 1.0, 3.0, 7.0)])
    assert _pair_set(isl.nearest_isl_pairs(line, k=1)) == {(0, 1), (1, 2), (2, 3)}
    # k beyond the number of other satellites: every pair.
    assert _pair_set(isl.nearest_isl_pairs(line[:3], k=4)) == {(0, 1), (0, 2), (1, 2)}
    # Two satellites: one pair; one, or none with a position: none.
    assert _pair_set(isl.nearest_isl_pairs(line[:2])) == {(0, 1)}
    for few in (line[:1], np.full((3, 3), np.nan)):
        out = isl.nearest_isl_pairs(few)
        assert out.shape == (0, 2)
        assert out.dtype == np.int64


@pytest.mark.parametrize(("pos", "k"), [(np.ones((4, 2)), 2), (np.ones((4, 3)), 0)])
def test_nearest_rejects_bad_input(pos: np.ndarray, k: int) -> None:
    with pytest.raises(ModelRangeError):
        isl.nearest_isl_pairs(pos, k)
