"""Service load test on loopback: concurrent clients submitting, querying and releasing
intents and polling jobs against ``tsunagu serve``, on SQLite (WAL) and on PostgreSQL.

Each client loops until the deadline: submit an intent on its tenant's run, read it back,
poll the run's job record, list the run's active intents, release the intent. Every answer
must be 2xx (the rate limit is lifted for the test); the table gives requests, errors,
throughput and p50/p99 latency per database. The server runs as its own process
(``tsunagu serve``), the clients as asyncio tasks (httpx) in this one; PostgreSQL is a
throwaway cluster on a free loopback port (Debian's initdb/pg_ctl).

    python -m benchmarks service                 # 50 clients for 60 s on each database
    python -m benchmarks service --quick         # 50 clients for 5 s
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table
from tests.api.pg import free_port, fresh_database, postgres_cluster

__all__ = ["main"]

MINIMAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "scenarios" / "minimal.yaml"
TSUNAGU = [sys.executable, "-c", "from tsunagu.cli import main; main()"]
TENANTS = 5
INTENT = {"point": "Toyonaka", "service": "chat", "sla_latency_ms": 900}


@contextlib.contextmanager
def _server(data: Path, db: str | None, tenants: int) -> Iterator[tuple[str, list[str]]]:
    extra = ["--db", db] if db else []
    tokens = []
    for i in range(tenants):
        out = subprocess.run(
            [*TSUNAGU, "tenant", "add", f"t{i}", "--data", str(data), "--json", *extra],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        tokens.append(json.loads(out.stdout)["token"])
    port = free_port()
    proc = subprocess.Popen(
        [*TSUNAGU, "serve", "--port", str(port), "--data", str(data), "--rate", "1e9",
         "--burst", "1000000000", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError("tsunagu serve did not start")
            time.sleep(0.2)
        yield url, tokens
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)


def _prepare(url: str, token: str) -> str:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        sid = c.post("/v1/scenarios", json={"yaml": MINIMAL.read_text(encoding="utf-8")}).json()
        rid: str = c.post("/v1/runs", json={"scenario_id": sid["id"]}).json()["id"]
        end = time.monotonic() + 600
        while c.get(f"/v1/runs/{rid}").json()["status"] != "succeeded":  # no run competes
            if time.monotonic() > end:
                raise RuntimeError(f"run {rid} did not finish")
            time.sleep(0.2)
        c.post(f"/v1/runs/{rid}/intents", json=INTENT)  # builds the run's network view once
        return rid


async def _client(
    url: str, token: str, run_id: str, until: float, lat: list[float], errors: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as c:

        async def call(method: str, path: str, body: Any = None) -> Any:
            t0 = time.perf_counter()
            r = await c.request(method, path, json=body)
            lat.append(time.perf_counter() - t0)
            if not 200 <= r.status_code < 300:
                errors.append(f"{method} {path}: {r.status_code} {r.text[:100]}")
                return None
            return r.json()

        while time.monotonic() < until:
            intent = await call("POST", f"/v1/runs/{run_id}/intents", INTENT)
            await call("GET", f"/v1/runs/{run_id}")
            await call("GET", f"/v1/runs/{run_id}/intents?active=true&limit=20")
            if intent is not None:
                await call("GET", f"/v1/intents/{intent['id']}")
                await call("POST", f"/v1/intents/{intent['id']}/release")


def load(url: str, tokens: list[str], clients: int, duration_s: float) -> dict[str, Any]:
    runs = [_prepare(url, t) for t in tokens]  # finished before the clients start
    lat: list[float] = []
    errors: list[str] = []

    async def all_clients() -> float:
        t0 = time.monotonic()
        until = t0 + duration_s
        await asyncio.gather(
            *(
                _client(url, tokens[i % len(tokens)], runs[i % len(runs)], until, lat, errors)
                for i in range(clients)
            )
        )
        return time.monotonic() - t0

    wall = asyncio.run(all_clients())
    ms = np.asarray(lat) * 1e3
    return {
        "requests": len(lat),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "wall_s": wall,
        "throughput_rps": len(lat) / wall,
        "p50_ms": float(np.percentile(ms, 50)) if ms.size else float("nan"),
        "p99_ms": float(np.percentile(ms, 99)) if ms.size else float("nan"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks service", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 s per database instead of 60 s")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=None, help="seconds per database")
    parser.add_argument("--tenants", type=int, default=TENANTS, help="tenants, one run each")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    duration = args.duration or (5.0 if args.quick else 60.0)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    console = Console()
    table = Table(title=f"Service load: {args.clients} clients × {duration:g} s on loopback")
    for col in ("database", "requests", "errors", "throughput (req/s)", "p50 (ms)", "p99 (ms)"):
        table.add_column(col, justify="left" if col == "database" else "right")
    status = 0
    with contextlib.ExitStack() as stack:
        for db in dbs:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tsunagu-svc-")))
            url = None
            if db == "postgresql":
                url = fresh_database(stack.enter_context(postgres_cluster()))
            with _server(data, url, args.tenants) as (base, tokens):
                r = load(base, tokens, args.clients, duration)
            table.add_row(
                db, f"{r['requests']:,}", str(r["errors"]), f"{r['throughput_rps']:,.0f}",
                f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
            )  # fmt: skip
            if r["errors"]:
                console.print(f"[red]{db}: {r['errors']} errors; first: {r['first_error']}")
                status = 1
    console.print(table)
    return status


if __name__ == "__main__":
    sys.exit(main())
