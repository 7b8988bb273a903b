"""The error contract of the command line (docs/errors.md), one test per reproducer.

Bad input exits with 2 and one ``error:`` line naming what, where and the fix; a bug exits with
1, says where to report it and leaves the traceback only in a crash log; no command prints a
Python traceback. Each case below once ended in a traceback.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tsunagu.cli import app

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "data" / "scenarios" / "minimal.yaml"

runner = CliRunner()


def _invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    res = runner.invoke(app, args, env=env)
    text = res.output
    assert "Traceback" not in text, text
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"{args}: escaped the boundary: {res.exception!r}")
    return res.exit_code, text


def _bad_input(args: list[str], *needles: str, env: dict[str, str] | None = None) -> str:
    code, text = _invoke(args, env)
    assert code == 2, (args, code, text)
    for needle in needles:
        assert needle in text, (needle, text)
    return text


@pytest.mark.parametrize(
    "args",
    [
        ["optical", "rmsa", "--seed", "-1", "--requests", "4000"],
        ["ran", "calibrate", "--seed", "-1"],
        ["ran", "coverage", "--seed", "-1", "--users", "1000"],
        ["sweep", "--seed", "-1", "--runs", "1"],
    ],
)
def test_negative_seed_is_a_usage_error(args: list[str]) -> None:
    _bad_input(args, "--seed")


def test_infinite_holding_time_is_refused() -> None:
    _bad_input(["optical", "rmsa", "--holding", "inf"], "--holding", "Fix")


def test_more_requests_than_the_memory_budget_are_refused_with_the_estimate() -> None:
    text = _bad_input(
        ["optical", "rmsa", "--requests", "10000000000"],
        "640.0 GB",
        "--requests",
        env={"TSUNAGU_MEMORY_BUDGET": "4GB"},
    )
    assert "4.0 GB" in text


def test_too_many_coverage_users_are_refused_before_the_drop() -> None:
    _bad_input(
        ["ran", "coverage", "--users", "50000000"],
        "--users",
        "memory budget",
        env={"TSUNAGU_MEMORY_BUDGET": "4GB"},
    )


@pytest.mark.parametrize(
    ("value", "needle"),
    [("a=[", "not a plain YAML value"), ("a=!!python/object:os.system", "not a plain YAML")],
)
def test_sweep_set_values_are_safe_scalars(value: str, needle: str) -> None:
    _bad_input(["sweep", str(MINIMAL), "--set", value], needle, "--set")


def test_sweep_at_nan_is_one_line() -> None:
    _bad_input(["sweep", str(MINIMAL), "--preset", "noto-2024", "--at", "nan"], "finite")


def test_sweep_scheduler_must_be_an_address() -> None:
    _bad_input(["sweep", str(MINIMAL), "--scheduler", "foo", "--runs", "1"], "tcp://")


def test_rich_markup_and_emoji_codes_in_user_text_print_literally(tmp_path: Path) -> None:
    text = _bad_input(["validate", "x[/y]"], "x[/y]")
    assert "does not exist" in text
    bad = tmp_path / "e:100:.yaml"
    bad.write_text("name: [\n", encoding="utf-8")
    text = _bad_input(["validate", str(bad)], "e:100:.yaml:")
    assert "💯" not in text


def _minimal_text(**timeline: float) -> str:
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    data.setdefault("timeline", {}).update(timeline)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize("kind", ["file", "dangling", "devnull", "readonly"])
def test_out_is_checked_before_the_run(tmp_path: Path, kind: str) -> None:
    if kind == "file":
        out = tmp_path / "taken"
        out.write_text("not a run\n")
    elif kind == "dangling":
        out = tmp_path / "link"
        out.symlink_to(tmp_path / "nowhere")
    elif kind == "devnull":
        out = Path(os.devnull)
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
        out = ro / "run"
    args = ["run", str(MINIMAL), "--out", str(out), "--no-report"]
    if kind == "readonly" and os.geteuid() == 0:
        text = _bad_input_as_root_that_obeys_modes(args)
        assert "permission denied" in text
    else:
        text = _bad_input(args, "--out", "Fix")
    # Refused before the simulation: no progress, no results written anywhere.
    assert "steps" not in text
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    if kind == "readonly":
        assert list((tmp_path / "ro").iterdir()) == []


# Root writes into a read-only (mode 0500) directory through the CAP_DAC_OVERRIDE capability.
# Without it in its capability bounding set, root obeys the mode bits after exec like any user,
# so the CLI meets a directory it really cannot write: it runs in such a process.
_WITHOUT_DAC_OVERRIDE = """
import ctypes, os, sys
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE = 24, 1
if ctypes.CDLL(None, use_errno=True).prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
    sys.exit(f"test setup: cannot drop CAP_DAC_OVERRIDE: {os.strerror(ctypes.get_errno())}")
cli = "from tsunagu.cli import app; app()"
os.execv(sys.executable, [sys.executable, "-c", cli, *sys.argv[1:]])
"""


def _bad_input_as_root_that_obeys_modes(args: list[str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_DAC_OVERRIDE, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = proc.stdout + proc.stderr
    assert "test setup" not in text, text
    assert proc.returncode == 2, text
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert lines[0].startswith("error:"), text
    assert "--out" in lines[0], text
    assert "Fix" in lines[0], text
    return text


def test_out_refuses_a_directory_of_other_files(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious\n")
    _bad_input(["run", str(MINIMAL), "--out", str(out), "--no-report"], "thesis.tex")
    assert (out / "thesis.tex").read_text() == "precious\n"


def test_compare_on_a_corrupt_summary_is_one_line(tmp_path: Path) -> None:
    for name, body in (("a", "{not json"), ("b", '{"kpis": 3}'), ("c", "[1, 2]")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(body)
    for other in ("b", "c"):
        _bad_input(["compare", str(tmp_path / "a"), str(tmp_path / other)], "summary.json")
        _bad_input(["compare", str(tmp_path / other), str(tmp_path / other)], "summary.json")


def test_a_run_over_the_memory_budget_is_refused_with_its_estimate(tmp_path: Path) -> None:
    path = tmp_path / "fine.yaml"
    path.write_text(_minimal_text(step_s=0.864, duration_s=86_400.0), encoding="utf-8")
    data = yaml.safe_load(path.read_text())
    data["ntn"]["constellations"] = [
        {
            "name": "huge",
            "planes": 1000,
            "sats_per_plane": 1000,
            "phasing": 1,
            "altitude_km": 550.0,
            "inclination_deg": 53.0,
        }
    ]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for cmd in ("validate", "run"):
        args = [cmd, str(path), "--memory-budget", "4GB"]
        if cmd == "run":
            args += ["--out", str(tmp_path / "out")]
        text = _bad_input(args, "100,000 steps", "1,000,000 satellites", "4.0 GB", "step_s")
        assert "--memory-budget" in text
    assert not (tmp_path / "out").exists()


def test_validate_prints_the_estimate_and_accepts_a_raised_budget() -> None:
    code, text = _invoke(["validate", str(MINIMAL), "--json", "--memory-budget", "64GB"])
    assert code == 0, text
    data = json.loads(text)
    assert data["valid"] is True
    assert data["estimated_peak_bytes"] > 0
    _bad_input(["validate", str(MINIMAL), "--memory-budget", "lots"], "16GB")


def test_a_bug_exits_1_with_a_crash_log_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tsunagu.scenario as scenario_pkg

    def broken(_: str) -> None:
        raise KeyError("deliberately broken for the test")

    monkeypatch.setattr(scenario_pkg, "load_scenario", broken)
    code, text = _invoke(["validate", "anything"], env={"TSUNAGU_CRASH_DIR": str(tmp_path)})
    assert code == 1, text
    assert "bug" in text
    assert "report" in text
    logs = list(tmp_path.glob("tsunagu-crash-*.log"))
    assert len(logs) == 1
    assert str(logs[0]) in text.replace("\n", "")
    assert "deliberately broken" in logs[0].read_text()


def test_a_traversal_scenario_name_writes_only_under_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    data["name"] = "x/../../../../escaped"
    path = work / "evil.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, text = _invoke(["run", str(path), "--json", "--no-report"])
    assert code == 0, text
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert all(w.startswith("a/b/c/d/") for w in written), written
    assert (work / "runs" / "x-escaped" / "summary.json").is_file()
    assert not list(tmp_path.rglob("escaped"))


def test_an_oversized_scenario_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("name: big\n" + "# padding\n" * 120_000, encoding="utf-8")
    text = _bad_input(["validate", str(path)], "size limit", "TSUNAGU_MAX_SCENARIO_BYTES")
    assert "big.yaml:1:" in text
    # Raising the limit lets the parser see it (and report the schema's first problem).
    code, text = _invoke(["validate", str(path)], env={"TSUNAGU_MAX_SCENARIO_BYTES": "5000000"})
    assert code == 2
    assert "size limit" not in text
