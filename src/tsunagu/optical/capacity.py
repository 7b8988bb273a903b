"""Capacity of fibre links from their QoT: wavelength rate by transceiver mode × wavelengths.

Pure, vectorised model functions. A fibre link (between two ROADMs) carries up to the
operator's *provisioned* number of wavelengths; each runs the fastest transceiver mode whose
GSNR threshold the link meets. The capacity the routing and allocation see is

.. math::

    C_\\ell = \\min(W_\\ell,\\ N_m)\\; R_m,\\qquad
    m = \\arg\\max_{m:\\ \\mathrm{GSNR}_{\\ell,m} \\ge \\mathrm{OSNR}^{req}_m + \\delta}
        \\min(W_\\ell, N_m) R_m

with ``W`` the provisioned wavelengths, ``R_m`` the mode's net bit rate, ``N_m`` how many
channels of the mode's spacing fit in the optical band, ``δ`` the system margin (dB) and the
GSNR in the 0.1 nm reference bandwidth, compared with the mode's required OSNR as GNPy does
(``gnpy.core.utils`` / ``path_request`` mode selection: feasible when ``GSNR_0.1nm ≥
required OSNR + sys_margins``; the equipment library gives ``OSNR`` in 0.1 nm).

GSNR of a link and mode
-----------------------
``1/GSNR = NSR_link + 1/OSNR_tx`` in the signal bandwidth: ``NSR_link`` is the ASE + NLI
(closed-form incoherent GN model) + one ROADM stage of the centre channel of a full comb of
the mode's symbol rate and spacing, from :func:`tsunagu.optical.qot.lightpath_qot` (the line
model of :func:`tsunagu.optical.rmsa.link_nsr_gn`), and ``OSNR_tx`` the mode's transceiver OSNR. The
SNR in the signal bandwidth converts to 0.1 nm by ``+10 log10(R_s / 12.5 GHz)``
(:func:`tsunagu.optical.qot.snr_bandwidth_to_01nm_db`). A link is evaluated once per distinct
(symbol rate, spacing) of the mode table, not per link.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from tsunagu.errors import DataError
from tsunagu.optical.equipment import TransceiverType
from tsunagu.optical.qot import (
    OSNR_REFERENCE_BANDWIDTH_HZ,
    lightpath_qot,
    snr_bandwidth_to_01nm_db,
)
from tsunagu.optical.rmsa import ModulationFormat

__all__ = [
    "C_BAND_HZ",
    "FibreCapacity",
    "ModeTable",
    "channels_in_band",
    "fibre_link_capacity",
    "link_gsnr_01nm_db",
    "select_mode",
    "shipped_modes",
    "shipped_transceivers",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Usable C band, Hz: 4.8 THz, the extended C band of 400ZR line systems (REFERENCES
#: "Optical / APN": 64 channels × 75 GHz), the default optical band of a link.
C_BAND_HZ: Final = 4.8e12
#: Centre of the comb, Hz (193.1 THz, the ITU-T G.694.1 anchor frequency).
_CENTRE_HZ: Final = 193.1e12


@dataclass(frozen=True)
class ModeTable:
    """Transceiver modes as columns (one row per mode).

    Attributes
    ----------
    name : ndarray of str
    rate_bps : ndarray
        Net bit rate of one wavelength.
    baud_rate_hz : ndarray
        Symbol rate (the signal bandwidth of the GSNR).
    required_osnr_01nm_db : ndarray
        Lowest GSNR in 0.1 nm at which the mode works (before the system margin).
    tx_osnr_01nm_db : ndarray
        Transceiver OSNR in 0.1 nm.
    spacing_hz : ndarray
        Channel spacing the mode needs on the grid.
    """

    name: npt.NDArray[np.str_]
    rate_bps: FloatArray
    baud_rate_hz: FloatArray
    required_osnr_01nm_db: FloatArray
    tx_osnr_01nm_db: FloatArray
    spacing_hz: FloatArray

    def __post_init__(self) -> None:
        n = self.name.size
        if n == 0:
            raise DataError("a mode table needs at least one mode")
        for field in ("rate_bps", "baud_rate_hz", "required_osnr_01nm_db",
                      "tx_osnr_01nm_db", "spacing_hz"):  # fmt: skip
            col = getattr(self, field)
            ok = np.isfinite(col) | ((field == "tx_osnr_01nm_db") & (col == np.inf))  # ideal Tx
            if col.shape != (n,) or not np.all(ok):
                raise DataError(f"mode column {field} needs {n} finite values (got {col!r})")
        if np.any(self.rate_bps <= 0) or np.any(self.baud_rate_hz <= 0):
            raise DataError("mode rates and symbol rates must be > 0 (b/s, Hz)")
        if np.any(self.spacing_hz < self.baud_rate_hz):
            i = int(np.flatnonzero(self.spacing_hz < self.baud_rate_hz)[0])
            raise DataError(
                f"mode {self.name[i]!r}: spacing {self.spacing_hz[i]:.4g} Hz is below its symbol "
                f"rate {self.baud_rate_hz[i]:.4g} Hz; pass the grid spacing the mode occupies"
            )

    @classmethod
    def from_transceiver(cls, transceiver: TransceiverType) -> ModeTable:
        """The modes of an equipment-library transceiver (GNPy ``eqpt_config.json``)."""
        m = transceiver.modes
        return cls(
            name=np.array([x.name for x in m], dtype=np.str_),
            rate_bps=np.array([x.bit_rate_bps for x in m], dtype=np.float64),
            baud_rate_hz=np.array([x.baud_rate_hz for x in m], dtype=np.float64),
            required_osnr_01nm_db=np.array([x.required_osnr_db for x in m], dtype=np.float64),
            tx_osnr_01nm_db=np.array([x.tx_osnr_db for x in m], dtype=np.float64),
            spacing_hz=np.array([x.min_spacing_hz for x in m], dtype=np.float64),
        )

    @classmethod
    def from_formats(
        cls,
        formats: Sequence[ModulationFormat],
        *,
        baud_rate_hz: float,
        spacing_hz: float,
        tx_osnr_01nm_db: float,
    ) -> ModeTable:
        """Modes from modulation formats at one symbol rate (rate = spectral efficiency × baud).

        ``ModulationFormat.required_gsnr_db`` is in the signal bandwidth (e.g.
        :func:`tsunagu.optical.multidomain.coherent_formats`); it is converted to 0.1 nm here.
        """
        if not formats:
            raise DataError("from_formats needs at least one modulation format")
        req = np.array([f.required_gsnr_db for f in formats], dtype=np.float64)
        if not np.all(np.isfinite(req)):
            raise DataError(
                "every format needs a finite required_gsnr_db; use qam_formats_for_ber or "
                "coherent_formats, not a reach-only table"
            )
        n = len(formats)
        return cls(
            name=np.array([f.name for f in formats], dtype=np.str_),
            rate_bps=np.array(
                [f.spectral_efficiency_bps_per_hz * baud_rate_hz for f in formats], np.float64
            ),
            baud_rate_hz=np.full(n, baud_rate_hz),
            required_osnr_01nm_db=snr_bandwidth_to_01nm_db(req, baud_rate_hz),
            tx_osnr_01nm_db=np.full(n, tx_osnr_01nm_db),
            spacing_hz=np.full(n, spacing_hz),
        )


def select_mode(
    gsnr_01nm_db: npt.ArrayLike,
    modes: ModeTable,
    *,
    margin_db: float,
    wavelengths: npt.ArrayLike | None = None,
    band_hz: float = C_BAND_HZ,
) -> tuple[IntArray, FloatArray]:
    """Best feasible mode per link: the most capacity among modes with GSNR ≥ threshold + margin.

    Parameters
    ----------
    gsnr_01nm_db : array_like, shape (L,) or (L, M)
        GSNR (0.1 nm) of each link, one value for all modes or one per mode.
    modes : ModeTable
    margin_db : float
        System margin δ (dB) added to every threshold (GNPy ``SI.sys_margins``).
    wavelengths : array_like of int (L,), optional
        Provisioned wavelengths; with it the score is ``min(W, N_m) R_m``, else ``R_m``.
    band_hz : float
        Optical band that bounds ``N_m = floor(band / spacing_m)``.

    Returns
    -------
    mode_index : ndarray of int (L,)
        Chosen mode, -1 where none is feasible.
    rate_bps : ndarray (L,)
        Its per-wavelength rate, 0 where none.

    Examples
    --------
    >>> m = ModeTable(np.array(["a", "b"]), np.array([100e9, 200e9]), np.array([32e9, 64e9]),
    ...               np.array([11.0, 15.0]), np.array([40.0, 40.0]), np.array([50e9, 75e9]))
    >>> select_mode([10.0, 13.0, 17.0], m, margin_db=0.0)[0].tolist()
    [-1, 0, 1]
    """
    if not math.isfinite(margin_db):
        raise DataError(f"margin_db must be finite (got {margin_db}); e.g. GNPy's 2 dB")
    g = np.asarray(gsnr_01nm_db, dtype=np.float64)
    n_modes = modes.name.size
    if g.ndim == 1:
        g = np.repeat(g[:, None], n_modes, axis=1)
    if g.ndim != 2 or g.shape[1] != n_modes:
        raise DataError(f"gsnr_01nm_db needs shape (L,) or (L, {n_modes}); got {g.shape}")
    feasible = g >= modes.required_osnr_01nm_db[None, :] + margin_db
    if wavelengths is None:
        score = np.broadcast_to(modes.rate_bps, g.shape)
    else:
        w = np.asarray(wavelengths, dtype=np.float64)
        score = np.minimum(w[:, None], channels_in_band(modes, band_hz)[None, :]) * modes.rate_bps
    # Ties in capacity go to the mode with the lower threshold (the most margin left).
    key = np.where(feasible, score, -np.inf)
    tie = np.where(feasible, -modes.required_osnr_01nm_db[None, :], -np.inf)
    order = np.lexsort((tie, key), axis=1)  # ascending; the last is the best
    best = order[:, -1] if n_modes else np.zeros(g.shape[0], dtype=np.int64)
    ok = feasible[np.arange(g.shape[0]), best]
    index = np.where(ok, best, -1).astype(np.int64)
    rate = np.where(ok, modes.rate_bps[best], 0.0)
    return index, np.asarray(rate, dtype=np.float64)


def channels_in_band(modes: ModeTable, band_hz: float = C_BAND_HZ) -> IntArray:
    """How many channels of each mode's spacing fit in ``band_hz``."""
    if not band_hz > 0.0:
        raise DataError(f"band_hz must be > 0 (got {band_hz}); the C band is 4.8e12 Hz")
    return np.floor(band_hz / modes.spacing_hz * (1.0 + 1e-12)).astype(np.int64)


def link_gsnr_01nm_db(
    length_km: npt.ArrayLike,
    modes: ModeTable,
    *,
    band_hz: float = C_BAND_HZ,
    span_length_km: float = 80.0,
    launch_power_dbm: float = 0.0,
    amp_noise_figure_db: float = 5.5,
    loss_db_per_km: float = 0.2,
    roadm_osnr_01nm_db: float = 38.0,
) -> FloatArray:
    """GSNR (0.1 nm) of each link for each mode, shape (L, M), transceiver noise included.

    Each link is cut into ``ceil(L / span_length_km)`` equal amplified spans ending in one
    ROADM stage (the line model of :func:`tsunagu.optical.rmsa.link_nsr_gn`); the comb is full
    (``floor(band / spacing)`` channels of the mode, the worst case for NLI) and the centre
    channel is evaluated. Cutting a link into more, shorter spans can raise its GSNR a little,
    so the GSNR falls with length at a fixed span count, not between span counts.
    """
    length = np.atleast_1d(np.asarray(length_km, dtype=np.float64))
    if np.any(~np.isfinite(length)) or np.any(length < 0.0):
        raise DataError("fibre link lengths must be finite and >= 0 km")
    if not span_length_km > 0.0:
        raise DataError(f"span_length_km must be > 0 (got {span_length_km}); e.g. 80")
    # Equal amplified spans of at most span_length_km; a co-sited link keeps one 1 m span so
    # it still passes its ROADM stage (as in rmsa.link_nsr_gn).
    n_span = np.maximum(np.ceil(length / span_length_km), 1).astype(np.int64)
    width = int(n_span.max(initial=1))
    spans = np.where(np.arange(width)[None, :] < n_span[:, None], (length / n_span)[:, None], 0.0)
    spans[:, 0] = np.maximum(spans[:, 0], 1e-3)
    out = np.empty((length.size, modes.name.size))
    n_ch = channels_in_band(modes, band_hz)
    combos = np.unique(np.stack([modes.baud_rate_hz, modes.spacing_hz], axis=1), axis=0)
    for baud, spacing in combos:  # one GN evaluation per distinct (symbol rate, spacing)
        sel = np.flatnonzero((modes.baud_rate_hz == baud) & (modes.spacing_hz == spacing))
        count = int(n_ch[sel[0]])
        if count < 1:
            raise DataError(f"band_hz {band_hz:g} holds no channel of spacing {spacing:g} Hz")
        res = lightpath_qot(
            spans,
            baud_rate_hz=float(baud),
            span_loss_db_per_km=loss_db_per_km,
            launch_power_dbm=launch_power_dbm,
            amp_noise_figure_db=amp_noise_figure_db,
            roadm_count=1,
            roadm_osnr_01nm_db=roadm_osnr_01nm_db,
            tx_osnr_01nm_db=math.inf,
            spacing_hz=float(spacing),
            channel_count=count,
            f_min_hz=_CENTRE_HZ - (count - 1) * float(spacing) / 2.0,
            roll_off=0.0,  # enters no noise term; GNPy's own modes may sit tighter than Rs(1+β)
        )
        nsr = 10.0 ** (-res.gsnr_db[:, count // 2] / 10.0)  # centre channel: most NLI
        tx = 10.0 ** (-modes.tx_osnr_01nm_db[sel] / 10.0) * baud / OSNR_REFERENCE_BANDWIDTH_HZ
        gsnr_db = -10.0 * np.log10(nsr[:, None] + tx[None, :])
        out[:, sel] = snr_bandwidth_to_01nm_db(gsnr_db, float(baud))
    return out


@dataclass(frozen=True)
class FibreCapacity:
    """Per fibre link: GSNR of the chosen mode, the mode, its rate and the link capacity."""

    gsnr_01nm_db: FloatArray
    mode_index: IntArray
    mode_name: npt.NDArray[np.str_]
    wavelength_rate_bps: FloatArray
    wavelengths: IntArray
    capacity_bps: FloatArray


def fibre_link_capacity(
    length_km: npt.ArrayLike,
    wavelengths: npt.ArrayLike,
    modes: ModeTable,
    *,
    margin_db: float,
    band_hz: float = C_BAND_HZ,
    span_length_km: float = 80.0,
    launch_power_dbm: float = 0.0,
    amp_noise_figure_db: float = 5.5,
    loss_db_per_km: float = 0.2,
    roadm_osnr_01nm_db: float = 38.0,
) -> FibreCapacity:
    """Capacity (b/s) of fibre links: provisioned wavelengths × the rate of the best mode.

    Parameters
    ----------
    length_km : array_like (L,)
        ROADM-to-ROADM fibre length.
    wavelengths : array_like of int (L,) or scalar
        Provisioned wavelengths (>= 0); at most ``floor(band / spacing)`` of a mode are lit.
    modes : ModeTable
    margin_db : float
        System margin (dB) on every mode threshold.
    band_hz, span_length_km, launch_power_dbm, amp_noise_figure_db, loss_db_per_km,
    roadm_osnr_01nm_db
        Line system, as in :func:`link_gsnr_01nm_db`.

    Returns
    -------
    FibreCapacity
        ``capacity_bps`` is 0 where no mode is feasible or nothing is provisioned.
    """
    length = np.atleast_1d(np.asarray(length_km, dtype=np.float64))
    w_in = np.asarray(wavelengths)
    if w_in.size and not np.issubdtype(w_in.dtype, np.integer):
        raise DataError(f"wavelengths must be integers (got {w_in.dtype}); pass a count per link")
    w = np.broadcast_to(w_in.astype(np.int64), length.shape).copy()
    if np.any(w < 0):
        raise DataError("wavelengths must be >= 0 per link")
    gsnr = link_gsnr_01nm_db(
        length,
        modes,
        band_hz=band_hz,
        span_length_km=span_length_km,
        launch_power_dbm=launch_power_dbm,
        amp_noise_figure_db=amp_noise_figure_db,
        loss_db_per_km=loss_db_per_km,
        roadm_osnr_01nm_db=roadm_osnr_01nm_db,
    )
    index, rate = select_mode(gsnr, modes, margin_db=margin_db, wavelengths=w, band_hz=band_hz)
    ok = index >= 0
    safe = np.maximum(index, 0)
    lit = np.where(ok, np.minimum(w, channels_in_band(modes, band_hz)[safe]), 0)
    return FibreCapacity(
        gsnr_01nm_db=np.where(ok, gsnr[np.arange(length.size), safe], np.max(gsnr, axis=1)),
        mode_index=index,
        mode_name=np.where(ok, modes.name[safe], ""),
        wavelength_rate_bps=rate,
        wavelengths=lit.astype(np.int64),
        capacity_bps=np.asarray(lit * rate, dtype=np.float64),
    )


_MODE_COLUMNS: Final = (
    "bit_rate_bps",
    "baud_rate_hz",
    "required_osnr_01nm_db",
    "tx_osnr_01nm_db",
    "min_spacing_hz",
)


@functools.cache
def _shipped_rows() -> tuple[tuple[str, str, tuple[float, ...]], ...]:
    text = (
        importlib.resources.files("tsunagu.data")
        .joinpath("transceiver_modes.csv")
        .read_text("utf-8")
    )
    rows = []
    for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            values = tuple(float(row[c]) for c in _MODE_COLUMNS)
        except (KeyError, TypeError, ValueError):
            raise DataError(
                f"transceiver_modes.csv line {i}: {', '.join(_MODE_COLUMNS)} must be numbers"
            ) from None
        rows.append((row["transceiver"], row["mode"], values))
    return tuple(rows)


def shipped_transceivers() -> tuple[str, ...]:
    """Names of the transceivers in the shipped mode table (``transceiver_modes.csv``)."""
    return tuple(dict.fromkeys(r[0] for r in _shipped_rows()))


def shipped_modes(transceiver: str) -> ModeTable:
    """The modes of a transceiver of the shipped table (GNPy's example equipment library).

    Examples
    --------
    >>> shipped_modes("Voyager").rate_bps.max()
    np.float64(400000000000.0)
    """
    rows = [r for r in _shipped_rows() if r[0] == transceiver]
    if not rows:
        raise DataError(
            f"no transceiver {transceiver!r} in the shipped mode table; "
            f"known: {list(shipped_transceivers())}"
        )
    v = np.array([r[2] for r in rows], dtype=np.float64)
    return ModeTable(
        name=np.array([r[1] for r in rows], dtype=np.str_),
        rate_bps=v[:, 0],
        baud_rate_hz=v[:, 1],
        required_osnr_01nm_db=v[:, 2],
        tx_osnr_01nm_db=v[:, 3],
        spacing_hz=v[:, 4],
    )
