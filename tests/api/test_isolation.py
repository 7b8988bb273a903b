"""Tenant isolation on every endpoint: bob cannot read, list, modify, delete or download
anything of alice's. The route table below must cover every operation of the OpenAPI schema,
so a new endpoint without an isolation check fails ``test_every_route_has_an_isolation_check``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.api.service_fixtures import World, make_world

Check = Callable[[World], None]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, minimal_yaml: str
) -> Iterator[World]:
    yield from make_world(request, tmp_path_factory.mktemp("iso"), minimal_yaml)


def _404(
    method: str, path: Callable[[World], str], body: Callable[[World], Any] | None = None
) -> Check:  # type: ignore[assignment]
    def check(w: World) -> None:
        r = w.bob.request(method, path(w), json=body(w) if body else None)
        assert r.status_code == 404, (method, path(w), r.status_code, r.text[:200])
        assert w.run not in r.text or path(w).find(w.run) >= 0

    return check


def _listing(path: str) -> Check:
    def check(w: World) -> None:
        r = w.bob.get(path)
        assert r.status_code == 200, r.text
        for oid in (w.scenario, w.run, w.sweep, w.intent):
            assert oid not in r.text, (path, oid)
        # and alice sees her own, so the check can fail
        mine = w.alice.get(path).text
        assert any(oid in mine for oid in (w.scenario, w.run, w.sweep, w.intent)), path

    return check


def _public(path: str) -> Check:
    def check(w: World) -> None:
        r = w.bob.get(path)
        assert r.status_code == 200
        for oid in (w.scenario, w.run, w.sweep, w.intent, "alice"):
            assert oid not in r.text

    return check


S = lambda w: w.scenario  # noqa: E731
R = lambda w: w.run  # noqa: E731
W = lambda w: w.sweep  # noqa: E731
I = lambda w: w.intent  # noqa: E731, E741
INTENT = {"point": "Toyonaka", "service": "chat", "sla_latency_ms": 900}

ROUTES: dict[tuple[str, str], Check] = {
    ("GET", "/v1/health"): _public("/v1/health"),
    ("GET", "/v1/version"): _public("/v1/version"),
    ("GET", "/v1/geo/japan"): _public("/v1/geo/japan"),
    ("GET", "/v1/audit"): _listing("/v1/audit"),
    ("POST", "/v1/scenarios/validate"): lambda w: None,  # holds nothing: validates the body
    ("POST", "/v1/scenarios"): lambda w: None,  # creates bob's own scenario only
    ("GET", "/v1/scenarios"): _listing("/v1/scenarios"),
    ("GET", "/v1/scenarios/{scenario_id}"): _404("GET", lambda w: f"/v1/scenarios/{S(w)}"),
    ("GET", "/v1/scenarios/{scenario_id}/yaml"): _404(
        "GET", lambda w: f"/v1/scenarios/{S(w)}/yaml"
    ),
    ("DELETE", "/v1/scenarios/{scenario_id}"): _404("DELETE", lambda w: f"/v1/scenarios/{S(w)}"),
    ("POST", "/v1/runs"): _404("POST", lambda w: "/v1/runs", lambda w: {"scenario_id": S(w)}),
    ("GET", "/v1/runs"): _listing("/v1/runs"),
    ("GET", "/v1/runs/{job_id}"): _404("GET", lambda w: f"/v1/runs/{R(w)}"),
    ("POST", "/v1/runs/{job_id}/cancel"): _404("POST", lambda w: f"/v1/runs/{R(w)}/cancel"),
    ("DELETE", "/v1/runs/{job_id}"): _404("DELETE", lambda w: f"/v1/runs/{R(w)}"),
    ("GET", "/v1/runs/{job_id}/events"): _404("GET", lambda w: f"/v1/runs/{R(w)}/events"),
    ("GET", "/v1/runs/{run_id}/results"): _404("GET", lambda w: f"/v1/runs/{R(w)}/results"),
    ("GET", "/v1/runs/{run_id}/tables/{table}"): _404(
        "GET", lambda w: f"/v1/runs/{R(w)}/tables/flows?format=parquet"
    ),
    ("GET", "/v1/runs/{run_id}/geojson"): _404("GET", lambda w: f"/v1/runs/{R(w)}/geojson"),
    ("POST", "/v1/runs/{run_id}/intents"): _404(
        "POST", lambda w: f"/v1/runs/{R(w)}/intents", lambda w: INTENT
    ),
    ("GET", "/v1/runs/{run_id}/intents"): _404("GET", lambda w: f"/v1/runs/{R(w)}/intents"),
    ("GET", "/v1/compare"): _404("GET", lambda w: f"/v1/compare?a={R(w)}&b={R(w)}"),
    ("POST", "/v1/sweeps"): _404("POST", lambda w: "/v1/sweeps", lambda w: {"scenario_id": S(w)}),
    ("GET", "/v1/sweeps"): _listing("/v1/sweeps"),
    ("GET", "/v1/sweeps/{job_id}"): _404("GET", lambda w: f"/v1/sweeps/{W(w)}"),
    ("POST", "/v1/sweeps/{job_id}/cancel"): _404("POST", lambda w: f"/v1/sweeps/{W(w)}/cancel"),
    ("DELETE", "/v1/sweeps/{job_id}"): _404("DELETE", lambda w: f"/v1/sweeps/{W(w)}"),
    ("GET", "/v1/sweeps/{job_id}/events"): _404("GET", lambda w: f"/v1/sweeps/{W(w)}/events"),
    ("GET", "/v1/sweeps/{sweep_id}/results"): _404(
        "GET", lambda w: f"/v1/sweeps/{W(w)}/results?format=parquet"
    ),
    ("GET", "/v1/intents/{intent_id}"): _404("GET", lambda w: f"/v1/intents/{I(w)}"),
    ("POST", "/v1/intents/{intent_id}/release"): _404(
        "POST", lambda w: f"/v1/intents/{I(w)}/release"
    ),
}


def _operations(world: World) -> set[tuple[str, str]]:
    schema = world.service.app.openapi()
    return {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}


def test_every_route_has_an_isolation_check(world: World) -> None:
    ops = _operations(world)
    missing = ops - set(ROUTES)
    assert not missing, f"routes without an isolation check in ROUTES: {sorted(missing)}"
    assert not set(ROUTES) - ops, "ROUTES lists routes the API no longer has"


def test_bob_cannot_reach_alices_objects(world: World) -> None:
    for (_method, _path), check in sorted(ROUTES.items()):
        check(world)
    # alice's objects are untouched by everything bob tried
    a = world.alice
    assert a.get(f"/v1/scenarios/{world.scenario}").status_code == 200
    assert a.get(f"/v1/runs/{world.run}").json()["status"] == "succeeded"
    assert a.get(f"/v1/runs/{world.run}/tables/flows?format=parquet").status_code == 200
    assert a.get(f"/v1/sweeps/{world.sweep}/results").status_code == 200
    assert a.get(f"/v1/intents/{world.intent}").json()["released"] is False
    assert len(a.get(f"/v1/runs/{world.run}/intents").json()) == 1


def test_without_a_token_every_tenant_route_says_401(world: World) -> None:
    anon = httpx.Client(base_url=world.service.base_url)
    forged = httpx.Client(
        base_url=world.service.base_url, headers={"Authorization": "Bearer tsu_forged"}
    )
    for method, path in sorted(_operations(world)):
        if path in ("/v1/health", "/v1/version"):
            continue
        url = path.format(
            scenario_id=world.scenario, job_id=world.run, run_id=world.run, sweep_id=world.sweep,
            intent_id=world.intent, table="flows",
        )  # fmt: skip
        for client in (anon, forged):
            r = client.request(method, url, json={})
            assert r.status_code == 401, (method, url, r.status_code)
    anon.close()
    forged.close()


def test_bob_cannot_attach_a_controller_to_alices_run(world: World) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = world.service.base_url.replace("http", "ws") + f"/v1/runs/{world.run}/controller"
    token = world.service.tokens["bob"]
    refused: list[str] = []
    try:
        with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            ws.recv(timeout=5)
    except InvalidStatus as exc:
        refused.append(str(exc.response.status_code))
    except Exception as exc:  # closed by the server with 4404
        refused.append(str(exc))
    assert refused, "bob attached to alice's run"
    assert any(code in refused[0] for code in ("403", "404", "4404")), refused


_ = (Path,)
