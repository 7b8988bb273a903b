"""Built-in probes, run inside the emulation's namespaces.

* ``echo PORT``: a UDP echo server (destination namespace); it writes into each reply how
  long the datagram waited in it (kernel arrival to reply), and ends when its stdin closes.
* ``rtt HOST PORT DURATION INTERVAL SIZE DRAIN``: sends a timestamped UDP datagram of SIZE bytes
  every INTERVAL seconds for DURATION seconds from T0, waits DRAIN seconds more for the last
  echoes and then prints ``s send_t`` per datagram sent and ``send_t rtt_s lag_s hold_s`` per
  echo (seconds; the monotonic clock is shared by every namespace). A slot missed (the process
  was not scheduled) is skipped, not sent late in a burst.
* ``sink PORT``: accepts TCP connections one after the other and prints ``t bytes``
  (cumulative bytes received) every 50 ms until its stdin closes.
* ``bulk HOST PORT WINDOWS``: sends as fast as TCP allows during each ``start:end`` window
  (seconds from T0, comma separated), over a new connection each window.

``rtt`` and ``bulk`` print ``ready`` and wait for a line ``go T0`` (a ``time.monotonic()``
instant) on stdin; ``echo`` and ``sink`` print ``ready`` once bound.

What the RTT excludes, and why. ``rtt_s`` is the path's round trip: from just before the
datagram is handed to the kernel to the kernel's arrival stamp of its echo (``SO_TIMESTAMPNS``,
taken when the relay delivers it into the source namespace), less ``hold_s``, the time the echo
spent in the echo process (its kernel arrival stamp to its reply). Neither the time the RTT
probe takes to be woken for an echo that has already arrived (``lag_s``) nor the echo server's
turnaround is part of the emulated path; on a loaded machine both grow with the load, so they
are measured and excluded, and reported so that what was excluded is visible. The path itself,
the relay included, is never corrected for: a relay that is late makes the RTT longer. Where
the kernel gives no stamp (``lag_s`` NaN) the user-space time of the read is used.

The timing probes (``echo``, ``rtt``, ``sink``) run at real-time priority where allowed; they
sleep in ``select``/``recv`` and keep their output in memory until the end (no pipe write can
block them mid-measurement), so they cannot starve the machine nor be held behind its load.

Run as ``python -m tsunagu.emulate.probe KIND ARGS``; the controller parses what they print.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import sys
import time

__all__ = ["goodput_bps"]

#: Sequence number, send time (monotonic s), time the echo held it (s; filled by the echo).
HEADER = struct.Struct("!Qdd")
_HOLD = struct.Struct("!d")
_SAMPLE_S = 0.05
#: ``SO_TIMESTAMPNS`` (and its control message, ``SCM_TIMESTAMPNS``) of Linux; the socket module
#: does not name it. The stamp is a ``struct timespec`` of CLOCK_REALTIME.
SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("qq")
#: Longest believable wake-up lag: a larger (or negative) one means the wall clock stepped
#: between the kernel's stamp and its reading, and the user-space time is used instead.
_MAX_LAG_S = 1.0


def realtime(priority: int = 1) -> str:
    """Run ahead of the machine's other processes where allowed; how (see :func:`priority_of`).

    Real-time priority (SCHED_FIFO ``priority``) first: a timing probe must not wait behind the
    other processes of a busy machine (it sleeps in select/recv, so it cannot starve them).
    Where that is refused (no CAP_SYS_NICE, or a container's cgroup with no real-time budget)
    the highest time-sharing priority (nice -20) instead, which still wins most wake-ups
    against ordinary processes but not all: the emulation reports which one it got.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, OSError, AttributeError):
        with contextlib.suppress(PermissionError, OSError):
            os.setpriority(os.PRIO_PROCESS, 0, -20)
    return priority_of(os.getpid())


def priority_of(pid: int) -> str:
    """``"fifo N"`` (real-time), ``"nice N"`` (time-sharing at niceness N) of process ``pid``."""
    if os.sched_getscheduler(pid) == os.SCHED_FIFO:
        return f"fifo {os.sched_getparam(pid).sched_priority}"
    return f"nice {os.getpriority(os.PRIO_PROCESS, pid)}"


def stamped_socket() -> socket.socket:
    """A UDP socket whose received datagrams carry the kernel's arrival stamp, where it can."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    return s


def arrival(ancdata: list[tuple[int, int, bytes]]) -> tuple[float, float]:
    """``(t, lag_s)``: the monotonic time a datagram arrived in the kernel and how long before
    now that was, from its ``SCM_TIMESTAMPNS`` stamp; without a usable stamp, now and NaN.

    The stamp is on the wall clock; only the lag (wall now - stamp, a few µs to ms) is taken
    from it and subtracted from the monotonic now, so a clock slew cannot matter.
    """
    wall_ns, now = time.time_ns(), time.monotonic()
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = _TIMESPEC.unpack_from(data)
            lag = (wall_ns - (sec * 1_000_000_000 + nsec)) * 1e-9
            if 0.0 <= lag < _MAX_LAG_S:
                return now - lag, lag
    return now, float("nan")


_ANC = socket.CMSG_SPACE(_TIMESPEC.size)


def _echo(port: int) -> None:
    realtime()
    s = stamped_socket()
    s.bind(("0.0.0.0", port))
    s.setblocking(False)
    _say("ready")
    stdin = sys.stdin.fileno()
    mono = time.monotonic
    while True:
        ready, _, _ = select.select([s, stdin], [], [])
        if stdin in ready and not os.read(stdin, 4096):
            return  # the controller is gone or done: nothing is left behind
        while True:
            try:
                data, anc, _, addr = s.recvmsg(65536, _ANC)
            except BlockingIOError:
                break
            t_in, _ = arrival(anc)
            if len(data) >= HEADER.size:  # the RTT probe's: say how long it waited here
                data = data[:16] + _HOLD.pack(mono() - t_in) + data[HEADER.size :]
            with contextlib.suppress(OSError):
                s.sendto(data, addr)


def _say(word: str) -> None:
    sys.stdout.write(word + "\n")
    sys.stdout.flush()


def _go() -> float:
    _say("ready")
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "go":
        raise SystemExit(0)
    return float(line[1])


def _rtt(host: str, port: int, duration: float, interval: float, size: int, drain: float) -> None:
    realtime()
    s = stamped_socket()
    s.connect((host, port))
    s.setblocking(False)
    pad = b"\0" * max(0, size - HEADER.size)
    t0 = _go()
    t_end = t0 + duration
    seq = 0
    sent: list[float] = []
    echoes: list[tuple[float, float, float, float]] = []
    mono = time.monotonic
    nxt = t0
    while True:
        now = mono()
        if now >= nxt and nxt < t_end:
            with contextlib.suppress(OSError):  # no route during an outage: keep probing
                t_send = mono()
                s.send(HEADER.pack(seq, t_send, 0.0) + pad)
                sent.append(t_send)
            seq = max(seq + 1, int((mono() - t0) / interval) + 1)
            nxt = t0 + seq * interval
        # Echoes still in flight after the end get ``drain`` seconds to arrive.
        if now > t_end + drain:
            break
        wait = max(0.0, min(nxt, t_end + drain) - mono())
        r, _, _ = select.select([s], [], [], wait)
        if r:
            while True:
                try:
                    data, anc, _, _ = s.recvmsg(65536, _ANC)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                t_recv, lag = arrival(anc)
                _, t_send, hold = HEADER.unpack_from(data)
                echoes.append((t_send, t_recv - t_send - hold, lag, hold))
    lines = [f"s {t:.6f}" for t in sent]
    lines += [f"{a:.6f} {b:.7f} {c:.7f} {d:.7f}" for a, b, c, d in echoes]
    sys.stdout.write("".join(ln + "\n" for ln in lines))
    sys.stdout.flush()


def _sink(port: int) -> None:
    realtime()  # its sample times are the goodput's clock
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(4)
    _say("ready")
    stdin = sys.stdin.fileno()
    conn: socket.socket | None = None
    total = 0
    last = time.monotonic()
    lines = []
    while True:
        watch = [srv, stdin] + ([conn] if conn is not None else [])
        ready, _, _ = select.select(watch, [], [])
        if stdin in ready and not os.read(stdin, 4096):
            break  # the controller is done
        if srv in ready:
            if conn is not None:
                conn.close()
            conn, _ = srv.accept()
        if conn is not None and conn in ready:
            try:
                data = conn.recv(1 << 20)
            except ConnectionResetError:  # the sender aborts at the end of each window
                data = b""
            if not data:
                conn.close()
                conn = None
                continue
            total += len(data)
            now = time.monotonic()
            if now - last >= _SAMPLE_S:
                lines.append(f"{now:.6f} {total}")
                last = now
    lines.append(f"{time.monotonic():.6f} {total}")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _bulk(host: str, port: int, windows: str) -> None:
    rel = [tuple(float(x) for x in w.split(":")) for w in windows.split(",") if w]
    t0 = _go()
    spans = [(t0 + a, t0 + b) for a, b in rel]
    chunk = b"\0" * 65536
    for start, end in spans:
        while time.monotonic() < start:
            time.sleep(min(0.01, max(0.0, start - time.monotonic())))
        # One connection per window, aborted at its end (RST, SO_LINGER 0): what the socket
        # still buffers is discarded instead of loading the path after the window. A window
        # whose connection cannot be made in time (an outage) is skipped.
        try:
            s = socket.create_connection((host, port), timeout=max(0.05, end - time.monotonic()))
        except OSError:
            continue
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.settimeout(0.05)
        with contextlib.suppress(ConnectionError):  # the sink went away: nothing to measure
            while time.monotonic() < end:
                with contextlib.suppress(TimeoutError):
                    s.send(chunk)
        s.close()


def goodput_bps(t: list[float], total: list[int], start: float, end: float) -> float:
    """Bytes received between ``start`` and ``end`` (sink samples) as bits per second."""
    pts = [(a, b) for a, b in zip(t, total, strict=True) if start <= a <= end]
    if len(pts) < 2:
        return float("nan")
    (t1, b1), (t2, b2) = pts[0], pts[-1]
    return (b2 - b1) * 8.0 / (t2 - t1) if t2 > t1 else float("nan")


def _main(argv: list[str]) -> None:  # pragma: no cover - run in namespaces by the e2e tests
    kind, args = argv[0], argv[1:]
    if kind == "echo":
        _echo(int(args[0]))
    elif kind == "rtt":
        _rtt(args[0], int(args[1]), float(args[2]), float(args[3]), int(args[4]), float(args[5]))
    elif kind == "sink":
        _sink(int(args[0]))
    elif kind == "bulk":
        _bulk(args[0], int(args[1]), args[2])
    else:
        raise SystemExit(f"unknown probe {kind!r}: echo, rtt, sink or bulk")


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1:])
