"""Fuzz: GNPy JSON (topology, equipment, requests), TLE/3LE and OMM, and topology CSV.

Every case either loads (and for GNPy, designs the network and computes the requests) or
raises one TsunaguError with a message; any other exception or a hang fails the case.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gnpy.tools.json_io as gnpy_json_io
import pytest
from _fuzzlib import clean, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.ntn import tle
from tsunagu.optical.equipment import load_equipment
from tsunagu.optical.gnpy_io import compute_requests, design_network, load_requests, load_topology
from tsunagu.optical.rmsa import resolve_topology

EXAMPLES = Path(gnpy_json_io.__file__).resolve().parent.parent / "example-data"
TOPOLOGY = json.loads((EXAMPLES / "meshTopologyExampleV2.json").read_text())
EQUIPMENT = json.loads((EXAMPLES / "eqpt_config.json").read_text())
REQUESTS = json.loads((EXAMPLES / "meshTopologyExampleV2_services.json").read_text())

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    # Integers beyond the float range (about 1.8e308), either sign: float() of them overflows.
    st.integers(min_value=10**300, max_value=10**400),
    st.integers(min_value=-(10**400), max_value=-(10**300)),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 0.0, 1e9, 1e-30, "", "x", "km", "m", "Edfa", "Fiber", "Roadm"]),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:6]):  # the first few items of long lists
            out += _paths(v, (*prefix, i))
    return out


DOCS = {"topology": TOPOLOGY, "equipment": EQUIPMENT, "requests": REQUESTS}
PATHS = [(doc, p) for doc, data in DOCS.items() for p in _paths(data)]


def _mutate(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.fixture(scope="module")
def gnpy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the GNPy example folder: the equipment library refers to files beside it."""
    folder = tmp_path_factory.mktemp("gnpy-examples")
    for src in EXAMPLES.glob("*.json"):
        (folder / src.name).write_bytes(src.read_bytes())
    return folder


def _qot(folder: Path, topo: Any, eq_data: Any, reqs: Any) -> None:
    path = folder / "fuzz_eqpt.json"
    path.write_text(json.dumps(eq_data), encoding="utf-8")
    eq = load_equipment(path)
    net = design_network(load_topology(topo, eq), eq)
    compute_requests(net, eq, load_requests(reqs, eq))


@given(target=st.sampled_from(PATHS), value=json_values, delete=st.booleans())
@fuzz_settings(250)
def test_mutated_gnpy_files_compute_or_say_why(
    gnpy_dir: Path,
    target: tuple[str, tuple[Any, ...]],
    value: Any,
    delete: bool,
    count: Callable[[str], None],
) -> None:
    doc, path = target
    docs = dict(DOCS)
    docs[doc] = _mutate(DOCS[doc], path, value, delete)
    clean(lambda: _qot(gnpy_dir, docs["topology"], docs["equipment"], docs["requests"]))
    count("gnpy json")


@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(lambda s: s.encode()))
@fuzz_settings(60)
def test_gnpy_file_bytes_load_or_say_why(
    tmp_path_factory: Any, raw: bytes, count: Callable[[str], None]
) -> None:
    path = tmp_path_factory.mktemp("gnpy") / "t.json"
    path.write_bytes(raw)
    eq = load_equipment(EXAMPLES / "eqpt_config.json")
    clean(lambda: load_topology(path, eq))
    clean(lambda: load_requests(path, eq))
    clean(lambda: load_equipment(path))
    count("gnpy json (bytes)")


L1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927"
L2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
OMM = {
    "OBJECT_NAME": "ISS (ZARYA)",
    "OBJECT_ID": "1998-067A",
    "EPOCH": "2008-09-20T12:25:40.104192",
    "MEAN_MOTION": 15.72125391,
    "ECCENTRICITY": 0.0006703,
    "INCLINATION": 51.6416,
    "RA_OF_ASC_NODE": 247.4627,
    "ARG_OF_PERICENTER": 130.536,
    "MEAN_ANOMALY": 325.0288,
    "NORAD_CAT_ID": 25544,
    "BSTAR": -1.1606e-5,
    "MEAN_MOTION_DOT": -2.182e-5,
    "MEAN_MOTION_DDOT": 0,
}
TLE_CHARS = st.sampled_from(list("0123456789 .-+ABCXYZ\t#"))


@given(
    edits=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 70), TLE_CHARS, st.booleans()), max_size=4
    ),
    name=st.none() | st.text(max_size=30),
    verify=st.booleans(),
)
@fuzz_settings(200)
def test_mutated_tle_parses_or_says_why(
    edits: list[tuple[int, int, str, bool]],
    name: str | None,
    verify: bool,
    count: Callable[[str], None],
) -> None:
    lines = [L1, L2]
    for which, col, char, insert in edits:
        line = lines[which]
        col = min(col, len(line))
        lines[which] = line[:col] + char + line[col + (0 if insert else 1) :]
    text = "\n".join(([name] if name is not None else []) + lines) + "\n"
    clean(lambda: tle.parse_tle(text, "fuzz.tle", verify_checksum=verify))
    count("tle/3le")


omm_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(
    key=st.sampled_from(list(OMM)),
    value=omm_values,
    delete=st.booleans(),
    as_csv=st.booleans(),
)
@fuzz_settings(150)
def test_mutated_omm_parses_or_says_why(
    key: str, value: Any, delete: bool, as_csv: bool, count: Callable[[str], None]
) -> None:
    record = _mutate(OMM, (key,), value, delete)
    if as_csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(record))
        writer.writeheader()
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in record.items()}
        )
        text = buf.getvalue()
        clean(lambda: tle.parse_omm_csv(text, "fuzz.csv"))
    else:
        text = json.dumps([record])
        clean(lambda: tle.parse_omm_json(text, "fuzz.json"))
    count("omm json/csv")


@given(
    key=st.sampled_from(list(OMM)),
    digits=st.integers(1, 6000),
    sign=st.sampled_from(["", "-"]),
    as_csv=st.booleans(),
)
@fuzz_settings(50)
def test_omm_numbers_of_any_length_parse_or_say_why(
    key: str, digits: int, sign: str, as_csv: bool, count: Callable[[str], None]
) -> None:
    # Written as text: json.dumps cannot write an integer beyond Python's 4,300-digit limit,
    # which a file can still hold.
    number = sign + "9" * digits
    if as_csv:
        record = {k: number if k == key else v for k, v in OMM.items()}
        text = ",".join(record) + "\n" + ",".join(str(v) for v in record.values()) + "\n"
        clean(lambda: tle.parse_omm_csv(text, "fuzz.csv"))
    else:
        text = json.dumps([{**OMM, key: "@"}]).replace('"@"', number)
        clean(lambda: tle.parse_omm_json(text, "fuzz.json"))
    count("omm json/csv")


csv_cells = st.one_of(
    st.text(max_size=10),
    st.sampled_from(["", "0", "-5", "nan", "inf", "1e309", "3.5", "a", "b", '"', "\r"]),
)


@given(
    header=st.sampled_from(["a,b,length_km", "b,a,length_km", "a,b", "x,y,z", ""]),
    rows=st.lists(st.lists(csv_cells, min_size=0, max_size=4), max_size=8),
    junk=st.binary(max_size=8),
)
@fuzz_settings(150)
def test_topology_csv_loads_or_says_why(
    tmp_path_factory: Any,
    header: str,
    rows: list[list[str]],
    junk: bytes,
    count: Callable[[str], None],
) -> None:
    body = header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    path = tmp_path_factory.mktemp("csv") / "topo.csv"
    path.write_bytes(body.encode("utf-8", "surrogatepass") + junk)
    clean(lambda: resolve_topology(str(path)))
    count("topology csv")


@given(key=st.text(max_size=30))
@fuzz_settings(30)
def test_topology_names_resolve_or_say_why(key: str, count: Callable[[str], None]) -> None:
    for spec in (key, f"topohub:{key}", f"{key}.csv"):
        clean(lambda spec=spec: resolve_topology(spec))
    count("topology names")
