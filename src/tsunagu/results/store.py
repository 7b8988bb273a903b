"""Writing and reading run directories (format in docs/results-format.md).

A run directory is written as a whole or not at all. :func:`write_run` writes every file into a
staging directory beside the target (``.NAME.staging-PID-RUNID``) and then swaps it in: a plain
``rename(2)`` when the target does not exist, an atomic exchange (``renameat2`` with
``RENAME_EXCHANGE``) when it does, or, where the kernel or file system lacks it, two renames
through ``.NAME.old-PID-RUNID``. A kill at any point leaves either the previous run whole or the
new run whole (plus a hidden temporary that the next write to the same target removes).

Every table (Parquet key-value metadata ``tsunagu.run_id``), ``summary.json`` (``run_id``) and
the DuckDB file (a ``run`` view) carry one run id, so a reader can refuse a directory whose
files come from different runs (:func:`check_run_id`).

The DuckDB views read their Parquet files by a path relative to the run directory: open the
database from inside it (``cd RUN && duckdb results.duckdb``) or set ``file_search_path`` to it.
No SQL is built from user text: the view names and file names are this module's constants.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from tsunagu.errors import DataError

if TYPE_CHECKING:
    from tsunagu.sim.kpis import RunResult

__all__ = [
    "KILL_ENV",
    "RUN_ID_KEY",
    "TABLES",
    "atomic_path",
    "check_out_dir",
    "check_run_id",
    "new_run_id",
    "read_summary",
    "read_table",
    "recover_run_dir",
    "table_run_id",
    "write_point",
    "write_run",
]

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
    "link_loads",
    "traffic",
    "latency",
)

RUN_ID_KEY = b"tsunagu.run_id"
"""Parquet metadata key holding the run id of the table."""

KILL_ENV = "TSUNAGU_KILL_AT_WRITE_POINT"
"""Test hook: SIGKILL this process at the N-th write point (1-based) of the run directory."""

_OWN_FILES = frozenset(
    {f"{name}.parquet" for name in TABLES}
    | {"summary.json", "scenario.yaml", "results.duckdb", "report.html", "results.duckdb.wal"}
    # written into a run directory later by `tsunagu emulate DIR`
    | {"emulation_rtt.parquet", "emulation_steps.parquet", "emulation.json"}
)
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?P<kind>staging|old)-(?P<pid>\d+)-[0-9a-f]{32}$")
_write_points = 0


def write_point(label: str) -> None:
    """Mark a point where a file is about to change on disk (for the kill tests).

    With ``TSUNAGU_KILL_AT_WRITE_POINT=N`` in the environment, the N-th call kills the process
    with SIGKILL, so tests can stop a write at every point without timers.
    """
    global _write_points
    _write_points += 1
    target = os.environ.get(KILL_ENV)
    if target and target.isdigit() and int(target) == _write_points:
        os.kill(os.getpid(), signal.SIGKILL)


def new_run_id() -> str:
    return uuid.uuid4().hex


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
        write_point(f"replace {target.name}")
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


# --------------------------------------------------------------------------------------------
# The target directory


def check_out_dir(out: Path) -> Path:
    """Check, before a run, that ``out`` can become its run directory; return it absolute.

    Refused: an existing file, a device (``/dev/null``), a symlink (dangling or not), a
    directory holding files that are not a run's (they would be replaced), and a parent that
    cannot be written. The message says what to pass instead.
    """
    out = Path(out)
    text = os.fspath(out)
    fix = "Fix: pass --out a new or empty directory, or a previous run directory"
    if out.is_symlink():
        where = "a dangling symlink" if not out.exists() else "a symlink"
        raise DataError(f"--out {text}: is {where}; {fix} (not a link)")
    if out.exists():
        mode = out.stat().st_mode
        if not stat.S_ISDIR(mode):
            kind = "a file" if stat.S_ISREG(mode) else "a device or special file"
            raise DataError(f"--out {text}: is {kind}, not a directory; {fix}")
        foreign = sorted(
            p.name for p in out.iterdir() if p.name not in _OWN_FILES and not p.name.startswith(".")
        )
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise DataError(
                f"--out {text}: holds files that are not a run's ({shown}) and a run replaces "
                f"the whole directory; {fix}"
            )
    parent = out.absolute().parent
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise DataError(f"--out {text}: {probe} is not a directory; {fix}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise DataError(
            f"--out {text}: cannot write in {probe} (permission denied); {fix} in a directory "
            "you can write"
        )
    return out.absolute()


def _leftovers(run_dir: Path) -> dict[str, list[Path]]:
    """Staging and old copies of ``run_dir`` whose writer is gone, by kind."""
    found: dict[str, list[Path]] = {"staging": [], "old": []}
    parent = run_dir.parent
    if not parent.is_dir():
        return found
    for entry in parent.iterdir():
        m = _STAGING.match(entry.name)
        if m is None or m.group("name") != run_dir.name:
            continue
        pid = int(m.group("pid"))
        if pid != os.getpid() and _alive(pid):
            continue
        found[m.group("kind")].append(entry)
    return found


def recover_run_dir(run_dir: Path) -> None:
    """Finish a swap that a killed writer left half done (the two-rename fallback only).

    If ``run_dir`` is missing but the previous run was already moved aside, the complete new
    run (a staging directory with its summary, which is written last) is moved in, else the
    previous run is moved back. Nothing happens while a writer is alive.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() or run_dir.is_symlink():
        return
    left = _leftovers(run_dir)
    if not left["old"]:
        return
    complete = [p for p in left["staging"] if (p / "summary.json").is_file()]
    source = complete[0] if complete else left["old"][0]
    with contextlib.suppress(OSError):
        os.rename(source, run_dir)


def _clean_stale(run_dir: Path) -> None:
    """Finish or undo a swap a killed writer left, then remove its temporaries."""
    recover_run_dir(run_dir)
    left = _leftovers(run_dir)
    for entry in left["staging"] + left["old"]:
        shutil.rmtree(entry, ignore_errors=True)
    if run_dir.is_dir() and not run_dir.is_symlink():
        for tmp in run_dir.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with ``renameat2(RENAME_EXCHANGE)``; False where unsupported."""
    if os.environ.get("TSUNAGU_NO_RENAME_EXCHANGE"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


def _swap_in(staging: Path, run_dir: Path, run_id: str) -> None:
    write_point("swap")
    if not run_dir.exists():
        os.rename(staging, run_dir)
        return
    if _exchange(staging, run_dir):
        write_point("remove previous")
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous run
        return
    old = run_dir.with_name(f".{run_dir.name}.old-{os.getpid()}-{run_id}")
    os.rename(run_dir, old)
    write_point("rename new")
    os.rename(staging, run_dir)
    write_point("remove previous")
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Writing


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _with_run_id(table: pa.Table, run_id: str) -> pa.Table:
    meta = dict(table.schema.metadata or {})
    meta[RUN_ID_KEY] = run_id.encode("ascii")
    return table.replace_schema_metadata(meta)


def _write_parquet(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _write_duckdb(run_dir: Path, run_id: str) -> None:
    import duckdb

    target = run_dir / "results.duckdb"
    with atomic_path(target) as tmp:
        tmp.unlink()  # duckdb creates the file itself
        # Views by relative path, resolved against file_search_path: the directory can move.
        con = duckdb.connect(str(tmp), config={"file_search_path": str(run_dir.absolute())})
        try:
            for name in TABLES:
                con.execute(
                    f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{name}.parquet')"
                )
            if not re.fullmatch(r"[0-9a-f]{32}", run_id):
                raise DataError(f"run id {run_id!r} must be 32 hex digits (tsunagu makes them)")
            con.execute(f"CREATE VIEW run AS SELECT '{run_id}' AS run_id")
        finally:
            con.close()
        wal = tmp.with_name(tmp.name + ".wal")
        if wal.exists():
            wal.unlink()


def write_run(
    result: RunResult, run_dir: Path, scenario_yaml: str, run_id: str | None = None
) -> Path:
    """Write a run's tables, summary, resolved scenario and DuckDB views as ``run_dir``.

    The directory appears whole or not at all (see the module docs); a previous run directory
    at ``run_dir`` is replaced only once the new one is complete.
    """
    run_dir = check_out_dir(Path(run_dir))
    run_id = run_id or new_run_id()
    if isinstance(result.summary, dict):
        result.summary["run_id"] = run_id  # the same id in memory, in print and on disk
    _clean_stale(run_dir)
    staging = run_dir.with_name(f".{run_dir.name}.staging-{os.getpid()}-{run_id}")
    staging.mkdir(parents=True)
    try:
        for name in TABLES:
            _write_parquet(staging / f"{name}.parquet", _with_run_id(getattr(result, name), run_id))
        with atomic_path(staging / "scenario.yaml") as tmp:
            tmp.write_text(scenario_yaml, encoding="utf-8")
        _write_duckdb(staging, run_id)
        _write_json(staging / "summary.json", {**result.summary, "run_id": run_id})
        _swap_in(staging, run_dir, run_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return run_dir


# --------------------------------------------------------------------------------------------
# Reading


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The summary of a run directory; the error says how to make one."""
    recover_run_dir(Path(run_dir))
    path = Path(run_dir) / "summary.json"
    fix = "create one with `tsunagu run SCENARIO --out DIR`"
    if not path.is_file():
        raise DataError(f"{path} not found: {run_dir} is not a complete run directory; {fix}")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DataError(f"{path} is not readable JSON ({exc}); {fix} again") from None
    if not isinstance(data, dict) or not isinstance(data.get("kpis"), dict):
        raise DataError(
            f"{path} is not a run summary (a JSON object with a 'kpis' object, see "
            f"docs/results-format.md); {fix} again"
        )
    if not isinstance(data.get("scenario", ""), str):
        raise DataError(f"{path}: 'scenario' must be text (docs/results-format.md); {fix} again")
    return data


def table_run_id(path: Path) -> str | None:
    """The run id stored in a Parquet file's metadata (None for files without one)."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException) as exc:
        raise DataError(
            f"{path} is not a readable Parquet file ({exc}); re-run `tsunagu run`"
        ) from None
    raw = meta.get(RUN_ID_KEY)
    return raw.decode("ascii", "replace") if raw is not None else None


def check_run_id(run_dir: Path, summary: dict[str, Any]) -> None:
    """Refuse a run directory whose tables and summary come from different runs."""
    run_dir = Path(run_dir)
    expected = summary.get("run_id")
    found: dict[str, str | None] = {}
    for name in TABLES:
        path = run_dir / f"{name}.parquet"
        if path.is_file():
            found[path.name] = table_run_id(path)
    ids = set(found.values())
    if expected is None and ids <= {None}:
        return  # written before run ids existed: nothing to compare
    bad = sorted(name for name, rid in found.items() if rid != expected)
    if bad:
        raise DataError(
            f"{run_dir} mixes files of different runs: {', '.join(bad)} do not carry the run "
            f"id of summary.json ({expected}); the directory was changed by hand or a write "
            "was interrupted by an older tsunagu. Fix: re-run `tsunagu run SCENARIO --out DIR`"
        )


def read_table(run_dir: Path, name: str) -> pa.Table:
    """One of the run's tables (``steps``, ``flows``, ...)."""
    path = Path(run_dir) / f"{name}.parquet"
    if not path.is_file():
        raise DataError(f"{path} not found; re-run `tsunagu run` to write it")
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(
            f"{path} is not a readable Parquet file ({exc}); re-run `tsunagu run`"
        ) from None
