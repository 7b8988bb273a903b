"""``tsunagu ntn``: Satellites and HAPS: round-trip times and direct-to-device coverage."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import typer

_MAX_RTT_STEPS: Final = 1_000_000
# Per step of the series: length, RTT and hops (8 B each) and a path of ~20 satellites (8 B each).
_RTT_BYTES_PER_STEP: Final = 8 * (3 + 20)
# WGS72 constants SGP4 element sets are defined with (sgp4's wgs72: mu, equatorial radius).
_WGS72_MU_M3_S2: Final = 398600.8e9
_WGS72_A_M: Final = 6378135.0

app = typer.Typer(
    name="ntn",
    help="Satellites and HAPS: round-trip times and direct-to-device coverage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --- coverage (helper B2) ------------------------------------------------------------------


@app.command("coverage")
def coverage(
    scenario: str = typer.Argument(
        "japan-2030",
        help="Built-in scenario name or YAML file whose constellations and HAPS to use.",
    ),
    duration_s: float = typer.Option(
        5760.0, "--duration", help="Time span (s); default ≈ 1 orbit."
    ),
    step_s: float = typer.Option(60.0, "--step", help="Time step (s)."),
    constellations: list[str] = typer.Option(  # noqa: B008
        [],
        "--constellation",
        help="Preset constellation or shell (e.g. starlink-gen1, kuiper, oneweb, kuiper-630) "
        "instead of the scenario's; repeat to compare several.",
    ),
    grid_deg: float = typer.Option(0.5, "--grid-deg", help="Area grid spacing (degrees)."),
    min_elevation_deg: float = typer.Option(
        25.0, "--min-elevation", help="LEO elevation mask (degrees, >= 5)."
    ),
    leo_eirp_dbw_per_mhz: float = typer.Option(
        34.0,
        "--leo-eirp-dbw-per-mhz",
        help="Satellite EIRP density (dBW/MHz); TR 38.821 Set-1 S band: 34 (LEO-600), "
        "40 (LEO-1200).",
    ),
    haps_eirp_dbw_per_mhz: float = typer.Option(
        10.0,
        "--haps-eirp-dbw-per-mhz",
        help="HIBS EIRP density (dBW/MHz). Assumption: no published HIBS figure; 10 dBW/MHz "
        "gives C/N of about 5 dB to a handheld at the edge of a 100 km footprint.",
    ),
    haps_freq_mhz: float = typer.Option(2140.0, "--haps-freq-mhz", help="HIBS carrier (MHz)."),
    haps_bandwidth_mhz: float = typer.Option(20.0, "--haps-bandwidth-mhz", help="HIBS bandwidth."),
    feeder_freq_ghz: float = typer.Option(
        38.5, "--feeder-freq-ghz", help="HAPS feeder carrier (GHz, 38-39.5 GHz band)."
    ),
    feeder_bandwidth_mhz: float = typer.Option(
        100.0, "--feeder-bandwidth-mhz", help="HAPS feeder bandwidth (MHz)."
    ),
    feeder_eirp_dbw: float = typer.Option(
        60.0,
        "--feeder-eirp-dbw",
        help="Feeder ground-station EIRP (dBW). Assumption: 10 W into a 1.2 m dish "
        "(about 51 dBi at 38.5 GHz).",
    ),
    feeder_g_over_t_db_per_k: float = typer.Option(
        3.0,
        "--feeder-g-over-t",
        help="HAPS feeder receive G/T (dB/K). Assumption: 30 dBi, 500 K system.",
    ),
    max_memory_gb: float = typer.Option(
        4.0,
        "--max-memory-gb",
        help="Refuse a run whose satellite positions would need more memory than this (GB).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Direct-to-device coverage of Japan's population, islands, land and sea over time.

    LEO: each constellation of the scenario (or each --constellation preset) with the TR 38.821
    Set-1 LEO S-band payload (34 dBW/MHz, 30 MHz at 2 GHz; the LEO-600 figure is applied to
    every altitude unless --leo-eirp-dbw-per-mhz says otherwise) to a handheld (G/T -31.6
    dB/K); HAPS: the scenario's
    platforms as HIBS cells, each footprint radius setting its elevation mask. A link is
    usable when its C/N clears DVB-S2 QPSK 1/4. Each HAPS feeder (to the nearest populated
    place, 38-39.5 GHz) gets its clear-sky C/N and ITU-R P.618 rain availability.
    """
    import dataclasses
    import math
    import time

    import numpy as np

    from tsunagu.cli._common import console, fail, fmt_value, print_json
    from tsunagu.errors import ModelRangeError, TsunaguError
    from tsunagu.scenario.loader import load_scenario

    try:
        from tsunagu.ntn import coverage as cv
        from tsunagu.ntn.haps import FeederLink, HibsCell, feeder_availability
        from tsunagu.ntn.orbits import walker_positions_ecef_m

        if not (duration_s >= 0.0 and step_s > 0.0 and math.isfinite(duration_s)):
            raise ModelRangeError(
                f"--duration must be >= 0 and --step > 0 seconds; got {duration_s}, {step_s}."
            )
        if not max_memory_gb > 0.0:
            raise ModelRangeError(f"--max-memory-gb must be > 0; got {max_memory_gb}.")
        t0 = time.perf_counter()
        sc = load_scenario(scenario)
        steps = math.floor(duration_s / step_s + 0.5) + 1
        if constellations:
            from tsunagu.ntn.constellations import preset as _preset

            n_sats = max(sum(s.size for s in _preset(n)) for n in constellations)
        else:
            n_sats = max((c.planes * c.sats_per_plane for c in sc.ntn.constellations), default=0)
        # Positions of one deployment at every step: inertial and Earth-fixed copies, 3 × 8 B.
        need_gb = 48.0 * steps * n_sats / 1e9
        if need_gb > max_memory_gb:
            raise ModelRangeError(
                f"--duration {duration_s:g} s at --step {step_s:g} s is {steps:,} steps; the "
                f"positions of {n_sats:,} satellites at every step need about {need_gb:,.1f} GB "
                f"(limit {max_memory_gb:g} GB). Pass a coarser --step (at least "
                f"{step_s * need_gb / max_memory_gb:.3g} s), a shorter --duration, or raise "
                "--max-memory-gb."
            )
        link = dataclasses.replace(
            cv.TR38821_LEO_S_BAND_HANDHELD,
            min_elevation_deg=min_elevation_deg,
            eirp_density_dbw_per_mhz=leo_eirp_dbw_per_mhz,
        )
        cell = HibsCell(haps_freq_mhz * 1e6, haps_bandwidth_mhz * 1e6, haps_eirp_dbw_per_mhz)
        feeder = FeederLink(
            feeder_freq_ghz * 1e9,
            feeder_bandwidth_mhz * 1e6,
            feeder_eirp_dbw,
            feeder_g_over_t_db_per_k,
        )
        points = cv.coverage_points(grid_deg)
        times = np.arange(0.0, duration_s + 0.5 * step_s, step_s)
        haps = sc.ntn.haps
        rows: list[dict[str, Any]] = []
        access = cv.D2DAccess(
            points.lat_deg,
            points.lon_deg,
            leo_link=link if (sc.ntn.constellations or constellations) else None,
            haps_cell=cell if haps else None,
            haps_lat_deg=np.array([h.lat_deg for h in haps]),
            haps_lon_deg=np.array([h.lon_deg for h in haps]),
            haps_alt_m=np.array([h.alt_m for h in haps]),
            haps_radius_m=np.array([h.coverage_radius_km * 1e3 for h in haps]),
        )

        isl = np.flatnonzero(points.island)
        isl = isl[np.argsort(-points.weight[isl], kind="stable")]

        def _row(name: str, kind: str, series: dict[str, np.ndarray], key: str) -> None:
            rows.append(
                {
                    "deployment": name,
                    "kind": kind,
                    **{
                        f"{m}_share_mean": float(np.mean(series[f"{m}_{key}"])) for m in cv.MEASURES
                    },
                    **{f"{m}_share_min": float(np.min(series[f"{m}_{key}"])) for m in cv.MEASURES},
                    "islands": [
                        {
                            "name": str(points.name[i]),
                            "lat_deg": float(points.lat_deg[i]),
                            "lon_deg": float(points.lon_deg[i]),
                            "population": float(points.weight[i]),
                            "time_share": float(series[f"points_{key}"][i]),
                        }
                        for i in isl
                    ],
                }
            )

        if constellations:
            from tsunagu.ntn.constellations import preset, shell_positions_ecef_m

            for name in constellations:
                sats = shell_positions_ecef_m(preset(name), times)
                _row(name, "leo", cv.coverage_series(points, access, sats), "leo")
        else:
            for c in sc.ntn.constellations:
                sats = walker_positions_ecef_m(
                    c.planes,
                    c.sats_per_plane,
                    c.phasing,
                    c.altitude_km * 1e3,
                    c.inclination_deg,
                    times,
                    pattern=c.pattern,
                )
                _row(c.name, "leo", cv.coverage_series(points, access, sats), "leo")
        feeders: list[dict[str, Any]] = []
        if haps:
            _row(f"{len(haps)} HAPS", "haps", cv.coverage_series(points, access, None), "haps")
            feeders = _feeders(haps, points, feeder, feeder_availability)
    except TsunaguError as exc:
        fail(exc)
    result = {
        "scenario": sc.name,
        "steps": int(times.size),
        "step_s": step_s,
        "grid_deg": grid_deg,
        "population_points": int(np.count_nonzero(points.kind == 0)),
        "area_cells": int(np.count_nonzero(points.kind > 0)),
        "leo_link": dataclasses.asdict(link),
        "haps_cell": dataclasses.asdict(cell),
        "rows": rows,
        "feeder_link": dataclasses.asdict(feeder),
        "feeders": feeders,
        "elapsed_s": time.perf_counter() - t0,
    }
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    table = Table(title=f"tsunagu · D2D coverage · {sc.name} · {times.size} steps of {step_s:g} s")
    table.add_column("deployment")
    for m in cv.MEASURES:
        table.add_column(f"{m} % (mean / min)", justify="right")
    for r in rows:
        table.add_row(
            str(r["deployment"]),
            *[
                f"{100 * r[f'{m}_share_mean']:.1f} / {100 * r[f'{m}_share_min']:.1f}"
                for m in cv.MEASURES
            ],
        )
    console.print(table)
    for r in rows:
        worst = sorted(r["islands"], key=lambda x: (x["time_share"], -x["population"]))[:3]
        if worst and worst[0]["time_share"] < 1.0:
            console.print(
                f"{r['deployment']}: least-served islands "
                + ", ".join(f"{w['name']} {100 * w['time_share']:.0f} %" for w in worst)
            )
    if feeders:
        ft = Table(title=f"HAPS feeders at {feeder_freq_ghz:g} GHz (ITU-R P.618 rain)")
        for col in (
            "platform",
            "ground station",
            "elevation °",
            "clear-sky C/N dB",
            "availability %",
        ):
            ft.add_column(col, justify="right")
        for f in feeders:
            ft.add_row(
                f["platform"],
                f"{f['ground_station']} ({f['ground_distance_km']:.0f} km)",
                f"{f['elevation_deg']:.1f}",
                fmt_value("{:.1f}", f["clear_sky_cnr_db"]),
                fmt_value("{:.3f}", f["availability_pct"]),
            )
        console.print(ft)
    console.print(
        f"{result['population_points']} population points · {result['area_cells']} area cells "
        f"of {grid_deg:g}° · island = > 5 km outside the main-part outlines · ran in "
        f"{result['elapsed_s']:.1f} s"
    )


def _feeders(haps: Any, points: Any, feeder: Any, availability: Any) -> list[dict[str, Any]]:
    """Feeder of each platform to the nearest population point (the place's central office)."""
    import numpy as np

    from tsunagu import geo

    pop = np.flatnonzero(points.kind == 0)
    h_lat = np.array([h.lat_deg for h in haps])
    h_lon = np.array([h.lon_deg for h in haps])
    h_alt = np.array([h.alt_m for h in haps])
    d = geo.great_circle_m(
        h_lat[:, None], h_lon[:, None], points.lat_deg[pop][None, :], points.lon_deg[pop][None, :]
    )
    gs = pop[np.argmin(d, axis=1)]
    gs_ecef = np.stack(geo.geodetic_to_ecef(points.lat_deg[gs], points.lon_deg[gs], 0.0), axis=-1)
    h_ecef = np.stack(geo.geodetic_to_ecef(h_lat, h_lon, h_alt), axis=-1)
    from tsunagu.ntn.geometry import elevation_and_range

    el = np.diagonal(elevation_and_range(gs_ecef, h_ecef)[0])
    out: list[dict[str, Any]] = []
    for k, h in enumerate(haps):  # a handful of platforms, each with its own altitude
        row: dict[str, Any] = {
            "platform": h.name,
            "ground_station": str(points.name[gs[k]]),
            "ground_distance_km": float(np.min(d[k])) / 1e3,
            "elevation_deg": float(el[k]),
            "clear_sky_cnr_db": None,
            "fade_margin_db": None,
            "availability_pct": None,
        }
        if el[k] >= 5.0:  # ITU-R P.618 validity; farther stations are reported without a budget
            res = availability(
                gs_ecef[k : k + 1],
                points.lat_deg[gs[k : k + 1]],
                points.lon_deg[gs[k : k + 1]],
                h_ecef[k : k + 1],
                float(h_alt[k]),
                feeder,
            )
            row["clear_sky_cnr_db"] = float(res.clear_sky_cnr_db[0])
            row["fade_margin_db"] = float(res.fade_margin_db[0])
            row["availability_pct"] = float(res.availability_pct[0])
        out.append(row)
    return out


# --- rtt (helper B1) -----------------------------------------------------------------------


@app.command("rtt")
def rtt(
    constellation: str = typer.Option(
        "starlink-gen1-shell1",
        "--constellation",
        help="Preset name (starlink-gen1, starlink-550, kuiper, kuiper-630, oneweb, telesat, "
        "o3b-mpower, ...) or a TLE/3LE file (Hypatia's tles.txt with its '<orbits> <sats per "
        "orbit>' header included), OMM .json or OMM .csv file.",
    ),
    src: str = typer.Option(
        ..., "--from", help="City name ('Tokyo', 'Naha, JP'), 'lat,lon', or a station name."
    ),
    dst: str = typer.Option(..., "--to", help="City name, 'lat,lon', or a station name."),
    ground_stations: Path | None = typer.Option(  # noqa: B008
        None,
        "--ground-stations",
        help="Hypatia ground-station file (id,name,lat,lon,elevation[,x,y,z]); --from and --to "
        "then name its stations.",
    ),
    duration_s: float = typer.Option(600.0, "--duration", help="Time span (s)."),
    step_s: float = typer.Option(1.0, "--step", help="Time step (s)."),
    start: str | None = typer.Option(
        None,
        "--start",
        help="UTC start, ISO 8601 (default: the preset's --epoch, or the newest element epoch "
        "for files).",
    ),
    epoch: str = typer.Option(
        "2026-01-01T00:00:00Z",
        "--epoch",
        help="Element epoch of a preset's Walker shells (UTC, ISO 8601).",
    ),
    phasing: str | None = typer.Option(
        None,
        "--phasing",
        help="Phasing of every shell of a preset: a Walker factor f (0..planes-1), or 'hypatia' "
        "(odd planes shifted by half a slot); default the preset's (f = 39 for starlink-550, "
        "f = 1 otherwise).",
    ),
    gsl_rule: str = typer.Option(
        "elevation",
        "--gsl-rule",
        help="Ground-link rule: elevation (true elevation mask --min-elevation) or max-range "
        "(every satellite above the horizon within --max-gsl-km; Hypatia's convention).",
    ),
    max_gsl_km: float = typer.Option(
        0.0,
        "--max-gsl-km",
        help="Longest ground link for --gsl-rule max-range (km); 0 = Hypatia's convention "
        "h/sin(min elevation), h the preset shell's altitude or, for files, the altitude from "
        "each satellite's mean motion.",
    ),
    min_elevation_deg: float = typer.Option(
        25.0, "--min-elevation", help="Ground-satellite elevation mask (degrees)."
    ),
    isl_kind: str = typer.Option(
        "auto",
        "--isl",
        help="ISLs: grid (+Grid per shell; presets, and files with a plane/slot structure: "
        "Hypatia's header or OMM PLANE/SLOT), nearest (4 nearest at start), none, or auto "
        "(grid where the structure is known, else nearest).",
    ),
    max_isl_km: float = typer.Option(
        0.0, "--max-isl-km", help="Longest laser link (km); 0 for no limit."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (series included)."),
) -> None:
    """Round-trip time between two places over LEO/MEO ISLs, step by step.

    Per step: satellites by SGP4, +Grid ISLs above 80 km, ground links by the chosen rule,
    shortest path (Dijkstra). Prints RTT statistics, hops, path changes, handovers and outages.
    """
    import math
    import time
    from datetime import UTC, datetime

    import numpy as np

    from tsunagu.cli._common import console, fail, print_json
    from tsunagu.errors import ModelRangeError, TsunaguError

    def _utc(text: str, option: str) -> datetime:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ModelRangeError(
                f"{option} {text!r} is not ISO 8601; pass e.g. 2026-01-01T00:00:00Z."
            ) from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        from tsunagu.ntn.tle import EPOCH_MAX_UTC, EPOCH_MIN_UTC

        if not EPOCH_MIN_UTC <= when < EPOCH_MAX_UTC:
            raise ModelRangeError(
                f"{option} {text!r} lies outside 1957-01-01 .. 2056-12-31, the span SGP4 "
                "element sets are made for; pass a date within it."
            )
        return when

    try:
        from tsunagu.ntn import constellations, isl, orbits, routing, tle
        from tsunagu.ntn.ground_stations import read_ground_stations

        if not (duration_s >= 0.0 and step_s > 0.0 and math.isfinite(duration_s)):
            raise ModelRangeError(
                f"--duration must be >= 0 and --step > 0 seconds; got {duration_s}, {step_s}."
            )
        steps = math.floor(duration_s / step_s + 1e-9) + 1
        if steps > _MAX_RTT_STEPS:
            raise ModelRangeError(
                f"--duration {duration_s:g} s at --step {step_s:g} s is {steps:,} steps; the "
                f"series would hold about {steps * _RTT_BYTES_PER_STEP / 1e9:,.1f} GB (and as "
                f"much again under --json) with one shortest-path search per step. At most "
                f"{_MAX_RTT_STEPS:,} steps: pass a coarser --step (at least "
                f"{duration_s / (_MAX_RTT_STEPS - 1):.3g} s) or a shorter --duration."
            )
        if isl_kind not in ("auto", "grid", "nearest", "none"):
            raise ModelRangeError(f"--isl {isl_kind!r}: use auto, grid, nearest or none.")
        rule = gsl_rule.strip().lower().replace("-", "_")
        if rule not in routing.GSL_RULES:
            raise ModelRangeError(f"--gsl-rule {gsl_rule!r}: use elevation or max-range.")
        if not max_gsl_km >= 0.0 or (max_gsl_km > 0.0 and rule != "max_range"):
            raise ModelRangeError(
                f"--max-gsl-km {max_gsl_km:g}: give a positive range with --gsl-rule max-range."
            )
        t0 = time.perf_counter()
        path = Path(constellation)
        shells: tuple[constellations.Shell, ...] = ()
        if path.suffix.lower() in (".tle", ".txt", ".3le", ".json", ".csv") or path.exists():
            elements = tle.read_elements(path)
            default_start = (
                datetime(2000, 1, 1, tzinfo=UTC).timestamp()
                + (float(elements.epoch_jd.max()) - 2451544.5) * 86400.0
            )
            when = datetime.fromtimestamp(round(default_start), UTC)
            has_grid = elements.plane is not None
            kind = ("grid" if has_grid else "nearest") if isl_kind == "auto" else isl_kind
            # Altitude from each satellite's Kozai mean motion (rad/min) over WGS72's radius.
            no = np.array([s.no_kozai for s in elements.satrecs]) / 60.0
            altitude_m = np.cbrt(_WGS72_MU_M3_S2 / no**2) - _WGS72_A_M
        else:
            shells = constellations.preset(constellation)
            if phasing is not None:
                shells = tuple(_rephase(s, phasing) for s in shells)
            when = _utc(epoch, "--epoch")
            elements = constellations.shell_elements(shells, when)
            kind = "grid" if isl_kind == "auto" else isl_kind
            altitude_m = np.concatenate([np.full(s.size, s.altitude_m) for s in shells])
        if shells == () and (phasing is not None or epoch != "2026-01-01T00:00:00Z"):
            raise ModelRangeError(
                "--phasing and --epoch apply to presets; an element file carries its own."
            )
        if start is not None:
            when = _utc(start, "--start")
        stations = read_ground_stations(ground_stations) if ground_stations else None
        ground = routing.resolve_places([src, dst], stations)
        if ground.names[0] == ground.names[1]:
            ground = routing.ground_points(
                [f"{ground.names[0]} (from)", f"{ground.names[1]} (to)"],
                ground.lat_deg,
                ground.lon_deg,
                ground.alt_m,
            )
        times = np.arange(steps) * step_s
        chunks = (p for _, p in orbits.iter_sgp4_positions_ecef_m(elements, when, times))
        if kind == "grid":
            if shells:
                pairs = constellations.isl_pairs_for_shells(shells)
            else:
                index = elements.grid_index()
                pairs = index.reshape(-1)[isl.grid_isl_pairs(*index.shape)]
        elif kind == "nearest":
            pairs = isl.nearest_isl_pairs(orbits.sgp4_positions_ecef_m(elements, when, [0.0])[0])
        else:
            pairs = np.zeros((0, 2), dtype=np.int64)
        gsl_max_m = None
        if rule == "max_range":
            gsl_max_m = (
                np.array(max_gsl_km * 1e3)
                if max_gsl_km > 0
                else routing.hypatia_max_gsl_range_m(altitude_m, min_elevation_deg)
            )
        series = routing.route_series(
            chunks,
            times,
            pairs,
            ground,
            [(ground.names[0], ground.names[1])],
            min_elevation_deg,
            max_isl_range_m=max_isl_km * 1e3 if max_isl_km > 0 else math.inf,
            gsl_rule=rule,
            max_gsl_range_m=gsl_max_m,
        )
    except TsunaguError as exc:
        fail(exc)
    elapsed = time.perf_counter() - t0
    rtt_ms = series.rtt_s[:, 0] * 1e3
    ok = np.isfinite(rtt_ms)
    outages = series.outages[0]
    summary = {
        "rtt_ms_min": float(rtt_ms[ok].min()) if ok.any() else None,
        "rtt_ms_median": float(np.median(rtt_ms[ok])) if ok.any() else None,
        "rtt_ms_max": float(rtt_ms[ok].max()) if ok.any() else None,
        "hops_median": float(np.median(series.hops[ok, 0])) if ok.any() else None,
        "path_changes": int(series.path_changes[0]),
        "handovers": int(series.handovers[0]),
        "available_share": float(ok.mean()),
        "outage_s": float((outages[:, 1] - outages[:, 0]).sum()),
        "outages": outages.tolist(),
    }
    result = {
        "constellation": constellation,
        "satellites": len(elements),
        "isl": kind,
        "isl_links": int(pairs.shape[0]),
        "from": {
            "name": ground.names[0],
            "lat_deg": float(ground.lat_deg[0]),
            "lon_deg": float(ground.lon_deg[0]),
        },
        "to": {
            "name": ground.names[1],
            "lat_deg": float(ground.lat_deg[1]),
            "lon_deg": float(ground.lon_deg[1]),
        },
        "start_utc": when.isoformat(),
        "gsl_rule": rule,
        "max_gsl_km": None if gsl_max_m is None else float(np.max(gsl_max_m)) / 1e3,
        "step_s": step_s,
        "steps": steps,
        "min_elevation_deg": min_elevation_deg,
        "summary": summary,
        "series": {
            "time_s": times.tolist(),
            "rtt_ms": [float(x) if np.isfinite(x) else None for x in rtt_ms],
            "hops": series.hops[:, 0].tolist(),
            "satellites": [[int(k) for k in row if k >= 0] for row in series.paths[:, 0, :]],
        },
        "elapsed_s": elapsed,
    }
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    from tsunagu.cli._common import fmt_value

    table = Table(
        title=f"tsunagu · RTT {ground.names[0]} → {ground.names[1]} · {constellation} "
        f"({len(elements)} sats, ISL {kind}) · {steps} steps of {step_s:g} s"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, key, fmt in (
        ("RTT min (ms)", "rtt_ms_min", "{:.2f}"),
        ("RTT median (ms)", "rtt_ms_median", "{:.2f}"),
        ("RTT max (ms)", "rtt_ms_max", "{:.2f}"),
        ("hops (median)", "hops_median", "{:.0f}"),
        ("path changes", "path_changes", "{:d}"),
        ("handovers (both ends)", "handovers", "{:d}"),
        ("time with a path (%)", "available_share", "{:.1%}"),
        ("outage total (s)", "outage_s", "{:.0f}"),
    ):
        table.add_row(label, fmt_value(fmt, summary[key]))
    console.print(table)
    console.print(
        f"start {when.isoformat()} · {_rule_text(rule, gsl_max_m, min_elevation_deg)} · "
        "propagation only "
        f"(2·length/c) · ran in {elapsed:.1f} s"
    )


def _rule_text(rule: str, gsl_max_m: Any, min_elevation_deg: float) -> str:
    if rule == "max_range":
        import numpy as np

        return f"ground links ≤ {float(np.max(gsl_max_m)) / 1e3:.1f} km"
    return f"elevation ≥ {min_elevation_deg:g}°"


def _rephase(shell: Any, phasing: str) -> Any:
    """The shell with ``--phasing`` applied: a Walker factor, or Hypatia's half-slot shift."""
    import dataclasses

    from tsunagu.errors import ModelRangeError

    text = phasing.strip().lower()
    if text == "hypatia":
        return dataclasses.replace(shell, phasing=0, phase_mode="hypatia")
    try:
        f = int(text)
    except ValueError:
        raise ModelRangeError(
            f"--phasing {phasing!r}: pass a Walker factor 0..planes-1 or 'hypatia'."
        ) from None
    return dataclasses.replace(shell, phasing=f, phase_mode="walker")
