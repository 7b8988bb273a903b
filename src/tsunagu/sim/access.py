"""Access layers: each access technology as one registered layer with one contract.

A layer is built once from the twin (``build(twin)``, arrays converted once) and asked per step
for its options (``at(ctx) -> AccessOptions``): for every demand point, the access node it
reaches the network at, the one-way air/feeder propagation and equipment delay, the per-user
peak rate, the shared resource it rides on (a cell cluster, a HAPS platform's beams, a
satellite's beam) with that resource's capacity, the share of the point's people it can carry
and whether it offers service at all. The engine (:mod:`tsunagu.sim.engine`) and the
orchestrator's view (:mod:`tsunagu.orchestrate.view`) both read these options; neither repeats
the selection.

Layers are tried in registration order (terrestrial RAN, HAPS, LEO direct-to-device, then any a
user registers): each is offered its share of the people the earlier ones left and admits what
its shared resources' capacities allow (:func:`cascade`, :func:`admit_shared`); the people a full
resource refuses spill over to the later layers, and what none admits is blocked, naming the
last full resource. Adding an access technology is one class plus one :func:`register_access`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tsunagu.constants import C_M_PER_S
from tsunagu.errors import ScenarioError
from tsunagu.ntn.geometry import best_bent_pipe, haps_coverage, nearest_visible, seen_by_any

if TYPE_CHECKING:
    from tsunagu.net.tables import NetworkState
    from tsunagu.sim.twin import Twin

__all__ = [
    "AccessContext",
    "AccessLayer",
    "AccessOptions",
    "AccessRows",
    "access_names",
    "admit_shared",
    "build_access_layers",
    "cascade",
    "register_access",
    "unregister_access",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class AccessContext:
    """What an access layer sees at one step.

    Attributes
    ----------
    time_s : simulation time (s).
    state : the network state with the step's events applied.
    reachable : (N,) the node reaches some compute site that is up.
    sat_ecef_m, sat_owner : (M, 3) satellite positions this step and their constellation.
    ran_share_down : (P,) share of each point's RAN sites down (events).
    ntn_blocked : (P,) NTN access blocked at the point (events).
    pending : (P,) the point has people no earlier layer carries (a layer may skip the rest).
    """

    time_s: float
    state: NetworkState
    reachable: BoolArray
    sat_ecef_m: FloatArray
    sat_owner: npt.NDArray[np.str_]
    ran_share_down: FloatArray
    ntn_blocked: BoolArray
    pending: BoolArray


@dataclass(frozen=True)
class AccessOptions:
    """One layer's options at one step, one entry per demand point (P,).

    ``resource`` numbers the shared resource within the layer (``-1``: none);
    ``shared_capacity_bps`` is that resource's capacity; ``share`` the share of the point's
    people the option can carry (the RAN carries the users of its cells still up).
    """

    node: IntArray
    one_way_s: FloatArray
    equipment_s: FloatArray
    rate_bps: FloatArray
    resource: IntArray
    shared_capacity_bps: FloatArray
    share: FloatArray
    ok: BoolArray

    def to_arrow(self, access: str, point: npt.ArrayLike) -> pa.Table:
        """The options table (point, access, node, delays, rate, shared capacity, ok)."""
        n = self.node.size
        return pa.table(
            {
                "point": np.asarray(point),
                "access": np.full(n, access),
                "node": self.node,
                "one_way_s": self.one_way_s,
                "equipment_s": self.equipment_s,
                "rate_bps": self.rate_bps,
                "resource": self.resource,
                "shared_capacity_bps": self.shared_capacity_bps,
                "share": self.share,
                "ok": self.ok,
            }
        )


class AccessLayer(Protocol):
    """A built access layer: ``at(ctx)`` gives its options at one step."""

    name: str

    def at(self, ctx: AccessContext) -> AccessOptions: ...


#: ``build(twin) -> AccessLayer`` by access name, in registration (priority) order.
_REGISTRY: dict[str, Callable[[Twin], AccessLayer]] = {}


def register_access(
    name: str, build: Callable[[Twin], AccessLayer], *, before: str | None = None
) -> None:
    """Register an access technology: ``build(twin)`` returns its layer (once per twin).

    The layer is tried after those already registered, or just before the layer ``before``.
    Re-registering a name replaces it.
    """
    if not name or name == "none" or not name.replace("_", "").isalnum():
        raise ScenarioError(
            f"access name {name!r} must be a non-empty identifier other than 'none' (e.g. 'fwa')"
        )
    if before is not None and before not in _REGISTRY:
        raise ScenarioError(f"no access technology {before!r} to go before; {list(_REGISTRY)}")
    items = [(n, b) for n, b in _REGISTRY.items() if n != name]
    at = len(items) if before is None else [n for n, _ in items].index(before)
    items.insert(at, (name, build))
    _REGISTRY.clear()
    _REGISTRY.update(items)


def unregister_access(name: str) -> None:
    """Remove a registered access technology (the built-in ones can be removed too)."""
    if name not in _REGISTRY:
        raise ScenarioError(f"no access technology {name!r}; registered: {list(_REGISTRY)}")
    del _REGISTRY[name]


def access_names() -> tuple[str, ...]:
    """The registered access technologies, in the order they are tried."""
    return tuple(_REGISTRY)


def build_access_layers(twin: Twin) -> tuple[AccessLayer, ...]:
    """Build every registered layer for ``twin``."""
    return tuple(build(twin) for build in _REGISTRY.values())


@dataclass(frozen=True)
class AccessRows:
    """Access rows of one step: a point's people split over the layers that carry them.

    ``access`` is the layer's position in the registry plus one (0: no access). Rows are sorted
    by point, then by layer order (a layer's admitted row before its blocked one); every point
    has rows whose ``weight`` sums to 1. A ``blocked`` row holds people that every layer able
    to carry them refused because its shared resource was full; it names the *last* such
    resource (its layer, node and resource are that option's). ``utilisation`` is the row's
    resource's load after admission over its capacity (0 where it shares no finite capacity).
    """

    point: IntArray
    access: IntArray
    weight: FloatArray
    node: IntArray
    one_way_s: FloatArray
    equipment_s: FloatArray
    rate_bps: FloatArray
    resource: IntArray
    shared_capacity_bps: FloatArray
    blocked: BoolArray
    utilisation: FloatArray
    names: tuple[str, ...] = field(default=())

    @property
    def labels(self) -> npt.NDArray[np.str_]:
        """The access name of each row (``none`` for people without access)."""
        return np.asarray(np.array(("none", *self.names))[self.access])


def admit_shared(
    offered_bps: FloatArray,
    resource: IntArray,
    capacity_bps: FloatArray,
    max_utilisation: float,
) -> tuple[FloatArray, FloatArray]:
    """Admission on shared resources: the share of each option's offered load its resource
    admits, and that resource's utilisation after admission.

    Options with the same ``resource`` (``>= 0``) share one capacity: where their offered loads
    sum to more than ``max_utilisation`` × capacity, each is admitted the same share
    ``max_utilisation · C / offered`` (proportional blocking); otherwise all of it. An option
    without a resource (``-1``) or on an unlimited one is admitted whole at utilisation 0.

    >>> admit, rho = admit_shared(np.array([6e6, 3e6, 1e6]), np.array([0, 0, 1]),
    ...                           np.array([5e6, 5e6, 5e6]), 0.9)
    >>> admit.round(3).tolist(), rho.round(3).tolist()
    ([0.5, 0.5, 1.0], [0.9, 0.9, 0.2])
    """
    n = resource.size
    admit = np.ones(n)
    util = np.zeros(n)
    has = np.flatnonzero(resource >= 0)
    if has.size == 0:
        return admit, util
    uniq, inv = np.unique(resource[has], return_inverse=True)
    offered = np.bincount(inv, weights=offered_bps[has], minlength=uniq.size)
    cap = np.zeros(uniq.size)
    cap[inv] = capacity_bps[has]
    limit = max_utilisation * cap
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(offered > limit, limit / offered, 1.0)
        rho = np.where(np.isfinite(cap) & (cap > 0.0), np.minimum(offered, limit) / cap, 0.0)
    admit[has] = share[inv]
    util[has] = rho[inv]
    return admit, util


def cascade(
    layers: tuple[AccessLayer, ...],
    ctx: AccessContext,
    fallback_node: IntArray,
    *,
    demand_bps: FloatArray | None = None,
    max_utilisation: float = 1.0,
) -> AccessRows:
    """Split each point's people over the layers in order, within the layers' capacities.

    Each layer is offered ``share`` of the people still pending at each point (asked with
    ``ctx.pending`` set to the points that have any); of those, its shared resources admit what
    their capacity allows (:func:`admit_shared`, a row of weight ``w`` loading its resource
    with ``w · demand_bps`` of its point). The people a full resource refuses stay pending for
    the later layers, which admit them within their own capacities. What no layer carries is
    a ``blocked`` row naming the last resource that refused those people or, for people no
    layer refused (no layer offered them service), one ``none`` row (infinite delay, zero
    rate) at ``fallback_node``. ``demand_bps=None``: no admission (each layer takes its share).
    """
    n_p = fallback_node.size
    load = np.zeros(n_p) if demand_bps is None else np.asarray(demand_bps, dtype=np.float64)
    left = np.ones(n_p)
    # Of the people pending: those no full resource refused yet, and per layer those whose
    # last refusal was that layer's (each layer takes its share of every pool alike).
    never = np.ones(n_p)
    refused: list[FloatArray] = []
    opts: list[tuple[AccessOptions, FloatArray]] = []
    # Rows of each part: (points, access code, weight, option index (-1: none), blocked).
    parts: list[tuple[IntArray, int, FloatArray, int, bool]] = []
    for a, layer in enumerate(layers):
        opt = layer.at(dataclasses.replace(ctx, pending=left > 1e-12))
        frac = np.where(opt.ok, np.clip(opt.share, 0.0, 1.0), 0.0)
        offer = left * frac
        admit, util = admit_shared(
            offer * load, opt.resource, opt.shared_capacity_bps, max_utilisation
        )
        carried = offer * admit
        never = never * (1.0 - frac)
        refused = [r * (1.0 - frac) for r in refused]
        refused.append(offer - carried)
        left = left - carried
        opts.append((opt, util))
        rows = np.flatnonzero(carried > 0.0)
        parts.append((rows, a + 1, carried[rows], a, False))
    for a, r in enumerate(refused):
        rows = np.flatnonzero(r > 1e-12)
        parts.append((rows, a + 1, r[rows], a, True))
    rows = np.flatnonzero(never > 1e-12)
    parts.append((rows, 0, never[rows], -1, False))
    point = np.concatenate([p[0] for p in parts])
    order = np.argsort(point, kind="stable")

    def col(
        get: Callable[[AccessOptions, FloatArray, IntArray], npt.NDArray[np.generic]],
        none: float | IntArray,
    ) -> npt.NDArray[np.generic]:
        out = []
        for r, _, _, o, _ in parts:
            if o < 0:
                out.append(none[r] if isinstance(none, np.ndarray) else np.full(r.size, none))
            else:
                out.append(get(opts[o][0], opts[o][1], r))
        return np.concatenate(out)[order]

    return AccessRows(
        point=point[order].astype(np.int64),
        access=np.concatenate([np.full(p[0].size, p[1], dtype=np.int64) for p in parts])[order],
        weight=np.concatenate([p[2] for p in parts])[order],
        node=col(lambda o, u, r: o.node[r], fallback_node).astype(np.int64),
        one_way_s=col(lambda o, u, r: o.one_way_s[r], np.inf).astype(np.float64),
        equipment_s=col(lambda o, u, r: o.equipment_s[r], 0.0).astype(np.float64),
        rate_bps=col(lambda o, u, r: o.rate_bps[r], 0.0).astype(np.float64),
        resource=col(lambda o, u, r: o.resource[r], -1).astype(np.int64),
        shared_capacity_bps=col(lambda o, u, r: o.shared_capacity_bps[r], 0.0).astype(np.float64),
        blocked=np.concatenate([np.full(p[0].size, p[4], dtype=bool) for p in parts])[order],
        utilisation=col(lambda o, u, r: u[r], 0.0).astype(np.float64),
        names=tuple(layer.name for layer in layers),
    )


# --------------------------------------------------------------------------------------------
# The built-in layers


class RanLayer:
    """Terrestrial RAN: the point's macro cells (SINR-based capacity, :mod:`tsunagu.ran`).

    The access node is the point's central office; the option is there while the office is up
    and reaches a site, for the share of users whose cells are up. The shared resource is the
    point's cell cluster: its sites × per-site capacity, less the sites down.
    """

    name = "ran"

    def __init__(self, twin: Twin) -> None:
        sc = twin.scenario
        self._node = twin.idx_demand
        self._prop_s = np.asarray(twin.ran.access_propagation_s, dtype=np.float64)
        self._equip_s = np.full(self._node.size, sc.ran.air_interface_delay_s)
        self._rate = (
            np.asarray(twin.ran.site_capacity_bps, dtype=np.float64) / sc.ran.sectors_per_site
        )
        self._cap = np.asarray(twin.ran.sites * twin.ran.site_capacity_bps, dtype=np.float64)

    def at(self, ctx: AccessContext) -> AccessOptions:
        up = ctx.state.nodes.up[self._node] & ctx.reachable[self._node]
        share = 1.0 - ctx.ran_share_down
        return AccessOptions(
            node=self._node,
            one_way_s=self._prop_s,
            equipment_s=self._equip_s,
            rate_bps=self._rate,
            resource=np.arange(self._node.size, dtype=np.int64),
            shared_capacity_bps=self._cap * share,
            share=share,
            ok=up & (share > 0.0),
        )


class HapsLayer:
    """HAPS: the nearest platform whose footprint covers the point, its beams shared by users.

    The access node is the platform (its feeder link joins the ground network); the resource is
    the platform, with ``capacity_bps`` of the scenario's HAPS entry (unlimited when unset).
    """

    name = "haps"

    def __init__(self, twin: Twin) -> None:
        sc = twin.scenario
        n_p = twin.demand.name.size
        self._n_p = n_p
        self._fallback = twin.idx_demand
        self._delay = sc.ntn.processing_delay_s
        haps = sc.ntn.haps
        if haps:
            radius = np.array([h.coverage_radius_km * 1e3 for h in haps])
            idx, slant = haps_coverage(twin.demand.ecef_m, twin.haps_ecef, radius)
            self._idx = idx
            self._node = twin.idx_haps[np.maximum(idx, 0)]
            self._prop = slant / C_M_PER_S
            self._rate = np.array([h.user_rate_bps for h in haps])[np.maximum(idx, 0)]
            cap = np.array([np.inf if h.capacity_bps is None else h.capacity_bps for h in haps])
            self._cap = cap[np.maximum(idx, 0)]
        else:
            self._idx = np.full(n_p, -1, dtype=np.int64)

    def at(self, ctx: AccessContext) -> AccessOptions:
        if not np.any(self._idx >= 0):
            return _unavailable(self._fallback)
        up = ctx.state.nodes.up[self._node] & ctx.reachable[self._node]
        return AccessOptions(
            node=self._node,
            one_way_s=self._prop,
            equipment_s=np.full(self._n_p, self._delay),
            rate_bps=self._rate,
            resource=self._idx,
            shared_capacity_bps=self._cap,
            share=np.ones(self._n_p),
            ok=(self._idx >= 0) & up & ~ctx.ntn_blocked,
        )


class LeoLayer:
    """LEO direct-to-device: the satellite of the shortest bent pipe user → satellite →
    gateway this step or, where the constellation has ISLs, the nearest satellite in view.

    A point with a bent pipe is served by the satellite of the shortest one. Where the
    scenario's shells carry ISLs (``isl_pattern = "grid"``), a point that no bent pipe reaches
    (no gateway sees any satellite the point sees: the open sea, a gateway down) is served by
    the nearest satellite above its mask that has ISLs; whether its traffic gets anywhere is
    then the routing's question (the satellite must reach a compute site over the step's ISLs
    and feeders, ``ctx.reachable``). The access node is the serving satellite: the routing
    carries the traffic on from there over the gateway feeders (each with its capacity) and
    the ISLs of the step's state. The resource is the satellite's user beam, with
    ``beam_capacity_bps`` of its constellation (unlimited when unset); the one-way delay is the
    user–satellite slant range.
    """

    name = "leo"

    def __init__(self, twin: Twin) -> None:
        sc = twin.scenario
        self._twin = twin
        self._fallback = twin.idx_demand
        self._delay = sc.ntn.processing_delay_s
        self._const = {c.name: c for c in sc.ntn.constellations}
        self._gw_mask = min((g.min_elevation_deg for g in sc.ntn.gateways), default=90.0)
        # Satellites that are an end of some ISL (numbered as the step's positions).
        self._n_isl_sats = int(twin.isl_pairs.max()) + 1 if twin.isl_pairs.size else 0
        self._has_isl = np.zeros(self._n_isl_sats, dtype=bool)
        self._has_isl[twin.isl_pairs.ravel()] = True

    def visible(self, ctx: AccessContext) -> int:
        """Satellites above the mask of at least one demand point."""
        if ctx.sat_ecef_m.shape[0] == 0:
            return 0
        mask = np.array([self._const[o].min_elevation_deg for o in ctx.sat_owner])
        return int(np.count_nonzero(seen_by_any(self._twin.demand.ecef_m, ctx.sat_ecef_m, mask)))

    def at(self, ctx: AccessContext) -> AccessOptions:
        twin = self._twin
        n_p = twin.demand.name.size
        n_sat = ctx.sat_ecef_m.shape[0]
        has_isl = np.zeros(n_sat, dtype=bool)
        k = min(n_sat, self._n_isl_sats)
        has_isl[:k] = self._has_isl[:k]
        if n_sat == 0 or (twin.gateway_ecef.shape[0] == 0 and not has_isl.any()):
            return _unavailable(self._fallback)
        # The bent pipe is searched only for the points with people not yet carried.
        need = np.flatnonzero(ctx.pending)
        up_sat = ctx.state.nodes.up[twin.static.n_nodes :]
        if up_sat.size != n_sat:
            up_sat = np.ones(n_sat, dtype=bool)
        mask = np.array([self._const[o].min_elevation_deg for o in ctx.sat_owner])
        s_idx = np.full(n_p, -1, dtype=np.int64)
        if need.size and up_sat.any():
            s_sub, _, _ = best_bent_pipe(
                twin.demand.ecef_m[need],
                twin.gateway_ecef,
                ctx.sat_ecef_m[up_sat],
                float(np.min(mask)),
                self._gw_mask,
            )
            s_idx[need] = np.where(s_sub >= 0, np.flatnonzero(up_sat)[np.maximum(s_sub, 0)], -1)
        # No bent pipe: the nearest satellite in view with ISLs (regenerative, over the mesh).
        lone = need[s_idx[need] < 0]
        isl_up = np.flatnonzero(up_sat & has_isl)
        if lone.size and isl_up.size:
            s_sub, _ = nearest_visible(
                twin.demand.ecef_m[lone], ctx.sat_ecef_m[isl_up], float(np.min(mask))
            )
            s_idx[lone] = np.where(s_sub >= 0, isl_up[np.maximum(s_sub, 0)], -1)
        sat = np.maximum(s_idx, 0)
        node = np.where(s_idx >= 0, twin.static.n_nodes + sat, self._fallback)
        slant_m = np.linalg.norm(twin.demand.ecef_m - ctx.sat_ecef_m[sat], axis=1)
        rate = np.array([self._const[o].user_rate_bps for o in ctx.sat_owner])
        beam = np.array(
            [
                np.inf
                if self._const[o].beam_capacity_bps is None
                else self._const[o].beam_capacity_bps
                for o in ctx.sat_owner
            ]
        )
        return AccessOptions(
            node=node,
            one_way_s=np.where(s_idx >= 0, slant_m / C_M_PER_S, np.inf),
            equipment_s=np.full(n_p, self._delay),
            rate_bps=np.where(s_idx >= 0, rate[sat], 0.0),
            resource=s_idx,
            shared_capacity_bps=np.where(s_idx >= 0, beam[sat], 0.0),
            share=np.ones(n_p),
            ok=(s_idx >= 0) & ctx.state.nodes.up[node] & ctx.reachable[node] & ~ctx.ntn_blocked,
        )


def _unavailable(fallback_node: IntArray) -> AccessOptions:
    n = fallback_node.size
    return AccessOptions(
        node=fallback_node,
        one_way_s=np.full(n, np.inf),
        equipment_s=np.zeros(n),
        rate_bps=np.zeros(n),
        resource=np.full(n, -1, dtype=np.int64),
        shared_capacity_bps=np.zeros(n),
        share=np.zeros(n),
        ok=np.zeros(n, dtype=bool),
    )


register_access("ran", RanLayer)
register_access("haps", HapsLayer)
register_access("leo", LeoLayer)
