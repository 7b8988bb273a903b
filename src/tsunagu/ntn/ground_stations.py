"""Ground-station files in Hypatia's formats (Kassing et al., IMC 2020; satgenpy).

Formats, one station per line, comma-separated, no header:

* **basic** (``ground_stations.basic.txt``): ``id,name,latitude_deg,longitude_deg,elevation_m``
* **extended** (``ground_stations.txt``): the same five columns and the station's Earth-fixed
  ``x,y,z`` in metres (Hypatia computes them on the WGS72 ellipsoid).

Ids count up from 0 line by line, as Hypatia requires (its node number of a station is the
number of satellites plus the id). The position used here is always the geodetic one
(latitude, longitude, elevation) converted on the WGS84 ellipsoid like every other tsunagu
ground point; the extended file's own x, y, z are checked to lie within 100 m of it (the
WGS72/WGS84 ellipsoids differ by a few metres) so a file whose columns disagree is refused.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Final

import numpy as np

from tsunagu.errors import DataError
from tsunagu.ntn.routing import GroundPoints, ground_points

__all__ = ["parse_ground_stations", "read_ground_stations"]

_CARTESIAN_TOLERANCE_M: Final = 100.0


def parse_ground_stations(text: str, source: str = "<ground_stations>") -> GroundPoints:
    """Parse Hypatia's basic (5 columns) or extended (8 columns) ground-station text.

    Raises
    ------
    DataError
        Naming the line and the column that is wrong.

    Examples
    --------
    >>> gs = parse_ground_stations("0,Manila,14.6042,120.9822,0\\n1,Dalian,38.913811,121.602322,0")
    >>> gs.names
    ('Manila', 'Dalian')
    """
    names: list[str] = []
    values: list[tuple[float, float, float]] = []
    cartesian: list[tuple[int, tuple[float, float, float]]] = []
    width: int | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        cols = [c.strip() for c in raw.split(",")]
        if len(cols) not in (5, 8):
            raise DataError(
                f"{source}, line {lineno}: {len(cols)} columns; expected 5 "
                "(id,name,lat,lon,elevation) or 8 (the same and x,y,z in metres)."
            )
        if width is not None and len(cols) != width:
            raise DataError(
                f"{source}, line {lineno}: {len(cols)} columns after lines of {width}; use one "
                "format for the whole file."
            )
        width = len(cols)
        if cols[0] != str(len(names)):
            raise DataError(
                f"{source}, line {lineno}: id {cols[0]!r}; ids must count up from 0 "
                f"(expected {len(names)})."
            )
        nums: list[float] = []
        for k, label in (
            (2, "latitude"),
            (3, "longitude"),
            (4, "elevation"),
            (5, "x"),
            (6, "y"),
            (7, "z"),
        ):
            if k >= len(cols):
                break
            try:
                v = float(cols[k])
            except ValueError:
                v = math.nan
            if not math.isfinite(v):
                raise DataError(f"{source}, line {lineno}: {label} {cols[k]!r} is not a number.")
            nums.append(v)
        lat, lon, ele = nums[:3]
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
            raise DataError(
                f"{source}, line {lineno}: latitude {lat} / longitude {lon} outside -90..90 / "
                "-180..360 degrees."
            )
        if not -500.0 <= ele <= 9_000.0:
            raise DataError(
                f"{source}, line {lineno}: elevation {ele} m is not a ground height "
                "(-500 .. 9,000 m above the ellipsoid)."
            )
        if not cols[1]:
            raise DataError(f"{source}, line {lineno}: empty station name.")
        names.append(cols[1])
        values.append((lat, lon, ele))
        if len(nums) == 6:
            cartesian.append((lineno, (nums[3], nums[4], nums[5])))
    if not names:
        raise DataError(f"{source}: no ground stations; expect lines 'id,name,lat,lon,elevation'.")
    arr = np.array(values, dtype=np.float64)
    gs = ground_points(names, arr[:, 0], arr[:, 1], arr[:, 2])
    if cartesian:
        xyz = np.array([c for _, c in cartesian], dtype=np.float64)
        off = np.linalg.norm(xyz - gs.ecef_m, axis=1)
        bad = np.flatnonzero(off > _CARTESIAN_TOLERANCE_M)
        if bad.size:
            k = int(bad[0])
            raise DataError(
                f"{source}, line {cartesian[k][0]}: x,y,z lie {off[k] / 1e3:.1f} km from the "
                "station's latitude/longitude/elevation; the columns disagree."
            )
    return gs


def read_ground_stations(path: str | Path) -> GroundPoints:
    """Read a Hypatia ground-station file (basic or extended format)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read ground-station file {str(p)!r}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"ground-station file {str(p)!r} is not UTF-8 text (byte {exc.start}); save it as "
            "UTF-8."
        ) from None
    return parse_ground_stations(text, p.name)
