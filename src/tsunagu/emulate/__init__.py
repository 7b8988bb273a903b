"""Real traffic over the twin: the paths it computes, emulated with Linux network namespaces.

:func:`schedule_from_run` turns a flow of a run directory into a :class:`Schedule` of segments
with their delay, rate and loss per step; :class:`Emulation` builds the namespace chain, relays
packets between its namespaces with that delay, rate and loss (no ``netem`` needed), runs the
built-in probes and the user's commands, and removes everything on exit;
:func:`write_emulation` puts the measurements next to the twin's predictions in the run
directory (docs/results-format.md).

The names are imported on first use, so the relay and probe processes (``python -m
tsunagu.emulate.relay`` / ``.probe``) start without loading pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tsunagu.emulate.netns import (
        EmulationError,
        netem_available,
        remove_stale,
        require_privileges,
    )
    from tsunagu.emulate.results import write_emulation
    from tsunagu.emulate.schedule import Schedule, Segment, schedule_from_run
    from tsunagu.emulate.session import Emulation, EmulationResult

_WHERE = {
    "Emulation": "session",
    "EmulationResult": "session",
    "EmulationError": "netns",
    "Schedule": "schedule",
    "Segment": "schedule",
    "netem_available": "netns",
    "remove_stale": "netns",
    "require_privileges": "netns",
    "schedule_from_run": "schedule",
    "write_emulation": "results",
}

__all__ = [
    "Emulation",
    "EmulationError",
    "EmulationResult",
    "Schedule",
    "Segment",
    "netem_available",
    "remove_stale",
    "require_privileges",
    "schedule_from_run",
    "write_emulation",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"tsunagu.emulate.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'tsunagu.emulate' has no attribute {name!r}")
