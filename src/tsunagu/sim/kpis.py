"""KPIs: per-step records, request-weighted latency statistics and the run summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tsunagu import __version__
from tsunagu.sim import catalogue as kc

if TYPE_CHECKING:
    from tsunagu.sim.twin import Twin

__all__ = [
    "LIGHTPATHS_SCHEMA",
    "NTN_RTT_SCHEMA",
    "NTN_TRACKS_SCHEMA",
    "RunResult",
    "StepRecord",
    "finite_or_none",
    "restoration",
    "summarise",
    "weighted_quantile",
]


def finite_or_none(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None (strict JSON has no inf or NaN)."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_or_none(v) for v in obj]
    return obj


def weighted_quantile(
    values: npt.ArrayLike, weights: npt.ArrayLike, q: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Quantiles of ``values`` where each value counts ``weight`` times (inverted weighted CDF).

    Returns the smallest value whose cumulative weight share reaches ``q``; NaN when the total
    weight is zero. Non-finite values are kept (an unserved request has infinite latency).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    qq = np.atleast_1d(np.asarray(q, dtype=np.float64))
    keep = w > 0
    v, w = v[keep], w[keep]
    if v.size == 0:
        return np.full(qq.shape, np.nan)
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    idx = np.searchsorted(cw, qq * cw[-1], side="left")
    return np.asarray(v[order][np.minimum(idx, v.size - 1)], dtype=np.float64)


@dataclass(frozen=True)
class StepRecord:
    step: int
    time_s: float
    hour_local: float
    energy_optical_kwh: float
    energy_ran_kwh: float
    energy_ntn_kwh: float
    energy_compute_kwh: float
    carbon_kg: float
    satellites_visible: int
    links_down: int
    nodes_down: int
    max_link_utilisation: float
    n_nodes: int
    traffic_offered_bps: float = 0.0
    traffic_carried_bps: float = 0.0
    routing_gap: float = 0.0
    fixed_access_utilisation: float = 0.0
    fixed_access_utilisation_max: float = 0.0


_STR, _F64, _I64 = pa.string(), pa.float64(), pa.int64()

#: Columns of ``lightpaths.parquet``: one DCI lightpath per compute-site pair.
LIGHTPATHS_SCHEMA = pa.schema(
    [
        ("src", _STR),
        ("dst", _STR),
        ("src_roadm", _STR),
        ("dst_roadm", _STR),
        ("operators", _STR),
        ("path", _STR),
        ("hops", _I64),
        ("length_km", _F64),
        ("bit_rate_bps", _F64),
        ("modulation", _STR),
        ("first_slot", _I64),
        ("width_slots", _I64),
        ("gsnr_db", _F64),
        ("margin_db", _F64),
        ("latency_ms", _F64),
        ("ip_latency_ms", _F64),
        ("power_w", _F64),
        ("ip_power_w", _F64),
        ("w_per_gbps", _F64),
        ("ip_w_per_gbps", _F64),
        ("reason", _STR),
    ]
)
#: Columns of ``ntn_rtt.parquet``: RTT over LEO ISLs between the scenario's place pairs.
NTN_RTT_SCHEMA = pa.schema(
    [
        ("time_s", _F64),
        ("pair", _STR),
        ("rtt_ms", _F64),
        ("hops", _I64),
        ("path_change", pa.bool_()),
    ]
)
#: Columns of ``ntn_tracks.parquet``: sub-satellite points at fine steps for ground tracks.
NTN_TRACKS_SCHEMA = pa.schema(
    [
        ("time_s", _F64),
        ("sat_id", _I64),
        ("constellation", _STR),
        ("lat_deg", _F64),
        ("lon_deg", _F64),
        ("alt_m", _F64),
    ]
)


@dataclass(frozen=True)
class RunResult:
    """Tables of one run plus its summary (all plain data, ready to store)."""

    summary: dict[str, Any]
    steps: pa.Table
    flows: pa.Table
    satellites: pa.Table
    nodes: pa.Table
    links: pa.Table
    areas: pa.Table
    events: pa.Table
    # Run-level domain tables (docs/results-format.md): DCI lightpaths of the APN, the LEO RTT
    # series between the scenario's place pairs and satellite ground tracks for the map.
    lightpaths: pa.Table = field(default_factory=lambda: LIGHTPATHS_SCHEMA.empty_table())
    ntn_rtt: pa.Table = field(default_factory=lambda: NTN_RTT_SCHEMA.empty_table())
    ntn_tracks: pa.Table = field(default_factory=lambda: NTN_TRACKS_SCHEMA.empty_table())
    # Per step and link: capacity, load, utilisation and queueing (tsunagu.sim.stages).
    link_loads: pa.Table = field(default_factory=lambda: _empty_link_loads())
    # Per (service, region): round-trip quantiles from the distributions (tsunagu.sim.latency).
    latency: pa.Table = field(default_factory=lambda: _empty_latency())
    # Per step and demand class: offered, carried and blocked b/s, the binding resource.
    traffic: pa.Table = field(default_factory=lambda: _empty_traffic())


def _empty_traffic() -> pa.Table:
    from tsunagu.sim.stages import TRAFFIC_SCHEMA

    return TRAFFIC_SCHEMA.empty_table()


def _empty_link_loads() -> pa.Table:
    from tsunagu.sim.stages import LINK_LOADS_SCHEMA

    return LINK_LOADS_SCHEMA.empty_table()


def _empty_latency() -> pa.Table:
    from tsunagu.sim.latency import LATENCY_SCHEMA

    return LATENCY_SCHEMA.empty_table()


def restoration(
    time_s: npt.ArrayLike,
    unserved: npt.ArrayLike,
    event_start_s: float,
    step_s: float,
) -> dict[str, float | None]:
    """Loss and restoration of one area from its population without service per step.

    The baseline is the population without service at the last step before the first event
    (zero when events start at the first step). The area *loses* service at the first step at
    or after the event start where more people than the baseline are without service, and is
    *restored* at the first later step where it is back at or below the baseline.

    Returns
    -------
    dict with ``baseline``, ``peak_without_service`` (above the baseline), ``lost_at_s``,
    ``restored_at_s``, ``time_to_restore_s`` (None when not lost or not restored within the
    run) and ``person_hours`` without service above the baseline.

    Examples
    --------
    >>> r = restoration([0, 3600, 7200, 10800], [0, 500, 200, 0], 3600.0, 3600.0)
    >>> r["time_to_restore_s"], r["peak_without_service"], r["person_hours"]
    (7200.0, 500.0, 700.0)
    """
    t = np.asarray(time_s, dtype=np.float64)
    u = np.asarray(unserved, dtype=np.float64)
    before = np.flatnonzero(t < event_start_s)
    base = float(u[before[-1]]) if before.size else 0.0
    after = t >= event_start_s
    excess = np.where(after, np.maximum(u - base, 0.0), 0.0)
    lost = np.flatnonzero(after & (u > base + 0.5))
    out: dict[str, float | None] = {
        "baseline": base,
        "peak_without_service": float(excess.max(initial=0.0)),
        "lost_at_s": None,
        "restored_at_s": None,
        "time_to_restore_s": None,
        "person_hours": float(excess.sum() * step_s / 3600.0),
    }
    if lost.size:
        first = int(lost[0])
        out["lost_at_s"] = float(t[first])
        back = np.flatnonzero((np.arange(t.size) > first) & (u <= base + 0.5))
        if back.size:
            out["restored_at_s"] = float(t[int(back[0])])
            out["time_to_restore_s"] = float(t[int(back[0])] - t[first])
    return out


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else float("nan")


def _latency_stats(
    lat_ms: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    met: npt.NDArray[np.bool_],
    carried: npt.NDArray[np.float64],
) -> dict[str, float]:
    """Request-weighted latency quantiles and SLA share; the share of a flow's requests the
    network did not carry (``1 - carried``) counts at infinite latency."""
    lat = np.where(np.isnan(lat_ms), np.inf, lat_ms)
    p50, p95, p99 = weighted_quantile(
        np.concatenate([lat, np.full(lat.size, np.inf)]),
        np.concatenate([w * carried, w * (1.0 - carried)]),
        [0.5, 0.95, 0.99],
    )
    total = float(np.sum(w))
    return {
        kc.LATENCY_P50_MS.name: float(p50),
        kc.LATENCY_P95_MS.name: float(p95),
        kc.LATENCY_P99_MS.name: float(p99),
        kc.SLA_SHARE.name: float(np.sum((w * carried)[met]) / total) if total > 0 else float("nan"),
    }


def summarise(
    twin: Twin,
    records: list[StepRecord],
    flows_tables: list[pa.Table],
    sat_tables: list[pa.Table],
    runtime_s: float,
    events: pa.Table | None = None,
    event_start_s: float = float("inf"),
    seed: int | None = None,
    access_names: tuple[str, ...] = ("ran", "haps", "leo"),
) -> RunResult:
    """Aggregate per-step flows into the steps table, the area table and the headline KPIs.

    ``events`` is the resolved event table and ``event_start_s`` the start of the first
    event (the restoration baseline, see :func:`restoration`).
    """
    sc = twin.scenario
    flows = pa.concat_tables(flows_tables)
    step_col = flows["step"].to_numpy()
    rps = flows[kc.DEMAND_RPS.name].to_numpy()
    lat = flows["latency_total_ms"].to_numpy(zero_copy_only=False)
    met = flows["sla_met"].to_numpy(zero_copy_only=False)
    placed = pc.not_equal(flows["site"], "").to_numpy(zero_copy_only=False)
    # Share of each flow's requests served: placed on a site and carried both ways.
    carried = (
        flows["carried_share"].to_numpy()
        if "carried_share" in flows.column_names
        else np.ones(flows.num_rows)
    )
    served = np.where(placed, carried, 0.0)
    # People have service when their requests are placed and the network carries some of
    # them; congestion that drops a share of them shows in the request and traffic KPIs.
    reached = np.where(placed & (carried > 0.0), 1.0, 0.0)
    pop = flows["population"].to_numpy()
    access = flows["access"].to_numpy(zero_copy_only=False)
    n_k = len(sc.services)

    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "step",
            "time_s",
            "hour_local",
            kc.DEMAND_RPS.name,
            kc.SERVED_RPS.name,
            kc.SERVED_SHARE.name,
            kc.SLA_SHARE.name,
            kc.LATENCY_P50_MS.name,
            kc.LATENCY_P95_MS.name,
            kc.POPULATION_SERVED.name,
            kc.POPULATION_UNSERVED.name,
            *(kc.access_population(a).name for a in (*access_names, "none")),
            kc.ENERGY_OPTICAL_KWH.name,
            kc.ENERGY_RAN_KWH.name,
            kc.ENERGY_NTN_KWH.name,
            kc.ENERGY_COMPUTE_KWH.name,
            kc.ENERGY_TOTAL_KWH.name,
            kc.CARBON_KG.name,
            kc.SATELLITES_VISIBLE.name,
            kc.LINKS_DOWN.name,
            kc.NODES_DOWN.name,
            kc.MAX_LINK_UTILISATION.name,
            kc.FIXED_ACCESS_UTILISATION.name,
            kc.FIXED_ACCESS_UTILISATION_MAX.name,
            kc.TRAFFIC_OFFERED_TBPS.name,
            kc.TRAFFIC_CARRIED_SHARE.name,
            kc.ROUTING_GAP.name,
        )
    }
    for r in records:
        m = step_col == r.step
        w = rps[m]
        st = _latency_stats(lat[m], w, met[m], served[m])
        # A demand point (or the share of it on one access) counts as served when every one of
        # its services reaches a site.
        pt_served = reached[m].reshape(-1, n_k).min(axis=1)
        pt_pop = pop[m].reshape(-1, n_k)[:, 0]
        pt_acc = access[m].reshape(-1, n_k)[:, 0]
        e_total = r.energy_optical_kwh + r.energy_ran_kwh + r.energy_ntn_kwh + r.energy_compute_kwh
        for key, val in (
            ("step", r.step),
            ("time_s", r.time_s),
            ("hour_local", r.hour_local),
            (kc.DEMAND_RPS.name, float(w.sum())),
            (kc.SERVED_RPS.name, float((w * served[m]).sum())),
            (
                kc.SERVED_SHARE.name,
                float((w * served[m]).sum() / w.sum()) if w.sum() > 0 else float("nan"),
            ),
            (kc.SLA_SHARE.name, st[kc.SLA_SHARE.name]),
            (kc.LATENCY_P50_MS.name, st[kc.LATENCY_P50_MS.name]),
            (kc.LATENCY_P95_MS.name, st[kc.LATENCY_P95_MS.name]),
            (kc.POPULATION_SERVED.name, float((pt_pop * pt_served).sum())),
            (kc.POPULATION_UNSERVED.name, float((pt_pop * (1.0 - pt_served)).sum())),
            *(
                (kc.access_population(a).name, float((pt_pop * pt_served)[pt_acc == a].sum()))
                for a in access_names
            ),
            (kc.access_population("none").name, float(pt_pop[pt_acc == "none"].sum())),
            (kc.ENERGY_OPTICAL_KWH.name, r.energy_optical_kwh),
            (kc.ENERGY_RAN_KWH.name, r.energy_ran_kwh),
            (kc.ENERGY_NTN_KWH.name, r.energy_ntn_kwh),
            (kc.ENERGY_COMPUTE_KWH.name, r.energy_compute_kwh),
            (kc.ENERGY_TOTAL_KWH.name, e_total),
            (kc.CARBON_KG.name, r.carbon_kg),
            (kc.SATELLITES_VISIBLE.name, r.satellites_visible),
            (kc.LINKS_DOWN.name, r.links_down),
            (kc.NODES_DOWN.name, r.nodes_down),
            (kc.MAX_LINK_UTILISATION.name, r.max_link_utilisation),
            (kc.FIXED_ACCESS_UTILISATION.name, r.fixed_access_utilisation),
            (kc.FIXED_ACCESS_UTILISATION_MAX.name, r.fixed_access_utilisation_max),
            (kc.TRAFFIC_OFFERED_TBPS.name, r.traffic_offered_bps / 1e12),
            (
                kc.TRAFFIC_CARRIED_SHARE.name,
                r.traffic_carried_bps / r.traffic_offered_bps
                if r.traffic_offered_bps > 0
                else float("nan"),
            ),
            (kc.ROUTING_GAP.name, r.routing_gap),
        ):
            rows[key].append(val)
    steps = pa.table(rows)

    # Request weights: a flow's requests over its step.
    w_all = rps * sc.timeline.step_s
    head = _latency_stats(lat, w_all, met, served)
    total_pop = float(twin.demand.population.sum())
    pop_served_share = float(np.mean(np.asarray(rows[kc.POPULATION_SERVED.name]) / total_pop))
    areas, restored = _areas(twin, flows, reached, steps, event_start_s)
    lost = [r for r in restored if r["lost_at_s"] is not None]
    kpis = {
        **head,
        kc.SLA_VIOLATIONS.name: float(w_all.sum() - (w_all * served)[met].sum()),
        # Absolute (any cause: events, capacity, no path); restoration below is per area and
        # counts only what the events added above the pre-event baseline.
        kc.POPULATION_WITHOUT_SERVICE_PEAK.name: float(
            max(rows[kc.POPULATION_UNSERVED.name], default=0.0)
        ),
        kc.PERSON_HOURS_WITHOUT_SERVICE.name: float(
            np.sum(rows[kc.POPULATION_UNSERVED.name]) * sc.timeline.step_s / 3600.0
        ),
        kc.AREAS_LOST.name: len(lost),
        kc.AREAS_RESTORED.name: sum(1 for r in lost if r["time_to_restore_s"] is not None),
        kc.TIME_TO_RESTORE_MAX_S.name: (
            max(float(r["time_to_restore_s"]) for r in lost)
            if lost and all(r["time_to_restore_s"] is not None for r in lost)
            else (None if lost else 0.0)
        ),
        kc.SERVED_SHARE.name: float((w_all * served).sum() / w_all.sum()),
        kc.POPULATION_SERVED_SHARE.name: pop_served_share,
        kc.ENERGY_TOTAL_KWH.name: float(np.sum(rows[kc.ENERGY_TOTAL_KWH.name])),
        kc.ENERGY_OPTICAL_KWH.name: float(np.sum(rows[kc.ENERGY_OPTICAL_KWH.name])),
        kc.ENERGY_RAN_KWH.name: float(np.sum(rows[kc.ENERGY_RAN_KWH.name])),
        kc.ENERGY_NTN_KWH.name: float(np.sum(rows[kc.ENERGY_NTN_KWH.name])),
        kc.ENERGY_COMPUTE_KWH.name: float(np.sum(rows[kc.ENERGY_COMPUTE_KWH.name])),
        kc.CARBON_KG.name: float(np.sum(rows[kc.CARBON_KG.name])),
        kc.REQUESTS_TOTAL.name: float(w_all.sum()),
        **{
            kc.access_population(a).name: float(
                max(rows[kc.access_population(a).name], default=0.0)
            )
            for a in (*access_names, "none")
        },
        kc.MAX_LINK_UTILISATION.name: float(
            max((r.max_link_utilisation for r in records), default=0.0)
        ),
        kc.FIXED_ACCESS_UTILISATION.name: float(
            max((r.fixed_access_utilisation for r in records), default=0.0)
        ),
        kc.FIXED_ACCESS_UTILISATION_MAX.name: float(
            max((r.fixed_access_utilisation_max for r in records), default=0.0)
        ),
        kc.TRAFFIC_OFFERED_TBPS.name: float(
            np.mean([r.traffic_offered_bps for r in records]) / 1e12 if records else 0.0
        ),
        kc.TRAFFIC_OFFERED_PEAK_TBPS.name: float(
            max((r.traffic_offered_bps for r in records), default=0.0) / 1e12
        ),
        kc.TRAFFIC_CARRIED_SHARE.name: _share(
            sum(r.traffic_carried_bps for r in records), sum(r.traffic_offered_bps for r in records)
        ),
        kc.TRAFFIC_CARRIED_SHARE_MIN.name: float(
            min(
                (
                    r.traffic_carried_bps / r.traffic_offered_bps
                    for r in records
                    if r.traffic_offered_bps > 0
                ),
                default=float("nan"),
            )
        ),
        kc.ROUTING_GAP.name: float(max((r.routing_gap for r in records), default=0.0)),
    }
    service_col = flows["service"].to_numpy(zero_copy_only=False)
    per_service = {
        k.name: _latency_stats(
            lat[service_col == k.name],
            w_all[service_col == k.name],
            met[service_col == k.name],
            served[service_col == k.name],
        )
        for k in sc.services
    }
    region_col = flows["region"].to_numpy(zero_copy_only=False)
    per_region = {
        str(g): _latency_stats(
            lat[region_col == g],
            w_all[region_col == g],
            met[region_col == g],
            served[region_col == g],
        )
        for g in sorted(set(region_col))
    }
    nodes_tbl = twin.static.nodes.to_arrow()
    links_tbl = twin.static.links.to_arrow(twin.static.nodes.name)
    sats = (
        pa.concat_tables(sat_tables)
        if sat_tables
        else pa.table(
            {
                "step": pa.array([], pa.int64()),
                "time_s": pa.array([], pa.float64()),
                "constellation": pa.array([], pa.string()),
                "sat_id": pa.array([], pa.int64()),
                "lat_deg": pa.array([], pa.float64()),
                "lon_deg": pa.array([], pa.float64()),
                "alt_m": pa.array([], pa.float64()),
            }
        )
    )
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "seed": sc.timeline.seed,
        "steps": len(records),
        "step_s": sc.timeline.step_s,
        "runtime_s": runtime_s,
        "tsunagu_version": __version__,
        "policy": sc.policy,
        "counts": {
            "demand_points": int(twin.demand.name.size),
            "nodes": len(twin.static.nodes),
            "links": len(twin.static.links),
            "satellites": int(sum(c.planes * c.sats_per_plane for c in sc.ntn.constellations)),
            "compute_sites": len(sc.compute.sites),
            "services": len(sc.services),
            "ran_sites": int(twin.ran.sites.sum()),
        },
        "kpis": kpis,
        "per_service": per_service,
        "per_region": per_region,
        "restoration": {str(r["prefecture"]): r for r in lost},
        "events": int(events.num_rows) if events is not None else 0,
        "event_seed": seed,
        kc.MAX_LINK_UTILISATION.name: float(
            max((r.max_link_utilisation for r in records), default=0.0)
        ),
    }
    return RunResult(
        summary=finite_or_none(summary),
        steps=steps,
        flows=flows,
        satellites=sats,
        nodes=nodes_tbl,
        links=links_tbl,
        areas=areas,
        events=events if events is not None else _EMPTY_EVENTS,
    )


_EMPTY_EVENTS = pa.table(
    {
        "origin": pa.array([], pa.string()),
        "kind": pa.array([], pa.string()),
        "target": pa.array([], pa.string()),
        "start_s": pa.array([], pa.float64()),
        "end_s": pa.array([], pa.float64()),
        "factor": pa.array([], pa.float64()),
        "demand_points": pa.array([], pa.int64()),
        "links": pa.array([], pa.int64()),
        "nodes": pa.array([], pa.int64()),
        "satellites": pa.array([], pa.int64()),
    }
)


def _areas(
    twin: Twin,
    flows: pa.Table,
    served: npt.NDArray[np.float64],
    steps: pa.Table,
    event_start_s: float,
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Population without service and on NTN backup per step and prefecture, and restoration."""
    from tsunagu import geo

    n_k = len(twin.scenario.services)
    step = flows["step"].to_numpy()[::n_k]
    pref = flows["prefecture"].to_numpy()[::n_k].astype(np.int64)
    pop = flows["population"].to_numpy()[::n_k]
    acc = flows["access"].to_numpy(zero_copy_only=False)[::n_k]
    row_served = served.reshape(-1, n_k).min(axis=1)
    codes = np.unique(twin.demand.prefecture).astype(np.int64)
    n_steps = steps.num_rows
    cell = step * codes.size + np.searchsorted(codes, pref)
    size = n_steps * codes.size
    total = np.bincount(cell, weights=pop, minlength=size).reshape(n_steps, codes.size)
    without = np.bincount(cell, weights=pop * (1.0 - row_served), minlength=size).reshape(
        n_steps, codes.size
    )
    on_ntn = np.bincount(
        cell, weights=np.where(np.isin(acc, ("haps", "leo")), pop * row_served, 0.0), minlength=size
    ).reshape(n_steps, codes.size)
    prefs = geo.load_prefectures()
    name_of = {int(c): str(n) for c, n in zip(prefs.jis_code, prefs.name_en, strict=True)}
    region_of = {int(c): str(r) for c, r in zip(prefs.jis_code, prefs.region, strict=True)}
    time_s = steps["time_s"].to_numpy()
    table = pa.table(
        {
            "step": np.repeat(np.arange(n_steps, dtype=np.int64), codes.size),
            "time_s": np.repeat(time_s, codes.size),
            "prefecture": np.tile(codes, n_steps),
            "prefecture_name": np.tile([name_of.get(int(c), str(c)) for c in codes], n_steps),
            "region": np.tile([region_of.get(int(c), "") for c in codes], n_steps),
            "population": total.ravel(),
            "population_without_service": without.ravel(),
            "population_on_ntn": on_ntn.ravel(),
        }
    )
    step_s = float(twin.scenario.timeline.step_s)
    restored = []
    for j, c in enumerate(codes):
        r = restoration(time_s, without[:, j], event_start_s, step_s)
        restored.append(
            {
                "prefecture": name_of.get(int(c), str(c)),
                **r,
                "population_on_ntn_peak": float(on_ntn[:, j].max(initial=0.0)),
            }
        )
    return table, restored
