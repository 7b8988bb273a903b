"""Jobs survive a crash of the server: SIGKILL `tsunagu serve` during a run, start it again,
and the interrupted run is resumed and finishes (its record says it was resumed and why); a run
that had finished before the crash keeps its result files byte for byte."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.pg import free_port

TSUNAGU = [sys.executable, "-c", "from tsunagu.cli import main; main()"]
MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"


def _start(data: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [*TSUNAGU, "serve", "--port", str(port), "--data", str(data),
         "--workers", "1", "--stale-after", "3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "serve exited")
    raise RuntimeError("tsunagu serve did not come up")


def _digests(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def _wait(c: httpx.Client, rid: str, until: tuple[str, ...], timeout_s: float = 180) -> dict:  # type: ignore[type-arg]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        job = c.get(f"/v1/runs/{rid}").json()
        if job["status"] in until:
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"run {rid} not {until} after {timeout_s} s: {job}")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:  # the test's own servers and their job processes
        if p.stderr is not None:
            p.stderr.close()
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(30)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)


def test_sigkill_during_a_run_then_restart(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    data = tmp_path / "service"
    out = subprocess.run(
        [*TSUNAGU, "tenant", "add", "alice", "--data", str(data),
         "--json"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    token = json.loads(out.stdout)["token"]
    port = free_port()
    procs.append(_start(data, port))
    c = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    )
    short = MINIMAL.read_text(encoding="utf-8")
    long = short.replace("duration_s: 3600.0", "duration_s: 14400.0")  # 8 steps
    sid = c.post("/v1/scenarios", json={"yaml": short}).json()["id"]
    lid = c.post("/v1/scenarios", json={"yaml": long}).json()["id"]
    done = c.post("/v1/runs", json={"scenario_id": sid}).json()["id"]
    assert _wait(c, done, ("succeeded", "failed"))["status"] == "succeeded"
    before = _digests(data / "jobs" / done)
    assert "summary.json" in before
    assert "flows.parquet" in before

    rid = c.post("/v1/runs", json={"scenario_id": lid}).json()["id"]
    end = time.monotonic() + 120
    while c.get(f"/v1/runs/{rid}").json()["done"] < 1:
        assert time.monotonic() < end, "the long run made no progress"
        time.sleep(0.1)
    os.kill(procs[0].pid, signal.SIGKILL)  # the server only; its job process is orphaned
    procs[0].wait(30)

    procs.append(_start(data, port))
    job = _wait(c, rid, ("succeeded", "failed"), timeout_s=240)
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2
    assert job["message"].startswith("resumed after an interruption: the server running it")
    assert job["done"] == job["total"] == 8
    assert c.get(f"/v1/runs/{rid}/results").json()["steps"] == 8
    assert _digests(data / "jobs" / done) == before  # the finished run is intact
    assert not list((data / "jobs").glob(f"{rid}.*.partial"))
    c.close()
