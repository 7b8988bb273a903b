"""Scenario names become safe path components; the size limit comes before any parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ScenarioError
from tsunagu.scenario import scenario_from_text
from tsunagu.scenario.loader import SIZE_LIMIT_ENV, max_scenario_bytes, slug


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("japan-2030", "japan-2030"),
        ("x/../../../../escaped", "x-escaped"),
        ("..", "scenario"),
        ("/etc/passwd", "etc-passwd"),
        ("a b/c", "a-b-c"),
        ("v1.2", "v1.2"),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected


@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_a_slug_is_one_harmless_path_component(name: str) -> None:
    s = slug(name)
    assert s
    assert "/" not in s
    assert "\\" not in s
    assert ".." not in s
    assert not s.startswith((".", "-"))


def test_size_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert max_scenario_bytes() == 1_000_000
    monkeypatch.setenv(SIZE_LIMIT_ENV, "100")
    with pytest.raises(ScenarioError, match="over the scenario size limit of 100 bytes"):
        scenario_from_text("name: x\n" + "#" * 200, "s.yaml")
