"""Congestion-aware routing to a Wardrop equilibrium, then allocation with named bottlenecks.

Pure, vectorised functions over *arcs* (directed links: ``arc_src[a] -> arc_dst[a]``; a
full-duplex link is two arcs, each with the link's capacity) and *demands* (source node,
destination node, offered rate in b/s, class).

Routing: the method of successive averages (MSA)
------------------------------------------------
Each demand is routed on the paths of least *load-dependent* cost, iterated to a user
(Wardrop) equilibrium: every used path of a demand has the least cost of all its paths.
MSA (Sheffi, *Urban Transportation Networks*, Prentice-Hall 1985, §5.3 and §12.3) starts from
an all-or-nothing (AON) assignment at zero load and repeats

.. math::

    y^k = \\mathrm{AON}(t(x^k)),\\qquad x^{k+1} = x^k + \\frac{1}{k+1}\\,(y^k - x^k)

so the arc loads ``x^K`` are the mean of the ``K`` AON loads and each demand's traffic is split
equally over the ``K`` least-cost paths it was given (duplicates merged). The iteration stops
when the *relative gap*

.. math::

    \\mathrm{gap} = \\frac{\\sum_a x_a t_a(x_a) - \\sum_f d_f\\,\\kappa_f(t(x))}
        {\\sum_a x_a t_a(x_a)}

(``κ_f``: least path cost of demand ``f``) falls to ``relative_gap`` or after
``max_iterations`` AON steps. For convex increasing costs the gap bounds the distance of the
Beckmann objective from its minimum (``B(x) − B(x*) ≤ gap · Σ x t``), which is what the tests
turn into a tolerance on the flows.

Link cost: propagation plus the M/M/1 sojourn time
--------------------------------------------------
``t_a(x) = τ_a + T_a(x)`` with ``τ_a`` the propagation (and equipment) delay and ``T_a`` the
mean time a packet spends at the arc's output queue and transmitter, M/M/1 with mean packet
size ``S`` bits, service rate ``μ = C/S`` and arrival rate ``λ = x/S``:

.. math::

    T(x) = \\frac{1}{\\mu - \\lambda} = \\frac{S}{C - x}

(L. Kleinrock, *Queueing Systems* vol. 1, Wiley 1975, §3.2). An M/G/1 processor-sharing
queue has the same mean, ``E[S]/(C(1 − ρ))``, for any job-size distribution (Kleinrock,
*Queueing Systems* vol. 2, Wiley 1976, §4.4), so ``T`` is also the flow-level mean under PS.
Near saturation ``T`` is replaced, above ``ρ_cap·C`` (``utilisation_cap``, default 0.99),
by its tangent at ``ρ_cap·C``: finite, continuous, convex and increasing, so offered loads above
capacity still have a cost that grows with the overload and the routing can push them away.
Arcs of capacity 0 are unusable; an infinite capacity has no queueing.

Allocation: reduced-load (thinning) fixed point on the paths
------------------------------------------------------------
The equilibrium offers ``o_p`` on each path ``p``. Where offered loads exceed capacity each arc
passes a fraction ``a_l = min(1, C_l / Σ_{p∋l} o_p Π_{k∈p, k≠l} a_k)`` of the traffic offered to
it, the fluid version of the Erlang reduced-load fixed point (F. P. Kelly, "Loss networks",
Ann. Appl. Probab. 1(3), 1991, §3), iterated (at most ``allocation_iterations`` times, stopping
when no ``a`` moves by more than 1e-9). A path carries ``o_p Π_{l∈p} a_l``; any residual overload
left by the iteration cap is removed by one proportional scaling of each path by the largest
load/capacity ratio along it, after which no arc is above capacity. The *binding resource* of
a demand with blocked traffic is the arc of smallest pass fraction ``a`` (the most overloaded)
on the path where most of its traffic was blocked, named by arc id and the caller's arc kind;
a demand with no path at all has binding arc ``-1`` and kind ``"no path"``.

Overflow: blocked traffic on the spare capacity
-----------------------------------------------
The equilibrium is stopped after a few line-search steps, and even at its end a user
equilibrium with a finite overload price can load a link beyond capacity while another path
has room. With ``overflow_rounds`` > 0 the traffic the allocation blocked is re-offered, as
constrained shortest path first (CSPF) places a traffic-engineering tunnel: on the least-cost
path (costs at the current loads) over only the arcs with spare capacity (RFC 3209 §2.2 and
RFC 4655 §4: paths computed on the residual bandwidth), and allocated within that spare
capacity by the same thinning; the round is repeated on what is still blocked, until nothing
moves (or ``overflow_rounds``). Traffic already carried is never moved, so the result need
not reach the maximum multicommodity throughput; it carries everything a demand can reach over
spare capacity, and no arc goes above its capacity by more than rounding: what a demand still
loses after it, up to 1e-10 of its offer, is the iterations' rounding (pass fractions converge
to 1e-9), and it is carried on the demand's paths, scaled up, which raises an arc by at most
that share of its load (below the overload flag's 1e-9).

A demand still blocked after the overflow is named at its *cut*: the nodes its source reaches
over arcs with spare capacity, and the nodes from which its destination is reached, are each
bounded by full arcs. Of those on the demand's own paths the binding arc is a *direct* one if
there is one — its tail reached from the source and its head reaching the destination over
arcs with room, so that one more unit of its capacity would carry one more unit of the
demand (the arc's marginal value) — and among several the one its equilibrium loaded most.
Unlike the least pass fraction on one path, the cut is a property of the final loads: every
route from the demand's source to its destination crosses a full arc of it.

Shared capacity: arc groups
---------------------------
Several arcs may share one capacity (``arc_group``): one physical direction of a link that the
caller represents by more than one arc, e.g. a satellite's laser link, which carries both the
download and the upload plane of a routing graph whose satellites are split into an entry and
an exit node (so that no ground traffic can transit them). The queueing delay and the overload
price of every arc of a group are those of the group's total load, ``t_a = τ_a + T(Σ_{b∈g} x_b)``;
the Jacobian of these costs is symmetric, so the equilibrium is still the minimum of a Beckmann
objective (``Σ_a τ_a x_a + Σ_g ∫ T_g``) and the line search is unchanged. The allocation runs on
the groups (a path's incidence counts each group once per arc it uses), and the binding arc of
a loss is the path's arc in its binding group.

Complexity
----------
One AON step is one ``scipy.sparse.csgraph.dijkstra`` from each of the ``S`` distinct source
nodes (or destinations on the reversed arcs, or each demand from whichever end more demands
share: the fewest trees of the three), ``O(S (A + N log N))``, plus
a predecessor walk (:func:`tsunagu.net.paths.walk`) of all demands at once, one NumPy step per
hop, ``O(F H)`` for ``F`` demands of at most ``H`` hops. Routing costs ``K`` such steps; the
allocation ``I`` sparse products over the ``P ≤ K F`` distinct paths, ``O(I · P H)``. There is
no Python loop over demands, arcs or paths. The overflow adds at most ``overflow_rounds`` AON
steps over the still-blocked demands and their allocations, and one reachability search
(``shortest_paths`` from the blocked demands' distinct roots) to name the cuts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from tsunagu.errors import DataError
from tsunagu.net.graph import _build_graph
from tsunagu.net.paths import shortest_paths, walk

__all__ = [
    "DEFAULT_MEAN_PACKET_BITS",
    "DEFAULT_UTILISATION_CAP",
    "NO_PATH_KIND",
    "Equilibrium",
    "FlowResult",
    "allocate_paths",
    "mm1_link_cost",
    "mm1_sojourn_time_s",
    "route_and_allocate",
    "wardrop_msa",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
CostFunction = Callable[[FloatArray], FloatArray]

#: Mean packet size of the M/M/1 model, bits: a 1500-byte Ethernet MTU frame payload.
DEFAULT_MEAN_PACKET_BITS: Final = 1500.0 * 8.0
#: Utilisation above which the M/M/1 delay is continued by its tangent (stated cap).
DEFAULT_UTILISATION_CAP: Final = 0.99
#: Binding-resource kind of a demand that has no path at all.
NO_PATH_KIND: Final = "no path"
#: Pass fractions closer than this between two allocation iterations end the iteration.
_ALLOCATION_TOL: Final = 1e-9
_NO_PRED: Final = -9999
#: Spare capacity, blocked traffic and overflow below this share of capacity, offer or total
#: are rounding (overflow routing).
_OVERFLOW_TOL: Final = 1e-9
#: A demand's traffic still blocked after the overflow at most this share of its offer is the
#: iterations' rounding: it is carried on the demand's paths (scaled up), which raises no arc
#: by more than this share of its load, below the overload flag's 1e-9.
_REMNANT: Final = 1e-10
#: Salt of a demand's id in its paths' keys (far above any arc id; see wardrop_msa).
_DEMAND_SALT: Final = np.uint64(0xD6E8FEB86659FD93)


# --------------------------------------------------------------------------- link cost


def mm1_sojourn_time_s(
    load_bps: npt.ArrayLike,
    capacity_bps: npt.ArrayLike,
    mean_packet_bits: float = DEFAULT_MEAN_PACKET_BITS,
    utilisation_cap: float = DEFAULT_UTILISATION_CAP,
) -> FloatArray:
    """Mean M/M/1 (or M/G/1-PS) sojourn time ``S / (C − x)`` with its tangent above ``ρ_cap·C``.

    Parameters
    ----------
    load_bps, capacity_bps : array_like
        Offered load ``x`` and capacity ``C`` (b/s), broadcast together. ``C = inf``: 0 s.
    mean_packet_bits : float
        Mean packet (job) size ``S`` in bits.
    utilisation_cap : float
        ``ρ_cap`` in (0, 1): above ``ρ_cap·C`` the delay grows linearly with the tangent slope
        ``S / (C(1 − ρ_cap))²``.

    Returns
    -------
    ndarray
        Seconds; ``inf`` only where ``C = 0``.

    References
    ----------
    L. Kleinrock, *Queueing Systems* vol. 1, Wiley 1975, §3.2 (M/M/1 mean time in system).

    Examples
    --------
    >>> float(mm1_sojourn_time_s(5e9, 10e9, 12000.0))  # 12000 bit / 5 Gb/s spare
    2.4e-06
    """
    if not 0.0 < utilisation_cap < 1.0:
        raise DataError(f"utilisation_cap must lie in (0, 1) (got {utilisation_cap}); e.g. 0.99")
    if not mean_packet_bits > 0.0:
        raise DataError(f"mean_packet_bits must be > 0 (got {mean_packet_bits}); e.g. 12000")
    x, c = np.broadcast_arrays(
        np.asarray(load_bps, dtype=np.float64), np.asarray(capacity_bps, dtype=np.float64)
    )
    x_cap = utilisation_cap * c
    with np.errstate(divide="ignore", invalid="ignore"):
        spare = np.maximum(c - np.minimum(x, x_cap), 0.0)
        t = mean_packet_bits / spare
        slope = mean_packet_bits / spare**2
        over = np.maximum(x - x_cap, 0.0)
        t = np.where(over > 0.0, t + slope * over, t)
    t = np.where(np.isinf(c), 0.0, t)
    return np.asarray(np.where(c <= 0.0, np.inf, t), dtype=np.float64)


def mm1_link_cost(
    capacity_bps: npt.ArrayLike,
    propagation_delay_s: npt.ArrayLike,
    mean_packet_bits: float = DEFAULT_MEAN_PACKET_BITS,
    utilisation_cap: float = DEFAULT_UTILISATION_CAP,
    overload_penalty_s: float = 0.0,
) -> CostFunction:
    """The arc cost ``t(x) = τ + T(x) + P · max(x − C, 0) / C`` (s) as a function of load.

    ``T`` is :func:`mm1_sojourn_time_s`. ``P`` (``overload_penalty_s``, default 0) prices the
    load above capacity, which the allocation will block: on fast links the M/M/1 delay stays
    far below the differences between path latencies up to capacity (12,000 bits on a 25.6 Tb/s
    link wait 47 ns at 99 %), so without it the routing would not move traffic off a full link;
    with ``P`` larger than any path's latency, traffic takes any other path that has room
    before it overloads one. Convex and increasing, so the equilibrium stays unique in the loads.
    """
    if not overload_penalty_s >= 0.0 or not np.isfinite(overload_penalty_s):
        raise DataError(
            f"overload_penalty_s must be a finite number >= 0 (got {overload_penalty_s})"
        )
    cap = np.asarray(capacity_bps, dtype=np.float64)
    tau = np.broadcast_to(np.asarray(propagation_delay_s, dtype=np.float64), cap.shape)
    finite = np.isfinite(cap) & (cap > 0.0)
    safe = np.where(finite, cap, 1.0)

    def cost(load_bps: FloatArray) -> FloatArray:
        t = tau + mm1_sojourn_time_s(load_bps, cap, mean_packet_bits, utilisation_cap)
        if overload_penalty_s > 0.0:
            over = np.where(finite, np.maximum(load_bps - cap, 0.0) / safe, 0.0)
            t = t + overload_penalty_s * over
        return np.asarray(t)

    return cost


# --------------------------------------------------------------------------- input checks


def _int_column(value: npt.ArrayLike, name: str, upper: int, what: str) -> IntArray:
    arr = np.asarray(value)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise DataError(f"{name} must be a 1-D array of integer {what} ids (got {arr.dtype})")
    out = arr.astype(np.int64)
    if out.size and (out.min() < 0 or out.max() >= upper):
        raise DataError(f"{name} holds ids outside 0..{upper - 1}; pass {what} row indices")
    return out


def _float_column(value: npt.ArrayLike, name: str, n: int, *, allow_inf: bool) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise DataError(f"{name} has shape {arr.shape}; pass one value per row ({n}) or a scalar")
    bad = np.isnan(arr) | (arr < 0.0) | (np.isinf(arr) & (not allow_inf))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{name}[{i}] = {arr[i]}; values must be finite and >= 0")
    return arr


# --------------------------------------------------------------------------- paths


def _mix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64 finaliser: a fixed bijective scrambling of 64-bit integers (path hashing)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


@dataclass(frozen=True)
class _Graph:
    n_nodes: int
    arc_src: IntArray
    arc_dst: IntArray
    usable: BoolArray


def _aon(
    g: _Graph,
    cost: FloatArray,
    demand_src: IntArray,
    demand_dst: IntArray,
    reverse: BoolArray | None = None,
) -> tuple[FloatArray, IntArray, IntArray]:
    """All-or-nothing shortest paths of every demand under arc costs ``cost``.

    ``reverse`` (from :func:`_reverse_side`, computed once per demand set) says which demands
    are routed from their destination.

    Returns the least path cost per demand (``inf`` when unreachable) and the path as
    ``(demand index, arc id)`` pairs, one per hop, in no particular order.
    """
    # One entry per (u, v): the cheapest usable parallel arc (ties: lowest arc id); zero costs
    # stay explicit entries (csgraph treats those as edges) and nothing is summed.
    usable = g.usable & np.isfinite(cost)
    if reverse is None:
        reverse = _reverse_side(demand_src, demand_dst)
    kappa = np.full(demand_src.size, np.inf)
    pairs: list[IntArray] = []
    hops: list[IntArray] = []
    for rev in (False, True):
        sel = np.flatnonzero(reverse == rev)
        if sel.size == 0:
            continue
        # Reversed: one Dijkstra per destination on the reversed arcs, walked from each
        # destination back to its source; the hop link ids are the forward arc ids.
        root_of, leaf_of = (demand_dst, demand_src) if rev else (demand_src, demand_dst)
        a, b = (g.arc_dst, g.arc_src) if rev else (g.arc_src, g.arc_dst)
        roots, row = np.unique(root_of[sel], return_inverse=True)
        matrix, lookup = _build_graph(g.n_nodes, a, b, cost, usable, undirected=False)
        dist, pred = shortest_paths(matrix, roots)
        kappa[sel] = dist[row, leaf_of[sel]]
        w = walk(pred, roots, leaf_of[sel], rows=row, lookup=lookup)
        pairs.append(sel[w.pair])
        hops.append(np.asarray(w.links, dtype=np.int64))
    if not pairs:
        return kappa, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return kappa, np.concatenate(pairs), np.concatenate(hops)


def _reverse_side(demand_src: IntArray, demand_dst: IntArray) -> BoolArray:
    """Which demands to route from their destination (on the reversed arcs), so that the
    shortest-path trees needed are few: all forward (one tree per distinct source), all
    reversed (one per distinct destination), or each demand from whichever of its two ends
    more demands share (many points to a few hubs and back) — the cheapest of the three."""
    n = demand_src.size
    all_fwd = np.zeros(n, dtype=bool)
    if n == 0:
        return all_fwd
    n_src = np.unique(demand_src).size
    n_dst = np.unique(demand_dst).size
    _, inv_s, cnt_s = np.unique(demand_src, return_inverse=True, return_counts=True)
    _, inv_d, cnt_d = np.unique(demand_dst, return_inverse=True, return_counts=True)
    mixed = cnt_d[inv_d] > cnt_s[inv_s]
    n_mixed = np.unique(demand_src[~mixed]).size + np.unique(demand_dst[mixed]).size
    best = min(n_src, n_dst, n_mixed)
    if best == n_src:
        return all_fwd
    if best == n_dst:
        return np.ones(n, dtype=bool)
    return np.asarray(mixed, dtype=bool)


@dataclass(frozen=True)
class Equilibrium:
    """Result of :func:`wardrop_msa`.

    Attributes
    ----------
    arc_load_bps : ndarray (A,)
        Equilibrium offered load of each arc.
    path_demand : ndarray (P,)
        Demand index of each distinct path.
    path_share : ndarray (P,)
        Share of its demand's offered rate on the path (the shares of a demand sum to 1).
    incidence : scipy.sparse.csr_matrix (P, A)
        1 where path ``p`` uses arc ``a``.
    least_cost : ndarray (F,)
        Least path cost of each demand at the final loads (``inf``: no path).
    relative_gap : float
        Relative gap at the final loads (0 when nothing is routed).
    iterations : int
        AON steps taken.
    """

    arc_load_bps: FloatArray
    path_demand: IntArray
    path_share: FloatArray
    incidence: sp.csr_matrix
    least_cost: FloatArray
    relative_gap: float
    iterations: int


def wardrop_msa(
    n_nodes: int,
    arc_src: npt.ArrayLike,
    arc_dst: npt.ArrayLike,
    demand_src: npt.ArrayLike,
    demand_dst: npt.ArrayLike,
    offered_bps: npt.ArrayLike,
    cost: CostFunction,
    *,
    usable: npt.ArrayLike | None = None,
    max_iterations: int = 60,
    relative_gap: float = 1e-4,
    step_rule: str = "msa",
    min_step: float = 0.0,
    patience: int = 5,
) -> Equilibrium:
    """Route demands to a Wardrop (user) equilibrium by the method of successive averages.

    Parameters
    ----------
    n_nodes : int
    arc_src, arc_dst : array_like of int, shape (A,)
        Node ids of each directed arc.
    demand_src, demand_dst : array_like of int, shape (F,)
    offered_bps : array_like of float, shape (F,)
    cost : callable
        Arc loads (A,) → arc costs (A,), convex and increasing in each arc's own load
        (e.g. :func:`mm1_link_cost`); ``inf`` marks an unusable arc.
    usable : array_like of bool, shape (A,), optional
        Arcs that may be used (default all).
    max_iterations : int
        Cap on AON steps (>= 1).
    relative_gap : float
        Stop when the relative gap is at most this.
    step_rule : ``"msa"`` or ``"line-search"``
        The step towards each AON solution: ``1/(k+1)`` (MSA), or the step that minimises the
        Beckmann objective along it (Frank–Wolfe; L. J. LeBlanc, E. K. Morlok and W. P.
        Pierskalla, Transp. Res. 9, 1975), found by bisection on its directional derivative
        ``Σ (y − x) t(x + λ (y − x))``. The line search converges in far fewer steps where
        costs are steep (a capacity penalty), where MSA's fixed steps oscillate.
    min_step, patience : float, int
        Line search only: stop once ``patience`` consecutive steps were below ``min_step``
        (0: never). Frank–Wolfe then zigzags between two AON solutions, each step moving every
        path's share by less than ``min_step``; the gap criterion alone would run on to
        ``max_iterations``.

    Returns
    -------
    Equilibrium

    References
    ----------
    Y. Sheffi, *Urban Transportation Networks*, Prentice-Hall 1985, §12.3 (MSA);
    J. G. Wardrop, Proc. Inst. Civ. Eng. 1(3), 1952 (the equilibrium principle).
    """
    if n_nodes < 1:
        raise DataError(f"n_nodes must be >= 1 (got {n_nodes})")
    if max_iterations < 1:
        raise DataError(f"max_iterations must be >= 1 (got {max_iterations})")
    src = _int_column(arc_src, "arc_src", n_nodes, "node")
    dst = _int_column(arc_dst, "arc_dst", n_nodes, "node")
    if src.shape != dst.shape:
        raise DataError("arc_src and arc_dst must have the same length (one entry per arc)")
    n_arcs = src.size
    use = (
        np.ones(n_arcs, dtype=bool)
        if usable is None
        else np.broadcast_to(np.asarray(usable, dtype=bool), (n_arcs,))
    )
    d_src = _int_column(demand_src, "demand_src", n_nodes, "node")
    d_dst = _int_column(demand_dst, "demand_dst", n_nodes, "node")
    if d_src.shape != d_dst.shape:
        raise DataError("demand_src and demand_dst must have the same length (one per demand)")
    d = _float_column(offered_bps, "offered_bps", d_src.size, allow_inf=False)
    if step_rule not in ("msa", "line-search"):
        raise DataError(f"step_rule must be 'msa' or 'line-search' (got {step_rule!r})")
    g = _Graph(n_nodes, src, dst, use)

    load = np.zeros(n_arcs)
    known = np.zeros(0, dtype=np.uint64)  # sorted keys of the distinct paths seen
    path_demand_parts: list[IntArray] = []
    inc_rows: list[IntArray] = []
    inc_cols: list[IntArray] = []
    n_paths = 0
    key_index = np.zeros(0, dtype=np.int64)  # path index of each entry of ``known``
    gap = 0.0
    kappa = np.full(d_src.size, np.inf)
    iterations = 0
    weights = np.zeros(0)  # share of its demand on each known path
    reverse = _reverse_side(d_src, d_dst)
    small = 0  # consecutive line-search steps below min_step
    for k in range(max_iterations):
        t = cost(load)
        kappa, f_hop, a_hop = _aon(g, t, d_src, d_dst, reverse)
        routed = np.isfinite(kappa)
        y = np.asarray(np.bincount(a_hop, weights=d[f_hop], minlength=n_arcs), dtype=np.float64)
        if k > 0:
            tstt = float(load @ np.where(load > 0.0, t, 0.0))
            sptt = float(d[routed] @ kappa[routed])
            gap = (tstt - sptt) / tstt if tstt > 0.0 else 0.0
            if gap <= relative_gap:
                break
        iterations = k + 1
        # Hash each demand's AON path; register the new ones.
        h = np.zeros(d_src.size, dtype=np.uint64)
        np.add.at(h, f_hop, _mix64(a_hop.astype(np.uint64)))
        fr = np.flatnonzero(routed)
        # The demand's id enters salted: unsalted, demand f alone on arc f hashed to 0 like
        # every other demand alone on its own-numbered arc, and merged with their paths.
        keys = _mix64(h[fr] ^ _mix64(fr.astype(np.uint64) ^ _DEMAND_SALT))
        pos = np.searchsorted(known, keys)
        pos_c = np.minimum(pos, max(known.size - 1, 0))
        seen = (known.size > 0) & (known[pos_c] == keys) if known.size else np.zeros_like(pos, bool)
        new_keys, new_first = np.unique(keys[~seen], return_index=True)
        new_demands = fr[~seen][new_first]
        new_ids = n_paths + np.arange(new_keys.size)
        if new_keys.size:
            sel = np.isin(f_hop, new_demands)
            local = np.full(d_src.size, -1, dtype=np.int64)
            local[new_demands] = new_ids
            inc_rows.append(local[f_hop[sel]])
            inc_cols.append(a_hop[sel])
            path_demand_parts.append(new_demands)
            n_paths += new_keys.size
            merged = np.concatenate([known, new_keys])
            merged_idx = np.concatenate([key_index, new_ids])
            o = np.argsort(merged, kind="stable")
            known, key_index = merged[o], merged_idx[o]
        hit = key_index[np.searchsorted(known, keys)]
        step = 1.0 / (k + 1) if (step_rule == "msa" or k == 0) else _line_step(cost, load, y)
        weights = np.concatenate([weights * (1.0 - step), np.zeros(n_paths - weights.size)])
        np.add.at(weights, hit, step)
        load = load + step * (y - load)
        small = small + 1 if (min_step > 0.0 and k > 0 and step < min_step) else 0
        if small >= patience:
            break  # the line search has stalled: further steps barely move any share
    if iterations == max_iterations or small >= patience:
        t = cost(load)
        kappa, _, _ = _aon(g, t, d_src, d_dst, reverse)
        routed = np.isfinite(kappa)
        tstt = float(load @ np.where(load > 0.0, t, 0.0))
        sptt = float(d[routed] @ kappa[routed])
        gap = (tstt - sptt) / tstt if tstt > 0.0 else 0.0

    path_demand = (
        np.concatenate(path_demand_parts) if path_demand_parts else np.zeros(0, dtype=np.int64)
    )
    share = np.concatenate([weights, np.zeros(n_paths - weights.size)])
    rows = np.concatenate(inc_rows) if inc_rows else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(inc_cols) if inc_cols else np.zeros(0, dtype=np.int64)
    incidence = sp.csr_matrix(
        (np.ones(rows.size), (rows, cols)), shape=(n_paths, n_arcs), dtype=np.float64
    )
    return Equilibrium(
        arc_load_bps=np.asarray(load, dtype=np.float64),
        path_demand=path_demand,
        path_share=share,
        incidence=incidence,
        least_cost=np.asarray(kappa, dtype=np.float64),
        relative_gap=float(max(gap, 0.0)),
        iterations=iterations,
    )


def _line_step(cost: CostFunction, x: FloatArray, y: FloatArray, iterations: int = 60) -> float:
    """The step ``λ`` in [0, 1] minimising the Beckmann objective along ``x → y``: the root of
    its derivative ``Σ (y − x) t(x + λ (y − x))``, increasing in ``λ`` for increasing costs.

    The root is bracketed and found by regula falsi with the Illinois modification (the
    retained end's value halved when the same end is kept twice), which keeps the bracket
    and converges superlinearly: about eight cost evaluations where bisection to the same
    width (2⁻⁴⁰) needs forty. Stops when the bracket is narrower than 1e-12 or the
    derivative is below 1e-12 of its larger end value.
    """
    step = y - x
    use = step != 0.0
    if not use.any():
        return 0.0
    d = step[use]

    def slope(lam: float) -> float:
        t = cost(x + lam * step)[use]
        return float(np.sum(d * np.where(np.isfinite(t), t, 0.0)))

    f_hi = slope(1.0)
    if f_hi <= 0.0:
        return 1.0
    f_lo = slope(0.0)
    if f_lo >= 0.0:
        return 0.0
    lo, hi = 0.0, 1.0
    kept = 0  # +1: the low end kept last time, -1: the high end
    lam = 0.5
    flat = 1e-12 * max(f_hi, -f_lo)  # a derivative this small is the root
    for _ in range(iterations):
        lam = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        if not lo < lam < hi:  # rounding at a degenerate bracket: bisect
            lam = 0.5 * (lo + hi)
        f = slope(lam)
        if f > 0.0:
            hi, f_hi = lam, f
            if kept == 1:
                f_lo *= 0.5
            kept = 1
        elif f < 0.0:
            lo, f_lo = lam, f
            if kept == -1:
                f_hi *= 0.5
            kept = -1
        if abs(f) <= flat or hi - lo < 1e-12:
            break
    return lam


# --------------------------------------------------------------------------- allocation


def _row_argmin(matrix: sp.csr_matrix, values: FloatArray) -> tuple[IntArray, FloatArray]:
    """Per row of a 0/1 CSR matrix: the column with the smallest ``values`` (-1 if empty).

    Ties go to the lowest column id. ``O(nnz)``: one ``minimum.reduceat`` for the least value
    of each row, one for the first (lowest-column) entry that attains it.
    """
    if not matrix.has_sorted_indices:
        matrix = matrix.sorted_indices()
    n_rows = matrix.shape[0]
    arg = np.full(n_rows, -1, dtype=np.int64)
    best = np.full(n_rows, np.inf)
    counts = np.diff(matrix.indptr)
    rows = np.flatnonzero(counts > 0)
    if rows.size == 0:
        return arg, best
    v = values[matrix.indices]
    starts = matrix.indptr[rows]
    best[rows] = np.minimum.reduceat(v, starts)
    # NaN never equals itself: a row of NaN values keeps its first entry.
    hit = (v == best[np.repeat(np.arange(n_rows), counts)]) | np.isnan(v)
    first = np.minimum.reduceat(np.where(hit, np.arange(v.size), v.size), starts)
    arg[rows] = matrix.indices[np.minimum(first, v.size - 1)]
    return arg, best


def allocate_paths(
    incidence: sp.csr_matrix,
    path_offered_bps: npt.ArrayLike,
    capacity_bps: npt.ArrayLike,
    *,
    max_iterations: int = 200,
    tolerance: float = _ALLOCATION_TOL,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Carried rate of each path under the arcs' capacities (reduced-load thinning).

    Parameters
    ----------
    incidence : scipy.sparse.csr_matrix (P, A)
        1 where path ``p`` uses arc ``a``.
    path_offered_bps : array_like (P,)
    capacity_bps : array_like (A,)
        > 0 on every arc a path uses; ``inf`` for no limit.
    max_iterations : int
        Cap on the fixed-point iterations (the final scaling makes the result feasible anyway).
    tolerance : float
        Stop when no pass fraction moves by more than this between two iterations.

    Returns
    -------
    path_carried_bps : ndarray (P,)
    pass_fraction : ndarray (A,)
        ``a_l``: the fraction of the traffic offered to each arc that it passes (1: not binding).
    path_binding_arc : ndarray (P,)
        The arc of least pass fraction on each path that lost traffic, else -1.

    References
    ----------
    F. P. Kelly, "Loss networks", Ann. Appl. Probab. 1(3), 1991, §3 (reduced-load fixed point).
    """
    o = np.asarray(path_offered_bps, dtype=np.float64)
    cap = np.asarray(capacity_bps, dtype=np.float64)
    n_paths, n_arcs = incidence.shape
    if o.shape != (n_paths,) or cap.shape != (n_arcs,):
        raise DataError(
            f"allocate_paths needs {n_paths} path rates and {n_arcs} capacities "
            f"(got {o.shape} and {cap.shape})"
        )
    used = np.asarray(incidence.sum(axis=0)).ravel() > 0
    if np.any(used & (cap <= 0.0)):
        a0 = int(np.flatnonzero(used & (cap <= 0.0))[0])
        raise DataError(f"arc {a0} has capacity {cap[a0]} but carries a path; mark it unusable")
    transposed = incidence.T.tocsr()
    log_a = np.zeros(n_arcs)
    for _ in range(max_iterations):
        through = o * np.exp(incidence @ log_a)
        offered_to = (transposed @ through) * np.exp(-log_a)
        over = offered_to > cap
        a_new = np.where(over, cap / np.where(over, offered_to, 1.0), 1.0)
        # Half steps in log space damp the two-cycle a plain Jacobi sweep can fall into.
        log_new = 0.5 * log_a + 0.5 * np.log(a_new)
        moved = float(np.max(np.abs(np.exp(log_new) - np.exp(log_a)), initial=0.0))
        log_a = log_new
        if moved < tolerance:
            break
    a = np.exp(log_a)
    carried = o * np.exp(incidence @ log_a)
    # Residual overload left by the cap on iterations: scale each path by the largest ratio.
    load = transposed @ carried
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isfinite(cap) & (load > 0.0), load / cap, 0.0)
    worst_arc, neg_worst = _row_argmin(incidence, -ratio)
    worst = -neg_worst
    scale = np.where(worst > 1.0, 1.0 / np.where(worst > 1.0, worst, 1.0), 1.0)
    carried = carried * scale
    binding, a_min = _row_argmin(incidence, a)
    lost = carried < o * (1.0 - 1e-12)
    binding = np.where(lost & (a_min < 1.0), binding, np.where(lost, worst_arc, -1))
    return np.asarray(carried, dtype=np.float64), np.asarray(a, dtype=np.float64), binding


@dataclass(frozen=True)
class FlowResult:
    """Per-arc and per-demand outcome of :func:`route_and_allocate`.

    Arc arrays have shape (A,), demand arrays (F,), path arrays (P,). ``arc_load_bps`` is the
    carried load (sum of carried path rates on the arc); ``arc_offered_load_bps`` the load the
    equilibrium routing offered before allocation (and before any overflow). The path arrays
    hold the equilibrium's paths, then the overflow's, whose offered rate is what was re-offered
    on them and carried. ``arc_queue_delay_s`` is the M/M/1 sojourn
    time at the carried load; ``demand_delay_s`` the carried-weighted mean over a demand's paths
    of propagation plus sojourn times (offered-weighted when nothing is carried; ``inf`` with no
    path).
    """

    arc_capacity_bps: FloatArray
    arc_offered_load_bps: FloatArray
    arc_load_bps: FloatArray
    arc_utilisation: FloatArray
    arc_queue_delay_s: FloatArray
    arc_pass_fraction: FloatArray
    arc_overloaded: BoolArray
    demand_class: IntArray
    demand_offered_bps: FloatArray
    demand_carried_bps: FloatArray
    demand_blocked_bps: FloatArray
    demand_delay_s: FloatArray
    demand_binding_arc: IntArray
    demand_binding_kind: npt.NDArray[np.str_]
    path_demand: IntArray
    path_offered_bps: FloatArray
    path_carried_bps: FloatArray
    incidence: sp.csr_matrix
    relative_gap: float
    iterations: int
    #: Load of each arc's capacity group (its own load when arcs are not grouped): what its
    #: utilisation, queueing delay and overload refer to.
    arc_shared_load_bps: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: Overflow rounds that moved blocked traffic onto spare capacity (0: none ran or moved).
    overflow_rounds: int = 0

    def class_totals(self) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """Per demand class: (classes, offered, carried, blocked) in b/s."""
        classes, inv = np.unique(self.demand_class, return_inverse=True)
        n = classes.size

        def total(x: FloatArray) -> FloatArray:
            return np.asarray(np.bincount(inv, weights=x, minlength=n), dtype=np.float64)

        return (
            np.asarray(classes, dtype=np.int64),
            total(self.demand_offered_bps),
            total(self.demand_carried_bps),
            total(self.demand_blocked_bps),
        )

    def demand_path_mean(self, arc_values: npt.ArrayLike) -> FloatArray:
        """Per demand: the sum of ``arc_values`` (A,) along each of its paths, averaged over
        its paths weighted by their carried rate (by their offered rate when nothing is
        carried); NaN for a demand without a path."""
        v = np.asarray(arc_values, dtype=np.float64)
        n_dem = self.demand_offered_bps.size
        path_sum = np.asarray(self.incidence @ v, dtype=np.float64)
        w = np.where(self.path_carried_bps > 0.0, self.path_carried_bps, 0.0)
        w_sum = np.bincount(self.path_demand, weights=w, minlength=n_dem)
        o_sum = np.bincount(self.path_demand, weights=self.path_offered_bps, minlength=n_dem)
        n_paths = np.bincount(self.path_demand, minlength=n_dem)
        by_w = np.bincount(self.path_demand, weights=w * path_sum, minlength=n_dem)
        by_o = np.bincount(
            self.path_demand, weights=self.path_offered_bps * path_sum, minlength=n_dem
        )
        by_n = np.bincount(self.path_demand, weights=path_sum, minlength=n_dem)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(
                w_sum > 0.0,
                by_w / np.where(w_sum > 0, w_sum, 1.0),
                np.where(o_sum > 0.0, by_o / np.where(o_sum > 0, o_sum, 1.0), by_n / n_paths),
            )
        return np.asarray(np.where(n_paths > 0, out, np.nan), dtype=np.float64)

    def demand_path(self, demand: int) -> IntArray:
        """Arc ids of the path carrying most of ``demand`` (empty when it has none)."""
        mine = np.flatnonzero(self.path_demand == demand)
        if mine.size == 0:
            return np.zeros(0, dtype=np.int64)
        p = mine[np.argmax(self.path_offered_bps[mine])]
        return np.asarray(
            self.incidence.indices[self.incidence.indptr[p] : self.incidence.indptr[p + 1]],
            dtype=np.int64,
        )


def route_and_allocate(
    n_nodes: int,
    arc_src: npt.ArrayLike,
    arc_dst: npt.ArrayLike,
    capacity_bps: npt.ArrayLike,
    propagation_delay_s: npt.ArrayLike,
    demand_src: npt.ArrayLike,
    demand_dst: npt.ArrayLike,
    offered_bps: npt.ArrayLike,
    demand_class: npt.ArrayLike | None = None,
    arc_kind: npt.ArrayLike | None = None,
    *,
    mean_packet_bits: float = DEFAULT_MEAN_PACKET_BITS,
    utilisation_cap: float = DEFAULT_UTILISATION_CAP,
    max_iterations: int = 60,
    relative_gap: float = 1e-4,
    allocation_iterations: int = 200,
    allocation_tolerance: float = _ALLOCATION_TOL,
    overload_penalty_s: float = 0.0,
    step_rule: str = "msa",
    min_step: float = 0.0,
    arc_group: npt.ArrayLike | None = None,
    overflow_rounds: int = 0,
) -> FlowResult:
    """Congestion-aware routing (MSA, M/M/1 costs) then allocation with a binding arc per loss.

    Parameters
    ----------
    n_nodes : int
    arc_src, arc_dst : array_like of int (A,)
    capacity_bps : array_like (A,)
        Arc capacity; 0 makes the arc unusable, ``inf`` unlimited.
    propagation_delay_s : array_like (A,)
        Load-independent delay of each arc (propagation and equipment).
    demand_src, demand_dst : array_like of int (F,)
    offered_bps : array_like (F,)
    demand_class : array_like of int (F,), optional
        Class of each demand (reported per class by :meth:`FlowResult.class_totals`).
    arc_kind : array_like of str (A,), optional
        What each arc is (``"fibre"``, ``"ip_port"``, ``"beam"``, ...), used to name the
        binding resource; default ``"link"``.
    mean_packet_bits, utilisation_cap, overload_penalty_s
        Of the routing cost, :func:`mm1_link_cost` (the reported delays are M/M/1 alone).
    max_iterations, relative_gap, step_rule, min_step
        Of the routing, :func:`wardrop_msa`.
    allocation_iterations, allocation_tolerance
        Of the allocation, :func:`allocate_paths` (``max_iterations``, ``tolerance``).
    arc_group : array_like of int (A,), optional
        Arcs with the same id share one capacity (see "Shared capacity" in the module notes);
        their ``capacity_bps`` must be equal. Default: every arc is its own group.
    overflow_rounds : int
        At most this many rounds of overflow routing after the allocation (see "Overflow" in
        the module notes; 0, the default: none). With overflow, a loss is named at a full arc
        of the demand's cut (the last full arc between what it can still reach and its
        destination) instead of the least pass fraction on its path.

    Returns
    -------
    FlowResult

    Examples
    --------
    A 10 b/s demand over one 4 b/s arc: 6 b/s blocked, at arc 0.

    >>> r = route_and_allocate(2, [0], [1], [4.0], [0.0], [0], [1], [10.0], mean_packet_bits=1.0)
    >>> float(r.demand_carried_bps[0]), float(r.demand_blocked_bps[0]), int(r.demand_binding_arc[0])
    (4.0, 6.0, 0)
    """
    src = _int_column(arc_src, "arc_src", max(n_nodes, 1), "node")
    dst = _int_column(arc_dst, "arc_dst", max(n_nodes, 1), "node")
    n_arcs = src.size
    if overflow_rounds < 0:
        raise DataError(f"overflow_rounds must be >= 0 (got {overflow_rounds}); e.g. 8")
    cap = _float_column(capacity_bps, "capacity_bps", n_arcs, allow_inf=True)
    tau = _float_column(propagation_delay_s, "propagation_delay_s", n_arcs, allow_inf=False)
    d = _float_column(offered_bps, "offered_bps", np.asarray(demand_src).size, allow_inf=False)
    n_dem = d.size
    cls = (
        np.zeros(n_dem, dtype=np.int64)
        if demand_class is None
        else np.broadcast_to(np.asarray(demand_class, dtype=np.int64), (n_dem,)).copy()
    )
    kind = (
        np.full(n_arcs, "link")
        if arc_kind is None
        else np.broadcast_to(np.asarray(arc_kind, dtype=np.str_), (n_arcs,))
    )
    grp, cap_g = _arc_groups(arc_group, cap, n_arcs)
    grouped = cap_g.size < n_arcs
    cost: CostFunction = mm1_link_cost(
        cap, tau, mean_packet_bits, utilisation_cap, overload_penalty_s
    )
    if grouped:
        cost = _grouped_cost(
            mm1_link_cost(cap_g, 0.0, mean_packet_bits, utilisation_cap, overload_penalty_s),
            tau,
            grp,
            cap_g.size,
        )
    eq = wardrop_msa(
        n_nodes,
        src,
        dst,
        demand_src,
        demand_dst,
        d,
        cost,
        usable=cap > 0.0,
        max_iterations=max_iterations,
        relative_gap=relative_gap,
        step_rule=step_rule,
        min_step=min_step,
    )
    path_demand, incidence = eq.path_demand, eq.incidence
    path_offered = d[path_demand] * eq.path_share
    if grouped:
        member = sp.csr_matrix(
            (np.ones(n_arcs), (np.arange(n_arcs), grp)), shape=(n_arcs, cap_g.size)
        )
        inc_g = sp.csr_matrix(incidence @ member)
        path_carried, pass_g, binding_g = allocate_paths(
            inc_g,
            path_offered,
            cap_g,
            max_iterations=allocation_iterations,
            tolerance=allocation_tolerance,
        )
        pass_fraction = pass_g[grp]
        path_binding = _arc_in_group(incidence, grp, binding_g)
    else:
        path_carried, pass_fraction, path_binding = allocate_paths(
            incidence,
            path_offered,
            cap,
            max_iterations=allocation_iterations,
            tolerance=allocation_tolerance,
        )
    offered_load = np.asarray(incidence.T @ path_offered, dtype=np.float64)
    cut_binding: IntArray | None = None
    whole = np.zeros(n_dem, dtype=bool)
    rounds_used = 0
    if overflow_rounds > 0:
        ov = _overflow(
            _Graph(n_nodes, src, dst, cap > 0.0),
            cost,
            grp,
            cap_g,
            _int_column(demand_src, "demand_src", n_nodes, "node"),
            _int_column(demand_dst, "demand_dst", n_nodes, "node"),
            d,
            path_demand,
            incidence,
            path_carried,
            offered_load,
            overflow_rounds,
            allocation_iterations,
            allocation_tolerance,
        )
        path_demand, incidence, cut_binding = ov.path_demand, ov.incidence, ov.cut_arc
        rounds_used, whole = ov.rounds, ov.whole
        path_offered = np.concatenate([path_offered, ov.carried_bps])
        path_carried = np.concatenate([ov.base_carried_bps, ov.carried_bps])
        path_binding = np.concatenate([path_binding, np.full(ov.carried_bps.size, -1)])
    transposed = incidence.T.tocsr()
    load = np.asarray(transposed @ path_carried, dtype=np.float64)
    shared = np.bincount(grp, weights=load, minlength=cap_g.size)[grp] if grouped else load
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(np.isfinite(cap) & (cap > 0.0), shared / cap, 0.0)
    queue = mm1_sojourn_time_s(shared, cap, mean_packet_bits, utilisation_cap)
    carried = np.bincount(path_demand, weights=path_carried, minlength=n_dem)
    # Demands without any path carry nothing; a demand's carried sum can exceed its offer by
    # rounding only, so clip it there to keep offered = carried + blocked exact.
    # (After an overflow, a demand it left nothing blocked carries its offer exactly: its
    # paths' sum can differ from it in the last bits.)
    carried = np.where(whole, d, np.minimum(carried, d))
    blocked = d - carried
    path_delay = incidence @ (tau + np.where(np.isfinite(queue), queue, 0.0))
    w = np.where(path_carried > 0.0, path_carried, 0.0)
    w_sum = np.bincount(path_demand, weights=w, minlength=n_dem)
    o_sum = np.bincount(path_demand, weights=path_offered, minlength=n_dem)
    delay_c = np.bincount(path_demand, weights=w * path_delay, minlength=n_dem)
    delay_o = np.bincount(path_demand, weights=path_offered * path_delay, minlength=n_dem)
    has_path = np.bincount(path_demand, minlength=n_dem) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        delay = np.where(
            w_sum > 0.0,
            delay_c / np.where(w_sum > 0, w_sum, 1.0),
            delay_o / np.where(o_sum > 0, o_sum, 1.0),
        )
    delay = np.where(has_path, delay, np.inf)
    # Binding arc of a demand: that of its path with the most blocked traffic.
    lost = path_offered - path_carried
    order = np.lexsort((-lost, path_demand))
    first = np.ones(order.size, dtype=bool)
    first[1:] = path_demand[order][1:] != path_demand[order][:-1]
    binding = np.full(n_dem, -1, dtype=np.int64)
    binding[path_demand[order][first]] = path_binding[order][first]
    binding = np.where(blocked > 0.0, binding, -1)
    if cut_binding is not None:
        binding = np.where((blocked > 0.0) & (cut_binding >= 0), cut_binding, binding)
    kind_out = np.where(binding >= 0, kind[np.maximum(binding, 0)], "")
    no_path = ~has_path & (d > 0.0)
    kind_out = np.where(no_path, NO_PATH_KIND, kind_out)
    return FlowResult(
        arc_capacity_bps=cap,
        arc_offered_load_bps=offered_load,
        arc_load_bps=load,
        arc_utilisation=np.asarray(util, dtype=np.float64),
        arc_queue_delay_s=queue,
        arc_pass_fraction=pass_fraction,
        arc_overloaded=np.asarray(shared > cap * (1.0 + 1e-9), dtype=bool),
        demand_class=cls,
        demand_offered_bps=d,
        demand_carried_bps=np.asarray(carried, dtype=np.float64),
        demand_blocked_bps=np.asarray(blocked, dtype=np.float64),
        demand_delay_s=np.asarray(delay, dtype=np.float64),
        demand_binding_arc=binding,
        demand_binding_kind=np.asarray(kind_out, dtype=np.str_),
        path_demand=path_demand,
        path_offered_bps=path_offered,
        path_carried_bps=path_carried,
        incidence=incidence,
        relative_gap=eq.relative_gap,
        iterations=eq.iterations,
        arc_shared_load_bps=np.asarray(shared, dtype=np.float64),
        overflow_rounds=rounds_used,
    )


def _grouped_cost(
    group_cost: CostFunction, tau: FloatArray, grp: IntArray, n_groups: int
) -> CostFunction:
    """Arc costs ``τ_a + T_g(x_g)`` from the group cost at each group's total load."""

    def cost(load: FloatArray) -> FloatArray:
        x_g = np.asarray(np.bincount(grp, weights=load, minlength=n_groups), dtype=np.float64)
        return np.asarray(tau + group_cost(x_g)[grp], dtype=np.float64)

    return cost


def _arc_groups(
    arc_group: npt.ArrayLike | None, cap: FloatArray, n_arcs: int
) -> tuple[IntArray, FloatArray]:
    """Dense group ids (A,) and each group's capacity; every arc alone when not given."""
    if arc_group is None:
        return np.arange(n_arcs, dtype=np.int64), cap
    raw = np.asarray(arc_group)
    if raw.shape != (n_arcs,) or (raw.size and not np.issubdtype(raw.dtype, np.integer)):
        raise DataError(f"arc_group must be {n_arcs} integers, one per arc (got shape {raw.shape})")
    _, grp = np.unique(raw, return_inverse=True)
    grp = np.asarray(grp, dtype=np.int64).ravel()
    cap_g = np.zeros(int(grp.max(initial=-1)) + 1)
    cap_g[grp] = cap
    same = (cap_g[grp] == cap) | (np.isnan(cap_g[grp]) & np.isnan(cap))
    if not same.all():
        a0 = int(np.flatnonzero(~same)[0])
        raise DataError(
            f"arcs of one arc_group share one capacity: arc {a0} has {cap[a0]} b/s where its "
            f"group has {cap_g[grp[a0]]} b/s; give every arc of a group the group's capacity"
        )
    return grp, cap_g


def _arc_in_group(incidence: sp.csr_matrix, grp: IntArray, group_of_path: IntArray) -> IntArray:
    """Per path: its first arc in the group ``group_of_path`` (-1 where that is -1)."""
    inc = incidence if incidence.has_sorted_indices else incidence.sorted_indices()
    n_paths = inc.shape[0]
    rows = np.repeat(np.arange(n_paths), np.diff(inc.indptr))
    hit = (group_of_path[rows] >= 0) & (grp[inc.indices] == group_of_path[rows])
    out = np.full(n_paths, -1, dtype=np.int64)
    # Reverse assignment keeps the first (lowest) arc of each path in the group.
    out[rows[hit][::-1]] = inc.indices[hit][::-1]
    return out


@dataclass(frozen=True)
class _Overflow:
    path_demand: IntArray  # all paths: the equilibrium's, then the overflow paths
    incidence: sp.csr_matrix
    base_carried_bps: FloatArray  # per equilibrium path, with the rounding remnants carried
    carried_bps: FloatArray  # per overflow path (all that was re-offered there is carried)
    cut_arc: IntArray  # per demand: a full arc of its cut, -1 where none (or not blocked)
    whole: BoolArray  # per demand: nothing left blocked (its carried rate is its offer)
    rounds: int  # overflow rounds that moved traffic


def _overflow(
    g: _Graph,
    cost: CostFunction,
    grp: IntArray,
    cap_g: FloatArray,
    d_src: IntArray,
    d_dst: IntArray,
    offered: FloatArray,
    path_demand: IntArray,
    incidence: sp.csr_matrix,
    path_carried: FloatArray,
    offered_load: FloatArray,
    rounds: int,
    allocation_iterations: int,
    allocation_tolerance: float,
) -> _Overflow:
    """Re-offer each demand's blocked traffic on its least-cost path over the arcs with spare
    capacity, allocate it within that spare capacity, and repeat (see "Overflow")."""
    n_dem, n_arcs, n_g = offered.size, g.arc_src.size, cap_g.size
    member = sp.csr_matrix((np.ones(n_arcs), (np.arange(n_arcs), grp)), shape=(n_arcs, n_g))
    load = np.asarray(incidence.T @ path_carried, dtype=np.float64)
    carried = np.bincount(path_demand, weights=path_carried, minlength=n_dem)
    blocked = np.maximum(offered - carried, 0.0)
    floor = _REMNANT * offered  # blocked traffic below this is rounding
    parts_d: list[IntArray] = []
    parts_inc: list[sp.csr_matrix] = []
    parts_c: list[FloatArray] = []

    def spare(load_arc: FloatArray) -> tuple[FloatArray, BoolArray]:
        x_g = np.bincount(grp, weights=load_arc, minlength=n_g)
        left = np.maximum(cap_g - x_g, 0.0)
        return left, (np.isinf(cap_g) | (left > _OVERFLOW_TOL * cap_g)) & (cap_g > 0.0)

    for _ in range(rounds):
        left, room = spare(load)
        want = np.flatnonzero(blocked > floor)
        if want.size == 0:
            break
        gr = _Graph(g.n_nodes, g.arc_src, g.arc_dst, g.usable & room[grp])
        kappa, f_hop, a_hop = _aon(gr, cost(load), d_src[want], d_dst[want])
        routed = np.flatnonzero(np.isfinite(kappa) & (d_src[want] != d_dst[want]))
        if routed.size == 0:
            break
        row_of = np.full(want.size, -1, dtype=np.int64)
        row_of[routed] = np.arange(routed.size)
        keep = row_of[f_hop] >= 0
        inc = sp.csr_matrix(
            (np.ones(int(keep.sum())), (row_of[f_hop[keep]], a_hop[keep])),
            shape=(routed.size, n_arcs),
        )
        inc.sum_duplicates()
        inc.data[:] = 1.0
        got, _, _ = allocate_paths(
            sp.csr_matrix(inc @ member),
            blocked[want[routed]],
            np.where(room, left, 1.0),  # arcs without room carry no path here
            max_iterations=allocation_iterations,
            tolerance=allocation_tolerance,
        )
        if float(got.sum()) <= _REMNANT * float(blocked[want].sum()):
            break  # nothing moves
        dem = want[routed]
        parts_d.append(dem)
        parts_inc.append(inc)
        parts_c.append(got)
        load = load + np.asarray(inc.T @ got, dtype=np.float64)
        blocked[dem] = np.maximum(blocked[dem] - got, 0.0)
    if parts_d:
        path_demand = np.concatenate([path_demand, *parts_d])
        incidence = sp.csr_matrix(sp.vstack([incidence, *parts_inc], format="csr"))
    extra = np.concatenate(parts_c) if parts_c else np.zeros(0)
    # Rounding remnants: carried on the demand's paths, each scaled by offered / carried.
    got_all = np.concatenate([path_carried, extra])
    carried_now = offered - blocked
    remnant = (blocked > 0.0) & (blocked <= floor) & (carried_now > 0.0)
    if remnant.any():
        scale = np.where(remnant, offered / np.where(remnant, carried_now, 1.0), 1.0)
        got_all = got_all * scale[path_demand]
        blocked = np.where(remnant, 0.0, blocked)
        load = np.asarray(incidence.T @ got_all, dtype=np.float64)
    base, extra = got_all[: path_carried.size], got_all[path_carried.size :]
    # The cut: arcs with no spare capacity from the region a blocked demand can still reach
    # (over arcs with room) to the rest; named per demand on one of its own paths.
    _, room = spare(load)
    cand_f, cand_a, direct = _cut_arcs(
        g, room[grp], d_src, d_dst, blocked > floor, path_demand, incidence
    )
    # Of a demand's cut arcs on its paths: a direct one first, then the one its equilibrium
    # loaded most (ties: lowest id).
    order = np.lexsort((cand_a, -offered_load[cand_a], ~direct, cand_f))
    first = np.ones(order.size, dtype=bool)
    first[1:] = cand_f[order][1:] != cand_f[order][:-1]
    cut = np.full(n_dem, -1, dtype=np.int64)
    cut[cand_f[order][first]] = cand_a[order][first]
    whole = blocked <= 0.0
    return _Overflow(path_demand, incidence, base, extra, cut, whole, len(parts_d))


def _cut_arcs(
    g: _Graph,
    room: BoolArray,
    d_src: IntArray,
    d_dst: IntArray,
    blocked: BoolArray,
    path_demand: IntArray,
    incidence: sp.csr_matrix,
) -> tuple[IntArray, IntArray, BoolArray]:
    """(demand, arc, direct) triples: the full arcs of a blocked demand's paths that leave the
    region its source reaches over arcs with room, or enter the region from which its
    destination is reached; ``direct`` where both hold, so that one more unit of the arc's
    capacity would carry one more unit of the demand."""
    inc = incidence if incidence.has_sorted_indices else incidence.sorted_indices()
    rows = np.repeat(np.arange(inc.shape[0]), np.diff(inc.indptr))
    e = np.flatnonzero(blocked[path_demand[rows]] & ~room[inc.indices])
    f, arc = path_demand[rows[e]], inc.indices[e].astype(np.int64)
    if f.size == 0:
        return f, arc, np.zeros(0, dtype=bool)
    ones = np.ones(g.arc_src.size)
    sides = []
    for root_of, a, b in ((d_src, g.arc_src, g.arc_dst), (d_dst, g.arc_dst, g.arc_src)):
        # From the sources over the arcs, or from the destinations over the reversed arcs.
        roots, r = np.unique(root_of[f], return_inverse=True)
        matrix, _ = _build_graph(g.n_nodes, a, b, ones, g.usable & room, undirected=False)
        reach = np.isfinite(shortest_paths(matrix, roots)[0])
        sides.append((reach[r, a[arc]], reach[r, b[arc]]))  # (near end, far end)
    (s_tail, s_head), (t_head, t_tail) = sides
    leaves = s_tail & ~s_head
    enters = t_head & ~t_tail
    hit = leaves | enters
    return f[hit], arc[hit], (s_tail & t_head)[hit]
