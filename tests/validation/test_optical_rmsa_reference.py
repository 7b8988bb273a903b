"""RMSA against published references.

1. **DeepRMSA NSFNET benchmark, KSP-FF** — the setting of X. Chen et al., "DeepRMSA: A Deep
   Reinforcement Learning Framework for Routing, Modulation and Spectrum Assignment in Elastic
   Optical Networks", J. Lightwave Technol. 37(16):4155-4163, 2019 (authors' code
   github.com/xiaoliangchenUCD/DeepRMSA, ``K-SP-FF benchmark_NSFNET.py``): NSFNET 14 nodes /
   22 fibre pairs with one spectrum per direction (44 links), 100 slot units of 12.5 GHz,
   ``ceil(R / (SE · 12.5 GHz)) + 1`` units, SE 4/3/2/1 for paths <= 625 / 1250 / 2500 km / beyond,
   bit rate uniform on 25..100 Gb/s, uniform ordered pairs, Poisson arrivals, exponential
   holding redrawn when >= 2 × mean, k = 5 shortest paths by length, 3000 warm-up requests.
   Reference value: **5.0 %** service blocking probability for 5-SP-FF (paths sorted by km) at
   250 Erlang (arrival rate 10, mean holding 25), the reference line of Fig. 8 of M. Doherty
   et al., "XLRON" (JOCN paper, reproduced in github.com/micdoh/XLRON
   ``experimental/benchmarks/plot_deeprmsa_comparison.py``: ``axhline(y=5.0, label="5-SP-FF_km")``;
   the command there is ``--load=250 --k=5 --link_resources=100 --truncate_holding``). The value
   is given to 0.1 percentage point (pp) and without its own uncertainty.

   Tolerance: our batch-means half-width at 99.8 % (40 batches; see "Seed robustness" below)
   plus 0.3 pp, which covers (a) the reference's
   unpublished statistical error (the DeepRMSA script measures 10 × 10,000 requests: binomial
   standard error 0.07 pp at 5 %, two to three times that with the correlation between
   successive requests) and (b) the order of equal-length candidate paths, which NSFNET has
   and which the reference's path generator (Matlab ``kShortestPath``) may break differently:
   two tie-break rules moved our estimate by 0.13 pp at the same seed.

   No KSP-FF value at another load in this km-sorted setting could be traced to a source
   reachable here (DeepRMSA repository, XLRON repository and issues, optical-rl-gym); the load
   sweep is case 2.

2. **DeepRMSA NSFNET setting, KSP-FF at 5 loads, XLRON's default path set** — the table
   "NSFNET (``nsfnet_deeprmsa_directed``) — service blocking probability", row ``ksp_ff``, of
   M. Doherty, github.com/micdoh/XLRON pull request #46 ("Add literature-based RMSA heuristics
   (MSCL, Exact-Fit, First-Last-Fit) with DeepRMSA benchmarks", merged; description of
   2026-07-11): 190 / 210 / 230 / 250 / 270 Erlang → 2.12e-3 / 6.24e-3 / 1.40e-2 / 2.52e-2 /
   3.93e-2. Setting stated there: the DeepRMSA setting above (directed NSFNET, 100 units,
   DeepRMSA modulation table, bit rate uniform 25..100 Gb/s, continuous operation, 3000
   warm-up requests, k = 5) with mean holding 20 and truncation, 50 runs × 40,000 requests per
   load, values = mean over the 50 runs, "std across envs ≲ 10 % of the mean everywhere".
   The run uses XLRON's default candidate paths (``--path_sort_criteria`` default
   ``spectral_resources``, no ``--weight``; ``xlron/environments/env_funcs.py``
   ``init_path_link_array``): the first k paths of ``networkx.shortest_simple_paths`` by
   *hop count* on the topology file's graph (nodes 1..14, the 22 links in file order, then
   their reverses), ordered by (hops, SHA-256 of the node list), then stably re-sorted by
   hops / spectral efficiency. This path set, not the traffic, is why it blocks about half as
   much as case 1 at 250 Erlang (our simulator, same traffic: 4.7 % with the km-sorted paths,
   2.6 % with this set). ``_xlron_default_paths`` below rebuilds that path table (our simulator
   routes by length only) with networkx 3.6.1, the version in XLRON's ``uv.lock``, so that
   networkx's order among equal-hop paths is the same; the test compares per load.

   Tolerance: our batch-means half-width at 99.8 % plus the 99.8 % half-width of the
   reference, a mean over 50 runs whose spread is at most 10 % of the mean
   (3.09 × 10 % / √50 = 4.4 % of the value), plus half a unit of the last printed digit.

   Seed robustness. With independent normal errors, |ours − ref| exceeds the sum of two 99.8 %
   half-widths with probability below 0.2 %, so the five loads together fail falsely less than
   1 % of the time. The half-width is our own batch-means estimate, so it needs enough batches
   to be stable: with 10 batches (as before) its relative spread is ~24 % and the Student
   quantile 2.26; with 40 batches of ~10,000 requests (longer than the correlation time of the
   blocking process by far) ~11 % and 2.02, scaled to 99.8 % by t(0.999, 39)/t(0.975, 39).
   Measured on 20 other seeds (5000–5019) per load: the largest |error| / allowed was
   0.43 / 0.39 / 0.49 / 0.63 / 0.56 at 190 … 270 Erlang and 0.41 for case 1, no failure (the
   old 95 % rule reached 0.91 at 190 Erlang on the same kind of sweep). The run-to-run standard
   deviation over those seeds sat at 3.7 % (190 E) down to 1.6 % (270 E) of the value, so a
   bias larger than about 10 % (270 E) to 22 % (190 E) of the reference still fails.

3. **Erlang's loss formula** at several loads: a single link of C slot units offered requests
   of one unit each is an M/M/C/C loss system, whose blocking is exactly Erlang B,
   ``B(C, A)`` (A. K. Erlang, 1917; e.g. Kleinrock, Queueing Systems Vol. 1, eq. 3.46). This
   checks the whole dynamic-traffic machinery (arrivals, holding, release, warm-up, counting,
   confidence interval) at 4 loads from 0.19 % to 16 % blocking. Tolerance: 2 × our 95 %
   batch-means half-width and nothing else. Measured over 20 other seeds per load (1000–1019):
   the largest |error| / half-width was 0.97, so no run came near the bound of 2. An 8 Erlang
   case (0.016 % blocking, about 10 blocked requests per run) was dropped: its batch-means
   interval is too noisy to bound anything (one of those 20 seeds reached 2.9 half-widths).
"""

from __future__ import annotations

import dataclasses
import hashlib
from functools import cache
from itertools import islice, pairwise

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from tsunagu.optical.rmsa import (
    ModulationFormat,
    RmsaNetwork,
    build_rmsa_network,
    load_nsfnet,
    required_gsnr_db,
    simulate_dynamic,
)
from tsunagu.optical.topology import Topology
from tsunagu.optical.traffic import poisson_requests

#: 5-SP-FF_km blocking of the DeepRMSA NSFNET setting at 250 Erlang (XLRON JOCN paper, Fig. 8).
DEEPRMSA_KSPFF_250E = 0.050
#: Allowance beyond our CI for the reference's own error and path tie order (see module doc).
REFERENCE_ALLOWANCE = 0.003
#: Batches of the batch-means interval and the two-sided 99.8 % scaling of its 95 % half-width.
N_BATCHES = 40
HALF_998_PER_HALF_95 = float(stats.t.ppf(0.999, N_BATCHES - 1) / stats.t.ppf(0.975, N_BATCHES - 1))
Z_998 = float(stats.norm.ppf(0.999))


def test_deeprmsa_nsfnet_ksp_ff_blocking_at_250_erlang() -> None:
    net = build_rmsa_network(load_nsfnet(), k=5, n_slots=100, directed=True, guard_slots=1)
    assert net.n_links == 44
    reqs = poisson_requests(
        103_000,
        250.0,
        14,
        np.random.default_rng(2019),
        mean_holding_s=25.0,
        bit_rate_gbps=(25, 100),
        truncate_holding=True,
    )
    res = simulate_dynamic(net, reqs, "ksp-ff", warmup=3000, n_batches=N_BATCHES)
    half = HALF_998_PER_HALF_95 * (res.ci_high - res.ci_low) / 2.0
    assert half < 0.006  # the run is long enough to say something at the 0.1 pp level
    error = abs(res.blocking_probability - DEEPRMSA_KSPFF_250E)
    assert error <= half + REFERENCE_ALLOWANCE, (
        f"KSP-FF blocking {res.blocking_probability:.4%} "
        f"[{res.ci_low:.4%}, {res.ci_high:.4%}] vs published 5.0 %"
    )
    assert set(res.reason_counts) >= {"no spectrum"}
    assert res.reason_counts["no path"] == 0


#: KSP-FF service blocking per load (Erlang), XLRON PR #46 table, XLRON default path set.
XLRON_PR46_KSPFF = {190: 2.12e-3, 210: 6.24e-3, 230: 1.40e-2, 250: 2.52e-2, 270: 3.93e-2}
#: 99.8 % half-width of a mean of 50 runs with spread <= 10 % of the mean, relative.
XLRON_PR46_REL_UNCERTAINTY = Z_998 * 0.10 / np.sqrt(50)


@cache
def _xlron_default_paths(k: int = 5) -> RmsaNetwork:
    """NSFNET with XLRON's default candidate paths (see module docstring, case 2)."""
    topo = load_nsfnet()
    net = build_rmsa_network(topo, k=k, n_slots=100, directed=True, guard_slots=1)
    n = topo.n_nodes
    ends = list(zip(topo.src.tolist(), topo.dst.tolist(), strict=True))
    g = nx.DiGraph()
    g.add_nodes_from(range(1, n + 1))
    g.add_edges_from((u + 1, v + 1) for u, v in ends)
    g.add_edges_from((v + 1, u + 1) for u, v in ends)
    link: dict[tuple[int, int], int] = {}
    km: dict[tuple[int, int], float] = {}
    for e, (u, v) in enumerate(ends):
        link[(u, v)], link[(v, u)] = 2 * e, 2 * e + 1  # build_rmsa_network's directed ids
        km[(u, v)] = km[(v, u)] = float(topo.length_km[e])
    se = np.array([f.spectral_efficiency_bps_per_hz for f in net.formats])
    reach = np.array([f.max_reach_km for f in net.formats])
    path_links: list[list[tuple[int, ...]]] = [[] for _ in range(n * n)]
    path_nodes: list[list[tuple[int, ...]]] = [[] for _ in range(n * n)]
    length = np.full((n * n, k), np.nan)
    fmt = np.full((n * n, k), -1, dtype=np.int64)
    for s in range(n):
        for t in range(n):
            if s == t:
                continue
            paths = list(islice(nx.shortest_simple_paths(g, s + 1, t + 1, weight=None), k))
            paths.sort(key=lambda p: (len(p), int(hashlib.sha256(str(p).encode()).hexdigest(), 16)))
            rows = []
            for p in paths:
                hops = [(a - 1, b - 1) for a, b in pairwise(p)]
                d = sum(km[h] for h in hops)
                f = int(np.argmax(np.where(d <= reach, se, -np.inf)))
                rows.append((len(hops) / max(se[f], 1.0), hops, d, f))
            rows.sort(key=lambda r: r[0])  # stable: equal ratios keep the hash order
            for i, (_, hops, d, f) in enumerate(rows):
                path_links[s * n + t].append(tuple(link[h] for h in hops))
                path_nodes[s * n + t].append((hops[0][0], *(h[1] for h in hops)))
                length[s * n + t, i] = d
                fmt[s * n + t, i] = f
    return dataclasses.replace(
        net, path_links=path_links, path_nodes=path_nodes, path_length_km=length, path_format=fmt
    )


@pytest.mark.parametrize("load", sorted(XLRON_PR46_KSPFF))
def test_deeprmsa_nsfnet_ksp_ff_blocking_follows_xlron_at_five_loads(load: int) -> None:
    net = _xlron_default_paths()
    reqs = poisson_requests(
        403_000,
        float(load),
        14,
        np.random.default_rng(load),
        mean_holding_s=20.0,
        bit_rate_gbps=(25, 100),
        truncate_holding=True,
    )
    res = simulate_dynamic(net, reqs, "ksp-ff", warmup=3000, n_batches=N_BATCHES)
    ref = XLRON_PR46_KSPFF[load]
    half = HALF_998_PER_HALF_95 * (res.ci_high - res.ci_low) / 2.0
    assert half < 0.3 * ref  # long enough to say something at this blocking level
    digit = 0.5 * 10.0 ** (np.floor(np.log10(ref)) - 2)  # three significant digits printed
    allowed = half + XLRON_PR46_REL_UNCERTAINTY * ref + digit
    error = abs(res.blocking_probability - ref)
    assert error <= allowed, (
        f"{load} E: KSP-FF blocking {res.blocking_probability:.4%} "
        f"[{res.ci_low:.4%}, {res.ci_high:.4%}] vs XLRON PR #46 {ref:.4%} (allowed {allowed:.4%})"
    )


def _erlang_b(channels: int, load: float) -> float:
    b = 1.0
    for i in range(1, channels + 1):
        b = load * b / (i + load * b)
    return b


@pytest.mark.parametrize("load", [10.0, 12.0, 16.0, 20.0])
def test_single_link_unit_requests_follow_erlang_b(load: float) -> None:
    link = Topology(
        name="link",
        node_name=np.array(["a", "b"]),
        lat_deg=np.full(2, np.nan),
        lon_deg=np.full(2, np.nan),
        src=np.array([0]),
        dst=np.array([1]),
        length_km=np.array([100.0]),
    )
    net = build_rmsa_network(
        link,
        k=1,
        n_slots=20,
        directed=False,
        formats=(ModulationFormat("QPSK", 2.0),),
        guard_slots=0,
    )
    # 25 Gb/s at 2 b/s/Hz in 12.5 GHz units: exactly one unit per request
    reqs = poisson_requests(
        60_000, load, 2, np.random.default_rng(int(load)), bit_rate_gbps=(25, 25)
    )
    res = simulate_dynamic(net, reqs, "ksp-ff", warmup=2000)
    exact = _erlang_b(20, load)
    half = (res.ci_high - res.ci_low) / 2.0
    assert abs(res.blocking_probability - exact) <= 2.0 * half, (
        f"{load} E: {res.blocking_probability:.5f} vs Erlang B {exact:.5f}"
    )


def test_required_gsnr_matches_textbook_awgn_ber() -> None:
    # Gray-coded BPSK/QPSK: BER = Q(sqrt(2 Eb/N0)); Eb/N0 = 6.79 dB at 1e-3 and 9.59 dB at
    # 1e-5 (Proakis & Salehi, Digital Communications, 5th ed., Fig. 4.3-3 / eq. 4.3-13).
    # Symbol SNR = Eb/N0 + 10 log10(bits per symbol).
    assert required_gsnr_db(1, 1e-3) == pytest.approx(6.79, abs=0.01)
    assert required_gsnr_db(1, 1e-5) == pytest.approx(9.59, abs=0.01)
    assert required_gsnr_db(2, 1e-3) == pytest.approx(6.79 + 3.01, abs=0.01)
    # 16QAM: Eb/N0 ≈ 10.5 dB at 1e-3 (same reference, Fig. 4.3-9 read-off ±0.1 dB).
    assert required_gsnr_db(4, 1e-3) - 10 * np.log10(4) == pytest.approx(10.5, abs=0.1)
