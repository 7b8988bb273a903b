"""The scenario schema: a model per SPEC §3 domain plus demand, services, events, timeline.

Every quantity carries its unit in its name. Models forbid unknown keys so that a typo is an
error (the loader then suggests the closest valid key), never a silently ignored setting.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tsunagu.errors import TsunaguError
from tsunagu.traffic.national import TrafficSection

__all__ = [
    "Carrier",
    "ComputeSection",
    "ComputeSite",
    "Constellation",
    "DemandSection",
    "Event",
    "FixedAccessSection",
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
    ip_packet_bytes: Annotated[float, Field(ge=64.0, le=9216.0)] = 1500.0
    ip_port_utilisation: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.5
    # Rate of one router port where traffic is groomed onto a fibre link (a link carries at
    # most its ports × this rate): 400GbE, the highest IEEE 802.3 rate (802.3bs), the client
    # side of a 400ZR-class coherent pluggable; 100e9 for 100GbE (IEEE 802.3ba-2010).
    ip_port_rate_bps: PositiveFloat = 400e9
    # Line system and transceiver of the fibre-link capacity (tsunagu.optical.capacity): the
    # transceiver's modes from src/tsunagu/data/transceiver_modes.csv (GNPy's example library),
    # GNPy's example system margin (SI sys_margins 2 dB), launch power (SI power_dbm 0 dBm) and
    # ROADM add/drop OSNR (38 dB), and an EDFA noise figure in the 5-7 dB of REFERENCES.md.
    transceiver_modes: str = "Voyager"
    system_margin_db: Annotated[float, Field(ge=0.0, le=20.0)] = 2.0
    launch_power_dbm: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.0
    amplifier_noise_figure_db: Annotated[float, Field(ge=3.0, le=12.0)] = 5.5
    roadm_osnr_db: Annotated[float, Field(ge=15.0, le=60.0)] = 38.0


class FronthaulParameters(_Strict):
    """O-RAN split-7.2x fronthaul from the RAN's carriers to the central office (SPEC §3.1)."""

    latency_class: Literal["high25", "high100", "high200", "high500"] = "high100"
    iq_width_bits: Annotated[int, Field(ge=1, le=16)] = 9
    compression: Literal["bfp", "none"] = "bfp"
    mtu_bytes: Annotated[int, Field(ge=1500, le=9216)] = 9000
    scs_khz: Literal[15, 30, 60, 120] = 30
    switch_delay_s: NonNegativeFloat = 0.0


class DciParameters(_Strict):
    """Data-centre-interconnect lightpaths between compute sites (SPEC §3.1 use cases).

    ``pairs``: ``core-mesh+nearest-core`` joins every pair of core sites and each regional or
    edge site to its nearest core site; ``core-mesh`` only the core sites; ``none`` plans none.
    """

    pairs: Literal["core-mesh+nearest-core", "core-mesh", "none"] = "core-mesh+nearest-core"
    bit_rate_bps: PositiveFloat = 400e9
    margin_db: NonNegativeFloat = 1.0
    spectrum_policy: str = "ksp-ff"
    slots_per_fibre: Annotated[int, Field(ge=8, le=2000)] = 384


class OperatorNetwork(_Strict):
    """One operator's optical domain: a built-in topology name or a topohub key."""

    name: Name
    topology: str = Field(description="'jpn12' or 'topohub:<group>/<name>'")
    fibre: FibreParameters = FibreParameters()
    route_factor: Annotated[float, Field(ge=1.0, le=3.0)] = 1.0
    # Wavelengths the operator has lit on each of its backbone fibre links; a link carries
    # min(provisioned, channels of the mode that fit the C band) × the mode's rate. Default:
    # a fully lit 4.8 THz C band of one fibre pair at 75 GHz (64; REFERENCES "Optical / APN").
    provisioned_wavelengths: Annotated[int, Field(ge=0, le=400)] = 64
    # Router ports provisioned on each of the operator's fibre links (each way), of
    # equipment.ip_port_rate_bps: the link's IP capacity is min(its optical capacity, ports ×
    # port rate). None: no port limit (IP over DWDM: each wavelength's coherent pluggable is
    # itself the router port, so the optical capacity binds).
    ip_ports_per_link: Annotated[int, Field(ge=0, le=10_000)] | None = None


class OpticalSection(_Strict):
    operators: list[OperatorNetwork] = Field(min_length=1)
    interconnect_max_km: NonNegativeFloat = 30.0
    metro_route_factor: Annotated[float, Field(ge=1.0, le=3.0)] = 1.5
    # Wavelengths lit on each metro fibre link homing a central office, compute site or
    # gateway onto the backbone (default as a backbone link: one fully lit fibre pair).
    metro_wavelengths: Annotated[int, Field(ge=0, le=400)] = 64
    # Router ports on each metro link (as OperatorNetwork.ip_ports_per_link; None: no limit).
    metro_ip_ports: Annotated[int, Field(ge=0, le=10_000)] | None = None
    equipment: OpticalEquipment = OpticalEquipment()
    fronthaul: FronthaulParameters = FronthaulParameters()
    dci: DciParameters = DciParameters()

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
    # Capacity of one satellite's user beam, shared by the users it serves (None: unlimited).
    beam_capacity_bps: PositiveFloat | None = None
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
    # Capacity of the feeder link from this gateway to each satellite it sees: one Starlink
    # satellite's total user throughput, 2,000 MHz × 2 polarisations × 5.11 b/s/Hz ≈ 20.2 Gb/s
    # (S. Pekhterev, SatMagazine, Nov 2021, from SpaceX's FCC filings), so a feeder carries what
    # the satellite serves (assumption); see src/tsunagu/data/SOURCES.md.
    feeder_capacity_bps: PositiveFloat = 20.2e9


class Haps(_Strict):
    name: Name
    lat_deg: Latitude
    lon_deg: Longitude
    alt_m: Annotated[float, Field(ge=15_000.0, le=50_000.0)] = 20_000.0
    coverage_radius_km: Annotated[float, Field(gt=0.0, le=300.0)] = 100.0
    user_rate_bps: PositiveFloat = 50e6
    # Capacity of the platform's user beams together, shared by the users it serves, and of
    # its feeder link (None: unlimited); state the basis in the scenario.
    capacity_bps: PositiveFloat | None = None
    feeder_capacity_bps: PositiveFloat | None = None


class NtnSection(_Strict):
    constellations: list[Constellation] = []
    gateways: list[Gateway] = []
    haps: list[Haps] = []
    processing_delay_s: NonNegativeFloat = 0.0
    gateway_power_w: NonNegativeFloat = 0.0
    # Time-varying routing (tsunagu.ntn.routing): ISLs within each shell (+Grid or none), laser
    # range (None: unlimited) and grazing floor (Hypatia: 80 km); place pairs whose RTT series
    # the report shows ('Tokyo', 'Naha, JP' or 'lat,lon').
    isl_pattern: Literal["grid", "none"] = "grid"
    isl_max_range_km: PositiveFloat | None = None
    isl_min_grazing_km: NonNegativeFloat = 80.0
    # Capacity of one ISL in each direction, shared by the traffic it relays both ways to and
    # from users (None: unlimited). The national run's state holds the ISLs among the
    # satellites that can serve its area (tsunagu.sim.twin.Twin.state).
    isl_capacity_bps: PositiveFloat | None = None
    rtt_pairs: list[tuple[str, str]] = []
    rtt_step_s: Annotated[float, Field(gt=0.0, le=3600.0)] = 300.0


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

    @model_validator(mode="before")
    @classmethod
    def _replaced_fields(cls, data: object) -> object:
        if isinstance(data, dict) and "background_bps_per_person" in data:
            raise ValueError(
                "ran.background_bps_per_person was replaced by the scenario's traffic: section "
                "(Japan's published traffic, spread by population); remove it, and set "
                "traffic.scale or traffic.enabled instead"
            )
        return data

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
    # Base-station power: 'linear' (site_power_w + site_power_per_load_w × load), or per cell
    # by state with the EARTH model or the TR 38.864 relative model (tsunagu.ran.energy).
    energy_model: Literal["linear", "earth", "tr38864"] = "linear"
    sectors_per_site: Annotated[int, Field(ge=1, le=6)] = 3
    # National coverage (tsunagu.ran.coverage): mmWave small cells in dense cores, HIBS beams on
    # the HAPS of ntn.haps, link abstraction and reported rate thresholds. Carrier powers are
    # planning assumptions: n257 keeps the TR 38.901 Table 7.8-1 30 GHz PSD (35 dBm/100 MHz);
    # a HIBS beam radiates a macro-class 20 W.
    mmwave_carrier: Carrier | None = Carrier(
        band="n257", freq_ghz=28.0, bandwidth_mhz=400.0, layers=2, tx_power_dbm=41.0
    )
    mmwave_isd_m: PositiveFloat = 200.0  # TR 38.901 Table 7.2-1 UMi ISD
    mmwave_core_radius_m: PositiveFloat = 1000.0
    mmwave_min_city_population: Annotated[int, Field(ge=0)] = 200_000
    hibs_carrier: Carrier | None = Carrier(
        band="hibs-1.7-1.9", freq_ghz=1.85, bandwidth_mhz=20.0, layers=2, tx_power_dbm=43.0
    )
    hibs_altitude_m: PositiveFloat = 20_000.0
    hibs_beams: Annotated[int, Field(ge=1, le=7)] = 7
    rate_mapping: Literal["shannon", "mcs"] = "shannon"
    mcs_table: Literal["qam64", "qam256", "qam1024"] = "qam256"
    coverage_thresholds_bps: list[PositiveFloat] = Field(
        default_factory=lambda: [1e6, 1e7, 1e8, 1e9], min_length=1
    )


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
    cost_per_gpu_hour: NonNegativeFloat | None = Field(
        default=None, description="price of one GPU-hour at this site (any currency); 'cost' policy"
    )


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
    """Demand points: GeoNames cities scaled to the 2020 census, optionally split further.

    ``target_points`` asks for more points than there are cities: the most populous points
    (after ``areas``) are split into sub-city points, each with an equal share of its city's
    people and area and placed over the city's disc, until there are that many
    (``tsunagu.geo.split_demand_points``; docs/demand.md). Unset, each city is one point.
    """

    min_city_population: Annotated[int, Field(ge=1000)] = 50_000
    max_points: Annotated[int, Field(ge=1)] = 2_000
    target_points: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "number of demand points of the run, reached by splitting the most populous "
            "cities into sub-city points (uniform density within a city); at least the "
            "number of cities kept; unset = one point per city"
        ),
    )
    areas: list[str] = Field(
        default=[], description="regions or prefectures to keep (English names); empty = all Japan"
    )


# --------------------------------------------------------------------------------------------
# Events


class Event(_Strict):
    """A failure, surge, restoration gap or disaster preset in a time window.

    ``target`` names nodes, links (``'A--B'``), compute sites, areas (a region, a prefecture or
    ``'all'``) or constellations, by kind (docs/disasters.md). An area can be narrowed to a
    circle with ``center_lat_deg``, ``center_lon_deg`` and ``radius_km``. ``factor`` is a
    multiplier for ``demand_surge`` and a share in (0, 1] for ``ran_outage``,
    ``region_power_loss``, ``satellite_failure`` and area-wide ``link_down``. An event with
    ``preset`` (kind ``disaster``) expands into concrete events; ``params`` overrides the
    preset's parameters by name.
    """

    #: A registered event kind (``tsunagu.sim.events.registered_event_kinds()``: link_down,
    #: node_down, site_down, region_power_loss, demand_surge, ran_outage, satellite_failure,
    #: ntn_access_down, and any a user registers) or ``disaster`` for a preset.
    kind: str | None = None
    target: str = ""
    start_s: NonNegativeFloat = 0.0
    end_s: PositiveFloat | None = None
    factor: PositiveFloat = 1.0
    center_lat_deg: Latitude | None = None
    center_lon_deg: Longitude | None = None
    radius_km: PositiveFloat | None = None
    preset: Literal["tohoku-2011", "noto-2024", "nankai"] | None = None
    params: dict[str, float] = {}

    @field_validator("kind")
    @classmethod
    def _registered(cls, kind: str | None) -> str | None:
        if kind is None or kind == "disaster":
            return kind
        from tsunagu.sim.events import get_event_kind  # the registry (imports this module)

        try:
            get_event_kind(kind)
        except TsunaguError as exc:
            raise ValueError(str(exc)) from None
        return kind

    @model_validator(mode="after")
    def _window(self) -> Event:
        if self.preset is not None or self.kind == "disaster":
            if self.preset is None:
                raise ValueError(
                    "a 'disaster' event needs preset: one of 'tohoku-2011', 'noto-2024', 'nankai'"
                )
            if self.kind not in (None, "disaster"):
                raise ValueError(
                    f"preset {self.preset!r} expands into its own events; drop kind "
                    f"{self.kind!r} (or write kind: disaster)"
                )
        else:
            if self.kind is None:
                raise ValueError(
                    "an event needs kind (link_down, node_down, site_down, region_power_loss, "
                    "demand_surge, ran_outage, satellite_failure, ntn_access_down) or preset"
                )
            if not self.target:
                raise ValueError(f"a {self.kind} event needs a target (docs/disasters.md)")
            if self.end_s is None:
                raise ValueError(f"a {self.kind} event needs end_s (seconds from the run start)")
            if self.params:
                raise ValueError("params is only for preset events; remove it")
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"end_s ({self.end_s:g}) must be after start_s ({self.start_s:g})")
        circle = (self.center_lat_deg, self.center_lon_deg, self.radius_km)
        if any(v is not None for v in circle) and any(v is None for v in circle):
            raise ValueError(
                "an event circle needs all of center_lat_deg, center_lon_deg and radius_km"
            )
        share_kinds = ("ran_outage", "region_power_loss", "satellite_failure", "link_down")
        if self.kind in share_kinds and self.factor > 1.0:
            raise ValueError(
                f"factor of a {self.kind} event is a share of what goes down; use a value "
                f"in (0, 1], not {self.factor:g}"
            )
        return self


class FixedAccessSection(_Strict):
    """Fixed access (FTTH over PON, tsunagu.sim.fixed_access): each point's FTTH subscribers
    on PON trees of ``technology`` (``pon_technologies.csv``, or ``none`` for no access limit),
    ``split`` subscribers per tree.

    Defaults (src/tsunagu/data/SOURCES.md, "Fixed access"): GE-PON at 1:32 as in NTT's FLET'S
    Hikari access; 0.3169 FTTH subscriptions per person (MIC, 39.97 million FTTH contracts at
    the end of September 2023, over the 2020 census population 126,146,099); FTTH carries
    0.860 of the fixed-broadband traffic (its share of MIC's 46.47 million fixed-broadband
    contracts then; assumption: equal traffic per contract across FTTH, CATV and DSL).
    """

    technology: str = "ge-pon"
    split: Annotated[int, Field(ge=1, le=256)] = 32
    subscriptions_per_person: Annotated[float, Field(gt=0.0, le=2.0)] = 0.3169
    traffic_share: Fraction = 0.860

    @field_validator("technology")
    @classmethod
    def _known_technology(cls, v: str) -> str:
        from tsunagu.sim.fixed_access import NO_PON, pon_technologies

        known = sorted(pon_technologies())
        if v != NO_PON and v not in known:
            raise ValueError(f"unknown PON technology {v!r}; use one of {known} or {NO_PON!r}")
        return v


class CapacitySection(_Strict):
    """How capacity is honoured (tsunagu.sim.stages).

    ``access_max_utilisation``: admission keeps every shared access resource (a point's cells,
    a HAPS platform's beams, a satellite's beam) at or below this utilisation; the people
    above it are blocked, the resource named. At 0.9 an M/G/1-PS transfer takes 10× its
    unloaded time, the usual upper end of cell-load planning; lower it for a stricter target.
    """

    access_max_utilisation: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9
    # Congestion-aware routing of each step (tsunagu.net.flow.wardrop_msa, Frank-Wolfe line
    # search): at most this many all-or-nothing steps, stopping when the relative gap falls to
    # routing_relative_gap; the step's gap is reported. The line search stalls well before the
    # gap at japan-2030's busy hour (gaps 0.03-0.86 at x1-x8): what its loads overload is left
    # to the overflow below.
    routing_iterations: Annotated[int, Field(ge=1, le=1000)] = 40
    routing_relative_gap: Annotated[float, Field(gt=0.0, lt=1.0)] = 1e-3
    # Traffic the allocation blocks is re-offered on the least-cost path over the links with
    # spare capacity, as CSPF places a traffic-engineering tunnel (tsunagu.net.flow, "Overflow"),
    # for at most this many rounds (it stops when nothing moves; japan-2030's busy hour x1-x8
    # takes 1-25); 0 leaves the equilibrium's blocking as it is.
    routing_overflow_rounds: Annotated[int, Field(ge=0, le=1000)] = 30
    # The routing prices load above a link's capacity at this many seconds per unit of
    # overload (tsunagu.net.flow.mm1_link_cost): 1 s is more than any path's latency in Japan,
    # so traffic takes any path with room before it overloads a link (assumption: operators'
    # traffic engineering fills alternatives before dropping); 0 routes on delay alone.
    routing_overload_penalty_s: Annotated[float, Field(ge=0.0, le=1e6)] = 1.0


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
    capacity: CapacitySection = CapacitySection()
    fixed_access: FixedAccessSection = FixedAccessSection()
    traffic: TrafficSection = TrafficSection()
    services: list[Service] = Field(min_length=1)
    events: list[Event] = []
    policy: str = "nearest-feasible"
    allow_implausible: list[str] = Field(
        default=[],
        description="dotted paths (or 'all') allowed outside data/plausible_ranges.csv",
    )

    @model_validator(mode="after")
    def _unique_services(self) -> Scenario:
        names = [s.name for s in self.services]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"service names must be unique; repeated: {sorted(dup)}")
        from tsunagu.orchestrate.policy import registered_policies

        known = registered_policies()
        if self.policy not in known:
            import difflib

            close = difflib.get_close_matches(self.policy, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown policy {self.policy!r}{hint}; available policies: {known}")
        if self.policy == "cost":
            unpriced = [s.name for s in self.compute.sites if s.cost_per_gpu_hour is None]
            if unpriced:
                raise ValueError(
                    f"policy 'cost' needs compute.sites[].cost_per_gpu_hour; missing for {unpriced}"
                )
        return self
