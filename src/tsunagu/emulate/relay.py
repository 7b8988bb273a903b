"""The user-space relay: delay, rate and loss between adjacent namespaces over TUN devices.

Each segment of the chain is a pair of TUN devices, one in each of the two namespaces it
joins; the relay reads the IP packets one side's stack sends into its device and writes them,
when due, into the other side's device. Per direction a :class:`LinkQueue` models the segment
as a link: a packet waits for the link to finish serialising the packets before it
(``size / rate``), then travels for the segment's delay; a packet that would wait longer than
the buffer holds is dropped (tail drop), and a packet is lost with the segment's probability,
drawn from a seeded generator. This needs no ``netem`` qdisc (absent on many cloud kernels).

A change of delay or rate at a step applies to packets that arrive after it; packets already
queued keep their release time, and release times never decrease, so nothing in flight is
dropped or reordered by a change.

Run as ``python -m tsunagu.emulate.relay`` by :class:`tsunagu.emulate.Emulation`: it reads a
JSON spec line on stdin, opens the TUN devices inside their namespaces, prints ``ready``, waits
for ``go T0`` (a ``time.monotonic()`` instant) and replays the schedule from T0 until stdin
closes or SIGTERM; it then prints its per-segment counters as one JSON line.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import select
import signal
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tsunagu.emulate.probe import realtime

__all__ = ["LinkQueue", "QueueStats", "open_tun"]

_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000
#: Wake this long before a release and spin the rest: select() timers overshoot by ~50-100 µs.
SPIN_S = 150e-6
_RNG_BLOCK = 4096
#: SCHED_FIFO priority of the relay (the probes run at 1).
RELAY_PRIORITY = 2


@dataclass
class QueueStats:
    """Counters of one direction of one segment."""

    received: int = 0
    sent: int = 0
    lost: int = 0
    dropped: int = 0
    bytes_sent: int = 0


@dataclass
class LinkQueue:
    """One direction of a segment: serialisation at ``rate_bps``, then ``delay_s``, FIFO.

    ``queue_s`` is the buffer in seconds of backlog at the current rate; ``rng`` draws losses.
    """

    rng: np.random.Generator
    queue_s: float = 0.1
    delay_s: float = 0.0
    rate_bps: float = float("inf")
    loss: float = 0.0
    stats: QueueStats = field(default_factory=QueueStats)
    _busy_until: float = 0.0
    _last_release: float = 0.0
    _fifo: collections.deque[tuple[float, bytes]] = field(default_factory=collections.deque)
    _draws: np.ndarray = field(default_factory=lambda: np.empty(0))
    _i: int = 0

    def set(self, delay_s: float, rate_bps: float, loss: float) -> None:
        """New parameters for the packets that arrive from now on."""
        self.delay_s, self.rate_bps, self.loss = float(delay_s), float(rate_bps), float(loss)

    def _draw(self) -> float:
        if self._i >= self._draws.size:
            self._draws = self.rng.random(_RNG_BLOCK)
            self._i = 0
        u = float(self._draws[self._i])
        self._i += 1
        return u

    def push(self, now: float, packet: bytes) -> float | None:
        """Queue ``packet`` arriving at ``now``; its release time, or None if lost or dropped."""
        self.stats.received += 1
        if self.loss > 0.0 and self._draw() < self.loss:
            self.stats.lost += 1
            return None
        start = max(now, self._busy_until)
        if start - now > self.queue_s:
            self.stats.dropped += 1
            return None
        self._busy_until = start + len(packet) * 8.0 / self.rate_bps
        release = max(self._busy_until + self.delay_s, self._last_release)
        self._last_release = release
        self._fifo.append((release, packet))
        return release

    def next_release(self) -> float | None:
        return self._fifo[0][0] if self._fifo else None

    def pop_due(self, now: float) -> list[bytes]:
        """The packets whose release time has come, in order."""
        out = []
        while self._fifo and self._fifo[0][0] <= now:
            out.append(self._fifo.popleft()[1])
        self.stats.sent += len(out)
        self.stats.bytes_sent += sum(len(p) for p in out)
        return out

    def __len__(self) -> int:
        return len(self._fifo)


def open_tun(name: str) -> int:
    """Open (create) the TUN device ``name`` in the calling thread's namespace; its fd."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI))
    return fd


class _Relay:
    def __init__(self, spec: dict[str, Any]) -> None:
        from tsunagu.emulate.netns import enter_netns

        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.fds: list[tuple[int, int]] = []  # per segment: (fd on side a, fd on side b)
        for seg in spec["segments"]:
            enter_netns(seg["a_ns"])
            fa = open_tun(seg["a_dev"])
            enter_netns(seg["b_ns"])
            fb = open_tun(seg["b_dev"])
            self.fds.append((fa, fb))
        import ctypes
        import ctypes.util

        ctypes.CDLL(ctypes.util.find_library("c")).setns(home, 0x40000000)
        os.close(home)
        seeds = np.random.SeedSequence(int(spec["seed"])).spawn(2 * len(self.fds))
        q = float(spec["queue_s"])
        # queues[2i] carries a -> b on segment i, queues[2i + 1] b -> a.
        self.queues = [LinkQueue(np.random.default_rng(s), queue_s=q) for s in seeds]
        self.out_fd: list[int] = []
        self.route: dict[int, int] = {}
        for i, (fa, fb) in enumerate(self.fds):
            self.route[fa] = 2 * i
            self.route[fb] = 2 * i + 1
            self.out_fd += [fb, fa]
        self.t_rel = np.asarray(spec["time_s"], dtype=np.float64)
        self.delay = np.asarray(spec["delay_s"], dtype=np.float64)
        self.rate = np.asarray(spec["rate_bps"], dtype=np.float64)
        self.loss = np.asarray(spec["loss"], dtype=np.float64)
        self.step = -1
        self.stop = False

    def _apply(self, k: int) -> None:
        self.step = k
        for i in range(len(self.fds)):
            for q in (self.queues[2 * i], self.queues[2 * i + 1]):
                q.set(self.delay[k, i], self.rate[k, i], self.loss[k, i])

    def run(self, t0: float) -> None:
        stdin = sys.stdin.fileno()
        # select(2) takes microseconds; epoll and poll round their timeout up to milliseconds.
        watch = [*self.route, stdin]
        mono = time.monotonic
        self._apply(0)
        while not self.stop:
            now = mono()
            k = int(np.searchsorted(self.t_rel, now - t0, side="right")) - 1
            if k > self.step:
                self._apply(k)
            wake = [r for q in self.queues if (r := q.next_release()) is not None]
            if k + 1 < self.t_rel.size:
                wake.append(t0 + self.t_rel[k + 1])
            nxt = min(wake) if wake else now + 0.05
            timeout = max(0.0, nxt - now - SPIN_S)
            events, _, _ = select.select(watch, [], [], timeout)
            for fd in events:
                if fd == stdin:
                    if not os.read(fd, 4096):
                        self.stop = True
                    continue
                qi = self.route[fd]
                queue = self.queues[qi]
                while True:
                    try:
                        pkt = os.read(fd, 65536)
                    except BlockingIOError:
                        break
                    queue.push(mono(), pkt)
            if not events:
                while mono() < nxt:  # the last SPIN_S: spin for a precise release
                    pass
            now = mono()
            for qi, q in enumerate(self.queues):
                for pkt in q.pop_due(now):
                    with contextlib.suppress(BlockingIOError, OSError):
                        os.write(self.out_fd[qi], pkt)

    def stats(self) -> list[dict[str, int]]:
        return [vars(q.stats) for q in self.queues]


def _main() -> None:  # pragma: no cover - exercised through Emulation in the e2e tests
    spec = json.loads(sys.stdin.readline())
    relay = _Relay(spec)
    # Above the probes (priority 1): when the relay and a probe are both runnable on one CPU,
    # the link's releases come first. It sleeps in select() but for the last SPIN_S before
    # each release, so it cannot starve the machine.
    realtime(RELAY_PRIORITY)

    def _stop(signum: int, frame: object) -> None:
        relay.stop = True

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the controller stops us after Ctrl-C
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    # Until the replay starts SIGTERM ends the relay at once (a handler would only set a flag
    # that the blocked read never looks at); from then on it ends the loop and prints counters.
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "go":
        return
    signal.signal(signal.SIGTERM, _stop)
    relay.run(float(line[1]))
    sys.stdout.write(json.dumps({"queues": relay.stats()}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    _main()
