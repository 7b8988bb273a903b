"""RAN benchmarks: the TR 38.901 calibration drop and national coverage, with scaling tables.

Measured side by side in one process; medians and ratios printed, no absolute time asserted.

1. **Calibration drop** (19 sites × 3 sectors, wrap-around, ≥ 6,000 users):
   :func:`tsunagu.ran.calibration.run_calibration` against a per-user, per-link Python loop
   (the structure of event-driven simulators that evaluate one UE–cell link at a time, here
   with ``math`` scalars and the same TR 38.901 formulas), timed on a subset and extrapolated
   per link; the two must agree on the coupling gain of the subset.
2. **National coverage** of japan-2030 (≥ 1 M user points, > 1 M cells, nearest-21
   interference via ``cKDTree``): plan, link budget and totals; time and peak memory.
3. **Scaling**: seconds and peak traced memory against the number of user points.

``--quick`` shrinks every size (CI smoke run).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

__all__ = ["main"]


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _scalar_link_gain_db(
    dx: float, dy: float, h_ut: float, az_deg: float, f_ghz: float, los: bool
) -> float:
    """One UMa link, scalar: geometry, Table 7.4.1-1 path loss, Table 7.3-1 element × array."""
    d2d = max(math.hypot(dx, dy), 10.0)
    dh = 25.0 - h_ut
    d3d = math.hypot(d2d, dh)
    d_bp = 4.0 * 24.0 * (h_ut - 1.0) * f_ghz * 1e9 / 3e8
    if d2d <= d_bp:
        pl_los = 28.0 + 22.0 * math.log10(d3d) + 20.0 * math.log10(f_ghz)
    else:
        pl_los = (
            28.0
            + 40.0 * math.log10(d3d)
            + 20.0 * math.log10(f_ghz)
            - 9.0 * math.log10(d_bp**2 + dh**2)
        )
    pl = pl_los
    if not los:
        nlos = 13.54 + 39.08 * math.log10(d3d) + 20.0 * math.log10(f_ghz) - 0.6 * (h_ut - 1.5)
        pl = max(pl_los, nlos)
    theta = math.degrees(math.atan2(d2d, -dh))
    phi = (math.degrees(math.atan2(dy, dx)) - az_deg + 180.0) % 360.0 - 180.0
    a_v = -min(12.0 * ((theta - 90.0) / 65.0) ** 2, 30.0)
    a_h = -min(12.0 * (phi / 65.0) ** 2, 30.0)
    elem = -min(-(a_v + a_h), 30.0) + 8.0
    psi = math.pi * (math.cos(math.radians(theta)) - math.cos(math.radians(102.0)))
    num = math.sin(10 * psi / 2.0) ** 2
    den = 10 * math.sin(psi / 2.0) ** 2
    af = 10.0 if abs(math.sin(psi / 2.0)) < 1e-9 else num / den
    return elem + 10.0 * math.log10(max(af, 1e-30)) - pl


def _bench_calibration(console: Console, sizes: Sequence[int], repeat: int) -> None:
    from tsunagu.ran.calibration import calibration_drop, run_calibration
    from tsunagu.ran.sinr import link_geometry

    run_calibration("uma", 6.0, n_users=600, seed=1)  # warm-up (imports, itur)
    t = Table(title="TR 38.901 calibration drop (UMa 6 GHz, 19 sites × 3 sectors, wrap-around)")
    for c in (
        "users",
        "links",
        "wall (s)",
        "CPU (s)",
        "µs/link",
        "peak traced (MB)",
        "max |err| (dB)",
    ):
        t.add_column(c, justify="right")
    rows = []
    for n in sizes:
        c0 = time.process_time()
        s = _median_s(lambda n=n: run_calibration("uma", 6.0, n_users=n, seed=1), repeat)
        cpu = (time.process_time() - c0) / repeat
        mb = _peak_mb(lambda n=n: run_calibration("uma", 6.0, n_users=n, seed=1))
        err = run_calibration("uma", 6.0, n_users=n, seed=1).max_abs_error_db()
        links = n * 57 * 7
        rows.append((n, cpu, links))
        t.add_row(
            f"{n:,}",
            f"{links:,}",
            f"{s:.3f}",
            f"{cpu:.3f}",
            f"{s / links * 1e6:.3f}",
            f"{mb:,.0f}",
            f"{err:.2f}",
        )
    console.print(t)

    # Per-link scalar loop on a subset (deterministic LOS mix: every link NLOS-or-LOS by index).
    drop = calibration_drop("uma", 6.0, n_users=200, seed=1)
    cells = drop.cells
    idx = np.broadcast_to(np.arange(cells.n_cells), (200, cells.n_cells))
    d2d, _, az, _ = link_geometry(drop.ue_xy_m, drop.ue_height_m, cells, idx, drop.wrap_shifts_m)
    dx = d2d * np.cos(np.radians(az))
    dy = d2d * np.sin(np.radians(az))

    def scalar() -> list[float]:
        out = []
        for u in range(200):
            for c in range(cells.n_cells):
                out.append(
                    _scalar_link_gain_db(
                        float(dx[u, c]),
                        float(dy[u, c]),
                        float(drop.ue_height_m[u]),
                        float(cells.azimuth_deg[c]),
                        6.0,
                        (u + c) % 2 == 0,
                    )
                )
        return out

    c0 = time.process_time()
    scalar()
    t_scalar = (time.process_time() - c0) / (200 * cells.n_cells)
    # Same links through the vectorised model functions: the two must agree.
    from tsunagu.ran import antenna
    from tsunagu.ran import pathloss as pl

    los = (np.arange(200)[:, None] + np.arange(cells.n_cells)[None, :]) % 2 == 0
    h_ut = np.broadcast_to(drop.ue_height_m[:, None], d2d.shape)
    zen = np.degrees(np.arctan2(np.maximum(d2d, 10.0), h_ut - 25.0))
    vec = antenna.sector_gain_dbi(zen, az - cells.azimuth_deg[None, :]) - pl.pathloss_db(
        "uma", d2d, None, 6.0, los, 25.0, h_ut
    )
    diff = float(np.max(np.abs(vec.ravel() - np.asarray(scalar()))))
    n_big, s_big, links_big = rows[-1]
    per_link = s_big / links_big
    r = Table(title="Per-link CPU cost: vectorised drop vs per-UE/per-cell scalar loop")
    for c in ("method", "CPU µs per link", "ratio"):
        r.add_column(c, justify="right")
    r.add_row("scalar Python loop (200 UEs × 57 cells)", f"{t_scalar * 1e6:.2f}", "1")
    r.add_row(
        f"tsunagu run_calibration ({n_big:,} UEs, incl. 7 wrap images, SF, LOS, O2I)",
        f"{per_link * 1e6:.3f}",
        f"{t_scalar / per_link:,.0f}× faster",
    )
    console.print(r)
    console.print(f"scalar vs vectorised coupling gain on the subset: max |Δ| = {diff:.2e} dB")


def _bench_national(console: Console, sizes: Sequence[int], workers: int) -> None:
    from tsunagu.ran.coverage import HapsSite, demand_areas, national_coverage, plan_national_cells
    from tsunagu.scenario.loader import load_scenario

    sc = load_scenario("japan-2030")
    t0 = time.perf_counter()
    demand = demand_areas(sc.demand.min_city_population, sc.demand.max_points)
    haps = [HapsSite(h.name, h.lat_deg, h.lon_deg, h.coverage_radius_km) for h in sc.ntn.haps]
    t_demand = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan = plan_national_cells(sc.ran, demand, haps)
    t_plan = time.perf_counter() - t0
    console.print(
        f"japan-2030 plan: {len(demand.population)} demand points ({t_demand:.2f} s), "
        f"{plan.n_cells:,} cells in {len(plan.layers)} layers ({t_plan:.2f} s) · "
        f"workers={workers} · nearest-21 interference (cKDTree)"
    )
    t = Table(title="National coverage scaling (japan-2030, link budget + PF rates + totals)")
    for c in (
        "user points",
        "wall (s)",
        "CPU (s)",
        "µs per user",
        "peak traced (MB)",
        "pop ≥ 10 Mb/s",
        "pop ≥ 100 Mb/s",
    ):
        t.add_column(c, justify="right")
    for n in sizes:
        t0 = time.perf_counter()
        c0 = time.process_time()
        res = national_coverage(
            sc.ran, demand, haps, n_user_points=n, seed=2030, cells=plan, workers=workers
        )
        s = time.perf_counter() - t0
        cpu = time.process_time() - c0
        mb = _peak_mb(
            lambda n=n: national_coverage(
                sc.ran, demand, haps, n_user_points=n, seed=2030, cells=plan, workers=workers
            )
        )
        t.add_row(
            f"{n:,}",
            f"{s:.2f}",
            f"{cpu:.2f}",
            f"{s / n * 1e6:.1f}",
            f"{mb:,.0f}",
            f"{100 * res.pop_share[1]:.1f} %",
            f"{100 * res.pop_share[2]:.1f} %",
        )
    console.print(t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(
        f"end-to-end at {sizes[-1]:,} users = demand + plan + the last row · process ru_maxrss "
        f"{rss:,.0f} MB (target ≤ 60 s and ≤ 4 GB on 2 cores) · CPU s = all threads; on a busy "
        f"machine wall > CPU/workers · load average {os.getloadavg()[0]:.1f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks ran", description=__doc__)
    p.add_argument("--quick", action="store_true", help="Small sizes (smoke run).")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args, _ = p.parse_known_args(list(argv) if argv is not None else None)
    console = Console()
    if args.quick:
        _bench_calibration(console, [1_000, 6_000], repeat=1)
        _bench_national(console, [10_000, 30_000], args.workers)
    else:
        _bench_calibration(console, [6_000, 20_000, 60_000], repeat=3)
        _bench_national(console, [100_000, 300_000, 1_000_000], args.workers)
    return 0
