"""Built-in probes, run inside the emulation's namespaces.

* ``echo PORT``: a UDP echo server (destination namespace).
* ``rtt HOST PORT DURATION INTERVAL SIZE DRAIN``: sends a timestamped UDP datagram of SIZE bytes
  every INTERVAL seconds for DURATION seconds from T0, waits DRAIN seconds more for the last
  echoes and prints ``s send_t`` per datagram sent and ``send_t rtt_s`` per echo
  (seconds; the monotonic clock is shared by every namespace). A slot missed (the process was
  not scheduled) is skipped, not sent late in a burst.
* ``sink PORT``: accepts TCP connections one after the other and prints ``t bytes``
  (cumulative bytes received) every 50 ms until its stdin closes.
* ``bulk HOST PORT WINDOWS``: sends as fast as TCP allows during each ``start:end`` window
  (seconds from T0, comma separated), over a new connection each window.

``rtt`` and ``bulk`` print ``ready`` and wait for a line ``go T0`` (a ``time.monotonic()``
instant) on stdin; ``echo`` and ``sink`` print ``ready`` once bound.

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

_HDR = struct.Struct("!Qd")  # sequence number, send time
_SAMPLE_S = 0.05


def _realtime() -> None:
    """Run at real-time priority where allowed: a timing probe must not wait behind the other
    processes of a busy machine (it sleeps in select/recv, so it cannot starve them)."""
    with contextlib.suppress(PermissionError, OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))


def _echo(port: int) -> None:
    _realtime()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    _say("ready")
    while True:
        data, addr = s.recvfrom(65536)
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
    _realtime()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.setblocking(False)
    pad = b"\0" * max(0, size - _HDR.size)
    t0 = _go()
    t_end = t0 + duration
    seq = 0
    out = sys.stdout
    mono = time.monotonic
    nxt = t0
    while True:
        now = mono()
        if now >= nxt and nxt < t_end:
            with contextlib.suppress(OSError):  # no route during an outage: keep probing
                t_send = mono()
                s.send(_HDR.pack(seq, t_send) + pad)
                out.write(f"s {t_send:.6f}\n")
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
                    data = s.recv(65536)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                t_recv = mono()
                _, t_send = _HDR.unpack_from(data)
                out.write(f"{t_send:.6f} {t_recv - t_send:.7f}\n")
    out.flush()


def _sink(port: int) -> None:
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
