"""Multi-operator All-Photonics Network: end-to-end lightpaths across operator domains.

Each operator owns a domain (its topology, its link QoT, its spectrum) behind an
:class:`Operator` object whose state is private. What it shows the others is a
:class:`DomainView`: a frozen snapshot of plain data — its border nodes (interconnection
points), the service endpoints it offers, and for each pair of those a few candidate *segments*
summarised by length, noise-to-signal ratio (QoT summary) and the slot units free along them.
A view holds no node list, link list, topology or reference to its operator, so a peer that
plans with it cannot reach the owner's internals (``tests/unit/test_optical_multidomain.py``
checks this). This is the abstraction of TAPI / ONF connectivity services between SDN
controllers: a connectivity request is answered with service-interface points and constraints,
not with the provider's network.

An end-to-end lightpath is spectrum-continuous and transparent (no O-E-O): the same block of
slot units must be free on every segment and every interconnect link. Its QoT is computed end
to end under the incoherent-GN assumption that every impairment is additive Gaussian noise, so
noise-to-signal ratios add in linear units:
``1/GSNR = Σ_segments NSR + Σ_interconnects NSR + 1/OSNR_transceiver`` (the accumulation used by
GNPy and by :mod:`tsunagu.optical.qot`). The most efficient format whose required GSNR (plus
margin) the path meets is used; spectrum is then assigned by any registered
:class:`~tsunagu.optical.rmsa.SpectrumPolicy` over the ``k`` shortest candidate chains.

:func:`plan_interdomain_lightpaths` is the entry point for the twin: given its optical
:class:`~tsunagu.optical.domain.Backbone` and a list of demands it returns per-demand path,
operators traversed, slots, format, GSNR and the reason a demand was blocked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from tsunagu.errors import DataError, InfeasibleError
from tsunagu.net.graph import to_csr
from tsunagu.net.paths import KShortest
from tsunagu.optical.domain import Backbone
from tsunagu.optical.rmsa import (
    NO_MODULATION,
    NO_PATH,
    NO_SPECTRUM,
    REASONS,
    ModulationFormat,
    SpectrumPolicy,
    get_spectrum_policy,
    link_nsr_gn,
    qam_formats_for_ber,
)
from tsunagu.optical.spectrum import SpectrumGrid, block_mask, slots_required

__all__ = [
    "DomainView",
    "InterconnectLink",
    "InterdomainPlan",
    "MultiOperatorApn",
    "Operator",
    "SegmentOffer",
    "coherent_formats",
    "link_nsr_gn",
    "plan_interdomain_lightpaths",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Transceiver OSNR in 0.1 nm, dB: GNPy's default ``tx_osnr`` of its example equipment
#: library (``eqpt_config.json``, Transceiver modes), used when none is given.
DEFAULT_TX_OSNR_01NM_DB: Final = 40.0
#: 0.1 nm at 1550 nm, Hz (OSNR reference bandwidth).
_REF_BW_HZ: Final = 12.5e9


def coherent_formats(
    ber_threshold: float = 3.8e-3, overhead: float = 0.2
) -> tuple[ModulationFormat, ...]:
    """Dual-polarisation QAM formats for coherent transceivers: spectral efficiency
    ``2 × bits per symbol / (1 + overhead)`` b/s/Hz per Hz of symbol rate, GSNR thresholds from
    :func:`~tsunagu.optical.rmsa.required_gsnr_db`.

    The default overhead 0.2 reproduces 400ZR (400 Gb/s net in DP-16QAM at ≈ 60 GBd,
    8 × 60 / 400 = 1.2; REFERENCES "Optical / APN"), which then needs 5 + 1 guard = 6 slot units
    (75 GHz).
    """
    return tuple(
        ModulationFormat(
            f"DP-{f.name}",
            2.0 * f.spectral_efficiency_bps_per_hz / (1.0 + overhead),
            f.max_reach_km,
            f.required_gsnr_db,
        )
        for f in qam_formats_for_ber(ber_threshold)
    )


# --------------------------------------------------------------------------- abstraction


@dataclass(frozen=True)
class SegmentOffer:
    """One candidate transparent segment through a domain, as its owner discloses it.

    Attributes
    ----------
    operator : str
    ingress, egress : str
        Node names at the segment's ends (border nodes or service endpoints).
    length_km : float
    nsr_linear : float
        Noise-to-signal ratio the segment adds (1/GSNR, linear): the QoT summary.
    free_mask : int
        Slot units free on every link of the segment when the offer was made (bit i: unit i).
    token : int
        Opaque handle to quote when reserving; means nothing outside the owner.
    """

    operator: str
    ingress: str
    egress: str
    length_km: float
    nsr_linear: float
    free_mask: int
    token: int

    @property
    def gsnr_db(self) -> float:
        """GSNR of the segment alone, dB."""
        return -10.0 * math.log10(self.nsr_linear) if self.nsr_linear > 0 else math.inf


@dataclass(frozen=True)
class DomainView:
    """What an operator publishes to its peers: plain data only.

    Attributes
    ----------
    operator : str
    border_nodes : tuple of str
        Interconnection points.
    endpoints : tuple of str
        Service endpoints the view covers (border nodes plus any published endpoint).
    n_slots : int
    offers : dict of (str, str) to tuple of SegmentOffer
        Candidate segments for each ordered pair of distinct endpoints, shortest first.
    """

    operator: str
    border_nodes: tuple[str, ...]
    endpoints: tuple[str, ...]
    n_slots: int
    offers: dict[tuple[str, str], tuple[SegmentOffer, ...]] = field(hash=False)


@dataclass
class InterconnectLink:
    """A fibre between border nodes of two operators; both sides see its spectrum."""

    node_a: str
    node_b: str
    operator_a: str
    operator_b: str
    length_km: float
    nsr_linear: float
    occupied: int = 0


class Operator:
    """One operator's domain controller: owns its topology, link QoT and spectrum.

    Nothing here is meant to be read by another operator: peers get :meth:`export_view`.
    """

    def __init__(
        self,
        name: str,
        node_name: Sequence[str],
        link_src: npt.ArrayLike,
        link_dst: npt.ArrayLike,
        link_length_km: npt.ArrayLike,
        link_nsr_linear: npt.ArrayLike,
        border_nodes: Sequence[str],
        *,
        n_slots: int = 384,
        k_segments: int = 3,
    ) -> None:
        names = [str(x) for x in node_name]
        if len(set(names)) != len(names):
            raise DataError(f"operator {name!r}: node names must be unique")
        self.name = name
        self._names = names
        self._index = {x: i for i, x in enumerate(names)}
        self._src = np.asarray(link_src, dtype=np.int64)
        self._dst = np.asarray(link_dst, dtype=np.int64)
        self._km = np.asarray(link_length_km, dtype=np.float64)
        self._nsr = np.asarray(link_nsr_linear, dtype=np.float64)
        if not (self._src.shape == self._dst.shape == self._km.shape == self._nsr.shape):
            raise DataError(f"operator {name!r}: link columns must have equal lengths")
        missing = [b for b in border_nodes if b not in self._index]
        if missing:
            raise DataError(f"operator {name!r}: border nodes {missing} are not its nodes")
        self._border = tuple(dict.fromkeys(str(b) for b in border_nodes))
        self._hop: dict[tuple[int, int], int] = {}
        for e in range(self._src.size):
            u, v = int(self._src[e]), int(self._dst[e])
            for key in ((u, v), (v, u)):
                if key not in self._hop or self._km[e] < self._km[self._hop[key]]:
                    self._hop[key] = e
        self._grid = SpectrumGrid(int(self._src.size), n_slots)
        # co-sited nodes: route 0 km links with 1 m so they stay edges
        self._router = KShortest(
            to_csr(len(names), self._src, self._dst, np.maximum(self._km, 1e-3))
        )
        self._k = k_segments
        self._paths: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        self._tokens: list[tuple[int, ...]] = []
        self._token_of: dict[tuple[int, ...], int] = {}

    @property
    def n_slots(self) -> int:
        return self._grid.n_slots

    @property
    def border_nodes(self) -> tuple[str, ...]:
        return self._border

    def has_node(self, node: str) -> bool:
        """Whether ``node`` is one of this operator's nodes (a yes/no, nothing more)."""
        return node in self._index

    def _segments(self, a: int, b: int) -> list[tuple[int, ...]]:
        key = (a, b)
        if key not in self._paths:
            nodes = [p.nodes.tolist() for p in self._router.paths(a, b, self._k)]
            self._paths[key] = [
                tuple(self._hop[(p[i], p[i + 1])] for i in range(len(p) - 1)) for p in nodes
            ]
        return self._paths[key]

    def _token(self, links: tuple[int, ...]) -> int:
        if links not in self._token_of:
            self._token_of[links] = len(self._tokens)
            self._tokens.append(links)
        return self._token_of[links]

    def offers(self, ingress: str, egress: str) -> tuple[SegmentOffer, ...]:
        """Candidate segments between two of this operator's nodes, shortest first."""
        for x in (ingress, egress):
            if x not in self._index:
                raise DataError(f"{x!r} is not a node of operator {self.name!r}")
        if ingress == egress:
            return (SegmentOffer(self.name, ingress, egress, 0.0, 0.0, self._grid.full, -1),)
        out = []
        for links in self._segments(self._index[ingress], self._index[egress]):
            ids = list(links)
            out.append(
                SegmentOffer(
                    operator=self.name,
                    ingress=ingress,
                    egress=egress,
                    length_km=float(self._km[ids].sum()),
                    nsr_linear=float(self._nsr[ids].sum()),
                    free_mask=self._grid.free_on_path(links),
                    token=self._token(links),
                )
            )
        return tuple(out)

    def export_view(
        self, endpoints: Sequence[str] = (), *, towards: str | None = None
    ) -> DomainView:
        """A snapshot of this domain for peers: border nodes, the endpoints asked for, and
        candidate segments between every ordered pair of them — or, with ``towards``, only the
        segments from each border node to that endpoint (a termination request)."""
        ends = tuple(dict.fromkeys([*self._border, *(str(e) for e in endpoints)]))
        if towards is not None:
            ends = tuple(dict.fromkeys([*ends, towards]))
            pairs = [(a, towards) for a in self._border if a != towards]
        else:
            pairs = [(a, b) for a in ends for b in ends if a != b]
        offers = {(a, b): self.offers(a, b) for a, b in pairs}
        return DomainView(self.name, self._border, ends, self.n_slots, offers)

    def reserve(self, token: int, first_slot: int, width: int) -> None:
        """Reserve a block on the segment behind ``token`` (raises if it is no longer free)."""
        if token == -1:
            return
        if not 0 <= token < len(self._tokens):
            raise DataError(f"operator {self.name!r} issued no segment token {token}")
        self._grid.allocate(self._tokens[token], first_slot, width)

    def release(self, token: int, first_slot: int, width: int) -> None:
        """Free a block reserved with :meth:`reserve`."""
        if token != -1:
            self._grid.release(self._tokens[token], first_slot, width)

    def route_of(self, token: int, ingress: str) -> tuple[str, ...]:
        """The owner's own disclosure of a reserved segment's node names (for its customer)."""
        if token == -1:
            return (ingress,)
        node = self._index[ingress]
        out = [ingress]
        for e in self._tokens[token]:
            node = int(self._dst[e]) if int(self._src[e]) == node else int(self._src[e])
            out.append(self._names[node])
        return tuple(out)

    def utilisation(self) -> float:
        """Share of (link, unit) cells in use."""
        return self._grid.utilisation()


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class _Chain:
    offers: tuple[SegmentOffer, ...]
    interconnects: tuple[int, ...]
    length_km: float
    nsr_linear: float
    free_mask: int


@dataclass(frozen=True)
class InterdomainPlan:
    """Per-demand result of :meth:`MultiOperatorApn.plan` (one entry per demand, in order).

    Attributes
    ----------
    src, dst : list of str
    reason : (M,) int
        Outcome code (:data:`~tsunagu.optical.rmsa.REASONS`): 0 served.
    path : list of tuple of str
        Node names from src to dst (each operator discloses its own segment); ``()`` if blocked.
    operators : list of tuple of str
        Operators traversed in order.
    first_slot, width_slots : (M,) int
        Slot block (units of 12.5 GHz from the band start); -1 / 0 if blocked.
    modulation : list of str
    gsnr_db, margin_db, length_km : (M,) float
        End-to-end GSNR, its margin over the format's requirement, and route length.
    """

    src: list[str]
    dst: list[str]
    reason: IntArray
    path: list[tuple[str, ...]]
    operators: list[tuple[str, ...]]
    first_slot: IntArray
    width_slots: IntArray
    modulation: list[str]
    gsnr_db: FloatArray
    margin_db: FloatArray
    length_km: FloatArray

    @property
    def reason_text(self) -> list[str]:
        return [REASONS[int(r)] for r in self.reason]

    def to_rows(self) -> list[dict[str, object]]:
        """One JSON-ready dict per demand."""
        return [
            {
                "src": self.src[i],
                "dst": self.dst[i],
                "status": REASONS[int(self.reason[i])],
                "path": list(self.path[i]),
                "operators": list(self.operators[i]),
                "first_slot": int(self.first_slot[i]),
                "width_slots": int(self.width_slots[i]),
                "modulation": self.modulation[i],
                "gsnr_db": float(self.gsnr_db[i]),
                "margin_db": float(self.margin_db[i]),
                "length_km": float(self.length_km[i]),
            }
            for i in range(len(self.src))
        ]


class MultiOperatorApn:
    """Operators and the interconnect links between them; plans end-to-end lightpaths.

    Planning for a demand is done *on behalf of the source operator*: it uses its own offers
    from the source node, and for every other operator only that operator's
    :class:`DomainView` (exported with the demand's destination as an endpoint). Reservations
    then go to each owner by segment token.
    """

    def __init__(
        self,
        operators: Sequence[Operator],
        interconnects: Sequence[InterconnectLink],
        *,
        formats: Sequence[ModulationFormat] | None = None,
        guard_slots: int = 1,
        margin_db: float = 1.0,
        tx_osnr_01nm_db: float = DEFAULT_TX_OSNR_01NM_DB,
        baud_rate_hz: float = 60e9,
        k_paths: int = 5,
        max_domains: int = 3,
    ) -> None:
        self._ops = {op.name: op for op in operators}
        if len(self._ops) != len(operators):
            raise DataError("operator names must be unique")
        slots = {op.n_slots for op in operators}
        if len(slots) != 1:
            raise DataError(f"all operators must share one slot grid, got n_slots {slots}")
        self.n_slots = slots.pop()
        self.full = (1 << self.n_slots) - 1
        for ix in interconnects:
            for node, op in ((ix.node_a, ix.operator_a), (ix.node_b, ix.operator_b)):
                if op not in self._ops or not self._ops[op].has_node(node):
                    raise DataError(f"interconnect end {node!r} is not a node of operator {op!r}")
        self.interconnects = list(interconnects)
        self.formats = tuple(formats) if formats is not None else coherent_formats()
        self.guard_slots = guard_slots
        self.margin_db = margin_db
        self.tx_nsr = (10.0 ** (-tx_osnr_01nm_db / 10.0)) * baud_rate_hz / _REF_BW_HZ
        self.k_paths = k_paths
        self.max_domains = max_domains

    @property
    def operator_names(self) -> tuple[str, ...]:
        return tuple(self._ops)

    def operator_of(self, node: str) -> str:
        """The operator that owns ``node``."""
        for name, op in self._ops.items():
            if op.has_node(node):
                return name
        raise DataError(f"no operator owns node {node!r}; pass a backbone node name")

    def _domain_sequences(self, first: str, last: str) -> list[tuple[str, ...]]:
        adj: dict[str, set[str]] = {n: set() for n in self._ops}
        for ix in self.interconnects:
            adj[ix.operator_a].add(ix.operator_b)
            adj[ix.operator_b].add(ix.operator_a)
        out: list[tuple[str, ...]] = []

        def walk(seq: tuple[str, ...]) -> None:
            if seq[-1] == last:
                out.append(seq)
                return
            if len(seq) >= self.max_domains:
                return
            for nxt in sorted(adj[seq[-1]]):
                if nxt not in seq:
                    walk((*seq, nxt))

        walk((first,))
        return out

    def _chains(self, src: str, dst: str) -> list[_Chain]:
        src_op, dst_op = self.operator_of(src), self.operator_of(dst)
        views: dict[str, DomainView] = {}

        def offers(op: str, a: str, b: str) -> tuple[SegmentOffer, ...]:
            if a == b:
                return (SegmentOffer(op, a, b, 0.0, 0.0, self.full, -1),)
            if op == src_op:
                return self._ops[op].offers(a, b)  # the planner's own domain
            if op not in views:
                peer = self._ops[op]
                views[op] = peer.export_view(towards=dst) if op == dst_op else peer.export_view()
            return views[op].offers.get((a, b), ())

        chains: list[_Chain] = []
        for seq in self._domain_sequences(src_op, dst_op):
            # partial: (node where we are, offers so far, interconnects so far)
            partial: list[tuple[str, tuple[SegmentOffer, ...], tuple[int, ...]]] = [(src, (), ())]
            for d, op in enumerate(seq):
                nxt_op = seq[d + 1] if d + 1 < len(seq) else None
                grown: list[tuple[str, tuple[SegmentOffer, ...], tuple[int, ...]]] = []
                for node, offs, ixs in partial:
                    if nxt_op is None:
                        for o in offers(op, node, dst):
                            grown.append((dst, (*offs, o), ixs))
                        continue
                    for j, ix in enumerate(self.interconnects):
                        if {ix.operator_a, ix.operator_b} != {op, nxt_op}:
                            continue
                        here, there = (
                            (ix.node_a, ix.node_b)
                            if ix.operator_a == op
                            else (ix.node_b, ix.node_a)
                        )
                        for o in offers(op, node, here):
                            grown.append((there, (*offs, o), (*ixs, j)))
                partial = grown
            for _, offs, ixs in partial:
                free = self.full
                for o in offs:
                    free &= o.free_mask
                for j in ixs:
                    free &= self.full & ~self.interconnects[j].occupied
                chains.append(
                    _Chain(
                        offers=offs,
                        interconnects=ixs,
                        length_km=sum(o.length_km for o in offs)
                        + sum(self.interconnects[j].length_km for j in ixs),
                        nsr_linear=sum(o.nsr_linear for o in offs)
                        + sum(self.interconnects[j].nsr_linear for j in ixs)
                        + self.tx_nsr,
                        free_mask=free,
                    )
                )
        chains.sort(key=lambda c: (c.length_km, len(c.offers) + len(c.interconnects)))
        return chains[: self.k_paths]

    def plan(
        self,
        src: Sequence[str],
        dst: Sequence[str],
        bit_rate_bps: npt.ArrayLike,
        policy: SpectrumPolicy | str = "ksp-ff",
        *,
        rng: np.random.Generator | None = None,
    ) -> InterdomainPlan:
        """Route, choose a format for and assign spectrum to each demand, in order; served
        demands keep their spectrum (reserved in every domain and interconnect traversed)."""
        pol = get_spectrum_policy(policy) if isinstance(policy, str) else policy
        gen = rng if rng is not None else np.random.default_rng(0)
        rate = np.atleast_1d(np.asarray(bit_rate_bps, dtype=np.float64))
        if not len(src) == len(dst) == rate.size:
            raise DataError("src, dst and bit_rate_bps must have the same length")
        m = rate.size
        need = np.array([f.required_gsnr_db for f in self.formats]) + self.margin_db
        se = np.array([f.spectral_efficiency_bps_per_hz for f in self.formats])
        reach = np.array([f.max_reach_km for f in self.formats])
        out_reason = np.zeros(m, dtype=np.int64)
        out_first = np.full(m, -1, dtype=np.int64)
        out_width = np.zeros(m, dtype=np.int64)
        out_gsnr = np.full(m, np.nan)
        out_margin = np.full(m, np.nan)
        out_len = np.full(m, np.nan)
        out_path: list[tuple[str, ...]] = [()] * m
        out_ops: list[tuple[str, ...]] = [()] * m
        out_mod = [""] * m
        for i in range(m):
            s, d = str(src[i]), str(dst[i])
            if s == d:
                out_reason[i] = NO_PATH
                continue
            chains = self._chains(s, d)
            if not chains:
                out_reason[i] = NO_PATH
                continue
            gsnr = np.array([-10.0 * math.log10(c.nsr_linear) for c in chains])
            length = np.array([c.length_km for c in chains])
            ok = (gsnr[:, None] >= need[None, :]) & (length[:, None] <= reach[None, :])
            score = np.where(ok, se[None, :], -np.inf)
            best = np.argmax(score, axis=1)
            usable = np.isfinite(score[np.arange(len(chains)), best])
            widths = np.where(
                usable,
                slots_required(rate[i], np.where(usable, se[best], np.nan), self.guard_slots),
                0,
            )
            if not usable.any():
                out_reason[i] = NO_MODULATION
                continue
            # The chains as a one-link-each pseudo grid, so any spectrum policy applies.
            grid = SpectrumGrid(
                len(chains), self.n_slots, [self.full & ~c.free_mask for c in chains]
            )
            pick = pol.choose(grid, [(j,) for j in range(len(chains))], widths.tolist(), gen)
            if pick is None:
                out_reason[i] = NO_SPECTRUM
                continue
            j, first = pick
            chain, w = chains[j], int(widths[j])
            for o in chain.offers:
                self._ops[o.operator].reserve(o.token, first, w)
            mask = block_mask(first, w)
            for x in chain.interconnects:
                if self.interconnects[x].occupied & mask:
                    raise InfeasibleError("interconnect spectrum changed during planning")
                self.interconnects[x].occupied |= mask
            route: list[str] = []
            ops: list[str] = []
            for o in chain.offers:
                seg = self._ops[o.operator].route_of(o.token, o.ingress)
                route.extend(seg)
                if not ops or ops[-1] != o.operator:
                    ops.append(o.operator)
            out_first[i], out_width[i] = first, w
            out_gsnr[i] = gsnr[j]
            out_margin[i] = gsnr[j] - (need[best[j]] - self.margin_db)
            out_len[i] = chain.length_km
            out_path[i] = tuple(route)
            out_ops[i] = tuple(ops)
            out_mod[i] = self.formats[int(best[j])].name
        return InterdomainPlan(
            src=[str(x) for x in src],
            dst=[str(x) for x in dst],
            reason=out_reason,
            path=out_path,
            operators=out_ops,
            first_slot=out_first,
            width_slots=out_width,
            modulation=out_mod,
            gsnr_db=out_gsnr,
            margin_db=out_margin,
            length_km=out_len,
        )

    @classmethod
    def from_backbone(
        cls,
        backbone: Backbone,
        *,
        n_slots: int = 384,
        k_segments: int = 3,
        span_length_km: float = 80.0,
        **kwargs: object,
    ) -> MultiOperatorApn:
        """Operators and interconnects of the twin's :class:`~tsunagu.optical.domain.Backbone`:
        nodes grouped by ``node_operator``, links of kind ``"backbone"`` inside their operator,
        links of kind ``"interconnect"`` between border nodes; link NSR by :func:`link_nsr_gn`."""
        names = np.asarray(backbone.node_name).astype(str)
        node_op = np.asarray(backbone.node_operator).astype(str)
        kind = np.asarray(backbone.link_kind).astype(str)
        km = np.asarray(backbone.length_m, dtype=np.float64) / 1e3
        nsr = link_nsr_gn(km, span_length_km=span_length_km)
        src, dst = np.asarray(backbone.src), np.asarray(backbone.dst)
        is_ix = kind == "interconnect"
        border = set(names[src[is_ix]]) | set(names[dst[is_ix]])
        operators = []
        for op in dict.fromkeys(node_op.tolist()):
            members = np.flatnonzero(node_op == op)
            local = -np.ones(names.size, dtype=np.int64)
            local[members] = np.arange(members.size)
            inside = ~is_ix & (node_op[src] == op) & (node_op[dst] == op)
            operators.append(
                Operator(
                    op,
                    names[members].tolist(),
                    local[src[inside]],
                    local[dst[inside]],
                    km[inside],
                    nsr[inside],
                    [n for n in names[members] if n in border],
                    n_slots=n_slots,
                    k_segments=k_segments,
                )
            )
        ix_links = [
            InterconnectLink(
                str(names[src[e]]),
                str(names[dst[e]]),
                str(node_op[src[e]]),
                str(node_op[dst[e]]),
                float(km[e]),
                float(nsr[e]),
            )
            for e in np.flatnonzero(is_ix)
        ]
        return cls(operators, ix_links, **kwargs)  # type: ignore[arg-type]


def plan_interdomain_lightpaths(
    backbone: Backbone,
    src: Sequence[str],
    dst: Sequence[str],
    bit_rate_bps: npt.ArrayLike,
    *,
    policy: SpectrumPolicy | str = "ksp-ff",
    n_slots: int = 384,
    margin_db: float = 1.0,
) -> InterdomainPlan:
    """Plan transparent lightpaths for demands between backbone nodes of any operators.

    Parameters
    ----------
    backbone : Backbone
        The twin's optical backbone (``Twin.backbone``).
    src, dst : sequence of str
        Backbone node names (``"<operator>:<city>"``), e.g. the home ROADMs of two DCs.
    bit_rate_bps : array_like
        One bit rate per demand (e.g. 400e9).
    policy : str or SpectrumPolicy, default "ksp-ff"
    n_slots : int, default 384
        12.5 GHz units of a 4.8 THz C band.
    margin_db : float, default 1.0
        GSNR margin required over the format threshold.

    Returns
    -------
    InterdomainPlan
        Per demand: path (node names), operators traversed, first slot and width, format, GSNR,
        margin, length, and the reason when blocked.
    """
    apn = MultiOperatorApn.from_backbone(backbone, n_slots=n_slots, margin_db=margin_db)
    return apn.plan(src, dst, bit_rate_bps, policy)
