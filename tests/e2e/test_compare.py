"""``tsunagu compare``: japan-2030 with and without the Hokkaido and Kyushu core sites."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tsunagu.cli import app
from tsunagu.report.compare import COMPARE_FIGURE_IDS, COMPARE_KPIS

runner = CliRunner()
CORE = ("DC-Hokkaido-Ishikari", "DC-Kyushu-Kitakyushu")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cmp")
    data: dict[str, Any] = yaml.safe_load(
        (files("tsunagu.scenario") / "builtin" / "japan-2030.yaml").read_text(encoding="utf-8")
    )
    data["name"] = "japan-2030-without-hk"
    data["compute"]["sites"] = [s for s in data["compute"]["sites"] if s["name"] not in CORE]
    without = root / "without.yaml"
    without.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for name, src in (("a", "japan-2030"), ("b", str(without))):
        res = runner.invoke(app, ["run", src, "--out", str(root / name), "--no-report", "--json"])
        assert res.exit_code == 0, res.output
    return root / "a", root / "b"


def test_compare_shows_both_runs_side_by_side(runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = runs
    page = tmp_path / "cmp.html"
    res = runner.invoke(app, ["compare", str(a), str(b), "--json", "--report", str(page)])
    assert res.exit_code == 0, res.output
    cmp = json.loads(res.stdout)
    assert set(cmp["kpis"]) == {k for k, _, _ in COMPARE_KPIS}
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    for key, v in cmp["kpis"].items():
        assert v["a"] == sa["kpis"][key]
        assert v["b"] == sb["kpis"][key]
        if v["a"] is not None and v["b"] is not None:
            assert v["delta"] == pytest.approx(v["b"] - v["a"])
    # Without its own core site, Hokkaido's requests travel to Honshu: slower, never faster.
    hk_a = sa["per_region"]["Hokkaido"]["latency_p50_ms"]
    hk_b = sb["per_region"]["Hokkaido"]["latency_p50_ms"]
    assert hk_b > hk_a
    # 36,000 fewer GPUs: some requests no longer fit anywhere.
    assert cmp["kpis"]["served_share"]["delta"] < 0
    html = page.read_text(encoding="utf-8")
    for fid in COMPARE_FIGURE_IDS:
        assert f'id="{fid}"' in html
    assert 'id="compare"' in html
    assert "japan-2030-without-hk" in html
    assert "<script src=" not in html  # self-contained, offline


def test_compare_in_the_terminal(runs: tuple[Path, Path]) -> None:
    a, b = runs
    res = runner.invoke(app, ["compare", str(a), str(b)])
    assert res.exit_code == 0, res.output
    for label in ("latency p95", "requests served", "carbon", "B − A"):
        assert label in res.stdout


def test_compare_with_a_missing_run_fails_cleanly(runs: tuple[Path, Path], tmp_path: Path) -> None:
    res = runner.invoke(app, ["compare", str(runs[0]), str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert "tsunagu run" in res.output
    assert "Traceback" not in res.output
