"""Mutation testing of the central model modules with mutmut, one module at a time.

Usage::

    python tools/mutate.py                    # every module in MODULES
    python tools/mutate.py ran.pathloss ntn.isl --max-children 2
    python tools/mutate.py ntn.isl --retest   # after new tests: rerun the last survivors
    python tools/mutate.py ntn.isl --retest --skip-equivalent   # ... except declared ones

For each module a work directory ``runs/mutate/<module>/`` receives a copy of ``src/``,
``tests/`` and ``pyproject.toml`` whose ``[tool.mutmut]`` table is the repository's shared one
plus ``only_mutate`` (that module) and ``pytest_add_cli_args_test_selection`` (the tests that
target it, listed below), so that every mutant runs only the tests meant to catch it. mutmut
keeps its per-mutant results in that directory; a rerun retests only what changed.

The summary (counts per module: killed, survived, timeout, no tests, and the survivors with the
line that changed and, where known, why the mutant is equivalent) is written to
``runs/mutate/report.md`` and ``runs/mutate/report.json``. Equivalent mutants are declared in
``tools/mutants_equivalent.toml`` with the reason; nothing else is excluded from the score.
Survivors left unkilled on purpose keep their status and carry their reason from
``tools/mutants_explained.toml``.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import itertools
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "runs" / "mutate"
EQUIVALENT_FILE = ROOT / "tools" / "mutants_equivalent.toml"
#: Survivors that are not equivalent and not killed, each with why (counted as survived).
EXPLAINED_FILE = ROOT / "tools" / "mutants_explained.toml"

#: module (dotted, under tsunagu) → tests that target it.
MODULES: dict[str, list[str]] = {
    "ran.pathloss": [
        "tests/unit/test_ran_pathloss.py",
        "tests/validation/test_ran_pathloss_table.py",
        "tests/validation/test_ran_reference.py",
        "tests/unit/test_ran_pathloss_mutants.py",
    ],
    "ran.sinr": [
        "tests/unit/test_ran_sinr.py",
        "tests/unit/test_ran_sinr_mutants.py",
        # one calibration case (a full 20,000-user drop) keeps a mutant's run short
        "tests/validation/test_ran_calibration.py::test_large_scale_calibration[6.0-uma]",
    ],
    "ntn.linkbudget": [
        "tests/unit/test_ntn_linkbudget.py",
        "tests/validation/test_ntn_linkbudget_tr38821.py",
        "tests/validation/test_itur_validation.py",
    ],
    "ntn.isl": ["tests/unit/test_ntn_isl.py"],
    "ntn.routing": [
        "tests/unit/test_ntn_routing.py",
        "tests/validation/test_ntn_routing_reference.py",
        "tests/unit/test_ntn_routing_mutants.py",
    ],
    "optical.qot": [
        "tests/unit/test_optical_qot.py",
        "tests/validation/test_gnpy_validation.py",
        "tests/unit/test_optical_qot_mutants.py",
    ],
    "optical.rmsa": ["tests/unit/test_optical_rmsa.py", "tests/unit/test_optical_rmsa_mutants.py"],
    "orchestrate.planning": [
        "tests/unit/test_planning.py",
        "tests/unit/test_planning_mutants.py",
    ],
    "compute.models": ["tests/unit/test_compute.py", "tests/validation/test_compute_reference.py"],
}

_SECTION = re.compile(r"^\[tool\.mutmut\]\s*$.*?(?=^\[|\Z)", re.S | re.M)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def module_pyproject(text: str, module: str, tests: list[str]) -> str:
    """``pyproject.toml`` text with the ``[tool.mutmut]`` table set for one module."""
    shared = dict(tomllib.loads(text).get("tool", {}).get("mutmut", {}))
    shared["source_paths"] = ["src"]
    shared["only_mutate"] = [_source_path(module)]
    shared["pytest_add_cli_args_test_selection"] = tests
    body = "".join(f"{k} = {_toml_value(v)}\n" for k, v in shared.items())
    stripped = _SECTION.sub("", text).rstrip("\n")
    return f"{stripped}\n\n[tool.mutmut]\n{body}"


def _source_path(module: str) -> str:
    return "src/tsunagu/" + module.replace(".", "/") + ".py"


def _status_by_exit_code() -> dict[int | None, str]:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code  # type: ignore[no-any-return]


def _functions(mutants_file: Path) -> tuple[str, dict[str, str]]:
    text = mutants_file.read_text("utf-8")
    lines = text.splitlines()
    out: dict[str, str] = {}
    # mutmut writes a function's variants at module level and a method's in its class
    tree = ast.parse(text).body
    nodes = tree + [n for c in tree if isinstance(c, ast.ClassDef) for n in c.body]
    for node in nodes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            out[node.name] = "\n".join(lines[node.lineno - 1 : node.end_lineno])
    return text, out


def _changed_lines(orig: str, mutant: str) -> str:
    # The mutant differs from the original in its name and in the mutated code.
    a = re.sub(r"__mutmut_(orig|\d+)\b", "", orig).splitlines()
    b = re.sub(r"__mutmut_(orig|\d+)\b", "", mutant).splitlines()
    diff = list(difflib.unified_diff(a, b, lineterm="", n=0))[2:]
    minus = [ln[1:].strip() for ln in diff if ln.startswith("-")]
    plus = [ln[1:].strip() for ln in diff if ln.startswith("+")]
    pairs = itertools.zip_longest(minus, plus, fillvalue="(removed)")
    return " | ".join(f"{m}  →  {p}" for m, p in pairs)[:300]


def run_module(
    module: str,
    max_children: int,
    timeout_s: float,
    *,
    report_only: bool = False,
    retest: bool = False,
    skip_equivalent: bool = False,
) -> dict[str, Any]:
    """Run mutmut on one module in its own work directory; return the counts and survivors.

    mutmut keeps a verdict once reached; ``retest`` names the last run's survivors so that
    they are run again against the current tests; ``skip_equivalent`` leaves out the
    survivors declared equivalent (their verdict stays "survived", counted as equivalent).
    """
    tests = MODULES[module]
    missing = [t for t in tests if not (ROOT / t.split("::")[0]).exists()]
    tests = [t for t in tests if (ROOT / t.split("::")[0]).exists()]
    wd = WORK / module
    names = _survivor_keys(module, wd) if retest else []
    if skip_equivalent:
        declared = _equivalents().get(module, {})
        names = [k for k in names if k.rsplit(".", 1)[-1] not in declared]
    if report_only or (retest and not names):
        rc = 0
    else:
        rc = _run_mutmut(module, tests, wd, max_children, timeout_s, names)
    return _collect(module, tests, missing, wd, rc)


def _survivor_keys(module: str, wd: Path) -> list[str]:
    meta = wd / "mutants" / (_source_path(module) + ".meta")
    if not meta.exists():
        return []
    codes: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    status = _status_by_exit_code()
    return sorted(k for k, c in codes.items() if status[c] in ("survived", "no tests"))


def _run_mutmut(
    module: str,
    tests: list[str],
    wd: Path,
    max_children: int,
    timeout_s: float,
    names: list[str] | None = None,
) -> int:
    wd.mkdir(parents=True, exist_ok=True)
    for sub in ("src", "tests"):
        if (wd / sub).exists():
            shutil.rmtree(wd / sub)
        shutil.copytree(ROOT / sub, wd / sub, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    (wd / "pyproject.toml").write_text(module_pyproject(text, module, tests), "utf-8")
    mutmut = Path(sys.executable).with_name("mutmut")
    log = wd / "mutmut.log"
    with log.open("w", encoding="utf-8") as fh:
        try:
            rc = subprocess.run(
                [str(mutmut), "run", "--max-children", str(max_children), *(names or [])],
                cwd=wd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            rc = -1
    return rc


def _collect(
    module: str, tests: list[str], missing: list[str], wd: Path, rc: int
) -> dict[str, Any]:
    log = wd / "mutmut.log"
    meta = wd / "mutants" / (_source_path(module) + ".meta")
    if not meta.exists():
        return {"module": module, "error": f"mutmut exit {rc}; see {log}", "missing_tests": missing}
    codes: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    status = _status_by_exit_code()
    equivalent = _equivalents().get(module, {})
    explained = _equivalents(EXPLAINED_FILE).get(module, {})
    _, funcs = _functions(wd / "mutants" / _source_path(module))
    counts: dict[str, int] = {}
    survivors = []
    for key, code in sorted(codes.items()):
        st = status[code]
        name = key.rsplit(".", 1)[-1]
        if st == "survived" and name in equivalent:
            st = "equivalent"
        counts[st] = counts.get(st, 0) + 1
        if st in ("survived", "equivalent", "no tests", "suspicious", "not checked"):
            orig = funcs.get(re.sub(r"__mutmut_\d+$", "__mutmut_orig", name), "")
            survivors.append(
                {
                    "mutant": name,
                    "status": st,
                    "change": _changed_lines(orig, funcs.get(name, "")),
                    "reason": equivalent.get(name, explained.get(name, "")),
                }
            )
    # Declared equivalent but no longer a survivor (killed, or renamed after a code change).
    names = {key.rsplit(".", 1)[-1]: status[code] for key, code in codes.items()}
    stale = sorted(n for n in equivalent if names.get(n) != "survived")
    total = sum(counts.values())
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    non_equiv = total - counts.get("equivalent", 0)
    return {
        "module": module,
        "tests": tests,
        "missing_tests": missing,
        "mutmut_exit": rc,
        "counts": counts,
        "total": total,
        "killed_share_non_equivalent": (killed / non_equiv) if non_equiv else None,
        "survivors": survivors,
        "stale_equivalents": stale,
    }


def _equivalents(path: Path = EQUIVALENT_FILE) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    return {k: dict(v) for k, v in tomllib.loads(path.read_text("utf-8")).items()}


def report_markdown(results: list[dict[str, Any]]) -> str:
    """The summary table and survivor list as Markdown."""
    lines = [
        "| module | mutants | killed | timeout | survived | equivalent | no tests "
        "| killed share† |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['module']} | — | error: {r['error']} | | | | | |")
            continue
        c = r["counts"]
        share = r["killed_share_non_equivalent"]
        lines.append(
            f"| {r['module']} | {r['total']} | {c.get('killed', 0)} | {c.get('timeout', 0)} | "
            f"{c.get('survived', 0)} | {c.get('equivalent', 0)} | {c.get('no tests', 0)} | "
            f"{'—' if share is None else f'{100 * share:.1f} %'} |"
        )
    lines.append("")
    lines.append("† (killed + timeout) / (mutants − equivalent).")
    for r in results:
        if r.get("survivors"):
            lines.append(f"\n### Survivors in {r['module']}\n")
            for s in r["survivors"]:
                why = f" — {s['reason']}" if s["reason"] else ""
                lines.append(f"* `{s['mutant']}` ({s['status']}): `{s['change']}`{why}")
        if r.get("stale_equivalents"):
            lines.append(
                f"\nDeclared equivalent in {r['module']} but not surviving (update "
                f"tools/mutants_equivalent.toml): {', '.join(r['stale_equivalents'])}"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("modules", nargs="*", help=f"default: all of {', '.join(MODULES)}")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--timeout-s", type=float, default=3600.0, help="per module")
    ap.add_argument(
        "--report-only", action="store_true", help="rebuild the report from the last runs"
    )
    ap.add_argument(
        "--retest", action="store_true", help="rerun only the last run's surviving mutants"
    )
    ap.add_argument(
        "--skip-equivalent",
        action="store_true",
        help="with --retest: leave out the survivors declared in tools/mutants_equivalent.toml",
    )
    args = ap.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        ap.error(f"unknown module(s) {unknown}; choose from {list(MODULES)}")
    WORK.mkdir(parents=True, exist_ok=True)
    for m in args.modules or list(MODULES):
        res = run_module(
            m,
            args.max_children,
            args.timeout_s,
            report_only=args.report_only,
            retest=args.retest,
            skip_equivalent=args.skip_equivalent,
        )
        sys.stdout.write(f"{m}: {res.get('counts', res.get('error'))}\n")
        sys.stdout.flush()
        # Read the other modules' results again: another run may have written them meanwhile.
        old = {}
        if (WORK / "report.json").exists():
            old = {r["module"]: r for r in json.loads((WORK / "report.json").read_text("utf-8"))}
        old[m] = res
        results = [old[k] for k in MODULES if k in old]  # written after every module
        (WORK / "report.json").write_text(json.dumps(results, indent=1), "utf-8")
        (WORK / "report.md").write_text(report_markdown(results), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
