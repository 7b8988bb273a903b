"""RMSA terms pinned one by one (found by mutation testing).

Expected values are closed forms (the pre-FEC BER of Gray-coded QAM inverted with
``scipy.special.erfcinv``, the slot count ceil(R / (SE · 12.5 GHz)) + guard), hand-traced
request sequences on a three-node line whose every outcome is worked out in the comments, and
invariants; none is a snapshot of the code's output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erfcinv

import tsunagu.optical.rmsa as rmsa
from tsunagu.errors import DataError, ScenarioError
from tsunagu.optical.qot import lightpath_qot
from tsunagu.optical.rmsa import (
    NO_MODULATION,
    NO_PATH,
    NO_SPECTRUM,
    SERVED,
    FirstFitKsp,
    KspBestFit,
    KspFirstFit,
    KspRandomFit,
    ModulationFormat,
    assign_static,
    build_rmsa_network,
    get_spectrum_policy,
    gn_gsnr_db,
    link_nsr_gn,
    qam_formats_for_ber,
    required_gsnr_db,
    resolve_topology,
    simulate_dynamic,
)
from tsunagu.optical.spectrum import SpectrumGrid, fit_starts
from tsunagu.optical.topology import Topology
from tsunagu.optical.traffic import Requests, batch_means_ci, poisson_requests


def _topo(src: list[int], dst: list[int], km: list[float], n: int | None = None) -> Topology:
    n = n if n is not None else max(max(src), max(dst)) + 1
    return Topology(
        name="t",
        node_name=np.array([f"n{i}" for i in range(n)]),
        lat_deg=np.full(n, np.nan),
        lon_deg=np.full(n, np.nan),
        src=np.array(src, dtype=np.int64),
        dst=np.array(dst, dtype=np.int64),
        length_km=np.array(km, dtype=np.float64),
    )


def _line() -> Topology:
    return _topo([0, 1], [1, 2], [100.0, 100.0])


# ---------------------------------------------------------------------------------------------
# modulation: required GSNR from the closed-form BER


def _snr_db_closed_form(bits: int, ber: float) -> float:
    """Invert BER(SNR) of Gray-coded QAM (Proakis & Salehi eqs. 4.3-30, 4.3-33) exactly.

    BPSK: BER = ½ erfc(√SNR)  →  SNR = erfcinv(2 BER)².
    M-QAM: BER = (4/b)(1 − 1/√M) Q(√(3 SNR/(M − 1))), Q(x) = ½ erfc(x/√2)
        →  SNR = (M − 1)/3 · 2 · erfcinv(2 BER / ((4/b)(1 − 1/√M)))².
    """
    if bits == 1:
        return 10 * math.log10(float(erfcinv(2 * ber)) ** 2)
    m = 2.0**bits
    c = (4.0 / bits) * (1 - 1 / math.sqrt(m))
    return 10 * math.log10((m - 1) / 3 * 2 * float(erfcinv(2 * ber / c)) ** 2)


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 6, 8])
@pytest.mark.parametrize("ber", [1e-3, 3.8e-3, 2e-2])
def test_required_gsnr_inverts_the_qam_ber(bits: int, ber: float) -> None:
    assert required_gsnr_db(bits, ber) == pytest.approx(_snr_db_closed_form(bits, ber), abs=1e-7)


def test_required_gsnr_textbook_values() -> None:
    # QPSK at 1e-3: Eb/N0 = 6.79 dB, + 10 log10(2) = 9.80 dB (symbol SNR)
    assert required_gsnr_db(2, 1e-3) == pytest.approx(6.79 + 10 * math.log10(2), abs=0.01)
    # BPSK at 1e-3: Eb/N0 = SNR = 6.79 dB
    assert required_gsnr_db(1, 1e-3) == pytest.approx(6.79, abs=0.01)


@pytest.mark.parametrize(
    ("bits", "ber"), [(0, 1e-3), (13, 1e-3), (2.0, 1e-3), (2, 0.0), (2, 0.5), (2, 0.7)]
)
def test_required_gsnr_rejects_bad_arguments(bits: int, ber: float) -> None:
    with pytest.raises(DataError, match=r"must (be an integer 1\.\.12|lie in \(0, 0\.5\))"):
        required_gsnr_db(bits, ber)


def test_required_gsnr_accepts_the_range_ends() -> None:
    assert required_gsnr_db(12, 1e-3) == pytest.approx(_snr_db_closed_form(12, 1e-3), abs=1e-7)
    assert required_gsnr_db(2, 0.45) == pytest.approx(_snr_db_closed_form(2, 0.45), abs=1e-7)


def test_required_gsnr_refuses_thresholds_no_snr_reaches() -> None:
    # QPSK's BER at -20 dB is 0.46; 4096-QAM's nearest-neighbour BER never exceeds
    # (2/12)(1 - 1/64) = 0.164: a DataError that names the threshold, not a solver error
    with pytest.raises(DataError, match=r"ber_threshold 0\.49 is above the BER of 2-bit QAM"):
        required_gsnr_db(2, 0.49)
    with pytest.raises(DataError, match=r"ber_threshold 0\.2 is above the BER of 12-bit QAM"):
        required_gsnr_db(12, 0.2)
    # the search runs from -20 dB to 60 dB: QPSK at 0.462 (BER(-20 dB) = 0.4602) is outside,
    # the BER at exactly -20 dB is the end of the range, and 4096-QAM at 1e-200 needs > 60 dB
    with pytest.raises(DataError, match=r"above the BER of 2-bit QAM at -20 dB SNR \(0\.46\)"):
        required_gsnr_db(2, 0.462)
    edge = rmsa._qam_ber(10.0 ** (-20.0 / 10.0), 2)
    assert required_gsnr_db(2, edge) == pytest.approx(-20.0, abs=1e-9)
    with pytest.raises(DataError, match=r"below the BER of 12-bit QAM at 60 dB SNR \(4e-162\)"):
        required_gsnr_db(12, 1e-200)
    top = rmsa._qam_ber(10.0 ** (60.0 / 10.0), 12)  # the BER at exactly 60 dB: the other end
    assert required_gsnr_db(12, top) == pytest.approx(60.0, abs=1e-9)


def test_qam_formats_names_and_thresholds() -> None:
    f = qam_formats_for_ber()
    assert [x.name for x in f] == ["BPSK", "QPSK", "8QAM", "16QAM", "64QAM"]
    assert [x.spectral_efficiency_bps_per_hz for x in f] == [1.0, 2.0, 3.0, 4.0, 6.0]
    assert all(x.max_reach_km == math.inf for x in f)
    for x, b in zip(f, (1, 2, 3, 4, 6), strict=True):
        assert x.required_gsnr_db == pytest.approx(_snr_db_closed_form(b, 3.8e-3), abs=1e-7)
    g = qam_formats_for_ber(1e-2, (5, 8, 10))
    assert [x.name for x in g] == ["32QAM", "256QAM", "1024QAM"]
    assert g[0].required_gsnr_db == pytest.approx(_snr_db_closed_form(5, 1e-2), abs=1e-7)


# ---------------------------------------------------------------------------------------------
# GN-model link noise (a consistency check of the wiring into lightpath_qot)


def _centre_nsr(spans: list[float], **kw: float) -> float:
    # the documented defaults: 60 GBd on 75 GHz, 64 channels centred on 193.1 THz, 0 dBm,
    # NF 5.5 dB, 0.2 dB/km, one ROADM at 38 dB, no transmitter noise
    p = {"baud": 60e9, "spacing": 75e9, "launch": 0.0, "nf": 5.5, "loss": 0.2, "roadm": 38.0}
    p.update(kw)
    r = lightpath_qot(
        [spans],
        baud_rate_hz=p["baud"],
        span_loss_db_per_km=p["loss"],
        launch_power_dbm=p["launch"],
        amp_noise_figure_db=p["nf"],
        roadm_count=1,
        roadm_osnr_01nm_db=p["roadm"],
        tx_osnr_01nm_db=math.inf,
        spacing_hz=p["spacing"],
        channel_count=64,
        f_min_hz=193.1e12 - 63 * p["spacing"] / 2,
    )
    return float(10 ** (-r.gsnr_db[0, 32] / 10))


def test_link_nsr_splits_links_into_equal_spans() -> None:
    # 160 km: two 80 km spans; 81 km: two of 40.5 km; 200 km: three of 66.67 km; 50 km: one.
    # The same arithmetic as lightpath_qot on those spans, so the values agree exactly.
    nsr = link_nsr_gn([160.0, 81.0, 200.0, 50.0])
    assert nsr[0] == _centre_nsr([80.0, 80.0])
    assert nsr[1] == _centre_nsr([40.5, 40.5])
    assert nsr[2] == _centre_nsr([200 / 3] * 3)
    assert nsr[3] == _centre_nsr([50.0])
    assert nsr.dtype == np.float64
    assert link_nsr_gn([]).shape == (0,)  # no links, no noise values


def test_link_nsr_arguments_reach_the_model() -> None:
    got = link_nsr_gn(
        [150.0],
        span_length_km=50.0,
        baud_rate_hz=32e9,
        spacing_hz=50e9,
        launch_power_dbm=1.0,
        amp_noise_figure_db=6.0,
        loss_db_per_km=0.25,
        roadm_osnr_01nm_db=30.0,
    )[0]
    want = _centre_nsr(
        [50.0] * 3, baud=32e9, spacing=50e9, launch=1.0, nf=6.0, loss=0.25, roadm=30.0
    )
    assert got == want


def test_link_nsr_zero_length_link_is_one_roadm() -> None:
    # a co-sited link passes one ROADM stage (and a 1 m span): its NSR is the ROADM's
    # 10^(−38/10) · 60/12.5 to within the 1 m span's ASE
    nsr = link_nsr_gn([0.0])[0]
    assert nsr == _centre_nsr([1e-3])
    assert nsr >= 10 ** (-3.8) * 60 / 12.5
    with pytest.raises(DataError, match="finite and >= 0"):
        link_nsr_gn([10.0, -1.0])
    with pytest.raises(DataError, match="finite and >= 0"):
        link_nsr_gn([np.inf])
    link_nsr_gn([0.5])  # below 1 km is a valid length


def test_gn_gsnr_hook_adds_the_transmitter() -> None:
    topo = _topo([0, 1], [1, 2], [160.0, 81.0])
    hook = gn_gsnr_db(topo)
    nsr = link_nsr_gn(topo.length_km)
    # 1/GSNR = Σ link NSR + 10^(−40/10) · 60 GBd / 12.5 GHz
    tx = 1e-4 * 60e9 / 12.5e9
    g = hook([np.array([0, 1]), np.array([1])], np.array([241.0, 81.0]))
    np.testing.assert_allclose(g, -10 * np.log10([nsr.sum() + tx, nsr[1] + tx]), rtol=1e-13)
    # the hook's default span is 80 km: the 81 km link is two spans of 40.5 km
    assert nsr[1] == _centre_nsr([40.5, 40.5])
    # the arguments reach the link model and the transmitter term
    hook2 = gn_gsnr_db(topo, tx_osnr_01nm_db=35.0, baud_rate_hz=32e9, span_length_km=50.0)
    nsr2 = link_nsr_gn(topo.length_km, span_length_km=50.0, baud_rate_hz=32e9)
    tx2 = 10 ** (-3.5) * 32e9 / 12.5e9
    g2 = hook2([np.array([0])], np.array([160.0]))
    assert g2[0] == pytest.approx(-10 * math.log10(nsr2[0] + tx2), rel=1e-13)


# ---------------------------------------------------------------------------------------------
# network construction


@pytest.mark.parametrize(
    "kw", [{"k": True}, {"k": 1.0}, {"k": 0}, {"n_slots": 0}, {"guard_slots": -1}]
)
def test_build_rejects_bad_sizes(kw: dict[str, object]) -> None:
    with pytest.raises(DataError):
        build_rmsa_network(_line(), **kw)  # type: ignore[arg-type]


def test_build_accepts_the_smallest_sizes_and_zero_lengths() -> None:
    net = build_rmsa_network(_topo([0, 1], [1, 2], [0.0, 100.0]), k=1, n_slots=1, guard_slots=0)
    assert (net.k, net.n_slots, net.guard_slots) == (1, 1, 0)
    assert net.path_length_km[0 * 3 + 2, 0] == 100.0
    for km in ([-1.0, 100.0], [np.nan, 100.0], [np.inf, 100.0]):
        with pytest.raises(DataError, match="finite length_km >= 0"):
            build_rmsa_network(_topo([0, 1], [1, 2], km))


def test_build_defaults() -> None:
    net = build_rmsa_network(
        _topo([0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6], [1.0] * 11)
    )
    assert (net.k, net.n_slots, net.guard_slots, net.directed) == (5, 100, 1, True)
    assert len(net.path_links[0 * 7 + 6]) == 5  # six two-hop-or-less routes, five kept
    assert net.link_src.tolist()[:4] == [0, 1, 0, 2]  # each fibre as two directed links
    assert net.link_dst.tolist()[:4] == [1, 0, 2, 0]
    np.testing.assert_array_equal(net.link_length_km, np.ones(22))
    assert net.link_src.dtype == np.int64
    assert net.link_dst.dtype == np.int64
    assert net.link_length_km.dtype == np.float64


def test_undirected_links_share_one_spectrum() -> None:
    net = build_rmsa_network(_line(), directed=False)
    assert net.link_src.tolist() == [0, 1]
    assert net.link_dst.tolist() == [1, 2]
    assert net.link_length_km.tolist() == [100.0, 100.0]
    assert net.path_links[2 * 3 + 0][0] == (1, 0)  # 2 → 1 → 0 over the same link ids
    assert net.path_links[0 * 3 + 2][0] == (0, 1)
    assert net.directed is False


def test_parallel_fibres_use_the_shorter_and_the_first_of_equals() -> None:
    # two fibres 0–1 of equal length, then a shorter third: the shortest, first-listed wins
    net = build_rmsa_network(_topo([0, 0, 0], [1, 1, 1], [50.0, 50.0, 40.0]), k=1)
    assert net.path_links[0 * 2 + 1][0] == (4,)  # fibre 2, direction 0 → 1
    assert net.path_links[1 * 2 + 0][0] == (5,)
    assert net.path_length_km[1, 0] == 40.0
    eq = build_rmsa_network(_topo([0, 0], [1, 1], [50.0, 50.0]), k=1)
    assert eq.path_links[1][0] == (0,)


def test_zero_length_links_route_as_one_metre() -> None:
    # 0 → 1 (0 km) → 2 (1 km) beats 0 → 2 (1.5 km) only if the co-sited hop weighs ~nothing
    net = build_rmsa_network(_topo([0, 1, 0], [1, 2, 2], [0.0, 1.0, 1.5]), k=1)
    assert net.path_nodes[0 * 3 + 2][0] == (0, 1, 2)
    assert net.path_length_km[2, 0] == 1.0


def test_format_choice_at_reach_and_gsnr_boundaries() -> None:
    fmts = (
        ModulationFormat("A", 1.0, 1000.0, 10.0),
        ModulationFormat("B", 2.0, 200.0, 15.0),
    )
    topo = _topo([0, 1], [1, 2], [200.0, 300.0])

    def gsnr(paths: Sequence[np.ndarray], length_km: np.ndarray) -> np.ndarray:
        # 15 dB on the 200 km link alone (exactly B's need), 14 dB elsewhere
        return np.where(length_km == 200.0, 15.0, 14.0)

    net = build_rmsa_network(topo, k=1, formats=fmts, gsnr_db=gsnr)
    # 0 → 1: 200 km = B's reach and 15 dB = B's need: B (both bounds inclusive)
    assert net.path_format[0 * 3 + 1, 0] == 1
    # 1 → 2: 300 km > B's reach: A even though 14 dB ≥ A's 10 dB
    assert net.path_format[1 * 3 + 2, 0] == 0
    # a margin of 1 dB pushes 0 → 1 down to A
    m = build_rmsa_network(topo, k=1, formats=fmts, gsnr_db=gsnr, gsnr_margin_db=1.0)
    assert m.path_format[1, 0] == 0
    # GSNR high everywhere but reach exceeded: nothing on 0 → 2 (500 km) for reach 400 km
    short = (ModulationFormat("S", 1.0, 400.0, 0.0),)
    s = build_rmsa_network(topo, k=1, formats=short, gsnr_db=lambda p, km: np.full(km.size, 99.0))
    assert s.path_format[0 * 3 + 2, 0] == -1
    assert s.path_format[0 * 3 + 1, 0] == 0
    np.testing.assert_array_equal(s.path_gsnr_db[[1, 2], 0], [99.0, 99.0])
    # the hook is given the undirected link ids of each path, as int64 arrays
    seen: list[np.ndarray] = []

    def record(paths: Sequence[np.ndarray], length_km: np.ndarray) -> np.ndarray:
        seen.extend(paths)
        return np.full(len(paths), 20.0)

    build_rmsa_network(topo, k=1, formats=fmts, gsnr_db=record)
    assert any(p.tolist() == [0, 1] and p.dtype == np.int64 for p in seen)


def test_slots_for_is_the_ceil_of_rate_over_capacity_plus_guard() -> None:
    net = build_rmsa_network(_line(), k=1)  # 100 km and 200 km: 16QAM (4 b/s/Hz)
    # 100 Gb/s / (4 × 12.5 GHz) = 2 → 3 with the guard; 101 Gb/s → 3 + 1 = 4
    got = net.slots_for([0, 0], [1, 2], [100e9, 101e9])
    np.testing.assert_array_equal(got[:, 0], [3, 4])
    # node ids given as floats (e.g. read from a CSV file) select the same pairs
    np.testing.assert_array_equal(net.slots_for(np.array([0.0]), np.array([1.0]), [100e9]), [[3]])
    no_guard = build_rmsa_network(_line(), k=1, guard_slots=0)
    np.testing.assert_array_equal(no_guard.slots_for([0], [1], [100e9])[:, 0], [2])
    se = net.spectral_efficiency()
    assert se[0 * 3 + 1, 0] == 4.0
    # no second path on a line: NaN
    assert np.isnan(build_rmsa_network(_line(), k=2).spectral_efficiency()[0 * 3 + 1, 1])
    assert se.dtype == np.float64


# ---------------------------------------------------------------------------------------------
# spectrum policies


def test_policies_skip_paths_without_a_format() -> None:
    grid = SpectrumGrid(2, 4)
    for pol in (KspFirstFit(), FirstFitKsp(), get_spectrum_policy("ksp-lf")):
        assert pol.choose(grid, [(0,), (1,)], [0, 2], np.random.default_rng(0))[0] == 1


def test_ff_ksp_ties_go_to_the_shorter_path() -> None:
    grid = SpectrumGrid(2, 4)
    assert FirstFitKsp().choose(grid, [(0,), (1,)], [2, 2], np.random.default_rng(0)) == (0, 0)
    grid.allocate((0,), 0, 1)
    assert FirstFitKsp().choose(grid, [(0,), (1,)], [2, 2], np.random.default_rng(0)) == (1, 0)


def test_best_fit_ties_go_to_the_lowest_run() -> None:
    # free runs: units 0-1 (2), 3-4 (2), 6-9 (4); width 2: the two snug runs tie → unit 0
    free = 0b1111011011
    starts = fit_starts(free, 2)
    assert KspBestFit().start(free, starts, 2, 10, np.random.default_rng(0)) == 0
    # width 1 with runs of 3, 2, 2: the first run of 2 (unit 4)
    free = 0b11011_0111
    assert KspBestFit().start(free, fit_starts(free, 1), 1, 10, np.random.default_rng(0)) == 4


def test_random_fit_draws_among_the_fitting_starts() -> None:
    # starts at units 0 and 3: dropping the lowest bit must drop unit 0 itself
    free = 0b11011
    for seed in range(20):
        pick = KspRandomFit().start(free, fit_starts(free, 2), 2, 5, np.random.default_rng(seed))
        assert pick == [0, 3][int(np.random.default_rng(seed).integers(0, 2))]
    free = 0b1110111101
    starts = fit_starts(free, 2)
    positions = [i for i in range(10) if starts >> i & 1]
    for seed in range(20):
        pick = KspRandomFit().start(free, starts, 2, 10, np.random.default_rng(seed))
        expected = positions[int(np.random.default_rng(seed).integers(0, len(positions)))]
        assert pick == expected


def test_unknown_policy_names_a_close_one() -> None:
    with pytest.raises(ScenarioError, match=r"Did you mean 'ksp-ff'\?$"):
        get_spectrum_policy("ksp-fff")
    with pytest.raises(ScenarioError, match=r"registered: \[.*\]\.$"):
        get_spectrum_policy("zzzzzzzz")


# ---------------------------------------------------------------------------------------------
# dynamic traffic traced by hand

ONE_FORMAT = (ModulationFormat("16QAM", 4.0, 150.0),)  # 100 Gb/s: 2 + 1 guard = 3 units


def _requests(rows: list[tuple[float, float, int, int, float]]) -> Requests:
    a, h, s, d, r = (np.array(c) for c in zip(*rows, strict=True))
    return Requests(
        arrival_s=a.astype(float),
        holding_s=h.astype(float),
        src=s.astype(np.int64),
        dst=d.astype(np.int64),
        bit_rate_bps=r.astype(float),
    )


# Line 0 – 1 – 2 of 100 km, 6 units per directed link (0→1: 0, 1→0: 1, 1→2: 2, 2→1: 3);
# 0 → 2 (200 km) is beyond the only format's 150 km reach.
TRACE = [
    (0.0, 10.0, 0, 1, 100e9),  # r0 link 0 units 0-2
    (1.0, 10.0, 0, 1, 100e9),  # r1 link 0 units 3-5
    (2.0, 5.0, 0, 1, 50e9),  # r2 link 0 full: no spectrum
    (3.0, 1.0, 0, 2, 100e9),  # r3 no format reaches 200 km
    (4.0, 1.0, 1, 2, 100e9),  # r4 link 2 units 0-2
    (5.0, 1.0, 2, 1, 100e9),  # r5 link 3 (the other direction) units 0-2
    (10.0, 1.0, 0, 1, 50e9),  # r6 r0 leaves at 10 (≤ 10): units 0-1
    (11.0, 1.0, 1, 1, 100e9),  # r7 source = destination: no path
    (12.0, 1.0, 1, 0, 100e9),  # r8 link 1 units 0-2
    (13.0, 1.0, 0, 1, 100e9),  # r9 r1 and r6 left at 11: units 0-2
]


def test_dynamic_run_traced_by_hand() -> None:
    net = build_rmsa_network(_line(), k=1, n_slots=6, formats=ONE_FORMAT)
    res = simulate_dynamic(net, _requests(TRACE), warmup=2, n_batches=2)
    assert res.reason.tolist() == [
        SERVED,
        SERVED,
        NO_SPECTRUM,
        NO_MODULATION,
        SERVED,
        SERVED,
        SERVED,
        NO_PATH,
        SERVED,
        SERVED,
    ]
    assert res.first_slot.tolist() == [0, 3, -1, -1, 0, 0, 0, -1, 0, 0]
    assert res.width_slots.tolist() == [3, 3, 0, 0, 3, 3, 2, 0, 3, 3]
    assert res.path_index.tolist() == [0, 0, -1, -1, 0, 0, 0, -1, 0, 0]
    for arr in (res.reason, res.first_slot, res.width_slots, res.path_index):
        assert arr.dtype == np.int64
    # measured: r2..r9; blocked r2, r3, r7
    assert res.n_measured == 8
    assert res.blocking_probability == 3 / 8
    blocked = np.array([1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    assert (res.ci_low, res.ci_high) == batch_means_ci(blocked, 2)[1:]
    # bit rate: 50 + 100 + 100 blocked of 50 + 100·6 + 50 offered
    assert res.bit_rate_blocking == pytest.approx(250 / 700, rel=1e-15)
    assert res.reason_counts == {
        "served": 5,
        "no path": 1,
        "no mode with enough reach/GSNR": 1,
        "no spectrum": 1,
    }
    # cells in use at each measured arrival (after departures): 6, 6, 6, 6 (r4 left at 5),
    # 3 (r0 and r5 left), 0, 0, 0 → 27 over 8 arrivals × 4 links × 6 units
    assert res.mean_utilisation == pytest.approx(27 / 192, rel=1e-15)


def test_dynamic_run_needs_enough_measured_requests_and_valid_nodes() -> None:
    net = build_rmsa_network(_line(), k=1, n_slots=6, formats=ONE_FORMAT)
    req = _requests(TRACE)
    # exactly n_batches measured requests is enough
    assert simulate_dynamic(net, req, warmup=8, n_batches=2).n_measured == 2
    with pytest.raises(DataError, match="leave 1 after a warm-up of 9"):
        simulate_dynamic(net, req, warmup=9, n_batches=2)
    for bad in (
        [(0.0, 1.0, -1, 1, 1e9)],
        [(0.0, 1.0, 0, -1, 1e9)],
        [(0.0, 1.0, 0, 3, 1e9)],
        [(0.0, 1.0, 3, 0, 1e9)],
    ):
        with pytest.raises(DataError, match=r"node ids must lie in 0\.\.2"):
            simulate_dynamic(net, _requests(bad * 3), warmup=0, n_batches=2)


def test_dynamic_run_without_rate_or_links() -> None:
    net = build_rmsa_network(_line(), k=1, n_slots=6, formats=ONE_FORMAT)
    zero = _requests([(float(t), 1.0, 0, 1, 0.0) for t in range(4)])
    assert simulate_dynamic(net, zero, warmup=0, n_batches=2).bit_rate_blocking == 0.0
    # a rate below 1 b/s in total still gives the share blocked: 0.25 of 0.5 b/s here
    tiny = _requests([(0.0, 1.0, 0, 2, 0.25), (1.0, 1.0, 0, 1, 0.25)])
    assert simulate_dynamic(net, tiny, warmup=0, n_batches=2).bit_rate_blocking == 0.5
    nodes_only = build_rmsa_network(_topo([0], [1], [10.0], n=3), k=1, n_slots=6)
    res = simulate_dynamic(
        nodes_only, _requests([(0.0, 1.0, 0, 2, 1e9)] * 2), warmup=0, n_batches=2
    )
    assert res.reason.tolist() == [NO_PATH, NO_PATH]
    bare = build_rmsa_network(
        Topology(
            name="bare",
            node_name=np.array(["a", "b", "c"]),
            lat_deg=np.full(3, np.nan),
            lon_deg=np.full(3, np.nan),
            src=np.zeros(0, dtype=np.int64),
            dst=np.zeros(0, dtype=np.int64),
            length_km=np.zeros(0),
        ),
        k=1,
        n_slots=6,
    )
    assert bare.n_links == 0
    r0 = simulate_dynamic(bare, _requests([(0.0, 1.0, 0, 2, 1e9)] * 2), warmup=0, n_batches=2)
    assert r0.mean_utilisation == 0.0
    assert r0.blocking_probability == 1.0


def test_dynamic_run_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # 6 units and 20 Erlang: about three quarters of the measured requests are blocked, so the
    # batch-means interval depends on the number of batches
    net = build_rmsa_network(_line(), k=1, n_slots=6)
    req = poisson_requests(3020, 20.0, 3, np.random.default_rng(1))
    default = simulate_dynamic(net, req, "ksp-rf")
    explicit = simulate_dynamic(
        net, req, "ksp-rf", warmup=3000, n_batches=10, rng=np.random.default_rng(0)
    )
    assert default.n_measured == 20
    np.testing.assert_array_equal(default.first_slot, explicit.first_slot)
    assert (default.ci_low, default.ci_high) == (explicit.ci_low, explicit.ci_high)
    assert 0.0 < default.blocking_probability < 1.0
    eleven = simulate_dynamic(net, req, "ksp-rf", n_batches=11)
    assert (eleven.ci_low, eleven.ci_high) != (default.ci_low, default.ci_high)
    ff = simulate_dynamic(net, req)
    np.testing.assert_array_equal(
        ff.first_slot, simulate_dynamic(net, req, KspFirstFit()).first_slot
    )
    # an explicit generator is the one the policy draws from
    a = simulate_dynamic(net, req, "ksp-rf", rng=np.random.default_rng(7))
    b = simulate_dynamic(net, req, "ksp-rf", rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.first_slot, b.first_slot)
    assert not np.array_equal(a.first_slot, default.first_slot)


class _Fixed:
    """A policy that always returns the same pick (to test the rule checks)."""

    name = "fixed"

    def __init__(self, pick: tuple[int, int]) -> None:
        self.pick = pick

    def choose(self, grid, paths, widths, rng):  # type: ignore[no-untyped-def]
        return self.pick


@pytest.mark.parametrize(
    ("pick", "match"),
    [
        ((1, 0), "chose candidate path 1"),  # only one candidate
        ((-1, 0), "chose candidate path -1"),
        ((0, -1), "not free on every link"),
        ((0, 4), "not free on every link"),  # 4 + 3 > 6 units
    ],
)
def test_rule_breaking_picks_are_refused(pick: tuple[int, int], match: str) -> None:
    net = build_rmsa_network(_line(), k=1, n_slots=6, formats=ONE_FORMAT)
    # the second request arrives after the first left: a refusal cannot come from a clash
    req = _requests([(0.0, 1.0, 0, 1, 100e9), (5.0, 1.0, 0, 1, 100e9)])
    with pytest.raises(DataError, match=match):
        simulate_dynamic(net, req, _Fixed(pick), warmup=0, n_batches=2)
    # the last unit is a valid start for a block that ends at the top
    apart = _requests([(0.0, 1.0, 0, 1, 100e9), (5.0, 1.0, 0, 1, 100e9)])
    ok = simulate_dynamic(net, apart, _Fixed((0, 3)), warmup=0, n_batches=2)
    assert ok.first_slot[0] == 3


def test_a_pick_on_a_path_without_a_format_is_refused() -> None:
    fmts = (ModulationFormat("S", 4.0, 150.0),)
    far = build_rmsa_network(
        _topo([0, 1, 0], [1, 2, 2], [100.0, 100.0, 140.0]), k=2, n_slots=6, formats=fmts
    )
    # 0 → 2: direct 140 km usable, via 1 200 km not; picking path 1 (the 200 km one) is refused
    req2 = _requests([(0.0, 1.0, 0, 2, 100e9)] * 2)
    with pytest.raises(DataError, match="non-zero width"):
        simulate_dynamic(far, req2, _Fixed((1, 0)), warmup=0, n_batches=2)


# ---------------------------------------------------------------------------------------------
# static assignment


def test_static_assignment_fields() -> None:
    net = build_rmsa_network(
        _line(), k=1, n_slots=6, formats=ONE_FORMAT, gsnr_db=lambda p, km: 30.0 - km / 100
    )
    grid = SpectrumGrid(net.n_links, net.n_slots)
    grid.allocate((0,), 0, 1)  # unit 0 of link 0 already in use
    res = assign_static(net, [0.0, 1, 0], [1.0, 2, 2], [100e9, 50e9, 1e9], grid=grid)
    assert res.reason.tolist() == [SERVED, SERVED, NO_MODULATION]
    assert res.first_slot.tolist() == [1, 0, -1]
    assert res.width_slots.tolist() == [3, 2, 0]
    assert res.path_links == [(0,), (2,), ()]
    assert res.path_nodes == [(0, 1), (1, 2), ()]
    np.testing.assert_array_equal(res.length_km[:2], [100.0, 100.0])
    assert np.isnan(res.length_km[2])
    np.testing.assert_array_equal(res.gsnr_db[:2], [29.0, 29.0])
    assert np.isnan(res.gsnr_db[2])
    assert res.modulation == ["16QAM", "16QAM", ""]
    assert res.grid is grid  # updated in place
    assert grid.occupied[0] == 0b1111
    for arr in (res.reason, res.first_slot, res.width_slots):
        assert arr.dtype == np.int64
    empty = assign_static(net, [], [], [])
    assert empty.reason.size == 0


def test_static_assignment_checks_and_defaults() -> None:
    net = build_rmsa_network(_line(), k=1, n_slots=6, formats=ONE_FORMAT)
    with pytest.raises(DataError, match="same length"):
        assign_static(net, [0, 1], [1], [1e9, 1e9])
    for s, d in (([-1], [1]), ([0], [-1]), ([3], [1]), ([0], [3])):
        with pytest.raises(DataError, match=r"node ids must lie in 0\.\.2"):
            assign_static(net, s, d, [1e9])
    for g in (SpectrumGrid(3, 6), SpectrumGrid(4, 5)):
        with pytest.raises(DataError, match="grid does not match"):
            assign_static(net, [0], [1], [1e9], grid=g)
    # a width of one unit (guard 0, 1 Gb/s) is a width
    one = build_rmsa_network(_line(), k=1, n_slots=6, formats=ONE_FORMAT, guard_slots=0)
    assert assign_static(one, [0], [1], [1e9]).reason.tolist() == [SERVED]
    # default rng: the same draws as default_rng(0); an explicit one is used as given
    rf_default = assign_static(net, [0] * 2, [1] * 2, [50e9] * 2, "ksp-rf")
    rf_zero = assign_static(
        net, [0] * 2, [1] * 2, [50e9] * 2, "ksp-rf", rng=np.random.default_rng(0)
    )
    assert rf_default.first_slot.tolist() == rf_zero.first_slot.tolist()
    draws = {
        tuple(
            assign_static(
                net, [0] * 2, [1] * 2, [50e9] * 2, KspRandomFit(), rng=np.random.default_rng(s)
            ).first_slot.tolist()
        )
        for s in range(8)
    }
    assert len(draws) > 1
    # the default policy is first fit
    assert assign_static(net, [0, 0], [1, 1], [50e9] * 2).first_slot.tolist() == [0, 2]


# ---------------------------------------------------------------------------------------------
# topologies


def test_resolve_topology_sinet_and_topohub() -> None:
    s = resolve_topology("sinet")
    assert s.n_nodes > 10
    assert resolve_topology("topohub:topozoo/Sinet").n_links == s.n_links


def _csv(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> str:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return str(p)


def test_topology_file_reading(tmp_path: Path) -> None:
    # BOM, indented comments, names stripped, first-seen order, lengths as given
    t = resolve_topology(
        _csv(tmp_path, "\ufeffa,b,length_km\n  # comment\n X ,Y,10.5\nY,Z,20\nZ,X,1e2\n")
    )
    assert t.node_name.tolist() == ["X", "Y", "Z"]
    assert t.src.tolist() == [0, 1, 2]
    assert t.dst.tolist() == [1, 2, 0]
    assert t.length_km.tolist() == [10.5, 20.0, 100.0]
    assert t.src.dtype == np.int64
    assert t.name.endswith("t.csv")
    assert np.isnan(t.lat_deg).all()
    assert np.isnan(t.lon_deg).all()
    assert t.lon_deg.dtype == np.float64
    assert t.lat_deg.size == 3


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("a,b\nX,Y\n", "header must name the columns a,b,length_km"),
        ("a,b,length_km\n", "no links found"),
        ("a,b,length_km\nX,Y,0\n", r"row 2: length_km must be > 0, got 0.0"),
        ("a,b,length_km\nX,Y,nan\n", "row 2: length_km must be > 0"),
        ("a,b,length_km\nX,Y,1\nX,X,5\n", "row 3: a link needs two different node names"),
        ("a,b,length_km\nX,,5\n", "row 2: a link needs two different node names"),
        ("a,b,length_km\n,Y,5\n", "row 2: a link needs two different node names"),
        ("a,b,length_km\nX,Y\n", r"row 2: length_km None is not a number"),
        (b"a,b,length_km\nX,Y,1\n\xff\n", r"t.csv:3: the file is not UTF-8 text \(byte 0xff\)"),
        ("a,b,length_km\nX,Y,1\x00\n", "contains NUL bytes"),
        ("a,b,length_km\nX,Y," + "1" * 200_000 + "\n", "not a readable CSV file"),
    ],
)
def test_topology_file_errors(tmp_path: Path, content: str | bytes, match: str) -> None:
    with pytest.raises(DataError, match=match):
        resolve_topology(_csv(tmp_path, content))


def test_topology_file_size_and_path_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _csv(tmp_path, "a,b,length_km\nX,Y,1\n")  # 20 bytes
    monkeypatch.setattr(rmsa, "_MAX_TOPOLOGY_BYTES", 20)
    assert resolve_topology(path).n_links == 1  # exactly the limit is read
    monkeypatch.setattr(rmsa, "_MAX_TOPOLOGY_BYTES", 19)
    with pytest.raises(DataError, match="larger than 0 MB"):
        resolve_topology(path)
    monkeypatch.setattr(rmsa, "_MAX_TOPOLOGY_BYTES", 3_000_000)
    with pytest.raises(DataError, match="larger than 3 MB"):
        resolve_topology(_csv(tmp_path, "a,b,length_km\n" + "X,Y,1\n" * 500_001, "big.csv"))
    with pytest.raises(DataError, match=r"cannot read topology file '.*missing\.csv'"):
        resolve_topology(str(tmp_path / "missing.csv"))
    with pytest.raises(DataError, match="contains a NUL byte"):
        resolve_topology("a\x00b.csv")
