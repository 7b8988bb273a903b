"""What the orchestrator sees of the twin at one instant: access options, paths and sites.

:func:`view_from_twin` turns a :class:`~tsunagu.sim.twin.Twin` and a network state (events
applied) into dense arrays over demand points × access technologies × compute sites:

* access: terrestrial RAN (the point's cells, if up), HAPS (nearest platform whose footprint
  covers the point) and LEO direct-to-device (the satellite of the shortest bent pipe), each
  with its one-way air/feeder latency, equipment delay and per-user rate;
* transport: the lowest-latency packet path over the network state from the access node (the
  point's central office, the HAPS platform, or the LEO satellite) to each compute site, by
  :meth:`tsunagu.sim.twin.Twin.site_distances` (no transit through satellites), and the
  path's availability (product of its links' ``availability``);
* the geometry floor: the straight-line (chord) distance from the point to each site at the
  speed of light in vacuum — no path of any technology can beat it;
* sites: GPUs, usable GPU capacity, board power, PUE, grid carbon intensity, ``up``.

Everything is computed once per instant and shared by intents, admission and planning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsunagu.constants import C_M_PER_S
from tsunagu.errors import ScenarioError
from tsunagu.net.paths import walk
from tsunagu.net.tables import NetworkState
from tsunagu.sim.access import AccessContext, access_names, build_access_layers
from tsunagu.sim.twin import Twin

__all__ = ["ACCESS_TECHNOLOGIES", "NetworkView", "view_from_twin"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The built-in access technologies, in the order of the second axis of every (P, A, ...)
#: array; a view built after more are registered lists them all in ``NetworkView.access_names``.
ACCESS_TECHNOLOGIES: tuple[str, ...] = access_names()


@dataclass(frozen=True)
class NetworkView:
    """Dense per-instant arrays the orchestrator decides on (P points, A=3 access, S sites).

    Attributes
    ----------
    time_s : float
    point_name : (P,) demand-point names.
    site_name : (S,) compute-site names.
    access_ok : (P, A) the technology offers service at the point now.
    access_rate_bps : (P, A) per-user rate of the access link (0 where unavailable).
    one_way_s : (P, A, S) one-way latency, access + transport, point → site; ``inf`` where no
        path exists or the site is down.
    availability : (P, A, S) long-run availability of access × transport path × site.
    geometry_floor_s : (P, S) one-way chord distance / c (vacuum), the physical floor.
    distance_km : (P, S) chord distance point → site.
    site_up : (S,) site reachable and powered.
    site_gpus, site_capacity_gpu, site_gpu_power_w, site_pue, site_carbon_g_per_kwh : (S,)
        GPUs, usable GPU-seconds per second (GPUs × utilisation cap × up), board power (W),
        PUE, grid carbon intensity (g CO2-eq/kWh).
    site_cost_per_gpu_hour : (S,) price per GPU-hour, or ``None`` when the sites have none.
    """

    time_s: float
    access_names: tuple[str, ...]
    point_name: npt.NDArray[np.str_]
    site_name: npt.NDArray[np.str_]
    access_ok: BoolArray
    access_rate_bps: FloatArray
    one_way_s: FloatArray
    availability: FloatArray
    geometry_floor_s: FloatArray
    distance_km: FloatArray
    site_up: BoolArray
    site_gpus: FloatArray
    site_capacity_gpu: FloatArray
    site_gpu_power_w: FloatArray
    site_pue: FloatArray
    site_carbon_g_per_kwh: FloatArray
    site_cost_per_gpu_hour: FloatArray | None = None

    @property
    def n_points(self) -> int:
        return int(self.point_name.size)

    @property
    def n_sites(self) -> int:
        return int(self.site_name.size)

    def point_index(self, names: npt.ArrayLike) -> IntArray:
        """Indices of demand points by name (first match); the error lists close names."""
        wanted = np.atleast_1d(np.asarray(names).astype(str))
        order = np.argsort(self.point_name, kind="stable")
        pos = np.searchsorted(self.point_name[order], wanted)
        pos = np.minimum(pos, order.size - 1)
        idx = order[pos]
        bad = self.point_name[idx] != wanted
        if bad.any():
            import difflib

            miss = str(wanted[bad][0])
            close = difflib.get_close_matches(miss, self.point_name.tolist(), n=3)
            raise ScenarioError(
                f"unknown demand point {miss!r}; close names: {close or 'none'} "
                f"({self.n_points} points in the twin)"
            )
        return np.asarray(idx, dtype=np.int64)


def _path_log_availability(
    pred: IntArray,
    sources: IntArray,
    targets: IntArray,
    state: NetworkState,
) -> FloatArray:
    """Sum of ``log(availability)`` over the links of each source → target path, (S, T).

    All (source, target) pairs are walked at once (:func:`tsunagu.net.paths.walk`);
    unreachable pairs get ``-inf``.
    """
    n_s, n_t = sources.size, targets.size
    log_link = np.log(np.maximum(np.asarray(state.links.availability, dtype=np.float64), 1e-300))
    w = walk(
        pred,
        sources,
        np.tile(targets, n_s),
        rows=np.repeat(np.arange(n_s), n_t),
        lookup=state.link_lookup("latency_s"),
    )
    return np.where(w.reachable, w.sum(log_link), -np.inf).reshape(n_s, n_t)


def view_from_twin(
    twin: Twin,
    time_s: float = 0.0,
    state: NetworkState | None = None,
    ran_up: npt.ArrayLike | None = None,
    access_availability: npt.ArrayLike = 1.0,
    site_availability: npt.ArrayLike = 1.0,
) -> NetworkView:
    """Build the orchestrator's view of ``twin`` at ``time_s``.

    Parameters
    ----------
    twin : Twin
    time_s : float
        Simulation time (s); satellites are placed at this instant.
    state : NetworkState, optional
        The network state with events applied (``twin.state(time_s)`` when omitted).
    ran_up : (P,) bool, optional
        Terrestrial RAN in service at each point (default: the point's node is up).
    access_availability : float or (A,) or (P, A)
        Long-run availability of each access technology (1: outages not modelled).
    site_availability : float or (S,)
        Long-run availability of each compute site (1: outages not modelled).
    """
    sc = twin.scenario
    sat_all, owner = twin.satellites_ecef(time_s)
    sat_ecef = sat_all[0]
    st = state if state is not None else twin.state(float(time_s), sat_ecef)
    n_p = twin.demand.name.size
    n_s = twin.idx_site.size
    node_up = np.asarray(st.nodes.up)

    # ---- access: the same registered layers the engine uses (tsunagu.sim.access) ---------
    ran_down = np.zeros(n_p)
    if ran_up is not None:
        ran_down = np.where(np.asarray(ran_up, dtype=bool), 0.0, 1.0)
    layers = build_access_layers(twin)
    names = tuple(layer.name for layer in layers)
    n_a = len(layers)
    ctx = AccessContext(
        time_s=float(time_s),
        state=st,
        reachable=np.ones(st.n_nodes, dtype=bool),  # the view keeps unreachable sites as inf
        sat_ecef_m=sat_ecef,
        sat_owner=owner,
        ran_share_down=ran_down,
        ntn_blocked=np.zeros(n_p, dtype=bool),
        pending=np.ones(n_p, dtype=bool),
    )
    opts = [layer.at(ctx) for layer in layers]
    access_node = np.stack([o.node for o in opts], axis=1)
    access_s = np.stack([o.one_way_s + o.equipment_s for o in opts], axis=1)
    access_ok = np.stack([o.ok & np.isfinite(o.one_way_s) for o in opts], axis=1)
    rate = np.where(access_ok, np.stack([o.rate_bps for o in opts], axis=1), 0.0)

    # ---- transport -----------------------------------------------------------------------
    site_up = node_up[twin.idx_site].copy()
    dist, pred = twin.site_distances(st)
    targets, inverse = np.unique(access_node, return_inverse=True)
    log_path = _path_log_availability(pred, twin.idx_site, targets, st)  # (S, T)
    transport = dist[:, targets][:, inverse.reshape(n_p, n_a)]  # (S, P, A)
    one_way = access_s[:, :, None] + np.moveaxis(transport, 0, -1)  # (P, A, S)
    one_way = np.where(access_ok[:, :, None] & site_up[None, None, :], one_way, np.inf)
    a_acc = np.broadcast_to(np.asarray(access_availability, dtype=np.float64), (n_p, n_a))
    a_site = np.broadcast_to(np.asarray(site_availability, dtype=np.float64), (n_s,))
    if np.any(~((a_acc >= 0) & (a_acc <= 1))) or np.any(~((a_site >= 0) & (a_site <= 1))):
        raise ScenarioError("availabilities are fractions in [0, 1] (0.999, not 99.9)")
    path_a = np.exp(log_path[:, inverse.reshape(n_p, n_a)])  # (S, P, A)
    availability = a_acc[:, :, None] * np.moveaxis(path_a, 0, -1) * a_site[None, None, :]

    # ---- geometry floor ------------------------------------------------------------------
    site_lat = np.array([s.lat_deg for s in sc.compute.sites])
    site_lon = np.array([s.lon_deg for s in sc.compute.sites])
    from tsunagu.geo import geodetic_to_ecef

    sx, sy, sz = geodetic_to_ecef(site_lat, site_lon, 0.0)
    site_ecef = np.stack([sx, sy, sz], axis=-1)
    chord_m = np.linalg.norm(twin.demand.ecef_m[:, None, :] - site_ecef[None, :, :], axis=-1)

    prices = [s.cost_per_gpu_hour for s in sc.compute.sites]
    cost = np.array(prices, dtype=np.float64) if all(p is not None for p in prices) else None
    return NetworkView(
        time_s=float(time_s),
        access_names=names,
        point_name=twin.demand.name,
        site_name=np.array([s.name for s in sc.compute.sites]),
        access_ok=access_ok,
        access_rate_bps=rate,
        one_way_s=one_way,
        availability=availability,
        geometry_floor_s=chord_m / C_M_PER_S,
        distance_km=chord_m / 1e3,
        site_up=site_up,
        site_gpus=twin.site_gpus.copy(),
        site_capacity_gpu=twin.site_gpus * sc.compute.max_utilisation * site_up,
        site_gpu_power_w=twin.site_gpu_power_w.copy(),
        site_pue=twin.site_pue.copy(),
        site_carbon_g_per_kwh=twin.site_carbon_g_per_kwh.copy(),
        site_cost_per_gpu_hour=cost,
    )
