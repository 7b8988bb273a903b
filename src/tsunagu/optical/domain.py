"""The optical (APN) domain object: operators' backbones as node and link tables.

This layer holds parameters and calls model functions; it contributes rows to the network
state (ROADM nodes, fibre links with amplifier sites, interconnection links between operators,
metro fibre that homes other nodes onto the backbone). It never imports another domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu.errors import DataError, ScenarioError
from tsunagu.geo import great_circle_m
from tsunagu.optical.capacity import FibreCapacity, fibre_link_capacity, shipped_modes
from tsunagu.optical.topology import load_topology
from tsunagu.scenario.schema import FibreParameters, OpticalSection

__all__ = [
    "Backbone",
    "amplifier_count",
    "build_backbone",
    "fibre_capacity",
    "ip_capacity",
    "nearest_homes",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def amplifier_count(length_km: npt.ArrayLike, span_length_km: float) -> IntArray:
    """In-line amplifier sites on a fibre link: ``ceil(L / span) − 1`` (≥ 0).

    The booster and pre-amplifier at the ROADMs are counted with the ROADM degree.
    """
    length = np.asarray(length_km, dtype=np.float64)
    return np.maximum(np.ceil(length / span_length_km) - 1.0, 0.0).astype(np.int64)


@dataclass(frozen=True)
class Backbone:
    """The optical backbone of all operators, as flat columns.

    Node ``i`` is named ``"<operator>:<city>"``. Links are undirected fibre pairs.
    """

    node_name: npt.NDArray[np.str_]
    node_operator: npt.NDArray[np.str_]
    lat_deg: FloatArray
    lon_deg: FloatArray
    node_power_w: FloatArray
    src: IntArray
    dst: IntArray
    length_m: FloatArray
    group_index: FloatArray
    amplifiers: IntArray
    link_power_w: FloatArray
    link_operator: npt.NDArray[np.str_]
    link_kind: npt.NDArray[np.str_]
    capacity_bps: FloatArray
    port_limited: npt.NDArray[np.bool_]  # the router ports, not the optics, bound capacity_bps


def fibre_capacity(
    section: OpticalSection,
    length_km: npt.ArrayLike,
    wavelengths: npt.ArrayLike,
    fibre: FibreParameters,
) -> FibreCapacity:
    """QoT-based capacity of fibre links (:func:`tsunagu.optical.capacity.fibre_link_capacity`)
    with the section's transceiver modes and line system and the links' fibre parameters."""
    eq = section.equipment
    try:
        modes = shipped_modes(eq.transceiver_modes)
    except DataError as exc:
        raise ScenarioError(f"optical.equipment.transceiver_modes: {exc}") from None
    return fibre_link_capacity(
        length_km,
        np.asarray(wavelengths, dtype=np.int64),
        modes,
        margin_db=eq.system_margin_db,
        span_length_km=fibre.span_length_km,
        launch_power_dbm=eq.launch_power_dbm,
        amp_noise_figure_db=eq.amplifier_noise_figure_db,
        loss_db_per_km=fibre.loss_db_per_km,
        roadm_osnr_01nm_db=eq.roadm_osnr_db,
    )


def ip_capacity(
    optical_bps: npt.ArrayLike, ports: npt.ArrayLike, port_rate_bps: float
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """IP capacity of links where routers groom traffic onto the optics, and where the ports
    bind: ``min(optical capacity, ports × port rate)``.

    >>> cap, ports_bind = ip_capacity([25.6e12, 1.0e12], [16, 16], 100e9)
    >>> cap.tolist(), ports_bind.tolist()
    ([1600000000000.0, 1000000000000.0], [True, False])
    """
    opt = np.asarray(optical_bps, dtype=np.float64)
    port_bps = np.asarray(ports, dtype=np.float64) * port_rate_bps
    return np.asarray(np.minimum(opt, port_bps), dtype=np.float64), np.asarray(port_bps < opt)


def _ports(ports: int | None) -> float:
    """Router ports per link as set; unset, unlimited (the router port is the wavelength's
    coherent pluggable, IP over DWDM, so the optics bind)."""
    return np.inf if ports is None else float(ports)


def build_backbone(section: OpticalSection) -> Backbone:
    """Build every operator's topology and the interconnection links between operators."""
    eq = section.equipment
    names: list[npt.NDArray[np.str_]] = []
    ops: list[npt.NDArray[np.str_]] = []
    lat: list[FloatArray] = []
    lon: list[FloatArray] = []
    src: list[IntArray] = []
    dst: list[IntArray] = []
    length_km: list[FloatArray] = []
    gi: list[FloatArray] = []
    amps: list[IntArray] = []
    lop: list[npt.NDArray[np.str_]] = []
    kind: list[npt.NDArray[np.str_]] = []
    cap: list[FloatArray] = []
    ports: list[FloatArray] = []
    offset = 0
    for op in section.operators:  # one QoT evaluation per operator (its fibre and line system)
        topo = load_topology(op.topology)
        names.append(np.char.add(f"{op.name}:", topo.node_name.astype(str)))
        ops.append(np.full(topo.n_nodes, op.name))
        lat.append(topo.lat_deg)
        lon.append(topo.lon_deg)
        src.append(topo.src + offset)
        dst.append(topo.dst + offset)
        km = topo.length_km * op.route_factor
        length_km.append(km)
        gi.append(np.full(topo.n_links, op.fibre.group_index))
        amps.append(amplifier_count(km, op.fibre.span_length_km))
        lop.append(np.full(topo.n_links, op.name))
        kind.append(np.full(topo.n_links, "backbone"))
        cap.append(fibre_capacity(section, km, op.provisioned_wavelengths, op.fibre).capacity_bps)
        ports.append(np.full(topo.n_links, _ports(op.ip_ports_per_link)))
        offset += topo.n_nodes

    node_name = np.concatenate(names)
    node_operator = np.concatenate(ops)
    lat_deg = np.concatenate(lat)
    lon_deg = np.concatenate(lon)

    # Interconnection points: every pair of nodes of different operators within the distance.
    d_m = great_circle_m(lat_deg[:, None], lon_deg[:, None], lat_deg[None, :], lon_deg[None, :])
    iu, ju = np.triu_indices(node_name.size, k=1)
    pair_d = d_m[iu, ju]
    ok = (node_operator[iu] != node_operator[ju]) & (pair_d <= section.interconnect_max_km * 1e3)
    ix_km = np.maximum(pair_d[ok] * section.metro_route_factor / 1e3, 0.1)
    src.append(iu[ok].astype(np.int64))
    dst.append(ju[ok].astype(np.int64))
    length_km.append(ix_km)
    gi.append(np.full(ix_km.size, section.operators[0].fibre.group_index))
    amps.append(amplifier_count(ix_km, section.operators[0].fibre.span_length_km))
    lop.append(np.char.add(np.char.add(node_operator[iu[ok]], "|"), node_operator[ju[ok]]))
    kind.append(np.full(ix_km.size, "interconnect"))
    # An interconnect lights the fewer of its two operators' provisioned wavelengths.
    op_name = np.array([op.name for op in section.operators])
    op_w = np.array([op.provisioned_wavelengths for op in section.operators], dtype=np.int64)
    order = np.argsort(op_name)
    node_w = op_w[order[np.searchsorted(op_name[order], node_operator)]]
    ix_w = np.minimum(node_w[iu[ok]], node_w[ju[ok]])
    cap.append(fibre_capacity(section, ix_km, ix_w, section.operators[0].fibre).capacity_bps)
    # ... and the fewer of their router ports.
    op_p = np.array([_ports(op.ip_ports_per_link) for op in section.operators])
    node_p = op_p[order[np.searchsorted(op_name[order], node_operator)]]
    ports.append(np.minimum(node_p[iu[ok]], node_p[ju[ok]]))
    ip_cap, port_limited = ip_capacity(
        np.concatenate(cap), np.concatenate(ports), eq.ip_port_rate_bps
    )

    s = np.concatenate(src)
    t = np.concatenate(dst)
    n_amp = np.concatenate(amps)
    degree = np.bincount(np.concatenate([s, t]), minlength=node_name.size)
    return Backbone(
        node_name=node_name,
        node_operator=node_operator,
        lat_deg=lat_deg,
        lon_deg=lon_deg,
        node_power_w=(degree * eq.roadm_degree_power_w).astype(np.float64),
        src=s,
        dst=t,
        length_m=np.concatenate(length_km) * 1e3,
        group_index=np.concatenate(gi),
        amplifiers=n_amp,
        link_power_w=(n_amp * eq.amplifier_power_w).astype(np.float64),
        link_operator=np.concatenate(lop),
        link_kind=np.concatenate(kind),
        capacity_bps=ip_cap,
        port_limited=port_limited,
    )


def nearest_homes(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    backbone: Backbone,
    k: int = 2,
) -> tuple[IntArray, FloatArray]:
    """The ``k`` nearest backbone nodes of each point (dual homing) and great-circle distances.

    Returns ``(node_index (N, k), distance_m (N, k))`` sorted nearest first.
    """
    la = np.asarray(lat_deg, dtype=np.float64)[:, None]
    lo = np.asarray(lon_deg, dtype=np.float64)[:, None]
    d = great_circle_m(la, lo, backbone.lat_deg[None, :], backbone.lon_deg[None, :])
    k = min(k, backbone.node_name.size)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return idx.astype(np.int64), np.take_along_axis(d, idx, axis=1)
