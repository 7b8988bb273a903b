"""Dynamic optical traffic: Poisson arrivals, exponential holding, and blocking statistics.

The arrival model is the one of the elastic-optical-network RMSA literature (Chen et al.,
"DeepRMSA", J. Lightwave Technol. 37(16), 2019, §IV; optical-rl-gym; XLRON): requests arrive as
a Poisson process of rate ``λ = load / mean holding time`` (so the offered load in Erlang is
``λ × mean holding``), hold for an exponential time, join a source–destination pair drawn
uniformly from the ordered pairs of distinct nodes, and ask for a bit rate drawn uniformly from
whole Gb/s in a range (25–100 Gb/s in DeepRMSA). DeepRMSA's own code also redraws holding times
of ``2 ×`` the mean or more (``truncate_holding=True``); the Erlang load then is the nominal one.

Blocking probability comes with a 95 % confidence interval by the method of **batch means**
(Law, "Simulation Modeling and Analysis", 5th ed., §9.5.3): the post-warm-up requests are cut
into ``B`` consecutive batches, each batch's blocking ratio is one observation, and the interval
is ``mean ± t(0.975, B−1) × s / √B``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from tsunagu.errors import DataError

__all__ = ["Requests", "batch_means_ci", "poisson_requests"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Requests:
    """A stream of connection requests, sorted by arrival time.

    Attributes
    ----------
    arrival_s, holding_s : (N,) float
        Arrival instant and holding time, s (any consistent time unit).
    src, dst : (N,) int
        Node ids (``src != dst``).
    bit_rate_bps : (N,) float
    """

    arrival_s: FloatArray
    holding_s: FloatArray
    src: IntArray
    dst: IntArray
    bit_rate_bps: FloatArray

    def __len__(self) -> int:
        return int(self.arrival_s.size)


def poisson_requests(
    n_requests: int,
    load_erlang: float,
    n_nodes: int,
    rng: np.random.Generator,
    *,
    mean_holding_s: float = 25.0,
    bit_rate_gbps: tuple[int, int] = (25, 100),
    truncate_holding: bool = False,
    pair_weights: npt.ArrayLike | None = None,
) -> Requests:
    """Draw ``n_requests`` Poisson arrivals with exponential holding times.

    Parameters
    ----------
    n_requests : int
    load_erlang : float
        Offered load, Erlang (arrival rate × mean holding time).
    n_nodes : int
        Node ids are ``0 .. n_nodes − 1``.
    rng : numpy.random.Generator
    mean_holding_s : float, default 25
    bit_rate_gbps : (int, int), default (25, 100)
        Bit rates are whole Gb/s drawn uniformly from this inclusive range.
    truncate_holding : bool, default False
        Redraw holding times ``>= 2 × mean`` (DeepRMSA's code does).
    pair_weights : (n_nodes, n_nodes) array_like, optional
        Relative traffic of each ordered pair (diagonal ignored); uniform when omitted.

    Returns
    -------
    Requests
    """
    if n_requests < 0 or n_nodes < 2:
        raise DataError(f"need n_requests >= 0 and n_nodes >= 2, got {n_requests}, {n_nodes}")
    if not (np.isfinite(load_erlang) and load_erlang > 0 and mean_holding_s > 0):
        raise DataError(
            f"load_erlang ({load_erlang}) and mean_holding_s ({mean_holding_s}) must be > 0"
        )
    lo, hi = bit_rate_gbps
    if not 0 < lo <= hi:
        raise DataError(f"bit_rate_gbps must be (low, high) with 0 < low <= high, got {lo, hi}")
    rate = load_erlang / mean_holding_s
    arrival = np.cumsum(rng.exponential(1.0 / rate, n_requests))
    holding = rng.exponential(mean_holding_s, n_requests)
    if truncate_holding:
        bad = holding >= 2.0 * mean_holding_s
        while np.any(bad):
            holding[bad] = rng.exponential(mean_holding_s, int(bad.sum()))
            bad = holding >= 2.0 * mean_holding_s
    if pair_weights is None:
        pair = rng.integers(0, n_nodes * (n_nodes - 1), n_requests)
        src = pair // (n_nodes - 1)
        off = pair % (n_nodes - 1)
        dst = off + (off >= src)
    else:
        w = np.array(pair_weights, dtype=np.float64)
        if w.shape != (n_nodes, n_nodes) or np.any(w < 0) or not np.all(np.isfinite(w)):
            raise DataError(
                f"pair_weights must be a ({n_nodes}, {n_nodes}) array of finite weights >= 0"
            )
        np.fill_diagonal(w, 0.0)
        total = w.sum()
        if total <= 0:
            raise DataError("pair_weights are all zero off the diagonal; give some pair traffic")
        flat = rng.choice(n_nodes * n_nodes, size=n_requests, p=(w / total).ravel())
        src, dst = flat // n_nodes, flat % n_nodes
    bit_rate = rng.integers(lo, hi + 1, n_requests).astype(np.float64) * 1e9
    return Requests(
        arrival_s=arrival,
        holding_s=holding,
        src=src.astype(np.int64),
        dst=dst.astype(np.int64),
        bit_rate_bps=bit_rate,
    )


def batch_means_ci(
    blocked: npt.ArrayLike, n_batches: int = 10, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Blocking ratio of ``blocked`` and its confidence interval by batch means.

    Parameters
    ----------
    blocked : (N,) array_like of bool
        One entry per measured (post-warm-up) request, in arrival order.
    n_batches : int, default 10
        Consecutive batches (>= 2); trailing requests that do not fill a batch are dropped
        from the interval (not from the mean).
    confidence : float, default 0.95

    Returns
    -------
    (mean, low, high) : float
        ``low`` is clipped at 0.

    Examples
    --------
    >>> m, lo, hi = batch_means_ci([0, 1] * 50, n_batches=5)
    >>> m, round(lo, 6), round(hi, 6)
    (0.5, 0.5, 0.5)
    """
    b = np.asarray(blocked, dtype=np.float64).ravel()
    if n_batches < 2:
        raise DataError(f"n_batches must be >= 2, got {n_batches}")
    if b.size < n_batches:
        raise DataError(
            f"{b.size} measured requests cannot fill {n_batches} batches; simulate more requests"
        )
    mean = float(b.mean())
    size = b.size // n_batches
    per_batch = b[: size * n_batches].reshape(n_batches, size).mean(axis=1)
    half = float(
        stats.t.ppf(0.5 + confidence / 2.0, n_batches - 1)
        * per_batch.std(ddof=1)
        / np.sqrt(n_batches)
    )
    return mean, max(mean - half, 0.0), mean + half
