"""Request and response bodies of the HTTP API (pydantic; they make the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuditOut",
    "ControllerSpec",
    "IntentCreate",
    "IntentOut",
    "JobOut",
    "RunCreate",
    "ScenarioCreate",
    "ScenarioOut",
    "SweepCreate",
    "Validation",
]

Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z]{3}_[0-9a-f]{16}$")]
PolicyName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioCreate(_In):
    """A scenario as YAML text (loaded with YAML's safe loader; no file paths are read)."""

    yaml: Annotated[str, Field(min_length=1, description="the scenario document")]
    filename: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            pattern=r"^[A-Za-z0-9_.-]+$",
            description="name used in error messages (file:line:), never opened",
        ),
    ] = "scenario.yaml"


class Validation(BaseModel):
    valid: bool
    name: str | None = None
    error: str | None = None


class ScenarioOut(BaseModel):
    id: str
    name: str
    description: str
    created_at: dt.datetime
    info: dict[str, Any] = Field(default_factory=dict)


class ControllerSpec(_In):
    """An external placement controller the tenant serves over the run's WebSocket."""

    fallback: PolicyName = "latency-first"
    deadline_s: Annotated[float, Field(gt=0.0, le=60.0)] = 1.0


class RunCreate(_In):
    scenario_id: Id
    policy: PolicyName | None = None
    controller: ControllerSpec | None = None


class SweepCreate(_In):
    scenario_id: Id
    runs: Annotated[int, Field(ge=1, le=200)] = 1
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    grid: (
        Annotated[
            dict[
                Annotated[str, Field(min_length=1, max_length=100)],
                Annotated[list[float | int | str | bool], Field(min_length=1, max_length=20)],
            ],
            Field(max_length=4),
        ]
        | None
    ) = None
    fail_links_share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    fail_satellites_share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class JobOut(BaseModel):
    id: str
    kind: str
    scenario_id: str
    status: Literal["queued", "running", "cancelling", "succeeded", "failed", "cancelled"]
    done: int
    total: int
    attempts: int
    message: str
    params: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class IntentCreate(_In):
    """A service request with an SLA, from one of the run's demand points."""

    point: Annotated[str, Field(min_length=1, max_length=200)]
    service: Annotated[str, Field(min_length=1, max_length=100)]
    sla_latency_ms: Annotated[float, Field(gt=0.0, le=1e6)]
    percentile: Annotated[float, Field(ge=0.5, le=0.9999)] = 0.95
    availability: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    bandwidth_bps: Annotated[float, Field(ge=0.0, le=1e12)] = 0.0
    request_rate_per_s: Annotated[float, Field(gt=0.0, le=1e6)] = 1.0
    device: Literal["phone", "car", "drone", "robot", "sensor"] | None = None
    policy: PolicyName = "latency-first"


class IntentOut(BaseModel):
    id: str
    run_id: str
    request: dict[str, Any]
    admitted: bool
    released: bool
    site: str
    access: str
    latency_ms: float | None
    availability: float | None
    gpu_load: float
    constraint: str
    reason: str
    created_at: dt.datetime
    released_at: dt.datetime | None


class AuditOut(BaseModel):
    at: dt.datetime
    tenant: str
    action: str
    object_id: str
    detail: str
