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

Each kind is one entry of a registry (:func:`register_event`): a ``resolve`` that turns the
scenario's :class:`~tsunagu.scenario.schema.Event` into a :class:`ResolvedEvent` once (names to
indices and masks, random draws with the scenario seed), and an ``apply`` that writes the
event's effect at one instant into a :class:`StepEffects` (nodes, links and satellites down,
share of cells down, NTN access blocked, demand factor). The built-in kinds above are
registered at import; a user adds a kind with one call, and the scenario schema accepts every
registered kind. The ``disaster`` entry expands a preset into its concrete events, each
resolved by its own kind.

Contradictory events: two events of the same kind on the same target (same area and circle, or
same node/link/constellation) whose windows overlap and whose ``factor`` differs — which factor
holds in the overlap is undefined, so the schedule refuses them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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

__all__ = [
    "EventKind",
    "EventSchedule",
    "ResolveContext",
    "ResolvedEvent",
    "StepEffects",
    "get_event_kind",
    "register_event",
    "registered_event_kinds",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntpArray = npt.NDArray[np.intp]


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
    params: dict[str, float] = field(default_factory=dict)  # kind-specific numbers, SI units

    def active(self, time_s: float) -> bool:
        return self.start_s <= time_s < self.end_s


@dataclass
class StepEffects:
    """What the active events do at one instant; each kind's ``apply`` writes into it.

    Attributes
    ----------
    node_down : (N,) bool
        Static nodes down (node ids of ``twin.static``).
    link_down : (L,) bool
        Static links down.
    satellite_down : (S,) bool
        The twin's satellites (all constellations, in scenario order) failed.
    ran_share_down : (P,) float
        Share of each demand point's cells down, summed over events (read capped at 1).
    ntn_blocked : (P,) bool
        Demand points that cannot reach HAPS or LEO.
    demand_factor : (P,) float
        Demand multiplier of each demand point.
    """

    node_down: BoolArray
    link_down: BoolArray
    satellite_down: BoolArray
    ran_share_down: FloatArray
    ntn_blocked: BoolArray
    demand_factor: FloatArray


class ResolveContext:
    """What a kind's ``resolve`` may use: the twin, name look-ups, areas and seeded draws."""

    def __init__(self, schedule: EventSchedule, where: str, index: int) -> None:
        self._schedule = schedule
        #: Where the event came from, for messages ("events[3]", "events[1] (preset …)").
        self.where = where
        self._i = index

    @property
    def twin(self) -> Twin:
        return self._schedule._twin

    @property
    def node_index(self) -> dict[str, int]:
        """Node name (and unambiguous bare backbone city) → static node id."""
        return self._schedule._index

    def rng(self) -> np.random.Generator:
        """This event's generator: the schedule seed and the event's position in the list."""
        return self._schedule._rng(self._i)

    def area_mask(self, ev: Event) -> BoolArray:
        """Demand points in the event's area (and circle); ScenarioError naming close areas."""
        mask = self._schedule._area_mask(ev.target, circle_of(ev))
        if mask is None:
            raise _unknown("area", ev.target, self._schedule._areas, self.where)
        return mask

    def unknown(self, what: str, name: str, known: Sequence[str]) -> ScenarioError:
        """A ScenarioError for an unknown name, with the closest known names."""
        return _unknown(what, name, known, self.where)

    def resolve(self, ev: Event, where: str) -> ResolvedEvent | Sequence[ResolvedEvent]:
        """Resolve another event through its registered kind (a preset's concrete events)."""
        ctx = ResolveContext(self._schedule, where, self._i)
        return get_event_kind(str(ev.kind)).resolve(ev, ctx)

    def sites_in(self, target: str, circle: tuple[float, float, float] | None) -> float:
        """RAN sites the twin planned in an area (and circle)."""
        return self._schedule._sites_in(target, circle)

    def blank(self, ev: Event) -> ResolvedEvent:
        """The event with its window and factor and no target yet (fill with ``replace``)."""
        empty = np.zeros(0, dtype=np.intp)
        return ResolvedEvent(
            kind=str(ev.kind),
            target=ev.target,
            start_s=float(ev.start_s),
            end_s=float(ev.end_s) if ev.end_s is not None else float("inf"),
            factor=float(ev.factor),
            origin=self.where,
            nodes=empty,
            links=empty,
            satellites=empty,
            points=np.zeros(self.twin.demand.name.size, dtype=bool),
            key=(str(ev.kind), ev.target.lower(), circle_of(ev)),
        )


Resolver = Callable[[Event, ResolveContext], "ResolvedEvent | Sequence[ResolvedEvent]"]
Applier = Callable[[ResolvedEvent, float, StepEffects], None]


@dataclass(frozen=True)
class EventKind:
    """One registered event kind.

    ``resolve(event, ctx) -> ResolvedEvent`` (or several, as a preset does) runs once when
    the schedule is built;
    ``apply(resolved, time_s, effects)`` runs at every step inside the event's window
    ``[start_s, end_s)`` and writes its effect into ``effects`` (in place).
    """

    kind: str
    resolve: Resolver
    apply: Applier


_REGISTRY: dict[str, EventKind] = {}


def register_event(kind: str, resolve: Resolver, apply: Applier, *, replace: bool = False) -> None:
    """Register an event kind (a scenario's ``events[*].kind``) with its resolve and apply.

    Raises
    ------
    ScenarioError
        If ``kind`` is already registered and ``replace`` is False, or is not a plain name.
    """
    if not kind or not kind.replace("_", "").replace("-", "").isalnum() or kind == "disaster":
        raise ScenarioError(
            f"event kind {kind!r} must be a plain name such as 'fibre_cut' ('disaster' is "
            "reserved for presets)"
        )
    if kind in _REGISTRY and not replace:
        raise ScenarioError(
            f"event kind {kind!r} is already registered; pass replace=True to override it"
        )
    _REGISTRY[kind] = EventKind(kind=kind, resolve=resolve, apply=apply)


def registered_event_kinds() -> list[str]:
    """The registered event kinds, in registration order (presets: kind ``disaster``)."""
    return list(_REGISTRY)


def get_event_kind(kind: str) -> EventKind:
    """The registered kind; ScenarioError naming the close ones when unknown."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        close = difflib.get_close_matches(kind, registered_event_kinds(), n=3)
        raise ScenarioError(
            f"unknown event kind {kind!r}"
            + (f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "")
            + f" (registered: {', '.join(registered_event_kinds())}; add one with "
            "tsunagu.sim.events.register_event)"
        ) from None


def circle_of(ev: Event) -> tuple[float, float, float] | None:
    """The event's circle ``(lat_deg, lon_deg, radius_km)``, or None."""
    if ev.center_lat_deg is None or ev.center_lon_deg is None or ev.radius_km is None:
        return None
    return (ev.center_lat_deg, ev.center_lon_deg, ev.radius_km)


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
        self._n_sat = int(sum(c.planes * c.sats_per_plane for c in sc.ntn.constellations))
        run_end = float(twin.times_s[-1] + sc.timeline.step_s) if twin.times_s.size else 0.0

        self.run_end_s = run_end
        resolved: list[ResolvedEvent] = []
        for i, ev in enumerate(events):
            kind = "disaster" if ev.preset is not None else str(ev.kind)
            out = get_event_kind(kind).resolve(ev, ResolveContext(self, f"events[{i}]", i))
            resolved += [out] if isinstance(out, ResolvedEvent) else list(out)
        self.events: tuple[ResolvedEvent, ...] = tuple(resolved)
        self._check_contradictions()
        starts = [e.start_s for e in self.events]
        #: When the first event starts (``inf`` without events).
        self.first_start_s = min(starts) if starts else float("inf")
        self._last: tuple[float, StepEffects] | None = None

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

    def _rng(self, i: int) -> np.random.Generator:
        return np.random.default_rng([self._seed, i])

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
    def effects(self, time_s: float) -> StepEffects:
        """The effects of every event active at ``time_s``, each applied by its kind."""
        if self._last is not None and self._last[0] == time_s:
            return self._last[1]
        tw = self._twin
        n_p = tw.demand.name.size
        eff = StepEffects(
            node_down=np.zeros(tw.static.n_nodes, dtype=bool),
            link_down=np.zeros(len(tw.static.links), dtype=bool),
            satellite_down=np.zeros(self._n_sat, dtype=bool),
            ran_share_down=np.zeros(n_p),
            ntn_blocked=np.zeros(n_p, dtype=bool),
            demand_factor=np.ones(n_p),
        )
        for e in self.events:
            if e.active(time_s):
                get_event_kind(e.kind).apply(e, time_s, eff)
        self._last = (time_s, eff)
        return eff

    def apply(self, state: NetworkState, time_s: float) -> NetworkState:
        """The state with the nodes, links and satellites failed at ``time_s`` set down."""
        eff = self.effects(time_s)
        if not (eff.node_down.any() or eff.link_down.any() or eff.satellite_down.any()):
            return state
        node_up = np.array(state.nodes.up, copy=True)
        link_up = np.array(state.links.up, copy=True)
        n_static = eff.node_down.size
        node_up[:n_static] &= ~eff.node_down
        link_up[: eff.link_down.size] &= ~eff.link_down
        if state.n_nodes > n_static:
            sats = np.flatnonzero(eff.satellite_down)
            node_up[n_static + sats[n_static + sats < state.n_nodes]] = False
        return state.with_up(node_up, link_up)

    def failed_satellites(self, time_s: float) -> BoolArray:
        """Which of the twin's satellites have failed at ``time_s``."""
        return self.effects(time_s).satellite_down.copy()

    def ran_share_down(self, time_s: float) -> FloatArray:
        """Share of each demand point's cells that are down at ``time_s`` (0..1).

        Power loss counts after the battery hold-up; shares of different events add up.
        """
        return np.minimum(self.effects(time_s).ran_share_down, 1.0)

    def ntn_blocked(self, time_s: float) -> BoolArray:
        """Demand points that cannot reach HAPS or LEO at ``time_s``."""
        return self.effects(time_s).ntn_blocked.copy()

    def surge(self, time_s: float) -> FloatArray:
        """Demand multiplier of each demand point at ``time_s``."""
        return self.effects(time_s).demand_factor.copy()

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


# --- the built-in kinds -------------------------------------------------------------------------


def _resolve_node(ev: Event, ctx: ResolveContext) -> ResolvedEvent:
    known = list(ctx.node_index)
    if ev.target not in known:
        raise ctx.unknown("node", ev.target, known)
    nodes = np.array([ctx.node_index[ev.target]], dtype=np.intp)
    return replace(ctx.blank(ev), nodes=nodes)


def _resolve_site(ev: Event, ctx: ResolveContext) -> ResolvedEvent:
    sites = [s.name for s in ctx.twin.scenario.compute.sites]
    if ev.target not in sites:
        raise ctx.unknown("compute site", ev.target, sites)
    nodes = np.array([ctx.node_index[ev.target]], dtype=np.intp)
    return replace(ctx.blank(ev), nodes=nodes)


def _resolve_links(ev: Event, ctx: ResolveContext) -> ResolvedEvent:
    twin, index, where = ctx.twin, ctx.node_index, ctx.where
    links = twin.static.links
    a, sep, b = ev.target.partition("--")
    if sep:
        for end in (a, b):
            if end not in index:
                raise ctx.unknown("node", end, list(index))
        u, v = index[a], index[b]
        hit = np.flatnonzero(
            ((links.src == u) & (links.dst == v)) | ((links.src == v) & (links.dst == u))
        )
        if hit.size == 0:
            raise ScenarioError(f"{where}: there is no link between {a!r} and {b!r}")
        return replace(ctx.blank(ev), links=hit.astype(np.intp))
    if ev.target == "backbone":
        kind = np.asarray(links.extra.get("kind", np.full(len(links), "")), dtype=str)
        on_backbone = np.isin(kind, ("backbone", "interconnect"))
        cand = np.flatnonzero((links.medium == "fibre") & on_backbone)
        n_cut = round(ev.factor * cand.size)
        cut = np.sort(ctx.rng().choice(cand, size=n_cut, replace=False)).astype(np.intp)
        return replace(ctx.blank(ev), links=cut)
    circle = circle_of(ev)
    try:
        mask = ctx.area_mask(ev)
    except ScenarioError:
        close = difflib.get_close_matches(ev.target, ctx._schedule._areas, n=1)
        raise ScenarioError(
            f"{where}: link target {ev.target!r} is neither 'NODE--NODE' "
            "(e.g. 'A:Sendai--A:Tokyo') nor an area"
            + (f"; did you mean {close[0]!r}?" if close else "")
        ) from None
    in_area = np.zeros(twin.static.n_nodes, dtype=bool)
    in_area[twin.idx_demand[mask]] = True
    if circle is not None:
        nd = twin.static.nodes
        dist = geo.great_circle_m(circle[0], circle[1], nd.lat_deg, nd.lon_deg)
        fixed = np.asarray(nd.alt_m) < 1000.0
        in_area |= fixed & (np.asarray(dist) <= circle[2] * 1e3)
    fibre = links.medium == "fibre"
    cand = np.flatnonzero(fibre & (in_area[links.src] | in_area[links.dst]))
    if cand.size == 0:
        raise ScenarioError(
            f"{where}: no fibre link touches area {ev.target!r}; widen the area or its circle"
        )
    n_cut = round(ev.factor * cand.size)
    cut = np.sort(ctx.rng().choice(cand, size=n_cut, replace=False)).astype(np.intp)
    return replace(ctx.blank(ev), links=cut)


def _resolve_satellites(ev: Event, ctx: ResolveContext) -> ResolvedEvent:
    where = ctx.where
    offsets: dict[str, tuple[int, int]] = {}
    off = 0
    for c in ctx.twin.scenario.ntn.constellations:
        n = c.planes * c.sats_per_plane
        offsets[c.name] = (off, n)
        off += n
    name, sep, ids = ev.target.partition(":")
    if name not in offsets:
        raise ctx.unknown("constellation", name, list(offsets))
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
        return replace(ctx.blank(ev), satellites=np.unique(chosen) + start)
    n_fail = round(ev.factor * n)
    sats = np.sort(ctx.rng().choice(n, size=n_fail, replace=False)).astype(np.intp) + start
    return replace(ctx.blank(ev), satellites=sats)


def _resolve_area(ev: Event, ctx: ResolveContext) -> ResolvedEvent:
    return replace(ctx.blank(ev), points=ctx.area_mask(ev))


def _resolve_power_loss(ev: Event, ctx: ResolveContext) -> ResolvedEvent:
    dark_from_s = float(ev.start_s) + ctx.twin.scenario.ran.battery_hold_s
    return replace(_resolve_area(ev, ctx), params={"dark_from_s": dark_from_s})


def _apply_nodes_down(e: ResolvedEvent, time_s: float, eff: StepEffects) -> None:
    eff.node_down[e.nodes] = True


def _apply_links_down(e: ResolvedEvent, time_s: float, eff: StepEffects) -> None:
    eff.link_down[e.links] = True


def _apply_satellites_down(e: ResolvedEvent, time_s: float, eff: StepEffects) -> None:
    eff.satellite_down[e.satellites] = True


def _apply_ran_outage(e: ResolvedEvent, time_s: float, eff: StepEffects) -> None:
    eff.ran_share_down += np.where(e.points, e.factor, 0.0)


def _apply_power_loss(e: ResolvedEvent, time_s: float, eff: StepEffects) -> None:
    if time_s >= e.params["dark_from_s"]:  # the batteries have run out
        eff.ran_share_down += np.where(e.points, e.factor, 0.0)


def _apply_ntn_blocked(e: ResolvedEvent, time_s: float, eff: StepEffects) -> None:
    eff.ntn_blocked |= e.points


def _apply_surge(e: ResolvedEvent, time_s: float, eff: StepEffects) -> None:
    eff.demand_factor[e.points] *= e.factor


def _resolve_preset(ev: Event, ctx: ResolveContext) -> list[ResolvedEvent]:
    """A ``disaster`` preset: its concrete events, each resolved through its own kind."""
    where = f"{ctx.where} (preset {ev.preset})"
    out: list[ResolvedEvent] = []
    for c in expand_disaster(ev, ctx._i, ctx.sites_in, ctx._schedule.run_end_s):
        got = ctx.resolve(c, where)
        out += [got] if isinstance(got, ResolvedEvent) else list(got)
    return out


def _apply_nothing(e: ResolvedEvent, time_s: float, eff: StepEffects) -> None:
    """Presets never reach a step: they resolve into their concrete events."""


_REGISTRY["disaster"] = EventKind("disaster", _resolve_preset, _apply_nothing)  # reserved name
register_event("link_down", _resolve_links, _apply_links_down)
register_event("node_down", _resolve_node, _apply_nodes_down)
register_event("site_down", _resolve_site, _apply_nodes_down)
register_event("region_power_loss", _resolve_power_loss, _apply_power_loss)
register_event("demand_surge", _resolve_area, _apply_surge)
register_event("ran_outage", _resolve_area, _apply_ran_outage)
register_event("satellite_failure", _resolve_satellites, _apply_satellites_down)
register_event("ntn_access_down", _resolve_area, _apply_ntn_blocked)
