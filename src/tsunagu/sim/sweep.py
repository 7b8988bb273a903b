"""Sweeps: Monte Carlo over failures and seeds, and grids over scenario parameters.

A sweep is a list of *cases*, each a scenario (the base with parameter values set and random
failures added) and a seed. Cases run independently, in this process, in a pool of local
processes, or on a ``dask.distributed`` cluster; the results are one table with a row per case,
sorted by case number, so the same sweep gives the same table on every backend (SPEC §2.2.5).

Seeds: case ``i`` of a sweep with seed ``s`` uses the ``i``-th value of
``numpy.random.SeedSequence(s).generate_state(n)``, so seeds are decorrelated and a case's
results do not depend on how many other cases run or where.

Random failures (``fail_links_share``, ``fail_satellites_share``) add, to every case, a
``link_down`` event on a share of the backbone fibre links and a ``satellite_failure`` on a share
of each constellation for the whole run; which ones fail is drawn from the case's seed.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

from tsunagu.errors import ScenarioError
from tsunagu.scenario.schema import Event, Scenario
from tsunagu.sim import catalogue as kc

__all__ = ["KPI_COLUMNS", "SweepCase", "SweepResult", "make_cases", "run_case", "run_sweep"]

#: The KPIs kept per case (keys of ``summary["kpis"]``).
KPI_COLUMNS: tuple[str, ...] = tuple(k.name for k in kc.in_view("sweep"))


@dataclass(frozen=True)
class SweepCase:
    """One run of a sweep: the scenario as JSON text (picklable, hashable) and its seed."""

    case: int
    seed: int
    scenario_json: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepResult:
    """The merged table (one row per case, by case number) and how it was run."""

    table: pa.Table
    backend: str
    workers: int
    wall_s: float


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data[a][b][0]...`` from ``'a.b.0'``; the error names the part that is missing."""
    parts = path.split(".")
    node: Any = data
    for depth, key in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ScenarioError(
                    f"sweep parameter {path!r}: {where!r} needs a list index below {len(node)}"
                )
            if last:
                node[int(key)] = value
            else:
                node = node[int(key)]
        elif isinstance(node, dict):
            if key not in node and not (last or parts[depth - 1] == "params"):
                raise ScenarioError(
                    f"sweep parameter {path!r}: {where!r} is not in the scenario; "
                    f"known here: {sorted(node)}"
                )
            if last:
                node[key] = value
            else:
                node = node.setdefault(key, {})
        else:
            raise ScenarioError(f"sweep parameter {path!r}: {where!r} is not a section")


def _validated(data: dict[str, Any], what: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"{what}: {loc}: {first['msg']}") from None


def make_cases(
    base: Scenario,
    runs: int = 1,
    seed: int | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    fail_links_share: float = 0.0,
    fail_satellites_share: float = 0.0,
) -> list[SweepCase]:
    """The cases of a sweep: every combination of ``grid`` values × ``runs`` seeds.

    Parameters
    ----------
    base : the scenario every case starts from.
    runs : Monte Carlo runs (seeds) per parameter combination.
    seed : the sweep's seed; defaults to the scenario's ``timeline.seed``.
    grid : dotted scenario path (``ran.battery_hold_s``, ``events.0.params.ntn_delay_s``) →
        values to try.
    fail_links_share, fail_satellites_share : share of backbone fibre links and of each
        constellation's satellites that fail for the whole run, drawn per case.

    Raises
    ------
    ScenarioError
        For ``runs < 1``, a share outside [0, 1], a path that is not in the scenario, or a
        value the scenario schema refuses (the message names the path).
    """
    if runs < 1:
        raise ScenarioError(f"runs must be at least 1, not {runs}")
    for name, share in (
        ("fail_links_share", fail_links_share),
        ("fail_satellites_share", fail_satellites_share),
    ):
        if not 0.0 <= share <= 1.0:
            raise ScenarioError(f"{name} must be in [0, 1], not {share:g}")
    grid = dict(grid or {})
    for path, values in grid.items():
        if len(values) == 0:
            raise ScenarioError(f"sweep parameter {path!r} has no values; give at least one")
    s0 = base.timeline.seed if seed is None else int(seed)
    combos = list(itertools.product(*grid.values())) if grid else [()]
    seeds = np.random.SeedSequence(s0).generate_state(runs * len(combos), dtype=np.uint32)
    end = base.timeline.duration_s
    cases = []
    for c, combo in enumerate(combos):
        data = base.model_dump(mode="json")
        params = dict(zip(grid, combo, strict=True))
        for path, value in params.items():
            _set_path(data, path, value)
        extra: list[dict[str, Any]] = []
        if fail_links_share > 0:
            extra.append(
                Event(
                    kind="link_down", target="backbone", end_s=end, factor=fail_links_share
                ).model_dump(mode="json", exclude_defaults=True)
            )
        if fail_satellites_share > 0:
            for const in base.ntn.constellations:
                extra.append(
                    Event(
                        kind="satellite_failure",
                        target=const.name,
                        end_s=end,
                        factor=fail_satellites_share,
                    ).model_dump(mode="json", exclude_defaults=True)
                )
        data["events"] = list(data.get("events", [])) + extra
        for r in range(runs):
            i = c * runs + r
            case_seed = int(seeds[i])
            data["timeline"]["seed"] = case_seed
            sc = _validated(data, f"sweep case {i} ({params or 'base'})")
            cases.append(
                SweepCase(
                    case=i,
                    seed=case_seed,
                    scenario_json=json.dumps(sc.model_dump(mode="json"), sort_keys=True),
                    params=params,
                )
            )
    return cases


@functools.lru_cache(maxsize=4)
def _twin_for(scenario_json_without_seed: str) -> Any:
    """A built twin per scenario (seed excluded: the seed only changes event draws)."""
    from tsunagu.sim.twin import Twin

    return Twin(Scenario.model_validate_json(scenario_json_without_seed))


def run_case(case: SweepCase) -> dict[str, Any]:
    """Run one case and return its row: case, seed, parameter values and KPIs.

    Pure in its argument: the same case gives the same row in any process or on any worker.
    Twins are cached per process by scenario (built once for all seeds of a combination).
    """
    from tsunagu.sim.engine import run_twin

    data = json.loads(case.scenario_json)
    data["timeline"]["seed"] = 0
    twin = _twin_for(json.dumps(data, sort_keys=True))
    result = run_twin(twin, seed=case.seed)
    kpis = result.summary["kpis"]
    row: dict[str, Any] = {"case": case.case, "seed": case.seed}
    row.update({f"param:{k}": v for k, v in case.params.items()})
    row.update({k: kpis.get(k) for k in KPI_COLUMNS})
    return row


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    rows = sorted(rows, key=lambda r: int(r["case"]))
    columns: list[str] = []
    for r in rows:
        columns += [c for c in r if c not in columns]
    data: dict[str, Any] = {}
    for c in columns:
        values = [r.get(c) for r in rows]
        if c in ("case", "seed") or (c in kc.KPIS and kc.KPIS[c].aggregation == "count"):
            data[c] = pa.array(values, pa.int64())
        elif all(isinstance(v, int | float) or v is None for v in values) and not all(
            v is None for v in values
        ):
            data[c] = pa.array([None if v is None else float(v) for v in values], pa.float64())
        else:
            data[c] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(data)


def run_sweep(
    cases: Sequence[SweepCase],
    workers: int | None = None,
    scheduler: str | Any | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run the cases and merge their rows into one table.

    Parameters
    ----------
    cases : from :func:`make_cases`.
    workers : local processes (default: the machine's CPU count); 1 runs in this process.
        Ignored with ``scheduler``.
    scheduler : a ``dask.distributed`` scheduler address (``tcp://host:8786``) or a
        ``distributed.Client``; the cases then run on that cluster (``pip install
        tsunagu[dask]``).
    progress : called with (cases done, cases in all) as cases finish.

    Raises
    ------
    ScenarioError
        When a scheduler is given but ``dask.distributed`` is not installed or the scheduler
        cannot be reached.
    """
    n = len(cases)
    done = 0
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()

    def tick() -> None:
        if progress is not None:
            progress(done, n)

    if scheduler is not None:
        try:
            import distributed
        except ImportError:  # pragma: no cover - dask is installed with the test extra
            raise ScenarioError(
                "--scheduler needs dask.distributed; install it with `pip install tsunagu[dask]`"
            ) from None
        own = isinstance(scheduler, str)
        if own and not re.fullmatch(r"(tcp|tls|ws|wss|ucx|inproc)://[^\s/:]+(:\d{1,5})", scheduler):
            raise ScenarioError(
                f"--scheduler {scheduler!r} is not a Dask scheduler address; Fix: pass "
                "PROTOCOL://HOST:PORT, e.g. tcp://127.0.0.1:8786"
            )
        try:
            client: Any = distributed.Client(scheduler, timeout="10s") if own else scheduler  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise ScenarioError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`, or drop --scheduler"
            ) from None
        try:
            futures = client.map(run_case, list(cases), pure=False)
            for fut in distributed.as_completed(futures):  # type: ignore[no-untyped-call]
                rows.append(fut.result())
                done += 1
                tick()
            n_workers = len(client.scheduler_info().get("workers", {}))
        finally:
            if own:
                client.close()
        return SweepResult(_table(rows), "dask", n_workers, time.perf_counter() - t0)

    n_workers = max(1, int(workers if workers is not None else (os.cpu_count() or 1)))
    n_workers = min(n_workers, max(n, 1))
    if n_workers == 1:
        for c in cases:
            rows.append(run_case(c))
            done += 1
            tick()
        return SweepResult(_table(rows), "local", 1, time.perf_counter() - t0)
    pool = ProcessPoolExecutor(max_workers=n_workers, initializer=_worker_init)
    try:
        with _sigint_held():  # the workers are forked here (see _sigint_held)
            futs: list[Future[dict[str, Any]]] = [pool.submit(run_case, c) for c in cases]
        for f in as_completed(futs):
            rows.append(f.result())
            done += 1
            tick()
        pool.shutdown(wait=True)
    except BaseException:
        # Ctrl-C, a failed case or the caller's error: stop every worker now, not after the
        # queued cases ran. A second Ctrl-C meanwhile does not cut the clean-up short.
        with _sigint_held(redeliver=False):
            _kill_workers(pool)
        raise
    return SweepResult(_table(rows), "local", n_workers, time.perf_counter() - t0)


@contextlib.contextmanager
def _sigint_held(redeliver: bool = True) -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back for the block, then deliver it once (if ``redeliver``).

    Pool workers are forked inside the block. A SIGINT that lands while ``fork`` runs is
    handled inside the interpreter's at-fork hooks, which swallow exceptions ("Exception ignored
    in ..."): without this, the parent carried on as if Ctrl-C had not been pressed (the sweep
    ran to the end, exit 0) and a worker interrupted before its initializer ignores SIGINT died
    with a traceback. So SIGINT is blocked in this thread, which the workers inherit
    (:func:`_worker_init` ignores it, then unblocks it), and, in the main thread, the Python
    handler only records the signal; the previous handler gets it after the block.
    """
    import signal
    import threading

    caught: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if main:
        signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    masks = hasattr(signal, "pthread_sigmask")  # POSIX; elsewhere the handler alone
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if masks else set()
    try:
        yield
    finally:
        if masks:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a pending SIGINT is caught now
        if main:
            signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if caught and redeliver:
        signal.raise_signal(signal.SIGINT)  # KeyboardInterrupt under Python's own handler


_PR_SET_PDEATHSIG = 1


def _worker_init() -> None:
    """Make a pool worker die with its parent and leave Ctrl-C to the parent.

    On Linux the kernel sends SIGKILL to the worker when the parent dies
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread polls the parent's pid. SIGINT is ignored
    so that Ctrl-C in a terminal (sent to the whole process group) stops the sweep once, in the
    parent, which then kills the workers.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent forked this worker with SIGINT blocked (_sigint_held); a Ctrl-C pending since
    # is discarded now that it is ignored.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    parent_pid = os.getppid()  # the sweep (fork) or the fork server, which dies with it
    armed = False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        armed = False
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    if not armed:
        import threading

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="tsunagu-parent-watch").start()


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    # The executor has no public way to stop running work; its worker processes are kept in
    # the private ``_processes`` mapping (CPython 3.8+), read defensively.
    procs = dict(getattr(pool, "_processes", None) or {})
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs.values():
        with contextlib.suppress(Exception):
            proc.kill()
    for proc in procs.values():
        with contextlib.suppress(Exception):
            proc.join(timeout=5)
    # Let the pool's manager thread finish tearing itself down (it closes its wake-up pipe once
    # it has seen the workers die). At interpreter exit, CPython 3.11's concurrent.futures
    # wakes every manager thread without the pool's lock; a pipe closed at that same moment
    # ended in a "Bad file descriptor" traceback from threading._shutdown after Ctrl-C.
    if manager is not None:
        with contextlib.suppress(Exception):
            manager.join(timeout=10)
