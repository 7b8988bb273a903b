"""M/M/c waiting-time quantiles against a discrete-event simulation of the queue itself.

Reference: the FCFS M/M/c waiting-time distribution P(W > t) = C(c, a)·exp(−(cμ − λ)t)
(L. Kleinrock, *Queueing Systems* vol. 1, 1975, §3.6), which gives the quantiles of
:func:`mmc_wait_quantile_s`. We check it against an independent Kiefer–Wolfowitz workload-vector
simulation of the same queue: 12 independent replications of 30,000 customers (first 3,000
dropped as warm-up), fixed seeds. Tolerance: 4 standard errors of the replication mean (estimated
from the replications themselves) plus 1 % for the finite-run bias of a quantile estimate.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsunagu.compute.models import mmc_mean_wait_s, mmc_wait_quantile_s

REPLICATIONS = 12
CUSTOMERS = 30_000
WARM_UP = 3_000


def _simulate_waits(lam: float, mu: float, c: int, n: int, seed: int) -> list[float]:
    """Waiting times of n FCFS customers in an M/M/c queue (Kiefer–Wolfowitz recursion)."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / lam, n).tolist()
    services = rng.exponential(1.0 / mu, n).tolist()
    work = [0.0] * c  # remaining work of each server, sorted ascending
    waits = []
    for gap, service in zip(gaps, services, strict=True):  # each wait depends on the last state
        waits.append(work[0])
        work[0] += service
        work = sorted(max(w - gap, 0.0) for w in work)
    return waits


@pytest.mark.parametrize(("c", "rho"), [(1, 0.7), (4, 0.8)])
def test_wait_quantile_matches_simulation(c: int, rho: float) -> None:
    mu = 1.0
    lam = rho * c * mu
    runs = [
        np.asarray(_simulate_waits(lam, mu, c, CUSTOMERS, seed)[WARM_UP:])
        for seed in range(REPLICATIONS)
    ]
    for q in (0.9, 0.95):
        est = np.array([np.quantile(w, q) for w in runs])
        model = float(mmc_wait_quantile_s(lam, 1.0 / mu, c, q))
        se = est.std(ddof=1) / np.sqrt(REPLICATIONS)
        assert abs(est.mean() - model) <= 4.0 * se + 0.01 * model, (q, est.mean(), model, se)
    means = np.array([w.mean() for w in runs])
    model_mean = float(mmc_mean_wait_s(lam, 1.0 / mu, c))
    se = means.std(ddof=1) / np.sqrt(REPLICATIONS)
    assert abs(means.mean() - model_mean) <= 4.0 * se + 0.01 * model_mean
