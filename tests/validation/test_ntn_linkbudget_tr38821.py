"""TR 38.821 Table 6.1.3.3-1 link budgets recomputed from their parameters.

Reference rows: ``tests/data/tr38821_table_6_1_3_3_1.csv`` (source and the two transcription
corrections written in its header). Each row is recomputed from first principles — EIRP from
the EIRP density or transmit power, G/T from gain, antenna temperature and noise figure, the
slant range from TR 38.811 eq. (6.6-3) at the table's 600 km / 30°, FSPL from eq. (6.6-2) —
with the table's atmospheric, shadowing and scintillation allowances as inputs.

Tolerance 0.1 dB (the brief's bar; the table prints every term at 0.1 dB, so rounding of up
to nine printed terms can move the tabulated CNR by a few hundredths of a dB). Intermediate
terms (EIRP, G/T, FSPL) are checked to 0.05 dB, half the last printed digit.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tsunagu.ntn import linkbudget as lb

DATA = Path(__file__).parents[1] / "data" / "tr38821_table_6_1_3_3_1.csv"
CNR_TOL_DB = 0.1
TERM_TOL_DB = 0.05


def _rows() -> list[dict[str, str]]:
    lines = [ln for ln in DATA.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


ROWS = _rows()


def _f(row: dict[str, str], key: str) -> float:
    return float(row[key])


def _recompute(row: dict[str, str]) -> dict[str, float]:
    b_hz = _f(row, "bandwidth_mhz") * 1e6
    if row["eirp_density_dbw_per_mhz"]:
        eirp = float(lb.eirp_dbw(_f(row, "eirp_density_dbw_per_mhz"), b_hz))
    else:
        eirp = float(lb.eirp_from_power_dbw(_f(row, "tx_power_dbm"), _f(row, "tx_gain_dbi")))
    if row["g_over_t_table_db_per_k"]:
        gt = _f(row, "g_over_t_table_db_per_k")
    else:
        gt = float(
            lb.g_over_t_db_per_k(
                _f(row, "rx_gain_dbi"), _f(row, "rx_nf_db"), _f(row, "rx_antenna_temp_k")
            )
        )
    d_m = lb.slant_range_m(_f(row, "altitude_km") * 1e3, _f(row, "elevation_deg"))
    fspl = float(lb.free_space_path_loss_db(d_m, _f(row, "freq_ghz") * 1e9))
    cnr = float(
        lb.cnr_db(
            eirp,
            gt,
            fspl,
            b_hz,
            atmospheric_loss_db=_f(row, "atmospheric_db"),
            shadowing_margin_db=_f(row, "shadowing_db"),
            scintillation_loss_db=_f(row, "scintillation_db"),
            polarization_loss_db=_f(row, "polarization_db"),
            additional_losses_db=_f(row, "additional_db"),
        )
    )
    return {"eirp": eirp, "gt": gt, "fspl": fspl, "cnr": cnr}


def test_reference_file_has_the_four_rows() -> None:
    assert [(r["case"], r["direction"]) for r in ROWS] == [
        ("SC6", "DL"),
        ("SC6", "UL"),
        ("SC9", "DL"),
        ("SC9", "UL"),
    ]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['case']}-{r['direction']}" for r in ROWS])
def test_cnr_reproduced_within_0p1_db(row: dict[str, str]) -> None:
    got = _recompute(row)
    assert got["cnr"] == pytest.approx(_f(row, "cnr_db"), abs=CNR_TOL_DB)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['case']}-{r['direction']}" for r in ROWS])
def test_intermediate_terms_match_the_table(row: dict[str, str]) -> None:
    got = _recompute(row)
    assert got["eirp"] == pytest.approx(_f(row, "eirp_dbw"), abs=TERM_TOL_DB)
    assert got["fspl"] == pytest.approx(_f(row, "fspl_db"), abs=TERM_TOL_DB)


def test_ue_g_over_t_of_table_6_1_1_1_3() -> None:
    # TR 38.821 Table 6.1.1.1-3 prints G/T -31.6 dB/K (handheld) and 15.9 dB/K (VSAT).
    assert float(lb.g_over_t_db_per_k(0.0, 7.0, 290.0)) == pytest.approx(-31.6, abs=TERM_TOL_DB)
    assert float(lb.g_over_t_db_per_k(39.7, 1.2, 150.0)) == pytest.approx(15.9, abs=TERM_TOL_DB)


def test_geo_fspl_of_tr38811_at_12p5_deg() -> None:
    # TR 38.821 Table 6.1.3.3-1 GEO Ka rows: FSPL 210.6 dB at 20 GHz, 12.5 deg elevation.
    d_m = lb.slant_range_m(35_786e3, 12.5)
    assert float(lb.free_space_path_loss_db(d_m, 20e9)) == pytest.approx(210.6, abs=TERM_TOL_DB)
