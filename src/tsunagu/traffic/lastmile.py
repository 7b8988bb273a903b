"""One-way access and last-mile delay per access technology, as distributions.

``lastmile_delay.csv`` lists, per technology and direction, the components of the one-way delay
between a user and the first aggregation / peering point that are *not* propagation (the engine
adds propagation from geometry): frame and slot alignment, transmission, UE processing from the
3GPP numerology, uplink scheduling requests and grants, HARQ retransmissions, PON dynamic
bandwidth allocation, aggregation/BNG and peering. Each row names its source or is marked
``assumption``. A draw is the sum of independent draws of its components:

* ``uniform`` — uniform on [a, b] (a wait for the next frame, slot or grant);
* ``constant`` — a;
* ``lognormal`` — median a, 95th percentile b;
* ``harq`` — a number of retransmissions k with P(k ≥ j) = p^j (independent block errors at
  the first-transmission error rate p), each adding a (the HARQ round trip).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from tsunagu.errors import DataError, ScenarioError
from tsunagu.traffic.national import _read_csv

__all__ = [
    "TECHNOLOGIES",
    "DelayComponent",
    "access_delay_s",
    "access_rtt_s",
    "components",
    "mean_delay_s",
]

FloatArray = npt.NDArray[np.float64]
Direction = Literal["down", "up"]

#: z of the 95th percentile of a standard normal (for the lognormal median/p95 form).
_Z95: Final[float] = 1.6448536269514722


@dataclass(frozen=True)
class DelayComponent:
    """One component of a technology's one-way access delay."""

    tech: str
    direction: str  # "down", "up" or "both"
    name: str
    dist: str
    a_s: float
    b_s: float
    p: float
    basis: str  # "source" or "assumption"
    source: str


def _num(row: dict[str, str], key: str, where: str) -> float:
    text = row.get(key, "") or ""
    if text.strip() == "":
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{where}: {key} must be a number") from None


@functools.cache
def _load() -> tuple[DelayComponent, ...]:
    out = []
    for i, row in enumerate(_read_csv("lastmile_delay.csv"), start=2):
        where = f"lastmile_delay.csv line {i}"
        c = DelayComponent(
            tech=row["tech"],
            direction=row["direction"],
            name=row["component"],
            dist=row["dist"],
            a_s=_num(row, "a_s", where),
            b_s=_num(row, "b_s", where),
            p=_num(row, "p", where),
            basis=row["basis"],
            source=row["source"],
        )
        if c.direction not in ("down", "up", "both"):
            raise DataError(f"{where}: direction must be down, up or both")
        if c.basis not in ("source", "assumption"):
            raise DataError(f"{where}: basis must be 'source' or 'assumption'")
        ok = {
            "uniform": 0.0 <= c.a_s <= c.b_s,
            "constant": c.a_s >= 0.0,
            "lognormal": 0.0 < c.a_s < c.b_s,
            "harq": c.a_s > 0.0 and 0.0 <= c.p < 1.0,
        }.get(c.dist)
        if not ok:
            raise DataError(f"{where}: bad parameters for distribution {c.dist!r}")
        out.append(c)
    return tuple(out)


#: Access technologies with a shipped delay budget.
TECHNOLOGIES: Final[tuple[str, ...]] = tuple(dict.fromkeys(c.tech for c in _load()))


def components(tech: str, direction: Direction = "down") -> tuple[DelayComponent, ...]:
    """The delay components of ``tech`` that apply in ``direction``."""
    if tech not in TECHNOLOGIES:
        raise ScenarioError(f"unknown access technology {tech!r}; use one of {TECHNOLOGIES}")
    if direction not in ("down", "up"):
        raise ScenarioError(f"direction must be 'down' or 'up', got {direction!r}")
    return tuple(c for c in _load() if c.tech == tech and c.direction in (direction, "both"))


def _mean(c: DelayComponent) -> float:
    if c.dist == "uniform":
        return 0.5 * (c.a_s + c.b_s)
    if c.dist == "constant":
        return c.a_s
    if c.dist == "lognormal":
        sigma = math.log(c.b_s / c.a_s) / _Z95
        return c.a_s * math.exp(0.5 * sigma * sigma)
    return c.a_s * c.p / (1.0 - c.p)  # harq: E[k] of P(k >= j) = p^j is p / (1 - p)


def mean_delay_s(tech: str, direction: Direction = "down") -> float:
    """Closed-form mean of the one-way access delay of ``tech`` in ``direction`` (s).

    The sum of the components' means: uniform ``(a + b) / 2``, constant ``a``, lognormal
    ``a · exp(σ² / 2)`` with ``σ = ln(b / a) / z95``, HARQ ``a · p / (1 − p)``.
    """
    return float(sum(_mean(c) for c in components(tech, direction)))


def _draw(c: DelayComponent, n: int, rng: np.random.Generator) -> FloatArray:
    if c.dist == "uniform":
        return rng.uniform(c.a_s, c.b_s, n)
    if c.dist == "constant":
        return np.full(n, c.a_s)
    if c.dist == "lognormal":
        sigma = np.log(c.b_s / c.a_s) / _Z95
        return np.asarray(c.a_s * np.exp(sigma * rng.standard_normal(n)), dtype=np.float64)
    # harq: retransmissions k >= 0 with P(k >= j) = p^j, i.e. geometric(1 - p) - 1
    if c.p == 0.0:
        return np.zeros(n)
    k = rng.geometric(1.0 - c.p, n) - 1
    return np.asarray(k * c.a_s, dtype=np.float64)


def access_delay_s(
    tech: str, n: int, rng: np.random.Generator, direction: Direction = "down"
) -> FloatArray:
    """``n`` draws of the one-way access/last-mile delay (s) of ``tech`` in ``direction``.

    Propagation is not included (the engine computes it from geometry).
    """
    if n < 0:
        raise ScenarioError(f"n must be >= 0, got {n}")
    total = np.zeros(n)
    for c in components(tech, direction):
        total += _draw(c, n, rng)
    return total


def access_rtt_s(tech: str, n: int, rng: np.random.Generator) -> FloatArray:
    """``n`` draws of the access round trip (s): an uplink draw plus a downlink draw."""
    return access_delay_s(tech, n, rng, "up") + access_delay_s(tech, n, rng, "down")
