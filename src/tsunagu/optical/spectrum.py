"""ITU-T G.694.1 flexible grid: slots, slot counts, and per-link spectrum occupancy as bitmasks.

Grid (ITU-T G.694.1 (10/2020) §7; RFC 7698 §3.1): a frequency slot is given by its nominal
central frequency ``f = 193.1 THz + n × 6.25 GHz`` and its width ``m × 12.5 GHz``. The planning
unit here is the 12.5 GHz *slot unit* (FSU); a channel of ``w`` contiguous units starting at unit
``s`` of a band that starts at ``f0`` has centre ``f0 + (s + w/2) × 12.5 GHz``, which lies on
the 6.25 GHz centre grid whenever ``f0`` does.

Occupancy is held per link as one Python integer whose bit ``i`` is set when slot unit ``i`` is
in use. The spectrum-continuity and contiguity constraints are then bit-parallel over all slots:
the free units common to a path are ``~(occ[l1] | occ[l2] | ...)``, and the start positions of
``w`` contiguous free units are the AND of that mask with itself shifted ``1 .. w-1`` places
(done in ``⌈log2 w⌉`` shift-ANDs). A C-band link of 384 units is six 64-bit words to the
interpreter, so one such operation costs about the same as one NumPy call on a scalar and far
less than a NumPy call on a (links × slots) array. :meth:`SpectrumGrid.occupancy` gives the
same state as a NumPy ``(links, slots)`` boolean array for reports and vectorised analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from tsunagu.errors import DataError, InfeasibleError

__all__ = [
    "ANCHOR_FREQUENCY_HZ",
    "CENTRE_GRANULARITY_HZ",
    "C_BAND_WIDTH_HZ",
    "SLOT_WIDTH_HZ",
    "SpectrumGrid",
    "block_mask",
    "fit_starts",
    "flexgrid_n_m",
    "free_run_lengths",
    "mask_to_bool",
    "slot_centre_frequency_hz",
    "slot_count",
    "slots_required",
]

#: ITU-T G.694.1 anchor frequency, Hz.
ANCHOR_FREQUENCY_HZ: Final = 193.1e12
#: Nominal central-frequency granularity of the flexible grid, Hz (G.694.1 §7).
CENTRE_GRANULARITY_HZ: Final = 6.25e9
#: Slot-width granularity of the flexible grid, Hz (G.694.1 §7).
SLOT_WIDTH_HZ: Final = 12.5e9
#: Default usable C band (SPEC §3.1), Hz: 4.8 THz, i.e. 384 slot units of 12.5 GHz.
C_BAND_WIDTH_HZ: Final = 4.8e12

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def slot_count(band_width_hz: float = C_BAND_WIDTH_HZ, slot_width_hz: float = SLOT_WIDTH_HZ) -> int:
    """Number of whole slot units in a band (``floor(band / slot)``); 384 for 4.8 THz C band."""
    if not (np.isfinite(band_width_hz) and band_width_hz > 0 and slot_width_hz > 0):
        raise DataError(
            f"band width {band_width_hz} Hz and slot width {slot_width_hz} Hz must be positive"
        )
    return int(np.floor(band_width_hz / slot_width_hz + 1e-9))


def slots_required(
    bit_rate_bps: npt.ArrayLike,
    spectral_efficiency_bps_per_hz: npt.ArrayLike,
    guard_slots: int = 1,
    slot_width_hz: float = SLOT_WIDTH_HZ,
) -> IntArray:
    """Slot units a demand occupies: ``ceil(R / (SE × slot width)) + guard``.

    This is the distance-adaptive sizing of Chen et al., "DeepRMSA", J. Lightwave Technol.
    37(16):4155-4163, 2019, §IV (one guard unit per lightpath). Broadcasts; ``SE <= 0`` or
    NaN (no usable format) gives ``0`` so callers can mask those entries.

    Examples
    --------
    >>> slots_required([100e9, 25e9], [4.0, 1.0]).tolist()
    [3, 3]
    """
    rate = np.asarray(bit_rate_bps, dtype=np.float64)
    se = np.asarray(spectral_efficiency_bps_per_hz, dtype=np.float64)
    if np.any(rate < 0) or not np.all(np.isfinite(rate)):
        raise DataError("bit_rate_bps must be finite and >= 0")
    ok = np.isfinite(se) & (se > 0)
    safe = np.where(ok, se, 1.0)
    # Round the quotient before ceil so 100e9 / (4 × 12.5e9) = 2 exactly, not 2.0000000001.
    n = np.ceil(np.round(rate / (safe * slot_width_hz), 9)) + guard_slots
    return np.where(ok, n, 0).astype(np.int64)


def slot_centre_frequency_hz(
    first_slot: npt.ArrayLike,
    width_slots: npt.ArrayLike,
    band_start_hz: float = ANCHOR_FREQUENCY_HZ - C_BAND_WIDTH_HZ / 2,
    slot_width_hz: float = SLOT_WIDTH_HZ,
) -> FloatArray:
    """Centre frequency of ``width_slots`` units starting at unit ``first_slot``, Hz."""
    s = np.asarray(first_slot, dtype=np.float64)
    w = np.asarray(width_slots, dtype=np.float64)
    return np.asarray(band_start_hz + (s + w / 2.0) * slot_width_hz, dtype=np.float64)


def flexgrid_n_m(
    first_slot: npt.ArrayLike,
    width_slots: npt.ArrayLike,
    band_start_hz: float = ANCHOR_FREQUENCY_HZ - C_BAND_WIDTH_HZ / 2,
) -> tuple[IntArray, IntArray]:
    """G.694.1 / RFC 7698 slot labels ``(n, m)``: centre ``193.1 THz + n·6.25 GHz``, width
    ``m·12.5 GHz`` (the ``[N],[M]`` of GNPy's path-request output).

    Raises
    ------
    DataError
        If the band start is not on the 6.25 GHz grid (then no slot centre is).

    Examples
    --------
    >>> n, m = flexgrid_n_m([192, 0], [4, 1])
    >>> n.tolist(), m.tolist()
    ([4, -383], [4, 1])
    """
    offset = (band_start_hz - ANCHOR_FREQUENCY_HZ) / CENTRE_GRANULARITY_HZ
    if abs(offset - round(offset)) > 1e-6:
        raise DataError(
            f"band start {band_start_hz} Hz is not on the 6.25 GHz grid anchored at 193.1 THz; "
            "pass 193.1e12 + k * 6.25e9"
        )
    s = np.asarray(first_slot, dtype=np.int64)
    w = np.asarray(width_slots, dtype=np.int64)
    # centre = start + (s + w/2) × 12.5 GHz = start + (2s + w) × 6.25 GHz
    n = np.int64(round(offset)) + 2 * s + w
    return n.astype(np.int64), w.astype(np.int64)


def block_mask(first_slot: int, width_slots: int) -> int:
    """Bitmask of ``width_slots`` units starting at ``first_slot``."""
    return ((1 << width_slots) - 1) << first_slot


def fit_starts(free: int, width_slots: int) -> int:
    """Bitmask of the start units of every run of ``width_slots`` contiguous free units.

    Bit ``i`` of the result is set iff units ``i .. i + width_slots - 1`` are all set in
    ``free``. Uses ``⌈log2 width⌉`` shift-ANDs (doubling the covered run each time).

    Examples
    --------
    >>> bin(fit_starts(0b0111_0110, 3))
    '0b10000'
    """
    if width_slots <= 0:
        return 0
    g = free
    covered = 1
    while covered < width_slots:
        step = min(covered, width_slots - covered)
        g &= g >> step
        covered += step
    return g


def free_run_lengths(free: int, n_slots: int) -> tuple[IntArray, IntArray]:
    """Starts and lengths of the maximal runs of free units (set bits) in ``free``."""
    bits = mask_to_bool(free, n_slots).astype(np.int8)
    edges = np.diff(np.concatenate([[0], bits, [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return starts.astype(np.int64), (ends - starts).astype(np.int64)


def mask_to_bool(mask: int, n_slots: int) -> npt.NDArray[np.bool_]:
    """Bit ``i`` of ``mask`` as element ``i`` of a boolean array of length ``n_slots``."""
    raw = np.frombuffer(mask.to_bytes((n_slots + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:n_slots].astype(bool)


@dataclass
class SpectrumGrid:
    """Slot occupancy of every link (bit ``i`` of ``occupied[l]`` set: unit ``i`` in use).

    Attributes
    ----------
    n_links : int
    n_slots : int
        Slot units per link (100 in the DeepRMSA setting, 384 for a 4.8 THz C band).
    occupied : list of int
        One bitmask per link.
    """

    n_links: int
    n_slots: int
    occupied: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.n_links < 0 or self.n_slots <= 0:
            raise DataError(
                f"a spectrum grid needs n_links >= 0 and n_slots >= 1, got {self.n_links}, "
                f"{self.n_slots}"
            )
        if not self.occupied:
            self.occupied = [0] * self.n_links
        elif len(self.occupied) != self.n_links:
            raise DataError(f"occupied has {len(self.occupied)} masks for {self.n_links} links")
        self.full = (1 << self.n_slots) - 1

    def free_on_path(self, links: list[int] | tuple[int, ...]) -> int:
        """Units free on every link of a path (spectrum continuity)."""
        used = 0
        occ = self.occupied
        for link in links:
            used |= occ[link]
        return self.full & ~used

    def is_free(self, links: list[int] | tuple[int, ...], first_slot: int, width: int) -> bool:
        """Whether units ``first_slot .. first_slot + width - 1`` are free on every link."""
        if first_slot < 0 or first_slot + width > self.n_slots:
            return False
        m = block_mask(first_slot, width)
        return self.free_on_path(links) & m == m

    def allocate(self, links: list[int] | tuple[int, ...], first_slot: int, width: int) -> None:
        """Mark a block in use on every link.

        Raises
        ------
        InfeasibleError
            If any unit is already in use on any link (nothing is changed then).
        """
        if not self.is_free(links, first_slot, width):
            raise InfeasibleError(
                f"slots {first_slot}..{first_slot + width - 1} are not free on links "
                f"{list(links)}; pick a block inside free_on_path(links)"
            )
        m = block_mask(first_slot, width)
        occ = self.occupied
        for link in links:
            occ[link] |= m

    def release(self, links: list[int] | tuple[int, ...], first_slot: int, width: int) -> None:
        """Free a block on every link (a no-op for units already free)."""
        keep = ~block_mask(first_slot, width)
        occ = self.occupied
        for link in links:
            occ[link] &= keep

    def occupancy(self) -> npt.NDArray[np.bool_]:
        """The occupancy as a ``(n_links, n_slots)`` boolean array (True: in use)."""
        out = np.zeros((self.n_links, self.n_slots), dtype=bool)
        for i, mask in enumerate(self.occupied):
            if mask:
                out[i] = mask_to_bool(mask, self.n_slots)
        return out

    def utilisation(self) -> float:
        """Share of (link, unit) cells in use, 0..1."""
        if self.n_links == 0:
            return 0.0
        used = sum(m.bit_count() for m in self.occupied)
        return used / (self.n_links * self.n_slots)
