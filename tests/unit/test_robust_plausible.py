"""Plausible ranges of the capacity-model fields (data/plausible_ranges.csv): a value inside its
range loads, one outside is an error naming the field and its range, and listing the field under
``allow_implausible`` lets a study that means it run.

The bounds are written out here rather than read from the CSV, so a range that is dropped or
moved fails these tests.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tsunagu.errors import ScenarioError
from tsunagu.scenario import scenario_from_text

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"

# (field as minimal.yaml spells it, low, high, a value below, a value above); None where the
# schema itself refuses the other side outright (a negative margin), so no override applies.
RANGES: list[tuple[str, float, float, float | None, float | None]] = [
    ("optical.operators[0].provisioned_wavelengths", 1, 128, 0, 129),
    ("optical.metro_wavelengths", 1, 128, 0, 129),
    ("optical.equipment.system_margin_db", 0.0, 10.0, None, 12.0),
    ("optical.equipment.launch_power_dbm", -6.0, 6.0, -7.0, 7.0),
    ("optical.equipment.amplifier_noise_figure_db", 4.0, 8.0, 3.5, 9.0),
    ("optical.equipment.roadm_osnr_db", 25.0, 50.0, 20.0, 55.0),
    ("ntn.gateways[0].feeder_capacity_bps", 1e8, 1e12, 20.2, 2e12),
    ("ntn.haps[0].feeder_capacity_bps", 1e7, 1e11, 3.0, 2e11),
    ("ntn.haps[0].capacity_bps", 1e6, 1e11, 1555.3, 2e11),
    ("ntn.haps[0].user_rate_bps", 1e3, 1e10, 50.0, 2e10),
    ("ntn.constellations[0].beam_capacity_bps", 1e6, 1e12, 20.2, 2e12),
    ("ntn.constellations[0].user_rate_bps", 1e3, 1e10, 100.0, 2e10),
]


def _with(field: str, value: float, allow: bool = False) -> str:
    data: Any = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    node = data
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", field)
    for part, nxt in zip(parts, [*parts[1:], None], strict=True):
        key: Any = int(part[1:-1]) if part.startswith("[") else part
        if nxt is None:
            node[key] = value
        else:
            node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
    if allow:
        data["allow_implausible"] = [field]
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(("field", "low", "high", "below", "above"), RANGES)
def test_the_bounds_of_the_range_load(
    field: str, low: float, high: float, below: float | None, above: float | None
) -> None:
    for value in (low, high, (low + high) / 2 if isinstance(low, float) else low + 1):
        assert scenario_from_text(_with(field, value), "m.yaml").name == "minimal"


@pytest.mark.parametrize(("field", "low", "high", "below", "above"), RANGES)
def test_outside_the_range_is_an_error_unless_the_study_allows_it(
    field: str, low: float, high: float, below: float | None, above: float | None
) -> None:
    for value in (v for v in (below, above) if v is not None):
        with pytest.raises(ScenarioError) as info:
            scenario_from_text(_with(field, value), "m.yaml")
        message = str(info.value)
        shown = re.escape(f"{value:g}")
        assert re.match(rf"m\.yaml:\d+: {re.escape(field)}: {shown} ", message), message
        assert f"outside the plausible range {low:g}-{high:g}" in message
        assert f"list '{field}' under allow_implausible" in message
        allowed = scenario_from_text(_with(field, value, allow=True), "m.yaml")
        assert allowed.allow_implausible == [field]
