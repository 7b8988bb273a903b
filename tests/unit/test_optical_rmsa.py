"""RMSA: candidate paths, formats, spectrum policies, dynamic and static assignment."""

from __future__ import annotations

import math
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import DataError, ScenarioError
from tsunagu.optical.rmsa import (
    DEEPRMSA_FORMATS,
    NO_MODULATION,
    NO_PATH,
    NO_SPECTRUM,
    SERVED,
    ModulationFormat,
    assign_static,
    build_rmsa_network,
    get_spectrum_policy,
    gn_gsnr_db,
    link_nsr_gn,
    load_nsfnet,
    qam_formats_for_ber,
    register_spectrum_policy,
    registered_spectrum_policies,
    resolve_topology,
    simulate_dynamic,
)
from tsunagu.optical.spectrum import SpectrumGrid, fit_starts, free_run_lengths
from tsunagu.optical.topology import Topology
from tsunagu.optical.traffic import Requests, batch_means_ci, poisson_requests

POLICIES = ("ksp-ff", "ff-ksp", "ksp-lf", "ksp-ef", "ksp-bf", "ksp-rf")


@pytest.fixture(scope="module")
def nsfnet_net():  # type: ignore[no-untyped-def]
    return build_rmsa_network(load_nsfnet(), k=5, n_slots=100)


def _line(n: int = 3, km: float = 100.0) -> Topology:
    return Topology(
        name="line",
        node_name=np.array([f"n{i}" for i in range(n)]),
        lat_deg=np.full(n, np.nan),
        lon_deg=np.full(n, np.nan),
        src=np.arange(n - 1, dtype=np.int64),
        dst=np.arange(1, n, dtype=np.int64),
        length_km=np.full(n - 1, km),
    )


def test_nsfnet_data() -> None:
    t = load_nsfnet()
    assert t.n_nodes == 14
    assert t.n_links == 22
    assert t.length_km.sum() == pytest.approx(21300.0)
    assert t.length_km.min() == 150.0
    assert t.length_km.max() == 2400.0


def test_k_shortest_paths_match_networkx(nsfnet_net) -> None:  # type: ignore[no-untyped-def]
    t = load_nsfnet()
    g = nx.Graph()
    for a, b, km in zip(t.src.tolist(), t.dst.tolist(), t.length_km.tolist(), strict=True):
        g.add_edge(a, b, weight=km)
    n = t.n_nodes
    for s, d in [(0, 13), (3, 8), (10, 6), (13, 0), (4, 5)]:
        ref = []
        for p in nx.shortest_simple_paths(g, s, d, weight="weight"):
            ref.append(nx.path_weight(g, p, "weight"))
            if len(ref) == 5:
                break
        got = nsfnet_net.path_length_km[s * n + d]
        # equal-length alternatives may be ordered differently: compare the length sequence
        assert np.allclose(got, ref)
        for nodes, links in zip(
            nsfnet_net.path_nodes[s * n + d], nsfnet_net.path_links[s * n + d], strict=True
        ):
            assert nodes[0] == s
            assert nodes[-1] == d
            assert len(set(nodes)) == len(nodes)  # loopless
            # directed link ids walk the nodes in order
            for h, lk in enumerate(links):
                assert nsfnet_net.link_src[lk] == nodes[h]
                assert nsfnet_net.link_dst[lk] == nodes[h + 1]


def test_formats_by_reach(nsfnet_net) -> None:  # type: ignore[no-untyped-def]
    length = nsfnet_net.path_length_km
    se = nsfnet_net.spectral_efficiency()
    ok = np.isfinite(length)
    expected = np.select(
        [length <= 625, length <= 1250, length <= 2500], [4.0, 3.0, 2.0], default=1.0
    )
    assert np.array_equal(se[ok], expected[ok])


def test_qot_aware_formats_use_the_gsnr_callable() -> None:
    formats = qam_formats_for_ber(3.8e-3, bits=(1, 2, 4))
    calls: list[int] = []

    def gsnr(paths: Sequence[np.ndarray], length_km: np.ndarray) -> np.ndarray:
        calls.append(len(paths))
        return 25.0 - 10.0 * np.log10(length_km / 100.0)  # 25 dB at 100 km, 15 dB at 1000 km

    net = build_rmsa_network(_line(4, 500.0), k=1, formats=formats, gsnr_db=gsnr)
    assert calls == [12]
    n = net.n_nodes
    names = [net.formats[i].name if i >= 0 else "" for i in net.path_format[:, 0]]
    # thresholds at BER 3.8e-3: QPSK 8.53 dB, 16QAM 15.19 dB.
    # 500 km: 18.0 dB -> 16QAM; 1000 km: 15.0 dB -> QPSK; 1500 km: 13.2 dB -> QPSK
    assert names[0 * n + 1] == "16QAM"
    assert names[0 * n + 2] == "QPSK"
    assert names[0 * n + 3] == "QPSK"
    net_margin = build_rmsa_network(
        _line(4, 500.0), k=1, formats=formats, gsnr_db=gsnr, gsnr_margin_db=3.0
    )
    assert net_margin.formats[int(net_margin.path_format[1, 0])].name == "QPSK"

    def bad(paths: Sequence[np.ndarray], length_km: np.ndarray) -> np.ndarray:
        return np.zeros(3)

    with pytest.raises(DataError, match="one GSNR"):
        build_rmsa_network(_line(4), formats=formats, gsnr_db=bad)


def _random_grid(rng: np.random.Generator, n_links: int, n_slots: int, p: float) -> SpectrumGrid:
    occ = rng.random((n_links, n_slots)) < p
    masks = [sum(1 << int(i) for i in np.flatnonzero(row)) for row in occ]
    return SpectrumGrid(n_links, n_slots, masks)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    p=st.floats(0.0, 0.9),
    widths=st.lists(st.integers(0, 9), min_size=1, max_size=5),
)
def test_every_policy_picks_a_free_block_or_proves_none(
    seed: int, p: float, widths: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    grid = _random_grid(rng, 6, 40, p)
    paths = [tuple(rng.choice(6, size=int(rng.integers(1, 4)), replace=False)) for _ in widths]
    fits = [
        w > 0 and fit_starts(grid.free_on_path(pth), w) != 0
        for pth, w in zip(paths, widths, strict=True)
    ]
    picks = {}
    for name in POLICIES:
        pick = get_spectrum_policy(name).choose(grid, paths, widths, rng)
        picks[name] = pick
        if not any(fits):
            assert pick is None
            continue
        assert pick is not None
        i, s = pick
        assert grid.is_free(paths[i], s, widths[i])
        if name != "ff-ksp":  # path-first policies take the first path with room
            assert i == fits.index(True)
    if any(fits):
        i, s = picks["ksp-ff"]
        # first-fit is the lowest fitting unit on its path; ff-ksp is the lowest over all paths
        starts = fit_starts(grid.free_on_path(paths[i]), widths[i])
        assert s == (starts & -starts).bit_length() - 1
        assert picks["ff-ksp"][1] <= s
        assert picks["ksp-lf"][1] == starts.bit_length() - 1


def test_exact_and_best_fit_prefer_snug_gaps() -> None:
    # free runs: units 0-4 (5), 10-12 (3), 20-39 (20)
    free = sum(1 << i for i in [*range(0, 5), *range(10, 13), *range(20, 40)])
    grid = SpectrumGrid(1, 40, [((1 << 40) - 1) & ~free])
    rng = np.random.default_rng(0)
    assert get_spectrum_policy("ksp-ff").choose(grid, [(0,)], [3], rng) == (0, 0)
    assert get_spectrum_policy("ksp-ef").choose(grid, [(0,)], [3], rng) == (0, 10)
    assert get_spectrum_policy("ksp-bf").choose(grid, [(0,)], [4], rng) == (0, 0)
    assert get_spectrum_policy("ksp-ef").choose(grid, [(0,)], [4], rng) == (0, 0)  # fallback


def test_user_policy_plugs_into_the_registry() -> None:
    class HighestPathFirst:
        name = "test-last-path"

        def choose(self, grid, paths, widths, rng):  # type: ignore[no-untyped-def]
            for i in reversed(range(len(paths))):
                starts = fit_starts(grid.free_on_path(paths[i]), widths[i]) if widths[i] else 0
                if starts:
                    return i, (starts & -starts).bit_length() - 1
            return None

    register_spectrum_policy("test-last-path", HighestPathFirst)
    assert "test-last-path" in registered_spectrum_policies()
    net = build_rmsa_network(load_nsfnet(), k=3)
    reqs = poisson_requests(2000, 50.0, 14, np.random.default_rng(3))
    res = simulate_dynamic(net, reqs, "test-last-path", warmup=100)
    assert res.blocking_probability >= 0.0
    served = res.reason == SERVED
    assert np.all(res.path_index[served] >= 0)
    with pytest.raises(ScenarioError, match="ksp-ff"):
        get_spectrum_policy("ksp_ff")


def _replay_has_no_overlap(net, reqs: Requests, res) -> bool:  # type: ignore[no-untyped-def]
    """Rebuild occupancy event by event from the result and check no two lightpaths overlap."""
    n = net.n_nodes
    events = []
    for i in np.flatnonzero(res.reason == SERVED):
        events.append((reqs.arrival_s[i], 1, int(i)))
        events.append((reqs.arrival_s[i] + reqs.holding_s[i], 0, int(i)))
    events.sort()
    occ = np.zeros((net.n_links, net.n_slots), dtype=np.int64)
    for _, kind, i in events:
        links = list(net.path_links[int(reqs.src[i] * n + reqs.dst[i])][res.path_index[i]])
        sl = slice(res.first_slot[i], res.first_slot[i] + res.width_slots[i])
        occ[np.ix_(links, np.arange(net.n_slots)[sl])] += 1 if kind else -1
        if occ.max() > 1:
            return False
    return True


@pytest.mark.parametrize("policy", POLICIES)
def test_dynamic_run_is_consistent(nsfnet_net, policy: str) -> None:  # type: ignore[no-untyped-def]
    reqs = poisson_requests(4000, 300.0, 14, np.random.default_rng(7), truncate_holding=True)
    res = simulate_dynamic(nsfnet_net, reqs, policy, warmup=1000, rng=np.random.default_rng(1))
    assert res.n_measured == 3000
    assert sum(res.reason_counts.values()) == 3000
    assert res.ci_low <= res.blocking_probability <= res.ci_high
    assert 0.0 < res.mean_utilisation < 1.0
    served = res.reason == SERVED
    width = nsfnet_net.slots_for(reqs.src, reqs.dst, reqs.bit_rate_bps)
    assert np.array_equal(res.width_slots[served], width[served, res.path_index[served]])
    assert np.all(res.first_slot[served] + res.width_slots[served] <= 100)
    assert _replay_has_no_overlap(nsfnet_net, reqs, res)


def test_last_fit_mirrors_first_fit(nsfnet_net) -> None:  # type: ignore[no-untyped-def]
    # With identical requests, last-fit is first-fit on the mirrored spectrum.
    reqs = poisson_requests(3000, 300.0, 14, np.random.default_rng(11))
    ff = simulate_dynamic(nsfnet_net, reqs, "ksp-ff", warmup=500)
    lf = simulate_dynamic(nsfnet_net, reqs, "ksp-lf", warmup=500)
    assert np.array_equal(ff.reason, lf.reason)
    ok = ff.reason == SERVED
    assert np.array_equal(lf.first_slot[ok], 100 - ff.first_slot[ok] - ff.width_slots[ok])


def test_blocking_reasons_are_named() -> None:
    two_islands = Topology(
        name="islands",
        node_name=np.array(["a", "b", "c", "d"]),
        lat_deg=np.full(4, np.nan),
        lon_deg=np.full(4, np.nan),
        src=np.array([0, 2]),
        dst=np.array([1, 3]),
        length_km=np.array([100.0, 3000.0]),
    )
    short_reach = (ModulationFormat("16QAM", 4.0, 1000.0),)
    net = build_rmsa_network(two_islands, k=2, n_slots=6, formats=short_reach)
    res = assign_static(net, [0, 0, 2, 0, 0, 1], [2, 1, 3, 1, 1, 1], [100e9] * 6)
    assert res.reason.tolist() == [NO_PATH, SERVED, NO_MODULATION, SERVED, NO_SPECTRUM, NO_PATH]
    assert res.reason_text[2] == "no mode with enough reach/GSNR"
    assert res.path_nodes[1] == (0, 1)
    assert res.modulation[1] == "16QAM"
    assert res.first_slot[:5].tolist() == [-1, 0, -1, 3, -1]  # 100G 16QAM: 2 + 1 guard
    with pytest.raises(DataError):
        assign_static(net, [0], [9], [1e9])


def test_poisson_requests_statistics() -> None:
    rng = np.random.default_rng(5)
    r = poisson_requests(40000, 200.0, 14, rng, mean_holding_s=20.0)
    rate = 40000 / r.arrival_s[-1]
    assert rate == pytest.approx(10.0, rel=0.03)  # λ = load / holding
    assert r.holding_s.mean() == pytest.approx(20.0, rel=0.03)
    assert np.all(r.src != r.dst)
    pairs = np.bincount(r.src * 14 + r.dst, minlength=196).reshape(14, 14)
    assert np.all(np.diag(pairs) == 0)
    assert pairs[~np.eye(14, dtype=bool)].min() > 0.5 * 40000 / 182
    assert set(np.unique(r.bit_rate_bps / 1e9).astype(int)) == set(range(25, 101))
    t = poisson_requests(20000, 200.0, 14, rng, mean_holding_s=20.0, truncate_holding=True)
    assert t.holding_s.max() < 40.0
    # truncated exponential mean: 20 - 40 e^-2 / (1 - e^-2)
    assert t.holding_s.mean() == pytest.approx(
        20 - 40 * math.exp(-2) / (1 - math.exp(-2)), rel=0.03
    )
    w = np.zeros((14, 14))
    w[0, 1] = 1.0
    only = poisson_requests(100, 10.0, 14, rng, pair_weights=w)
    assert np.all(only.src == 0)
    assert np.all(only.dst == 1)
    with pytest.raises(DataError):
        poisson_requests(10, -1.0, 14, rng)


def test_batch_means_interval_covers_a_known_rate() -> None:
    rng = np.random.default_rng(2)
    covered = 0
    for _ in range(40):
        x = rng.random(5000) < 0.05
        _, lo, hi = batch_means_ci(x, 10)
        covered += lo <= 0.05 <= hi
    assert covered >= 34  # nominal 95 %: 38 of 40 expected
    with pytest.raises(DataError):
        batch_means_ci([1, 0], 10)


def test_resolve_topology_names_and_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert resolve_topology("nsfnet").n_nodes == 14
    assert resolve_topology("jpn12").n_links == 17
    f = tmp_path / "t.csv"
    f.write_text("# my net\na,b,length_km\nX,Y,10\nY,Z,20\n", encoding="utf-8")
    t = resolve_topology(str(f))
    assert t.node_name.tolist() == ["X", "Y", "Z"]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,length_km\nX,Y,ten\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 2"):
        resolve_topology(str(bad))
    with pytest.raises(DataError, match="unknown topology"):
        resolve_topology("atlantis")


def test_build_rejects_bad_input() -> None:
    with pytest.raises(DataError):
        build_rmsa_network(_line(), k=0)
    with pytest.raises(DataError):
        build_rmsa_network(_line(), formats=())
    assert DEEPRMSA_FORMATS[-1].name == "16QAM"


def test_gn_qot_hook_sums_link_noise() -> None:
    topo = _line(4, 400.0)
    hook = gn_gsnr_db(topo, tx_osnr_01nm_db=np.inf)
    nsr = link_nsr_gn(topo.length_km)
    g = hook([np.array([0]), np.array([0, 1]), np.array([0, 1, 2])], np.array([400.0, 800, 1200]))
    assert np.allclose(10 ** (-g / 10), [nsr[0], nsr[:2].sum(), nsr.sum()])
    assert np.all(np.diff(g) < 0)
    net = build_rmsa_network(topo, k=1, formats=qam_formats_for_ber(), gsnr_db=gn_gsnr_db(topo))
    n = net.n_nodes
    se = net.spectral_efficiency()[:, 0]
    # longer paths never get a denser format
    assert se[0 * n + 1] >= se[0 * n + 2] >= se[0 * n + 3]


def test_mean_utilisation_matches_a_recount(nsfnet_net) -> None:  # type: ignore[no-untyped-def]
    reqs = poisson_requests(1200, 200.0, 14, np.random.default_rng(4))
    res = simulate_dynamic(nsfnet_net, reqs, "ksp-ff", warmup=200)
    # recount the cells in use just before each measured arrival from the result alone
    n = nsfnet_net.n_nodes
    served = np.flatnonzero(res.reason == SERVED)
    hops = np.array(
        [
            len(nsfnet_net.path_links[int(reqs.src[i] * n + reqs.dst[i])][res.path_index[i]])
            for i in served
        ]
    )
    start, end = reqs.arrival_s[served], reqs.arrival_s[served] + reqs.holding_s[served]
    cells = res.width_slots[served] * hops
    t = reqs.arrival_s[200:]
    active = (start[None, :] < t[:, None]) & (end[None, :] > t[:, None])
    expected = (active * cells[None, :]).sum() / (t.size * nsfnet_net.n_links * 100)
    assert res.mean_utilisation == pytest.approx(expected, rel=1e-12)


@settings(max_examples=80, deadline=None)
@given(bits=st.lists(st.booleans(), min_size=1, max_size=70), width=st.integers(1, 8))
def test_best_fit_takes_the_smallest_run_that_fits(bits: list[bool], width: int) -> None:
    n = len(bits)
    free = sum(1 << i for i, b in enumerate(bits) if b)
    grid = SpectrumGrid(1, n, [((1 << n) - 1) & ~free])
    pick = get_spectrum_policy("ksp-bf").choose(grid, [(0,)], [width], np.random.default_rng(0))
    starts, lengths = free_run_lengths(free, n)
    ok = lengths >= width
    if not ok.any():
        assert pick is None
        return
    best = int(lengths[ok].min())
    expected = int(starts[ok][lengths[ok] == best][0])  # ties: lowest unit
    assert pick == (0, expected)


def test_a_policy_that_breaks_the_rules_is_stopped(nsfnet_net) -> None:  # type: ignore[no-untyped-def]
    class Overlapping:
        name = "test-overlap"

        def choose(self, grid, paths, widths, rng):  # type: ignore[no-untyped-def]
            return 0, 0  # always unit 0 of the first path, free or not

    reqs = poisson_requests(200, 300.0, 14, np.random.default_rng(0))
    with pytest.raises(DataError, match="not free on every link"):
        simulate_dynamic(nsfnet_net, reqs, Overlapping(), warmup=10)
