"""Base-station power by state: TR 38.864 relative model and EARTH (hand-worked values)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.errors import ModelRangeError
from tsunagu.ran.energy import (
    EARTH_MACRO,
    TR38864_RELATIVE_POWER,
    WATTS_PER_UNIT_EARTH,
    BsState,
    EarthParams,
    cell_power_w,
    earth_power_w,
    energy_by_state_j,
    fleet_energy_by_state_j,
    tr38864_relative_power,
    wake_transitions,
)

A, L, D = int(BsState.ACTIVE), int(BsState.LIGHT_SLEEP), int(BsState.DEEP_SLEEP)


def test_tr38864_state_values() -> None:
    # TR 38.864 §6.1 category-1 BS: deep 1, light 25, micro 55, active DL 280, active UL 110.
    p = tr38864_relative_power([A, A, A, L, D], [1.0, 0.0, 0.0, 0.3, 0.9], [0.0, 0.0, 1.0, 0, 0])
    assert p.tolist() == [280.0, 55.0, 110.0, 25.0, 1.0]


def test_tr38864_time_average_by_hand() -> None:
    # 40 % DL + 10 % UL slots, the rest in micro sleep: 0.4·280 + 0.1·110 + 0.5·55 = 150.5
    assert tr38864_relative_power(A, 0.4, 0.1) == pytest.approx(150.5, abs=1e-12)


def test_earth_hand_values() -> None:
    # Auer et al. 2011 eq. 1, macro: 6·(130 + 4.7·P_out); sleep 6·75.
    assert earth_power_w([20.0, 10.0, 0.0]).tolist() == pytest.approx([1344.0, 1062.0, 450.0])
    assert earth_power_w(10.0, sleeping=True) == pytest.approx(450.0)


def test_watts_per_unit_anchor() -> None:
    # 280 units = one EARTH macro sector at full load = 1344 / 3 W
    assert WATTS_PER_UNIT_EARTH * TR38864_RELATIVE_POWER["active_dl"] == pytest.approx(448.0)


def test_earth_cell_power_includes_p0_when_idle_and_backoff_lowers_it() -> None:
    idle = cell_power_w([A], [0.0], "earth")
    full = cell_power_w([A], [1.0], "earth")
    backed = cell_power_w([A], [1.0], "earth", tx_power_scale=0.5)
    assert idle[0] == pytest.approx(6 * 130.0 / 3)
    assert full[0] == pytest.approx(448.0)
    assert idle[0] < backed[0] < full[0]


def test_wake_transitions_times_and_energy() -> None:
    e, t = wake_transitions([D, L, A, A, D], [A, A, D, A, D])
    assert t.tolist() == [0.05, 0.006, 0.0, 0.0, 0.0]
    assert e.tolist() == [1.0, 0.1, 0.0, 0.0, 0.0]  # unit·s (1000 and 100 unit·ms)


def test_energy_by_state_adds_up() -> None:
    prev = [D, A, A, L]
    cur = [A, A, D, L]
    e = energy_by_state_j(prev, cur, [0.5, 1.0, 0.0, 0.0], 60.0)
    w = WATTS_PER_UNIT_EARTH
    assert e["active"] == pytest.approx((167.5 + 280.0) * w * 60.0)
    assert e["deep_sleep"] == pytest.approx(1.0 * w * 60.0)
    assert e["light_sleep"] == pytest.approx(25.0 * w * 60.0)
    assert e["transition"] == pytest.approx(1.0 * w)
    parts = e["active"] + e["light_sleep"] + e["deep_sleep"] + e["transition"]
    assert e["total"] == pytest.approx(parts)


@given(
    load=st.floats(0.0, 1.0),
    delta=st.floats(0.0, 1.0),
    model=st.sampled_from(["tr38864", "earth"]),
)
def test_power_monotone_in_load_and_ordered_by_state(load: float, delta: float, model: str) -> None:
    hi = min(load + delta, 1.0)
    p = cell_power_w([A, A, L, D], [load, hi, load, load], model)  # type: ignore[arg-type]
    assert p[0] <= p[1] + 1e-9
    assert p[2] <= p[0]
    assert p[3] <= p[2]
    assert np.all(p >= 0.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tr38864_relative_power([A], [1.2]), "utilisation"),
        (lambda: tr38864_relative_power([A], [0.7], [0.6]), "exceed 1"),
        (lambda: tr38864_relative_power([7], [0.1]), "BsState"),
        (lambda: cell_power_w([A], [0.1], "nope"), "unknown energy model"),  # type: ignore[arg-type]
        (lambda: earth_power_w([25.0]), "P_max"),
        (lambda: energy_by_state_j([A], [A], [0.1], 0.0), "dt_s"),
        (lambda: EarthParams(0, 20.0, 130.0, 4.7, 75.0), "n_trx"),
        (lambda: cell_power_w([A], [0.1], "earth", tx_power_scale=0.0), "tx_power_scale"),
    ],
)
def test_bad_inputs_raise(call: object, match: str) -> None:
    with pytest.raises(ModelRangeError, match=match):
        call()  # type: ignore[operator]


def test_earth_macro_parameters() -> None:
    assert (EARTH_MACRO.n_trx, EARTH_MACRO.p_max_w, EARTH_MACRO.p0_w) == (6, 20.0, 130.0)
    assert (EARTH_MACRO.delta_p, EARTH_MACRO.p_sleep_w) == (4.7, 75.0)


@given(
    n=st.integers(1, 30),
    asleep=st.integers(0, 29),
    load=st.floats(0.0, 1.0),
    model=st.sampled_from(["tr38864", "earth"]),
)
def test_fleet_energy_equals_sum_over_cells(n: int, asleep: int, load: float, model: str) -> None:
    asleep = min(asleep, n - 1)
    share = asleep / n
    rho = load * (1.0 - share)  # mean over all cells, so that the active ones run at `load`
    fleet = fleet_energy_by_state_j(n, rho, 900.0, share, model)  # type: ignore[arg-type]
    states = [A] * (n - asleep) + [D] * asleep
    loads = [min(rho / (1.0 - share), 1.0)] * (n - asleep) + [0.0] * asleep
    cells = energy_by_state_j(states, states, loads, 900.0, model)  # type: ignore[arg-type]
    assert float(fleet["total"]) == pytest.approx(cells["total"], rel=1e-9)
    assert float(fleet["deep_sleep"]) == pytest.approx(cells["deep_sleep"], rel=1e-9)


def test_fleet_energy_rejects_all_asleep() -> None:
    with pytest.raises(ModelRangeError, match="sleeping_share"):
        fleet_energy_by_state_j(3, 0.1, 60.0, 1.0)
