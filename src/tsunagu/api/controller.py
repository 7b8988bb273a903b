"""Bring your own algorithm: an external placement controller over a WebSocket.

A run submitted with ``controller: {fallback, deadline_s}`` is decided, step by step, by a
program the tenant runs on its own machine. That program opens
``ws://HOST/v1/runs/{id}/controller`` (with its token in the ``Authorization`` header) and,
for every step, receives::

    {"type": "step", "step": k, "observation": {latency_s: [[...]], load_gpu: [...],
     capacity_gpu: [...], sla_s: [...], carbon_g_per_request: [[...]], ...}}

(the placement problem of :class:`tsunagu.orchestrate.policy.AllocationProblem`, ``null`` for
an unreachable site) and answers ``{"type": "action", "step": k, "site": [s_0, s_1, ...]}``:
one site index per flow, ``-1`` to reject. An answer that is late (after ``deadline_s``),
missing (no controller connected, connection lost) or invalid (wrong length, unreachable site,
over a site's capacity) is replaced, for that step, by the named fallback policy's choice; the
run's summary says how many steps each decided and why (``summary.controller``). When the run
ends the service sends ``{"type": "done", "status": ...}`` and closes.

The bridge sits on the engine's policy interface (the placement stage); :mod:`tsunagu.api.
adapter` is where it is handed to the engine.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from tsunagu.api.adapter import AllocationProblem, problem_to_json
from tsunagu.orchestrate.policy import Policy, get_policy

__all__ = ["ControllerHub", "ExternalPolicy"]


class _Link:
    """The WebSocket side of one run's controller: a send function and a reply queue."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Any) -> None:
        self.loop = loop
        self.send = send
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self.closed = threading.Event()


class ExternalPolicy:
    """A placement policy that asks the tenant's controller and falls back on a deadline."""

    name = "external"

    def __init__(self, fallback: str, deadline_s: float, connect_s: float) -> None:
        self.fallback_name = fallback
        self._fallback: Policy = get_policy(fallback)
        self.deadline_s = deadline_s
        self.connect_s = connect_s
        self._link: _Link | None = None
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._step = 0
        self._answered = 0
        self._reasons: Counter[str] = Counter()
        self._first_fallback: int | None = None
        self._waited_connect = False

    # ---- the WebSocket side ----------------------------------------------------------------
    def attach(self, link: _Link) -> bool:
        with self._lock:
            if self._link is not None and not self._link.closed.is_set():
                return False
            self._link = link
        self._connected.set()
        return True

    def detach(self, link: _Link) -> None:
        link.closed.set()
        with self._lock:
            if self._link is link:
                self._link = None
                self._connected.clear()

    def finish(self, status: str) -> None:
        link = self._link
        if link is not None and not link.closed.is_set():
            self._send(link, {"type": "done", "status": status, "controller": self.report()})

    # ---- the engine side -------------------------------------------------------------------
    def _send(self, link: _Link, msg: dict[str, Any]) -> bool:
        try:
            fut = asyncio.run_coroutine_threadsafe(link.send(msg), link.loop)
            fut.result(timeout=max(self.deadline_s, 1.0))
            return True
        except Exception:
            return False

    def allocate(self, problem: AllocationProblem) -> npt.NDArray[np.int64]:
        step = self._step
        self._step += 1
        if not self._waited_connect:
            self._waited_connect = True
            self._connected.wait(self.connect_s)
        link = self._link
        why = "no controller connected"
        if link is not None and not link.closed.is_set():
            why = self._ask(link, step, problem)
            if not why:
                return self._last
        self._reasons[why] += 1
        if self._first_fallback is None:
            self._first_fallback = step
        return self._fallback.allocate(problem)

    def _ask(self, link: _Link, step: int, problem: AllocationProblem) -> str:
        msg = {"type": "step", "step": step, "observation": problem_to_json(problem)}
        if not self._send(link, msg):
            return "connection lost"
        end = time.monotonic() + self.deadline_s
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return f"no answer within the deadline ({self.deadline_s:g} s)"
            try:
                reply = link.replies.get(timeout=left)
            except queue.Empty:
                if link.closed.is_set():
                    return "connection lost"
                continue
            if reply.get("type") == "closed":
                return "connection lost"
            if reply.get("step") != step:
                continue  # a late answer to an earlier step
            why = self._check(reply.get("site"), problem)
            if why:
                return why
            self._answered += 1
            return ""

    def _check(self, site: Any, problem: AllocationProblem) -> str:
        n_f, n_s = problem.latency_s.shape
        if not isinstance(site, list) or len(site) != n_f:
            return f"invalid action: 'site' must be a list of {n_f} site indices"
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in site):
            return "invalid action: site indices must be integers"
        arr = np.asarray(site, dtype=np.int64)
        if arr.size and (arr.min() < -1 or arr.max() >= n_s):
            return f"invalid action: site indices must lie in [-1, {n_s})"
        served = arr >= 0
        if not np.all(np.isfinite(problem.latency_s[np.flatnonzero(served), arr[served]])):
            return "invalid action: a flow was sent to a site it cannot reach"
        used = np.bincount(arr[served], weights=problem.load_gpu[served], minlength=n_s)
        if np.any(used > problem.capacity_gpu + 1e-9):
            return "invalid action: a site's GPU capacity is exceeded"
        self._last = arr
        return ""

    _last: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)

    def report(self) -> dict[str, Any]:
        fell_back = sum(self._reasons.values())
        return {
            "kind": "placement",
            "fallback": self.fallback_name,
            "deadline_s": self.deadline_s,
            "steps": self._step,
            "decided_by_controller": self._answered,
            "decided_by_fallback": fell_back,
            "fell_back": fell_back > 0,
            "first_fallback_step": self._first_fallback,
            "fallback_reasons": dict(self._reasons),
        }


class ControllerHub:
    """The external policies of the runs this server executes, by run id."""

    def __init__(self) -> None:
        self._policies: dict[str, ExternalPolicy] = {}
        self._lock = threading.Lock()

    def policy_for(self, run_id: str, spec: dict[str, Any], connect_s: float) -> ExternalPolicy:
        with self._lock:
            pol = self._policies.get(run_id)
            if pol is None:
                pol = ExternalPolicy(
                    str(spec.get("fallback", "latency-first")),
                    float(spec.get("deadline_s", 1.0)),
                    connect_s,
                )
                self._policies[run_id] = pol
            return pol

    def get(self, run_id: str) -> ExternalPolicy | None:
        with self._lock:
            return self._policies.get(run_id)

    def drop(self, run_id: str) -> None:
        with self._lock:
            self._policies.pop(run_id, None)

    @staticmethod
    def link(loop: asyncio.AbstractEventLoop, send: Any) -> _Link:
        return _Link(loop, send)

    @staticmethod
    def decode(text: str) -> dict[str, Any]:
        try:
            data = json.loads(text)
        except ValueError:
            return {"type": "invalid"}
        return data if isinstance(data, dict) else {"type": "invalid"}
