"""Network state as node and link tables, CSR graphs, shortest and k-shortest paths.

* :mod:`tsunagu.net.tables` — :class:`NodeTable`, :class:`LinkTable`, the per-instant
  :class:`NetworkState` and the :class:`StaticNetwork` that is built once and joined with the
  time-varying (satellite, HAPS) nodes and links at each step by :meth:`StaticNetwork.state_at`.
* :mod:`tsunagu.net.graph` — CSR construction (minimum over parallel links, zero weights kept),
  multi-source Dijkstra, path reconstruction, Yen's k shortest loopless paths, latency split.
"""

from __future__ import annotations

from tsunagu.net.graph import (
    NO_PREDECESSOR,
    Path,
    decompose_latency,
    decompose_latency_many,
    k_shortest_paths,
    path_link_ids,
    reconstruct_path,
    shortest_paths,
    to_csr,
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
    "LinkLookup",
    "LinkTable",
    "NetworkState",
    "NodeTable",
    "Path",
    "StaticNetwork",
    "decompose_latency",
    "decompose_latency_many",
    "k_shortest_paths",
    "path_link_ids",
    "propagation_latency_s",
    "reconstruct_path",
    "shortest_paths",
    "to_csr",
]
