"""The fuzzing harness's count per category, printed in pytest's terminal summary.

Each test records how many cases of its category it ran as a ``fuzz_cases`` user property;
the counts reach the controller under pytest-xdist with the test reports (the library never
prints). Settings and invariants are in ``_fuzzlib``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_COUNTS: Counter[str] = Counter()


@pytest.fixture
def count(record_property: Callable[[str, object], None]) -> Iterator[Callable[[str], None]]:
    """``count(category)`` after each case; the totals go into the test report."""
    local: Counter[str] = Counter()

    def add(category: str) -> None:
        local[category] += 1

    yield add
    record_property("fuzz_cases", dict(local))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":  # the count fixture records its totals at teardown
        return
    for name, value in report.user_properties:
        if name == "fuzz_cases" and isinstance(value, dict):
            _COUNTS.update({str(k): int(v) for k, v in value.items()})


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _COUNTS:
        return
    terminalreporter.section("tsunagu fuzz cases")
    width = max(len(k) for k in _COUNTS)
    for category, n in sorted(_COUNTS.items()):
        terminalreporter.write_line(f"{category:<{width}}  {n:>7,}")
    terminalreporter.write_line(f"{'total':<{width}}  {sum(_COUNTS.values()):>7,}")
