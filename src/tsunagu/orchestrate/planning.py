"""Planning: placement of aggregate AI demand on compute sites, exact (MILP) and fast (greedy).

Each flow ``f`` (a demand point's requests for one service, ``demand_rps[f]`` requests/s) is
served whole by one site or not at all. The placement minimises

    Σ_f Σ_s rps_f · c[f, s] · x[f, s]  +  Σ_s fixed_s · y_s  +  Σ_f rps_f · penalty · u_f

subject to  Σ_s x[f, s] + u_f = 1  (every flow served once or unserved),
            Σ_f load_f · x[f, s] ≤ capacity_s · y_s  (GPU capacity of open sites),
            x[f, s] = 0 where latency[f, s] > SLA_f or availability[f, s] < required_f,
            x, y ∈ {0, 1},

with ``c`` the per-request objective (energy Wh, carbon g or latency s), ``fixed_s`` the
per-second cost of keeping site ``s`` on (e.g. its idle power; zero drops ``y``) and
``penalty`` per unserved request larger than any per-request cost, so that serving demand comes
first. This is a generalised assignment problem with site opening; :func:`plan_milp` solves it
with HiGHS through ``scipy.optimize.milp`` and reports HiGHS's dual bound and relative gap;
:func:`plan_greedy` is the online heuristic (each flow to its cheapest feasible site with
capacity, in rounds, :func:`~tsunagu.orchestrate.policy.greedy_by_preference`), and
:func:`objective_value` scores any assignment so the two can be compared.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from tsunagu.errors import InfeasibleError, ScenarioError
from tsunagu.orchestrate.policy import AllocationProblem, greedy_by_preference
from tsunagu.orchestrate.view import NetworkView
from tsunagu.sim.twin import Twin

__all__ = [
    "PlacementPlan",
    "PlanningProblem",
    "aggregate_problem",
    "objective_value",
    "plan_greedy",
    "plan_milp",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PlanningProblem:
    """Aggregate placement problem: F flows × S sites.

    Attributes
    ----------
    demand_rps : (F,) requests per second of each flow.
    load_gpu : (F,) GPU-seconds per second the flow occupies wherever it is served.
    capacity_gpu : (S,) usable GPU-seconds per second at each site.
    latency_s : (F, S) end-to-end latency; ``inf`` where unreachable.
    sla_s : (F,) latency bound.
    cost_per_request : (F, S) objective per request served at a site (Wh, g CO2-eq, s, ...).
    availability : (F, S) availability of the flow's path to the site (default all 1).
    required_availability : (F,) availability each flow needs (default 0).
    site_fixed : (S,) objective per second of keeping a site on (default 0: no site variable).
    unserved_penalty : objective per unserved request; default ``2·max(cost) + Σ fixed /
        min(rps) + 1``, above the cost of serving any flow anywhere.
    """

    demand_rps: FloatArray
    load_gpu: FloatArray
    capacity_gpu: FloatArray
    latency_s: FloatArray
    sla_s: FloatArray
    cost_per_request: FloatArray
    availability: FloatArray | None = None
    required_availability: FloatArray | None = None
    site_fixed: FloatArray | None = None
    unserved_penalty: float | None = None

    def __post_init__(self) -> None:
        f, s = self.latency_s.shape
        shapes = {
            "demand_rps": (self.demand_rps, (f,)),
            "load_gpu": (self.load_gpu, (f,)),
            "capacity_gpu": (self.capacity_gpu, (s,)),
            "sla_s": (self.sla_s, (f,)),
            "cost_per_request": (self.cost_per_request, (f, s)),
            "availability": (self.availability, (f, s)),
            "required_availability": (self.required_availability, (f,)),
            "site_fixed": (self.site_fixed, (s,)),
        }
        for name, (arr, shape) in shapes.items():
            if arr is not None and np.shape(arr) != shape:
                raise ScenarioError(
                    f"PlanningProblem.{name} has shape {np.shape(arr)}; expected {shape} "
                    f"for {f} flows and {s} sites"
                )
        if np.any(self.demand_rps < 0) or np.any(self.load_gpu < 0):
            raise ScenarioError("demand_rps and load_gpu must be >= 0")
        if np.any(self.capacity_gpu < 0):
            raise ScenarioError("capacity_gpu must be >= 0")
        if self.site_fixed is not None and np.any(self.site_fixed < 0):
            raise ScenarioError("site_fixed must be >= 0")
        c = self.cost_per_request[self.allowed]
        if not np.all(np.isfinite(c)):
            raise ScenarioError("cost_per_request must be finite wherever a flow may be served")

    @property
    def n_flows(self) -> int:
        return int(self.latency_s.shape[0])

    @property
    def n_sites(self) -> int:
        return int(self.latency_s.shape[1])

    @property
    def allowed(self) -> npt.NDArray[np.bool_]:
        """(F, S) pairs that meet latency and availability (capacity aside)."""
        ok = np.isfinite(self.latency_s) & (self.latency_s <= self.sla_s[:, None])
        if self.availability is not None and self.required_availability is not None:
            ok &= self.availability >= self.required_availability[:, None]
        return np.asarray(ok)

    @property
    def penalty(self) -> float:
        if self.unserved_penalty is not None:
            return float(self.unserved_penalty)
        c = np.abs(self.cost_per_request[np.isfinite(self.cost_per_request)])
        fixed = 0.0 if self.site_fixed is None else float(np.sum(self.site_fixed))
        pos = self.demand_rps[self.demand_rps > 0]
        per_rps = fixed / float(pos.min()) if pos.size else 0.0
        return 2.0 * float(np.max(c, initial=0.0)) + per_rps + 1.0

    @classmethod
    def from_allocation(
        cls,
        problem: AllocationProblem,
        demand_rps: npt.ArrayLike,
        objective: Literal["energy", "carbon", "latency", "cost"] = "carbon",
        site_fixed: npt.ArrayLike | None = None,
    ) -> PlanningProblem:
        """The planning problem of an engine step's :class:`AllocationProblem`."""
        table = {
            "energy": problem.energy_wh_per_request,
            "carbon": problem.carbon_g_per_request,
            "latency": problem.latency_s,
            "cost": problem.cost_per_request,
        }
        if objective not in table:
            raise ScenarioError(f"unknown objective {objective!r}; use one of {sorted(table)}")
        cost = table[objective]
        if cost is None:
            raise ScenarioError(f"the allocation problem has no {objective} per request")
        return cls(
            demand_rps=np.asarray(demand_rps, dtype=np.float64),
            load_gpu=problem.load_gpu,
            capacity_gpu=problem.capacity_gpu,
            latency_s=problem.latency_s,
            sla_s=problem.sla_s,
            cost_per_request=np.where(np.isfinite(cost), cost, 0.0),
            site_fixed=None if site_fixed is None else np.asarray(site_fixed, dtype=np.float64),
        )


@dataclass(frozen=True)
class PlacementPlan:
    """A placement and how good it is.

    Attributes
    ----------
    site : (F,) serving site per flow, −1 for unserved.
    objective : value of the objective (:func:`objective_value`).
    bound : best proven lower bound on the optimum (the objective itself for a heuristic: none).
    gap : relative gap ``(objective − bound)/|objective|`` (HiGHS's MIP gap); ``nan`` when
        there is no bound.
    optimal : HiGHS proved optimality within its tolerance.
    served_share : share of requests/s served.
    runtime_s : wall time of the solve.
    method : ``"milp"`` or ``"greedy"``.
    """

    site: IntArray
    objective: float
    bound: float
    gap: float
    optimal: bool
    served_share: float
    runtime_s: float
    method: str


def objective_value(problem: PlanningProblem, site: npt.ArrayLike) -> float:
    """Objective of an assignment (``site[f]`` or −1); raises if it breaks a constraint."""
    sel = np.asarray(site, dtype=np.int64)
    f = np.arange(problem.n_flows)
    served = sel >= 0
    s = np.maximum(sel, 0)
    if np.any(served & ~problem.allowed[f, s]):
        bad = int(np.flatnonzero(served & ~problem.allowed[f, s])[0])
        raise InfeasibleError(f"flow {bad} is placed at site {sel[bad]}, which breaks its SLA")
    used = np.bincount(s[served], weights=problem.load_gpu[served], minlength=problem.n_sites)
    over = used > problem.capacity_gpu * (1 + 1e-9) + 1e-9
    if np.any(over):
        k = int(np.flatnonzero(over)[0])
        raise InfeasibleError(
            f"site {k} carries {used[k]:.6g} GPU-s/s above its capacity "
            f"{problem.capacity_gpu[k]:.6g}"
        )
    rps = problem.demand_rps
    value = float(np.sum(rps[served] * problem.cost_per_request[f[served], s[served]]))
    value += float(np.sum(rps[~served])) * problem.penalty
    if problem.site_fixed is not None:
        open_ = np.zeros(problem.n_sites, dtype=bool)
        open_[s[served]] = True
        value += float(np.sum(problem.site_fixed[open_]))
    return value


def _served_share(problem: PlanningProblem, site: IntArray) -> float:
    total = float(np.sum(problem.demand_rps))
    return float(np.sum(problem.demand_rps[site >= 0])) / total if total > 0 else 1.0


def plan_milp(
    problem: PlanningProblem,
    time_limit_s: float | None = 60.0,
    mip_rel_gap: float = 1e-6,
    warm_start: bool = True,
) -> PlacementPlan:
    """Solve the placement MILP with HiGHS (``scipy.optimize.milp``).

    Variables are created only for allowed (flow, site) pairs. With ``warm_start`` the greedy
    heuristic's and an LP-rounding assignment compete with HiGHS's incumbent (scipy passes no
    MIP start to HiGHS); the plan is the best of them, and ``bound``/``gap`` are HiGHS's dual
    bound and the gap of that plan to it. ``optimal`` means the gap is within ``mip_rel_gap``.
    ``method`` names where the plan came from: ``milp (highs)``, ``milp (greedy)`` or
    ``milp (lp-rounding)``. The time limit covers the whole call.
    """
    t0 = time.perf_counter()
    n_f, n_s = problem.n_flows, problem.n_sites
    ff, ss = np.nonzero(problem.allowed)
    n_x = ff.size
    use_y = problem.site_fixed is not None and bool(np.any(problem.site_fixed > 0))
    n_y = n_s if use_y else 0
    n_var = n_x + n_f + n_y
    rps = problem.demand_rps
    c = np.concatenate(
        [
            rps[ff] * problem.cost_per_request[ff, ss],
            rps * problem.penalty,
            problem.site_fixed if use_y and problem.site_fixed is not None else np.zeros(0),
        ]
    )
    # Σ_s x[f,s] + u_f = 1
    a_assign = sparse.csr_array(
        (
            np.ones(n_x + n_f),
            (
                np.concatenate([ff, np.arange(n_f)]),
                np.concatenate([np.arange(n_x), n_x + np.arange(n_f)]),
            ),
        ),
        shape=(n_f, n_var),
    )
    # Σ_f load_f x[f,s] − cap_s y_s ≤ 0   (or ≤ cap_s without y)
    rows = [ss]
    cols = [np.arange(n_x)]
    vals = [problem.load_gpu[ff]]
    if use_y:
        rows.append(np.arange(n_s))
        cols.append(n_x + n_f + np.arange(n_s))
        vals.append(-problem.capacity_gpu)
        cap_ub = np.zeros(n_s)
    else:
        cap_ub = problem.capacity_gpu.astype(np.float64)
    a_cap = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_s, n_var)
    )
    constraints = [
        LinearConstraint(a_assign, np.ones(n_f), np.ones(n_f)),
        LinearConstraint(a_cap, np.full(n_s, -np.inf), cap_ub),
    ]
    if use_y:
        # x[f,s] ≤ y_s: tightens the relaxation (the capacity row alone allows fractional y).
        a_link = sparse.csr_array(
            (
                np.concatenate([np.ones(n_x), -np.ones(n_x)]),
                (np.tile(np.arange(n_x), 2), np.concatenate([np.arange(n_x), n_x + n_f + ss])),
            ),
            shape=(n_x, n_var),
        )
        constraints.append(LinearConstraint(a_link, np.full(n_x, -np.inf), np.zeros(n_x)))
    integrality = np.ones(n_var)
    integrality[n_x : n_x + n_f] = 0  # u_f = 1 − Σ x is integral when x is
    bounds = Bounds(np.zeros(n_var), np.ones(n_var))
    candidates: list[tuple[str, IntArray]] = []
    if warm_start:
        # HiGHS through scipy takes no MIP start, so the heuristics' assignments compete with
        # its incumbent afterwards: the plan is the best feasible one, the bound HiGHS's.
        candidates.append(("greedy", plan_greedy(problem).site))
        lp = milp(
            c,
            constraints=constraints,
            integrality=np.zeros(n_var),
            bounds=bounds,
            options={"disp": False},
        )
        if lp.x is not None:
            candidates.append(("lp-rounding", _lp_rounding(problem, lp.x[:n_x], ff, ss)))
    options: dict[str, float | bool] = {"disp": False, "mip_rel_gap": mip_rel_gap}
    if time_limit_s is not None:
        options["time_limit"] = max(float(time_limit_s) - (time.perf_counter() - t0), 1e-3)
    res = milp(c, constraints=constraints, integrality=integrality, bounds=bounds, options=options)
    if res.x is not None:
        x = res.x[:n_x] > 0.5
        highs_site = np.full(n_f, -1, dtype=np.int64)
        highs_site[ff[x]] = ss[x]
        candidates.insert(0, ("highs", highs_site))
    if not candidates:
        raise InfeasibleError(
            f"HiGHS found no placement ({res.message}); raise time_limit_s or simplify the problem"
        )
    values = [objective_value(problem, site) for _, site in candidates]
    best = int(np.argmin(values))
    source, site = candidates[best]
    value = values[best]
    raw_bound = getattr(res, "mip_dual_bound", None)
    bound = float(raw_bound) if raw_bound is not None else np.nan
    if not np.isfinite(bound):
        bound = value if res.status == 0 else np.nan
    gap = (value - bound) / abs(value) if value != 0 else 0.0
    return PlacementPlan(
        site=site,
        objective=value,
        bound=bound,
        gap=float(max(gap, 0.0)),
        optimal=res.status == 0 or bool(gap <= mip_rel_gap),
        served_share=_served_share(problem, site),
        runtime_s=time.perf_counter() - t0,
        method=f"milp ({source})",
    )


def _lp_rounding(
    problem: PlanningProblem, x_lp: FloatArray, ff: IntArray, ss: IntArray
) -> IntArray:
    """Keep the LP relaxation's integral assignments, then place the rest greedily.

    A basic LP solution splits at most one flow per binding capacity row, so nearly every flow
    is integral; those fit within capacity because the LP's loads do. The split and unserved
    flows are then offered the capacity left, cheapest allowed site first.
    """
    n_f = problem.n_flows
    site = np.full(n_f, -1, dtype=np.int64)
    whole = x_lp > 1.0 - 1e-9
    site[ff[whole]] = ss[whole]
    used = np.bincount(
        site[site >= 0], weights=problem.load_gpu[site >= 0], minlength=problem.n_sites
    )
    rest = np.flatnonzero(site < 0)
    if rest.size:
        cost = np.where(problem.allowed[rest], problem.cost_per_request[rest], np.inf)
        alloc = AllocationProblem(
            latency_s=cost,
            load_gpu=problem.load_gpu[rest],
            capacity_gpu=np.maximum(problem.capacity_gpu - used, 0.0),
            sla_s=np.full(rest.size, np.inf),
            carbon_g_per_request=cost,
        )
        site[rest] = greedy_by_preference(alloc, cost)
    return site


def plan_greedy(problem: PlanningProblem) -> PlacementPlan:
    """The fast heuristic: cheapest allowed site with capacity per flow, in preference rounds.

    Uses :func:`~tsunagu.orchestrate.policy.greedy_by_preference` on the per-request cost over
    allowed pairs, then fills leftover capacity. Site fixed costs are not weighed.
    """
    t0 = time.perf_counter()
    cost = np.where(problem.allowed, problem.cost_per_request, np.inf)
    alloc = AllocationProblem(
        latency_s=cost,
        load_gpu=problem.load_gpu,
        capacity_gpu=problem.capacity_gpu,
        sla_s=np.full(problem.n_flows, np.inf),
        carbon_g_per_request=cost,
    )
    site = greedy_by_preference(alloc, cost)
    value = objective_value(problem, site)
    return PlacementPlan(
        site=site,
        objective=value,
        bound=np.nan,
        gap=np.nan,
        optimal=False,
        served_share=_served_share(problem, site),
        runtime_s=time.perf_counter() - t0,
        method="greedy",
    )


def aggregate_problem(
    twin: Twin,
    view: NetworkView,
    hour_local: float = 20.0,
    objective: Literal["energy", "carbon", "latency", "cost"] = "carbon",
    demand_scale: float = 1.0,
) -> PlanningProblem:
    """The twin's aggregate demand at ``hour_local`` as a planning problem over ``view``.

    Flows are (demand point, scenario service) pairs with the scenario's offered requests/s
    (population × adoption × requests per user per day × the hourly profile weight), scaled by
    ``demand_scale``. A flow's latency to a site is the best over the access technologies the
    view offers at its point: round trip ``2 × one_way`` plus transmission of request and
    response at the access rate plus the service's processing time (no queueing: the MILP
    keeps every site within its utilisation cap instead).
    """
    from tsunagu.sim.demand import offered_rps, profile_weight

    if not demand_scale > 0:
        raise ScenarioError(f"demand_scale must be > 0; got {demand_scale}")
    svc = twin.scenario.services
    n_k = len(svc)
    weights = np.array([float(profile_weight(k.profile, hour_local)) for k in svc])
    rps = offered_rps(
        twin.demand.population,
        np.array([k.adoption for k in svc]),
        np.array([k.requests_per_user_per_day for k in svc]),
        weights,
    ) * float(demand_scale)  # (P, K)
    bits = np.array([(k.request_bytes + k.response_bytes) * 8.0 for k in svc])
    proc = np.array([k.processing_s for k in svc])
    energy = np.array([k.energy_wh_per_request for k in svc])
    with np.errstate(divide="ignore"):
        tx = bits[None, None, :] / view.access_rate_bps[:, :, None]  # (P, A, K)
    rtt = 2.0 * view.one_way_s[:, :, None, :] + tx[..., None]  # (P, A, K, S)
    lat = rtt.min(axis=1) + proc[None, :, None]  # (P, K, S)
    n_p = lat.shape[0]
    flow_k = np.tile(np.arange(n_k), n_p)
    gpu_s = twin.gpu_s  # (K, S)
    e_fac = energy[:, None] * view.site_pue[None, :]  # (K, S) facility Wh per request
    per_request = {
        "energy": e_fac,
        "carbon": e_fac / 1000.0 * view.site_carbon_g_per_kwh[None, :],
        "cost": None
        if view.site_cost_per_gpu_hour is None
        else gpu_s / 3600.0 * view.site_cost_per_gpu_hour[None, :],
    }
    latency = lat.reshape(n_p * n_k, -1)
    if objective == "latency":
        cost = np.where(np.isfinite(latency), latency, 0.0)
    else:
        table = per_request.get(objective)
        if table is None:
            raise ScenarioError(
                f"objective {objective!r} needs data the scenario lacks (cost: "
                "compute.sites[].cost_per_gpu_hour); use energy, carbon or latency"
            )
        cost = table[flow_k]
    demand = rps.ravel()
    return PlanningProblem(
        demand_rps=demand,
        load_gpu=demand * gpu_s[flow_k].max(axis=1),
        capacity_gpu=view.site_capacity_gpu,
        latency_s=latency,
        sla_s=np.array([k.sla_latency_ms / 1e3 for k in svc])[flow_k],
        cost_per_request=cost,
    )
