from __future__ import annotations

import numpy as np
import pytest

from tsunagu.errors import ScenarioError
from tsunagu.traffic import lastmile


def test_every_technology_has_a_distribution() -> None:
    rng = np.random.default_rng(1)
    assert {"ftth", "nr", "lte", "haps", "leo"} <= set(lastmile.TECHNOLOGIES)
    for tech in lastmile.TECHNOLOGIES:
        for d in ("down", "up"):
            x = lastmile.access_delay_s(tech, 20_000, rng, d)
            p50, p99 = np.percentile(x, [50, 99])
            assert 0.0 < p50 < p99 < 0.1
            assert all(c.source for c in lastmile.components(tech, d))


def test_nr_mean_within_tr38913_embb_budget_and_below_lte() -> None:
    """Consistency with the 3GPP TR 38.913 / ITU-R M.2410 eMBB user-plane target (4 ms one way)."""
    rng = np.random.default_rng(2)
    for d in ("down", "up"):
        nr = lastmile.access_delay_s("nr", 50_000, rng, d).mean()
        lte = lastmile.access_delay_s("lte", 50_000, rng, d).mean()
        assert nr < 4e-3
        assert nr < lte


def test_components_sum_to_analytic_mean() -> None:
    """The sampled mean equals the closed-form sum of component means (within 1 %)."""
    rng = np.random.default_rng(3)
    for tech in lastmile.TECHNOLOGIES:
        expect = 0.0
        for c in lastmile.components(tech, "up"):
            if c.dist == "uniform":
                expect += (c.a_s + c.b_s) / 2
            elif c.dist == "constant":
                expect += c.a_s
            elif c.dist == "lognormal":
                expect += c.a_s * np.exp((np.log(c.b_s / c.a_s) / 1.6448536) ** 2 / 2)
            else:
                expect += c.a_s * c.p / (1 - c.p)
        got = lastmile.access_delay_s(tech, 200_000, rng, "up").mean()
        assert got == pytest.approx(expect, rel=0.01)
    rtt = lastmile.access_rtt_s("ftth", 1000, rng)
    assert rtt.shape == (1000,)


def test_unknown_inputs_raise() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ScenarioError):
        lastmile.access_delay_s("dialup", 10, rng)
    with pytest.raises(ScenarioError):
        lastmile.access_delay_s("nr", 10, rng, "sideways")  # type: ignore[arg-type]


@pytest.mark.parametrize("tech", lastmile.TECHNOLOGIES)
@pytest.mark.parametrize("direction", ["down", "up"])
def test_mean_delay_matches_sampled_mean(tech: str, direction: str) -> None:
    """mean_delay_s (closed form) against 200,000 draws: within 1 % (sampling error ~0.2 %)."""
    rng = np.random.default_rng(11)
    got = lastmile.access_delay_s(tech, 200_000, rng, direction).mean()  # type: ignore[arg-type]
    assert lastmile.mean_delay_s(tech, direction) == pytest.approx(got, rel=0.01)  # type: ignore[arg-type]
