"""``tsunagu ran``: Radio access: 3GPP calibration and national coverage."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tsunagu.cli._common import BoundaryGroup
from tsunagu.sim import catalogue as kc

app = typer.Typer(
    cls=BoundaryGroup,
    name="ran",
    help="Radio access: 3GPP calibration and national coverage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --------------------------------------------------------------------------- ran control (C2)


@app.command("control")
def control_cmd(
    controller: Annotated[
        list[str] | None,
        typer.Option(
            "--controller",
            help="Controller to compare (repeatable): threshold, milp or a registered name. "
            "'always-on' is always run as the reference.",
        ),
    ] = None,
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Number of seeds (0..N-1).")] = 5,
    rings: Annotated[
        int, typer.Option("--rings", min=0, max=4, help="Hexagon rings: 1 = 7 sites, 2 = 19.")
    ] = 1,
    step_s: Annotated[float, typer.Option("--step-s", help="Control period (s).")] = 3600.0,
    energy_model: Annotated[
        str, typer.Option("--energy-model", help="tr38864 (TR 38.864) or earth (EARTH).")
    ] = "tr38864",
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Compare RAN controllers over a day on the same layouts and seeds (energy, SE, SLA)."""
    from rich.table import Table

    from tsunagu.cli._common import console, err, fail, print_json
    from tsunagu.errors import ScenarioError, TsunaguError
    from tsunagu.ran.control import available_controllers, compare_controllers
    from tsunagu.ran.environment import EnvironmentConfig
    from tsunagu.sim.demand import PROFILES

    names = ["always-on", *[c for c in (controller or ["threshold", "milp"]) if c != "always-on"]]
    try:
        for n in names:
            if n not in available_controllers():
                raise ScenarioError(
                    f"unknown controller {n!r}; choose from {', '.join(available_controllers())}."
                )
        if energy_model not in ("tr38864", "earth"):
            raise ScenarioError(f"--energy-model {energy_model!r}: use tr38864 or earth.")
        if not step_s > 0.0 or 86_400.0 % step_s:
            raise ScenarioError(f"--step-s {step_s}: pass a positive divisor of 86400 s.")
        cfg = EnvironmentConfig(
            hourly_profile=tuple(float(x) for x in PROFILES["residential"]),
            n_rings=rings,
            step_s=step_s,
            n_steps=int(86_400.0 // step_s),
            energy_model=energy_model,  # type: ignore[arg-type]
        )
        if as_json:
            cmp = compare_controllers(cfg, names, list(range(seeds)))
        else:
            with err.status("running controllers …"):
                cmp = compare_controllers(cfg, names, list(range(seeds)))
    except TsunaguError as exc:
        fail(exc)
        return
    summary = cmp.summary(reference="always-on")
    if as_json:
        print_json(
            {
                "seeds": list(cmp.seeds),
                "sites": 1 + 3 * rings * (rings + 1),
                "steps_per_day": cfg.n_steps,
                "energy_model": energy_model,
                "summary": summary,
                "per_seed": {
                    n: {
                        "energy_kwh": [e.energy_kwh for e in eps],
                        kc.SLA_VIOLATIONS.name: [int(e.sla_violations.sum()) for e in eps],
                        "se_bps_per_hz": [e.mean_se_bps_per_hz for e in eps],
                    }
                    for n, eps in cmp.episodes.items()
                },
            }
        )
        return
    table = Table(title=f"RAN control over a day · {seeds} seeds · {energy_model}")
    table.add_column("controller", no_wrap=True, min_width=10)
    for col in ("kWh/day", "saving", "SE b/s/Hz", "SLA viol.", "served", "on", "act()"):
        table.add_column(col, justify="right")
    for n, row in summary.items():
        table.add_row(
            n,
            f"{row['energy_kwh']:.1f}",
            f"{row['saving_pct']:.1f} %",
            f"{row['se_bps_per_hz']:.2f}",
            f"{row[kc.SLA_VIOLATIONS.name]:.0f}",
            f"{row[kc.SERVED_SHARE.name]:.2%}",
            f"{row['active_cell_share']:.0%}",
            f"{row['act_median_s'] * 1e3:.1f} ms",
        )
    console.print(table)


# --------------------------------------------------------------------------- calibrate (C1)


@app.command("calibrate")
def calibrate_cmd(
    scenario: Annotated[
        str, typer.Option("--scenario", help="TR 38.901 scenario: uma or umi.")
    ] = "uma",
    freq_ghz: Annotated[
        float, typer.Option("--freq-ghz", help="Carrier of the reference: 6, 30 or 70 GHz.")
    ] = 6.0,
    users: Annotated[
        int, typer.Option("--users", min=570, help="Users dropped (Table 7.8-1 minimum 570).")
    ] = 20_000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed of the drop.")] = 1,
    tolerance_db: Annotated[
        float, typer.Option("--tolerance-db", help="Acceptance at p5/p50/p95 (dB).")
    ] = 1.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Reproduce the TR 38.901 §7.8 large-scale calibration (3GPP R1-165974).

    19 sites x 3 sectors with wrap-around, 10-element tilted column, 80 % indoor users; prints
    coupling gain and geometry percentiles beside the 3GPP reference. Exit code 1 when a
    p5/p50/p95 value differs from the reference by more than --tolerance-db.
    """
    import time

    from tsunagu.cli._common import console, fail, print_json
    from tsunagu.errors import ModelRangeError, TsunaguError
    from tsunagu.ran.calibration import CHECK_PERCENTILES, run_calibration

    t0 = time.perf_counter()
    try:
        if scenario not in ("uma", "umi"):
            raise ModelRangeError(f"--scenario {scenario!r}: pass uma or umi.")
        res = run_calibration(scenario, freq_ghz, n_users=users, seed=seed)  # type: ignore[arg-type]
    except TsunaguError as exc:
        fail(exc)
    elapsed = time.perf_counter() - t0
    err_db = res.max_abs_error_db()
    rows = [
        {
            "percentile": p,
            "coupling_gain_db": float(res.coupling_gain_pct_db[i]),
            "coupling_gain_ref_db": float(res.ref_coupling_gain_pct_db[i]),
            "geometry_db": float(res.geometry_pct_db[i]),
            "geometry_ref_db": float(res.ref_geometry_pct_db[i]),
        }
        for i, p in enumerate(res.percentiles)
    ]
    passed = err_db <= tolerance_db
    if as_json:
        print_json(
            {
                "scenario": scenario,
                "freq_ghz": freq_ghz,
                "users": users,
                "seed": seed,
                "reference": "3GPP R1-165974 via TR 38.901 §7.8.1 (QuaDRiGa calib_3GPP_ref_data.m)",
                "percentiles": rows,
                "max_abs_error_db_p5_p50_p95": err_db,
                "tolerance_db": tolerance_db,
                "passed": passed,
                "elapsed_s": elapsed,
            }
        )
    else:
        from rich.table import Table

        table = Table(
            title=f"tsunagu · TR 38.901 calibration · {scenario.upper()} {freq_ghz:g} GHz · "
            f"{users:,} users"
        )
        for col in ("pct", "coupling gain (dB)", "3GPP", "geometry (dB)", "3GPP"):
            table.add_column(col, justify="right")
        for r in rows:
            mark = "*" if r["percentile"] in CHECK_PERCENTILES else ""
            table.add_row(
                f"{r['percentile']}{mark}",
                f"{r['coupling_gain_db']:.1f}",
                f"{r['coupling_gain_ref_db']:.1f}",
                f"{r['geometry_db']:.1f}",
                f"{r['geometry_ref_db']:.1f}",
            )
        console.print(table)
        verdict = "[green]PASS[/]" if passed else "[red]FAIL[/]"
        console.print(
            f"max |error| at p5/p50/p95 (*): {err_db:.2f} dB (tolerance {tolerance_db:g} dB) "
            f"{verdict} · ran in {elapsed:.1f} s"
        )
    if not passed:
        raise typer.Exit(code=1)


# --------------------------------------------------------------------------- coverage (C1)


@app.command("coverage")
def coverage_cmd(
    scenario: Annotated[
        str, typer.Argument(help="Built-in scenario name or YAML file.")
    ] = "japan-2030",
    users: Annotated[
        int, typer.Option("--users", min=1, help="User points spread over the demand areas.")
    ] = 200_000,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Random seed (default: the scenario's).")
    ] = None,
    k_nearest: Annotated[
        int, typer.Option("--k", min=1, help="Cells evaluated per user and layer.")
    ] = 21,
    down: Annotated[
        list[str] | None,
        typer.Option(
            "--down",
            help="Prefecture whose terrestrial sites are off (repeatable, e.g. --down Ishikawa); "
            "its users fall back on neighbours and HIBS.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """National downlink coverage: population and area share above rate thresholds.

    Macro sub-6 cells wherever people live, mmWave small cells in dense city cores, HIBS
    beams on the scenario's HAPS; TR 38.901 path loss with LOS state, shadow fading and O2I;
    proportional-fair sharing among active users; totals and one row per prefecture.
    """
    import time

    import numpy as np

    from tsunagu.cli._common import console, fail, print_json
    from tsunagu.errors import ScenarioError, TsunaguError
    from tsunagu.geo import load_prefectures
    from tsunagu.scenario.loader import load_scenario
    from tsunagu.sim.estimate import check_memory, memory_budget_bytes

    t0 = time.perf_counter()
    try:
        from tsunagu.ran.coverage import HapsSite, demand_areas, national_coverage

        sc = load_scenario(scenario)
        pref_codes = {
            str(n).lower(): int(c)
            for n, c in zip(load_prefectures().name_en, load_prefectures().jis_code, strict=True)
        }
        down_codes = []
        for name in down or []:
            if name.lower() not in pref_codes:
                raise ScenarioError(
                    f"--down {name!r} is not a prefecture; pass an English name such as Ishikawa."
                )
            down_codes.append(pref_codes[name.lower()])
        demand = demand_areas(sc.demand.min_city_population, sc.demand.max_points, sc.demand.areas)
        haps = [HapsSite(h.name, h.lat_deg, h.lon_deg, h.coverage_radius_km) for h in sc.ntn.haps]
        if users < demand.population.size:
            users = int(demand.population.size)
        # Per user point: the indices and about eight float64 working arrays of its
        # k nearest cells, and some twenty per-user float64 columns.
        check_memory(
            users * (k_nearest * 9 + 20) * 8.0,
            memory_budget_bytes(None),
            f"--users {users:,} with --k {k_nearest}",
            "pass fewer --users (coverage shares converge as 1/sqrt(users)) or a smaller --k",
        )
        res = national_coverage(
            sc.ran,
            demand,
            haps,
            n_user_points=users,
            seed=sc.timeline.seed if seed is None else seed,
            k_nearest=k_nearest,
            down_prefectures=down_codes,
        )
    except TsunaguError as exc:
        fail(exc)
    elapsed = time.perf_counter() - t0
    pref = load_prefectures()
    thr = [float(t) for t in res.thresholds_bps]
    by_pref: list[dict[str, Any]] = []
    for i, code in enumerate(pref.jis_code):
        c = int(code)
        by_pref.append(
            {
                "jis_code": c,
                "prefecture": str(pref.name_en[i]),
                "population_share": [float(x) for x in res.by_prefecture_pop_share[c]],
                "area_share": [float(x) for x in res.by_prefecture_area_share[c]],
            }
        )
    result = {
        "scenario": sc.name,
        "user_points": int(res.rate_bps.size),
        "thresholds_bps": thr,
        "population_share": [float(x) for x in res.pop_share],
        "area_share": [float(x) for x in res.area_share],
        "median_rate_bps": float(np.median(res.rate_bps)) if res.rate_bps.size else 0.0,
        "cells_by_layer": res.n_cells_by_layer,
        "sites_by_layer": res.n_sites_by_layer,
        "mean_rate_by_layer_bps": res.mean_rate_by_layer_bps,
        "rate_mapping": sc.ran.rate_mapping,
        "down_prefectures": down or [],
        "by_prefecture": by_pref,
        "elapsed_s": elapsed,
    }
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    def _fmt_bps(x: float) -> str:
        for unit, div in (("Gb/s", 1e9), ("Mb/s", 1e6), ("kb/s", 1e3)):
            if x >= div:
                return f"{x / div:.3g} {unit}"
        return f"{x:g} b/s"

    head = Table(title=f"tsunagu · RAN coverage · {sc.name} · {result['user_points']:,} users")
    head.add_column("rate ≥")
    head.add_column("population %", justify="right")
    head.add_column("area %", justify="right")
    for t, p, a in zip(thr, res.pop_share, res.area_share, strict=True):
        head.add_row(_fmt_bps(t), f"{100 * p:.1f}", f"{100 * a:.1f}")
    console.print(head)
    layers = Table(title="layers")
    for col in ("layer", "sites", "cells", "mean user rate"):
        layers.add_column(col, justify="right" if col != "layer" else "left")
    for name, n in res.n_cells_by_layer.items():
        layers.add_row(
            name,
            f"{res.n_sites_by_layer[name]:,}",
            f"{n:,}",
            _fmt_bps(res.mean_rate_by_layer_bps.get(name, 0.0)),
        )
    console.print(layers)
    pt = Table(title="by prefecture: population % / area % with rate ≥ threshold")
    pt.add_column("prefecture")
    for t in thr:
        pt.add_column(f"≥ {_fmt_bps(t)}", justify="right")
    for r in by_pref:
        pt.add_row(
            str(r["prefecture"]),
            *[
                f"{100 * p:.0f} / {100 * a:.0f}"
                for p, a in zip(r["population_share"], r["area_share"], strict=True)
            ],
        )
    console.print(pt)
    console.print(
        f"rate mapping {sc.ran.rate_mapping} · PF sharing among active users · ran in "
        f"{elapsed:.1f} s"
    )
