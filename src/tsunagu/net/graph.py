"""Graphs of the network state (CSR matrices for ``scipy.sparse.csgraph``) and latency splits.

The path algorithms on these matrices (Dijkstra, the predecessor walk, Yen) live in
:mod:`tsunagu.net.paths`.

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

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from tsunagu.errors import DataError, NoPathError
from tsunagu.net.tables import MEDIA, LinkLookup, LinkTable, NetworkState

if TYPE_CHECKING:
    from tsunagu.net.tables import FloatArray, IntArray

__all__ = [
    "decompose_latency",
    "decompose_latency_many",
    "path_link_ids",
    "to_csr",
]


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


def _label(node: int, node_names: npt.ArrayLike | None) -> str:
    if node_names is None:
        return f"node {node}"
    return f"node {node} ({np.asarray(node_names)[node]!s})"


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
