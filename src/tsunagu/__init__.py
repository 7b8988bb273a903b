"""tsunagu (繋ぐ): the open digital twin of Beyond 5G infrastructure.

>>> import tsunagu
>>> scenario = tsunagu.load_scenario("japan-2030")
>>> scenario.name
'japan-2030'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Scenario", "Twin", "__version__", "load_scenario", "run"]

if TYPE_CHECKING:
    from tsunagu.runner import run
    from tsunagu.scenario import Scenario, load_scenario
    from tsunagu.sim.twin import Twin


def __getattr__(name: str) -> Any:
    # Lazy imports keep `import tsunagu` (and the CLI's start-up) fast.
    if name == "run":
        from tsunagu.runner import run

        return run
    if name in ("load_scenario", "Scenario"):
        from tsunagu import scenario

        return getattr(scenario, name)
    if name == "Twin":
        from tsunagu.sim.twin import Twin

        return Twin
    raise AttributeError(f"module 'tsunagu' has no attribute {name!r}")
