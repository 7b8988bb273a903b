"""``tsunagu validate`` finds what ``run`` would reject, with the file and line of the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tsunagu.cli import app

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"
BASE: dict[str, Any] = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))

runner = CliRunner()


def _rtt(d: dict[str, Any]) -> None:
    d["ntn"]["rtt_pairs"] = [["Nowhereville", "Tokyo"]]


def _dci(d: dict[str, Any]) -> None:
    d["optical"].setdefault("dci", {})["spectrum_policy"] = "bogus"


def _preset(d: dict[str, Any]) -> None:
    d["events"] = [{"preset": "noto-2024", "params": {"bogus": 1.0}}]


def _max_points(d: dict[str, Any]) -> None:
    d.setdefault("demand", {})["max_points"] = 5


def _target(d: dict[str, Any]) -> None:
    d["events"] = [{"kind": "node_down", "target": "nosuch", "start_s": 0.0, "end_s": 100.0}]


def _topology(d: dict[str, Any]) -> None:
    d["optical"]["operators"][0]["topology"] = "topohub:nope/nope"


def _area(d: dict[str, Any]) -> None:
    d.setdefault("demand", {})["areas"] = ["Atlantis"]


@pytest.mark.parametrize(
    ("mutate", "field", "key"),
    [
        (_rtt, "ntn.rtt_pairs[0]", "rtt_pairs"),
        (_dci, "optical.dci.spectrum_policy", "spectrum_policy"),
        (_preset, "events[0]", "preset"),
        (_max_points, "demand.max_points", "max_points"),
        (_target, "events[0]", "target"),
        (_topology, "optical.operators[0].topology", "topology"),
        (_area, "demand.areas", "areas"),
    ],
    ids=[
        "rtt-place",
        "dci-policy",
        "preset-param",
        "max-points",
        "event-target",
        "topology",
        "area",
    ],
)
def test_validate_reports_what_run_would_reject_with_file_and_line(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], field: str, key: str
) -> None:
    data = copy.deepcopy(BASE)
    mutate(data)
    path = tmp_path / "s.yaml"
    text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.lstrip(" -").startswith(key))
    first = res.output.replace("\n", " ")
    assert f"{path}:" in first
    assert f": {field}:" in first
    # The line is the field's own line or that of its section (an event's '- ' line).
    reported = int(first.split(f"{path}:", 1)[1].split(":", 1)[0])
    assert abs(reported - line) <= 3, (reported, line, res.output)
