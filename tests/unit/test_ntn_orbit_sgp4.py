"""Unit tests of the SGP4 path of tsunagu.ntn.orbits and of tsunagu.ntn.constellations."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.constants import EARTH_ROTATION_RAD_PER_S, WGS84_A_M
from tsunagu.errors import ModelRangeError
from tsunagu.ntn import constellations, orbits

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def test_gmst82_known_values() -> None:
    # J2000.0 (JD 2451545.0 UT1): GMST = 18.697374558 h = 280.46061837504° (IAU 1982).
    assert float(np.degrees(orbits.gmst82_rad(2451545.0))) == pytest.approx(
        280.46061837504, abs=1e-9
    )
    # One sidereal day later the angle repeats: 86164.0905 s.
    a = orbits.gmst82_rad(2451545.0, 0.0)
    b = orbits.gmst82_rad(2451545.0, 86164.0905 / 86400.0)
    assert float(np.mod(b - a + np.pi, 2 * np.pi) - np.pi) == pytest.approx(0.0, abs=1e-7)
    # Rate: 1.00273790935 sidereal turns per UT1 day (IAU 1982) = 7.2921158553e-5 rad/s, which
    # is the WGS84 rotation rate 7.292115e-5 plus the precession in right ascension.
    rate = (orbits.gmst82_rad(2461000.5, 0.001) - orbits.gmst82_rad(2461000.5, 0.0)) / 86.4
    assert float(rate) == pytest.approx(2 * np.pi * 1.00273790935 / 86400.0, rel=1e-8)
    assert float(rate) == pytest.approx(EARTH_ROTATION_RAD_PER_S, rel=2e-7)


def test_julian_date_naive_is_utc() -> None:
    assert orbits.julian_date(datetime(2000, 1, 1, 12)) == (2451544.5, 0.5)
    assert orbits.julian_date(datetime(2000, 1, 1, 12, tzinfo=UTC)) == (2451544.5, 0.5)


def test_walker_elements_follow_the_two_body_shell_at_epoch() -> None:
    # At the epoch SGP4's osculating orbit differs from the mean one by J2 short-period terms
    # (a few km); the layout (plane, slot) must be the same as the analytic Walker shell.
    es = orbits.walker_elements(6, 8, 2, 550e3, 53.0, EPOCH)
    assert len(es) == 48
    assert es.names[9] == "walker-P1-S1"
    sgp = orbits.sgp4_positions_ecef_m(es, EPOCH, [0.0])[0]
    gmst = float(orbits.gmst82_rad(*orbits.julian_date(EPOCH)))
    kep = orbits.walker_positions_ecef_m(6, 8, 2, 550e3, 53.0, [0.0], epoch_gmst_rad=gmst)[0]
    sep = np.linalg.norm(sgp - kep, axis=1)
    # Same satellite, within the short-period J2 excursion (measured 12 km).
    assert float(sep.max()) < 30e3
    r = np.linalg.norm(sgp, axis=1)
    assert np.all(np.abs(r - (WGS84_A_M + 550e3)) < 20e3)


def test_chunked_positions_equal_full() -> None:
    es = orbits.walker_elements(4, 5, 1, 600e3, 60.0, EPOCH)
    t = np.arange(0.0, 3600.0, 90.0)
    full = orbits.sgp4_positions_ecef_m(es, EPOCH, t)
    parts = list(orbits.iter_sgp4_positions_ecef_m(es, EPOCH, t, max_chunk_bytes=72 * 20 * 7))
    assert [p[0] for p in parts] == list(range(0, 40, 7))
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), full)


def test_node_regression_under_sgp4() -> None:
    # J2 nodal regression of a 550 km / 53° circular orbit: dΩ/dt = -1.5 n J2 (R/a)² cos i
    # = -4.48°/day (Vallado eq. 9-41); SGP4 must reproduce it within 0.1°/day.
    es = orbits.walker_elements(1, 1, 0, 550e3, 53.0, EPOCH)
    jd, fr = orbits.julian_date(EPOCH)
    _, r, v = orbits.sgp4_teme_km(es, np.array([jd, jd]), np.array([fr, fr + 1.0]))
    h = np.cross(r[0], v[0])
    node = np.degrees(np.arctan2(h[:, 0], -h[:, 1]))
    drift = (node[1] - node[0] + 180.0) % 360.0 - 180.0
    n = 2 * np.pi / 5739.0
    want = (
        np.degrees(
            -1.5
            * n
            * 1.08263e-3
            * (WGS84_A_M / (WGS84_A_M + 550e3)) ** 2
            * np.cos(np.radians(53.0))
        )
        * 86400
    )
    assert drift == pytest.approx(want, abs=0.1)


def test_decayed_satellite_positions_are_nan() -> None:
    from tsunagu.ntn import tle

    # A 170 km orbit with heavy drag decays within a day: SGP4 error 6, NaN positions.
    l1 = "1 99999U 24001A   24001.00000000  .50000000  00000-0  50000-1 0  9990"
    l2 = "2 99999  51.6000 100.0000 0001000   0.0000   0.0000 16.30000000    10"
    l1 = l1[:68] + str(tle.tle_checksum(l1))
    l2 = l2[:68] + str(tle.tle_checksum(l2))
    es = tle.parse_tle(f"{l1}\n{l2}")
    pos = orbits.sgp4_positions_ecef_m(es, datetime(2024, 1, 1, tzinfo=UTC), [0.0, 5 * 86400.0])
    assert np.all(np.isfinite(pos[0]))
    assert np.all(np.isnan(pos[1]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"altitude_m": 100e3}, "160 km"),
        ({"inclination_deg": 190.0}, r"\[0, 180\]"),
        ({"inclination_deg": -5.0}, r"\[0, 180\]"),
        ({"planes": 0}, "planes must be an integer >= 1"),
        ({"sats_per_plane": 0}, "sats_per_plane"),
    ],
)
def test_impossible_shells_rejected_with_reason(kwargs: dict[str, float], match: str) -> None:
    base: dict[str, object] = {
        "name": "x",
        "planes": 4,
        "sats_per_plane": 4,
        "phasing": 1,
        "altitude_m": 550e3,
        "inclination_deg": 53.0,
    }
    base.update(kwargs)
    with pytest.raises(ModelRangeError, match=match):
        constellations.Shell(**base)  # type: ignore[arg-type]
    args = {k: v for k, v in base.items() if k != "name"}
    with pytest.raises(ModelRangeError, match=match):
        orbits.walker_elements(**args, epoch_utc=EPOCH)  # type: ignore[arg-type]


def test_presets_totals_and_unknown_name() -> None:
    totals = {
        k: sum(s.size for s in constellations.preset(k))
        for k in ("starlink-gen1", "kuiper", "oneweb", "telesat")
    }
    assert totals == {"starlink-gen1": 4408, "kuiper": 3236, "oneweb": 588, "telesat": 1671}
    assert constellations.preset("Kuiper-630")[0].altitude_m == 630e3
    with pytest.raises(ModelRangeError, match="choose one of"):
        constellations.preset("iridium")
    es = constellations.shell_elements(constellations.preset("o3b-mpower"), EPOCH)
    r = np.linalg.norm(orbits.sgp4_positions_ecef_m(es, EPOCH, [0.0])[0], axis=1)
    np.testing.assert_allclose(r, WGS84_A_M + 8062e3, rtol=2e-3)
    pos = constellations.shell_positions_ecef_m(constellations.preset("telesat"), [0.0, 10.0])
    assert pos.shape == (2, 1671, 3)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.floats(300e3, 2000e3),
    st.floats(0.0, 180.0),
    st.floats(0.0, 86400.0),
)
def test_sgp4_shell_radius_and_shape(p: int, s: int, h: float, inc: float, t: float) -> None:
    es = orbits.walker_elements(p, s, 0, h, inc, EPOCH)
    pos = orbits.sgp4_positions_ecef_m(es, EPOCH, [0.0, t])
    assert pos.shape == (2, p * s, 3)
    r = np.linalg.norm(pos, axis=2)
    # SGP4's mean-to-osculating terms keep a circular shell within ~25 km of its radius.
    assert np.all(np.abs(r - (WGS84_A_M + h)) < 25e3)
