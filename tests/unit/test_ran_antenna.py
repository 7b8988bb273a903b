"""Unit tests of tsunagu.ran.antenna (TR 38.901 Table 7.3-1 element, tilted vertical array)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ModelRangeError
from tsunagu.ran import antenna as ant


def test_element_pattern_hand_values() -> None:
    # Table 7.3-1: A_V = -min(12((θ-90)/65)², 30), A_H = -min(12(φ/65)², 30), G = 8 dBi.
    assert float(ant.element_gain_dbi(90.0, 0.0)) == 8.0
    # θ = 90 + 65/2: A_V = -3 dB; φ = 0 → 5 dBi (3 dB beamwidth of 65°).
    assert float(ant.element_gain_dbi(90.0 + 32.5, 0.0)) == pytest.approx(5.0, abs=1e-12)
    assert float(ant.element_gain_dbi(90.0, 32.5)) == pytest.approx(5.0, abs=1e-12)
    # Back lobe: A_H = -30 → 8 - 30 = -22 dBi; total attenuation capped at 30 dB.
    assert float(ant.element_gain_dbi(90.0, 180.0)) == pytest.approx(-22.0)
    assert float(ant.element_gain_dbi(180.0, 180.0)) == pytest.approx(-22.0)
    # Azimuth wraps: 350° is -10°.
    assert float(ant.element_gain_dbi(90.0, 350.0)) == pytest.approx(
        float(ant.element_gain_dbi(90.0, -10.0))
    )


def test_array_factor_peak_and_null() -> None:
    # M = 10, d = λ/2, tilt 102°: peak 10 log10(10) = 10 dB at θ = tilt.
    assert float(ant.vertical_array_factor_db(102.0, 102.0, 10)) == pytest.approx(10.0, abs=1e-9)
    # First null where π (cos θ − cos θt) = 2π/10 → cos θ = cos 102° + 0.2.
    theta_null = np.degrees(np.arccos(np.cos(np.radians(102.0)) + 0.2))
    assert float(ant.vertical_array_factor_db(theta_null, 102.0, 10)) < -40.0
    assert float(ant.vertical_array_factor_db(50.0, 90.0, 1)) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    theta=st.floats(0.0, 180.0),
    phi=st.floats(-720.0, 720.0),
    tilt=st.floats(80.0, 120.0),
    m=st.integers(1, 16),
)
def test_sector_gain_bounded(theta: float, phi: float, tilt: float, m: int) -> None:
    g = float(ant.sector_gain_dbi(theta, phi, tilt, m))
    assert np.isfinite(g)
    assert g <= 8.0 + 10.0 * np.log10(m) + 1e-9
    assert g >= 8.0 - 30.0 - 300.0  # finite even in a null (floored at -300 dB)


def test_sector_gain_peak_is_18_dbi_near_tilt() -> None:
    theta = np.linspace(90.0, 120.0, 3001)
    g = ant.sector_gain_dbi(theta, 0.0)
    # The element's vertical cut pulls the peak slightly towards the horizon.
    assert 17.5 < float(g.max()) <= 18.0
    assert 100.0 < float(theta[np.argmax(g)]) <= 102.0


def test_beam_and_off_axis() -> None:
    assert float(ant.beam_gain_dbi(0.0, 20.0, 30.0)) == 20.0
    assert float(ant.beam_gain_dbi(15.0, 20.0, 30.0)) == pytest.approx(17.0)
    assert float(ant.beam_gain_dbi(180.0, 20.0, 30.0)) == pytest.approx(-10.0)
    assert float(ant.off_axis_angle_deg(180.0, 0.0, 180.0, 123.0)) == pytest.approx(0.0)
    assert float(ant.off_axis_angle_deg(90.0, 90.0, 90.0, 0.0)) == pytest.approx(90.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ant.element_gain_dbi(-1.0, 0.0), "zenith"),
        (lambda: ant.element_gain_dbi(np.nan, 0.0), "zenith"),
        (lambda: ant.element_gain_dbi(90.0, 0.0, theta_3db_deg=0.0), "beamwidth"),
        (lambda: ant.vertical_array_factor_db(90.0, 90.0, 0), "n_elements"),
        (lambda: ant.vertical_array_factor_db(90.0, 90.0, 4, 0.0), "spacing"),
        (lambda: ant.beam_gain_dbi(10.0, 10.0, 0.0), "hpbw"),
        (lambda: ant.beam_gain_dbi(200.0, 10.0, 10.0), "off_axis"),
    ],
)
def test_bad_input(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelRangeError, match=match):
        call()
