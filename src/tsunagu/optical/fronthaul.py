"""Mobile fronthaul over the APN: O-RAN split-7.2x bit rate and the one-way latency budget.

Pure, vectorised model functions; the RAN's carriers come in as plain numbers (the optical
domain never imports the RAN), and the adapter that joins the two lives outside both domains.

Bit rate (O-RAN WG4 CUS-plane specification, U-plane message format and Annex A block
floating-point compression): in split 7.2x the O-DU sends frequency-domain IQ per resource
element. Each PRB of one OFDM symbol of one spatial stream (eAxC) carries 12 subcarriers × 2
(I and Q) × ``iq_width`` bits, plus, with block floating point (BFP), one ``udCompParam`` byte
holding the shared exponent. Symbols per second are ``14 · 2^μ · 1000`` (normal cyclic
prefix, TS 38.211 §4.3.2). Each U-plane message adds the eCPRI common header (4 B, eCPRI
Specification v2.0 §3.1.3.1), the O-RAN application header (4 B) and one section header
(4 B, 6 B with an in-band compression header), and each Ethernet frame adds 14 B header,
4 B VLAN tag, 4 B FCS, 8 B preamble and 12 B inter-frame gap (IEEE 802.3/802.1Q). A symbol's
PRBs are split over as many messages as the MTU requires.

Spatial streams: a category-A O-RU (no precoding in the RU) receives one stream per antenna
port; a category-B O-RU (precoding in the RU, 7.2x "b") one stream per layer.

Latency budget: the eCPRI transport-network requirements (eCPRI Transport Network D0.1 v1.2,
2018, Table 2) define classes of service with a one-way frame-delay limit of 25 µs (High25),
100 µs (High100), 200 µs (High200) and 500 µs (High500) for the user plane; the usual
split-7.2x deployment assumes High100, ≈ 20 km of fibre at 4.90 µs/km once equipment delay is
taken out.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX
from tsunagu.errors import ModelRangeError

__all__ = [
    "ECPRI_LATENCY_CLASS_S",
    "ETHERNET_OVERHEAD_BYTES",
    "fronthaul_reach_km",
    "split72_bitrate_bps",
    "split72_prb_bits",
]

FloatArray = npt.NDArray[np.float64]

#: One-way user-plane frame-delay limits of the eCPRI transport classes of service
#: (eCPRI Transport Network D0.1 v1.2, Table 2).
ECPRI_LATENCY_CLASS_S: Final[dict[str, float]] = {
    "high25": 25e-6,
    "high100": 100e-6,
    "high200": 200e-6,
    "high500": 500e-6,
}

#: Bytes an Ethernet frame costs on the wire beyond its payload: 14 B MAC header, 4 B 802.1Q
#: tag, 4 B FCS, 8 B preamble + SFD, 12 B inter-frame gap.
ETHERNET_OVERHEAD_BYTES: Final = 14 + 4 + 4 + 8 + 12

_ECPRI_COMMON_HEADER_BYTES: Final = 4
_ORAN_APP_HEADER_BYTES: Final = 4
_SECTION_HEADER_BYTES: Final = 4
_SECTION_COMP_HEADER_BYTES: Final = 2  # udCompHdr + reserved, when compression is in-band

Compression = Literal["none", "bfp"]


def split72_prb_bits(iq_width_bits: npt.ArrayLike, compression: Compression = "bfp") -> FloatArray:
    """Bits of one PRB of one symbol of one stream in the U-plane payload.

    ``24 · iq_width`` (12 subcarriers × I and Q), plus the 8-bit ``udCompParam`` exponent
    per PRB with block floating point.

    Examples
    --------
    >>> float(split72_prb_bits(9))   # BFP-9: 27 B of IQ + 1 B exponent
    224.0
    >>> float(split72_prb_bits(16, "none"))
    384.0
    """
    w = np.asarray(iq_width_bits, dtype=np.float64)
    if compression not in ("none", "bfp"):
        raise ModelRangeError(
            f"unknown fronthaul compression {compression!r}; pass 'bfp' (block floating point) "
            "or 'none' (fixed-point IQ)"
        )
    lo, hi = (1.0, 16.0)
    if np.any((w < lo) | (w > hi)):
        raise ModelRangeError(
            f"O-RAN split 7.2x IQ width must be {lo:g}–{hi:g} bits (udIqWidth); got "
            f"{w.min():g}–{w.max():g}"
        )
    return np.asarray(24.0 * w + (8.0 if compression == "bfp" else 0.0), dtype=np.float64)


def split72_bitrate_bps(
    n_prb: npt.ArrayLike,
    scs_khz: npt.ArrayLike,
    streams: npt.ArrayLike,
    iq_width_bits: npt.ArrayLike = 9.0,
    compression: Compression = "bfp",
    mtu_bytes: int = 9000,
    prb_utilisation: npt.ArrayLike = 1.0,
) -> FloatArray:
    """Line rate (bit/s, one direction) of an O-RAN split-7.2x fronthaul carrying one carrier.

    Parameters
    ----------
    n_prb : array_like
        PRBs of the carrier (TS 38.101 Table 5.3.2-1, e.g. 273 for 100 MHz at 30 kHz).
    scs_khz : array_like
        Subcarrier spacing, 15·2^μ kHz.
    streams : array_like
        Spatial streams (eAxC): antenna ports for a category-A O-RU, layers for category B.
    iq_width_bits : array_like
        udIqWidth, bits per I and per Q sample (9 is the common BFP setting; 16 uncompressed).
    compression : {"bfp", "none"}
        Block floating point (adds one exponent byte per PRB) or fixed-point IQ.
    mtu_bytes : int
        Ethernet payload limit; a symbol's PRBs are split over as many U-plane messages as
        needed (9000 for jumbo frames, 1500 standard).
    prb_utilisation : array_like
        Share of PRBs carried (1 dimensions the link for a fully loaded cell; the U-plane only
        carries scheduled PRBs).

    Returns
    -------
    ndarray
        Bits per second on the wire, including eCPRI/O-RAN headers and Ethernet framing.

    Examples
    --------
    >>> round(float(split72_bitrate_bps(273, 30, 4)) / 1e9, 3)   # n78 100 MHz, 4 layers, BFP-9
    6.899
    """
    prb = np.asarray(n_prb, dtype=np.float64)
    scs = np.asarray(scs_khz, dtype=np.float64)
    s = np.asarray(streams, dtype=np.float64)
    util = np.asarray(prb_utilisation, dtype=np.float64)
    mu = np.log2(scs / 15.0)
    if np.any((mu < 0) | (mu > 6) | (np.abs(mu - np.round(mu)) > 1e-9)):
        raise ModelRangeError(
            f"subcarrier spacing must be 15·2^μ kHz with μ = 0…6; got {np.unique(scs)}"
        )
    if np.any(prb < 1) or np.any(s < 1):
        raise ModelRangeError("n_prb and streams must be at least 1")
    if np.any((util < 0) | (util > 1)):
        raise ModelRangeError("prb_utilisation is a share in [0, 1]")
    header_bytes = (
        _ECPRI_COMMON_HEADER_BYTES
        + _ORAN_APP_HEADER_BYTES
        + _SECTION_HEADER_BYTES
        + (_SECTION_COMP_HEADER_BYTES if compression == "bfp" else 0)
    )
    if mtu_bytes <= header_bytes + 64:
        raise ModelRangeError(f"mtu_bytes {mtu_bytes} leaves no room for IQ data; use ≥ 1500")
    prb_bits = split72_prb_bits(iq_width_bits, compression)
    symbols_per_s = 14.0 * 2.0**mu * 1000.0
    prbs_sent = np.ceil(prb * util)
    payload_bytes = prbs_sent * prb_bits / 8.0
    prb_per_msg = np.floor((mtu_bytes - header_bytes) * 8.0 / prb_bits)
    messages = np.where(prbs_sent > 0, np.ceil(prbs_sent / prb_per_msg), 0.0)
    wire_bytes = payload_bytes + messages * (header_bytes + ETHERNET_OVERHEAD_BYTES)
    return np.asarray(wire_bytes * 8.0 * symbols_per_s * s, dtype=np.float64)


def fronthaul_reach_km(
    budget_s: npt.ArrayLike,
    equipment_delay_s: npt.ArrayLike = 0.0,
    group_index: float = FIBRE_GROUP_INDEX,
) -> FloatArray:
    """Fibre length (km) a one-way fronthaul budget allows after the equipment delay.

    ``(budget − equipment) · c / n``; zero when the equipment alone exceeds the budget.

    Examples
    --------
    >>> round(float(fronthaul_reach_km(100e-6)), 2)   # High100, no switches
    20.42
    """
    b = np.asarray(budget_s, dtype=np.float64)
    e = np.asarray(equipment_delay_s, dtype=np.float64)
    return np.asarray(np.maximum(b - e, 0.0) * C_M_PER_S / group_index / 1e3, dtype=np.float64)
