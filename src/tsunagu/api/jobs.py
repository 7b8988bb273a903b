"""Durable jobs: runs and sweeps queued in the database and executed by local processes.

Life of a job: ``queued`` → ``running`` → ``succeeded`` | ``failed`` | ``cancelled`` (a cancel
of a running job passes through ``cancelling``). A server claims a queued job with a
conditional update (so two servers on one PostgreSQL never run the same job), writes a
heartbeat while it runs it, and writes its results into ``jobs/<id>.<attempt>.partial/``, which
is renamed to ``jobs/<id>/`` only when complete: a reader never sees half a result.

A server that dies leaves ``running`` rows whose heartbeat stops. Any server (the restarted
one included) takes such a job over once its heartbeat is ``stale_after_s`` old: it is queued
again and re-run from the start (runs are deterministic in their scenario and seed), or, after
``max_attempts`` starts, marked failed with the reason. No job stays ``running`` forever.

Execution: each job in its own local process (``workers`` at once; cancel terminates it), or
on a ``dask.distributed`` cluster when a scheduler address is configured (sweeps spread their
cases over the cluster through :func:`tsunagu.sim.sweep.run_sweep`). Runs with an external
controller execute in a thread of the server, beside the WebSocket that carries their steps.
"""

from __future__ import annotations

import abc
import datetime as dt
import logging
import multiprocessing as mp
import os
import queue
import secrets
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.api import adapter
from tsunagu.api.config import ServiceConfig
from tsunagu.api.db import Job, utcnow
from tsunagu.errors import TsunaguError

__all__ = ["TERMINAL", "JobRunner", "new_id"]

log = logging.getLogger(__name__)

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def _execute(kind: str, scenario_yaml: str, params: dict[str, Any], out_dir: str, send: Any) -> Any:
    def progress(done: int, total: int) -> None:
        send(("progress", done, total))

    if kind == "sweep":
        return adapter.run_sweep_job(scenario_yaml, params, Path(out_dir), progress, workers=1)
    return adapter.run_scenario(scenario_yaml, Path(out_dir), progress, params.get("policy"))


def _child(kind: str, scenario_yaml: str, params: dict[str, Any], out_dir: str, conn: Any) -> None:
    """Entry point of a job's process: messages go back over ``conn``; a dead parent ends it."""
    try:
        summary = _execute(kind, scenario_yaml, params, out_dir, conn.send)
        conn.send(("done", summary))
    except TsunaguError as exc:
        conn.send(("error", str(exc)))
    except (BrokenPipeError, EOFError):  # the server is gone: stop quietly
        os._exit(3)
    except Exception as exc:  # an engine bug: keep the trace for the job's error
        conn.send(
            ("error", f"internal error: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        )


class _Execution(abc.ABC):
    """A job being executed somewhere; ``poll`` returns its messages."""

    @abc.abstractmethod
    def poll(self, timeout_s: float) -> list[tuple[Any, ...]]: ...

    @abc.abstractmethod
    def cancel(self) -> None: ...


class _ProcessExecution(_Execution):
    def __init__(self, ctx: Any, args: tuple[Any, ...]) -> None:
        parent, child = ctx.Pipe(duplex=False)
        self._conn: Connection = parent
        self._proc = ctx.Process(target=_child, args=(*args, child), daemon=True)
        self._proc.start()
        child.close()

    def poll(self, timeout_s: float) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        try:
            if self._conn.poll(timeout_s):
                while True:
                    out.append(self._conn.recv())
                    if out[-1][0] != "progress" or not self._conn.poll(0):
                        break
        except EOFError:
            self._proc.join(5)
            out.append(("error", f"the job's process exited with code {self._proc.exitcode}"))
        return out

    def cancel(self) -> None:
        self._proc.terminate()
        self._proc.join(10)
        self._conn.close()


class _ThreadExecution(_Execution):
    def __init__(self, target: Callable[[Callable[[int, int], None]], Any]) -> None:
        self._q: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.cancelled = threading.Event()

        def progress(done: int, total: int) -> None:
            if self.cancelled.is_set():
                raise _CancelledError
            self._q.put(("progress", done, total))

        def main() -> None:
            try:
                self._q.put(("done", target(progress)))
            except _CancelledError:
                self._q.put(("cancelled",))
            except TsunaguError as exc:
                self._q.put(("error", str(exc)))
            except Exception as exc:
                self._q.put(("error", f"internal error: {type(exc).__name__}: {exc}"))

        self._thread = threading.Thread(target=main, daemon=True, name="tsunagu-job")
        self._thread.start()

    def poll(self, timeout_s: float) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        try:
            out.append(self._q.get(timeout=timeout_s))
            while True:
                out.append(self._q.get_nowait())
        except queue.Empty:
            pass
        return out

    def cancel(self) -> None:
        self.cancelled.set()
        self._thread.join(30)


class _CancelledError(Exception):
    pass


class _DaskExecution(_Execution):
    def __init__(self, client: Any, args: tuple[Any, ...]) -> None:
        self._fut = client.submit(_execute, *args, lambda _m: None, pure=False)

    def poll(self, timeout_s: float) -> list[tuple[Any, ...]]:
        import distributed

        try:
            distributed.wait(self._fut, timeout=timeout_s)  # type: ignore[no-untyped-call]
        except TimeoutError:
            return []
        try:
            return [("done", self._fut.result())]
        except TsunaguError as exc:
            return [("error", str(exc))]
        except Exception as exc:
            return [("error", f"the Dask task failed: {type(exc).__name__}: {exc}")]

    def cancel(self) -> None:
        self._fut.cancel()


# A hook for runs whose placement an external controller decides: given the job, returns the
# policy object to pass to the engine, or None when the job names no controller.
PolicyFactory = Callable[[Job], Any]


class JobRunner:
    """Claims queued jobs, executes them, records progress, heartbeats and outcomes."""

    def __init__(
        self,
        config: ServiceConfig,
        sessions: sessionmaker[Session],
        policy_for: PolicyFactory | None = None,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(4)}"
        self._policy_for = policy_for
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._active: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._loop: threading.Thread | None = None
        self._ctx: Any = None
        self._dask: Any = None

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self.config.jobs_dir.mkdir(parents=True, exist_ok=True)
        if self.config.scheduler:
            import distributed

            self._dask = distributed.Client(self.config.scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        else:
            self._ctx = mp.get_context("forkserver")
            self._ctx.set_forkserver_preload(["tsunagu.api.jobs", "tsunagu.runner"])
        self._loop = threading.Thread(target=self._main, daemon=True, name="tsunagu-jobs")
        self._loop.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._loop is not None:
            self._loop.join(10)
        with self._lock:
            threads = list(self._active.values())
        for t in threads:
            t.join(30)
        if self._dask is not None:
            self._dask.close()

    def wake(self) -> None:
        self._wake.set()

    # ---- the loop ------------------------------------------------------------------------
    def _main(self) -> None:
        while not self._stop.is_set():
            try:
                self.reclaim_stale()
                self._claim()
            except Exception:  # the database away for a moment: try again next round
                log.exception("job loop")
            self._wake.wait(0.5)
            self._wake.clear()

    def reclaim_stale(self) -> int:
        """Requeue or fail jobs whose owner stopped writing heartbeats; returns how many."""
        cutoff = utcnow() - dt.timedelta(seconds=self.config.stale_after_s)
        n = 0
        with self.sessions() as s:
            rows = s.scalars(select(Job).where(Job.status.in_(("running", "cancelling")))).all()
            with self._lock:
                mine = {k for k, t in self._active.items() if t.is_alive()}
            for job in rows:
                if job.owner == self.owner and job.id in mine:
                    continue  # this server is running it: a slow heartbeat, not a crash
                hb = job.heartbeat_at
                if hb is not None and hb.tzinfo is None:
                    hb = hb.replace(tzinfo=dt.UTC)
                if hb is not None and hb > cutoff:
                    continue
                when = hb.isoformat(timespec="seconds") if hb else "never"
                why = f"the server running it ({job.owner}) stopped; last heartbeat {when}"
                if job.status == "cancelling":
                    job.status, job.finished_at = "cancelled", utcnow()
                elif job.attempts >= self.config.max_attempts:
                    job.status, job.finished_at = "failed", utcnow()
                    job.error = f"interrupted {job.attempts} times, not retried: {why}"
                else:
                    job.status = "queued"
                    job.error = f"resumed after an interruption: {why}"
                job.owner = ""
                n += 1
            s.commit()
        return n

    def _claim(self) -> None:
        with self._lock:
            self._active = {k: t for k, t in self._active.items() if t.is_alive()}
            free = self.config.workers - len(self._active)
        if free <= 0:
            return
        with self.sessions() as s:
            ids = s.scalars(
                select(Job.id).where(Job.status == "queued").order_by(Job.created_at).limit(free)
            ).all()
        for job_id in ids:
            with self.sessions() as s:
                res = s.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "queued")
                    .values(
                        status="running",
                        owner=self.owner,
                        heartbeat_at=utcnow(),
                        started_at=utcnow(),
                        attempts=Job.attempts + 1,
                    )
                )
                s.commit()
                if getattr(res, "rowcount", 0) != 1:
                    continue  # another server took it
            t = threading.Thread(target=self._drive, args=(job_id,), daemon=True, name=job_id)
            with self._lock:
                self._active[job_id] = t
            t.start()

    # ---- one job -------------------------------------------------------------------------
    def _drive(self, job_id: str) -> None:
        with self.sessions() as s:
            job = s.get(Job, job_id)
            assert job is not None
            kind, yaml_text, params, attempt = (
                job.kind,
                job.scenario_yaml,
                dict(job.params),
                job.attempts,
            )
            policy = self._policy_for(job) if self._policy_for is not None else None
        final = self.config.jobs_dir / job_id
        partial = self.config.jobs_dir / f"{job_id}.{attempt}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        args = (kind, yaml_text, params, str(partial))
        execution: _Execution
        if policy is not None:
            execution = _ThreadExecution(
                lambda progress: adapter.run_scenario(yaml_text, partial, progress, policy)
            )
        elif self._dask is not None and kind == "sweep":
            execution = _ThreadExecution(
                lambda progress: adapter.run_sweep_job(
                    yaml_text, params, partial, progress, scheduler=self.config.scheduler
                )
            )
        elif self._dask is not None:
            execution = _DaskExecution(self._dask, args)
        else:
            execution = _ProcessExecution(self._ctx, args)
        last_beat = 0.0
        while True:
            msgs = execution.poll(0.25)
            outcome: tuple[Any, ...] | None = None
            for m in msgs:
                if m[0] == "progress":
                    self._update(job_id, done=int(m[1]), total=int(m[2]))
                else:
                    outcome = m
            if outcome is not None:
                break
            now = time.monotonic()
            if now - last_beat >= self.config.heartbeat_s or msgs:
                last_beat = now
                status = self._beat(job_id)
                if status == "cancelling" or self._stop.is_set():
                    execution.cancel()
                    shutil.rmtree(partial, ignore_errors=True)
                    if status == "cancelling":
                        self._finish(job_id, "cancelled", "cancelled by the tenant")
                    if policy is not None and hasattr(policy, "finish"):
                        policy.finish("cancelled")
                    return
        status = self._conclude(job_id, outcome, partial, final, policy)
        if policy is not None and hasattr(policy, "finish"):
            policy.finish(status)

    def _conclude(
        self, job_id: str, outcome: tuple[Any, ...], partial: Path, final: Path, policy: Any
    ) -> str:
        if outcome[0] == "done":
            summary = outcome[1]
            if policy is not None and hasattr(policy, "report"):
                summary = {**summary, "controller": policy.report()}
                adapter.write_json(partial / "summary.json", summary)
            shutil.rmtree(final, ignore_errors=True)
            os.replace(partial, final)
            for stale in self.config.jobs_dir.glob(f"{job_id}.*.partial"):
                shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted attempt
            self._finish(job_id, "succeeded", None, summary)
            return "succeeded"
        shutil.rmtree(partial, ignore_errors=True)
        if outcome[0] == "cancelled":
            self._finish(job_id, "cancelled", "cancelled by the tenant")
            return "cancelled"
        self._finish(job_id, "failed", str(outcome[1]))
        return "failed"

    def _update(self, job_id: str, **values: Any) -> None:
        with self.sessions() as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.owner == self.owner)
                .values(heartbeat_at=utcnow(), **values)
            )
            s.commit()

    def _beat(self, job_id: str) -> str:
        self._update(job_id)
        with self.sessions() as s:
            return str(s.scalar(select(Job.status).where(Job.id == job_id)) or "")

    def _finish(
        self, job_id: str, status: str, error: str | None, summary: dict[str, Any] | None = None
    ) -> None:
        """Record the outcome; ``error`` None keeps the job's message (e.g. why it resumed)."""
        with self.sessions() as s:
            values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
            if error is not None:
                values["error"] = error
            if summary is not None:
                values["summary"] = summary
                values["done"] = Job.total
            s.execute(update(Job).where(Job.id == job_id, Job.owner == self.owner).values(**values))
            s.commit()


def result_dir(config: ServiceConfig, job_id: str) -> Path:
    """Where a finished job's results are (the directory exists only once it succeeded)."""
    return config.jobs_dir / job_id
