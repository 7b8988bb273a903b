"""The HTTP API end to end on a live loopback server: scenarios with the CLI's file:line
errors, runs and sweeps as jobs with server-sent progress, downloads, compare, intents with
capacity held until release, cancellation, the audit log and the security limits."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import httpx
import pyarrow.parquet as pq
import pytest
from tests.api.service_fixtures import World, make_world

from tsunagu.errors import ScenarioError
from tsunagu.scenario.loader import scenario_from_text


@pytest.fixture(scope="module", params=["sqlite"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, minimal_yaml: str
) -> Iterator[World]:
    yield from make_world(
        request, tmp_path_factory.mktemp("svc"), minimal_yaml, max_scenario_bytes=20_000,
        max_body_bytes=50_000, rate_per_s=10.0, rate_burst=150,
    )  # fmt: skip


def test_scenario_errors_are_the_clis_file_line_errors(world: World, minimal_yaml: str) -> None:
    bad = minimal_yaml.replace("step_s: 1800.0", "step_s: -5")
    r = world.alice.post("/v1/scenarios", json={"yaml": bad, "filename": "mine.yaml"})
    assert r.status_code == 422
    with pytest.raises(ScenarioError) as cli:  # what `tsunagu validate mine.yaml` prints
        scenario_from_text(bad, "mine.yaml")
    assert r.json()["detail"] == str(cli.value)
    assert r.json()["detail"].startswith("mine.yaml:8: timeline.step_s")
    v = world.alice.post("/v1/scenarios/validate", json={"yaml": bad, "filename": "mine.yaml"})
    assert v.json() == {"valid": False, "name": None, "error": str(cli.value)}
    ok = world.alice.post("/v1/scenarios/validate", json={"yaml": minimal_yaml}).json()
    assert ok == {"valid": True, "name": "minimal", "error": None}


def test_yaml_is_loaded_safely_and_no_path_is_read(world: World) -> None:
    evil = "!!python/object/apply:os.system ['touch /tmp/tsunagu-pwned']\n"
    r = world.alice.post("/v1/scenarios", json={"yaml": evil})
    assert r.status_code == 422
    for name in ("/etc/passwd", "../x.yaml", "a/b.yaml"):
        r = world.alice.post("/v1/scenarios", json={"yaml": "name: x\n", "filename": name})
        assert r.status_code == 422  # the filename field admits no path
    r = world.alice.post("/v1/scenarios", json={"yaml": "japan-2030"})
    assert r.status_code == 422  # a built-in name or a path is not looked up: text only


def test_size_limits_and_rate_limit(world: World) -> None:
    big = "name: x\n" + "#" * 30_000 + "\n"
    r = world.alice.post("/v1/scenarios", json={"yaml": big})
    assert r.status_code == 413
    assert "over the limit of 20000" in r.json()["detail"]
    r = world.alice.post("/v1/scenarios", content=b"{" + b" " * 60_000 + b"}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413
    limited = httpx.Client(base_url=world.service.base_url, headers=world.bob.headers)
    codes = [limited.get("/v1/scenarios").status_code for _ in range(300)]
    assert 429 in codes
    assert codes[0] == 200
    r = limited.get("/v1/scenarios")
    if r.status_code == 429:
        assert int(r.headers["Retry-After"]) >= 1
    limited.close()


def test_cors_is_closed_by_default(world: World) -> None:
    r = world.alice.options(
        "/v1/scenarios",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    r = world.alice.get("/v1/scenarios", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}


def test_a_run_streams_progress_and_serves_its_results(world: World) -> None:
    a, rid = world.alice, world.run
    with a.stream("GET", f"/v1/runs/{rid}/events") as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        text = "".join(s.iter_text())
    events = [b for b in text.split("\n\n") if b.strip()]
    assert events[-1].startswith("event: end")
    last = json.loads(events[-2].split("data: ", 1)[1])
    assert last == {"status": "succeeded", "done": 2, "total": 2, "message": ""}
    summary = a.get(f"/v1/runs/{rid}/results").json()
    assert summary["scenario"] == "minimal"
    assert summary["steps"] == 2
    flows = pq.read_table(io.BytesIO(a.get(f"/v1/runs/{rid}/tables/flows?format=parquet").content))
    rows = a.get(f"/v1/runs/{rid}/tables/flows?limit=5&offset=2").json()["rows"]
    assert len(rows) == 5
    assert rows[0]["demand"] == flows["demand"][2].as_py()
    steps = pq.read_table(io.BytesIO(a.get(f"/v1/runs/{rid}/tables/steps?format=parquet").content))
    assert steps.num_rows == 2
    # The coupled run's tables: traffic per class, link loads, latency distributions.
    traffic = a.get(f"/v1/runs/{rid}/tables/traffic?limit=100").json()["rows"]
    assert {r["class"] for r in traffic} == {
        "ai",
        "fixed_down",
        "fixed_up",
        "mobile_down",
        "mobile_up",
    }
    for table in ("link_loads", "latency"):
        assert a.get(f"/v1/runs/{rid}/tables/{table}?limit=1").status_code == 200
    geo = a.get(f"/v1/runs/{rid}/geojson")
    assert geo.headers["content-type"] == "application/geo+json"
    layers = {f["properties"]["layer"] for f in geo.json()["features"]}
    assert {"node", "link", "satellite"} <= layers
    cmp = a.get(f"/v1/compare?a={rid}&b={rid}").json()
    assert cmp["kpis"]["sla_share"]["delta"] == 0.0
    assert a.get(f"/v1/runs/{rid}/tables/nope").status_code == 422


def test_a_sweep_serves_one_row_per_case(world: World) -> None:
    rows = world.alice.get(f"/v1/sweeps/{world.sweep}/results").json()["rows"]
    assert [r["case"] for r in rows] == [0, 1]
    assert len({r["seed"] for r in rows}) == 2
    pq_bytes = world.alice.get(f"/v1/sweeps/{world.sweep}/results?format=parquet").content
    assert pq.read_table(io.BytesIO(pq_bytes)).num_rows == 2
    bad = {"scenario_id": world.scenario, "grid": {"no.such.field": [1, 2]}}
    assert world.alice.post("/v1/sweeps", json=bad).status_code == 422


def test_intents_hold_capacity_until_released(world: World) -> None:
    a, rid = world.alice, world.run
    # 400 vision requests/s hold ~2,057 GPUs: dc-tokyo (5,400 usable) takes two, dc-osaka
    # (2,700) one, edge-nagoya (7.2) none; the fourth finds no capacity
    body = {"point": "Toyonaka", "service": "vision", "sla_latency_ms": 2000,
            "request_rate_per_s": 400.0}  # fmt: skip
    first = a.post(f"/v1/runs/{rid}/intents", json=body).json()
    assert first["admitted"] is True
    assert first["gpu_load"] > 0
    held = [first]
    for _ in range(10):  # fill every site that meets the SLA
        r = a.post(f"/v1/runs/{rid}/intents", json=body).json()
        if not r["admitted"]:
            break
        held.append(r)
    assert r["admitted"] is False
    assert len(held) == 3
    assert sorted(i["site"] for i in held) == ["dc-osaka", "dc-tokyo", "dc-tokyo"]
    assert r["constraint"] == "capacity"
    assert "capacity" in r["reason"]
    active = a.get(f"/v1/runs/{rid}/intents?active=true").json()
    assert {i["id"] for i in held} <= {i["id"] for i in active}
    rel = a.post(f"/v1/intents/{held[0]['id']}/release").json()
    assert rel["released"] is True
    again = a.post(f"/v1/runs/{rid}/intents", json=body).json()
    assert again["admitted"] is True  # the released capacity is available again
    bad = a.post(f"/v1/runs/{rid}/intents", json={**body, "point": "Atlantis"})
    assert bad.status_code == 422
    assert "unknown demand point 'Atlantis'" in bad.json()["detail"]
    for i in [*held[1:], again]:
        a.post(f"/v1/intents/{i['id']}/release")


def test_cancel_a_queued_run_and_delete_it(world: World) -> None:
    a = world.alice
    with world.service.app.state.runner._lock:  # keep the runner from taking it for a moment
        rid = a.post("/v1/runs", json={"scenario_id": world.scenario}).json()["id"]
        r = a.post(f"/v1/runs/{rid}/cancel").json()
    assert r["status"] in ("cancelled", "cancelling")
    job = world.service.wait(a, f"/v1/runs/{rid}")
    assert job["status"] == "cancelled"
    assert a.get(f"/v1/runs/{rid}/results").status_code == 409
    assert a.delete(f"/v1/runs/{rid}").status_code == 204
    assert a.get(f"/v1/runs/{rid}").status_code == 404


def test_the_audit_log_says_who_did_what(world: World) -> None:
    log = world.alice.get("/v1/audit?limit=1000").json()
    actions = {(e["action"], e["object_id"]) for e in log}
    assert ("scenario.create", world.scenario) in actions
    assert ("run.submit", world.run) in actions
    assert ("sweep.submit", world.sweep) in actions
    assert ("intent.submit", world.intent) in actions
    assert {e["tenant"] for e in log} == {"alice"}


def test_health_version_docs_and_openapi(world: World) -> None:
    c = httpx.Client(base_url=world.service.base_url)
    h = c.get("/v1/health").json()
    assert h["status"] == "ok"
    assert h["database"] == "sqlite"
    assert c.get("/v1/version").json()["api"] == "v1"
    docs = c.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    assert c.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert "/v1/runs" in c.get("/openapi.json").json()["paths"]
    c.close()
