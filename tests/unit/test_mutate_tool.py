"""tools/mutate.py: the per-module mutmut configuration and the report it writes."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tool", ROOT / "tools" / "mutate.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_module_pyproject_keeps_shared_settings_and_sets_the_module() -> None:
    tool = _tool()
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    out = tomllib.loads(tool.module_pyproject(text, "ran.sinr", ["tests/unit/test_ran_sinr.py"]))
    cfg = out["tool"]["mutmut"]
    assert cfg["only_mutate"] == ["src/tsunagu/ran/sinr.py"]
    assert cfg["pytest_add_cli_args_test_selection"] == ["tests/unit/test_ran_sinr.py"]
    shared = tomllib.loads(text)["tool"]["mutmut"]
    assert cfg["do_not_mutate_patterns"] == shared["do_not_mutate_patterns"]
    # every other table survives untouched
    assert out["project"] == tomllib.loads(text)["project"]
    assert out["tool"]["ruff"] == tomllib.loads(text)["tool"]["ruff"]


def test_every_listed_module_and_test_exists() -> None:
    tool = _tool()
    for module, tests in tool.MODULES.items():
        assert (ROOT / tool._source_path(module)).is_file(), module
        assert tests, module
        assert any((ROOT / t.split("::")[0]).is_file() for t in tests), module


def test_report_counts_and_share() -> None:
    tool = _tool()
    res = [
        {
            "module": "ran.x",
            "total": 10,
            "counts": {"killed": 7, "timeout": 1, "survived": 1, "equivalent": 1},
            "killed_share_non_equivalent": 8 / 9,
            "survivors": [
                {"mutant": "x_f__mutmut_3", "status": "survived", "change": "a → b", "reason": ""},
                {"mutant": "x_f__mutmut_4", "status": "equivalent", "change": "c", "reason": "r"},
            ],
        }
    ]
    md = tool.report_markdown(res)
    assert "| ran.x | 10 | 7 | 1 | 1 | 1 | 0 | 88.9 % |" in md
    assert "`x_f__mutmut_4` (equivalent): `c` — r" in md


def test_equivalent_and_explained_lists_are_disjoint_and_reasoned() -> None:
    tool = _tool()
    equivalent = tool._equivalents(tool.EQUIVALENT_FILE)
    explained = tool._equivalents(tool.EXPLAINED_FILE)
    for table in (equivalent, explained):
        assert set(table) <= set(tool.MODULES)
        for mutants in table.values():
            assert all(reason.strip() for reason in mutants.values())
    for module in set(equivalent) & set(explained):
        assert not set(equivalent[module]) & set(explained[module]), module
