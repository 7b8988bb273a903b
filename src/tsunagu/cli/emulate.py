"""``tsunagu emulate``: real traffic over a path of a run, in Linux network namespaces."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tsunagu.cli._common import console, err, fail, fmt_value, print_json
from tsunagu.errors import TsunaguError

__all__ = ["emulate", "split_commands"]

CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}


def split_commands(args: list[str]) -> dict[str, list[str]]:
    """``server CMD… -- client CMD…`` (either, both, any order) into {"server": …, "client": …}."""
    groups: list[list[str]] = [[]]
    for a in args:
        if a == "--":
            groups.append([])
        else:
            groups[-1].append(a)
    out: dict[str, list[str]] = {}
    for g in groups:
        if not g:
            continue
        role, cmd = g[0], g[1:]
        if role not in ("server", "client") or not cmd:
            raise typer.BadParameter(
                f"after `--` give `server CMD…` and/or `client CMD…`, not {' '.join(g)!r} "
                "(e.g. `-- server python3 -m http.server -- client curl http://$TSUNAGU_DST:8000/`)"
            )
        if role in out:
            raise typer.BadParameter(f"`{role}` is given twice after `--`")
        out[role] = cmd
    return out


def emulate(
    ctx: typer.Context,
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `tsunagu run`.")],
    flow: Annotated[
        str,
        typer.Option(
            "--flow",
            help="DEMAND/SERVICE (a row of flows.parquet, e.g. Tokyo/chat) or ntn:PAIR (a pair "
            "of ntn_rtt.parquet, e.g. 'ntn:Tokyo → Naha').",
        ),
    ],
    duration_s: Annotated[
        float | None,
        typer.Option("--duration", help="Wall seconds to replay (default: the whole run)."),
    ] = None,
    start_s: Annotated[
        float | None, typer.Option("--start", help="Twin time to start from (s; default: first).")
    ] = None,
    speed: Annotated[
        float,
        typer.Option("--speed", help="Twin seconds per wall second (1: real time)."),
    ] = 1.0,
    per: Annotated[
        str, typer.Option("--per", help="One hop per domain `segment` (the only mode so far).")
    ] = "segment",
    max_rate_bps: Annotated[
        float | None,
        typer.Option("--max-rate", help="Cap every segment's rate (b/s); the relay does ~50 Mb/s."),
    ] = None,
    throughput: Annotated[
        bool, typer.Option(help="Run the TCP bulk probe in the second half of every step.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the loss draws.")] = 0,
    server_wait_s: Annotated[
        float,
        typer.Option(
            "--server-wait",
            help="Longest wait (s) for the server to listen on a port before the replay and "
            "the client start (0: start at once).",
        ),
    ] = 30.0,
    write: Annotated[
        bool,
        typer.Option(
            help="Write emulation_*.parquet and emulation.json into RUN_DIR (and redraw its "
            "report.html when there is one)."
        ),
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the per-step table as JSON.")
    ] = False,
) -> None:
    """Replay a flow's path in network namespaces; run your commands over it.

    After `--`: `server CMD…` runs in the destination (compute-site) namespace, `client CMD…`
    in the source (user) namespace; both see TSUNAGU_SRC and TSUNAGU_DST, the two end
    addresses. Built-in probes measure RTT (and with --throughput, TCP goodput) against the
    twin's prediction. Needs root and iproute2.
    """
    from tsunagu.emulate import Emulation, schedule_from_run, write_emulation
    from tsunagu.emulate.netns import EmulationError

    try:
        commands = split_commands(list(ctx.args))
        if per != "segment":
            raise EmulationError(
                f"--per {per}: the run directory records each flow's round trip and its parts, "
                "not its links one by one, so only --per segment can be replayed"
            )
        schedule = schedule_from_run(run_dir, flow)
        t_from = schedule.time_s[0] if start_s is None else start_s
        span = schedule.end_s - t_from
        if duration_s is not None:
            span = min(span, duration_s * speed)
        schedule = schedule.window(float(t_from), float(span))
        with Emulation(schedule, speed=speed, seed=seed, max_rate_bps=max_rate_bps) as emu:
            result = emu.run(
                throughput=throughput,
                server=commands.get("server"),
                client=commands.get("client"),
                server_wait_s=server_wait_s,
            )
        written = write_emulation(run_dir, result) if write else []
        if written and (run_dir / "report.html").is_file():
            from tsunagu.report import write_report

            written.append(write_report(run_dir))  # the report draws the new emulation
    except TsunaguError as exc:
        fail(exc)
        return
    except KeyboardInterrupt:
        err.print("interrupted: the emulation's namespaces and processes were removed")
        raise typer.Exit(code=130) from None
    steps = result.steps.to_pylist()
    if as_json:
        print_json({"flow": result.flow, "meta": result.meta, "steps": steps})
        return
    t = Table(title=f"tsunagu emulate · {result.flow} · speed {speed:g}")
    cols = ("twin time (s)", "twin RTT (ms)", "probe predicted (ms)", "measured p50 (ms)")
    for col in (*cols, "error (ms)", "goodput"):
        t.add_column(col, justify="right")
    for row in steps:
        diff = row["rtt_p50_ms"] - row["predicted_rtt_ms"]
        gp = row["goodput_bps"]
        t.add_row(
            f"{row['time_s']:g}",
            fmt_value("{:.2f}", row["twin_rtt_ms"]),
            fmt_value("{:.2f}", row["predicted_rtt_ms"]),
            fmt_value("{:.2f}", row["rtt_p50_ms"]),
            fmt_value("{:+.2f}", diff),
            "" if gp is None or math.isnan(gp) else f"{gp / 1e6:.2f} Mb/s",
        )
    console.print(t)
    codes = result.meta.get("commands", {})
    if codes:
        console.print(
            " · ".join(f"{k} exit {v if v is not None else 'stopped'}" for k, v in codes.items())
        )
    if written:
        console.print(f"results: {', '.join(str(p) for p in written)}")
