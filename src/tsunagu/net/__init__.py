"""Network state as node and link tables, CSR graphs, shortest and k-shortest paths.

* :mod:`tsunagu.net.tables` — :class:`NodeTable`, :class:`LinkTable`, the per-instant
  :class:`NetworkState` and the :class:`StaticNetwork` that is built once and joined with the
  time-varying (satellite, HAPS) nodes and links at each step by :meth:`StaticNetwork.state_at`.
* :mod:`tsunagu.net.graph` — CSR construction (minimum over parallel links, zero weights kept),
  link ids along a node path, latency split.
* :mod:`tsunagu.net.paths` — the one path library: multi-source Dijkstra
  (:func:`shortest_paths`), the predecessor walk of many pairs at once (:func:`walk` →
  :class:`Walks`), Yen's k shortest loopless paths (:class:`KShortest`, :func:`k_shortest`,
  :func:`k_shortest_paths` on a state).
"""

from __future__ import annotations

from tsunagu.net.graph import (
    decompose_latency,
    decompose_latency_many,
    path_link_ids,
    to_csr,
)
from tsunagu.net.paths import (
    NO_PREDECESSOR,
    KShortest,
    Path,
    SimplePath,
    Walks,
    k_shortest,
    k_shortest_paths,
    reconstruct_path,
    shortest_paths,
    walk,
)
from tsunagu.net.tables import (
    DOMAINS,
    GROUP_INDEX,
    MEDIA,
    LinkLookup,
    LinkTable,
    NetworkState,
    NodeTable,
    StaticNetwork,
    propagation_latency_s,
)

__all__ = [
    "DOMAINS",
    "GROUP_INDEX",
    "MEDIA",
    "NO_PREDECESSOR",
    "KShortest",
    "LinkLookup",
    "LinkTable",
    "NetworkState",
    "NodeTable",
    "Path",
    "SimplePath",
    "StaticNetwork",
    "Walks",
    "decompose_latency",
    "decompose_latency_many",
    "k_shortest",
    "k_shortest_paths",
    "path_link_ids",
    "propagation_latency_s",
    "reconstruct_path",
    "shortest_paths",
    "to_csr",
    "walk",
]
