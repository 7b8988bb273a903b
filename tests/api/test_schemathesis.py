"""Property-based fuzzing of the OpenAPI schema with schemathesis, in process (ASGI), on SQLite
and on PostgreSQL: at least 1,000 generated requests per database and no 5xx answer.

Most requests carry a valid token, so they reach the handlers (one in seven is sent without it
and must stop at 401). Jobs are not executed (``run_jobs=False``): what is fuzzed is the API,
not the engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.api.pg import fresh_database

from tsunagu.api.app import create_app
from tsunagu.api.auth import add_tenant
from tsunagu.api.config import ServiceConfig

EXAMPLES_PER_OPERATION = 36


@pytest.fixture(params=["sqlite", "postgresql"])
def app_and_token(
    request: pytest.FixtureRequest, tmp_path: Path, minimal_yaml: str
) -> Iterator[tuple[Any, str, dict[str, str]]]:
    url = (
        None
        if request.param == "sqlite"
        else fresh_database(request.getfixturevalue("pg_admin_url"))
    )
    cfg = ServiceConfig(data_dir=tmp_path, db_url=url, rate_per_s=1e6, rate_burst=10**6)
    app = create_app(cfg, run_jobs=False)
    with app.state.sessions() as s:
        token = add_tenant(s, "fuzz")
    yield app, token, {}
    app.state.engine.dispose()


def test_no_generated_request_gets_a_5xx(app_and_token: tuple[Any, str, dict[str, str]]) -> None:
    app, token, _ = app_and_token
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), auth=st.booleans())
        def fuzz(case: Any, auth: bool) -> None:
            nonlocal sent
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                response = case.call(headers=headers if auth or sent % 7 else {})
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

        fuzz()
    print(f"schemathesis: {sent} requests, {len(failures)} with a 5xx")
    assert sent >= 1000, sent
    assert not failures, failures[:10]
