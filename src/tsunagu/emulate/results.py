"""Writing an emulation's measurements into a run directory (docs/results-format.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from tsunagu.emulate.session import EmulationResult
from tsunagu.results.store import atomic_path
from tsunagu.sim.kpis import finite_or_none

__all__ = ["EMULATION_FILES", "write_emulation"]

#: The files an emulation writes into a run directory.
EMULATION_FILES = ("emulation_rtt.parquet", "emulation_steps.parquet", "emulation.json")


def write_emulation(run_dir: Path, result: EmulationResult) -> list[Path]:
    """Write ``emulation_rtt.parquet``, ``emulation_steps.parquet`` and ``emulation.json``.

    A later emulation of the same run directory replaces them (one emulated flow per run
    directory at a time; copy the run directory to keep several).
    """
    run_dir = Path(run_dir)
    paths = [run_dir / name for name in EMULATION_FILES]
    for path, table in zip(paths[:2], (result.rtt, result.steps), strict=True):
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
    with atomic_path(paths[2]) as tmp:
        tmp.write_text(
            json.dumps(finite_or_none(result.meta), indent=2, allow_nan=False) + "\n",
            encoding="utf-8",
        )
    return paths
