"""The engine: the timeline loop that joins every domain, step by step.

Each step runs the chain of named stages of :mod:`tsunagu.sim.stages`::

    state    satellites at this step (streamed) and the network state with their feeder links
    events   the step's failures on the state; RAN, NTN and demand-surge factors
    access   shortest paths from the compute sites; the registered access layers' options,
             each layer carrying what the earlier ones left (tsunagu.sim.access)
    demand   offered requests and traffic per point; load and admission on every shared
             access resource (cells, HAPS beams, LEO beams); access transfer delays
    route    the policy places each admitted AI flow; all traffic (AI, national fixed and
             mobile) routed to a congestion-aware equilibrium and allocated within the links'
             capacities (tsunagu.net.flow): carried, blocked, binding link, M/M/1 queueing
    measure  latency split, compute queueing, energy and carbon; flows, link_loads, record;
             the served flows as latency distributions (tsunagu.sim.latency), streamed into
             per-(service, region) histograms after each step (latency.parquet)

Any stage can be replaced by name or callable (``run_twin(twin, stages={...})``).

After the loop, run-level tables (population without service per prefecture and step, loss and
restoration per prefecture, the resolved events) are built by :func:`summarise`, and the
domains' run-level tables are added: the DCI lightpaths planned across the operators' APN with
their GSNR margin and their power and latency against IP hops (``Twin.dci``), the LEO RTT series
between the scenario's place pairs, and ground tracks for the map.

A request's end-to-end latency is one round trip: propagation there and back, transmission of
the request and the response, queueing in the access resource, on the links and at the compute
site, and processing (network equipment delay, the air interface and the AI service itself).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tsunagu.errors import ScenarioError
from tsunagu.geo import ecef_to_geodetic
from tsunagu.ntn.routing import walker_rtt_series
from tsunagu.orchestrate.policy import get_policy
from tsunagu.sim import catalogue as kc
from tsunagu.sim import latency
from tsunagu.sim.access import build_access_layers
from tsunagu.sim.events import EventSchedule
from tsunagu.sim.kpis import (
    LIGHTPATHS_SCHEMA,
    NTN_RTT_SCHEMA,
    NTN_TRACKS_SCHEMA,
    RunResult,
    StepRecord,
    finite_or_none,
    summarise,
)
from tsunagu.sim.latency import LatencyAccumulator
from tsunagu.sim.stages import (
    LINK_LOADS_SCHEMA,
    TRAFFIC_SCHEMA,
    RunSetup,
    Stage,
    Step,
    resolve_stages,
)
from tsunagu.sim.twin import Twin

__all__ = ["run_twin"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def run_twin(
    twin: Twin,
    progress: Callable[[int, int], None] | None = None,
    seed: int | None = None,
    stages: Mapping[str, str | Stage] | None = None,
) -> RunResult:
    """Run every step of the twin's timeline through the stages and return the result tables.

    Parameters
    ----------
    twin : the built scenario.
    progress : called with (steps done, steps in all) after every step.
    seed : seed of the event draws (which links of an area are cut, which satellites fail);
        defaults to the scenario's ``timeline.seed``. Same twin and seed, same results.
    stages : replacements of stages by name (``state``, ``events``, ``access``, ``demand``,
        ``route``, ``measure``): an implementation registered with
        :func:`tsunagu.sim.stages.register_stage`, or a callable ``stage(run, step)``.
    """
    sc = twin.scenario
    tl = sc.timeline
    events = EventSchedule(sc.events, twin, seed=seed)
    run = RunSetup.build(twin, get_policy(sc.policy), events, build_access_layers(twin))
    chain = resolve_stages(stages)
    times = twin.times_s
    flows_tables: list[pa.Table] = []
    sat_tables: list[pa.Table] = []
    load_tables: list[pa.Table] = []
    traffic_tables: list[pa.Table] = []
    records: list[StepRecord] = []
    lat_acc = LatencyAccumulator(run.service_names, twin.demand.region, times.size)
    wall0 = time.perf_counter()
    for i, t in enumerate(times):
        step = Step(i, float(t), float((tl.start_hour_local + t / 3600.0) % 24.0))
        for _, stage in chain:
            stage(run, step)
        if step.flows is None or step.record is None:
            raise ScenarioError("the measure stage must fill the step's flows and record")
        flows_tables.append(step.flows)
        step_latency = step.data.get(latency.STEP_KEY)
        if step_latency is not None:
            lat_acc.add(step_latency, np.random.default_rng([events.seed, latency.RNG_STREAM, i]))
        records.append(step.record)
        if step.satellites is not None:
            sat_tables.append(step.satellites)
        if step.link_loads is not None:
            load_tables.append(step.link_loads)
        if step.traffic is not None:
            traffic_tables.append(step.traffic)
        if progress is not None:
            progress(i + 1, times.size)
    runtime = time.perf_counter() - wall0
    log.info("ran %d steps in %.2f s", times.size, runtime)

    # ---- run-level tables: restoration by area and the events as resolved ----------------
    result = summarise(
        twin,
        records,
        flows_tables,
        sat_tables,
        runtime,
        events=events.table(),
        event_start_s=events.first_start_s,
        seed=events.seed,
        access_names=tuple(layer.name for layer in run.layers),
    )
    # ---- run-level domain tables: APN lightpaths, LEO RTT series and ground tracks --------
    lightpaths = pa.Table.from_pydict(twin.dci.columns, schema=LIGHTPATHS_SCHEMA)
    rtt, rtt_kpis = _ntn_rtt_table(twin)
    tracks = _ntn_tracks_table(twin)
    fh = twin.fronthaul
    kpis = dict(result.summary["kpis"])
    kpis.update(twin.dci.kpis())
    kpis.update(rtt_kpis)
    latency_table = lat_acc.table()
    dist = LatencyAccumulator.kpis(latency_table)
    kpis.update(dist["overall"])
    kpis.update(
        {
            kc.FRONTHAUL_SITE_GBPS.name: fh.site_bps / 1e9,
            kc.FRONTHAUL_TOTAL_TBPS.name: float(np.sum(fh.demand_bps)) / 1e12,
            kc.FRONTHAUL_REACH_KM.name: fh.reach_km,
            kc.FRONTHAUL_SITES_WITHIN_BUDGET_SHARE.name: fh.share_within_budget,
            kc.FRONTHAUL_WAVELENGTHS.name: float(np.sum(fh.wavelengths)),
        }
    )
    summary = dict(result.summary)
    summary["kpis"] = finite_or_none(kpis)
    section = sc.traffic
    summary["traffic"] = {
        "label": section.label if section.enabled else "none (AI traffic only)",
        "enabled": section.enabled,
        "base_year": section.base_year,
        "year": section.year,
        "share": section.share,
        "scale": section.scale,
        "destinations": dict(section.destinations),
    }
    for block in ("per_service", "per_region"):
        summary[block] = {
            name: {**stats, **finite_or_none(dist[block].get(name, {}))}
            for name, stats in summary[block].items()
        }
    link_loads = pa.concat_tables(load_tables) if load_tables else LINK_LOADS_SCHEMA.empty_table()
    traffic = pa.concat_tables(traffic_tables) if traffic_tables else TRAFFIC_SCHEMA.empty_table()
    return dataclasses.replace(
        result,
        summary=summary,
        lightpaths=lightpaths,
        ntn_rtt=rtt,
        ntn_tracks=tracks,
        link_loads=link_loads,
        traffic=traffic,
        latency=latency_table,
    )


#: Ground tracks for the report's map: this long a window at this step from the run's start.
_TRACK_WINDOW_S = 1800.0
_TRACK_STEP_S = 60.0


def _ntn_rtt_table(twin: Twin) -> tuple[pa.Table, dict[str, float]]:
    """RTT over the LEO ISL mesh between the scenario's place pairs through the run."""
    sc = twin.scenario
    ntn = sc.ntn
    if not ntn.rtt_pairs or not ntn.constellations:
        return NTN_RTT_SCHEMA.empty_table(), {}
    tl = sc.timeline
    step = min(ntn.rtt_step_s, tl.step_s)
    times = np.arange(0.0, tl.duration_s, step)
    sat, _ = twin.satellites_ecef(times)
    series = walker_rtt_series(
        list(twin.shells),
        [(a, b) for a, b in ntn.rtt_pairs],
        times,
        sat_ecef_m=sat,
        min_elevation_deg=min(c.min_elevation_deg for c in ntn.constellations),
        isl_pattern=ntn.isl_pattern,
        max_isl_range_m=(ntn.isl_max_range_km or np.inf) * 1e3,
        min_grazing_altitude_m=ntn.isl_min_grazing_km * 1e3,
    )
    n_t, n_p = series.rtt_s.shape
    changed = np.zeros((n_t, n_p), dtype=bool)
    if n_t > 1:
        # The satellite sequence of a route changed since the previous step.
        changed[1:] = np.any(series.paths[1:] != series.paths[:-1], axis=-1)
    labels = np.array([f"{a} → {b}" for a, b in series.pairs])
    rtt_ms = series.rtt_s * 1e3
    table = pa.table(
        {
            "time_s": np.repeat(series.time_s, n_p),
            "pair": np.tile(labels, n_t),
            "rtt_ms": np.where(np.isfinite(rtt_ms), rtt_ms, np.nan).ravel(),
            "hops": series.hops.astype(np.int64).ravel(),
            "path_change": changed.ravel(),
        },
        schema=NTN_RTT_SCHEMA,
    )
    ok = np.isfinite(rtt_ms)
    kpis = {
        kc.NTN_RTT_P50_MS.name: float(np.median(rtt_ms[ok])) if ok.any() else float("nan"),
        kc.NTN_RTT_MAX_MS.name: float(np.max(rtt_ms[ok])) if ok.any() else float("nan"),
        kc.NTN_RTT_PATH_CHANGES.name: float(np.sum(series.path_changes)),
        kc.NTN_RTT_OUTAGE_SHARE.name: float(1.0 - ok.mean()),
    }
    return table, kpis


def _ntn_tracks_table(twin: Twin) -> pa.Table:
    """Sub-satellite points every minute over the first half hour, for the map's tracks."""
    sc = twin.scenario
    if not sc.ntn.constellations:
        return NTN_TRACKS_SCHEMA.empty_table()
    window = min(_TRACK_WINDOW_S, sc.timeline.duration_s)
    times = np.arange(0.0, window + 1e-9, _TRACK_STEP_S)
    sat, owner = twin.satellites_ecef(times)
    n_t, n_sat = sat.shape[:2]
    lat, lon, alt = ecef_to_geodetic(sat[..., 0], sat[..., 1], sat[..., 2])
    return pa.table(
        {
            "time_s": np.repeat(times, n_sat),
            "sat_id": np.tile(np.arange(n_sat, dtype=np.int64), n_t),
            "constellation": np.tile(np.asarray(owner).astype(str), n_t),
            "lat_deg": np.asarray(lat).ravel(),
            "lon_deg": np.asarray(lon).ravel(),
            "alt_m": np.asarray(alt).ravel(),
        },
        schema=NTN_TRACKS_SCHEMA,
    )
