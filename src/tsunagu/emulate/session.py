"""An emulation: the namespace chain of a schedule, its relay, probes and user commands.

::

    with Emulation(schedule_from_run(run_dir, "Tokyo/chat"), speed=300.0) as emu:
        result = emu.run(client=["curl", f"http://{emu.dst_addr}:8000/"],
                         server=["python", "-m", "http.server"])

The chain has one namespace per end and one between every two segments: ``src`` (the flow's
user), the hops, and ``dst`` (the compute site). Segment ``i`` joins namespace ``i`` and
``i + 1`` through a TUN device on each side, held by the relay (:mod:`tsunagu.emulate.relay`).
Routes exist only between the two end addresses inside the chain: no namespace has a default
route or a link to the host, so traffic never leaves the namespaces the emulation made.

Twin time maps to wall time by ``speed`` (twin seconds per wall second): LEO RTT series replay
at 1, hourly flow steps can be compressed. Everything the emulation makes is removed on exit,
on Ctrl-C and SIGTERM, and (owner dead) by the next start.

Start-up waits for events, not for fixed times: each process says ``ready`` on its stdout once
it is bound and, for the timing ones, running at real-time priority; the user's server is
ready once it listens (a TCP or UDP port that the destination namespace did not have before).
Each wait is bounded by a generous limit that grows with the number of processes it waits for,
so an overloaded machine starts slowly rather than fails, and a process that dies or hangs
ends the start with an error naming it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import logging
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import numpy as np
import pyarrow as pa

from tsunagu.emulate.netns import (
    PREFIX,
    EmulationError,
    ip,
    netem_available,
    remove_stale,
    require_privileges,
    run_in,
)
from tsunagu.emulate.probe import HEADER, goodput_bps, priority_of
from tsunagu.emulate.schedule import Schedule

__all__ = ["Emulation", "EmulationResult"]

log = logging.getLogger(__name__)

_ECHO_PORT = 7007
_SINK_PORT = 7008
#: IP + UDP headers added to a probe's payload on the wire.
_UDP_IP_BYTES = 28
#: IP + TCP headers with the timestamp option per full-size segment.
_TCP_IP_BYTES = 52
_LEAD_S = 0.2
#: Longest start of one process (a Python interpreter importing numpy, opening its devices or
#: binding its socket: well under a second on an idle machine); a wait for several processes
#: started together allows this much for each.
START_LIMIT_S = 60.0
#: How often the wait for the user's server looks at the destination namespace's sockets.
_LISTEN_POLL_S = 0.01


def _addr(segment: int, side: int) -> str:
    return f"10.77.{segment}.{side}"


@dataclass(frozen=True)
class EmulationResult:
    """What an emulation measured against what the twin predicted.

    ``rtt`` has one row per echo (``time_s`` twin time of the send, ``wall_s`` from the start,
    ``step``, ``rtt_ms``, ``predicted_rtt_ms``, ``loaded``: sent while the bulk probe ran);
    ``steps`` one row per step (``rtt_p50_ms`` over unloaded echoes, ``rtt_sent``,
    ``rtt_received``, ``goodput_bps`` and ``predicted_goodput_bps`` where the bulk probe ran).
    """

    flow: str
    rtt: pa.Table
    steps: pa.Table
    meta: dict[str, Any] = field(default_factory=dict)


class Emulation:
    """The namespace chain of ``schedule``, built on enter and removed on exit.

    Parameters
    ----------
    schedule : the segments and their delay, rate and loss per step.
    speed : twin seconds per wall second (1 replays in real time).
    seed : seed of the relay's loss draws.
    queue_s : buffer of every segment direction, in seconds of backlog at its rate.
    max_rate_bps : cap on every segment's rate (the relay moves tens of Mb/s, not Gb/s).
    start_limit_s : longest start of one of its processes (relay, probes) before it fails.
    """

    def __init__(
        self,
        schedule: Schedule,
        *,
        speed: float = 1.0,
        seed: int = 0,
        queue_s: float = 0.1,
        max_rate_bps: float | None = None,
        start_limit_s: float = START_LIMIT_S,
    ) -> None:
        if not speed > 0:
            raise EmulationError(f"speed must be > 0 twin seconds per wall second, not {speed}")
        if max_rate_bps is not None and not max_rate_bps > 0:
            raise EmulationError(f"max_rate_bps must be > 0, not {max_rate_bps}")
        if not start_limit_s > 0:
            raise EmulationError(f"start_limit_s must be > 0 seconds, not {start_limit_s}")
        if max_rate_bps is not None:
            schedule = dataclasses.replace(
                schedule, rate_bps=np.minimum(schedule.rate_bps, max_rate_bps)
            )
        self.schedule = schedule
        self.speed = float(speed)
        self.seed = int(seed)
        self.queue_s = float(queue_s)
        self.start_limit_s = float(start_limit_s)
        self.rate_bps = schedule.rate_bps
        self.tag = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        n = len(schedule.segments)
        self.namespaces = [f"{self.tag}n{i}" for i in range(n + 1)]
        self.src_addr = _addr(0, 1)
        self.dst_addr = _addr(n - 1, 2)
        self._relay: subprocess.Popen[str] | None = None
        self._procs: list[subprocess.Popen[str]] = []
        self._old_term: Any = None
        self.netem = False
        #: Per process kind, its scheduling priority once started ("fifo 2", "nice -20", ...).
        self.priority: dict[str, str] = {}

    @property
    def src_ns(self) -> str:
        return self.namespaces[0]

    @property
    def dst_ns(self) -> str:
        return self.namespaces[-1]

    # ---- set-up and clean-up -------------------------------------------------------------
    def __enter__(self) -> Emulation:
        require_privileges()
        for name in remove_stale():
            log.info("removed stale namespace %s", name)
        self.netem = netem_available()
        if threading_main():
            self._old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _build(self) -> None:
        for ns in self.namespaces:
            ip("netns", "add", ns)
            ip("link", "set", "lo", "up", netns=ns)
        n = len(self.schedule.segments)
        spec = {
            "segments": [
                {
                    "a_ns": self.namespaces[i],
                    "b_ns": self.namespaces[i + 1],
                    "a_dev": f"tsg{i}a",
                    "b_dev": f"tsg{i}b",
                }
                for i in range(n)
            ],
            "seed": self.seed,
            "queue_s": self.queue_s,
            "time_s": ((self.schedule.time_s - self.schedule.time_s[0]) / self.speed).tolist(),
            "delay_s": self.schedule.delay_s.tolist(),
            "rate_bps": self.rate_bps.tolist(),  # inf (unlimited) travels as JSON Infinity
            "loss": self.schedule.loss.tolist(),
        }
        self._relay = subprocess.Popen(
            [sys.executable, "-m", "tsunagu.emulate.relay"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._relay.stdin is not None
        assert self._relay.stdout is not None
        self._relay.stdin.write(json.dumps(spec) + "\n")
        self._relay.stdin.flush()
        self._ready(("relay", self._relay))
        for i in range(n):
            a, b = self.namespaces[i], self.namespaces[i + 1]
            ip("addr", "add", _addr(i, 1), "peer", _addr(i, 2), "dev", f"tsg{i}a", netns=a)
            ip("addr", "add", _addr(i, 2), "peer", _addr(i, 1), "dev", f"tsg{i}b", netns=b)
            ip("link", "set", f"tsg{i}a", "up", netns=a)
            ip("link", "set", f"tsg{i}b", "up", netns=b)
        for i, ns in enumerate(self.namespaces):
            if i < n:
                ip("route", "replace", self.dst_addr, "dev", f"tsg{i}a", netns=ns)
            if i > 0:
                ip("route", "replace", self.src_addr, "dev", f"tsg{i - 1}b", netns=ns)
            if 0 < i < n:
                run_in(ns, ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])

    def close(self) -> None:
        """Stop every process and remove every namespace of this emulation (idempotent)."""
        for p in self._procs:
            _stop(p)
        self._procs.clear()
        if self._relay is not None:
            _stop(self._relay)
            self._relay = None
        for ns in self.namespaces:
            ip("netns", "delete", ns, check=False)
        if self._old_term is not None:
            signal.signal(signal.SIGTERM, self._old_term)
            self._old_term = None

    # ---- commands --------------------------------------------------------------------------
    def popen(self, where: str, argv: Sequence[str], **kw: Any) -> subprocess.Popen[str]:
        """Start ``argv`` in the ``"src"`` or ``"dst"`` namespace; stopped on exit."""
        ns = {"src": self.src_ns, "dst": self.dst_ns}.get(where)
        if ns is None:
            raise EmulationError(f"where must be 'src' or 'dst', not {where!r}")
        kw.setdefault("text", True)
        p: subprocess.Popen[str] = subprocess.Popen(["ip", "netns", "exec", ns, *argv], **kw)
        self._procs.append(p)
        return p

    def _probe(self, where: str, *args: object) -> subprocess.Popen[str]:
        return self.popen(
            where,
            [sys.executable, "-m", "tsunagu.emulate.probe", *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    # ---- the run ---------------------------------------------------------------------------
    def run(
        self,
        *,
        rtt_interval_s: float = 0.02,
        probe_bytes: int = 64,
        throughput: bool = False,
        server: Sequence[str] | None = None,
        client: Sequence[str] | None = None,
        server_wait_s: float = 30.0,
    ) -> EmulationResult:
        """Replay the schedule once with the probes and the user's commands; the measurements.

        ``throughput`` runs a TCP bulk transfer from ``src`` to ``dst`` in the second half of
        every step of at least 2 s (wall); echoes sent meanwhile are marked ``loaded``.
        ``server`` starts in ``dst`` before the replay, ``client`` in ``src`` at its start;
        both are stopped at its end (their exit codes are in ``meta``). The replay starts once
        the server listens (a new TCP or UDP port in ``dst``), has exited, or ``server_wait_s``
        has passed (0: at once); ``meta["server_listening_s"]`` says how long it took (None:
        it did not listen).
        """
        if self._relay is None:
            raise EmulationError("run() needs the emulation entered: use `with Emulation(...)`")
        if not server_wait_s >= 0:
            raise EmulationError(f"server_wait_s must be >= 0 seconds, not {server_wait_s}")
        sch = self.schedule
        rel = (sch.time_s - sch.time_s[0]) / self.speed
        wall_end = (sch.end_s - sch.time_s[0]) / self.speed
        bounds = np.append(rel, wall_end)
        # The last echoes may still be queued: twice the longest delay and the buffers, at most 1 s.
        longest = float(np.max(np.sum(sch.delay_s, axis=1)))
        drain = min(1.0, 0.2 + 2.0 * (longest + len(sch.segments) * self.queue_s))
        windows_rel = [(a + (b - a) / 2.0, b - 0.1) for a, b in itertools.pairwise(bounds)]
        windows_rel = [(a, b) for a, b in windows_rel if b - a >= 0.9] if throughput else []
        echo = self._probe("dst", "echo", _ECHO_PORT)
        sink = self._probe("dst", "sink", _SINK_PORT) if throughput and windows_rel else None
        self._ready(("echo", echo), ("sink", sink))  # bound before the clients start
        rtt = self._probe(
            "src", "rtt", self.dst_addr, _ECHO_PORT, wall_end, rtt_interval_s, probe_bytes, drain
        )
        bulk = (
            self._probe(
                "src",
                "bulk",
                self.dst_addr,
                _SINK_PORT,
                ",".join(f"{a}:{b}" for a, b in windows_rel),
            )
            if sink is not None
            else None
        )
        self._ready(("rtt", rtt), ("bulk", bulk))
        env = {**os.environ, "TSUNAGU_SRC": self.src_addr, "TSUNAGU_DST": self.dst_addr}
        listening_s: float | None = None
        user_server = None
        if server:
            before = _bound_ports(echo.pid)
            user_server = self.popen("dst", server, env=env)
            listening_s = _wait_listening(echo.pid, before, user_server, server_wait_s)
            if listening_s is None and server_wait_s > 0:
                log.warning("the server did not listen within %g s; replay starts", server_wait_s)
        t0 = time.monotonic() + _LEAD_S
        windows = [(t0 + a, t0 + b) for a, b in windows_rel]
        for p in (self._relay, rtt, bulk):
            if p is not None:
                assert p.stdin is not None
                p.stdin.write(f"go {t0:.6f}\n")
                p.stdin.flush()
        if client:
            while time.monotonic() < t0:
                time.sleep(0.005)
        user_client = self.popen("src", client, env=env) if client else None
        # Each ends on its own (the RTT probe after its drain, the bulk one after its last
        # window, the sink when its stdin closes); the limits only bound a hung process.
        out, _ = rtt.communicate(timeout=wall_end + drain + self.start_limit_s)
        sink_out = ""
        if bulk is not None and sink is not None:
            bulk.wait(timeout=self.start_limit_s)
            sink_out, _ = sink.communicate(timeout=self.start_limit_s)
        codes: dict[str, int | None] = {}
        for name, p in (("server", user_server), ("client", user_client)):
            if p is not None:
                codes[name] = p.poll()
                _stop(p)
        _stop(echo)
        result = self._result(t0, out, sink_out, windows, probe_bytes, codes)
        result.meta["server_listening_s"] = listening_s
        result.meta["priority"] = dict(self.priority)
        result.meta["relay"] = self._stop_relay()
        return result

    def _ready(self, *procs: tuple[str, subprocess.Popen[str] | None]) -> None:
        """Wait until each process says ``ready``: at most ``start_limit_s`` for each."""
        live = [(name, p) for name, p in procs if p is not None]
        limit = self.start_limit_s * len(live)
        deadline = time.monotonic() + limit
        for name, p in live:
            assert p.stdout is not None
            line = _line_before(p, deadline)
            if line is None:
                raise EmulationError(
                    f"the {name} process did not start within {limit:g} s (the machine may "
                    "be overloaded: give Emulation a longer start_limit_s)"
                )
            if line.strip() != "ready":
                err = p.stderr.read() if p.stderr is not None and p.poll() is not None else ""
                raise EmulationError(
                    f"the {name} process did not start: {(line + err).strip()[-400:]}"
                )
            with contextlib.suppress(OSError):
                self.priority[name] = priority_of(p.pid)
            if name == "relay" and not self.priority.get(name, "").startswith("fifo"):
                log.warning(
                    "the relay runs without real-time priority (%s): on a loaded machine its "
                    "delays overshoot by milliseconds; run as root with CAP_SYS_NICE and a "
                    "real-time budget (sysctl kernel.sched_rt_runtime_us, the cgroup's "
                    "cpu.rt_runtime_us)",
                    self.priority.get(name, "unknown"),
                )

    def _stop_relay(self) -> list[dict[str, int]]:
        """End the relay (stdin closed) and return its per-queue counters."""
        relay, self._relay = self._relay, None
        if relay is None:
            return []
        try:
            # Closing its stdin ends the relay; it prints its counters and exits.
            out, _ = relay.communicate(timeout=self.start_limit_s)
        except subprocess.TimeoutExpired:
            _stop(relay)
            return []
        lines = [ln for ln in out.split("\n") if ln.startswith("{")]
        stats: list[dict[str, int]] = json.loads(lines[-1])["queues"] if lines else []
        return stats

    def _result(
        self,
        t0: float,
        rtt_out: str,
        sink_out: str,
        windows: list[tuple[float, float]],
        probe_bytes: int,
        codes: dict[str, int | None],
    ) -> EmulationResult:
        sch = self.schedule
        rel = (sch.time_s - sch.time_s[0]) / self.speed
        lines = [ln for ln in rtt_out.split("\n") if ln]
        sent_t = np.array([float(ln[2:]) for ln in lines if ln.startswith("s ")]) - t0
        # send time, path RTT, the probe's wake-up lag and the echo's hold (both excluded).
        pairs = np.array([[float(x) for x in ln.split()] for ln in lines if ln[0] != "s"])
        pairs = pairs.reshape(-1, 4)
        wall = pairs[:, 0] - t0
        step = np.clip(np.searchsorted(rel, wall, side="right") - 1, 0, sch.n_steps - 1)
        loaded = np.zeros(wall.size, dtype=bool)
        for a, b in windows:
            loaded |= (pairs[:, 0] >= a - 0.05) & (pairs[:, 0] <= b + 0.5)
        ip_bytes = max(probe_bytes, HEADER.size) + _UDP_IP_BYTES
        pred = sch.predicted_probe_rtt_ms(ip_bytes)
        rtt_ms = pairs[:, 1] * 1e3
        rtt = pa.table(
            {
                "flow": pa.array([sch.flow] * wall.size, pa.string()),
                "time_s": sch.time_s[0] + wall * self.speed,
                "wall_s": wall,
                "step": step.astype(np.int64),
                "rtt_ms": rtt_ms,
                "predicted_rtt_ms": pred[step],
                "twin_rtt_ms": sch.predicted_rtt_ms[step],
                "loaded": loaded,
                "probe_lag_ms": pairs[:, 2] * 1e3,
                "echo_hold_ms": pairs[:, 3] * 1e3,
            }
        )
        bounds = np.append(rel, (sch.end_s - sch.time_s[0]) / self.speed)
        sent_step = np.clip(np.searchsorted(rel, sent_t, side="right") - 1, 0, sch.n_steps - 1)
        t_sink, b_sink = _parse_sink(sink_out)
        mtu_eff = (1500 - _TCP_IP_BYTES) / 1500
        p50 = np.full(sch.n_steps, np.nan)
        received = np.zeros(sch.n_steps, dtype=np.int64)
        goodput = np.full(sch.n_steps, np.nan)
        bottleneck = np.min(self.rate_bps, axis=1)
        for k in range(sch.n_steps):
            sel = (step == k) & ~loaded
            received[k] = int(np.count_nonzero(step == k))
            if sel.any():
                p50[k] = float(np.median(rtt_ms[sel]))
            a, b = t0 + bounds[k], t0 + bounds[k + 1]
            win = [(x, y) for x, y in windows if a <= x < b]
            if win:
                x, y = win[0]
                # The first half of the window lets TCP fill the queue; goodput over the rest.
                goodput[k] = goodput_bps(t_sink, b_sink, (x + y) / 2.0, y)
        steps = pa.table(
            {
                "flow": pa.array([sch.flow] * sch.n_steps, pa.string()),
                "step": np.arange(sch.n_steps, dtype=np.int64),
                "time_s": sch.time_s,
                "wall_s": rel,
                "rtt_p50_ms": p50,
                "predicted_rtt_ms": pred,
                "twin_rtt_ms": sch.predicted_rtt_ms,
                "rtt_received": received,
                "rtt_sent": np.bincount(sent_step, minlength=sch.n_steps).astype(np.int64),
                "goodput_bps": goodput,
                "predicted_goodput_bps": np.where(
                    np.isfinite(goodput), bottleneck * mtu_eff, np.nan
                ),
                "rate_bps": bottleneck,
            }
        )
        meta = {
            "flow": sch.flow,
            "segments": [
                {"name": s.name, "domain": s.domain, "namespace_pair": [i, i + 1]}
                for i, s in enumerate(sch.segments)
            ],
            "speed": self.speed,
            "seed": self.seed,
            "queue_s": self.queue_s,
            "start_s": float(sch.time_s[0]),
            "end_s": float(sch.end_s),
            "backend": "relay",
            "netem_available": self.netem,
            "probe_bytes": probe_bytes,
            "commands": codes,
            "excluded_ms": _excluded(pairs[:, 2] * 1e3, pairs[:, 3] * 1e3),
        }
        return EmulationResult(flow=sch.flow, rtt=rtt, steps=steps, meta=meta)


def _line_before(p: subprocess.Popen[str], deadline: float) -> str | None:
    """The next line ``p`` prints, or None if none came before ``deadline`` (monotonic).

    The process ending before it prints gives an empty line (its stdout closed).
    """
    assert p.stdout is not None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        readable, _, _ = select.select([p.stdout], [], [], left)
        if readable:
            return p.stdout.readline()


def _bound_ports(pid: int) -> set[tuple[str, int]]:
    """The TCP ports listening and UDP ports bound in the network namespace of ``pid``."""
    ports = set()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            text = Path(f"/proc/{pid}/net/{proto}").read_text(encoding="ascii")
        except OSError:
            continue
        for line in text.splitlines()[1:]:
            f = line.split()
            if len(f) > 3 and (proto.startswith("udp") or f[3] == "0A"):  # 0A: TCP LISTEN
                ports.add((proto[:3], int(f[1].rsplit(":", 1)[1], 16)))
    return ports


def _wait_listening(
    pid: int, before: set[tuple[str, int]], server: subprocess.Popen[str], limit_s: float
) -> float | None:
    """Seconds until the namespace of ``pid`` has a port not in ``before``; None if ``server``
    exits or ``limit_s`` passes first."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        if _bound_ports(pid) - before:
            return time.monotonic() - start
        if server.poll() is not None:
            return None
        time.sleep(_LISTEN_POLL_S)
    return None


def _excluded(lag_ms: np.ndarray, hold_ms: np.ndarray) -> dict[str, float | int]:
    """Summary of the probe delays left out of the RTT (see tsunagu.emulate.probe)."""
    out: dict[str, float | int] = {"unstamped": int(np.count_nonzero(np.isnan(lag_ms)))}
    for name, v in (("probe_lag", lag_ms), ("echo_hold", hold_ms)):
        v = v[np.isfinite(v)]
        for q, label in ((50, "p50"), (99, "p99"), (100, "max")):
            out[f"{name}_{label}"] = float(np.percentile(v, q)) if v.size else float("nan")
    return out


def _parse_sink(out: str) -> tuple[list[float], list[int]]:
    t, b = [], []
    for ln in out.split("\n"):
        parts = ln.split()
        if len(parts) == 2:
            t.append(float(parts[0]))
            b.append(int(parts[1]))
    return t, b


def _stop(p: subprocess.Popen[str]) -> None:
    if p.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            p.terminate()
        try:
            p.wait(timeout=3.0)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for s in (p.stdin, p.stdout, p.stderr):
        if s is not None:
            with contextlib.suppress(OSError):
                s.close()


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
