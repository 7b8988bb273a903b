"""Fibre-link capacity from QoT (optical/capacity.py): the mode rule, monotonicity, the
equipment-library modes and the link capacity = provisioned wavelengths × mode rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gnpy.tools import json_io as gnpy_json_io
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import DataError
from tsunagu.optical.capacity import (
    ModeTable,
    channels_in_band,
    fibre_link_capacity,
    link_gsnr_01nm_db,
    select_mode,
)
from tsunagu.optical.equipment import load_equipment
from tsunagu.optical.multidomain import coherent_formats
from tsunagu.optical.rmsa import link_nsr_gn

EXAMPLES = Path(gnpy_json_io.__file__).resolve().parent.parent / "example-data"

#: Three modes: rate rises with the threshold, as in every real transceiver.
MODES = ModeTable(
    name=np.array(["100G", "200G", "400G"]),
    rate_bps=np.array([100e9, 200e9, 400e9]),
    baud_rate_hz=np.array([32e9, 64e9, 64e9]),
    required_osnr_01nm_db=np.array([12.0, 16.0, 22.0]),
    tx_osnr_01nm_db=np.array([40.0, 40.0, 40.0]),
    spacing_hz=np.array([50e9, 75e9, 75e9]),
)


@settings(max_examples=200, deadline=None)
@given(gsnr=st.floats(0.0, 40.0), margin=st.floats(0.0, 5.0))
def test_a_mode_is_chosen_iff_its_threshold_plus_margin_is_met(gsnr: float, margin: float) -> None:
    index, rate = select_mode([gsnr], MODES, margin_db=margin)
    ok = [r for r, q in zip(MODES.rate_bps, MODES.required_osnr_01nm_db, strict=True)
          if gsnr >= q + margin]  # fmt: skip
    assert rate[0] == (max(ok) if ok else 0.0)
    assert (index[0] >= 0) == bool(ok)
    if ok:
        assert gsnr >= MODES.required_osnr_01nm_db[index[0]] + margin


def test_threshold_is_inclusive_and_the_margin_counts() -> None:
    index, _ = select_mode([16.0, 16.0, 15.999], MODES, margin_db=0.0)
    assert index.tolist() == [1, 1, 0]
    index, _ = select_mode([18.0], MODES, margin_db=2.0)
    assert index.tolist() == [1]
    index, _ = select_mode([17.9], MODES, margin_db=2.0)
    assert index.tolist() == [0]


def test_rate_is_monotone_in_gsnr_and_in_margin() -> None:
    g = np.linspace(0.0, 40.0, 4001)
    _, rate = select_mode(g, MODES, margin_db=1.0)
    assert np.all(np.diff(rate) >= 0.0)
    margins = np.linspace(0.0, 10.0, 101)
    rates = [select_mode([20.0], MODES, margin_db=float(m))[1][0] for m in margins]
    assert np.all(np.diff(rates) <= 0.0)


def test_capacity_picks_the_mode_of_most_capacity_under_the_comb_limit() -> None:
    # 4.8 THz holds 96 channels at 50 GHz and 64 at 75 GHz. At 19 dB only 100G and 200G work:
    # with 200 wavelengths provisioned 96 × 100G = 9.6 T loses to 64 × 200G = 12.8 T; a
    # 50 GHz mode alone lights at most 96 of the 200.
    assert channels_in_band(MODES).tolist() == [96, 64, 64]
    index, rate = select_mode([19.0], MODES, margin_db=0.0, wavelengths=[200])
    assert index.tolist() == [1]
    assert rate[0] == 200e9
    one = ModeTable(np.array(["a"]), np.array([100e9]), np.array([32e9]), np.array([12.0]),
                    np.array([40.0]), np.array([50e9]))  # fmt: skip
    cap = fibre_link_capacity([100.0], 200, one, margin_db=0.0)
    assert cap.wavelengths[0] == 96
    assert cap.capacity_bps[0] == 96 * 100e9
    # Modes of equal capacity: the lower threshold (more margin left) is chosen.
    pair = ModeTable(np.array(["a", "b"]), np.array([100e9, 100e9]), np.array([32e9, 32e9]),
                     np.array([15.0, 12.0]), np.array([40.0, 40.0]),
                     np.array([50e9, 50e9]))  # fmt: skip
    assert select_mode([20.0], pair, margin_db=0.0)[0].tolist() == [1]


def test_link_gsnr_is_the_gn_line_model_plus_the_transceiver() -> None:
    # Consistency check (same GN model): with an ideal transceiver the GSNR equals
    # rmsa.link_nsr_gn converted to 0.1 nm; the transceiver adds its noise in linear units.
    lengths = np.array([0.0, 80.0, 400.0, 1500.0])
    formats = coherent_formats()
    ideal = ModeTable.from_formats(formats, baud_rate_hz=60e9, spacing_hz=75e9,
                                   tx_osnr_01nm_db=np.inf)  # fmt: skip
    g = link_gsnr_01nm_db(lengths, ideal)[:, 0]
    ref = -10.0 * np.log10(link_nsr_gn(lengths)) + 10.0 * np.log10(60e9 / 12.5e9)
    np.testing.assert_allclose(g, ref, atol=1e-9)
    real = ModeTable.from_formats(formats, baud_rate_hz=60e9, spacing_hz=75e9,
                                  tx_osnr_01nm_db=40.0)  # fmt: skip
    g40 = link_gsnr_01nm_db(lengths, real)[:, 0]
    expect = -10.0 * np.log10(10.0 ** (-g / 10.0) + 10.0 ** (-40.0 / 10.0))
    np.testing.assert_allclose(g40, expect, atol=1e-9)


def test_capacity_falls_with_length_and_scales_with_wavelengths() -> None:
    # Whole 80 km spans: one more span never helps (between multiples, cutting a link into
    # more, shorter spans can raise its GSNR a little, so monotonicity is stated per span).
    lengths = np.arange(1, 126) * 80.0
    assert np.all(np.diff(link_gsnr_01nm_db(lengths, MODES), axis=0) < 0.0)
    cap = fibre_link_capacity(lengths, 64, MODES, margin_db=2.0)
    assert np.all(np.diff(cap.capacity_bps) <= 0.0)
    assert cap.capacity_bps[0] == 64 * 400e9
    assert cap.capacity_bps[-1] == 0.0
    assert cap.mode_name[-1] == ""
    np.testing.assert_array_equal(cap.capacity_bps, cap.wavelengths * cap.wavelength_rate_bps)
    w = np.array([0, 1, 10, 64, 500])
    c2 = fibre_link_capacity(np.full(5, 300.0), w, MODES, margin_db=2.0)
    np.testing.assert_array_equal(c2.wavelengths, [0, 1, 10, 64, 64])
    np.testing.assert_array_equal(c2.capacity_bps, c2.wavelengths * c2.wavelength_rate_bps)


def test_gnpy_library_modes() -> None:
    eq = load_equipment(EXAMPLES / "eqpt_config.json")
    modes = ModeTable.from_transceiver(eq.transceivers["Voyager"])
    assert set(modes.name) == {"mode 1", "mode 2", "mode 3", "mode 4"}
    cap = fibre_link_capacity([100.0, 2000.0, 9000.0], 64, modes, margin_db=eq.si.sys_margins_db)
    # Every chosen mode meets its threshold + the library's system margin; the next faster
    # mode does not.
    for i, m in enumerate(cap.mode_index):  # three links
        g = cap.gsnr_01nm_db[i]
        if m >= 0:
            assert g >= modes.required_osnr_01nm_db[m] + eq.si.sys_margins_db
            faster = modes.rate_bps > modes.rate_bps[m]
            gl = link_gsnr_01nm_db([[100.0, 2000.0, 9000.0][i]], modes)[0]
            assert np.all(gl[faster] < modes.required_osnr_01nm_db[faster] + eq.si.sys_margins_db)
    assert cap.capacity_bps[0] > cap.capacity_bps[1] > cap.capacity_bps[2] >= 0.0


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: fibre_link_capacity([100.0], [1.5], MODES, margin_db=0.0), "integers"),
        (lambda: fibre_link_capacity([-1.0], 4, MODES, margin_db=0.0), ">= 0 km"),
        (lambda: select_mode([10.0], MODES, margin_db=float("nan")), "margin_db"),
        (lambda: select_mode(np.zeros((2, 2)), MODES, margin_db=0.0), "shape"),
    ],
)
def test_bad_input_is_a_teaching_error(call: object, needle: str) -> None:
    with pytest.raises(DataError, match=needle):
        call()  # type: ignore[operator]


def test_mode_table_checks_its_columns() -> None:
    with pytest.raises(DataError, match="spacing"):
        ModeTable(np.array(["x"]), np.array([1e11]), np.array([64e9]), np.array([10.0]),
                  np.array([40.0]), np.array([50e9]))  # fmt: skip


def test_shipped_mode_table_is_the_gnpy_example_library() -> None:
    """Transcription check: every shipped mode equals the installed GNPy example library's."""
    from tsunagu.optical.capacity import shipped_modes, shipped_transceivers

    eqpt = load_equipment(EXAMPLES / "eqpt_config.json")
    assert set(shipped_transceivers()) <= set(eqpt.transceivers)
    for name in shipped_transceivers():
        ours = shipped_modes(name)
        theirs = ModeTable.from_transceiver(eqpt.transceivers[name])
        o = np.argsort(ours.name)
        t = np.argsort(theirs.name)
        assert ours.name[o].tolist() == theirs.name[t].tolist()
        for col in ("rate_bps", "baud_rate_hz", "required_osnr_01nm_db", "tx_osnr_01nm_db",
                    "spacing_hz"):  # fmt: skip
            np.testing.assert_array_equal(getattr(ours, col)[o], getattr(theirs, col)[t], col)
    with pytest.raises(DataError, match=r"known: .*Voyager"):
        shipped_modes("no-such-transceiver")
