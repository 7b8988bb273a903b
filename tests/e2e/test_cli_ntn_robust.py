"""``tsunagu ntn``: bad input and degenerate cases give one clean line (or a result), never a
traceback. Each case was a crash reproducer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsunagu.cli import app

runner = CliRunner()
HYPATIA = Path(__file__).resolve().parents[1] / "data" / "hypatia"
OMM = {
    "OBJECT_NAME": "X",
    "NORAD_CAT_ID": 1,
    "EPOCH": "9999-01-01T00:00:00",
    "MEAN_MOTION": 15.0,
    "ECCENTRICITY": 0.001,
    "INCLINATION": 53,
    "RA_OF_ASC_NODE": 10,
    "ARG_OF_PERICENTER": 0,
    "MEAN_ANOMALY": 0,
}


def _rtt(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["ntn", "rtt", "--duration", "10", "--step", "5", *args])
    assert "Traceback" not in res.output
    return res.exit_code, res.output


@pytest.mark.parametrize("suffix", [".tle", ".json", ".csv"])
def test_non_utf8_element_file(tmp_path: Path, suffix: str) -> None:
    p = tmp_path / f"elements{suffix}"
    p.write_bytes(b"\xff\xfe\x00 not text\n")
    code, out = _rtt("--constellation", str(p), "--from", "Tokyo", "--to", "Naha")
    assert code == 2
    assert f"elements{suffix}" in out
    assert "not UTF-8" in out


def test_omm_epoch_9999_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "omm.json"
    p.write_text(json.dumps([OMM]))
    code, out = _rtt("--constellation", str(p), "--from", "Tokyo", "--to", "Naha")
    assert code == 2
    assert "EPOCH" in out
    assert "1957-01-01" in out


_HUGE = int("9" * 400)  # beyond the float range: float() of it raised OverflowError


def _one_error_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("error:"), out
    assert "Traceback" not in out
    assert "OverflowError" not in out
    return lines[0]


@pytest.mark.parametrize("key", ["NORAD_CAT_ID", "MEAN_MOTION", "BSTAR", "MEAN_MOTION_DDOT"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("sign", [1, -1])
def test_omm_integers_beyond_the_float_range_are_one_clean_line(
    tmp_path: Path, key: str, fmt: str, sign: int
) -> None:
    record = {**OMM, "EPOCH": "2024-01-01T00:00:00", key: sign * _HUGE}
    p = tmp_path / f"omm.{fmt}"
    if fmt == "json":
        p.write_text(json.dumps([record]))
    else:
        p.write_text(",".join(record) + "\n" + ",".join(str(v) for v in record.values()) + "\n")
    code, out = _rtt("--constellation", str(p), "--from", "Tokyo", "--to", "Naha")
    assert code == 2, out
    line = _one_error_line(out)
    assert f"omm.{fmt}" in line
    assert f"field {key}" in line
    assert len(line) < 200  # the 400 digits are cut short, not pasted into the message


def test_omm_json_number_beyond_pythons_digit_limit_is_one_clean_line(tmp_path: Path) -> None:
    p = tmp_path / "omm.json"
    p.write_text(json.dumps([{**OMM, "EPOCH": "2024-01-01T00:00:00"}]).replace("15.0", "9" * 5000))
    code, out = _rtt("--constellation", str(p), "--from", "Tokyo", "--to", "Naha")
    assert code == 2, out
    assert "more than 4,300 digits" in _one_error_line(out)


def test_omm_xml_is_refused_with_the_formats_that_are_read(tmp_path: Path) -> None:
    p = tmp_path / "omm.xml"
    p.write_text(
        '<?xml version="1.0"?>\n<ndm><omm><body><segment><data><meanElements>'
        f"<MEAN_MOTION>{_HUGE}</MEAN_MOTION><NORAD_CAT_ID>{_HUGE}</NORAD_CAT_ID>"
        "</meanElements></data></segment></body></omm></ndm>\n"
    )
    code, out = _rtt("--constellation", str(p), "--from", "Tokyo", "--to", "Naha")
    assert code == 2, out
    assert "FORMAT=json" in _one_error_line(out)


@pytest.mark.parametrize("where", ["--to", "--from"])
def test_empty_place_is_refused(where: str) -> None:
    args = {"--from": "Tokyo", "--to": "Naha"}
    args[where] = ""
    code, out = _rtt("--constellation", "kuiper-630", *[x for kv in args.items() for x in kv])
    assert code == 2
    assert "empty place name" in out


def test_a_pair_without_any_path_is_reported() -> None:
    # An equatorial MEO ring without ISLs never serves Tokyo and 60° S together.
    res = runner.invoke(
        app,
        [
            "ntn",
            "rtt",
            "--constellation",
            "o3b-mpower",
            "--isl",
            "none",
            "--from",
            "Tokyo",
            "--to",
            "-60,0",
            "--duration",
            "10",
            "--step",
            "5",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)["summary"]
    assert summary["available_share"] == 0.0
    assert summary["rtt_ms_min"] is None
    assert summary["outages"] == [[0.0, 15.0]]
    code, out = _rtt(
        "--constellation", "o3b-mpower", "--isl", "none", "--from", "Tokyo", "--to", "-60,0"
    )
    assert code == 0
    assert "time with a path (%)" in out
    assert "0.0" in out


def test_huge_step_counts_are_refused_with_an_estimate() -> None:
    res = runner.invoke(app, ["ntn", "coverage", "--duration", "1e9"])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "16,666,668 steps" in res.output
    assert "GB" in res.output
    assert "--step" in res.output
    res = runner.invoke(
        app, ["ntn", "rtt", "--from", "Tokyo", "--to", "Naha", "--duration", "1e9", "--step", "1"]
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "1,000,000,001 steps" in res.output
    assert "GB" in res.output
    assert "--step" in res.output


def test_grid_isls_from_a_file_need_a_plane_structure(tmp_path: Path) -> None:
    lines = (HYPATIA / "kuiper_630_tles.txt").read_text().splitlines()
    plain = tmp_path / "plain.tle"
    plain.write_text("\n".join(lines[1:7]) + "\n")  # no header: two satellites, no structure
    code, out = _rtt(
        "--constellation", str(plain), "--isl", "grid", "--from", "Tokyo", "--to", "Naha"
    )
    assert code == 2
    assert "plane/slot" in out
    code, out = _rtt(
        "--constellation", str(plain), "--phasing", "1", "--from", "Tokyo", "--to", "Naha"
    )
    assert code == 2
    assert "apply to presets" in out
    code, out = _rtt("--gsl-rule", "cone", "--from", "Tokyo", "--to", "Naha")
    assert code == 2
    assert "--gsl-rule" in out
    code, out = _rtt("--max-gsl-km", "1000", "--from", "Tokyo", "--to", "Naha")
    assert code == 2
    assert "max-range" in out


def test_hypatia_header_gives_grid_isls_and_station_names() -> None:
    res = runner.invoke(
        app,
        [
            "ntn",
            "rtt",
            "--constellation",
            str(HYPATIA / "kuiper_630_tles.txt"),
            "--ground-stations",
            str(HYPATIA / "ground_stations_top_100.basic.txt"),
            "--from",
            "manila",
            "--to",
            "Saint-Petersburg",
            "--gsl-rule",
            "max-range",
            "--duration",
            "0",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["isl"] == "grid"
    assert out["isl_links"] == 2 * 34 * 34
    assert out["to"]["name"] == "Sankt-Peterburg-(Saint-Petersburg)"
    assert out["start_utc"].startswith("2000-01-01T00:00:00")
    # Default range: Hypatia's h/sin(25°), h from the mean motion (14.80 rev/day, WGS72).
    n_rad_s = 14.80 * 2 * math.pi / 86400
    h_m = (398600.8e9 / n_rad_s**2) ** (1 / 3) - 6378135.0
    assert out["max_gsl_km"] == pytest.approx(h_m / math.sin(math.radians(25)) / 1e3, rel=1e-9)
    code, text = _rtt(
        "--constellation",
        "kuiper-630",
        "--ground-stations",
        str(HYPATIA / "ground_stations_top_100.basic.txt"),
        "--from",
        "an",
        "--to",
        "Dalian",
    )
    assert code == 2
    assert "several ground station(s) match 'an'" in text


def test_preset_epoch_and_phasing_options() -> None:
    res = runner.invoke(
        app,
        [
            "ntn",
            "rtt",
            "--constellation",
            "kuiper-630",
            "--phasing",
            "hypatia",
            "--epoch",
            "2000-01-01T00:00:00Z",
            "--from",
            "Tokyo",
            "--to",
            "Naha",
            "--duration",
            "0",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["start_utc"].startswith("2000-01-01T00:00:00")
    code, out = _rtt(
        "--constellation", "kuiper-630", "--phasing", "half", "--from", "Tokyo", "--to", "Naha"
    )
    assert code == 2
    assert "'hypatia'" in out
    code, out = _rtt(
        "--constellation", "kuiper-630", "--epoch", "soon", "--from", "Tokyo", "--to", "Naha"
    )
    assert code == 2
    assert "--epoch 'soon' is not ISO 8601" in out


@pytest.mark.parametrize("option", ["--epoch", "--start"])
def test_dates_outside_the_sgp4_span_are_refused(option: str) -> None:
    code, out = _rtt(
        "--constellation",
        "kuiper-630",
        option,
        "9999-01-01T00:00:00Z",
        "--from",
        "Tokyo",
        "--to",
        "Naha",
    )
    assert code == 2
    assert f"{option} '9999-01-01T00:00:00Z' lies outside 1957-01-01" in out
