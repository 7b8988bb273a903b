"""RAN controllers in the O-RAN near-RT RIC spirit, and the loop that measures them.

Each step a controller receives an :class:`~tsunagu.ran.environment.Observation` — the previous
step's per-cell load, carried traffic, spectral efficiency, power and state, the SLA outcome per
UE point, plus the static cell table and UE measurement reports (RSRP and full-buffer rate per
cell) — and returns an :class:`~tsunagu.ran.environment.Action`: a power state per cell
(carrier on, light or deep sleep, TR 38.864), transmit-power back-off, cell individual offsets
(traffic steering) or an explicit traffic assignment. The controller never sees the traffic of
the step it acts on: both controllers below predict it by the last measured step.

Controllers (registry by name; add your own with :func:`register_controller`):

* ``"always-on"`` — every carrier on, best-server association: the reference with no saving.
* ``"threshold"`` — the rule-based baseline of O-RAN energy-saving use cases (capacity-cell
  switch-off): per sector, the coverage carrier stays on and capacity carriers are added in order
  until the sector's nominal capacity covers its last measured traffic at a target utilisation
  (``target_load``, 0.5 by default); the others sleep.
* ``"milp"`` — optimisation-based: a mixed-integer LP (``scipy.optimize.milp``, HiGHS) that
  chooses which cells to keep on and how to steer each UE point's traffic among its ``k`` strongest
  cells so that the last measured demand is carried at no more than ``max_load`` utilisation per
  cell, every UE point keeps a cell whose full-buffer rate meets the SLA (coverage), and the
  power of the cells (TR 38.864/EARTH, linear in load) is minimal. Rates come from the UE
  reports at full-buffer interference (a pessimistic bound of the realised rates).

The loop :func:`run_episode` applies a controller over the environment's day and returns energy,
spectral efficiency and SLA violations; :func:`compare_controllers` repeats it over seeds.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from tsunagu.errors import InfeasibleError, ScenarioError
from tsunagu.ran.energy import BsState
from tsunagu.ran.environment import (
    Action,
    CellInfo,
    EnvironmentConfig,
    Observation,
    RanEnvironment,
)
from tsunagu.sim import catalogue as kc

__all__ = [
    "AlwaysOnController",
    "ControllerComparison",
    "EpisodeResult",
    "MilpEnergyController",
    "RanController",
    "ThresholdSleepController",
    "available_controllers",
    "compare_controllers",
    "make_controller",
    "register_controller",
    "run_episode",
]

Float = NDArray[np.float64]
Int = NDArray[np.int64]


@runtime_checkable
class RanController(Protocol):
    """An xApp: ``reset`` once per episode with the static cell table, then ``act`` each step."""

    name: str

    def reset(self, info: CellInfo) -> None: ...

    def act(self, obs: Observation) -> Action: ...


# ---------------------------------------------------------------------------------- registry

_REGISTRY: dict[str, Callable[..., RanController]] = {}


def register_controller(name: str, factory: Callable[..., RanController]) -> None:
    """Make ``factory(**options)`` available as ``name`` (CLI ``--controller name``)."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ScenarioError(f"controller name {name!r}: use letters, digits, '-' or '_'.")
    _REGISTRY[name] = factory


def available_controllers() -> list[str]:
    """Names of the registered controllers."""
    return sorted(_REGISTRY)


def make_controller(name: str, **options: Any) -> RanController:
    """A new controller by registered name."""
    try:
        factory = _REGISTRY[name]
    except KeyError as exc:
        raise ScenarioError(
            f"unknown RAN controller {name!r}; choose one of {available_controllers()} or "
            "register your own with tsunagu.ran.control.register_controller."
        ) from exc
    ctl = factory(**options)
    if not isinstance(ctl, RanController):
        raise ScenarioError(f"controller factory {name!r} did not return a RanController.")
    return ctl


# ---------------------------------------------------------------------------------- controllers


@contextlib.contextmanager
def _native_stdout_silenced() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null while native code runs.

    HiGHS 1.x (bundled with SciPy) writes a debug line
    ("HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();") straight to the
    C stdout from one of its MIP heuristics, whatever ``disp`` says; the library never prints.
    Python-level output is flushed first and the descriptor restored afterwards.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no usable descriptor 1 (embedded interpreters): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _sector_demand_bps(obs: Observation) -> Float:
    """Last measured traffic per sector: each point's demand to its best-RSRP sector."""
    info = obs.info
    prev = obs.previous
    if prev is None:
        return np.full(info.n_sectors, np.inf)
    best = info.cell_sector[np.argmax(info.rx_dbm, axis=1)]
    out = np.bincount(best, weights=prev.point_demand_bps, minlength=info.n_sectors)
    return np.asarray(out, dtype=np.float64)


class AlwaysOnController:
    """Every carrier active at full power; default best-server association."""

    name = "always-on"

    def __init__(self) -> None:
        self._n = 0

    def reset(self, info: CellInfo) -> None:
        self._n = info.cell_sector.size

    def act(self, obs: Observation) -> Action:
        return Action(state=np.full(self._n, int(BsState.ACTIVE), dtype=np.int64))


class ThresholdSleepController:
    """Rule-based capacity-cell switch-off (the baseline).

    Per sector: keep the coverage carrier(s) on; add capacity carriers in the configured order
    while the nominal capacity of the active carriers times ``target_load`` is below the sector's
    last measured demand; put the rest into ``sleep_state`` (deep sleep by default, the same
    depth as the optimiser uses, so that the comparison is about *which* cells sleep).
    """

    name = "threshold"

    def __init__(self, target_load: float = 0.5, sleep_state: int = int(BsState.DEEP_SLEEP)):
        if not 0.0 < target_load <= 1.0:
            raise ScenarioError(f"threshold controller: target_load in (0, 1]; got {target_load}.")
        self.target_load = target_load
        self.sleep_state = int(BsState(sleep_state))
        self._info: CellInfo | None = None

    def reset(self, info: CellInfo) -> None:
        self._info = info

    def act(self, obs: Observation) -> Action:
        info = obs.info
        demand = _sector_demand_bps(obs)
        cap = info.nominal_capacity_bps
        # order within a sector: coverage first, then capacity carriers by carrier index
        order = np.lexsort((info.cell_carrier, ~info.cell_is_coverage, info.cell_sector))
        sec = info.cell_sector[order]
        cum = np.cumsum(cap[order])
        start = np.searchsorted(sec, sec, side="left")
        before = cum - cap[order] - np.where(start > 0, cum[start - 1], 0.0)
        # a cell is needed if the capacity of the cells before it is short of the demand
        need = before * self.target_load < demand[sec]
        need |= info.cell_is_coverage[order]
        state = np.full(cap.size, self.sleep_state, dtype=np.int64)
        state[order[need]] = int(BsState.ACTIVE)
        return Action(state=state)


class MilpEnergyController:
    """Minimum-power cell activation with traffic steering, solved as a MILP (HiGHS).

    Variables: ``x_c ∈ {0,1}`` (cell on), ``y_uk ∈ [0,1]`` (share of point ``u``'s traffic to
    its ``k``-th candidate cell), ``z_u ∈ [0,1]`` (share left unserved, heavily penalised).
    Minimise ``Σ_c (P_idle,c − P_sleep,c) x_c + Σ_uk (P_full,c − P_idle,c) D_u y_uk / r_uk +
    λ Σ_u z_u`` subject to ``Σ_k y_uk + z_u = 1``, ``Σ_u D_u y_uk / r_uk <= max_load · x_c`` and
    ``Σ_{k: r_uk >= r_SLA} x_k >= 1`` (each point keeps an SLA-capable cell). Candidates are the
    ``n_candidates`` strongest cells whose full-buffer rate ``r`` gives the SLA flow rate at
    ``max_load`` (``r (1 − max_load) >= sla_min_bps``); a point with none keeps its best cell.
    The solve stops at ``mip_rel_gap`` (1 % by default) or ``time_limit_s``.
    """

    name = "milp"

    def __init__(
        self,
        max_load: float = 0.7,
        n_candidates: int = 4,
        time_limit_s: float = 10.0,
        mip_rel_gap: float = 1e-2,
        presolve: bool = False,
    ) -> None:
        if not 0.0 < max_load < 1.0:
            raise ScenarioError(f"milp controller: max_load in (0, 1); got {max_load}.")
        if n_candidates < 1:
            raise ScenarioError(f"milp controller: n_candidates >= 1; got {n_candidates}.")
        self.max_load = max_load
        self.n_candidates = n_candidates
        self.time_limit_s = time_limit_s
        self.mip_rel_gap = mip_rel_gap
        self._cand: Int | None = None
        self._cand_ok: NDArray[np.bool_] | None = None
        self._sla_ok: NDArray[np.bool_] | None = None
        self.presolve = presolve
        self.last_solve_s = 0.0

    def reset(self, info: CellInfo) -> None:
        r = info.full_buffer_rate_bps
        k = min(self.n_candidates, r.shape[1])
        sla_ok = r * (1.0 - self.max_load) >= info.sla_min_bps
        score = np.where(sla_ok, info.rx_dbm, -np.inf)
        cand = np.argsort(-score, axis=1)[:, :k]
        ok = np.take_along_axis(sla_ok, cand, axis=1)
        # points with no SLA-capable cell keep their strongest cell with a positive rate
        none = ~ok.any(axis=1)
        if np.any(none):
            best = np.argmax(np.where(r > 0.0, info.rx_dbm, -np.inf), axis=1)
            cand[none, 0] = best[none]
            ok[none, 0] = r[none, best[none]] > 0.0
        self._cand = cand.astype(np.int64)
        self._cand_ok = ok
        self._sla_ok = sla_ok

    def act(self, obs: Observation) -> Action:
        info = obs.info
        n_cells = info.cell_sector.size
        if obs.previous is None or self._cand is None or self._cand_ok is None:
            return Action(state=np.full(n_cells, int(BsState.ACTIVE), dtype=np.int64))
        cand, ok = self._cand, self._cand_ok
        n_pts, k = cand.shape
        demand = obs.previous.point_demand_bps
        r = info.full_buffer_rate_bps[np.arange(n_pts)[:, None], cand]  # (points, k)
        valid = ok & (r > 0.0)
        ny = n_pts * k
        # variable layout: [x (cells) | y (points*k) | z (points)]
        n_var = n_cells + ny + n_pts
        p_on = info.power_idle_w - info.power_deep_sleep_w
        p_load = info.power_full_w - info.power_idle_w
        with np.errstate(divide="ignore", invalid="ignore"):
            airtime = np.where(valid, demand[:, None] / np.where(valid, r, 1.0), 0.0)
        c_y = (p_load[cand] * airtime).ravel()
        lam = 10.0 * float(info.power_full_w.max()) * (1.0 + airtime.sum(axis=1))
        cost = np.concatenate([p_on, c_y, lam])
        rows_u = np.repeat(np.arange(n_pts), k)
        y_idx = n_cells + np.arange(ny)
        # (1) Σ_k y_uk + z_u = 1
        a1 = sp.csr_matrix(
            (
                np.ones(ny + n_pts),
                (
                    np.concatenate([rows_u, np.arange(n_pts)]),
                    np.concatenate([y_idx, n_cells + ny + np.arange(n_pts)]),
                ),
            ),
            shape=(n_pts, n_var),
        )
        # (2) Σ_u airtime_uk y_uk − max_load x_c <= 0
        a2 = sp.csr_matrix(
            (
                np.concatenate([airtime.ravel(), np.full(n_cells, -self.max_load)]),
                (
                    np.concatenate([cand.ravel(), np.arange(n_cells)]),
                    np.concatenate([y_idx, np.arange(n_cells)]),
                ),
            ),
            shape=(n_cells, n_var),
        )
        # (3) coverage: Σ_{k valid} x_cand >= 1 for points that have a valid candidate
        has = np.asarray(valid.any(axis=1), dtype=bool)
        pr, pk = np.nonzero(valid & has[:, None])
        rows3 = np.searchsorted(np.nonzero(has)[0], pr)
        a3 = sp.csr_matrix((np.ones(pr.size), (rows3, cand[pr, pk])), shape=(int(has.sum()), n_var))
        constraints = [
            LinearConstraint(a1, 1.0, 1.0),
            LinearConstraint(a2, -np.inf, 0.0),
            LinearConstraint(a3, 1.0, np.inf),
        ]
        ub = np.concatenate([np.ones(n_cells), valid.ravel().astype(np.float64), np.ones(n_pts)])
        integrality = np.concatenate([np.ones(n_cells), np.zeros(ny + n_pts)])
        t0 = time.perf_counter()
        with _native_stdout_silenced():
            res = milp(
                cost,
                constraints=constraints,
                integrality=integrality,
                bounds=Bounds(np.zeros(n_var), ub),
                options={
                    "time_limit": self.time_limit_s,
                    "mip_rel_gap": self.mip_rel_gap,
                    # measured faster without presolve at these sizes (5.3 s vs 8.1 s a day)
                    "presolve": self.presolve,
                },
            )
        self.last_solve_s = time.perf_counter() - t0
        if res.x is None:
            raise InfeasibleError(
                f"milp controller: HiGHS found no solution ({res.message}); raise time_limit_s "
                "or lower n_candidates."
            )
        x = res.x[:n_cells] > 0.5
        y = np.clip(res.x[n_cells : n_cells + ny].reshape(n_pts, k), 0.0, 1.0)
        assignment = np.zeros((n_pts, n_cells))
        np.add.at(assignment, (np.repeat(np.arange(n_pts), k), cand.ravel()), y.ravel())
        assignment *= x[None, :]
        state = np.where(x, int(BsState.ACTIVE), int(BsState.DEEP_SLEEP)).astype(np.int64)
        return Action(state=state, assignment=assignment)


register_controller("always-on", AlwaysOnController)
register_controller("threshold", ThresholdSleepController)
register_controller("milp", MilpEnergyController)


# ---------------------------------------------------------------------------------- the loop


@dataclass(frozen=True)
class EpisodeResult:
    """Per-step series and totals of one controller over one environment seed."""

    controller: str
    seed: int
    energy_j: Float  # (steps,)
    energy_by_state_j: dict[str, float]
    se_bps_per_hz: Float  # (steps,) demand-weighted SE of served traffic
    sla_violations: Int  # (steps,) UE points below the SLA flow rate
    point_steps: int  # UE point-steps with demand
    offered_bits: float
    served_bits: float
    active_cell_share: Float  # (steps,)
    act_s: Float  # (steps,) wall time of the controller's act()

    @property
    def energy_kwh(self) -> float:
        return float(self.energy_j.sum() / 3.6e6)

    @property
    def mean_se_bps_per_hz(self) -> float:
        w = self.se_bps_per_hz
        return float(np.mean(w)) if w.size else 0.0

    @property
    def violation_share(self) -> float:
        return float(self.sla_violations.sum() / max(self.point_steps, 1))


def run_episode(env: RanEnvironment, controller: RanController, seed: int = 0) -> EpisodeResult:
    """Run ``controller`` over every step of ``env`` (observe → act → measure)."""
    controller.reset(env.info)
    n = env.config.n_steps
    state = np.full(env.n_cells, int(BsState.ACTIVE), dtype=np.int64)
    prev = None
    energy = np.zeros(n)
    se = np.zeros(n)
    viol = np.zeros(n, dtype=np.int64)
    act_s = np.zeros(n)
    active_share = np.zeros(n)
    by_state = {"active": 0.0, "light_sleep": 0.0, "deep_sleep": 0.0, "transition": 0.0}
    offered = served = 0.0
    point_steps = 0
    for t in range(n):  # the loop is over time steps; each step is vectorised over cells/points
        obs = env.observation(t, prev)
        t0 = time.perf_counter()
        action = controller.act(obs)
        act_s[t] = time.perf_counter() - t0
        out = env.step(t, action, state)
        energy[t] = out.energy_j["total"]
        for key in by_state:
            by_state[key] += out.energy_j[key]
        se[t] = out.se_bps_per_hz
        viol[t] = out.sla_violations
        point_steps += out.points_with_demand
        offered += out.offered_bps * env.config.step_s
        served += out.served_bps * env.config.step_s
        active_share[t] = float(np.mean(out.state == BsState.ACTIVE))
        state = out.state
        prev = out
    return EpisodeResult(
        controller=controller.name,
        seed=seed,
        energy_j=energy,
        energy_by_state_j=by_state,
        se_bps_per_hz=se,
        sla_violations=viol,
        point_steps=point_steps,
        offered_bits=offered,
        served_bits=served,
        active_cell_share=active_share,
        act_s=act_s,
    )


@dataclass(frozen=True)
class ControllerComparison:
    """Episodes of several controllers on the same seeds, and a summary per controller."""

    seeds: tuple[int, ...]
    episodes: dict[str, list[EpisodeResult]]

    def summary(self, reference: str | None = None) -> dict[str, dict[str, float]]:
        """Per controller: mean energy (kWh/day), saving vs ``reference`` (%, per seed then
        averaged; min and max over seeds), mean SE, SLA violations (point-steps, total and
        share), served share and median act() time."""
        out: dict[str, dict[str, float]] = {}
        ref = self.episodes.get(reference) if reference else None
        for name, eps in self.episodes.items():
            e = np.array([x.energy_kwh for x in eps])
            row = {
                "energy_kwh": float(e.mean()),
                "se_bps_per_hz": float(np.mean([x.mean_se_bps_per_hz for x in eps])),
                kc.SLA_VIOLATIONS.name: float(sum(int(x.sla_violations.sum()) for x in eps)),
                "sla_violation_share": float(np.mean([x.violation_share for x in eps])),
                kc.SERVED_SHARE.name: float(
                    sum(x.served_bits for x in eps) / max(sum(x.offered_bits for x in eps), 1e-300)
                ),
                "active_cell_share": float(np.mean([x.active_cell_share.mean() for x in eps])),
                "act_median_s": float(np.median(np.concatenate([x.act_s for x in eps]))),
            }
            if ref is not None:
                r = np.array([x.energy_kwh for x in ref])
                saving = 100.0 * (1.0 - e / r)
                row["saving_pct"] = float(saving.mean())
                row["saving_min_pct"] = float(saving.min())
                row["saving_max_pct"] = float(saving.max())
            out[name] = row
        return out


def compare_controllers(
    config: EnvironmentConfig,
    controllers: Sequence[str],
    seeds: Sequence[int],
    options: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ControllerComparison:
    """Run each named controller on each seed's environment (same day for every controller)."""
    if not seeds:
        raise ScenarioError("compare_controllers: pass at least one seed.")
    opts = options or {}
    episodes: dict[str, list[EpisodeResult]] = {name: [] for name in controllers}
    for seed in seeds:
        env = RanEnvironment(config, seed)
        for name in controllers:
            ctl = make_controller(name, **opts.get(name, {}))
            episodes[name].append(run_episode(env, ctl, seed))
            if progress is not None:
                progress(name, seed)
    return ControllerComparison(seeds=tuple(seeds), episodes=episodes)
