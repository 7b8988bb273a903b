"""The service on a loopback port in a thread of the test process (real HTTP and WebSocket)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn
from tests.api.pg import free_port

from tsunagu.api.app import create_app
from tsunagu.api.auth import add_tenant
from tsunagu.api.config import ServiceConfig

TERMINAL = ("succeeded", "failed", "cancelled")


class Service:
    def __init__(self, base_url: str, app: Any) -> None:
        self.base_url = base_url
        self.app = app
        self.tokens: dict[str, str] = {}

    def tenant(self, name: str) -> httpx.Client:
        with self.app.state.sessions() as s:
            token = add_tenant(s, name)
        self.tokens[name] = token
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    @staticmethod
    def wait(client: httpx.Client, path: str, timeout_s: float = 120.0) -> dict[str, Any]:
        end = time.monotonic() + timeout_s
        while True:
            job: dict[str, Any] = client.get(path).json()
            if job["status"] in TERMINAL:
                return job
            if time.monotonic() > end:
                raise AssertionError(f"{path} still {job['status']} after {timeout_s} s")
            time.sleep(0.2)


@contextlib.contextmanager
def live_service(config: ServiceConfig) -> Iterator[Service]:
    app = create_app(config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > end or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    try:
        yield Service(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(60)
