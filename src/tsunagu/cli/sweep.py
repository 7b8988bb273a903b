"""``tsunagu sweep``: Monte Carlo over failures and seeds, grids over parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tsunagu.cli._common import console, err, fail, fmt_value, print_json
from tsunagu.errors import ScenarioError, TsunaguError
from tsunagu.sim import catalogue as kc

__all__ = ["sweep"]

# (column, label, format) shown in the terminal.
#: The sweep KPIs shown in the terminal (the rest are in the written table).
_TERMINAL = frozenset(
    k.name
    for k in (
        kc.SERVED_SHARE,
        kc.SLA_SHARE,
        kc.LATENCY_P95_MS,
        kc.POPULATION_WITHOUT_SERVICE_PEAK,
        kc.PERSON_HOURS_WITHOUT_SERVICE,
        kc.TIME_TO_RESTORE_MAX_S,
        kc.ENERGY_TOTAL_KWH,
        kc.CARBON_KG,
    )
)
_SHOWN: tuple[tuple[str, str, str], ...] = tuple(
    (k.name, k.label if k.name != kc.TIME_TO_RESTORE_MAX_S.name else f"{k.label} (h)", k.fmt)
    for k in kc.in_view("sweep")
    if k.name in _TERMINAL
)
_MAX_ROWS = 25


def _parse_set(items: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        path, sep, values = item.partition("=")
        if not sep or not path or not values:
            raise ScenarioError(
                f"--set {item!r} must be PATH=V1,V2,... e.g. --set ran.battery_hold_s=3600,10800"
            )
        grid[path.strip()] = [_set_value(item, v) for v in values.split(",")]
    return grid


_MAX_SET_VALUE_CHARS = 1000


def _set_value(item: str, text: str) -> Any:
    """One ``--set`` value read as a plain YAML scalar (safe loader; no tags, no nesting)."""
    if len(text) > _MAX_SET_VALUE_CHARS:
        raise ScenarioError(
            f"--set {item[:40]!r}...: a value longer than {_MAX_SET_VALUE_CHARS} characters; "
            "Fix: give short scalar values (numbers, true/false, names)"
        )
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ScenarioError(
            f"--set {item!r}: the value {text!r} is not a plain YAML value ({problem}); "
            "Fix: give numbers, true/false or names (quote text containing [ ] { } ! : #)"
        ) from None
    if isinstance(value, dict | list):
        raise ScenarioError(
            f"--set {item!r}: the value {text!r} is a list or mapping; Fix: give one scalar per "
            "comma-separated value, e.g. --set ran.battery_hold_s=3600,10800"
        )
    return value


def _value(col: str, v: Any, fmt: str) -> str:
    if col == kc.TIME_TO_RESTORE_MAX_S.name and isinstance(v, float):
        v = v / 3600.0
    return fmt_value(fmt, v)


def sweep(
    scenario: Annotated[
        str, typer.Argument(help="Built-in scenario name or YAML path.")
    ] = "japan-2030",
    runs: Annotated[int, typer.Option("--runs", "-n", help="Seeds per parameter set.")] = 10,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Sweep seed (default: the scenario's seed).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Grid parameter PATH=V1,V2 (dotted scenario path; repeat for a grid), "
            "e.g. events.0.params.ntn_delay_s=0,86400.",
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(help="Add a disaster preset (tohoku-2011, noto-2024, nankai)."),
    ] = None,
    at_s: Annotated[float, typer.Option("--at", help="Start of the preset (s).")] = 0.0,
    fail_links: Annotated[
        float, typer.Option(help="Share of backbone fibre links cut per case (drawn).")
    ] = 0.0,
    fail_satellites: Annotated[
        float, typer.Option(help="Share of each constellation's satellites failed (drawn).")
    ] = 0.0,
    workers: Annotated[
        int | None, typer.Option(help="Local processes (default: CPU count).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://host:8786); default: run locally."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for sweep.parquet and sweep.json.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Run a scenario many times (seeds × parameter grid × random failures); merge the KPIs."""
    from tsunagu.scenario import load_scenario
    from tsunagu.scenario.schema import Event
    from tsunagu.sim.sweep import KPI_COLUMNS, make_cases, run_sweep

    try:
        sc = load_scenario(scenario)
        if preset is not None:
            from tsunagu.sim.disasters import PRESETS

            if preset not in PRESETS:
                raise ScenarioError(f"unknown preset {preset!r}; use one of {sorted(PRESETS)}")
            sc = sc.model_copy(update={"events": [*sc.events, Event(preset=preset, start_s=at_s)]})
        cases = make_cases(
            sc,
            runs=runs,
            seed=seed,
            grid=_parse_set(set_ or []),
            fail_links_share=fail_links,
            fail_satellites_share=fail_satellites,
        )
        if as_json:
            result = run_sweep(cases, workers=workers, scheduler=scheduler)
        else:
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("cases"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task(f"sweeping {sc.name}", total=len(cases))

                def tick(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = run_sweep(cases, workers=workers, scheduler=scheduler, progress=tick)
    except TsunaguError as exc:
        fail(exc)
        return

    table = result.table
    stats: dict[str, dict[str, float | None]] = {}
    for col in KPI_COLUMNS:
        v = np.array(
            [np.nan if x is None else float(x) for x in table[col].to_pylist()], dtype=np.float64
        )
        ok = v[np.isfinite(v)]
        stats[col] = {
            "mean": float(ok.mean()) if ok.size else None,
            "p5": float(np.percentile(ok, 5)) if ok.size else None,
            "p50": float(np.percentile(ok, 50)) if ok.size else None,
            "p95": float(np.percentile(ok, 95)) if ok.size else None,
            "missing": int(v.size - ok.size),
        }
    meta = {
        "scenario": sc.name,
        "cases": table.num_rows,
        "backend": result.backend,
        "workers": result.workers,
        "wall_s": result.wall_s,
    }
    if out is not None:
        try:
            _write(out, table, {**meta, "stats": stats})
        except OSError as exc:
            fail(ScenarioError(f"cannot write {out}: {exc}"))
    if as_json:
        print_json({**meta, "stats": stats, "rows": table.to_pylist()})
        return

    params = [c for c in table.column_names if c.startswith("param:")]
    if table.num_rows <= _MAX_ROWS:
        t = Table(title=f"sweep · {sc.name} · {table.num_rows} cases")
        for c in ("case", "seed", *(p.removeprefix("param:") for p in params)):
            t.add_column(c, justify="right")
        for _, label, _ in _SHOWN:
            t.add_column(label, justify="right")
        for row in table.to_pylist():
            t.add_row(
                str(row["case"]),
                str(row["seed"]),
                *(str(row[p]) for p in params),
                *(_value(c, row[c], f) for c, _, f in _SHOWN),
            )
        console.print(t)
    s = Table(title=f"sweep · {sc.name} · statistics over {table.num_rows} cases")
    for col in ("KPI", "mean", "p5", "p50", "p95"):
        s.add_column(col, justify="left" if col == "KPI" else "right")
    for c, label, f in _SHOWN:
        st = stats[c]
        s.add_row(label, *(_value(c, st[q], f) for q in ("mean", "p5", "p50", "p95")))
    console.print(s)
    console.print(
        f"{table.num_rows} cases on {result.backend} ({result.workers} workers) "
        f"in {result.wall_s:.1f} s" + (f" · results: {out}" if out is not None else "")
    )


def _write(out: Path, table: Any, meta: dict[str, Any]) -> None:
    import json

    import pyarrow.parquet as pq

    from tsunagu.results.store import atomic_path
    from tsunagu.sim.kpis import finite_or_none

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "sweep.parquet") as tmp:
        pq.write_table(table, tmp, compression="zstd")
    with atomic_path(out / "sweep.json") as tmp:
        tmp.write_text(
            json.dumps(finite_or_none(meta), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
