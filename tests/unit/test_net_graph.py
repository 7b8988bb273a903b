"""Shortest paths, path rebuilding, Yen's k shortest paths, latency split (tsunagu.net.graph).

Invariant tests in the manner of networkx ``validate_path``: a path's summed link latencies equal
the reported distance, Yen's paths are loopless, sorted, distinct and, on small graphs, exactly
the k cheapest of a brute-force enumeration of all simple paths.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX
from tsunagu.errors import DataError, InfeasibleError, NoPathError
from tsunagu.net import (
    GROUP_INDEX,
    MEDIA,
    NO_PREDECESSOR,
    LinkTable,
    NetworkState,
    NodeTable,
    decompose_latency,
    decompose_latency_many,
    k_shortest_paths,
    path_link_ids,
    reconstruct_path,
    shortest_paths,
    to_csr,
)

#: Path sums and Dijkstra distances add the same float64 terms, possibly in another order:
#: 1e-12 relative is a few ulps for paths of tens of hops.
RTOL = 1e-12

#: Fibre propagation per metre, s/m (4.897 µs/km).
FIBRE_S_PER_M = FIBRE_GROUP_INDEX / C_M_PER_S


def _nodes(n: int) -> NodeTable:
    return NodeTable.build(
        name=[f"n{i}" for i in range(n)], kind="roadm", domain="optical", lat_deg=35, lon_deg=139
    )


def _random_state(seed: int, n_nodes: int, extra_edges: int, p_down: float) -> NetworkState:
    """A connected graph (random spanning tree + extra and parallel links), some links down."""
    rng = np.random.default_rng(seed)
    child = np.arange(1, n_nodes)
    parent = (rng.random(n_nodes - 1) * child).astype(np.int64)  # parent < child: a tree
    a = rng.integers(0, n_nodes, size=extra_edges)
    b = rng.integers(0, n_nodes, size=extra_edges)
    keep = a != b
    src = np.concatenate([parent, a[keep]])
    dst = np.concatenate([child, b[keep]])
    medium = rng.choice(np.array(MEDIA), size=src.size)
    length_m = rng.uniform(0.0, 300e3, size=src.size)
    length_m[rng.random(src.size) < 0.1] = 0.0  # zero-length internal-like hops
    equipment_s = rng.uniform(0.0, 50e-6, size=src.size) * (rng.random(src.size) < 0.7)
    up = rng.random(src.size) >= p_down
    links = LinkTable.build(
        src=src,
        dst=dst,
        domain="optical",
        medium=medium,
        length_m=length_m,
        equipment_delay_s=equipment_s,
        up=up,
        n_nodes=n_nodes,
    )
    return NetworkState(nodes=_nodes(n_nodes), links=links, time_s=0.0)


def _chain_state() -> NetworkState:
    """tokyo -100 km- nagoya -200 km- osaka, plus a 350 km tokyo-osaka fibre and a down link."""
    nodes = NodeTable.build(
        name=["tokyo", "nagoya", "osaka"],
        kind="roadm",
        domain="optical",
        lat_deg=[35.68, 35.18, 34.69],
        lon_deg=[139.77, 136.91, 135.50],
    )
    links = LinkTable.build(
        src=[0, 1, 0, 0],
        dst=[1, 2, 2, 2],
        domain="optical",
        medium="fibre",
        length_m=[100e3, 200e3, 350e3, 1e3],
        equipment_delay_s=[10e-6, 10e-6, 0.0, 0.0],
        up=[True, True, True, False],
    )
    return NetworkState(nodes=nodes, links=links, time_s=0.0)


# -- fixed example with hand-computed latencies -----------------------------------------------


def test_fixed_example_latencies() -> None:
    # Propagation: 100 km -> 489.67 µs, 200 km -> 979.35 µs, 350 km -> 1713.86 µs.
    # Via nagoya: 489.67 + 10 + 979.35 + 10 = 1489.02 µs < direct 1713.86 µs.
    # The 1 km tokyo-osaka link (4.90 µs) is down and must not be used.
    state = _chain_state()
    dist_s, pred = shortest_paths(state, 0)
    np.testing.assert_allclose(dist_s * 1e6, [0.0, 499.67, 1489.02], atol=0.01)
    path = reconstruct_path(pred, 2, 0)
    assert path.tolist() == [0, 1, 2]
    links = path_link_ids(state, path)
    assert links.tolist() == [0, 1]
    parts = decompose_latency(state.links, links)
    assert parts["fibre_s"] == pytest.approx(300e3 * FIBRE_S_PER_M, rel=RTOL)
    assert parts["fibre_s"] * 1e6 == pytest.approx(1469.02, abs=0.01)
    assert parts["equipment_s"] == pytest.approx(20e-6, rel=1e-9)
    assert parts["free_space_s"] == parts["radio_s"] == parts["internal_s"] == 0.0
    assert parts["total_s"] == pytest.approx(float(dist_s[2]), rel=RTOL)

    paths = k_shortest_paths(state, "tokyo", "osaka", k=5)
    assert [p.nodes.tolist() for p in paths] == [[0, 1, 2], [0, 2]]
    assert paths[1].links.tolist() == [2]
    assert paths[1].cost * 1e6 == pytest.approx(1713.86, abs=0.01)


def test_multi_source_shapes() -> None:
    state = _chain_state()
    dist_s, pred = shortest_paths(state, np.array([[0, 2]]))
    assert dist_s.shape == pred.shape == (1, 2, 3)
    assert pred.dtype == np.int64
    assert dist_s[0, 0, 2] == dist_s[0, 1, 0]  # undirected: tokyo->osaka == osaka->tokyo


# -- CSR construction -------------------------------------------------------------------------


def test_to_csr_keeps_minimum_of_parallel_edges_not_the_sum() -> None:
    matrix = to_csr(3, [0, 1, 0, 1], [1, 0, 1, 2], [5.0, 2.0, 7.0, 1.0])
    assert matrix[0, 1] == 2.0
    assert matrix[1, 0] == 2.0
    assert matrix.nnz == 4
    directed = to_csr(3, [0, 1], [1, 0], [5.0, 2.0], undirected=False)
    assert directed[0, 1] == 5.0
    assert directed[1, 0] == 2.0


def test_zero_weight_edges_survive_and_are_used() -> None:
    # 0 -(0.0)- 1 -(0.0)- 2 and a direct 0-2 of weight 1: the zero-weight route must win.
    matrix = to_csr(3, [0, 1, 0], [1, 2, 2], [0.0, 0.0, 1.0])
    assert matrix.nnz == 6  # explicit zeros stored
    dist, pred = shortest_paths(matrix, 0)
    assert dist.tolist() == [0.0, 0.0, 0.0]
    assert reconstruct_path(pred, 2, 0).tolist() == [0, 1, 2]
    # Independent check with SciPy directly on the same matrix.
    assert dijkstra(matrix, directed=True, indices=0)[2] == 0.0


def test_zero_length_internal_link_in_a_state_is_routable() -> None:
    links = LinkTable.build(
        src=[0, 1], dst=[1, 2], domain="compute", medium="internal", length_m=[0.0, 10.0]
    )
    state = NetworkState(nodes=_nodes(3), links=links)
    dist_s, pred = shortest_paths(state, 0)
    assert dist_s[1] == 0.0
    assert np.isfinite(dist_s[2])
    assert path_link_ids(state, reconstruct_path(pred, 2, 0)).tolist() == [0, 1]


def test_infinite_weight_leaves_the_edge_out() -> None:
    matrix = to_csr(2, [0], [1], [np.inf])
    assert matrix.nnz == 0


@pytest.mark.parametrize(
    ("weight", "match"), [([-1.0], "weights >= 0"), ([np.nan], "weights >= 0")]
)
def test_to_csr_rejects_bad_weights(weight: list[float], match: str) -> None:
    with pytest.raises(DataError, match=match):
        to_csr(2, [0], [1], weight)


def test_to_csr_rejects_ids_out_of_range() -> None:
    with pytest.raises(DataError, match=r"outside node ids 0\.\.1"):
        to_csr(2, [0], [2], [1.0])


def test_down_links_and_nodes_are_excluded() -> None:
    state = _chain_state()
    all_links = shortest_paths(state, 0, only_up=False)[0]
    assert all_links[2] == pytest.approx(1e3 * FIBRE_S_PER_M, rel=RTOL)  # the down 1 km link
    no_nagoya = state.with_up(node_up=[True, False, True])
    dist_s, pred = shortest_paths(no_nagoya, 0)
    assert np.isinf(dist_s[1])
    assert reconstruct_path(pred, 2, 0).tolist() == [0, 2]
    with pytest.raises(NoPathError, match=r"node 0 \(tokyo\) to node 1 \(nagoya\).*up"):
        reconstruct_path(pred, 1, 0, node_names=no_nagoya.nodes.name)


# -- errors that name the fix -----------------------------------------------------------------


def test_no_path_error_is_infeasible_and_names_nodes() -> None:
    state = _chain_state().with_up(link_up=[False, False, False, False])
    with pytest.raises(InfeasibleError, match=r"from node 0 \(tokyo\) to node 2 \(osaka\)"):
        k_shortest_paths(state, 0, 2, k=2)
    with pytest.raises(NoPathError, match=r"no usable link joins node 0 \(tokyo\) and node 1"):
        path_link_ids(state, [0, 1])


def test_reconstruct_path_without_source() -> None:
    _, pred = shortest_paths(to_csr(3, [0], [1], [1.0]), 0)
    assert reconstruct_path(pred, 1).tolist() == [0, 1]
    assert reconstruct_path(pred, 0).tolist() == [0]  # root: it is some node's predecessor
    with pytest.raises(NoPathError, match="the source to node 2"):
        reconstruct_path(pred, 2)
    lonely = np.full(2, NO_PREDECESSOR)
    assert reconstruct_path(lonely, 1, source=1).tolist() == [1]


def test_bad_inputs_name_the_fix() -> None:
    state = _chain_state()
    with pytest.raises(DataError, match="index_of"):
        shortest_paths(state, np.array(["tokyo"]))
    with pytest.raises(DataError, match=r"outside node ids 0\.\.2"):
        shortest_paths(state, [5])
    with pytest.raises(DataError, match="k must be an integer >= 1"):
        k_shortest_paths(state, 0, 2, k=0)
    with pytest.raises(DataError, match="did you mean 'osaka'"):
        k_shortest_paths(state, "tokyo", "osaka-shi", k=1)
    with pytest.raises(DataError, match="NetworkState or a CSR"):
        shortest_paths(np.zeros((2, 2)), 0)
    with pytest.raises(DataError, match="rooted at node 0, not at source 1"):
        reconstruct_path(shortest_paths(state, 0)[1], 2, 1)


# -- invariants on random graphs --------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_nodes=st.integers(2, 25),
    extra_edges=st.integers(0, 40),
    p_down=st.sampled_from([0.0, 0.2]),
)
def test_path_latency_sums_equal_dijkstra_distance(
    seed: int, n_nodes: int, extra_edges: int, p_down: float
) -> None:
    state = _random_state(seed, n_nodes, extra_edges, p_down)
    links = state.links
    # Physics invariant on every link.
    group_index = np.select([links.medium == m for m in MEDIA], [GROUP_INDEX[m] for m in MEDIA])
    assert np.all(links.latency_s >= links.length_m / (C_M_PER_S / group_index) - 1e-12)
    dist_s, pred = shortest_paths(state, np.arange(n_nodes))
    usable = state.usable()
    for s in range(n_nodes):
        for t in np.flatnonzero(np.isfinite(dist_s[s])).tolist():
            path = reconstruct_path(pred[s], t, s)
            assert path[0] == s
            assert path[-1] == t
            assert np.unique(path).size == path.size
            ids = path_link_ids(state, path)
            assert np.all(usable[ids])
            total_s = float(np.sum(links.latency_s[ids]))
            assert total_s == pytest.approx(float(dist_s[s, t]), rel=RTOL, abs=0.0)
            parts = decompose_latency(links, ids)
            assert parts["total_s"] == pytest.approx(total_s, rel=RTOL, abs=0.0)
            assert parts["equipment_s"] >= -1e-15
        unreachable = ~np.isfinite(dist_s[s])
        assert np.all(pred[s][unreachable] == NO_PREDECESSOR)


def _brute_force_costs(
    state: NetworkState, source: int, target: int
) -> list[tuple[float, tuple[int, ...]]]:
    """All simple paths by depth-first enumeration, with costs from min-weight parallel links."""
    n = state.n_nodes
    weight = np.full((n, n), np.inf)
    usable = state.usable()
    src, dst, lat = state.links.src[usable], state.links.dst[usable], state.links.latency_s[usable]
    np.minimum.at(weight, (src, dst), lat)
    np.minimum.at(weight, (dst, src), lat)
    out: list[tuple[float, tuple[int, ...]]] = []

    def walk(path: list[int]) -> None:
        if path[-1] == target:
            hops = weight[np.array(path[:-1]), np.array(path[1:])]
            out.append((float(np.sum(hops)), tuple(path)))
            return
        for nxt in np.flatnonzero(np.isfinite(weight[path[-1]])).tolist():
            if nxt not in path:
                walk([*path, nxt])

    walk([source])
    return sorted(out)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_nodes=st.integers(2, 7),
    extra_edges=st.integers(0, 14),
    k=st.integers(1, 12),
)
def test_yen_matches_brute_force_on_small_graphs(
    seed: int, n_nodes: int, extra_edges: int, k: int
) -> None:
    state = _random_state(seed, n_nodes, extra_edges, p_down=0.1)
    rng = np.random.default_rng(seed + 1)
    source, target = (int(x) for x in rng.choice(n_nodes, size=2, replace=False))
    expected = _brute_force_costs(state, source, target)
    if not expected:
        with pytest.raises(NoPathError):
            k_shortest_paths(state, source, target, k)
        return
    paths = k_shortest_paths(state, source, target, k)
    costs = np.array([p.cost for p in paths])
    dist_s = shortest_paths(state, source)[0][target]

    assert len(paths) == min(k, len(expected))
    assert len({p.key for p in paths}) == len(paths)  # distinct
    assert np.all(np.diff(costs) >= 0.0)  # sorted
    assert np.all(dist_s <= costs * (1 + RTOL))  # none beats Dijkstra
    assert costs[0] == pytest.approx(dist_s, rel=RTOL, abs=0.0)
    for p in paths:
        assert p.nodes[0] == source
        assert p.nodes[-1] == target
        assert np.unique(p.nodes).size == p.nodes.size  # loopless
        assert p.links.size == p.nodes.size - 1
        np.testing.assert_array_equal(p.links, path_link_ids(state, p.nodes))
        assert p.cost == pytest.approx(float(np.sum(state.links.latency_s[p.links])), rel=RTOL)
    expected_costs = np.array([c for c, _ in expected[:k]])
    np.testing.assert_allclose(costs, expected_costs, rtol=RTOL, atol=1e-18)
    # Where costs are well separated the paths themselves must match too.
    gaps = np.diff(np.array([c for c, _ in expected]))
    if gaps.size == 0 or np.all(gaps > 1e-9):
        assert [p.key for p in paths] == [key for _, key in expected[:k]]


def test_yen_is_deterministic_on_ties() -> None:
    # A square 0-1-3 / 0-2-3 with equal weights: the lexicographically smaller path comes first.
    links = LinkTable.build(
        src=[0, 0, 1, 2], dst=[1, 2, 3, 3], domain="optical", medium="fibre", length_m=1e3
    )
    state = NetworkState(nodes=_nodes(4), links=links)
    first = [p.key for p in k_shortest_paths(state, 0, 3, k=2)]
    again = [p.key for p in k_shortest_paths(state, 0, 3, k=2)]
    assert first == again
    assert sorted(first) == [(0, 1, 3), (0, 2, 3)]


def test_decompose_latency_many_matches_single() -> None:
    state = _random_state(7, 10, 10, 0.0)
    paths = [np.array([0, 1]), np.array([], dtype=np.int64), np.arange(len(state.links))]
    many = decompose_latency_many(state.links, paths)
    for i, ids in enumerate(paths):
        one = decompose_latency(state.links, ids)
        for key, value in one.items():
            assert many[key][i] == pytest.approx(value, rel=RTOL, abs=1e-18)
    assert many["total_s"][1] == 0.0
    with pytest.raises(DataError, match="outside link ids"):
        decompose_latency(state.links, [len(state.links)])


def test_k_equals_one_is_dijkstra() -> None:
    state = _random_state(3, 12, 15, 0.0)
    [path] = k_shortest_paths(state, 0, 11, k=1)
    _, pred = shortest_paths(state, 0)
    np.testing.assert_array_equal(path.nodes, reconstruct_path(pred, 11, 0))
    assert k_shortest_paths(state, 4, 4, k=3)[0].nodes.tolist() == [4]


def test_directed_mode_follows_link_direction() -> None:
    # 0->1->2 (2 km) and 0->2 (3 km) one way; 2->0 (1 km) the only way back.
    links = LinkTable.build(
        src=[0, 1, 0, 2],
        dst=[1, 2, 2, 0],
        domain="optical",
        medium="fibre",
        length_m=[1e3, 1e3, 3e3, 1e3],
    )
    state = NetworkState(nodes=_nodes(3), links=links)
    forward = k_shortest_paths(state, 0, 2, k=3, undirected=False)
    assert [p.key for p in forward] == [(0, 1, 2), (0, 2)]
    backward = k_shortest_paths(state, 2, 0, k=3, undirected=False)
    assert [p.key for p in backward] == [(2, 0)]
    assert backward[0].links.tolist() == [3]
    assert [p.key for p in k_shortest_paths(state, 1, 0, k=3, undirected=False)] == [(1, 2, 0)]
    assert [p.key for p in k_shortest_paths(state, 1, 0, k=1)] == [(1, 0)]
    matrix = state.csr(undirected=False)
    assert matrix[0, 2] > 0.0
    assert matrix[2, 0] < matrix[0, 2]
