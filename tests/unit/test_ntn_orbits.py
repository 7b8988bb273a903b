"""Unit tests of tsunagu.ntn.orbits (Walker shells) and tsunagu.ntn.geometry (visibility).

Geometry tests live here too: both modules are tested on constellations built by the first.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.constants import EARTH_MU_M3_PER_S2, EARTH_ROTATION_RAD_PER_S, WGS84_A_M
from tsunagu.errors import ModelRangeError
from tsunagu.ntn import geometry, orbits

# ----------------------------------------------------------------------------- orbits


def test_period_550_km() -> None:
    # a = 6,928,137 m; T = 2π sqrt(a³/μ) = 5739.0 s (95.65 min).
    a = WGS84_A_M + 550e3
    assert float(orbits.orbital_period_s(550e3)) == pytest.approx(
        2 * np.pi * np.sqrt(a**3 / EARTH_MU_M3_PER_S2), rel=1e-12
    )
    assert float(orbits.orbital_period_s(550e3)) == pytest.approx(5739.0, abs=0.1)


def _eci_from_ecef(r: np.ndarray, t: np.ndarray, gmst0: float = 0.0) -> np.ndarray:
    th = gmst0 + EARTH_ROTATION_RAD_PER_S * t
    c, s = np.cos(th)[:, None], np.sin(th)[:, None]
    out = np.empty_like(r)
    out[..., 0] = c * r[..., 0] - s * r[..., 1]
    out[..., 1] = s * r[..., 0] + c * r[..., 1]
    out[..., 2] = r[..., 2]
    return out


shell = st.tuples(
    st.integers(1, 30),  # planes
    st.integers(1, 30),  # sats per plane
    st.floats(160e3, 36_000e3),  # altitude
    st.floats(0.0, 180.0),  # inclination
    st.sampled_from(["delta", "star"]),
    st.floats(0.0, 360.0),  # raan0
    st.data(),
)


@settings(max_examples=60, deadline=None)
@given(shell)
def test_walker_invariants(params) -> None:
    p, s, h, inc, pattern, raan0, data = params
    f = data.draw(st.integers(0, p - 1))
    t = np.array([0.0, 1.0, 1234.5])
    r = orbits.walker_positions_ecef_m(p, s, f, h, inc, t, pattern, raan0, epoch_gmst_rad=0.3)
    assert r.shape == (3, p * s, 3)
    # |r| = R + h for every satellite and time.
    np.testing.assert_allclose(np.linalg.norm(r, axis=2), WGS84_A_M + h, rtol=1e-12)

    eci = _eci_from_ecef(r, t, 0.3)
    # Inclination from the angular-momentum direction r × v, with v ≈ (r(1 s) − r(0)) / 1 s.
    hvec = np.cross(eci[0], eci[1] - eci[0])
    inc_rec = np.degrees(np.arccos(hvec[:, 2] / np.linalg.norm(hvec, axis=1)))
    np.testing.assert_allclose(inc_rec, inc, atol=1e-6)

    # Satellites of one plane are equally spaced: angle between neighbours 360°/s.
    if s >= 2:
        plane0 = eci[0, :s]
        nxt = np.roll(plane0, -1, axis=0)
        cosang = np.sum(plane0 * nxt, axis=1) / (WGS84_A_M + h) ** 2
        ang = np.degrees(np.arccos(np.clip(cosang, -1, 1)))
        np.testing.assert_allclose(ang, min(360.0 / s, 360.0 - 360.0 / s), atol=1e-5)

    # Node spread: the normals of successive planes differ in RAAN by 360°/p or 180°/p.
    if p >= 2 and 1e-3 < inc < 180 - 1e-3:
        normals = hvec[::s]
        raan = np.degrees(np.arctan2(normals[:, 0], -normals[:, 1]))
        step = np.mod(np.diff(raan), 360.0)
        spread = 360.0 if pattern == "delta" else 180.0
        np.testing.assert_allclose(step, spread / p, atol=1e-6)


def test_walker_phasing_offset() -> None:
    # 0°: 4/2/1 → sat 0 of plane 1 leads sat 0 of plane 0 in argument of latitude by 360·1/4.
    eci = orbits.walker_positions_eci_m(2, 2, 1, 550e3, 0.0, 0.0)[0]
    # Equatorial orbit: plane 0 RAAN 0, plane 1 RAAN 180°, u0 = 0, 180, 90, 270 → longitudes
    # 0, 180, 270, 90 degrees.
    lon = np.degrees(np.arctan2(eci[:, 1], eci[:, 0])) % 360.0
    np.testing.assert_allclose(lon, [0.0, 180.0, 270.0, 90.0], atol=1e-9)


def test_walker_one_orbit_returns_in_inertial_frame() -> None:
    period = float(orbits.orbital_period_s(550e3))
    r = orbits.walker_positions_eci_m(3, 4, 1, 550e3, 53.0, [0.0, period])
    np.testing.assert_allclose(r[1], r[0], atol=1e-6)


def test_walker_earth_rotation() -> None:
    # A GEO-period equatorial satellite stays fixed over the Earth.
    a_geo = (EARTH_MU_M3_PER_S2 / EARTH_ROTATION_RAD_PER_S**2) ** (1.0 / 3.0)
    t = np.linspace(0.0, 86_164.0, 5)
    r = orbits.walker_positions_ecef_m(1, 1, 0, a_geo - WGS84_A_M, 0.0, t)
    np.testing.assert_allclose(r[:, 0, :], r[:1, 0, :].repeat(5, axis=0), atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"altitude_m": 150e3}, "altitude_m"),
        ({"inclination_deg": 181.0}, "inclination_deg"),
        ({"inclination_deg": -1.0}, "inclination_deg"),
        ({"planes": 0}, "planes"),
        ({"sats_per_plane": 0}, "sats_per_plane"),
        ({"phasing": 5}, "phasing"),
        ({"pattern": "rosette"}, "pattern"),
    ],
)
def test_walker_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "planes": 5,
        "sats_per_plane": 4,
        "phasing": 1,
        "altitude_m": 550e3,
        "inclination_deg": 53.0,
        "time_s": [0.0],
    }
    args.update(kwargs)
    with pytest.raises(ModelRangeError, match=match):
        orbits.walker_positions_ecef_m(**args)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- geometry


def _ground(lat_deg: float, lon_deg: float) -> np.ndarray:
    """Point on the WGS84 ellipsoid surface (geodetic latitude), ECEF metres."""
    e2 = 1 - (1 - 1 / 298.257223563) ** 2
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    n = WGS84_A_M / np.sqrt(1 - e2 * np.sin(lat) ** 2)
    return np.array(
        [n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon), n * (1 - e2) * np.sin(lat)]
    )


def test_zenith_satellite() -> None:
    for lat in (0.0, 35.7, -60.0, 89.0):
        g = _ground(lat, 139.7)
        up = geometry.local_vertical(g)[0]
        sat = g + 550e3 * up
        el, rng = geometry.elevation_and_range(g, sat[None, :])
        assert float(el[0, 0]) == pytest.approx(90.0, abs=1e-6)
        assert float(rng[0, 0]) == pytest.approx(550e3, rel=1e-12)


def test_horizon_and_known_elevation() -> None:
    g = np.array([[WGS84_A_M, 0.0, 0.0]])
    # 100 km north along the horizon, then 100 km up: 45°.
    sat = np.array([[WGS84_A_M + 100e3, 0.0, 100e3], [WGS84_A_M, 0.0, 100e3]])
    el, rng = geometry.elevation_and_range(g, sat)
    np.testing.assert_allclose(el[0], [45.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(rng[0], [np.hypot(100e3, 100e3), 100e3])


def test_best_bent_pipe_hand_geometry() -> None:
    r = WGS84_A_M
    user = np.array([[r, 0.0, 0.0]])
    gws = np.array([[r * np.cos(0.02), r * np.sin(0.02), 0.0], [0.0, r, 0.0]])
    sats = np.array(
        [
            [(r + 550e3), 0.0, 0.0],  # zenith of the user
            [(r + 550e3) * np.cos(0.01), (r + 550e3) * np.sin(0.01), 0.0],  # between
            [-(r + 550e3), 0.0, 0.0],  # other side of the Earth
        ]
    )
    sat_i, gw_i, length = geometry.best_bent_pipe(user, gws, sats, 25.0, 10.0)
    d = np.linalg.norm
    cand = [d(sats[k] - user[0]) + d(sats[k] - gws[0]) for k in (0, 1)]
    assert sat_i[0] == int(np.argmin(cand))
    assert gw_i[0] == 0
    assert float(length[0]) == pytest.approx(min(cand), rel=1e-12)
    # Invariant: reported length equals the sum of both hops.
    assert float(length[0]) == pytest.approx(
        d(sats[sat_i[0]] - user[0]) + d(sats[sat_i[0]] - gws[gw_i[0]]), rel=1e-12
    )

    # Nobody visible → -1 and inf.
    sat_i, gw_i, length = geometry.best_bent_pipe(user, gws, sats[2:], 25.0, 10.0)
    assert (sat_i[0], gw_i[0], float(length[0])) == (-1, -1, np.inf)


def test_best_bent_pipe_against_brute_force_on_walker_shell() -> None:
    rng = np.random.default_rng(7)
    sats = orbits.walker_positions_ecef_m(24, 12, 1, 550e3, 53.0, 0.0)[0]
    lat = rng.uniform(-50, 50, 40)
    lon = rng.uniform(-180, 180, 40)
    users = np.array([_ground(a, b) for a, b in zip(lat, lon, strict=True)])
    gws = users[::4] * 1.0
    sat_i, gw_i, length = geometry.best_bent_pipe(users, gws, sats, 25.0, 10.0)
    el_u, r_u = geometry.elevation_and_range(users, sats)
    el_g, r_g = geometry.elevation_and_range(gws, sats)
    tot = r_u[:, :, None] + r_g.T[None, :, :]
    ok = (el_u[:, :, None] >= 25.0) & (el_g.T[None, :, :] >= 10.0)
    tot = np.where(ok, tot, np.inf).reshape(len(users), -1)
    want = tot.min(axis=1)
    np.testing.assert_allclose(length, want, rtol=1e-12)
    assert np.all((sat_i >= 0) == np.isfinite(want))
    # Light-time lower bound: the path is never shorter than the straight user–gateway chord.
    has = sat_i >= 0
    chord = np.linalg.norm(users[has] - gws[gw_i[has]], axis=1)
    assert np.all(length[has] >= chord)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    mask_deg=st.floats(-10.0, 80.0),
    n_users=st.integers(0, 30),
)
def test_nearest_visible_against_brute_force(seed: int, mask_deg: float, n_users: int) -> None:
    # Brute force: every user's elevation and range to every satellite, the nearest above the
    # mask (a regenerative payload's serving satellite over ISLs).
    rng = np.random.default_rng(seed)
    sats = orbits.walker_positions_ecef_m(12, 10, 1, 550e3, 53.0, 0.0)[0]
    lat = rng.uniform(-60, 60, n_users)
    lon = rng.uniform(-180, 180, n_users)
    users = np.array([_ground(a, b) for a, b in zip(lat, lon, strict=True)]).reshape(-1, 3)
    sat_i, slant_m = geometry.nearest_visible(users, sats, mask_deg)
    el, r = geometry.elevation_and_range(users, sats)
    r_in_view = np.where(el >= mask_deg, r, np.inf)
    want = r_in_view.min(axis=1) if n_users else np.zeros(0)
    np.testing.assert_array_equal(slant_m, want)
    has = np.isfinite(want)
    np.testing.assert_array_equal(sat_i >= 0, has)
    np.testing.assert_array_equal(r_in_view[has, sat_i[has]], want[has])


def test_nearest_visible_mask_is_inclusive_at_the_highest_satellite() -> None:
    # With the mask at the highest satellite's elevation exactly, that satellite alone is in
    # view; a micro-degree higher, none is.
    sats = orbits.walker_positions_ecef_m(12, 10, 1, 550e3, 53.0, 0.0)[0]
    user = _ground(35.7, 139.7)
    el, r = geometry.elevation_and_range(user, sats)
    top = int(np.argmax(el[0]))
    idx, slant_m = geometry.nearest_visible(user, sats, float(el[0, top]))
    assert idx.tolist() == [top]
    assert slant_m.tolist() == [r[0, top]]
    assert geometry.nearest_visible(user, sats, float(el[0, top]) + 1e-6)[0].tolist() == [-1]


def test_nearest_visible_with_no_satellites() -> None:
    idx, slant_m = geometry.nearest_visible([_ground(35.0, 139.0)], np.zeros((0, 3)), 25.0)
    assert idx.tolist() == [-1]
    assert slant_m.tolist() == [np.inf]


def test_haps_coverage() -> None:
    r = 6_371_008.8
    haps = np.array([[r + 20e3, 0.0, 0.0], [0.0, r + 20e3, 0.0]])
    # User 50 km (great circle) from the first sub-platform point, and one 300 km away.
    ang = np.array([50e3 / r, 300e3 / r])
    users = np.stack([r * np.cos(ang), r * np.sin(ang), np.zeros(2)], axis=1)
    idx, slant = geometry.haps_coverage(users, haps, 100e3)
    assert idx.tolist() == [0, -1]
    want = np.linalg.norm(haps[0] - users[0])
    assert float(slant[0]) == pytest.approx(want, rel=1e-12)
    assert slant[1] == np.inf
    # Per-platform radii.
    idx, _ = geometry.haps_coverage(users, haps, np.array([400e3, 10e3]))
    assert idx.tolist() == [0, 0]


def test_hypatia_phase_mode_matches_hypatias_kuiper_file() -> None:
    # Hypatia's Kuiper-630 file (tests/data/hypatia, written by its own generator): RAAN
    # 360°·k/34, mean anomaly 360°·j/34 plus half a slot on odd planes, 51.9°.
    from datetime import UTC, datetime
    from pathlib import Path

    from tsunagu.ntn import tle
    from tsunagu.ntn.constellations import Shell, shell_elements

    ref = tle.read_elements(
        Path(__file__).resolve().parents[1] / "data" / "hypatia" / "kuiper_630_tles.txt"
    )
    shell = Shell("k", 34, 34, 0, 630e3, 51.9, phase_mode="hypatia")
    ours = shell_elements((shell,), datetime(2000, 1, 1, tzinfo=UTC))
    for attr in ("mo", "nodeo", "inclo"):
        a = np.array([getattr(s, attr) for s in ours.satrecs])
        b = np.array([getattr(s, attr) for s in ref.satrecs])
        d = np.angle(np.exp(1j * (a - b)))  # wrap to ±π
        assert np.max(np.abs(d)) < np.radians(1e-4), attr  # the file prints 4 decimals
    assert np.array_equal(ours.epoch_jd, ref.epoch_jd)
    # Walker f = 1 shifts plane 1 by 360°/1156, not by half a slot (5.29°).
    walker = shell_elements((Shell("k", 34, 34, 1, 630e3, 51.9),), datetime(2000, 1, 1, tzinfo=UTC))
    assert abs(walker.satrecs[34].mo - ref.satrecs[34].mo) > np.radians(4.0)
    with pytest.raises(ModelRangeError, match="takes no Walker phasing"):
        Shell("k", 34, 34, 1, 630e3, 51.9, phase_mode="hypatia")
    with pytest.raises(ModelRangeError, match="phase_mode must be"):
        Shell("k", 34, 34, 0, 630e3, 51.9, phase_mode="random")  # type: ignore[arg-type]


def _enu_look(
    lat_deg: float, lon_deg: float, el_deg: float, az_deg: float, d_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Ground point and a target at (elevation, azimuth, range), geodetic frame written out."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.cross(up, east)
    el, az = np.radians(el_deg), np.radians(az_deg)
    look = np.cos(el) * (np.cos(az) * north + np.sin(az) * east) + np.sin(el) * up
    g = _ground(lat_deg, lon_deg)
    return g, g + d_m * look


@pytest.mark.parametrize("lat", [45.0, -35.0, 70.0])
def test_elevation_against_the_geodetic_frame_off_the_equator(lat: float) -> None:
    # The geodetic normal at 45° is 0.19° off the geocentric direction; elevations built in
    # the geodetic east-north-up frame must come back exactly, in every azimuth.
    for az in (0.0, 90.0, 180.0, 270.0):
        for el_deg in (5.0, 25.0, 60.0):
            g, sat = _enu_look(lat, 20.0, el_deg, az, 1_500e3)
            el, rng = geometry.elevation_and_range(g, sat[None, :])
            assert float(el[0, 0]) == pytest.approx(el_deg, abs=1e-7)
            assert float(rng[0, 0]) == pytest.approx(1_500e3, rel=1e-12)


def test_bent_pipe_masks_flip_at_the_geodetic_elevation() -> None:
    # User at 45° N looking south at its mask ± 0.02°, gateway beside it looking at its own.
    for du, dg, want in ((0.02, 0.02, 0), (-0.02, 0.02, -1), (0.02, -0.02, -1)):
        user, sat = _enu_look(45.0, 10.0, 25.0 + du, 180.0, 1_200e3)
        # The gateway sees the same satellite at 10° + dg: place it along the reverse ray.
        gw_lat, gw_lon = 30.0, 10.0
        gw = _ground(gw_lat, gw_lon)
        el_now, _ = geometry.elevation_and_range(gw, sat[None, :])
        min_gw = float(el_now[0, 0]) - dg
        sat_i, gw_i, _ = geometry.best_bent_pipe(
            user[None, :], gw[None, :], sat[None, :], 25.0, min_gw
        )
        assert int(sat_i[0]) == want, (du, dg)
        assert int(gw_i[0]) == want, (du, dg)
