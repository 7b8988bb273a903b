"""The path library (tsunagu.net.paths) against networkx, an independent reference.

networkx (``single_source_dijkstra_path_length``, ``shortest_simple_paths``) is a separate
implementation of Dijkstra and of Yen's algorithm, so agreement on random graphs is a check
against an independent reference, not a consistency check. Costs are compared to 1e-12
relative: both sum the same float64 weights, possibly in another order (a few ulps).
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import DataError
from tsunagu.net import (
    NO_PREDECESSOR,
    KShortest,
    LinkTable,
    NetworkState,
    NodeTable,
    k_shortest,
    shortest_paths,
    to_csr,
    walk,
)

RTOL = 1e-12


def _graph(
    seed: int, n: int, m: int, directed: bool
) -> tuple[object, nx.DiGraph | nx.Graph, np.ndarray, np.ndarray, np.ndarray]:
    """Random (multi)graph with zero, tied and random weights; the CSR and networkx's graph."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, size=m)
    b = rng.integers(0, n, size=m)
    keep = a != b
    a, b = a[keep], b[keep]
    # ties (1, 2) and zeros exercise tie-breaking and explicit zero entries
    w = np.where(rng.random(a.size) < 0.3, rng.choice([0.0, 1.0, 2.0], a.size), rng.random(a.size))
    csr = to_csr(n, a, b, w, undirected=not directed)
    g: nx.DiGraph | nx.Graph = nx.DiGraph() if directed else nx.Graph()
    g.add_nodes_from(range(n))
    for u, v, x in zip(a.tolist(), b.tolist(), w.tolist(), strict=True):
        if g.has_edge(u, v):
            g[u][v]["weight"] = min(g[u][v]["weight"], x)
        else:
            g.add_edge(u, v, weight=x)
    return csr, g, a, b, w


graphs = st.tuples(st.integers(0, 2**32 - 1), st.integers(2, 12), st.integers(0, 40), st.booleans())


@settings(max_examples=60, deadline=None)
@given(graphs)
def test_distances_equal_networkx_and_walked_paths_are_valid(
    params: tuple[int, int, int, bool],
) -> None:
    seed, n, m, directed = params
    csr, g, *_ = _graph(seed, n, m, directed)
    sources = np.arange(0, n, 2)
    dist, pred = shortest_paths(csr, sources)
    for i, s in enumerate(sources.tolist()):
        ref = nx.single_source_dijkstra_path_length(g, s, weight="weight")
        expected = np.array([ref.get(v, np.inf) for v in range(n)])
        np.testing.assert_allclose(dist[i], expected, rtol=RTOL, atol=0.0)
    # every (source, target) pair walked at once
    rows = np.repeat(np.arange(sources.size), n)
    targets = np.tile(np.arange(n), sources.size)
    w = walk(pred, sources, targets, rows=rows)
    np.testing.assert_array_equal(w.reachable, np.isfinite(dist[rows, targets]))
    padded = w.padded_nodes()
    for p in range(targets.size):
        nodes = w.nodes(p)
        if not w.reachable[p]:
            assert nodes.size == 0
            assert w.n_hops[p] == 0
            continue
        assert nodes[0] == sources[rows[p]]
        assert nodes[-1] == targets[p]
        assert np.unique(nodes).size == nodes.size  # loopless
        cost = sum(g[u][v]["weight"] for u, v in itertools.pairwise(nodes.tolist()))
        assert cost == pytest.approx(dist[rows[p], targets[p]], rel=RTOL, abs=0.0)
        if nodes.size > 1:
            np.testing.assert_array_equal(padded[p, : nodes.size], nodes)
            assert np.all(padded[p, nodes.size :] == -1)


def _link_state(seed: int, n: int, m: int) -> NetworkState:
    rng = np.random.default_rng(seed)
    child = np.arange(1, n)
    parent = (rng.random(n - 1) * child).astype(np.int64)
    a, b = rng.integers(0, n, size=m), rng.integers(0, n, size=m)
    keep = a != b
    links = LinkTable.build(
        src=np.concatenate([parent, a[keep]]),
        dst=np.concatenate([child, b[keep]]),
        domain="optical",
        medium="fibre",
        length_m=rng.uniform(1e3, 300e3, size=n - 1 + int(keep.sum())),
    )
    nodes = NodeTable.build(
        name=[f"n{i}" for i in range(n)], kind="roadm", domain="optical", lat_deg=35, lon_deg=139
    )
    return NetworkState(nodes=nodes, links=links)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 15), st.integers(0, 30))
def test_walk_sums_and_loads_equal_a_pair_by_pair_count(seed: int, n: int, m: int) -> None:
    state = _link_state(seed, n, m)
    sources = np.array([0, n - 1])
    dist, pred = shortest_paths(state, sources)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 2, size=20)
    targets = rng.integers(0, n, size=20)
    rate = rng.uniform(1.0, 10.0, size=20)
    w = walk(pred, sources, targets, rows=rows, lookup=state.link_lookup("latency_s"))
    latency = np.asarray(state.links.latency_s)
    np.testing.assert_allclose(w.sum(latency), dist[rows, targets], rtol=RTOL)
    expected = np.zeros(len(state.links))
    for p in range(20):  # the reference: one pair, one hop at a time
        assert w.links is not None
        hop_links = w.links[w.offsets[p] : w.offsets[p + 1]]
        expected[hop_links] += rate[p]
    np.testing.assert_allclose(w.load(rate, len(state.links)), expected, rtol=RTOL)


@settings(max_examples=60, deadline=None)
@given(graphs, st.integers(1, 10))
def test_yen_equals_networkx_shortest_simple_paths(
    params: tuple[int, int, int, bool], k: int
) -> None:
    seed, n, m, directed = params
    csr, g, *_ = _graph(seed, n, m, directed)
    s, t = 0, n - 1
    got = KShortest(csr).paths(s, t, k)
    if not nx.has_path(g, s, t):
        assert got == []
        return
    ref = list(
        itertools.islice(
            (nx.path_weight(g, p, "weight") for p in nx.shortest_simple_paths(g, s, t, "weight")),
            k,
        )
    )
    costs = np.array([p.cost for p in got])
    assert len(got) == len(ref)
    np.testing.assert_allclose(costs, np.sort(ref), rtol=RTOL, atol=1e-15)
    assert np.all(np.diff(costs) >= 0.0)  # non-decreasing
    assert len({tuple(p.nodes.tolist()) for p in got}) == len(got)  # distinct
    for p in got:
        assert p.nodes[0] == s
        assert p.nodes[-1] == t
        assert np.unique(p.nodes).size == p.nodes.size  # loopless
        assert all(g.has_edge(u, v) for u, v in itertools.pairwise(p.nodes.tolist()))


def test_fixed_example_and_ties_are_deterministic() -> None:
    # square 0-1-3 / 0-2-3 of equal weights and a dearer direct 0-3
    m = to_csr(4, [0, 0, 1, 2, 0], [1, 2, 3, 3, 3], [1.0, 1.0, 1.0, 1.0, 3.0])
    paths = k_shortest(m, 0, 3, 5)
    keys = [p.nodes.tolist() for p in paths]
    assert sorted(keys[:2]) == [[0, 1, 3], [0, 2, 3]]
    assert keys[2] == [0, 3]
    assert [p.cost for p in paths] == [2.0, 2.0, 3.0]
    assert [p.nodes.tolist() for p in k_shortest(m, 0, 3, 5)] == keys  # same ties each time
    assert [p.nodes.tolist() for p in k_shortest(m, 2, 2, 3)] == [[2]]


def test_walk_edge_cases_and_errors() -> None:
    pred = np.array([[NO_PREDECESSOR, 0, 1, NO_PREDECESSOR]])
    w = walk(pred, [0], [0, 2, 3])
    assert w.reachable.tolist() == [True, True, False]
    assert [w.nodes(p).tolist() for p in range(3)] == [[0], [0, 1, 2], []]
    assert w.padded_nodes().tolist() == [[-1, -1, -1], [0, 1, 2], [-1, -1, -1]]
    empty = walk(pred, [0], np.zeros(0, dtype=np.int64))
    assert empty.n_pairs == 0
    assert empty.padded_nodes().shape == (0, 0)
    with pytest.raises(DataError, match="pass rows="):
        walk(np.vstack([pred, pred]), [0, 0], [2])
    with pytest.raises(DataError, match="cycle"):
        walk(np.array([1, 0, 0]), 2, [0])
    with pytest.raises(DataError, match="link_lookup"):
        w.sum(np.ones(4))
    with pytest.raises(DataError, match="k must be an integer"):
        KShortest(to_csr(2, [0], [1], [1.0])).paths(0, 1, 0)
