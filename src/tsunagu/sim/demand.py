"""Demand: requests per second per demand point and service, with daily profiles.

The offered load of service ``k`` at point ``i`` and local hour ``h`` is

    λ_ik(h) = population_i · adoption_k · (requests_per_user_per_day_k / 86 400 s) · w_k(h)

where ``w_k`` is the service's daily profile normalised to a mean of 1 over the day, so the
daily total equals population × adoption × requests per user per day exactly.

The profile shapes are planning assumptions (hourly weights of a typical weekday): residential
traffic peaks in the evening, business traffic in office hours, mobility traffic at commuting
peaks, and ``flat`` is constant. They are shapes only: the daily volume comes from the
scenario's ``requests_per_user_per_day``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from tsunagu.errors import ScenarioError

__all__ = ["PROFILES", "offered_rps", "profile_weight"]

_RAW: Final[dict[str, tuple[float, ...]]] = {
    # hour:        0    1    2    3    4    5    6    7    8    9   10   11
    #             12   13   14   15   16   17   18   19   20   21   22   23
    "residential": (
        0.60,
        0.40,
        0.25,
        0.18,
        0.15,
        0.18,
        0.35,
        0.60,
        0.80,
        0.85,
        0.90,
        1.00,
        1.10,
        1.00,
        0.95,
        0.95,
        1.00,
        1.10,
        1.30,
        1.50,
        1.70,
        1.80,
        1.60,
        1.10,
    ),
    "business": (
        0.10,
        0.08,
        0.07,
        0.07,
        0.08,
        0.12,
        0.30,
        0.70,
        1.50,
        2.00,
        2.10,
        2.00,
        1.60,
        2.00,
        2.10,
        2.00,
        1.90,
        1.60,
        1.10,
        0.70,
        0.45,
        0.30,
        0.20,
        0.15,
    ),
    "mobility": (
        0.20,
        0.10,
        0.08,
        0.08,
        0.15,
        0.40,
        1.00,
        2.00,
        2.20,
        1.40,
        1.00,
        1.00,
        1.10,
        1.00,
        1.00,
        1.10,
        1.40,
        2.00,
        2.20,
        1.60,
        1.10,
        0.80,
        0.55,
        0.35,
    ),
    "flat": tuple([1.0] * 24),
}

#: Daily profiles normalised to a mean of 1.0 over 24 hourly bins.
PROFILES: Final[dict[str, npt.NDArray[np.float64]]] = {
    name: np.asarray(w, dtype=np.float64) / np.mean(w) for name, w in _RAW.items()
}


def profile_weight(profile: str, hour_local: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Weight of a daily profile at a local hour (piecewise-constant hourly bins)."""
    try:
        w = PROFILES[profile]
    except KeyError as exc:
        raise ScenarioError(
            f"unknown demand profile {profile!r}; use one of {sorted(PROFILES)}"
        ) from exc
    h = np.floor(np.mod(np.asarray(hour_local, dtype=np.float64), 24.0)).astype(np.int64)
    return np.asarray(w[h], dtype=np.float64)


def offered_rps(
    population: npt.ArrayLike,
    adoption: npt.ArrayLike,
    requests_per_user_per_day: npt.ArrayLike,
    profile_weights: npt.ArrayLike,
) -> npt.NDArray[np.float64]:
    """Offered requests/s: points along axis 0 (``population``), services along axis 1.

    Parameters
    ----------
    population : (P,) people attributed to each demand point.
    adoption, requests_per_user_per_day, profile_weights : (K,) per service.
    """
    pop = np.asarray(population, dtype=np.float64)[:, None]
    per_user = (
        np.asarray(adoption, dtype=np.float64)
        * np.asarray(requests_per_user_per_day, dtype=np.float64)
        / 86_400.0
        * np.asarray(profile_weights, dtype=np.float64)
    )
    return np.asarray(pop * per_user[None, :], dtype=np.float64)
