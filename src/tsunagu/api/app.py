"""The FastAPI application: routes under ``/v1``, the dashboard under ``/dashboard``.

Every route but ``/v1/health`` and ``/v1/version`` needs ``Authorization: Bearer TOKEN``. Every
object (scenario, run, sweep, intent, audit entry) belongs to the tenant that made it; a
request for another tenant's object gets 404, the answer for an object that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from importlib.metadata import version as pkg_version
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import Depends, FastAPI, HTTPException, Query, Request, WebSocket, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from tsunagu.api import adapter
from tsunagu.api.auth import RateLimiter, authenticate
from tsunagu.api.config import ServiceConfig
from tsunagu.api.controller import ControllerHub
from tsunagu.api.db import (
    AuditEntry,
    IntentRow,
    Job,
    ScenarioRow,
    Tenant,
    make_engine,
    migrate,
    utcnow,
)
from tsunagu.api.jobs import TERMINAL, JobRunner, new_id, result_dir
from tsunagu.api.models import (
    AuditOut,
    IntentCreate,
    IntentOut,
    JobOut,
    RunCreate,
    ScenarioCreate,
    ScenarioOut,
    SweepCreate,
    Validation,
)
from tsunagu.errors import ScenarioError, TsunaguError

__all__ = ["create_app"]

API_VERSION = "v1"
TableName = Literal[
    "steps",
    "flows",
    "satellites",
    "nodes",
    "links",
    "areas",
    "events",
    "lightpaths",
    "ntn_rtt",
    "ntn_tracks",
    "link_loads",
    "traffic",
    "latency",
]


@dataclass(frozen=True)
class Caller:
    id: int
    name: str
    token_key: str


class _BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _plain(send, 413, f"request body over {self.limit} bytes")
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _TooLargeError
            return msg

        try:
            await self.app(scope, limited, send)
        except _TooLargeError:
            await _plain(send, 413, f"request body over {self.limit} bytes")


class _TooLargeError(Exception):
    pass


async def _plain(send: Send, code: int, text: str) -> None:
    body = json.dumps({"detail": text}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _job_out(job: Job) -> JobOut:
    params = dict(job.params)
    return JobOut(
        id=job.id,
        kind=job.kind,
        scenario_id=job.scenario_id,
        status=job.status,
        done=job.done,
        total=job.total,
        attempts=job.attempts,
        message=job.error,
        params=params,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _intent_out(row: IntentRow) -> IntentOut:
    return IntentOut(
        id=row.id,
        run_id=row.run_id,
        request=row.request,
        admitted=bool(row.admitted),
        released=bool(row.released),
        site=row.site,
        access=row.access,
        latency_ms=row.latency_ms,
        availability=row.availability,
        gpu_load=row.gpu_load,
        constraint=row.constraint,
        reason=row.reason,
        created_at=row.created_at,
        released_at=row.released_at,
    )


def _scenario_out(row: ScenarioRow, info: dict[str, Any] | None = None) -> ScenarioOut:
    return ScenarioOut(
        id=row.id,
        name=row.name,
        description=row.description,
        created_at=row.created_at,
        info=info or {},
    )


def _not_found(what: str, oid: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {what} {oid!r} for this tenant")


def _caller(request: Request) -> Caller:
    """The tenant of the request's bearer token (401 without one, 429 over its rate)."""
    sessions = request.app.state.sessions
    limiter = request.app.state.limiter
    cfg = request.app.state.config
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send 'Authorization: Bearer TOKEN'; create a tenant and its token with "
            "`tsunagu tenant add NAME`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with sessions() as s:
        tenant = authenticate(s, token.strip())
    if tenant is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    wait = limiter.allow(tenant.token_hash)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit of {cfg.rate_per_s:g} requests/s per token exceeded",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return Caller(tenant.id, tenant.name, tenant.token_hash)


Who = Annotated[Caller, Depends(_caller)]


def create_app(config: ServiceConfig | None = None, *, run_jobs: bool = True) -> FastAPI:
    """Build the service. ``run_jobs=False`` leaves queued jobs for another process to run."""
    cfg = config or ServiceConfig()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(cfg.database_url)
    migrate(engine)
    sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
    hub = ControllerHub()

    def policy_for(job: Job) -> Any:
        spec = job.params.get("controller")
        if not spec:
            return None
        return hub.policy_for(job.id, spec, cfg.controller_connect_s)

    runner = JobRunner(cfg, sessions, policy_for)
    limiter = RateLimiter(cfg.rate_per_s, cfg.rate_burst)
    intent_locks: dict[str, threading.Lock] = {}
    intent_locks_guard = threading.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_jobs:
            runner.start()
        try:
            yield
        finally:
            if run_jobs:
                await asyncio.to_thread(runner.stop)
            engine.dispose()

    app = FastAPI(
        title="tsunagu testbed API",
        version=pkg_version("tsunagu"),
        description=(
            "The open verification testbed of the tsunagu digital twin: scenarios, runs and "
            "sweeps as jobs, intents on a run's network view, results as JSON, Parquet and "
            "GeoJSON, and external controllers over a WebSocket. Send `Authorization: Bearer "
            "TOKEN` (from `tsunagu tenant add NAME`)."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.config = cfg
    app.state.sessions = sessions
    app.state.runner = runner
    app.state.hub = hub
    app.state.engine = engine
    app.state.limiter = limiter

    if cfg.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cfg.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(_BodyLimit, limit=cfg.max_body_bytes)

    @app.exception_handler(TsunaguError)
    async def _tsunagu_error(_request: Request, exc: TsunaguError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    def audit(s: Session, who: Caller, action: str, object_id: str = "", detail: str = "") -> None:
        s.add(
            AuditEntry(
                tenant_id=who.id,
                tenant=who.name,
                action=action,
                object_id=object_id,
                detail=detail[:2000],
            )
        )

    def own_scenario(s: Session, who: Caller, sid: str) -> ScenarioRow:
        row = s.get(ScenarioRow, sid)
        if row is None or row.tenant_id != who.id:
            raise _not_found("scenario", sid)
        return row

    def own_job(s: Session, who: Caller, jid: str, kind: str) -> Job:
        job = s.get(Job, jid)
        if job is None or job.tenant_id != who.id or job.kind != kind:
            raise _not_found(kind, jid)
        return job

    def finished_dir(job: Job) -> Path:
        if job.status != "succeeded":
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"{job.kind} {job.id} is {job.status}; results exist once it has succeeded",
            )
        return result_dir(cfg, job.id)

    # ---- public --------------------------------------------------------------------------
    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness and the job queue's state."""
        with sessions() as s:
            counts = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        return {
            "status": "ok",
            "database": engine.dialect.name,
            "jobs": {k: int(v) for k, v in counts.items()},
        }

    @app.get("/v1/version", tags=["service"])
    def version() -> dict[str, str]:
        return {"tsunagu": pkg_version("tsunagu"), "api": API_VERSION}

    # ---- scenarios -------------------------------------------------------------------------
    def _scenario_body(body: ScenarioCreate) -> tuple[str, str]:
        size = len(body.yaml.encode("utf-8"))
        if size > cfg.max_scenario_bytes:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"scenario of {size} bytes is over the limit of {cfg.max_scenario_bytes}",
            )
        return body.yaml, body.filename

    @app.post("/v1/scenarios/validate", tags=["scenarios"])
    def validate_scenario(body: ScenarioCreate, who: Who) -> Validation:
        """Check a scenario; the error names file:line, the field and the fix (as the CLI)."""
        text, filename = _scenario_body(body)
        try:
            sc = adapter.parse_scenario(text, filename)
        except ScenarioError as exc:
            return Validation(valid=False, error=str(exc))
        return Validation(valid=True, name=sc.name)

    @app.post("/v1/scenarios", status_code=201, tags=["scenarios"])
    def create_scenario(body: ScenarioCreate, who: Who) -> ScenarioOut:
        text, filename = _scenario_body(body)
        sc = adapter.parse_scenario(text, filename)  # ScenarioError → 422 with file:line
        row = ScenarioRow(
            id=new_id("scn"), tenant_id=who.id, name=sc.name, description=sc.description, yaml=text
        )
        with sessions() as s:
            s.add(row)
            audit(s, who, "scenario.create", row.id, sc.name)
            s.commit()
        return _scenario_out(row, adapter.scenario_info(sc))

    @app.get("/v1/scenarios", tags=["scenarios"])
    def list_scenarios(
        who: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[ScenarioOut]:
        with sessions() as s:
            rows = s.scalars(
                select(ScenarioRow)
                .where(ScenarioRow.tenant_id == who.id)
                .order_by(ScenarioRow.created_at)
                .limit(limit)
            ).all()
        return [_scenario_out(r) for r in rows]

    @app.get("/v1/scenarios/{scenario_id}", tags=["scenarios"])
    def get_scenario(scenario_id: str, who: Who) -> ScenarioOut:
        with sessions() as s:
            row = own_scenario(s, who, scenario_id)
        return _scenario_out(row, adapter.scenario_info(adapter.parse_scenario(row.yaml)))

    @app.get("/v1/scenarios/{scenario_id}/yaml", tags=["scenarios"])
    def get_scenario_yaml(scenario_id: str, who: Who) -> Response:
        with sessions() as s:
            row = own_scenario(s, who, scenario_id)
        return Response(row.yaml, media_type="application/yaml")

    @app.delete("/v1/scenarios/{scenario_id}", status_code=204, tags=["scenarios"])
    def delete_scenario(scenario_id: str, who: Who) -> Response:
        with sessions() as s:
            row = own_scenario(s, who, scenario_id)
            s.delete(row)
            audit(s, who, "scenario.delete", scenario_id)
            s.commit()
        return Response(status_code=204)

    # ---- jobs (runs and sweeps) ---------------------------------------------------------
    def submit(who: Who, kind: str, scenario_id: str, params: dict[str, Any], total: int) -> JobOut:
        with sessions() as s:
            row = own_scenario(s, who, scenario_id)
            job = Job(
                id=new_id("run" if kind == "run" else "swp"),
                tenant_id=who.id,
                kind=kind,
                scenario_id=scenario_id,
                scenario_yaml=row.yaml,
                params=params,
                status="queued",
                done=0,
                total=total,
                error="",
                attempts=0,
                owner="",
                created_at=utcnow(),
            )
            s.add(job)
            audit(s, who, f"{kind}.submit", job.id, json.dumps(params)[:500])
            s.commit()
            out = _job_out(job)
        runner.wake()
        return out

    @app.post("/v1/runs", status_code=202, tags=["runs"])
    def submit_run(body: RunCreate, who: Who) -> JobOut:
        """Queue a run of a scenario (optionally placed by an external controller)."""
        from tsunagu.orchestrate.policy import get_policy

        with sessions() as s:
            sc = adapter.parse_scenario(own_scenario(s, who, body.scenario_id).yaml)
        if body.policy is not None:
            get_policy(body.policy)
        if body.controller is not None:
            get_policy(body.controller.fallback)
        params: dict[str, Any] = {}
        if body.policy is not None:
            params["policy"] = body.policy
        if body.controller is not None:
            params["controller"] = body.controller.model_dump()
        return submit(who, "run", body.scenario_id, params, int(adapter.scenario_info(sc)["steps"]))

    @app.post("/v1/sweeps", status_code=202, tags=["sweeps"])
    def submit_sweep(body: SweepCreate, who: Who) -> JobOut:
        """Queue a sweep: grid values × Monte Carlo seeds with random failures."""
        from tsunagu.sim.sweep import make_cases

        with sessions() as s:
            sc = adapter.parse_scenario(own_scenario(s, who, body.scenario_id).yaml)
        n = body.runs
        for values in (body.grid or {}).values():
            n *= len(values)
        if n > 1000:
            raise HTTPException(
                422, f"a sweep of {n} cases is over the limit of 1000; use fewer values or runs"
            )
        try:
            cases = make_cases(
                sc,
                runs=body.runs,
                seed=body.seed,
                grid=body.grid,
                fail_links_share=body.fail_links_share,
                fail_satellites_share=body.fail_satellites_share,
            )
        except (ScenarioError, ValidationError, ValueError, TypeError, KeyError, IndexError) as exc:
            raise HTTPException(422, f"invalid sweep: {exc}") from None
        return submit(who, "sweep", body.scenario_id, body.model_dump(), len(cases))

    def list_jobs(who: Caller, kind: str, limit: int) -> list[JobOut]:
        with sessions() as s:
            rows = s.scalars(
                select(Job)
                .where(Job.tenant_id == who.id, Job.kind == kind)
                .order_by(Job.created_at)
                .limit(limit)
            ).all()
        return [_job_out(j) for j in rows]

    def get_job(who: Caller, jid: str, kind: str) -> JobOut:
        with sessions() as s:
            return _job_out(own_job(s, who, jid, kind))

    def cancel_job(who: Caller, jid: str, kind: str) -> JobOut:
        with sessions() as s:
            job = own_job(s, who, jid, kind)
            if job.status == "queued":
                job.status, job.finished_at, job.error = (
                    "cancelled",
                    utcnow(),
                    "cancelled by the tenant",
                )
            elif job.status == "running":
                job.status = "cancelling"
            audit(s, who, f"{kind}.cancel", jid)
            s.commit()
            return _job_out(job)

    def delete_job(who: Caller, jid: str, kind: str) -> Response:
        import shutil

        with sessions() as s:
            job = own_job(s, who, jid, kind)
            if job.status not in TERMINAL:
                raise HTTPException(409, f"{kind} {jid} is {job.status}; cancel it first")
            s.delete(job)
            audit(s, who, f"{kind}.delete", jid)
            s.commit()
        shutil.rmtree(result_dir(cfg, jid), ignore_errors=True)
        return Response(status_code=204)

    def events(who: Caller, jid: str, kind: str) -> StreamingResponse:
        get_job(who, jid, kind)

        async def stream() -> AsyncIterator[str]:
            last: tuple[Any, ...] | None = None
            while True:

                def read() -> JobOut | None:
                    with sessions() as s:
                        job = s.get(Job, jid)
                        return _job_out(job) if job is not None else None

                out = await asyncio.to_thread(read)
                if out is None:
                    yield "event: gone\ndata: {}\n\n"
                    return
                key = (out.status, out.done, out.total)
                if key != last:
                    last = key
                    data = json.dumps(
                        {
                            "status": out.status,
                            "done": out.done,
                            "total": out.total,
                            "message": out.message,
                        }
                    )
                    yield f"event: progress\ndata: {data}\n\n"
                if out.status in TERMINAL:
                    yield f"event: end\ndata: {json.dumps({'status': out.status})}\n\n"
                    return
                await asyncio.sleep(0.25)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    for kind, plural in (("run", "runs"), ("sweep", "sweeps")):

        def register(kind: str = kind, plural: str = plural) -> None:
            tag: list[str | Enum] = [plural]

            @app.get(f"/v1/{plural}", tags=tag, name=f"list_{plural}")
            def _list(who: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[JobOut]:
                return list_jobs(who, kind, limit)

            @app.get(f"/v1/{plural}/{{job_id}}", tags=tag, name=f"get_{kind}")
            def _get(job_id: str, who: Who) -> JobOut:
                return get_job(who, job_id, kind)

            @app.post(f"/v1/{plural}/{{job_id}}/cancel", tags=tag, name=f"cancel_{kind}")
            def _cancel(job_id: str, who: Who) -> JobOut:
                return cancel_job(who, job_id, kind)

            @app.delete(
                f"/v1/{plural}/{{job_id}}", status_code=204, tags=tag, name=f"delete_{kind}"
            )
            def _delete(job_id: str, who: Who) -> Response:
                return delete_job(who, job_id, kind)

            @app.get(
                f"/v1/{plural}/{{job_id}}/events",
                tags=tag,
                name=f"{kind}_events",
                response_class=StreamingResponse,
                responses={200: {"content": {"text/event-stream": {}}}},
            )
            def _events(job_id: str, who: Who) -> StreamingResponse:
                """Progress as server-sent events (``progress`` on each change, then ``end``)."""
                return events(who, job_id, kind)

        register()

    # ---- results ---------------------------------------------------------------------------
    @app.get("/v1/runs/{run_id}/results", tags=["runs"])
    def run_results(run_id: str, who: Who) -> dict[str, Any]:
        """The run's summary: KPIs, per service and region, restoration, controller report."""
        with sessions() as s:
            job = own_job(s, who, run_id, "run")
        path = finished_dir(job) / "summary.json"
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return _clean(data)  # type: ignore[no-any-return]

    @app.get(
        "/v1/runs/{run_id}/tables/{table}",
        tags=["runs"],
        responses={
            200: {"content": {"application/json": {}, "application/vnd.apache.parquet": {}}}
        },
    )
    def run_table(
        run_id: str,
        table: TableName,
        who: Who,
        format: Literal["json", "parquet"] = "json",
        limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    ) -> Response:
        """One result table as JSON rows (paged) or the Parquet file itself."""
        with sessions() as s:
            job = own_job(s, who, run_id, "run")
        path = finished_dir(job) / f"{table}.parquet"
        if format == "parquet":
            return FileResponse(
                path,
                media_type="application/vnd.apache.parquet",
                filename=f"{run_id}-{table}.parquet",
            )
        t = pq.read_table(path).slice(offset, limit)
        return JSONResponse(_clean({"table": table, "offset": offset, "rows": t.to_pylist()}))

    @app.get(
        "/v1/runs/{run_id}/geojson",
        tags=["runs"],
        responses={200: {"content": {"application/geo+json": {}}}},
    )
    def run_geojson(run_id: str, who: Who) -> Response:
        """Nodes, links, satellites over time and failures as one GeoJSON FeatureCollection."""
        with sessions() as s:
            job = own_job(s, who, run_id, "run")
        data = adapter.run_geojson(finished_dir(job))
        return Response(json.dumps(_clean(data)), media_type="application/geo+json")

    @app.get(
        "/v1/sweeps/{sweep_id}/results",
        tags=["sweeps"],
        responses={
            200: {"content": {"application/json": {}, "application/vnd.apache.parquet": {}}}
        },
    )
    def sweep_results(
        sweep_id: str, who: Who, format: Literal["json", "parquet"] = "json"
    ) -> Response:
        """One row per case (parameters, seed, KPIs)."""
        with sessions() as s:
            job = own_job(s, who, sweep_id, "sweep")
        path = finished_dir(job) / "sweep.parquet"
        if format == "parquet":
            return FileResponse(
                path, media_type="application/vnd.apache.parquet", filename=f"{sweep_id}.parquet"
            )
        return JSONResponse(_clean({"rows": pq.read_table(path).to_pylist()}))

    @app.get("/v1/compare", tags=["runs"])
    def compare(a: str, b: str, who: Who) -> dict[str, Any]:
        """Two of the tenant's finished runs' KPIs side by side, with B − A."""
        with sessions() as s:
            ja, jb = own_job(s, who, a, "run"), own_job(s, who, b, "run")
        sa = json.loads((finished_dir(ja) / "summary.json").read_text(encoding="utf-8"))
        sb = json.loads((finished_dir(jb) / "summary.json").read_text(encoding="utf-8"))
        return _clean({"a": a, "b": b, "kpis": adapter.compare_summaries(sa, sb)})  # type: ignore[no-any-return]

    # ---- intents ---------------------------------------------------------------------------
    @app.post("/v1/runs/{run_id}/intents", status_code=201, tags=["intents"])
    def submit_intent(run_id: str, body: IntentCreate, who: Who) -> IntentOut:
        """Admit an intent on the run's network view; it holds GPU capacity until released."""
        from tsunagu.orchestrate.policy import get_policy

        get_policy(body.policy)
        with sessions() as s:
            job = own_job(s, who, run_id, "run")
            yaml_text = job.scenario_yaml
        with intent_locks_guard:
            lock = intent_locks.setdefault(run_id, threading.Lock())
        request = body.model_dump(exclude_none=True)
        with lock:
            with sessions() as s:
                held = dict(
                    s.execute(
                        select(IntentRow.site, func.sum(IntentRow.gpu_load))
                        .where(
                            IntentRow.run_id == run_id,
                            IntentRow.admitted.is_(True),
                            IntentRow.released.is_(False),
                        )
                        .group_by(IntentRow.site)
                    ).all()
                )
            res = adapter.admit_intent(yaml_text, request, {k: float(v) for k, v in held.items()})
            row = IntentRow(
                id=new_id("int"),
                tenant_id=who.id,
                run_id=run_id,
                request=request,
                released=False,
                **res,
            )
            with sessions() as s:
                s.add(row)
                audit(
                    s,
                    who,
                    "intent.submit",
                    row.id,
                    f"run {run_id}: "
                    + (f"admitted at {res['site']}" if res["admitted"] else res["constraint"]),
                )
                s.commit()
        return _intent_out(row)

    @app.get("/v1/runs/{run_id}/intents", tags=["intents"])
    def list_intents(
        run_id: str,
        who: Who,
        active: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[IntentOut]:
        with sessions() as s:
            own_job(s, who, run_id, "run")
            q = select(IntentRow).where(IntentRow.run_id == run_id, IntentRow.tenant_id == who.id)
            if active is not None:
                cond = IntentRow.admitted.is_(True) & IntentRow.released.is_(False)
                q = q.where(cond if active else ~cond)
            rows = s.scalars(q.order_by(IntentRow.created_at).limit(limit)).all()
        return [_intent_out(r) for r in rows]

    def own_intent(s: Session, who: Caller, iid: str) -> IntentRow:
        row = s.get(IntentRow, iid)
        if row is None or row.tenant_id != who.id:
            raise _not_found("intent", iid)
        return row

    @app.get("/v1/intents/{intent_id}", tags=["intents"])
    def get_intent(intent_id: str, who: Who) -> IntentOut:
        with sessions() as s:
            return _intent_out(own_intent(s, who, intent_id))

    @app.post("/v1/intents/{intent_id}/release", tags=["intents"])
    def release_intent(intent_id: str, who: Who) -> IntentOut:
        """Release an admitted intent's GPU capacity (idempotent)."""
        with sessions() as s:
            row = own_intent(s, who, intent_id)
            if row.admitted and not row.released:
                row.released, row.released_at = True, utcnow()
                audit(s, who, "intent.release", intent_id)
            s.commit()
            return _intent_out(row)

    # ---- audit, map geometry -----------------------------------------------------------
    @app.get("/v1/audit", tags=["service"])
    def audit_log(who: Who, limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> list[AuditOut]:
        """What this tenant did, newest first."""
        with sessions() as s:
            rows = s.scalars(
                select(AuditEntry)
                .where(AuditEntry.tenant_id == who.id)
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            ).all()
        return [
            AuditOut(
                at=r.at, tenant=r.tenant, action=r.action, object_id=r.object_id, detail=r.detail
            )
            for r in rows
        ]

    @app.get("/v1/geo/japan", tags=["service"])
    def japan(who: Who) -> dict[str, Any]:
        """Prefecture outlines (lon/lat) for maps, from the shipped geometry."""
        return {"prefectures": adapter.japan_outlines()}

    # ---- external controller -----------------------------------------------------------
    @app.websocket("/v1/runs/{run_id}/controller")
    async def controller_socket(websocket: WebSocket, run_id: str) -> None:
        header = websocket.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")

        def check() -> Job | None:
            with sessions() as s:
                tenant = authenticate(s, token.strip()) if scheme.lower() == "bearer" else None
                job = s.get(Job, run_id)
                if tenant is None or job is None or job.tenant_id != tenant.id or job.kind != "run":
                    return None
                return job

        job = await asyncio.to_thread(check)
        if job is None or not job.params.get("controller") or job.status in TERMINAL:
            await websocket.close(code=4404, reason="no run awaiting a controller for this token")
            return
        await websocket.accept()
        policy = hub.policy_for(run_id, job.params["controller"], cfg.controller_connect_s)
        loop = asyncio.get_running_loop()
        link = hub.link(loop, websocket.send_json)
        if not policy.attach(link):
            await websocket.close(code=4409, reason="a controller is already connected")
            return
        await websocket.send_json(
            {
                "type": "hello",
                "run_id": run_id,
                "deadline_s": policy.deadline_s,
                "fallback": policy.fallback_name,
            }
        )
        try:
            while True:
                text = await websocket.receive_text()
                link.replies.put(hub.decode(text))
        except WebSocketDisconnect:
            pass
        finally:
            link.replies.put({"type": "closed"})
            policy.detach(link)

    # ---- docs and dashboard ------------------------------------------------------------
    import swagger_ui_bundle  # type: ignore[import-untyped]

    app.mount(
        "/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets"
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="tsunagu testbed API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )

    plotly_js = Path(str(files("plotly") / "package_data" / "plotly.min.js"))

    @app.get("/dashboard/plotly.min.js", include_in_schema=False)
    def plotly_asset() -> FileResponse:
        return FileResponse(plotly_js, media_type="text/javascript")

    app.mount(
        "/dashboard",
        StaticFiles(directory=str(files("tsunagu.api") / "static"), html=True),
        name="dashboard",
    )

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return Response(status_code=307, headers={"Location": "/dashboard/"})

    return app


_ = (Awaitable, Callable, Tenant, pa)
