"""Bring your own algorithm: an external placement controller over the run's WebSocket.

A controller that answers every step drives the run (it rejects every flow, so nobody is
served — what the fallback, latency-first, would never do); one that stops answering after the
first step makes the run fall back for the rest, and the run's results say so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.api.live import Service, live_service

from tsunagu.api.client import ApiError, Client, serve_controller
from tsunagu.api.config import ServiceConfig
from tsunagu.scenario.loader import scenario_from_text
from tsunagu.sim.engine import run_twin
from tsunagu.sim.twin import Twin


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Client]]:
    cfg = ServiceConfig(data_dir=tmp_path_factory.mktemp("ctl"), workers=2, controller_connect_s=30)
    with live_service(cfg) as svc:
        http = svc.tenant("lab")
        http.close()
        yield svc, Client(svc.base_url, svc.tokens["lab"])


def _run_with(
    api: Client, yaml_text: str, decide: Any, deadline_s: float
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    sid = api.create_scenario(yaml_text)["id"]
    run = api.submit_run(sid, controller={"fallback": "latency-first", "deadline_s": deadline_s})
    seen: list[dict[str, Any]] = []
    done: dict[str, Any] = {}

    def recorded(obs: dict[str, Any]) -> Any:
        seen.append(obs)
        return decide(len(seen) - 1, obs)

    t = threading.Thread(target=lambda: done.update(serve_controller(api, run["id"], recorded)))
    t.start()
    job = api.wait(run["id"], timeout_s=180)
    t.join(60)
    assert job["status"] == "succeeded", job
    return api.results(run["id"]), done, seen


def test_a_controller_that_answers_every_step_drives_the_run(
    service: tuple[Service, Client], minimal_yaml: str
) -> None:
    _, api = service
    summary, done, seen = _run_with(
        api, minimal_yaml, lambda step, obs: [-1] * len(obs["load_gpu"]), deadline_s=30.0
    )
    ctl = summary["controller"]
    assert ctl["steps"] == summary["steps"] == len(seen) == 2
    assert ctl["decided_by_controller"] == 2
    assert ctl["fell_back"] is False
    assert ctl["fallback_reasons"] == {}
    assert summary["kpis"]["served_share"] == 0.0  # the controller's choice, not the fallback's
    assert done["type"] == "done"
    assert done["status"] == "succeeded"
    obs = seen[0]
    n_flows = len(obs["load_gpu"])
    assert len(obs["latency_s"]) == n_flows
    assert len(obs["capacity_gpu"]) == 3  # the scenario's three compute sites


def test_a_controller_that_stops_answering_makes_the_run_fall_back(
    service: tuple[Service, Client], minimal_yaml: str
) -> None:
    _, api = service
    summary, _, seen = _run_with(
        api,
        minimal_yaml,
        lambda step, obs: [-1] * len(obs["load_gpu"]) if step == 0 else None,
        deadline_s=0.5,
    )
    ctl = summary["controller"]
    assert ctl["decided_by_controller"] == 1
    assert ctl["decided_by_fallback"] == 1
    assert ctl["fell_back"] is True
    assert ctl["first_fallback_step"] == 1
    assert ctl["fallback"] == "latency-first"
    assert list(ctl["fallback_reasons"]) == ["no answer within the deadline (0.5 s)"]
    assert 0.0 < summary["kpis"]["served_share"] < 1.0  # step 0 rejected, step 1 served
    assert len(seen) == 2


def test_an_invalid_action_is_replaced_by_the_fallback(
    service: tuple[Service, Client], minimal_yaml: str
) -> None:
    _, api = service
    summary, _, _ = _run_with(api, minimal_yaml, lambda step, obs: [99], deadline_s=5.0)
    ctl = summary["controller"]
    assert ctl["decided_by_fallback"] == 2
    assert any("invalid action" in k for k in ctl["fallback_reasons"])
    # Every step decided by the fallback: the same served share as the fallback policy alone.
    alone = Twin(scenario_from_text(minimal_yaml).model_copy(update={"policy": "latency-first"}))
    expected = run_twin(alone).summary["kpis"]["served_share"]
    assert summary["kpis"]["served_share"] == pytest.approx(expected, rel=1e-12)


def test_an_unknown_fallback_is_refused_at_submission(
    service: tuple[Service, Client], minimal_yaml: str
) -> None:
    _, api = service
    sid = api.create_scenario(minimal_yaml)["id"]
    with pytest.raises(ApiError) as err:
        api.submit_run(sid, controller={"fallback": "no-such-policy", "deadline_s": 1})
    assert err.value.status == 422
    assert "unknown policy 'no-such-policy'" in str(err.value.detail)


_ = (Path,)
