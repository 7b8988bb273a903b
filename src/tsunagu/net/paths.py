"""The path library: one Dijkstra core, one predecessor walk, one Yen.

Every shortest-path computation in tsunagu goes through this module:

* :func:`shortest_paths` — multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra``) on a
  :class:`~tsunagu.net.tables.NetworkState` or a CSR matrix: ``(dist, pred)``.
* :func:`walk` — the paths of many (source, target) pairs from a predecessor matrix at once,
  as a ragged :class:`Walks` (one Python iteration per hop of the *longest* path, vectorised
  over the pairs; never one per link). It sums per-link values along each path
  (:meth:`Walks.sum`), loads links with per-pair values (:meth:`Walks.load`) and pads node
  sequences (:meth:`Walks.padded_nodes`).
* :class:`KShortest` / :func:`k_shortest` — Yen's k shortest loopless paths on a CSR matrix,
  its spur searches on the same Dijkstra core; :func:`k_shortest_paths` the same on a network
  state, returning :class:`Path` objects with link ids.

Typical use on one step of a twin::

    csr = state.csr("latency_s")                       # cached on the state
    dist, pred = shortest_paths(csr, site_nodes)       # (S, N) each
    w = walk(pred, site_nodes, targets, rows=site_row, lookup=state.link_lookup("latency_s"))
    delay = w.sum(state.links.latency_s)               # (P,) s, equals dist[site_row, targets]
    bits_per_link = w.load(rate_bps, len(state.links)) # (L,) b/s

Conventions are SciPy's: a predecessor is :data:`NO_PREDECESSOR` (-9999) at the source and at
unreachable nodes; weights are >= 0; an explicit zero entry of a CSR is an edge (build graphs
with :func:`tsunagu.net.graph.to_csr` or ``NetworkState.csr``, which keep them).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from tsunagu.errors import DataError, NoPathError
from tsunagu.net.graph import _check_nodes as _check_ids
from tsunagu.net.graph import _csr_from_edges, _label
from tsunagu.net.tables import LinkLookup, NetworkState

if TYPE_CHECKING:
    from tsunagu.net.tables import BoolArray, FloatArray, IntArray

__all__ = [
    "NO_PREDECESSOR",
    "KShortest",
    "Path",
    "SimplePath",
    "Walks",
    "k_shortest",
    "k_shortest_paths",
    "reconstruct_path",
    "shortest_paths",
    "walk",
]

#: Predecessor value of a source node or an unreachable node (SciPy's convention).
NO_PREDECESSOR: Final = -9999


# --------------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------------- Dijkstra


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
        A state (its cached CSR for ``weight`` is used) or a matrix from
        :func:`~tsunagu.net.graph.to_csr`. A matrix is used as stored (directed): store both
        directions for an undirected graph, as ``to_csr`` does by default.
    sources : int or array_like of int
        Source node ids.
    weight : str, default "latency_s"
        Link column to minimise (state only).
    only_up : bool, default True
        Route only over links that are up between nodes that are up (state only).
    undirected : bool, default True
        Use links in both directions (state only).

    Returns
    -------
    dist : numpy.ndarray of float64
        Shape ``np.shape(sources) + (n_nodes,)``: distance in ``weight`` units (s for
        latency); ``inf`` where unreachable.
    predecessors : numpy.ndarray of int64
        Same shape: previous node on the shortest path, :data:`NO_PREDECESSOR` at the source
        and where unreachable. Follow them with :func:`walk` (many pairs) or
        :func:`reconstruct_path` (one).

    Raises
    ------
    DataError
        If a source is not a node id.

    Examples
    --------
    >>> from tsunagu.net.graph import to_csr
    >>> m = to_csr(3, [0, 1], [1, 2], [1.0, 2.0])
    >>> dist, pred = shortest_paths(m, 0)
    >>> dist.tolist(), pred.tolist()
    ([0.0, 1.0, 3.0], [-9999, 0, 1])
    """
    matrix = _graph_of(graph, weight, only_up, undirected)
    src = _check_ids(sources, int(matrix.shape[0]), "sources")
    dist, pred = dijkstra(matrix, directed=True, indices=src.ravel(), return_predecessors=True)
    shape = (*src.shape, int(matrix.shape[0]))
    return (
        np.asarray(dist, dtype=np.float64).reshape(shape),
        np.asarray(pred, dtype=np.int64).reshape(shape),
    )


# --------------------------------------------------------------------------- predecessor walk


@dataclass(frozen=True, eq=False)
class Walks:
    """The paths of P (source, target) pairs, flattened hop by hop (a ragged array).

    Hop ``h`` of the flat arrays goes ``tail[h] -> head[h]``; the hops of pair ``p`` are
    ``offsets[p]:offsets[p + 1]``, in order from the source to the target. An unreachable pair
    has no hops and ``reachable`` False; a pair whose target is its source has no hops and
    ``reachable`` True.

    Attributes
    ----------
    offsets : (P + 1,) int64
    tail, head : (H,) int64
        Node ids of each hop's start and end.
    links : (H,) int64 or None
        Link id of each hop (the ``lookup``'s link for the node pair), when :func:`walk` was
        given a lookup.
    reachable : (P,) bool
    source, target : (P,) int64
        Each pair's end nodes.
    """

    offsets: IntArray
    tail: IntArray
    head: IntArray
    links: IntArray | None
    reachable: BoolArray
    source: IntArray
    target: IntArray

    @property
    def n_pairs(self) -> int:
        return int(self.reachable.size)

    @property
    def n_hops(self) -> IntArray:
        """(P,) hops per pair (0 when unreachable or target == source)."""
        return np.diff(self.offsets)

    @property
    def pair(self) -> IntArray:
        """(H,) the pair each hop belongs to."""
        return np.repeat(np.arange(self.n_pairs, dtype=np.int64), self.n_hops)

    def _hop_links(self) -> IntArray:
        if self.links is None:
            raise DataError(
                "these walks carry no link ids; pass lookup=state.link_lookup(weight) to walk()"
            )
        return self.links

    def sum(self, per_link: npt.ArrayLike) -> FloatArray:
        """(P,) sum of a per-link value (e.g. ``latency_s``) over each pair's path.

        ``per_link`` is indexed by link id (needs ``links``); 0 for a pair without hops.
        """
        values = np.asarray(per_link, dtype=np.float64)
        out = np.bincount(
            self.pair, weights=values[self._hop_links()], minlength=self.n_pairs
        ).astype(np.float64)
        return out

    def load(self, per_pair: npt.ArrayLike, n_links: int) -> FloatArray:
        """(n_links,) sum over pairs of ``per_pair`` on every link of the pair's path.

        For a rate per pair (b/s) this is each link's carried load; a link used twice by one
        path (impossible on a shortest path) would count twice.
        """
        values = np.broadcast_to(np.asarray(per_pair, dtype=np.float64), (self.n_pairs,))
        return np.bincount(
            self._hop_links(), weights=values[self.pair], minlength=int(n_links)
        ).astype(np.float64)

    def nodes(self, p: int) -> IntArray:
        """Node ids of pair ``p``'s path, source to target (empty when unreachable)."""
        lo, hi = int(self.offsets[p]), int(self.offsets[p + 1])
        if not self.reachable[p]:
            return np.zeros(0, dtype=np.int64)
        if lo == hi:
            return self.target[p : p + 1].copy()
        return np.concatenate([self.tail[lo : lo + 1], self.head[lo:hi]])

    def padded_nodes(self, fill: int = -1) -> IntArray:
        """(P, max hops + 1) node sequences source to target, padded with ``fill``.

        Rows of unreachable pairs and of pairs with no hop are all ``fill``.
        """
        n_hops = self.n_hops
        width = int(n_hops.max()) + 1 if n_hops.size and n_hops.max() > 0 else 0
        out = np.full((self.n_pairs, width), fill, dtype=np.int64)
        if width == 0:
            return out
        pair = self.pair
        pos = np.arange(self.head.size, dtype=np.int64) - self.offsets[pair]
        out[pair, pos + 1] = self.head
        starts = np.flatnonzero(n_hops > 0)
        out[starts, 0] = self.tail[self.offsets[starts]]
        return out


def _trace_one(pred: list[int], source: int, target: int) -> list[int]:
    """Node ids source → target of one pair (the scalar kernel of :func:`walk`); [] if none."""
    path = [target]
    cur = target
    for _ in range(len(pred)):
        if cur == source:
            path.reverse()
            return path
        cur = pred[cur]
        if cur < 0:
            return []
        path.append(cur)
    raise DataError("pred has a cycle; pass predecessors from shortest_paths()")


def walk(
    pred: npt.ArrayLike,
    sources: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    rows: npt.ArrayLike | None = None,
    lookup: LinkLookup | None = None,
) -> Walks:
    """Follow predecessors of many (source, target) pairs at once.

    Parameters
    ----------
    pred : (N,) or (R, N) array_like of int
        Predecessors from :func:`shortest_paths` (or ``scipy.sparse.csgraph.dijkstra``).
    sources : int or (R,) array_like of int
        The source node of each row of ``pred`` (the ``sources`` given to Dijkstra).
    targets : (P,) array_like of int
        Target node of each pair.
    rows : (P,) array_like of int, optional
        Row of ``pred`` each pair uses. Needed when ``pred`` has several rows; with one row
        (or a 1-D ``pred``) every pair uses it.
    lookup : LinkLookup, optional
        ``state.link_lookup(weight, ...)`` of the graph Dijkstra ran on: gives every hop its
        link id (:attr:`Walks.links`), needed by :meth:`Walks.sum` and :meth:`Walks.load`.

    Returns
    -------
    Walks

    Raises
    ------
    DataError
        On ids out of range, a missing ``rows``, or a predecessor matrix with a cycle.

    Notes
    -----
    One vectorised step per hop of the longest path (at most N steps), over all pairs still
    walking; the hops come out in source-to-target order.

    Examples
    --------
    >>> w = walk([[-9999, 0, 1, -9999]], [0], [2, 0, 3])
    >>> w.offsets.tolist(), w.tail.tolist(), w.head.tolist(), w.reachable.tolist()
    ([0, 2, 2, 2], [0, 1], [1, 2], [True, True, False])
    """
    p_arr = np.asarray(pred)
    if p_arr.ndim == 1:
        p_arr = p_arr[np.newaxis, :]
    if p_arr.ndim != 2 or p_arr.dtype.kind not in "iu":
        raise DataError(
            f"pred must be an integer (N,) or (R, N) predecessor array from shortest_paths(), "
            f"got shape {p_arr.shape} and dtype {p_arr.dtype}"
        )
    n_rows, n = p_arr.shape
    src = _check_ids(np.atleast_1d(np.asarray(sources)), n, "sources")
    if src.shape != (n_rows,):
        raise DataError(
            f"sources must name one node per row of pred ({n_rows}), got shape {src.shape}"
        )
    tgt = _check_ids(np.atleast_1d(np.asarray(targets)), n, "targets").ravel()
    if rows is None:
        if n_rows != 1:
            raise DataError(
                f"pred has {n_rows} rows: pass rows= (the row of each pair's source, e.g. the "
                f"inverse of np.unique over the pairs' sources)"
            )
        row = np.zeros(tgt.size, dtype=np.int64)
    else:
        row = _check_ids(rows, n_rows, "rows", row="row").ravel()
        if row.shape != tgt.shape:
            raise DataError(f"rows has {row.size} entries for {tgt.size} targets; pass one each")
    pairs = tgt.size
    start = src[row]
    cur = tgt.copy()
    active = cur != start
    reachable = ~active
    steps_pair: list[IntArray] = []
    steps_tail: list[IntArray] = []
    steps_head: list[IntArray] = []
    for _ in range(n):
        a = np.flatnonzero(active)
        if a.size == 0:
            break
        prev = p_arr[row[a], cur[a]].astype(np.int64)
        ok = prev >= 0
        active[a[~ok]] = False  # fell off the tree before the source: unreachable
        a, prev = a[ok], prev[ok]
        steps_pair.append(a)
        steps_tail.append(prev)
        steps_head.append(cur[a])
        cur[a] = prev
        arrived = prev == start[a]
        reachable[a[arrived]] = True
        active[a[arrived]] = False
    else:
        if np.any(active):
            raise DataError("pred has a cycle; pass predecessors from shortest_paths()")
    offsets = np.zeros(pairs + 1, dtype=np.int64)
    if steps_pair:
        hop_pair = np.concatenate(steps_pair)
        step = np.repeat(np.arange(len(steps_pair)), [a.size for a in steps_pair])
        keep = reachable[hop_pair]
        if not keep.all():  # hops of pairs that fell off the tree are dropped
            hop_pair, step = hop_pair[keep], step[keep]
        n_hops = np.bincount(hop_pair, minlength=pairs)
        np.cumsum(n_hops, out=offsets[1:])
        # hops were found from the target backwards: place each at its place from the source
        pos = offsets[hop_pair] + n_hops[hop_pair] - 1 - step
        tail = np.empty(pos.size, dtype=np.int64)
        head = np.empty(pos.size, dtype=np.int64)
        all_tail, all_head = np.concatenate(steps_tail), np.concatenate(steps_head)
        tail[pos] = all_tail if keep.all() else all_tail[keep]
        head[pos] = all_head if keep.all() else all_head[keep]
    else:
        tail = head = np.zeros(0, dtype=np.int64)
    links = None if lookup is None else lookup.find(tail, head)
    return Walks(
        offsets=offsets,
        tail=tail,
        head=head,
        links=links,
        reachable=reachable,
        source=start,
        target=tgt,
    )


def reconstruct_path(
    predecessors_row: npt.ArrayLike,
    target: int,
    source: int | None = None,
    *,
    node_names: npt.ArrayLike | None = None,
) -> IntArray:
    """Node ids from the source of a predecessor tree to ``target`` (one pair of :func:`walk`).

    Parameters
    ----------
    predecessors_row : array_like of int
        One row of the ``predecessors`` of :func:`shortest_paths`.
    target : int
        Node to reach.
    source : int, optional
        The tree's source. Without it, the source is the root reached from ``target``, and a
        target with no predecessor is the root only if it is some node's predecessor.
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
    # The root of a predecessor tree is the one node without a predecessor that is some
    # node's predecessor (unreachable nodes have none and are nobody's).
    is_pred = np.zeros(n, dtype=bool)
    is_pred[pred[pred >= 0]] = True
    roots = np.flatnonzero((pred < 0) & is_pred)
    if roots.size > 1:
        raise DataError("predecessors_row has several roots; pass a row of shortest_paths()")
    if source is None:
        if roots.size == 0:  # a tree of one node: only the source itself, which is unnamed
            raise NoPathError(
                f"no usable path reaches {_label(target, node_names)}: the tree has no edges; "
                f"pass source= to ask for the path of one node"
            )
        root = int(roots[0])
    else:
        root = int(source)
        if not 0 <= root < n:
            raise DataError(f"source {root} outside node ids 0..{n - 1}")
        if roots.size and int(roots[0]) != root:
            raise DataError(
                f"predecessors_row is rooted at node {int(roots[0])}, not at source {source}; "
                f"pass the row of shortest_paths() for that source"
            )
    result = walk(pred, root, [target])
    if not result.reachable[0]:
        origin = "the source" if source is None else _label(int(source), node_names)
        raise NoPathError(
            f"no usable path from {origin} to {_label(target, node_names)}; check that the "
            f"links and nodes between them are up (only_up=True routes only over up links)"
        )
    return result.nodes(0)


# --------------------------------------------------------------------------- Yen


class SimplePath(NamedTuple):
    """A loopless path of a CSR graph: node ids source to target and the sum of its weights."""

    nodes: IntArray
    cost: float


class KShortest:
    """Yen's k shortest loopless paths, for many (source, target) queries on one graph.

    Each spur search is one call of the Dijkstra core (``scipy.sparse.csgraph.dijkstra``) on
    the graph with the root path's nodes and the already-taken next hops left out; they are
    left out by setting those entries' weights to ``inf`` in a working copy of the matrix (the
    matrix is never rebuilt, and explicit zero-weight edges stay edges). First paths come from
    one Dijkstra per source, kept for later queries from that source. Candidates are ranked by
    ``(cost, hop count, node sequence)``, so ties break deterministically; a path's cost is
    the sum of its edges' weights in path order.

    Parameters
    ----------
    matrix : scipy.sparse CSR matrix
        Square, weights >= 0, used as stored (directed); from
        :func:`~tsunagu.net.graph.to_csr` or ``NetworkState.csr``.

    References
    ----------
    J. Y. Yen, "Finding the K shortest loopless paths in a network", Management Science
    17(11):712-716, 1971.

    Examples
    --------
    >>> from tsunagu.net.graph import to_csr
    >>> ks = KShortest(to_csr(4, [0, 1, 0, 2], [1, 3, 2, 3], [1.0, 1.0, 1.0, 2.0]))
    >>> [(p.nodes.tolist(), p.cost) for p in ks.paths(0, 3, 3)]
    [([0, 1, 3], 2.0), ([0, 2, 3], 3.0)]
    """

    def __init__(self, matrix: sp.csr_array | sp.csr_matrix) -> None:
        if not (sp.issparse(matrix) and matrix.format == "csr"):
            raise DataError(
                f"KShortest needs a CSR matrix from to_csr(), got {type(matrix).__name__}"
            )
        if matrix.shape[0] != matrix.shape[1]:
            raise DataError(f"the adjacency matrix must be square, got shape {matrix.shape}")
        csr = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
        if not csr.has_canonical_format:
            raise DataError(
                "the matrix has unsorted or duplicate entries; build it with to_csr(), which "
                "keeps the minimum of parallel edges"
            )
        data = np.asarray(csr.data, dtype=np.float64)
        if np.any(np.isnan(data) | (data < 0.0)):
            raise DataError("edge weights must be >= 0 (use inf to leave an edge out)")
        self.n = int(csr.shape[0])
        self._indptr = np.asarray(csr.indptr, dtype=np.int64)
        self._cols = np.asarray(csr.indices, dtype=np.int64)
        self._rows = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self._indptr))
        self._key = self._rows * np.int64(self.n) + self._cols  # sorted (canonical CSR)
        self._data = data.copy()  # pristine weights; self._work.data is overwritten per search
        self._work = csr
        self._trees: dict[int, list[int]] = {}
        self._reverse: dict[int, tuple[list[int], list[float]]] = {}
        self._transposed: sp.csr_array | None = None
        self._cols_list: list[int] = self._cols.tolist()
        self._data_list: list[float] = self._data.tolist()

    def cost(self, nodes: npt.ArrayLike) -> float:
        """Sum of the edge weights along a node sequence, in path order."""
        ids = np.asarray(nodes, dtype=np.int64)
        entry = np.searchsorted(self._key, ids[:-1] * np.int64(self.n) + ids[1:])
        return float(sum(self._data[entry].tolist()))

    def _search(self, source: int) -> list[int]:
        """Predecessors from ``source`` on the working matrix (one Dijkstra-core call)."""
        _, pred = dijkstra(self._work, directed=True, indices=source, return_predecessors=True)
        return list(pred.tolist())

    def _tree(self, source: int) -> list[int]:
        tree = self._trees.get(source)
        if tree is None:
            self._work.data[:] = self._data
            tree = self._search(source)
            self._trees[source] = tree
        return tree

    def _to_target(self, target: int) -> tuple[list[int], list[float]]:
        """Next hop towards ``target`` and distance to it, from every node (reverse Dijkstra)."""
        tree = self._reverse.get(target)
        if tree is None:
            if self._transposed is None:  # edge u -> v stored as v -> u, zeros kept
                self._transposed = _csr_from_edges(self.n, self._cols, self._rows, self._data)
            dist, nxt = dijkstra(
                self._transposed, directed=True, indices=target, return_predecessors=True
            )
            tree = (list(nxt.tolist()), list(dist.tolist()))
            self._reverse[target] = tree
        return tree

    def _spur_by_bound(
        self, spur: int, target: int, banned: list[int], used_next: list[int]
    ) -> list[int] | None:
        """The spur path when the exact lower bound is met by a clean tree path, else None.

        Any allowed spur path leaves by some allowed neighbour ``v`` and costs at least
        ``w(spur, v) + d(v, target)`` (``d``: unrestricted distance). If the neighbour with the
        least bound has an unrestricted shortest path to the target that avoids the banned
        nodes and the spur itself, that path meets the bound and is a shortest spur path: no
        new search is needed.
        """
        nxt, d = self._to_target(target)
        lo, hi = int(self._indptr[spur]), int(self._indptr[spur + 1])
        best, best_v = math.inf, -1
        skip = set(banned)
        skip.update(used_next)
        for v, w in zip(self._cols_list[lo:hi], self._data_list[lo:hi], strict=True):
            if v in skip:
                continue
            bound = w + d[v]
            if bound < best:
                best, best_v = bound, v
        if best_v < 0:  # no allowed neighbour reaches the target: no spur path at all
            return []
        path = [spur, best_v]
        clean = set(banned)
        clean.add(spur)
        cur = best_v
        while cur != target:
            cur = nxt[cur]
            if cur < 0 or cur in clean:
                return None
            path.append(cur)
        return path

    def _spur(self, spur: int, target: int, banned: list[int], used_next: list[int]) -> list[int]:
        """Shortest spur → target path avoiding ``banned`` nodes and edges spur → used_next."""
        quick = self._spur_by_bound(spur, target, banned, used_next)
        if quick is not None:
            return quick
        data = self._work.data
        data[:] = self._data
        if banned:  # every edge into a banned node: it cannot be reached
            node_banned = np.zeros(self.n, dtype=bool)
            node_banned[banned] = True
            data[node_banned[self._cols]] = np.inf
        if used_next:
            lo, hi = int(self._indptr[spur]), int(self._indptr[spur + 1])
            taken = np.zeros(self.n, dtype=bool)
            taken[used_next] = True
            data[lo:hi][taken[self._cols[lo:hi]]] = np.inf
        return _trace_one(self._search(spur), spur, target)

    def paths(self, source: int, target: int, k: int) -> list[SimplePath]:
        """The ``k`` cheapest loopless paths ``source`` → ``target`` (fewer if fewer exist).

        Returns an empty list when the target is unreachable, ``[SimplePath([s], 0.0)]`` when
        ``source == target``.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise DataError(f"k must be an integer >= 1, got {k!r}")
        s = int(_check_ids(source, self.n, "source"))
        t = int(_check_ids(target, self.n, "target"))
        first = _trace_one(self._tree(s), s, t)
        if not first:
            return []
        found: list[tuple[float, list[int]]] = [(self.cost(first), first)]
        seen: set[tuple[int, ...]] = {tuple(first)}
        heap: list[tuple[float, int, tuple[int, ...]]] = []
        while len(found) < k and s != t:
            last = found[-1][1]
            for j in range(len(last) - 1):
                root = last[: j + 1]
                used = [p[j + 1] for _, p in found if len(p) > j + 1 and p[: j + 1] == root]
                spur = self._spur(root[-1], t, root[:-1], used)
                if not spur:
                    continue
                cand = tuple(root[:-1] + spur)
                if cand in seen:
                    continue
                seen.add(cand)
                heapq.heappush(heap, (self.cost(cand), len(cand), cand))
            if not heap:
                break
            cost, _, nodes = heapq.heappop(heap)
            found.append((cost, list(nodes)))
        return [SimplePath(np.array(p, dtype=np.int64), c) for c, p in found]


def k_shortest(
    matrix: sp.csr_array | sp.csr_matrix, source: int, target: int, k: int
) -> list[SimplePath]:
    """Yen's ``k`` shortest loopless paths on a CSR matrix (one query; see :class:`KShortest`).

    Examples
    --------
    >>> from tsunagu.net.graph import to_csr
    >>> m = to_csr(3, [0, 1, 0], [1, 2, 2], [1.0, 1.0, 5.0])
    >>> [p.nodes.tolist() for p in k_shortest(m, 0, 2, 2)]
    [[0, 1, 2], [0, 2]]
    """
    return KShortest(matrix).paths(source, target, k)


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


def _node_id(state: NetworkState, node: int | str, what: str) -> int:
    """Node id of a name or an id."""
    if isinstance(node, str):
        return int(state.nodes.index_of(node))
    return int(_check_ids(node, state.n_nodes, what))


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
    """The ``k`` cheapest loopless paths from ``source`` to ``target`` of a network state (Yen).

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
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise DataError(f"k must be an integer >= 1, got {k!r}")
    src_id, dst_id = _node_id(state, source, "source"), _node_id(state, target, "target")
    lookup = state.link_lookup(weight, only_up, undirected)
    link_weight = state.link_weight(weight)
    found = KShortest(state.csr(weight, only_up, undirected)).paths(src_id, dst_id, k)
    if not found:
        names = state.nodes.name
        raise NoPathError(
            f"no usable path from {_label(src_id, names)} to {_label(dst_id, names)}; check "
            f"that the links and nodes between them are up (only_up=True routes only over up "
            f"links)"
        )
    out = []
    for p in found:
        links = lookup.find(p.nodes[:-1], p.nodes[1:])
        out.append(Path(nodes=p.nodes, links=links, cost=float(np.sum(link_weight[links]))))
    return out
