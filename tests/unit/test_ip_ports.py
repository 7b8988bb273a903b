"""Router ports where traffic is groomed: a fibre link's IP capacity is min(its optical
capacity, ports × port rate), and where the ports bind the run names them.

Closed form written out here: 2 ports of 100GbE (IEEE 802.3ba) on each backbone link give
200 Gb/s, below every JPN12 link's optical capacity (64 wavelengths × 100-400 Gb/s).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from tsunagu.optical.domain import fibre_capacity, ip_capacity
from tsunagu.scenario import load_scenario
from tsunagu.scenario.schema import Scenario, Timeline
from tsunagu.sim.engine import run_twin
from tsunagu.sim.kpis import RunResult
from tsunagu.sim.twin import Twin

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"


def test_ip_capacity_is_the_smaller_of_optics_and_ports() -> None:
    cap, bind = ip_capacity([25.6e12, 150e9, 0.0], [2, 2, 2], 100e9)
    np.testing.assert_array_equal(cap, [200e9, 150e9, 0.0])
    np.testing.assert_array_equal(bind, [True, False, False])


@functools.cache
def _scenario(ports: int | None) -> Scenario:
    sc = load_scenario(MINIMAL)
    optical = sc.optical
    ops = [o.model_copy(update={"ip_ports_per_link": ports}) for o in optical.operators]
    eq = optical.equipment.model_copy(update={"ip_port_rate_bps": 100e9})
    tl = Timeline(start_hour_local=21.0, duration_s=3600.0, step_s=3600.0, seed=1)
    return sc.model_copy(
        update={
            "optical": optical.model_copy(update={"operators": ops, "equipment": eq}),
            "timeline": tl,
        }
    )


@functools.cache
def _run(ports: int | None) -> RunResult:
    return run_twin(Twin(_scenario(ports)))


def _backbone(twin: Twin) -> np.ndarray:
    kind = np.asarray(twin.static.links.extra["kind"])
    return np.asarray(twin.static.links.capacity_bps)[kind == "backbone"]


def test_ports_cap_every_backbone_link_and_leave_the_rest() -> None:
    optical = _backbone(Twin(_scenario(None)))  # no port limit: the optics bind
    assert (optical > 200e9).all()
    ported = Twin(_scenario(2))
    np.testing.assert_array_equal(_backbone(ported), np.full(optical.size, 200e9))
    kind = np.asarray(ported.static.links.extra["kind"])
    limited = np.asarray(ported.static.links.extra["port_limited"])
    assert limited[kind == "backbone"].all()
    assert not limited[kind == "metro"].any()  # metro ports unset: no limit


def test_default_ports_leave_the_optical_capacity_unchanged() -> None:
    """Ports unset (the default): the optics bind on every link, capacities as before."""
    sc = load_scenario(MINIMAL)
    twin = Twin(sc)
    assert not np.asarray(twin.static.links.extra["port_limited"]).any()
    links = twin.static.links
    kind = np.asarray(links.extra["kind"])
    op = sc.optical.operators[0]
    km = np.asarray(links.length_m)[kind == "backbone"] / 1e3
    optical = fibre_capacity(sc.optical, km, op.provisioned_wavelengths, op.fibre).capacity_bps
    np.testing.assert_array_equal(_backbone(twin), optical)


def test_the_run_blocks_at_the_ports_and_names_them() -> None:
    res = _run(2)
    ll = res.link_loads.to_pandas()
    bb = ll[ll.resource == "ip ports"]
    assert len(bb) > 0
    assert (bb.capacity_bps == 200e9).all()
    assert (ll.load_forward_bps <= ll.capacity_bps * (1 + 1e-9)).all()
    assert (ll.load_reverse_bps <= ll.capacity_bps * (1 + 1e-9)).all()
    tr = res.traffic.to_pandas().set_index("class")
    assert tr.binding["fixed_down"].startswith("capacity: ip ports ")
    np.testing.assert_allclose(
        tr.offered_bps, tr.carried_bps + tr.blocked_bps, rtol=1e-12, atol=1e-3
    )
    # The named link is full (to the allocation's tolerance) in some direction.
    a, b = tr.binding["fixed_down"].removeprefix("capacity: ip ports ").split("→")
    row = ll[((ll.src == a) & (ll.dst == b)) | ((ll.src == b) & (ll.dst == a))]
    assert float(row.utilisation.max()) == pytest.approx(1.0, abs=1e-6)
    # Less is carried than with the optics alone.
    assert tr.carried_bps.sum() < _run(None).traffic.to_pandas().carried_bps.sum()
