"""Engine benchmarks: Twin build and ``run_twin`` wall time, peak memory, and scaling.

All measurements are taken side by side in one process and reported as medians and ratios;
nothing here asserts an absolute time. Three groups are measured:

1. the default run of the scenario: Twin build and run time, and peak memory;
2. scaling with the number of demand points (the cities, then ``demand.target_points`` sub-city
   points: 2,000 and 10,000);
3. scaling with the number of steps (``timeline.step_s`` over one day, down to 288 five-minute
   steps);
4. scaling with the national traffic (``traffic.scale`` ×1 … ×8 at the busy hour): run time per
   step, routing iterations and the share of traffic carried.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from tsunagu.scenario import Scenario, load_scenario
from tsunagu.sim.engine import run_twin
from tsunagu.sim.twin import Twin

__all__ = ["main"]

# GeoNames holds about 1,300 Japanese cities: 15,000 people and up is nearly all of them.
#: Demand points of the scaling study: the default cities (None), then sub-city points.
POINTS: tuple[int | None, ...] = (None, 2_000, 10_000)
POINTS_QUICK: tuple[int | None, ...] = (None, 2_000)
STEPS_S = (7200.0, 3600.0, 1800.0, 900.0, 300.0)
TRAFFIC_SCALES = (1.0, 2.0, 4.0, 8.0)
TRAFFIC_SCALES_QUICK = (1.0, 8.0)
BUSY_HOUR = 22.0
STEPS_S_QUICK = (7200.0, 3600.0)
DAY_S = 86_400.0


@dataclass(frozen=True)
class Timing:
    """Median wall times (seconds) of a Twin build and a run over ``repeat`` runs.

    ``first_build_s`` is the first build alone: the first in the process pays for loading and
    caching the geographic data, which later builds reuse.
    """

    build_s: float
    run_s: float
    first_build_s: float
    points: int
    steps: int


def _measure(sc: Scenario, repeat: int) -> Timing:
    builds: list[float] = []
    runs: list[float] = []
    points = steps = 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        twin = Twin(sc)
        t1 = time.perf_counter()
        run_twin(twin)
        t2 = time.perf_counter()
        builds.append(t1 - t0)
        runs.append(t2 - t1)
        points = len(twin.demand.name)
        steps = len(twin.times_s)
    return Timing(statistics.median(builds), statistics.median(runs), builds[0], points, steps)


def _with_points(sc: Scenario, target_points: int | None) -> Scenario:
    demand = sc.demand.model_copy(update={"target_points": target_points})
    return sc.model_copy(update={"demand": demand})


def _with_timeline(sc: Scenario, step_s: float, duration_s: float) -> Scenario:
    timeline = sc.timeline.model_copy(update={"step_s": step_s, "duration_s": duration_s})
    return sc.model_copy(update={"timeline": timeline})


def _maxrss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def _bench_default(console: Console, sc: Scenario, repeat: int) -> None:
    timing = _measure(sc, repeat)
    gc.collect()
    tracemalloc.start()
    try:
        run_twin(Twin(sc))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    table = Table(title=f"Default run: {sc.name} (median of {repeat})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("demand points", f"{timing.points}")
    table.add_row("steps", f"{timing.steps}")
    table.add_row("Twin build (s)", f"{timing.build_s:.3f}")
    table.add_row("Twin build, first in process: cold caches (s)", f"{timing.first_build_s:.3f}")
    table.add_row("run_twin (s)", f"{timing.run_s:.3f}")
    table.add_row("run_twin per step (ms)", f"{1e3 * timing.run_s / max(timing.steps, 1):.2f}")
    table.add_row("run / build ratio", f"{timing.run_s / timing.build_s:.2f}")
    table.add_row("peak Python heap, tracemalloc (build+run) (MiB)", f"{peak / 2**20:.1f}")
    table.add_row("peak process RSS, ru_maxrss (whole process) (MiB)", f"{_maxrss_mib():.1f}")
    console.print(table)


def _bench_points(console: Console, sc: Scenario, repeat: int, sizes: Sequence[int | None]) -> None:
    rows = [(n, _measure(_with_points(sc, n), repeat)) for n in sizes]
    table = Table(title=f"Scaling with demand points (median of {repeat})")
    for name in ("target_points", "points", "steps", "build (s)", "ms/step", "ratio"):
        table.add_column(name, justify="right")
    base = rows[0][1]
    base_per_point = base.run_s / max(base.steps, 1) / max(base.points, 1)
    for n, t in rows:
        per_step = t.run_s / max(t.steps, 1)
        ratio = per_step / max(t.points, 1) / base_per_point
        table.add_row(
            "cities" if n is None else f"{n}",
            f"{t.points}",
            f"{t.steps}",
            f"{t.build_s:.3f}",
            f"{1e3 * per_step:.2f}",
            f"{ratio:.2f}",
        )
    console.print(table)
    console.print("ratio = (run time per step / points) relative to the first (smallest) size")


def _bench_steps(console: Console, sc: Scenario, repeat: int, steps_s: Sequence[float]) -> None:
    rows = [(st, _measure(_with_timeline(sc, st, DAY_S), repeat)) for st in steps_s]
    table = Table(title=f"Scaling with steps over {DAY_S:.0f} s (median of {repeat})")
    for name in ("step_s", "steps", "points", "run (s)", "ms/step", "ratio"):
        table.add_column(name, justify="right")
    base_per_step = rows[0][1].run_s / max(rows[0][1].steps, 1)
    for st, t in rows:
        per_step = t.run_s / max(t.steps, 1)
        table.add_row(
            f"{st:.0f}",
            f"{t.steps}",
            f"{t.points}",
            f"{t.run_s:.3f}",
            f"{1e3 * per_step:.2f}",
            f"{per_step / base_per_step:.2f}",
        )
    console.print(table)
    console.print("ratio = run time per step relative to the first (fewest steps) row")


def _bench_traffic(console: Console, sc: Scenario, repeat: int, scales: Sequence[float]) -> None:
    tl = sc.timeline.model_copy(
        update={"start_hour_local": BUSY_HOUR, "duration_s": 3600.0, "step_s": 3600.0}
    )
    table = Table(title=f"Scaling with national traffic at {BUSY_HOUR:.0f} h (median of {repeat})")
    for name in ("scale", "offered (Tb/s)", "carried", "ms/step", "ratio"):
        table.add_column(name, justify="right")
    base = 0.0
    for k in scales:
        traffic = sc.traffic.model_copy(update={"scale": k})
        case = sc.model_copy(update={"timeline": tl, "traffic": traffic})
        twin = Twin(case)
        times = []
        kpis: dict[str, float] = {}
        for _ in range(repeat):
            t0 = time.perf_counter()
            kpis = run_twin(twin).summary["kpis"]
            times.append(time.perf_counter() - t0)
        run_s = statistics.median(times)
        base = base or run_s
        table.add_row(
            f"×{k:g}",
            f"{kpis['traffic_offered_tbps']:.1f}",
            f"{kpis['traffic_carried_share']:.4%}",
            f"{1e3 * run_s:.1f}",
            f"{run_s / base:.2f}",
        )
    console.print(table)
    console.print("ratio = run time of the step relative to ×1 (each a one-step run)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the engine benchmarks and print their tables; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scenario", default="japan-2030", help="built-in name or YAML path")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, fewer sizes (smoke)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else max(1, args.repeat)
    sc = load_scenario(args.scenario)
    console = Console(file=sys.stdout, width=120)
    console.print(f"tsunagu engine benchmarks: scenario={sc.name} repeat={repeat}")
    _bench_default(console, sc, repeat)
    _bench_points(console, sc, repeat, POINTS_QUICK if args.quick else POINTS)
    _bench_steps(console, sc, repeat, STEPS_S_QUICK if args.quick else STEPS_S)
    _bench_traffic(console, sc, repeat, TRAFFIC_SCALES_QUICK if args.quick else TRAFFIC_SCALES)
    return 0
