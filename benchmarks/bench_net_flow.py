"""Congestion-aware routing and allocation (:mod:`tsunagu.net.flow`) on the japan-2030 network.

Printed, not asserted: wall time of :func:`tsunagu.net.flow.route_and_allocate` for 1,000 to
10,000 demands (``--quick``: 1,000 and 3,000) on the static network of the japan-2030 scenario
(every link full duplex: one arc per direction), demand points to compute sites, at a light
load (no blocking, one MSA step) and a load 30 × higher (blocking, up to 30 steps), with the
MSA steps, final relative gap, distinct paths and blocked share. Seeded demands.

Run: ``python -m benchmarks net_flow [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

from tsunagu.net.flow import route_and_allocate
from tsunagu.scenario.loader import load_scenario
from tsunagu.sim.twin import Twin

__all__ = ["main"]

#: Mean offered rate per demand at the light load, b/s (uniform on [0, 2 ×] this).
_MEAN_RATE_BPS = 10e9


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks net_flow")
    parser.add_argument("--quick", action="store_true", help="fewer demand counts")
    parser.add_argument("--scenario", default="japan-2030", help="scenario name or file")
    parser.add_argument("--seed", type=int, default=1)
    args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    twin = Twin(load_scenario(args.scenario))
    links = twin.static.links
    n = twin.static.n_nodes
    src = np.concatenate([links.src, links.dst])
    dst = np.concatenate([links.dst, links.src])
    cap = np.concatenate([links.capacity_bps, links.capacity_bps])
    tau = np.concatenate([links.latency_s, links.latency_s])
    rng = np.random.default_rng(args.seed)
    points = np.asarray(twin.idx_demand)
    sites = np.asarray(twin.idx_site)
    table = Table(title=f"net.flow on {args.scenario}: {n} nodes, {src.size} arcs")
    for col in ("demands", "load", "wall (s)", "MSA steps", "rel. gap", "paths", "blocked"):
        table.add_column(col, justify="right")
    counts = (1_000, 3_000) if args.quick else (1_000, 3_000, 10_000)
    for f in counts:
        d_src = rng.choice(points, f)
        d_dst = rng.choice(sites, f)
        base = rng.uniform(0.0, 2.0 * _MEAN_RATE_BPS, f)
        for scale in (1.0, 30.0):
            t0 = time.perf_counter()
            r = route_and_allocate(
                n, src, dst, cap, tau, d_src, d_dst, base * scale, max_iterations=30
            )
            wall = time.perf_counter() - t0
            blocked = r.demand_blocked_bps.sum() / max(r.demand_offered_bps.sum(), 1e-300)
            table.add_row(
                f"{f:,}", f"×{scale:g}", f"{wall:.2f}", str(r.iterations),
                f"{r.relative_gap:.1e}", f"{r.path_demand.size:,}", f"{blocked:.1%}",
            )  # fmt: skip
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
