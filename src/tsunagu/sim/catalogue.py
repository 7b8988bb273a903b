"""The KPI catalogue: every KPI's name, unit, label, aggregation and meaning, defined once.

The engine's summary (``summary.json`` ``kpis``), the per-step table (``steps.parquet``), the
results store, the report, the command line, the comparison report and sweeps all read their
KPI names and labels from here; no other module spells a KPI name (a test checks that over
the source tree). A KPI's ``unit`` is its display unit: ``%`` marks a share stored as a
fraction in [0, 1] and shown in per cent.

``views`` says where a KPI is shown besides the summary: ``cli`` (``tsunagu run``),
``compare`` (``tsunagu compare``), ``sweep`` (kept per sweep case) and ``steps`` (a column of
the per-step table).

Per-access KPIs (the population on each registered access technology) are made by
:func:`access_population` from the access layer's name, so a new access layer gets its KPI
without an edit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "KPIS",
    "Kpi",
    "access_population",
    "in_view",
    "label_unit",
]

Aggregation = Literal["sum", "mean", "max", "min", "quantile", "share", "count", "last"]


@dataclass(frozen=True)
class Kpi:
    """One KPI: ``name`` (the key in summaries and tables), display ``unit``, ``label``,
    how steps or flows are ``aggregation``-ed into it, a one-line ``description``, the
    terminal format ``fmt`` and the ``views`` that show it."""

    name: str
    unit: str
    label: str
    aggregation: Aggregation
    description: str
    fmt: str = "{:,.3g}"
    views: frozenset[str] = frozenset()


#: Every KPI by name, in display order.
KPIS: dict[str, Kpi] = {}


def _kpi(
    name: str,
    unit: str,
    label: str,
    aggregation: Aggregation,
    description: str,
    fmt: str = "{:,.3g}",
    views: str = "",
) -> Kpi:
    if name in KPIS:  # pragma: no cover - a programming error caught at import
        raise ValueError(f"KPI {name!r} is defined twice in the catalogue")
    k = Kpi(name, unit, label, aggregation, description, fmt, frozenset(views.split()))
    KPIS[name] = k
    return k


def in_view(view: str) -> tuple[Kpi, ...]:
    """The catalogue's KPIs shown in ``view`` (``cli``, ``compare``, ``sweep``, ``steps``)."""
    return tuple(k for k in KPIS.values() if view in k.views)


def access_population(access: str) -> Kpi:
    """The per-step population on access technology ``access`` (``none``: without access)."""
    name = "population_" + ("no_access" if access == "none" else access)
    if name in KPIS:
        return KPIS[name]
    label = "without access" if access == "none" else f"served on {access}"
    return Kpi(
        name,
        "people",
        f"population {label}",
        "max",
        f"People served over the {access} access at the step (in the summary: the peak).",
        "{:,.0f}",
        frozenset({"steps"}),
    )


def label_unit(name: str) -> tuple[str, str]:
    """(label, unit) of a KPI by name; unknown names get a readable label and no unit."""
    k = KPIS.get(name)
    if k is None:
        return name.replace("_", " "), ""
    return k.label, k.unit


# --- requests and latency ----------------------------------------------------------------
LATENCY_P50_MS = _kpi(
    "latency_p50_ms",
    "ms",
    "latency p50 (request-weighted)",
    "quantile",
    "Median end-to-end round-trip latency of the requests (unserved count as infinite).",
    "{:.1f}",
    "cli compare sweep steps",
)
LATENCY_P95_MS = _kpi(
    "latency_p95_ms",
    "ms",
    "latency p95 (request-weighted)",
    "quantile",
    "95th percentile of the requests' end-to-end round-trip latency.",
    "{:.1f}",
    "cli compare sweep steps",
)
LATENCY_P99_MS = _kpi(
    "latency_p99_ms",
    "ms",
    "latency p99 (request-weighted)",
    "quantile",
    "99th percentile of the requests' end-to-end round-trip latency.",
    "{:.1f}",
    "cli compare",
)
# Latency as distributions (tsunagu.sim.latency, latency.parquet): served requests only, each
# request's round trip drawn from its queueing and last-mile distributions.
LATENCY_DIST_P50_MS = _kpi(
    "latency_dist_p50_ms",
    "ms",
    "latency p50, distribution (served)",
    "quantile",
    "Median round trip of the served requests from their queueing and last-mile distributions.",
    "{:.1f}",
    "cli compare",
)
LATENCY_DIST_P95_MS = _kpi(
    "latency_dist_p95_ms",
    "ms",
    "latency p95, distribution (served)",
    "quantile",
    "95th percentile of the served requests' round trip, queueing and last mile drawn.",
    "{:.1f}",
    "cli compare sweep",
)
LATENCY_DIST_P99_MS = _kpi(
    "latency_dist_p99_ms",
    "ms",
    "latency p99, distribution (served)",
    "quantile",
    "99th percentile of the served requests' round trip, queueing and last mile drawn.",
    "{:.1f}",
    "cli compare",
)
LATENCY_DIST_MEAN_MS = _kpi(
    "latency_dist_mean_ms",
    "ms",
    "latency mean, with last mile (served)",
    "mean",
    "Mean round trip of the served requests with the last-mile budget (closed form).",
    "{:.1f}",
)
LATENCY_NETWORK_P95_MS = _kpi(
    "latency_network_p95_ms",
    "ms",
    "network latency p95 (served)",
    "quantile",
    "95th percentile of the network part (all but AI processing and GPU queueing).",
    "{:.1f}",
    "cli",
)
LATENCY_NETWORK_MEAN_MS = _kpi(
    "latency_network_mean_ms",
    "ms",
    "network latency mean (served)",
    "mean",
    "Mean network part: propagation, transmission, equipment, last mile, access and link queues.",
    "{:.1f}",
    "cli",
)
LATENCY_PROCESSING_MEAN_MS = _kpi(
    "latency_processing_mean_ms",
    "ms",
    "AI processing latency mean (served)",
    "mean",
    "Mean AI part: the service's processing time plus the M/M/c GPU queueing.",
    "{:.1f}",
    "cli",
)
SLA_SHARE = _kpi(
    "sla_share",
    "%",
    "requests within SLA",
    "share",
    "Share of offered requests served within their service's latency SLA.",
    "{:.2%}",
    "cli compare sweep steps",
)
SLA_VIOLATIONS = _kpi(
    "sla_violations",
    "requests",
    "requests outside SLA (incl. unserved)",
    "sum",
    "Requests over the run not served within their SLA, unserved ones included.",
    "{:,.0f}",
    "sweep",
)
SERVED_SHARE = _kpi(
    "served_share",
    "%",
    "requests served",
    "share",
    "Share of offered requests that were placed on a compute site.",
    "{:.2%}",
    "cli compare sweep steps",
)
DEMAND_RPS = _kpi(
    "demand_rps",
    "requests/s",
    "requests offered per second",
    "sum",
    "AI requests offered per second at the step, all services and points.",
    "{:,.1f}",
    "steps",
)
SERVED_RPS = _kpi(
    "served_rps",
    "requests/s",
    "requests served per second",
    "sum",
    "AI requests placed on a compute site per second at the step.",
    "{:,.1f}",
    "steps",
)
REQUESTS_TOTAL = _kpi(
    "requests_total",
    "requests",
    "requests offered",
    "sum",
    "AI requests offered over the run.",
    "{:,.0f}",
    "cli",
)

# --- population and restoration ------------------------------------------------------------
POPULATION_SERVED_SHARE = _kpi(
    "population_served_share",
    "%",
    "population served (mean over steps)",
    "mean",
    "Mean over steps of the share of people all of whose services are served.",
    "{:.2%}",
    "cli compare sweep",
)
POPULATION_SERVED = _kpi(
    "population_served",
    "people",
    "population served",
    "sum",
    "People all of whose services are served at the step.",
    "{:,.0f}",
    "steps",
)
POPULATION_UNSERVED = _kpi(
    "population_unserved",
    "people",
    "population without service",
    "sum",
    "People with at least one service not served at the step.",
    "{:,.0f}",
    "steps",
)
for _acc in ("ran", "haps", "leo"):
    _kpi(
        "population_" + _acc,
        "people",
        f"population served on {_acc.upper()}",
        "max",
        f"People served over the {_acc} access at the step (in the summary: the peak).",
        "{:,.0f}",
        "steps",
    )
_kpi(
    "population_no_access",
    "people",
    "population without access",
    "max",
    "People no access technology carries at the step (in the summary: the peak).",
    "{:,.0f}",
    "steps",
)
POPULATION_WITHOUT_SERVICE_PEAK = _kpi(
    "population_without_service_peak",
    "people",
    "population without service, peak",
    "max",
    "Most people without service at any step (any cause: events, capacity, no path).",
    "{:,.0f}",
    "compare sweep",
)
PERSON_HOURS_WITHOUT_SERVICE = _kpi(
    "person_hours_without_service",
    "person-h",
    "person-hours without service",
    "sum",
    "People without service times the step length, summed over the run.",
    "{:,.0f}",
    "compare sweep",
)
AREAS_LOST = _kpi(
    "areas_lost",
    "prefectures",
    "prefectures that lost service",
    "count",
    "Prefectures with more people without service than before the first event.",
    "{:,.0f}",
    "sweep",
)
AREAS_RESTORED = _kpi(
    "areas_restored",
    "prefectures",
    "prefectures restored within the run",
    "count",
    "Prefectures that lost service and were back at their baseline before the run ended.",
    "{:,.0f}",
    "sweep",
)
TIME_TO_RESTORE_MAX_S = _kpi(
    "time_to_restore_max_s",
    "s",
    "time to restore, longest",
    "max",
    "Longest time from loss to restoration over the prefectures (None: not restored).",
    "{:,.0f}",
    "compare sweep",
)

# --- energy and carbon ---------------------------------------------------------------------
ENERGY_TOTAL_KWH = _kpi(
    "energy_total_kwh",
    "kWh",
    "energy, total",
    "sum",
    "Optical, RAN, NTN ground segment and compute energy over the run.",
    "{:,.0f}",
    "cli compare sweep steps",
)
ENERGY_COMPUTE_KWH = _kpi(
    "energy_compute_kwh",
    "kWh",
    "energy, compute",
    "sum",
    "Energy of the AI requests served at the compute sites, PUE included.",
    "{:,.0f}",
    "cli compare steps",
)
ENERGY_RAN_KWH = _kpi(
    "energy_ran_kwh",
    "kWh",
    "energy, RAN",
    "sum",
    "Energy of the RAN sites that are up, by the scenario's RAN energy model.",
    "{:,.0f}",
    "cli steps",
)
ENERGY_OPTICAL_KWH = _kpi(
    "energy_optical_kwh",
    "kWh",
    "energy, optical",
    "sum",
    "Amplifiers, ROADMs, transceivers of the lit lightpaths, DCI and fronthaul.",
    "{:,.0f}",
    "cli steps",
)
ENERGY_NTN_KWH = _kpi(
    "energy_ntn_kwh",
    "kWh",
    "energy, NTN ground segment",
    "sum",
    "Energy of the satellite gateways that are up.",
    "{:,.0f}",
    "cli steps",
)
CARBON_KG = _kpi(
    "carbon_kg",
    "kg CO₂",
    "carbon",
    "sum",
    "Energy times the grid carbon intensity where it is drawn.",
    "{:,.0f}",
    "cli compare sweep steps",
)

# --- network state -------------------------------------------------------------------------
SATELLITES_VISIBLE = _kpi(
    "satellites_visible",
    "satellites",
    "satellites visible",
    "last",
    "Satellites above the mask of at least one demand point at the step.",
    "{:,.0f}",
    "steps",
)
LINKS_DOWN = _kpi(
    "links_down",
    "links",
    "links down",
    "last",
    "Links not usable at the step (failed, or an end node down).",
    "{:,.0f}",
    "steps",
)
NODES_DOWN = _kpi(
    "nodes_down",
    "nodes",
    "nodes down",
    "last",
    "Nodes down at the step.",
    "{:,.0f}",
    "steps",
)
MAX_LINK_UTILISATION = _kpi(
    "max_link_utilisation",
    "%",
    "link utilisation, highest",
    "max",
    "Highest carried load over capacity of any link at the step (or over the run).",
    "{:.2%}",
    "cli compare steps",
)
FIXED_ACCESS_UTILISATION = _kpi(
    "fixed_access_utilisation",
    "%",
    "fixed access (PON) utilisation",
    "max",
    "Carried over capacity of all PON trees together (Σ load / Σ capacity, the busier "
    "direction) at the step; in the summary the busiest step's.",
    "{:.2%}",
    "cli compare steps",
)
FIXED_ACCESS_UTILISATION_MAX = _kpi(
    "fixed_access_utilisation_max",
    "%",
    "fixed access (PON) utilisation, most loaded point",
    "max",
    "Highest utilisation of any demand point's PON trees (busier direction) at the step or over "
    "the run; admission keeps it at or below capacity.access_max_utilisation.",
    "{:.2%}",
    "cli compare steps",
)

TRAFFIC_OFFERED_TBPS = _kpi(
    "traffic_offered_tbps",
    "Tb/s",
    "traffic offered",
    "mean",
    "All traffic offered to the network (AI requests and responses, national fixed and mobile "
    "traffic, both directions) at the step, or its mean over the run.",
    "{:,.2f}",
    "cli compare sweep steps",
)
TRAFFIC_OFFERED_PEAK_TBPS = _kpi(
    "traffic_offered_peak_tbps",
    "Tb/s",
    "traffic offered, busiest step",
    "max",
    "Highest traffic offered to the network at any step of the run.",
    "{:,.2f}",
    "cli compare sweep",
)
TRAFFIC_CARRIED_SHARE = _kpi(
    "traffic_carried_share",
    "%",
    "traffic carried",
    "share",
    "Share of the offered bits (all classes) the access and the network carried; the rest was "
    "blocked at a binding resource (traffic.parquet names it).",
    "{:.2%}",
    "cli compare sweep steps",
)
TRAFFIC_CARRIED_SHARE_MIN = _kpi(
    "traffic_carried_share_min",
    "%",
    "traffic carried, worst step",
    "min",
    "Lowest share of offered bits carried at any step of the run.",
    "{:.2%}",
    "cli compare sweep",
)
ROUTING_GAP = _kpi(
    "routing_relative_gap",
    "ratio",
    "routing equilibrium gap",
    "max",
    "Relative gap of the congestion-aware routing at the step (or the largest of the run): "
    "how far the total delay is from the Wardrop equilibrium's.",
    "{:.2e}",
    "steps",
)

# --- DCI over the APN (adapters/dci.py) ----------------------------------------------------
DCI_LIGHTPATHS = _kpi(
    "dci_lightpaths", "lightpaths", "DCI lightpaths planned", "count", "DCI lightpaths planned."
)
DCI_ESTABLISHED = _kpi(
    "dci_established",
    "lightpaths",
    "DCI lightpaths established",
    "count",
    "DCI lightpaths with spectrum and a positive GSNR margin.",
)
DCI_BLOCKING_SHARE = _kpi(
    "dci_blocking_share",
    "%",
    "DCI lightpaths blocked",
    "share",
    "Share of planned DCI lightpaths not established.",
)
DCI_MARGIN_MIN_DB = _kpi(
    "dci_margin_min_db", "dB", "DCI GSNR margin, lowest", "min", "Lowest GSNR margin."
)
DCI_MARGIN_MEAN_DB = _kpi(
    "dci_margin_mean_db", "dB", "DCI GSNR margin, mean", "mean", "Mean GSNR margin."
)
DCI_POWER_W = _kpi(
    "dci_power_w",
    "W",
    "DCI power, APN (incl. end routers)",
    "sum",
    "Power of the DCI lightpaths including their end routers.",
)
DCI_OPTICAL_POWER_W = _kpi(
    "dci_optical_power_w",
    "W",
    "DCI power, optical part",
    "sum",
    "Transceivers and line share of the DCI lightpaths.",
)
DCI_IP_POWER_W = _kpi(
    "dci_ip_power_w",
    "W",
    "DCI power if carried over IP hops",
    "sum",
    "Power the same DCI traffic would draw over IP hops.",
)
DCI_LATENCY_SAVING_MEAN_MS = _kpi(
    "dci_latency_saving_mean_ms",
    "ms",
    "DCI latency saved against IP hops, mean",
    "mean",
    "Mean one-way latency the APN saves against IP hops.",
)

# --- fronthaul (adapters/fronthaul.py) -----------------------------------------------------
FRONTHAUL_SITE_GBPS = _kpi(
    "fronthaul_site_gbps",
    "Gb/s",
    "fronthaul per RAN site (split 7.2x)",
    "mean",
    "Split-7.2x fronthaul rate of one RAN site.",
)
FRONTHAUL_TOTAL_TBPS = _kpi(
    "fronthaul_total_tbps",
    "Tb/s",
    "fronthaul, all sites within budget",
    "sum",
    "Fronthaul of every RAN site within the latency budget.",
)
FRONTHAUL_REACH_KM = _kpi(
    "fronthaul_reach_km",
    "km",
    "fronthaul reach in the latency budget",
    "last",
    "Fibre reach allowed by the fronthaul latency budget.",
)
FRONTHAUL_SITES_WITHIN_BUDGET_SHARE = _kpi(
    "fronthaul_sites_within_budget_share",
    "%",
    "RAN sites within the fronthaul budget",
    "share",
    "Share of RAN sites whose fronthaul fits the latency budget.",
)
FRONTHAUL_WAVELENGTHS = _kpi(
    "fronthaul_wavelengths",
    "wavelengths",
    "fronthaul wavelengths",
    "sum",
    "WDM wavelengths of the fronthaul.",
)

# --- LEO RTT between place pairs (ntn/routing.py) ------------------------------------------
NTN_RTT_P50_MS = _kpi(
    "ntn_rtt_p50_ms",
    "ms",
    "LEO RTT between place pairs, median",
    "quantile",
    "Median RTT over the ISL mesh between the scenario's place pairs.",
)
NTN_RTT_MAX_MS = _kpi(
    "ntn_rtt_max_ms",
    "ms",
    "LEO RTT between place pairs, max",
    "max",
    "Highest RTT over the ISL mesh between the place pairs.",
)
NTN_RTT_PATH_CHANGES = _kpi(
    "ntn_rtt_path_changes",
    "changes",
    "LEO route changes",
    "sum",
    "Times the satellite sequence of a place pair's route changed.",
)
NTN_RTT_OUTAGE_SHARE = _kpi(
    "ntn_rtt_outage_share",
    "%",
    "LEO route outage share",
    "share",
    "Share of (time, pair) samples without an ISL route.",
)
