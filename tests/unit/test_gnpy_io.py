"""GNPy file interop: errors that name the element and field, blocking reasons, auto-design."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import gnpy.tools.json_io as gnpy_json_io
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import DataError
from tsunagu.optical.equipment import Equipment, load_equipment
from tsunagu.optical.gnpy_io import (
    compute_requests,
    design_network,
    load_requests,
    load_topology,
    network_to_json,
)

EXAMPLES = Path(gnpy_json_io.__file__).resolve().parent.parent / "example-data"


@pytest.fixture(scope="module")
def eq() -> Equipment:
    return load_equipment(EXAMPLES / "eqpt_config.json")


def _fibre(uid: str, length: float) -> dict[str, Any]:
    return {
        "uid": uid,
        "type": "Fiber",
        "type_variety": "SSMF",
        "params": {"length": length, "length_units": "km", "loss_coef": 0.2},
    }


def _line(length_km: float = 80.0) -> dict[str, Any]:
    """trx A - roadm A ⇄ fibre ⇄ roadm B - trx B, plus an isolated trx C with its ROADM."""
    els = [
        {"uid": "trx A", "type": "Transceiver"},
        {"uid": "roadm A", "type": "Roadm"},
        {"uid": "trx B", "type": "Transceiver"},
        {"uid": "roadm B", "type": "Roadm"},
        {"uid": "trx C", "type": "Transceiver"},
        {"uid": "roadm C", "type": "Roadm"},
        _fibre("fAB", length_km),
        _fibre("fBA", length_km),
    ]
    cx = [
        ("trx A", "roadm A"),
        ("roadm A", "trx A"),
        ("trx B", "roadm B"),
        ("roadm B", "trx B"),
        ("trx C", "roadm C"),
        ("roadm C", "trx C"),
        ("roadm A", "fAB"),
        ("fAB", "roadm B"),
        ("roadm B", "fBA"),
        ("fBA", "roadm A"),
    ]
    return {"elements": els, "connections": [{"from_node": a, "to_node": b} for a, b in cx]}


def _req(rid: str, src: str, dst: str, mode: str | None = "mode 1", **te: Any) -> dict[str, Any]:
    bw = {"trx_type": "Voyager", "trx_mode": mode, "spacing": 50e9, "path_bandwidth": 100e9}
    bw.update(te)
    return {
        "request-id": rid,
        "source": src,
        "destination": dst,
        "bidirectional": False,
        "path-constraints": {"te-bandwidth": bw},
    }


def _run(eq: Equipment, topo: dict[str, Any], reqs: list[dict[str, Any]]) -> list[Any]:
    net = design_network(load_topology(topo, eq), eq)
    return compute_requests(net, eq, load_requests({"path-request": reqs}, eq))


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda t: t["elements"][6]["params"].pop("length"), r"element 'fAB'.*'length'"),
        (
            lambda t: t["elements"][6]["params"].update(loss_coef="0.2"),
            r"element 'fAB'.*'loss_coef'",
        ),
        (
            lambda t: t["elements"][6]["params"].update(length=-5),
            r"element 'fAB'.*'length'",
        ),
        (lambda t: t["elements"][6].update(type_variety="XYZ"), r"element 'fAB'.*'XYZ'"),
        (lambda t: t["elements"][1].update(type="Switch"), r"element 'roadm A'.*'type'"),
        (
            lambda t: t["elements"].append({"uid": "amp", "type": "Edfa", "type_variety": "nope"}),
            r"element 'amp'.*type_variety 'nope'",
        ),
        (
            lambda t: t["connections"].append({"from_node": "fAB", "to_node": "ghost"}),
            r"connections\[10\].*'to_node'.*'ghost'",
        ),
        (
            lambda t: t["connections"].append({"from_node": "fAB", "to_node": "roadm C"}),
            r"element 'fAB'.*2 outputs",
        ),
        (
            lambda t: t["elements"][1].update(params={"target_psd_out_mWperGHz": 3e-4}),
            r"element 'roadm A'.*'target_psd_out_mWperGHz'",
        ),
        (lambda t: t["elements"][0].update(uid="roadm A"), r"uid 'roadm A' appears twice"),
        (
            lambda t: t["elements"][1].update(type_variety="detailed_impairments"),
            r"element 'roadm A'.*roadm-path-impairments",
        ),
        (lambda t: t["elements"][6].update(type="RamanFiber"), r"element 'fAB'.*'RamanFiber'"),
    ],
)
def test_malformed_topology_names_uid_and_field(eq: Equipment, mutate: Any, pattern: str) -> None:
    topo = _line()
    mutate(topo)
    with pytest.raises(DataError, match=pattern):
        load_topology(topo, eq)


def test_malformed_requests_name_request_and_field(eq: Equipment) -> None:
    with pytest.raises(DataError, match=r"request '7'.*'Nope'"):
        load_requests({"path-request": [_req("7", "trx A", "trx B", trx_type="Nope")]}, eq)
    with pytest.raises(DataError, match=r"request '8'.*mode 'mode 9'"):
        load_requests({"path-request": [_req("8", "trx A", "trx B", mode="mode 9")]}, eq)
    with pytest.raises(DataError, match=r"request '9'.*'output-power'"):
        load_requests({"path-request": [_req("9", "trx A", "trx B", **{"output-power": -1})]}, eq)
    with pytest.raises(DataError, match="not unique"):
        load_requests({"path-request": [_req("1", "trx A", "trx B")] * 2}, eq)
    with pytest.raises(DataError, match="cannot read"):
        load_requests("/nonexistent/requests.json", eq)


def test_blocking_reasons_are_named(eq: Equipment) -> None:
    topo = _line(80.0)
    res = _run(
        eq,
        topo,
        [
            _req("ok", "trx A", "trx B"),
            _req("nopath", "trx A", "trx C"),
            _req("unknown", "trx A", "trx Z"),
            _req("spacing", "trx A", "trx B", mode=None, spacing=25e9),
            _req("full", "trx A", "trx B", path_bandwidth=100e12),
        ],
    )
    by = {r.request_id: r for r in res}
    assert by["ok"].feasible
    assert by["ok"].blocking_reason is None
    assert by["nopath"].blocking_reason == "NO_PATH"
    assert "no path" in by["nopath"].reason
    assert "roadm C" in by["nopath"].reason or "trx C" in by["nopath"].reason
    assert by["unknown"].blocking_reason == "NO_PATH"
    assert "trx Z" in by["unknown"].reason
    assert by["spacing"].blocking_reason == "NO_FEASIBLE_BAUDRATE_WITH_SPACING"
    assert by["full"].blocking_reason == "NO_SPECTRUM"
    assert "no spectrum" in by["full"].reason


def test_no_mode_with_enough_gsnr(eq: Equipment) -> None:
    """A 9,000 km link: every Voyager mode fails; the reason names the best mode and figures."""
    res = _run(eq, _line(9000.0), [_req("far", "trx A", "trx B", mode=None)])[0]
    assert not res.feasible
    assert res.blocking_reason == "NO_FEASIBLE_MODE"
    assert "no mode with enough GSNR" in res.reason
    assert res.mode == "mode 1"  # the last (most robust) mode tried at 50 GHz spacing
    assert res.margin_db < 0
    forced = _run(eq, _line(9000.0), [_req("far", "trx A", "trx B", mode="mode 1")])[0]
    assert forced.blocking_reason == "MODE_NOT_FEASIBLE"


def test_design_splits_long_fibres_and_adds_amplifiers(eq: Equipment) -> None:
    net = design_network(load_topology(_line(400.0), eq), eq)
    fibres = [e for e in net.elements if e.kind == "Fiber"]
    amps = [e for e in net.elements if e.kind == "Edfa"]
    # 400 km > 150 km: split into equal spans near 90 km (GNPy: 4 × 100 km per direction)
    assert len(fibres) == 8
    assert {round(f.length_km, 6) for f in fibres} == {100.0}
    # per direction: booster, 3 in-line, pre-amplifier
    assert len(amps) == 10
    assert all(a.type_variety and a.gain_target_db is not None for a in amps)
    # the designed network round-trips through GNPy's JSON and gives identical QoT
    again = load_topology(network_to_json(net), eq)
    r1 = compute_requests(
        net, eq, load_requests({"path-request": [_req("1", "trx A", "trx B")]}, eq)
    )
    r2 = compute_requests(
        design_network(again, eq),
        eq,
        load_requests({"path-request": [_req("1", "trx A", "trx B")]}, eq),
    )
    assert r1[0].gsnr_01nm_db == pytest.approx(r2[0].gsnr_01nm_db, abs=1e-9)
    assert r1[0].latency_s == pytest.approx(400e3 * 1.468 / 299_792_458.0, rel=1e-9)


def test_spectrum_first_fit_and_both_directions(eq: Equipment) -> None:
    res = _run(
        eq,
        _line(),
        [_req("1", "trx A", "trx B"), _req("2", "trx B", "trx A"), _req("3", "trx A", "trx B")],
    )
    # 50 GHz = 4 slots of 12.5 GHz; band starts at 191.3 THz (n = -288): centres -284, -276, ...
    assert [(r.slot_n, r.slot_m) for r in res] == [(-284, 4), (-276, 4), (-268, 4)]


_MESH = json.loads((EXAMPLES / "meshTopologyExampleV2.json").read_text())
_SERVICES = json.loads((EXAMPLES / "meshTopologyExampleV2_services.json").read_text())


@given(
    element=st.integers(0, len(_MESH["elements"]) - 1),
    field=st.sampled_from(
        ["length", "loss_coef", "con_in", "type", "uid", "operational", "params"]
    ),
    value=st.sampled_from([None, -1, "x", [], {}, 1e9, 0]),
)
@settings(max_examples=60, deadline=None)
def test_mutated_mesh_never_raises_anything_but_data_error(
    element: int, field: str, value: Any
) -> None:
    """Random field corruption of the mesh example: a DataError naming the element, or a result."""
    eq = load_equipment(EXAMPLES / "eqpt_config.json")
    topo = copy.deepcopy(_MESH)
    el = topo["elements"][element]
    target = el.get("params", el) if field in ("length", "loss_coef", "con_in") else el
    target[field] = value
    message = ""
    try:
        res = compute_requests(
            design_network(load_topology(topo, eq), eq), eq, load_requests(_SERVICES, eq)
        )
    except DataError as exc:
        message = str(exc)
    if message:
        assert any(w in message for w in ("element", "connections", "amplifier"))
    else:
        assert len(res) == len(_SERVICES["path-request"])


def test_multiband_library_loads_and_refuses_multiband_amplifiers() -> None:
    eq = load_equipment(EXAMPLES / "eqpt_config_multiband.json")
    assert "std_medium_gain" in eq.amplifiers
    topo = _line()
    topo["elements"].append({"uid": "mb", "type": "Edfa", "type_variety": "std_booster_multiband"})
    topo["connections"][6] = {"from_node": "roadm A", "to_node": "mb"}
    topo["connections"].append({"from_node": "mb", "to_node": "fAB"})
    with pytest.raises(DataError, match=r"element 'mb'.*multi_band"):
        load_topology(topo, eq)
