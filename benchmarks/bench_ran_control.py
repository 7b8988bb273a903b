"""RAN control and spectrum-sharing benchmarks: energy saved, SLA held, and how cost grows.

Measured side by side in one run (medians and ratios; nothing asserts a time):

1. controllers over a day on the same layouts and seeds: always-on (reference), the rule-based
   threshold baseline and the MILP optimiser — energy, saving, SE, SLA violations, act() time;
2. scaling of one environment step and of one MILP decision with the layout size;
3. the sharing manager: the vectorised incumbent × transmitter coupling against a per-pair
   Python loop (the way a straightforward implementation computes it), and decide() time as
   transmitters and incumbents grow.
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

from tsunagu.ran.control import MilpEnergyController, compare_controllers
from tsunagu.ran.energy import BsState
from tsunagu.ran.environment import Action, EnvironmentConfig, RanEnvironment
from tsunagu.ran.sharing import (
    ImtTransmitters,
    IncumbentRegistry,
    coupling_mw,
    decide,
    free_space_loss_db,
    p2108_terrestrial_clutter_db,
)
from tsunagu.sim.demand import PROFILES

__all__ = ["main"]

PROFILE = tuple(float(x) for x in PROFILES["residential"])


def _bench_controllers(console: Console, rings: int, seeds: int) -> None:
    cfg = EnvironmentConfig(hourly_profile=PROFILE, n_rings=rings)
    t0 = time.perf_counter()
    cmp = compare_controllers(cfg, ["always-on", "threshold", "milp"], list(range(seeds)))
    wall = time.perf_counter() - t0
    s = cmp.summary(reference="always-on")
    sites = 1 + 3 * rings * (rings + 1)
    table = Table(
        title=f"Controllers over a day: {sites} sites × 3 sectors × 3 carriers, hourly, "
        f"{seeds} seeds (TR 38.864 power)"
    )
    for col in (
        "controller",
        "energy kWh/day",
        "saving % (min–max)",
        "SE b/s/Hz",
        "SLA viol. (share)",
        "served",
        "cells on",
        "act() median ms",
    ):
        table.add_column(col, justify="left" if col == "controller" else "right")
    for name, row in s.items():
        table.add_row(
            name,
            f"{row['energy_kwh']:.1f}",
            f"{row['saving_pct']:.1f} ({row['saving_min_pct']:.1f}–{row['saving_max_pct']:.1f})",
            f"{row['se_bps_per_hz']:.3f}",
            f"{row['sla_violations']:.0f} ({row['sla_violation_share']:.3%})",
            f"{row['served_share']:.4%}",
            f"{row['active_cell_share']:.1%}",
            f"{row['act_median_s'] * 1e3:.1f}",
        )
    console.print(table)
    per_seed = {
        n: ([round(e.energy_kwh, 1) for e in eps], [int(e.sla_violations.sum()) for e in eps])
        for n, eps in cmp.episodes.items()
    }
    for n, (e, v) in per_seed.items():
        console.print(f"  {n:10s} energy kWh per seed {e}  SLA violations per seed {v}")
    ratio = s["milp"]["energy_kwh"] / s["threshold"]["energy_kwh"]
    console.print(
        f"ratio energy milp / threshold = {ratio:.3f}; "
        f"SLA violations milp {s['milp']['sla_violations']:.0f} vs threshold "
        f"{s['threshold']['sla_violations']:.0f}; wall {wall:.1f} s"
    )


def _bench_scaling(console: Console, rings_list: Sequence[int], repeat: int) -> None:
    table = Table(title="Scaling with layout size (one step at the evening peak)")
    for col in ("rings", "sites", "cells", "UE points", "env.step ms", "MILP act ms", "ratio"):
        table.add_column(col, justify="right")
    base = None
    for rings in rings_list:
        cfg = EnvironmentConfig(hourly_profile=PROFILE, n_rings=rings)
        env = RanEnvironment(cfg, 0)
        on = np.full(env.n_cells, int(BsState.ACTIVE))
        steps, acts = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            prev = env.step(20, Action(state=on), on)
            steps.append(time.perf_counter() - t0)
            ctl = MilpEnergyController()
            ctl.reset(env.info)
            t0 = time.perf_counter()
            ctl.act(env.observation(21, prev))
            acts.append(time.perf_counter() - t0)
        st, ac = statistics.median(steps), statistics.median(acts)
        base = base or ac
        table.add_row(
            str(rings),
            str(env.sites_m.shape[0]),
            str(env.n_cells),
            str(env.points_m.shape[0]),
            f"{st * 1e3:.1f}",
            f"{ac * 1e3:.0f}",
            f"{ac / base:.1f}",
        )
    console.print(table)
    console.print("ratio = MILP act() time relative to the smallest layout")


def _world(n_inc: int, n_tx: int, seed: int = 0) -> tuple[IncumbentRegistry, ImtTransmitters]:
    rng = np.random.default_rng(seed)
    reg = IncumbentRegistry()
    for i in range(n_inc):
        reg = reg.register(
            f"fpu{i}",
            "broadcast_fpu",
            35.68 + rng.uniform(-0.3, 0.3),
            139.77 + rng.uniform(-0.3, 0.3),
            2330e6 + 10e6 * (i % 4),
            2340e6 + 10e6 * (i % 4),
            -110.0,
        )
    ch = rng.integers(0, 4, n_tx)
    tx = ImtTransmitters.from_arrays(
        35.68 + rng.uniform(-1.5, 1.5, n_tx),
        139.77 + rng.uniform(-1.5, 1.5, n_tx),
        46.0,
        2330e6 + 10e6 * ch,
        2340e6 + 10e6 * ch,
    )
    return reg, tx


def _loop_coupling(reg: IncumbentRegistry, tx: ImtTransmitters) -> np.ndarray:
    """Per-pair Python loop computing the same coupling (the baseline)."""
    import math

    out = np.zeros((len(reg), len(tx)))
    for i in range(len(reg)):
        for j in range(len(tx)):
            p1, p2 = math.radians(reg.lat_deg[i]), math.radians(tx.lat_deg[j])
            dl = math.radians(tx.lon_deg[j] - reg.lon_deg[i])
            a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
            d = 2 * 6_371_008.8 * math.asin(math.sqrt(a))
            d3 = math.hypot(d, reg.height_m[i] - tx.height_m[j])
            f = 0.5 * (tx.freq_lo_hz[j] + tx.freq_hi_hz[j])
            loss = float(free_space_loss_db(max(d3, 1.0), f)) + float(
                p2108_terrestrial_clutter_db(f / 1e9, d / 1e3, 100.0 - reg.percentile[i])
            )
            bw = tx.freq_hi_hz[j] - tx.freq_lo_hz[j]
            ov = max(
                0.0,
                min(reg.freq_hi_hz[i], tx.freq_hi_hz[j]) - max(reg.freq_lo_hz[i], tx.freq_lo_hz[j]),
            )
            out[i, j] = 10 ** ((tx.eirp_dbm[j] + reg.rx_gain_dbi[i] - loss) / 10) * ov / bw
    return out


def _bench_sharing(console: Console, quick: bool, repeat: int) -> None:
    reg, tx = _world(10, 200 if quick else 1000)
    t0 = time.perf_counter()
    slow = _loop_coupling(reg, tx)
    t_loop = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fast = coupling_mw(reg, tx)
        times.append(time.perf_counter() - t0)
    t_vec = statistics.median(times)
    inband = slow > 0.0
    err_db = np.max(np.abs(10 * np.log10(fast[inband] / slow[inband])))
    console.print(
        f"Coupling {len(reg)} incumbents × {len(tx)} transmitters: "
        f"per-pair loop {t_loop * 1e3:.0f} ms, vectorised {t_vec * 1e3:.2f} ms, "
        f"ratio {t_loop / t_vec:.0f}×, max difference {err_db:.2e} dB"
    )
    table = Table(title="Sharing manager decide() (coupling computed once per geometry)")
    for col in (
        "incumbents",
        "transmitters",
        "coupling ms",
        "decide ms",
        "granted",
        "limited",
        "revoked",
    ):
        table.add_column(col, justify="right")
    sizes = [(10, 1_000), (50, 10_000)] if quick else [(10, 1_000), (50, 10_000), (100, 50_000)]
    for n_inc, n_tx in sizes:
        reg, tx = _world(n_inc, n_tx, 1)
        t0 = time.perf_counter()
        g = coupling_mw(reg, tx)
        tc = time.perf_counter() - t0
        ds = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            d = decide(reg, tx, 0.0, coupling=g)
            ds.append(time.perf_counter() - t0)
        st = d.status
        table.add_row(
            str(n_inc),
            f"{n_tx:,}",
            f"{tc * 1e3:.1f}",
            f"{statistics.median(ds) * 1e3:.1f}",
            str(int(np.sum(st == "granted"))),
            str(int(np.sum(st == "limited"))),
            str(int(np.sum(st == "revoked"))),
        )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the RAN control and sharing benchmarks; ``--quick`` for a smoke run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks ran_control", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="7 sites, 2 seeds, fewer sizes")
    parser.add_argument("--seeds", type=int, default=5, help="seeds for the controller table")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per timing (median)")
    args, _ = parser.parse_known_args(list(argv) if argv is not None else None)
    console = Console(file=sys.stdout, width=140)
    repeat = 1 if args.quick else max(1, args.repeat)
    console.print("tsunagu RAN control and spectrum-sharing benchmarks")
    _bench_controllers(console, rings=1 if args.quick else 2, seeds=2 if args.quick else args.seeds)
    _bench_scaling(console, (0, 1) if args.quick else (0, 1, 2, 3), repeat)
    _bench_sharing(console, args.quick, repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
