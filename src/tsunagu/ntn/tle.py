"""Orbital element sets: two-line elements (TLE/3LE) and CCSDS OMM as CelesTrak serves them.

Formats
-------
* **TLE / 3LE**: the NORAD two-line format (columns as in CelesTrak's "NORAD Two-Line Element
  Set Format" and Vallado et al., AIAA 2006-6753, appendix), optionally preceded by a name line
  (CelesTrak 3LE writes it as ``0 NAME``). Lines starting with ``#`` and blank lines are skipped.
  Every line is checked before it reaches SGP4: line number digit, length, the modulo-10
  checksum (digits count their value, ``-`` counts 1), matching catalogue numbers, and every
  numeric field (range included: inclination 0–180°, RAAN/argument of perigee/mean anomaly
  0–360°, eccentricity < 1, mean motion > 0, day of year 1–366.99…).
* **OMM**: CelesTrak's JSON (a list of objects) and CSV (header row) renderings of CCSDS
  502.0-B-2 Orbit Mean-Elements Messages with the TLE-compatible keys (``EPOCH``,
  ``MEAN_MOTION`` rev/day, ``ECCENTRICITY``, ``INCLINATION``, ``RA_OF_ASC_NODE``,
  ``ARG_OF_PERICENTER``, ``MEAN_ANOMALY`` in degrees, ``BSTAR``, ``MEAN_MOTION_DOT``,
  ``MEAN_MOTION_DDOT``, ``NORAD_CAT_ID``, ...). Units are converted to SGP4's internal ones
  (rad, rad/min) here; the elements are mean elements for SGP4 with WGS72 constants, as NORAD
  produces them.

* **Hypatia's ``tles.txt``** (Kassing et al., IMC 2020, satgenpy): a TLE/3LE file whose first
  line holds two integers, ``<orbits> <satellites per orbit>``, followed by the satellites
  orbit by orbit. The header gives each satellite its plane and slot
  (:attr:`ElementSet.plane`, :attr:`ElementSet.slot`), so a +Grid ISL pattern can be built.
* **Plane and slot for OMM**: optional ``PLANE`` and ``SLOT`` integer keys (JSON) or columns
  (CSV), given for every record or for none, do the same for OMM files.

Element epochs must lie within 1957-01-01 .. 2056-12-31 UTC: the span of the TLE format's
two-digit year (57–99 → 19xx, 00–56 → 20xx) and of the tracking catalogue SGP4 mean elements
are fitted to; an OMM epoch outside it (a typo such as year 9999) is refused.

Errors raise :class:`tsunagu.errors.DataError` naming the source, the line number, the field
(with its columns for TLE) and what was expected.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sgp4.api import WGS72, Satrec, SatrecArray

from tsunagu.errors import DataError

__all__ = [
    "EPOCH_MAX_UTC",
    "EPOCH_MIN_UTC",
    "ElementSet",
    "parse_omm_csv",
    "parse_omm_json",
    "parse_tle",
    "read_elements",
    "tle_checksum",
]

#: Julian date of the SGP4 epoch origin 1949-12-31 00:00 UTC (``sgp4init`` counts days from it).
_JD_1949_12_31: Final = 2433281.5
_DEG: Final = math.pi / 180.0
_MIN_PER_DAY: Final = 1440.0
# MEAN_MOTION_DOT is rev/day² /2 and MEAN_MOTION_DDOT rev/day³ /6 in OMM/TLE; SGP4 wants rad/min²
# and rad/min³ (Vallado's SGP4 source, twoline2rv).
_NDOT_UNITS: Final = _MIN_PER_DAY**2 / (2.0 * math.pi)
_NDDOT_UNITS: Final = _MIN_PER_DAY**3 / (2.0 * math.pi)


@dataclass(frozen=True)
class ElementSet:
    """SGP4 element sets of N satellites, in input order.

    Attributes
    ----------
    names : tuple of str
        Object names (the catalogue number as text where the input had none).
    satnum : numpy.ndarray of int64, shape (N,)
        NORAD catalogue numbers.
    satrecs : tuple of sgp4.api.Satrec
        Initialised SGP4 records (WGS72 constants, improved mode ``'i'``).
    plane, slot : numpy.ndarray of int64, shape (N,), or None
        Orbital plane and slot in the plane of each satellite, where the input gave them
        (Hypatia's header line, OMM ``PLANE``/``SLOT``, Walker presets); None otherwise.
    """

    names: tuple[str, ...]
    satnum: NDArray[np.int64]
    satrecs: tuple[Satrec, ...]
    plane: NDArray[np.int64] | None = None
    slot: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return len(self.satrecs)

    @property
    def epoch_jd(self) -> NDArray[np.float64]:
        """Element epochs as Julian dates (UTC), shape (N,)."""
        return np.array([s.jdsatepoch + s.jdsatepochF for s in self.satrecs], dtype=np.float64)

    def satrec_array(self) -> SatrecArray:
        """The vectorised propagator over all satellites."""
        return SatrecArray(list(self.satrecs))

    def __add__(self, other: ElementSet) -> ElementSet:
        return ElementSet(
            self.names + other.names,
            np.concatenate([self.satnum, other.satnum]),
            self.satrecs + other.satrecs,
        )

    def grid_index(self) -> NDArray[np.int64]:
        """Satellite index of each (plane, slot), shape (planes, sats_per_plane).

        Raises
        ------
        DataError
            When the element set has no plane/slot structure, or it is not a full rectangle
            (every plane with the same slots 0..S-1, each once).
        """
        if self.plane is None or self.slot is None:
            raise DataError(
                "the element set has no plane/slot structure; give Hypatia's header line "
                "'<orbits> <satellites per orbit>', OMM PLANE/SLOT columns, or use a preset."
            )
        p, s = self.plane, self.slot
        n_p, n_s = int(p.max()) + 1, int(s.max()) + 1
        if p.min() < 0 or s.min() < 0 or n_p * n_s != len(self):
            raise DataError(
                f"plane/slot structure is not a full grid: {len(self)} satellites, planes "
                f"0..{n_p - 1}, slots 0..{n_s - 1}; every plane needs the same slots."
            )
        index = np.full((n_p, n_s), -1, dtype=np.int64)
        index[p, s] = np.arange(len(self))
        if np.any(index < 0):
            raise DataError(
                "plane/slot structure repeats a (plane, slot) pair; each satellite needs its own."
            )
        return index


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns of a TLE line.

    Digits count their value, a minus sign counts 1, everything else 0.

    Examples
    --------
    >>> tle_checksum("1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753")
    3
    """
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


#: Element epochs accepted (UTC): the TLE two-digit-year span (see the module docstring).
EPOCH_MIN_UTC: Final = datetime(1957, 1, 1, tzinfo=UTC)
EPOCH_MAX_UTC: Final = datetime(2057, 1, 1, tzinfo=UTC)


def _err(source: str, lineno: int, what: str) -> DataError:
    return DataError(f"{source}, line {lineno}: {what}")


def _field(line: str, first: int, last: int) -> str:
    """Columns ``first``..``last`` (1-based, inclusive) of a TLE line."""
    return line[first - 1 : last]


def _float_field(
    source: str,
    lineno: int,
    line: str,
    cols: tuple[int, int],
    name: str,
    lo: float,
    hi: float,
    *,
    implied_decimal: bool = False,
    hi_open: bool = False,
) -> float:
    text = _field(line, *cols).strip()
    where = f"field {name} (columns {cols[0]}-{cols[1]}) = {text!r}"
    try:
        value = float("0." + text) if implied_decimal else float(text)
    except ValueError:
        raise _err(source, lineno, f"{where} is not a number.") from None
    if implied_decimal and not text.isdigit():
        raise _err(source, lineno, f"{where} must be digits with an implied leading decimal.")
    if not (lo <= value < hi if hi_open else lo <= value <= hi):
        raise _err(
            source,
            lineno,
            f"{where} is out of range; expected {lo:g} to {hi:g}{' (open)' * hi_open}.",
        )
    return value


def _exp_field(source: str, lineno: int, line: str, cols: tuple[int, int], name: str) -> float:
    """TLE 'assumed decimal point with exponent' field like ' 28098-4' → 0.28098e-4."""
    text = _field(line, *cols)
    body = text.strip()
    where = f"field {name} (columns {cols[0]}-{cols[1]}) = {text!r}"
    if not body:
        return 0.0
    sign = -1.0 if body[0] == "-" else 1.0
    body = body.lstrip("+-")
    if len(body) < 3 or body[-2] not in "+-" or not body[-1].isdigit():
        raise _err(source, lineno, f"{where} must look like ' 12345-3' (mantissa, exponent).")
    mant, exp = body[:-2], body[-2:]
    if not mant.isdigit():
        raise _err(source, lineno, f"{where} has a non-digit mantissa.")
    return sign * float("0." + mant) * 10.0 ** int(exp)


def _check_line(
    source: str, lineno: int, line: str, number: str, verify_checksum: bool, allow_trailing: bool
) -> str:
    if not line.startswith(number + " "):
        raise _err(source, lineno, f"expected TLE line {number} starting with '{number} '.")
    body = line.rstrip()
    if len(body) < 68 or (len(body) > 69 and not allow_trailing):
        raise _err(
            source,
            lineno,
            f"TLE line {number} has {len(body)} characters; expected 69 (68 plus checksum).",
        )
    if verify_checksum:
        if len(body) < 69 or not body[68].isdigit():
            raise _err(source, lineno, "checksum (column 69) is missing or not a digit.")
        want = tle_checksum(body)
        if int(body[68]) != want:
            raise _err(
                source,
                lineno,
                f"checksum mismatch: column 69 says {body[68]}, the line sums to {want}; "
                "the line is corrupt (or pass verify_checksum=False to accept it).",
            )
    return body[:69].ljust(69)


def _satnum(source: str, lineno: int, text: str) -> int:
    """Catalogue number, 5 digits or Alpha-5 (letter + 4 digits, I and O excluded)."""
    t = text.strip()
    if t.isdigit():
        return int(t)
    if len(t) == 5 and t[0].isalpha() and t[0].upper() not in "IO" and t[1:].isdigit():
        letter = t[0].upper()
        value = ord(letter) - ord("A") + 10
        value -= (letter > "I") + (letter > "O")
        return value * 10_000 + int(t[1:])
    raise _err(source, lineno, f"field satellite number (columns 3-7) = {text!r} is invalid.")


def _tle_record(
    source: str,
    ln1: int,
    l1: str,
    ln2: int,
    l2: str,
    verify_checksum: bool,
    allow_trailing: bool,
) -> Satrec:
    l1 = _check_line(source, ln1, l1, "1", verify_checksum, allow_trailing)
    l2 = _check_line(source, ln2, l2, "2", verify_checksum, allow_trailing)
    n1 = _satnum(source, ln1, _field(l1, 3, 7))
    n2 = _satnum(source, ln2, _field(l2, 3, 7))
    if n1 != n2:
        raise _err(source, ln2, f"satellite number {n2} on line 2 differs from {n1} on line {ln1}.")
    yy = _field(l1, 19, 20)
    if not yy.strip().isdigit():
        raise _err(source, ln1, f"field epoch year (columns 19-20) = {yy!r} is not two digits.")
    _float_field(source, ln1, l1, (21, 32), "epoch day of year", 1.0, 367.0, hi_open=True)
    _float_field(source, ln1, l1, (34, 43), "mean motion dot", -1.0, 1.0)
    _exp_field(source, ln1, l1, (45, 52), "mean motion ddot")
    _exp_field(source, ln1, l1, (54, 61), "BSTAR")
    _float_field(source, ln2, l2, (9, 16), "inclination (deg)", 0.0, 180.0)
    _float_field(source, ln2, l2, (18, 25), "RAAN (deg)", 0.0, 360.0)
    _float_field(
        source, ln2, l2, (27, 33), "eccentricity", 0.0, 1.0, implied_decimal=True, hi_open=True
    )
    _float_field(source, ln2, l2, (35, 42), "argument of perigee (deg)", 0.0, 360.0)
    _float_field(source, ln2, l2, (44, 51), "mean anomaly (deg)", 0.0, 360.0)
    mm = _float_field(source, ln2, l2, (53, 63), "mean motion (rev/day)", 0.0, 100.0)
    if mm <= 0.0:
        raise _err(source, ln2, "field mean motion (columns 53-63) must be > 0 rev/day.")
    return Satrec.twoline2rv(l1, l2, WGS72)


def parse_tle(
    text: str,
    source: str = "<tle>",
    *,
    verify_checksum: bool = True,
    allow_trailing: bool = False,
) -> ElementSet:
    """Parse TLE or 3LE text into SGP4 element sets.

    Parameters
    ----------
    text : str
        Two-line elements, each pair optionally preceded by a name line (``0 NAME`` or
        ``NAME``). ``#`` comment lines and blank lines are ignored.
    source : str
        Name used in error messages (a file name).
    verify_checksum : bool
        Check column 69 of both lines (default). Vallado's verification file deliberately
        contains bad checksums; pass False only for such files.
    allow_trailing : bool
        Accept text after column 69 (Vallado's verification file keeps start/stop/step there).

    Returns
    -------
    ElementSet

    Raises
    ------
    DataError
        With the line number and the field that is wrong.

    Examples
    --------
    >>> es = parse_tle('''ISS (ZARYA)
    ... 1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927
    ... 2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537''')
    >>> es.names, int(es.satnum[0])
    (('ISS (ZARYA)',), 25544)
    """
    lines = text.splitlines()
    names: list[str] = []
    nums: list[int] = []
    recs: list[Satrec] = []
    pending_name: str | None = None
    header, i = _hypatia_header(lines)
    while i < len(lines):
        raw = lines[i]
        lineno = i + 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        if raw.startswith("2 "):
            raise _err(source, lineno, "TLE line 2 without a preceding line 1.")
        if not raw.startswith("1 "):
            if pending_name is not None:
                raise _err(
                    source,
                    lineno,
                    f"expected TLE line 1 after name line {pending_name!r}; got {stripped[:30]!r}.",
                )
            pending_name = stripped[2:].strip() if stripped.startswith("0 ") else stripped
            i += 1
            continue
        if i + 1 >= len(lines):
            raise _err(source, lineno, "TLE line 1 is not followed by line 2 (file truncated?).")
        sat = _tle_record(
            source, lineno, raw, lineno + 1, lines[i + 1], verify_checksum, allow_trailing
        )
        nums.append(int(sat.satnum))
        names.append(pending_name if pending_name else str(sat.satnum))
        recs.append(sat)
        pending_name = None
        i += 2
    if pending_name is not None:
        raise _err(source, len(lines), f"name line {pending_name!r} has no element lines after it.")
    if not recs:
        raise DataError(
            f"{source}: no two-line element sets found; expect lines '1 ...' and '2 ...'."
        )
    plane = slot = None
    if header is not None:
        (n_p, n_s), h_line = header
        if n_p * n_s != len(recs):
            raise _err(
                source,
                h_line,
                f"header says {n_p} orbits x {n_s} satellites per orbit = {n_p * n_s}, but the "
                f"file holds {len(recs)} element sets.",
            )
        idx = np.arange(len(recs), dtype=np.int64)
        plane, slot = idx // n_s, idx % n_s
    return ElementSet(tuple(names), np.array(nums, dtype=np.int64), tuple(recs), plane, slot)


def _hypatia_header(lines: list[str]) -> tuple[tuple[tuple[int, int], int] | None, int]:
    """Hypatia's ``<orbits> <satellites per orbit>`` first line: ((P, S), line number), next."""
    for i, raw in enumerate(lines):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split()
        if len(parts) == 2 and all(x.isdigit() for x in parts) and all(int(x) > 0 for x in parts):
            return ((int(parts[0]), int(parts[1])), i + 1), i + 1
        return None, 0
    return None, 0


# ------------------------------------------------------------------------------------------ OMM

_OMM_REQUIRED: Final = (
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "NORAD_CAT_ID",
)

# field -> (low, high, high is open)
_OMM_RANGES: Final[dict[str, tuple[float, float, bool]]] = {
    "MEAN_MOTION": (0.0, 100.0, False),
    "ECCENTRICITY": (0.0, 1.0, True),
    "INCLINATION": (0.0, 180.0, False),
    "RA_OF_ASC_NODE": (0.0, 360.0, False),
    "ARG_OF_PERICENTER": (0.0, 360.0, False),
    "MEAN_ANOMALY": (0.0, 360.0, False),
    "BSTAR": (-1.0, 1.0, False),
    "MEAN_MOTION_DOT": (-1.0, 1.0, False),
    "MEAN_MOTION_DDOT": (-1.0, 1.0, False),
}


def _shown(value: Any) -> str:
    """``repr(value)`` for an error message, cut short (a 400-digit number stays one line)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:24]}…({len(text)} characters)"


def _omm_epoch(where: str, value: Any) -> datetime:
    text = str(value).strip().rstrip("Z")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise DataError(
        f"{where}: field EPOCH = {_shown(value)} is not an ISO date-time like "
        "2024-01-31T12:00:00.000."
    )


def _omm_record(where: str, rec: Mapping[str, Any]) -> tuple[str, int, Satrec]:
    missing = [k for k in _OMM_REQUIRED if k not in rec or str(rec[k]).strip() == ""]
    if missing:
        raise DataError(f"{where}: missing OMM field(s) {', '.join(missing)}.")
    vals: dict[str, float] = {}
    for key, (lo, hi, open_hi) in _OMM_RANGES.items():
        raw = rec.get(key, 0.0)
        raw = 0.0 if raw is None or str(raw).strip() == "" else raw
        try:
            v = float(raw)
        except OverflowError:  # a JSON integer beyond the float range (about 1.8e308)
            v = math.inf
        except (TypeError, ValueError):
            raise DataError(f"{where}: field {key} = {_shown(raw)} is not a number.") from None
        if not math.isfinite(v) or not (lo <= v < hi if open_hi else lo <= v <= hi):
            raise DataError(
                f"{where}: field {key} = {_shown(raw)} is out of range; expected {lo:g} to {hi:g}."
            )
        vals[key] = v
    if vals["MEAN_MOTION"] <= 0.0:
        raise DataError(f"{where}: field MEAN_MOTION must be > 0 rev/day.")
    try:
        satnum = int(str(rec["NORAD_CAT_ID"]).strip())
    except ValueError:
        raise DataError(
            f"{where}: field NORAD_CAT_ID = {_shown(rec['NORAD_CAT_ID'])} is not an integer."
        ) from None
    if not 0 <= satnum <= 339_999:
        raise DataError(f"{where}: field NORAD_CAT_ID = {_shown(satnum)} is outside 0..339999.")
    epoch = _omm_epoch(where, rec["EPOCH"])
    if not EPOCH_MIN_UTC <= epoch < EPOCH_MAX_UTC:
        raise DataError(
            f"{where}: field EPOCH = {_shown(rec['EPOCH'])} lies outside 1957-01-01 .. "
            "2056-12-31, the span of element sets SGP4 is fitted for; correct the year."
        )
    origin = datetime(1949, 12, 31, tzinfo=UTC)
    epoch_days = (epoch - origin).total_seconds() / 86_400.0
    sat = Satrec()
    sat.sgp4init(
        WGS72,
        "i",
        satnum,
        epoch_days,
        vals["BSTAR"],
        vals["MEAN_MOTION_DOT"] / _NDOT_UNITS,
        vals["MEAN_MOTION_DDOT"] / _NDDOT_UNITS,
        vals["ECCENTRICITY"],
        vals["ARG_OF_PERICENTER"] * _DEG,
        vals["INCLINATION"] * _DEG,
        vals["MEAN_ANOMALY"] * _DEG,
        vals["MEAN_MOTION"] * 2.0 * math.pi / _MIN_PER_DAY,
        vals["RA_OF_ASC_NODE"] * _DEG,
    )
    name = str(rec.get("OBJECT_NAME") or satnum).strip()
    return name, satnum, sat


def _plane_slot(where: str, rec: Mapping[str, Any]) -> tuple[int, int] | None:
    given = [k for k in ("PLANE", "SLOT") if rec.get(k) is not None and str(rec[k]).strip()]
    if not given:
        return None
    if len(given) == 1:
        raise DataError(f"{where}: {given[0]} without {({'PLANE', 'SLOT'} - set(given)).pop()}.")
    out: list[int] = []
    for key in ("PLANE", "SLOT"):
        try:
            value = int(str(rec[key]).strip())
        except ValueError:
            raise DataError(
                f"{where}: field {key} = {_shown(rec[key])} is not an integer >= 0."
            ) from None
        if value < 0:
            raise DataError(f"{where}: field {key} = {_shown(value)} must be >= 0.")
        out.append(value)
    return out[0], out[1]


def _from_records(source: str, items: Iterable[tuple[str, Mapping[str, Any]]]) -> ElementSet:
    names: list[str] = []
    nums: list[int] = []
    recs: list[Satrec] = []
    grid: list[tuple[int, int] | None] = []
    for where, rec in items:
        name, num, sat = _omm_record(where, rec)
        names.append(name)
        nums.append(num)
        recs.append(sat)
        grid.append(_plane_slot(where, rec))
    if not recs:
        raise DataError(f"{source}: no OMM records found.")
    plane = slot = None
    if any(g is not None for g in grid):
        if not all(g is not None for g in grid):
            raise DataError(
                f"{source}: PLANE/SLOT given for some records only; give them for all or none."
            )
        arr = np.array(grid, dtype=np.int64)
        plane, slot = arr[:, 0], arr[:, 1]
    return ElementSet(tuple(names), np.array(nums, dtype=np.int64), tuple(recs), plane, slot)


def parse_omm_json(text: str, source: str = "<omm.json>") -> ElementSet:
    """Parse CelesTrak OMM JSON (a list of objects, or one object).

    Errors name the line on which the offending object starts.

    Examples
    --------
    >>> es = parse_omm_json('[{"OBJECT_NAME": "X", "NORAD_CAT_ID": 1, '
    ...     '"EPOCH": "2024-01-01T00:00:00", "MEAN_MOTION": 15.0, "ECCENTRICITY": 0.001, '
    ...     '"INCLINATION": 53, "RA_OF_ASC_NODE": 10, "ARG_OF_PERICENTER": 0, '
    ...     '"MEAN_ANOMALY": 0}]')
    >>> len(es), es.names[0]
    (1, 'X')
    """
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    items: list[tuple[str, Mapping[str, Any]]] = []

    def lineno(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    try:
        if text[pos : pos + 1] == "[":
            pos += 1
            while True:
                while pos < len(text) and text[pos] in " \t\r\n,":
                    pos += 1
                if pos >= len(text):
                    raise DataError(f"{source}, line {lineno(pos)}: the JSON list is not closed.")
                if text[pos] == "]":
                    break
                start = pos
                obj, pos = decoder.raw_decode(text, pos)
                items.append((f"{source}, line {lineno(start)} (record {len(items) + 1})", obj))
        else:
            obj, _ = decoder.raw_decode(text, pos)
            items.append((f"{source}, line {lineno(pos)} (record 1)", obj))
    except json.JSONDecodeError as exc:
        raise DataError(f"{source}, line {exc.lineno}: invalid JSON ({exc.msg}).") from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise DataError(
            f"{source}, line {lineno(pos)} (record {len(items) + 1}): a number has more than "
            "4,300 digits, which no orbital element has; correct the value."
        ) from None
    except RecursionError:
        raise DataError(
            f"{source}, line {lineno(pos)} (record {len(items) + 1}): nested too deeply to be "
            "OMM JSON (a list of flat objects)."
        ) from None
    for where, obj in items:
        if not isinstance(obj, dict):
            raise DataError(
                f"{where}: expected a JSON object with OMM keys; got {type(obj).__name__}."
            )
    return _from_records(source, items)


def parse_omm_csv(text: str, source: str = "<omm.csv>") -> ElementSet:
    """Parse CelesTrak OMM CSV (a header row of OMM keys, one object per row).

    Examples
    --------
    >>> es = parse_omm_csv('OBJECT_NAME,NORAD_CAT_ID,EPOCH,MEAN_MOTION,ECCENTRICITY,'
    ...     'INCLINATION,RA_OF_ASC_NODE,ARG_OF_PERICENTER,MEAN_ANOMALY\\n'
    ...     'X,1,2024-01-01T00:00:00,15.0,0.001,53,10,0,0\\n')
    >>> len(es)
    1
    """
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [k for k in _OMM_REQUIRED if k not in header]
    if missing:
        raise DataError(f"{source}, line 1: CSV header lacks OMM column(s) {', '.join(missing)}.")

    def rows() -> Iterable[tuple[str, Mapping[str, Any]]]:
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise DataError(
                    f"{source}, line {reader.line_num}: the row's number of values differs "
                    f"from the {len(header)} header columns."
                )
            yield f"{source}, line {reader.line_num}", row

    return _from_records(source, rows())


def read_elements(path: str | Path) -> ElementSet:
    """Read a TLE/3LE file, or OMM as JSON (``.json``) or CSV (``.csv``); OMM XML is refused.

    Raises
    ------
    DataError
        If the file is missing or malformed (with the line number and field).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read element file {str(p)!r}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"element file {str(p)!r} is not UTF-8 text (byte {exc.start} is "
            f"0x{exc.object[exc.start]:02x}); element sets are ASCII: re-export it as TLE or "
            "OMM text."
        ) from None
    suffix = p.suffix.lower()
    if suffix == ".xml" or text.lstrip().startswith("<"):
        raise DataError(
            f"element file {str(p)!r} is XML; OMM is read as JSON or CSV: download the same "
            "elements with FORMAT=json or FORMAT=csv (CelesTrak gp.php), or as TLE."
        )
    if suffix == ".json":
        return parse_omm_json(text, p.name)
    if suffix == ".csv":
        return parse_omm_csv(text, p.name)
    return parse_tle(text, p.name)
