"""Shared pieces of the fuzzing harness: settings, the hang guard and the invariants.

``TSUNAGU_FUZZ_SCALE`` multiplies every category's number of cases (1 in CI, about 1,600
cases; ``make fuzz`` sets 10). Every case must end in a result or one TsunaguError with a
message (library calls), or in exit status 0 or 2 with no traceback (CLI calls).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from tsunagu.errors import TsunaguError

SCALE = max(1, int(os.environ.get("TSUNAGU_FUZZ_SCALE", "1") or "1"))
HANG_S = 20
"""A single case taking longer than this is a hang (the slowest cases take well under 1 s)."""


def fuzz_settings(cases: int) -> Any:
    """Hypothesis settings for a category of ``cases`` cases (times the scale)."""
    return settings(
        max_examples=cases * SCALE,
        deadline=None,
        database=None,
        derandomize=SCALE == 1,  # CI runs the same cases every time; make fuzz explores
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
    )


class HangError(Exception):
    """A fuzz case ran longer than HANG_S."""


@contextlib.contextmanager
def hang_guard(seconds: int = HANG_S) -> Iterator[None]:
    """Fail the case (not the run) when it takes longer than ``seconds``."""

    def on_alarm(signum: int, frame: object) -> None:
        raise HangError(f"a fuzz case ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


_runner = CliRunner()


def clean(fn: Callable[[], Any]) -> Any:
    """Call ``fn``; a TsunaguError with a message is fine, any other exception fails the case."""
    with hang_guard():
        try:
            return fn()
        except TsunaguError as exc:
            failure = exc
    assert str(failure).strip(), "a TsunaguError without a message"
    return failure


def cli(
    args: Sequence[str], env: dict[str, str] | None = None, hang_s: int = HANG_S
) -> tuple[int, str]:
    """Run the CLI in process: exit 0 or 2 (bad input), one error line, no traceback."""
    from tsunagu.cli import app

    with hang_guard(hang_s):
        res = _runner.invoke(app, list(args), env=env)
    text = res.output
    assert "Traceback" not in text, text[-2000:]
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code in (0, 2), (list(args), res.exit_code, text[-2000:])
    if res.exit_code == 2 and "error:" in text:
        assert "internal error" not in text
    return res.exit_code, text
