"""The one place the service touches the engine: scenarios, runs, sweeps, views and results.

Everything else in :mod:`tsunagu.api` calls these functions, so when the engine's API changes
only this module follows it. The external-controller hook is :func:`run_scenario` 's
``policy`` argument: an object with ``name`` and ``allocate(problem)`` that the engine asks at
every step (the placement stage, :class:`tsunagu.orchestrate.policy.Policy`).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from tsunagu.errors import ScenarioError
from tsunagu.orchestrate.policy import AllocationProblem, Policy
from tsunagu.results.store import TABLES, atomic_path
from tsunagu.scenario.loader import scenario_from_text
from tsunagu.scenario.schema import Scenario

__all__ = [
    "RESULT_TABLES",
    "AllocationProblem",
    "admit_intent",
    "compare_summaries",
    "parse_scenario",
    "problem_to_json",
    "read_table",
    "run_geojson",
    "run_scenario",
    "run_sweep_job",
    "scenario_info",
]

RESULT_TABLES: tuple[str, ...] = TABLES
Progress = Callable[[int, int], None]


def parse_scenario(text: str, filename: str = "scenario.yaml") -> Scenario:
    """Validate YAML text (safe loader) into a scenario; errors start with ``filename:line:``."""
    return scenario_from_text(text, filename)


def scenario_info(sc: Scenario) -> dict[str, Any]:
    tl = sc.timeline
    return {
        "name": sc.name,
        "description": sc.description,
        "steps": math.floor(tl.duration_s / tl.step_s + 1e-9),
        "step_s": tl.step_s,
        "policy": sc.policy,
        "services": [s.name for s in sc.services],
        "compute_sites": [s.name for s in sc.compute.sites],
    }


_POLICY_LOCK = threading.Lock()
_POLICY_SEQ = itertools.count()


def run_scenario(
    scenario_yaml: str,
    out_dir: Path,
    progress: Progress | None = None,
    policy: str | Policy | None = None,
) -> dict[str, Any]:
    """Run the scenario, write its run directory and return its summary.

    ``policy`` overrides the scenario's placement policy: a registered name, or an object the
    engine asks at every step (the hook an external controller is bridged through).
    """
    from tsunagu.orchestrate.policy import register_policy, with_policy
    from tsunagu.runner import run

    sc = parse_scenario(scenario_yaml)
    if isinstance(policy, str):
        sc = with_policy(sc, policy)
    elif policy is not None:
        obj = policy
        with _POLICY_LOCK:
            name = f"{obj.name}#{next(_POLICY_SEQ)}"
            register_policy(name, lambda: obj)
        sc = with_policy(sc, name)
    result = run(sc, out_dir, progress=progress)
    return dict(result.summary)


def run_sweep_job(
    scenario_yaml: str,
    params: Mapping[str, Any],
    out_dir: Path,
    progress: Progress | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Run a sweep (tsunagu.sim.sweep) and write ``sweep.parquet`` and ``summary.json``."""
    from tsunagu.sim.sweep import make_cases, run_sweep

    sc = parse_scenario(scenario_yaml)
    cases = make_cases(
        sc,
        runs=int(params.get("runs", 1)),
        seed=params.get("seed"),
        grid=params.get("grid") or None,
        fail_links_share=float(params.get("fail_links_share", 0.0)),
        fail_satellites_share=float(params.get("fail_satellites_share", 0.0)),
    )
    res = run_sweep(cases, workers=workers, scheduler=scheduler, progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "sweep.parquet") as tmp:
        pq.write_table(res.table, tmp, compression="zstd")
    summary = {
        "scenario": sc.name,
        "cases": res.table.num_rows,
        "backend": res.backend,
        "workers": res.workers,
        "columns": res.table.column_names,
    }
    with atomic_path(out_dir / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def read_table(run_dir: Path, name: str) -> pa.Table:
    from tsunagu.results.store import read_table as _read

    return _read(run_dir, name)


def compare_summaries(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    from tsunagu.report.compare import compare_rows

    return {
        key: {"label": label, "unit": unit, "a": va, "b": vb, "delta": d}
        for key, label, unit, va, vb, d in compare_rows(a, b)
    }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def problem_to_json(problem: AllocationProblem) -> dict[str, Any]:
    """The placement observation as JSON (``null`` for ``inf``: unreachable)."""

    def mat(a: Any) -> Any:
        if a is None:
            return None
        arr = np.asarray(a, dtype=np.float64)
        out = np.where(np.isfinite(arr), arr, np.nan).round(9)
        return (
            [[None if v != v else v for v in row] for row in out.tolist()]
            if arr.ndim == 2
            else [None if v != v else v for v in out.tolist()]
        )

    return {
        "latency_s": mat(problem.latency_s),
        "load_gpu": mat(problem.load_gpu),
        "capacity_gpu": mat(problem.capacity_gpu),
        "sla_s": mat(problem.sla_s),
        "carbon_g_per_request": mat(problem.carbon_g_per_request),
        "energy_wh_per_request": mat(problem.energy_wh_per_request),
    }


# ---- intents ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _view(scenario_yaml: str, time_s: float) -> tuple[Any, Scenario]:
    from tsunagu.orchestrate.view import view_from_twin
    from tsunagu.sim.twin import Twin

    sc = parse_scenario(scenario_yaml)
    return view_from_twin(Twin(sc), time_s=time_s), sc


_VIEW_LOCK = threading.Lock()


def admit_intent(
    scenario_yaml: str,
    request: Mapping[str, Any],
    held_gpu_by_site: Mapping[str, float],
) -> dict[str, Any]:
    """Admit one intent on the run's network view at t = 0, given the GPU load already held.

    ``request``: point, service, sla_latency_ms, percentile, availability, bandwidth_bps,
    request_rate_per_s, device, policy. Raises ScenarioError on a name the twin does not know.
    """
    from tsunagu.compute.services import ServiceProfile
    from tsunagu.orchestrate.admission import OnlineAdmission
    from tsunagu.orchestrate.intents import make_intents

    with _VIEW_LOCK:
        view, sc = _view(scenario_yaml, 0.0)
    svc = {s.name: s for s in sc.services}
    name = str(request["service"])
    if name not in svc:
        raise ScenarioError(f"unknown service {name!r}; the scenario has {sorted(svc)}")
    s = svc[name]
    profile = ServiceProfile(name, s.energy_wh_per_request, s.processing_s)
    batch = make_intents(
        view,
        np.array([str(request["point"])]),
        profile,
        float(request["sla_latency_ms"]),
        percentile=float(request.get("percentile", 0.95)),
        availability=float(request.get("availability", 0.0)),
        bandwidth_bps=float(request.get("bandwidth_bps", 0.0)),
        request_rate_per_s=float(request.get("request_rate_per_s", 1.0)),
        request_bytes=s.request_bytes,
        response_bytes=s.response_bytes,
        device=str(request.get("device", s.device)),
    )
    names = [str(n) for n in view.site_name.tolist()]
    held = np.array([float(held_gpu_by_site.get(n, 0.0)) for n in names])
    adm = OnlineAdmission(view, str(request.get("policy", "latency-first")), background_gpu=held)
    r = adm.admit(batch)
    ok = bool(r.admitted[0])
    return {
        "admitted": ok,
        "site": names[int(r.site[0])] if ok else "",
        "access": view.access_names[int(r.access[0])] if ok else "",
        "latency_ms": _finite(float(r.latency_s[0]) * 1e3),
        "availability": _finite(float(r.availability[0])) if ok else None,
        "gpu_load": float(r.gpu_load[0]) if ok else 0.0,
        "constraint": str(r.constraint_names()[0]),
        "reason": str(r.reason[0]),
    }


def view_points(scenario_yaml: str) -> list[str]:
    with _VIEW_LOCK:
        view, _ = _view(scenario_yaml, 0.0)
    return [str(n) for n in view.point_name.tolist()]


# ---- GeoJSON ---------------------------------------------------------------------------------


def _col(t: pa.Table, name: str, default: Any = None) -> list[Any]:
    return t[name].to_pylist() if name in t.column_names else [default] * t.num_rows


def run_geojson(run_dir: Path) -> dict[str, Any]:
    """Nodes, links, satellites and failures of a run directory as one GeoJSON collection.

    Every feature has ``properties.layer``: ``node`` (with ``kind``: dc, edge, roadm, gateway,
    haps, demand point, ...), ``link``, ``satellite`` (with ``step``) or ``failure``.
    """
    nodes = read_table(run_dir, "nodes")
    links = read_table(run_dir, "links")
    sats = read_table(run_dir, "satellites")
    scenario = yaml.safe_load((run_dir / "scenario.yaml").read_text(encoding="utf-8")) or {}
    feats: list[dict[str, Any]] = []
    where: dict[str, tuple[float, float]] = {}
    haps_radius = {
        h.get("name"): float(h.get("coverage_radius_km", 0.0))
        for h in (scenario.get("ntn") or {}).get("haps", []) or []
    }
    for name, kind, domain, op, lat, lon, up in zip(
        _col(nodes, "name"),
        _col(nodes, "kind"),
        _col(nodes, "domain"),
        _col(nodes, "operator", ""),
        _col(nodes, "lat_deg"),
        _col(nodes, "lon_deg"),
        _col(nodes, "up", True),
        strict=True,
    ):
        where[name] = (lon, lat)
        props: dict[str, Any] = {
            "layer": "node",
            "name": name,
            "kind": kind,
            "domain": domain,
            "operator": op,
            "up": bool(up),
        }
        if kind == "haps" and name in haps_radius:
            props["coverage_radius_km"] = haps_radius[name]
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": props,
            }
        )
        if not up:
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"layer": "failure", "name": name, "what": "node down"},
                }
            )
    util = _col(links, "utilisation", None)
    for src, dst, kind, domain, op, cap, up, u in zip(
        _col(links, "src_name"),
        _col(links, "dst_name"),
        _col(links, "kind", ""),
        _col(links, "domain"),
        _col(links, "operator", ""),
        _col(links, "capacity_bps"),
        _col(links, "up", True),
        util,
        strict=True,
    ):
        if src not in where or dst not in where:
            continue
        line = {"type": "LineString", "coordinates": [list(where[src]), list(where[dst])]}
        feats.append(
            {
                "type": "Feature",
                "geometry": line,
                "properties": {
                    "layer": "link",
                    "src": src,
                    "dst": dst,
                    "kind": kind,
                    "domain": domain,
                    "operator": op,
                    "capacity_bps": cap,
                    "utilisation": u,
                    "up": bool(up),
                },
            }
        )
        if not up:
            feats.append(
                {
                    "type": "Feature",
                    "geometry": line,
                    "properties": {
                        "layer": "failure",
                        "name": f"{src}--{dst}",
                        "what": "link down",
                    },
                }
            )
    for step, const, sid, lat, lon in zip(
        _col(sats, "step"),
        _col(sats, "constellation"),
        _col(sats, "sat_id"),
        _col(sats, "lat_deg"),
        _col(sats, "lon_deg"),
        strict=True,
    ):
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "layer": "satellite",
                    "step": step,
                    "constellation": const,
                    "sat_id": sid,
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def japan_outlines() -> list[dict[str, Any]]:
    """Prefecture outlines (lon/lat rings) from the shipped geometry, for the dashboard map."""
    from tsunagu.geo import prefecture_outlines

    return [
        {
            "jis_code": r.jis_code,
            "lon": np.round(r.lon_deg, 4).tolist(),
            "lat": np.round(r.lat_deg, 4).tolist(),
        }
        for r in prefecture_outlines()
    ]


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
