"""Allocation policies: which compute site serves each flow, behind one interface.

A policy receives an :class:`AllocationProblem` (flows × sites matrices built by the engine from
the network state) and returns one site index per flow, or ``-1`` for a flow it rejects.
Policies are registered by name; the scenario's ``policy`` field selects one. The orchestration
issue adds latency-first, energy-first, carbon-first and user policies through the same
registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tsunagu.errors import ScenarioError

__all__ = [
    "AllocationProblem",
    "NearestFeasible",
    "Policy",
    "get_policy",
    "register_policy",
    "registered_policies",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class AllocationProblem:
    """Everything a policy may weigh, as dense arrays.

    Attributes
    ----------
    latency_s : (F, S) end-to-end latency of flow f at site s before site queueing; ``inf``
        where the site is unreachable.
    load_gpu : (F,) GPU-seconds per second flow f needs.
    capacity_gpu : (S,) GPU-seconds per second each site can give (after its utilisation cap).
    sla_s : (F,) latency target of each flow.
    carbon_g_per_request : (F, S) emissions of serving one request of flow f at site s.
    """

    latency_s: FloatArray
    load_gpu: FloatArray
    capacity_gpu: FloatArray
    sla_s: FloatArray
    carbon_g_per_request: FloatArray


class Policy(Protocol):
    """Chooses a site per flow. Must be deterministic for a given problem."""

    name: str

    def allocate(self, problem: AllocationProblem) -> IntArray:
        """Site index per flow, ``-1`` for rejected flows; never exceeds ``capacity_gpu``."""
        ...


def greedy_by_preference(problem: AllocationProblem, cost: FloatArray) -> IntArray:
    """Assign flows to sites in rounds of preference under site capacity.

    In round ``r`` each unassigned flow asks for its ``r``-th cheapest reachable site; a site
    accepts asking flows in order of cost until its remaining capacity is used. Vectorised per
    round; at most ``S`` rounds.
    """
    n_flows, n_sites = cost.shape
    order = np.argsort(cost, axis=1, kind="stable")
    remaining = problem.capacity_gpu.astype(np.float64).copy()
    choice = np.full(n_flows, -1, dtype=np.int64)
    for r in range(n_sites):
        ask = np.flatnonzero(choice < 0)
        if ask.size == 0:
            break
        site = order[ask, r]
        c = cost[ask, site]
        reachable = np.isfinite(c)
        ask, site, c = ask[reachable], site[reachable], c[reachable]
        if ask.size == 0:
            continue
        # Within each site, cheapest asking flows first; accept while cumulative load fits.
        idx = np.lexsort((c, site))
        ask, site = ask[idx], site[idx]
        load = problem.load_gpu[ask]
        cum = np.cumsum(load)
        start = np.searchsorted(site, np.arange(n_sites), side="left")
        before = np.concatenate([[0.0], cum])[start]
        used = cum - before[site]
        fits = used <= remaining[site] + 1e-12
        choice[ask[fits]] = site[fits]
        remaining -= np.bincount(site[fits], weights=load[fits], minlength=n_sites)
    # Fill: a flow refused behind a larger one may still fit somewhere it can reach. Each pass
    # offers every site's leftover capacity to its unassigned reachable flows, smallest first;
    # passes stop when one admits nothing, so no refused flow fits at any reachable site.
    reachable = np.isfinite(cost)
    while True:
        admitted = False
        for s in range(n_sites):
            cand = np.flatnonzero((choice < 0) & reachable[:, s])
            if cand.size == 0 or remaining[s] <= 0.0:
                continue
            cand = cand[np.argsort(problem.load_gpu[cand], kind="stable")]
            fits = np.cumsum(problem.load_gpu[cand]) <= remaining[s] + 1e-12
            if fits.any():
                choice[cand[fits]] = s
                remaining[s] -= float(problem.load_gpu[cand[fits]].sum())
                admitted = True
        if not admitted:
            return choice


class NearestFeasible:
    """The nearest compute site by latency that still has capacity."""

    name = "nearest-feasible"

    def allocate(self, problem: AllocationProblem) -> IntArray:
        return greedy_by_preference(problem, problem.latency_s)


_REGISTRY: dict[str, Callable[[], Policy]] = {}


def register_policy(name: str, factory: Callable[[], Policy]) -> None:
    """Register a policy factory under ``name`` (overwrites an earlier one of that name)."""
    _REGISTRY[name] = factory


def registered_policies() -> list[str]:
    return sorted(_REGISTRY)


def get_policy(name: str) -> Policy:
    """The policy registered as ``name``; the error lists the known names."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(
            f"unknown policy {name!r}; registered policies: {registered_policies()}.{hint}"
        ) from None


register_policy(NearestFeasible.name, NearestFeasible)
