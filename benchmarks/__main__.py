"""Entry point: ``python -m benchmarks [SUITE ...] [--quick] [suite options]``.

Each suite is a module ``benchmarks/bench_<suite>.py`` with ``main(argv) -> int``; with no
suite named, every suite in ``SUITES`` runs in turn with the shared options (``--quick``).
Run one suite with its own options as ``python -m benchmarks engine --scenario FILE``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# Suite name -> module. Add a line here when a benchmark module is added.
SUITES: dict[str, str] = {
    "engine": "benchmarks.bench_engine",
    "orchestrate": "benchmarks.bench_orchestrate",
    "optical-rmsa": "benchmarks.bench_optical_rmsa",
    "optical-qot": "benchmarks.bench_optical_qot",
    "ntn_routing": "benchmarks.bench_ntn_routing",
    "ntn_coverage": "benchmarks.bench_ntn_coverage",
    "ran_control": "benchmarks.bench_ran_control",
    "sweep": "benchmarks.bench_sweep",
    "ran": "benchmarks.bench_ran",
    "service": "benchmarks.bench_service",
    "memory": "benchmarks.bench_memory",
    "net_flow": "benchmarks.bench_net_flow",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = [a for a in args if a in SUITES]
    rest = [a for a in args if a not in SUITES]
    status = 0
    for name in names or list(SUITES):
        module = importlib.import_module(SUITES[name])
        status = max(status, int(module.main(rest)))
    return status


if __name__ == "__main__":
    sys.exit(main())
