"""National traffic against MIC's published month averages.

Consistency with the published figures (not an independent model check): the shipped table
holds MIC's figures, and the test checks that the model's day-averaged national traffic at each
published month reproduces the published figure within 1 % (the tolerance of the figures, which
MIC rounds to 0.1 Tb/s, about 0.3 % at 34.5 Tb/s). Sources: traffic_jp_mic.csv (MIC press
releases 2016-2025, White Papers 2020-2023). The busy-hour check compares with MIC's own
statement that the fixed-broadband peak lies between 19 h and 23 h (releases of 2014-2024).
"""

from __future__ import annotations

import csv
import importlib.resources
import io

import numpy as np
import pytest

from tsunagu.traffic import NationalTraffic, TrafficSection

STEP_S = 300.0
T_S = np.arange(0.0, 86_400.0, STEP_S)


def _published() -> list[dict[str, str]]:
    text = importlib.resources.files("tsunagu.data").joinpath("traffic_jp_mic.csv").read_text()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("row", _published(), ids=lambda r: f"{r['class']}-{r['month']}")
def test_day_average_equals_published_figure(row: dict[str, str]) -> None:
    nt = NationalTraffic.load()
    y, m = (int(x) for x in row["month"].split("-"))
    t_yr = y + (m - 0.5) / 12.0
    offered = nt.series_bps(row["class"], t_yr) * nt.profile(T_S, row["class"])
    assert offered.mean() == pytest.approx(float(row["mean_bps"]), rel=0.01)


def test_base_year_run_matches_mic_nov_2023() -> None:
    """The default base year (2023) run with year = base year: fixed download 34.5 Tb/s."""
    nt = NationalTraffic.load()
    sec = TrafficSection(base_year=2023, year=2023)
    off = nt.offered_bps(sec, T_S)
    assert off["fixed_down"].mean() == pytest.approx(34.5e12, rel=0.01)


@pytest.mark.parametrize("cls", ["fixed_down", "fixed_up"])
def test_busy_hour_in_mic_stated_peak_window(cls: str) -> None:
    nt = NationalTraffic.load()
    sec = TrafficSection(base_year=2023, year=2023)
    off = nt.offered_bps(sec, T_S)[cls]
    peak_h = T_S[int(np.argmax(off))] / 3600.0
    assert 19.0 <= peak_h < 23.5
    # and the busy hour is the shipped profile's largest hour (knot at the hour's middle)
    assert int(peak_h) == nt.busy_hour(cls)
