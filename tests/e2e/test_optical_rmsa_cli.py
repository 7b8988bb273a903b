"""``tsunagu optical rmsa`` on small runs: JSON output, table output, errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tsunagu.cli import app

runner = CliRunner()


def test_rmsa_json_reports_blocking_with_interval() -> None:
    res = runner.invoke(
        app,
        [
            "optical",
            "rmsa",
            "--topology",
            "nsfnet",
            "--load",
            "300",
            "--requests",
            "6000",
            "--warmup",
            "1000",
            "--policy",
            "ff-ksp",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["topology"] == "nsfnet"
    assert data["policy"] == "ff-ksp"
    assert data["measured"] == 5000
    lo, hi = data["ci95"]
    assert 0.0 <= lo <= data["blocking_probability"] <= hi <= 1.0
    assert data["blocking_probability"] > 0.0  # 300 E on 100 units per direction blocks
    assert set(data["blocked_by_reason"]) == {
        "no path",
        "no mode with enough reach/GSNR",
        "no spectrum",
    }
    assert sum(data["blocked_by_reason"].values()) == round(data["blocking_probability"] * 5000)
    assert data["requests_per_s"] > 0


def test_rmsa_table_and_user_topology(tmp_path: Path) -> None:
    topo = tmp_path / "ring.csv"
    topo.write_text("a,b,length_km\nA,B,100\nB,C,200\nC,D,300\nD,A,400\n", encoding="utf-8")
    res = runner.invoke(
        app,
        [
            "optical",
            "rmsa",
            "--topology",
            str(topo),
            "--load",
            "20",
            "--requests",
            "3000",
            "--warmup",
            "500",
            "--slots",
            "16",
            "--undirected",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "blocking probability" in res.output
    assert "95 % CI (batch means)" in res.output
    gn = runner.invoke(
        app,
        [
            "optical",
            "rmsa",
            "--topology",
            str(topo),
            "--load",
            "20",
            "--requests",
            "3000",
            "--warmup",
            "500",
            "--qot",
            "gn",
            "--json",
        ],
    )
    assert gn.exit_code == 0, gn.output
    assert json.loads(gn.stdout)["qot"] == "gn"
    listed = runner.invoke(app, ["optical", "rmsa", "--list-policies", "--json"])
    assert "ksp-ff" in json.loads(listed.stdout)["policies"]


def test_rmsa_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["optical", "rmsa", "--policy", "best-ever"])
    assert bad.exit_code == 2
    assert "unknown spectrum policy 'best-ever'" in bad.output
    assert "Traceback" not in bad.output
    few = runner.invoke(app, ["optical", "rmsa", "--requests", "100", "--warmup", "3000"])
    assert few.exit_code == 2
    assert "--requests" in few.output
    missing = runner.invoke(
        app, ["optical", "rmsa", "--topology", str(tmp_path / "none.csv"), "--requests", "4000"]
    )
    assert missing.exit_code == 2
    assert "cannot read topology file" in missing.output
