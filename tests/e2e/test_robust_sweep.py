"""A sweep's pool workers die with their parent, and Ctrl-C stops everything cleanly.

Both tests wait for events (the workers appearing in /proc), never for fixed times, then kill
or interrupt the parent and check that no worker survives it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="reads worker processes from Linux /proc"
)


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait(predicate: object, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _start_sweep() -> tuple[subprocess.Popen[bytes], set[int]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tsunagu.cli import app; app()",
            "sweep",
            str(MINIMAL),
            "--runs",
            "40",
            "--workers",
            "2",
            "--json",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    _wait(lambda: len(_children(proc.pid)) >= 2, "two pool workers")
    return proc, _children(proc.pid)


def test_killing_the_sweep_parent_kills_its_workers() -> None:
    proc, workers = _start_sweep()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.stderr is not None
    proc.stderr.close()
    _wait(lambda: not any(_alive(w) for w in workers), "the workers to die with the parent")


def test_ctrl_c_stops_the_sweep_and_its_workers_cleanly() -> None:
    proc, workers = _start_sweep()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends: the whole process group
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 130, text
    assert "interrupted" in text
    assert "Traceback" not in text
    _wait(lambda: not any(_alive(w) for w in workers), "the workers to stop")
