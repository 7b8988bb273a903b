"""Fuzz: scenario YAML (mutated values, keys and bytes) and the validate → run property."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from _fuzzlib import clean, cli, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.errors import TsunaguError
from tsunagu.scenario import Scenario, scenario_from_text
from tsunagu.scenario.loader import load_scenario

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"
BASE: dict[str, Any] = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["x[/y]", ":100:", "../../etc", "", "0", "-1", "1e309", "nan", "!!python"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def _set(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    node = data
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


@given(
    path=st.sampled_from(PATHS),
    value=values,
    delete=st.booleans(),
    extra=st.none() | st.tuples(st.text(min_size=1, max_size=12), values),
)
@fuzz_settings(250)
def test_mutated_scenario_loads_or_says_why(
    path: tuple[Any, ...],
    value: Any,
    delete: bool,
    extra: tuple[str, Any] | None,
    count: Callable[[str], None],
) -> None:
    data = copy.deepcopy(BASE)
    _set(data, path, value, delete)
    if extra is not None:
        data[extra[0]] = extra[1]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    result = clean(lambda: scenario_from_text(text, "fuzz.yaml"))
    if isinstance(result, TsunaguError):
        assert str(result).startswith("fuzz.yaml:"), str(result)
    count("scenario yaml (values)")


@given(
    cuts=st.lists(
        st.tuples(st.integers(0, 4000), st.integers(0, 12), st.binary(max_size=6)), max_size=4
    )
)
@fuzz_settings(150)
def test_byte_damaged_scenario_file_loads_or_says_why(
    tmp_path_factory: Any, cuts: list[tuple[int, int, bytes]], count: Callable[[str], None]
) -> None:
    raw = bytearray(MINIMAL.read_bytes())
    for at, drop, insert in cuts:
        at = min(at, len(raw))
        raw[at : at + drop] = insert
    path = tmp_path_factory.mktemp("yaml") / "damaged.yaml"
    path.write_bytes(bytes(raw))
    clean(lambda: load_scenario(path))
    count("scenario yaml (bytes)")


def _one_step(sc: Scenario) -> Scenario:
    timeline = sc.timeline.model_copy(update={"duration_s": sc.timeline.step_s})
    return sc.model_copy(update={"timeline": timeline})


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


NUMERIC = [
    p
    for p in PATHS
    if isinstance(_get(BASE, p), int | float) and not isinstance(_get(BASE, p), bool)
]


@given(
    path=st.sampled_from(NUMERIC),
    factor=st.sampled_from([0.0, 1e-6, 0.5, 2.0, 10.0, 1e3, -1.0]),
)
@fuzz_settings(6)
def test_what_validate_accepts_builds_and_runs_a_step_cleanly(
    path: tuple[Any, ...], factor: float, count: Callable[[str], None]
) -> None:
    """If validate accepts a scenario, building it and running a step raise only TsunaguError."""
    data = copy.deepcopy(BASE)
    old = _get(data, path)
    _set(data, path, type(old)(old * factor) if isinstance(old, int) else old * factor, False)
    text = yaml.safe_dump(data, sort_keys=False)
    sc = clean(lambda: scenario_from_text(text, "fuzz.yaml"))
    count("validate → first step")
    if isinstance(sc, TsunaguError):
        return
    from tsunagu.sim.engine import run_twin
    from tsunagu.sim.estimate import preflight

    def build_and_step() -> None:
        twin, _ = preflight(_one_step(sc), float("inf"))
        run_twin(twin)

    clean(build_and_step)


@given(name=st.text(max_size=30) | st.sampled_from(["x[/y]", ":100:", "-", "--help", "\x00"]))
@fuzz_settings(40)
def test_validate_on_any_path_is_one_line(name: str, count: Callable[[str], None]) -> None:
    if "\x00" in name or name.startswith("-"):
        name = "./" + name.replace("\x00", "")
    cli(["validate", name or "nothing.yaml"])
    count("cli: validate paths")
