"""Allocation policies: which compute site serves each flow, behind one interface.

A policy receives an :class:`AllocationProblem` (flows × sites matrices built by the engine from
the network state) and returns one site index per flow, or ``-1`` for a flow it rejects.
Policies are registered by name; the scenario's ``policy`` field (or ``tsunagu run --policy``)
selects one. Built in: ``nearest-feasible`` / ``latency-first`` (lowest latency), and the
SLA-aware ``energy-first``, ``carbon-first`` and ``cost`` (among the sites that meet a flow's
latency SLA, the one with the least facility energy, emissions or price per request; flows no
site can serve within their SLA go to their lowest-latency site).

User policies are found through the Python entry-point group ``tsunagu.policies``: a package
declares, in its ``pyproject.toml``::

    [project.entry-points."tsunagu.policies"]
    my-policy = "my_package.module:MyPolicy"

where ``MyPolicy()`` returns an object with a ``name`` and an ``allocate(problem)`` method
(:class:`Policy`). Entry points are read the first time a name is not found in the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tsunagu.errors import ScenarioError
from tsunagu.scenario.schema import Scenario

__all__ = [
    "ENTRY_POINT_GROUP",
    "AllocationProblem",
    "CarbonFirst",
    "CostFirst",
    "EnergyFirst",
    "LatencyFirst",
    "NearestFeasible",
    "Policy",
    "get_policy",
    "greedy_by_preference",
    "load_entry_point_policies",
    "register_policy",
    "registered_policies",
    "sla_tiered_cost",
    "with_policy",
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
    energy_wh_per_request : (F, S) facility energy (GPU energy × PUE) of one request of flow f
        at site s; ``None`` when the caller did not compute it (``energy-first`` then refuses).
    cost_per_request : (F, S) price of serving one request of flow f at site s (any currency);
        ``None`` when the sites have no price (``cost`` then refuses).
    """

    latency_s: FloatArray
    load_gpu: FloatArray
    capacity_gpu: FloatArray
    sla_s: FloatArray
    carbon_g_per_request: FloatArray
    energy_wh_per_request: FloatArray | None = None
    cost_per_request: FloatArray | None = None


class Policy(Protocol):
    """Chooses a site per flow. Must be deterministic for a given problem.

    A policy built on :func:`greedy_by_preference` may also offer ``preference(problem)``, the
    (F, S) cost matrix it ranks sites by (``inf`` = never); online admission then takes, for each
    arriving intent, its cheapest site with capacity left without calling ``allocate`` again —
    the same choice ``allocate`` makes for one flow alone.
    """

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


def sla_tiered_cost(problem: AllocationProblem, objective: FloatArray) -> FloatArray:
    """Preference matrix that ranks SLA-meeting sites by ``objective``, then the rest by latency.

    Every site that meets a flow's latency SLA costs less than every site that does not; among
    meeting sites the cheaper ``objective`` wins, among the others the lower latency.
    Unreachable sites (``latency_s`` infinite) stay ``inf``.
    """
    obj = np.asarray(objective, dtype=np.float64)
    lat = problem.latency_s
    if obj.shape != lat.shape:
        raise ScenarioError(
            f"policy objective has shape {obj.shape} but latency_s has {lat.shape}; pass one "
            "value per (flow, site)"
        )
    meets = np.isfinite(lat) & (lat <= problem.sla_s[:, None]) & np.isfinite(obj)
    top = float(np.max(np.abs(obj[meets]), initial=0.0))
    spread = 2.0 * top + 1.0
    return np.where(meets, obj, np.where(np.isfinite(lat), spread + lat, np.inf))


class NearestFeasible:
    """The nearest compute site by latency that still has capacity."""

    name = "nearest-feasible"

    def preference(self, problem: AllocationProblem) -> FloatArray:
        return problem.latency_s

    def allocate(self, problem: AllocationProblem) -> IntArray:
        return greedy_by_preference(problem, self.preference(problem))


class LatencyFirst(NearestFeasible):
    """Lowest end-to-end latency first (the same rule as ``nearest-feasible``)."""

    name = "latency-first"


class EnergyFirst:
    """Among sites meeting the SLA, least facility energy per request (GPU energy × PUE)."""

    name = "energy-first"

    def preference(self, problem: AllocationProblem) -> FloatArray:
        if problem.energy_wh_per_request is None:
            raise ScenarioError(
                "policy 'energy-first' needs AllocationProblem.energy_wh_per_request (facility "
                "Wh per request per site); the caller built the problem without it"
            )
        return sla_tiered_cost(problem, problem.energy_wh_per_request)

    def allocate(self, problem: AllocationProblem) -> IntArray:
        return greedy_by_preference(problem, self.preference(problem))


class CarbonFirst:
    """Among sites meeting the SLA, least emissions per request (energy × grid intensity)."""

    name = "carbon-first"

    def preference(self, problem: AllocationProblem) -> FloatArray:
        return sla_tiered_cost(problem, problem.carbon_g_per_request)

    def allocate(self, problem: AllocationProblem) -> IntArray:
        return greedy_by_preference(problem, self.preference(problem))


class CostFirst:
    """Among sites meeting the SLA, the lowest price per request."""

    name = "cost"

    def preference(self, problem: AllocationProblem) -> FloatArray:
        if problem.cost_per_request is None:
            raise ScenarioError(
                "policy 'cost' needs a price per request at each site: set "
                "compute.sites[].cost_per_gpu_hour for every site in the scenario"
            )
        return sla_tiered_cost(problem, problem.cost_per_request)

    def allocate(self, problem: AllocationProblem) -> IntArray:
        return greedy_by_preference(problem, self.preference(problem))


ENTRY_POINT_GROUP = "tsunagu.policies"

_REGISTRY: dict[str, Callable[[], Policy]] = {}
_ENTRY_POINTS_LOADED = False


def register_policy(name: str, factory: Callable[[], Policy]) -> None:
    """Register a policy factory under ``name`` (overwrites an earlier one of that name)."""
    if not name or not callable(factory):
        raise ScenarioError(
            f"register_policy needs a non-empty name and a callable factory; got {name!r}, "
            f"{factory!r}"
        )
    _REGISTRY[name] = factory


def load_entry_point_policies(reload: bool = False) -> list[str]:
    """Register every policy declared in the ``tsunagu.policies`` entry-point group.

    Returns the names found. A broken entry point raises :class:`ScenarioError` naming it.
    Built-in names are not overridden by entry points of the same name.
    """
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED and not reload:
        return []
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _BUILTIN:
            continue
        try:
            factory = ep.load()
        except Exception as exc:  # a user's package failing to import: report which one
            raise ScenarioError(
                f"policy entry point {ep.name!r} ({ep.value}) in group {ENTRY_POINT_GROUP!r} "
                f"failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        if not callable(factory):
            raise ScenarioError(
                f"policy entry point {ep.name!r} ({ep.value}) is not callable; point it at a "
                "class or function returning an object with name and allocate(problem)"
            )
        register_policy(ep.name, factory)
        found.append(ep.name)
    _ENTRY_POINTS_LOADED = True
    return found


def registered_policies() -> list[str]:
    """Names of every known policy: built-in, registered in code and from entry points."""
    load_entry_point_policies()
    return sorted(_REGISTRY)


def get_policy(name: str) -> Policy:
    """The policy registered as ``name``; the error names it and lists the known names."""
    if name not in _REGISTRY:
        load_entry_point_policies()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(
            f"unknown policy {name!r}; available policies: {registered_policies()}.{hint} "
            f"Register your own through the {ENTRY_POINT_GROUP!r} entry-point group."
        ) from None
    policy = factory()
    if not callable(getattr(policy, "allocate", None)):
        raise ScenarioError(
            f"policy {name!r} has no allocate(problem) method; see tsunagu.orchestrate.Policy"
        )
    return policy


_BUILTIN: dict[str, Callable[[], Policy]] = {
    NearestFeasible.name: NearestFeasible,
    LatencyFirst.name: LatencyFirst,
    EnergyFirst.name: EnergyFirst,
    CarbonFirst.name: CarbonFirst,
    CostFirst.name: CostFirst,
}
for _name, _factory in _BUILTIN.items():
    register_policy(_name, _factory)


def with_policy(scenario: Scenario, name: str) -> Scenario:
    """``scenario`` with its ``policy`` replaced by ``name``, checked before anything is built.

    Raises :class:`ScenarioError` naming an unknown policy and listing the available ones, or
    when the scenario lacks what the policy needs (e.g. site prices for ``cost``).
    """
    get_policy(name)
    from pydantic import ValidationError

    try:
        return type(scenario).model_validate({**scenario.model_dump(), "policy": name})
    except ValidationError as exc:
        msgs = "; ".join(str(e.get("msg", "")) for e in exc.errors())
        raise ScenarioError(f"policy {name!r} cannot run this scenario: {msgs}") from None
