"""Latency as distributions (tsunagu.sim.latency): quantiles against closed forms, the last-mile
mean against its closed form, conservation of the request weights, and invariants over random
inputs.

The closed-form checks are validation (the quantiles of a constant plus an exponential, of the
M/M/c waiting time and of a mixture of two shifted exponentials are solved here independently
of the module). Each quantile is checked the way the module states its error: the true CDF at
the reported p-quantile, widened by the histogram's bin width (0.1 %), lies within the row's
``cdf_error`` of p.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.compute.models import mmc_mean_wait_s
from tsunagu.errors import ScenarioError
from tsunagu.sim import latency as lt
from tsunagu.traffic import lastmile

LEVELS = (0.5, 0.95, 0.99)


def _flows(
    n: int,
    *,
    fixed_s: float | list[float] = 0.0,
    processing_s: float = 0.0,
    tech: str | list[str] = "",
    link_s: float | list[float] = 0.0,
    p_wait: float = 0.0,
    headroom: float = 1.0,
    requests: float | list[float] = 1.0,
    service: int | list[int] = 0,
    point: int | list[int] = 0,
) -> lt.FlowLatency:
    def arr(x: object, dtype: type = float) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=dtype), (n,)).copy()

    return lt.FlowLatency(
        point=arr(point, np.int64),
        service=arr(service, np.int64),
        requests=arr(requests),
        network_fixed_s=arr(fixed_s),
        processing_s=arr(processing_s),
        tech=lt.tech_code(np.broadcast_to(np.asarray(tech, dtype=str), (n,))),
        access_queue_s=np.zeros(n),
        link_queue_s=arr(link_s),
        gpu_wait_probability=arr(p_wait),
        gpu_headroom_per_s=arr(headroom),
    )


def _table(fl: lt.FlowLatency, samples: int = 200_000, seed: int = 1) -> dict[str, np.ndarray]:
    acc = lt.LatencyAccumulator(["s0", "s1"], ["R0", "R1"], steps=1, samples_per_group=samples)
    acc.add(fl, np.random.default_rng(seed))
    return {k: np.asarray(v) for k, v in acc.table().to_pydict().items()}


def _row(t: dict[str, np.ndarray], service: str, region: str) -> int:
    hit = np.flatnonzero((t["service"] == service) & (t["region"] == region))
    assert hit.size == 1
    return int(hit[0])


def _check_quantiles(cdf: Callable[[float], float], t: dict[str, np.ndarray], i: int) -> None:
    eps = float(t["cdf_error"][i])
    assert 0.0 < eps < 0.01
    for p, col in zip(LEVELS, ("p50_ms", "p95_ms", "p99_ms"), strict=True):
        q = float(t[col][i]) / 1e3
        assert cdf(q * (1.0 + 1.001 * lt.HIST_REL_WIDTH)) >= p - eps, (p, q)
        assert cdf(q * (1.0 - 1.001 * lt.HIST_REL_WIDTH)) <= p + eps, (p, q)


def test_constant_plus_exponential_has_the_closed_form_quantiles() -> None:
    # A fixed 12 ms and a GPU wait that always happens at rate 1/40 ms: q_p = c − m ln(1 − p).
    c, m = 0.012, 0.040
    t = _table(_flows(1, fixed_s=c, p_wait=1.0, headroom=1.0 / m))
    i = _row(t, "s0", "R0")
    _check_quantiles(lambda x: 1.0 - math.exp(-max(x - c, 0.0) / m), t, i)
    for p, col in zip(LEVELS, ("p50_ms", "p95_ms", "p99_ms"), strict=True):
        closed = (c - m * math.log(1.0 - p)) * 1e3
        assert t[col][i] == pytest.approx(closed, rel=0.02)
    assert t["mean_ms"][i] == pytest.approx((c + m) * 1e3, rel=1e-12)  # exact, not sampled


def test_mmc_wait_has_an_atom_at_zero_and_an_exponential_tail() -> None:
    # Erlang C = 0.3: the median is the fixed part itself; above 0.7 the tail is exponential,
    # q_p = c + ln(C / (1 − p)) / (cμ − λ).
    c, pw, h = 0.020, 0.3, 25.0
    t = _table(_flows(1, fixed_s=c, processing_s=0.0, p_wait=pw, headroom=h))
    i = _row(t, "s0", "R0")
    _check_quantiles(lambda x: 0.0 if x < c else 1.0 - pw * math.exp(-h * (x - c)), t, i)
    assert t["p50_ms"][i] == pytest.approx(c * 1e3, rel=2 * lt.HIST_REL_WIDTH)
    assert t["p99_ms"][i] == pytest.approx((c + math.log(pw / 0.01) / h) * 1e3, rel=0.02)


def test_flow_latency_takes_the_mmc_queue_of_the_site() -> None:
    # One GPU: M/M/1, Erlang C = ρ, cμ − λ = μ − λ. Two GPUs: C = 2ρ²/(1 + ρ) with ρ = a/2.
    lam = np.array([0.6, 1.2])
    svc = np.array([1.0, 1.0])
    servers = np.array([1.0, 2.0])
    fl = lt.flow_latency(
        served=[True, True, False],
        point=[0, 1, 2],
        service=[0, 0, 0],
        access=["ran", "fwa", "ran"],
        requests=[10.0, 5.0, 1.0],
        propagation_s=[0.004, 0.006, np.inf],
        transmission_s=0.001,
        equipment_s=[0.003, 0.003, 0.0],
        access_equipment_s=0.002,
        processing_s=0.5,
        access_queue_s=0.0,
        link_queue_s=0.0,
        site=[0, 1, 0],
        site_rps=lam,
        site_service_s=svc,
        site_servers=servers,
    )
    assert fl.size == 2  # the unserved flow is left out
    rho2 = 1.2 / 2.0
    np.testing.assert_allclose(fl.gpu_wait_probability, [0.6, 2 * rho2**2 / (1 + rho2)])
    np.testing.assert_allclose(fl.gpu_headroom_per_s, [0.4, 0.8])
    # Its mean is the engine's M/M/c mean wait.
    m = lt.mean_latency_s(fl)
    np.testing.assert_allclose(
        m["processing"] - 0.5, mmc_mean_wait_s(lam, svc, servers), rtol=1e-12
    )
    # The RAN's constant access equipment is replaced by the NR last-mile budget; an access
    # without a budget (fwa) keeps it.
    np.testing.assert_allclose(fl.network_fixed_s, [0.004 + 0.001 + 0.001, 0.006 + 0.001 + 0.003])
    assert list(fl.tech) == [lastmile.TECHNOLOGIES.index("nr"), -1]
    nr = lastmile.mean_delay_s("nr", "up") + lastmile.mean_delay_s("nr", "down")
    np.testing.assert_allclose(m["lastmile"], [nr, 0.0])


def test_mixture_of_two_shifted_exponentials_solved_numerically() -> None:
    # Weights 3:1, shifts 5 and 30 ms, means 2 and 10 ms (link queueing, exponential).
    w, c, m = np.array([3.0, 1.0]), np.array([0.005, 0.030]), np.array([0.002, 0.010])
    fl = _flows(2, fixed_s=list(c), link_s=list(m), requests=list(w))

    def cdf(x: float) -> float:
        z = np.maximum(x - c, 0.0) / m
        return float(np.sum(w * (1.0 - np.exp(-z))) / w.sum())

    def solve(p: float) -> float:
        lo, hi = 0.0, 1.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
        return hi

    t = _table(fl)
    i = _row(t, "s0", "R0")
    _check_quantiles(cdf, t, i)
    # p50 in the first component's tail, p95 and p99 in the second's.
    assert t["p50_ms"][i] == pytest.approx(solve(0.5) * 1e3, rel=0.02)
    assert t["p99_ms"][i] == pytest.approx(solve(0.99) * 1e3, rel=0.02)
    assert t["mean_ms"][i] == pytest.approx(float(np.sum(w * (c + m)) / w.sum()) * 1e3)


@pytest.mark.parametrize("tech", lastmile.TECHNOLOGIES)
def test_lastmile_draws_have_the_closed_form_mean(tech: str) -> None:
    n = 100_000
    fl = _flows(1, tech=tech)
    total, network = lt.draw_latency_s(fl, np.zeros(n, dtype=np.int64), np.random.default_rng(3))
    np.testing.assert_array_equal(total, network)
    closed = lastmile.mean_delay_s(tech, "up") + lastmile.mean_delay_s(tech, "down")
    se = float(np.std(total)) / math.sqrt(n)
    assert abs(float(np.mean(total)) - closed) < 5.0 * se
    assert lt.mean_latency_s(fl)["lastmile"][0] == pytest.approx(closed, rel=1e-12)


def test_every_engine_access_maps_to_a_shipped_budget() -> None:
    from tsunagu.sim.access import access_names

    for name in access_names():
        assert lt.LASTMILE_TECH[name] in lastmile.TECHNOLOGIES


def test_requests_are_conserved_over_groups_and_steps() -> None:
    rng = np.random.default_rng(5)
    acc = lt.LatencyAccumulator(
        ["a", "b", "c"], ["X", "Y", "X", "Z"], steps=3, samples_per_group=900
    )
    total = 0.0
    for step in range(3):
        n = 40
        req = rng.uniform(0.0, 10.0, n)
        req[:5] = 0.0  # flows without requests add nothing
        fl = _flows(
            n,
            fixed_s=list(rng.uniform(0.001, 0.05, n)),
            link_s=list(rng.uniform(0.0, 0.002, n)),
            requests=list(req),
            service=list(rng.integers(0, 3, n)),
            point=list(rng.integers(0, 4, n)),
            tech=list(rng.choice(["", "nr", "leo"], n)),
        )
        acc.add(fl, np.random.default_rng([9, step]))
        total += float(req.sum())
    t = {k: np.asarray(v) for k, v in acc.table().to_pydict().items()}
    pair = (t["service"] != lt.ALL) & (t["region"] != lt.ALL)
    assert t["requests"][pair].sum() == pytest.approx(total)
    for s in ("a", "b", "c"):
        own = pair & (t["service"] == s)
        assert t["requests"][_row(t, s, lt.ALL)] == pytest.approx(t["requests"][own].sum())
        assert t["samples"][_row(t, s, lt.ALL)] == t["samples"][own].sum()
    for g in ("X", "Y", "Z"):
        own = pair & (t["region"] == g)
        assert t["requests"][_row(t, lt.ALL, g)] == pytest.approx(t["requests"][own].sum())
    assert t["requests"][_row(t, lt.ALL, lt.ALL)] == pytest.approx(total)
    # n samples per group and step it appears in (900 over 3 steps).
    assert set(t["samples"][pair] % 300) == {0}


def test_steps_stream_into_the_request_weighted_mixture() -> None:
    # Two steps of one flow each equal one step holding both flows (same weights).
    a = _flows(1, fixed_s=0.010, link_s=0.004, requests=3.0)
    b = _flows(1, fixed_s=0.050, link_s=0.001, requests=1.0)
    acc = lt.LatencyAccumulator(["s"], ["R"], steps=2, samples_per_group=400_000)
    acc.add(a, np.random.default_rng(1))
    acc.add(b, np.random.default_rng(2))
    two = acc.table().to_pydict()
    both = _flows(2, fixed_s=[0.010, 0.050], link_s=[0.004, 0.001], requests=[3.0, 1.0])
    acc1 = lt.LatencyAccumulator(["s"], ["R"], steps=1, samples_per_group=400_000)
    acc1.add(both, np.random.default_rng(3))
    one = acc1.table().to_pydict()
    assert two["requests"][0] == one["requests"][0] == 4.0
    assert two["mean_ms"][0] == pytest.approx(one["mean_ms"][0])
    for col in ("p50_ms", "p95_ms", "p99_ms"):
        assert two[col][0] == pytest.approx(one[col][0], rel=0.03)


def test_infinite_queue_gives_infinite_quantiles_not_a_crash() -> None:
    t = _table(_flows(1, fixed_s=0.01, p_wait=1.0, headroom=0.0), samples=1000)
    i = _row(t, "s0", "R0")
    assert math.isinf(t["p50_ms"][i])
    assert math.isinf(t["mean_ms"][i])


def test_bad_inputs_are_refused_with_the_fix() -> None:
    with pytest.raises(ScenarioError, match="LASTMILE_TECH"):
        lt.tech_code(["nr", "dsl"])
    with pytest.raises(ScenarioError, match="samples_per_group"):
        lt.LatencyAccumulator(["s"], ["R"], steps=0)
    acc = lt.LatencyAccumulator(["s"], ["R"], steps=1)
    with pytest.raises(ScenarioError, match="requests"):
        acc.add(_flows(1, requests=-1.0), np.random.default_rng(0))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    tech=st.sampled_from(["", "nr", "lte", "haps", "leo", "ftth"]),
)
def test_quantiles_are_ordered_and_above_the_fixed_part(n: int, seed: int, tech: str) -> None:
    rng = np.random.default_rng(seed)
    fixed = rng.uniform(0.0005, 0.2, n)
    proc = rng.uniform(0.0, 1.0, n)
    fl = lt.FlowLatency(
        point=rng.integers(0, 2, n),
        service=rng.integers(0, 2, n),
        requests=rng.uniform(0.1, 100.0, n),
        network_fixed_s=fixed,
        processing_s=proc,
        tech=lt.tech_code(np.full(n, tech)),
        access_queue_s=rng.uniform(0.0, 0.001, n),
        link_queue_s=rng.uniform(0.0, 0.01, n),
        gpu_wait_probability=rng.uniform(0.0, 1.0, n),
        gpu_headroom_per_s=rng.uniform(1.0, 1000.0, n),
    )
    t = _table(fl, samples=2000, seed=seed)
    floor_ms = float(np.min(fixed + proc)) * 1e3
    net_floor_ms = float(np.min(fixed)) * 1e3
    for i in range(t["service"].size):
        p = [t["p50_ms"][i], t["p95_ms"][i], t["p99_ms"][i]]
        pn = [t["network_p50_ms"][i], t["network_p95_ms"][i], t["network_p99_ms"][i]]
        assert p[0] <= p[1] <= p[2]
        assert pn[0] <= pn[1] <= pn[2]
        assert p[0] >= floor_ms * (1.0 - lt.HIST_REL_WIDTH)
        assert pn[0] >= net_floor_ms * (1.0 - lt.HIST_REL_WIDTH)
        assert all(a <= b for a, b in zip(pn, p, strict=True))  # network ≤ total, per draw
        assert t["mean_ms"][i] == pytest.approx(
            t["network_mean_ms"][i] + t["processing_mean_ms"][i]
        )


def test_run_means_are_the_flows_means_with_the_last_mile_in_place_of_the_access_delay() -> None:
    """In a run with half the cells down (people on RAN, HAPS and LEO), each group's mean is
    the flows' request-weighted mean total, less the access equipment delay there and back,
    plus the last-mile round trip of the flow's technology (consistency check)."""
    from pathlib import Path

    import pyarrow.compute as pc

    from tsunagu.scenario import load_scenario
    from tsunagu.scenario.schema import Event
    from tsunagu.sim import catalogue as kc
    from tsunagu.sim.engine import run_twin
    from tsunagu.sim.twin import Twin

    minimal = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
    outage = Event(kind="ran_outage", target="all", start_s=0.0, end_s=3600.0, factor=0.5)
    sc = load_scenario(minimal)
    sc = sc.model_copy(update={"events": [outage]})
    res = run_twin(Twin(sc))
    f = res.flows
    served = pc.not_equal(f["site"], "").to_numpy(zero_copy_only=False)
    access = np.asarray(f["access"].to_pylist())
    assert {"ran", "haps", "leo"} <= set(access[served])
    w = (f[kc.DEMAND_RPS.name].to_numpy() * f["carried_share"].to_numpy())[served]
    w = w * sc.timeline.step_s
    equip = np.where(access == "ran", sc.ran.air_interface_delay_s, sc.ntn.processing_delay_s)
    rt = {
        t: lastmile.mean_delay_s(t, "up") + lastmile.mean_delay_s(t, "down")
        for t in ("nr", "haps", "leo")
    }
    lm = np.array([rt.get(lt.LASTMILE_TECH.get(a, ""), 0.0) for a in access])
    want = f["latency_total_ms"].to_numpy()[served] + (lm[served] - 2.0 * equip[served]) * 1e3
    svc = np.asarray(f["service"].to_pylist())[served]
    reg = np.asarray(f["region"].to_pylist())[served]
    t = {k: np.asarray(v) for k, v in res.latency.to_pydict().items()}
    for i in range(t["service"].size):
        sel = np.ones(w.size, dtype=bool)
        if t["service"][i] != lt.ALL:
            sel &= svc == t["service"][i]
        if t["region"][i] != lt.ALL:
            sel &= reg == t["region"][i]
        assert t["requests"][i] == pytest.approx(w[sel].sum(), rel=1e-9)
        assert t["mean_ms"][i] == pytest.approx(np.sum(w[sel] * want[sel]) / w[sel].sum(), rel=1e-9)
        mix = np.sum(w[sel] * lm[served][sel]) / w[sel].sum() * 1e3
        assert t["lastmile_mean_ms"][i] == pytest.approx(mix, rel=1e-9)
