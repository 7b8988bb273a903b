"""Writing and reading run directories (format in docs/results-format.md).

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so a reader never sees a half-written file and an interrupted run leaves the
previous results intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tsunagu.errors import DataError
from tsunagu.sim.kpis import RunResult

__all__ = ["TABLES", "atomic_path", "read_summary", "read_table", "write_run"]

TABLES = (
    "steps",
    "flows",
    "satellites",
    "nodes",
    "links",
    "areas",
    "events",
    "lightpaths",
    "ntn_rtt",
    "ntn_tracks",
)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success move it onto ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _write_parquet(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _write_duckdb(run_dir: Path) -> None:
    import duckdb

    target = run_dir / "results.duckdb"
    with atomic_path(target) as tmp:
        tmp.unlink()  # duckdb creates the file itself
        con = duckdb.connect(str(tmp))
        try:
            for name in TABLES:
                # Views with paths relative to the database file: the run directory can move.
                con.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM read_parquet("
                    f"'{(run_dir / (name + '.parquet')).resolve().as_posix()}')"
                )
        finally:
            con.close()
        wal = tmp.with_name(tmp.name + ".wal")
        if wal.exists():
            wal.unlink()


def write_run(result: RunResult, run_dir: Path, scenario_yaml: str) -> Path:
    """Write a run's tables, summary, resolved scenario and DuckDB views into ``run_dir``."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        _write_parquet(run_dir / f"{name}.parquet", getattr(result, name))
    with atomic_path(run_dir / "scenario.yaml") as tmp:
        tmp.write_text(scenario_yaml, encoding="utf-8")
    _write_duckdb(run_dir)
    # The summary goes last: its presence marks a complete run directory.
    _write_json(run_dir / "summary.json", result.summary)
    return run_dir


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The summary of a run directory; the error says how to make one."""
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        raise DataError(
            f"{path} not found: {run_dir} is not a complete run directory; "
            "create one with `tsunagu run SCENARIO --out DIR`"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def read_table(run_dir: Path, name: str) -> pa.Table:
    """One of the run's tables (``steps``, ``flows``, ...)."""
    path = Path(run_dir) / f"{name}.parquet"
    if not path.is_file():
        raise DataError(f"{path} not found; re-run `tsunagu run` to write it")
    return pq.read_table(path)
