"""NR link abstraction: SINR → spectral efficiency → user throughput; band table.

* :func:`mcs_table` — TS 38.214 v17 MCS index tables 5.1.3.1-1 (64QAM), -2 (256QAM) and -4
  (1024QAM), shipped as ``data/ran/mcs_tables.csv``.
* :func:`spectral_efficiency_bps_per_hz` — either the TR 38.803 truncated-Shannon bound
  (:func:`tsunagu.ran.rate.truncated_shannon_bps_per_hz`) or that bound quantised down to the
  MCS grid: the highest MCS whose spectral efficiency does not exceed
  ``α log2(1 + SINR)`` (α = 0.6, the TR 38.803 implementation loss). The MCS mapping is a
  link-adaptation model, not a link-level BLER curve: 3GPP publishes no SINR thresholds.
* :func:`pf_user_rate_bps` — flow-level proportional-fair sharing with full buffers: PF
  gives every active user of a cell an equal share of the time-frequency resources (without
  the multi-user diversity gain of fast fading), so user ``u`` gets
  ``SE_u · B · (1 − OH) / N_cell``. :func:`ps_mean_rate_bps` is the dynamic (M/G/1-PS)
  counterpart for Poisson flow arrivals at load ρ.
* :data:`NR_BANDS` — operating bands used by tsunagu with their downlink ranges (TS 38.101-1
  Table 5.2-1, TS 38.101-2 Table 5.2-1) and the new IMT ranges of the B5G strategy.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tsunagu.errors import DataError, ModelRangeError
from tsunagu.ran.rate import (
    DL_TRUNCATED_SHANNON,
    NR_OVERHEAD_DL_FR1,
    NR_OVERHEAD_DL_FR2,
    truncated_shannon_bps_per_hz,
)

__all__ = [
    "NR_BANDS",
    "McsTable",
    "McsTableName",
    "RateMapping",
    "band_range_ghz",
    "check_carrier_band",
    "dl_overhead",
    "mcs_index",
    "mcs_table",
    "pf_user_rate_bps",
    "ps_mean_rate_bps",
    "spectral_efficiency_bps_per_hz",
]

Float = NDArray[np.float64]
McsTableName = Literal["qam64", "qam256", "qam1024"]
RateMapping = Literal["shannon", "mcs"]

#: Downlink frequency ranges (GHz) of the bands tsunagu plans with. NR bands: TS 38.101-1 v17
#: Table 5.2-1 (FR1) and TS 38.101-2 v17 Table 5.2-1 (FR2). "imt-4.4-4.8" and "imt-7.125-8.4"
#: are the new IMT ranges named in the Beyond 5G strategy (MIC 2024) and WRC-23 (7.125–8.4 GHz
#: under study for WRC-27); "hibs-*" are the WRC-23 HIBS identifications.
NR_BANDS: Final[dict[str, tuple[float, float]]] = {
    "n1": (2.110, 2.170),
    "n3": (1.805, 1.880),
    "n28": (0.758, 0.803),
    "n77": (3.300, 4.200),
    "n78": (3.300, 3.800),
    "n79": (4.400, 5.000),
    "n257": (26.500, 29.500),
    "n258": (24.250, 27.500),
    "imt-4.4-4.8": (4.400, 4.800),
    "imt-7.125-8.4": (7.125, 8.400),
    "hibs-700-900": (0.694, 0.960),
    "hibs-1.7-1.9": (1.710, 1.885),
    "hibs-2.5-2.7": (2.500, 2.690),
}


def band_range_ghz(band: str) -> tuple[float, float] | None:
    """Downlink range of a known band, or ``None`` for a band tsunagu does not list."""
    return NR_BANDS.get(band)


def check_carrier_band(band: str, freq_ghz: float, bandwidth_mhz: float) -> None:
    """Raise if a carrier of a listed band does not fit inside the band.

    Raises
    ------
    ModelRangeError
        Naming the band, its range and the carrier's edges.
    """
    rng = band_range_ghz(band)
    if rng is None:
        return
    lo = freq_ghz - bandwidth_mhz / 2e3
    hi = freq_ghz + bandwidth_mhz / 2e3
    if lo < rng[0] - 1e-9 or hi > rng[1] + 1e-9:
        raise ModelRangeError(
            f"carrier {band} at {freq_ghz} GHz with {bandwidth_mhz} MHz spans {lo:.4f}–{hi:.4f} "
            f"GHz, outside band {band} ({rng[0]}–{rng[1]} GHz); move the centre frequency or "
            "narrow the carrier."
        )


def dl_overhead(freq_ghz: float) -> float:
    """TS 38.306 §4.1.2 downlink overhead: 0.14 in FR1, 0.18 in FR2 (≥ 24.25 GHz)."""
    return NR_OVERHEAD_DL_FR2 if freq_ghz >= 24.25 else NR_OVERHEAD_DL_FR1


@dataclass(frozen=True)
class McsTable:
    """One TS 38.214 MCS table as columns (MCS index order)."""

    name: str
    mcs: NDArray[np.int64]
    qm: NDArray[np.int64]
    rate_x1024: Float
    se_bps_per_hz: Float


@functools.lru_cache(maxsize=4)
def mcs_table(name: McsTableName = "qam256") -> McsTable:
    """Load a TS 38.214 MCS table (5.1.3.1-1 ``qam64``, -2 ``qam256``, -4 ``qam1024``).

    Examples
    --------
    >>> float(mcs_table("qam256").se_bps_per_hz[-1])
    7.4063
    """
    text = resources.files("tsunagu.data").joinpath("ran").joinpath("mcs_tables.csv").read_text()
    rows = [
        r
        for r in csv.DictReader(line for line in text.splitlines() if line[:1] != "#")
        if r["table"] == name
    ]
    if not rows:
        raise ModelRangeError(
            f"mcs_table: unknown table {name!r}; pass 'qam64', 'qam256' or 'qam1024'."
        )
    try:
        t = McsTable(
            name=name,
            mcs=np.array([int(r["mcs"]) for r in rows], dtype=np.int64),
            qm=np.array([int(r["qm"]) for r in rows], dtype=np.int64),
            rate_x1024=np.array([float(r["rate_x1024"]) for r in rows]),
            se_bps_per_hz=np.array([float(r["se_bps_per_hz"]) for r in rows]),
        )
    except (KeyError, ValueError) as exc:
        raise DataError(f"mcs_tables.csv: malformed row ({exc}); reinstall tsunagu.") from exc
    if np.any(t.mcs != np.arange(t.mcs.size)):
        raise DataError(f"mcs_tables.csv: table {name} is not listed by MCS index 0, 1, ….")
    return t


def mcs_index(
    sinr_db: ArrayLike, table: McsTableName = "qam256", alpha: float = DL_TRUNCATED_SHANNON[0]
) -> NDArray[np.int64]:
    """Highest MCS with ``SE_MCS <= α log2(1 + SINR)``; -1 where none fits (out of service).

    Examples
    --------
    >>> int(mcs_index(40.0))
    27
    >>> int(mcs_index(-20.0))
    -1
    """
    s = np.asarray(sinr_db, dtype=np.float64)
    if np.any(np.isnan(s)):
        raise ModelRangeError("mcs_index: sinr_db contains NaN.")
    if not 0.0 < alpha <= 1.0:
        raise ModelRangeError(f"mcs_index: alpha must be in (0, 1]; got {alpha}.")
    t = mcs_table(table)
    bound = alpha * np.log2(1.0 + 10.0 ** (np.minimum(s, 100.0) / 10.0))
    # Table 5.1.3.1-1 is not monotone in SE (MCS 16: 2.5703 > MCS 17: 2.5664): search the
    # SE-sorted rows and take the highest MCS among those that fit.
    order = np.argsort(t.se_bps_per_hz, kind="stable")
    best = np.maximum.accumulate(t.mcs[order])
    pos = np.searchsorted(t.se_bps_per_hz[order], bound, side="right") - 1
    return np.asarray(np.where(pos >= 0, best[np.maximum(pos, 0)], -1), dtype=np.int64)


def spectral_efficiency_bps_per_hz(
    sinr_db: ArrayLike, mapping: RateMapping = "shannon", table: McsTableName = "qam256"
) -> Float:
    """Downlink spectral efficiency (b/s/Hz) from SINR by the selected mapping.

    ``"shannon"``: TR 38.803 truncated Shannon (α 0.6, −10…30 dB, max 5.98 b/s/Hz).
    ``"mcs"``: the MCS-grid quantisation described in the module docstring (max 5.5547,
    7.4063 or 9.2578 b/s/Hz for the three tables). ``-inf`` SINR gives 0.

    Examples
    --------
    >>> float(spectral_efficiency_bps_per_hz(10.0, "mcs"))
    1.9141
    """
    s = np.asarray(sinr_db, dtype=np.float64)
    s = np.where(np.isneginf(s), -1e3, s)
    if mapping == "shannon":
        return truncated_shannon_bps_per_hz(np.minimum(s, 1e3), *DL_TRUNCATED_SHANNON)
    if mapping == "mcs":
        idx = mcs_index(np.minimum(s, 1e3), table)
        se = mcs_table(table).se_bps_per_hz
        return np.asarray(np.where(idx >= 0, se[np.maximum(idx, 0)], 0.0), dtype=np.float64)
    raise ModelRangeError(
        f"spectral_efficiency_bps_per_hz: unknown mapping {mapping!r}; pass 'shannon' or 'mcs'."
    )


def pf_user_rate_bps(
    se_bps_per_hz: ArrayLike,
    serving_cell: ArrayLike,
    n_cells: int,
    bandwidth_hz: float,
    overhead: float,
    users: ArrayLike | None = None,
) -> tuple[Float, Float]:
    """Full-buffer proportional-fair user throughput at flow level.

    Each row is a user point that stands for ``users`` simultaneously active users (default 1).
    A cell's time–frequency resources are shared equally among its active users (PF with equal
    average channel quality fluctuations gives equal time shares), so a user of point ``u``
    served by cell ``c`` gets ``SE_u · B · (1 − OH) / N_c`` with
    ``N_c = max(1, Σ_{u∈c} users_u)``.

    Returns
    -------
    rate_bps : (U,) array
        Throughput of one user of each point (0 where not served).
    active_users : (n_cells,) array
        ``Σ users`` attached to each cell.
    """
    se = np.asarray(se_bps_per_hz, dtype=np.float64)
    s = np.asarray(serving_cell, dtype=np.int64)
    w = np.ones_like(se) if users is None else np.asarray(users, dtype=np.float64)
    if np.any(w < 0.0) or np.any(np.isnan(w)):
        raise ModelRangeError("pf_user_rate_bps: users must be >= 0.")
    if not 0.0 <= overhead < 1.0:
        raise ModelRangeError(f"pf_user_rate_bps: overhead must lie in [0, 1); got {overhead}.")
    ok = s >= 0
    n = np.bincount(s[ok], weights=w[ok], minlength=n_cells).astype(np.float64)
    share = np.maximum(n, 1.0)[np.maximum(s, 0)]
    rate = np.where(ok, se * bandwidth_hz * (1.0 - overhead) / share, 0.0)
    return np.asarray(rate, dtype=np.float64), n


def ps_mean_rate_bps(peak_rate_bps: ArrayLike, load: ArrayLike) -> Float:
    """Mean flow throughput in an M/G/1 processor-sharing cell: ``r (1 − ρ)`` (0 if ρ ≥ 1).

    Examples
    --------
    >>> float(ps_mean_rate_bps(100e6, 0.75))
    25000000.0
    """
    r = np.asarray(peak_rate_bps, dtype=np.float64)
    rho = np.asarray(load, dtype=np.float64)
    return np.asarray(r * np.clip(1.0 - rho, 0.0, 1.0), dtype=np.float64)
