"""Domain files with a wrong shape are one error line (exit 2), never a traceback.

Each case once crashed ``tsunagu optical qot`` or ``optical rmsa`` with a Python exception.
The GNPy example files come with the pinned gnpy test dependency.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import gnpy.tools.json_io as gnpy_json_io
import pytest
from typer.testing import CliRunner

from tsunagu.cli import app

EXAMPLES = Path(gnpy_json_io.__file__).resolve().parent.parent / "example-data"
TOPOLOGY = json.loads((EXAMPLES / "meshTopologyExampleV2.json").read_text())
EQUIPMENT = json.loads((EXAMPLES / "eqpt_config.json").read_text())
REQUESTS = json.loads((EXAMPLES / "meshTopologyExampleV2_services.json").read_text())

runner = CliRunner()


def _qot(tmp_path: Path, topology: Any, equipment: Any, requests: Any) -> str:
    for extra in EXAMPLES.glob("*.json"):  # the amplifier files the library refers to
        (tmp_path / extra.name).write_bytes(extra.read_bytes())
    paths = []
    for name, data in (("t", topology), ("e", equipment), ("r", requests)):
        path = tmp_path / f"{name}.json"
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data if isinstance(data, str) else json.dumps(data))
        paths.append(str(path))
    res = runner.invoke(
        app,
        [
            "optical",
            "qot",
            "--topology",
            paths[0],
            "--equipment",
            paths[1],
            "--requests",
            paths[2],
            "--json",
        ],
    )
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error:"), res.output
    return res.output


def _first(kind: str) -> dict[str, Any]:
    return next(e for e in TOPOLOGY["elements"] if e["type"] == kind)


def test_connection_to_an_object_is_refused(tmp_path: Path) -> None:
    topo = copy.deepcopy(TOPOLOGY)
    topo["connections"][0]["to_node"] = {}
    assert "to_node" in _qot(tmp_path, topo, EQUIPMENT, REQUESTS)


def test_location_as_text_is_refused(tmp_path: Path) -> None:
    topo = copy.deepcopy(TOPOLOGY)
    topo["elements"][0]["metadata"] = {"location": "Tokyo"}
    assert "metadata.location" in _qot(tmp_path, topo, EQUIPMENT, REQUESTS)


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert "nested too deeply" in _qot(tmp_path, deep, EQUIPMENT, REQUESTS)


def test_non_utf8_json_is_refused(tmp_path: Path) -> None:
    assert "UTF-8" in _qot(tmp_path, b"\xff\xfe{}", EQUIPMENT, REQUESTS)


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [("spacing", 0, "spacing"), ("f_min", 197e12, "f_min"), ("baud_rate", -1, "baud_rate")],
)
def test_spectral_info_out_of_range_is_refused(
    tmp_path: Path, field: str, value: float, needle: str
) -> None:
    eq = copy.deepcopy(EQUIPMENT)
    eq["SI"][0][field] = value
    assert needle in _qot(tmp_path, TOPOLOGY, eq, REQUESTS)


def test_absurd_channel_count_is_refused(tmp_path: Path) -> None:
    req = copy.deepcopy(REQUESTS)
    req["path-request"][0]["path-constraints"]["te-bandwidth"]["max-nb-of-channel"] = 10**9
    assert "max-nb-of-channel" in _qot(tmp_path, TOPOLOGY, EQUIPMENT, req)


def test_request_to_itself_is_refused(tmp_path: Path) -> None:
    req = copy.deepcopy(REQUESTS)
    first = req["path-request"][0]
    first["destination"] = first["source"]
    assert "same transceiver" in _qot(tmp_path, TOPOLOGY, EQUIPMENT, req)


@pytest.mark.parametrize(
    ("body", "needle"),
    [(b"a,b,length_km\n\xff,b,3\n", "UTF-8"), (b"a,b,length_km\nx,y,1\x00\n", "NUL")],
)
def test_topology_csv_bad_bytes_are_refused(tmp_path: Path, body: bytes, needle: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(body)
    res = runner.invoke(app, ["optical", "rmsa", "--topology", str(path), "--requests", "4000"])
    assert "Traceback" not in res.output
    assert res.exit_code == 2, res.output
    assert needle in res.output
