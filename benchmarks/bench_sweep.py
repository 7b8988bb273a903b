"""Sweep benchmark: a 100-scenario disaster sweep in one process, in local processes and on a
local Dask cluster, side by side in one run (medians and ratios; no absolute targets).

The sweep: japan-2030 over one day at 3-hour steps with the ``noto-2024`` preset at 16:10 and,
per case, 5 % of the backbone fibre links and 2 % of the satellites failed, drawn from the
case's seed. Every backend must return the identical table; the benchmark checks it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.table import Table

from tsunagu.scenario import Scenario, load_scenario
from tsunagu.scenario.schema import Event
from tsunagu.sim import sweep as sweep_mod
from tsunagu.sim.sweep import SweepResult, make_cases, run_sweep

__all__ = ["main"]

QUAKE_S = 16 * 3600.0 + 600.0


def _scenario(name: str) -> Scenario:
    sc = load_scenario(name)
    timeline = sc.timeline.model_copy(update={"duration_s": 86_400.0, "step_s": 3 * 3600.0})
    return sc.model_copy(
        update={"timeline": timeline, "events": [Event(preset="noto-2024", start_s=QUAKE_S)]}
    )


def _timed(label: str, fn: Callable[[], SweepResult]) -> tuple[str, SweepResult]:
    sweep_mod._twin_for.cache_clear()  # every backend builds its twins itself
    return label, fn()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks sweep", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 cases instead of 100")
    parser.add_argument("--scenario", default="japan-2030")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2, help="rounds, in rotated order")
    args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    n = args.cases or (10 if args.quick else 100)
    workers = os.cpu_count() or 1
    console = Console(width=110)
    sc = _scenario(args.scenario)
    cases = make_cases(sc, runs=n, fail_links_share=0.05, fail_satellites_share=0.02)

    import distributed

    def in_process() -> SweepResult:
        return run_sweep(cases, workers=1)

    def local_processes() -> SweepResult:
        return run_sweep(cases, workers=workers)

    def on_dask(processes: bool) -> SweepResult:
        with (
            distributed.LocalCluster(
                processes=processes,
                n_workers=workers if processes else 1,
                threads_per_worker=1 if processes else workers,
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            return run_sweep(cases, scheduler=client)

    backends: list[tuple[str, Callable[[], SweepResult]]] = [
        ("in process (workers=1)", in_process),
        (f"local processes (workers={workers})", local_processes),
        (f"Dask LocalCluster (processes, {workers})", lambda: on_dask(True)),
        (f"Dask LocalCluster (threads, {workers})", lambda: on_dask(False)),
    ]
    # Rounds in rotated order, so a change in machine load does not favour one backend.
    walls: dict[str, list[float]] = {label: [] for label, _ in backends}
    tables: dict[str, SweepResult] = {}
    for r in range(args.rounds):
        order = backends[r % len(backends) :] + backends[: r % len(backends)]
        for label, fn in order:
            _, res = _timed(label, fn)
            walls[label].append(res.wall_s)
            tables[label] = res
    results = [
        (
            label,
            SweepResult(
                tables[label].table,
                tables[label].backend,
                tables[label].workers,
                statistics.median(walls[label]),
            ),
        )
        for label, _ in backends
    ]

    base = results[0][1]
    t = Table(
        title=f"Disaster sweep: {n} cases of {sc.name} + noto-2024, 1 day at 3 h steps "
        f"(median wall of {args.rounds} rounds)"
    )
    for col in ("backend", "wall (s)", "cases/s", "speed-up vs in process", "identical table"):
        t.add_column(col, justify="left" if col == "backend" else "right")
    for label, r in results:
        t.add_row(
            label,
            f"{r.wall_s:.2f}",
            f"{n / r.wall_s:.2f}",
            f"{base.wall_s / r.wall_s:.2f}x",
            "yes" if r.table.equals(base.table) else "NO",
        )
    console.print(t)
    peak = base.table["population_without_service_peak"].to_numpy()
    console.print(
        f"median population without service (peak) over cases: {statistics.median(peak):,.0f}; "
        f"per case in process: {base.wall_s / n * 1e3:.0f} ms"
    )
    identical = all(r.table.equals(base.table) for _, r in results)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
