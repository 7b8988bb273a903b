"""Multi-operator APN: abstraction between operators, end-to-end QoT and spectrum continuity."""

from __future__ import annotations

import dataclasses
import gc
import math
from typing import Any

import numpy as np
import pytest

from tsunagu.errors import DataError
from tsunagu.optical.domain import build_backbone
from tsunagu.optical.multidomain import (
    DomainView,
    InterconnectLink,
    MultiOperatorApn,
    Operator,
    SegmentOffer,
    coherent_formats,
    link_nsr_gn,
    plan_interdomain_lightpaths,
)
from tsunagu.optical.rmsa import NO_MODULATION, NO_PATH, NO_SPECTRUM, SERVED
from tsunagu.scenario.loader import load_scenario


def _two_operators(
    nsr_a: float = 1e-3, nsr_b: float = 2e-3, nsr_ix: float = 5e-4, n_slots: int = 24
) -> MultiOperatorApn:
    # A: a0 - a1 - a2 (a1 internal), border a2; B: b0 - b1 - b2 - b0 (ring), border b0
    a = Operator(
        "A",
        ["a0", "a1", "a2"],
        [0, 1],
        [1, 2],
        [300.0, 200.0],
        [nsr_a, nsr_a],
        ["a2"],
        n_slots=n_slots,
    )
    b = Operator(
        "B",
        ["b0", "b1", "b2"],
        [0, 1, 2],
        [1, 2, 0],
        [400.0, 100.0, 900.0],
        [nsr_b, nsr_b, nsr_b],
        ["b0"],
        n_slots=n_slots,
    )
    ix = InterconnectLink("a2", "b0", "A", "B", 10.0, nsr_ix)
    return MultiOperatorApn([a, b], [ix], margin_db=0.0, tx_osnr_01nm_db=math.inf)


def _strings_and_objects(obj: Any, out: list[Any]) -> None:
    out.append(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            _strings_and_objects(getattr(obj, f.name), out)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _strings_and_objects(k, out)
            _strings_and_objects(v, out)
    elif isinstance(obj, tuple | list):
        for v in obj:
            _strings_and_objects(v, out)


def test_a_view_holds_only_public_data() -> None:
    apn = _two_operators()
    b = apn._ops["B"]
    view = b.export_view(["b2"])
    assert isinstance(view, DomainView)
    assert {f.name for f in dataclasses.fields(view)} == {
        "operator",
        "border_nodes",
        "endpoints",
        "n_slots",
        "offers",
    }
    assert {f.name for f in dataclasses.fields(SegmentOffer)} == {
        "operator",
        "ingress",
        "egress",
        "length_km",
        "nsr_linear",
        "free_mask",
        "token",
    }
    everything: list[Any] = []
    _strings_and_objects(view, everything)
    # only plain values: no arrays, no topology, no operator object anywhere inside
    assert all(
        isinstance(x, str | int | float | tuple | dict | DomainView | SegmentOffer)
        for x in everything
    )
    names = {x for x in everything if isinstance(x, str)}
    assert "b1" not in names  # the internal node the b0 -> b2 segments pass through
    assert names <= {"B", "b0", "b2"}
    assert not any(r is b for r in gc.get_referents(view))
    assert view.offers[("b0", "b2")][0].length_km == pytest.approx(500.0)  # via b1, not 900


class _ViewOnly:
    """A peer as the planner may see it: anything but the view interface raises."""

    def __init__(self, op: Operator) -> None:
        self._op = op
        self.name = op.name
        self.n_slots = op.n_slots

    def has_node(self, node: str) -> bool:
        return self._op.has_node(node)

    def export_view(self, endpoints: Any = (), *, towards: str | None = None) -> DomainView:
        return self._op.export_view(endpoints, towards=towards)

    def __getattr__(self, item: str) -> Any:
        raise AssertionError(f"the planner reached into the peer operator: .{item}")


def test_planning_for_a_reaches_b_only_through_its_view() -> None:
    apn = _two_operators()
    apn._ops["B"] = _ViewOnly(apn._ops["B"])  # type: ignore[assignment]
    chains = apn._chains("a0", "b2")
    assert chains
    assert {o.operator for c in chains for o in c.offers} == {"A", "B"}


def test_end_to_end_gsnr_adds_noise_to_signal_ratios() -> None:
    apn = _two_operators()
    plan = apn.plan(["a0"], ["b2"], [100e9])
    assert plan.reason.tolist() == [SERVED]
    # a0-a1-a2 (2 × 1e-3), interconnect 5e-4, b0-b1-b2 (2 × 2e-3): 1/GSNR adds linearly
    expected = -10 * math.log10(2e-3 + 5e-4 + 4e-3)
    assert plan.gsnr_db[0] == pytest.approx(expected, abs=1e-9)
    assert plan.path[0] == ("a0", "a1", "a2", "b0", "b1", "b2")
    assert plan.operators[0] == ("A", "B")
    assert plan.length_km[0] == pytest.approx(300 + 200 + 10 + 400 + 100)
    # GSNR 21.9 dB: the densest format whose threshold it meets (DP-64QAM needs 21.1 dB)
    assert plan.modulation[0] == "DP-64QAM"
    assert plan.margin_db[0] == pytest.approx(expected - 21.12, abs=0.01)


def test_spectrum_is_continuous_across_domains_until_full() -> None:
    apn = _two_operators(n_slots=12)
    # 100G DP-64QAM: ceil(100 / (10 × 12.5)) + 1 = 2 units -> 6 lightpaths fill 12 units
    plan = apn.plan(["a0"] * 7, ["b2"] * 7, [100e9] * 7)
    assert plan.reason.tolist() == [SERVED] * 6 + [NO_SPECTRUM]
    assert plan.first_slot[:6].tolist() == [0, 2, 4, 6, 8, 10]
    # the same units are taken in A, on the interconnect and in B
    assert apn._ops["A"].utilisation() == 1.0
    assert apn.interconnects[0].occupied == (1 << 12) - 1
    b = apn._ops["B"]
    assert b.export_view(towards="b2").offers[("b0", "b2")][0].free_mask == 0
    # the long way round B (900 km) is still free, but there is no free unit at the border
    assert b.export_view(towards="b2").offers[("b0", "b2")][1].free_mask == (1 << 12) - 1


def test_blocking_reasons() -> None:
    noisy = _two_operators(nsr_b=0.5)  # GSNR < 0 dB: no format can close the path
    assert noisy.plan(["a0"], ["b2"], [100e9]).reason.tolist() == [NO_MODULATION]
    apn = _two_operators()
    lonely = Operator("C", ["c0", "c1"], [0], [1], [10.0], [1e-4], [], n_slots=24)
    apn3 = MultiOperatorApn(
        [apn._ops["A"], apn._ops["B"], lonely], apn.interconnects, tx_osnr_01nm_db=math.inf
    )
    res = apn3.plan(["a0", "c0", "a0"], ["c1", "a0", "a0"], [1e9] * 3)
    assert res.reason.tolist() == [NO_PATH, NO_PATH, NO_PATH]
    assert res.reason_text[0] == "no path"
    with pytest.raises(DataError, match="no operator owns"):
        apn.plan(["a0"], ["zz"], [1e9])
    with pytest.raises(DataError, match="border nodes"):
        Operator("X", ["x"], [], [], [], [], ["y"])
    with pytest.raises(DataError, match="interconnect end"):
        MultiOperatorApn([lonely], [InterconnectLink("c0", "q", "C", "Q", 1.0, 0.0)])


def test_link_noise_grows_with_length() -> None:
    nsr = link_nsr_gn([0.0, 80.0, 160.0, 800.0, 1600.0])
    assert np.all(np.diff(nsr) > 0)
    # in-line amplified spans: ten spans add about ten times the noise of one
    assert nsr[4] / nsr[3] == pytest.approx(2.0, rel=0.1)


def test_coherent_formats_size_400zr_in_75_ghz() -> None:
    dp16 = next(f for f in coherent_formats() if f.name == "DP-16QAM")
    # 400 Gb/s at 2 × 4 / 1.2 b/s/Hz: 5 units + 1 guard = 6 × 12.5 GHz = 75 GHz
    assert math.ceil(400e9 / (dp16.spectral_efficiency_bps_per_hz * 12.5e9)) + 1 == 6


def test_japan_2030_dci_lightpaths_cross_operators() -> None:
    bb = build_backbone(load_scenario("japan-2030").optical)
    src = ["A:Tokyo", "A:Sapporo", "B:Osaka DC", "B:Tokyo DC1"]
    dst = ["B:Osaka DC", "B:Tokyo DC1", "A:Sendai", "B:Fukuoka DC"]
    plan = plan_interdomain_lightpaths(bb, src, dst, [400e9] * 4)
    assert plan.reason.tolist() == [SERVED] * 4
    names = bb.node_name.astype(str).tolist()
    joined = {(names[a], names[b]) for a, b in zip(bb.src, bb.dst, strict=True)}
    joined |= {(b, a) for a, b in joined}
    for i in range(4):
        path = plan.path[i]
        assert path[0] == src[i]
        assert path[-1] == dst[i]
        assert all((path[h], path[h + 1]) in joined for h in range(len(path) - 1))
        assert plan.margin_db[i] >= 1.0
        assert plan.width_slots[i] >= 6
    assert plan.operators[0] == ("A", "B")
    assert plan.operators[3] == ("B",)
    rows = plan.to_rows()
    assert rows[0]["status"] == "served"
    assert rows[0]["operators"] == ["A", "B"]
