"""Scenarios: the pydantic schema and the YAML loader that reports file, line and fix."""

from __future__ import annotations

from tsunagu.scenario.loader import builtin_scenarios, load_scenario, scenario_from_text
from tsunagu.scenario.schema import Scenario

__all__ = ["Scenario", "builtin_scenarios", "load_scenario", "scenario_from_text"]
