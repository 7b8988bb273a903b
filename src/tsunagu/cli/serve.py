"""``tsunagu serve`` and ``tsunagu tenant add|list|remove``: the testbed service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tsunagu.cli._common import BoundaryGroup, console, fail, print_json
from tsunagu.errors import TsunaguError

tenant_app = typer.Typer(
    cls=BoundaryGroup,
    help="Tenants of the testbed service and their API tokens.",
    no_args_is_help=True,
)

DataOpt = Annotated[
    Path, typer.Option("--data", help="Directory of results and of the default SQLite database.")
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: SQLite in WAL mode in --data; "
        "postgresql://user@host/db for a shared deployment).",
    ),
]


def _sessions(data: Path, db: str | None):  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import sessionmaker

    from tsunagu.api.config import ServiceConfig
    from tsunagu.api.db import make_engine, migrate

    cfg = ServiceConfig(data_dir=data, db_url=db)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(cfg.database_url)
    migrate(engine)
    return sessionmaker(engine, expire_on_commit=False)


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: DbOpt = None,
    data: DataOpt = Path("runs/service"),
    workers: Annotated[int, typer.Option(help="Jobs run at once (one local process each).")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address; jobs then run on that cluster.")
    ] = None,
    cors: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="Allow browser calls from this origin."),
    ] = None,
    rate: Annotated[float, typer.Option(help="Requests per second per token.")] = 20.0,
    burst: Annotated[int, typer.Option(help="Requests a token may send at once.")] = 100,
    stale_after: Annotated[
        float, typer.Option(help="Seconds without heartbeat before a running job is taken over.")
    ] = 15.0,
) -> None:
    """Run the open testbed service: HTTP API (OpenAPI at /docs) and dashboard (/dashboard)."""
    import uvicorn

    from tsunagu.api.app import create_app
    from tsunagu.api.config import ServiceConfig

    try:
        cfg = ServiceConfig(
            data_dir=data,
            db_url=db,
            workers=workers,
            scheduler=scheduler,
            cors_origins=tuple(cors or ()),
            rate_per_s=rate,
            rate_burst=burst,
            stale_after_s=stale_after,
            heartbeat_s=min(2.0, stale_after / 4.0),
        )
        app = create_app(cfg)
    except TsunaguError as exc:
        fail(exc)
        return
    except Exception as exc:  # database unreachable, bad URL: say which and how to fix it
        fail(TsunaguError(f"cannot open the database {db or cfg.database_url!r}: {exc}"))
        return
    console.print(
        f"tsunagu serve: http://{host}:{port}/docs · dashboard http://{host}:{port}/dashboard/ · "
        f"database {app.state.engine.dialect.name}"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", ws="websockets-sansio")


@tenant_app.command("add")
def tenant_add(
    name: Annotated[str, typer.Argument(help="Tenant name (letters, digits, . _ -).")],
    db: DbOpt = None,
    data: DataOpt = Path("runs/service"),
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a tenant and print its API token (shown once; only its hash is stored)."""
    from tsunagu.api.auth import add_tenant

    try:
        with _sessions(data, db)() as s:
            token = add_tenant(s, name)
    except TsunaguError as exc:
        fail(exc)
        return
    if as_json:
        print_json({"tenant": name, "token": token})
        return
    console.print(f"tenant {name} created; its token (shown only now, keep it secret):")
    console.print(token, highlight=False, soft_wrap=True)


@tenant_app.command("list")
def tenant_list(
    db: DbOpt = None,
    data: DataOpt = Path("runs/service"),
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the tenants (names and creation times; tokens are never shown again)."""
    from tsunagu.api.auth import list_tenants

    with _sessions(data, db)() as s:
        rows = [(t.name, t.created_at.isoformat(timespec="seconds")) for t in list_tenants(s)]
    if as_json:
        print_json({"tenants": [{"name": n, "created_at": c} for n, c in rows]})
        return
    for n, c in rows:
        console.print(f"{n}\t{c}")


@tenant_app.command("remove")
def tenant_remove(
    name: Annotated[str, typer.Argument(help="Tenant to remove with all it owns.")],
    db: DbOpt = None,
    data: DataOpt = Path("runs/service"),
) -> None:
    """Remove a tenant, its token and everything it owns."""
    from tsunagu.api.auth import remove_tenant

    try:
        with _sessions(data, db)() as s:
            remove_tenant(s, name)
    except TsunaguError as exc:
        fail(exc)
        return
    console.print(f"tenant {name} removed")
