"""tsunagu's ITU-R wrappers against ITU-R Study Group 3 validation examples.

Reference rows (``tests/data/itur_*.csv``, source in each header) are the ITU-R SG3 validation
examples for software implementations. Every check here goes through tsunagu's own functions,
the ones the link budgets call:

* ITU-R P.618-13 §2.5 total slant-path attenuation and its terms (gas P.676-12, clouds P.840,
  rain P.618-13 §2.2.1.1, scintillation §2.4.1) through
  :func:`tsunagu.ntn.linkbudget.itur_slant_path_losses`;
* ITU-R P.618-13 §2.2.1.1 rain attenuation (64 rows, 0.001–1 %) through the rain term of the
  same wrapper (its rainfall rate comes from the P.837-7 map, as in ITU-R's examples);
* the same rows through :func:`tsunagu.ntn.haps.feeder_rain_availability_pct`, the inverse
  (fade margin → availability): a margin equal to ITU-R's A(p) must give 100 − p.

The checks of the ``itur`` package alone (P.676 with given atmosphere, P.838, P.837) are
dependency checks, not validations of tsunagu; they live in ``tests/unit/test_itur_dependency.py``.

Tolerances (physical units):

* 0.02 dB on total, rain and scintillation attenuation: ITU-R's own examples are computed with
  a different bilinear interpolation of the same digital maps (their R0.01 differs from the
  P.837-7 map by up to 0.022 mm/h); the largest difference, 0.015 dB, occurs on an 88 dB rain
  fade (0.02 %). A link budget is quoted at 0.1 dB.
* 0.01 dB on gas and clouds: closed-form or single-map quantities.
* 3 % (relative) on the exceedance p recovered by the availability inverse: it interpolates
  log A linearly in log p between 22 exceedances 0.001–5 % (spacing a factor 1.5), and the
  curvature of P.618's A(p) between two grid points, plus the 0.015 dB map difference above on
  the local slope, moves p by up to about 2 % (measured 1.8 %).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tsunagu.ntn.haps import feeder_rain_availability_pct
from tsunagu.ntn.linkbudget import itur_slant_path_losses

DATA = Path(__file__).parents[1] / "data"


def _load(name: str) -> dict[str, np.ndarray]:
    lines = [
        ln
        for ln in (DATA / name).read_text(encoding="utf-8").splitlines()
        if ln and not ln.startswith("#")
    ]
    rows = list(csv.DictReader(lines))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def test_p618_total_attenuation_through_our_wrapper() -> None:
    d = _load("itur_p618_13_total.csv")
    n = d["lat"].size
    got = {k: np.full(n, np.nan) for k in ("gas", "cloud", "rain", "scint", "total")}
    # One vectorised call per (frequency, exceedance, polarisation tilt): the wrapper takes
    # those as scalars and arrays of locations, the way the link budgets call it.
    groups = sorted({(f, p, t) for f, p, t in zip(d["f"], d["p"], d["tau"], strict=True)})
    for f, p, t in groups:
        m = (d["f"] == f) & (d["p"] == p) & (d["tau"] == t)
        r = itur_slant_path_losses(
            d["lat"][m],
            d["lon"][m],
            f * 1e9,
            d["el"][m],
            p,
            float(d["D"][m][0]),
            antenna_efficiency=float(d["eta"][m][0]),
            station_altitude_m=d["hs"][m] * 1e3,
            polarization_tilt_deg=t,
        )
        got["gas"][m] = r.gas_db
        got["cloud"][m] = r.cloud_db
        got["rain"][m] = r.rain_db
        got["scint"][m] = r.scintillation_db
        got["total"][m] = r.total_db
    assert np.all(np.isfinite(got["total"]))
    np.testing.assert_allclose(got["gas"], d["A_gas_1"], atol=0.01, rtol=0)
    np.testing.assert_allclose(got["cloud"], d["A_clouds_1"], atol=0.01, rtol=0)
    np.testing.assert_allclose(got["rain"], d["A_rain"], atol=0.02, rtol=0)
    np.testing.assert_allclose(got["scint"], d["A_scin"], atol=0.02, rtol=0)
    np.testing.assert_allclose(got["total"], d["A_total"], atol=0.02, rtol=0)


def test_p618_rain_attenuation_through_our_wrapper() -> None:
    d = _load("itur_p618_13_rain.csv")
    got = np.full(d["p"].size, np.nan)
    for f, p, tau in sorted(set(zip(d["f"], d["p"], d["tau"], strict=True))):
        m = (d["f"] == f) & (d["p"] == p) & (d["tau"] == tau)
        got[m] = itur_slant_path_losses(
            d["lat"][m],
            d["lon"][m],
            f * 1e9,
            d["el"][m],
            p,
            1.0,  # antenna size enters scintillation only
            station_altitude_m=d["hs"][m] * 1e3,
            polarization_tilt_deg=tau,
        ).rain_db
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, d["A_rain"], atol=0.02, rtol=0)


def test_feeder_availability_inverts_the_p618_rain_examples() -> None:
    d = _load("itur_p618_13_rain.csv")
    avail = np.full(d["p"].size, np.nan)
    for f, tau in sorted(set(zip(d["f"], d["tau"], strict=True))):
        m = (d["f"] == f) & (d["tau"] == tau)  # one vectorised call per carrier and tilt
        avail[m] = feeder_rain_availability_pct(
            d["lat"][m], d["lon"][m], f * 1e9, d["el"][m], d["A_rain"][m], tau
        )
    np.testing.assert_allclose(100.0 - avail, d["p"], rtol=0.03, atol=0)
