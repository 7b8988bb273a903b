"""The routing benchmark's Hypatia-style baseline and tsunagu agree on a small shell.

The benchmark itself (``python -m benchmarks ntn_routing``) runs the large cases; this keeps its
baseline honest (same RTTs as ours) without timing anything.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from benchmarks import bench_ntn_routing as bench

from tsunagu.ntn import isl, orbits, routing


def test_baseline_matches_all_pairs_on_a_small_shell() -> None:
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    es = orbits.walker_elements(12, 10, 5, 550e3, 53.0, epoch)
    pairs = isl.grid_isl_pairs(12, 10)
    rng = np.random.default_rng(5)
    ground = routing.ground_points(
        [f"g{k}" for k in range(8)], rng.uniform(-50, 50, 8), rng.uniform(-180, 180, 8)
    )
    t = np.array([0.0, 123.4])
    ours = bench._ours(es, pairs, ground, t)
    jd, fr = orbits.julian_date(epoch)
    for k in range(t.size):
        ref = bench._baseline_step(es, pairs, ground, jd, fr + t[k] / 86400.0)
        assert np.array_equal(np.isfinite(ref), np.isfinite(ours[k]))
        fin = np.isfinite(ref)
        assert fin.sum() > 8  # some pairs are connected
        np.testing.assert_allclose(ours[k][fin], ref[fin], rtol=0, atol=1e-12)
