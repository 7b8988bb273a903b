"""LEO access in the national routing: users enter at their serving satellite, their traffic
rides the gateway feeders (each with its capacity) and the ISLs (each direction's capacity
shared by the download and upload planes), and no ground traffic transits the satellites.

The reference for the capacity is independent of the engine: a maximum flow computed by
``scipy.sparse.csgraph.maximum_flow`` over the step's feeders and ISLs."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra, maximum_flow

from tsunagu.ntn.geometry import elevation_and_range
from tsunagu.orchestrate.policy import get_policy
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Event
from tsunagu.sim.access import build_access_layers
from tsunagu.sim.events import EventSchedule
from tsunagu.sim.stages import STAGES, RunSetup, Step
from tsunagu.sim.twin import Twin

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
#: Feeders and ISLs large enough that the LEO traffic is a visible part of the step's routing
#: cost (the routing stops on a relative gap over all traffic, fibre included).
FEEDER_BPS = 1e11


def _step(isl_pattern: str, isl_capacity_bps: float | None, outage: bool = True) -> Step:
    return _twin_step(isl_pattern, isl_capacity_bps, outage)[1]


@functools.cache
def _twin_step(
    isl_pattern: str,
    isl_capacity_bps: float | None,
    outage: bool = True,
    gateways: int = 1,
    gateway_lat_lon_deg: tuple[float, float] | None = None,
) -> tuple[Twin, Step]:
    """Step 0 at 21 h of the minimal scenario with a 36 × 30 shell (dense enough for ISLs
    between satellites over Japan), no HAPS and, with ``outage``, every RAN site down;
    ``gateway_lat_lon_deg`` moves the scenario's gateway."""
    sc = load_scenario(MINIMAL)
    if gateway_lat_lon_deg is not None:
        lat, lon = gateway_lat_lon_deg
        moved = [sc.ntn.gateways[0].model_copy(update={"lat_deg": lat, "lon_deg": lon})]
        sc = sc.model_copy(update={"ntn": sc.ntn.model_copy(update={"gateways": moved})})
    shell = sc.ntn.constellations[0].model_copy(update={"planes": 36, "sats_per_plane": 30})
    ntn = sc.ntn.model_copy(
        update={
            "haps": [],
            "constellations": [shell],
            "isl_pattern": isl_pattern,
            "isl_capacity_bps": isl_capacity_bps,
            "gateways": [
                g.model_copy(update={"feeder_capacity_bps": FEEDER_BPS}) for g in sc.ntn.gateways
            ]
            # A second gateway near Tokyo where a test needs two.
            + [
                sc.ntn.gateways[0].model_copy(
                    update={
                        "name": "gw-tokyo",
                        "lat_deg": 35.7,
                        "lon_deg": 139.7,
                        "feeder_capacity_bps": FEEDER_BPS,
                    }
                )
            ][: gateways - 1],
        }
    )
    events = (
        [Event(kind="ran_outage", target="all", start_s=0.0, end_s=3600.0, factor=1.0)]
        if outage
        else []
    )
    traffic = sc.traffic.model_copy(update={"scale": 1.0 if outage else 8.0})
    # Routed to a tight equilibrium (the default relative gap, 1e-3, is over all traffic,
    # fibre included, where the LEO part is a few per cent of the cost).
    capacity = sc.capacity.model_copy(
        update={"routing_relative_gap": 1e-6, "routing_iterations": 200}
    )
    twin = Twin(
        sc.model_copy(
            update={"ntn": ntn, "events": events, "traffic": traffic, "capacity": capacity}
        )
    )
    run = RunSetup.build(
        twin,
        get_policy(twin.scenario.policy),
        EventSchedule(twin.scenario.events, twin),
        build_access_layers(twin),
    )
    step = Step(0, 0.0, 21.0)
    for _, stage in STAGES:
        stage(run, step)
    return twin, step


def _to_users_carried_bps(step: Step, sats: npt.ArrayLike | None = None) -> float:
    """Carried rate of every demand that ends at a satellite (towards its users), or at the
    satellites numbered ``sats``."""
    d = step.data
    arcs, res = d["arcs"], d["flow_result"]
    n_pairs = res.demand_offered_bps.size
    dst = np.zeros(n_pairs, dtype=np.int64)
    dst[d["demand_pair"]] = d["demands"].dst
    base = arcs.n_nodes - 2 * arcs.n_sat
    to_sat = (dst >= base) & (dst < base + arcs.n_sat)
    if sats is not None:
        to_sat &= np.isin(dst - base, np.asarray(sats))
    return float(res.demand_carried_bps[to_sat].sum())


def _max_flow_to_users_bps(step: Step) -> float:
    """Max flow from the gateways to the LEO users' satellites over the forward feeders and
    the ISLs (each direction at its full capacity: an upper bound on the download plane)."""
    assert step.network is not None
    assert step.rows is not None
    state = step.network
    links = state.links
    kind = np.asarray(links.extra["kind"], dtype=str)
    use = np.asarray(state.usable(True))
    n = state.n_nodes + 2  # super source, super sink
    s_node, t_node = n - 2, n - 1
    # maximum_flow takes 32-bit integer capacities: in Mb/s (all test capacities are whole
    # Mb/s), "unlimited" above any sum of them.
    big = 2**31 - 1
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    cap: list[np.ndarray] = []
    feeder = np.flatnonzero(use & (kind == "gateway feeder"))
    src += [np.full(feeder.size, s_node)]  # one super source feeding every gateway's feeders
    dst += [np.asarray(links.src)[feeder]]
    cap += [np.full(feeder.size, big * 1e6)]
    src += [np.asarray(links.src)[feeder]]
    dst += [np.asarray(links.dst)[feeder]]
    cap += [np.asarray(links.capacity_bps)[feeder]]
    isl = np.flatnonzero(use & (kind == "isl"))
    for a, b in ((links.src, links.dst), (links.dst, links.src)):
        src += [np.asarray(a)[isl]]
        dst += [np.asarray(b)[isl]]
        cap += [np.asarray(links.capacity_bps)[isl]]
    serving = np.unique(step.rows.node[step.rows.labels == "leo"])
    src += [serving]
    dst += [np.full(serving.size, t_node)]
    cap += [np.full(serving.size, big * 1e6)]
    m = sp.csr_array(
        (
            np.minimum(np.rint(np.concatenate(cap) / 1e6), big).astype(np.int32),
            (np.concatenate(src), np.concatenate(dst)),
        ),
        shape=(n, n),
    )
    m.sum_duplicates()
    m.data = np.minimum(m.data, big).astype(np.int32)
    return float(maximum_flow(m, s_node, t_node).flow_value) * 1e6


def test_leo_users_enter_at_their_satellite_and_feeders_bind() -> None:
    step = _step("none", None)
    assert step.rows is not None
    assert step.network is not None
    leo = step.rows.labels == "leo"
    assert leo.any()
    n_ground = step.network.n_nodes - step.data["arcs"].n_sat
    assert (step.rows.node[leo] >= n_ground).all()  # satellites, not gateways
    loads = step.link_loads
    assert loads is not None
    feeder = np.asarray(loads["resource"].to_pylist()) == "feeder"
    fwd = loads["load_forward_bps"].to_numpy()[feeder]
    assert (fwd <= FEEDER_BPS * (1 + 1e-9)).all()
    # Without ISLs each serving satellite has its own feeder only: what reaches the users is
    # the max flow, the serving satellites' feeders full (downloads far exceed 100 Gb/s).
    carried = _to_users_carried_bps(step)
    bound = _max_flow_to_users_bps(step)
    assert bound == pytest.approx(FEEDER_BPS * np.unique(step.rows.node[leo]).size)
    assert carried == pytest.approx(bound, rel=1e-6)
    assert step.traffic is not None
    tr = step.traffic.to_pandas().set_index("class")
    assert tr.loc["mobile_down", "binding"].startswith("capacity: feeder")
    assert tr.loc["mobile_down", "blocked_network_bps"] > 0


def test_isls_reach_more_feeders_within_the_max_flow() -> None:
    # Without ISLs no routing can carry more to the users than their satellites' own feeders
    # (the max flow of the ISL-free step); with ISLs the users get more than that, and never
    # more than the max flow over feeders and ISLs. (The equilibrium is not a max flow: on
    # this step it reaches 0.85 of the bound, docs/validation.md.)
    alone = _max_flow_to_users_bps(_step("none", None))
    carried_by = {}
    for isl_bps in (1e12, 1e10):
        step = _step("grid", isl_bps)
        carried = _to_users_carried_bps(step)
        assert alone < carried <= _max_flow_to_users_bps(step) * (1 + 1e-9)
        carried_by[isl_bps] = carried
        loads = step.link_loads
        assert loads is not None
        isl = np.asarray(loads["resource"].to_pylist()) == "isl"
        assert isl.any()
        # Both planes of an ISL direction share its capacity.
        for col in ("load_forward_bps", "load_reverse_bps"):
            assert (loads[col].to_numpy()[isl] <= isl_bps * (1 + 1e-9)).all()
    # A thinner laser mesh carries less.
    assert carried_by[1e10] < carried_by[1e12]


#: A gateway at Naha: with it alone, the points of Hokkaido see no satellite the gateway sees.
NAHA = (26.2, 127.7)


def test_points_without_a_bent_pipe_are_served_over_the_isls() -> None:
    # The reference is the geometry itself, from elevation_and_range (brute force over every
    # point and satellite): a point has a bent pipe when some satellite is above the mask of
    # both the point and the gateway. Points with none get no LEO access without ISLs; with
    # the +Grid they are served by their nearest satellite in view, one that the gateway does
    # not see, and their traffic reaches them over the laser mesh.
    twin, alone = _twin_step("none", 1e12, gateway_lat_lon_deg=NAHA)
    _, meshed = _twin_step("grid", 1e12, gateway_lat_lon_deg=NAHA)
    mask_deg = twin.scenario.ntn.constellations[0].min_elevation_deg
    gw_mask_deg = twin.scenario.ntn.gateways[0].min_elevation_deg
    el, rng = elevation_and_range(twin.demand.ecef_m, meshed.sat_ecef_m)
    el_gw, _ = elevation_and_range(twin.gateway_ecef, meshed.sat_ecef_m)
    seen_by_gw = (el_gw >= gw_mask_deg).any(axis=0)
    lone = np.flatnonzero(~((el >= mask_deg) & seen_by_gw).any(axis=1))
    assert 0 < lone.size < twin.demand.name.size
    nearest = np.argmin(np.where(el >= mask_deg, rng, np.inf), axis=1)[lone]
    assert not seen_by_gw[nearest].any()

    n_ground = twin.static.n_nodes
    for step, served in ((alone, False), (meshed, True)):
        assert step.rows is not None
        leo = step.rows.labels == "leo"
        at_lone = leo & np.isin(step.rows.point, lone)
        assert at_lone.any() == served
    assert meshed.rows is not None
    leo = (meshed.rows.labels == "leo") & np.isin(meshed.rows.point, lone)
    sat = meshed.rows.node[leo] - n_ground
    sat_of = dict(zip(meshed.rows.point[leo].tolist(), sat.tolist(), strict=True))
    assert sat_of == dict(zip(lone.tolist(), nearest.tolist(), strict=True))
    # What reaches those satellites came over ISLs (the gateway sees none of them).
    assert _to_users_carried_bps(meshed, np.unique(nearest)) > 0.0
    assert _to_users_carried_bps(alone, np.unique(nearest)) == 0.0


def test_ground_traffic_never_transits_the_satellites() -> None:
    # The RAN is up and the national traffic is eight times the default, so the fibre is
    # full and so are the cells: the people the cells refuse spill over to LEO. The gateway
    # feeders towards the satellites carry exactly the traffic of the demands that end at a
    # satellite (its users), none of the ground traffic that would like the extra capacity.
    step = _step("grid", 1e12, outage=False)
    assert step.rows is not None
    leo = step.rows.labels == "leo"
    assert leo.any()
    assert not step.rows.blocked[leo].all()  # spill-over onto LEO
    loads = step.link_loads
    assert loads is not None
    feeder = np.asarray(loads["resource"].to_pylist()) == "feeder"
    assert feeder.any()
    to_users = _to_users_carried_bps(step)
    assert to_users > 0.0
    assert loads["load_forward_bps"].to_numpy()[feeder].sum() == pytest.approx(to_users, rel=1e-9)
    assert step.traffic is not None
    assert step.traffic.to_pandas()["blocked_network_bps"].sum() > 0


def test_site_distances_never_come_back_from_space() -> None:
    # The latency from the compute sites to every ground node is the shortest path over the
    # ground links alone (scipy's Dijkstra on the usable non-space links, both directions):
    # a path may go up to a satellite but never down again to another ground node.
    twin, step = _twin_step("grid", 1e12, gateways=2)
    state = step.network
    assert state is not None
    links = state.links
    kind = np.asarray(links.extra["kind"], dtype=str)
    use = np.asarray(state.usable(True))
    n0 = twin.static.n_nodes
    src, dst = np.asarray(links.src), np.asarray(links.dst)
    ground = use & (src < n0) & (dst < n0)
    w = np.asarray(links.latency_s, dtype=np.float64)
    g = sp.csr_array(
        (
            np.r_[w[ground], w[ground]],
            (np.r_[src[ground], dst[ground]], np.r_[dst[ground], src[ground]]),
        ),
        shape=(n0, n0),
    )
    expected = dijkstra(g, directed=True, indices=twin.idx_site)
    dist, _ = twin.site_distances(state)
    np.testing.assert_allclose(dist[:, :n0], expected, rtol=1e-12)
    # Cut every ground link of one of the two gateways: the other's feeders still reach the
    # satellites, but nothing comes back down from them to the first.
    feeder = np.flatnonzero(use & (kind == "gateway feeder"))
    gw = int(src[feeder[0]])
    assert gw < n0
    cut = (kind != "gateway feeder") & ((src == gw) | (dst == gw))
    assert cut.any()
    isolated = state.with_up(link_up=np.asarray(links.up) & ~cut)
    dist, _ = twin.site_distances(isolated)
    assert np.isinf(dist[:, gw]).all()
    assert np.isfinite(dist[:, n0:]).any()  # the satellites are still reached
