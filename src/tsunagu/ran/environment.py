"""A multi-cell, multi-carrier RAN over a day: the environment that RAN controllers act on.

Layout: a hexagonal grid of ``1 + 3 n (n + 1)`` three-sector sites (``n`` rings; 2 rings = 19
sites × 3 sectors as in TR 38.901 §7.8), sector boresights 30°, 150°, 270° (TR 38.901 Fig. 7.8-1),
each sector carrying every carrier of :class:`CarrierSpec` — typically one coverage-layer carrier
and capacity-layer carriers. A *cell* is one carrier of one sector.

Radio: every UE point receives from every cell ``P_tx + G_sector − PL − SF`` (dBm) with
TR 38.901 path loss (:func:`tsunagu.ran.pathloss.expected_pathloss_db`, LOS-probability weighted),
log-normal shadow fading per (UE point, site) with the scenario's NLOS σ (common to the carriers
and sectors of a site), and the TR 38.901 §7.3 sector antenna (:func:`tsunagu.ran.antenna.
sector_gain_dbi`). No wrap-around: cells at the edge of the layout see less interference.

Load-coupled interference: a cell interferes in proportion to its DL utilisation ``η = min(ρ, 1)``
(an idle carrier sends almost nothing), solved by a few fixed-point iterations starting from full
buffer. SINR → spectral efficiency by the TR 38.803 truncated Shannon mapping
(:func:`tsunagu.ran.rate.truncated_shannon_bps_per_hz`), times ``B (1 − OH)`` with the TS 38.306
FR1 DL overhead. Users of a cell share it as a processor-sharing queue (flow level): a UE point
whose cells run at utilisation ``ρ`` sees a flow throughput ``Σ_c y_c r_c (1 − ρ_c)``; the SLA asks
that this reaches ``sla_min_bps`` (and ``ρ < 1``).

Traffic: UE points are dropped uniformly plus around a few hotspots (seeded spatial
non-uniformity); each point's demand is ``peak · w(hour) / n_points`` times a log-normal factor
drawn per point and step (seeded burstiness), with ``w`` the hourly profile passed in (normalised
to a peak of 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from tsunagu.errors import ModelRangeError, ScenarioError
from tsunagu.ran.antenna import sector_gain_dbi, wrap_azimuth_deg
from tsunagu.ran.energy import (
    BsState,
    EnergyModel,
    cell_power_w,
    energy_by_state_j,
    wake_transitions,
)
from tsunagu.ran.pathloss import (
    SF_STD_RMA_NLOS_DB,
    SF_STD_UMA_NLOS_DB,
    SF_STD_UMI_NLOS_DB,
    expected_pathloss_db,
)
from tsunagu.ran.rate import NR_OVERHEAD_DL_FR1, thermal_noise_dbm, truncated_shannon_bps_per_hz

__all__ = [
    "Action",
    "CarrierSpec",
    "CellInfo",
    "EnvironmentConfig",
    "Observation",
    "RanEnvironment",
    "StepOutcome",
    "hex_site_positions_m",
]

Float = NDArray[np.float64]
Int = NDArray[np.int64]
Bool = NDArray[np.bool_]

SECTOR_AZIMUTHS_DEG: Final = (30.0, 150.0, 270.0)  # TR 38.901 Fig. 7.8-1
_SF_STD_DB: Final = {
    "uma": SF_STD_UMA_NLOS_DB,
    "umi": SF_STD_UMI_NLOS_DB,
    "rma": SF_STD_RMA_NLOS_DB,
}
_FIXED_POINT_ITERATIONS: Final = 4


@dataclass(frozen=True)
class CarrierSpec:
    """One carrier deployed on every sector: band, bandwidth, power and layer."""

    name: str
    freq_ghz: float
    bandwidth_hz: float
    tx_power_dbm: float
    layer: Literal["coverage", "capacity"]


#: A coverage carrier (n1, 2.1 GHz, 20 MHz) and two capacity carriers (n78 3.7 GHz and
#: n79 4.5 GHz, 100 MHz each) per sector; 46/49 dBm per carrier (equal power spectral density).
DEFAULT_CARRIERS: Final = (
    CarrierSpec("n1-2.1GHz-20MHz", 2.14, 20e6, 46.0, "coverage"),
    CarrierSpec("n78-3.7GHz-100MHz", 3.7, 100e6, 53.0, "capacity"),
    CarrierSpec("n79-4.5GHz-100MHz", 4.5, 100e6, 53.0, "capacity"),
)


@dataclass(frozen=True)
class EnvironmentConfig:
    """Size, radio and traffic parameters of a :class:`RanEnvironment`.

    ``hourly_profile`` (24 weights, any scale; normalised to a peak of 1) shapes the day;
    ``peak_demand_per_sector_bps`` times the number of sectors is the total offered DL traffic
    of the layout at the profile's peak (spread unevenly over the sectors by the UE drop).
    """

    hourly_profile: tuple[float, ...]
    n_rings: int = 2
    isd_m: float = 500.0
    carriers: tuple[CarrierSpec, ...] = DEFAULT_CARRIERS
    points_per_sector: int = 20
    n_hotspots: int = 4
    hotspot_share: float = 0.5
    peak_demand_per_sector_bps: float = 80e6
    demand_sigma: float = 0.25
    step_s: float = 3600.0
    n_steps: int = 24
    sla_min_bps: float = 10e6
    noise_figure_db: float = 9.0
    scenario: Literal["uma", "umi", "rma"] = "uma"
    bs_height_m: float = 25.0
    ue_height_m: float = 1.5
    tilt_deg: float = 102.0
    energy_model: EnergyModel = "tr38864"

    def __post_init__(self) -> None:
        prof = np.asarray(self.hourly_profile, dtype=np.float64)
        if prof.shape != (24,) or np.any(~(prof >= 0.0)) or not prof.max() > 0.0:
            raise ScenarioError(
                "hourly_profile must be 24 non-negative weights (hour 0..23) with a positive "
                f"peak; got {len(self.hourly_profile)} values."
            )
        checks = {
            "n_rings": self.n_rings >= 0,
            "isd_m": self.isd_m > 0.0,
            "points_per_sector": self.points_per_sector >= 1,
            "n_hotspots": self.n_hotspots >= 0,
            "hotspot_share": 0.0 <= self.hotspot_share <= 1.0,
            "peak_demand_per_sector_bps": self.peak_demand_per_sector_bps >= 0.0,
            "demand_sigma": self.demand_sigma >= 0.0,
            "step_s": self.step_s > 0.0,
            "n_steps": self.n_steps >= 1,
            "sla_min_bps": self.sla_min_bps >= 0.0,
            "carriers": len(self.carriers) >= 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ScenarioError(
                f"EnvironmentConfig: invalid {', '.join(bad)}; counts must be >= 1 (rings and "
                "hotspots >= 0), shares in [0, 1], lengths and rates positive."
            )
        if not any(c.layer == "coverage" for c in self.carriers):
            raise ScenarioError(
                "EnvironmentConfig: name at least one carrier with layer='coverage'."
            )


@dataclass(frozen=True)
class CellInfo:
    """Static description of the cells and UE points, handed to a controller at reset."""

    cell_site: Int
    cell_sector: Int
    cell_carrier: Int
    cell_is_coverage: Bool
    bandwidth_hz: Float
    n_sectors: int
    rx_dbm: Float  # (points, cells)
    full_buffer_rate_bps: Float  # (points, cells): r = SE·B·(1−OH) with every cell at full load
    nominal_capacity_bps: (
        Float  # (cells,) mean full-buffer rate over the sector's best-served points
    )
    power_idle_w: Float  # (cells,) active, no traffic
    power_full_w: Float  # (cells,) active, full load
    power_deep_sleep_w: Float
    power_light_sleep_w: Float
    sla_min_bps: float
    step_s: float


@dataclass(frozen=True)
class Action:
    """What a controller sets for the next step (the RIC's control message).

    ``state``: :class:`BsState` per cell (carrier on / light sleep / deep sleep). ``tx_backoff_db``
    per cell (>= 0). ``cio_db`` per sector: cell individual offset added to the sector's RSRP in the
    default best-server association (traffic steering). ``assignment`` (points × cells), if given,
    overrides association: the share of each point's traffic sent to each cell (rows are
    renormalised over active cells; a row with no active cell falls back to best server).
    """

    state: Int
    tx_backoff_db: Float | None = None
    cio_db: Float | None = None
    assignment: Float | None = None


@dataclass(frozen=True)
class StepOutcome:
    """Measured result of one step (what the next observation reports)."""

    step: int
    hour: float
    state: Int
    load: Float  # (cells,) offered utilisation (may exceed 1)
    carried_bps: Float  # (cells,)
    cell_se_bps_per_hz: Float  # (cells,) traffic-weighted SE of the cell's users (0 if none)
    power_w: Float  # (cells,)
    energy_j: dict[str, float]
    offered_bps: float
    served_bps: float
    point_demand_bps: Float
    point_throughput_bps: Float
    sla_violations: int
    points_with_demand: int
    se_bps_per_hz: float  # demand-weighted spectral efficiency of served traffic
    unavailable_s: float  # wake-up transition time summed over cells


@dataclass(frozen=True)
class Observation:
    """What a controller sees before acting on step ``step`` (previous step's measurements)."""

    step: int
    hour: float
    info: CellInfo
    previous: StepOutcome | None


def hex_site_positions_m(n_rings: int, isd_m: float) -> Float:
    """(x, y) in metres of a hexagonal grid of ``1 + 3 n (n + 1)`` sites, ``isd_m`` apart.

    Examples
    --------
    >>> hex_site_positions_m(2, 500.0).shape
    (19, 2)
    """
    r = np.arange(-n_rings, n_rings + 1)
    i, j = np.meshgrid(r, r, indexing="ij")
    keep = np.abs(i + j) <= n_rings
    i, j = i[keep], j[keep]
    x = (i + 0.5 * j) * isd_m
    y = (np.sqrt(3.0) / 2.0 * j) * isd_m
    return np.column_stack([x, y]).astype(np.float64)


class RanEnvironment:
    """The multi-cell, multi-carrier RAN of :class:`EnvironmentConfig`, for one seed.

    Everything random (UE drop, hotspots, shadow fading, per-step demand) is drawn once from
    ``seed`` at construction, so two controllers evaluated on the same seed face the same day.
    """

    def __init__(self, config: EnvironmentConfig, seed: int) -> None:
        self.config = config
        rng = np.random.default_rng(seed)
        cfg = config
        sites = hex_site_positions_m(cfg.n_rings, cfg.isd_m)
        n_sites = sites.shape[0]
        n_sec = len(SECTOR_AZIMUTHS_DEG)
        n_car = len(cfg.carriers)
        sector_site = np.repeat(np.arange(n_sites), n_sec)
        sector_az = np.tile(np.asarray(SECTOR_AZIMUTHS_DEG), n_sites)
        n_sectors = n_sites * n_sec
        # cell index = sector * n_car + carrier
        cell_sector = np.repeat(np.arange(n_sectors), n_car).astype(np.int64)
        cell_carrier = np.tile(np.arange(n_car), n_sectors).astype(np.int64)
        cell_site = sector_site[cell_sector].astype(np.int64)
        self.sites_m = sites
        self.n_cells = n_sectors * n_car

        # --- UE points: uniform over the layout's disc plus Gaussian hotspots
        n_pts = cfg.points_per_sector * n_sectors
        radius = cfg.isd_m * (cfg.n_rings + 0.5)
        n_hot = round(cfg.hotspot_share * n_pts) if cfg.n_hotspots > 0 else 0
        n_uni = n_pts - n_hot
        rr = radius * np.sqrt(rng.random(n_uni))
        aa = rng.random(n_uni) * 2.0 * np.pi
        uni = np.column_stack([rr * np.cos(aa), rr * np.sin(aa)])
        if n_hot:
            hc_r = 0.8 * radius * np.sqrt(rng.random(cfg.n_hotspots))
            hc_a = rng.random(cfg.n_hotspots) * 2.0 * np.pi
            centres = np.column_stack([hc_r * np.cos(hc_a), hc_r * np.sin(hc_a)])
            which = rng.integers(0, cfg.n_hotspots, n_hot)
            hot = centres[which] + rng.normal(0.0, 0.25 * cfg.isd_m, (n_hot, 2))
            pts = np.vstack([uni, hot])
        else:
            pts = uni
        self.points_m = pts

        # --- received power from every cell (points × cells)
        dx = pts[:, None, 0] - sites[None, :, 0]
        dy = pts[:, None, 1] - sites[None, :, 1]
        d2d = np.hypot(dx, dy)  # (points, sites)
        sf = rng.normal(0.0, _SF_STD_DB[cfg.scenario], d2d.shape)
        dh = cfg.bs_height_m - cfg.ue_height_m
        theta = 90.0 + np.degrees(np.arctan2(dh, np.maximum(d2d, 1.0)))
        az_pt = np.degrees(np.arctan2(dy, dx))  # (points, sites)
        phi_rel = wrap_azimuth_deg(az_pt[:, sector_site] - sector_az[None, :])  # (points, sectors)
        gain = sector_gain_dbi(theta[:, sector_site], phi_rel, cfg.tilt_deg)  # (points, sectors)
        d2d_clip = np.maximum(d2d, 0.0)
        rx = np.empty((n_pts, self.n_cells), dtype=np.float64)
        for k, car in enumerate(cfg.carriers):  # loop over the few carriers, not cells
            pl = expected_pathloss_db(
                cfg.scenario, d2d_clip, car.freq_ghz, cfg.bs_height_m, cfg.ue_height_m
            )
            rx_k = car.tx_power_dbm + gain - (pl + sf)[:, sector_site]
            rx[:, k::n_car] = rx_k
        self._rx_mw = 10.0 ** (rx / 10.0)
        bw = np.asarray([cfg.carriers[k].bandwidth_hz for k in cell_carrier], dtype=np.float64)
        self._noise_mw = 10.0 ** (thermal_noise_dbm(bw, cfg.noise_figure_db) / 10.0)
        self._group = np.zeros((self.n_cells, n_car), dtype=np.float64)
        self._group[np.arange(self.n_cells), cell_carrier] = 1.0
        self._cell_carrier = cell_carrier
        self._cell_sector = cell_sector
        self._bw = bw

        # --- traffic (steps × points)
        prof = np.asarray(cfg.hourly_profile, dtype=np.float64)
        prof = prof / prof.max()
        self._hours = (np.arange(cfg.n_steps) * cfg.step_s / 3600.0) % 24.0
        w = prof[np.floor(self._hours).astype(np.int64)]
        noise = np.exp(
            rng.normal(-0.5 * cfg.demand_sigma**2, cfg.demand_sigma, (cfg.n_steps, n_pts))
        )
        self.demand_bps = (cfg.peak_demand_per_sector_bps * n_sectors / n_pts) * w[:, None] * noise

        # --- static info for controllers
        all_on = np.ones(self.n_cells, dtype=bool)
        fb_rate = self._rates(all_on, np.ones(self.n_cells), np.zeros(self.n_cells))
        best_sector = cell_sector[np.argmax(rx, axis=1)]
        in_sector = best_sector[:, None] == cell_sector[None, :]
        cnt = in_sector.sum(axis=0)
        nominal = np.where(
            cnt > 0, (fb_rate * in_sector).sum(axis=0) / np.maximum(cnt, 1), bw * 0.0
        )
        zeros = np.zeros(self.n_cells)
        active = np.full(self.n_cells, int(BsState.ACTIVE))
        self.info = CellInfo(
            cell_site=cell_site,
            cell_sector=cell_sector,
            cell_carrier=cell_carrier,
            cell_is_coverage=np.asarray(
                [cfg.carriers[k].layer == "coverage" for k in cell_carrier], dtype=bool
            ),
            bandwidth_hz=bw,
            n_sectors=n_sectors,
            rx_dbm=rx,
            full_buffer_rate_bps=fb_rate,
            nominal_capacity_bps=np.asarray(nominal, dtype=np.float64),
            power_idle_w=cell_power_w(active, zeros, cfg.energy_model),
            power_full_w=cell_power_w(active, np.ones(self.n_cells), cfg.energy_model),
            power_deep_sleep_w=cell_power_w(
                np.full(self.n_cells, int(BsState.DEEP_SLEEP)), zeros, cfg.energy_model
            ),
            power_light_sleep_w=cell_power_w(
                np.full(self.n_cells, int(BsState.LIGHT_SLEEP)), zeros, cfg.energy_model
            ),
            sla_min_bps=cfg.sla_min_bps,
            step_s=cfg.step_s,
        )

    # ------------------------------------------------------------------ radio
    def _rates(self, active: Bool, eta: Float, backoff_db: Float) -> Float:
        """Rate r = SE·B·(1−OH) of each (point, cell) for the active set and activity η."""
        scale = active * 10.0 ** (-backoff_db / 10.0)
        s_mw = self._rx_mw * scale[None, :]
        tot = (s_mw * eta[None, :]) @ self._group  # (points, carriers)
        interference = tot[:, self._cell_carrier] - s_mw * eta[None, :]
        sinr = s_mw / (np.maximum(interference, 0.0) + self._noise_mw[None, :])
        with np.errstate(divide="ignore"):
            sinr_db = np.where(sinr > 0.0, 10.0 * np.log10(np.where(sinr > 0, sinr, 1.0)), -np.inf)
        se = truncated_shannon_bps_per_hz(np.maximum(sinr_db, -300.0))
        return np.asarray(
            se * self._bw[None, :] * (1.0 - NR_OVERHEAD_DL_FR1) * active[None, :],
            dtype=np.float64,
        )

    def _default_assignment(self, active: Bool, cio_db: Float, rate: Float) -> Float:
        """Best-server sector (RSRP + CIO over active cells); traffic split ∝ rate in it."""
        score = np.where(
            active[None, :], self.info.rx_dbm + cio_db[self._cell_sector][None, :], -np.inf
        )
        best = np.argmax(score, axis=1)
        sector = self._cell_sector[best]
        mask = (self._cell_sector[None, :] == sector[:, None]) & active[None, :]
        wgt = rate * mask
        tot = wgt.sum(axis=1, keepdims=True)
        y = np.where(tot > 0.0, wgt / np.where(tot > 0.0, tot, 1.0), 0.0)
        none = tot[:, 0] <= 0.0
        if np.any(none):  # no rate anywhere in the sector: attach to the best cell (unserved)
            y[none, best[none]] = 1.0
        return np.asarray(y, dtype=np.float64)

    # ------------------------------------------------------------------ step
    def step(self, t: int, action: Action, previous_state: Int) -> StepOutcome:
        """Apply ``action`` during step ``t`` and measure it (pure: no state is kept)."""
        cfg = self.config
        if not 0 <= t < cfg.n_steps:
            raise ScenarioError(f"step {t} is outside 0..{cfg.n_steps - 1}.")
        state = np.asarray(action.state)
        if state.shape != (self.n_cells,) or state.dtype.kind not in "iu":
            raise ScenarioError(
                f"Action.state must be an integer array of {self.n_cells} BsState values."
            )
        state = state.astype(np.int64)
        active = state == BsState.ACTIVE
        backoff = (
            np.zeros(self.n_cells)
            if action.tx_backoff_db is None
            else np.asarray(action.tx_backoff_db, dtype=np.float64)
        )
        if backoff.shape != (self.n_cells,) or np.any(~(backoff >= 0.0)):
            raise ModelRangeError("Action.tx_backoff_db must be one value >= 0 dB per cell.")
        cio = (
            np.zeros(self.info.n_sectors)
            if action.cio_db is None
            else np.asarray(action.cio_db, dtype=np.float64)
        )
        if cio.shape != (self.info.n_sectors,):
            raise ScenarioError(
                f"Action.cio_db must hold one value per sector ({self.info.n_sectors})."
            )
        demand = self.demand_bps[t]
        eta = active.astype(np.float64)
        y_fixed = None
        if action.assignment is not None:
            y_in = np.asarray(action.assignment, dtype=np.float64)
            if y_in.shape != self.info.rx_dbm.shape or np.any(~(y_in >= 0.0)):
                raise ScenarioError(
                    "Action.assignment must be a non-negative (points × cells) share matrix."
                )
            y_fixed = y_in * active[None, :]
        for _ in range(_FIXED_POINT_ITERATIONS):
            rate = self._rates(active, eta, backoff)
            if y_fixed is None:
                y = self._default_assignment(active, cio, rate)
            else:
                tot = y_fixed.sum(axis=1, keepdims=True)
                y = np.where(tot > 0.0, y_fixed / np.where(tot > 0.0, tot, 1.0), 0.0)
                empty = tot[:, 0] <= 0.0
                if np.any(empty):
                    y[empty] = self._default_assignment(active, cio, rate)[empty]
            with np.errstate(divide="ignore", invalid="ignore"):
                airtime = np.where(y > 0.0, demand[:, None] * y / rate, 0.0)
            load = airtime.sum(axis=0)
            eta = np.minimum(load, 1.0) * active
        # unserved: traffic sent where the rate is zero
        served_share_cell = np.where(load > 1.0, 1.0 / np.where(load > 1.0, load, 1.0), 1.0)
        reachable = (y > 0.0) & (rate > 0.0)
        carried_uc = demand[:, None] * y * reachable * served_share_cell[None, :]
        carried = carried_uc.sum(axis=0)
        flow = (rate * (1.0 - np.minimum(load, 1.0))[None, :] * y).sum(axis=1)
        bad_route = ((y > 0.0) & ((rate <= 0.0) | (load[None, :] >= 1.0))).any(axis=1)
        flow = np.where(bad_route, 0.0, flow)
        has_demand = demand > 0.0
        violations = int(np.sum(has_demand & (flow < cfg.sla_min_bps)))
        se_uc = rate / (self._bw * (1.0 - NR_OVERHEAD_DL_FR1))[None, :]
        served = min(float(carried.sum()), float(demand.sum()))  # no float overshoot
        se_mean = float((carried_uc * se_uc).sum() / served) if served > 0.0 else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            cell_se = np.where(carried > 0.0, (carried_uc * se_uc).sum(axis=0) / carried, 0.0)
        util = np.minimum(load, 1.0) * active
        scale = 10.0 ** (-backoff / 10.0)
        power = cell_power_w(state, util, cfg.energy_model, tx_power_scale=scale)
        energy = energy_by_state_j(
            previous_state, state, util, cfg.step_s, cfg.energy_model, tx_power_scale=scale
        )
        _, t_wake = wake_transitions(previous_state, state)
        return StepOutcome(
            step=t,
            hour=float(self._hours[t]),
            state=state,
            load=np.asarray(load * active, dtype=np.float64),
            carried_bps=np.asarray(carried, dtype=np.float64),
            cell_se_bps_per_hz=np.asarray(cell_se, dtype=np.float64),
            power_w=power,
            energy_j=energy,
            offered_bps=float(demand.sum()),
            served_bps=served,
            point_demand_bps=demand,
            point_throughput_bps=np.asarray(flow, dtype=np.float64),
            sla_violations=violations,
            points_with_demand=int(has_demand.sum()),
            se_bps_per_hz=se_mean,
            unavailable_s=float(t_wake.sum()),
        )

    def observation(self, t: int, previous: StepOutcome | None) -> Observation:
        """The observation a controller receives before acting on step ``t``."""
        return Observation(step=t, hour=float(self._hours[t]), info=self.info, previous=previous)
