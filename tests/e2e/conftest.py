"""A synthetic but format-complete run directory (docs/results-format.md) for end-to-end tests.

The values are plausible, not simulated: 30 demand points at prefectural capitals, 3 services,
4 hourly steps, 5 compute sites, a small three-operator fibre network, two NTN gateways and a
HAPS, and 20 satellites, drawn with NumPy from a fixed seed. Latencies are built from their
components (propagation from the great-circle distance to the serving site over fibre at
c/1.468 with a 1.5 route factor, round trip), so ``latency_total_ms`` equals their sum and the
step and summary KPIs are the request-weighted statistics of ``flows.parquet``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SEED = 2030
N_STEPS = 4
STEP_S = 3600.0
SPEED_IN_FIBRE_M_S = 299_792_458.0 / 1.468
ROUTE_FACTOR = 1.5
EARTH_RADIUS_M = 6_371_008.8

# name, JIS code, region, lat, lon (prefectural capitals)
DEMAND_POINTS: tuple[tuple[str, int, str, float, float], ...] = (
    ("Sapporo", 1, "Hokkaido", 43.06, 141.35),
    ("Aomori", 2, "Tohoku", 40.82, 140.74),
    ("Morioka", 3, "Tohoku", 39.70, 141.15),
    ("Sendai", 4, "Tohoku", 38.27, 140.87),
    ("Yamagata", 6, "Tohoku", 38.24, 140.36),
    ("Fukushima", 7, "Tohoku", 37.75, 140.47),
    ("Mito", 8, "Kanto", 36.37, 140.47),
    ("Saitama", 11, "Kanto", 35.86, 139.65),
    ("Chiba", 12, "Kanto", 35.61, 140.12),
    ("Tokyo", 13, "Kanto", 35.69, 139.69),
    ("Yokohama", 14, "Kanto", 35.44, 139.64),
    ("Niigata", 15, "Chubu", 37.90, 139.02),
    ("Kanazawa", 17, "Chubu", 36.59, 136.63),
    ("Nagano", 20, "Chubu", 36.65, 138.18),
    ("Shizuoka", 22, "Chubu", 34.98, 138.38),
    ("Nagoya", 23, "Chubu", 35.18, 136.91),
    ("Kyoto", 26, "Kansai", 35.02, 135.76),
    ("Osaka", 27, "Kansai", 34.69, 135.50),
    ("Kobe", 28, "Kansai", 34.69, 135.18),
    ("Nara", 29, "Kansai", 34.69, 135.83),
    ("Matsue", 32, "Chugoku", 35.47, 133.05),
    ("Okayama", 33, "Chugoku", 34.66, 133.93),
    ("Hiroshima", 34, "Chugoku", 34.40, 132.46),
    ("Takamatsu", 37, "Shikoku", 34.34, 134.04),
    ("Matsuyama", 38, "Shikoku", 33.84, 132.77),
    ("Kochi", 39, "Shikoku", 33.56, 133.53),
    ("Fukuoka", 40, "Kyushu", 33.59, 130.40),
    ("Kumamoto", 43, "Kyushu", 32.79, 130.74),
    ("Kagoshima", 46, "Kyushu", 31.56, 130.56),
    ("Naha", 47, "Kyushu-Okinawa", 26.21, 127.68),
)
# service, SLA (ms), processing time (ms), requests/s per 1000 inhabitants at peak
SERVICES: tuple[tuple[str, float, float, float], ...] = (
    ("llm-chat", 300.0, 120.0, 0.8),
    ("video-analytics", 60.0, 18.0, 0.3),
    ("robot-control", 15.0, 2.0, 0.05),
)
# name, operator, lat, lon
COMPUTE_SITES: tuple[tuple[str, str, float, float], ...] = (
    ("dc-tokyo", "NTT", 35.62, 139.75),
    ("dc-osaka", "KDDI", 34.70, 135.45),
    ("dc-sapporo", "SoftBank", 43.00, 141.40),
    ("dc-fukuoka", "NTT", 33.60, 130.42),
    ("dc-sendai", "KDDI", 38.25, 140.90),
)
ROADMS: tuple[tuple[str, str, float, float], ...] = (
    ("roadm-tokyo", "NTT", 35.68, 139.76),
    ("roadm-nagoya", "NTT", 35.17, 136.88),
    ("roadm-osaka", "KDDI", 34.69, 135.50),
    ("roadm-hiroshima", "KDDI", 34.39, 132.46),
    ("roadm-fukuoka", "NTT", 33.59, 130.40),
    ("roadm-sendai", "KDDI", 38.26, 140.88),
    ("roadm-sapporo", "SoftBank", 43.06, 141.35),
)
# src, dst, operator, up
FIBRE_LINKS: tuple[tuple[str, str, str, bool], ...] = (
    ("roadm-tokyo", "roadm-nagoya", "NTT", True),
    ("roadm-nagoya", "roadm-osaka", "NTT", True),
    ("roadm-osaka", "roadm-hiroshima", "KDDI", True),
    ("roadm-hiroshima", "roadm-fukuoka", "KDDI", True),
    ("roadm-tokyo", "roadm-sendai", "KDDI", True),
    ("roadm-sendai", "roadm-sapporo", "SoftBank", False),
    ("roadm-tokyo", "dc-tokyo", "NTT", True),
    ("roadm-osaka", "dc-osaka", "KDDI", True),
    ("roadm-sapporo", "dc-sapporo", "SoftBank", True),
    ("roadm-fukuoka", "dc-fukuoka", "NTT", True),
    ("roadm-sendai", "dc-sendai", "KDDI", True),
)
NTN_NODES: tuple[tuple[str, str, float, float, float], ...] = (
    ("gw-yamaguchi", "gateway", 34.17, 131.47, 50.0),
    ("gw-ibaraki", "gateway", 36.40, 140.50, 30.0),
    ("haps-shikoku", "haps", 33.70, 133.60, 20_000.0),
)


def _great_circle_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dphi, dlmb = p2 - p1, np.deg2rad(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def _weighted_quantile(values: Any, weights: Any, q: float) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, q * cum[-1])])


def _nodes() -> pa.Table:
    rows = (
        [(n, "dc", "compute", op, lat, lon, 10.0, True) for n, op, lat, lon in COMPUTE_SITES]
        + [(n, "roadm", "optical", op, lat, lon, 10.0, True) for n, op, lat, lon in ROADMS]
        + [(n, k, "ntn", "SKY", lat, lon, alt, True) for n, k, lat, lon, alt in NTN_NODES]
        + [("gnb-hiroshima-1", "gnb", "ran", "KDDI", 34.40, 132.47, 30.0, False)]
    )
    names = ("name", "kind", "domain", "operator", "lat_deg", "lon_deg", "alt_m", "up")
    return pa.table({k: [r[i] for r in rows] for i, k in enumerate(names)})


def _links(nodes: pa.Table) -> pa.Table:
    where = {
        n: (lat, lon)
        for n, lat, lon in zip(
            nodes["name"].to_pylist(),
            nodes["lat_deg"].to_pylist(),
            nodes["lon_deg"].to_pylist(),
            strict=True,
        )
    }
    src = [s for s, _, _, _ in FIBRE_LINKS] + ["gw-yamaguchi", "haps-shikoku"]
    dst = [d for _, d, _, _ in FIBRE_LINKS] + ["roadm-hiroshima", "roadm-osaka"]
    operator = [o for _, _, o, _ in FIBRE_LINKS] + ["SKY", "SKY"]
    up = [u for _, _, _, u in FIBRE_LINKS] + [True, True]
    medium = ["fibre"] * len(FIBRE_LINKS) + ["fibre", "free space"]
    domain = ["optical"] * len(FIBRE_LINKS) + ["ntn", "ntn"]
    lat1 = np.array([where[s][0] for s in src])
    lon1 = np.array([where[s][1] for s in src])
    lat2 = np.array([where[d][0] for d in dst])
    lon2 = np.array([where[d][1] for d in dst])
    length_m = ROUTE_FACTOR * _great_circle_m(lat1, lon1, lat2, lon2) + 1000.0
    return pa.table(
        {
            "src_name": src,
            "dst_name": dst,
            "domain": domain,
            "medium": medium,
            "length_m": length_m,
            "latency_s": length_m / SPEED_IN_FIBRE_M_S,
            "capacity_bps": np.full(len(src), 400e9),
            "power_w": 50.0 + 0.01 * length_m / 1000.0,
            "availability": np.full(len(src), 0.9995),
            "up": up,
            "operator": operator,
        }
    )


def _satellites(rng: np.random.Generator, n_satellites: int) -> pa.Table:
    # A loose Walker-like shell: the first third start over Japan so the map shows some.
    over_japan = n_satellites // 3
    lat0 = np.concatenate(
        [rng.uniform(27.0, 44.0, over_japan), rng.uniform(-53.0, 53.0, n_satellites - over_japan)]
    )
    lon0 = np.concatenate(
        [
            rng.uniform(129.0, 145.0, over_japan),
            rng.uniform(-180.0, 180.0, n_satellites - over_japan),
        ]
    )
    step = np.repeat(np.arange(N_STEPS), n_satellites)
    drift = 4.0 * step  # degrees of longitude per step relative to the ground
    return pa.table(
        {
            "step": pa.array(step, pa.int64()),
            "time_s": step * STEP_S,
            "constellation": ["leo-550"] * (N_STEPS * n_satellites),
            "sat_id": pa.array(np.tile(np.arange(n_satellites), N_STEPS), pa.int64()),
            "lat_deg": np.tile(lat0, N_STEPS),
            "lon_deg": (np.tile(lon0, N_STEPS) + drift + 180.0) % 360.0 - 180.0,
            "alt_m": np.full(N_STEPS * n_satellites, 550e3),
        }
    )


def _flows(
    rng: np.random.Generator, services: tuple[tuple[str, float, float, float], ...]
) -> pa.Table:
    n_dp, n_sv = len(DEMAND_POINTS), len(services)
    dp_lat = np.array([d[3] for d in DEMAND_POINTS])
    dp_lon = np.array([d[4] for d in DEMAND_POINTS])
    population = np.round(rng.lognormal(mean=13.5, sigma=0.7, size=n_dp))
    site_lat = np.array([c[2] for c in COMPUTE_SITES])
    site_lon = np.array([c[3] for c in COMPUTE_SITES])
    dist = _great_circle_m(dp_lat[:, None], dp_lon[:, None], site_lat[None, :], site_lon[None, :])
    nearest = np.argmin(dist, axis=1)

    # index grids over (step, demand point, service), flattened in that order
    s_idx, d_idx, v_idx = (a.ravel() for a in np.indices((N_STEPS, n_dp, n_sv)))
    n = s_idx.size
    hour = 9 + s_idx
    diurnal = 0.6 + 0.4 * np.sin(np.pi * (hour - 6) / 16)
    per_k = np.array([s[3] for s in services])[v_idx]
    demand_rps = population[d_idx] / 1000.0 * per_k * diurnal * rng.uniform(0.8, 1.2, n)

    naha = np.array([d[0] == "Naha" for d in DEMAND_POINTS])[d_idx]
    access = np.where(naha, "leo", np.where(rng.random(n) < 0.08, "haps", "ran"))
    unserved = rng.random(n) < 0.04
    access = np.where(unserved, "none", access)

    propagation = 2e3 * ROUTE_FACTOR * dist[d_idx, nearest[d_idx]] / SPEED_IN_FIBRE_M_S
    propagation += np.where(access == "leo", 2 * 2e3 * 2 * 550e3 / 299_792_458.0, 0.0)
    propagation += np.where(access == "haps", 2 * 2e3 * 20e3 / 299_792_458.0, 0.0)
    transmission = np.where(access == "ran", 1.0, 3.0) + rng.exponential(0.5, n)
    queueing = rng.exponential(1.0 + 4.0 * diurnal, n)
    processing = np.array([s[2] for s in services])[v_idx] * rng.uniform(0.7, 1.6, n)
    parts = [propagation, transmission, queueing, processing]
    parts = [np.where(unserved, np.nan, p) for p in parts]
    total = parts[0] + parts[1] + parts[2] + parts[3]
    sla_ms = np.array([s[1] for s in services])[v_idx]
    return pa.table(
        {
            "step": pa.array(s_idx, pa.int64()),
            "time_s": s_idx * STEP_S,
            "demand": [DEMAND_POINTS[i][0] for i in d_idx],
            "prefecture": pa.array([DEMAND_POINTS[i][1] for i in d_idx], pa.int64()),
            "region": [DEMAND_POINTS[i][2] for i in d_idx],
            "lat_deg": dp_lat[d_idx],
            "lon_deg": dp_lon[d_idx],
            "population": population[d_idx],
            "service": [services[i][0] for i in v_idx],
            "demand_rps": demand_rps,
            "access": access.tolist(),
            "site": np.where(unserved, "", [COMPUTE_SITES[j][0] for j in nearest[d_idx]]).tolist(),
            "latency_propagation_ms": parts[0],
            "latency_transmission_ms": parts[1],
            "latency_queueing_ms": parts[2],
            "latency_processing_ms": parts[3],
            "latency_total_ms": total,
            "sla_ms": sla_ms,
            "sla_met": ~unserved & (np.nan_to_num(total, nan=np.inf) <= sla_ms),
            "hops": pa.array(np.where(unserved, 0, rng.integers(2, 9, n)), pa.int64()),
            "reject_reason": np.where(unserved, "capacity", "").tolist(),
        }
    )


def _steps(flows: pa.Table, n_satellites: int) -> pa.Table:
    step = flows["step"].to_numpy()
    rps = flows["demand_rps"].to_numpy()
    total = flows["latency_total_ms"].to_numpy(zero_copy_only=False)
    served = np.isfinite(total)
    sla = flows["sla_met"].to_numpy(zero_copy_only=False)
    population = flows["population"].to_numpy()
    rows: dict[str, list[float]] = {}
    for s in range(N_STEPS):
        at = step == s
        ok = at & served
        pop = population[at & (flows["service"].to_numpy(zero_copy_only=False) == SERVICES[0][0])]
        pop_unserved = 0.0
        optical = 410.0 + 40.0 * s
        ran = 900.0 + 150.0 * np.sin(s)
        ntn = 120.0 + 5.0 * s
        compute = 0.004 * rps[at].sum() * 3600.0 / 1000.0 + 300.0
        values = {
            "step": float(s),
            "time_s": s * STEP_S,
            "hour_local": float(9 + s),
            "demand_rps": rps[at].sum(),
            "served_rps": rps[ok].sum(),
            "served_share": rps[ok].sum() / rps[at].sum(),
            "sla_share": rps[at & sla].sum() / rps[at].sum(),
            "latency_p50_ms": _weighted_quantile(total[ok], rps[ok], 0.5),
            "latency_p95_ms": _weighted_quantile(total[ok], rps[ok], 0.95),
            "population_served": pop.sum() - pop_unserved,
            "population_unserved": pop_unserved,
            "energy_optical_kwh": optical,
            "energy_ran_kwh": ran,
            "energy_ntn_kwh": ntn,
            "energy_compute_kwh": compute,
            "energy_total_kwh": optical + ran + ntn + compute,
            "carbon_kg": 0.45 * (optical + ran + ntn + compute),
            "satellites_visible": float(min(n_satellites, 6)),
            "links_down": 1.0,
            "nodes_down": 1.0,
        }
        for k, v in values.items():
            rows.setdefault(k, []).append(float(v))
    table = pa.table(rows)
    for name in ("step", "satellites_visible", "links_down", "nodes_down"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table[name].cast(pa.int64()))
    return table


def _summary(
    flows: pa.Table, steps: pa.Table, nodes: pa.Table, links: pa.Table, n_satellites: int
) -> dict[str, Any]:
    rps = flows["demand_rps"].to_numpy()
    total = flows["latency_total_ms"].to_numpy(zero_copy_only=False)
    served = np.isfinite(total)
    sla = flows["sla_met"].to_numpy(zero_copy_only=False)
    service = np.asarray(flows["service"].to_pylist())
    region = np.asarray(flows["region"].to_pylist())

    def stats(sel: Any) -> dict[str, float]:
        ok = sel & served
        if not ok.any():
            return {"latency_p50_ms": 0.0, "latency_p95_ms": 0.0, "sla_share": 0.0}
        return {
            "latency_p50_ms": round(_weighted_quantile(total[ok], rps[ok], 0.5), 3),
            "latency_p95_ms": round(_weighted_quantile(total[ok], rps[ok], 0.95), 3),
            "sla_share": round(float(rps[sel & sla].sum() / rps[sel].sum()), 4),
        }

    energy = {k: float(steps[k].to_numpy().sum()) for k in steps.column_names if "energy" in k}
    everything = np.ones_like(served)
    return {
        "scenario": "synthetic-japan",
        "seed": SEED,
        "steps": N_STEPS,
        "step_s": STEP_S,
        "runtime_s": 1.25,
        "tsunagu_version": "0.1.0",
        "counts": {
            "demand_points": len(DEMAND_POINTS),
            "nodes": nodes.num_rows,
            "links": links.num_rows,
            "satellites": n_satellites,
            "compute_sites": len(COMPUTE_SITES),
            "services": len(SERVICES),
        },
        "kpis": {
            **stats(everything),
            "served_share": round(float(rps[served].sum() / rps.sum()), 4),
            "population_served_share": 1.0,
            **{k: round(v, 2) for k, v in energy.items()},
            "carbon_kg": round(float(steps["carbon_kg"].to_numpy().sum()), 2),
            "requests_total": round(float(rps.sum() * STEP_S), 1),
        },
        "per_service": {s: stats(service == s) for s, *_ in SERVICES},
        "per_region": {
            r: {k: v for k, v in stats(region == r).items() if k != "latency_p95_ms"}
            for r in sorted(set(region.tolist()))
        },
    }


def write_synthetic_run(
    run_dir: Path,
    *,
    seed: int = SEED,
    n_satellites: int = 20,
    services_without_flows: tuple[str, ...] = (),
) -> Path:
    """Write a synthetic run directory and return it.

    ``services_without_flows`` removes those services' rows from ``flows.parquet`` (the summary
    still lists them), the shape of a run in which nobody asked for a service.
    """
    rng = np.random.default_rng(seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    nodes = _nodes()
    links = _links(nodes)
    flows = _flows(rng, SERVICES)
    satellites = _satellites(rng, n_satellites)
    steps = _steps(flows, n_satellites)
    summary = _summary(flows, steps, nodes, links, n_satellites)
    if services_without_flows:
        keep = ~np.isin(np.asarray(flows["service"].to_pylist()), services_without_flows)
        flows = flows.filter(pa.array(keep))

    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (run_dir / "scenario.yaml").write_text(
        f"name: synthetic-japan\nseed: {seed}\nsteps: {N_STEPS}\nstep_s: {STEP_S}\n",
        encoding="utf-8",
    )
    tables = {
        "nodes": nodes,
        "links": links,
        "steps": steps,
        "flows": flows,
        "satellites": satellites,
    }
    for name, table in tables.items():
        pq.write_table(table, run_dir / f"{name}.parquet")
    with duckdb.connect(str(run_dir / "results.duckdb")) as con:
        for name in tables:
            path = str((run_dir / f"{name}.parquet").resolve()).replace("'", "''")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    return run_dir


@pytest.fixture
def make_run(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make_run(name, **options)`` writes a synthetic run under ``tmp_path``."""

    def make(name: str = "run", **options: Any) -> Path:
        return write_synthetic_run(tmp_path / name, **options)

    return make


@pytest.fixture
def synthetic_run(make_run: Callable[..., Path]) -> Path:
    """The default synthetic run directory: 30 demand points, 3 services, 4 steps, 20 sats."""
    return make_run()


# ---- network emulation: nothing may outlive the tests ----------------------------------------

#: Held shared by a test while namespaces it made look abandoned on purpose (their owner killed)
#: until it removes them, and exclusively by the end-of-session check: so the check, in any
#: worker or any other test process on the machine, never takes them for a leftover, and waits
#: for no fixed time. A file lock is released by the kernel when its holder dies.
CRASH_LOCK = Path(tempfile.gettempdir()) / "tsunagu-emulate-crash.lock"
#: Longest wait for the crash tests of other processes before the check gives up.
CRASH_LOCK_WAIT_S = 120.0


@contextlib.contextmanager
def _crash_window() -> Iterator[None]:
    with CRASH_LOCK.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture
def crash_window() -> Callable[[], contextlib.AbstractContextManager[None]]:
    """``with crash_window(): ...`` around killing an emulation's owner and removing its
    namespaces: the end-of-session check waits until the block is over."""
    return _crash_window


def _emulation_leftovers(before: frozenset[str] = frozenset()) -> list[str]:
    """Emulation namespaces of this process or of dead ones (but for those already there in
    ``before``), and host links or qdiscs named like the emulation's, as text (empty: clean)."""
    import os
    import subprocess

    from tsunagu.emulate.netns import list_owned

    mine = f"tsg-{os.getpid()}-"
    left = []
    for name in list_owned():
        pid = int(name.split("-")[1])
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        if name.startswith(mine) or (not alive and name not in before):
            left.append(f"namespace {name}")
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False)
    left += [
        f"host link {ln.split(':')[1].strip()}" for ln in links.stdout.splitlines() if "tsg" in ln
    ]
    qd = subprocess.run(["tc", "qdisc", "show"], capture_output=True, text=True, check=False)
    left += [f"host qdisc {ln}" for ln in qd.stdout.splitlines() if "tsg" in ln]
    return left


@pytest.fixture(scope="session", autouse=True)
def _no_emulation_left_behind() -> Any:
    """At the end of the session no namespace, link or qdisc of an emulation is left.

    Stale namespaces already there at the start (a crashed process before this session) are
    not this session's; the first emulation the session starts removes them anyway.
    """
    import os
    import shutil
    import time

    if os.geteuid() != 0 or shutil.which("ip") is None:
        yield
        return
    from tsunagu.emulate.netns import list_owned

    before = frozenset(list_owned())
    yield
    with CRASH_LOCK.open("a") as f:
        deadline = time.monotonic() + CRASH_LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, f"{CRASH_LOCK} held for {CRASH_LOCK_WAIT_S} s"
                time.sleep(0.1)
        try:
            left = _emulation_leftovers(before)
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    assert not left, f"left behind by the emulation tests: {left}"
