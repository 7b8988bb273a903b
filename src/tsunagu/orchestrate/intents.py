"""Intents: service requests with an SLA, turned into cross-domain options or a rejection.

An intent asks for an AI service (or a chain of cooperating small AIs, co-located at one site)
from a demand point, for a device class, with an SLA: a latency bound at a percentile (e.g.
100 ms at p95), a long-run availability and a bandwidth. :func:`evaluate_intents` checks, for
many intents at once, every option (access technology × compute site) that the network view
offers, and for an intent that no option can meet names the **binding constraint**, in this
order:

1. ``no_access`` — no access technology serves the point (RAN down, outside every HAPS
   footprint, no LEO satellite above the mask with a gateway in view);
2. ``bandwidth`` — the SLA bandwidth exceeds the per-user rate of every available access;
3. ``latency_floor`` — even a straight line to the nearest up site at the speed of light plus
   the service's processing time exceeds the SLA: no network could meet it;
4. ``latency`` — the floor fits but every real path (access + transport + transmission +
   processing + the site's queueing at the SLA percentile) exceeds the SLA;
5. ``availability`` — options meet latency but none reaches the required availability.

``capacity`` (no GPU capacity left at any site that meets the rest) is decided at admission
(:mod:`tsunagu.orchestrate.admission`), where capacity is booked and released.

The end-to-end latency of an option at percentile ``q`` is the round trip ``2 × one_way``
(propagation and equipment delay of access and transport), the transmission of request and
response at the access rate, the service's processing time, and the M/M/c waiting time at the
site at percentile ``q`` (:func:`tsunagu.compute.models.mmc_wait_quantile_s`) under the site's
background load.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu.compute.models import mmc_wait_quantile_s
from tsunagu.compute.services import ServiceChain, ServiceProfile
from tsunagu.errors import ScenarioError
from tsunagu.orchestrate.view import NetworkView

__all__ = [
    "CONSTRAINTS",
    "DEVICE_ACCESS",
    "IntentBatch",
    "IntentOptions",
    "evaluate_intents",
    "make_intents",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Binding-constraint codes, in the order they are checked; "" for a feasible intent.
CONSTRAINTS: tuple[str, ...] = (
    "",
    "no_access",
    "bandwidth",
    "latency_floor",
    "latency",
    "availability",
    "capacity",
)

#: Access technologies each device class may use, by name (None: every registered one,
#: tsunagu.sim.access). HIBS (HAPS as IMT base stations, WRC-23) and 3GPP Rel-17 NTN
#: direct-to-device serve unmodified IMT terminals, so every class may use RAN, HAPS and LEO;
#: override per intent with ``allowed_access``.
DEVICE_ACCESS: dict[str, frozenset[str] | None] = {
    "phone": None,
    "car": None,
    "drone": None,
    "robot": None,
    "sensor": None,
}


@dataclass(frozen=True)
class IntentBatch:
    """N intents as columns.

    Attributes
    ----------
    point : (N,) demand-point index in the view.
    sla_latency_s : (N,) latency bound (round trip, s) ...
    percentile : (N,) ... to be met at this percentile, in [0, 1) (0.95 for p95).
    availability : (N,) required long-run availability, in [0, 1].
    bandwidth_bps : (N,) access bandwidth the session needs.
    request_rate_per_s : (N,) requests per second the session sends to its AI service.
    request_bits : (N,) bits of one request plus its response (transmission time).
    energy_wh_per_request : (N,) GPU energy of one request (a chain: the sum of its stages).
    processing_s : (N,) processing time of one request (a chain: the sum of its stages).
    allowed_access : (N, A) access technologies the device may use (``view.access_names``).
    arrival_s, holding_s : (N,) when the session starts and how long it holds its resources.
    service : (N,) service or chain name (for reports).
    """

    point: IntArray
    sla_latency_s: FloatArray
    percentile: FloatArray
    availability: FloatArray
    bandwidth_bps: FloatArray
    request_rate_per_s: FloatArray
    request_bits: FloatArray
    energy_wh_per_request: FloatArray
    processing_s: FloatArray
    allowed_access: BoolArray
    arrival_s: FloatArray
    holding_s: FloatArray
    service: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return int(self.point.size)

    def __post_init__(self) -> None:
        n = self.point.size
        for name in (
            "sla_latency_s",
            "percentile",
            "availability",
            "bandwidth_bps",
            "request_rate_per_s",
            "request_bits",
            "energy_wh_per_request",
            "processing_s",
            "arrival_s",
            "holding_s",
            "service",
        ):
            if np.shape(getattr(self, name)) != (n,):
                raise ScenarioError(f"intent column {name} must have shape ({n},)")
        if self.allowed_access.ndim != 2 or self.allowed_access.shape[0] != n:
            raise ScenarioError(
                f"intent column allowed_access must have shape ({n}, A), one column per "
                "access technology of the view (view.access_names)"
            )
        checks = (
            ("sla_latency_s", self.sla_latency_s > 0, "a latency bound > 0 s"),
            ("percentile", (self.percentile >= 0) & (self.percentile < 1), "0 <= p < 1"),
            ("availability", (self.availability >= 0) & (self.availability <= 1), "[0, 1]"),
            ("bandwidth_bps", self.bandwidth_bps >= 0, ">= 0"),
            ("request_rate_per_s", self.request_rate_per_s >= 0, ">= 0"),
            ("request_bits", self.request_bits >= 0, ">= 0"),
            ("energy_wh_per_request", self.energy_wh_per_request > 0, "> 0"),
            ("processing_s", self.processing_s >= 0, ">= 0"),
            ("holding_s", self.holding_s > 0, "> 0"),
        )
        for name, ok, want in checks:
            bad = np.flatnonzero(~np.asarray(ok, dtype=bool))
            if bad.size:
                i = int(bad[0])
                raise ScenarioError(
                    f"intent {i}: {name}={getattr(self, name)[i]!r} is out of range; pass {want}"
                )


def make_intents(
    view: NetworkView,
    point: npt.ArrayLike,
    service: ServiceProfile | ServiceChain,
    sla_latency_ms: npt.ArrayLike,
    *,
    percentile: npt.ArrayLike = 0.95,
    availability: npt.ArrayLike = 0.0,
    bandwidth_bps: npt.ArrayLike = 0.0,
    request_rate_per_s: npt.ArrayLike = 1.0,
    request_bytes: npt.ArrayLike = 2_000.0,
    response_bytes: npt.ArrayLike = 2_000.0,
    device: str = "phone",
    arrival_s: npt.ArrayLike = 0.0,
    holding_s: npt.ArrayLike = 60.0,
) -> IntentBatch:
    """Intents for one service from demand points (indices or names), broadcasting the rest."""
    p = np.atleast_1d(np.asarray(point))
    idx = view.point_index(p) if p.dtype.kind in "US" else p.astype(np.int64)
    if np.any((idx < 0) | (idx >= view.n_points)):
        raise ScenarioError(f"intent point index out of range [0, {view.n_points})")
    try:
        access = DEVICE_ACCESS[device]
    except KeyError:
        raise ScenarioError(
            f"unknown device class {device!r}; use one of {sorted(DEVICE_ACCESS)}"
        ) from None
    n = idx.size
    prof = service.as_profile() if isinstance(service, ServiceChain) else service

    def col(x: npt.ArrayLike) -> FloatArray:
        return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()

    return IntentBatch(
        point=idx,
        sla_latency_s=col(sla_latency_ms) / 1e3,
        percentile=col(percentile),
        availability=col(availability),
        bandwidth_bps=col(bandwidth_bps),
        request_rate_per_s=col(request_rate_per_s),
        request_bits=(col(request_bytes) + col(response_bytes)) * 8.0,
        energy_wh_per_request=col(prof.energy_wh_per_request),
        processing_s=col(prof.latency_s),
        allowed_access=np.tile(
            np.array([access is None or a in access for a in view.access_names], dtype=bool),
            (n, 1),
        ),
        arrival_s=col(arrival_s),
        holding_s=col(holding_s),
        service=np.full(n, prof.name),
    )


@dataclass(frozen=True)
class IntentOptions:
    """Every intent's options before capacity, and why infeasible intents fail.

    Attributes
    ----------
    latency_s : (N, S) latency at the SLA percentile of the best access technology per site
        among those meeting every non-capacity constraint; ``inf`` where none does.
    access : (N, S) that technology (index into ``view.access_names``), −1 where none.
    availability : (N, S) availability of that option (0 where none).
    gpu_load : (N,) GPU-seconds per second the intent needs (largest over sites).
    energy_wh_per_request : (N, S) facility energy per request (GPU energy × PUE).
    carbon_g_per_request : (N, S) emissions per request at the site's grid intensity.
    cost_per_request : (N, S) price per request, or ``None`` where sites have no price.
    constraint : (N,) index into ``CONSTRAINTS``: 0 when some option is feasible.
    reason : (N,) the binding constraint in words with its numbers ("" when feasible).
    """

    latency_s: FloatArray
    access: IntArray
    availability: FloatArray
    gpu_load: FloatArray
    energy_wh_per_request: FloatArray
    carbon_g_per_request: FloatArray
    cost_per_request: FloatArray | None
    constraint: IntArray
    reason: npt.NDArray[np.str_]

    @property
    def feasible(self) -> BoolArray:
        return np.asarray(self.constraint == 0)


def _site_wait_s(
    view: NetworkView,
    percentile: FloatArray,
    background_rps: FloatArray | None,
    background_service_s: FloatArray | None,
) -> FloatArray:
    """(N, S) queueing wait at each site at each intent's percentile, under background load."""
    n_s = view.n_sites
    if background_rps is None:
        return np.zeros((percentile.size, n_s))
    lam = np.broadcast_to(np.asarray(background_rps, dtype=np.float64), (n_s,))
    svc = np.broadcast_to(
        np.asarray(background_service_s if background_service_s is not None else 1.0), (n_s,)
    )
    return mmc_wait_quantile_s(
        lam[None, :], svc[None, :], view.site_gpus[None, :], percentile[:, None]
    )


def _fmt_ms(x: FloatArray) -> npt.NDArray[np.str_]:
    return np.char.mod("%.2f ms", x * 1e3)


def evaluate_intents(
    view: NetworkView,
    intents: IntentBatch,
    background_rps: npt.ArrayLike | None = None,
    background_service_s: npt.ArrayLike | None = None,
) -> IntentOptions:
    """Feasible (access, site) options of every intent and, where none, the binding constraint.

    Vectorised over intents, access technologies and sites. ``background_rps`` and
    ``background_service_s`` (per site) give the load already at each site for its queueing
    delay (none when omitted).
    """
    p = intents.point
    n, n_s = p.size, view.n_sites
    names = np.asarray(view.site_name)
    acc_names = np.asarray(view.access_names)

    access_ok = view.access_ok[p] & intents.allowed_access  # (N, A)
    rate = np.where(access_ok, view.access_rate_bps[p], 0.0)
    bw_ok = access_ok & (rate >= intents.bandwidth_bps[:, None])
    with np.errstate(divide="ignore"):
        tx = np.where(rate > 0, intents.request_bits[:, None] / np.maximum(rate, 1e-300), np.inf)
    wait = _site_wait_s(
        view,
        intents.percentile,
        None if background_rps is None else np.asarray(background_rps, dtype=np.float64),
        None if background_service_s is None else np.asarray(background_service_s, np.float64),
    )
    lat = (
        2.0 * view.one_way_s[p]
        + tx[:, :, None]
        + intents.processing_s[:, None, None]
        + wait[:, None, :]
    )  # (N, A, S)
    lat = np.where(bw_ok[:, :, None], lat, np.inf)
    avail = view.availability[p]
    lat_ok = lat <= intents.sla_latency_s[:, None, None]
    ok = lat_ok & (avail >= intents.availability[:, None, None])
    best_a = np.argmin(np.where(ok, lat, np.inf), axis=1)  # (N, S)
    ii = np.arange(n)[:, None]
    ss = np.arange(n_s)[None, :]
    site_ok: BoolArray = np.any(ok, axis=1)
    out_lat = np.where(site_ok, lat[ii, best_a, ss], np.inf)
    out_acc = np.where(site_ok, best_a, -1).astype(np.int64)
    out_av = np.where(site_ok, avail[ii, best_a, ss], 0.0)

    # ---- binding constraint --------------------------------------------------------------
    up = view.site_up
    floor = np.where(up[None, :], 2.0 * view.geometry_floor_s[p], np.inf)
    near = np.argmin(floor, axis=1)
    floor_lat = floor[np.arange(n), near] + intents.processing_s
    any_access = access_ok.any(axis=1)
    any_bw = bw_ok.any(axis=1)
    any_lat = lat_ok.any(axis=(1, 2))
    any_ok = np.any(site_ok, axis=1)
    code = np.select(
        [~any_access, ~any_bw, floor_lat > intents.sla_latency_s, ~any_lat, ~any_ok],
        [1, 2, 3, 4, 5],
        default=0,
    ).astype(np.int64)

    sla = _fmt_ms(intents.sla_latency_s)
    q = np.char.mod("p%g", intents.percentile * 100.0)
    best_rate = rate.max(axis=1)
    flat = lat.reshape(n, -1)
    k_best = np.argmin(flat, axis=1)
    best_lat = flat[np.arange(n), k_best]
    best_tech = acc_names[k_best // n_s]
    best_site = names[k_best % n_s]
    av_in_lat = np.where(lat_ok, avail, -1.0).reshape(n, -1)
    k_av = np.argmax(av_in_lat, axis=1)
    best_av = av_in_lat[np.arange(n), k_av]
    pname = np.asarray(view.point_name)[p]
    reason = np.full(n, "", dtype=object)
    m = code == 1
    reason[m] = np.char.add(
        np.char.add("no access at ", pname[m]),
        ": terrestrial RAN down or not allowed, outside every HAPS footprint, no LEO satellite "
        "above the elevation mask with a gateway in view",
    )
    m = code == 2
    reason[m] = np.char.add(
        np.char.add("bandwidth: SLA ", np.char.mod("%.3g Mb/s", intents.bandwidth_bps[m] / 1e6)),
        np.char.add(" > best access rate ", np.char.mod("%.3g Mb/s", best_rate[m] / 1e6)),
    )
    m = code == 3
    reason[m] = [
        f"latency floor {fl * 1e3:.2f} ms from geometry (nearest site {names[s]} at "
        f"{view.distance_km[pp, s]:,.0f} km in a straight line at c, round trip, plus "
        f"processing {pr * 1e3:.2f} ms) > SLA {sl} at {qq}"
        if np.isfinite(fl)
        else "latency floor: no compute site is up, so no latency can be met"
        for fl, s, pp, pr, sl, qq in zip(
            floor_lat[m], near[m], p[m], intents.processing_s[m], sla[m], q[m], strict=True
        )
    ]
    m = code == 4
    reason[m] = [
        f"latency: best option {bl * 1e3:.2f} ms ({bt} → {bs}) > SLA {sl} at {qq} "
        f"(geometry floor {fl * 1e3:.2f} ms)"
        for bl, bt, bs, sl, qq, fl in zip(
            best_lat[m], best_tech[m], best_site[m], sla[m], q[m], floor_lat[m], strict=True
        )
    ]
    m = code == 5
    reason[m] = [
        f"availability: best option within the latency SLA reaches {ba:.6f} "
        f"({acc_names[k // n_s]} → {names[k % n_s]}) < required {ra:.6f}"
        for ba, k, ra in zip(best_av[m], k_av[m], intents.availability[m], strict=True)
    ]

    gpu_s = 3600.0 * intents.energy_wh_per_request[:, None] / view.site_gpu_power_w[None, :]
    energy = intents.energy_wh_per_request[:, None] * view.site_pue[None, :]
    cost = None
    if view.site_cost_per_gpu_hour is not None:
        cost = gpu_s / 3600.0 * view.site_cost_per_gpu_hour[None, :]
    return IntentOptions(
        latency_s=out_lat,
        access=out_acc,
        availability=out_av,
        gpu_load=intents.request_rate_per_s * gpu_s.max(axis=1),
        energy_wh_per_request=energy,
        carbon_g_per_request=energy / 1000.0 * view.site_carbon_g_per_kwh[None, :],
        cost_per_request=cost,
        constraint=code,
        reason=np.asarray(reason.astype(str)),
    )
