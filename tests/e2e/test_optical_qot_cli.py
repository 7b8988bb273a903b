"""``tsunagu optical qot`` on GNPy's shipped mesh example, through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import gnpy.tools.json_io as gnpy_json_io
from typer.testing import CliRunner

from tsunagu.cli import app

EXAMPLES = Path(gnpy_json_io.__file__).resolve().parent.parent / "example-data"
ARGS = [
    "optical",
    "qot",
    "--topology",
    str(EXAMPLES / "meshTopologyExampleV2.json"),
    "--equipment",
    str(EXAMPLES / "eqpt_config.json"),
    "--requests",
    str(EXAMPLES / "meshTopologyExampleV2_services.json"),
]
runner = CliRunner()


def test_qot_json_lists_every_request() -> None:
    res = runner.invoke(app, [*ARGS, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    reqs = data["requests"]
    assert [r["request_id"] for r in reqs] == ["0", "1", "3", "4", "5", "6", "7", "7b"]
    for r in reqs:
        assert r["feasible"] is True
        assert r["path"][0] == r["source"]
        assert r["path"][-1] == r["destination"]
        assert r["gsnr_01nm_db"] <= r["osnr_ase_01nm_db"] + 1e-9
        assert r["gsnr_01nm_db"] - r["gsnr_db"] > 0  # 32-66 GBd is wider than 0.1 nm
        assert r["latency_s"] >= r["length_km"] * 1e3 / 299_792_458.0
        assert r["slot_m"] >= 4
    # request 0: Lorient → Vannes, 10 km, GNPy reports 28.87 dB and slot ([-284],[4])
    first = reqs[0]
    assert abs(first["gsnr_01nm_db"] - 28.87) < 0.01
    assert (first["slot_n"], first["slot_m"]) == (-284, 4)


def test_qot_table_output() -> None:
    res = runner.invoke(app, ARGS)
    assert res.exit_code == 0, res.output
    assert "GSNR" in res.stdout
    assert "mode 1" in res.stdout


def test_qot_malformed_file_fails_cleanly(tmp_path: Path) -> None:
    topo = json.loads((EXAMPLES / "meshTopologyExampleV2.json").read_text())
    fibre = next(e for e in topo["elements"] if e["type"] == "Fiber")
    del fibre["params"]["length"]
    bad = tmp_path / "topo.json"
    bad.write_text(json.dumps(topo))
    args = list(ARGS)
    args[args.index("--topology") + 1] = str(bad)
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert fibre["uid"] in res.output
    assert "'length'" in res.output
    assert "Traceback" not in res.output
    missing = runner.invoke(app, [*ARGS[:-1], str(tmp_path / "none.json")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.output


def test_qot_blocked_request_names_reason(tmp_path: Path) -> None:
    services = json.loads((EXAMPLES / "meshTopologyExampleV2_services.json").read_text())
    req = services["path-request"][0]
    req["destination"] = "trx Nowhere"
    path = tmp_path / "req.json"
    path.write_text(json.dumps({"path-request": [req]}))
    args = list(ARGS)
    args[args.index("--requests") + 1] = str(path)
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)["requests"][0]
    assert r["feasible"] is False
    assert r["blocking_reason"] == "NO_PATH"
    assert "trx Nowhere" in r["reason"]
