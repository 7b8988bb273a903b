"""KPIs: per-step records, request-weighted latency statistics and the run summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tsunagu import __version__

if TYPE_CHECKING:
    from tsunagu.sim.twin import Twin

__all__ = ["RunResult", "StepRecord", "finite_or_none", "summarise", "weighted_quantile"]


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


@dataclass(frozen=True)
class RunResult:
    """Tables of one run plus its summary (all plain data, ready to store)."""

    summary: dict[str, Any]
    steps: pa.Table
    flows: pa.Table
    satellites: pa.Table
    nodes: pa.Table
    links: pa.Table


def _latency_stats(
    lat_ms: npt.NDArray[np.float64], w: npt.NDArray[np.float64], met: npt.NDArray[np.bool_]
) -> dict[str, float]:
    lat = np.where(np.isnan(lat_ms), np.inf, lat_ms)
    p50, p95 = weighted_quantile(lat, w, [0.5, 0.95])
    total = float(np.sum(w))
    return {
        "latency_p50_ms": float(p50),
        "latency_p95_ms": float(p95),
        "sla_share": float(np.sum(w[met]) / total) if total > 0 else float("nan"),
    }


def summarise(
    twin: Twin,
    records: list[StepRecord],
    flows_tables: list[pa.Table],
    sat_tables: list[pa.Table],
    runtime_s: float,
) -> RunResult:
    """Aggregate per-step flows into the steps table and the headline KPIs."""
    sc = twin.scenario
    flows = pa.concat_tables(flows_tables)
    step_col = flows["step"].to_numpy()
    rps = flows["demand_rps"].to_numpy()
    lat = flows["latency_total_ms"].to_numpy(zero_copy_only=False)
    met = flows["sla_met"].to_numpy(zero_copy_only=False)
    served = pc.not_equal(flows["site"], "").to_numpy(zero_copy_only=False)
    pop = flows["population"].to_numpy()
    n_k = len(sc.services)

    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "step",
            "time_s",
            "hour_local",
            "demand_rps",
            "served_rps",
            "served_share",
            "sla_share",
            "latency_p50_ms",
            "latency_p95_ms",
            "population_served",
            "population_unserved",
            "energy_optical_kwh",
            "energy_ran_kwh",
            "energy_ntn_kwh",
            "energy_compute_kwh",
            "energy_total_kwh",
            "carbon_kg",
            "satellites_visible",
            "links_down",
            "nodes_down",
            "max_link_utilisation",
        )
    }
    for r in records:
        m = step_col == r.step
        w = rps[m]
        st = _latency_stats(lat[m], w, met[m])
        # A demand point counts as served when every one of its services is served.
        pt_served = served[m].reshape(-1, n_k).all(axis=1)
        pt_pop = pop[m].reshape(-1, n_k)[:, 0]
        e_total = r.energy_optical_kwh + r.energy_ran_kwh + r.energy_ntn_kwh + r.energy_compute_kwh
        for key, val in (
            ("step", r.step),
            ("time_s", r.time_s),
            ("hour_local", r.hour_local),
            ("demand_rps", float(w.sum())),
            ("served_rps", float(w[served[m]].sum())),
            ("served_share", float(w[served[m]].sum() / w.sum()) if w.sum() > 0 else float("nan")),
            ("sla_share", st["sla_share"]),
            ("latency_p50_ms", st["latency_p50_ms"]),
            ("latency_p95_ms", st["latency_p95_ms"]),
            ("population_served", float(pt_pop[pt_served].sum())),
            ("population_unserved", float(pt_pop[~pt_served].sum())),
            ("energy_optical_kwh", r.energy_optical_kwh),
            ("energy_ran_kwh", r.energy_ran_kwh),
            ("energy_ntn_kwh", r.energy_ntn_kwh),
            ("energy_compute_kwh", r.energy_compute_kwh),
            ("energy_total_kwh", e_total),
            ("carbon_kg", r.carbon_kg),
            ("satellites_visible", r.satellites_visible),
            ("links_down", r.links_down),
            ("nodes_down", r.nodes_down),
            ("max_link_utilisation", r.max_link_utilisation),
        ):
            rows[key].append(val)
    steps = pa.table(rows)

    # Request weights: a flow's requests over its step.
    w_all = rps * sc.timeline.step_s
    head = _latency_stats(lat, w_all, met)
    total_pop = float(twin.demand.population.sum())
    pop_served_share = float(np.mean(np.asarray(rows["population_served"]) / total_pop))
    kpis = {
        **head,
        "served_share": float(w_all[served].sum() / w_all.sum()),
        "population_served_share": pop_served_share,
        "energy_total_kwh": float(np.sum(rows["energy_total_kwh"])),
        "energy_optical_kwh": float(np.sum(rows["energy_optical_kwh"])),
        "energy_ran_kwh": float(np.sum(rows["energy_ran_kwh"])),
        "energy_ntn_kwh": float(np.sum(rows["energy_ntn_kwh"])),
        "energy_compute_kwh": float(np.sum(rows["energy_compute_kwh"])),
        "carbon_kg": float(np.sum(rows["carbon_kg"])),
        "requests_total": float(w_all.sum()),
    }
    service_col = flows["service"].to_numpy(zero_copy_only=False)
    per_service = {
        k.name: _latency_stats(
            lat[service_col == k.name], w_all[service_col == k.name], met[service_col == k.name]
        )
        for k in sc.services
    }
    region_col = flows["region"].to_numpy(zero_copy_only=False)
    per_region = {
        str(g): _latency_stats(lat[region_col == g], w_all[region_col == g], met[region_col == g])
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
        "max_link_utilisation": float(max((r.max_link_utilisation for r in records), default=0.0)),
    }
    return RunResult(
        summary=finite_or_none(summary),
        steps=steps,
        flows=flows,
        satellites=sats,
        nodes=nodes_tbl,
        links=links_tbl,
    )
