"""Events: failures and surges in time windows, resolved once against the built twin.

Targets are checked when the schedule is built, so a scenario that names an unknown node,
link, site or area fails before the first step with the names it could have meant.

* ``link_down``: ``target`` is ``"NODE--NODE"`` (either direction; every parallel link).
* ``node_down``, ``site_down``: ``target`` is a node or compute-site name.
* ``region_power_loss``: ``target`` is a region ("Tohoku") or prefecture ("Ishikawa"); base
  stations there run on batteries for ``ran.battery_hold_s`` after ``start_s`` and then stop
  until ``end_s``.
* ``demand_surge``: ``target`` is a region, a prefecture or ``"all"``; demand there is
  multiplied by ``factor`` in the window.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tsunagu import geo
from tsunagu.errors import ScenarioError
from tsunagu.net.tables import NetworkState
from tsunagu.scenario.schema import Event

if TYPE_CHECKING:
    from tsunagu.sim.twin import Twin

__all__ = ["EventSchedule"]

BoolArray = npt.NDArray[np.bool_]


def _unknown(kind: str, name: str, known: Sequence[str], i: int) -> ScenarioError:
    close = difflib.get_close_matches(name, list(known), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ScenarioError(f"events[{i}]: {kind} {name!r} is not in the scenario{hint}")


class EventSchedule:
    """Events with their targets resolved to node, link and demand-point masks."""

    def __init__(self, events: Sequence[Event], twin: Twin) -> None:
        self._twin = twin
        nodes = twin.static.nodes
        links = twin.static.links
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
        prefs = geo.load_prefectures()
        pref_names = {
            str(n).lower(): int(c) for n, c in zip(prefs.name_en, prefs.jis_code, strict=True)
        }
        regions = {str(r).lower() for r in prefs.region}
        areas = sorted({*(str(n) for n in prefs.name_en), *(str(r) for r in prefs.region), "all"})
        self._node_down: list[tuple[float, float, int]] = []
        self._link_down: list[tuple[float, float, npt.NDArray[np.intp]]] = []
        self._power: list[tuple[float, float, BoolArray]] = []
        self._surge: list[tuple[float, float, BoolArray, float]] = []
        self._hold_s = twin.scenario.ran.battery_hold_s
        for i, ev in enumerate(events):
            if ev.kind in ("node_down", "site_down"):
                if ev.target not in index:
                    kind = "node" if ev.kind == "node_down" else "site"
                    raise _unknown(kind, ev.target, list(index), i)
                self._node_down.append((ev.start_s, ev.end_s, index[ev.target]))
            elif ev.kind == "link_down":
                a, sep, b = ev.target.partition("--")
                if not sep:
                    raise ScenarioError(
                        f"events[{i}]: link target {ev.target!r} must be 'NODE--NODE', "
                        "e.g. 'A:Sendai--A:Tokyo'"
                    )
                for end in (a, b):
                    if end not in index:
                        raise _unknown("node", end, list(index), i)
                u, v = index[a], index[b]
                hit = np.flatnonzero(
                    ((links.src == u) & (links.dst == v)) | ((links.src == v) & (links.dst == u))
                )
                if hit.size == 0:
                    raise ScenarioError(f"events[{i}]: there is no link between {a!r} and {b!r}")
                self._link_down.append((ev.start_s, ev.end_s, hit))
            else:
                mask = self._area_mask(ev.target, pref_names, regions)
                if mask is None:
                    raise _unknown("area", ev.target, areas, i)
                if ev.kind == "region_power_loss":
                    self._power.append((ev.start_s, ev.end_s, mask))
                else:
                    self._surge.append((ev.start_s, ev.end_s, mask, ev.factor))

    def _area_mask(self, target: str, prefs: dict[str, int], regions: set[str]) -> BoolArray | None:
        d = self._twin.demand
        key = target.lower()
        if key == "all":
            return np.ones(d.name.size, dtype=bool)
        if key in prefs:
            return np.asarray(d.prefecture == prefs[key])
        if key in regions:
            return np.asarray(np.char.lower(d.region) == key)
        return None

    def apply(self, state: NetworkState, time_s: float) -> NetworkState:
        """The state with the nodes and links failed at ``time_s`` set down."""
        if not self._node_down and not self._link_down:
            return state
        node_up = np.array(state.nodes.up, copy=True)
        link_up = np.array(state.links.up, copy=True)
        for start, end, n in self._node_down:
            if start <= time_s < end:
                node_up[n] = False
        for start, end, ids in self._link_down:
            if start <= time_s < end:
                link_up[ids] = False
        return state.with_up(node_up, link_up)

    def ran_up(self, time_s: float) -> BoolArray:
        """Whether each demand point's base stations have power at ``time_s``."""
        up = np.ones(self._twin.demand.name.size, dtype=bool)
        for start, end, mask in self._power:
            if start + self._hold_s <= time_s < end:
                up &= ~mask
        return up

    def surge(self, time_s: float, twin: Twin) -> npt.NDArray[np.float64]:
        """Demand multiplier of each demand point at ``time_s``."""
        f = np.ones(twin.demand.name.size)
        for start, end, mask, factor in self._surge:
            if start <= time_s < end:
                f = np.where(mask, f * factor, f)
        return f
