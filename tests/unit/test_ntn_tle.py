"""Unit tests of tsunagu.ntn.tle: TLE/3LE and OMM (JSON, CSV) parsing and its error messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import DataError
from tsunagu.ntn import orbits, tle

# ISS element set from Vallado et al. / CelesTrak documentation (checksums valid).
L1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927"
L2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"

OMM = {
    "OBJECT_NAME": "ISS (ZARYA)",
    "OBJECT_ID": "1998-067A",
    "EPOCH": "2008-09-20T12:25:40.104192",
    "MEAN_MOTION": 15.72125391,
    "ECCENTRICITY": 0.0006703,
    "INCLINATION": 51.6416,
    "RA_OF_ASC_NODE": 247.4627,
    "ARG_OF_PERICENTER": 130.536,
    "MEAN_ANOMALY": 325.0288,
    "EPHEMERIS_TYPE": 0,
    "CLASSIFICATION_TYPE": "U",
    "NORAD_CAT_ID": 25544,
    "ELEMENT_SET_NO": 292,
    "REV_AT_EPOCH": 56353,
    "BSTAR": -1.1606e-5,
    "MEAN_MOTION_DOT": -2.182e-5,
    "MEAN_MOTION_DDOT": 0,
}


def test_checksum_of_known_lines() -> None:
    assert tle.tle_checksum(L1) == int(L1[68])
    assert tle.tle_checksum(L2) == int(L2[68])


def test_parse_two_and_three_line_forms() -> None:
    two = tle.parse_tle(f"{L1}\n{L2}\n")
    three = tle.parse_tle(f"0 ISS (ZARYA)\n{L1}\n{L2}\n\n# comment\n")
    assert two.names == ("25544",)
    assert three.names == ("ISS (ZARYA)",)
    assert three.satnum.tolist() == [25544]
    # Epoch 2008 day 264.51782528.
    epoch = datetime(2008, 1, 1, tzinfo=UTC).timestamp() + (264.51782528 - 1) * 86400
    jd = 2440587.5 + epoch / 86400.0
    assert float(three.epoch_jd[0]) == pytest.approx(jd, abs=1e-8)


def _corrupt(line: str, col: int, ch: str) -> str:
    return line[: col - 1] + ch + line[col:]


def _fix(line: str) -> str:
    """Recompute the checksum so only the field error remains."""
    return line[:68] + str(tle.tle_checksum(line))


@pytest.mark.parametrize(
    ("text", "lineno", "match"),
    [
        (f"ISS\n{L1}\n{_corrupt(L2, 69, '0')}", 3, "checksum mismatch"),
        (f"{_corrupt(L1, 69, '9')}\n{L2}", 1, "checksum"),
        (f"ISS\n{L1[:60]}\n{L2}", 2, "60 characters"),
        (f"{L1}\n", 1, "not followed by line 2"),
        (f"{L2}\n", 1, "without a preceding line 1"),
        (f"ISS\nISS again\n{L1}\n{L2}", 2, "expected TLE line 1"),
        (f"{L1}\n{_fix(L2.replace('25544', '25545', 1))}", 2, "differs"),
    ],
)
def test_tle_errors_name_line_and_problem(text: str, lineno: int, match: str) -> None:
    with pytest.raises(DataError, match=match) as info:
        tle.parse_tle(text, "sats.tle")
    assert f"sats.tle, line {lineno}:" in str(info.value)


@pytest.mark.parametrize(
    ("line_no", "col", "ch", "field"),
    [
        (2, 10, "X", "inclination"),  # "51.6416" -> "5X.6416"
        (2, 9, "2", "inclination"),  # 251.6416 > 180
        (2, 19, "A", "RAAN"),
        (2, 28, "x", "eccentricity"),
        (2, 55, "Z", "mean motion"),
        (1, 22, "Q", "epoch day"),
        (1, 55, "x", "BSTAR"),
    ],
)
def test_tle_field_errors(line_no: int, col: int, ch: str, field: str) -> None:
    l1 = _fix(_corrupt(L1, col, ch)) if line_no == 1 else L1
    l2 = _fix(_corrupt(L2, col, ch)) if line_no == 2 else L2
    with pytest.raises(DataError, match=field) as info:
        tle.parse_tle(f"{l1}\n{l2}", "x.tle")
    assert f"x.tle, line {line_no}: field" in str(info.value)


def test_trailing_text_only_when_allowed() -> None:
    with pytest.raises(DataError, match="expected 69"):
        tle.parse_tle(f"{L1}\n{L2}   0.0 1440.0 360.0")
    es = tle.parse_tle(f"{L1}\n{L2}   0.0 1440.0 360.0", allow_trailing=True)
    assert len(es) == 1


def test_alpha5_catalogue_number() -> None:
    # Alpha-5: 'A0001' is 100001 (A = 10).
    a1 = _fix(L1.replace("25544U", "A0001U"))
    a2 = _fix(L2.replace("25544", "A0001", 1))
    es = tle.parse_tle(f"{a1}\n{a2}")
    assert es.satnum.tolist() == [100001]


def _positions(es: tle.ElementSet) -> np.ndarray:
    return orbits.sgp4_positions_ecef_m(es, datetime(2008, 9, 21, tzinfo=UTC), [0.0, 3600.0])


def test_omm_json_and_csv_match_tle() -> None:
    ref = _positions(tle.parse_tle(f"{L1}\n{L2}"))
    js = tle.parse_omm_json(json.dumps([OMM], indent=1))
    header = ",".join(OMM)
    row = ",".join(str(v) for v in OMM.values())
    cs = tle.parse_omm_csv(f"{header}\n{row}\n")
    for es in (js, cs):
        assert es.names == ("ISS (ZARYA)",)
        # The TLE carries the same numbers with fewer digits: within 1 m after one hour.
        np.testing.assert_allclose(_positions(es), ref, rtol=0, atol=1.0)


def test_omm_json_errors_name_the_line() -> None:
    bad = dict(OMM, INCLINATION=200.0)
    text = json.dumps([OMM, bad], indent=1)
    with pytest.raises(DataError, match="INCLINATION") as info:
        tle.parse_omm_json(text, "c.json")
    start = text.index("{", text.index("}"))  # second record
    assert f"line {text.count(chr(10), 0, start) + 1}" in str(info.value)
    missing = {k: v for k, v in OMM.items() if k != "MEAN_MOTION"}
    with pytest.raises(DataError, match="missing OMM field"):
        tle.parse_omm_json(json.dumps(missing))
    with pytest.raises(DataError, match="line 2: invalid JSON"):
        tle.parse_omm_json('[\n{"a": }]')
    with pytest.raises(DataError, match="EPOCH"):
        tle.parse_omm_json(json.dumps([dict(OMM, EPOCH="yesterday")]))


def test_omm_csv_errors_name_the_line() -> None:
    header = ",".join(OMM)
    good = ",".join(str(v) for v in OMM.values())
    bad = good.replace("0.0006703", "1.5")
    with pytest.raises(DataError, match=r"c\.csv, line 3: field ECCENTRICITY"):
        tle.parse_omm_csv(f"{header}\n{good}\n{bad}\n", "c.csv")
    with pytest.raises(DataError, match="lacks OMM column"):
        tle.parse_omm_csv("A,B\n1,2\n", "c.csv")


def test_read_elements_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.tle").write_text(f"ISS\n{L1}\n{L2}\n")
    (tmp_path / "a.json").write_text(json.dumps([OMM]))
    header = ",".join(OMM)
    (tmp_path / "a.csv").write_text(header + "\n" + ",".join(str(v) for v in OMM.values()))
    for name in ("a.tle", "a.json", "a.csv"):
        assert tle.read_elements(tmp_path / name).satnum.tolist() == [25544]
    with pytest.raises(DataError, match="cannot read"):
        tle.read_elements(tmp_path / "missing.tle")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 68), st.sampled_from("0123456789"))
def test_any_single_digit_change_is_caught(col: int, digit: str) -> None:
    # Changing one digit of line 1 changes its checksum unless the digit is the same.
    line = _corrupt(L1, col, digit)
    if line == L1 or not L1[col - 1].isdigit():
        return
    with pytest.raises(DataError, match="line 1"):
        tle.parse_tle(f"{line}\n{L2}")


HYPATIA = Path(__file__).resolve().parents[1] / "data" / "hypatia" / "kuiper_630_tles.txt"


def test_hypatia_tles_header_gives_planes_and_slots() -> None:
    es = tle.read_elements(HYPATIA)
    assert len(es) == 34 * 34
    index = es.grid_index()
    assert index.shape == (34, 34)
    assert index[1, 0] == 34
    assert index[33, 33] == 1155
    # Odd planes are shifted by half a slot (360/68 deg) in Hypatia's file.
    assert es.satrecs[34].mo == pytest.approx(np.radians(360 / 68), abs=1e-6)
    text = HYPATIA.read_text().splitlines()
    bad = "\n".join(["34 33", *text[1:]])
    with pytest.raises(DataError, match=r"line 1: header says 34 orbits x 33 .* 1156"):
        tle.parse_tle(bad, "tles.txt")


def test_omm_plane_slot_columns() -> None:
    recs = [dict(OMM, NORAD_CAT_ID=k + 1, PLANE=k // 2, SLOT=k % 2) for k in range(4)]
    es = tle.parse_omm_json(json.dumps(recs))
    assert es.grid_index().tolist() == [[0, 1], [2, 3]]
    recs[3].pop("SLOT")
    with pytest.raises(DataError, match="PLANE without SLOT"):
        tle.parse_omm_json(json.dumps(recs))
    recs[3]["SLOT"] = 0
    with pytest.raises(DataError, match="repeats"):
        tle.parse_omm_json(json.dumps(recs)).grid_index()
    with pytest.raises(DataError, match="no plane/slot structure"):
        tle.parse_omm_json(json.dumps([OMM])).grid_index()


@pytest.mark.parametrize("epoch", ["9999-01-01T00:00:00", "1900-06-01T00:00:00"])
def test_omm_epoch_outside_the_sgp4_span_is_refused(epoch: str) -> None:
    with pytest.raises(DataError, match=r"EPOCH .* outside 1957-01-01"):
        tle.parse_omm_json(json.dumps([dict(OMM, EPOCH=epoch)]), "x.json")


@pytest.mark.parametrize("suffix", [".tle", ".json", ".csv"])
def test_non_utf8_element_file_is_a_clean_error(tmp_path: Path, suffix: str) -> None:
    p = tmp_path / f"bad{suffix}"
    p.write_bytes(b"\xff\xfe junk\n")
    with pytest.raises(DataError, match=rf"bad{suffix}.* not UTF-8 .*byte 0 is 0xff"):
        tle.read_elements(p)
