"""Network namespaces for an emulation: naming, creation, clean-up and capability checks.

Every namespace an emulation makes is named ``tsg-<pid>-<n>`` after the process that owns it, so
that one left behind by a crashed run is recognised (its owner is dead) and removed by the next
start, and nothing outside that prefix is ever touched. Links live inside the namespaces (TUN
devices held open by the relay), so deleting a namespace removes its links and qdiscs with it.

Commands are the public ``ip`` and ``tc`` of iproute2; nothing here reaches the host's own
interfaces, routes or qdiscs.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from tsunagu.errors import TsunaguError

__all__ = [
    "NETNS_DIR",
    "PREFIX",
    "EmulationError",
    "enter_netns",
    "exited",
    "ip",
    "list_owned",
    "netem_available",
    "remove_stale",
    "require_privileges",
    "run_in",
]

#: Name prefix of every namespace an emulation creates (followed by the owner's pid).
PREFIX = "tsg-"
#: Where ``ip netns`` keeps its named namespaces.
NETNS_DIR = Path("/run/netns")
_NAME = re.compile(r"^tsg-(\d+)-[0-9a-z]+$")
_CLONE_NEWNET = 0x40000000
#: Longest wait for killed processes to exit (they do within milliseconds of being scheduled).
_KILL_WAIT_S = 10.0
INSTALL_HINT = "install iproute2 (Debian/Ubuntu: `apt-get install iproute2`)"


class EmulationError(TsunaguError):
    """The emulation cannot run here or failed; the message says what to change."""


def require_privileges() -> None:
    """Raise :class:`EmulationError` unless this process can make namespaces with ``ip``."""
    if shutil.which("ip") is None:
        raise EmulationError(f"`ip` not found on PATH: {INSTALL_HINT}")
    if os.geteuid() != 0:
        raise EmulationError(
            "network namespaces need root: run as root (e.g. `sudo tsunagu emulate ...`)"
        )
    if not Path("/dev/net/tun").exists():
        raise EmulationError(
            "/dev/net/tun is missing: load the tun module (`modprobe tun`) or, in a container, "
            "pass the device (`--device /dev/net/tun`)"
        )


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    """Run ``ip [-n NETNS] ARGS`` and return its stdout; a failure raises EmulationError."""
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and res.returncode != 0:
        raise EmulationError(f"`{' '.join(cmd)}` failed: {res.stderr.strip()}")
    return res.stdout


def run_in(netns: str, argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` inside ``netns`` (``ip netns exec``) and wait for it."""
    res = subprocess.run(
        ["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, check=False
    )
    if check and res.returncode != 0:
        raise EmulationError(f"`{' '.join(argv)}` in {netns} failed: {res.stderr.strip()}")
    return res


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exited(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie not yet reaped has: it holds no namespace)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "\nState:\tZ" in status


def _wait_exited(pids: Sequence[int], limit_s: float) -> None:
    """Until every one of ``pids`` has exited, at most ``limit_s`` (SIGKILL is asynchronous)."""
    deadline = time.monotonic() + limit_s
    while not all(exited(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.01)


def list_owned() -> list[str]:
    """Names of every namespace carrying the emulation prefix, any owner."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    names = [line.split()[0] for line in out.stdout.splitlines() if line.strip()]
    return sorted(n for n in names if _NAME.match(n))


def remove_stale() -> list[str]:
    """Delete the prefixed namespaces whose owner process is dead; return their names.

    A process still inside one (a user's command the dead owner started) would keep the
    namespace alive after its name is gone, so it is killed first.
    """
    removed = []
    for name in list_owned():
        m = _NAME.match(name)
        if m and not _pid_alive(int(m.group(1))):
            pids = [int(p) for p in ip("netns", "pids", name, check=False).split()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _wait_exited(pids, _KILL_WAIT_S)
            ip("netns", "delete", name, check=False)
            removed.append(name)
    return removed


def enter_netns(name: str) -> None:
    """Move the calling thread into the named namespace (``setns(2)``)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fd = os.open(NETNS_DIR / name, os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise EmulationError(f"setns into {name} failed: {os.strerror(err)}")
    finally:
        os.close(fd)


def netem_available() -> bool:
    """Whether this kernel has the ``netem`` qdisc, tried on loopback in a throwaway namespace.

    Many cloud kernels ship without it ("Specified qdisc kind is unknown"); the emulation then
    applies delay and loss in its user-space relay. Never touches the host's interfaces.
    """
    if shutil.which("tc") is None or shutil.which("ip") is None:
        return False
    probe = f"{PREFIX}{os.getpid()}-netem"
    if ip("netns", "add", probe, check=False) == "" and not (NETNS_DIR / probe).exists():
        return False
    try:
        res = subprocess.run(
            ["tc", "-n", probe, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
            capture_output=True,
            text=True,
            check=False,
        )
        return res.returncode == 0
    finally:
        ip("netns", "delete", probe, check=False)
