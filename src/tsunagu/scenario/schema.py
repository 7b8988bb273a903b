"""The scenario schema: a model per SPEC §3 domain plus demand, services, events, timeline.

Every quantity carries its unit in its name. Models forbid unknown keys so that a typo is an
error (the loader then suggests the closest valid key), never a silently ignored setting.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Carrier",
    "ComputeSection",
    "ComputeSite",
    "Constellation",
    "DemandSection",
    "Event",
    "Gateway",
    "Haps",
    "NtnSection",
    "OperatorNetwork",
    "OpticalEquipment",
    "OpticalSection",
    "RanSection",
    "Scenario",
    "Service",
    "Timeline",
]

Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Name = Annotated[
    str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.\-/]*$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


class Timeline(_Strict):
    """When the run starts, how long it lasts, the step, and the seed of every random draw."""

    start_hour_local: Annotated[float, Field(ge=0.0, lt=24.0)] = 0.0
    duration_s: PositiveFloat = 86_400.0
    step_s: PositiveFloat = 3_600.0
    seed: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _step_fits(self) -> Timeline:
        if self.step_s > self.duration_s:
            raise ValueError(
                f"step_s ({self.step_s:g}) is longer than duration_s ({self.duration_s:g}); "
                "make step_s at most duration_s"
            )
        if self.duration_s / self.step_s > 100_000:
            raise ValueError("more than 100,000 steps; raise step_s or shorten duration_s")
        return self


# --------------------------------------------------------------------------------------------
# Optical (APN)


class FibreParameters(_Strict):
    loss_db_per_km: PositiveFloat = 0.2
    group_index: Annotated[float, Field(ge=1.0, le=2.0)] = 1.468
    span_length_km: Annotated[float, Field(gt=0.0, le=150.0)] = 80.0


class OpticalEquipment(_Strict):
    """Power and delay of network elements; sources are noted in the built-in scenario."""

    transceiver_rate_bps: PositiveFloat = 400e9
    transceiver_power_w: NonNegativeFloat = 20.0
    channels_per_fibre: Annotated[int, Field(ge=1, le=400)] = 64
    amplifier_power_w: NonNegativeFloat = 90.0
    roadm_degree_power_w: NonNegativeFloat = 85.0
    roadm_delay_s: NonNegativeFloat = 0.0
    router_power_w_per_gbps: NonNegativeFloat = 10.0
    router_hop_delay_s: NonNegativeFloat = 20e-6


class OperatorNetwork(_Strict):
    """One operator's optical domain: a built-in topology name or a topohub key."""

    name: Name
    topology: str = Field(description="'jpn12' or 'topohub:<group>/<name>'")
    fibre: FibreParameters = FibreParameters()
    route_factor: Annotated[float, Field(ge=1.0, le=3.0)] = 1.0


class OpticalSection(_Strict):
    operators: list[OperatorNetwork] = Field(min_length=1)
    interconnect_max_km: NonNegativeFloat = 30.0
    metro_route_factor: Annotated[float, Field(ge=1.0, le=3.0)] = 1.5
    equipment: OpticalEquipment = OpticalEquipment()

    @model_validator(mode="after")
    def _unique_operators(self) -> OpticalSection:
        names = [o.name for o in self.operators]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"operator names must be unique; repeated: {sorted(dup)}")
        return self


# --------------------------------------------------------------------------------------------
# NTN


class Constellation(_Strict):
    """A Walker-delta shell: planes × satellites per plane, phasing factor F."""

    name: Name
    planes: Annotated[int, Field(ge=1, le=1000)]
    sats_per_plane: Annotated[int, Field(ge=1, le=1000)]
    phasing: Annotated[int, Field(ge=0)] = 1
    altitude_km: Annotated[float, Field(ge=160.0, le=50_000.0)]
    inclination_deg: Annotated[float, Field(ge=0.0, le=180.0)]
    min_elevation_deg: Annotated[float, Field(ge=0.0, lt=90.0)] = 25.0
    user_rate_bps: PositiveFloat = 100e6
    pattern: Literal["delta", "star"] = "delta"

    @model_validator(mode="after")
    def _phasing_range(self) -> Constellation:
        if self.phasing >= self.planes:
            raise ValueError(
                f"phasing ({self.phasing}) must be below planes ({self.planes}); "
                "Walker F takes values 0..P-1"
            )
        return self


class Gateway(_Strict):
    name: Name
    lat_deg: Latitude
    lon_deg: Longitude
    min_elevation_deg: Annotated[float, Field(ge=0.0, lt=90.0)] = 25.0


class Haps(_Strict):
    name: Name
    lat_deg: Latitude
    lon_deg: Longitude
    alt_m: Annotated[float, Field(ge=15_000.0, le=50_000.0)] = 20_000.0
    coverage_radius_km: Annotated[float, Field(gt=0.0, le=300.0)] = 100.0
    user_rate_bps: PositiveFloat = 50e6


class NtnSection(_Strict):
    constellations: list[Constellation] = []
    gateways: list[Gateway] = []
    haps: list[Haps] = []
    processing_delay_s: NonNegativeFloat = 0.0
    gateway_power_w: NonNegativeFloat = 0.0


# --------------------------------------------------------------------------------------------
# RAN


class Carrier(_Strict):
    band: Name
    freq_ghz: Annotated[float, Field(gt=0.4, le=100.0)]
    bandwidth_mhz: Annotated[float, Field(gt=0.0, le=2000.0)]
    layers: Annotated[int, Field(ge=1, le=8)] = 4
    tx_power_dbm: float = 49.0


class RanSection(_Strict):
    carriers: list[Carrier] = Field(min_length=1)
    isd_urban_m: PositiveFloat = 500.0
    isd_rural_m: PositiveFloat = 1732.0
    urban_density_per_km2: PositiveFloat = 1500.0
    bs_height_m: PositiveFloat = 25.0
    ue_height_m: PositiveFloat = 1.5
    noise_figure_db: NonNegativeFloat = 9.0
    air_interface_delay_s: NonNegativeFloat = 1e-3
    active_user_share: Fraction = 0.02
    site_power_w: NonNegativeFloat = 1000.0
    site_power_per_load_w: NonNegativeFloat = 600.0
    fronthaul_max_km: PositiveFloat = 20.0
    battery_hold_s: NonNegativeFloat = 10_800.0
    background_bps_per_person: NonNegativeFloat = 0.0
    sectors_per_site: Annotated[int, Field(ge=1, le=6)] = 3


# --------------------------------------------------------------------------------------------
# Compute


class ComputeSite(_Strict):
    name: Name
    kind: Literal["core", "regional", "edge"]
    lat_deg: Latitude
    lon_deg: Longitude
    gpus: Annotated[int, Field(ge=1)]
    gpu_power_w: PositiveFloat = 700.0
    pue: Annotated[float, Field(ge=1.0, le=3.0)] = 1.4
    grid_region: str


class ComputeSection(_Strict):
    sites: list[ComputeSite] = Field(min_length=1)
    carbon_intensity_g_per_kwh: dict[str, PositiveFloat] = Field(min_length=1)
    max_utilisation: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9

    @model_validator(mode="after")
    def _regions_known(self) -> ComputeSection:
        names = [s.name for s in self.sites]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"compute site names must be unique; repeated: {sorted(dup)}")
        unknown = sorted({s.grid_region for s in self.sites} - set(self.carbon_intensity_g_per_kwh))
        if unknown:
            raise ValueError(
                f"grid_region {unknown} has no entry in carbon_intensity_g_per_kwh; "
                f"known regions: {sorted(self.carbon_intensity_g_per_kwh)}"
            )
        return self


# --------------------------------------------------------------------------------------------
# Demand and services


class Service(_Strict):
    """An AI service profile: per-request energy, processing time, sizes and SLA."""

    name: Name
    energy_wh_per_request: PositiveFloat
    processing_s: PositiveFloat
    request_bytes: PositiveFloat
    response_bytes: PositiveFloat
    sla_latency_ms: PositiveFloat
    adoption: Fraction
    requests_per_user_per_day: PositiveFloat
    profile: Literal["residential", "business", "flat", "mobility"] = "residential"
    device: Literal["phone", "car", "drone", "robot", "sensor"] = "phone"


class DemandSection(_Strict):
    min_city_population: Annotated[int, Field(ge=1000)] = 50_000
    max_points: Annotated[int, Field(ge=1)] = 2_000
    areas: list[str] = Field(
        default=[], description="regions or prefectures to keep (English names); empty = all Japan"
    )


# --------------------------------------------------------------------------------------------
# Events


class Event(_Strict):
    """A failure or surge in a time window. ``target`` names nodes, links ('A--B') or a region."""

    kind: Literal["link_down", "node_down", "site_down", "region_power_loss", "demand_surge"]
    target: str = Field(min_length=1)
    start_s: NonNegativeFloat
    end_s: PositiveFloat
    factor: PositiveFloat = 1.0

    @model_validator(mode="after")
    def _window(self) -> Event:
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s:g}) must be after start_s ({self.start_s:g})")
        return self


class Scenario(_Strict):
    """A whole tsunagu scenario."""

    name: Name
    description: str = ""
    timeline: Timeline = Timeline()
    optical: OpticalSection
    ntn: NtnSection = NtnSection()
    ran: RanSection
    compute: ComputeSection
    demand: DemandSection = DemandSection()
    services: list[Service] = Field(min_length=1)
    events: list[Event] = []
    policy: str = "nearest-feasible"

    @model_validator(mode="after")
    def _unique_services(self) -> Scenario:
        names = [s.name for s in self.services]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"service names must be unique; repeated: {sorted(dup)}")
        return self
