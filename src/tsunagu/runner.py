"""The Python entry point: ``tsunagu.run(scenario, out_dir=...)``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import yaml

from tsunagu.scenario import Scenario, load_scenario
from tsunagu.sim.engine import run_twin
from tsunagu.sim.kpis import RunResult
from tsunagu.sim.twin import Twin

__all__ = ["run"]


def run(
    scenario: Scenario | str | os.PathLike[str] = "japan-2030",
    out_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    twin: Twin | None = None,
) -> RunResult:
    """Build the twin of ``scenario``, run its timeline and optionally write the run directory.

    Parameters
    ----------
    scenario : Scenario, built-in name or path
        What to run; defaults to the built-in ``japan-2030``.
    out_dir : path, optional
        Where to write the run directory (docs/results-format.md). Nothing is written if None.
    progress : callable(done_steps, total_steps), optional
        Called after every step.
    twin : Twin, optional
        The scenario already built (e.g. by :func:`tsunagu.sim.estimate.preflight`).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    result = run_twin(twin if twin is not None else Twin(sc), progress=progress)
    if out_dir is not None:
        from tsunagu.results.store import write_run

        text = yaml.safe_dump(sc.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
        write_run(result, Path(out_dir), text)
    return result
