"""Entry point: ``python -m benchmarks [--quick] [--repeat N] [--scenario NAME_OR_PATH]``."""

from __future__ import annotations

import sys

from benchmarks.bench_engine import main

if __name__ == "__main__":
    sys.exit(main())
