"""Online admission of intents with GPU capacity bookkeeping and release at holding-time end.

Intents arrive over time; each one is admitted at the (access technology, compute site) its
policy picks among the options that meet its SLA (:func:`~tsunagu.orchestrate.intents.
evaluate_intents`), if that site still has GPU capacity, and holds the capacity until its
holding time ends. An intent is rejected with the binding constraint when no option meets its
SLA, or with ``capacity`` when options exist but none has capacity left.

Everything that depends on the network (latency at the SLA percentile, availability, energy,
carbon per option) is evaluated for the whole batch at once. What remains per arrival is scalar
bookkeeping: release the sessions that ended, walk the intent's sites in the policy's order of
preference and book the first with capacity left. A policy that offers ``preference(problem)``
(every built-in one) is asked for that order once for the whole batch; any other policy is
asked per arrival, for that intent alone, against the capacity left.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu.errors import ScenarioError
from tsunagu.orchestrate.intents import CONSTRAINTS, IntentBatch, IntentOptions, evaluate_intents
from tsunagu.orchestrate.policy import AllocationProblem, Policy, get_policy
from tsunagu.orchestrate.view import NetworkView

__all__ = ["AdmissionResult", "OnlineAdmission"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_CAPACITY = CONSTRAINTS.index("capacity")


@dataclass(frozen=True)
class AdmissionResult:
    """Outcome of each intent of a batch, in the batch's order.

    Attributes
    ----------
    admitted : (N,) bool.
    site : (N,) compute site index, −1 when rejected.
    access : (N,) access technology index (``ACCESS_TECHNOLOGIES``), −1 when rejected.
    latency_s : (N,) latency at the SLA percentile of the chosen option (``inf`` if rejected).
    availability : (N,) availability of the chosen option (0 if rejected).
    gpu_load : (N,) GPU-seconds per second the intent holds while admitted.
    constraint : (N,) index into ``CONSTRAINTS`` (0 when admitted).
    reason : (N,) binding constraint in words with numbers ("" when admitted).
    """

    admitted: BoolArray
    site: IntArray
    access: IntArray
    latency_s: FloatArray
    availability: FloatArray
    gpu_load: FloatArray
    constraint: IntArray
    reason: npt.NDArray[np.str_]

    def constraint_names(self) -> npt.NDArray[np.str_]:
        return np.asarray(CONSTRAINTS)[self.constraint]


class OnlineAdmission:
    """Admission controller over one network view; holds the sites' remaining GPU capacity.

    Parameters
    ----------
    view : NetworkView
    policy : Policy or registered policy name (default ``latency-first``).
    background_gpu : (S,) GPU-seconds per second already in use at each site (default none).
    background_rps, background_service_s : (S,) the background load's request rate and mean
        service time, for the queueing delay at each site (default: no queueing).
    """

    def __init__(
        self,
        view: NetworkView,
        policy: Policy | str = "latency-first",
        background_gpu: npt.ArrayLike | None = None,
        background_rps: npt.ArrayLike | None = None,
        background_service_s: npt.ArrayLike | None = None,
    ) -> None:
        self.view = view
        self.policy: Policy = get_policy(policy) if isinstance(policy, str) else policy
        base = view.site_capacity_gpu.astype(np.float64)
        if background_gpu is not None:
            bg = np.broadcast_to(np.asarray(background_gpu, dtype=np.float64), base.shape)
            if np.any(bg < 0):
                raise ScenarioError("background_gpu must be >= 0 GPU-seconds per second")
            base = np.maximum(base - bg, 0.0)
        self._remaining: list[float] = base.tolist()
        self._ends: list[tuple[float, int, int, float]] = []  # (end_s, seq, site, load)
        self._seq = 0
        self._now = -np.inf
        self._bg_rps = background_rps
        self._bg_svc = background_service_s

    @property
    def remaining_gpu(self) -> FloatArray:
        """GPU-seconds per second still free at each site."""
        return np.array(self._remaining)

    @property
    def active(self) -> int:
        """Sessions admitted and not yet released."""
        return len(self._ends)

    def release_until(self, time_s: float) -> int:
        """Release every session whose holding time ended at or before ``time_s``."""
        ends, rem = self._ends, self._remaining
        n = 0
        while ends and ends[0][0] <= time_s:
            _, _, s, load = heapq.heappop(ends)
            rem[s] += load
            n += 1
        return n

    def _problem(
        self, opts: IntentOptions, rows: IntArray, capacity: FloatArray
    ) -> AllocationProblem:
        return AllocationProblem(
            latency_s=opts.latency_s[rows],
            load_gpu=opts.gpu_load[rows],
            capacity_gpu=capacity,
            sla_s=np.full(rows.size, np.inf),
            carbon_g_per_request=opts.carbon_g_per_request[rows],
            energy_wh_per_request=opts.energy_wh_per_request[rows],
            cost_per_request=None if opts.cost_per_request is None else opts.cost_per_request[rows],
        )

    def admit(self, intents: IntentBatch) -> AdmissionResult:
        """Admit or reject every intent of ``intents`` in arrival order (stable for ties).

        Arrivals must not precede the latest arrival already processed.
        """
        n = len(intents)
        if n and float(intents.arrival_s.min()) < self._now:
            raise ScenarioError(
                f"intents arrive at {float(intents.arrival_s.min()):g} s, before the last "
                f"processed arrival {self._now:g} s; pass batches in time order"
            )
        opts = evaluate_intents(self.view, intents, self._bg_rps, self._bg_svc)
        order = np.argsort(intents.arrival_s, kind="stable")
        feasible = opts.feasible
        n_s = self.view.n_sites
        ranker = getattr(self.policy, "preference", None)
        ranked = callable(ranker) and n > 0
        if ranked:
            rows = np.arange(n)
            cost = np.asarray(ranker(self._problem(opts, rows, np.full(n_s, np.inf))))  # type: ignore[misc]
            cost = np.where(np.isfinite(opts.latency_s), cost, np.inf)
            order_s = np.argsort(cost, axis=1, kind="stable")
            n_cand = np.isfinite(cost).sum(axis=1)
            cand_l = [o[:k] for o, k in zip(order_s.tolist(), n_cand.tolist(), strict=True)]
        site = np.full(n, -1, dtype=np.int64)
        code = opts.constraint.copy()
        load_l = opts.gpu_load.tolist()
        arr_l = intents.arrival_s.tolist()
        end_l = (intents.arrival_s + intents.holding_s).tolist()
        feas_l = feasible.tolist()
        rem = self._remaining
        ends = self._ends
        free_at: dict[int, float] = {}
        for i in order.tolist():
            t = arr_l[i]
            while ends and ends[0][0] <= t:
                _, _, s_rel, l_rel = heapq.heappop(ends)
                rem[s_rel] += l_rel
            if not feas_l[i]:
                continue
            load = load_l[i]
            if ranked:
                s = -1
                for k in cand_l[i]:
                    if rem[k] >= load - 1e-12:
                        s = k
                        break
            else:
                row = np.array([i])
                s = int(self.policy.allocate(self._problem(opts, row, np.array(rem)))[0])
                if s >= 0 and (not np.isfinite(opts.latency_s[i, s]) or rem[s] < load - 1e-12):
                    raise ScenarioError(
                        f"policy {self.policy.name!r} chose site {s} for intent {i}, which does "
                        "not meet its SLA or lacks capacity; a policy must return -1 instead"
                    )
            if s < 0:
                code[i] = _CAPACITY
                ok_sites = np.flatnonzero(np.isfinite(opts.latency_s[i]))
                free_at[i] = max(rem[k] for k in ok_sites.tolist())
                continue
            rem[s] -= load
            self._seq += 1
            heapq.heappush(ends, (end_l[i], self._seq, s, load))
            site[i] = s
        if n:
            self._now = float(intents.arrival_s.max())
        admitted = site >= 0
        safe = np.maximum(site, 0)
        idx = np.arange(n)
        reason = opts.reason.astype(object)
        cap = np.flatnonzero(code == _CAPACITY)
        if cap.size:
            n_ok = np.isfinite(opts.latency_s[cap]).sum(axis=1)
            reason[cap] = [
                f"capacity: {k} site(s) meet the SLA but none has {ld:.4g} GPU free "
                f"(most free at one of them when it arrived: {fr:.4g} GPU)"
                for k, ld, fr in zip(
                    n_ok.tolist(),
                    opts.gpu_load[cap].tolist(),
                    [free_at[i] for i in cap.tolist()],
                    strict=True,
                )
            ]
        return AdmissionResult(
            admitted=admitted,
            site=site,
            access=np.where(admitted, opts.access[idx, safe], -1).astype(np.int64),
            latency_s=np.where(admitted, opts.latency_s[idx, safe], np.inf),
            availability=np.where(admitted, opts.availability[idx, safe], 0.0),
            gpu_load=opts.gpu_load,
            constraint=np.where(admitted, 0, code).astype(np.int64),
            reason=np.asarray(np.where(admitted, "", reason).astype(str)),
        )
