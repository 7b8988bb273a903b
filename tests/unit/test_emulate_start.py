"""Start-up and measurement helpers of the emulation that need no namespace: the kernel
arrival stamp of the RTT probe, the bounded wait for a process's line, the bound ports."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time

import pytest

from tsunagu.emulate.netns import exited
from tsunagu.emulate.probe import SO_TIMESTAMPNS, arrival, priority_of, stamped_socket
from tsunagu.emulate.session import _bound_ports, _line_before


def _stamp(wall_ns: int) -> list[tuple[int, int, bytes]]:
    sec, nsec = divmod(wall_ns, 1_000_000_000)
    return [(socket.SOL_SOCKET, SO_TIMESTAMPNS, struct.pack("qq", sec, nsec))]


def test_arrival_subtracts_the_lag_since_the_kernel_stamp() -> None:
    before = time.monotonic()
    t, lag = arrival(_stamp(time.time_ns() - 20_000_000))  # arrived 20 ms ago
    after = time.monotonic()
    assert 0.020 <= lag < 0.020 + (after - before) + 0.5  # 0.5 s: a preempted test runner
    assert before - lag <= t <= after - 0.020


@pytest.mark.parametrize("shift_ns", [5_000_000_000, -5_000_000_000])
def test_arrival_ignores_a_stamp_the_wall_clock_cannot_explain(shift_ns: int) -> None:
    # A stamp in the future or seconds old: the wall clock stepped; the read time is used.
    before = time.monotonic()
    t, lag = arrival(_stamp(time.time_ns() + shift_ns))
    assert lag != lag  # NaN
    assert before <= t <= time.monotonic()
    t, lag = arrival([])
    assert lag != lag


def test_the_kernel_stamps_a_loopback_datagram() -> None:
    rx, tx = stamped_socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with rx, tx:
        rx.bind(("127.0.0.1", 0))
        tx.sendto(b"x", rx.getsockname())
        _, anc, _, _ = rx.recvmsg(64, socket.CMSG_SPACE(16))
        t, lag = arrival(anc)
    assert lag >= 0.0  # a real stamp, not NaN
    assert t <= time.monotonic()


def _child(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )


def test_line_before_waits_for_the_line_and_no_longer_than_the_deadline() -> None:
    p = _child("import time; time.sleep(0.2); print('ready', flush=True); time.sleep(30)")
    try:
        assert _line_before(p, time.monotonic() + 60.0) == "ready\n"
        assert _line_before(p, time.monotonic() + 0.2) is None  # silent: the deadline ends it
    finally:
        p.kill()
        p.wait()
        assert p.stdout is not None
        p.stdout.close()
    q = _child("pass")
    assert _line_before(q, time.monotonic() + 60.0) == ""  # ended without a word
    q.wait()
    assert q.stdout is not None
    q.stdout.close()
    assert exited(q.pid)


def test_bound_ports_lists_a_listening_tcp_and_a_bound_udp_socket() -> None:
    tcp, udp = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with tcp, udp:
        tcp.bind(("127.0.0.1", 0))
        udp.bind(("127.0.0.1", 0))
        t_port, u_port = tcp.getsockname()[1], udp.getsockname()[1]
        assert ("tcp", t_port) not in _bound_ports(os.getpid())  # bound, not yet listening
        assert ("udp", u_port) in _bound_ports(os.getpid())
        tcp.listen()
        assert ("tcp", t_port) in _bound_ports(os.getpid())
    assert ("tcp", t_port) not in _bound_ports(os.getpid())


def test_priority_of_names_the_policy_and_level() -> None:
    assert priority_of(os.getpid()) in {f"nice {n}" for n in range(-20, 20)} | {
        f"fifo {n}" for n in range(1, 100)
    }
    p = subprocess.Popen(["sleep", "30"])
    try:
        os.setpriority(os.PRIO_PROCESS, p.pid, 19)
        assert priority_of(p.pid) == "nice 19"
    finally:
        p.kill()
        p.wait()
