"""Schedules from run directories, the CLI's checks before any namespace is made, the figure."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tsunagu.cli import app
from tsunagu.cli.emulate import split_commands
from tsunagu.emulate import Emulation, EmulationError, Schedule, require_privileges
from tsunagu.emulate import schedule_from_run as from_run
from tsunagu.emulate.results import write_emulation
from tsunagu.emulate.session import EmulationResult
from tsunagu.errors import DataError
from tsunagu.report.fig_emulate import emulation_figure, emulation_section

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


def _flows(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows)


def _row(step: int, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "step": step,
        "time_s": 1800.0 * step,
        "demand": "Chiba",
        "service": "chat",
        "population_share": 1.0,
        "access": "ran",
        "site": "dc-tokyo",
        "latency_propagation_ms": 2.0,
        "latency_transmission_ms": 1.0,
        "latency_queueing_ms": 0.5,
        "latency_processing_ms": 503.0,
        "latency_total_ms": 506.5,
        "reject_reason": "",
    }
    row.update(kw)
    return row


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run directory with the small scenario and hand-written flow rows of known parts."""
    shutil.copy(MINIMAL, tmp_path / "scenario.yaml")
    rows = [
        _row(0),
        # Step 1: the cells are partly down: a RAN row (30 %) and a LEO row (70 %).
        _row(1, population_share=0.3, latency_propagation_ms=2.5),
        _row(1, population_share=0.7, access="leo", latency_propagation_ms=12.0),
        _row(2, access="none", site="", latency_total_ms=float("nan"), reject_reason="no access"),
    ]
    pq.write_table(_flows(rows), tmp_path / "flows.parquet")
    pq.write_table(
        pa.table(
            {
                "time_s": [0.0, 5.0, 10.0],
                "pair": ["Tokyo → Naha"] * 3,
                "rtt_ms": [30.0, float("nan"), 34.0],
                "hops": [4, 0, 5],
                "path_change": [False, False, True],
            }
        ),
        tmp_path / "ntn_rtt.parquet",
    )
    return tmp_path


def test_flow_schedule_splits_the_twin_round_trip(run_dir: Path) -> None:
    sc = yaml.safe_load(MINIMAL.read_text())
    processing_s = next(s["processing_s"] for s in sc["services"] if s["name"] == "chat")
    s = from_run(run_dir, "Chiba/chat")
    assert [g.name for g in s.segments] == ["access", "transport"]
    assert s.segments[0].domain == "leo/ran"
    assert s.time_s.tolist() == [0.0, 1800.0, 3600.0]
    assert s.end_s == 5400.0
    # Round trip of the network: propagation + equipment (processing less the service's own).
    net_ms = np.array([2.0, 12.0]) + 503.0 - processing_s * 1e3
    np.testing.assert_allclose(s.predicted_rtt_ms[:2], net_ms)
    np.testing.assert_allclose(2e3 * s.delay_s[:2].sum(axis=1), net_ms)
    # Access equipment delay: the schema's defaults (1 ms air interface; 0 NTN processing).
    assert s.delay_s[0, 0] == pytest.approx(1e-3)
    assert s.delay_s[1, 0] == 0.0  # the larger (LEO) row is replayed at step 1
    # Access rate from the transmission time: bits / (tx - 2 bits / transceiver rate).
    bits = 8.0 * (2000 + 8000)
    assert s.rate_bps[0, 0] == pytest.approx(bits / (1e-3 - 2 * bits / 400e9))
    assert s.rate_bps[0, 1] == 400e9
    # Unserved: everything lost, the prediction is no route.
    assert s.loss[2].tolist() == [1.0, 1.0]
    assert np.isnan(s.predicted_rtt_ms[2])


def test_ntn_schedule_holds_delay_through_an_outage(run_dir: Path) -> None:
    for name in ("ntn:Tokyo → Naha", "ntn:Tokyo-Naha"):
        s = from_run(run_dir, name)
        assert s.flow == "ntn:Tokyo → Naha"
        assert s.delay_s[:, 0].tolist() == [0.015, 0.015, 0.017]
        assert s.loss[:, 0].tolist() == [0.0, 1.0, 0.0]
        assert s.end_s == 15.0


@pytest.mark.parametrize(
    ("flow", "words"),
    [
        ("Chiba", "neither DEMAND/SERVICE"),
        ("Nowhere/chat", "no flow Nowhere/chat.*Chiba.*ntn:PAIR"),
        ("ntn:Tokyo-Osaka", "no LEO pair.*ntn:Tokyo → Naha"),
    ],
)
def test_unknown_flows_say_what_exists(run_dir: Path, flow: str, words: str) -> None:
    with pytest.raises(DataError, match=words):
        from_run(run_dir, flow)


def test_a_partial_scenario_is_refused(run_dir: Path) -> None:
    (run_dir / "scenario.yaml").write_text("name: x\n")
    with pytest.raises(DataError, match="not a full scenario"):
        from_run(run_dir, "Chiba/chat")


def test_split_commands() -> None:
    assert split_commands(["server", "a", "b", "--", "client", "c"]) == {
        "server": ["a", "b"],
        "client": ["c"],
    }
    assert split_commands(["--", "client", "c", "-x"]) == {"client": ["c", "-x"]}
    assert split_commands([]) == {}


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ("uid", "need root: run as root (e.g. `sudo tsunagu emulate ...`)"),
        (
            "ip",
            "`ip` not found on PATH: install iproute2 (Debian/Ubuntu: `apt-get install iproute2`)",
        ),
    ],
)
def test_cli_refuses_clearly_without_root_or_ip(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch, patch: str, words: str
) -> None:
    if patch == "uid":
        monkeypatch.setattr("os.geteuid", lambda: 1000)
    else:
        real = shutil.which
        monkeypatch.setattr("shutil.which", lambda c, *a, **k: None if c == "ip" else real(c))
    with pytest.raises(EmulationError, match=re.escape(words)):
        require_privileges()
    res = CliRunner().invoke(app, ["emulate", str(run_dir), "--flow", "ntn:Tokyo-Naha"])
    assert res.exit_code == 2
    assert words in " ".join(res.output.split())  # the whole message, hint included
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--", "sever", "x"], "server CMD"),
        (["--per", "link"], "only --per segment"),
    ],
)
def test_cli_rejects_bad_arguments(run_dir: Path, args: list[str], words: str) -> None:
    res = CliRunner().invoke(app, ["emulate", str(run_dir), "--flow", "ntn:Tokyo-Naha", *args])
    assert res.exit_code == 2
    assert words in res.output


def test_emulation_rejects_bad_options(run_dir: Path) -> None:
    s = from_run(run_dir, "ntn:Tokyo-Naha")
    with pytest.raises(EmulationError, match="speed"):
        Emulation(s, speed=0.0)
    with pytest.raises(EmulationError, match="max_rate_bps"):
        Emulation(s, max_rate_bps=-1.0)
    with pytest.raises(EmulationError, match="start_limit_s"):
        Emulation(s, start_limit_s=0.0)
    with pytest.raises(EmulationError, match="entered"):
        Emulation(s).run()


def test_figure_draws_measured_against_the_twin(run_dir: Path) -> None:
    assert emulation_figure(run_dir) is None
    assert emulation_section(run_dir) == ""
    s: Schedule = from_run(run_dir, "ntn:Tokyo-Naha")
    rtt = pa.table(
        {
            "flow": [s.flow] * 4,
            "time_s": [0.5, 1.0, 10.5, 11.0],
            "wall_s": [0.5, 1.0, 10.5, 11.0],
            "step": [0, 0, 2, 2],
            "rtt_ms": [30.4, 30.6, 34.5, 34.4],
            "predicted_rtt_ms": [30.0, 30.0, 34.0, 34.0],
            "twin_rtt_ms": [30.0, 30.0, 34.0, 34.0],
            "loaded": [False, False, False, True],
        }
    )
    steps = pa.table(
        {
            "flow": [s.flow] * 3,
            "step": [0, 1, 2],
            "time_s": s.time_s,
            "rtt_p50_ms": [30.5, float("nan"), 34.5],
            "twin_rtt_ms": s.predicted_rtt_ms,
        }
    )
    meta = {"flow": s.flow, "segments": [{"name": "ntn", "domain": "ntn"}], "speed": 1.0}
    write_emulation(run_dir, EmulationResult(s.flow, rtt, steps, meta))
    fig = emulation_figure(run_dir)
    assert fig is not None
    names = [t.name for t in fig.data]
    assert names == [
        "twin (predicted)",
        "measured (each echo)",
        "measured under TCP load",
        "measured, step median",
    ]
    assert list(fig.data[1].y) == [30.4, 30.6, 34.5]
    assert list(fig.data[0].x) == [0.0, 5.0, 10.0, 11.0]
    assert 'id="emulation-rtt"' in emulation_section(run_dir)
    assert "ntn (ntn)" in emulation_section(run_dir)
