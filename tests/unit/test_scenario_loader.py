"""The scenario loader: every mistake becomes one ScenarioError naming file, line, field and fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tsunagu.errors import ScenarioError
from tsunagu.scenario import Scenario, builtin_scenarios, load_scenario, loader, scenario_from_text

MINIMAL = Path(__file__).parent.parent / "data" / "scenarios" / "minimal.yaml"
TEXT = MINIMAL.read_text(encoding="utf-8")
FILE = "s.yaml"


def line_of(text: str, needle: str) -> int:
    """1-based line of the single line of ``text`` containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs on lines {hits}"
    return hits[0]


def replaced(old: str, new: str, text: str = TEXT) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text, filename=FILE)
    return str(info.value)


def headline(message: str) -> str:
    return message.splitlines()[0]


# --------------------------------------------------------------------------------------------
# Loading valid scenarios


def test_minimal_scenario_loads_with_its_values() -> None:
    scenario = load_scenario(MINIMAL)
    assert isinstance(scenario, Scenario)
    assert scenario.name == "minimal"
    assert scenario.optical.operators[0].topology == "jpn12"
    assert scenario.optical.operators[0].fibre.loss_db_per_km == pytest.approx(0.2)
    shell = scenario.ntn.constellations[0]
    assert (shell.planes, shell.sats_per_plane, shell.altitude_km) == (6, 8, 550.0)
    assert shell.inclination_deg == pytest.approx(53.0)
    assert len(scenario.ntn.haps) == 1
    assert len(scenario.ntn.gateways) == 1
    assert scenario.timeline.duration_s / scenario.timeline.step_s == pytest.approx(2.0)
    assert scenario.compute.carbon_intensity_g_per_kwh == {
        "Tokyo": 539.0,
        "Kansai": 365.0,
        "Chubu": 480.0,
    }


def test_path_given_as_str_and_text_give_equal_scenarios() -> None:
    assert load_scenario(str(MINIMAL)) == scenario_from_text(TEXT) == load_scenario(MINIMAL)


def test_builtin_scenarios_is_a_sorted_list_of_names() -> None:
    names = builtin_scenarios()
    assert isinstance(names, list)
    assert names == sorted(names)
    assert all(isinstance(n, str) and not n.endswith(".yaml") for n in names)


@pytest.mark.parametrize("name", builtin_scenarios())
def test_every_builtin_scenario_loads(name: str) -> None:
    assert isinstance(load_scenario(name), Scenario)


def test_builtin_name_is_looked_up_in_the_builtin_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tiny.yaml").write_text(TEXT, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")
    monkeypatch.setattr(loader, "_builtin_dir", lambda: tmp_path)
    assert builtin_scenarios() == ["tiny"]
    assert load_scenario("tiny").name == "minimal"


def test_builtin_errors_name_the_builtin_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.yaml").write_text("name: [\n", encoding="utf-8")
    monkeypatch.setattr(loader, "_builtin_dir", lambda: tmp_path)
    with pytest.raises(ScenarioError, match=re.escape(str(tmp_path / "bad.yaml")) + r":2:1: "):
        load_scenario("bad")


def test_merge_keys_and_aliases_are_supported() -> None:
    text = replaced(
        "  sites:\n    - name: dc-tokyo\n      kind: core\n",
        "  sites:\n    - &tokyo\n      name: dc-tokyo\n      kind: core\n",
    )
    text = replaced(
        "    - name: edge-nagoya\n      kind: edge\n",
        "    - <<: *tokyo\n      name: edge-nagoya\n      kind: edge\n",
        text,
    )
    scenario = scenario_from_text(text)
    edge = scenario.compute.sites[2]
    assert (edge.name, edge.kind, edge.gpus) == ("edge-nagoya", "edge", 8)


def test_merged_values_report_the_line_where_they_were_written() -> None:
    text = "base: &b\n  step_s: abc\ntimeline:\n  <<: *b\n"
    message = error_of(text)
    assert f"{FILE}:1: base: unknown key 'base'" in message
    assert f"{FILE}:2: timeline.step_s: expected a number (in s), got 'abc'" in message


# --------------------------------------------------------------------------------------------
# Files


def test_missing_file_says_so_and_lists_the_builtins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "alpha.yaml").write_text(TEXT, encoding="utf-8")
    monkeypatch.setattr(loader, "_builtin_dir", lambda: tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario("no/such/file.yaml")
    message = str(info.value)
    assert message.startswith("no/such/file.yaml: the file does not exist")
    assert "built-in scenario: alpha" in message
    with pytest.raises(ScenarioError, match="did you mean the built-in 'alpha'"):
        load_scenario("alpah")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)


def test_non_utf8_bytes_name_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"name: x\ndescription: caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}:2:17: the file is not UTF-8 text")
    assert "Fix: save the file as UTF-8" in str(info.value)


# --------------------------------------------------------------------------------------------
# YAML errors


def test_invalid_yaml_names_line_and_column() -> None:
    message = error_of("name: x\noptical:\n  operators: [a, b\nran: {}\n")
    assert message.startswith(f"{FILE}:4:4: invalid YAML: expected ',' or ']'")
    assert "while parsing a flow sequence on line 3" in message
    assert "Fix: " in message


def test_tab_indentation_says_use_spaces() -> None:
    message = error_of("name: x\ntimeline:\n\tstep_s: 1\n")
    assert message.startswith(f"{FILE}:3:1: invalid YAML:")
    assert "indent with spaces, never tabs" in message


def test_control_character_is_reported_with_position() -> None:
    message = error_of("name: x\ndescription: a\x07b\n")
    assert message.startswith(f"{FILE}:2:15: invalid YAML: the character '\\x07'")


def test_duplicate_key_names_both_lines() -> None:
    text = replaced("  step_s: 1800.0\n", "  step_s: 1800.0\n  seed: 3\n  step_s: 900\n")
    first = line_of(text, "step_s: 1800.0")
    second = line_of(text, "step_s: 900")
    message = error_of(text)
    assert message.startswith(f"{FILE}:{second}:3: timeline.step_s: duplicate key 'step_s'")
    assert f"first given on line {first}, again on line {second}" in message


def test_top_level_must_be_a_mapping() -> None:
    message = error_of("- name: x\n- name: y\n")
    assert message.startswith(f"{FILE}:1:1: the top level of a scenario must be a mapping")
    assert "got a list" in message


def test_empty_file_is_explained() -> None:
    assert error_of("# nothing here\n").startswith(f"{FILE}:1: the file is empty. Fix:")


def test_unknown_tag_is_refused() -> None:
    assert error_of("name: !secret x\n").startswith(f"{FILE}:1:7: invalid YAML: could not")
    assert error_of("name: x\ntimeline: !!omap [a: 1]\n").startswith(
        f"{FILE}:2:11: timeline: unsupported YAML tag"
    )


def test_bad_explicit_scalar_tag_is_an_error_not_a_crash() -> None:
    assert error_of("name: x\nseed: !!int abc\n").startswith(f"{FILE}:2:7: seed: cannot read")


def test_recursive_alias_is_refused() -> None:
    assert "recursive '*alias'" in error_of("name: &a [*a]\n")


def test_alias_bomb_is_refused() -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    message = error_of("\n".join(rows) + "\n")
    assert "expands to more than" in message
    assert message.startswith(f"{FILE}:")


# --------------------------------------------------------------------------------------------
# Schema errors


def test_unknown_key_suggests_the_closest_valid_key() -> None:
    text = replaced("loss_db_per_km: 0.2", "los_db_per_km: 0.2")
    line = line_of(text, "los_db_per_km")
    message = error_of(text)
    assert message == (
        f"{FILE}:{line}: optical.operators[0].fibre.los_db_per_km: unknown key "
        "'los_db_per_km'; did you mean 'loss_db_per_km'? "
        "Fix: rename 'los_db_per_km' to 'loss_db_per_km'."
    )


def test_unknown_top_level_section_suggests_the_section() -> None:
    text = replaced("services:\n", "servics:\n")
    message = error_of(text)
    assert f"{FILE}:{line_of(text, 'servics')}: servics: unknown key 'servics'; " in message
    assert "did you mean 'services'?" in message


def test_unknown_key_without_a_close_match_lists_the_valid_keys() -> None:
    text = replaced("      layers: 4\n", "      layers: 4\n      zzz: 1\n")
    message = error_of(text)
    assert message.startswith(f"{FILE}:{line_of(text, 'zzz')}: ran.carriers[0].zzz: unknown key")
    assert "use one of the keys valid here: band, bandwidth_mhz, freq_ghz" in message


def test_missing_field_points_at_the_parent_mapping() -> None:
    text = replaced("      topology: jpn12\n", "")
    message = error_of(text)
    assert message == (
        f"{FILE}:{line_of(text, 'name: op-a')}: optical.operators[0].topology: missing required "
        "field 'topology' (expected text: 'jpn12' or 'topohub:<group>/<name>'). "
        "Fix: add 'topology: ...' under optical.operators[0]."
    )


def test_missing_section_points_at_the_top_level() -> None:
    text = replaced("name: minimal\n", "")
    message = error_of(text)
    assert message.startswith(f"{FILE}:{line_of(text, 'description:')}: name: missing required")
    assert "Fix: add 'name: ...' at the top level." in message


def test_missing_number_describes_range_and_unit() -> None:
    text = replaced("      altitude_km: 550.0\n", "")
    message = error_of(text)
    assert message.startswith(
        f"{FILE}:{line_of(text, 'name: shell-550')}: ntn.constellations[0].altitude_km: "
        "missing required field 'altitude_km' (expected a number at least 160.0 and at most "
        "50000.0, in km)."
    )


def test_wrong_type_says_what_was_expected_and_given() -> None:
    text = replaced("span_length_km: 80.0", "span_length_km: abc")
    assert error_of(text) == (
        f"{FILE}:{line_of(text, 'span_length_km')}: optical.operators[0].fibre.span_length_km: "
        "expected a number (in km), got 'abc'. Fix: write a plain number, e.g. "
        "span_length_km: 80.0."
    )


@pytest.mark.parametrize(
    ("old", "new", "path", "hint"),
    [
        (
            "loss_db_per_km: 0.2",
            "loss_db_per_km: 0.2 dB/km",
            "optical.operators[0].fibre.loss_db_per_km",
            "(loss_db_per_km → dB/km), e.g. loss_db_per_km: 0.2.",
        ),
        (
            "altitude_km: 550.0",
            "altitude_km: 550km",
            "ntn.constellations[0].altitude_km",
            "(altitude_km → km), e.g. altitude_km: 550.",
        ),
        (
            "freq_ghz: 3.5",
            "freq_ghz: 3.5 GHz",
            "ran.carriers[0].freq_ghz",
            "(freq_ghz → GHz), e.g. freq_ghz: 3.5.",
        ),
        (
            "gpus: 6000",
            "gpus: 6000 GPUs",
            "compute.sites[0].gpus",
            "give a plain number without a unit, e.g. 6000.",
        ),
    ],
)
def test_number_with_a_unit_asks_for_a_plain_number(
    old: str, new: str, path: str, hint: str
) -> None:
    text = replaced(old, new)
    message = error_of(text)
    value = new.split(": ", 1)[1]
    assert message.startswith(f"{FILE}:{line_of(text, new)}: {path}: expected ")
    assert f", got '{value}'. Fix: " in message
    assert message.endswith(hint)
    if "→" in hint:
        assert "give a plain number in the unit of the field name" in message


def test_out_of_range_value_names_the_bound() -> None:
    text = replaced("loss_db_per_km: 0.2", "loss_db_per_km: -0.2")
    assert error_of(text) == (
        f"{FILE}:{line_of(text, 'loss_db_per_km')}: optical.operators[0].fibre.loss_db_per_km: "
        "expected a number greater than 0.0 (in dB/km), got -0.2. "
        "Fix: give a value within the allowed range in dB/km."
    )


def test_dict_entries_are_located() -> None:
    text = replaced("Kansai: 365", "Kansai: none")
    message = error_of(text)
    assert message.startswith(
        f"{FILE}:{line_of(text, 'Kansai: none')}: compute.carbon_intensity_g_per_kwh.Kansai: "
        "expected a number (in gCO2/kWh), got 'none'."
    )


def test_literal_typo_suggests_the_option() -> None:
    text = replaced("kind: regional", "kind: regionall")
    message = error_of(text)
    assert message.startswith(f"{FILE}:{line_of(text, 'regionall')}: compute.sites[1].kind: ")
    assert "expected one of 'core', 'regional' or 'edge', got 'regionall'." in message
    assert message.endswith("Fix: did you mean 'regional'?")


def test_number_where_text_is_expected_says_quote_it() -> None:
    text = replaced("band: n78", "band: 78")
    message = error_of(text)
    assert message.startswith(
        f"{FILE}:{line_of(text, 'band: 78')}: ran.carriers[0].band: expected text, got 78."
    )
    assert "put the value in quotes" in message


def test_empty_list_needs_an_item() -> None:
    text = replaced("  carriers:\n    - band: n78\n", "  carriers: []\n  old:\n    - band: n78\n")
    message = error_of(text)
    assert f"{FILE}:{line_of(text, 'carriers: []')}: ran.carriers: expected at least 1 item" in (
        message
    )


def test_model_validator_error_points_at_its_mapping() -> None:
    text = replaced("  step_s: 1800.0", "  step_s: 7200.0")
    assert error_of(text) == (
        f"{FILE}:{line_of(text, 'timeline:')}: timeline: step_s (7200) is longer than "
        "duration_s (3600); make step_s at most duration_s."
    )


def test_cross_field_error_in_a_section() -> None:
    text = replaced("      grid_region: Tokyo", "      grid_region: Kanto")
    message = error_of(text)
    assert message.startswith(f"{FILE}:{line_of(text, 'compute:')}: compute: grid_region")
    assert "['Kanto'] has no entry in carbon_intensity_g_per_kwh" in message


def test_top_level_validator_error_uses_the_first_line() -> None:
    text = replaced("  - name: vision", "  - name: chat")
    message = error_of(text)
    assert message.startswith(f"{FILE}:{line_of(text, 'name: minimal')}: (top level): service")


def test_several_errors_give_one_exception_headed_by_the_first_line() -> None:
    text = replaced("freq_ghz: 3.5", "freq_ghz: fast")
    text = replaced("loss_db_per_km: 0.2", "los_db_per_km: 0.2", text)
    text = replaced("gpus: 8", "gpus: -8", text)
    message = error_of(text)
    lines = message.splitlines()
    assert lines[0].startswith(f"{FILE}:{line_of(text, 'los_db_per_km')}: ")
    assert lines[1] == "2 more problems:"
    assert lines[2].startswith(f"  {FILE}:{line_of(text, 'freq_ghz')}: ran.carriers[0].freq_ghz")
    assert lines[3].startswith(f"  {FILE}:{line_of(text, 'gpus: -8')}: compute.sites[2].gpus")
    assert len(lines) == 4


def test_errors_hide_the_pydantic_and_yaml_tracebacks() -> None:
    for text in ("name: [\n", replaced("seed: 7", "seed: x")):
        with pytest.raises(ScenarioError) as info:
            scenario_from_text(text)
        assert info.value.__suppress_context__
        assert info.value.__cause__ is None
        assert "pydantic" not in str(info.value)
        assert "errors.pydantic.dev" not in str(info.value)
