"""The RMSA benchmark's array baseline is an independent KSP-FF: it must decide exactly alike."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from tsunagu.optical.rmsa import SERVED, build_rmsa_network, load_nsfnet, simulate_dynamic
from tsunagu.optical.traffic import poisson_requests

# benchmarks/ is not an installed package: load the module from its file.
_spec = importlib.util.spec_from_file_location(
    "bench_optical_rmsa", Path(__file__).parents[2] / "benchmarks" / "bench_optical_rmsa.py"
)
assert _spec is not None
assert _spec.loader is not None
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)
numpy_ksp_ff = _bench.numpy_ksp_ff


def test_bitmask_ksp_ff_equals_boolean_array_ksp_ff() -> None:
    net = build_rmsa_network(load_nsfnet(), k=5, n_slots=100)
    reqs = poisson_requests(5000, 300.0, 14, np.random.default_rng(9), truncate_holding=True)
    ours = simulate_dynamic(net, reqs, "ksp-ff", warmup=1000)
    base, seconds = numpy_ksp_ff(net, reqs, 1000)
    assert seconds > 0.0
    assert (ours.reason != SERVED).sum() > 50  # the load is high enough to block
    assert np.array_equal(ours.reason != SERVED, base != SERVED)
