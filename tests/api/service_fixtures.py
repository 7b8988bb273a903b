"""A live service shared by a test module: tenants alice and bob, and alice's finished objects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.api.live import Service, live_service
from tests.api.pg import fresh_database

from tsunagu.api.config import ServiceConfig


@dataclass
class World:
    service: Service
    alice: httpx.Client
    bob: httpx.Client
    scenario: str
    run: str
    sweep: str
    intent: str
    db: str


def make_world(
    request: pytest.FixtureRequest, tmp: Path, minimal_yaml: str, **config: object
) -> Iterator[World]:
    db = request.param
    url = None if db == "sqlite" else fresh_database(request.getfixturevalue("pg_admin_url"))
    cfg = ServiceConfig(data_dir=tmp, db_url=url, workers=2, **config)  # type: ignore[arg-type]
    with live_service(cfg) as svc:
        alice, bob = svc.tenant("alice"), svc.tenant("bob")
        sid = alice.post("/v1/scenarios", json={"yaml": minimal_yaml}).json()["id"]
        rid = alice.post("/v1/runs", json={"scenario_id": sid}).json()["id"]
        wid = alice.post("/v1/sweeps", json={"scenario_id": sid, "runs": 2, "seed": 3}).json()["id"]
        assert svc.wait(alice, f"/v1/runs/{rid}")["status"] == "succeeded"
        assert svc.wait(alice, f"/v1/sweeps/{wid}")["status"] == "succeeded"
        body = {"point": "Toyonaka", "service": "chat", "sla_latency_ms": 900}
        iid = alice.post(f"/v1/runs/{rid}/intents", json=body).json()["id"]
        try:
            yield World(svc, alice, bob, sid, rid, wid, iid, db)
        finally:
            alice.close()
            bob.close()
