"""The service load benchmark in short: 50 concurrent clients on loopback for a few seconds per
database (SQLite and PostgreSQL), submitting, reading, listing and releasing intents and polling
jobs; every answer must be 2xx. The full 60 s version is ``python -m benchmarks service``."""

from __future__ import annotations

import pytest
from benchmarks.bench_service import main


def test_fifty_clients_get_no_error_on_either_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--clients", "50", "--duration", "3", "--tenants", "2"]) == 0
    out = capsys.readouterr().out
    assert "sqlite" in out
    assert "postgresql" in out
    assert "errors" in out
