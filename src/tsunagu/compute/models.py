"""Compute-site models: GPU occupancy per request, M/M/c queueing delay, energy and carbon.

References
----------
.. [1] A. K. Erlang (1917); the Erlang B/C formulas as in L. Kleinrock, *Queueing Systems*,
   vol. 1, Wiley 1975, §3.6 (M/M/m), eq. 3.40 (Erlang C) and eq. 3.43 (mean wait).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

from tsunagu.errors import ModelRangeError

__all__ = [
    "carbon_kg",
    "erlang_b",
    "erlang_c",
    "gpu_seconds_per_request",
    "mmc_mean_wait_s",
    "mmc_wait_quantile_s",
    "site_energy_kwh",
]

FloatArray = npt.NDArray[np.float64]


def gpu_seconds_per_request(
    energy_wh_per_request: npt.ArrayLike, gpu_power_w: npt.ArrayLike
) -> FloatArray:
    """GPU-seconds one request occupies, from its published energy and the GPU's board power.

    A request that draws ``E`` Wh on GPUs running at their board power ``P`` occupies
    ``3600·E/P`` GPU-seconds. This is a lower bound on occupancy (GPUs below full power hold a
    request longer) and is exact for the energy accounting used in :func:`site_energy_kwh`.
    """
    e = np.asarray(energy_wh_per_request, dtype=np.float64)
    p = np.asarray(gpu_power_w, dtype=np.float64)
    if np.any(p <= 0.0) or np.any(e <= 0.0):
        raise ModelRangeError(
            "gpu_seconds_per_request needs energy_wh_per_request > 0 and gpu_power_w > 0"
        )
    return np.asarray(3600.0 * e / p, dtype=np.float64)


def erlang_b(servers: npt.ArrayLike, offered_erlang: npt.ArrayLike) -> FloatArray:
    """Erlang B blocking probability, vectorised, stable for thousands of servers.

    Uses ``B(c, a) = pmf(c; a) / cdf(c; a)`` of a Poisson distribution with mean ``a``.
    """
    c = np.asarray(servers, dtype=np.float64)
    a = np.asarray(offered_erlang, dtype=np.float64)
    if np.any(c < 1) or np.any(a < 0):
        raise ModelRangeError("erlang_b needs servers >= 1 and offered_erlang >= 0")
    log_b = stats.poisson.logpmf(c, a) - stats.poisson.logcdf(c, a)
    out = np.exp(log_b)
    return np.asarray(np.where(a == 0.0, 0.0, out), dtype=np.float64)


def erlang_c(servers: npt.ArrayLike, offered_erlang: npt.ArrayLike) -> FloatArray:
    """Probability that an arrival waits in an M/M/c queue (Erlang C), [1]_ eq. 3.40.

    ``C = B / (1 − ρ(1 − B))`` with ``ρ = a/c``; 1 when ``ρ ≥ 1`` (unstable queue).
    """
    c = np.asarray(servers, dtype=np.float64)
    a = np.asarray(offered_erlang, dtype=np.float64)
    b = erlang_b(c, a)
    rho = a / c
    with np.errstate(divide="ignore", invalid="ignore"):
        out = b / (1.0 - rho * (1.0 - b))
    return np.asarray(np.where(rho >= 1.0, 1.0, out), dtype=np.float64)


def mmc_mean_wait_s(
    arrival_rate_per_s: npt.ArrayLike, service_time_s: npt.ArrayLike, servers: npt.ArrayLike
) -> FloatArray:
    """Mean waiting time in queue of an M/M/c system, [1]_ eq. 3.43: ``W = C/(cμ − λ)``.

    Infinite where the offered load reaches the number of servers.
    """
    lam = np.asarray(arrival_rate_per_s, dtype=np.float64)
    s = np.asarray(service_time_s, dtype=np.float64)
    c = np.asarray(servers, dtype=np.float64)
    if np.any(lam < 0) or np.any(s <= 0) or np.any(c < 1):
        raise ModelRangeError(
            "mmc_mean_wait_s needs arrival rate >= 0, service time > 0, servers >= 1"
        )
    a = lam * s
    pw = erlang_c(c, a)
    headroom = c / s - lam
    with np.errstate(divide="ignore"):
        wait = np.where(headroom > 0.0, pw / np.where(headroom > 0.0, headroom, 1.0), np.inf)
    return np.asarray(wait, dtype=np.float64)


def mmc_wait_quantile_s(
    arrival_rate_per_s: npt.ArrayLike,
    service_time_s: npt.ArrayLike,
    servers: npt.ArrayLike,
    quantile: npt.ArrayLike,
) -> FloatArray:
    """Waiting time in queue not exceeded with probability ``quantile`` in an M/M/c system.

    FCFS M/M/c waiting time has ``P(W > t) = C·exp(−(cμ − λ)t)`` for ``t ≥ 0`` ([1]_ §3.6),
    so its ``q``-quantile is ``0`` when ``C ≤ 1 − q`` and ``ln(C/(1 − q))/(cμ − λ)`` otherwise.
    Infinite where the offered load reaches the number of servers.
    """
    lam = np.asarray(arrival_rate_per_s, dtype=np.float64)
    s = np.asarray(service_time_s, dtype=np.float64)
    c = np.asarray(servers, dtype=np.float64)
    q = np.asarray(quantile, dtype=np.float64)
    if np.any(lam < 0) or np.any(s <= 0) or np.any(c < 1):
        raise ModelRangeError(
            "mmc_wait_quantile_s needs arrival rate >= 0, service time > 0, servers >= 1"
        )
    if np.any(~((q >= 0.0) & (q < 1.0))):
        raise ModelRangeError("mmc_wait_quantile_s needs 0 <= quantile < 1 (e.g. 0.95 for p95)")
    pw = erlang_c(c, lam * s)
    headroom = c / s - lam
    tail = 1.0 - q
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(pw / tail) / np.where(headroom > 0.0, headroom, 1.0)
    t = np.where(pw <= tail, 0.0, t)
    return np.asarray(np.where(headroom > 0.0, t, np.inf), dtype=np.float64)


def site_energy_kwh(
    requests: npt.ArrayLike, energy_wh_per_request: npt.ArrayLike, pue: npt.ArrayLike
) -> FloatArray:
    """Facility energy of served requests: IT energy per request times PUE, in kWh."""
    n = np.asarray(requests, dtype=np.float64)
    e = np.asarray(energy_wh_per_request, dtype=np.float64)
    pue_ = np.asarray(pue, dtype=np.float64)
    if np.any(pue_ < 1.0):
        raise ModelRangeError("PUE is at least 1 (total facility power / IT power)")
    return np.asarray(n * e * pue_ / 1000.0, dtype=np.float64)


def carbon_kg(energy_kwh: npt.ArrayLike, intensity_g_per_kwh: npt.ArrayLike) -> FloatArray:
    """Emissions in kg CO2-eq of ``energy_kwh`` at a grid intensity in g/kWh."""
    return np.asarray(
        np.asarray(energy_kwh, dtype=np.float64)
        * np.asarray(intensity_g_per_kwh, dtype=np.float64)
        / 1000.0,
        dtype=np.float64,
    )
