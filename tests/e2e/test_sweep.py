"""``tsunagu sweep``: one merged table, identical locally and on a Dask cluster for one seed.

REFERENCES.md ("Scale-out"): several pytest workers each starting a cluster is flaky, so this
module starts exactly one in-process cluster (``LocalCluster(processes=False)``).
"""

from __future__ import annotations

import json
from pathlib import Path

import distributed
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tsunagu.cli import app
from tsunagu.errors import ScenarioError
from tsunagu.scenario import load_scenario
from tsunagu.sim.sweep import make_cases, run_sweep

MINIMAL = Path(__file__).parents[1] / "data" / "scenarios" / "minimal.yaml"
runner = CliRunner()


def _cases() -> list:  # type: ignore[type-arg]
    return make_cases(
        load_scenario(MINIMAL),
        runs=3,
        seed=11,
        grid={"ran.battery_hold_s": [0.0, 3600.0]},
        fail_links_share=0.4,
        fail_satellites_share=0.3,
    )


def test_sweep_is_identical_locally_and_on_dask() -> None:
    cases = _cases()
    serial = run_sweep(cases, workers=1)
    with (
        distributed.LocalCluster(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = run_sweep(cases, scheduler=client)
    assert on_dask.backend == "dask"
    assert serial.backend == "local"
    assert on_dask.table.equals(serial.table)
    t = serial.table
    assert t["case"].to_pylist() == list(range(6))
    assert t["param:ran.battery_hold_s"].to_pylist() == [0.0] * 3 + [3600.0] * 3
    # The draws differ between seeds (so equality above is not trivially true).
    assert np.unique(t["energy_total_kwh"].to_numpy()).size > 1
    # A case gives the same row however many cases run with it.
    again = run_sweep(cases[4:5], workers=1).table
    assert again.to_pylist()[0] == t.to_pylist()[4]


def test_sweep_in_local_processes_matches_in_process() -> None:
    cases = _cases()[:2]
    assert run_sweep(cases, workers=2).table.equals(run_sweep(cases, workers=1).table)


def test_bad_sweep_parameters_are_named() -> None:
    sc = load_scenario(MINIMAL)
    with pytest.raises(ScenarioError, match=r"ran\.nope"):
        make_cases(sc, grid={"ran.nope": [1]})
    with pytest.raises(ScenarioError, match=r"events\.5"):
        make_cases(sc, grid={"events.5.factor": [1]})
    with pytest.raises(ScenarioError, match="runs must be at least 1"):
        make_cases(sc, runs=0)
    with pytest.raises(ScenarioError, match="fail_links_share"):
        make_cases(sc, fail_links_share=1.5)
    with pytest.raises(ScenarioError, match="battery_hold_s"):
        make_cases(sc, grid={"ran.battery_hold_s": [-5.0]})


def test_cli_sweep_writes_one_merged_table(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    res = runner.invoke(
        app,
        [
            "sweep",
            str(MINIMAL),
            "-n",
            "2",
            "--workers",
            "1",
            "--fail-links",
            "0.3",
            "--set",
            "ran.battery_hold_s=0,3600",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["cases"] == 4
    assert len(data["rows"]) == 4
    assert data["backend"] == "local"
    table = pq.read_table(out / "sweep.parquet")
    assert table.num_rows == 4
    assert "param:ran.battery_hold_s" in table.column_names
    assert json.loads((out / "sweep.json").read_text())["stats"]["served_share"]["mean"] > 0
    text = runner.invoke(app, ["sweep", str(MINIMAL), "-n", "1", "--workers", "1"])
    assert text.exit_code == 0, text.output
    assert "statistics over 1 cases" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "ran.battery_hold_s"], "PATH=V1,V2"),
        (["--set", "ran.nope=1"], "ran.nope"),
        (["--preset", "kobe-1995"], "noto-2024"),
        (["--fail-satellites", "2"], "fail_satellites_share"),
    ],
)
def test_cli_sweep_bad_input(args: list[str], message: str) -> None:
    res = runner.invoke(app, ["sweep", str(MINIMAL), "-n", "1", "--workers", "1", *args])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
