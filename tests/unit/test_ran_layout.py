"""Unit tests of tsunagu.ran.layout (hex grid, wrap-around, sectors, user drop)."""

from __future__ import annotations

import numpy as np
import pytest

from tsunagu.errors import ScenarioError
from tsunagu.ran import layout


def test_hex_sites_and_neighbour_directions() -> None:
    s = layout.hex_sites_m(500.0)
    assert s.shape == (19, 2)
    assert np.allclose(s[0], 0.0)
    d = np.hypot(s[:, 0], s[:, 1])
    ring1 = s[np.isclose(d, 500.0)]
    assert ring1.shape[0] == 6
    ang = np.sort(np.degrees(np.arctan2(ring1[:, 1], ring1[:, 0])) % 360.0)
    # Neighbours at 30°, 90°, …: sector boresights 30/150/270 point at neighbours.
    np.testing.assert_allclose(ang, [30.0, 90.0, 150.0, 210.0, 270.0, 330.0], atol=1e-9)


def test_wrap_around_tiles_the_plane() -> None:
    s = layout.hex_sites_m(1.0)
    t = layout.wrap_shifts_m(1.0)
    assert t.shape == (7, 2)
    np.testing.assert_allclose(np.hypot(t[1:, 0], t[1:, 1]), np.sqrt(19.0), rtol=1e-12)
    images = (s[None, :, :] + t[:, None, :]).reshape(-1, 2)
    # 133 distinct sites, no overlap, and every lattice point within 2.6 ISD is covered.
    assert np.unique(np.round(images, 9), axis=0).shape[0] == 133
    a = np.array([np.sqrt(3.0) / 2.0, 0.5])
    b = np.array([0.0, 1.0])
    r = np.arange(-4, 5)
    pts = np.array([i * a + j * b for i in r for j in r])
    pts = pts[np.hypot(pts[:, 0], pts[:, 1]) <= 2.6]
    dmin = np.min(np.hypot(*(pts[:, None, :] - images[None]).transpose(2, 0, 1)), axis=1)
    assert dmin.max() < 1e-9


def test_three_sectors() -> None:
    xy, az, site = layout.three_sector_cells(layout.hex_sites_m(200.0))
    assert xy.shape == (57, 2)
    assert list(az[:3]) == [30.0, 150.0, 270.0]
    assert list(site[:6]) == [0, 0, 0, 1, 1, 1]


def test_drop_inside_hexagons_with_min_distance() -> None:
    sites = layout.hex_sites_m(500.0)
    xy, owner = layout.drop_uniform_in_hexagons(sites, 500.0, 5000, 35.0, np.random.default_rng(4))
    d = np.hypot(*(xy[:, None, :] - sites[None]).transpose(2, 0, 1))
    nearest = np.argmin(d, axis=1)
    assert np.all(nearest == owner)  # inside its own hexagon (Voronoi cell)
    assert d.min() >= 35.0
    # Uniform over the hexagon minus the 35 m disc: compare the mean distance with a fine-grid
    # integral of the same region; the standard error of 5,000 draws is about 1 m (σ ≈ 70 m).
    g = np.linspace(-300.0, 300.0, 1201)
    gx, gy = np.meshgrid(g, g)
    inside = np.ones_like(gx, dtype=bool)
    for t in (30.0, 90.0, 150.0):
        c, s_ = np.cos(np.radians(t)), np.sin(np.radians(t))
        inside &= np.abs(gx * c + gy * s_) <= 250.0
    r = np.hypot(gx, gy)
    inside &= r >= 35.0
    own = d[np.arange(d.shape[0]), owner]
    assert abs(own.mean() - r[inside].mean()) < 4.0


def test_bad_layout_input() -> None:
    with pytest.raises(ScenarioError, match="isd_m"):
        layout.hex_sites_m(0.0)
    with pytest.raises(ScenarioError, match="min_d2d_m"):
        layout.drop_uniform_in_hexagons(
            layout.hex_sites_m(100.0), 100.0, 10, 60.0, np.random.default_rng(0)
        )
