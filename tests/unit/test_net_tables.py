"""Node/link tables, network state and the static + dynamic composition (tsunagu.net.tables)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.constants import C_M_PER_S
from tsunagu.errors import DataError, TsunaguError
from tsunagu.net import (
    GROUP_INDEX,
    MEDIA,
    LinkTable,
    NetworkState,
    NodeTable,
    StaticNetwork,
    propagation_latency_s,
)

#: Latency checks use 1 ps, the LinkTable tolerance, far below any delay of interest.
PICOSECOND_S = 1e-12


def _nodes(names: list[str], domain: str = "optical") -> NodeTable:
    return NodeTable.build(
        name=names, kind="roadm", domain=domain, lat_deg=35.0, lon_deg=139.0, operator="ntt"
    )


# -- propagation ------------------------------------------------------------------------------


def test_propagation_100_km_fibre_is_489_7_us() -> None:
    # 100 km x 1.468 / 299 792 458 m/s = 489.67 µs (4.897 µs/km, the usual SMF rule of thumb).
    latency_s = propagation_latency_s(100e3, "fibre")
    assert latency_s == pytest.approx(489.67e-6, abs=0.01e-6)


def test_propagation_is_vectorised_over_media() -> None:
    length_m = np.array([1e3, 1e3, 1e3, 1e3])
    latency_s = propagation_latency_s(length_m, np.array(MEDIA))
    expected_s = length_m * np.array([GROUP_INDEX[m] for m in MEDIA]) / C_M_PER_S
    np.testing.assert_allclose(latency_s, expected_s, rtol=1e-15)
    assert propagation_latency_s([[1.0, 2.0]], "radio").shape == (1, 2)


def test_unknown_medium_suggests_the_close_one() -> None:
    with pytest.raises(DataError, match=r"'fiber'.*did you mean 'fibre'"):
        propagation_latency_s(1.0, "fiber")


# -- nodes ------------------------------------------------------------------------------------


def test_node_build_broadcasts_scalars_and_is_read_only() -> None:
    nodes = _nodes(["a", "b", "c"])
    assert len(nodes) == 3
    assert nodes.kind.tolist() == ["roadm"] * 3
    assert nodes.up.dtype == np.bool_
    assert nodes.up.all()
    assert nodes.alt_m.dtype == np.float64
    with pytest.raises(ValueError, match="read-only"):
        nodes.lat_deg[0] = 0.0


def test_node_build_does_not_freeze_the_callers_arrays() -> None:
    lat_deg = np.array([35.0, 36.0])
    NodeTable.build(name=["a", "b"], kind="gnb", domain="ran", lat_deg=lat_deg, lon_deg=139.0)
    lat_deg[0] = 1.0  # still writeable


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"lat_deg": [35.0, 36.0, 37.0]}, "lat_deg"),
        ({"kind": ["a", "b", "c"]}, "kind"),
        ({"up": [1, 0]}, "up"),
        ({"lon_deg": ["x", "y"]}, "lon_deg"),
        ({"domain": "optics"}, "domain"),
        ({"lat_deg": 95.0}, "lat_deg"),
        ({"lon_deg": 200.0}, "lon_deg"),
        ({"alt_m": np.nan}, "alt_m"),
    ],
)
def test_node_errors_name_the_column(kwargs: dict[str, object], column: str) -> None:
    args: dict[str, object] = {
        "name": ["a", "b"],
        "kind": "dc",
        "domain": "compute",
        "lat_deg": 35.0,
        "lon_deg": 139.0,
    }
    args.update(kwargs)
    with pytest.raises(DataError, match=f"'{column}'"):
        NodeTable.build(**args)  # type: ignore[arg-type]


def test_duplicate_names_are_listed() -> None:
    with pytest.raises(DataError, match=r"duplicates: 'b'.*unique"):
        _nodes(["a", "b", "b"])
    with pytest.raises(DataError, match=r"duplicates: 'x'"):
        NodeTable.concat(_nodes(["a", "x"]), _nodes(["x", "y"]))


def test_index_of_is_vectorised_and_keeps_shape() -> None:
    nodes = _nodes(["tokyo", "osaka", "nagoya"])
    np.testing.assert_array_equal(nodes.index_of(["nagoya", "tokyo"]), [2, 0])
    assert nodes.index_of([["osaka"]]).shape == (1, 1)
    assert int(nodes.index_of("osaka")) == 1
    assert nodes.index_of([]).shape == (0,)


def test_index_of_unknown_suggests_close_names() -> None:
    nodes = _nodes(["tokyo", "osaka"])
    with pytest.raises(DataError, match=r"'toky0' \(did you mean 'tokyo'\?\)"):
        nodes.index_of(["osaka", "toky0"])


def test_concat_unites_extra_columns_with_missing_markers() -> None:
    a = NodeTable.build(
        name=["a"], kind="sat", domain="ntn", lat_deg=0.0, lon_deg=0.0, extra={"x_m": [1.0]}
    )
    b = NodeTable.build(
        name=["b", "c"],
        kind="dc",
        domain="compute",
        lat_deg=0.0,
        lon_deg=0.0,
        extra={"pue": [1.2, 1.3], "tier": np.array(["edge", "core"])},
    )
    both = NodeTable.concat(a, b)
    assert len(both) == 3
    np.testing.assert_array_equal(both.extra["x_m"], [1.0, np.nan, np.nan])
    np.testing.assert_array_equal(both.extra["pue"], [np.nan, 1.2, 1.3])
    assert both.extra["tier"].tolist() == ["", "edge", "core"]
    assert both.domain.tolist() == ["ntn", "compute", "compute"]


def test_extra_column_must_not_shadow_a_core_column() -> None:
    with pytest.raises(DataError, match="'up' clashes"):
        NodeTable.build(
            name=["a"], kind="dc", domain="compute", lat_deg=0, lon_deg=0, extra={"up": [1]}
        )


def test_node_with_up_does_not_mutate() -> None:
    nodes = _nodes(["a", "b"])
    down = nodes.with_up([True, False])
    assert nodes.up.tolist() == [True, True]
    assert down.up.tolist() == [True, False]
    assert np.shares_memory(down.name, nodes.name)  # other columns shared, not copied


def test_node_to_arrow_has_id_and_extra() -> None:
    nodes = NodeTable.build(
        name=["a", "b"], kind="gnb", domain="ran", lat_deg=0, lon_deg=0, extra={"tx_dbm": 46.0}
    )
    table = nodes.to_arrow()
    assert table.column_names[:3] == ["id", "name", "kind"]
    assert table.column("tx_dbm").to_pylist() == [46.0, 46.0]
    assert table.column("id").to_pylist() == [0, 1]


def test_object_string_columns_are_accepted() -> None:
    names = np.array(["a", "b"], dtype=object)  # what pyarrow/pandas hand over
    nodes = NodeTable.build(name=names, kind="dc", domain="compute", lat_deg=0, lon_deg=0)
    assert nodes.name.dtype.kind == "U"


# -- links ------------------------------------------------------------------------------------


def test_link_latency_is_propagation_plus_equipment() -> None:
    links = LinkTable.build(
        src=[0, 1, 2],
        dst=[1, 2, 0],
        domain=["optical", "ntn", "ran"],
        medium=["fibre", "free_space", "radio"],
        length_m=[100e3, 550e3, 1e3],
        equipment_delay_s=[20e-6, 0.0, 1e-3],
    )
    expected_s = np.array(
        [100e3 * 1.468 / C_M_PER_S + 20e-6, 550e3 / C_M_PER_S, 1e3 / C_M_PER_S + 1e-3]
    )
    np.testing.assert_allclose(links.latency_s, expected_s, rtol=1e-15)
    np.testing.assert_allclose(
        links.latency_s - links.propagation_s, [20e-6, 0.0, 1e-3], atol=1e-18
    )
    assert np.isinf(links.capacity_bps).all()


def test_latency_below_propagation_names_the_link() -> None:
    with pytest.raises(DataError, match=r"'latency_s' is invalid for link 1 \(1 -> 2, fibre"):
        LinkTable.build(
            src=[0, 1],
            dst=[1, 2],
            domain="optical",
            medium="fibre",
            length_m=[1e3, 100e3],
            latency_s=[1e-5, 400e-6],  # 100 km of fibre needs >= 489.7 µs
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"length_m": -1.0}, "'length_m' is invalid for link 0"),
        ({"availability": 99.9}, "'availability'.*fraction"),
        ({"capacity_bps": -1.0}, "'capacity_bps'"),
        ({"power_w": np.inf}, "'power_w'"),
        ({"medium": "copper"}, "'medium' has 'copper'"),
        ({"src": [0.0], "dst": [1.0]}, "'src' must hold integer node ids.*index_of"),
        ({"dst": [0]}, "self-loops"),
        ({"n_nodes": 1}, "only 1 nodes.*offset"),
        ({"latency_s": 1.0, "equipment_delay_s": 1e-6}, "not both"),
        ({"equipment_delay_s": -1e-6}, "'equipment_delay_s'"),
    ],
)
def test_link_errors_name_the_column_and_fix(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "src": [0],
        "dst": [1],
        "domain": "optical",
        "medium": "fibre",
        "length_m": 1e3,
    }
    args.update(kwargs)
    with pytest.raises(DataError, match=match):
        LinkTable.build(**args)  # type: ignore[arg-type]


def test_errors_are_tsunagu_errors() -> None:
    with pytest.raises(TsunaguError):
        LinkTable.build(src=[0], dst=[1], domain="optical", medium="fibre", length_m=-1.0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 50))
def test_built_links_respect_light_speed(seed: int, n: int) -> None:
    """Invariant: latency_s >= length_m / (c / n_group) for every link built from lengths."""
    rng = np.random.default_rng(seed)
    medium = rng.choice(np.array(MEDIA), size=n)
    length_m = rng.uniform(0.0, 5e6, size=n)
    links = LinkTable.build(
        src=np.zeros(n, dtype=np.int64),
        dst=np.ones(n, dtype=np.int64),
        domain="optical",
        medium=medium,
        length_m=length_m,
        equipment_delay_s=rng.uniform(0.0, 1e-3, size=n),
    )
    group_index = np.array([GROUP_INDEX[m] for m in medium.tolist()])
    assert np.all(links.latency_s >= length_m / (C_M_PER_S / group_index) - PICOSECOND_S)
    assert np.all(links.latency_s >= links.propagation_s)


def test_offset_concat_and_arrow_names() -> None:
    a = LinkTable.build(src=[0], dst=[1], domain="optical", medium="fibre", length_m=1e3)
    b = LinkTable.build(
        src=[0], dst=[1], domain="ran", medium="radio", length_m=10.0, extra={"sinr_db": 12.0}
    )
    both = LinkTable.concat(a, b.offset(2))
    assert both.src.tolist() == [0, 2]
    assert both.dst.tolist() == [1, 3]
    assert b.src.tolist() == [0]  # offset is non-mutating
    assert np.isnan(both.extra["sinr_db"][0])
    assert both.extra["sinr_db"][1] == 12.0
    table = both.to_arrow(node_names=["a", "b", "c", "d"])
    assert table.column("src_name").to_pylist() == ["a", "c"]
    assert table.column("dst_name").to_pylist() == ["b", "d"]
    with pytest.raises(DataError, match="node_names has 2 entries"):
        both.to_arrow(node_names=["a", "b"])


def test_link_with_up_does_not_mutate() -> None:
    links = LinkTable.build(src=[0, 1], dst=[1, 2], domain="optical", medium="fibre", length_m=1.0)
    down = links.with_up(np.array([False, True]))
    assert links.up.all()
    assert down.up.tolist() == [False, True]


# -- state ------------------------------------------------------------------------------------


def _static() -> StaticNetwork:
    fibre = (
        _nodes(["tokyo", "osaka"]),
        LinkTable.build(src=[0], dst=[1], domain="optical", medium="fibre", length_m=500e3),
    )
    ground = (
        NodeTable.build(name=["gw"], kind="gateway", domain="ntn", lat_deg=36.0, lon_deg=140.0),
        LinkTable.empty(),
    )
    nodes = NodeTable.concat(fibre[0], ground[0])
    cross = LinkTable.build(
        src=nodes.index_of(["tokyo"]),
        dst=nodes.index_of(["gw"]),
        domain="ntn",
        medium="fibre",
        length_m=80e3,
    )
    return StaticNetwork.from_layers(fibre, ground, cross_links=cross)


def test_from_layers_offsets_layer_links() -> None:
    static = _static()
    assert static.n_nodes == 3
    assert static.links.src.tolist() == [0, 0]
    assert static.links.dst.tolist() == [1, 2]


def test_state_at_shares_static_columns_and_appends_dynamic() -> None:
    static = _static()
    same = static.state_at(0.0)
    assert same.nodes is static.nodes
    assert same.links is static.links
    sat = NodeTable.build(
        name=["sat-0"], kind="satellite", domain="ntn", lat_deg=35.5, lon_deg=139.5, alt_m=550e3
    )
    feeder = LinkTable.build(
        src=[static.n_nodes], dst=[2], domain="ntn", medium="free_space", length_m=600e3
    )
    state = static.state_at(60.0, sat, feeder)
    assert state.time_s == 60.0
    assert len(state.nodes) == 4
    assert int(state.nodes.index_of("sat-0")) == 3
    assert len(state.links) == 3
    assert state.links.src.tolist()[-1] == 3
    assert len(static.nodes) == 3  # static part untouched


def test_dynamic_link_to_missing_node_is_refused() -> None:
    static = _static()
    feeder = LinkTable.build(src=[3], dst=[2], domain="ntn", medium="free_space", length_m=6e5)
    with pytest.raises(DataError, match="only 3 nodes"):
        static.state_at(0.0, None, feeder)


def test_csr_and_lookup_are_cached_and_consistent() -> None:
    nodes = _nodes(["a", "b", "c"])
    links = LinkTable.build(
        src=[0, 1, 0, 1],
        dst=[1, 0, 1, 2],
        domain="optical",
        medium="fibre",
        length_m=[10e3, 5e3, 20e3, 1e3],
        up=[True, True, True, False],
    )
    state = NetworkState(nodes=nodes, links=links, time_s=0.0)
    assert state.csr() is state.csr()
    lookup = state.link_lookup()
    assert lookup[(0, 1)] == 1
    assert lookup[(1, 0)] == 1
    assert (1, 2) not in lookup  # down
    assert len(lookup) == 1
    assert list(lookup) == [(0, 1)]
    np.testing.assert_array_equal(lookup.find([0, 1, 2], [1, 2, 0]), [1, -1, -1])
    assert state.csr(weight="length_m")[0, 1] == 5e3
    assert state.link_lookup(only_up=False)[(1, 2)] == 3


def test_down_node_makes_its_links_unusable() -> None:
    nodes = _nodes(["a", "b", "c"])
    links = LinkTable.build(src=[0, 1], dst=[1, 2], domain="optical", medium="fibre", length_m=1e3)
    state = NetworkState(nodes=nodes, links=links).with_up(node_up=[True, False, True])
    assert state.usable().tolist() == [False, False]
    assert state.csr().nnz == 0


def test_unknown_weight_column_suggests() -> None:
    state = NetworkState(nodes=_nodes(["a", "b"]), links=LinkTable.empty())
    with pytest.raises(DataError, match="did you mean 'latency_s'"):
        state.csr(weight="latency")


def test_a_links_own_group_index_sets_latency_and_propagation() -> None:
    links = LinkTable.build(
        src=[0, 1],
        dst=[1, 2],
        domain="optical",
        medium="fibre",
        length_m=[100e3, 100e3],
        group_index=[1.9, np.nan],
    )
    np.testing.assert_allclose(
        links.propagation_s, [100e3 * 1.9 / C_M_PER_S, 100e3 * 1.468 / C_M_PER_S]
    )
    np.testing.assert_allclose(links.latency_s, links.propagation_s)
    with pytest.raises(DataError, match="group_index"):
        LinkTable.build(
            src=[0], dst=[1], domain="optical", medium="fibre", length_m=1.0, group_index=0.5
        )
