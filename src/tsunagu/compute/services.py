"""AI service profiles and service chains of cooperating small AIs.

A :class:`ServiceProfile` holds what one request of an AI service costs a compute site: the
energy it draws at the GPUs (published per-request figures, ``data/ai_services.csv``), the
GPU-seconds that energy implies at a GPU's board power (:func:`gpu_seconds_per_request`) and
its processing latency. A :class:`ServiceChain` is several such services that cooperate on one
user request (e.g. speech recognition → a small LLM → speech synthesis). Placed at one site its
stages run one after another, so energy, GPU-seconds and processing time add up; placed over
several sites, each hop between consecutive stages adds the transport latency between them
(:func:`chain_latency_s`).
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu.compute.models import gpu_seconds_per_request
from tsunagu.errors import DataError, ModelRangeError

__all__ = [
    "ServiceChain",
    "ServiceProfile",
    "chain_latency_s",
    "load_service_profiles",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ServiceProfile:
    """One AI service: per-request GPU energy (Wh), processing latency (s), and their sources."""

    name: str
    energy_wh_per_request: float
    latency_s: float
    energy_source: str = ""
    latency_source: str = ""
    model_footprint_gb: float | None = None

    def __post_init__(self) -> None:
        if not (self.energy_wh_per_request > 0.0 and self.latency_s > 0.0):
            raise ModelRangeError(
                f"service {self.name!r}: energy_wh_per_request and latency_s must be > 0 "
                f"(got {self.energy_wh_per_request}, {self.latency_s})"
            )

    def gpu_s_per_request(self, gpu_power_w: npt.ArrayLike) -> FloatArray:
        """GPU-seconds one request occupies on GPUs of board power ``gpu_power_w``."""
        return gpu_seconds_per_request(self.energy_wh_per_request, gpu_power_w)


@dataclass(frozen=True)
class ServiceChain:
    """Small AIs that cooperate on one request, run in order."""

    name: str
    stages: tuple[ServiceProfile, ...]

    def __post_init__(self) -> None:
        if not self.stages:
            raise ModelRangeError(f"service chain {self.name!r} needs at least one stage")

    @property
    def energy_wh_per_request(self) -> float:
        return float(sum(s.energy_wh_per_request for s in self.stages))

    @property
    def latency_s(self) -> float:
        """Processing latency when every stage runs at the same site (stages run in sequence)."""
        return float(sum(s.latency_s for s in self.stages))

    def as_profile(self) -> ServiceProfile:
        """The chain co-located at one site, seen as one service."""
        return ServiceProfile(
            name=self.name,
            energy_wh_per_request=self.energy_wh_per_request,
            latency_s=self.latency_s,
            energy_source="sum of stages: " + ", ".join(s.name for s in self.stages),
            latency_source="sum of stages",
        )


def chain_latency_s(
    access_to_site_s: npt.ArrayLike,
    site_to_site_s: npt.ArrayLike,
    stage_latency_s: npt.ArrayLike,
    placement: npt.ArrayLike,
) -> FloatArray:
    """Round-trip latency of a service chain for many placements at once.

    A request goes from the access point to the first stage's site, through every stage in
    order (each hop adds the one-way transport latency between the two sites, zero when they
    coincide) and back from the last stage's site to the access point.

    Parameters
    ----------
    access_to_site_s : array_like, shape (S,)
        One-way latency from the user's access point to each site (s).
    site_to_site_s : array_like, shape (S, S)
        One-way transport latency between sites (s); the diagonal is taken as zero.
    stage_latency_s : array_like, shape (k,)
        Processing latency of each stage (s).
    placement : array_like of int, shape (..., k)
        Site index of each stage, for any number of candidate placements.

    Returns
    -------
    numpy.ndarray, shape (...)
        End-to-end latency (s) of each placement.
    """
    a = np.asarray(access_to_site_s, dtype=np.float64)
    d = np.array(site_to_site_s, dtype=np.float64)
    proc = np.asarray(stage_latency_s, dtype=np.float64)
    p = np.asarray(placement, dtype=np.int64)
    if p.shape[-1] != proc.size:
        raise ModelRangeError(
            f"chain_latency_s: placement has {p.shape[-1]} stages but stage_latency_s has "
            f"{proc.size}; give one site index per stage"
        )
    if d.shape != (a.size, a.size) or np.any(p < 0) or np.any(p >= a.size):
        raise ModelRangeError(
            f"chain_latency_s: site_to_site_s must be ({a.size}, {a.size}) and placement "
            f"indices in [0, {a.size})"
        )
    np.fill_diagonal(d, 0.0)
    hops = d[p[..., :-1], p[..., 1:]].sum(axis=-1) if proc.size > 1 else 0.0
    return np.asarray(a[p[..., 0]] + hops + a[p[..., -1]] + proc.sum(), dtype=np.float64)


@functools.cache
def _read() -> tuple[ServiceProfile, ...]:
    text = importlib.resources.files("tsunagu.data").joinpath("ai_services.csv").read_text("utf-8")
    out = []
    for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            out.append(
                ServiceProfile(
                    name=row["name"],
                    energy_wh_per_request=float(row["energy_wh_per_request"]),
                    latency_s=float(row["latency_s"]),
                    energy_source=row["energy_source"],
                    latency_source=row["latency_source"],
                    model_footprint_gb=float(row["model_footprint_gb"])
                    if row["model_footprint_gb"]
                    else None,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"ai_services.csv line {i}: {exc}") from None
    return tuple(out)


def load_service_profiles(names: Sequence[str] | None = None) -> dict[str, ServiceProfile]:
    """The shipped AI service profiles, by name (all, or the ``names`` asked for).

    Examples
    --------
    >>> load_service_profiles(["llm-chat"])["llm-chat"].energy_wh_per_request
    0.34
    """
    profiles = {p.name: p for p in _read()}
    if names is None:
        return profiles
    unknown = [n for n in names if n not in profiles]
    if unknown:
        raise DataError(f"unknown AI service profiles {unknown}; shipped: {sorted(profiles)}")
    return {n: profiles[n] for n in names}
