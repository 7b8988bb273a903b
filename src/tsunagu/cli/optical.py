"""``tsunagu optical``: All-Photonics Network QoT (GNPy files) and flexgrid RMSA."""

from __future__ import annotations

import typer

from tsunagu.cli._common import BoundaryGroup

app = typer.Typer(
    cls=BoundaryGroup,
    name="optical",
    help="All-Photonics Network: quality of transmission (GNPy files) and flexgrid RMSA.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("rmsa")
def rmsa(
    topology: str = typer.Option(
        "nsfnet", "--topology", help="nsfnet, jpn12, sinet, topohub:<key> or a CSV (a,b,length_km)."
    ),
    load: float = typer.Option(250.0, "--load", help="Offered load, Erlang."),
    requests: int = typer.Option(
        20000, "--requests", help="Requests simulated (warm-up included)."
    ),
    policy: str = typer.Option("ksp-ff", "--policy", help="Spectrum policy (see --list-policies)."),
    k: int = typer.Option(5, "--k", help="Candidate paths per node pair (k shortest by length)."),
    slots: int = typer.Option(100, "--slots", help="12.5 GHz slot units per link (C band: 384)."),
    warmup: int = typer.Option(3000, "--warmup", help="Requests served before counting."),
    holding: float = typer.Option(25.0, "--holding", help="Mean holding time (load = rate × it)."),
    qot: str = typer.Option(
        "reach",
        "--qot",
        help="Format choice: 'reach' (DeepRMSA distance table) or 'gn' (GSNR from the GN model).",
    ),
    undirected: bool = typer.Option(
        False, "--undirected", help="One spectrum per fibre pair instead of one per direction."
    ),
    truncate: bool = typer.Option(
        False, "--truncate-holding", help="Redraw holding times >= 2 × mean (DeepRMSA's code)."
    ),
    seed: int = typer.Option(1, "--seed", min=0, help="Random seed (0 or more)."),
    list_policies: bool = typer.Option(False, "--list-policies", help="List policies and exit."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Dynamic flexgrid RMSA: Poisson arrivals, exponential holding, blocking with 95 % CI."""
    import math
    import time

    import numpy as np

    from tsunagu.cli._common import console, fail, print_json
    from tsunagu.errors import DataError, TsunaguError
    from tsunagu.optical.rmsa import (
        DEEPRMSA_FORMATS,
        build_rmsa_network,
        get_spectrum_policy,
        gn_gsnr_db,
        qam_formats_for_ber,
        registered_spectrum_policies,
        resolve_topology,
        simulate_dynamic,
    )
    from tsunagu.optical.traffic import poisson_requests
    from tsunagu.sim.estimate import check_memory, memory_budget_bytes

    if list_policies:
        names = registered_spectrum_policies()
        if as_json:
            print_json({"policies": names})
        else:
            for name in names:
                console.print(name)
        return
    try:
        if requests <= warmup:
            raise DataError(
                f"--requests ({requests}) must exceed --warmup ({warmup}); pass more requests"
            )
        if not (math.isfinite(load) and math.isfinite(holding)) or load <= 0 or holding <= 0:
            raise DataError(
                f"--load ({load:g}) and --holding ({holding:g}) must be finite and positive; "
                "Fix: pass e.g. --load 250 --holding 25"
            )
        if k < 1 or slots < 1:
            raise DataError("--k and --slots must be positive; Fix: pass e.g. --k 5 --slots 100")
        # Five arrays per request (arrival, holding, source, destination, bit rate) and three
        # per-request results (blocked, reason, format), 8 bytes each.
        check_memory(
            requests * 8 * 8.0,
            memory_budget_bytes(None),
            f"--requests {requests:,}",
            "pass fewer --requests (the 95 % CI narrows as 1/sqrt(requests))",
        )
        pol = get_spectrum_policy(policy)
        topo = resolve_topology(topology)
        if qot not in ("reach", "gn"):
            raise DataError(f"--qot must be 'reach' or 'gn', got {qot!r}")
        net = build_rmsa_network(
            topo,
            k=k,
            n_slots=slots,
            directed=not undirected,
            formats=DEEPRMSA_FORMATS if qot == "reach" else qam_formats_for_ber(),
            gsnr_db=gn_gsnr_db(topo) if qot == "gn" else None,
        )
        rng = np.random.default_rng(seed)
        reqs = poisson_requests(
            requests, load, topo.n_nodes, rng, mean_holding_s=holding, truncate_holding=truncate
        )
        t0 = time.perf_counter()
        res = simulate_dynamic(net, reqs, pol, warmup=warmup, rng=rng)
        elapsed = time.perf_counter() - t0
    except TsunaguError as exc:
        fail(exc)
    out = {
        "topology": topo.name,
        "nodes": topo.n_nodes,
        "links": int(topo.n_links),
        "policy": pol.name,
        "qot": qot,
        "load_erlang": load,
        "requests": requests,
        "measured": res.n_measured,
        "blocking_probability": res.blocking_probability,
        "ci95": [res.ci_low, res.ci_high],
        "ci_method": "batch means (10 batches)",
        "bit_rate_blocking": res.bit_rate_blocking,
        "mean_utilisation": res.mean_utilisation,
        "blocked_by_reason": {k2: v for k2, v in res.reason_counts.items() if k2 != "served"},
        "requests_per_s": requests / elapsed if elapsed > 0 else None,
    }
    if as_json:
        print_json(out)
        return
    from rich.table import Table

    t = Table(title=f"RMSA {pol.name} on {topo.name}, {load:g} Erlang", show_header=False)
    t.add_row("blocking probability", f"{res.blocking_probability:.4%}")
    t.add_row("95 % CI (batch means)", f"[{res.ci_low:.4%}, {res.ci_high:.4%}]")
    t.add_row("bit-rate blocking", f"{res.bit_rate_blocking:.4%}")
    t.add_row("mean utilisation", f"{res.mean_utilisation:.1%}")
    for reason, count in res.reason_counts.items():
        if reason != "served":
            t.add_row(f"blocked: {reason}", f"{count:,}")
    t.add_row("measured requests", f"{res.n_measured:,}")
    t.add_row("speed", f"{requests / elapsed:,.0f} requests/s" if elapsed > 0 else "n/a")
    console.print(t)


@app.command("qot")
def qot(
    topology: str = typer.Option(..., "--topology", help="GNPy topology JSON."),
    equipment: str = typer.Option(..., "--equipment", help="GNPy eqpt_config.json."),
    requests: str = typer.Option(..., "--requests", help="GNPy path-request JSON."),
    power_dbm: float | None = typer.Option(
        None, "--power-dbm", help="Design per-channel power (dBm); default SI.power_dbm."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """QoT of GNPy path requests: path, GSNR, OSNR-ASE, latency, mode, spectrum or why blocked."""
    import math
    import time

    from rich.table import Table

    from tsunagu.cli._common import console, fail, fmt_value, print_json, say
    from tsunagu.errors import TsunaguError
    from tsunagu.optical.equipment import load_equipment
    from tsunagu.optical.gnpy_io import (
        compute_requests,
        design_network,
        load_requests,
        load_topology,
    )

    try:
        eq = load_equipment(equipment)
        net = design_network(load_topology(topology, eq), eq, power_dbm=power_dbm)
        reqs = load_requests(requests, eq)
        t0 = time.perf_counter()
        results = compute_requests(net, eq, reqs)
        elapsed = time.perf_counter() - t0
    except TsunaguError as exc:
        fail(exc)
    if as_json:
        print_json(
            {
                "topology": topology,
                "requests": [r.to_dict() for r in results],
                "feasible": sum(r.feasible for r in results),
                "compute_s": elapsed,
            }
        )
        return
    t = Table(title=f"tsunagu optical qot · {len(results)} requests · {elapsed * 1e3:.1f} ms")
    for col in ("id", "path (ROADMs)", "mode", "GSNR 0.1nm", "GSNR Rs", "OSNR-ASE 0.1nm"):
        t.add_column(col, justify="left" if col in ("id", "path (ROADMs)", "mode") else "right")
    t.add_column("latency ms", justify="right")
    t.add_column("slot [N],[M]", justify="right")
    t.add_column("result")
    for r in results:
        hops = [u.removeprefix("roadm ") for u in r.roadms] or [r.source, r.destination]
        slot = f"[{r.slot_n}],[{r.slot_m}]" if r.slot_n is not None else "—"
        status = "ok" if r.feasible else f"[red]{say(r.blocking_reason)}[/]: {say(r.reason)}"
        t.add_row(
            say(r.request_id),
            say(" → ".join(hops)),
            r.mode or "—",
            fmt_value("{:.2f}", r.gsnr_01nm_db),
            fmt_value("{:.2f}", r.gsnr_db),
            fmt_value("{:.2f}", r.osnr_ase_01nm_db),
            fmt_value("{:.3f}", r.latency_s * 1e3 if math.isfinite(r.latency_s) else None),
            slot,
            status,
        )
    console.print(t)
    console.print("GSNR and OSNR are comb averages over the full load (dB); margins use the worst.")
    for r in results:
        for note in r.notes:
            console.print(f"note ({r.request_id}): {note}")
