"""Fuzzing the loader: any damaged scenario gives a Scenario or one located ScenarioError.

Each example starts from ``tests/data/scenarios/minimal.yaml`` and damages it, either in its
parsed data (delete or misspell a key, replace a value) or in its text (duplicate a line,
truncate, insert characters). Loading must then return a valid Scenario or raise a ScenarioError
whose message starts with ``FILENAME:LINE`` — never any other exception.
"""

from __future__ import annotations

import copy
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsunagu.errors import ScenarioError
from tsunagu.scenario import Scenario, load_scenario, scenario_from_text

MINIMAL = Path(__file__).parent.parent / "data" / "scenarios" / "minimal.yaml"
TEXT = MINIMAL.read_text(encoding="utf-8")
DATA: dict[str, Any] = yaml.safe_load(TEXT)
FILE = "fuzz.yaml"
LOCATED = re.compile(re.escape(FILE) + r":[1-9][0-9]*[:\s]")

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

Path_ = tuple[str | int, ...]


def _paths(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every path to a mapping entry or list item below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from _paths(value, (*path, index))


PATHS = list(_paths(DATA))
KEY_PATHS = [p for p in PATHS if isinstance(p[-1], str)]


def _parent(data: Any, path: Path_) -> Any:
    for item in path[:-1]:
        data = data[item]
    return data


def _outcome(load: Callable[[], Scenario]) -> Scenario | ScenarioError:
    """The scenario, or the ScenarioError raised; any other exception propagates."""
    try:
        return load()
    except ScenarioError as exc:
        return exc


def _check(text: str) -> None:
    result = _outcome(lambda: scenario_from_text(text, filename=FILE))
    if isinstance(result, ScenarioError):
        assert LOCATED.match(str(result)), str(result)
    else:
        assert isinstance(result, Scenario)


def _typo(key: str, draw: st.DrawFn) -> str:
    """Misspell ``key`` by deleting, doubling or swapping one character."""
    i = draw(st.integers(0, len(key) - 1))
    how = draw(st.sampled_from(["delete", "double", "swap", "upper"]))
    if how == "delete" and len(key) > 1:
        return key[:i] + key[i + 1 :]
    if how == "swap" and i + 1 < len(key):
        return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    if how == "upper":
        return key[:i] + key[i].upper() + key[i + 1 :]
    return key[:i] + key[i] + key[i:]


_VALUES = st.one_of(
    st.text(max_size=12),
    st.floats(max_value=-1e-9, allow_nan=False),
    st.integers(max_value=-1),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.booleans(),
    st.sampled_from(["0.2 dB/km", "550km", "3.5 GHz", "1e9", "abc", "", "yes", "~", "- a"]),
    st.dictionaries(st.sampled_from(["a", "name", "x"]), st.integers(), max_size=2),
)


@st.composite
def damaged_data(draw: st.DrawFn) -> str:
    data = copy.deepcopy(DATA)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        try:
            parent = _parent(data, path)
            current = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this part
        action = draw(st.sampled_from(["delete", "rename", "replace"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "rename" and isinstance(path[-1], str):
            new_key = _typo(path[-1], draw)
            if new_key not in parent:
                parent[new_key] = parent.pop(path[-1])
        else:
            del current
            parent[path[-1]] = draw(_VALUES)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@given(damaged_data())
@SETTINGS
def test_damaged_data_loads_or_gives_a_located_error(text: str) -> None:
    _check(text)


@st.composite
def damaged_text(draw: st.DrawFn) -> str:
    lines = TEXT.splitlines(keepends=True)
    action = draw(st.sampled_from(["duplicate", "truncate", "insert"]))
    if action == "duplicate":
        keyed = [i for i, line in enumerate(lines) if ":" in line and not line.startswith("#")]
        i = draw(st.sampled_from(keyed))
        j = draw(st.integers(i, len(lines)))
        lines.insert(j, lines[i])
        return "".join(lines)
    text = "".join(lines)
    at = draw(st.integers(0, len(text)))
    if action == "truncate":
        return text[:at]
    junk = draw(
        st.one_of(
            st.text(min_size=1, max_size=4),
            st.sampled_from([":", "- ", "\t", "[", "{", "'", '"', "&a", "*a", "!!", "\n  ", "#"]),
        )
    )
    return text[:at] + junk + text[at:]


@given(damaged_text())
@SETTINGS
def test_damaged_text_loads_or_gives_a_located_error(text: str) -> None:
    _check(text)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@given(cut=st.integers(0, len(TEXT.encode())), junk=st.binary(max_size=4), tail=st.booleans())
@settings(SETTINGS, max_examples=100)
def test_damaged_bytes_in_a_file_give_a_located_error(
    folder: Path, cut: int, junk: bytes, tail: bool
) -> None:
    raw = TEXT.encode()
    path = folder / FILE
    path.write_bytes(raw[:cut] + junk + (raw[cut:] if tail else b""))
    result = _outcome(lambda: load_scenario(path))
    if isinstance(result, ScenarioError):
        assert re.match(re.escape(str(path)) + r":[1-9][0-9]*[:\s]", str(result)), str(result)
    else:
        assert isinstance(result, Scenario)


def test_every_key_typo_is_caught_with_a_suggestion() -> None:
    """Not random: each key of minimal.yaml misspelled in turn gets a 'did you mean'."""
    for path in KEY_PATHS:
        key = str(path[-1])
        if _parent(DATA, path) is DATA["compute"]["carbon_intensity_g_per_kwh"] or len(key) < 4:
            continue  # region names are free text; very short keys have no unique typo
        data = copy.deepcopy(DATA)
        parent = _parent(data, path)
        parent[key[:-1] + key[-1] * 2] = parent.pop(key)
        with pytest.raises(ScenarioError, match=f"did you mean '{key}'"):
            scenario_from_text(yaml.safe_dump(data, sort_keys=False), filename=FILE)
