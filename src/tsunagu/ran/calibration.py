"""The 3GPP TR 38.901 §7.8.1 large-scale calibration (R1-165974), reproduced end to end.

Settings (TR 38.901 Table 7.8-1, with the scenario parameters of Table 7.2-1):

* 19 sites × 3 sectors (boresights 30°, 150°, 270°), geographic wrap-around;
  UMa: ISD 500 m, BS height 25 m, minimum BS–UT distance 35 m;
  UMi-Street Canyon: ISD 200 m, BS height 10 m, minimum distance 10 m.
* BS antenna: 10 × 1 vertical elements at 0.5 λ, all on one port, electrical tilt 102°;
  element of Table 7.3-1 (8 dBi, 65°, 30 dB). UT antenna isotropic (0 dBi).
* Users uniform over the layout; 80 % indoor at floor ``n_fl ~ U{1..N_fl}``,
  ``N_fl ~ U{4..8}``, height ``3 (n_fl − 1) + 1.5`` m; outdoor users at 1.5 m; indoor distance
  ``min(U(0, 25), U(0, 25))`` m; O2I loss 50 % low-loss / 50 % high-loss model (§7.4.3),
  per user (the same for every BS).
* LOS state and shadow fading drawn per BS–UT link (Tables 7.4.2-1, 7.4.1-1); UMa
  effective environment height drawn per link (Table 7.4.1-1 Note 1). No fast fading, no
  noise, handover margin 0 dB.
* Metrics: coupling gain to the serving sector (strongest received power); geometry = serving
  power over the sum of all other sectors' power.

The link budget is :func:`tsunagu.ran.sinr.downlink_sinr` — the same code that computes the
national coverage — so a passing calibration checks the production path.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from tsunagu.errors import DataError, ModelRangeError
from tsunagu.ran import pathloss as pl
from tsunagu.ran.layout import (
    drop_uniform_in_hexagons,
    hex_sites_m,
    three_sector_cells,
    wrap_shifts_m,
)
from tsunagu.ran.sinr import CellLayer, downlink_sinr

__all__ = [
    "CALIBRATION_FREQS_GHZ",
    "CalibrationDrop",
    "CalibrationResult",
    "CalibrationScenario",
    "calibration_drop",
    "load_reference",
    "run_calibration",
]

Float = NDArray[np.float64]

CalibrationScenario = Literal["uma", "umi"]
#: Frequencies of the reference (R1-165974 / Table 7.8-1).
CALIBRATION_FREQS_GHZ: Final = (6.0, 30.0, 70.0)
#: Percentiles compared by the acceptance check.
CHECK_PERCENTILES: Final = (5, 50, 95)

_ISD_M: Final = {"uma": 500.0, "umi": 200.0}
_BS_HEIGHT_M: Final = {"uma": 25.0, "umi": 10.0}
_MIN_D2D_M: Final = {"uma": 35.0, "umi": 10.0}
_REF_FILE: Final = "calibration_r1_165974.csv"


@dataclass(frozen=True)
class CalibrationDrop:
    """One drop of the calibration layout: cells, users and their per-user losses."""

    cells: CellLayer
    ue_xy_m: Float
    ue_height_m: Float
    ue_d2d_in_m: Float
    ue_o2i_db: Float
    wrap_shifts_m: Float


@dataclass(frozen=True)
class CalibrationResult:
    """Coupling gain and geometry of every user, their percentiles and the reference's.

    ``coupling_gain_db`` uses the sign of the 3GPP plots (negative dB).
    """

    scenario: CalibrationScenario
    freq_ghz: float
    n_users: int
    seed: int
    coupling_gain_db: Float
    geometry_db: Float
    percentiles: tuple[int, ...]
    coupling_gain_pct_db: Float
    geometry_pct_db: Float
    ref_coupling_gain_pct_db: Float
    ref_geometry_pct_db: Float

    def max_abs_error_db(self, percentiles: tuple[int, ...] = CHECK_PERCENTILES) -> float:
        """Largest |ours − reference| over coupling gain and geometry at ``percentiles``."""
        pick = np.isin(np.asarray(self.percentiles), percentiles)
        e_cl = np.abs(self.coupling_gain_pct_db - self.ref_coupling_gain_pct_db)[pick]
        e_gf = np.abs(self.geometry_pct_db - self.ref_geometry_pct_db)[pick]
        return float(max(e_cl.max(), e_gf.max()))


def load_reference() -> dict[tuple[str, float], tuple[NDArray[np.int64], Float, Float]]:
    """The R1-165974 reference percentiles shipped in ``data/ran/calibration_r1_165974.csv``.

    Returns ``{(scenario, freq_ghz): (percentiles, coupling_gain_db, geometry_db)}``.
    """
    text = resources.files("tsunagu.data").joinpath("ran").joinpath(_REF_FILE).read_text("utf-8")
    rows = list(csv.DictReader(line for line in text.splitlines() if line[:1] != "#"))
    if not rows:
        raise DataError(f"{_REF_FILE}: no rows; reinstall tsunagu.")
    out: dict[tuple[str, float], tuple[list[int], list[float], list[float]]] = {}
    try:
        for r in rows:
            key = (r["scenario"], float(r["freq_ghz"]))
            p, c, g = out.setdefault(key, ([], [], []))
            p.append(int(r["percentile"]))
            c.append(float(r["coupling_gain_db"]))
            g.append(float(r["geometry_db"]))
    except (KeyError, ValueError) as exc:
        raise DataError(f"{_REF_FILE}: malformed row ({exc}); reinstall tsunagu.") from exc
    return {
        k: (np.asarray(p, dtype=np.int64), np.asarray(c), np.asarray(g))
        for k, (p, c, g) in out.items()
    }


def _check(scenario: str, freq_ghz: float) -> None:
    if scenario not in _ISD_M:
        raise ModelRangeError(
            f"TR 38.901 §7.8 calibration: scenario {scenario!r} is not calibrated here; "
            "pass 'uma' or 'umi'."
        )
    if float(freq_ghz) not in CALIBRATION_FREQS_GHZ:
        raise ModelRangeError(
            f"TR 38.901 §7.8 calibration: the R1-165974 reference exists at 6, 30 and 70 GHz; "
            f"got {freq_ghz} GHz."
        )


def calibration_drop(
    scenario: CalibrationScenario, freq_ghz: float, n_users: int = 6000, seed: int = 1
) -> CalibrationDrop:
    """Build the Table 7.8-1 layout and drop ``n_users`` users (module docstring)."""
    _check(scenario, freq_ghz)
    rng = np.random.default_rng(seed)
    isd = _ISD_M[scenario]
    sites = hex_sites_m(isd)
    xy, az, site = three_sector_cells(sites)
    n_cells = xy.shape[0]
    tx_dbm = 44.0 if freq_ghz < 10.0 else 35.0  # Table 7.8-1; cancels in both metrics
    cells = CellLayer(
        x_m=xy[:, 0],
        y_m=xy[:, 1],
        height_m=np.full(n_cells, _BS_HEIGHT_M[scenario]),
        azimuth_deg=az,
        tilt_deg=np.full(n_cells, 102.0),
        tx_power_dbm=np.full(n_cells, tx_dbm),
        site=site,
        freq_ghz=float(freq_ghz),
        bandwidth_hz=20e6 if freq_ghz < 10.0 else 100e6,
        environment=scenario,
        pattern="sector",
        n_vertical=10,
    )
    ue_xy, _ = drop_uniform_in_hexagons(sites, isd, n_users, _MIN_D2D_M[scenario], rng)
    indoor = rng.random(n_users) < 0.8
    n_fl = rng.integers(4, 9, n_users)
    floor = np.floor(rng.random(n_users) * n_fl) + 1.0
    h_ut = np.where(indoor, 3.0 * (floor - 1.0) + 1.5, 1.5)
    d_in = np.where(indoor, np.minimum(rng.uniform(0, 25, n_users), rng.uniform(0, 25, n_users)), 0)
    high = rng.random(n_users) < 0.5
    low_db = pl.o2i_low_loss_db(freq_ghz, d_in, rng=rng)
    high_db = pl.o2i_high_loss_db(freq_ghz, d_in, rng=rng)
    o2i = np.where(indoor, np.where(high, high_db, low_db), 0.0)
    return CalibrationDrop(
        cells=cells,
        ue_xy_m=ue_xy,
        ue_height_m=h_ut,
        ue_d2d_in_m=d_in,
        ue_o2i_db=o2i,
        wrap_shifts_m=wrap_shifts_m(isd),
    )


def run_calibration(
    scenario: CalibrationScenario, freq_ghz: float, n_users: int = 6000, seed: int = 1
) -> CalibrationResult:
    """Run the large-scale calibration and compare it with R1-165974.

    Examples
    --------
    >>> r = run_calibration("umi", 6.0, n_users=600, seed=3)
    >>> r.coupling_gain_db.shape
    (600,)
    """
    drop = calibration_drop(scenario, freq_ghz, n_users, seed)
    res = downlink_sinr(
        drop.ue_xy_m,
        drop.ue_height_m,
        drop.cells,
        seed=seed,
        ue_d2d_in_m=drop.ue_d2d_in_m,
        ue_extra_loss_db=drop.ue_o2i_db,
        wrap_shifts_m=drop.wrap_shifts_m,
    )
    ref = load_reference()
    key = (scenario, float(freq_ghz))
    if key not in ref:
        raise DataError(f"{_REF_FILE}: no reference for {scenario} at {freq_ghz} GHz.")
    pct, ref_cl, ref_gf = ref[key]
    return CalibrationResult(
        scenario=scenario,
        freq_ghz=float(freq_ghz),
        n_users=n_users,
        seed=seed,
        coupling_gain_db=res.coupling_gain_db,
        geometry_db=res.sir_db,
        percentiles=tuple(int(p) for p in pct),
        coupling_gain_pct_db=np.percentile(res.coupling_gain_db, pct),
        geometry_pct_db=np.percentile(res.sir_db, pct),
        ref_coupling_gain_pct_db=ref_cl,
        ref_geometry_pct_db=ref_gf,
    )
