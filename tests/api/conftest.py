"""Fixtures of the service tests: a PostgreSQL cluster per worker, the two databases, a live
service on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.pg import fresh_database, postgres_cluster

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'tsunagu.db').as_posix()}"
    return fresh_database(request.getfixturevalue("pg_admin_url"))


@pytest.fixture(scope="session")
def minimal_yaml() -> str:
    return MINIMAL.read_text(encoding="utf-8")
