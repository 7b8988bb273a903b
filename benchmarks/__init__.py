"""Side-by-side performance benchmarks for tsunagu; run with ``python -m benchmarks``."""

from __future__ import annotations
