"""Dependency checks of the ``itur`` package (ITU-Rpy) against ITU-R SG3 validation examples.

These call ``itur`` directly, not tsunagu: they confirm that the installed version of the
dependency still reproduces ITU-R's own examples for the Recommendations tsunagu builds on
(P.618 rain through P.837 rainfall rate and P.838 specific attenuation; P.676 gases). They are
not validations of tsunagu's code — those are in ``tests/validation/test_itur_validation.py``.
Data: ``tests/data/itur_*.csv`` (source in each header). Tolerances as printed by ITU-R:
0.01 dB gas, 1e-4 dB/km specific attenuation, 1e-3 mm/h rainfall rate.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

DATA = Path(__file__).parents[1] / "data"


def _load(name: str) -> dict[str, np.ndarray]:
    lines = [
        ln
        for ln in (DATA / name).read_text(encoding="utf-8").splitlines()
        if ln and not ln.startswith("#")
    ]
    rows = list(csv.DictReader(lines))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def _itur():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import itur

    return itur


def test_itur_p618_rain_attenuation_with_given_r001() -> None:
    d = _load("itur_p618_13_rain.csv")
    itur = _itur()
    got = np.array(
        [
            itur.models.itu618.rain_attenuation(la, lo, f, el, hs=hs, p=p, R001=r, tau=tau).value
            for la, lo, hs, f, el, tau, p, r in zip(
                d["lat"],
                d["lon"],
                d["hs"],
                d["f"],
                d["el"],
                d["tau"],
                d["p"],
                d["R001"],
                strict=True,
            )
        ]
    )
    np.testing.assert_allclose(got, d["A_rain"], atol=0.02, rtol=0)


def test_itur_p676_slant_path_gas() -> None:
    d = _load("itur_p676_12_gas.csv")
    itur = _itur()
    got = itur.models.itu676.gaseous_attenuation_slant_path(
        d["f"], d["el"], d["rho"], d["P"], d["T"], d["V_t"], d["h"], mode="approx"
    ).value
    np.testing.assert_allclose(got, d["A_gas"], atol=0.01, rtol=0)


def test_itur_p838_specific_attenuation() -> None:
    d = _load("itur_p838_3_gamma.csv")
    itur = _itur()
    got = np.array(
        [
            itur.models.itu838.rain_specific_attenuation(r, f, el, tau).value
            for r, f, el, tau in zip(d["R"], d["f"], d["el"], d["tau"], strict=True)
        ]
    )
    np.testing.assert_allclose(got, d["gamma_r"], atol=1e-4, rtol=0)


def test_itur_p837_rainfall_rate() -> None:
    d = _load("itur_p837_7_r001.csv")
    itur = _itur()
    got = itur.models.itu837.rainfall_rate(d["lat"], d["lon"], 0.01).value
    np.testing.assert_allclose(got, d["Rp"], atol=1e-3, rtol=0)
