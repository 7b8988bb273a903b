"""Real traffic over the twin's paths in network namespaces made by these tests only.

Needs root and iproute2 (``make test`` installs it). Every namespace is named
``tsg-<pid>-…``; the session-end fixture in conftest.py checks none is left behind.
"""

from __future__ import annotations

import errno
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tsunagu.cli import app
from tsunagu.emulate import (
    Emulation,
    Schedule,
    Segment,
    netem_available,
    schedule_from_run,
)
from tsunagu.emulate.netns import exited, list_owned

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="network namespaces need root and iproute2 (`make test` installs iproute2)",
)

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
#: Wall seconds each twin step of the step-change run is held.
STEP_WALL_S = 5.0
#: Rate configured on the emulated path for the throughput check (the relay's working range).
RATE_BPS = 20e6
#: Generous bound on any start or stop the test waits for (each takes about a second idle; a
#: loaded 2-core machine stretches that several times): the waits end on the event, not on it.
LIMIT_S = 120.0


@pytest.fixture(scope="module")
def step_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run of the small scenario whose Tokyo site fails at the second step: the flows
    it served move to Osaka and their round trip steps up."""
    data = yaml.safe_load(MINIMAL.read_text())
    data["events"] = [{"kind": "site_down", "target": "dc-tokyo", "start_s": 1800, "end_s": 3600}]
    tmp = tmp_path_factory.mktemp("emulate")
    scenario = tmp / "step.yaml"
    scenario.write_text(yaml.safe_dump(data))
    out = tmp / "run"
    res = CliRunner().invoke(
        app, ["run", str(scenario), "--out", str(out), "--json", "--no-report"]
    )
    assert res.exit_code == 0, res.output
    return out


def _moved_flow(run_dir: Path) -> str:
    """The flow served at both steps whose network round trip changes most."""
    f = pq.read_table(run_dir / "flows.parquet").to_pandas()
    f = f[f["reject_reason"] == ""]
    f["net"] = f["latency_propagation_ms"] + f["latency_processing_ms"]
    p = f.pivot_table(index=["demand", "service"], columns="step", values="net").dropna()
    change = (p[1] - p[0]).abs()
    demand, service = change.idxmax()
    assert change.max() > 3.0  # the failure moves it by milliseconds
    return f"{demand}/{service}"


def _host_addresses() -> list[str]:
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True
    ).stdout
    return [ln.split()[3].split("/")[0] for ln in out.splitlines()]


def _links(netns: str | None = None, up: bool = False) -> list[str]:
    """Names of the links of ``netns`` (the host's: None), or only of those that are up."""
    out = subprocess.run(
        ["ip", *(["-n", netns] if netns else []), "-j", "link", "show"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    links = json.loads(out)
    return [str(x["ifname"]) for x in links if not up or "UP" in x.get("flags", [])]


_ESCAPE = """
import socket, sys
port, targets = int(sys.argv[1]), sys.argv[2:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for dst in targets:
    try:
        s.sendto(b"escape", (dst, port))
    except OSError as exc:
        print(dst, exc.errno)
s.sendto(b"local", ("127.0.0.1", port))  # the namespace's own loopback, not the host's
"""


def _assert_isolated(emu: Emulation) -> None:
    """Traffic never leaves the namespaces: their only links are loopback and the chain's own
    TUN devices (none of which is on the host), no route leads out of the chain, and a datagram
    sent from either end to the host or to a public address is refused and never arrives."""
    n = len(emu.namespaces) - 1
    chain = {f"tsg{i}{side}" for i in range(n) for side in "ab"}
    for k, ns in enumerate(emu.namespaces):
        own = {f"tsg{k - 1}b"} if k > 0 else set()
        own |= {f"tsg{k}a"} if k < n else set()
        # Kernels with tunnel modules loaded give every namespace their fallback devices
        # (sit0, tunl0, ...), down: the links that are up are loopback and the chain's.
        assert own <= set(_links(ns))
        assert sorted(_links(ns, up=True)) == sorted({"lo"} | own)
        routes = subprocess.run(
            ["ip", "-n", ns, "route", "show"], capture_output=True, text=True, check=True
        ).stdout
        assert "default" not in routes
        for line in routes.splitlines():  # every route is to an address of the chain
            assert line.split()[0].startswith("10.77."), line
    assert not chain & set(_links())  # the relay made its devices inside the namespaces
    targets = [*_host_addresses(), "8.8.8.8"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("0.0.0.0", 0))
        port = listener.getsockname()[1]
        for where in ("src", "dst"):
            argv = [sys.executable, "-c", _ESCAPE, str(port), *targets]
            p = emu.popen(where, argv, stdout=subprocess.PIPE)
            out, _ = p.communicate(timeout=LIMIT_S)
            assert p.returncode == 0
            refused = sorted(f"{t} {errno.ENETUNREACH}" for t in targets)
            assert sorted(out.splitlines()) == refused
        listener.settimeout(0.5)
        with pytest.raises(TimeoutError):
            listener.recvfrom(64)


def test_two_segment_path_follows_a_step_change_of_delay(step_run: Path) -> None:
    flow = _moved_flow(step_run)
    schedule = schedule_from_run(step_run, flow)
    assert [s.name for s in schedule.segments] == ["access", "transport"]
    speed = float(np.diff(schedule.time_s)[0]) / STEP_WALL_S
    with Emulation(schedule, speed=speed, seed=1, max_rate_bps=RATE_BPS) as emu:
        _assert_isolated(emu)
        result = emu.run(throughput=True)
    assert not [n for n in list_owned() if n.startswith(emu.tag)]
    steps = result.steps.to_pandas()
    twin = steps["twin_rtt_ms"].to_numpy()
    assert twin[1] - twin[0] > 3.0
    # The probe's own serialisation at the configured rate is all that separates the
    # prediction of the probe's RTT from the twin's round trip (92-byte packets: 37 µs a hop).
    np.testing.assert_allclose(steps["predicted_rtt_ms"] - twin, 4 * 92 * 8 / RATE_BPS * 1e3)
    measured = steps["rtt_p50_ms"].to_numpy()
    tol = 1.0 + 0.05 * twin
    # (The message names the processes' priorities: without real-time priority a loaded
    # machine delays the relay itself, which no measurement may hide.)
    why = (measured, twin, result.meta["priority"], result.meta["excluded_ms"])
    assert np.all(np.abs(measured - steps["predicted_rtt_ms"]) <= tol), why
    # Echoes are not lost on a path without loss (the bulk probe's queue may drop a few).
    assert np.all(steps["rtt_received"] >= 0.95 * steps["rtt_sent"])
    ratio = steps["goodput_bps"] / steps["predicted_goodput_bps"]
    assert np.all(np.abs(ratio - 1.0) <= 0.10), ratio.tolist()
    # Every echo in flight across the change came back (the bulk probe stops 0.1 s before it).
    rtt = result.rtt.to_pandas()
    slot = np.round(rtt["wall_s"] / 0.02).astype(int)
    boundary = round(STEP_WALL_S / 0.02)
    assert set(range(boundary - 3, boundary + 10)) <= set(slot)
    # Echoes come back in the order they were sent (the relay never reorders).
    assert np.all(np.diff(rtt["wall_s"]) > 0)
    assert all(q["lost"] == 0 for q in result.meta["relay"])


# An emulation held open with a user command running in its destination namespace.
_HOLD = """
import subprocess, sys, time
from tsunagu.emulate import Emulation, schedule_from_run
s = schedule_from_run(sys.argv[1], sys.argv[2]).window(0.0, 60.0)
with Emulation(s) as emu:
    inside = emu.popen("dst", ["sleep", "600"], stdin=subprocess.DEVNULL)
    print(emu.tag, inside.pid, flush=True)
    time.sleep(600)
"""
#: Ctrl-C at a terminal reaches a command whose SIGINT has its default action. A test runner
#: started in the background of a non-interactive shell has SIGINT ignored, and its children
#: inherit that (Python then installs no handler), so the command gets its default explicitly.
_CLI = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from tsunagu.cli import app; app()"
)


def _owned_by(pid: int) -> list[str]:
    return [n for n in list_owned() if n.startswith(f"tsg-{pid}-")]


def _line(p: subprocess.Popen[str], timeout_s: float = LIMIT_S) -> str:
    """The next line ``p`` prints, waiting at most ``timeout_s``."""
    assert p.stdout is not None
    ready, _, _ = select.select([p.stdout], [], [], timeout_s)
    assert ready, f"process {p.pid} printed nothing in {timeout_s} s"
    return p.stdout.readline()


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _wait_for_chain(p: subprocess.Popen[str], timeout_s: float = LIMIT_S) -> None:
    """Until the emulation of process ``p`` has its chain built (the last route is set)."""
    pid = p.pid
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert p.poll() is None, f"process {pid} ended before its chain was built"
        names = _owned_by(pid)
        if len(names) == 3:
            routes = subprocess.run(
                ["ip", "-n", names[-1], "route", "show"], capture_output=True, text=True
            ).stdout
            if "10.77.0.1" in routes:
                return
        time.sleep(0.1)
    raise AssertionError(f"no emulation chain of process {pid} after {timeout_s} s")


def test_signals_remove_everything_and_a_crash_is_cleaned_by_the_next_start(
    step_run: Path, crash_window: Callable[[], AbstractContextManager[None]]
) -> None:
    flow = _moved_flow(step_run)
    hold = {
        sig: subprocess.Popen(
            [sys.executable, "-c", _HOLD, str(step_run), flow], stdout=subprocess.PIPE, text=True
        )
        for sig in (signal.SIGTERM, signal.SIGKILL)
    }
    # Ctrl-C reaches the command itself: it reports the clean-up and exits 130.
    argv = ["emulate", str(step_run), "--flow", flow, "--duration", "60", "--no-write"]
    cli = subprocess.Popen(
        [sys.executable, "-c", _CLI, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    inside = {}
    for sig, p in hold.items():
        tag, pid = _line(p).split()
        assert tag.startswith(f"tsg-{p.pid}-")
        assert _owned_by(p.pid)
        inside[sig] = int(pid)
    _wait_for_chain(cli)
    with crash_window():
        started = _descendants(cli.pid)  # the relay at least, maybe probes
        assert started
        cli.send_signal(signal.SIGINT)
        for sig, p in hold.items():
            p.send_signal(sig)
        out, _ = cli.communicate(timeout=LIMIT_S)
        assert cli.returncode == 130, out
        assert "namespaces and processes were removed" in out
        assert "Traceback" not in out
        assert not _owned_by(cli.pid)
        assert all(exited(pid) for pid in started)
        term, killed = hold[signal.SIGTERM], hold[signal.SIGKILL]
        term.wait(timeout=LIMIT_S)
        assert not _owned_by(term.pid)
        assert exited(inside[signal.SIGTERM])
        # SIGKILL left no chance to clean up. Until it is reaped the dead process is a zombie
        # whose pid still exists, so no concurrent start takes its namespaces for stale yet.
        os.waitid(os.P_PID, killed.pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
        assert _owned_by(killed.pid)
        assert not exited(inside[signal.SIGKILL])  # its command lives on in its namespace
        killed.wait(timeout=LIMIT_S)
        for p in hold.values():
            assert p.stdout is not None
            p.stdout.close()
        # Reaped, its namespaces are stale: the next start removes them, and the command
        # still inside them first (here, or in a concurrent test's start).
        with Emulation(schedule_from_run(step_run, flow).window(0.0, 1.0)) as emu:
            assert not _owned_by(killed.pid)
            assert exited(inside[signal.SIGKILL])
        assert not [n for n in list_owned() if n.startswith(emu.tag)]


def test_loss_and_outage_steps() -> None:
    # One segment, 10 % loss each way for 2 s, then an outage (no route in the twin).
    schedule = Schedule(
        flow="loss",
        segments=(Segment("ntn", "ntn"),),
        time_s=np.array([0.0, 2.0]),
        delay_s=np.full((2, 1), 0.004),
        rate_bps=np.full((2, 1), np.inf),
        loss=np.array([[0.1], [1.0]]),
        predicted_rtt_ms=np.array([8.0, np.nan]),
        end_s=4.0,
    )
    with Emulation(schedule, seed=7) as emu:
        result = emu.run()
    steps = result.steps.to_pandas()
    sent = steps["rtt_sent"][0]
    # An echo survives both directions with 0.9²; binomial, 5 standard deviations.
    mean, sd = sent * 0.81, np.sqrt(sent * 0.81 * 0.19)
    assert abs(steps["rtt_received"][0] - mean) <= 5 * sd
    assert steps["rtt_received"][1] == 0
    assert np.isnan(steps["predicted_rtt_ms"][1])
    assert abs(steps["rtt_p50_ms"][0] - 8.0) <= 1.0 + 0.05 * 8.0
    lost = sum(q["lost"] for q in result.meta["relay"])
    assert lost >= sent - steps["rtt_received"][0]


def test_netem_detection_matches_the_kernel() -> None:
    # Independently of the detector: add netem on loopback in a namespace made here.
    ns = f"tsg-{os.getpid()}-netemcheck"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        res = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                ns,
                "tc",
                "qdisc",
                "add",
                "dev",
                "lo",
                "root",
                "netem",
                "delay",
                "5ms",
            ],
            capture_output=True,
            text=True,
        )
    finally:
        subprocess.run(["ip", "netns", "delete", ns], check=True)
    assert netem_available() is (res.returncode == 0)
    assert not [n for n in list_owned() if n.startswith(f"tsg-{os.getpid()}-")]


@pytest.fixture(scope="module")
def leo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run with a LEO RTT series every 5 s between Tokyo and Sapporo over a 528-satellite
    shell (its routes change within the first minute)."""
    data = yaml.safe_load(MINIMAL.read_text())
    data["timeline"].update(duration_s=600.0, step_s=300.0)
    data["ntn"]["constellations"][0].update(planes=24, sats_per_plane=22)
    data["ntn"]["rtt_pairs"] = [["Tokyo", "Sapporo"]]
    data["ntn"]["rtt_step_s"] = 5.0
    data["events"] = []
    tmp = tmp_path_factory.mktemp("leo")
    scenario = tmp / "leo.yaml"
    scenario.write_text(yaml.safe_dump(data))
    out = tmp / "run"
    res = CliRunner().invoke(
        app, ["run", str(scenario), "--out", str(out), "--json", "--no-report"]
    )
    assert res.exit_code == 0, res.output
    return out


def test_leo_pass_replayed_for_60_s_with_a_user_server_and_client(leo_run: Path) -> None:
    client = (
        "import os, socket; s = socket.create_connection((os.environ['TSUNAGU_DST'], 7100)); "
        "s.sendall(b'ping'); print(s.recv(4).decode())"
    )
    server = (
        "import socket; l = socket.create_server(('0.0.0.0', 7100)); c, _ = l.accept(); "
        "c.sendall(c.recv(4))"
    )
    res = CliRunner().invoke(
        app,
        [
            "emulate", str(leo_run), "--flow", "ntn:Tokyo → Sapporo", "--duration", "60",
            "--json", "--", "server", sys.executable, "-c", server,
            "--", "client", sys.executable, "-c", client,
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("{") :])
    assert out["meta"]["commands"] == {"server": 0, "client": 0}
    # The replay and the client waited for the server to listen (however loaded the machine).
    assert out["meta"]["server_listening_s"] is not None
    # Every echo carried the kernel's arrival stamp (the probe's own wake-up left out).
    assert out["meta"]["excluded_ms"]["unstamped"] == 0
    steps = pq.read_table(leo_run / "emulation_steps.parquet").to_pandas()
    twin = pq.read_table(leo_run / "ntn_rtt.parquet").to_pandas()
    twin = twin[twin["time_s"] < 60.0]
    assert len(steps) == len(twin) == 12
    # The twin's own series, unchanged, is what the replay is judged against.
    np.testing.assert_allclose(steps["twin_rtt_ms"], twin["rtt_ms"])
    assert twin["path_change"].any()  # the pass changes route inside the minute
    err = steps["rtt_p50_ms"] - steps["predicted_rtt_ms"]
    why = (err.tolist(), out["meta"]["priority"], out["meta"]["excluded_ms"])
    assert np.all(np.abs(err) <= 1.0 + 0.05 * steps["twin_rtt_ms"]), why
    rtt = pq.read_table(leo_run / "emulation_rtt.parquet").to_pandas()
    assert rtt["time_s"].max() == pytest.approx(60.0, abs=0.5)
    # The RTT falls at some steps: no echo overtakes an earlier one, and none is lost.
    assert (np.diff(twin["rtt_ms"]) < 0).any()
    assert np.all(np.diff(rtt["wall_s"]) > 0)
    assert np.all(steps["rtt_received"] == steps["rtt_sent"])

    res = CliRunner().invoke(app, ["report", str(leo_run)])
    assert res.exit_code == 0, res.output
    page = (leo_run / "report.html").read_text(encoding="utf-8")
    assert 'id="emulation-rtt"' in page
    assert "Emulated path: measured against the twin" in page
