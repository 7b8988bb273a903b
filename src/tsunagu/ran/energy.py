"""Base-station power by state: the 3GPP TR 38.864 relative model and the EARTH model.

Two published models, selectable and vectorised over cells (any array shape):

* :func:`tr38864_relative_power` — 3GPP TR 38.864 (Rel-18 study on network energy savings for
  NR) §6.1, relative power of a category-1 BS (FR1, 64 TxRU) by state: deep sleep 1, light sleep
  25, micro sleep 55, active DL 280, active UL 110 (relative units); transition times deep sleep
  50 ms, light sleep 6 ms, micro sleep 0; transition energy (relative units × ms) deep 1000,
  light 100, micro 0.
* :func:`earth_power_w` — the EARTH model (Auer et al., "How much energy is needed to run a
  wireless network?", IEEE Wireless Communications 18(5), 2011, eq. 1 and Table 2):
  ``P_in = N_TRX (P0 + Δp P_out)`` for ``0 < P_out <= P_max`` and ``N_TRX P_sleep`` when idle;
  macro cell: ``N_TRX = 6``, ``P_max = 20 W``, ``P0 = 130 W``, ``Δp = 4.7``, ``P_sleep = 75 W``.

Time averaging over a step
--------------------------
A cell that is *on* during a step of length ``dt`` transmits for a share ``ρ`` (its DL
resource utilisation) of the slots and spends the empty slots in micro sleep (TR 38.864 lets a
gNB enter micro sleep in any symbol without a transmission). Its mean relative power is therefore
``P_micro + (P_DL − P_micro) ρ`` (plus the UL term if an UL share is given). A cell put to light
or deep sleep stays there for the whole step; waking it costs the state's transition energy and
its transition time, during which it cannot serve (reported as unavailable time).

Relative units to watts: TR 38.864 gives no absolute scale. :data:`WATTS_PER_UNIT_EARTH` anchors
the scale on EARTH: the full-load input power of one EARTH macro sector (``6 (130 + 4.7·20) / 3
= 448 W`` per sector of a 3-sector site) equals 280 units, i.e. 1.6 W per unit. Pass another
``watts_per_unit`` for another product class.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.errors import ModelRangeError

__all__ = [
    "EARTH_MACRO",
    "TR38864_RELATIVE_POWER",
    "TR38864_TRANSITION_ENERGY_UNIT_MS",
    "TR38864_TRANSITION_S",
    "WATTS_PER_UNIT_EARTH",
    "BsState",
    "EarthParams",
    "EnergyModel",
    "cell_power_w",
    "earth_power_w",
    "energy_by_state_j",
    "fleet_energy_by_state_j",
    "tr38864_relative_power",
    "wake_transitions",
]

Float = NDArray[np.float64]
EnergyModel = Literal["tr38864", "earth"]


class BsState(IntEnum):
    """Power state of a cell (carrier of a sector) for a whole step (TR 38.864 §6.1)."""

    ACTIVE = 0
    LIGHT_SLEEP = 1
    DEEP_SLEEP = 2


#: TR 38.864 §6.1 relative power of a category-1 BS (reference: deep sleep = 1).
TR38864_RELATIVE_POWER: Final[dict[str, float]] = {
    "deep_sleep": 1.0,
    "light_sleep": 25.0,
    "micro_sleep": 55.0,
    "active_dl": 280.0,
    "active_ul": 110.0,
}
#: TR 38.864 §6.1 transition time (s) out of and back into each sleep state (total).
TR38864_TRANSITION_S: Final[dict[BsState, float]] = {
    BsState.ACTIVE: 0.0,
    BsState.LIGHT_SLEEP: 6e-3,
    BsState.DEEP_SLEEP: 50e-3,
}
#: TR 38.864 §6.1 total transition energy (relative units × ms) of each sleep state.
TR38864_TRANSITION_ENERGY_UNIT_MS: Final[dict[BsState, float]] = {
    BsState.ACTIVE: 0.0,
    BsState.LIGHT_SLEEP: 100.0,
    BsState.DEEP_SLEEP: 1000.0,
}


class EarthParams:
    """EARTH power-model parameters of one BS type (Auer et al. 2011, Table 2), per site."""

    __slots__ = ("delta_p", "n_trx", "p0_w", "p_max_w", "p_sleep_w")

    def __init__(
        self, n_trx: int, p_max_w: float, p0_w: float, delta_p: float, p_sleep_w: float
    ) -> None:
        if n_trx < 1 or p_max_w <= 0.0 or p0_w < 0.0 or delta_p < 0.0 or p_sleep_w < 0.0:
            raise ModelRangeError(
                "EARTH model: need n_trx >= 1, p_max_w > 0 and non-negative p0_w, delta_p, "
                f"p_sleep_w; got {n_trx}, {p_max_w}, {p0_w}, {delta_p}, {p_sleep_w}."
            )
        self.n_trx = n_trx
        self.p_max_w = p_max_w
        self.p0_w = p0_w
        self.delta_p = delta_p
        self.p_sleep_w = p_sleep_w

    def __repr__(self) -> str:
        return (
            f"EarthParams(n_trx={self.n_trx}, p_max_w={self.p_max_w}, p0_w={self.p0_w}, "
            f"delta_p={self.delta_p}, p_sleep_w={self.p_sleep_w})"
        )


#: EARTH macro BS (Auer et al. 2011 Table 2): 6 TRX (3 sectors × 2 antennas), 20 W each.
EARTH_MACRO: Final = EarthParams(n_trx=6, p_max_w=20.0, p0_w=130.0, delta_p=4.7, p_sleep_w=75.0)

#: Watts per TR 38.864 relative unit, anchored on EARTH macro full load per sector (see module).
WATTS_PER_UNIT_EARTH: Final = (
    EARTH_MACRO.n_trx * (EARTH_MACRO.p0_w + EARTH_MACRO.delta_p * EARTH_MACRO.p_max_w) / 3.0
) / TR38864_RELATIVE_POWER["active_dl"]


def _load(name: str, x: ArrayLike) -> Float:
    a = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(a)) or np.any(a < 0.0) or np.any(a > 1.0):
        raise ModelRangeError(
            f"{name} must be a resource utilisation in [0, 1]; got {a.ravel()[:3]!r}. "
            "Clip the offered load to 1 and report the excess as unserved traffic."
        )
    return a


def _states(state: ArrayLike) -> NDArray[np.int64]:
    s = np.asarray(state)
    if s.dtype.kind not in "iu" or np.any((s < 0) | (s > max(BsState))):
        raise ModelRangeError(
            f"state must hold BsState values {[int(v) for v in BsState]} (ACTIVE, LIGHT_SLEEP, "
            f"DEEP_SLEEP); got {np.unique(s)[:5]!r}."
        )
    return s.astype(np.int64)


def tr38864_relative_power(state: ArrayLike, dl_load: ArrayLike, ul_load: ArrayLike = 0.0) -> Float:
    """Mean relative power of a cell over a step, 3GPP TR 38.864 §6.1 (category-1 BS, FR1).

    ``ACTIVE``: ``P_micro + (P_DL − P_micro) ρ_DL + (P_UL − P_micro) ρ_UL`` (empty slots in
    micro sleep); ``LIGHT_SLEEP``: 25; ``DEEP_SLEEP``: 1.

    Parameters
    ----------
    state : array_like of int
        :class:`BsState` per cell.
    dl_load, ul_load : array_like
        Share of slots with DL / UL transmission, each in [0, 1] with ``dl + ul <= 1``;
        ignored for sleeping cells.

    Returns
    -------
    numpy.ndarray
        Relative power (units of the deep-sleep power).

    Examples
    --------
    >>> tr38864_relative_power([0, 0, 1, 2], [1.0, 0.0, 0.5, 0.5]).tolist()
    [280.0, 55.0, 25.0, 1.0]
    """
    s = _states(state)
    dl = _load("dl_load", dl_load)
    ul = _load("ul_load", ul_load)
    if np.any(dl + ul > 1.0 + 1e-12):
        raise ModelRangeError("dl_load + ul_load must not exceed 1 (shares of the same slots).")
    p = TR38864_RELATIVE_POWER
    active = (
        p["micro_sleep"]
        + (p["active_dl"] - p["micro_sleep"]) * dl
        + (p["active_ul"] - p["micro_sleep"]) * ul
    )
    out = np.where(
        s == BsState.ACTIVE,
        active,
        np.where(s == BsState.LIGHT_SLEEP, p["light_sleep"], p["deep_sleep"]),
    )
    return np.asarray(out, dtype=np.float64)


def earth_power_w(
    p_out_w: ArrayLike, sleeping: ArrayLike = False, params: EarthParams = EARTH_MACRO
) -> Float:
    """Input power of a BS, EARTH model (Auer et al. 2011, eq. 1).

    ``N_TRX (P0 + Δp P_out)`` for ``0 < P_out <= P_max``; ``N_TRX P_sleep`` when the BS sleeps
    (or ``P_out = 0``: EARTH's sleep mode). ``P_out`` is the RF output power per TRX.

    Examples
    --------
    >>> earth_power_w([20.0, 0.0]).tolist()
    [1344.0, 450.0]
    """
    p_out = np.asarray(p_out_w, dtype=np.float64)
    if np.any(np.isnan(p_out)) or np.any(p_out < 0.0) or np.any(p_out > params.p_max_w * 1.0001):
        raise ModelRangeError(
            f"EARTH model: p_out_w must lie in [0, P_max={params.p_max_w} W]; "
            f"got {p_out.ravel()[:3]!r}."
        )
    sleep = np.asarray(sleeping, dtype=bool) | (p_out <= 0.0)
    on = params.n_trx * (params.p0_w + params.delta_p * p_out)
    return np.asarray(np.where(sleep, params.n_trx * params.p_sleep_w, on), dtype=np.float64)


def cell_power_w(
    state: ArrayLike,
    dl_load: ArrayLike,
    model: EnergyModel = "tr38864",
    *,
    tx_power_scale: ArrayLike = 1.0,
    watts_per_unit: float = WATTS_PER_UNIT_EARTH,
    earth: EarthParams = EARTH_MACRO,
    sectors_per_site: int = 3,
) -> Float:
    """Mean power (W) of each cell (one carrier of one sector) over a step.

    ``"tr38864"``: :func:`tr38864_relative_power` × ``watts_per_unit`` (transmit power back-off
    is not part of that relative model and is ignored). ``"earth"``: one sector's share
    (``1/sectors_per_site``) of :func:`earth_power_w` with the RF output power
    ``P_out = ρ · tx_power_scale · P_max`` (EARTH scales ``P_out`` with load; an active cell
    with no traffic still draws ``P0``); sleeping cells draw the EARTH sleep power.

    Parameters
    ----------
    state : array_like of int
        :class:`BsState` per cell.
    dl_load : array_like
        DL utilisation in [0, 1].
    tx_power_scale : array_like
        Linear transmit-power factor in (0, 1] (a back-off of ``x`` dB is ``10^(−x/10)``).

    Examples
    --------
    >>> cell_power_w([0, 2], [1.0, 0.0]).round(1).tolist()
    [448.0, 1.6]
    >>> cell_power_w([0, 2], [1.0, 0.0], "earth").round(1).tolist()
    [448.0, 150.0]
    """
    s = _states(state)
    rho = _load("dl_load", dl_load)
    if model == "tr38864":
        return np.asarray(tr38864_relative_power(s, rho) * watts_per_unit, dtype=np.float64)
    if model == "earth":
        scale = np.asarray(tx_power_scale, dtype=np.float64)
        if np.any(~(scale > 0.0)) or np.any(scale > 1.0):
            raise ModelRangeError(f"tx_power_scale must lie in (0, 1]; got {scale!r}.")
        p_out = rho * scale * earth.p_max_w
        site = earth_power_w(p_out, s != BsState.ACTIVE, earth)
        # An active cell with no traffic still draws P0 (EARTH's sleep applies only on command).
        idle_on = (s == BsState.ACTIVE) & (p_out <= 0.0)
        site = np.where(idle_on, earth.n_trx * earth.p0_w, site)
        return np.asarray(site / sectors_per_site, dtype=np.float64)
    raise ModelRangeError(f"unknown energy model {model!r}; pass 'tr38864' or 'earth'.")


def wake_transitions(previous: ArrayLike, current: ArrayLike) -> tuple[Float, Float]:
    """Transition energy (relative units × s) and unavailable time (s) of each cell's change.

    A cell leaving a sleep state for ``ACTIVE`` pays the TR 38.864 §6.1 total transition energy
    and time of the state it leaves (entering sleep is included in the total, so a move into
    sleep costs nothing extra); any other change costs nothing.

    Examples
    --------
    >>> e, t = wake_transitions([2, 1, 0], [0, 0, 2])
    >>> e.tolist(), t.tolist()
    ([1.0, 0.1, 0.0], [0.05, 0.006, 0.0])
    """
    prev = _states(previous)
    cur = _states(current)
    waking = (cur == BsState.ACTIVE) & (prev != BsState.ACTIVE)
    e_ms = np.zeros(prev.shape, dtype=np.float64)
    t_s = np.zeros(prev.shape, dtype=np.float64)
    for st in (BsState.LIGHT_SLEEP, BsState.DEEP_SLEEP):
        m = waking & (prev == st)
        e_ms[m] = TR38864_TRANSITION_ENERGY_UNIT_MS[st]
        t_s[m] = TR38864_TRANSITION_S[st]
    return e_ms / 1e3, t_s


def energy_by_state_j(
    previous: ArrayLike,
    state: ArrayLike,
    dl_load: ArrayLike,
    dt_s: float,
    model: EnergyModel = "tr38864",
    *,
    tx_power_scale: ArrayLike = 1.0,
    watts_per_unit: float = WATTS_PER_UNIT_EARTH,
    earth: EarthParams = EARTH_MACRO,
    sectors_per_site: int = 3,
) -> dict[str, float]:
    """Energy (J) of a set of cells over one step, split by state, for the run's KPIs.

    Keys: ``"active"``, ``"light_sleep"``, ``"deep_sleep"``, ``"transition"`` (wake-ups, TR 38.864
    transition energy; counted with the TR 38.864 scale also under the EARTH model) and
    ``"total"``.

    Examples
    --------
    >>> e = energy_by_state_j([0, 0], [0, 2], [0.5, 0.0], 900.0)
    >>> round(e["total"] / 3.6e6, 4)  # kWh
    0.0674
    """
    if not dt_s > 0.0:
        raise ModelRangeError(f"dt_s must be > 0 s; got {dt_s!r}.")
    s = _states(state)
    p = cell_power_w(
        s,
        dl_load,
        model,
        tx_power_scale=tx_power_scale,
        watts_per_unit=watts_per_unit,
        earth=earth,
        sectors_per_site=sectors_per_site,
    )
    e_unit_s, _ = wake_transitions(previous, s)
    out = {
        "active": float(np.sum(p[s == BsState.ACTIVE]) * dt_s),
        "light_sleep": float(np.sum(p[s == BsState.LIGHT_SLEEP]) * dt_s),
        "deep_sleep": float(np.sum(p[s == BsState.DEEP_SLEEP]) * dt_s),
        "transition": float(np.sum(e_unit_s) * watts_per_unit),
    }
    out["total"] = out["active"] + out["light_sleep"] + out["deep_sleep"] + out["transition"]
    return out


def fleet_energy_by_state_j(
    n_cells: ArrayLike,
    dl_load: ArrayLike,
    dt_s: float,
    sleeping_share: ArrayLike = 0.0,
    model: EnergyModel = "tr38864",
    *,
    watts_per_unit: float = WATTS_PER_UNIT_EARTH,
    earth: EarthParams = EARTH_MACRO,
    sectors_per_site: int = 3,
) -> dict[str, Float]:
    """Energy (J) over one step of groups of identical cells, by state (for the engine's KPIs).

    Each group (e.g. the cells of a demand point: sites × sectors × carriers) has ``n_cells``
    cells carrying a mean DL utilisation ``dl_load`` (over all its cells); a share
    ``sleeping_share`` of them is in deep sleep for the step and the traffic is carried by the
    others, whose utilisation is ``dl_load / (1 − sleeping_share)`` (capped at 1). Vectorised over
    groups; returns arrays ``"active"``, ``"deep_sleep"`` and ``"total"`` (no transitions: the
    state is held for the step).

    Examples
    --------
    Nine cells at 20 % mean load with three asleep: six at 30 % draw
    ``(55 + 225·0.3)·1.6 W = 196 W`` each, three draw 1.6 W, for one hour:

    >>> e = fleet_energy_by_state_j([9.0], [0.2], 3600.0, sleeping_share=[1 / 3])
    >>> [round(float(v[0]) / 3.6e6, 3) for v in (e["active"], e["deep_sleep"], e["total"])]
    [1.176, 0.005, 1.181]
    """
    if not dt_s > 0.0:
        raise ModelRangeError(f"dt_s must be > 0 s; got {dt_s!r}.")
    n = np.asarray(n_cells, dtype=np.float64)
    if np.any(np.isnan(n)) or np.any(n < 0.0):
        raise ModelRangeError("n_cells must be >= 0 (a count of cells per group).")
    rho = _load("dl_load", dl_load)
    sleep = np.asarray(sleeping_share, dtype=np.float64)
    if np.any(np.isnan(sleep)) or np.any(sleep < 0.0) or np.any(sleep >= 1.0):
        raise ModelRangeError("sleeping_share must lie in [0, 1): some cells must stay on.")
    n, rho, sleep = np.broadcast_arrays(n, rho, sleep)
    active_load = np.minimum(rho / (1.0 - sleep), 1.0)
    p_on, p_sleep = (
        cell_power_w(
            np.full(n.shape, int(st), dtype=np.int64),
            ld,
            model,
            watts_per_unit=watts_per_unit,
            earth=earth,
            sectors_per_site=sectors_per_site,
        )
        for st, ld in ((BsState.ACTIVE, active_load), (BsState.DEEP_SLEEP, np.zeros(n.shape)))
    )
    active = n * (1.0 - sleep) * p_on * dt_s
    deep = n * sleep * p_sleep * dt_s
    return {
        "active": np.asarray(active, dtype=np.float64),
        "deep_sleep": np.asarray(deep, dtype=np.float64),
        "total": np.asarray(active + deep, dtype=np.float64),
    }
