"""Memory benchmark: peak resident memory of ``tsunagu run`` against its pre-run estimate.

Runs ``tsunagu run SCENARIO --json --no-report`` in a child process with ``timeline.step_s``
set (default: japan-2030 at 60 s steps over one day, 1,440 steps). The child writes its own
peak resident set, ``VmHWM`` of ``/proc/self/status``, when it exits. Not ``ru_maxrss``: Linux
carries the peak of the image before ``execve`` into it, and the child is started by vfork
from this process, so it would report this process's peak (and ``RUSAGE_CHILDREN`` is the
largest of every child waited for). Prints the estimate (tsunagu.sim.estimate, by part), the
measured peak, their ratio and whether the peak stays under the limit (default 4 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from tsunagu.scenario import load_scenario
from tsunagu.sim.estimate import format_bytes, parse_bytes, preflight

__all__ = ["main"]

HWM_ENV = "TSUNAGU_BENCH_HWM_FILE"
# The CLI in the child, which writes its VmHWM (kB) to $TSUNAGU_BENCH_HWM_FILE at exit.
_CHILD = (
    "import atexit, os\n"
    "def _hwm():\n"
    "    with open('/proc/self/status', encoding='ascii') as fh:\n"
    "        kb = [ln.split()[1] for ln in fh if ln.startswith('VmHWM:')]\n"
    f"    with open(os.environ['{HWM_ENV}'], 'w', encoding='ascii') as out:\n"
    "        out.write(kb[0])\n"
    "atexit.register(_hwm)\n"
    "from tsunagu.cli import app\n"
    "app()\n"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks memory", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10-minute steps (144 steps)")
    parser.add_argument("--scenario", default="japan-2030")
    parser.add_argument("--step-s", type=float, default=None)
    parser.add_argument("--limit", default="4GB", help="peak that must not be exceeded")
    args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    step_s = args.step_s or (600.0 if args.quick else 60.0)
    limit = parse_bytes(args.limit, "--limit")

    sc = load_scenario(args.scenario)
    data = sc.model_dump(mode="json")
    data["timeline"]["step_s"] = step_s
    console = Console()
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-memory-") as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        from tsunagu.scenario import scenario_from_text

        _, est = preflight(scenario_from_text(path.read_text(), str(path)), float("inf"))
        hwm_file = Path(tmp) / "vmhwm_kb"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _CHILD,
                "run",
                str(path),
                "--out",
                str(Path(tmp) / "r"),
                "--json",
                "--no-report",
                "--memory-budget",
                "1TB",
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, HWM_ENV: str(hwm_file)},
        )
        wall_s = time.perf_counter() - t0
        hwm_kb = hwm_file.read_text(encoding="ascii") if hwm_file.exists() else None
    if proc.returncode != 0 or hwm_kb is None:
        console.print(proc.stderr[-2000:] or "the child wrote no VmHWM (/proc)", markup=False)
        return 1
    summary = json.loads(proc.stdout)
    peak = float(hwm_kb) * 1024.0
    t = Table(title=f"Memory: {sc.name} at {step_s:g} s steps, {summary['steps']:,} steps")
    t.add_column("part")
    t.add_column("estimate", justify="right")
    for part, value in sorted(est.parts_bytes.items(), key=lambda kv: -kv[1]):
        t.add_row(part.replace("_", " "), format_bytes(value))
    t.add_row("[bold]estimated peak[/]", format_bytes(est.total_bytes))
    t.add_row("[bold]measured peak (VmHWM)[/]", format_bytes(peak))
    t.add_row("estimate / measured", f"{est.total_bytes / peak:.2f}")
    t.add_row("wall time", f"{wall_s:.0f} s")
    ok = peak < limit
    t.add_row(f"under {format_bytes(limit)}", "yes" if ok else "NO")
    console.print(t)
    return 0 if ok else 1
