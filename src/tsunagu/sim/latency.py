"""Latency as distributions: per service and region p50/p95/p99 of the requests' round trip.

The engine gives every flow (a demand point's share on one access, one service, one step) the
*means* of its latency components (``flows.parquet``). This module gives each served flow the
*distribution* of its end-to-end round trip and mixes the flows, weighted by their requests
(``demand_rps × step_s``), into one distribution per (service, region), per service, per region
and overall.

A served flow's round trip is ``T = F + M + Q_access + Q_links + W_gpu`` with

* ``F`` fixed: propagation (geometry), transmission of the request and the response at the
  access rate and the transceivers, the network equipment on the path (routers, ROADMs, the
  DCI) and the AI service's processing time — as the engine computes them;
* ``M`` the access / last-mile round trip of the flow's access technology, an uplink plus a
  downlink draw of :func:`tsunagu.traffic.lastmile.access_delay_s` (frame and slot alignment,
  scheduling requests and grants, HARQ, PON DBA, BNG aggregation, peering; each component with
  its source in ``lastmile_delay.csv``). It *replaces* the engine's constant access equipment
  delay (``ran.air_interface_delay_s``, ``ntn.processing_delay_s``; ``equipment_s`` of the
  access options), which stands for the same air-interface and gateway processing. An access
  whose name has no entry in :data:`LASTMILE_TECH` keeps the engine's constant;
* ``Q_access`` the access resource's processor-sharing delay (M/G/1-PS, ``b/(C(1 − ρ)) − b/C``,
  :func:`tsunagu.ran.domain.ps_transfer_time_s`), kept at its mean: the sojourn time of a job
  of given size in M/G/1-PS has no closed-form distribution in general, so its spread is left
  out (it is below a millisecond on every access of the shipped scenarios);
* ``Q_links`` the links' M/M/1 queueing there and back: the engine's arcs each have the M/M/1
  sojourn time ``S/(C − x)`` (packets of ``PACKET_BITS``, :mod:`tsunagu.net.flow`), whose
  distribution is exponential; the path's sum (the carried-weighted mean over its paths, both
  directions) is drawn as one exponential of that mean. A sum of independent exponentials
  (hypoexponential) is less variable than one exponential of the same mean: the draw
  overstates the upper tail of the link part (for two equal arcs, p99 4.6 m against 3.3 m
  for a sum of mean m) and slightly understates its median (0.69 m against 0.84 m). The
  per-arc form needs each path's arcs, which the route stage does not keep;
* ``W_gpu`` the compute site's M/M/c waiting time (FCFS, ``c`` GPUs, the site's arrival rate
  and mean GPU-seconds per request): an atom at 0 of mass ``1 − C`` and, with probability
  the Erlang C ``C``, an exponential of rate ``cμ − λ`` ([1]_ §3.6; mean ``C/(cμ − λ)``, the
  engine's :func:`tsunagu.compute.models.mmc_mean_wait_s`).

The network part is ``T − processing − W_gpu``; the processing part is the service's
processing time plus ``W_gpu``.

Numerics. The mixture has no closed-form quantile, so it is sampled: every step, each
(service, region) group draws ``n`` requests (how many from each flow multinomial with
probabilities proportional to its requests, then each component drawn independently) from a
seeded :class:`numpy.random.Generator` and adds them, weighted ``requests_in_group / n``, to
a histogram of ``HIST_BINS`` geometric bins of relative width ``HIST_REL_WIDTH`` from
``HIST_MIN_S`` to ``HIST_MAX_S`` (memory: groups × bins, whatever the number of flows and
steps). Quantiles are read from the histogram's cumulative weight, interpolated geometrically
inside a bin (binning error ≤ 0.1 % of the value). The sampling error is stated per row: with
Kish's effective sample size ``n_eff = (Σw)²/Σw²`` of the weighted samples, Hoeffding's
inequality gives that the reported p-quantile lies between the true quantiles at levels
``p − ε`` and ``p + ε`` with probability ≥ 99 %, for ``ε = sqrt(ln(2/0.01) / (2 n_eff))``
(column ``cdf_error``). Means are exact (closed forms, not samples).

.. [1] L. Kleinrock, *Queueing Systems, Volume 1: Theory*, Wiley, 1975.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tsunagu.compute.models import erlang_c
from tsunagu.errors import ScenarioError
from tsunagu.sim import catalogue as kc
from tsunagu.traffic import lastmile

__all__ = [
    "ALL",
    "HIST_BINS",
    "HIST_MAX_S",
    "HIST_MIN_S",
    "HIST_REL_WIDTH",
    "LASTMILE_TECH",
    "LATENCY_SCHEMA",
    "RNG_STREAM",
    "SAMPLES_PER_GROUP",
    "STEP_KEY",
    "FlowLatency",
    "LatencyAccumulator",
    "draw_latency_s",
    "flow_latency",
    "mean_latency_s",
    "tech_code",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Access layer name → last-mile technology of ``lastmile_delay.csv``. The terrestrial RAN of
#: the scenarios is NR (carriers n78/n79: 30 kHz numerology, ``nr``); HAPS and LEO have their
#: own budgets (NTN numerology, on-board and gateway processing); a fixed-broadband layer is
#: FTTH (GPON/XG-PON, BNG, IX). An access not listed keeps the engine's constant delay.
LASTMILE_TECH: dict[str, str] = {
    "ran": "nr",
    "nr": "nr",
    "lte": "lte",
    "haps": "haps",
    "leo": "leo",
    "ftth": "ftth",
    "fixed": "ftth",
    "fbb": "ftth",
}

#: Key of a step's :class:`FlowLatency` in ``Step.data`` (filled by the measure stage).
STEP_KEY: Final[str] = "latency"
#: Stream id of the latency draws: step ``i`` of a run with seed ``s`` draws from
#: ``default_rng([s, RNG_STREAM, i])`` (independent of the event draws ``[s, i]``).
RNG_STREAM: Final[int] = 0x4C41

#: Samples drawn per (service, region) group over a whole run (spread evenly over its steps).
SAMPLES_PER_GROUP: Final[int] = 100_000
#: Histogram: geometric bins of this relative width between these bounds (s); below the lower
#: bound one linear bin, above the upper bound (and infinite latencies) an overflow bin.
HIST_MIN_S: Final[float] = 1e-6
HIST_MAX_S: Final[float] = 1e4
HIST_REL_WIDTH: Final[float] = 1e-3
HIST_BINS: Final[int] = math.ceil(math.log(HIST_MAX_S / HIST_MIN_S) / math.log1p(HIST_REL_WIDTH))
_LOG_STEP: Final[float] = math.log1p(HIST_REL_WIDTH)
#: Confidence of the stated sampling error (``cdf_error``).
_ALPHA: Final[float] = 0.01
#: Quantile levels reported.
_LEVELS: Final[tuple[float, ...]] = (0.5, 0.95, 0.99)

#: The group label for "all regions" or "all services".
ALL: Final[str] = "all"

#: Columns of ``latency.parquet``.
LATENCY_SCHEMA = pa.schema(
    [
        ("service", pa.string()),
        ("region", pa.string()),
        ("requests", pa.float64()),
        ("p50_ms", pa.float64()),
        ("p95_ms", pa.float64()),
        ("p99_ms", pa.float64()),
        ("mean_ms", pa.float64()),
        ("network_p50_ms", pa.float64()),
        ("network_p95_ms", pa.float64()),
        ("network_p99_ms", pa.float64()),
        ("network_mean_ms", pa.float64()),
        ("processing_mean_ms", pa.float64()),
        ("lastmile_mean_ms", pa.float64()),
        ("queueing_mean_ms", pa.float64()),
        ("samples", pa.int64()),
        ("effective_samples", pa.float64()),
        ("cdf_error", pa.float64()),
    ]
)


@dataclass(frozen=True)
class FlowLatency:
    """One step's served flows as latency distributions (all times in s, round trip).

    ``point`` and ``service`` index the twin's demand points and the scenario's services;
    ``requests`` are the flow's requests in the step (its weight). ``network_fixed_s`` holds
    propagation, transmission and the network equipment (the access equipment only where the
    access has no last-mile budget), ``processing_s`` the AI service's processing time.
    ``tech`` is the last-mile technology, an index into
    :data:`tsunagu.traffic.lastmile.TECHNOLOGIES` (−1 for none, :func:`tech_code`).
    ``link_queue_s`` is the mean of the exponential link queueing; the GPU wait is
    ``Exp(gpu_headroom_per_s)`` with probability ``gpu_wait_probability``, else 0.
    """

    point: IntArray
    service: IntArray
    requests: FloatArray
    network_fixed_s: FloatArray
    processing_s: FloatArray
    tech: IntArray
    access_queue_s: FloatArray
    link_queue_s: FloatArray
    gpu_wait_probability: FloatArray
    gpu_headroom_per_s: FloatArray

    @property
    def size(self) -> int:
        return int(self.point.size)

    def take(self, idx: IntArray) -> FlowLatency:
        """The flows ``idx``."""
        return FlowLatency(
            point=self.point[idx],
            service=self.service[idx],
            requests=self.requests[idx],
            network_fixed_s=self.network_fixed_s[idx],
            processing_s=self.processing_s[idx],
            tech=self.tech[idx],
            access_queue_s=self.access_queue_s[idx],
            link_queue_s=self.link_queue_s[idx],
            gpu_wait_probability=self.gpu_wait_probability[idx],
            gpu_headroom_per_s=self.gpu_headroom_per_s[idx],
        )


def flow_latency(
    *,
    served: npt.ArrayLike,
    point: npt.ArrayLike,
    service: npt.ArrayLike,
    access: npt.ArrayLike,
    requests: npt.ArrayLike,
    propagation_s: npt.ArrayLike,
    transmission_s: npt.ArrayLike,
    equipment_s: npt.ArrayLike,
    access_equipment_s: npt.ArrayLike,
    processing_s: npt.ArrayLike,
    access_queue_s: npt.ArrayLike,
    link_queue_s: npt.ArrayLike,
    site: npt.ArrayLike,
    site_rps: npt.ArrayLike,
    site_service_s: npt.ArrayLike,
    site_servers: npt.ArrayLike,
) -> FlowLatency:
    """The served flows' latency distributions from the measure stage's per-flow means.

    Per flow (F,): ``served``, ``point``, ``service``, ``access`` (the access layer's name),
    ``requests`` in the step (those the network carries there and back), round-trip
    ``propagation_s``, ``transmission_s``, ``equipment_s`` (all network equipment, the access
    equipment included),
    ``access_equipment_s`` (the access's share of it), the service's ``processing_s``, the
    mean ``access_queue_s`` (M/G/1-PS) and ``link_queue_s`` (M/M/1 sojourns, there and back),
    the compute ``site``. Per compute site (S,): arrival rate ``site_rps``, mean GPU-seconds per
    request ``site_service_s`` and GPUs ``site_servers`` (the M/M/c queue).
    """
    ok = np.asarray(served, dtype=bool)
    idx = np.flatnonzero(ok)
    acc = np.asarray(access).astype(str)[idx]
    uniq, inv = np.unique(acc, return_inverse=True)
    flow_tech = tech_code([LASTMILE_TECH.get(a, "") for a in uniq])[inv]
    lam = np.asarray(site_rps, dtype=np.float64)
    s = np.asarray(site_service_s, dtype=np.float64)
    c = np.asarray(site_servers, dtype=np.float64)
    pw = erlang_c(c, lam * s)
    headroom = c / s - lam
    site_of = np.asarray(site, dtype=np.int64)[idx]

    def f(x: npt.ArrayLike) -> FloatArray:
        return np.asarray(np.broadcast_to(np.asarray(x, dtype=np.float64), ok.shape)[idx])

    keep_equipment = np.where(flow_tech < 0, 0.0, f(access_equipment_s))
    return FlowLatency(
        point=np.asarray(point, dtype=np.int64)[idx],
        service=np.asarray(service, dtype=np.int64)[idx],
        requests=f(requests),
        network_fixed_s=f(propagation_s) + f(transmission_s) + f(equipment_s) - keep_equipment,
        processing_s=f(processing_s),
        tech=np.asarray(flow_tech, dtype=np.int64),
        access_queue_s=f(access_queue_s),
        link_queue_s=f(link_queue_s),
        gpu_wait_probability=np.asarray(pw[site_of], dtype=np.float64),
        gpu_headroom_per_s=np.asarray(headroom[site_of], dtype=np.float64),
    )


def tech_code(names: npt.ArrayLike) -> IntArray:
    """Index of each last-mile technology name in ``lastmile.TECHNOLOGIES`` (−1 for '')."""
    out = []
    for t in np.asarray(names, dtype=str).ravel().tolist():
        if t and t not in lastmile.TECHNOLOGIES:
            raise ScenarioError(
                f"no last-mile budget for {t!r} in lastmile_delay.csv; map the access to one "
                f"of {lastmile.TECHNOLOGIES} in LASTMILE_TECH"
            )
        out.append(lastmile.TECHNOLOGIES.index(t) if t else -1)
    return np.asarray(out, dtype=np.int64)


def _lastmile_mean_s(tech: IntArray) -> FloatArray:
    """Closed-form mean last-mile round trip of each technology code (0 for −1)."""
    rt = [
        lastmile.mean_delay_s(t, "up") + lastmile.mean_delay_s(t, "down")
        for t in lastmile.TECHNOLOGIES
    ]
    return np.asarray(np.array([*rt, 0.0])[tech], dtype=np.float64)


def _gpu_mean_s(fl: FlowLatency) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(
            fl.gpu_headroom_per_s > 0,
            fl.gpu_wait_probability / np.where(fl.gpu_headroom_per_s > 0, fl.gpu_headroom_per_s, 1),
            np.inf,
        )
    return np.asarray(np.where(fl.gpu_wait_probability > 0, m, 0.0), dtype=np.float64)


def mean_latency_s(fl: FlowLatency) -> dict[str, FloatArray]:
    """Closed-form means per flow (s): ``total``, ``network``, ``processing``, ``lastmile``,
    ``queueing`` (access, links and GPU)."""
    lm = _lastmile_mean_s(fl.tech)
    gpu = _gpu_mean_s(fl)
    queue = fl.access_queue_s + fl.link_queue_s + gpu
    network = fl.network_fixed_s + lm + fl.access_queue_s + fl.link_queue_s
    processing = fl.processing_s + gpu
    return {
        "total": network + processing,
        "network": network,
        "processing": processing,
        "lastmile": lm,
        "queueing": queue,
    }


def draw_latency_s(
    fl: FlowLatency, flow: IntArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """One draw of the round trip (s) of each listed flow: (total, network part).

    ``flow`` indexes ``fl`` (repeats allowed: one independent draw each).
    """
    n = flow.size
    lm = np.zeros(n)
    code = fl.tech[flow]
    for c in np.unique(code):
        if c < 0:
            continue
        t = lastmile.TECHNOLOGIES[int(c)]
        sel = np.flatnonzero(code == c)
        lm[sel] = lastmile.access_delay_s(t, sel.size, rng, "up") + lastmile.access_delay_s(
            t, sel.size, rng, "down"
        )
    links = fl.link_queue_s[flow] * rng.standard_exponential(n)
    waits = rng.random(n) < fl.gpu_wait_probability[flow]
    head = fl.gpu_headroom_per_s[flow]
    with np.errstate(divide="ignore", invalid="ignore"):
        gpu_tail = np.where(
            head > 0, rng.standard_exponential(n) / np.where(head > 0, head, 1), np.inf
        )
    gpu = np.where(waits, gpu_tail, 0.0)
    network = fl.network_fixed_s[flow] + lm + fl.access_queue_s[flow] + links
    total = network + fl.processing_s[flow] + gpu
    return np.asarray(total, dtype=np.float64), np.asarray(network, dtype=np.float64)


def _bin(x: FloatArray) -> IntArray:
    """Histogram bin of each value: 0 below HIST_MIN_S, HIST_BINS + 1 at or above HIST_MAX_S."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.floor(np.log(np.maximum(x, HIST_MIN_S) / HIST_MIN_S) / _LOG_STEP)
    k = np.where(x < HIST_MIN_S, -1.0, np.where(np.isfinite(k), k, HIST_BINS))
    return np.asarray(np.clip(k + 1, 0, HIST_BINS + 1), dtype=np.int64)


def _edges() -> FloatArray:
    """Lower edge of every bin (bin 0 starts at 0, the overflow bin at HIST_MAX_S)."""
    geo = HIST_MIN_S * np.exp(np.arange(HIST_BINS + 1) * _LOG_STEP)
    return np.concatenate([[0.0], geo])


def _quantiles(hist: FloatArray, levels: tuple[float, ...]) -> FloatArray:
    """Quantiles (s) of each row of a (G, bins) weight histogram; NaN for an empty row."""
    edges = _edges()
    out = np.full((hist.shape[0], len(levels)), np.nan)
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1]
    rows = np.arange(hist.shape[0])
    for j, p in enumerate(levels):
        t = p * total
        # First bin whose cumulative weight reaches t.
        b = np.minimum(np.sum(cum < t[:, None], axis=1), hist.shape[1] - 1)
        before = np.where(b > 0, cum[rows, np.maximum(b - 1, 0)], 0.0)
        w = hist[rows, b]
        frac = np.where(w > 0, (t - before) / np.where(w > 0, w, 1.0), 0.0)
        value = np.where(
            b == 0,
            frac * HIST_MIN_S,
            np.where(b > HIST_BINS, np.inf, edges[b] * np.exp(frac * _LOG_STEP)),
        )
        out[:, j] = np.where(total > 0, value, np.nan)
    return out


class LatencyAccumulator:
    """Streams the steps' flows into per-(service, region) latency histograms.

    Parameters
    ----------
    services : (K,) service names.
    point_region : (P,) each demand point's region.
    steps : steps in the run (the sample budget is spread over them).
    samples_per_group : samples per (service, region) over the run.
    """

    def __init__(
        self,
        services: npt.ArrayLike,
        point_region: npt.ArrayLike,
        steps: int,
        samples_per_group: int = SAMPLES_PER_GROUP,
    ) -> None:
        if steps < 1 or samples_per_group < 1:
            raise ScenarioError(
                f"steps and samples_per_group must be >= 1, got {steps} and {samples_per_group}"
            )
        self.services = np.asarray(services).astype(str)
        self.regions, self._point_region = np.unique(
            np.asarray(point_region).astype(str), return_inverse=True
        )
        self.n_per_step = max(1, math.ceil(samples_per_group / steps))
        g = self.services.size * self.regions.size
        self._n_groups = g
        nb = HIST_BINS + 2
        self._hist = np.zeros((g, nb))
        self._hist_net = np.zeros((g, nb))
        self._sum_w2 = np.zeros(g)
        self._samples = np.zeros(g, dtype=np.int64)
        self._means = np.zeros((g, 6))  # requests, total, network, processing, lastmile, queue

    def group(self, fl: FlowLatency) -> IntArray:
        """Each flow's group id: ``service × n_regions + region``."""
        return np.asarray(
            fl.service * self.regions.size + self._point_region[fl.point], dtype=np.int64
        )

    def add(self, fl: FlowLatency, rng: np.random.Generator) -> None:
        """Add one step's served flows (their requests and distributions)."""
        w = np.asarray(fl.requests, dtype=np.float64)
        if np.any(~np.isfinite(w)) or np.any(w < 0):
            raise ScenarioError("flow requests must be finite and >= 0")
        keep = np.flatnonzero(w > 0)
        if keep.size == 0:
            return
        if keep.size < w.size:
            fl = fl.take(keep)
            w = w[keep]
        grp = self.group(fl)
        m = mean_latency_s(fl)
        g_n = self._n_groups
        self._means[:, 0] += np.bincount(grp, weights=w, minlength=g_n)
        for j, key in enumerate(("total", "network", "processing", "lastmile", "queueing")):
            self._means[:, j + 1] += np.bincount(grp, weights=w * m[key], minlength=g_n)
        # Draw n requests per group: how many from each flow, multinomial with probabilities
        # ∝ its requests (one vectorised call over the groups, rows padded with zeros).
        order = np.argsort(grp, kind="stable")
        grp_s, w_s = grp[order], w[order]
        present, first, inv, n_in = np.unique(
            grp_s, return_index=True, return_inverse=True, return_counts=True
        )
        w_g = np.zeros(g_n)
        w_g[present] = np.bincount(inv, weights=w_s, minlength=present.size)
        rank = np.arange(grp_s.size) - first[inv]
        prob = np.zeros((present.size, int(n_in.max())))
        prob[inv, rank] = w_s / w_g[present][inv]
        prob /= prob.sum(axis=1, keepdims=True)
        n = self.n_per_step
        counts = rng.multinomial(n, prob)[inv, rank]
        chosen = np.repeat(order, counts)
        g_of = np.repeat(grp_s, counts)
        total, network = draw_latency_s(fl, chosen, rng)
        sw = w_g[g_of] / n
        nb = HIST_BINS + 2
        np.add.at(self._hist.reshape(-1), g_of * nb + _bin(total), sw)
        np.add.at(self._hist_net.reshape(-1), g_of * nb + _bin(network), sw)
        self._sum_w2 += np.bincount(g_of, weights=sw * sw, minlength=g_n)
        self._samples += np.bincount(g_of, minlength=g_n)

    def table(self) -> pa.Table:
        """``latency.parquet``: one row per (service, region), per service (region ``all``),
        per region (service ``all``) and overall (``all``, ``all``); groups without served
        requests have no row."""
        k, r = self.services.size, self.regions.size
        shape = (k, r)
        hist = self._hist.reshape(k, r, -1)
        hist_net = self._hist_net.reshape(k, r, -1)
        w2 = self._sum_w2.reshape(shape)
        ns = self._samples.reshape(shape)
        means = self._means.reshape(k, r, -1)
        labels: list[tuple[str, str]] = []
        h_rows, hn_rows, w2_rows, n_rows, m_rows = [], [], [], [], []

        def add(label: tuple[str, str], sel: tuple[slice | int, slice | int]) -> None:
            m = means[sel].reshape(-1, means.shape[-1]).sum(axis=0)
            if not m[0] > 0:
                return  # no requests: no row
            labels.append(label)
            h_rows.append(hist[sel].reshape(-1, hist.shape[-1]).sum(axis=0))
            hn_rows.append(hist_net[sel].reshape(-1, hist.shape[-1]).sum(axis=0))
            w2_rows.append(np.sum(w2[sel]))
            n_rows.append(int(np.sum(ns[sel])))
            m_rows.append(m)

        for i in range(k):
            for j in range(r):
                add((self.services[i], self.regions[j]), (i, j))
            add((self.services[i], ALL), (i, slice(None)))
        for j in range(r):
            add((ALL, self.regions[j]), (slice(None), j))
        add((ALL, ALL), (slice(None), slice(None)))
        if not labels:
            return LATENCY_SCHEMA.empty_table()
        h = np.array(h_rows)
        hn = np.array(hn_rows)
        mm = np.array(m_rows)
        req = mm[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = mm[:, 1:] / req[:, None]
            w_hist = h.sum(axis=1)
            n_eff = np.where(np.array(w2_rows) > 0, w_hist**2 / np.array(w2_rows), 0.0)
            eps = np.where(n_eff > 0, np.sqrt(math.log(2.0 / _ALPHA) / (2.0 * n_eff)), np.nan)
        q = _quantiles(h, _LEVELS) * 1e3
        qn = _quantiles(hn, _LEVELS) * 1e3
        cols = {
            "service": [a for a, _ in labels],
            "region": [b for _, b in labels],
            "requests": req,
            "p50_ms": q[:, 0],
            "p95_ms": q[:, 1],
            "p99_ms": q[:, 2],
            "mean_ms": mean[:, 0] * 1e3,
            "network_p50_ms": qn[:, 0],
            "network_p95_ms": qn[:, 1],
            "network_p99_ms": qn[:, 2],
            "network_mean_ms": mean[:, 1] * 1e3,
            "processing_mean_ms": mean[:, 2] * 1e3,
            "lastmile_mean_ms": mean[:, 3] * 1e3,
            "queueing_mean_ms": mean[:, 4] * 1e3,
            "samples": np.array(n_rows, dtype=np.int64),
            "effective_samples": n_eff,
            "cdf_error": eps,
        }
        return pa.table(cols, schema=LATENCY_SCHEMA)

    @staticmethod
    def kpis(table: pa.Table) -> dict[str, Any]:
        """The summary's distribution KPIs: ``overall``, ``per_service`` and ``per_region``
        (each a mapping of KPI name to value) from a :meth:`table`."""
        svc = table["service"].to_pylist()
        reg = table["region"].to_pylist()
        cols = {c: table[c].to_numpy() for c in table.column_names if c.endswith("_ms")}
        pairs = (
            (kc.LATENCY_DIST_P50_MS.name, "p50_ms"),
            (kc.LATENCY_DIST_P95_MS.name, "p95_ms"),
            (kc.LATENCY_DIST_P99_MS.name, "p99_ms"),
            (kc.LATENCY_DIST_MEAN_MS.name, "mean_ms"),
            (kc.LATENCY_NETWORK_P95_MS.name, "network_p95_ms"),
            (kc.LATENCY_NETWORK_MEAN_MS.name, "network_mean_ms"),
            (kc.LATENCY_PROCESSING_MEAN_MS.name, "processing_mean_ms"),
        )

        def row(i: int) -> dict[str, float]:
            return {name: float(cols[col][i]) for name, col in pairs}

        overall: dict[str, float] = {}
        per_service: dict[str, dict[str, float]] = {}
        per_region: dict[str, dict[str, float]] = {}
        for i, (s, g) in enumerate(zip(svc, reg, strict=True)):
            if s == ALL and g == ALL:
                overall = row(i)
            elif g == ALL:
                per_service[s] = row(i)
            elif s == ALL:
                per_region[g] = row(i)
        return {"overall": overall, "per_service": per_service, "per_region": per_region}
