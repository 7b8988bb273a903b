"""The store on SQLite (WAL) and PostgreSQL: migrations, tenants and tokens, job claiming and
recovery after a crash. Every test runs on both databases."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import sessionmaker

from tsunagu.api.auth import add_tenant, authenticate, hash_token, list_tenants, remove_tenant
from tsunagu.api.config import ServiceConfig
from tsunagu.api.db import Job, ScenarioRow, Tenant, make_engine, migrate, utcnow
from tsunagu.api.jobs import JobRunner, new_id
from tsunagu.errors import TsunaguError


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker]:  # type: ignore[type-arg]
    engine = make_engine(db_url)
    migrate(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def _job(s, tenant_id: int, status: str = "queued", **kw) -> Job:  # type: ignore[no-untyped-def]
    job = Job(
        id=new_id("run"), tenant_id=tenant_id, kind="run", scenario_id="scn_0", scenario_yaml="x",
        params={}, status=status, done=0, total=2, error="", attempts=kw.pop("attempts", 0),
        owner=kw.pop("owner", ""), created_at=utcnow(), **kw,
    )  # fmt: skip
    s.add(job)
    s.commit()
    return job


def test_migrations_create_the_schema_and_are_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # a second start changes nothing
    names = set(inspect(engine).get_table_names())
    assert {"tenants", "scenarios", "jobs", "intents", "audit", "alembic_version"} <= names
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        if engine.dialect.name == "sqlite":
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_tokens_are_stored_only_as_hashes(sessions: sessionmaker) -> None:  # type: ignore[type-arg]
    with sessions() as s:
        token = add_tenant(s, "alice")
        other = add_tenant(s, "bob")
        assert token != other
        assert token.startswith("tsu_")
        assert len(token) > 40
        row = s.scalar(select(Tenant).where(Tenant.name == "alice"))
        assert row is not None
        assert row.token_hash == hash_token(token)
        stored = [str(v) for v in s.execute(text("SELECT * FROM tenants")).all()]
        assert not any(token in v for v in stored)
        assert authenticate(s, token).name == "alice"  # type: ignore[union-attr]
        assert authenticate(s, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert authenticate(s, "not-a-token") is None
        with pytest.raises(TsunaguError, match="exists"):
            add_tenant(s, "alice")
        with pytest.raises(TsunaguError, match="not allowed"):
            add_tenant(s, "../etc")
        assert [t.name for t in list_tenants(s)] == ["alice", "bob"]


def test_removing_a_tenant_removes_what_it_owns(sessions: sessionmaker) -> None:  # type: ignore[type-arg]
    with sessions() as s:
        token = add_tenant(s, "alice")
        tid = authenticate(s, token).id  # type: ignore[union-attr]
        s.add(ScenarioRow(id=new_id("scn"), tenant_id=tid, name="x", description="", yaml="x"))
        s.commit()
        _job(s, tid)
        remove_tenant(s, "alice")
        assert s.scalars(select(ScenarioRow)).all() == []
        assert s.scalars(select(Job)).all() == []
        assert authenticate(s, token) is None
        with pytest.raises(TsunaguError, match="no tenant"):
            remove_tenant(s, "alice")


def test_two_runners_never_claim_the_same_job(sessions: sessionmaker, tmp_path: Path) -> None:  # type: ignore[type-arg]
    with sessions() as s:
        tid = authenticate(s, add_tenant(s, "alice")).id  # type: ignore[union-attr]
        ids = [_job(s, tid).id for _ in range(6)]
    cfg = ServiceConfig(data_dir=tmp_path, workers=6)
    runners = [JobRunner(cfg, sessions) for _ in range(3)]
    claimed: dict[str, list[str]] = {}
    for r in runners:  # the runners' threads would run the job; record the claim instead
        r._drive = lambda jid, r=r: claimed.setdefault(jid, []).append(r.owner)  # type: ignore[method-assign]
    threads = [threading.Thread(target=r._claim) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in runners:
        for t in list(r._active.values()):
            t.join()
    assert sorted(claimed) == sorted(ids)
    assert all(len(v) == 1 for v in claimed.values())
    with sessions() as s:
        jobs = s.scalars(select(Job)).all()
        assert {j.status for j in jobs} == {"running"}
        assert {j.attempts for j in jobs} == {1}


def test_an_interrupted_job_is_resumed_then_failed_with_the_reason(
    sessions: sessionmaker,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    old = utcnow() - dt.timedelta(seconds=60)
    with sessions() as s:
        tid = authenticate(s, add_tenant(s, "alice")).id  # type: ignore[union-attr]
        first = _job(s, tid, "running", attempts=1, owner="dead:1", heartbeat_at=old).id
        spent = _job(s, tid, "running", attempts=2, owner="dead:1", heartbeat_at=old).id
        alive = _job(s, tid, "running", attempts=1, owner="live:2", heartbeat_at=utcnow()).id
        cancelling = _job(s, tid, "cancelling", attempts=1, owner="dead:1", heartbeat_at=old).id
    runner = JobRunner(ServiceConfig(data_dir=tmp_path, stale_after_s=15, max_attempts=2), sessions)
    assert runner.reclaim_stale() == 3
    with sessions() as s:
        got = {j.id: j for j in s.scalars(select(Job))}
    assert got[first].status == "queued"
    assert "resumed after an interruption" in got[first].error
    assert "dead:1" in got[first].error
    assert got[spent].status == "failed"
    assert "interrupted 2 times" in got[spent].error
    assert got[spent].finished_at is not None
    assert got[alive].status == "running"  # its owner is alive: left alone
    assert got[cancelling].status == "cancelled"
    assert runner.reclaim_stale() == 0
