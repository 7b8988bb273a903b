"""Routing, modulation and spectrum assignment (RMSA) on a flexgrid network, static and dynamic.

Three layers, as elsewhere in tsunagu:

* model functions: :func:`required_gsnr_db` (pre-FEC BER of Gray-coded QAM on an AWGN
  channel) and the modulation tables;
* :class:`RmsaNetwork`: a topology with its ``k`` shortest candidate paths per ordered node
  pair (Yen, by length), each path's length, hops and usable modulation format (by reach, or by
  GSNR through a callable so any QoT model can be plugged in);
* :func:`simulate_dynamic` (Poisson arrivals, exponential holding, warm-up, batch-means
  confidence interval) and :func:`assign_static` (a list of demands, in order), both driving a
  :class:`SpectrumPolicy` over a :class:`~tsunagu.optical.spectrum.SpectrumGrid`.

Spectrum policies share one interface (:class:`SpectrumPolicy`) and a registry
(:func:`register_spectrum_policy`, :func:`get_spectrum_policy`), so a user's policy runs on the
same networks, traffic and statistics as the built-in ones. A policy is given the grid, the
candidate paths (link-id tuples, shortest first) and the slot units each needs (``0`` where no
format can reach), and returns ``(path index, first unit)`` or ``None``.

Every request that is not served carries its reason: :data:`NO_PATH` (no route between the
nodes), :data:`NO_MODULATION` (no format with enough reach or GSNR on any candidate path) or
:data:`NO_SPECTRUM` (no contiguous, continuous free block on any candidate path).
"""

from __future__ import annotations

import abc
import csv
import functools
import heapq
import importlib.resources
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from tsunagu.errors import DataError, ScenarioError
from tsunagu.net.graph import to_csr
from tsunagu.net.paths import KShortest
from tsunagu.optical.qot import lightpath_qot
from tsunagu.optical.spectrum import (
    SpectrumGrid,
    block_mask,
    fit_starts,
    slots_required,
)
from tsunagu.optical.topology import Topology, load_topology
from tsunagu.optical.traffic import Requests, batch_means_ci

__all__ = [
    "DEEPRMSA_FORMATS",
    "NO_MODULATION",
    "NO_PATH",
    "NO_SPECTRUM",
    "REASONS",
    "SERVED",
    "DynamicResult",
    "ModulationFormat",
    "RmsaNetwork",
    "SpectrumPolicy",
    "StaticResult",
    "assign_static",
    "build_rmsa_network",
    "get_spectrum_policy",
    "gn_gsnr_db",
    "link_nsr_gn",
    "load_nsfnet",
    "qam_formats_for_ber",
    "register_spectrum_policy",
    "registered_spectrum_policies",
    "required_gsnr_db",
    "resolve_topology",
    "simulate_dynamic",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Reason codes of a request's outcome (index into :data:`REASONS`).
SERVED: Final = 0
NO_PATH: Final = 1
NO_MODULATION: Final = 2
NO_SPECTRUM: Final = 3
REASONS: Final = ("served", "no path", "no mode with enough reach/GSNR", "no spectrum")


# --------------------------------------------------------------------------- modulation


@dataclass(frozen=True)
class ModulationFormat:
    """A transmission format usable on a path.

    Attributes
    ----------
    name : str
    spectral_efficiency_bps_per_hz : float
        Net bit rate per Hz of occupied spectrum (sizes the slot count).
    max_reach_km : float
        Longest path the format is allowed on (``inf``: no limit).
    required_gsnr_db : float
        Lowest GSNR the format needs (``-inf``: not checked).
    """

    name: str
    spectral_efficiency_bps_per_hz: float
    max_reach_km: float = math.inf
    required_gsnr_db: float = -math.inf


#: The distance-adaptive table of the DeepRMSA setting (Chen et al., J. Lightwave Technol.
#: 37(16), 2019, §IV; the authors' ``cal_FS``): 16QAM <= 625 km, 8QAM <= 1250 km,
#: QPSK <= 2500 km, BPSK beyond; spectral efficiency = bits per symbol (b/s/Hz per 12.5 GHz).
DEEPRMSA_FORMATS: Final = (
    ModulationFormat("BPSK", 1.0, math.inf),
    ModulationFormat("QPSK", 2.0, 2500.0),
    ModulationFormat("8QAM", 3.0, 1250.0),
    ModulationFormat("16QAM", 4.0, 625.0),
)


def _qam_ber(snr_linear: float, bits_per_symbol: int) -> float:
    """Pre-FEC bit-error ratio of Gray-coded M-QAM at symbol SNR ``snr_linear`` (AWGN).

    BPSK: ``Q(√(2·SNR))``; M-QAM (M = 2^b >= 4): ``(4/b)(1 − 1/√M) Q(√(3·SNR/(M−1)))``, the
    nearest-neighbour approximation for square constellations (Proakis & Salehi, Digital
    Communications, 5th ed., eqs. 4.3-30 and 4.3-33), also used here for 8QAM (b = 3), where it
    is an approximation of the rectangular 8-point constellation.
    """
    if bits_per_symbol == 1:
        return float(0.5 * special.erfc(math.sqrt(snr_linear)))
    m = 2.0**bits_per_symbol
    arg = math.sqrt(3.0 * snr_linear / (m - 1.0))
    q = 0.5 * special.erfc(arg / math.sqrt(2.0))
    return float(4.0 / bits_per_symbol * (1.0 - 1.0 / math.sqrt(m)) * q)


def required_gsnr_db(bits_per_symbol: int, ber_threshold: float) -> float:
    """GSNR (= symbol SNR for a Nyquist channel, signal bandwidth = symbol rate) at which
    Gray-coded QAM with ``bits_per_symbol`` reaches the pre-FEC ``ber_threshold``, dB.

    Examples
    --------
    >>> round(required_gsnr_db(2, 1e-3), 2)  # QPSK: Eb/N0 6.79 dB + 3.01 dB
    9.8
    """
    if not isinstance(bits_per_symbol, int) or not 1 <= bits_per_symbol <= 12:
        raise DataError(f"bits_per_symbol must be an integer 1..12, got {bits_per_symbol!r}")
    if not 0.0 < ber_threshold < 0.5:
        raise DataError(f"ber_threshold must lie in (0, 0.5), got {ber_threshold}")

    def excess(snr_db: float) -> float:
        return _qam_ber(10.0 ** (snr_db / 10.0), bits_per_symbol) - ber_threshold

    lo_db, hi_db = -20.0, 60.0
    if excess(lo_db) < 0.0:
        # The BER at -20 dB SNR is already below the threshold (and the nearest-neighbour
        # approximation of dense QAM never exceeds (2/b)(1 - 1/sqrt(M))): no SNR in range.
        raise DataError(
            f"ber_threshold {ber_threshold:g} is above the BER of {bits_per_symbol}-bit QAM at "
            f"{lo_db:g} dB SNR ({excess(lo_db) + ber_threshold:.3g}); pass a pre-FEC threshold "
            "such as 3.8e-3"
        )
    if excess(hi_db) > 0.0:
        raise DataError(
            f"ber_threshold {ber_threshold:g} is below the BER of {bits_per_symbol}-bit QAM at "
            f"{hi_db:g} dB SNR ({excess(hi_db) + ber_threshold:.3g}); no transceiver reaches it"
        )
    return float(optimize.brentq(excess, lo_db, hi_db, xtol=1e-9))


def qam_formats_for_ber(
    ber_threshold: float = 3.8e-3, bits: Sequence[int] = (1, 2, 3, 4, 6)
) -> tuple[ModulationFormat, ...]:
    """QoT-aware formats: BPSK, QPSK, 8QAM, 16QAM, 64QAM with the GSNR each needs for
    ``ber_threshold`` (default: 3.8e-3, the 7 % overhead hard-decision FEC limit), no reach
    limit. Spectral efficiency is bits per symbol (one polarisation per 12.5 GHz of symbol
    rate, as in the DeepRMSA table)."""
    names = {1: "BPSK", 2: "QPSK", 3: "8QAM", 4: "16QAM", 5: "32QAM", 6: "64QAM"}
    return tuple(
        ModulationFormat(
            names.get(b, f"{2**b}QAM"), float(b), math.inf, required_gsnr_db(b, ber_threshold)
        )
        for b in bits
    )


def link_nsr_gn(
    length_km: npt.ArrayLike,
    *,
    span_length_km: float = 80.0,
    baud_rate_hz: float = 60e9,
    spacing_hz: float = 75e9,
    channel_count: int = 64,
    launch_power_dbm: float = 0.0,
    amp_noise_figure_db: float = 5.5,
    loss_db_per_km: float = 0.2,
    roadm_osnr_01nm_db: float = 38.0,
) -> FloatArray:
    """Noise-to-signal ratio (1/GSNR, linear, in the signal bandwidth) that each fibre link adds
    to the centre channel of a full C-band comb.

    Each link of length ``L`` is cut into ``ceil(L / span)`` equal amplified spans and ends in
    one ROADM stage; ASE and NLI come from :func:`tsunagu.optical.qot.lightpath_qot` (closed-form
    incoherent GN model). Defaults: 400ZR-like 60 GBd channels on a 75 GHz grid filling 4.8 THz
    (REFERENCES "Optical / APN"), 0 dBm per channel, SSMF 0.2 dB/km, noise figure and ROADM OSNR
    as in :func:`~tsunagu.optical.qot.lightpath_qot`.
    """
    length = np.atleast_1d(np.asarray(length_km, dtype=np.float64))
    if np.any(~np.isfinite(length)) or np.any(length < 0):
        raise DataError("link lengths must be finite and >= 0 km")
    n_span = np.maximum(np.ceil(length / span_length_km), 1).astype(np.int64)
    width = int(n_span.max(initial=1))
    spans = np.where(np.arange(width)[None, :] < n_span[:, None], (length / n_span)[:, None], 0.0)
    # Zero-length links (co-sited interconnects) still pass one ROADM stage.
    spans[:, 0] = np.maximum(spans[:, 0], 1e-3)
    f_min = 193.1e12 - (channel_count - 1) * spacing_hz / 2.0
    res = lightpath_qot(
        spans,
        baud_rate_hz=baud_rate_hz,
        span_loss_db_per_km=loss_db_per_km,
        launch_power_dbm=launch_power_dbm,
        amp_noise_figure_db=amp_noise_figure_db,
        roadm_count=1,
        roadm_osnr_01nm_db=roadm_osnr_01nm_db,
        tx_osnr_01nm_db=math.inf,
        spacing_hz=spacing_hz,
        channel_count=channel_count,
        f_min_hz=f_min,
    )
    centre = channel_count // 2
    return np.asarray(10.0 ** (-res.gsnr_db[:, centre] / 10.0), dtype=np.float64)


def gn_gsnr_db(
    topology: Topology,
    *,
    tx_osnr_01nm_db: float = 40.0,
    baud_rate_hz: float = 60e9,
    span_length_km: float = 80.0,
) -> Callable[[Sequence[IntArray], FloatArray], FloatArray]:
    """A QoT hook for :func:`build_rmsa_network`: path GSNR (dB, signal bandwidth) from the GN
    model, ``1/GSNR = Σ_links NSR + 1/OSNR_tx`` with each link's NSR from :func:`link_nsr_gn`
    (computed once for all links). ``tx_osnr_01nm_db`` defaults to GNPy's example transceiver
    ``tx_osnr`` (40 dB in 0.1 nm)."""
    nsr = link_nsr_gn(topology.length_km, span_length_km=span_length_km, baud_rate_hz=baud_rate_hz)
    tx = 10.0 ** (-tx_osnr_01nm_db / 10.0) * baud_rate_hz / 12.5e9

    def gsnr(paths: Sequence[IntArray], length_km: FloatArray) -> FloatArray:
        total = np.array([float(nsr[p].sum()) for p in paths]) + tx
        return np.asarray(-10.0 * np.log10(total), dtype=np.float64)

    return gsnr


# --------------------------------------------------------------------------- network


@functools.lru_cache(maxsize=1)
def load_nsfnet() -> Topology:
    """The NSFNET 14-node, 22-link topology of the DeepRMSA setting (``data/nsfnet.csv``).

    Nodes are named ``"1" .. "14"`` as in the source; no coordinates are published with it, so
    latitude and longitude are NaN.
    """
    text = importlib.resources.files("tsunagu.data").joinpath("nsfnet.csv").read_text("utf-8")
    body = "".join(ln for ln in text.splitlines(True) if not ln.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body)))
    a = np.array([int(r["a"]) for r in rows], dtype=np.int64)
    b = np.array([int(r["b"]) for r in rows], dtype=np.int64)
    n = int(max(a.max(), b.max()))
    return Topology(
        name="nsfnet",
        node_name=np.array([str(i) for i in range(1, n + 1)]),
        lat_deg=np.full(n, np.nan),
        lon_deg=np.full(n, np.nan),
        src=a - 1,
        dst=b - 1,
        length_km=np.array([float(r["length_km"]) for r in rows]),
    )


_MAX_TOPOLOGY_BYTES = 50_000_000


def _load_topology_file(path: str) -> Topology:
    """A user topology CSV: header ``a,b,length_km`` (node names), ``#`` comments allowed."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_TOPOLOGY_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read topology file {path!r}: {exc.strerror}") from None
    except ValueError:  # a NUL byte in the path
        raise DataError(
            f"topology file name {path!r} contains a NUL byte; pass a real path"
        ) from None
    if len(raw) > _MAX_TOPOLOGY_BYTES:
        raise DataError(
            f"{path}: larger than {_MAX_TOPOLOGY_BYTES // 1_000_000} MB; a topology CSV has one "
            "short row per link. Fix: check that this is the right file"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}:{line}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "Fix: save it as UTF-8 CSV"
        ) from None
    if "\x00" in text:
        raise DataError(f"{path}: the file contains NUL bytes; Fix: save it as plain UTF-8 CSV")
    body = "".join(ln for ln in text.splitlines(True) if not ln.lstrip().startswith("#"))
    reader = csv.DictReader(io.StringIO(body))
    need = {"a", "b", "length_km"}
    try:
        fieldnames = reader.fieldnames
        rows = list(reader)
    except csv.Error as exc:
        raise DataError(
            f"{path}: not a readable CSV file ({exc}); Fix: one row a,b,length_km per link"
        ) from None
    if fieldnames is None or not need <= set(fieldnames):
        raise DataError(
            f"{path}: the header must name the columns a,b,length_km (got {fieldnames})"
        )
    names: dict[str, int] = {}
    src: list[int] = []
    dst: list[int] = []
    length: list[float] = []
    for line_no, row in enumerate(rows, start=2):
        try:
            km = float(row["length_km"])
        except (TypeError, ValueError):
            raise DataError(
                f"{path}: row {line_no}: length_km {row['length_km']!r} is not a number"
            ) from None
        if not (np.isfinite(km) and km > 0):
            raise DataError(f"{path}: row {line_no}: length_km must be > 0, got {km}")
        a, b = str(row["a"] or "").strip(), str(row["b"] or "").strip()
        if not a or not b or a == b:
            raise DataError(f"{path}: row {line_no}: a link needs two different node names")
        src.append(names.setdefault(a, len(names)))
        dst.append(names.setdefault(b, len(names)))
        length.append(km)
    if not src:
        raise DataError(f"{path}: no links found; give one row per link: a,b,length_km")
    n = len(names)
    return Topology(
        name=path,
        node_name=np.array(list(names)),
        lat_deg=np.full(n, np.nan),
        lon_deg=np.full(n, np.nan),
        src=np.array(src, dtype=np.int64),
        dst=np.array(dst, dtype=np.int64),
        length_km=np.array(length),
    )


def resolve_topology(spec: str) -> Topology:
    """``nsfnet``, ``jpn12``, ``sinet`` (topohub ``topozoo/Sinet``), ``topohub:<key>`` or a CSV
    path with header ``a,b,length_km``."""
    if spec == "nsfnet":
        return load_nsfnet()
    if spec == "sinet":
        return load_topology("topohub:topozoo/Sinet")
    if spec == "jpn12" or spec.startswith("topohub:"):
        return load_topology(spec)
    if spec.endswith(".csv"):
        return _load_topology_file(spec)
    raise DataError(
        f"unknown topology {spec!r}; pass nsfnet, jpn12, sinet, topohub:<group>/<name> or a "
        "CSV file with columns a,b,length_km"
    )


@dataclass(frozen=True)
class RmsaNetwork:
    """A flexgrid network ready for RMSA: links, slot units and candidate paths.

    Attributes
    ----------
    node_name : (N,) str
    link_src, link_dst : (L,) int
        Spectrum-carrying links. With ``directed`` each fibre pair is two links (one per
        direction, each with its own spectrum, as in DeepRMSA); otherwise one shared link.
    link_length_km : (L,) float
    directed : bool
    n_slots : int
    k : int
    path_links : list of list of tuple of int
        ``path_links[s * N + d][i]``: link ids of the ``i``-th shortest path from s to d.
    path_nodes : list of list of tuple of int
    path_length_km : (N*N, k) float
        NaN where a pair has fewer than ``k`` paths.
    path_format : (N*N, k) int
        Index into ``formats`` of the most efficient usable format; -1 where none.
    path_gsnr_db : (N*N, k) float
        GSNR the QoT callable gave (NaN without one).
    formats : tuple of ModulationFormat
    guard_slots : int
    """

    node_name: npt.NDArray[np.str_]
    link_src: IntArray
    link_dst: IntArray
    link_length_km: FloatArray
    directed: bool
    n_slots: int
    k: int
    path_links: list[list[tuple[int, ...]]]
    path_nodes: list[list[tuple[int, ...]]]
    path_length_km: FloatArray
    path_format: IntArray
    path_gsnr_db: FloatArray
    formats: tuple[ModulationFormat, ...]
    guard_slots: int

    @property
    def n_nodes(self) -> int:
        return int(self.node_name.size)

    @property
    def n_links(self) -> int:
        return int(self.link_src.size)

    def spectral_efficiency(self) -> FloatArray:
        """(N*N, k) spectral efficiency of each candidate path's format (NaN: none usable)."""
        se = np.array([f.spectral_efficiency_bps_per_hz for f in self.formats] + [np.nan])
        return np.asarray(se[self.path_format], dtype=np.float64)

    def slots_for(
        self, src: npt.ArrayLike, dst: npt.ArrayLike, bit_rate_bps: npt.ArrayLike
    ) -> IntArray:
        """(M, k) slot units each demand needs on each candidate path (0: path unusable)."""
        pair = np.asarray(src, dtype=np.int64) * self.n_nodes + np.asarray(dst, dtype=np.int64)
        se = self.spectral_efficiency()[pair]
        rate = np.asarray(bit_rate_bps, dtype=np.float64)[:, None]
        return slots_required(rate, se, guard_slots=self.guard_slots)


GsnrFunction = Callable[[Sequence[IntArray], FloatArray], FloatArray]


def build_rmsa_network(
    topology: Topology,
    *,
    k: int = 5,
    n_slots: int = 100,
    directed: bool = True,
    formats: Sequence[ModulationFormat] = DEEPRMSA_FORMATS,
    guard_slots: int = 1,
    gsnr_db: GsnrFunction | None = None,
    gsnr_margin_db: float = 0.0,
) -> RmsaNetwork:
    """Candidate paths and formats of every ordered node pair.

    Parameters
    ----------
    topology : Topology
        Undirected links with ``length_km``.
    k : int, default 5
        Candidate paths per pair: Yen's k shortest loopless paths by length.
    n_slots : int, default 100
        Slot units per link (100 in the DeepRMSA setting; 384 fills a 4.8 THz C band).
    directed : bool, default True
        One spectrum per fibre direction (DeepRMSA) or one shared by both directions.
    formats : sequence of ModulationFormat, default :data:`DEEPRMSA_FORMATS`
    guard_slots : int, default 1
    gsnr_db : callable, optional
        QoT hook: ``gsnr_db(paths_links, paths_length_km) -> (P,) GSNR dB``, called once with
        every candidate path as an array of *undirected* topology link ids (rows of
        ``topology``) and its length. A path may use a format only if its GSNR is at least the
        format's ``required_gsnr_db + gsnr_margin_db`` (and its length within the reach).
    gsnr_margin_db : float, default 0

    Returns
    -------
    RmsaNetwork

    Raises
    ------
    DataError
        On bad sizes, non-positive link lengths or a GSNR callable returning the wrong shape.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise DataError(f"k must be an integer >= 1, got {k!r}")
    if n_slots < 1 or guard_slots < 0:
        raise DataError(f"need n_slots >= 1 and guard_slots >= 0, got {n_slots}, {guard_slots}")
    if not formats:
        raise DataError("formats is empty; pass at least one ModulationFormat")
    n = topology.n_nodes
    src, dst, km = topology.src, topology.dst, topology.length_km
    if np.any(~np.isfinite(km)) or np.any(km < 0):
        raise DataError("every link needs a finite length_km >= 0")
    # Co-sited nodes (length 0, as in some Topology Zoo graphs) route with 1 m so that sparse
    # graph routines keep the edge; reported lengths stay the real ones.
    km_route = np.maximum(km, 1e-3)
    # Directed link ids: 2e for src->dst, 2e+1 for dst->src; undirected: e.
    hop: dict[tuple[int, int], tuple[int, int]] = {}
    for e in range(topology.n_links):
        u, v = int(src[e]), int(dst[e])
        if (u, v) not in hop or km[e] < km[hop[(u, v)][1]]:
            hop[(u, v)] = (2 * e if directed else e, e)
            hop[(v, u)] = (2 * e + 1 if directed else e, e)
    if directed:
        l_src = np.ravel(np.column_stack([src, dst]))
        l_dst = np.ravel(np.column_stack([dst, src]))
        l_km = np.repeat(km, 2)
    else:
        l_src, l_dst, l_km = src.copy(), dst.copy(), km.copy()

    path_links: list[list[tuple[int, ...]]] = [[] for _ in range(n * n)]
    path_nodes: list[list[tuple[int, ...]]] = [[] for _ in range(n * n)]
    path_edges: list[IntArray] = []
    where: list[tuple[int, int]] = []
    length = np.full((n * n, k), np.nan)
    router = KShortest(to_csr(n, src, dst, km_route))
    for s in range(n):
        for t in range(n):
            if s == t:
                continue
            for i, found in enumerate(router.paths(s, t, k)):
                nodes = found.nodes.tolist()
                ids = [hop[(nodes[h], nodes[h + 1])] for h in range(len(nodes) - 1)]
                path_links[s * n + t].append(tuple(x[0] for x in ids))
                path_nodes[s * n + t].append(tuple(nodes))
                edges = np.array([x[1] for x in ids], dtype=np.int64)
                path_edges.append(edges)
                where.append((s * n + t, i))
                length[s * n + t, i] = float(km[edges].sum())

    gsnr = np.full((n * n, k), np.nan)
    if gsnr_db is not None and where:
        rows = np.array([w[0] for w in where])
        cols = np.array([w[1] for w in where])
        values = np.asarray(gsnr_db(path_edges, length[rows, cols]), dtype=np.float64)
        if values.shape != (len(where),):
            raise DataError(
                f"gsnr_db returned shape {values.shape}; it must return one GSNR (dB) per "
                f"path, shape ({len(where)},)"
            )
        gsnr[rows, cols] = values

    # Most efficient usable format per path: reach (and GSNR when given) must allow it.
    se = np.array([f.spectral_efficiency_bps_per_hz for f in formats])
    reach = np.array([f.max_reach_km for f in formats])
    need = np.array([f.required_gsnr_db for f in formats]) + gsnr_margin_db
    ok = length[:, :, None] <= reach[None, None, :]
    if gsnr_db is not None:
        ok &= gsnr[:, :, None] >= need[None, None, :]
    score = np.where(ok, se[None, None, :], -np.inf)
    best = np.argmax(score, axis=2)
    usable = np.isfinite(np.take_along_axis(score, best[:, :, None], axis=2)[:, :, 0])
    path_format = np.where(usable, best, -1).astype(np.int64)
    return RmsaNetwork(
        node_name=topology.node_name,
        link_src=l_src.astype(np.int64),
        link_dst=l_dst.astype(np.int64),
        link_length_km=l_km.astype(np.float64),
        directed=directed,
        n_slots=int(n_slots),
        k=k,
        path_links=path_links,
        path_nodes=path_nodes,
        path_length_km=length,
        path_format=path_format,
        path_gsnr_db=gsnr,
        formats=tuple(formats),
        guard_slots=int(guard_slots),
    )


# --------------------------------------------------------------------------- policies


class SpectrumPolicy(Protocol):
    """Chooses a candidate path and a first slot unit for one request.

    ``paths[i]`` are the link ids of the ``i``-th shortest candidate path; ``widths[i]`` the
    slot units the request needs on it (``0``: no format can serve it there). Return
    ``(i, first_unit)`` with the block free on every link of ``paths[i]`` (check with
    ``grid.free_on_path`` / :func:`~tsunagu.optical.spectrum.fit_starts`), or ``None`` to block.
    Must not modify the grid; ``rng`` is the simulation's generator.
    """

    name: str

    def choose(
        self,
        grid: SpectrumGrid,
        paths: Sequence[tuple[int, ...]],
        widths: Sequence[int],
        rng: np.random.Generator,
    ) -> tuple[int, int] | None: ...


def _lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


class KspFirstFit:
    """k-shortest-paths then first-fit: the first candidate path with any fitting block, at its
    lowest-indexed fitting block (the KSP-FF baseline of DeepRMSA and later work)."""

    name = "ksp-ff"

    # The baseline is the benchmark's hot path: the OR over links and the lowest-bit pick are
    # inlined here rather than going through :class:`_KspThenFit` (same result, fewer calls).
    def choose(
        self,
        grid: SpectrumGrid,
        paths: Sequence[tuple[int, ...]],
        widths: Sequence[int],
        rng: np.random.Generator,
    ) -> tuple[int, int] | None:
        occ = grid.occupied
        full = grid.full
        for i, links in enumerate(paths):
            w = widths[i]
            if w <= 0:
                continue
            used = 0
            for link in links:
                used |= occ[link]
            starts = fit_starts(full & ~used, w)
            if starts:
                return i, (starts & -starts).bit_length() - 1
        return None


class FirstFitKsp:
    """First-fit over all k paths: the lowest fitting unit across every candidate path, ties to
    the shorter path (FF-KSP in Doherty et al., JOCN 17(9) D1, 2025)."""

    name = "ff-ksp"

    def choose(
        self,
        grid: SpectrumGrid,
        paths: Sequence[tuple[int, ...]],
        widths: Sequence[int],
        rng: np.random.Generator,
    ) -> tuple[int, int] | None:
        best: tuple[int, int] | None = None
        for i, links in enumerate(paths):
            w = widths[i]
            if w <= 0:
                continue
            starts = fit_starts(grid.free_on_path(links), w)
            if starts:
                s = _lowest(starts)
                if best is None or s < best[1]:
                    best = (i, s)
        return best


class _KspThenFit(abc.ABC):
    """k-shortest-paths then a slot rule: the first candidate path (shortest first) with a
    fitting block, at the block :meth:`start` picks among its fitting starts."""

    name = ""

    @abc.abstractmethod
    def start(
        self, free: int, starts: int, width: int, n_slots: int, rng: np.random.Generator
    ) -> int:
        """First unit of the block to use, given the path's free mask and fitting starts."""

    def choose(
        self,
        grid: SpectrumGrid,
        paths: Sequence[tuple[int, ...]],
        widths: Sequence[int],
        rng: np.random.Generator,
    ) -> tuple[int, int] | None:
        for i, links in enumerate(paths):
            w = widths[i]
            if w <= 0:
                continue
            free = grid.free_on_path(links)
            starts = fit_starts(free, w)
            if starts:
                return i, self.start(free, starts, w, grid.n_slots, rng)
        return None


class KspLastFit(_KspThenFit):
    """k-shortest-paths then last-fit: the highest-indexed fitting block of the first path with
    room (packs the spectrum from the top)."""

    name = "ksp-lf"

    def start(
        self, free: int, starts: int, width: int, n_slots: int, rng: np.random.Generator
    ) -> int:
        return starts.bit_length() - 1


class KspExactFit(_KspThenFit):
    """k-shortest-paths then exact-fit: on the first path with room, the lowest free run of
    exactly the needed width, else first-fit (Chatterjee, Sarma, Oki, IEEE Commun. Surveys
    Tuts. 17(3), 2015, §V-B)."""

    name = "ksp-ef"

    def start(
        self, free: int, starts: int, width: int, n_slots: int, rng: np.random.Generator
    ) -> int:
        run_start = free & ~(free << 1)  # first unit of each maximal free run
        exact = starts & run_start & ~(free >> width)  # ... whose run ends after width units
        return _lowest(exact if exact else starts)


class KspBestFit(_KspThenFit):
    """k-shortest-paths then best-fit: on the first path with room, the start of the smallest
    free run that still fits (ties: lowest unit)."""

    name = "ksp-bf"

    def start(
        self, free: int, starts: int, width: int, n_slots: int, rng: np.random.Generator
    ) -> int:
        # Starts of maximal free runs that are long enough (never empty when ``starts`` is
        # not: the run holding a fitting block fits from its own start), and run ends.
        cand = free & ~(free << 1) & starts
        run_end = free & ~(free >> 1)
        best_start, best_len = -1, n_slots + 1
        while cand:  # one pass per candidate run (a handful)
            low = cand & -cand
            start = low.bit_length() - 1
            ends = run_end >> start
            length = (ends & -ends).bit_length()
            if length < best_len:
                best_start, best_len = start, length
                if length == width:
                    break
            cand ^= low
        return best_start


class KspRandomFit(_KspThenFit):
    """k-shortest-paths then random-fit: a uniformly drawn fitting block of the first path with
    room (the ``rng`` of the simulation makes it reproducible)."""

    name = "ksp-rf"

    def start(
        self, free: int, starts: int, width: int, n_slots: int, rng: np.random.Generator
    ) -> int:
        pick = int(rng.integers(0, starts.bit_count()))
        for _ in range(pick):
            starts &= starts - 1  # drop the lowest set bit
        return _lowest(starts)


_REGISTRY: dict[str, Callable[[], SpectrumPolicy]] = {}


def register_spectrum_policy(name: str, factory: Callable[[], SpectrumPolicy]) -> None:
    """Register a spectrum policy factory under ``name`` (replaces one of the same name)."""
    _REGISTRY[name] = factory


def registered_spectrum_policies() -> list[str]:
    """Names of the registered spectrum policies, sorted."""
    return sorted(_REGISTRY)


def get_spectrum_policy(name: str) -> SpectrumPolicy:
    """A fresh instance of the policy registered as ``name``; the error lists the names."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(
            f"unknown spectrum policy {name!r}; registered: {registered_spectrum_policies()}.{hint}"
        ) from None


for _cls in (KspFirstFit, FirstFitKsp, KspLastFit, KspExactFit, KspBestFit, KspRandomFit):
    register_spectrum_policy(_cls.name, _cls)


# --------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class DynamicResult:
    """Outcome of a dynamic-traffic run.

    Attributes
    ----------
    blocking_probability : float
        Blocked / offered among measured (post-warm-up) requests.
    ci_low, ci_high : float
        95 % confidence interval of the blocking probability (batch means).
    bit_rate_blocking : float
        Blocked / offered bit rate among measured requests.
    n_measured : int
    reason_counts : dict of str to int
        Measured requests per outcome (:data:`REASONS`).
    mean_utilisation : float
        Share of (link, unit) cells in use, averaged over measured arrivals.
    reason : (N,) int
        Outcome code of every request (warm-up included).
    path_index, first_slot, width_slots : (N,) int
        Chosen candidate path, first unit and width (-1 / 0 when blocked).
    """

    blocking_probability: float
    ci_low: float
    ci_high: float
    bit_rate_blocking: float
    n_measured: int
    reason_counts: dict[str, int]
    mean_utilisation: float
    reason: IntArray
    path_index: IntArray
    first_slot: IntArray
    width_slots: IntArray


def simulate_dynamic(
    network: RmsaNetwork,
    requests: Requests,
    policy: SpectrumPolicy | str = "ksp-ff",
    *,
    warmup: int = 3000,
    n_batches: int = 10,
    rng: np.random.Generator | None = None,
) -> DynamicResult:
    """Serve a stream of requests one by one; lightpaths leave after their holding time.

    Parameters
    ----------
    network : RmsaNetwork
    requests : Requests
        Sorted by arrival (as :func:`~tsunagu.optical.traffic.poisson_requests` gives them).
    policy : SpectrumPolicy or str, default "ksp-ff"
    warmup : int, default 3000
        First requests served but not counted (the network fills up to steady state).
    n_batches : int, default 10
        Batches for the batch-means confidence interval.
    rng : numpy.random.Generator, optional
        Passed to the policy (random-fit); a fixed-seed generator when omitted.

    Returns
    -------
    DynamicResult

    Raises
    ------
    DataError
        If node ids are out of range, or too few requests remain after the warm-up.
    """
    pol = get_spectrum_policy(policy) if isinstance(policy, str) else policy
    gen = rng if rng is not None else np.random.default_rng(0)
    n_req = len(requests)
    n = network.n_nodes
    src, dst = requests.src, requests.dst
    if n_req and (src.min() < 0 or dst.min() < 0 or max(src.max(), dst.max()) >= n):
        raise DataError(f"request node ids must lie in 0..{n - 1}")
    if n_req - warmup < n_batches:
        raise DataError(
            f"{n_req} requests leave {n_req - warmup} after a warm-up of {warmup}; need at "
            f"least n_batches={n_batches} measured requests (pass more requests)"
        )
    widths_all = network.slots_for(src, dst, requests.bit_rate_bps).tolist()
    pair = (src * n + dst).tolist()
    arrival = requests.arrival_s.tolist()
    leave = (requests.arrival_s + requests.holding_s).tolist()
    grid = SpectrumGrid(network.n_links, network.n_slots)
    occ = grid.occupied
    cand = network.path_links
    reason = [SERVED] * n_req
    p_idx = [-1] * n_req
    first = [-1] * n_req
    width = [0] * n_req
    util_sum = 0
    used_cells = 0  # (link, unit) cells in use, kept incrementally
    heap: list[tuple[float, int]] = []
    push, pop = heapq.heappush, heapq.heappop
    choose = pol.choose
    for i in range(n_req):
        t = arrival[i]
        while heap and heap[0][0] <= t:
            j = pop(heap)[1]
            keep = ~block_mask(first[j], width[j])
            links_j = cand[pair[j]][p_idx[j]]
            for link in links_j:
                occ[link] &= keep
            used_cells -= width[j] * len(links_j)
        if i >= warmup:
            util_sum += used_cells
        paths = cand[pair[i]]
        if not paths:
            reason[i] = NO_PATH
            continue
        w = widths_all[i]
        if not any(x > 0 for x in w[: len(paths)]):
            reason[i] = NO_MODULATION
            continue
        pick = choose(grid, paths, w, gen)
        if pick is None:
            reason[i] = NO_SPECTRUM
            continue
        pi, s = pick
        if not 0 <= pi < len(paths) or w[pi] <= 0:
            raise DataError(
                f"policy {pol.name!r} chose candidate path {pi}; it must return the index of a "
                f"path with a non-zero width (0..{len(paths) - 1})"
            )
        wi = w[pi]
        m = block_mask(s, wi) if s >= 0 else 0
        for link in paths[pi]:
            if occ[link] & m or s < 0 or s + wi > grid.n_slots:
                raise DataError(
                    f"policy {pol.name!r} chose units {s}..{s + wi - 1} on path {pi}, which are "
                    "not free on every link; a policy must pick a block inside "
                    "fit_starts(grid.free_on_path(path), width)"
                )
        for link in paths[pi]:
            occ[link] |= m
        used_cells += wi * len(paths[pi])
        p_idx[i], first[i], width[i] = pi, s, wi
        push(heap, (leave[i], i))

    reason_arr = np.array(reason, dtype=np.int64)
    measured = reason_arr[warmup:]
    blocked = measured != SERVED
    mean, lo, hi = batch_means_ci(blocked, n_batches)
    rate = requests.bit_rate_bps[warmup:]
    counts = np.bincount(measured, minlength=len(REASONS))
    return DynamicResult(
        blocking_probability=mean,
        ci_low=lo,
        ci_high=hi,
        bit_rate_blocking=float(rate[blocked].sum() / rate.sum()) if rate.sum() > 0 else 0.0,
        n_measured=int(measured.size),
        reason_counts={REASONS[c]: int(counts[c]) for c in range(len(REASONS))},
        mean_utilisation=util_sum / (measured.size * network.n_links * network.n_slots)
        if network.n_links
        else 0.0,
        reason=reason_arr,
        path_index=np.array(p_idx, dtype=np.int64),
        first_slot=np.array(first, dtype=np.int64),
        width_slots=np.array(width, dtype=np.int64),
    )


@dataclass(frozen=True)
class StaticResult:
    """Per-demand outcome of :func:`assign_static` (one row per demand, in input order).

    ``path_nodes`` / ``path_links`` are empty tuples and ``first_slot`` -1 for blocked demands;
    ``modulation`` is ``""`` where none was usable.
    """

    reason: IntArray
    path_nodes: list[tuple[int, ...]]
    path_links: list[tuple[int, ...]]
    length_km: FloatArray
    first_slot: IntArray
    width_slots: IntArray
    modulation: list[str]
    gsnr_db: FloatArray
    grid: SpectrumGrid

    @property
    def reason_text(self) -> list[str]:
        return [REASONS[int(r)] for r in self.reason]


def assign_static(
    network: RmsaNetwork,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    bit_rate_bps: npt.ArrayLike,
    policy: SpectrumPolicy | str = "ksp-ff",
    *,
    grid: SpectrumGrid | None = None,
    rng: np.random.Generator | None = None,
) -> StaticResult:
    """Route and assign spectrum to demands in the given order; nothing is ever released.

    ``grid`` (optional) holds spectrum already in use and is updated in place; a new empty
    grid is used otherwise. Blocked demands carry their reason code.
    """
    pol = get_spectrum_policy(policy) if isinstance(policy, str) else policy
    gen = rng if rng is not None else np.random.default_rng(0)
    s_arr = np.atleast_1d(np.asarray(src, dtype=np.int64))
    d_arr = np.atleast_1d(np.asarray(dst, dtype=np.int64))
    rate = np.atleast_1d(np.asarray(bit_rate_bps, dtype=np.float64))
    if not s_arr.shape == d_arr.shape == rate.shape:
        raise DataError("src, dst and bit_rate_bps must have the same length")
    n = network.n_nodes
    if s_arr.size and (min(s_arr.min(), d_arr.min()) < 0 or max(s_arr.max(), d_arr.max()) >= n):
        raise DataError(f"node ids must lie in 0..{n - 1}")
    g = grid if grid is not None else SpectrumGrid(network.n_links, network.n_slots)
    if g.n_links != network.n_links or g.n_slots != network.n_slots:
        raise DataError("grid does not match the network's links and slot units")
    widths = network.slots_for(s_arr, d_arr, rate).tolist() if s_arr.size else []
    m = s_arr.size
    reason = np.zeros(m, dtype=np.int64)
    first = np.full(m, -1, dtype=np.int64)
    width = np.zeros(m, dtype=np.int64)
    length = np.full(m, np.nan)
    gsnr = np.full(m, np.nan)
    nodes_out: list[tuple[int, ...]] = [()] * m
    links_out: list[tuple[int, ...]] = [()] * m
    mod: list[str] = [""] * m
    for i in range(m):
        p = int(s_arr[i]) * n + int(d_arr[i])
        paths = network.path_links[p]
        if s_arr[i] == d_arr[i] or not paths:
            reason[i] = NO_PATH
            continue
        w = widths[i]
        if not any(x > 0 for x in w[: len(paths)]):
            reason[i] = NO_MODULATION
            continue
        pick = pol.choose(g, paths, w, gen)
        if pick is None:
            reason[i] = NO_SPECTRUM
            continue
        pi, s = pick
        g.allocate(paths[pi], s, w[pi])
        first[i], width[i] = s, w[pi]
        nodes_out[i], links_out[i] = network.path_nodes[p][pi], paths[pi]
        length[i] = network.path_length_km[p, pi]
        gsnr[i] = network.path_gsnr_db[p, pi]
        mod[i] = network.formats[int(network.path_format[p, pi])].name
    return StaticResult(
        reason=reason,
        path_nodes=nodes_out,
        path_links=links_out,
        length_km=length,
        first_slot=first,
        width_slots=width,
        modulation=mod,
        gsnr_db=gsnr,
        grid=g,
    )
