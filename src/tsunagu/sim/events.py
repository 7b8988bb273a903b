"""Events: failures, surges and restoration gaps in time windows, resolved once against the twin.

Targets are checked when the schedule is built, so a scenario that names an unknown node, link,
site, area or constellation fails before the first step with the names it could have meant;
two events that contradict each other (below) fail the same way, naming both.

Kinds (docs/disasters.md has examples):

* ``link_down``: ``target`` is ``"NODE--NODE"`` (either direction; every parallel link);
  ``"backbone"``: a share ``factor`` of the backbone fibre links, drawn with the scenario seed;
  or an area: a share ``factor`` of the fibre links touching a node in the area (demand-point
  central offices, plus any fixed node inside the event's circle), drawn the same way.
* ``node_down``, ``site_down``: ``target`` is a node or compute-site name.
* ``region_power_loss``: ``target`` is an area; a share ``factor`` (default all) of its base
  stations runs on batteries for ``ran.battery_hold_s`` after ``start_s`` and then stops until
  ``end_s``.
* ``ran_outage``: ``target`` is an area; a share ``factor`` of its cells is down at once.
* ``satellite_failure``: ``target`` is a constellation name (a share ``factor`` of its
  satellites fails, drawn with the scenario seed) or ``"NAME:3,17,42"`` (those satellites).
* ``ntn_access_down``: ``target`` is an area; users there cannot reach HAPS or LEO (no terminal
  or HAPS cell yet): the gap before NTN backup is deployed.
* ``demand_surge``: ``target`` is an area; demand there is multiplied by ``factor``.
* ``disaster``: a preset (:mod:`tsunagu.sim.disasters`) expanded into the kinds above.

An area is a region ("Tohoku"), a prefecture ("Ishikawa") or ``"all"``, optionally narrowed to
the circle ``center_lat_deg``/``center_lon_deg``/``radius_km``. Shares of cells down from
several events in one place add up (each names a different cause), capped at all cells.

Contradictory events: two events of the same kind on the same target (same area and circle, or
same node/link/constellation) whose windows overlap and whose ``factor`` differs — which factor
holds in the overlap is undefined, so the schedule refuses them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tsunagu import geo
from tsunagu.errors import ScenarioError
from tsunagu.net.tables import NetworkState
from tsunagu.scenario.schema import Event
from tsunagu.sim.disasters import expand_disaster

if TYPE_CHECKING:
    from tsunagu.sim.twin import Twin

__all__ = ["EventSchedule", "ResolvedEvent"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntpArray = npt.NDArray[np.intp]

_AREA_KINDS = frozenset({"region_power_loss", "ran_outage", "ntn_access_down", "demand_surge"})


def _unknown(kind: str, name: str, known: Sequence[str], where: str) -> ScenarioError:
    close = difflib.get_close_matches(name, list(known), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ScenarioError(f"{where}: {kind} {name!r} is not in the scenario{hint}")


@dataclass(frozen=True)
class ResolvedEvent:
    """One concrete event with its target resolved to indices or a demand-point mask."""

    kind: str
    target: str
    start_s: float
    end_s: float
    factor: float
    origin: str  # "events[i]" or "events[i] (preset noto-2024)"
    nodes: IntpArray  # node indices (node_down, site_down)
    links: IntpArray  # link indices (link_down)
    satellites: IntpArray  # satellite indices into the twin's satellite list
    points: BoolArray  # demand points in the area (area kinds)
    key: tuple[object, ...] = ()  # what the event acts on (for the contradiction check)

    def active(self, time_s: float) -> bool:
        return self.start_s <= time_s < self.end_s


class EventSchedule:
    """Events with their targets resolved to node, link, satellite and demand-point masks.

    Parameters
    ----------
    events : the scenario's events (presets included).
    twin : the built twin.
    seed : seed of the draws (which links of an area are cut, which satellites fail);
        defaults to the scenario's ``timeline.seed``.
    """

    def __init__(self, events: Sequence[Event], twin: Twin, seed: int | None = None) -> None:
        self._twin = twin
        sc = twin.scenario
        self._seed = sc.timeline.seed if seed is None else int(seed)
        #: The seed of the schedule's draws.
        self.seed = self._seed
        nodes = twin.static.nodes
        node_names = [str(n) for n in nodes.name]
        index = {n: i for i, n in enumerate(node_names)}
        # A bare backbone city ("Tokyo") names the node when exactly one operator has it.
        bare: dict[str, list[int]] = {}
        for i, n in enumerate(node_names):
            if ":" in n and not n.startswith("CO:"):
                bare.setdefault(n.split(":", 1)[1], []).append(i)
        for city, ids in bare.items():
            if len(ids) == 1 and city not in index:
                index[city] = ids[0]
        self._index = index
        prefs = geo.load_prefectures()
        self._pref_names = {
            str(n).lower(): int(c) for n, c in zip(prefs.name_en, prefs.jis_code, strict=True)
        }
        self._regions = {str(r).lower() for r in prefs.region}
        self._areas = sorted(
            {*(str(n) for n in prefs.name_en), *(str(r) for r in prefs.region), "all"}
        )
        self._hold_s = sc.ran.battery_hold_s
        self._n_sat = int(sum(c.planes * c.sats_per_plane for c in sc.ntn.constellations))
        run_end = float(twin.times_s[-1] + sc.timeline.step_s) if twin.times_s.size else 0.0

        resolved: list[ResolvedEvent] = []
        for i, ev in enumerate(events):
            if ev.preset is not None:
                concrete = expand_disaster(ev, i, self._sites_in, run_end)
                where = f"events[{i}] (preset {ev.preset})"
                resolved += [self._resolve(c, where, i) for c in concrete]
            else:
                resolved.append(self._resolve(ev, f"events[{i}]", i))
        self.events: tuple[ResolvedEvent, ...] = tuple(resolved)
        self._check_contradictions()
        starts = [e.start_s for e in self.events]
        #: When the first event starts (``inf`` without events).
        self.first_start_s = min(starts) if starts else float("inf")

    # --- resolution ----------------------------------------------------------------------------
    def _area_mask(
        self, target: str, circle: tuple[float, float, float] | None
    ) -> BoolArray | None:
        d = self._twin.demand
        key = target.lower()
        if key == "all":
            mask = np.ones(d.name.size, dtype=bool)
        elif key in self._pref_names:
            mask = np.asarray(d.prefecture == self._pref_names[key])
        elif key in self._regions:
            mask = np.asarray(np.char.lower(d.region) == key)
        else:
            return None
        if circle is not None:
            dist = geo.great_circle_m(circle[0], circle[1], d.lat_deg, d.lon_deg)
            mask = mask & (np.asarray(dist) <= circle[2] * 1e3)
        return mask

    def _sites_in(self, target: str, circle: tuple[float, float, float] | None) -> float:
        mask = self._area_mask(target, circle)
        if mask is None:
            raise _unknown("area", target, self._areas, "disaster preset")
        return float(np.sum(self._twin.ran.sites[mask]))

    @staticmethod
    def _circle(ev: Event) -> tuple[float, float, float] | None:
        if ev.center_lat_deg is None or ev.center_lon_deg is None or ev.radius_km is None:
            return None
        return (ev.center_lat_deg, ev.center_lon_deg, ev.radius_km)

    def _rng(self, i: int) -> np.random.Generator:
        return np.random.default_rng([self._seed, i])

    def _resolve(self, ev: Event, where: str, i: int) -> ResolvedEvent:
        empty = np.zeros(0, dtype=np.intp)
        no_points = np.zeros(self._twin.demand.name.size, dtype=bool)
        kind = str(ev.kind)
        end = float(ev.end_s) if ev.end_s is not None else float("inf")
        nodes = links = sats = empty
        points = no_points
        if kind in ("node_down", "site_down"):
            sites = [s.name for s in self._twin.scenario.compute.sites]
            known = list(self._index) if kind == "node_down" else sites
            if ev.target not in known:
                raise _unknown(
                    "node" if kind == "node_down" else "compute site", ev.target, known, where
                )
            nodes = np.array([self._index[ev.target]], dtype=np.intp)
        elif kind == "link_down":
            links = self._resolve_links(ev, where, i)
        elif kind == "satellite_failure":
            sats = self._resolve_satellites(ev, where, i)
        else:
            mask = self._area_mask(ev.target, self._circle(ev))
            if mask is None:
                raise _unknown("area", ev.target, self._areas, where)
            points = mask
        return ResolvedEvent(
            kind=kind,
            target=ev.target,
            start_s=float(ev.start_s),
            end_s=end,
            factor=float(ev.factor),
            origin=where,
            nodes=nodes,
            links=links,
            satellites=sats,
            points=points,
            key=(kind, ev.target.lower(), self._circle(ev)),
        )

    def _resolve_links(self, ev: Event, where: str, i: int) -> IntpArray:
        links = self._twin.static.links
        a, sep, b = ev.target.partition("--")
        if sep:
            for end in (a, b):
                if end not in self._index:
                    raise _unknown("node", end, list(self._index), where)
            u, v = self._index[a], self._index[b]
            hit = np.flatnonzero(
                ((links.src == u) & (links.dst == v)) | ((links.src == v) & (links.dst == u))
            )
            if hit.size == 0:
                raise ScenarioError(f"{where}: there is no link between {a!r} and {b!r}")
            return hit.astype(np.intp)
        if ev.target == "backbone":
            n_bb = self._twin.backbone.node_name.size
            cand = np.flatnonzero(
                (links.medium_code == 0) & (links.src < n_bb) & (links.dst < n_bb)
            )
            n_cut = round(ev.factor * cand.size)
            return np.sort(self._rng(i).choice(cand, size=n_cut, replace=False)).astype(np.intp)
        circle = self._circle(ev)
        mask = self._area_mask(ev.target, circle)
        if mask is None:
            raise ScenarioError(
                f"{where}: link target {ev.target!r} is neither 'NODE--NODE' "
                "(e.g. 'A:Sendai--A:Tokyo') nor an area"
                + (
                    f"; did you mean {difflib.get_close_matches(ev.target, self._areas, n=1)[0]!r}?"
                    if difflib.get_close_matches(ev.target, self._areas, n=1)
                    else ""
                )
            )
        n_nodes = self._twin.static.n_nodes
        in_area = np.zeros(n_nodes, dtype=bool)
        in_area[self._twin.idx_demand[mask]] = True
        if circle is not None:
            nd = self._twin.static.nodes
            dist = geo.great_circle_m(circle[0], circle[1], nd.lat_deg, nd.lon_deg)
            fixed = np.asarray(nd.alt_m) < 1000.0
            in_area |= fixed & (np.asarray(dist) <= circle[2] * 1e3)
        fibre = links.medium_code == 0
        cand = np.flatnonzero(fibre & (in_area[links.src] | in_area[links.dst]))
        if cand.size == 0:
            raise ScenarioError(
                f"{where}: no fibre link touches area {ev.target!r}; widen the area or its circle"
            )
        n_cut = round(ev.factor * cand.size)
        return np.sort(self._rng(i).choice(cand, size=n_cut, replace=False)).astype(np.intp)

    def _resolve_satellites(self, ev: Event, where: str, i: int) -> IntpArray:
        consts = self._twin.scenario.ntn.constellations
        offsets: dict[str, tuple[int, int]] = {}
        off = 0
        for c in consts:
            n = c.planes * c.sats_per_plane
            offsets[c.name] = (off, n)
            off += n
        name, sep, ids = ev.target.partition(":")
        if name not in offsets:
            raise _unknown("constellation", name, list(offsets), where)
        start, n = offsets[name]
        if sep:
            try:
                chosen = np.array([int(x) for x in ids.split(",") if x.strip()], dtype=np.intp)
            except ValueError:
                raise ScenarioError(
                    f"{where}: satellite list {ids!r} must be comma-separated integers, "
                    f"e.g. '{name}:0,5,17'"
                ) from None
            bad = chosen[(chosen < 0) | (chosen >= n)]
            if chosen.size == 0 or bad.size:
                raise ScenarioError(
                    f"{where}: satellite indices {bad.tolist() or ids!r} are outside "
                    f"{name!r} (0..{n - 1})"
                )
            return np.unique(chosen) + start
        n_fail = round(ev.factor * n)
        return np.sort(self._rng(i).choice(n, size=n_fail, replace=False)).astype(np.intp) + start

    def _check_contradictions(self) -> None:
        seen: dict[tuple[object, ...], list[ResolvedEvent]] = {}
        for e in self.events:
            key = e.key
            for other in seen.get(key, []):
                overlap = e.start_s < other.end_s and other.start_s < e.end_s
                if overlap and e.factor != other.factor and e.origin != other.origin:
                    raise ScenarioError(
                        f"{other.origin} and {e.origin} contradict each other: both are "
                        f"{e.kind} on {e.target!r} in overlapping windows "
                        f"[{other.start_s:g}, {other.end_s:g}) s and "
                        f"[{e.start_s:g}, {e.end_s:g}) s "
                        f"with different factors ({other.factor:g} vs {e.factor:g}); give them "
                        "disjoint windows or one factor"
                    )
            seen.setdefault(key, []).append(e)

    # --- per-step queries ------------------------------------------------------------------
    def apply(self, state: NetworkState, time_s: float) -> NetworkState:
        """The state with the nodes, links and satellites failed at ``time_s`` set down."""
        active = [
            e
            for e in self.events
            if e.kind in ("node_down", "site_down", "link_down", "satellite_failure")
            and e.active(time_s)
        ]
        if not active:
            return state
        node_up = np.array(state.nodes.up, copy=True)
        link_up = np.array(state.links.up, copy=True)
        n_static = self._twin.static.n_nodes
        has_sats = state.n_nodes > n_static
        for e in active:
            node_up[e.nodes] = False
            link_up[e.links] = False
            if e.satellites.size and has_sats:
                node_up[n_static + e.satellites] = False
        return state.with_up(node_up, link_up)

    def failed_satellites(self, time_s: float) -> BoolArray:
        """Which of the twin's satellites have failed at ``time_s``."""
        down = np.zeros(self._n_sat, dtype=bool)
        for e in self.events:
            if e.kind == "satellite_failure" and e.active(time_s):
                down[e.satellites] = True
        return down

    def ran_share_down(self, time_s: float) -> FloatArray:
        """Share of each demand point's cells that are down at ``time_s`` (0..1).

        Power loss counts after the battery hold-up; shares of different events add up.
        """
        share = np.zeros(self._twin.demand.name.size)
        for e in self.events:
            outage = e.kind == "ran_outage" and e.active(time_s)
            dark = e.kind == "region_power_loss" and e.start_s + self._hold_s <= time_s < e.end_s
            if outage or dark:
                share += np.where(e.points, e.factor, 0.0)
        return np.minimum(share, 1.0)

    def ntn_blocked(self, time_s: float) -> BoolArray:
        """Demand points that cannot reach HAPS or LEO at ``time_s``."""
        blocked = np.zeros(self._twin.demand.name.size, dtype=bool)
        for e in self.events:
            if e.kind == "ntn_access_down" and e.active(time_s):
                blocked |= e.points
        return blocked

    def surge(self, time_s: float) -> FloatArray:
        """Demand multiplier of each demand point at ``time_s``."""
        f = np.ones(self._twin.demand.name.size)
        for e in self.events:
            if e.kind == "demand_surge" and e.active(time_s):
                f = np.where(e.points, f * e.factor, f)
        return f

    def table(self) -> pa.Table:
        """The concrete events, one row each (the run's ``events`` table)."""
        ev = self.events
        return pa.table(
            {
                "origin": pa.array([e.origin for e in ev], pa.string()),
                "kind": pa.array([e.kind for e in ev], pa.string()),
                "target": pa.array([e.target for e in ev], pa.string()),
                "start_s": pa.array([e.start_s for e in ev], pa.float64()),
                "end_s": pa.array([e.end_s for e in ev], pa.float64()),
                "factor": pa.array([e.factor for e in ev], pa.float64()),
                "demand_points": pa.array([int(e.points.sum()) for e in ev], pa.int64()),
                "links": pa.array([int(e.links.size) for e in ev], pa.int64()),
                "nodes": pa.array([int(e.nodes.size) for e in ev], pa.int64()),
                "satellites": pa.array([int(e.satellites.size) for e in ev], pa.int64()),
            }
        )
