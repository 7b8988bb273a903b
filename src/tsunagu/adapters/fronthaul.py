"""RAN carriers → optical fronthaul: split-7.2x bit rate per site and its latency reach.

For each demand point the RAN plan gives the number of macro sites over the point's area; each
site has ``sectors_per_site`` sectors radiating every carrier of the scenario. One sector's
fronthaul is the sum over carriers of the split-7.2x line rate with one stream per layer
(category-B O-RU), dimensioned for a fully loaded cell. Sites are spread evenly over a disc of
the point's area around its central office; their fibre route is the radial distance times the
metro route factor; a site lies within the fronthaul budget when that route fits in the
eCPRI latency class after the switch delay. Sites beyond it need a distributed unit on site or
in a hub (a relaxed-latency midhaul split), which the result counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu.optical.fronthaul import (
    ECPRI_LATENCY_CLASS_S,
    fronthaul_reach_km,
    split72_bitrate_bps,
)
from tsunagu.ran.rate import FrequencyRange, n_prb
from tsunagu.scenario.schema import Scenario

__all__ = ["FronthaulPlan", "plan_fronthaul", "sector_fronthaul_bps"]

FloatArray = npt.NDArray[np.float64]

#: FR1 ends at 7.125 GHz (TS 38.104 Table 5.1-1, Rel-17); upper mid-band carriers above it are
#: dimensioned with the FR1 numerology, FR2 starts at 24.25 GHz.
_FR2_START_GHZ = 24.25


def _carrier_prb(bandwidth_mhz: float, freq_ghz: float, scs_khz: int) -> tuple[int, int]:
    fr: FrequencyRange = "FR2" if freq_ghz >= _FR2_START_GHZ else "FR1"
    scs = 120 if fr == "FR2" else scs_khz
    return n_prb(bandwidth_mhz, scs, fr), scs


def sector_fronthaul_bps(scenario: Scenario) -> float:
    """Split-7.2x line rate (bit/s, one direction) of one sector radiating every carrier."""
    fh = scenario.optical.fronthaul
    total = 0.0
    for c in scenario.ran.carriers:
        prb, scs = _carrier_prb(c.bandwidth_mhz, c.freq_ghz, fh.scs_khz)
        total += float(
            split72_bitrate_bps(
                prb,
                scs,
                c.layers,
                iq_width_bits=fh.iq_width_bits,
                compression=fh.compression,
                mtu_bytes=fh.mtu_bytes,
            )
        )
    return total


@dataclass(frozen=True)
class FronthaulPlan:
    """Fronthaul demand per demand point (columns over demand points) and its totals."""

    site_bps: float
    reach_km: float
    budget_s: float
    sites: FloatArray
    sites_within_budget: FloatArray
    demand_bps: FloatArray
    wavelengths: FloatArray

    @property
    def share_within_budget(self) -> float:
        total = float(np.sum(self.sites))
        return float(np.sum(self.sites_within_budget)) / total if total else float("nan")


def plan_fronthaul(
    scenario: Scenario, sites: npt.ArrayLike, area_km2: npt.ArrayLike
) -> FronthaulPlan:
    """Fronthaul bit rate and latency feasibility of the RAN sites of each demand point.

    ``sites`` and ``area_km2`` are the RAN plan's columns. ``demand_bps`` is the fronthaul of
    the sites within budget, aggregated at the central office; ``wavelengths`` is how many
    transceivers of the scenario's rate carry it there (a WDM fronthaul aggregation).
    """
    fh = scenario.optical.fronthaul
    n_sites = np.asarray(sites, dtype=np.float64)
    area = np.asarray(area_km2, dtype=np.float64)
    budget = ECPRI_LATENCY_CLASS_S[fh.latency_class]
    group_index = scenario.optical.operators[0].fibre.group_index
    reach = float(fronthaul_reach_km(budget, fh.switch_delay_s, group_index))
    radius_km = np.sqrt(area / np.pi)
    route_km = radius_km * scenario.optical.metro_route_factor
    share = np.where(route_km > 0, np.minimum(1.0, (reach / np.maximum(route_km, 1e-9)) ** 2), 1.0)
    within = n_sites * share
    site_bps = scenario.ran.sectors_per_site * sector_fronthaul_bps(scenario)
    demand = within * site_bps
    rate = scenario.optical.equipment.transceiver_rate_bps
    return FronthaulPlan(
        site_bps=site_bps,
        reach_km=reach,
        budget_s=budget,
        sites=n_sites,
        sites_within_budget=np.asarray(within, dtype=np.float64),
        demand_bps=np.asarray(demand, dtype=np.float64),
        wavelengths=np.asarray(np.ceil(demand / rate), dtype=np.float64),
    )
