"""Compute sites → data-centre-interconnect (DCI) lightpaths across the multi-operator APN.

Each compute site is homed by metro fibre on its nearest backbone ROADM. The scenario's
``optical.dci.pairs`` says which sites are joined (by default every pair of core sites, and
each regional or edge site to its nearest core site). Every pair is one transparent lightpath
of ``optical.dci.bit_rate_bps`` planned end to end over the operators' abstracted views
(:func:`tsunagu.optical.multidomain.plan_interdomain_lightpaths`: k shortest chains, GN-model
GSNR, the most efficient format with the margin, spectrum by the named policy). For every
established lightpath the same traffic is also costed over IP router hops on the same route
(:func:`tsunagu.optical.power.compare_apn_ip`), so the run reports what optical bypass saves
in power and latency.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tsunagu.geo import great_circle_m
from tsunagu.optical.domain import Backbone, nearest_homes
from tsunagu.optical.multidomain import plan_interdomain_lightpaths
from tsunagu.optical.power import compare_apn_ip
from tsunagu.scenario.schema import Scenario
from tsunagu.sim import catalogue as kc

__all__ = ["DciPlan", "dci_pairs", "plan_dci"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def dci_pairs(kinds: list[str], lat_deg: FloatArray, lon_deg: FloatArray, rule: str) -> IntArray:
    """Site index pairs (P, 2) joined by DCI lightpaths under ``rule`` (see module doc)."""
    if rule == "none":
        return np.zeros((0, 2), dtype=np.int64)
    kind = np.asarray(kinds)
    core = np.flatnonzero(kind == "core")
    iu, ju = np.triu_indices(core.size, k=1)
    pairs = [np.stack([core[iu], core[ju]], axis=-1)]
    if rule == "core-mesh+nearest-core" and core.size:
        other = np.flatnonzero(kind != "core")
        d = great_circle_m(
            lat_deg[other][:, None], lon_deg[other][:, None], lat_deg[core][None], lon_deg[core]
        )
        pairs.append(np.stack([other, core[np.argmin(d, axis=1)]], axis=-1))
    return np.concatenate(pairs).astype(np.int64) if pairs else np.zeros((0, 2), dtype=np.int64)


@dataclass(frozen=True)
class DciPlan:
    """DCI lightpaths, one row per site pair (blocked ones carry a non-empty ``reason``)."""

    columns: dict[str, npt.NDArray[Any]]
    apn_power_w: float
    ip_power_w: float
    optical_power_w: float

    @property
    def established(self) -> npt.NDArray[np.bool_]:
        return np.asarray(np.asarray(self.columns["reason"]) == "", dtype=bool)

    def kpis(self) -> dict[str, float]:
        ok = self.established
        n = int(ok.size)
        margin = self.columns["margin_db"][ok]
        lat = self.columns["latency_ms"][ok]
        ip_lat = self.columns["ip_latency_ms"][ok]
        return {
            kc.DCI_LIGHTPATHS.name: float(n),
            kc.DCI_ESTABLISHED.name: float(ok.sum()),
            kc.DCI_BLOCKING_SHARE.name: float(1.0 - ok.mean()) if n else float("nan"),
            kc.DCI_MARGIN_MIN_DB.name: float(margin.min()) if margin.size else float("nan"),
            kc.DCI_MARGIN_MEAN_DB.name: float(margin.mean()) if margin.size else float("nan"),
            kc.DCI_POWER_W.name: self.apn_power_w,
            kc.DCI_OPTICAL_POWER_W.name: self.optical_power_w,
            kc.DCI_IP_POWER_W.name: self.ip_power_w,
            kc.DCI_LATENCY_SAVING_MEAN_MS.name: float(np.mean(ip_lat - lat)) if lat.size else 0.0,
        }


def plan_dci(
    scenario: Scenario,
    backbone: Backbone,
    site_lat_deg: npt.ArrayLike,
    site_lon_deg: npt.ArrayLike,
) -> DciPlan:
    """Plan the scenario's DCI lightpaths and cost each against IP hops (see module doc)."""
    sc = scenario
    eq = sc.optical.equipment
    dci = sc.optical.dci
    fibre = sc.optical.operators[0].fibre
    sites = sc.compute.sites
    lat = np.asarray(site_lat_deg, dtype=np.float64)
    lon = np.asarray(site_lon_deg, dtype=np.float64)
    pairs = dci_pairs([s.kind for s in sites], lat, lon, dci.pairs)
    home, home_d = nearest_homes(lat, lon, backbone, k=1)
    home, metro_km = home[:, 0], np.maximum(home_d[:, 0] * sc.optical.metro_route_factor, 100.0)
    metro_km = metro_km / 1e3
    names = np.asarray(backbone.node_name).astype(str)
    a, b = pairs[:, 0], pairs[:, 1]
    same_home = home[a] == home[b]
    routed = np.flatnonzero(~same_home)
    plan = plan_interdomain_lightpaths(
        backbone,
        names[home[a[routed]]].tolist(),
        names[home[b[routed]]].tolist(),
        np.full(routed.size, dci.bit_rate_bps),
        policy=dci.spectrum_policy,
        n_slots=dci.slots_per_fibre,
        margin_db=dci.margin_db,
    )

    m = pairs.shape[0]
    reason = np.full(m, "", dtype=object)
    operators = np.full(m, "", dtype=object)
    path = np.full(m, "", dtype=object)
    modulation = np.full(m, "", dtype=object)
    hops = np.zeros(m, dtype=np.int64)
    first = np.full(m, -1, dtype=np.int64)
    width = np.zeros(m, dtype=np.int64)
    gsnr = np.full(m, np.nan)
    margin = np.full(m, np.nan)
    backbone_km = np.zeros(m)
    amps = np.zeros(m)
    # Amplifiers of each backbone link, looked up by its (unordered) node pair; parallel links
    # are never both on a path, the shortest is taken.
    key = np.minimum(backbone.src, backbone.dst) * names.size + np.maximum(
        backbone.src, backbone.dst
    )
    order = np.lexsort((backbone.length_m, key))
    first_of = dict(zip(key[order][::-1].tolist(), order[::-1].tolist(), strict=True))
    index = {n: i for i, n in enumerate(names)}
    reasons = plan.reason_text
    for j, i in enumerate(routed):
        if plan.reason[j] != 0:
            reason[i] = reasons[j]
            continue
        nodes = [index[n] for n in plan.path[j]]
        links = [first_of[min(u, v) * names.size + max(u, v)] for u, v in itertools.pairwise(nodes)]
        hops[i] = len(links)
        amps[i] = float(np.sum(backbone.amplifiers[links]))
        backbone_km[i] = float(plan.length_km[j])
        operators[i] = " → ".join(plan.operators[j])
        path[i] = " → ".join(plan.path[j])
        modulation[i] = plan.modulation[j]
        first[i], width[i] = int(plan.first_slot[j]), int(plan.width_slots[j])
        gsnr[i], margin[i] = float(plan.gsnr_db[j]), float(plan.margin_db[j])
    # Co-homed sites: a metro lightpath with no backbone hop (one ROADM, both ends on it).
    for i in np.flatnonzero(same_home):
        hops[i] = 1
        operators[i] = str(backbone.node_operator[home[a[i]]])
        path[i] = names[home[a[i]]]
        modulation[i] = "metro"
    length_km = backbone_km + metro_km[a] + metro_km[b]
    metro_amps = np.maximum(np.ceil(metro_km / fibre.span_length_km) - 1.0, 0.0)
    amps = amps + metro_amps[a] + metro_amps[b]

    ok = reason == ""
    cmp = compare_apn_ip(
        np.full(m, dci.bit_rate_bps),
        length_km * 1e3,
        np.maximum(hops, 1),
        amps,
        transceiver_rate_bps=eq.transceiver_rate_bps,
        transceiver_power_w=eq.transceiver_power_w,
        amplifier_power_w=eq.amplifier_power_w,
        roadm_degree_power_w=eq.roadm_degree_power_w,
        router_power_w_per_bps=eq.router_power_w_per_gbps / 1e9,
        router_delay_s=eq.router_hop_delay_s,
        spectrum_share_per_lightpath=width / dci.slots_per_fibre,
        roadm_delay_s=eq.roadm_delay_s,
        packet_bytes=eq.ip_packet_bytes,
        utilisation=eq.ip_port_utilisation,
        group_index=fibre.group_index,
    )
    nan = np.where(ok, 1.0, np.nan)
    site_names = np.array([s.name for s in sites])
    columns: dict[str, npt.NDArray[Any]] = {
        "src": site_names[a],
        "dst": site_names[b],
        "src_roadm": names[home[a]],
        "dst_roadm": names[home[b]],
        "operators": operators.astype(str),
        "path": path.astype(str),
        "hops": hops,
        "length_km": np.where(ok, length_km, np.nan),
        "bit_rate_bps": np.full(m, dci.bit_rate_bps),
        "modulation": modulation.astype(str),
        "first_slot": first,
        "width_slots": width,
        "gsnr_db": gsnr,
        "margin_db": margin,
        "latency_ms": cmp.apn_latency_s * 1e3 * nan,
        "ip_latency_ms": cmp.ip_latency_s * 1e3 * nan,
        "power_w": cmp.apn_power_w * nan,
        "ip_power_w": cmp.ip_power_w * nan,
        "w_per_gbps": cmp.apn_w_per_gbps * nan,
        "ip_w_per_gbps": cmp.ip_w_per_gbps * nan,
        "reason": reason.astype(str),
    }
    return DciPlan(
        columns=columns,
        apn_power_w=float(np.sum(cmp.apn_power_w[ok])),
        ip_power_w=float(np.sum(cmp.ip_power_w[ok])),
        # Transceivers and line share only: the end routers are the DCs' own equipment.
        optical_power_w=float(
            np.sum(cmp.apn_power_w[ok])
            - 2.0 * dci.bit_rate_bps * eq.router_power_w_per_gbps / 1e9 * ok.sum()
        ),
    )
