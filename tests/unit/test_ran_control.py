"""RAN environment invariants and controller behaviour on a small layout (7 sites × 3 sectors)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.errors import ScenarioError
from tsunagu.ran.control import (
    AlwaysOnController,
    MilpEnergyController,
    ThresholdSleepController,
    available_controllers,
    compare_controllers,
    make_controller,
    register_controller,
    run_episode,
)
from tsunagu.ran.energy import BsState
from tsunagu.ran.environment import (
    Action,
    CellInfo,
    EnvironmentConfig,
    Observation,
    RanEnvironment,
    hex_site_positions_m,
)
from tsunagu.ran.rate import NR_OVERHEAD_DL_FR1
from tsunagu.sim.demand import PROFILES

PROFILE = tuple(float(x) for x in PROFILES["residential"])


def _cfg(**kw: object) -> EnvironmentConfig:
    base: dict[str, object] = {
        "hourly_profile": PROFILE,
        "n_rings": 1,
        "points_per_sector": 8,
        "n_steps": 6,
        "step_s": 4 * 3600.0,
    }
    base.update(kw)
    return EnvironmentConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def env() -> RanEnvironment:
    return RanEnvironment(_cfg(), seed=3)


def test_hex_layout_spacing() -> None:
    xy = hex_site_positions_m(2, 500.0)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert xy.shape == (19, 2)
    np.testing.assert_allclose(d.min(axis=1), 500.0, rtol=1e-12)


def test_same_seed_same_day_other_seed_other_day() -> None:
    a, b, c = (RanEnvironment(_cfg(), s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.demand_bps, b.demand_bps)
    np.testing.assert_array_equal(a.info.rx_dbm, b.info.rx_dbm)
    assert not np.array_equal(a.demand_bps, c.demand_bps)


def test_full_buffer_rates_within_truncated_shannon(env: RanEnvironment) -> None:
    r = env.info.full_buffer_rate_bps
    se = r / (env.info.bandwidth_hz[None, :] * (1.0 - NR_OVERHEAD_DL_FR1))
    assert np.all(se >= 0.0)
    assert np.all(se <= 0.6 * np.log2(1.0 + 10.0**3.0) + 1e-9)


@given(seed=st.integers(0, 1000), controller=st.sampled_from(["always-on", "threshold", "milp"]))
@settings(max_examples=8, deadline=None)
def test_episode_invariants(seed: int, controller: str) -> None:
    env = RanEnvironment(_cfg(n_steps=3), seed)
    res = run_episode(env, make_controller(controller), seed)
    assert np.all(res.energy_j > 0.0)
    assert res.served_bits <= res.offered_bits * (1.0 + 1e-12)
    assert np.all(res.se_bps_per_hz >= 0.0)
    assert np.all(res.se_bps_per_hz <= 5.99)
    assert np.all((res.sla_violations >= 0) & (res.sla_violations <= env.points_m.shape[0]))
    parts = sum(v for k, v in res.energy_by_state_j.items())
    assert parts == pytest.approx(res.energy_j.sum(), rel=1e-12)


def test_sleeping_cells_save_energy_and_interference(env: RanEnvironment) -> None:
    on = np.full(env.n_cells, int(BsState.ACTIVE))
    cap_asleep = np.where(env.info.cell_is_coverage, int(BsState.ACTIVE), int(BsState.DEEP_SLEEP))
    a = env.step(1, Action(state=on), on)
    b = env.step(1, Action(state=cap_asleep), on)
    assert b.energy_j["total"] < a.energy_j["total"]
    assert b.energy_j["transition"] == 0.0  # going to sleep costs nothing extra
    # with only the coverage layer on, its cells carry everything
    assert np.all(b.carried_bps[~env.info.cell_is_coverage] == 0.0)
    c = env.step(2, Action(state=on), cap_asleep)
    assert c.energy_j["transition"] > 0.0
    assert c.unavailable_s == pytest.approx(0.05 * np.sum(~env.info.cell_is_coverage))


def test_power_backoff_lowers_earth_energy_and_rates() -> None:
    env = RanEnvironment(_cfg(energy_model="earth"), 0)
    on = np.full(env.n_cells, int(BsState.ACTIVE))
    a = env.step(2, Action(state=on), on)
    b = env.step(2, Action(state=on, tx_backoff_db=np.full(env.n_cells, 6.0)), on)
    assert b.energy_j["total"] < a.energy_j["total"]
    assert b.se_bps_per_hz <= a.se_bps_per_hz + 1e-9


def test_cio_steers_traffic(env: RanEnvironment) -> None:
    on = np.full(env.n_cells, int(BsState.ACTIVE))
    cio = np.zeros(env.info.n_sectors)
    cio[0] = 20.0  # strongly favour sector 0
    a = env.step(2, Action(state=on), on)
    b = env.step(2, Action(state=on, cio_db=cio), on)
    sec0 = env.info.cell_sector == 0
    assert b.carried_bps[sec0].sum() > a.carried_bps[sec0].sum()


def test_threshold_keeps_coverage_and_sleeps_capacity_at_low_load(env: RanEnvironment) -> None:
    ctl = ThresholdSleepController(target_load=0.5)
    ctl.reset(env.info)
    first = ctl.act(env.observation(0, None))
    assert np.all(first.state == BsState.ACTIVE)  # nothing measured yet: all on
    on = first.state
    quiet = env.step(1, Action(state=on), on)  # 04:00, the quietest step
    act = ctl.act(env.observation(2, quiet))
    assert np.all(act.state[env.info.cell_is_coverage] == BsState.ACTIVE)
    assert np.any(act.state[~env.info.cell_is_coverage] == BsState.DEEP_SLEEP)


def test_milp_meets_its_load_bound_when_the_prediction_is_exact() -> None:
    # flat profile and no burstiness: the last step's demand is this step's demand, and the
    # realised rates are at least the full-buffer rates the MILP planned with, so every cell's
    # realised utilisation stays within max_load and every point keeps an active cell.
    env = RanEnvironment(_cfg(hourly_profile=tuple([1.0] * 24), demand_sigma=0.0), 5)
    ctl = MilpEnergyController(max_load=0.6)
    ctl.reset(env.info)
    on = np.full(env.n_cells, int(BsState.ACTIVE))
    prev = env.step(0, Action(state=on), on)
    act = ctl.act(env.observation(1, prev))
    out = env.step(1, act, prev.state)
    assert np.all(out.load <= 0.6 + 1e-6)
    assert np.any(out.state != BsState.ACTIVE)  # it does sleep something
    active = out.state == BsState.ACTIVE
    assert np.all((env.info.full_buffer_rate_bps[:, active] > 0.0).any(axis=1))
    assert out.served_bps == pytest.approx(out.offered_bps, rel=1e-9)


class _Plugin:
    """A user controller: sleep every capacity carrier, always."""

    name = "plugin-coverage-only"

    def __init__(self) -> None:
        self._info: CellInfo | None = None

    def reset(self, info: CellInfo) -> None:
        self._info = info

    def act(self, obs: Observation) -> Action:
        cov = obs.info.cell_is_coverage
        return Action(state=np.where(cov, int(BsState.ACTIVE), int(BsState.DEEP_SLEEP)))


def test_user_controller_plugs_in_by_name() -> None:
    register_controller("plugin-coverage-only", _Plugin)
    assert "plugin-coverage-only" in available_controllers()
    cmp = compare_controllers(_cfg(n_steps=2), ["always-on", "plugin-coverage-only"], [0])
    s = cmp.summary(reference="always-on")
    assert s["plugin-coverage-only"]["saving_pct"] > 0.0
    assert s["plugin-coverage-only"]["active_cell_share"] == pytest.approx(1.0 / 3.0)


def test_registry_and_action_errors(env: RanEnvironment) -> None:
    with pytest.raises(ScenarioError, match="unknown RAN controller"):
        make_controller("nope")
    with pytest.raises(ScenarioError, match="letters"):
        register_controller("bad name!", AlwaysOnController)
    with pytest.raises(ScenarioError, match="max_load"):
        MilpEnergyController(max_load=1.0)
    on = np.full(env.n_cells, int(BsState.ACTIVE))
    with pytest.raises(ScenarioError, match=r"Action\.state"):
        env.step(0, Action(state=on[:-1]), on)
    with pytest.raises(ScenarioError, match="outside"):
        env.step(99, Action(state=on), on)
    with pytest.raises(ScenarioError, match="hourly_profile"):
        EnvironmentConfig(hourly_profile=(1.0, 2.0))
    with pytest.raises(ScenarioError, match="carriers"):
        _cfg(carriers=())
    cap_only = EnvironmentConfig(hourly_profile=PROFILE).carriers[1:]
    with pytest.raises(ScenarioError, match="coverage"):
        _cfg(carriers=cap_only)
