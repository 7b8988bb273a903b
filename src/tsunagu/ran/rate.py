"""From SINR and bandwidth to bit rate: noise, truncated Shannon and the NR peak-rate formula.

* :func:`thermal_noise_dbm` — kT·B·NF with the 3GPP convention −174 dBm/Hz.
* :func:`truncated_shannon_bps_per_hz` — the attenuated and truncated Shannon bound of
  3GPP TR 38.803 Annex A.1 (as adopted by ITU-R M.2101 and implemented in SHARC).
* :func:`nr_peak_rate_bps` — TS 38.306 §4.1.2 approximate maximum data rate of one carrier.
* :func:`n_prb` — maximum transmission bandwidth configuration N_RB of TS 38.101-1/-2
  Table 5.3.2-1.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.errors import ModelRangeError

__all__ = [
    "DL_TRUNCATED_SHANNON",
    "NR_OVERHEAD_DL_FR1",
    "NR_OVERHEAD_DL_FR2",
    "NR_OVERHEAD_UL_FR1",
    "NR_OVERHEAD_UL_FR2",
    "NR_R_MAX",
    "THERMAL_NOISE_DENSITY_DBM_PER_HZ",
    "UL_TRUNCATED_SHANNON",
    "FrequencyRange",
    "n_prb",
    "nr_peak_rate_bps",
    "thermal_noise_dbm",
    "truncated_shannon_bps_per_hz",
]

FrequencyRange = Literal["FR1", "FR2"]

#: Thermal noise density kT at 290 K rounded as 3GPP does (e.g. TR 38.901 §7.8, TR 36.942).
THERMAL_NOISE_DENSITY_DBM_PER_HZ: Final = -174.0

#: (alpha, SINR_min dB, SINR_max dB) of the truncated Shannon bound, TR 38.803 Annex A.1 /
#: ITU-R M.2101: downlink 0.6, −10, 30 (max 5.98 b/s/Hz); uplink 0.4, −10, 22 (max 2.93 b/s/Hz).
DL_TRUNCATED_SHANNON: Final = (0.6, -10.0, 30.0)
UL_TRUNCATED_SHANNON: Final = (0.4, -10.0, 22.0)

#: TS 38.306 §4.1.2 constants: maximum code rate and overheads per frequency range and link.
NR_R_MAX: Final = 948.0 / 1024.0
NR_OVERHEAD_DL_FR1: Final = 0.14
NR_OVERHEAD_DL_FR2: Final = 0.18
NR_OVERHEAD_UL_FR1: Final = 0.08
NR_OVERHEAD_UL_FR2: Final = 0.10

_VALID_QM: Final = (1, 2, 4, 6, 8, 10)  # π/2-BPSK … 1024QAM (TS 38.211 §5.1)
_VALID_SCALING: Final = (1.0, 0.8, 0.75, 0.4)  # TS 38.306 §4.1.2

# TS 38.101-1 v17 Table 5.3.2-1 (FR1) and TS 38.101-2 v17 Table 5.3.2-1 (FR2):
# (frequency range, SCS kHz) -> {channel bandwidth MHz: N_RB}.
_NRB_TABLE: Final[dict[tuple[str, int], dict[int, int]]] = {
    ("FR1", 15): {
        5: 25,
        10: 52,
        15: 79,
        20: 106,
        25: 133,
        30: 160,
        35: 188,
        40: 216,
        45: 242,
        50: 270,
    },
    ("FR1", 30): {
        5: 11,
        10: 24,
        15: 38,
        20: 51,
        25: 65,
        30: 78,
        35: 92,
        40: 106,
        45: 119,
        50: 133,
        60: 162,
        70: 189,
        80: 217,
        90: 245,
        100: 273,
    },
    ("FR1", 60): {
        10: 11,
        15: 18,
        20: 24,
        25: 31,
        30: 38,
        35: 44,
        40: 51,
        45: 58,
        50: 65,
        60: 79,
        70: 93,
        80: 107,
        90: 121,
        100: 135,
    },
    ("FR2", 60): {50: 66, 100: 132, 200: 264},
    ("FR2", 120): {50: 32, 100: 66, 200: 132, 400: 264},
}

Float = NDArray[np.float64]


def thermal_noise_dbm(bandwidth_hz: ArrayLike, noise_figure_db: ArrayLike) -> Float:
    """Receiver noise power ``-174 dBm/Hz + 10 log10(B) + NF``.

    Parameters
    ----------
    bandwidth_hz : array_like
        Noise bandwidth (Hz), > 0.
    noise_figure_db : array_like
        Receiver noise figure (dB).

    Returns
    -------
    numpy.ndarray
        Noise power in dBm.

    Raises
    ------
    ModelRangeError
        If a bandwidth is not positive.

    Examples
    --------
    >>> round(float(thermal_noise_dbm(100e6, 7.0)), 2)
    -87.0
    """
    b = np.asarray(bandwidth_hz, dtype=np.float64)
    nf = np.asarray(noise_figure_db, dtype=np.float64)
    if np.any(~(b > 0.0)):
        raise ModelRangeError(f"thermal_noise_dbm: bandwidth_hz must be > 0 Hz; got {b!r}.")
    return np.asarray(THERMAL_NOISE_DENSITY_DBM_PER_HZ + 10.0 * np.log10(b) + nf)


def truncated_shannon_bps_per_hz(
    sinr_db: ArrayLike,
    alpha: float = 0.6,
    sinr_min_db: float = -10.0,
    sinr_max_db: float = 30.0,
    se_max_bps_per_hz: float | None = None,
) -> Float:
    """Attenuated, truncated Shannon bound, 3GPP TR 38.803 Annex A.1 (ITU-R M.2101).

    ``SE = 0`` for ``SINR < SINR_min``; ``α log2(1 + SINR)`` for
    ``SINR_min <= SINR < SINR_max``; ``SE_max = α log2(1 + SINR_max)`` above. Defaults are the
    downlink parameters (α 0.6, −10…30 dB, SE_max 5.98 b/s/Hz); use
    :data:`UL_TRUNCATED_SHANNON` (α 0.4, −10…22 dB, 2.93 b/s/Hz) for the uplink.

    Parameters
    ----------
    sinr_db : array_like
        SINR (dB).
    alpha : float
        Implementation loss factor, 0 < α <= 1.
    sinr_min_db, sinr_max_db : float
        Truncation thresholds (dB), ``sinr_min_db < sinr_max_db``.
    se_max_bps_per_hz : float or None
        Cap on spectral efficiency; ``None`` uses ``α log2(1 + SINR_max)``.

    Returns
    -------
    numpy.ndarray
        Spectral efficiency in bit/s/Hz.

    Examples
    --------
    >>> round(float(truncated_shannon_bps_per_hz(40.0)), 2)
    5.98
    >>> float(truncated_shannon_bps_per_hz(-11.0))
    0.0
    """
    if not 0.0 < alpha <= 1.0:
        raise ModelRangeError(f"truncated Shannon (TR 38.803): alpha must be in (0, 1]; {alpha}.")
    if not sinr_min_db < sinr_max_db:
        raise ModelRangeError(
            "truncated Shannon (TR 38.803): sinr_min_db must be below sinr_max_db; "
            f"got {sinr_min_db} >= {sinr_max_db}."
        )
    sinr = np.asarray(sinr_db, dtype=np.float64)
    if np.any(np.isnan(sinr)):
        raise ModelRangeError("truncated Shannon (TR 38.803): sinr_db contains NaN.")
    se_cap = (
        alpha * np.log2(1.0 + 10.0 ** (sinr_max_db / 10.0))
        if se_max_bps_per_hz is None
        else se_max_bps_per_hz
    )
    se = alpha * np.log2(1.0 + 10.0 ** (np.minimum(sinr, sinr_max_db) / 10.0))
    se = np.minimum(se, se_cap)
    return np.asarray(np.where(sinr < sinr_min_db, 0.0, se), dtype=np.float64)


def nr_peak_rate_bps(
    layers: ArrayLike,
    qm: ArrayLike,
    n_prb: ArrayLike,
    mu: ArrayLike,
    overhead: ArrayLike,
    scaling: ArrayLike = 1.0,
    r_max: float = NR_R_MAX,
) -> Float:
    """Approximate maximum NR data rate of one carrier, 3GPP TS 38.306 v17 §4.1.2.

    ``rate = v_layers · Qm · f · R_max · N_PRB · 12 / T_s^μ · (1 - OH)`` with
    ``T_s^μ = 1e-3 / (14 · 2^μ)`` s (normal cyclic prefix). Sum the result over carriers for
    carrier aggregation (the ``Σ_j`` of the TS).

    Parameters
    ----------
    layers : array_like
        Maximum number of MIMO layers, 1–8.
    qm : array_like
        Maximum modulation order (1, 2, 4, 6, 8 or 10; 8 = 256QAM).
    n_prb : array_like
        Maximum RB allocation N_PRB (see :func:`n_prb`).
    mu : array_like
        Numerology μ, 0–6 (SCS 15·2^μ kHz).
    overhead : array_like
        OH: 0.14 FR1 DL, 0.18 FR2 DL, 0.08 FR1 UL, 0.10 FR2 UL (``NR_OVERHEAD_*``).
    scaling : array_like
        Scaling factor f: 1, 0.8, 0.75 or 0.4.
    r_max : float
        Maximum code rate, 948/1024.

    Returns
    -------
    numpy.ndarray
        Data rate in bit/s.

    Examples
    --------
    >>> round(float(nr_peak_rate_bps(4, 8, 273, 1, NR_OVERHEAD_DL_FR1)) / 1e9, 4)
    2.337
    """
    v = np.asarray(layers, dtype=np.float64)
    q = np.asarray(qm, dtype=np.float64)
    prb = np.asarray(n_prb, dtype=np.float64)
    m = np.asarray(mu, dtype=np.float64)
    oh = np.asarray(overhead, dtype=np.float64)
    f = np.asarray(scaling, dtype=np.float64)
    model = "TS 38.306 §4.1.2 peak rate"
    if np.any((v < 1) | (v > 8) | (v != np.round(v))):
        raise ModelRangeError(f"{model}: layers must be an integer 1–8; got {v!r}.")
    if np.any(~np.isin(q, _VALID_QM)):
        raise ModelRangeError(f"{model}: qm must be one of {_VALID_QM}; got {q!r}.")
    if np.any((prb < 1) | (prb != np.round(prb))):
        raise ModelRangeError(f"{model}: n_prb must be a positive integer; got {prb!r}.")
    if np.any((m < 0) | (m > 6) | (m != np.round(m))):
        raise ModelRangeError(f"{model}: mu must be an integer 0–6; got {m!r}.")
    if np.any(~((oh >= 0.0) & (oh < 1.0))):
        raise ModelRangeError(f"{model}: overhead must be in [0, 1); got {oh!r}.")
    if np.any(~np.isin(f, _VALID_SCALING)):
        raise ModelRangeError(f"{model}: scaling must be one of {_VALID_SCALING}; got {f!r}.")
    if not 0.0 < r_max <= 1.0:
        raise ModelRangeError(f"{model}: r_max must be in (0, 1]; got {r_max}.")
    symbol_s = 1e-3 / (14.0 * 2.0**m)
    return np.asarray(v * q * f * r_max * prb * 12.0 / symbol_s * (1.0 - oh))


def n_prb(bandwidth_mhz: float, scs_khz: int, fr: FrequencyRange = "FR1") -> int:
    """Maximum transmission bandwidth configuration N_RB, TS 38.101-1/-2 Table 5.3.2-1.

    A lookup of the published tables (v17; FR1 from 38.101-1, FR2-1 from 38.101-2).

    Parameters
    ----------
    bandwidth_mhz : float
        UE channel bandwidth (MHz), e.g. 100.
    scs_khz : int
        Subcarrier spacing (kHz): 15, 30, 60 in FR1; 60, 120 in FR2.
    fr : {"FR1", "FR2"}
        Frequency range.

    Returns
    -------
    int
        Number of resource blocks.

    Raises
    ------
    ModelRangeError
        If the combination is not in the table; the message lists the valid bandwidths.

    Examples
    --------
    >>> n_prb(100, 30)
    273
    >>> n_prb(400, 120, "FR2")
    264
    """
    row = _NRB_TABLE.get((fr, int(scs_khz)))
    if row is None:
        valid = sorted(f"{k[0]}/{k[1]} kHz" for k in _NRB_TABLE)
        raise ModelRangeError(
            f"n_prb (TS 38.101 Table 5.3.2-1): no entry for {fr} at {scs_khz} kHz SCS; "
            f"pass one of {valid}."
        )
    bw = float(bandwidth_mhz)
    if not bw.is_integer() or int(bw) not in row:
        raise ModelRangeError(
            f"n_prb (TS 38.101 Table 5.3.2-1): {fr} {scs_khz} kHz SCS has no {bandwidth_mhz} MHz "
            f"channel; pass one of {sorted(row)} MHz."
        )
    return row[int(bw)]
