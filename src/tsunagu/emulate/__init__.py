"""Real traffic over the twin: the paths it computes, emulated with Linux network namespaces.

:func:`schedule_from_run` turns a flow of a run directory into a :class:`Schedule` of segments
with their delay, rate and loss per step; :class:`Emulation` builds the namespace chain, relays
packets between its namespaces with that delay, rate and loss (no ``netem`` needed), runs the
built-in probes and the user's commands, and removes everything on exit;
:func:`write_emulation` puts the measurements next to the twin's predictions in the run
directory (docs/results-format.md).
"""

from tsunagu.emulate.netns import EmulationError, netem_available, remove_stale, require_privileges
from tsunagu.emulate.results import write_emulation
from tsunagu.emulate.schedule import Schedule, Segment, schedule_from_run
from tsunagu.emulate.session import Emulation, EmulationResult

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
