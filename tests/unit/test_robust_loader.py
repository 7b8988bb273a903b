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


MINIMAL_TEXT = (
    __import__("pathlib").Path(__file__).resolve().parents[1]
    / "data"
    / "scenarios"
    / "minimal.yaml"
).read_text(encoding="utf-8")


def _edit(old: str, new: str) -> str:
    assert old in MINIMAL_TEXT
    return MINIMAL_TEXT.replace(old, new, 1)


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "span_length_km: 80.0",
            "span_length_km: 1.0e-9",
            "optical.operators[0].fibre.span_length_km",
        ),
        (
            "loss_db_per_km: 0.2",
            "loss_db_per_km: 20.0",
            "optical.operators[0].fibre.loss_db_per_km",
        ),
    ],
)
def test_implausible_values_are_errors_with_their_line_and_reason(
    old: str, new: str, field: str
) -> None:
    text = _edit(old, new)
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text, "m.yaml")
    message = str(info.value)
    assert message.startswith(f"m.yaml:{_line(text, new.split(':')[0])}: {field}: ")
    assert "outside the plausible range" in message
    assert "allow_implausible" in message
    # A study that means it says so, for this field only.
    allowed = text + f"\nallow_implausible: ['{field}']\n"
    assert scenario_from_text(allowed, "m.yaml").name == "minimal"


def test_rural_isd_of_a_millimetre_is_refused() -> None:
    text = MINIMAL_TEXT.replace("ran:\n", "ran:\n  isd_rural_m: 1.0e-3\n", 1)
    with pytest.raises(ScenarioError, match=r"ran\.isd_rural_m: 0\.001 m is outside"):
        scenario_from_text(text, "m.yaml")
    assert scenario_from_text(text + "\nallow_implausible: [all]\n", "m.yaml")


def test_an_event_after_the_end_of_the_run_is_an_error() -> None:
    data = __import__("yaml").safe_load(MINIMAL_TEXT)
    data["events"] = [{"kind": "node_down", "target": "x", "start_s": 99_999.0, "end_s": 100_000.0}]
    text = __import__("yaml").safe_dump(data, sort_keys=False)
    with pytest.raises(ScenarioError, match=r"events\[0\]\.start_s: the event starts at 99999 s"):
        scenario_from_text(text, "m.yaml")
