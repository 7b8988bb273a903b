"""The relay's link model (serialisation, delay, loss, buffer) and the schedule's checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.emulate.relay import LinkQueue
from tsunagu.emulate.schedule import Schedule, Segment
from tsunagu.errors import DataError


def _queue(**kw: float) -> LinkQueue:
    q = LinkQueue(np.random.default_rng(1), queue_s=kw.pop("queue_s", 1.0))
    q.set(kw.get("delay_s", 0.0), kw.get("rate_bps", float("inf")), kw.get("loss", 0.0))
    return q


def test_release_is_arrival_plus_serialisation_plus_delay() -> None:
    q = _queue(delay_s=0.010, rate_bps=8e6)  # 1 µs per byte
    assert q.push(1.0, b"x" * 1000) == pytest.approx(1.0 + 1e-3 + 0.010)
    # Back to back: the second waits for the first to leave the link.
    assert q.push(1.0, b"x" * 1000) == pytest.approx(1.0 + 2e-3 + 0.010)
    # After the link went idle, a packet starts at its own arrival.
    assert q.push(2.0, b"x" * 500) == pytest.approx(2.0 + 0.5e-3 + 0.010)
    assert q.pop_due(1.0105) == []
    assert len(q.pop_due(1.0111)) == 1
    assert len(q.pop_due(5.0)) == 2
    assert q.stats.sent == 3
    assert q.stats.bytes_sent == 2500


def test_delay_drop_keeps_order_and_in_flight_packets() -> None:
    q = _queue(delay_s=0.050)
    first = q.push(0.0, b"a")
    q.set(0.005, float("inf"), 0.0)  # a step shortens the delay mid-flight
    second = q.push(0.001, b"b")
    assert first == pytest.approx(0.050)
    # The later packet cannot overtake the one already queued.
    assert second is not None
    assert second >= first
    assert q.pop_due(1.0) == [b"a", b"b"]
    assert q.stats.lost == q.stats.dropped == 0


def test_buffer_drops_the_tail() -> None:
    q = _queue(rate_bps=8e3, queue_s=0.5)  # 1 ms per byte, 500 ms of backlog
    kept = [q.push(0.0, b"x" * 100) is not None for _ in range(10)]  # 100 ms each
    assert kept == [True] * 6 + [False] * 4  # backlog before the 7th is 600 ms
    assert q.stats.dropped == 4


def test_loss_share_matches_the_probability() -> None:
    q = _queue(loss=0.2)
    n = 20_000
    lost = sum(q.push(0.0, b"x") is None for _ in range(n))
    # Binomial(20000, 0.2): sd = 57 packets; 5 sd.
    assert abs(lost - 0.2 * n) < 5 * np.sqrt(n * 0.2 * 0.8)
    assert q.stats.lost == lost


def test_loss_is_reproducible_from_the_seed() -> None:
    def run(seed: int) -> list[bool]:
        q = LinkQueue(np.random.default_rng(seed))
        q.set(0.0, float("inf"), 0.5)
        return [q.push(0.0, b"x") is None for _ in range(200)]

    assert run(3) == run(3)
    assert run(3) != run(4)


@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 0.01),  # gap to the previous arrival (s)
            st.integers(40, 1500),  # packet bytes
            st.floats(0.0, 0.2),  # delay set before this packet (s)
            st.sampled_from([1e5, 1e6, 1e7, float("inf")]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_release_times_never_decrease_and_never_precede_arrival(
    events: list[tuple[float, int, float, float]],
) -> None:
    q = LinkQueue(np.random.default_rng(0), queue_s=10.0)
    now, last = 0.0, -1.0
    for gap, size, delay, rate in events:
        now += gap
        q.set(delay, rate, 0.0)
        release = q.push(now, b"x" * size)
        assert release is not None
        assert release >= last
        assert release >= now + delay + size * 8.0 / rate - 1e-12
        last = release
    assert len(q.pop_due(last)) == len(events)


def _schedule(**over: object) -> Schedule:
    kw: dict[str, object] = {
        "flow": "t",
        "segments": (Segment("a", "access"), Segment("b", "transport")),
        "time_s": np.array([0.0, 10.0]),
        "delay_s": np.array([[0.001, 0.002], [0.001, 0.004]]),
        "rate_bps": np.full((2, 2), 1e7),
        "loss": np.zeros((2, 2)),
        "predicted_rtt_ms": np.array([6.0, 10.0]),
        "end_s": 20.0,
    }
    kw.update(over)
    return Schedule(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("delay_s", np.array([[0.001, -0.002], [0.001, 0.004]]), "delay_s"),
        ("rate_bps", np.zeros((2, 2)), "rate_bps"),
        ("loss", np.full((2, 2), 1.5), "loss"),
        ("delay_s", np.zeros((3, 2)), "shape"),
        ("time_s", np.array([10.0, 0.0]), "increase"),
    ],
)
def test_schedule_rejects_bad_input(field: str, value: object, words: str) -> None:
    with pytest.raises(DataError, match=words):
        _schedule(**{field: value})


def test_window_and_probe_prediction() -> None:
    s = _schedule()
    w = s.window(5.0, 10.0)
    assert w.time_s.tolist() == [5.0, 10.0]
    assert w.end_s == 15.0
    assert s.window(12.0, 3.0).n_steps == 1
    # 100-byte packet over two 10 Mb/s segments: 80 µs each, both ways.
    rtt = s.predicted_probe_rtt_ms(100)
    assert rtt == pytest.approx([2e3 * (0.003 + 160e-6), 2e3 * (0.005 + 160e-6)])
    with pytest.raises(DataError, match="outside"):
        s.window(25.0, 1.0)
