"""Power and latency of an end-to-end APN lightpath against the same traffic over IP hops.

Pure, vectorised functions over many paths at once. The comparison is the one the All-Photonics
Network promises to make measurable (SPEC §3.1): the same demand on the same fibre route,
carried

* **APN**: one transparent lightpath per transceiver's worth of traffic, optical end to end —
  two transceivers, its share of every in-line amplifier and ROADM degree it passes through,
  and the two end routers that source and sink the traffic;
* **IP**: a packet path over the same route whose traffic is terminated (O-E-O) and switched
  by a router at every node — a transceiver pair per hop and a router at both ends and at every
  intermediate node.

Power follows the analytic multilayer model of Van Heddeghem et al., "Power consumption
modeling in optical multilayer networks", Photonic Netw. Commun. 24 (2012): equipment shared by
many channels (amplifiers, ROADM degrees) is attributed to a lightpath by the share of the
fibre's spectrum it occupies, and routers by W per Gb/s of traffic switched. The figures
themselves are parameters of the scenario (``optical.equipment``) with their sources noted
there.

Latency: propagation at ``n/c`` per metre is common to both; the IP path adds at each router
the lookup/switching delay, the store-and-forward time of one packet at the port rate and the
M/M/1 waiting time ``ρ/(1 − ρ)`` packet times at port utilisation ρ (Kleinrock, Queueing
Systems Vol. 1, 1975, §3.2); each O-E-O also adds the transceivers' DSP/FEC latency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu.constants import C_M_PER_S, FIBRE_GROUP_INDEX
from tsunagu.errors import ModelRangeError

__all__ = [
    "PathComparison",
    "compare_apn_ip",
    "ip_path_latency_s",
    "ip_path_power_w",
    "lightpath_latency_s",
    "lightpath_power_w",
]

FloatArray = npt.NDArray[np.float64]


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def lightpath_power_w(
    n_transceiver_pairs: npt.ArrayLike,
    transceiver_power_w: npt.ArrayLike,
    n_amplifiers: npt.ArrayLike,
    amplifier_power_w: npt.ArrayLike,
    n_roadm_degrees: npt.ArrayLike,
    roadm_degree_power_w: npt.ArrayLike,
    spectrum_share: npt.ArrayLike,
) -> FloatArray:
    """Electrical power (W) of transparent lightpaths.

    ``2·P_trx·pairs + share·(N_amp·P_amp + N_deg·P_deg)``.

    ``n_roadm_degrees`` counts the degrees the lightpath traverses: one at each end (add/drop)
    and two at each intermediate ROADM. ``spectrum_share`` is the share of one fibre's usable
    spectrum the lightpaths occupy (e.g. slots used / slots per fibre), by which the shared line
    equipment is attributed.

    Examples
    --------
    >>> float(lightpath_power_w(1, 16.0, 10, 110.0, 4, 85.0, 1 / 64))
    54.5
    """
    share = _f(spectrum_share)
    if np.any((share < 0) | (share > 1)):
        raise ModelRangeError("spectrum_share is a share of one fibre's spectrum, in [0, 1]")
    shared = _f(n_amplifiers) * _f(amplifier_power_w) + _f(n_roadm_degrees) * _f(
        roadm_degree_power_w
    )
    return np.asarray(
        2.0 * _f(n_transceiver_pairs) * _f(transceiver_power_w) + share * shared, dtype=np.float64
    )


def ip_path_power_w(
    traffic_bps: npt.ArrayLike,
    n_hops: npt.ArrayLike,
    router_power_w_per_bps: npt.ArrayLike,
    transceiver_rate_bps: npt.ArrayLike,
    transceiver_power_w: npt.ArrayLike,
    n_amplifiers: npt.ArrayLike,
    amplifier_power_w: npt.ArrayLike,
    n_roadm_degrees: npt.ArrayLike,
    roadm_degree_power_w: npt.ArrayLike,
    spectrum_share: npt.ArrayLike,
) -> FloatArray:
    """Electrical power (W) of carrying ``traffic_bps`` over ``n_hops`` routed IP hops.

    ``(hops + 1)`` routers switch the traffic at ``router_power_w_per_bps``; every hop needs
    ``ceil(traffic / transceiver rate)`` transceiver pairs; the line system (amplifiers, ROADM
    degrees) is the same fibre route as the lightpath, attributed by spectrum share.
    """
    hops = _f(n_hops)
    if np.any(hops < 1):
        raise ModelRangeError("an IP path has at least one hop")
    traffic = _f(traffic_bps)
    pairs = np.maximum(np.ceil(traffic / _f(transceiver_rate_bps)), 1.0) * hops
    line = lightpath_power_w(
        pairs,
        transceiver_power_w,
        n_amplifiers,
        amplifier_power_w,
        n_roadm_degrees,
        roadm_degree_power_w,
        spectrum_share,
    )
    routers = (hops + 1.0) * traffic * _f(router_power_w_per_bps)
    return np.asarray(line + routers, dtype=np.float64)


def lightpath_latency_s(
    length_m: npt.ArrayLike,
    n_roadms: npt.ArrayLike = 0.0,
    roadm_delay_s: npt.ArrayLike = 0.0,
    transceiver_delay_s: npt.ArrayLike = 0.0,
    group_index: float = FIBRE_GROUP_INDEX,
) -> FloatArray:
    """One-way latency (s) of a transparent lightpath: ``L·n/c + N_roadm·d_roadm + d_trx``.

    Examples
    --------
    >>> round(float(lightpath_latency_s(1000e3)) * 1e6, 1)   # 4.90 µs/km
    4896.7
    """
    return np.asarray(
        _f(length_m) * group_index / C_M_PER_S
        + _f(n_roadms) * _f(roadm_delay_s)
        + _f(transceiver_delay_s),
        dtype=np.float64,
    )


def _router_transit_s(
    router_delay_s: npt.ArrayLike,
    port_rate_bps: npt.ArrayLike,
    packet_bytes: npt.ArrayLike,
    utilisation: npt.ArrayLike,
) -> FloatArray:
    """Mean time through one router: switching + store-and-forward + M/M/1 wait."""
    rho = _f(utilisation)
    if np.any((rho < 0) | (rho >= 1)):
        raise ModelRangeError("port utilisation must be in [0, 1) for a stable queue")
    tx_s = 8.0 * _f(packet_bytes) / _f(port_rate_bps)
    return np.asarray(_f(router_delay_s) + tx_s / (1.0 - rho), dtype=np.float64)


def ip_path_latency_s(
    length_m: npt.ArrayLike,
    n_hops: npt.ArrayLike,
    router_delay_s: npt.ArrayLike,
    port_rate_bps: npt.ArrayLike,
    packet_bytes: npt.ArrayLike = 1500.0,
    utilisation: npt.ArrayLike = 0.5,
    transceiver_delay_s: npt.ArrayLike = 0.0,
    group_index: float = FIBRE_GROUP_INDEX,
) -> FloatArray:
    """Mean one-way latency (s) over ``n_hops`` routed hops on the same fibre route.

    Propagation ``L·n/c``, plus at each of the ``hops + 1`` routers the switching delay, the
    store-and-forward time ``8·packet/rate``, the M/M/1 wait ``ρ/(1−ρ)·8·packet/rate``, and a
    transceiver delay per hop (O-E-O).
    """
    hops = _f(n_hops)
    per_router = _router_transit_s(router_delay_s, port_rate_bps, packet_bytes, utilisation)
    return np.asarray(
        _f(length_m) * group_index / C_M_PER_S
        + (hops + 1.0) * per_router
        + hops * _f(transceiver_delay_s),
        dtype=np.float64,
    )


@dataclass(frozen=True)
class PathComparison:
    """APN lightpath versus IP hops for the same traffic on the same routes (one row per path)."""

    apn_power_w: FloatArray
    ip_power_w: FloatArray
    apn_w_per_gbps: FloatArray
    ip_w_per_gbps: FloatArray
    apn_latency_s: FloatArray
    ip_latency_s: FloatArray


def compare_apn_ip(
    traffic_bps: npt.ArrayLike,
    length_m: npt.ArrayLike,
    n_hops: npt.ArrayLike,
    n_amplifiers: npt.ArrayLike,
    *,
    transceiver_rate_bps: float,
    transceiver_power_w: float,
    amplifier_power_w: float,
    roadm_degree_power_w: float,
    router_power_w_per_bps: float,
    router_delay_s: float,
    spectrum_share_per_lightpath: npt.ArrayLike,
    roadm_delay_s: float = 0.0,
    transceiver_delay_s: float = 0.0,
    packet_bytes: float = 1500.0,
    utilisation: float = 0.5,
    group_index: float = FIBRE_GROUP_INDEX,
) -> PathComparison:
    """Power, W per Gb/s and latency of both options for many paths at once.

    A path of ``n_hops`` fibre links passes ``n_hops − 1`` intermediate ROADMs: the lightpath
    uses ``2·hops`` ROADM degrees; both options use the same line system. The APN side also
    counts the two end routers, so the difference is what optical bypass saves.
    """
    traffic = _f(traffic_bps)
    hops = _f(n_hops)
    if np.any(traffic <= 0):
        raise ModelRangeError("traffic_bps must be positive to compare W per Gb/s")
    lightpaths = np.maximum(np.ceil(traffic / transceiver_rate_bps), 1.0)
    share = np.minimum(lightpaths * _f(spectrum_share_per_lightpath), 1.0)
    degrees = 2.0 * hops
    apn = (
        lightpath_power_w(
            lightpaths,
            transceiver_power_w,
            n_amplifiers,
            amplifier_power_w,
            degrees,
            roadm_degree_power_w,
            share,
        )
        + 2.0 * traffic * router_power_w_per_bps
    )
    ip = ip_path_power_w(
        traffic,
        hops,
        router_power_w_per_bps,
        transceiver_rate_bps,
        transceiver_power_w,
        n_amplifiers,
        amplifier_power_w,
        degrees,
        roadm_degree_power_w,
        share,
    )
    gbps = traffic / 1e9
    apn_lat = lightpath_latency_s(
        length_m, hops - 1.0, roadm_delay_s, transceiver_delay_s, group_index
    ) + 2.0 * _router_transit_s(router_delay_s, transceiver_rate_bps, packet_bytes, utilisation)
    ip_lat = ip_path_latency_s(
        length_m,
        hops,
        router_delay_s,
        transceiver_rate_bps,
        packet_bytes,
        utilisation,
        transceiver_delay_s,
        group_index,
    )
    return PathComparison(
        apn_power_w=np.asarray(apn, dtype=np.float64),
        ip_power_w=ip,
        apn_w_per_gbps=np.asarray(apn / gbps, dtype=np.float64),
        ip_w_per_gbps=np.asarray(ip / gbps, dtype=np.float64),
        apn_latency_s=np.asarray(apn_lat, dtype=np.float64),
        ip_latency_s=ip_lat,
    )
