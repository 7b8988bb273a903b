"""Large-scale path loss of 3GPP TR 38.901 (v17.0.0): UMa, UMi-Street Canyon, RMa and InH.

Every function is a pure, vectorised model of one row of TR 38.901 Table 7.4.1-1 (path loss),
Table 7.4.2-1 (LOS probability) or Table 7.4.3-2 (O2I building penetration), in the units of the
TR: distances in metres, carrier frequency in GHz, path loss in dB.

Conventions shared by all functions
-----------------------------------
* **Short distances.** Table 7.4.1-1 starts at ``d2D = 10 m``. A user standing at (or within
  10 m of) a base station is evaluated *at* 10 m: ``d2D`` is clipped to 10 m and ``d3D`` to
  ``sqrt(10² + (h_BS - h_UT)²)``. This is silent and deliberate (a UE at a BS must give a finite
  number, never NaN); it overstates the loss of such users by at most the 10 m value.
* **Long distances and other inputs** outside the table's applicability range raise
  :class:`~tsunagu.errors.ModelRangeError` naming the model and its range. Negative or NaN
  distances are rejected too.
* **Frequency.** The TR applies to 0.5–100 GHz; RMa only to 0.5–30 GHz (TR 38.901 §7.4.1 and
  Table 7.4.1-1 notes; MacCartney & Rappaport, IEEE JSAC 35(7), 2017, discuss that range).
* **Speed of light.** The TR's breakpoint notes and the RMa free-space term use
  ``c = 3.0e8 m/s``; so do we, so that values match the TR's own arithmetic.
* **Effective environment height** ``h_E``: the UMa note draws ``h_E`` at random when
  ``h_UT > 13 m``; here it is a parameter (1 m by default, which is exact for ``h_UT <= 13 m``).
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.errors import ModelRangeError

__all__ = [
    "SF_STD_INH_LOS_DB",
    "SF_STD_INH_NLOS_DB",
    "SF_STD_RMA_LOS_AFTER_BP_DB",
    "SF_STD_RMA_LOS_BEFORE_BP_DB",
    "SF_STD_RMA_NLOS_DB",
    "SF_STD_UMA_LOS_DB",
    "SF_STD_UMA_NLOS_DB",
    "SF_STD_UMI_LOS_DB",
    "SF_STD_UMI_NLOS_DB",
    "InhLayout",
    "Scenario",
    "breakpoint_distance_m",
    "expected_pathloss_db",
    "free_space_db",
    "gas_loss_db",
    "gas_specific_attenuation_db_per_km",
    "inh_los_db",
    "inh_nlos_db",
    "los_probability",
    "los_probability_inh",
    "los_probability_rma",
    "los_probability_uma",
    "los_probability_umi",
    "o2i_high_loss_db",
    "o2i_low_loss_db",
    "pathloss_db",
    "rma_breakpoint_distance_m",
    "rma_los_db",
    "rma_nlos_db",
    "shadow_fading_std_db",
    "uma_effective_env_height_m",
    "uma_env_height_from_uniforms_m",
    "uma_los_db",
    "uma_nlos_db",
    "umi_los_db",
    "umi_nlos_db",
]

Scenario = Literal["uma", "umi", "rma"]

#: Shadow-fading standard deviations, TR 38.901 Table 7.4.1-1 (dB).
SF_STD_UMA_LOS_DB: Final = 4.0
SF_STD_UMA_NLOS_DB: Final = 6.0
SF_STD_UMI_LOS_DB: Final = 4.0
SF_STD_UMI_NLOS_DB: Final = 7.82
SF_STD_RMA_LOS_BEFORE_BP_DB: Final = 4.0
SF_STD_RMA_LOS_AFTER_BP_DB: Final = 6.0
SF_STD_RMA_NLOS_DB: Final = 8.0

#: Standard deviation of the O2I penetration loss, TR 38.901 Table 7.4.3-2 (dB).
O2I_LOW_LOSS_STD_DB: Final = 4.4
O2I_HIGH_LOSS_STD_DB: Final = 6.5

_C_TR_M_PER_S: Final = 3.0e8  # TR 38.901 Table 7.4.1-1 Note 1 and the RMa 40π/3 term
_D2D_MIN_M: Final = 10.0
_FREQ_MIN_GHZ: Final = 0.5
_FREQ_MAX_GHZ: Final = 100.0
_FREQ_MAX_RMA_GHZ: Final = 30.0

Float = NDArray[np.float64]


# --------------------------------------------------------------------------- input checks


def _as_float(x: ArrayLike) -> Float:
    return np.asarray(x, dtype=np.float64)


def _check_range(
    model: str, name: str, value: Float, lo: float, hi: float, unit: str, *, what: str = ""
) -> None:
    if value.size == 0:
        return
    if np.any(np.isnan(value)) or np.any(value < lo) or np.any(value > hi):
        bad = float(value[np.isnan(value) | (value < lo) | (value > hi)].ravel()[0])
        raise ModelRangeError(
            f"{model}: {name} must lie in [{lo:g}, {hi:g}] {unit}{what}; got {bad!r}. "
            f"Pass values inside the validity range of TR 38.901 or choose another model."
        )


def _check_freq(model: str, freq_ghz: Float, hi: float = _FREQ_MAX_GHZ) -> None:
    _check_range(model, "freq_ghz", freq_ghz, _FREQ_MIN_GHZ, hi, "GHz")


def _clip_distances(
    model: str, d2d_m: ArrayLike, d3d_m: ArrayLike | None, dh_m: Float, d2d_max_m: float
) -> tuple[Float, Float]:
    """Clip d2D below 10 m to 10 m (see module docstring); reject NaN, negative and > max."""
    d2d = _as_float(d2d_m)
    _check_range(model, "d2d_m", d2d, 0.0, d2d_max_m, "m", what=" (below 10 m is clipped to 10 m)")
    close = d2d < _D2D_MIN_M
    d2d_c = np.maximum(d2d, _D2D_MIN_M)
    d3d_min = np.sqrt(_D2D_MIN_M**2 + dh_m**2)
    if d3d_m is None:
        d3d_c = np.sqrt(d2d_c**2 + dh_m**2)
    else:
        d3d = _as_float(d3d_m)
        if np.any(np.isnan(d3d)) or np.any(d3d < 0.0):
            raise ModelRangeError(f"{model}: d3d_m must be >= 0 m and not NaN; got {d3d!r}.")
        d3d_c = np.where(close, d3d_min, np.maximum(d3d, d2d_c))
    return d2d_c, np.asarray(d3d_c, dtype=np.float64)


# --------------------------------------------------------------------------- breakpoints


def breakpoint_distance_m(
    h_bs_m: ArrayLike, h_ut_m: ArrayLike, freq_ghz: ArrayLike, h_e_m: ArrayLike = 1.0
) -> Float:
    """Effective breakpoint distance d'BP of UMa and UMi, TR 38.901 Table 7.4.1-1 Note 1.

    ``d'BP = 4 h'BS h'UT fc / c`` with ``h' = h - h_E``, ``fc`` in Hz and ``c = 3.0e8 m/s``.

    Parameters
    ----------
    h_bs_m, h_ut_m : array_like
        Base-station and user antenna heights (m); both must exceed ``h_e_m``.
    freq_ghz : array_like
        Carrier frequency (GHz).
    h_e_m : array_like
        Effective environment height (m): 1 m in UMi and, for ``h_UT <= 13 m``, in UMa.

    Returns
    -------
    numpy.ndarray
        d'BP in metres.

    Examples
    --------
    >>> round(float(breakpoint_distance_m(25.0, 1.5, 3.5)), 1)
    560.0
    """
    h_bs = _as_float(h_bs_m)
    h_ut = _as_float(h_ut_m)
    h_e = _as_float(h_e_m)
    f = _as_float(freq_ghz)
    if np.any(~(h_bs > h_e)) or np.any(~(h_ut > h_e)):
        raise ModelRangeError(
            "TR 38.901 breakpoint d'BP: antenna heights must exceed the effective environment "
            f"height h_e_m={h_e!r} (got h_bs_m={h_bs!r}, h_ut_m={h_ut!r})."
        )
    if np.any(~(f > 0.0)):
        raise ModelRangeError(f"TR 38.901 breakpoint d'BP: freq_ghz must be > 0; got {f!r}.")
    return np.asarray(4.0 * (h_bs - h_e) * (h_ut - h_e) * f * 1e9 / _C_TR_M_PER_S)


def rma_breakpoint_distance_m(h_bs_m: ArrayLike, h_ut_m: ArrayLike, freq_ghz: ArrayLike) -> Float:
    """Breakpoint distance of RMa, TR 38.901 Table 7.4.1-1 (RMa note): ``dBP = 2π hBS hUT fc / c``.

    Examples
    --------
    >>> round(float(rma_breakpoint_distance_m(35.0, 1.5, 3.5)), 1)
    3848.5
    """
    h_bs = _as_float(h_bs_m)
    h_ut = _as_float(h_ut_m)
    f = _as_float(freq_ghz)
    return np.asarray(2.0 * np.pi * h_bs * h_ut * f * 1e9 / _C_TR_M_PER_S)


# --------------------------------------------------------------------------- UMa


def _check_uma_umi_heights(model: str, h_bs: Float, h_ut: Float) -> None:
    # Table 7.4.1-1: 1.5 m <= hUT <= 22.5 m. UMi users on upper floors may sit above the 10 m
    # BS (Table 7.2-1 drops them up to 22.5 m), so only hBS > h_E = 1 m is required here.
    _check_range(model, "h_ut_m", h_ut, 1.5, 22.5, "m")
    _check_range(model, "h_bs_m", h_bs, 1.0 + 1e-9, 150.0, "m")


def uma_los_db(
    d2d_m: ArrayLike,
    d3d_m: ArrayLike | None,
    freq_ghz: ArrayLike,
    h_bs_m: ArrayLike = 25.0,
    h_ut_m: ArrayLike = 1.5,
    h_e_m: ArrayLike = 1.0,
) -> Float:
    """UMa LOS path loss, TR 38.901 v17.0.0 Table 7.4.1-1 (σSF = 4 dB).

    ``PL1 = 28.0 + 22 log10(d3D) + 20 log10(fc)`` for ``10 m <= d2D <= d'BP``;
    ``PL2 = 28.0 + 40 log10(d3D) + 20 log10(fc) - 9 log10(d'BP² + (hBS - hUT)²)`` for
    ``d'BP <= d2D <= 5 km``. Applicability: ``1.5 m <= hUT <= 22.5 m``, ``hBS = 25 m``.

    Parameters
    ----------
    d2d_m : array_like
        Horizontal BS–UT distance (m), 0–5000; below 10 m it is evaluated at 10 m.
    d3d_m : array_like or None
        Direct BS–UT distance (m); ``None`` computes it from ``d2d_m`` and the heights.
    freq_ghz : array_like
        Carrier frequency, 0.5–100 GHz.
    h_bs_m, h_ut_m, h_e_m : array_like
        BS and UT antenna heights and effective environment height (m).

    Returns
    -------
    numpy.ndarray
        Path loss in dB (without shadow fading).

    Raises
    ------
    ModelRangeError
        If ``d2d_m > 5000``, is negative or NaN, or frequency or heights are out of range.

    Examples
    --------
    >>> round(float(uma_los_db(100.0, None, 3.5)), 2)
    83.14
    """
    model = "TR 38.901 UMa LOS"
    f = _as_float(freq_ghz)
    h_bs = _as_float(h_bs_m)
    h_ut = _as_float(h_ut_m)
    _check_freq(model, f)
    _check_uma_umi_heights(model, h_bs, h_ut)
    d2d, d3d = _clip_distances(model, d2d_m, d3d_m, h_bs - h_ut, 5000.0)
    d_bp = breakpoint_distance_m(h_bs, h_ut, f, h_e_m)
    pl1 = 28.0 + 22.0 * np.log10(d3d) + 20.0 * np.log10(f)
    pl2 = (
        28.0
        + 40.0 * np.log10(d3d)
        + 20.0 * np.log10(f)
        - 9.0 * np.log10(d_bp**2 + (h_bs - h_ut) ** 2)
    )
    return np.asarray(np.where(d2d <= d_bp, pl1, pl2), dtype=np.float64)


def _uma_nlos_prime_db(d3d: Float, f: Float, h_ut: Float) -> Float:
    """PL'_UMa-NLOS of Table 7.4.1-1, the single copy used by every UMa NLOS path."""
    return np.asarray(13.54 + 39.08 * np.log10(d3d) + 20.0 * np.log10(f) - 0.6 * (h_ut - 1.5))


def uma_nlos_db(
    d2d_m: ArrayLike,
    d3d_m: ArrayLike | None,
    freq_ghz: ArrayLike,
    h_bs_m: ArrayLike = 25.0,
    h_ut_m: ArrayLike = 1.5,
    h_e_m: ArrayLike = 1.0,
) -> Float:
    """UMa NLOS path loss, TR 38.901 v17.0.0 Table 7.4.1-1 (σSF = 6 dB).

    ``PL = max(PL_UMa-LOS, PL'_UMa-NLOS)`` with
    ``PL' = 13.54 + 39.08 log10(d3D) + 20 log10(fc) - 0.6 (hUT - 1.5)``,
    ``10 m <= d2D <= 5 km``, ``1.5 m <= hUT <= 22.5 m``. Distance and range rules as in
    :func:`uma_los_db`.

    Examples
    --------
    >>> round(float(uma_nlos_db(100.0, None, 3.5)), 2)
    103.04
    """
    model = "TR 38.901 UMa NLOS"
    f = _as_float(freq_ghz)
    h_bs = _as_float(h_bs_m)
    h_ut = _as_float(h_ut_m)
    _check_freq(model, f)
    _check_uma_umi_heights(model, h_bs, h_ut)
    _, d3d = _clip_distances(model, d2d_m, d3d_m, h_bs - h_ut, 5000.0)
    pl_los = uma_los_db(d2d_m, d3d_m, f, h_bs, h_ut, h_e_m)
    pl_nlos = _uma_nlos_prime_db(d3d, f, h_ut)
    return np.asarray(np.maximum(pl_los, pl_nlos), dtype=np.float64)


# --------------------------------------------------------------------------- UMi


def umi_los_db(
    d2d_m: ArrayLike,
    d3d_m: ArrayLike | None,
    freq_ghz: ArrayLike,
    h_bs_m: ArrayLike = 10.0,
    h_ut_m: ArrayLike = 1.5,
) -> Float:
    """UMi-Street Canyon LOS path loss, TR 38.901 v17.0.0 Table 7.4.1-1 (σSF = 4 dB).

    ``PL1 = 32.4 + 21 log10(d3D) + 20 log10(fc)`` for ``10 m <= d2D <= d'BP``;
    ``PL2 = 32.4 + 40 log10(d3D) + 20 log10(fc) - 9.5 log10(d'BP² + (hBS - hUT)²)`` for
    ``d'BP <= d2D <= 5 km`` (``h_E = 1 m``). ``hBS = 10 m``, ``1.5 m <= hUT <= 22.5 m``.

    Examples
    --------
    >>> round(float(umi_los_db(100.0, None, 3.5)), 2)
    85.31
    """
    model = "TR 38.901 UMi LOS"
    f = _as_float(freq_ghz)
    h_bs = _as_float(h_bs_m)
    h_ut = _as_float(h_ut_m)
    _check_freq(model, f)
    _check_uma_umi_heights(model, h_bs, h_ut)
    d2d, d3d = _clip_distances(model, d2d_m, d3d_m, h_bs - h_ut, 5000.0)
    d_bp = breakpoint_distance_m(h_bs, h_ut, f, 1.0)
    pl1 = 32.4 + 21.0 * np.log10(d3d) + 20.0 * np.log10(f)
    pl2 = (
        32.4
        + 40.0 * np.log10(d3d)
        + 20.0 * np.log10(f)
        - 9.5 * np.log10(d_bp**2 + (h_bs - h_ut) ** 2)
    )
    return np.asarray(np.where(d2d <= d_bp, pl1, pl2), dtype=np.float64)


def _umi_nlos_prime_db(d3d: Float, f: Float, h_ut: Float) -> Float:
    """PL'_UMi-NLOS of Table 7.4.1-1, the single copy used by every UMi NLOS path."""
    return np.asarray(35.3 * np.log10(d3d) + 22.4 + 21.3 * np.log10(f) - 0.3 * (h_ut - 1.5))


def umi_nlos_db(
    d2d_m: ArrayLike,
    d3d_m: ArrayLike | None,
    freq_ghz: ArrayLike,
    h_bs_m: ArrayLike = 10.0,
    h_ut_m: ArrayLike = 1.5,
) -> Float:
    """UMi-Street Canyon NLOS path loss, TR 38.901 v17.0.0 Table 7.4.1-1 (σSF = 7.82 dB).

    ``PL = max(PL_UMi-LOS, PL'_UMi-NLOS)`` with
    ``PL' = 35.3 log10(d3D) + 22.4 + 21.3 log10(fc) - 0.3 (hUT - 1.5)``, ``10 m <= d2D <= 5 km``.

    Examples
    --------
    >>> round(float(umi_nlos_db(100.0, None, 3.5)), 2)
    104.64
    """
    model = "TR 38.901 UMi NLOS"
    f = _as_float(freq_ghz)
    h_bs = _as_float(h_bs_m)
    h_ut = _as_float(h_ut_m)
    _check_freq(model, f)
    _check_uma_umi_heights(model, h_bs, h_ut)
    _, d3d = _clip_distances(model, d2d_m, d3d_m, h_bs - h_ut, 5000.0)
    pl_los = umi_los_db(d2d_m, d3d_m, f, h_bs, h_ut)
    pl_nlos = _umi_nlos_prime_db(d3d, f, h_ut)
    return np.asarray(np.maximum(pl_los, pl_nlos), dtype=np.float64)


# --------------------------------------------------------------------------- RMa


def _check_rma_geometry(model: str, h_bs: Float, h_ut: Float, w: Float, h: Float) -> None:
    _check_range(model, "h_bs_m", h_bs, 10.0, 150.0, "m")
    _check_range(model, "h_ut_m", h_ut, 1.0, 10.0, "m")
    _check_range(model, "street_width_m", w, 5.0, 50.0, "m")
    _check_range(model, "building_height_m", h, 5.0, 50.0, "m")


def _rma_pl1(d3d: Float, f: Float, h: Float) -> Float:
    return np.asarray(
        20.0 * np.log10(40.0 * np.pi * d3d * f / 3.0)
        + np.minimum(0.03 * h**1.72, 10.0) * np.log10(d3d)
        - np.minimum(0.044 * h**1.72, 14.77)
        + 0.002 * np.log10(h) * d3d
    )


def rma_los_db(
    d2d_m: ArrayLike,
    d3d_m: ArrayLike | None,
    freq_ghz: ArrayLike,
    h_bs_m: ArrayLike = 35.0,
    h_ut_m: ArrayLike = 1.5,
    street_width_m: ArrayLike = 20.0,
    building_height_m: ArrayLike = 5.0,
) -> Float:
    """RMa LOS path loss, TR 38.901 v17.0.0 Table 7.4.1-1 (σSF = 4 dB before, 6 dB after dBP).

    ``PL1 = 20 log10(40π d3D fc / 3) + min(0.03 h^1.72, 10) log10(d3D)
    - min(0.044 h^1.72, 14.77) + 0.002 log10(h) d3D`` for ``10 m <= d2D <= dBP``;
    ``PL2 = PL1(dBP) + 40 log10(d3D / dBP)`` for ``dBP <= d2D <= 10 km``, with dBP from
    :func:`rma_breakpoint_distance_m`. Defaults hBS 35 m, hUT 1.5 m, W 20 m, h 5 m; ranges
    5 <= h, W <= 50 m, 10 <= hBS <= 150 m, 1 <= hUT <= 10 m; fc 0.5–30 GHz.

    Examples
    --------
    >>> round(float(rma_los_db(1000.0, None, 3.5)), 2)
    105.46
    """
    model = "TR 38.901 RMa LOS"
    f = _as_float(freq_ghz)
    h_bs = _as_float(h_bs_m)
    h_ut = _as_float(h_ut_m)
    w = _as_float(street_width_m)
    h = _as_float(building_height_m)
    _check_freq(model, f, _FREQ_MAX_RMA_GHZ)
    _check_rma_geometry(model, h_bs, h_ut, w, h)
    d2d, d3d = _clip_distances(model, d2d_m, d3d_m, h_bs - h_ut, 10_000.0)
    d_bp = rma_breakpoint_distance_m(h_bs, h_ut, f)
    pl1 = _rma_pl1(d3d, f, h)
    pl2 = _rma_pl1(d_bp, f, h) + 40.0 * np.log10(d3d / d_bp)
    return np.asarray(np.where(d2d <= d_bp, pl1, pl2), dtype=np.float64)


def rma_nlos_db(
    d2d_m: ArrayLike,
    d3d_m: ArrayLike | None,
    freq_ghz: ArrayLike,
    h_bs_m: ArrayLike = 35.0,
    h_ut_m: ArrayLike = 1.5,
    street_width_m: ArrayLike = 20.0,
    building_height_m: ArrayLike = 5.0,
) -> Float:
    """RMa NLOS path loss, TR 38.901 v17.0.0 Table 7.4.1-1 (σSF = 8 dB).

    ``PL = max(PL_RMa-LOS, PL'_RMa-NLOS)`` with
    ``PL' = 161.04 - 7.1 log10(W) + 7.5 log10(h) - (24.37 - 3.7 (h/hBS)²) log10(hBS)
    + (43.42 - 3.1 log10(hBS)) (log10(d3D) - 3) + 20 log10(fc)
    - (3.2 (log10(11.75 hUT))² - 4.97)``.
    The TR limits NLOS to ``10 m <= d2D <= 5 km`` (LOS reaches 10 km); beyond 5 km this raises.

    Examples
    --------
    >>> round(float(rma_nlos_db(1000.0, None, 3.5)), 2)
    130.42
    """
    model = "TR 38.901 RMa NLOS"
    f = _as_float(freq_ghz)
    h_bs = _as_float(h_bs_m)
    h_ut = _as_float(h_ut_m)
    w = _as_float(street_width_m)
    h = _as_float(building_height_m)
    _check_freq(model, f, _FREQ_MAX_RMA_GHZ)
    _check_rma_geometry(model, h_bs, h_ut, w, h)
    _, d3d = _clip_distances(model, d2d_m, d3d_m, h_bs - h_ut, 5000.0)
    pl_los = rma_los_db(d2d_m, d3d_m, f, h_bs, h_ut, w, h)
    pl_nlos = (
        161.04
        - 7.1 * np.log10(w)
        + 7.5 * np.log10(h)
        - (24.37 - 3.7 * (h / h_bs) ** 2) * np.log10(h_bs)
        + (43.42 - 3.1 * np.log10(h_bs)) * (np.log10(d3d) - 3.0)
        + 20.0 * np.log10(f)
        - (3.2 * np.log10(11.75 * h_ut) ** 2 - 4.97)
    )
    return np.asarray(np.maximum(pl_los, pl_nlos), dtype=np.float64)


# --------------------------------------------------------------------------- LOS probability


def _check_d2d_out(model: str, d2d_m: ArrayLike) -> Float:
    d = _as_float(d2d_m)
    _check_range(model, "d2d_m", d, 0.0, np.inf, "m")
    return d


def los_probability_uma(d2d_m: ArrayLike, h_ut_m: ArrayLike = 1.5) -> Float:
    """UMa LOS probability, TR 38.901 v17.0.0 Table 7.4.2-1.

    ``1`` for ``d2D_out <= 18 m``, else
    ``[18/d + exp(-d/63)(1 - 18/d)] [1 + C'(hUT) (5/4) (d/100)³ exp(-d/150)]`` with
    ``C'(hUT) = 0`` for ``hUT <= 13 m`` and ``((hUT - 13)/10)^1.5`` for ``13 < hUT <= 23 m``,
    capped at 1 (the product slightly exceeds 1 just beyond 18 m for high users).

    Examples
    --------
    >>> round(float(los_probability_uma(100.0)), 4)
    0.3477
    """
    model = "TR 38.901 UMa LOS probability"
    d = _check_d2d_out(model, d2d_m)
    h_ut = _as_float(h_ut_m)
    _check_range(model, "h_ut_m", h_ut, 0.0, 23.0, "m")
    dd = np.maximum(d, 18.0)
    p = 18.0 / dd + np.exp(-dd / 63.0) * (1.0 - 18.0 / dd)
    if np.any(h_ut > 13.0):
        c_prime = np.where(h_ut <= 13.0, 0.0, np.abs((h_ut - 13.0) / 10.0) ** 1.5)
        p = p * (1.0 + c_prime * 1.25 * (dd / 100.0) ** 3 * np.exp(-dd / 150.0))
    # The table's product exceeds 1 by up to ~6e-4 just past 18 m for hUT > 13 m;
    # a probability cannot, so it is capped (the standard leaves this implicit).
    return np.asarray(np.where(d <= 18.0, 1.0, np.minimum(p, 1.0)), dtype=np.float64)


def los_probability_umi(d2d_m: ArrayLike) -> Float:
    """UMi-Street Canyon LOS probability, TR 38.901 v17.0.0 Table 7.4.2-1.

    ``1`` for ``d2D_out <= 18 m``, else ``18/d + exp(-d/36)(1 - 18/d)``.

    Examples
    --------
    >>> round(float(los_probability_umi(100.0)), 4)
    0.231
    """
    d = _check_d2d_out("TR 38.901 UMi LOS probability", d2d_m)
    dd = np.maximum(d, 18.0)
    p = 18.0 / dd + np.exp(-dd / 36.0) * (1.0 - 18.0 / dd)
    return np.asarray(np.where(d <= 18.0, 1.0, p), dtype=np.float64)


def los_probability_rma(d2d_m: ArrayLike) -> Float:
    """RMa LOS probability, TR 38.901 v17.0.0 Table 7.4.2-1.

    ``1`` for ``d2D_out <= 10 m``, else ``exp(-(d - 10)/1000)``.

    Examples
    --------
    >>> round(float(los_probability_rma(1010.0)), 4)
    0.3679
    """
    d = _check_d2d_out("TR 38.901 RMa LOS probability", d2d_m)
    return np.asarray(np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0)), dtype=np.float64)


# --------------------------------------------------------------------------- O2I


def _o2i(
    model: str,
    freq_ghz: ArrayLike,
    d2d_in_m: ArrayLike,
    glass_loss_db: Float,
    share_glass: float,
    std_db: float,
    rng: np.random.Generator | None,
) -> Float:
    f = _as_float(freq_ghz)
    d_in = _as_float(d2d_in_m)
    _check_freq(model, f)
    _check_range(model, "d2d_in_m", d_in, 0.0, np.inf, "m")
    l_concrete = 5.0 + 4.0 * f  # Table 7.4.3-1
    pl_tw = 5.0 - 10.0 * np.log10(
        share_glass * 10.0 ** (-glass_loss_db / 10.0)
        + (1.0 - share_glass) * 10.0 ** (-l_concrete / 10.0)
    )
    pl = pl_tw + 0.5 * d_in
    if rng is not None:
        pl = pl + rng.normal(0.0, std_db, size=np.shape(pl))
    return np.asarray(pl, dtype=np.float64)


def o2i_low_loss_db(
    freq_ghz: ArrayLike, d2d_in_m: ArrayLike, rng: np.random.Generator | None = None
) -> Float:
    """O2I building penetration, low-loss model, TR 38.901 v17.0.0 §7.4.3.1, Table 7.4.3-2.

    ``PL_tw + PL_in`` with ``PL_tw = 5 - 10 log10(0.3·10^(-L_glass/10) + 0.7·10^(-L_concrete/10))``,
    ``L_glass = 2 + 0.2 fc``, ``L_concrete = 5 + 4 fc`` (Table 7.4.3-1) and ``PL_in = 0.5 d2D_in``.
    With ``rng`` the zero-mean Gaussian term of σP = 4.4 dB is added; without it the mean is
    returned. ``d2d_in_m`` is the indoor distance (drawn by the caller, e.g. min of two
    U(0, 25 m) for UMa/UMi).

    Examples
    --------
    >>> round(float(o2i_low_loss_db(3.5, 0.0)), 2)
    12.7
    """
    f = _as_float(freq_ghz)
    return _o2i(
        "TR 38.901 O2I low-loss",
        f,
        d2d_in_m,
        2.0 + 0.2 * f,
        0.3,
        O2I_LOW_LOSS_STD_DB,
        rng,
    )


def o2i_high_loss_db(
    freq_ghz: ArrayLike, d2d_in_m: ArrayLike, rng: np.random.Generator | None = None
) -> Float:
    """O2I building penetration, high-loss model, TR 38.901 v17.0.0 §7.4.3.1, Table 7.4.3-2.

    ``PL_tw = 5 - 10 log10(0.7·10^(-L_IRRglass/10) + 0.3·10^(-L_concrete/10))`` with
    ``L_IRRglass = 23 + 0.3 fc``; ``PL_in = 0.5 d2D_in``; σP = 6.5 dB when ``rng`` is given.

    Examples
    --------
    >>> round(float(o2i_high_loss_db(3.5, 0.0)), 2)
    26.85
    """
    f = _as_float(freq_ghz)
    return _o2i(
        "TR 38.901 O2I high-loss",
        f,
        d2d_in_m,
        23.0 + 0.3 * f,
        0.7,
        O2I_HIGH_LOSS_STD_DB,
        rng,
    )


# --------------------------------------------------------------------------- combination


def expected_pathloss_db(
    scenario: Scenario,
    d2d_m: ArrayLike,
    freq_ghz: ArrayLike,
    h_bs_m: ArrayLike | None = None,
    h_ut_m: ArrayLike = 1.5,
) -> Float:
    """LOS-probability-weighted path loss of a TR 38.901 scenario (no shadow fading).

    Combines Table 7.4.1-1 and Table 7.4.2-1 in the **linear** (path gain) domain:
    ``PL = -10 log10(P_LOS · 10^(-PL_LOS/10) + (1 - P_LOS) · 10^(-PL_NLOS/10))``,
    i.e. the expected received power over the LOS/NLOS state. This is a tsunagu convention
    (the TR draws the state at random); it always lies between the LOS and NLOS values and is
    closer to the smaller loss than the dB-domain average of ITU-R M.2135 would be.

    Parameters
    ----------
    scenario : {"uma", "umi", "rma"}
        Scenario of TR 38.901 §7.2.
    d2d_m, freq_ghz, h_ut_m : array_like
        As for the scenario's path-loss functions.
    h_bs_m : array_like or None
        BS height; ``None`` uses the TR default (25, 10 or 35 m).

    Examples
    --------
    >>> round(float(expected_pathloss_db("uma", 100.0, 3.5)), 2)
    87.64
    """
    if scenario == "uma":
        h_bs = 25.0 if h_bs_m is None else h_bs_m
        p = los_probability_uma(d2d_m, h_ut_m)
        pl_los = uma_los_db(d2d_m, None, freq_ghz, h_bs, h_ut_m)
        pl_nlos = uma_nlos_db(d2d_m, None, freq_ghz, h_bs, h_ut_m)
    elif scenario == "umi":
        h_bs = 10.0 if h_bs_m is None else h_bs_m
        p = los_probability_umi(d2d_m)
        pl_los = umi_los_db(d2d_m, None, freq_ghz, h_bs, h_ut_m)
        pl_nlos = umi_nlos_db(d2d_m, None, freq_ghz, h_bs, h_ut_m)
    elif scenario == "rma":
        h_bs = 35.0 if h_bs_m is None else h_bs_m
        p = los_probability_rma(d2d_m)
        pl_los = rma_los_db(d2d_m, None, freq_ghz, h_bs, h_ut_m)
        pl_nlos = rma_nlos_db(d2d_m, None, freq_ghz, h_bs, h_ut_m)
    else:
        raise ModelRangeError(
            f"expected_pathloss_db: unknown scenario {scenario!r}; pass 'uma', 'umi' or 'rma'."
        )
    gain = p * 10.0 ** (-pl_los / 10.0) + (1.0 - p) * 10.0 ** (-pl_nlos / 10.0)
    return np.asarray(-10.0 * np.log10(gain), dtype=np.float64)


# --------------------------------------------------------------------------- InH


#: Shadow-fading standard deviations of InH-Office, TR 38.901 Table 7.4.1-1 (dB).
SF_STD_INH_LOS_DB: Final = 3.0
SF_STD_INH_NLOS_DB: Final = 8.03

InhLayout = Literal["mixed", "open"]


def _inh_d3d(model: str, d3d_m: ArrayLike) -> Float:
    d = _as_float(d3d_m)
    _check_range(model, "d3d_m", d, 0.0, 150.0, "m", what=" (below 1 m is clipped to 1 m)")
    return np.asarray(np.maximum(d, 1.0), dtype=np.float64)


def inh_los_db(d3d_m: ArrayLike, freq_ghz: ArrayLike) -> Float:
    """InH-Office LOS path loss, TR 38.901 v17.0.0 Table 7.4.1-1 (σSF = 3 dB).

    ``PL = 32.4 + 17.3 log10(d3D) + 20 log10(fc)`` for ``1 m <= d3D <= 150 m`` (below 1 m it is
    evaluated at 1 m, so a user under the access point gets a finite value).

    Examples
    --------
    >>> round(float(inh_los_db(10.0, 3.5)), 2)
    60.58
    """
    model = "TR 38.901 InH LOS"
    f = _as_float(freq_ghz)
    _check_freq(model, f)
    d = _inh_d3d(model, d3d_m)
    return np.asarray(32.4 + 17.3 * np.log10(d) + 20.0 * np.log10(f), dtype=np.float64)


def inh_nlos_db(d3d_m: ArrayLike, freq_ghz: ArrayLike) -> Float:
    """InH-Office NLOS path loss, TR 38.901 v17.0.0 Table 7.4.1-1 (σSF = 8.03 dB).

    ``PL = max(PL_InH-LOS, PL'_InH-NLOS)``,
    ``PL' = 38.3 log10(d3D) + 17.30 + 24.9 log10(fc)``, ``1 m <= d3D <= 150 m``.

    Examples
    --------
    >>> round(float(inh_nlos_db(10.0, 3.5)), 2)
    69.15
    """
    model = "TR 38.901 InH NLOS"
    f = _as_float(freq_ghz)
    _check_freq(model, f)
    d = _inh_d3d(model, d3d_m)
    pl_nlos = 38.3 * np.log10(d) + 17.30 + 24.9 * np.log10(f)
    return np.asarray(np.maximum(inh_los_db(d, f), pl_nlos), dtype=np.float64)


def los_probability_inh(d2d_m: ArrayLike, layout: InhLayout = "mixed") -> Float:
    """InH-Office LOS probability, TR 38.901 v17.0.0 Table 7.4.2-1.

    Mixed office: ``1`` (d <= 1.2 m), ``exp(-(d - 1.2)/4.7)`` (1.2 < d < 6.5 m),
    ``0.32 exp(-(d - 6.5)/32.6)`` (d >= 6.5 m). Open office: ``1`` (d <= 5 m),
    ``exp(-(d - 5)/70.8)`` (5 < d <= 49 m), ``0.54 exp(-(d - 49)/211.7)`` (d > 49 m).

    Examples
    --------
    >>> round(float(los_probability_inh(6.5)), 4)
    0.32
    >>> round(float(los_probability_inh(49.0, "open")), 4)
    0.5372
    """
    d = _check_d2d_out("TR 38.901 InH LOS probability", d2d_m)
    if layout == "mixed":
        p = np.where(
            d <= 1.2,
            1.0,
            np.where(d < 6.5, np.exp(-(d - 1.2) / 4.7), 0.32 * np.exp(-(d - 6.5) / 32.6)),
        )
    elif layout == "open":
        p = np.where(
            d <= 5.0,
            1.0,
            np.where(d <= 49.0, np.exp(-(d - 5.0) / 70.8), 0.54 * np.exp(-(d - 49.0) / 211.7)),
        )
    else:
        raise ModelRangeError(
            f"TR 38.901 InH LOS probability: unknown layout {layout!r}; pass 'mixed' or 'open'."
        )
    return np.asarray(p, dtype=np.float64)


# --------------------------------------------------------------------------- random state


def uma_effective_env_height_m(
    d2d_m: ArrayLike, h_ut_m: ArrayLike, rng: np.random.Generator
) -> Float:
    """Draw the UMa effective environment height h_E, TR 38.901 Table 7.4.1-1 Note 1.

    ``h_E = 1 m`` with probability ``1/(1 + C(d2D, hUT))``; otherwise uniform on
    ``{12, 15, …, hUT − 1.5}``. ``C = 0`` for ``hUT < 13 m``; else
    ``((hUT − 13)/10)^1.5 g(d2D)`` with ``g = 0`` for ``d2D <= 18 m`` and
    ``(5/4)(d2D/100)³ exp(−d2D/150)`` beyond.
    """
    d, _ = np.broadcast_arrays(
        np.asarray(d2d_m, dtype=np.float64), np.asarray(h_ut_m, dtype=np.float64)
    )
    return uma_env_height_from_uniforms_m(d2d_m, h_ut_m, rng.random(d.shape), rng.random(d.shape))


def uma_env_height_from_uniforms_m(
    d2d_m: ArrayLike, h_ut_m: ArrayLike, u_state: ArrayLike, u_height: ArrayLike
) -> Float:
    """The law of :func:`uma_effective_env_height_m` applied to given U(0, 1) draws.

    ``u_state < 1/(1 + C)`` gives ``h_E = 1 m``; otherwise ``u_height`` picks one of the
    ``{12, 15, …, hUT − 1.5}`` values uniformly. The single copy of Note 1, shared by the
    random-generator form above and the counter-based draws of :mod:`tsunagu.ran.sinr`.
    """
    d, h, u1, u2 = np.broadcast_arrays(
        np.asarray(d2d_m, dtype=np.float64),
        np.asarray(h_ut_m, dtype=np.float64),
        np.asarray(u_state, dtype=np.float64),
        np.asarray(u_height, dtype=np.float64),
    )
    g = np.where(d <= 18.0, 0.0, 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0))
    c = np.where(h < 13.0, 0.0, np.abs((h - 13.0) / 10.0) ** 1.5 * g)
    one = u1 < 1.0 / (1.0 + c)
    n_choices = np.maximum(np.floor((h - 1.5 - 12.0) / 3.0) + 1.0, 1.0)
    k = np.floor(u2 * n_choices)
    return np.asarray(np.where(one, 1.0, 12.0 + 3.0 * k), dtype=np.float64)


def los_probability(
    scenario: Scenario | Literal["inh"], d2d_out_m: ArrayLike, h_ut_m: ArrayLike = 1.5
) -> Float:
    """LOS probability of a scenario (Table 7.4.2-1), dispatching on ``scenario``.

    ``"inh"`` uses the mixed-office curve.
    """
    if scenario == "uma":
        return los_probability_uma(d2d_out_m, h_ut_m)
    if scenario == "umi":
        return los_probability_umi(d2d_out_m)
    if scenario == "rma":
        return los_probability_rma(d2d_out_m)
    if scenario == "inh":
        return los_probability_inh(d2d_out_m)
    raise ModelRangeError(
        f"los_probability: unknown scenario {scenario!r}; pass 'uma', 'umi', 'rma' or 'inh'."
    )


def pathloss_db(
    scenario: Scenario | Literal["inh"],
    d2d_m: ArrayLike,
    d3d_m: ArrayLike | None,
    freq_ghz: ArrayLike,
    los: ArrayLike,
    h_bs_m: ArrayLike,
    h_ut_m: ArrayLike,
    h_e_m: ArrayLike = 1.0,
) -> Float:
    """Path loss of a scenario for a given LOS state per link (Table 7.4.1-1), no fading.

    ``los`` (bool, broadcastable) picks the LOS or the NLOS formula link by link. ``h_e_m`` is
    used by UMa only (see :func:`uma_effective_env_height_m`).
    """
    is_los = np.asarray(los, dtype=bool)
    if scenario in ("uma", "umi"):
        # The NLOS formula is the same helper uma_/umi_nlos_db use; the LOS part is
        # evaluated once here and shared by both branches.
        model = f"TR 38.901 {'UMa' if scenario == 'uma' else 'UMi'} NLOS"
        f = _as_float(freq_ghz)
        h_bs = _as_float(h_bs_m)
        h_ut = _as_float(h_ut_m)
        _check_freq(model, f)
        _check_uma_umi_heights(model, h_bs, h_ut)
        _, d3d = _clip_distances(model, d2d_m, d3d_m, h_bs - h_ut, 5000.0)
        if scenario == "uma":
            a = uma_los_db(d2d_m, d3d_m, f, h_bs, h_ut, h_e_m)
            nl = _uma_nlos_prime_db(d3d, f, h_ut)
        else:
            a = umi_los_db(d2d_m, d3d_m, f, h_bs, h_ut)
            nl = _umi_nlos_prime_db(d3d, f, h_ut)
        b = np.maximum(a, nl)
    elif scenario == "rma":
        a = rma_los_db(d2d_m, d3d_m, freq_ghz, h_bs_m, h_ut_m)
        b = rma_nlos_db(d2d_m, d3d_m, freq_ghz, h_bs_m, h_ut_m)
    elif scenario == "inh":
        d2d = _as_float(d2d_m)
        dh = _as_float(h_bs_m) - _as_float(h_ut_m)
        d3d = np.sqrt(d2d**2 + dh**2) if d3d_m is None else _as_float(d3d_m)
        a = inh_los_db(d3d, freq_ghz)
        b = inh_nlos_db(d3d, freq_ghz)
    else:
        raise ModelRangeError(
            f"pathloss_db: unknown scenario {scenario!r}; pass 'uma', 'umi', 'rma' or 'inh'."
        )
    return np.asarray(np.where(is_los, a, b), dtype=np.float64)


def shadow_fading_std_db(
    scenario: Scenario | Literal["inh"], los: ArrayLike, beyond_breakpoint: ArrayLike = False
) -> Float:
    """Shadow-fading standard deviation of Table 7.4.1-1 per link (dB).

    ``beyond_breakpoint`` matters for RMa LOS only (4 dB before, 6 dB after dBP).
    """
    is_los = np.asarray(los, dtype=bool)
    table = {
        "uma": (SF_STD_UMA_LOS_DB, SF_STD_UMA_NLOS_DB),
        "umi": (SF_STD_UMI_LOS_DB, SF_STD_UMI_NLOS_DB),
        "inh": (SF_STD_INH_LOS_DB, SF_STD_INH_NLOS_DB),
    }
    if scenario in table:
        lo, nl = table[scenario]
        return np.asarray(np.where(is_los, lo, nl), dtype=np.float64)
    if scenario == "rma":
        los_std = np.where(
            np.asarray(beyond_breakpoint, dtype=bool),
            SF_STD_RMA_LOS_AFTER_BP_DB,
            SF_STD_RMA_LOS_BEFORE_BP_DB,
        )
        return np.asarray(np.where(is_los, los_std, SF_STD_RMA_NLOS_DB), dtype=np.float64)
    raise ModelRangeError(
        f"shadow_fading_std_db: unknown scenario {scenario!r}; pass 'uma', 'umi', 'rma' or 'inh'."
    )


# --------------------------------------------------------------------------- other losses


def free_space_db(d3d_m: ArrayLike, freq_ghz: ArrayLike) -> Float:
    """Free-space path loss, TR 38.811 eq. (6.6-2): ``32.45 + 20 log10(fc) + 20 log10(d)``.

    ``fc`` in GHz, ``d`` in metres (clipped below at 1 m so a co-located user stays finite).

    Examples
    --------
    >>> round(float(free_space_db(20_000.0, 2.0)), 2)
    124.49
    """
    d = _as_float(d3d_m)
    f = _as_float(freq_ghz)
    if np.any(np.isnan(d)) or np.any(d < 0.0):
        raise ModelRangeError("free_space_db (TR 38.811 eq. 6.6-2): d3d_m must be >= 0 m.")
    if np.any(~(f > 0.0)):
        raise ModelRangeError("free_space_db (TR 38.811 eq. 6.6-2): freq_ghz must be > 0.")
    return np.asarray(
        32.45 + 20.0 * np.log10(f) + 20.0 * np.log10(np.maximum(d, 1.0)), dtype=np.float64
    )


def gas_specific_attenuation_db_per_km(
    freq_ghz: float,
    pressure_hpa: float = 1013.25,
    temperature_k: float = 288.15,
    water_vapour_g_per_m3: float = 7.5,
) -> float:
    """Specific attenuation of atmospheric gases, ITU-R P.676 (via ``itur``), dB/km.

    Oxygen plus water vapour at sea level in the ITU-R P.835 mean annual reference atmosphere
    (1013.25 hPa, 15 °C, 7.5 g/m³) by default. TR 38.901 §7.6.1 adds ``α(fc) d3D / 1000`` to the
    path loss above 6 GHz with this α. ``itur`` is imported lazily (it pulls in astropy).

    Raises
    ------
    ModelRangeError
        If ``freq_ghz`` lies outside 1–350 GHz (the approximate method of P.676 Annex 2).
    """
    if not 1.0 <= freq_ghz <= 350.0:
        raise ModelRangeError(
            f"ITU-R P.676 gas attenuation: freq_ghz must lie in [1, 350] GHz; got {freq_ghz}."
        )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from itur.models import itu676

        att = itu676.gaseous_attenuation_terrestrial_path(
            1.0, freq_ghz, 0.0, water_vapour_g_per_m3, pressure_hpa, temperature_k, "approx"
        )
    return float(np.asarray(getattr(att, "value", att)))


def gas_loss_db(d3d_m: ArrayLike, freq_ghz: float) -> Float:
    """Atmospheric gas loss of a terrestrial path, TR 38.901 §7.6.1 with ITU-R P.676 α.

    ``α(fc) · d3D / 1000`` dB; zero below 6 GHz, where TR 38.901 neglects it.

    Examples
    --------
    >>> float(gas_loss_db(1000.0, 3.5))
    0.0
    """
    d = _as_float(d3d_m)
    if freq_ghz < 6.0:
        return np.zeros_like(d)
    return np.asarray(gas_specific_attenuation_db_per_km(freq_ghz) * d / 1000.0)
