"""The ``tsunagu`` command line. Only this module prints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tsunagu.cli._common import BoundaryGroup, console, err, fail, fmt_value, print_json, say
from tsunagu.errors import ScenarioError, TsunaguError
from tsunagu.sim import catalogue as kc

app = typer.Typer(
    cls=BoundaryGroup,
    name="tsunagu",
    help="tsunagu (繋ぐ): the open digital twin of Beyond 5G infrastructure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (key, label, unit, format) of the KPIs printed by `tsunagu run`, from the KPI catalogue.
KPI_ROWS: list[tuple[str, str, str, str]] = [
    (k.name, k.label, k.unit, k.fmt) for k in kc.in_view("cli")
]


def _kpi_table(summary: dict[str, Any]) -> Table:
    t = Table(
        title=(
            f"tsunagu · {summary['scenario']} · {summary['steps']} steps of {summary['step_s']:g} s"
        )
    )
    t.add_column("KPI")
    t.add_column("value", justify="right")
    t.add_column("unit")
    for key, label, unit, fmt in KPI_ROWS:
        t.add_row(label, fmt_value(fmt, summary["kpis"].get(key)), unit)
    return t


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="Built-in scenario name or YAML path.")
    ] = "japan-2030",
    out: Annotated[Path | None, typer.Option("--out", help="Run directory to write.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print KPIs as JSON.")] = False,
    report: Annotated[bool, typer.Option(help="Write report.html into the run directory.")] = True,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="Placement policy by name, overriding the scenario's (latency-first, "
            "energy-first, carbon-first, cost, nearest-feasible or a registered plug-in).",
        ),
    ] = None,
    memory_budget: Annotated[
        str | None,
        typer.Option(
            "--memory-budget",
            help="Refuse a run whose estimated peak memory exceeds this (e.g. 16GB); "
            "default $TSUNAGU_MEMORY_BUDGET, else half of this machine's memory.",
        ),
    ] = None,
) -> None:
    """Run a scenario end to end and print its KPIs."""
    from tsunagu.results.store import check_out_dir
    from tsunagu.runner import run as run_scenario
    from tsunagu.scenario import load_scenario
    from tsunagu.scenario.loader import locate, slug
    from tsunagu.sim.estimate import format_bytes, memory_budget_bytes, preflight

    try:
        budget = memory_budget_bytes(memory_budget)
        sc = load_scenario(scenario)
        if policy is not None:
            from tsunagu.orchestrate.policy import with_policy

            sc = with_policy(sc, policy)
        out_dir = out if out is not None else Path("runs") / slug(sc.name)
        check_out_dir(out_dir)
        try:
            twin, estimate = preflight(sc, budget)
        except ScenarioError as exc:
            raise locate(scenario, exc) from None
        err.print(
            f"estimated peak memory {format_bytes(estimate.total_bytes)} "
            f"(budget {format_bytes(budget)})",
            soft_wrap=True,
        )
        if as_json:
            result = run_scenario(sc, out_dir, twin=twin, progress=_stderr_progress(sc.name))
        else:
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} steps"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task(f"running {sc.name}", total=None)

                def tick(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = run_scenario(sc, out_dir, progress=tick, twin=twin)
        if report:
            from tsunagu.report import write_report

            write_report(out_dir)
    except TsunaguError as exc:
        fail(exc)
        return
    summary = result.summary
    if as_json:
        print_json({**summary, "run_dir": str(out_dir)})
        return
    console.print(_kpi_table(summary))
    console.print(
        f"{summary['counts']['demand_points']} demand points · "
        f"{summary['counts']['nodes']} nodes · "
        f"{summary['counts']['links']} links · {summary['counts']['satellites']} satellites · "
        f"{summary['counts']['ran_sites']:,} RAN sites · ran in {summary['runtime_s']:.1f} s"
    )
    traffic = summary.get("traffic") or {}
    if traffic:
        console.print(
            f"traffic: {say(str(traffic['label']))}, {traffic['year']} "
            f"(base {traffic['base_year']}, ×{traffic['scale']:g})"
        )
    console.print(
        f"results: {say(out_dir)}"
        + (f" · report: {say(out_dir / 'report.html')}" if report else "")
    )


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or YAML path.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    memory_budget: Annotated[
        str | None,
        typer.Option("--memory-budget", help="As for `tsunagu run`: the budget to check against."),
    ] = None,
) -> None:
    """Check a scenario as `tsunagu run` would (schema, topologies, places, event targets,
    memory estimate) and report the first problem with file:line and the fix."""
    from tsunagu.scenario import load_scenario
    from tsunagu.scenario.loader import locate
    from tsunagu.sim.estimate import memory_budget_bytes, preflight

    try:
        sc = load_scenario(scenario)
        try:
            _, estimate = preflight(sc, memory_budget_bytes(memory_budget))
        except ScenarioError as exc:
            raise locate(scenario, exc) from None
    except TsunaguError as exc:
        if as_json:
            print_json({"valid": False, "error": str(exc)})
            raise typer.Exit(code=2) from None
        fail(exc)
        return
    if as_json:
        print_json({"valid": True, "name": sc.name, "estimated_peak_bytes": estimate.total_bytes})
    else:
        from tsunagu.sim.estimate import format_bytes

        console.print(
            f"[green]valid[/]: {say(scenario)} ({say(sc.name)}) · estimated peak memory "
            f"{format_bytes(estimate.total_bytes)}"
        )


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `tsunagu run`.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Report path (default RUN/report.html).")
    ] = None,
) -> None:
    """Write the self-contained HTML report of a run."""
    from tsunagu.report import write_report

    try:
        path = write_report(run_dir, out)
    except TsunaguError as exc:
        fail(exc)
        return
    console.print(f"report: {say(path)}")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="First run directory (A).")],
    run_b: Annotated[Path, typer.Argument(help="Second run directory (B).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    report_path: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the side-by-side HTML report here."),
    ] = None,
) -> None:
    """Show two runs' KPIs side by side with the difference (and write a comparison report)."""
    from tsunagu.report.compare import compare_rows, write_compare_report
    from tsunagu.results.store import check_run_id, read_summary

    try:
        a = read_summary(run_a)
        b = read_summary(run_b)
        check_run_id(run_a, a)
        check_run_id(run_b, b)
        written = write_compare_report(run_a, run_b, report_path) if report_path else None
    except TsunaguError as exc:
        fail(exc)
        return
    rows = compare_rows(a, b)
    if as_json:
        print_json(
            {
                "a": str(run_a),
                "b": str(run_b),
                "kpis": {k: {"a": va, "b": vb, "delta": d} for k, _, _, va, vb, d in rows},
                **({"report": str(written)} if written else {}),
            }
        )
        return
    t = Table(title=f"{say(a['scenario'])} ({say(run_a)})  vs  {say(b['scenario'])} ({say(run_b)})")
    for col, just in (
        ("KPI", "left"),
        ("A", "right"),
        ("B", "right"),
        ("B − A", "right"),
        ("unit", "left"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for _, label, unit, va, vb, d in rows:
        fmt = "{:.2%}" if unit == "%" else ("{:.1f}" if unit == "ms" else "{:,.0f}")
        t.add_row(label, fmt_value(fmt, va), fmt_value(fmt, vb), fmt_value(fmt, d), unit)
    console.print(t)
    if written:
        console.print(f"report: {say(written)}")


def _stderr_progress(name: str) -> Callable[[int, int], None]:
    """Plain progress lines on stderr (for --json, whose stdout is the JSON alone)."""
    import time

    last = [0.0]

    def tick(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 5.0:
            last[0] = now
            err.print(f"{say(name)}: {done}/{total} steps", soft_wrap=True)

    return tick


def _register_groups() -> None:
    from tsunagu.cli import ntn, optical, ran
    from tsunagu.cli.sweep import sweep

    app.add_typer(optical.app, name="optical")
    app.add_typer(ntn.app, name="ntn")
    app.add_typer(ran.app, name="ran")
    app.command(name="sweep")(sweep)
    from tsunagu.cli.serve import serve, tenant_app

    app.command(name="serve")(serve)
    app.add_typer(tenant_app, name="tenant")
    from tsunagu.cli.emulate import CONTEXT, emulate

    app.command(name="emulate", context_settings=CONTEXT)(emulate)


_register_groups()


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
