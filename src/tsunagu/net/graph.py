"""Shortest and k-shortest paths on the network state (CSR matrices + ``scipy.sparse.csgraph``).

The graph of a :class:`~tsunagu.net.tables.NetworkState` is never a web of Python objects: it
is a CSR adjacency matrix built once per state (and cached there) from the link table, with

* one entry per node pair: the *minimum* weight among parallel usable links (SciPy would sum
  duplicate entries; :func:`to_csr` sorts and keeps the first of each pair instead);
* zero weights kept as *explicit* entries, which ``csgraph`` treats as edges (an internal link
  of zero length and zero delay must stay routable). The matrix is assembled directly from
  ``(data, indices, indptr)`` so no SciPy arithmetic can drop those zeros;
* both directions stored when ``undirected`` (links are stored once per pair in the table), so
  Dijkstra always runs with ``directed=True`` on exactly what is stored.

A :class:`~tsunagu.net.tables.LinkLookup` built from the same sort maps each hop back to the
link that realises it, so the summed ``latency_s`` of a path's links equals its Dijkstra distance.

The static/dynamic split lives in :mod:`tsunagu.net.tables`: a new state per time step gets a
new (lazily built) CSR; everything here is a pure function of a state or a matrix.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from tsunagu.errors import DataError, NoPathError
from tsunagu.net.tables import MEDIA, LinkLookup, LinkTable, NetworkState

if TYPE_CHECKING:
    from tsunagu.net.tables import BoolArray, FloatArray, IntArray

__all__ = [
    "NO_PREDECESSOR",
    "Path",
    "decompose_latency",
    "decompose_latency_many",
    "k_shortest_paths",
    "path_link_ids",
    "reconstruct_path",
    "shortest_paths",
    "to_csr",
]

#: Predecessor value of a source node or an unreachable node (SciPy's convention).
NO_PREDECESSOR: Final = -9999


def _build_graph(
    n_nodes: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    weight: npt.ArrayLike,
    usable: npt.ArrayLike,
    undirected: bool,
) -> tuple[sp.csr_array, LinkLookup]:
    """CSR of minimum usable weights per pair, and the matching pair → link look-up.

    Links with ``usable`` False or an infinite weight are left out. Ties between parallel links
    of equal weight go to the lowest link id.
    """
    src_arr = np.asarray(src, dtype=np.int64)
    dst_arr = np.asarray(dst, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    use = np.asarray(usable, dtype=bool)
    if not (src_arr.shape == dst_arr.shape == w.shape == use.shape) or src_arr.ndim != 1:
        raise DataError(
            f"src, dst, weight and usable must be 1-D of equal length, got shapes "
            f"{src_arr.shape}, {dst_arr.shape}, {w.shape}, {use.shape}"
        )
    out_of_range = (src_arr < 0) | (src_arr >= n_nodes) | (dst_arr < 0) | (dst_arr >= n_nodes)
    if np.any(out_of_range):
        i = int(np.flatnonzero(out_of_range)[0])
        raise DataError(
            f"edge {i} joins {int(src_arr[i])} -> {int(dst_arr[i])} outside node ids "
            f"0..{n_nodes - 1}; pass n_nodes covering every endpoint"
        )
    bad = use & (np.isnan(w) | (w < 0.0))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"edge {i} ({int(src_arr[i])} -> {int(dst_arr[i])}) has weight {w[i]}; shortest "
            f"paths need weights >= 0 (use inf, or up=False, to leave a link out)"
        )
    ids = np.flatnonzero(use & np.isfinite(w)).astype(np.int64)
    u, v, wk = src_arr[ids], dst_arr[ids], w[ids]
    if undirected:
        u, v = np.minimum(u, v), np.maximum(u, v)
    key = u * np.int64(n_nodes) + v
    order = np.lexsort((ids, wk, key))  # by pair, then weight, then link id
    key_sorted = key[order]
    first = np.ones(key_sorted.shape, dtype=bool)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    keep = order[first]
    u, v, wk, ids = u[keep], v[keep], wk[keep], ids[keep]
    lookup = LinkLookup(
        n_nodes=n_nodes, undirected=undirected, pair_keys=key_sorted[first], link_ids=ids
    )
    if undirected:
        rows, cols, data = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([wk, wk])
    else:
        rows, cols, data = u, v, wk
    return _csr_from_edges(n_nodes, rows, cols, data), lookup


def _csr_from_edges(
    n_nodes: int, rows: IntArray, cols: IntArray, data: FloatArray, presorted: bool = False
) -> sp.csr_array:
    """Assemble a canonical CSR directly (no duplicate summing, explicit zeros kept).

    ``presorted`` skips the sort when the edges already are in (row, col) order, as when a
    subset of a canonical CSR's entries is kept.
    """
    if not presorted:
        order = np.argsort(rows * np.int64(n_nodes) + cols, kind="stable")
        rows, cols, data = rows[order], cols[order], data[order]
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_nodes), out=indptr[1:])
    return sp.csr_array((data, cols, indptr), shape=(n_nodes, n_nodes))


def to_csr(
    n_nodes: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    weight: npt.ArrayLike,
    undirected: bool = True,
) -> sp.csr_array:
    """Adjacency matrix keeping the minimum weight among parallel edges.

    Parameters
    ----------
    n_nodes : int
        Number of nodes (matrix size).
    src, dst : array_like of int
        Edge end node ids.
    weight : array_like of float
        Edge weights, >= 0; ``inf`` leaves the edge out.
    undirected : bool, default True
        Store each edge in both directions.

    Returns
    -------
    scipy.sparse.csr_array
        ``(n_nodes, n_nodes)``; zero weights are explicit entries, which ``csgraph`` treats as
        edges. Arithmetic on the matrix (``+``, ``.T + ...``, ``eliminate_zeros``) drops them:
        use it as is.

    Raises
    ------
    DataError
        On a negative or NaN weight or an id outside ``0 .. n_nodes - 1``.

    Examples
    --------
    >>> m = to_csr(3, [0, 0, 1], [1, 1, 2], [5.0, 2.0, 0.0])
    >>> m.toarray().tolist()  # parallel 0-1 edges: min kept; the 0.0 edge is stored
    [[0.0, 2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    >>> int(m.nnz)
    4
    """
    src_arr = np.asarray(src, dtype=np.int64)
    matrix, _ = _build_graph(
        int(n_nodes), src_arr, dst, weight, np.ones(src_arr.shape, dtype=bool), undirected
    )
    return matrix


def _graph_of(
    graph: NetworkState | sp.csr_array | sp.csr_matrix,
    weight: str,
    only_up: bool,
    undirected: bool,
) -> Any:
    if isinstance(graph, NetworkState):
        return graph.csr(weight, only_up, undirected)
    if sp.issparse(graph) and graph.format == "csr":
        return graph
    raise DataError(
        f"expected a NetworkState or a CSR matrix from to_csr(), got {type(graph).__name__}"
    )


def _check_nodes(ids: npt.ArrayLike, n_rows: int, what: str, row: str = "node") -> IntArray:
    """Integer ids in ``0 .. n_rows - 1`` (empty lists allowed), else DataError naming ``what``."""
    arr = np.asarray(ids)
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        hint = "; convert names with state.nodes.index_of(names)" if row == "node" else ""
        raise DataError(f"{what} must be integer {row} ids, got dtype {arr.dtype}{hint}")
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= n_rows)
    if np.any(bad):
        raise DataError(f"{what} {arr[bad].ravel()[:5].tolist()} outside {row} ids 0..{n_rows - 1}")
    return arr


def _node_id(state: NetworkState, node: int | str, what: str) -> int:
    """Node id of a name or an id."""
    if isinstance(node, str):
        return int(state.nodes.index_of(node))
    return int(_check_nodes(node, state.n_nodes, what))


def shortest_paths(
    graph: NetworkState | sp.csr_array | sp.csr_matrix,
    sources: npt.ArrayLike,
    *,
    weight: str = "latency_s",
    only_up: bool = True,
    undirected: bool = True,
) -> tuple[FloatArray, IntArray]:
    """Shortest-path distances and predecessor trees from one or many sources (Dijkstra).

    Parameters
    ----------
    graph : NetworkState or scipy.sparse CSR matrix
        A state (its cached CSR for ``weight`` is used) or a matrix from :func:`to_csr`.
    sources : int or array_like of int
        Source node ids.
    weight : str, default "latency_s"
        Link column to minimise (state only).
    only_up : bool, default True
        Route only over links that are up between nodes that are up (state only).
    undirected : bool, default True
        Use links in both directions (state only; a matrix is used as stored).

    Returns
    -------
    dist : numpy.ndarray of float64
        Shape ``np.shape(sources) + (n_nodes,)``: distance in ``weight`` units (s for
        latency); ``inf`` where unreachable.
    predecessors : numpy.ndarray of int64
        Same shape: previous node on the shortest path, :data:`NO_PREDECESSOR` at the source
        and where unreachable. Rebuild paths with :func:`reconstruct_path`.

    Raises
    ------
    DataError
        If a source is not a node id.

    Examples
    --------
    >>> m = to_csr(3, [0, 1], [1, 2], [1.0, 2.0])
    >>> dist, pred = shortest_paths(m, 0)
    >>> dist.tolist(), pred.tolist()
    ([0.0, 1.0, 3.0], [-9999, 0, 1])
    """
    matrix = _graph_of(graph, weight, only_up, undirected)
    src = _check_nodes(sources, int(matrix.shape[0]), "sources")
    dist, pred = dijkstra(matrix, directed=True, indices=src.ravel(), return_predecessors=True)
    shape = (*src.shape, int(matrix.shape[0]))
    return (
        np.asarray(dist, dtype=np.float64).reshape(shape),
        np.asarray(pred, dtype=np.int64).reshape(shape),
    )


def _label(node: int, node_names: npt.ArrayLike | None) -> str:
    if node_names is None:
        return f"node {node}"
    return f"node {node} ({np.asarray(node_names)[node]!s})"


def reconstruct_path(
    predecessors_row: npt.ArrayLike,
    target: int,
    source: int | None = None,
    *,
    node_names: npt.ArrayLike | None = None,
) -> IntArray:
    """Node ids from the source of a predecessor tree to ``target``.

    Parameters
    ----------
    predecessors_row : array_like of int
        One row of the ``predecessors`` of :func:`shortest_paths`.
    target : int
        Node to reach.
    source : int, optional
        The tree's source. Needed only to tell ``target == source`` (path of one node) from an
        unreachable target; without it a target with no predecessor is unreachable unless it is
        some node's predecessor (the tree's root).
    node_names : array_like of str, optional
        ``NodeTable.name``, to name the nodes in the error message.

    Returns
    -------
    numpy.ndarray of int64
        Node ids from source to target inclusive.

    Raises
    ------
    NoPathError
        If ``target`` is unreachable from the source.

    Examples
    --------
    >>> reconstruct_path([-9999, 0, 1], 2).tolist()
    [0, 1, 2]
    """
    pred = np.asarray(predecessors_row, dtype=np.int64)
    n = pred.shape[0]
    target = int(target)
    if not 0 <= target < n:
        raise DataError(f"target {target} outside node ids 0..{n - 1}")
    if pred[target] < 0:
        is_root = target == source if source is not None else bool(np.any(pred == target))
        if is_root:
            return np.array([target], dtype=np.int64)
        origin = "the source" if source is None else _label(int(source), node_names)
        raise NoPathError(
            f"no usable path from {origin} to {_label(target, node_names)}; check that the "
            f"links and nodes between them are up (only_up=True routes only over up links)"
        )
    hops = [target]
    node = target
    # Walk the predecessor tree (one step per hop of this path; at most n steps).
    for _ in range(n):
        node = int(pred[node])
        if node < 0:
            break
        hops.append(node)
    else:
        raise DataError("predecessors_row has a cycle; pass a row from shortest_paths()")
    path = np.array(hops[::-1], dtype=np.int64)
    if source is not None and int(path[0]) != int(source):
        raise DataError(
            f"predecessors_row is rooted at node {int(path[0])}, not at source {source}; pass "
            f"the row of shortest_paths() for that source"
        )
    return path


def path_link_ids(
    state: NetworkState,
    nodes_path: npt.ArrayLike,
    *,
    weight: str = "latency_s",
    only_up: bool = True,
    undirected: bool = True,
) -> IntArray:
    """Link ids along a node path: for each hop, the minimum-``weight`` usable link.

    Raises
    ------
    NoPathError
        Naming the first hop that no usable link joins.
    """
    nodes = _check_nodes(nodes_path, state.n_nodes, "nodes_path")
    if nodes.ndim != 1:
        raise DataError(f"nodes_path must be 1-D, got shape {nodes.shape}")
    links = state.link_lookup(weight, only_up, undirected).find(nodes[:-1], nodes[1:])
    missing = links < 0
    if np.any(missing):
        i = int(np.flatnonzero(missing)[0])
        names = state.nodes.name
        raise NoPathError(
            f"no usable link joins {_label(int(nodes[i]), names)} and "
            f"{_label(int(nodes[i + 1]), names)} (hop {i} of the path); check that a link "
            f"between them exists and is up"
        )
    return links


@dataclass(frozen=True, eq=False)
class Path:
    """A loopless path through a network state.

    Attributes
    ----------
    nodes : numpy.ndarray of int64
        Node ids from source to target.
    links : numpy.ndarray of int64
        Link ids, one per hop (``len(nodes) - 1``).
    cost : float
        Sum of the links' weights (s when the weight is ``latency_s``).
    """

    nodes: IntArray
    links: IntArray
    cost: float

    @property
    def key(self) -> tuple[int, ...]:
        """The node sequence as a tuple (hashable, for sets and comparisons)."""
        return tuple(self.nodes.tolist())


def _edges(matrix: Any) -> tuple[IntArray, IntArray, FloatArray]:
    """Rows, columns and data of a canonical CSR, in storage order."""
    indptr = np.asarray(matrix.indptr, dtype=np.int64)
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(indptr))
    return rows, np.asarray(matrix.indices, dtype=np.int64), np.asarray(matrix.data)


def k_shortest_paths(
    state: NetworkState,
    source: int | str,
    target: int | str,
    k: int,
    *,
    weight: str = "latency_s",
    only_up: bool = True,
    undirected: bool = True,
) -> list[Path]:
    """The ``k`` cheapest loopless paths from ``source`` to ``target`` (Yen's algorithm).

    Each spur path is a Dijkstra search (``scipy.sparse.csgraph``) on a copy of the state's CSR
    with the root-path nodes and the already-used next hops removed structurally (removed
    entries are dropped, not zeroed, since explicit zeros are edges). Candidates are ranked by
    ``(cost, hop count, node sequence)``, so ties break deterministically.

    Parameters
    ----------
    state : NetworkState
    source, target : int or str
        Node ids or node names.
    k : int
        Number of paths wanted (>= 1); fewer are returned when fewer loopless paths exist.
    weight : str, default "latency_s"
        Link column to minimise.
    only_up, undirected : bool, default True
        As in :func:`shortest_paths`.

    Returns
    -------
    list of Path
        Sorted by cost; distinct node sequences; each path's links are its minimum-weight
        usable links, and its cost is the sum of their weights.

    Raises
    ------
    NoPathError
        If no usable path joins source and target.
    DataError
        On bad node ids or ``k < 1``.

    References
    ----------
    J. Y. Yen, "Finding the K shortest loopless paths in a network", Management Science
    17(11):712-716, 1971.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise DataError(f"k must be an integer >= 1, got {k!r}")
    src_id, dst_id = _node_id(state, source, "source"), _node_id(state, target, "target")
    matrix = state.csr(weight, only_up, undirected)
    lookup = state.link_lookup(weight, only_up, undirected)
    link_weight = state.link_weight(weight)
    n = state.n_nodes
    names = state.nodes.name

    def make_path(nodes: IntArray) -> Path:
        links = lookup.find(nodes[:-1], nodes[1:])
        return Path(nodes=nodes, links=links, cost=float(np.sum(link_weight[links])))

    _, pred = shortest_paths(matrix, src_id)
    first = make_path(reconstruct_path(pred, dst_id, src_id, node_names=names))
    if src_id == dst_id:
        return [first]
    rows, cols, data = _edges(matrix)
    edge_key = rows * np.int64(n) + cols
    found: list[Path] = [first]
    seen: set[tuple[int, ...]] = {first.key}
    candidates: list[tuple[float, int, tuple[int, ...], Path]] = []

    while len(found) < k:
        last = found[-1].nodes
        for j in range(last.shape[0] - 1):
            root = last[: j + 1]
            spur = int(root[-1])
            # Next hops already taken from this root by accepted paths are removed.
            same_root = [
                p
                for p in found
                if p.nodes.shape[0] > j + 1 and np.array_equal(p.nodes[: j + 1], root)
            ]
            used = np.array([p.nodes[j + 1] for p in same_root], dtype=np.int64)
            removed_keys = np.concatenate([spur * np.int64(n) + used, used * np.int64(n) + spur])
            node_removed: BoolArray = np.zeros(n, dtype=bool)
            node_removed[root[:-1]] = True
            keep = ~(np.isin(edge_key, removed_keys) | node_removed[rows] | node_removed[cols])
            spur_matrix = _csr_from_edges(n, rows[keep], cols[keep], data[keep], presorted=True)
            dist, spur_pred = dijkstra(
                spur_matrix, directed=True, indices=spur, return_predecessors=True
            )
            if not np.isfinite(dist[dst_id]):
                continue
            spur_nodes = reconstruct_path(spur_pred, dst_id, spur)
            total = np.concatenate([root[:-1], spur_nodes])
            path_key = tuple(total.tolist())
            if path_key in seen:
                continue
            seen.add(path_key)
            candidate = make_path(total)
            heapq.heappush(candidates, (candidate.cost, len(path_key), path_key, candidate))
        if not candidates:
            break
        found.append(heapq.heappop(candidates)[3])
    return found


def decompose_latency(links: LinkTable, link_ids: npt.ArrayLike) -> dict[str, float]:
    """Split the latency of a path's links into propagation per medium and equipment delay.

    Parameters
    ----------
    links : LinkTable
    link_ids : array_like of int
        Links of the path (e.g. ``Path.links`` or :func:`path_link_ids`).

    Returns
    -------
    dict of str to float
        ``"<medium>_s"`` for each medium in :data:`~tsunagu.net.tables.MEDIA` (propagation,
        ``length_m / (c / n_group)``), ``"propagation_s"`` (their sum), ``"equipment_s"``
        (``latency_s`` minus propagation) and ``"total_s"`` (sum of ``latency_s``), all s.

    Examples
    --------
    >>> links = LinkTable.build(src=[0, 1], dst=[1, 2], domain="optical", medium="fibre",
    ...                         length_m=100e3, equipment_delay_s=5e-6)
    >>> parts = decompose_latency(links, [0, 1])
    >>> round(parts["fibre_s"] * 1e6, 1), round(parts["equipment_s"] * 1e6, 1)
    (979.3, 10.0)
    """
    many = decompose_latency_many(links, [np.asarray(link_ids)])
    return {key: float(value[0]) for key, value in many.items()}


def decompose_latency_many(
    links: LinkTable, link_ids: Sequence[npt.ArrayLike]
) -> dict[str, FloatArray]:
    """Vectorised :func:`decompose_latency` for many paths: one value per path in each column."""
    arrays = [np.asarray(ids).ravel() for ids in link_ids]
    lengths = np.array([a.size for a in arrays], dtype=np.int64)
    flat = _check_nodes(
        np.concatenate(arrays) if arrays else np.array([], dtype=np.int64),
        len(links),
        "link_ids",
        row="link",
    )
    path_index = np.repeat(np.arange(len(arrays), dtype=np.int64), lengths)
    n_media = len(MEDIA)
    by_medium = np.asarray(
        np.bincount(
            path_index * n_media + links.medium_code[flat],
            weights=links.propagation_s[flat],
            minlength=len(arrays) * n_media,
        ),
        dtype=np.float64,
    ).reshape(len(arrays), n_media)
    total = np.asarray(
        np.bincount(path_index, weights=links.latency_s[flat], minlength=len(arrays)),
        dtype=np.float64,
    )
    out: dict[str, FloatArray] = {f"{m}_s": by_medium[:, i] for i, m in enumerate(MEDIA)}
    propagation = by_medium.sum(axis=1)
    out["propagation_s"] = propagation
    out["equipment_s"] = total - propagation
    out["total_s"] = total
    return out
