"""Flexgrid slots and bitmask spectrum occupancy (tsunagu.optical.spectrum)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.errors import DataError, InfeasibleError
from tsunagu.optical.spectrum import (
    SpectrumGrid,
    block_mask,
    fit_starts,
    flexgrid_n_m,
    free_run_lengths,
    mask_to_bool,
    slot_centre_frequency_hz,
    slot_count,
    slots_required,
)


def test_c_band_has_384_slot_units() -> None:
    # SPEC §3.1: 4.8 THz of C band in 12.5 GHz units.
    assert slot_count() == 384
    assert slot_count(4.0e12) == 320
    with pytest.raises(DataError):
        slot_count(-1.0)


def test_slots_required_deeprmsa_examples() -> None:
    # DeepRMSA cal_FS: ceil(R / (SE × 12.5 GHz)) + 1 guard.
    rate = np.array([25e9, 50e9, 100e9, 100e9, 37e9])
    se = np.array([1.0, 4.0, 4.0, 2.0, 3.0])
    assert slots_required(rate, se).tolist() == [3, 2, 3, 5, 2]
    # no usable format -> 0, whatever the rate
    assert slots_required([100e9], [np.nan]).tolist() == [0]
    assert slots_required([100e9], [4.0], guard_slots=0).tolist() == [2]


def test_flexgrid_labels_are_on_the_6_25_ghz_grid() -> None:
    first = np.arange(0, 380, 7)
    width = np.full(first.shape, 4)
    n, m = flexgrid_n_m(first, width)
    centre = slot_centre_frequency_hz(first, width)
    assert np.allclose(193.1e12 + n * 6.25e9, centre, rtol=0, atol=1e-3)
    assert np.all(m == 4)
    with pytest.raises(DataError, match=r"6\.25 GHz grid"):
        flexgrid_n_m([0], [1], band_start_hz=193.1e12 + 1e9)


def _brute_starts(free: np.ndarray, width: int) -> set[int]:
    n = free.size
    return {i for i in range(n - width + 1) if free[i : i + width].all()}


@given(
    bits=st.lists(st.booleans(), min_size=1, max_size=130),
    width=st.integers(min_value=1, max_value=20),
)
def test_fit_starts_matches_brute_force(bits: list[bool], width: int) -> None:
    free = np.array(bits)
    mask = sum(1 << i for i, b in enumerate(bits) if b)
    got = fit_starts(mask, width)
    assert {i for i in range(len(bits)) if got >> i & 1} == _brute_starts(free, width)
    assert np.array_equal(mask_to_bool(mask, len(bits)), free)
    starts, lengths = free_run_lengths(mask, len(bits))
    assert int(lengths.sum()) == int(free.sum())
    for s, ln in zip(starts, lengths, strict=True):
        assert free[s : s + ln].all()
        assert s == 0 or not free[s - 1]


def test_grid_allocate_release_and_conflicts() -> None:
    g = SpectrumGrid(3, 16)
    g.allocate((0, 1), 2, 4)
    assert not g.is_free((1, 2), 4, 2)
    assert g.is_free((2,), 4, 2)
    assert g.free_on_path((0,)) == g.full & ~block_mask(2, 4)
    with pytest.raises(InfeasibleError, match="not free"):
        g.allocate((1,), 5, 3)
    # failed allocation changed nothing
    assert g.occupancy()[1].sum() == 4
    assert not g.is_free((0,), 14, 3)  # runs past the band edge
    g.release((0, 1), 2, 4)
    assert g.utilisation() == 0.0
    occ = SpectrumGrid(2, 8, [0b1, 0b11]).occupancy()
    assert occ.tolist() == [[True] + [False] * 7, [True, True] + [False] * 6]
    with pytest.raises(DataError):
        SpectrumGrid(2, 8, [0])
