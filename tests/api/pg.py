"""A throwaway PostgreSQL cluster on a free loopback port (Debian's initdb/pg_ctl).

initdb refuses to run as root, so as root the cluster runs as the ``postgres`` user that
Debian's package creates. The cluster lives in a temporary directory and is stopped and deleted
when the context ends. Used by the service tests and by ``benchmarks/bench_service.py``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed: `apt-get install -y postgresql` (make test does it)"
        )
    return Path(found[-1]).parent


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """Yield the URL of a superuser connection to a fresh cluster's ``postgres`` database."""
    bindir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="tsunagu-pg-"))
    data = root / "data"
    port = free_port()
    as_root = os.geteuid() == 0
    prefix: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    user = "postgres" if as_root else os.environ.get("USER", "postgres")
    if as_root:
        shutil.chown(root, "postgres")
        os.chmod(root, 0o700)
    try:
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", user, "-A", "trust",
             "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
             str(root / "log"), "-w", "-t", "60", "start"],
            check=True, capture_output=True, timeout=90,
        )  # fmt: skip
        try:
            yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(admin_url: str) -> str:
    """Create an empty database in the cluster and return its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name
