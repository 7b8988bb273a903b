"""National background traffic (MIC statistics) and access / last-mile delay distributions.

Pure functions and shipped data; the engine wires them into the national run.
"""

from __future__ import annotations

from tsunagu.traffic import lastmile
from tsunagu.traffic.national import (
    CLASSES,
    DEFAULT_DESTINATIONS,
    NationalTraffic,
    Observation,
    TrafficSection,
    spread_demand,
)

__all__ = [
    "CLASSES",
    "DEFAULT_DESTINATIONS",
    "NationalTraffic",
    "Observation",
    "TrafficSection",
    "lastmile",
    "spread_demand",
]
