"""Direct-to-device coverage benchmarks: vectorised link budgets against per-point baselines.

Measured side by side in one process; medians and ratios printed, no absolute time asserted.

1. **itur calls**: one vectorised :func:`tsunagu.ntn.linkbudget.itur_slant_path_losses` call
   over N points against N scalar ``itur.atmospheric_attenuation_slant_path`` calls (the way a
   per-point link budget loop would call it), and the tabulated
   :class:`~tsunagu.ntn.linkbudget.AtmosphereGrid` lookup.
2. **Best-link search** for one time step: :func:`tsunagu.ntn.coverage.leo_user_links` over all
   points against a per-point loop (``geo.look_angles`` to every satellite, best satellite,
   scalar itur call, C/N) on a subset, extrapolated per point; both must pick the same
   satellites.
3. **Scaling**: ``coverage_series`` ms per step against the number of sample points (area grid
   spacing) for Starlink Gen1 shell 1 (1,584 satellites).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

from tsunagu import geo
from tsunagu.ntn import coverage as cv
from tsunagu.ntn import linkbudget as lb
from tsunagu.ntn.orbits import walker_positions_ecef_m

__all__ = ["main"]


def _median_s(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _itur():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import itur

    return itur


def _bench_itur(console: Console, n_vec: int, n_scalar: int, repeat: int) -> None:
    rng = np.random.default_rng(1)
    lat = rng.uniform(24.0, 45.0, n_vec)
    lon = rng.uniform(123.0, 146.0, n_vec)
    el = rng.uniform(25.0, 90.0, n_vec)
    itur = _itur()
    lb.itur_slant_path_losses(lat[:2], lon[:2], 2e9, el[:2], 1.0, 0.1)  # load the maps once

    def scalar() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(n_scalar):
                itur.atmospheric_attenuation_slant_path(
                    float(lat[i]), float(lon[i]), 2.0, float(el[i]), 1.0, 0.1
                )

    vec_s = _median_s(lambda: lb.itur_slant_path_losses(lat, lon, 2e9, el, 1.0, 0.1), repeat)
    scal_s = _median_s(scalar, max(1, repeat // 2)) / n_scalar
    grid = lb.AtmosphereGrid.build((24.0, 45.0), (123.0, 146.0), 2e9, 1.0, 0.1, 25.0)
    grid_s = _median_s(lambda: grid.total_db(lat, lon, el), repeat)
    t = Table(title=f"itur slant-path losses at 2 GHz ({n_vec} points)")
    for c in ("method", "µs per point", "speed-up vs scalar"):
        t.add_column(c, justify="right")
    per_vec = vec_s / n_vec
    per_grid = grid_s / n_vec
    t.add_row(f"scalar itur calls (median of {n_scalar})", f"{scal_s * 1e6:,.0f}", "1")
    t.add_row("one vectorised call", f"{per_vec * 1e6:,.1f}", f"{scal_s / per_vec:,.0f}×")
    t.add_row("AtmosphereGrid lookup", f"{per_grid * 1e6:,.2f}", f"{scal_s / per_grid:,.0f}×")
    console.print(t)


def _baseline_links(
    lat: np.ndarray, lon: np.ndarray, sats: np.ndarray, link: cv.D2DLink
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point reference: look angles to every satellite, best one, scalar itur, C/N."""
    itur = _itur()
    idx = np.full(lat.size, -1)
    cnr = np.full(lat.size, np.nan)
    eirp = link.eirp_density_dbw_per_mhz + 10 * math.log10(link.bandwidth_hz / 1e6)
    for i in range(lat.size):
        el, _, rng = geo.look_angles(lat[i], lon[i], 0.0, sats[:, 0], sats[:, 1], sats[:, 2])
        j = int(np.argmax(el))
        if el[j] < link.min_elevation_deg:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = float(
                itur.atmospheric_attenuation_slant_path(
                    float(lat[i]), float(lon[i]), link.freq_hz / 1e9, float(el[j]), 1.0, 0.1
                ).value
            )
        fspl = 20 * math.log10(4 * math.pi * float(rng[j]) * link.freq_hz / 299_792_458.0)
        idx[i] = j
        cnr[i] = (
            eirp
            + link.ue_g_over_t_db_per_k
            - lb.BOLTZMANN_DBW_PER_K_HZ
            - fspl
            - a
            - link.shadowing_margin_db
            - link.scintillation_margin_db
            - 10 * math.log10(link.bandwidth_hz)
        )
    return idx, cnr


def _bench_step(console: Console, points: cv.CoveragePoints, n_base: int, repeat: int) -> None:
    link = cv.TR38821_LEO_S_BAND_HANDHELD
    sats = walker_positions_ecef_m(72, 22, 39, 550e3, 53.0, [0.0])[0]
    t0 = time.perf_counter()
    acc = cv.D2DAccess(points.lat_deg, points.lon_deg, leo_link=link)
    build_s = time.perf_counter() - t0
    vec_s = _median_s(lambda: acc.step(sats), repeat)
    step = acc.step(sats).leo
    rng = np.random.default_rng(2)
    sub = rng.choice(points.lat_deg.size, size=n_base, replace=False)
    t0 = time.perf_counter()
    b_idx, b_cnr = _baseline_links(points.lat_deg[sub], points.lon_deg[sub], sats, link)
    base_s = (time.perf_counter() - t0) / n_base
    same = bool(np.array_equal(b_idx, step.platform[sub]))
    ok = b_idx >= 0
    err = float(np.nanmax(np.abs(b_cnr[ok] - step.cnr_db[sub][ok]))) if ok.any() else 0.0
    per_vec = vec_s / points.lat_deg.size
    t = Table(title=f"One coverage step: {points.lat_deg.size} points × 1,584 satellites")
    for c in ("method", "µs per point", "speed-up"):
        t.add_column(c, justify="right")
    t.add_row(
        f"per-point loop (geo.look_angles + scalar itur, {n_base} pts)", f"{base_s * 1e6:,.0f}", "1"
    )
    t.add_row("leo_user_links (vectorised)", f"{per_vec * 1e6:,.2f}", f"{base_s / per_vec:,.0f}×")
    console.print(t)
    console.print(
        f"same serving satellites: {same}; max |ΔC/N| {err:.3f} dB (tabulated atmosphere); "
        f"D2DAccess build (itur table) {build_s:.2f} s"
    )


def _bench_scaling(console: Console, grids: Sequence[float], steps: int) -> None:
    link = cv.TR38821_LEO_S_BAND_HANDHELD
    times = np.arange(steps) * 60.0
    sats = walker_positions_ecef_m(72, 22, 39, 550e3, 53.0, times)
    t = Table(title=f"coverage_series, Starlink Gen1 shell 1, {steps} steps of 60 s")
    for c in ("grid (deg)", "points", "build (s)", "ms per step", "population %", "sea %"):
        t.add_column(c, justify="right")
    for g in grids:
        pts = cv.coverage_points(g)
        t0 = time.perf_counter()
        acc = cv.D2DAccess(pts.lat_deg, pts.lon_deg, leo_link=link)
        b = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = cv.coverage_series(pts, acc, sats)
        per = (time.perf_counter() - t0) / steps
        t.add_row(
            f"{g:g}",
            f"{pts.lat_deg.size:,}",
            f"{b:.2f}",
            f"{per * 1e3:,.1f}",
            f"{100 * s['population_leo'].mean():.1f}",
            f"{100 * s['sea_leo'].mean():.1f}",
        )
    console.print(t)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks ntn_coverage")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args, _ = parser.parse_known_args(list(argv or []))
    console = Console(width=110)
    console.rule("NTN direct-to-device coverage")
    if args.quick:
        _bench_itur(console, n_vec=200, n_scalar=5, repeat=3)
        _bench_step(console, cv.coverage_points(4.0), n_base=10, repeat=3)
        _bench_scaling(console, (4.0,), steps=3)
    else:
        _bench_itur(console, n_vec=5_000, n_scalar=40, repeat=5)
        _bench_step(console, cv.coverage_points(0.5), n_base=60, repeat=5)
        _bench_scaling(console, (1.0, 0.5, 0.25), steps=30)
    return 0
