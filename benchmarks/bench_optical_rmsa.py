"""Flexgrid RMSA benchmarks: requests per second, side by side with an array baseline, and scaling.

Everything is measured in one process on one core and reported as medians and ratios; nothing
asserts an absolute time. Three groups:

1. **NSFNET, DeepRMSA setting** (14 nodes, 44 directed links, 100 units, k = 5, 250 Erlang):
   requests/s of :func:`tsunagu.optical.rmsa.simulate_dynamic` per spectrum policy, next to a
   conventional NumPy implementation of KSP-FF (boolean ``(links, units)`` occupancy, path
   availability by ``any`` over the path's rows, first fit by a sliding-window ``all`` and
   ``argmax``) run on the same requests — both must block exactly the same requests. The
   target from the issue is 15,000 requests/s on one core; XLRON reports ≈ 1.5e4 environment
   steps/s on one CPU core without QoT (REFERENCES "Optical / APN").
2. **Network size**: Gabriel graphs of 25/50/100 nodes from ``topohub`` plus NSFNET, JPN12 and
   SINET at a load of 8 Erlang per link: candidate-path precomputation time and requests/s.
3. **Slot units per link**: NSFNET with 100, 384 (4.8 THz C band) and 768 (C+L) units at a load
   scaled with the units.
4. **Multi-operator DCI planning** on japan-2030 (JPN12 as operator A, SINET as operator B):
   400 Gb/s lightpaths between the home ROADMs of every pair of compute sites, repeated 1, 2
   and 4 times (the spectrum fills up): planning time per lightpath, served and blocked.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from rich.console import Console
from rich.table import Table

from tsunagu.optical.rmsa import (
    NO_SPECTRUM,
    SERVED,
    RmsaNetwork,
    build_rmsa_network,
    load_nsfnet,
    registered_spectrum_policies,
    resolve_topology,
    simulate_dynamic,
)
from tsunagu.optical.topology import Topology, load_topohub
from tsunagu.optical.traffic import Requests, poisson_requests

__all__ = ["main", "numpy_ksp_ff"]

TARGET_REQ_PER_S = 15_000.0
XLRON_CPU_STEPS_PER_S = 1.5e4


def numpy_ksp_ff(net: RmsaNetwork, reqs: Requests, warmup: int) -> tuple[np.ndarray, float]:
    """The array baseline: KSP-FF with a boolean occupancy matrix. Returns (reason, seconds)."""
    import heapq

    t0 = time.perf_counter()
    occ = np.zeros((net.n_links, net.n_slots), dtype=bool)
    widths = net.slots_for(reqs.src, reqs.dst, reqs.bit_rate_bps)
    pair = reqs.src * net.n_nodes + reqs.dst
    leave = reqs.arrival_s + reqs.holding_s
    reason = np.zeros(len(reqs), dtype=np.int64)
    held: list[tuple[float, int, np.ndarray, int, int]] = []
    for i in range(len(reqs)):
        t = reqs.arrival_s[i]
        while held and held[0][0] <= t:
            _, _, links, s, w = heapq.heappop(held)
            occ[np.ix_(links, np.arange(s, s + w))] = False
        done = False
        for p, path in enumerate(net.path_links[int(pair[i])]):
            w = int(widths[i, p])
            if w <= 0:
                continue
            links = np.array(path, dtype=np.int64)
            free = ~occ[links].any(axis=0)
            if w > free.size:
                continue
            ok = sliding_window_view(free, w).all(axis=1)
            if ok.any():
                s = int(np.argmax(ok))
                occ[np.ix_(links, np.arange(s, s + w))] = True
                heapq.heappush(held, (float(leave[i]), i, links, s, w))
                done = True
                break
        reason[i] = SERVED if done else NO_SPECTRUM
    return reason, time.perf_counter() - t0


def _rate(net: RmsaNetwork, reqs: Requests, policy: str, repeat: int) -> tuple[float, float]:
    times = []
    bp = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = simulate_dynamic(net, reqs, policy, warmup=min(3000, len(reqs) // 4))
        times.append(time.perf_counter() - t0)
        bp = res.blocking_probability
    return len(reqs) / statistics.median(times), bp


def _bench_nsfnet(console: Console, n_req: int, repeat: int) -> None:
    net = build_rmsa_network(load_nsfnet(), k=5, n_slots=100)
    reqs = poisson_requests(
        n_req, 250.0, 14, np.random.default_rng(1), mean_holding_s=25.0, truncate_holding=True
    )
    t = Table(title=f"NSFNET DeepRMSA setting, 250 Erlang, {n_req:,} requests (median of {repeat})")
    for col in ("implementation", "requests/s", "× target 15k/s", "× XLRON CPU", "blocking"):
        t.add_column(col, justify="left" if col == "implementation" else "right")
    warm = min(3000, n_req // 4)
    base_times = []
    base_reason = np.zeros(0, dtype=np.int64)
    for _ in range(repeat):
        base_reason, sec = numpy_ksp_ff(net, reqs, warm)
        base_times.append(sec)
    base_rate = n_req / statistics.median(base_times)
    ours = simulate_dynamic(net, reqs, "ksp-ff", warmup=warm)
    same = bool(np.array_equal(ours.reason != SERVED, base_reason != SERVED))
    rates = {}
    for name in registered_spectrum_policies():
        if name.startswith("test-"):
            continue
        rate, bp = _rate(net, reqs, name, repeat)
        rates[name] = rate
        t.add_row(
            f"tsunagu {name}",
            f"{rate:,.0f}",
            f"{rate / TARGET_REQ_PER_S:.1f}",
            f"{rate / XLRON_CPU_STEPS_PER_S:.1f}",
            f"{bp:.3%}",
        )
    base_bp = float(np.mean(base_reason[warm:] != SERVED))
    t.add_row(
        "NumPy bool-array KSP-FF",
        f"{base_rate:,.0f}",
        f"{base_rate / TARGET_REQ_PER_S:.2f}",
        f"{base_rate / XLRON_CPU_STEPS_PER_S:.2f}",
        f"{base_bp:.3%}",
    )
    console.print(t)
    console.print(
        f"ksp-ff bitmask / NumPy array baseline: {rates['ksp-ff'] / base_rate:.1f}× "
        f"(same blocked requests: {same})"
    )


def _bench_size(console: Console, quick: bool, repeat: int) -> None:
    cases: list[tuple[str, Topology]] = [
        ("jpn12", resolve_topology("jpn12")),
        ("nsfnet", load_nsfnet()),
        ("gabriel-25", load_topohub("gabriel/25/0")),
        ("sinet", resolve_topology("sinet")),
        ("gabriel-50", load_topohub("gabriel/50/0")),
    ]
    if not quick:
        cases.append(("gabriel-100", load_topohub("gabriel/100/0")))
    t = Table(title="Scaling with network size (k = 5, 100 units, 8 Erlang per link, ksp-ff)")
    for col in ("network", "nodes", "links", "pairs", "paths build (s)", "requests/s", "blocking"):
        t.add_column(col, justify="left" if col == "network" else "right")
    n_req = 10_000 if quick else 40_000
    for name, topo in cases:
        t0 = time.perf_counter()
        net = build_rmsa_network(topo, k=5, n_slots=100)
        build = time.perf_counter() - t0
        n = net.n_nodes
        reqs = poisson_requests(n_req, 8.0 * (net.n_links // 2), n, np.random.default_rng(3))
        rate, bp = _rate(net, reqs, "ksp-ff", repeat)
        t.add_row(
            name,
            str(n),
            str(net.n_links // 2),
            f"{n * (n - 1):,}",
            f"{build:.2f}",
            f"{rate:,.0f}",
            f"{bp:.3%}",
        )
    console.print(t)


def _bench_slots(console: Console, quick: bool, repeat: int) -> None:
    t = Table(title="Scaling with slot units per link (NSFNET, k = 5, ksp-ff)")
    for col in ("units", "load (E)", "requests/s", "blocking"):
        t.add_column(col, justify="right")
    n_req = 10_000 if quick else 40_000
    topo = load_nsfnet()
    for units in (100, 384, 768):
        net = build_rmsa_network(topo, k=5, n_slots=units)
        load = 250.0 * units / 100
        reqs = poisson_requests(n_req, load, 14, np.random.default_rng(5), truncate_holding=True)
        rate, bp = _rate(net, reqs, "ksp-ff", repeat)
        t.add_row(str(units), f"{load:g}", f"{rate:,.0f}", f"{bp:.3%}")
    console.print(t)


def _bench_multidomain(console: Console, quick: bool, repeat: int) -> None:
    import itertools

    from tsunagu.optical.domain import build_backbone, nearest_homes
    from tsunagu.optical.multidomain import plan_interdomain_lightpaths
    from tsunagu.scenario import load_scenario

    sc = load_scenario("japan-2030")
    bb = build_backbone(sc.optical)
    sites = sc.compute.sites
    idx, _ = nearest_homes([x.lat_deg for x in sites], [x.lon_deg for x in sites], bb, k=1)
    home = bb.node_name[idx[:, 0]].astype(str)
    pairs = [(a, b) for a, b in itertools.combinations(range(len(sites)), 2) if home[a] != home[b]]
    t = Table(title="Multi-operator DCI lightpaths on japan-2030 (400 Gb/s, ksp-ff, 384 units)")
    for col in ("demands", "plan (s)", "ms/lightpath", "served", "no spectrum", "other"):
        t.add_column(col, justify="right")
    for times in (1, 2) if quick else (1, 2, 4):
        src = [home[a] for a, _ in pairs] * times
        dst = [home[b] for _, b in pairs] * times
        secs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            plan = plan_interdomain_lightpaths(bb, src, dst, [400e9] * len(src))
            secs.append(time.perf_counter() - t0)
        sec = statistics.median(secs)
        counts = np.bincount(plan.reason, minlength=4)
        t.add_row(
            str(len(src)),
            f"{sec:.3f}",
            f"{1e3 * sec / len(src):.2f}",
            str(counts[SERVED]),
            str(counts[NO_SPECTRUM]),
            str(int(counts.sum() - counts[SERVED] - counts[NO_SPECTRUM])),
        )
    console.print(t)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the RMSA benchmarks and print their tables; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks optical-rmsa", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, fewer sizes (smoke)")
    args, _ = parser.parse_known_args(argv)
    repeat = 1 if args.quick else max(1, args.repeat)
    console = Console(file=sys.stdout, width=120)
    console.print(f"tsunagu optical RMSA benchmarks: repeat={repeat}, one core")
    _bench_nsfnet(console, 10_000 if args.quick else 100_000, repeat)
    _bench_size(console, args.quick, repeat)
    _bench_slots(console, args.quick, repeat)
    _bench_multidomain(console, args.quick, repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
