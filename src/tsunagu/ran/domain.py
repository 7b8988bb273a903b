"""The RAN domain object: cells derived from population and their flow-level capacity.

Cells: each demand point's area is covered by a hexagonal macro layout whose inter-site
distance follows its population density (urban ISD where the density exceeds the scenario's
threshold, rural ISD elsewhere). Capacity: the area-mean spectral efficiency of a cell in a
fully loaded two-tier hexagonal layout (19 sites), TR 38.901 path loss (UMa for urban, RMa for
rural layouts), thermal noise, and the TR 38.803 truncated-Shannon mapping; summed over the
scenario's carriers. Users share a cell as a processor-sharing queue (proportional-fair
scheduling at flow level): a transfer of ``b`` bits in a cell of capacity ``C`` at load ``ρ``
takes ``b / (C (1 − ρ))`` on average (M/G/1-PS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from tsunagu.constants import C_M_PER_S
from tsunagu.ran.pathloss import expected_pathloss_db
from tsunagu.ran.rate import thermal_noise_dbm, truncated_shannon_bps_per_hz
from tsunagu.scenario.schema import RanSection

__all__ = ["RanPlan", "hex_layout_mean_se", "plan_cells", "ps_transfer_time_s"]

FloatArray = npt.NDArray[np.float64]


def _hex_sites(isd_m: float) -> FloatArray:
    """Site coordinates (x, y) in metres of a two-tier hexagonal layout (19 sites)."""
    a = np.array([1.0, 0.0])
    b = np.array([0.5, np.sqrt(3.0) / 2.0])
    ij = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3) if abs(i + j) <= 2])
    return np.asarray((ij[:, :1] * a + ij[:, 1:] * b) * isd_m, dtype=np.float64)


def hex_layout_mean_se(
    isd_m: float,
    freq_ghz: float,
    bandwidth_hz: float,
    tx_power_dbm: float,
    noise_figure_db: float,
    scenario: Literal["uma", "umi", "rma"],
    bs_height_m: float,
    ue_height_m: float,
    n_samples: int = 24,
) -> float:
    """Area-mean downlink spectral efficiency (b/s/Hz) of the centre cell of a loaded layout.

    UE positions form a regular grid over the centre site's hexagon (its Voronoi cell among the
    19 sites); every other site transmits at full power (full-buffer interference).
    """
    sites = _hex_sites(isd_m)
    half = isd_m / 2.0
    g = np.linspace(-isd_m, isd_m, 2 * n_samples + 1)
    x, y = np.meshgrid(g, g)
    pts = np.column_stack([x.ravel(), y.ravel()])
    d = np.hypot(pts[:, None, 0] - sites[None, :, 0], pts[:, None, 1] - sites[None, :, 1])
    centre = int(np.argmin(np.hypot(sites[:, 0], sites[:, 1])))
    in_cell = (np.argmin(d, axis=1) == centre) & (np.hypot(pts[:, 0], pts[:, 1]) <= 2 * half)
    d = np.maximum(d[in_cell], 10.0)
    pl = expected_pathloss_db(scenario, d, freq_ghz, bs_height_m, ue_height_m)
    rx_mw = 10.0 ** ((tx_power_dbm - pl) / 10.0)
    signal = rx_mw[:, centre]
    interference = rx_mw.sum(axis=1) - signal
    noise = 10.0 ** (thermal_noise_dbm(bandwidth_hz, noise_figure_db) / 10.0)
    sinr_db = 10.0 * np.log10(signal / (interference + noise))
    return float(np.mean(truncated_shannon_bps_per_hz(sinr_db)))


@dataclass(frozen=True)
class RanPlan:
    """Cells serving each demand point and their capacity (columns over demand points)."""

    isd_m: FloatArray
    sites: FloatArray
    site_capacity_bps: FloatArray
    access_propagation_s: FloatArray
    area_km2: FloatArray


def plan_cells(section: RanSection, population: npt.ArrayLike, area_km2: npt.ArrayLike) -> RanPlan:
    """Derive the macro layer from population and area (one row per demand point).

    The number of sites covers the area with hexagonal cells of the chosen ISD
    (site area ``√3/2 · ISD²``). The access propagation is the mean distance of a point in a
    cell from its site (``≈ 0.55 · ISD/√3`` for a hexagon) at the speed of light plus the mean
    fronthaul run from the site to the demand point's central office, capped at the fronthaul
    budget (sites beyond it host a distributed unit).
    """
    pop = np.asarray(population, dtype=np.float64)
    area = np.asarray(area_km2, dtype=np.float64)
    density = pop / np.maximum(area, 1e-6)
    urban = density >= section.urban_density_per_km2
    isd = np.where(urban, section.isd_urban_m, section.isd_rural_m)
    site_area_km2 = np.sqrt(3.0) / 2.0 * (isd / 1e3) ** 2
    sites = np.maximum(np.ceil(area / site_area_km2), 1.0)

    se = {}
    layouts: tuple[tuple[Literal["uma", "rma"], float], ...] = (
        ("uma", section.isd_urban_m),
        ("rma", section.isd_rural_m),
    )
    for scen, isd_val in layouts:
        se[scen] = sum(
            hex_layout_mean_se(
                isd_val,
                c.freq_ghz,
                c.bandwidth_mhz * 1e6,
                c.tx_power_dbm,
                section.noise_figure_db,
                scen,
                section.bs_height_m if scen == "uma" else 35.0,
                section.ue_height_m,
            )
            * c.bandwidth_mhz
            * 1e6
            for c in section.carriers
        )
    per_sector = np.where(urban, se["uma"], se["rma"])
    capacity = per_sector * section.sectors_per_site

    radius_m = np.sqrt(area * 1e6 / np.pi)
    fronthaul_m = np.minimum(2.0 / 3.0 * radius_m, section.fronthaul_max_km * 1e3)
    radio_m = 0.55 * isd / np.sqrt(3.0)
    access_s = radio_m / C_M_PER_S + fronthaul_m / (C_M_PER_S / 1.468)
    return RanPlan(
        isd_m=isd,
        sites=sites,
        site_capacity_bps=np.asarray(capacity, dtype=np.float64),
        access_propagation_s=access_s,
        area_km2=area,
    )


def ps_transfer_time_s(
    bits: npt.ArrayLike, capacity_bps: npt.ArrayLike, load: npt.ArrayLike
) -> FloatArray:
    """Mean transfer time of ``bits`` in a processor-sharing cell at utilisation ``load``.

    M/G/1-PS: ``T = b / (C (1 − ρ))``; infinite when ``ρ ≥ 1``.
    """
    b = np.asarray(bits, dtype=np.float64)
    c = np.asarray(capacity_bps, dtype=np.float64)
    rho = np.asarray(load, dtype=np.float64)
    free = np.clip(1.0 - rho, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return np.asarray(np.where(free > 0.0, b / (c * np.where(free > 0, free, 1.0)), np.inf))
