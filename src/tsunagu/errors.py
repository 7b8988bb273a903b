"""The exception hierarchy. Every message says what was wrong and what to pass instead."""

from __future__ import annotations

__all__ = [
    "DataError",
    "InfeasibleError",
    "ModelRangeError",
    "ScenarioError",
    "TsunaguError",
]


class TsunaguError(Exception):
    """Base class of every error tsunagu raises on purpose."""


class ScenarioError(TsunaguError):
    """A scenario file or object is invalid; the message names file, line and field."""


class InfeasibleError(TsunaguError):
    """A request cannot be met; the message names the binding constraint."""


class DataError(TsunaguError):
    """Shipped or user-supplied reference data is missing or malformed."""


class ModelRangeError(TsunaguError):
    """Inputs lie outside the validity range of a published model."""


class NoPathError(InfeasibleError):
    """No usable path joins two nodes; the message names both and what to check."""


__all__ += ["NoPathError"]
