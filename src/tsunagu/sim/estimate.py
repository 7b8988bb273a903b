"""Before a run: how much memory and work it needs, from the scenario's sizes alone.

:func:`estimate_run` is a pure function of the scenario and the sizes of its built parts (demand
points, backbone nodes). It adds the arrays the engine holds at its peak, each from its shape
and element size — nothing is measured or fitted:

* ``satellite_positions``: positions of every satellite at every step, ``T·S·3`` float64, kept
  for the whole run (the engine computes them up front), plus the same again while they are
  built;
* ``satellites_table``: the ``satellites`` table, one row per satellite and step (step, time,
  id, lat, lon, alt: 6 × 8 bytes, and the constellation name with its 4-byte offset);
* ``flows_table``: the ``flows`` table, one row per demand point and service and step, two
  during an event (users on the RAN and on the backup): 15 numeric columns of 8 bytes, 2
  booleans and 7 text columns of about 12 bytes each;
* ``flows_summary``: the KPI summary's NumPy copies of the flow columns it aggregates (step,
  rate, latency, SLA, served, population, access, weight) and its per-service and per-region
  selections, about 16 eight-byte values per flow row, while the table is held;
* ``step_working_set``: one step's largest temporaries, the user-to-satellite geometry
  (difference vectors, their products, range and elevation: 8 float64 per point and
  satellite), the shortest paths from every compute site to every node (distance float64
  and predecessor int32) and the arrays one step's flow rows are built from (6 NumPy text
  columns at 4 bytes per character and 10 float64 columns);
* ``ntn_rtt``: positions at every RTT sample, the laser links of every sample and the
  hop-by-hop paths of every place pair;
* ``ntn_tracks``: half an hour of ground tracks at one sample a minute;
* ``latency_histograms``: the two weight histograms per (service, region) of
  :mod:`tsunagu.sim.latency` (``HIST_BINS + 2`` float64 each; regions: all of the prefecture
  table's, an upper bound) and one step's draws (about 24 float64 per drawn request).

The caller adds the interpreter's own footprint (``baseline_bytes``, e.g. the resident set of the
process before the run). :func:`check_memory` compares the total with the budget
(``--memory-budget`` or ``TSUNAGU_MEMORY_BUDGET``; by default half of this machine's memory)
and raises :class:`~tsunagu.errors.ScenarioError` with the estimate and the fix when it is over.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tsunagu.errors import ScenarioError, TsunaguError
from tsunagu.scenario.schema import Scenario

if TYPE_CHECKING:
    from tsunagu.sim.twin import Twin

__all__ = [
    "BUDGET_ENV",
    "RunEstimate",
    "check_memory",
    "estimate_run",
    "format_bytes",
    "memory_budget_bytes",
    "parse_bytes",
    "preflight",
    "process_rss_bytes",
    "run_fix",
]

BUDGET_ENV = "TSUNAGU_MEMORY_BUDGET"
"""Environment variable that sets the memory budget, e.g. ``16GB``."""

_F8 = 8  # float64 / int64
_I4 = 4  # int32, Arrow string offsets
_TEXT = 12  # bytes of a short text cell (names, access kinds) with its offset
_CITY_CHARS = 24  # demand-point names before the twin is built (the shipped list's longest: 20)
_TRACK_WINDOW_S = 1800.0
_TRACK_STEP_S = 60.0


@dataclass(frozen=True)
class RunEstimate:
    """Peak memory of a run by part (bytes) and the sizes it was computed from."""

    steps: int
    satellites: int
    demand_points: int
    nodes: int
    flow_rows_per_step: int
    parts_bytes: dict[str, float] = field(default_factory=dict)

    @property
    def total_bytes(self) -> float:
        return float(sum(self.parts_bytes.values()))

    def largest(self) -> str:
        return max(self.parts_bytes, key=lambda k: self.parts_bytes[k])

    def describe(self) -> str:
        parts = ", ".join(
            f"{k.replace('_', ' ')} {format_bytes(v)}"
            for k, v in sorted(self.parts_bytes.items(), key=lambda kv: -kv[1])
            if v > 0
        )
        return (
            f"{self.steps:,} steps × {self.satellites:,} satellites × {self.demand_points:,} "
            f"demand points × {self.flow_rows_per_step:,} flow rows per step: about "
            f"{format_bytes(self.total_bytes)} ({parts})"
        )


def estimate_run(
    sc: Scenario,
    demand_points: int | None = None,
    backbone_nodes: int = 0,
    baseline_bytes: float = 0.0,
    name_chars: int = _CITY_CHARS,
) -> RunEstimate:
    """The peak memory of running ``sc`` (see the module docs for the terms).

    Parameters
    ----------
    sc : the scenario.
    demand_points : demand points after the area filter; defaults to ``demand.max_points``
        (the most there can be).
    backbone_nodes : nodes of the optical backbone (all operators, metro included).
    baseline_bytes : memory in use before the run (interpreter, libraries, the built twin).
    name_chars : the longest demand-point name (NumPy text arrays are as wide as the longest).
    """
    tl = sc.timeline
    steps = math.floor(tl.duration_s / tl.step_s + 1e-9)
    sats = sum(c.planes * c.sats_per_plane for c in sc.ntn.constellations)
    points = int(sc.demand.max_points if demand_points is None else demand_points)
    services = len(sc.services)
    sites = len(sc.compute.sites)
    gateways = len(sc.ntn.gateways)
    nodes = backbone_nodes + points + sites + gateways + len(sc.ntn.haps) + sats
    # Steps inside some event window carry up to two rows per point and service.
    windows = [
        (e.start_s, tl.duration_s if e.end_s is None or e.preset else e.end_s) for e in sc.events
    ]
    busy = sum(min(b, tl.duration_s) - min(a, tl.duration_s) for a, b in windows)
    event_share = min(1.0, busy / tl.duration_s)
    flow_rows = math.ceil(points * services * (1.0 + event_share))
    text_chars = max(
        [name_chars, *(len(k.name) for k in sc.services), *(len(x.name) for x in sc.compute.sites)]
    )
    name_bytes = max((len(c.name) for c in sc.ntn.constellations), default=0) + _I4

    parts: dict[str, float] = {"baseline": float(baseline_bytes)}
    parts["satellite_positions"] = 2.0 * steps * sats * 3 * _F8
    parts["satellites_table"] = float(steps * sats * (6 * _F8 + name_bytes))
    parts["flows_table"] = float(steps * flow_rows * (15 * _F8 + 2 + 7 * _TEXT))
    parts["flows_summary"] = float(steps * flow_rows * 16 * _F8)
    # Difference vectors (3), their products (3), range and elevation: 8 float64 per pair.
    geometry = points * sats * 8 * _F8 if gateways else 0
    paths = sites * nodes * (_F8 + _I4)
    build = flow_rows * (6 * 4 * text_chars + 10 * _F8)
    parts["step_working_set"] = float(geometry + paths + build)
    if sc.ntn.rtt_pairs and sc.ntn.constellations:
        rtt_t = math.ceil(tl.duration_s / min(sc.ntn.rtt_step_s, tl.step_s))
        # A +Grid route crosses at most half the planes and half a plane each way.
        max_hops = sum(c.planes + c.sats_per_plane for c in sc.ntn.constellations)
        pairs = len(sc.ntn.rtt_pairs)
        # Positions at every sample, built twice (ECI then Earth-fixed), and the +Grid laser
        # links: 4 per satellite, each a vector (3), a range, a grazing height and a weight.
        isl = rtt_t * sats * 4 * 6 * _F8
        parts["ntn_rtt"] = float(2 * rtt_t * sats * 3 * _F8 + isl + rtt_t * pairs * max_hops * _F8)
    if sats:
        track_t = int(min(_TRACK_WINDOW_S, tl.duration_s) // _TRACK_STEP_S) + 1
        parts["ntn_tracks"] = float(track_t * sats * (3 * _F8 + 5 * _F8 + name_bytes))
    from tsunagu.geo import load_prefectures
    from tsunagu.sim.latency import HIST_BINS, SAMPLES_PER_GROUP

    groups = services * len(set(load_prefectures().region))
    draws = groups * math.ceil(SAMPLES_PER_GROUP / max(steps, 1))
    parts["latency_histograms"] = float(2 * groups * (HIST_BINS + 2) * _F8 + draws * 24 * _F8)
    return RunEstimate(
        steps=steps,
        satellites=sats,
        demand_points=points,
        nodes=nodes,
        flow_rows_per_step=flow_rows,
        parts_bytes=parts,
    )


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1e3,
    "kb": 1e3,
    "m": 1e6,
    "mb": 1e6,
    "g": 1e9,
    "gb": 1e9,
    "t": 1e12,
    "tb": 1e12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_bytes(text: str, what: str = "--memory-budget") -> float:
    """``'16GB'``, ``'512 MiB'``, ``'2e9'`` → bytes; the error says how to write it."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ScenarioError(
            f"{what} {text!r} is not a size; Fix: write a number with an optional unit, "
            "e.g. 16GB, 512MiB or 2e9"
        )
    value = float(match.group(1)) * _UNITS[unit]
    if not math.isfinite(value) or value <= 0:
        raise ScenarioError(f"{what} {text!r} must be a positive size, e.g. 16GB")
    return value


def format_bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _physical_memory_bytes() -> float | None:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_budget_bytes(option: str | None = None) -> float:
    """The budget: ``option`` (the ``--memory-budget`` text), else ``$TSUNAGU_MEMORY_BUDGET``,
    else half of this machine's physical memory (4 GB when that is unknown)."""
    if option:
        return parse_bytes(option)
    env = os.environ.get(BUDGET_ENV)
    if env:
        return parse_bytes(env, BUDGET_ENV)
    physical = _physical_memory_bytes()
    return physical / 2.0 if physical else 4e9


def check_memory(needed_bytes: float, budget_bytes: float, what: str, fix: str) -> None:
    """Raise when ``needed_bytes`` exceeds the budget; the message has both and the fix."""
    if needed_bytes > budget_bytes:
        raise ScenarioError(
            f"{what} needs about {format_bytes(needed_bytes)}, over the memory budget of "
            f"{format_bytes(budget_bytes)}. Fix: {fix}; or raise the budget with "
            f"--memory-budget SIZE (or {BUDGET_ENV}=SIZE) if this machine has the memory"
        )


def run_fix(est: RunEstimate, sc: Scenario) -> str:
    """What to change in the scenario to make a run smaller, by its largest part."""
    part = est.largest()
    if part in ("satellite_positions", "satellites_table", "ntn_rtt"):
        return (
            f"raise timeline.step_s (now {sc.timeline.step_s:g} s), shorten timeline.duration_s "
            f"or use fewer satellites ({est.satellites:,} now); chunk a long study into "
            "several runs"
        )
    if part == "step_working_set":
        return (
            f"use fewer satellites ({est.satellites:,}) or demand points "
            f"(demand.max_points, {est.demand_points:,})"
        )
    return (
        f"raise timeline.step_s (now {sc.timeline.step_s:g} s), lower demand.max_points "
        f"({est.demand_points:,}) or split the run into shorter ones"
    )


def process_rss_bytes() -> float:
    """Resident memory of this process now (Linux ``/proc``), else its peak so far."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return float(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024.0


def preflight(sc: Scenario, budget_bytes: float) -> tuple[Twin, RunEstimate]:
    """Every check ``run`` makes before its first step, then the memory estimate.

    Checks the scenario's sizes first (before anything is built), then builds the twin (which
    resolves topologies, demand areas, grid regions and place names) and the event schedule
    (event targets), and checks the estimate again with the built sizes.

    Returns
    -------
    (Twin, RunEstimate)
    """
    # Load what the run and its writer load, so the baseline measured below includes them.
    import duckdb  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from tsunagu.scenario.loader import FieldError
    from tsunagu.sim.engine import run_twin  # noqa: F401
    from tsunagu.sim.events import EventSchedule
    from tsunagu.sim.twin import Twin

    _references(sc)
    rough = estimate_run(sc, baseline_bytes=process_rss_bytes())
    check_memory(
        rough.total_bytes, budget_bytes, f"this run ({rough.describe()})", run_fix(rough, sc)
    )
    try:
        twin = Twin(sc)
        EventSchedule(sc.events, twin, seed=sc.timeline.seed)
    except TsunaguError as exc:
        raise FieldError(_field_of(str(exc)), str(exc)) from None
    est = estimate_run(
        sc,
        demand_points=int(twin.demand.name.size),
        backbone_nodes=int(twin.backbone.node_name.size),
        baseline_bytes=process_rss_bytes(),
        name_chars=max(1, int(twin.demand.name.dtype.itemsize) // 4),
    )
    check_memory(est.total_bytes, budget_bytes, f"this run ({est.describe()})", run_fix(est, sc))
    return twin, est


_FIELD_AT_START = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*):")


def _field_of(message: str) -> str:
    """The scenario field a build error names at its start (``events[0]: ...``), if any."""
    if message.startswith("max_points"):
        return "demand.max_points"
    m = _FIELD_AT_START.match(message)
    return m.group(1) if m else ""


def _references(sc: Scenario) -> None:
    """Check the names the run resolves only later: topologies, RTT places, spectrum policy."""
    from tsunagu.errors import TsunaguError
    from tsunagu.scenario.loader import FieldError

    def at(field: str, check: Callable[[], object]) -> None:
        try:
            check()
        except TsunaguError as exc:
            raise FieldError(field, str(exc)) from None

    from tsunagu.optical.topology import load_topology

    for i, op in enumerate(sc.optical.operators):
        at(f"optical.operators[{i}].topology", functools.partial(load_topology, op.topology))
    if sc.optical.dci.pairs != "none":
        from tsunagu.optical.rmsa import get_spectrum_policy

        at(
            "optical.dci.spectrum_policy",
            lambda: get_spectrum_policy(sc.optical.dci.spectrum_policy),
        )
    if sc.ntn.rtt_pairs and sc.ntn.constellations:
        from tsunagu.ntn.routing import resolve_places

        for i, pair in enumerate(sc.ntn.rtt_pairs):
            at(f"ntn.rtt_pairs[{i}]", functools.partial(resolve_places, list(pair)))
