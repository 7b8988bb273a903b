"""Orchestration benchmarks: online intent admission rate, and planning MILP vs greedy.

Everything is measured side by side in one run and reported as medians and ratios; nothing
here asserts an absolute time. Three groups:

1. **online intents** on the scenario (default japan-2030): intents admitted or rejected per
   second by :class:`~tsunagu.orchestrate.admission.OnlineAdmission` for each built-in policy,
   with capacity bookkeeping and release, at the nominal request rates (0.5–2 requests/s per
   session) and at 400 times them (capacity rejects most intents);
2. **heuristic gap on the scenario**: the scenario's aggregate demand at the evening peak as a
   placement problem, solved by the MILP (HiGHS) and by the greedy heuristic; the greedy's gap
   to the MILP's incumbent and, an upper bound on its true gap, to HiGHS's dual bound;
3. **MILP scaling**: synthetic Japan-like instances (demand points and sites drawn in Japan's
   bounding box, fibre latency over 1.5× great-circle routes, four services, capacity at 80 % of
   demand so that it binds) as demand points and sites grow.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

from tsunagu.compute.carbon import load_carbon_intensity
from tsunagu.compute.services import load_service_profiles
from tsunagu.orchestrate.admission import OnlineAdmission
from tsunagu.orchestrate.intents import IntentBatch, make_intents
from tsunagu.orchestrate.planning import (
    PlanningProblem,
    aggregate_problem,
    plan_greedy,
    plan_milp,
)
from tsunagu.orchestrate.view import NetworkView, view_from_twin
from tsunagu.scenario import load_scenario
from tsunagu.sim.twin import Twin

__all__ = ["main"]

POLICIES = ("latency-first", "energy-first", "carbon-first")
SCALING = ((50, 4), (100, 8), (200, 12), (400, 16), (800, 24))
SCALING_QUICK = ((25, 3), (50, 6))


def _intents(view: NetworkView, n: int, seed: int, load_factor: float) -> IntentBatch:
    """``n`` intents over 100 s from random demand points: mixed services, SLAs and devices."""
    rng = np.random.default_rng(seed)
    prof = load_service_profiles()
    names = sorted(prof)
    parts = []
    arrival = np.sort(rng.uniform(0.0, 100.0, n))
    which = rng.integers(0, len(names), n)
    for k, name in enumerate(names):
        idx = np.flatnonzero(which == k)
        if idx.size == 0:
            continue
        parts.append(
            make_intents(
                view,
                rng.integers(0, view.n_points, idx.size),
                prof[name],
                # SLA: the service's processing time plus a network budget of 2 to 200 ms.
                sla_latency_ms=prof[name].latency_s * 1e3
                + rng.choice([2.0, 5.0, 20.0, 200.0], idx.size),
                percentile=rng.choice([0.5, 0.95, 0.99], idx.size),
                availability=rng.choice([0.0, 0.999], idx.size),
                bandwidth_bps=rng.choice([1e6, 20e6, 200e6], idx.size),
                request_rate_per_s=rng.uniform(0.5, 2.0, idx.size) * load_factor,
                arrival_s=arrival[idx],
                holding_s=rng.exponential(30.0, idx.size),
            )
        )
    cols = {
        f: np.concatenate([getattr(p, f) for p in parts]) for f in IntentBatch.__dataclass_fields__
    }
    order = np.argsort(cols["arrival_s"], kind="stable")
    return IntentBatch(**{k: v[order] for k, v in cols.items()})


def _bench_online(console: Console, view: NetworkView, n: int, repeat: int) -> None:
    table = Table(title=f"Online intents on {view.n_points} points × {view.n_sites} sites")
    for col in ("policy", "load", "intents", "admitted", "binding: top", "median (s)", "intents/s"):
        table.add_column(col, justify="right")
    for load_name, factor in (("rate ×1", 1.0), ("rate ×400", 400.0)):
        batch = _intents(view, n, seed=1, load_factor=factor)
        for name in POLICIES:
            times = []
            for _ in range(repeat):
                adm = OnlineAdmission(view, name)
                t0 = time.perf_counter()
                res = adm.admit(batch)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            codes = res.constraint_names()[~res.admitted]
            top = ""
            if codes.size:
                u, c = np.unique(codes, return_counts=True)
                top = f"{u[np.argmax(c)]} ({c.max() / n:.0%})"
            table.add_row(
                name,
                load_name,
                f"{n:,}",
                f"{res.admitted.mean():.1%}",
                top,
                f"{med:.3f}",
                f"{n / med:,.0f}",
            )
    console.print(table)
    console.print(
        "intents/s counts option evaluation (latency at the SLA percentile, availability, "
        "energy, carbon per access × site) plus admission with capacity booking and release; "
        "target ≥ 1,000/s"
    )


def _gap_row(table: Table, label: str, problem: PlanningProblem, limit_s: float) -> None:
    m = plan_milp(problem, time_limit_s=limit_s, mip_rel_gap=1e-4)
    source = m.method.removeprefix("milp (").rstrip(")")
    g = plan_greedy(problem)
    to_incumbent = (g.objective - m.objective) / abs(m.objective)
    to_bound = (g.objective - m.bound) / abs(g.objective) if np.isfinite(m.bound) else np.nan
    table.add_row(
        label,
        f"{problem.n_flows:,}",
        f"{m.runtime_s:.2f}",
        ("yes" if m.optimal else "time limit") + f" · {source}",
        f"{m.gap:.2e}",
        f"{g.runtime_s * 1e3:.1f}",
        f"{m.runtime_s / max(g.runtime_s, 1e-9):,.0f}",
        f"{m.served_share:.1%} / {g.served_share:.1%}",
        f"{to_incumbent:+.3%}",
        f"{to_bound:.3%}",
    )


def _gap_table(title: str) -> Table:
    table = Table(title=title)
    for col in (
        "case",
        "flows",
        "MILP (s)",
        "optimal · plan from",
        "MILP gap",
        "greedy (ms)",
        "time ratio",
        "served MILP / greedy",
        "greedy vs MILP",
        "greedy gap ≤",
    ):
        table.add_column(col, justify="right")
    return table


def _bench_scenario_gap(
    console: Console, twin: Twin, view: NetworkView, limit_s: float, quick: bool
) -> None:
    table = _gap_table(f"Heuristic gap on {twin.scenario.name} at the 20:00 peak")
    cases = (
        [("carbon", 1.0)] if quick else [(o, s) for s in (1.0, 3.0) for o in ("carbon", "energy")]
    )
    for objective, scale in cases:
        problem = aggregate_problem(twin, view, 20.0, objective, scale)  # type: ignore[arg-type]
        _gap_row(table, f"{objective}, demand ×{scale:g}", problem, limit_s)
    console.print(table)
    console.print(
        "MILP = best of HiGHS's incumbent, the greedy and LP rounding (source after '·'); "
        "greedy vs MILP = (greedy − MILP)/MILP; greedy gap ≤ = (greedy − HiGHS dual bound)/"
        "greedy, an upper bound on the greedy's distance from the optimum"
    )


def _synthetic(points: int, sites: int, seed: int) -> PlanningProblem:
    rng = np.random.default_rng(seed)
    lat_p = rng.uniform(31.0, 43.5, points)
    lon_p = rng.uniform(129.5, 145.0, points)
    lat_s = rng.uniform(31.0, 43.5, sites)
    lon_s = rng.uniform(129.5, 145.0, sites)
    from tsunagu.geo import great_circle_m

    d = great_circle_m(lat_p[:, None], lon_p[:, None], lat_s[None, :], lon_s[None, :])
    one_way = 1.5 * d * 1.468 / 299_792_458.0
    services = np.array([0.34, 2.9, 0.0486, 0.0486])  # Wh per request (see data/SOURCES.md)
    proc = np.array([0.5, 4.0, 0.05, 0.03])
    sla = np.array([0.8, 6.0, 0.062, 0.040])
    rps = rng.lognormal(0.0, 1.0, (points, 4)) * np.array([50.0, 2.0, 20.0, 20.0])
    ci = np.array(list(load_carbon_intensity().values()))
    site_ci = rng.choice(ci, sites)
    pue = rng.uniform(1.1, 1.5, sites)
    flow_k = np.tile(np.arange(4), points)
    gpu_s = 3600.0 * services / 700.0
    load = rps.ravel() * gpu_s[flow_k]
    return PlanningProblem(
        demand_rps=rps.ravel(),
        load_gpu=load,
        capacity_gpu=np.full(sites, 0.8 * load.sum() / sites),
        latency_s=np.repeat(2.0 * one_way, 4, axis=0) + proc[flow_k][:, None],
        sla_s=sla[flow_k],
        cost_per_request=(services[flow_k][:, None] * pue[None, :]) * site_ci[None, :] / 1e3,
    )


def _bench_scaling(console: Console, sizes: Sequence[tuple[int, int]], limit_s: float) -> None:
    table = _gap_table("Planning MILP scaling (synthetic, capacity at 80 % of demand)")
    base = None
    for points, sites in sizes:
        problem = _synthetic(points, sites, seed=points * 1000 + sites)
        t0 = time.perf_counter()
        _gap_row(table, f"{points} points × {sites} sites", problem, limit_s)
        if base is None:
            base = time.perf_counter() - t0
    console.print(table)
    console.print(
        f"HiGHS time limit {limit_s:g} s per solve; 'time limit' rows report the incumbent and "
        "HiGHS's gap at the limit"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the orchestration benchmarks and print their tables; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks orchestrate", description=__doc__)
    parser.add_argument("--scenario", default="japan-2030", help="built-in name or YAML path")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, small sizes (smoke)")
    parser.add_argument("--intents", type=int, default=100_000, help="intents per online run")
    parser.add_argument("--milp-time-limit", type=float, default=60.0, help="HiGHS limit, s")
    args, _ = parser.parse_known_args(argv)
    repeat = 1 if args.quick else max(1, args.repeat)
    n = min(args.intents, 10_000) if args.quick else args.intents
    limit = min(args.milp_time_limit, 10.0) if args.quick else args.milp_time_limit
    console = Console(file=sys.stdout, width=160)
    sc = load_scenario(args.scenario)
    t0 = time.perf_counter()
    twin = Twin(sc)
    t1 = time.perf_counter()
    view = view_from_twin(twin, 0.0)
    t2 = time.perf_counter()
    console.print(
        f"tsunagu orchestration benchmarks: scenario={sc.name} repeat={repeat} · Twin build "
        f"{t1 - t0:.2f} s · network view {1e3 * (t2 - t1):.1f} ms"
    )
    _bench_online(console, view, n, repeat)
    _bench_scenario_gap(console, twin, view, limit, args.quick)
    _bench_scaling(console, SCALING_QUICK if args.quick else SCALING, limit)
    return 0
