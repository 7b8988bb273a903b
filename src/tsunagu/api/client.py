"""A small client of the testbed service, and the loop an external controller runs.

Example: serve your own placement algorithm for a run::

    from tsunagu.api.client import Client, serve_controller

    api = Client("http://127.0.0.1:8000", token)
    sid = api.create_scenario(open("my.yaml").read())["id"]
    run = api.submit_run(sid, controller={"fallback": "latency-first", "deadline_s": 1.0})

    def decide(obs):  # the placement problem of one step → one site index per flow
        lat = obs["latency_s"]
        return [min(range(len(row)), key=lambda s: row[s] if row[s] is not None else 1e9)
                if any(v is not None for v in row) else -1 for row in lat]

    report = serve_controller(api, run["id"], decide)  # returns when the run ends

Standard library plus ``websockets`` only, so a tenant can copy this file into its own project.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

__all__ = ["ApiError", "Client", "serve_controller"]


class ApiError(RuntimeError):
    """The service answered with an error status; ``status`` and ``detail`` say which."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class Client:
    """Calls of the HTTP API with a tenant's token."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            try:
                detail = json.loads(text).get("detail", text)
            except ValueError:
                detail = text
            raise ApiError(exc.code, detail) from None
        return json.loads(raw) if raw else None

    def create_scenario(self, yaml_text: str, filename: str = "scenario.yaml") -> dict[str, Any]:
        out: dict[str, Any] = self.request(
            "POST", "/v1/scenarios", {"yaml": yaml_text, "filename": filename}
        )
        return out

    def submit_run(
        self,
        scenario_id: str,
        policy: str | None = None,
        controller: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"scenario_id": scenario_id}
        if policy is not None:
            body["policy"] = policy
        if controller is not None:
            body["controller"] = controller
        out: dict[str, Any] = self.request("POST", "/v1/runs", body)
        return out

    def wait(self, run_id: str, timeout_s: float = 600.0, poll_s: float = 0.5) -> dict[str, Any]:
        """Poll the run until it has finished; returns its job record."""
        end = time.monotonic() + timeout_s
        while True:
            job: dict[str, Any] = self.request("GET", f"/v1/runs/{run_id}")
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return job
            if time.monotonic() > end:
                raise TimeoutError(f"run {run_id} is still {job['status']} after {timeout_s} s")
            time.sleep(poll_s)

    def results(self, run_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self.request("GET", f"/v1/runs/{run_id}/results")
        return out


def serve_controller(
    client: Client,
    run_id: str,
    decide: Callable[[dict[str, Any]], list[int] | None],
    timeout_s: float = 3600.0,
) -> dict[str, Any]:
    """Answer every step of ``run_id`` with ``decide(observation)`` until the run ends.

    ``decide`` returns one site index per flow (``-1`` rejects it), or ``None`` to skip a step
    (the run's fallback then decides it). Returns the service's final message
    (``{"type": "done", "status": ..., "controller": {...}}``).
    """
    from websockets.sync.client import connect

    url = client.base_url.replace("http://", "ws://").replace("https://", "wss://")
    url += f"/v1/runs/{run_id}/controller"
    headers = {"Authorization": f"Bearer {client.token}"}
    end = time.monotonic() + timeout_s
    with connect(url, additional_headers=headers, max_size=2**26) as ws:
        while time.monotonic() < end:
            msg = json.loads(ws.recv(timeout=max(1.0, end - time.monotonic())))
            if msg.get("type") == "done":
                return dict(msg)
            if msg.get("type") != "step":
                continue
            site = decide(msg["observation"])
            if site is not None:
                ws.send(json.dumps({"type": "action", "step": msg["step"], "site": site}))
    raise TimeoutError(f"run {run_id} did not end within {timeout_s} s")
