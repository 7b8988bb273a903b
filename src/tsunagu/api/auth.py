"""Tenants and their API tokens; per-token rate limits.

A token is 32 random bytes (``secrets.token_urlsafe``) shown once when the tenant is created;
the database keeps only its SHA-256 (enough for a high-entropy secret: there is nothing to
guess a dictionary of). A request's token is hashed, looked up by hash and compared with
``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.api.db import Tenant
from tsunagu.errors import TsunaguError

__all__ = [
    "RateLimiter",
    "add_tenant",
    "authenticate",
    "hash_token",
    "list_tenants",
    "remove_tenant",
]

TOKEN_PREFIX = "tsu_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TenantError(TsunaguError):
    """A tenant cannot be added or removed; the message says why."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_tenant(session: Session, name: str) -> str:
    """Create tenant ``name`` and return its token (the only time it is available)."""
    if not _NAME.match(name):
        raise TenantError(
            f"tenant name {name!r} is not allowed; use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if session.scalar(select(Tenant).where(Tenant.name == name)) is not None:
        raise TenantError(
            f"tenant {name!r} exists; remove it first (`tsunagu tenant remove {name}`) to issue "
            "a new token"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(Tenant(name=name, token_hash=hash_token(token)))
    session.commit()
    return token


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.name)))


def remove_tenant(session: Session, name: str) -> None:
    """Remove tenant ``name`` and everything it owns."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        known = [t.name for t in list_tenants(session)]
        raise TenantError(f"no tenant {name!r}; tenants: {known or 'none'}")
    session.delete(tenant)
    session.commit()


def authenticate(session: Session, token: str) -> Tenant | None:
    """The tenant whose token this is, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    tenant = session.scalar(select(Tenant).where(Tenant.token_hash == digest))
    if tenant is None or not hmac.compare_digest(tenant.token_hash, digest):
        return None
    return tenant


class RateLimiter:
    """A token bucket per key: ``rate_per_s`` sustained, ``burst`` at once."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0.0 when allowed now, else the seconds to wait before the next request."""
        now = time.monotonic()
        with self._lock:
            level, last = self._buckets.get(key, (self.burst, now))
            level = min(self.burst, level + (now - last) * self.rate_per_s)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate_per_s if self.rate_per_s > 0 else 60.0
