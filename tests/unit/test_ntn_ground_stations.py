"""Unit tests of tsunagu.ntn.ground_stations: Hypatia's ground-station files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tsunagu.errors import DataError
from tsunagu.ntn import ground_stations as gsf

TOP_100 = (
    Path(__file__).resolve().parents[1] / "data" / "hypatia" / "ground_stations_top_100.basic.txt"
)


def _wgs72_xyz(lat: float, lon: float, h: float) -> tuple[float, float, float]:
    # Hypatia writes the extended columns on WGS72 (a = 6,378,135 m, f = 1/298.26).
    a, f = 6378135.0, 1 / 298.26
    e2 = 2 * f - f * f
    la, lo = math.radians(lat), math.radians(lon)
    v = a / math.sqrt(1 - e2 * math.sin(la) ** 2)
    return (
        (v + h) * math.cos(la) * math.cos(lo),
        (v + h) * math.cos(la) * math.sin(lo),
        (v * (1 - e2) + h) * math.sin(la),
    )


def test_hypatia_top_100_file() -> None:
    gs = gsf.read_ground_stations(TOP_100)
    assert len(gs) == 100
    assert gs.names[17] == "Manila"
    assert gs.names[85] == "Dalian"
    assert gs.lat_deg[73] == pytest.approx(59.929858)
    assert gs.lon_deg[73] == pytest.approx(30.326228)
    np.testing.assert_array_equal(gs.alt_m, 0.0)


def test_extended_format_is_checked_against_its_coordinates() -> None:
    rows = [(0, "Manila", 14.6042, 120.9822, 0.0), (1, "Dalian", 38.913811, 121.602322, 25.0)]
    lines = [
        f"{i},{n},{la},{lo},{h},{','.join(f'{c:f}' for c in _wgs72_xyz(la, lo, h))}"
        for i, n, la, lo, h in rows
    ]
    gs = gsf.parse_ground_stations("\n".join(lines))
    assert gs.names == ("Manila", "Dalian")
    assert gs.alt_m.tolist() == [0.0, 25.0]
    # WGS72 and WGS84 positions of the same station differ by metres, not kilometres.
    xyz = np.array([_wgs72_xyz(*r[2:]) for r in rows])
    assert np.max(np.linalg.norm(xyz - gs.ecef_m, axis=1)) < 10.0
    bad = lines[1].split(",")
    bad[5] = f"{float(bad[5]) + 1000.0:f}"
    with pytest.raises(DataError, match=r"line 2: x,y,z lie 1.0 km"):
        gsf.parse_ground_stations("\n".join([lines[0], ",".join(bad)]), "gs.txt")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0,A,1,2", "line 1: 4 columns"),
        ("1,A,1,2,0", "ids must count up from 0"),
        ("0,A,1,2,0\n1,B,1,2,0,1,2,3", "line 2: 8 columns after lines of 5"),
        ("0,A,north,2,0", "latitude 'north' is not a number"),
        ("0,A,95,2,0", "outside -90..90"),
        ("0,A,1,2,1e6", "not a ground height"),
        ("0,,1,2,0", "empty station name"),
        ("\n\n", "no ground stations"),
    ],
)
def test_errors_name_the_line(text: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        gsf.parse_ground_stations(text, "gs.txt")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read ground-station file"):
        gsf.read_ground_stations(tmp_path / "missing.txt")
    p = tmp_path / "latin1.txt"
    p.write_bytes("0,S\xe3o Paulo,-23.5,-46.6,0\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        gsf.read_ground_stations(p)
