"""What an emulation replays: a chain of segments and their delay, rate and loss per time step.

A :class:`Schedule` is built from a run directory (docs/results-format.md) or directly:

* a served flow of ``flows.parquet`` (``DEMAND/SERVICE``, e.g. ``Tokyo/chat``) becomes two
  segments, ``access`` (the row's access: ran, haps or leo) and ``transport`` (to the serving
  compute site). Its round trip is the twin's network round trip of the flow: propagation
  (``latency_propagation_ms``) plus the network equipment delay (``latency_processing_ms`` less
  the service's own ``processing_s``). The access segment carries the access equipment delay of
  the scenario (``ran.air_interface_delay_s``, or ``ntn.processing_delay_s`` for HAPS and LEO)
  and the access rate recovered from the row's transmission time; the transport segment carries
  the rest, propagation of the whole path included (the run directory does not split
  propagation by segment), at the optical transceiver rate. Compute queueing and processing are
  the application's: the user's own server in the destination namespace does them.
* a pair of ``ntn_rtt.parquet`` (``ntn:Tokyo → Naha``, or ``ntn:Tokyo-Naha``) becomes one
  ``ntn`` segment carrying half the twin's RTT each way; a time without a route is an outage
  (every packet lost).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from tsunagu.errors import DataError, ScenarioError
from tsunagu.results.store import read_table

__all__ = ["Schedule", "Segment", "schedule_from_run"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Segment:
    """One hop of the emulated chain: a name and the twin domain it stands for."""

    name: str
    domain: str


@dataclass(frozen=True)
class Schedule:
    """Per-step, per-segment one-way delay, rate and loss of an emulated path.

    ``time_s`` (T,) are the twin times at which each step starts, increasing; step ``k`` holds
    until ``time_s[k + 1]`` (the last until ``end_s``). ``delay_s``, ``rate_bps`` and ``loss``
    are (T, S) for S segments; a rate of ``inf`` is unlimited; ``loss`` is the probability that
    a packet is lost on the segment, each direction. ``predicted_rtt_ms`` (T,) is the twin's own
    round trip of the path at each step (NaN: no route).
    """

    flow: str
    segments: tuple[Segment, ...]
    time_s: FloatArray
    delay_s: FloatArray
    rate_bps: FloatArray
    loss: FloatArray
    predicted_rtt_ms: FloatArray
    end_s: float

    def __post_init__(self) -> None:
        t = np.asarray(self.time_s, dtype=np.float64)
        n_t, n_s = t.size, len(self.segments)
        if n_t == 0 or n_s == 0:
            raise DataError(f"schedule of {self.flow!r} is empty: it needs a step and a segment")
        for name in ("delay_s", "rate_bps", "loss"):
            a = np.asarray(getattr(self, name), dtype=np.float64)
            if a.shape != (n_t, n_s):
                raise DataError(
                    f"{name} has shape {a.shape}; expected (steps, segments)=({n_t}, {n_s})"
                )
            object.__setattr__(self, name, a)
        object.__setattr__(self, "time_s", t)
        object.__setattr__(
            self, "predicted_rtt_ms", np.asarray(self.predicted_rtt_ms, dtype=np.float64)
        )
        if np.any(np.diff(t) <= 0) or not self.end_s > t[-1]:
            raise DataError("schedule times must increase and end after the last step starts")
        if not np.all(np.isfinite(self.delay_s)) or np.any(self.delay_s < 0):
            raise DataError("delay_s must be finite and >= 0 on every segment and step")
        if np.any(~(self.rate_bps > 0)):
            raise DataError("rate_bps must be > 0 (inf for unlimited) on every segment and step")
        if np.any(~((self.loss >= 0) & (self.loss <= 1))):
            raise DataError("loss must lie in [0, 1] on every segment and step")

    @property
    def n_steps(self) -> int:
        return int(self.time_s.size)

    def window(self, start_s: float, duration_s: float) -> Schedule:
        """The part of the schedule from twin time ``start_s`` for ``duration_s`` seconds."""
        end = start_s + duration_s
        if not (self.time_s[0] <= start_s < self.end_s) or duration_s <= 0:
            raise DataError(
                f"start {start_s:g} s is outside the schedule ({self.time_s[0]:g} to "
                f"{self.end_s:g} s) or the duration {duration_s:g} s is not positive"
            )
        first = int(np.searchsorted(self.time_s, start_s, side="right")) - 1
        last = int(np.searchsorted(self.time_s, end, side="left"))
        sel = slice(first, max(last, first + 1))
        t = self.time_s[sel].copy()
        t[0] = start_s
        return dataclasses.replace(
            self,
            time_s=t,
            delay_s=self.delay_s[sel],
            rate_bps=self.rate_bps[sel],
            loss=self.loss[sel],
            predicted_rtt_ms=self.predicted_rtt_ms[sel],
            end_s=min(end, self.end_s),
        )

    def predicted_probe_rtt_ms(self, packet_bytes: int) -> FloatArray:
        """RTT of a ``packet_bytes`` IP packet: delays both ways plus its serialisation."""
        ser = np.sum(packet_bytes * 8.0 / self.rate_bps, axis=1)
        rtt = 2e3 * (np.sum(self.delay_s, axis=1) + ser)
        return np.asarray(np.where(np.all(self.loss < 1.0, axis=1), rtt, np.nan))


def _scenario(run_dir: Path) -> object:
    from tsunagu.scenario import load_scenario

    path = run_dir / "scenario.yaml"
    if not path.is_file():
        raise DataError(f"{path} not found; re-run `tsunagu run` to write it")
    try:
        return load_scenario(str(path))
    except ScenarioError as exc:
        raise DataError(
            f"{path} is not a full scenario ({exc}); emulate a run directory written by "
            "`tsunagu run`"
        ) from exc


def _step_s(run_dir: Path, times: FloatArray) -> float:
    if times.size > 1:
        return float(np.min(np.diff(times)))
    from tsunagu.results.store import read_summary

    return float(read_summary(run_dir).get("step_s", 1.0))


def _from_ntn(run_dir: Path, pair: str) -> Schedule:
    table = read_table(run_dir, "ntn_rtt")
    wanted = pair.replace("→", "-").replace(" ", "")
    labels = [str(x) for x in pc.unique(table["pair"]).to_pylist()]
    match = [p for p in labels if p.replace("→", "-").replace(" ", "") == wanted]
    if not match:
        raise DataError(
            f"no LEO pair {pair!r} in {run_dir}/ntn_rtt.parquet; pairs: "
            + ", ".join(f"ntn:{p}" for p in labels)
            + " (set ntn.rtt_pairs in the scenario)"
        )
    rows = table.filter(pc.equal(table["pair"], match[0])).sort_by("time_s")
    t = rows["time_s"].to_numpy().astype(np.float64)
    rtt = rows["rtt_ms"].to_numpy(zero_copy_only=False).astype(np.float64)
    ok = np.isfinite(rtt)
    if not ok.any():
        raise DataError(f"LEO pair {match[0]!r} has no route at any time of the run")
    # An outage keeps the last delay (the packets are lost anyway).
    idx = np.maximum.accumulate(np.where(ok, np.arange(rtt.size), 0))
    held = np.where(ok, rtt, rtt[idx])
    held = np.where(np.isfinite(held), held, rtt[ok][0])
    return Schedule(
        flow=f"ntn:{match[0]}",
        segments=(Segment("ntn", "ntn"),),
        time_s=t,
        delay_s=(held / 2e3)[:, None],
        rate_bps=np.full((t.size, 1), np.inf),
        loss=np.where(ok, 0.0, 1.0)[:, None],
        predicted_rtt_ms=rtt,
        end_s=float(t[-1] + _step_s(run_dir, t)),
    )


def _from_flow(run_dir: Path, demand: str, service: str) -> Schedule:
    from tsunagu.scenario.schema import Scenario

    sc = _scenario(run_dir)
    assert isinstance(sc, Scenario)
    svc = {s.name: s for s in sc.services}
    flows = read_table(run_dir, "flows")
    sel = flows.filter(
        pc.and_(pc.equal(flows["demand"], demand), pc.equal(flows["service"], service))
    )
    if sel.num_rows == 0:
        demands = sorted({str(x) for x in pc.unique(flows["demand"]).to_pylist()})
        raise DataError(
            f"no flow {demand}/{service} in {run_dir}/flows.parquet; give --flow DEMAND/SERVICE "
            f"with a demand of {', '.join(demands[:8])}{' …' if len(demands) > 8 else ''} and a "
            f"service of {', '.join(sorted(svc))}, or ntn:PAIR for a LEO pair"
        )
    if service not in svc:
        raise DataError(f"service {service!r} is not in {run_dir}/scenario.yaml")
    k = svc[service]
    step = sel["step"].to_numpy()
    share = (
        sel["population_share"].to_numpy()
        if "population_share" in sel.column_names
        else np.ones(sel.num_rows)
    )
    # A point whose cells are partly down has a RAN and a backup row, and admission splits a
    # row into its carried and its blocked people: the larger served row is replayed (a
    # blocked one only where the step has no served row).
    placed = np.asarray(sel["site"].to_numpy(zero_copy_only=False) != "", dtype=bool)
    order = np.lexsort((-share, ~placed, step))
    first = np.ones(order.size, dtype=bool)
    first[1:] = step[order][1:] != step[order][:-1]
    rows = sel.take(order[first])
    t = rows["time_s"].to_numpy().astype(np.float64)

    def col(name: str) -> FloatArray:
        return np.asarray(rows[name].to_numpy(zero_copy_only=False), dtype=np.float64) / 1e3

    access = np.asarray(rows["access"].to_pylist())
    served = np.isfinite(col("latency_total_ms")) & (access != "none")
    access_equip = np.where(
        access == "ran", sc.ran.air_interface_delay_s, sc.ntn.processing_delay_s
    )
    network_rtt = col("latency_propagation_ms") + col("latency_processing_ms") - k.processing_s
    if np.any(served & (network_rtt < 2.0 * access_equip - 1e-9)):
        raise DataError(
            f"flow {demand}/{service}: latency_processing_ms is below the service's processing "
            "time; the run directory and its scenario.yaml do not belong together"
        )
    transport = np.maximum(network_rtt / 2.0 - access_equip, 0.0)
    bits = (k.request_bytes + k.response_bytes) * 8.0
    tr_bps = sc.optical.equipment.transceiver_rate_bps
    access_tx = col("latency_transmission_ms") - 2.0 * bits / tr_bps
    access_rate = np.where(access_tx > 0, bits / np.maximum(access_tx, 1e-300), np.inf)
    ok = served
    if not ok.any():
        raise DataError(f"flow {demand}/{service} is not served at any step of the run")
    fill = int(np.flatnonzero(ok)[0])

    def held(a: FloatArray) -> FloatArray:
        return np.where(ok, a, a[fill])

    n = t.size
    delay = np.stack([held(access_equip), held(transport)], axis=1)
    rate = np.stack([held(access_rate), np.full(n, tr_bps)], axis=1)
    loss = np.repeat(np.where(ok, 0.0, 1.0)[:, None], 2, axis=1)
    kinds = sorted({str(a) for a in access[ok]})
    log.info("flow %s/%s: access %s over %d steps", demand, service, "/".join(kinds), n)
    return Schedule(
        flow=f"{demand}/{service}",
        segments=(Segment("access", "/".join(kinds)), Segment("transport", "transport")),
        time_s=t,
        delay_s=delay,
        rate_bps=rate,
        loss=loss,
        predicted_rtt_ms=np.where(ok, network_rtt * 1e3, np.nan),
        end_s=float(t[-1] + _step_s(run_dir, t)),
    )


def schedule_from_run(run_dir: Path, flow: str) -> Schedule:
    """The schedule of ``flow`` in a run directory (``DEMAND/SERVICE`` or ``ntn:PAIR``)."""
    run_dir = Path(run_dir)
    if flow.startswith("ntn:"):
        return _from_ntn(run_dir, flow[4:].strip())
    demand, sep, service = flow.rpartition("/")
    if not sep or not demand or not service:
        raise DataError(
            f"flow {flow!r} is neither DEMAND/SERVICE (a row of flows.parquet, e.g. Tokyo/chat) "
            "nor ntn:PAIR (a pair of ntn_rtt.parquet, e.g. 'ntn:Tokyo → Naha')"
        )
    return _from_flow(run_dir, demand, service)
