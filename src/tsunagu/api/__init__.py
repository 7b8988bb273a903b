"""The open testbed service behind ``tsunagu serve`` (SPEC §5): HTTP API, tenants, jobs, dashboard.

``create_app(config)`` builds the FastAPI application; :mod:`tsunagu.api.client` is the small
client an external controller uses. Everything the service stores is in one SQL database
(SQLite in WAL mode by default, PostgreSQL for shared deployments) and in result directories
beside it.
"""

from __future__ import annotations

from tsunagu.api.config import ServiceConfig

__all__ = ["ServiceConfig", "create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from tsunagu.api.app import create_app

        return create_app
    raise AttributeError(name)
