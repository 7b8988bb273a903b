"""Run directories are transactional: SIGKILL at every write point leaves one whole run.

The kill is triggered on file events (``TSUNAGU_KILL_AT_WRITE_POINT=N`` makes the writer kill
itself at its N-th write point), never by a timer, and the loop covers every write point of a
write over an existing run directory, with the atomic exchange and with its two-rename fallback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tsunagu.errors import DataError
from tsunagu.results.store import (
    TABLES,
    check_out_dir,
    check_run_id,
    read_summary,
    table_run_id,
    write_run,
)
from tsunagu.sim.kpis import RunResult


def make_result(label: str) -> RunResult:
    """A small run result whose every table says which run (``label``) wrote it."""
    tables = {name: pa.table({"label": [label], "value": [1.0]}) for name in TABLES}
    summary = {"scenario": label, "steps": 1, "step_s": 60.0, "counts": {}, "kpis": {"x": 1.0}}
    return RunResult(summary=summary, **tables)


def _labels(run_dir: Path) -> set[str]:
    """Which run wrote each file of ``run_dir`` (and that they agree on one run id)."""
    summary = read_summary(run_dir)
    check_run_id(run_dir, summary)
    labels = {str(summary["scenario"])}
    for name in TABLES:
        table = pq.read_table(run_dir / f"{name}.parquet")
        labels.add(str(table.column("label")[0]))
    assert (run_dir / "scenario.yaml").is_file()
    return labels


def _write_in_child(out: Path, point: int, exchange: bool) -> int:
    """Write the 'new' run over ``out`` in a child process that kills itself at ``point``."""
    env = {**os.environ, "TSUNAGU_KILL_AT_WRITE_POINT": str(point)}
    if not exchange:
        env["TSUNAGU_NO_RENAME_EXCHANGE"] = "1"
    # The child builds the same tables as make_result without importing the engine (fast).
    code = (
        "import sys; from pathlib import Path; from types import SimpleNamespace; "
        "import pyarrow as pa; from tsunagu.results.store import TABLES, write_run; "
        "t = {n: pa.table({'label': ['new'], 'value': [1.0]}) for n in TABLES}; "
        "s = {'scenario': 'new', 'steps': 1, 'step_s': 60.0, 'counts': {}, 'kpis': {'x': 1.0}}; "
        "write_run(SimpleNamespace(summary=s, **t), Path(sys.argv[1]), 'name: new\\n')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.decode()
    return proc.returncode


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_sigkill_at_every_write_point_leaves_the_old_or_the_new_run_whole(
    tmp_path: Path, exchange: bool
) -> None:
    outcomes: list[str] = []
    # The file writes are the same in both variants; the fallback differs from the swap on.
    point = 0 if exchange else len(TABLES) + 3
    while True:
        point += 1
        out = tmp_path / f"run{point}"
        write_run(make_result("old"), out, "name: old\n")
        killed = _write_in_child(out, point, exchange) != 0
        labels = _labels(out)
        assert labels in ({"old"}, {"new"}), (point, labels)
        outcomes.append(labels.pop())
        # The next write to the same target removes what the killed writer left behind.
        write_run(make_result("again"), out, "name: again\n")
        assert _labels(out) == {"again"}
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".run{point}.")]
        assert leftovers == []
        assert not list(out.glob(".*.tmp"))
        shutil.rmtree(out)
        if not killed:
            break
        assert point < 40, "more write points than a run directory has files"
    # Every write point was hit: the first kills keep the old run, the last ones the new.
    assert outcomes[0] == "old"
    assert outcomes[-1] == "new"
    assert point > len(TABLES) + 4
    first_new = outcomes.index("new")
    assert outcomes[first_new:] == ["new"] * (len(outcomes) - first_new)


def test_report_refuses_a_directory_mixing_two_runs(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_run(make_result("a"), a, "name: a\n")
    write_run(make_result("b"), b, "name: b\n")
    shutil.copy(b / "flows.parquet", a / "flows.parquet")
    with pytest.raises(DataError, match=r"mixes files of different runs: flows\.parquet"):
        check_run_id(a, read_summary(a))
    from tsunagu.report._rundir import read_run

    with pytest.raises(DataError, match="mixes files"):
        read_run(a)


def test_every_file_carries_the_summary_run_id(tmp_path: Path) -> None:
    out = write_run(make_result("x"), tmp_path / "x", "name: x\n")
    run_id = json.loads((out / "summary.json").read_text())["run_id"]
    assert len(run_id) == 32
    assert {table_run_id(out / f"{n}.parquet") for n in TABLES} == {run_id}
    moved = tmp_path / "moved"
    out.rename(moved)
    # Views resolve relative to the run directory, so a moved run reads its own files.
    con = duckdb.connect(
        str(moved / "results.duckdb"), read_only=True, config={"file_search_path": str(moved)}
    )
    try:
        assert con.execute("SELECT run_id FROM run").fetchone() == (run_id,)
        assert con.execute("SELECT label FROM flows").fetchone() == ("x",)
        sql = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'flows'").fetchone()
    finally:
        con.close()
    assert sql is not None
    assert str(tmp_path) not in sql[0]


def test_a_hostile_out_path_writes_nothing_outside_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inj").write_bytes(b"PAR1")  # a file named like the start of the payload
    out = tmp_path / "inj'); COPY (SELECT 42) TO 'pwned.csv'; SELECT ('"
    write_run(make_result("h"), out, "name: h\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["inj", out.name])
    assert not list(tmp_path.rglob("pwned.csv"))
    assert _labels(out) == {"h"}


@pytest.mark.parametrize("kind", ["file", "dangling", "symlink", "foreign", "devnull"])
def test_check_out_dir_refuses_what_a_run_would_destroy(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "t"
    if kind == "file":
        target.write_text("x")
    elif kind == "dangling":
        target.symlink_to(tmp_path / "missing")
    elif kind == "symlink":
        (tmp_path / "real").mkdir()
        target.symlink_to(tmp_path / "real")
    elif kind == "foreign":
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    else:
        target = Path(os.devnull)
    with pytest.raises(DataError, match="Fix: pass --out"):
        check_out_dir(target)


def test_check_out_dir_accepts_a_new_an_empty_and_a_previous_run_directory(
    tmp_path: Path,
) -> None:
    assert check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    (tmp_path / "empty").mkdir()
    check_out_dir(tmp_path / "empty")
    write_run(make_result("p"), tmp_path / "prev", "name: p\n")
    (tmp_path / "prev" / "emulation.json").write_text("{}")  # added later by tsunagu emulate
    check_out_dir(tmp_path / "prev")
