"""Optical QoT benchmarks: tsunagu against GNPy 3.0.1 on the same requests, and scaling.

Measured side by side in one process (medians, ratios; nothing asserts a time):

1. CORONET CONUS, the same seeded random requests (200; 40 with ``--quick``) through GNPy's
   ``designed_network`` + ``planning`` (the ``gnpy-path-request`` pipeline) and tsunagu's
   ``design_network`` + ``compute_requests``: time per lightpath, ratio, and the largest GSNR
   difference between the two on those requests;
2. scaling with the number of lightpaths (tsunagu; CORONET CONUS, 10 to 10,000 requests);
3. scaling with network size: GNPy's mesh example (5 ROADMs), CORONET CONUS (75) and CORONET
   Global (100), the same number of requests on each;
4. the engine entry point :func:`tsunagu.optical.qot.lightpath_qot` on padded span arrays.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from tsunagu.optical.equipment import Equipment, load_equipment
from tsunagu.optical.gnpy_io import compute_requests, design_network, load_requests, load_topology
from tsunagu.optical.qot import lightpath_qot

__all__ = ["main"]


def _examples() -> Path:
    import gnpy.tools.json_io as gnpy_json_io

    return Path(gnpy_json_io.__file__).resolve().parent.parent / "example-data"


def _topology(name: str) -> dict[str, Any]:
    topo: dict[str, Any] = json.loads((_examples() / name).read_text())
    topo.pop("metadata", None)  # CORONET CONUS fails GNPy's YANG check with it
    return topo


def _requests(topo: dict[str, Any], n: int, seed: int) -> dict[str, Any]:
    trx = [e["uid"] for e in topo["elements"] if e["type"] == "Transceiver"]
    rng = np.random.default_rng(seed)
    reqs = []
    for k in range(n):
        a, b = rng.choice(len(trx), size=2, replace=False)
        reqs.append(
            {
                "request-id": str(k),
                "source": trx[a],
                "destination": trx[b],
                "src-tp-id": trx[a],
                "dst-tp-id": trx[b],
                "bidirectional": False,
                "path-constraints": {
                    "te-bandwidth": {
                        "technology": "flexi-grid",
                        "trx_type": "Voyager",
                        "trx_mode": None if k % 2 else "mode 1",
                        "effective-freq-slot": [{"N": None, "M": None}],
                        "spacing": 50e9,
                        "max-nb-of-channel": None,
                        "output-power": None,
                        "path_bandwidth": 100e9,
                    }
                },
            }
        )
    return {"path-request": reqs}


def _median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _gnpy(topo: dict[str, Any], services: dict[str, Any]) -> tuple[float, float, dict[str, float]]:
    """GNPy design time, planning (path + propagation + spectrum) time, mean GSNR per request."""
    import gnpy.tools.json_io as gnpy_json_io
    from gnpy.tools.worker_utils import designed_network, planning

    eqpt = gnpy_json_io.load_equipment(_examples() / "eqpt_config.json")
    t0 = time.perf_counter()
    net = gnpy_json_io.network_from_json(copy.deepcopy(topo), eqpt)
    net, _, _ = designed_network(eqpt, net)
    t1 = time.perf_counter()
    _, paths, _, reqs, _, _ = planning(net, eqpt, copy.deepcopy(services))
    t2 = time.perf_counter()
    out: dict[str, float] = {}
    for req, path in zip(reqs, paths, strict=True):
        for rid in req.request_id.split(" | "):
            out[rid] = float(np.mean(path[-1].snr_01nm)) if path else float("nan")
    return t1 - t0, t2 - t1, out


def _bench_vs_gnpy(console: Console, eq: Equipment, n: int, repeat: int) -> None:
    logging.getLogger("gnpy").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    import gnpy.tools.worker_utils  # noqa: F401  (import cost reported, not timed below)

    import_s = time.perf_counter() - t0
    topo = _topology("CORONET_CONUS_Topology.json")
    services = _requests(topo, n, seed=20301)
    g_design, g_plan, ref = _gnpy(topo, services)
    d_s, net = _median_time(lambda: design_network(load_topology(topo, eq), eq), repeat)
    reqs = load_requests(services, eq)
    q_s, res = _median_time(lambda: compute_requests(net, eq, reqs), repeat)
    diffs = [abs(r.gsnr_01nm_db - ref[r.request_id]) for r in res if np.isfinite(ref[r.request_id])]
    table = Table(title=f"{n} CORONET CONUS requests: tsunagu vs GNPy 3.0.1 on the same inputs")
    for col in ("stage", "GNPy (s)", f"tsunagu (s, median of {repeat})", "speed-up"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    table.add_row("network design", f"{g_design:.3f}", f"{d_s:.4f}", f"{g_design / d_s:.0f}×")
    table.add_row(
        "QoT of the requests (paths, propagation, modes, spectrum)",
        f"{g_plan:.3f}",
        f"{q_s:.4f}",
        f"{g_plan / q_s:.0f}×",
    )
    table.add_row("QoT per lightpath (ms)", f"{1e3 * g_plan / n:.2f}", f"{1e3 * q_s / n:.3f}", "")
    table.add_row(
        "design + QoT",
        f"{g_design + g_plan:.3f}",
        f"{d_s + q_s:.4f}",
        f"{(g_design + g_plan) / (d_s + q_s):.0f}×",
    )
    console.print(table)
    console.print(
        f"GNPy import {import_s:.2f} s (not counted); largest |ΔGSNR| over {len(diffs)} paths: "
        f"{max(diffs):.2e} dB"
    )


def _bench_lightpaths(console: Console, eq: Equipment, sizes: Sequence[int], repeat: int) -> None:
    topo = _topology("CORONET_CONUS_Topology.json")
    net = design_network(load_topology(topo, eq), eq)
    table = Table(title=f"Scaling with lightpaths: CORONET CONUS (median of {repeat})")
    for col in ("lightpaths", "compute (s)", "per lightpath (µs)", "ratio to first"):
        table.add_column(col, justify="right")
    base = None
    for n in sizes:
        reqs = load_requests(_requests(topo, n, seed=n), eq)
        t, _ = _median_time(lambda reqs=reqs: compute_requests(net, eq, reqs), repeat)
        per = t / n
        base = base or per
        table.add_row(f"{n:,}", f"{t:.4f}", f"{1e6 * per:.1f}", f"{per / base:.2f}")
    console.print(table)


def _bench_networks(console: Console, eq: Equipment, n: int, repeat: int) -> None:
    table = Table(title=f"Scaling with network size: {n} requests each (median of {repeat})")
    for col in ("network", "ROADMs", "elements after design", "design (s)", "compute (s)"):
        table.add_column(col, justify="right" if col != "network" else "left")
    table.add_column("per lightpath (µs)", justify="right")
    for name in (
        "meshTopologyExampleV2.json",
        "CORONET_CONUS_Topology.json",
        "CORONET_Global_Topology.json",
    ):
        topo = _topology(name)
        d_s, net = _median_time(
            lambda topo=topo: design_network(load_topology(topo, eq), eq), repeat
        )
        reqs = load_requests(_requests(topo, n, seed=7), eq)
        c_s, _ = _median_time(lambda net=net, reqs=reqs: compute_requests(net, eq, reqs), repeat)
        roadms = sum(e["type"] == "Roadm" for e in topo["elements"])
        table.add_row(
            name.removesuffix(".json"),
            f"{roadms}",
            f"{len(net.elements):,}",
            f"{d_s:.4f}",
            f"{c_s:.4f}",
            f"{1e6 * c_s / n:.1f}",
        )
    console.print(table)


def _bench_engine_entry(console: Console, sizes: Sequence[int], repeat: int) -> None:
    rng = np.random.default_rng(5)
    table = Table(
        title=f"lightpath_qot on padded span arrays, 40 spans max, 96 channels (median of {repeat})"
    )
    for col in ("lightpaths", "time (s)", "per lightpath (µs)"):
        table.add_column(col, justify="right")
    for n in sizes:
        spans = rng.uniform(40.0, 100.0, size=(n, 40))
        spans[rng.random((n, 40)) < 0.3] = 0.0
        t, _ = _median_time(
            lambda spans=spans: lightpath_qot(
                spans, baud_rate_hz=32e9, channel_count=96, f_min_hz=191.35e12
            ),
            repeat,
        )
        table.add_row(f"{n:,}", f"{t:.4f}", f"{1e6 * t / n:.2f}")
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the optical QoT benchmarks and print their tables; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks optical-qot", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests and sizes (smoke)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tsunagu measurement")
    args, _ = parser.parse_known_args(argv)
    repeat = 1 if args.quick else max(1, args.repeat)
    eq = load_equipment(_examples() / "eqpt_config.json")
    console = Console(file=sys.stdout, width=120)
    console.print("tsunagu optical QoT benchmarks (GNPy 3.0.1 example data)")
    _bench_vs_gnpy(console, eq, 40 if args.quick else 200, repeat)
    _bench_lightpaths(console, eq, (10, 100) if args.quick else (10, 100, 1_000, 10_000), repeat)
    _bench_networks(console, eq, 50 if args.quick else 500, repeat)
    _bench_engine_entry(console, (100,) if args.quick else (100, 1_000, 10_000), repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
