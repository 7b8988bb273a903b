"""Fuzz: command-line arguments and damaged run directories, through the CLI in process.

Exit status 0 or 2 only (2: bad input, one error line); never a traceback, never exit 1.
Arguments are drawn from values a careless or hostile user types; the commands are the ones
whose bad input fails fast (a valid combination of them runs briefly).
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _fuzzlib import cli, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

MINIMAL = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "minimal.yaml"

WEIRD = [
    "",
    "-1",
    "0",
    "1e10",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "x[/y]",
    ":100:",
    "[bold]",
    "../../../../etc/passwd",
    "/dev/null",
    "a=[",
    "a=!!python/object:os.system",
    "ran.battery_hold_s=1,2",
    "tcp://",
    "foo",
    "\u202e",
    "🙂",
    "3.5",
    "-0",
]
weird = st.sampled_from(WEIRD) | st.text(max_size=12)

COMMANDS: dict[str, list[str]] = {
    "optical rmsa": [
        "--load",
        "--holding",
        "--k",
        "--slots",
        "--seed",
        "--policy",
        "--topology",
        "--qot",
    ],
    "validate": ["--memory-budget"],
    "report": ["--out"],
    "sweep": ["--set", "--at", "--seed", "--runs", "--scheduler", "--preset", "--fail-links"],
    "compare": ["--report"],
}


@given(
    command=st.sampled_from(list(COMMANDS)),
    options=st.lists(st.tuples(st.integers(0, 20), weird), max_size=4),
    positional=st.lists(weird, max_size=2),
)
@fuzz_settings(160)
def test_weird_arguments_are_one_error_line(
    command: str,
    options: list[tuple[int, str]],
    positional: list[str],
    count: Callable[[str], None],
) -> None:
    names = COMMANDS[command]
    args = command.split()
    # Positional arguments never name a real scenario or run directory, so nothing long runs.
    args += [f"missing-{p}" if p else "missing" for p in positional]
    if command in ("validate", "sweep") and not positional:
        args.append("missing.yaml")
    if command == "compare" and len(positional) < 2:
        args += ["missing-a", "missing-b"][len(positional) :]
    if command == "report" and not positional:
        args.append("missing-run")
    for which, value in options:
        args += [names[which % len(names)], value]
    if command == "optical rmsa":
        args += ["--requests", "10"]  # fewer than the warm-up: refused before any simulation
    cli(args)
    count(f"cli: {command}")


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("good") / "run"
    code, text = cli(["run", str(MINIMAL), "--out", str(out), "--json", "--no-report"], hang_s=300)
    assert code == 0, text
    return out


def _damage(run: Path, rng: random.Random, how: str, value: Any) -> None:
    files = sorted(p for p in run.iterdir() if p.is_file())
    target = files[rng.randrange(len(files))]
    if how == "delete":
        target.unlink()
    elif how == "truncate":
        data = target.read_bytes()
        target.write_bytes(data[: rng.randrange(len(data) + 1)])
    elif how == "flip":
        data = bytearray(target.read_bytes())
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        target.write_bytes(bytes(data))
    elif how == "summary":
        (run / "summary.json").write_text(json.dumps(value))
    elif how == "summary-key":
        summary = json.loads((run / "summary.json").read_text())
        key = rng.choice(sorted(summary))
        summary[key] = value
        (run / "summary.json").write_text(json.dumps(summary))
    elif how == "directory":
        target.unlink()
        target.mkdir()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(
    how=st.sampled_from(["delete", "truncate", "flip", "summary", "summary-key", "directory"]),
    seed=st.integers(0, 2**32 - 1),
    value=json_values,
    report=st.booleans(),
)
@fuzz_settings(40)
def test_damaged_run_directory_reports_or_says_why(
    good_run: Path,
    tmp_path_factory: pytest.TempPathFactory,
    how: str,
    seed: int,
    value: Any,
    report: bool,
    count: Callable[[str], None],
) -> None:
    run = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(good_run, run)
    _damage(run, random.Random(seed), how, value)
    if report:
        cli(["report", str(run), "--out", str(run.parent / "report.html")])
    cli(["compare", str(run), str(good_run), "--json"])
    count("damaged run dirs")
