"""Settings of one service process (all have defaults; ``tsunagu serve`` sets the common ones)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ServiceConfig:
    """Where the service keeps its data and the limits it enforces.

    Attributes
    ----------
    data_dir : directory of the result files (``jobs/<id>/``) and of the default SQLite file.
    db_url : SQLAlchemy URL; ``None`` means ``sqlite:///<data_dir>/tsunagu.db`` (WAL mode).
    workers : jobs run at once, each in its own local process.
    scheduler : a ``dask.distributed`` scheduler address; jobs then run on that cluster.
    max_body_bytes : largest request body accepted (413 above).
    max_scenario_bytes : largest scenario YAML accepted (413 above).
    rate_per_s, rate_burst : token-bucket rate limit per API token (429 above).
    cors_origins : origins allowed to call the API from a browser (none by default).
    stale_after_s : a running job whose owner has not written a heartbeat for this long is taken
        over (resumed, or failed once ``max_attempts`` is spent).
    heartbeat_s : how often a running job's owner writes its heartbeat.
    max_attempts : times a job is started before an interruption fails it.
    controller_connect_s : how long a run with an external controller waits for it to connect
        before its fallback decides every step.
    """

    data_dir: Path = Path("runs/service")
    db_url: str | None = None
    workers: int = 2
    scheduler: str | None = None
    max_body_bytes: int = 1_048_576
    max_scenario_bytes: int = 262_144
    rate_per_s: float = 20.0
    rate_burst: int = 100
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    stale_after_s: float = 15.0
    heartbeat_s: float = 2.0
    max_attempts: int = 2
    controller_connect_s: float = 10.0

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'tsunagu.db').resolve().as_posix()}"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"
