"""Read a run directory (docs/results-format.md) into NumPy columns for the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from tsunagu.errors import DataError
from tsunagu.report.fig_optical import LIGHTPATH_COLUMNS
from tsunagu.sim import catalogue as kc

__all__ = ["Columns", "RunData", "read_run"]

Columns = dict[str, npt.NDArray[Any]]

_FIX = "run `tsunagu run SCENARIO --out DIR` first (or point at a complete run directory)"

# The columns the report reads from each table; other columns are ignored.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "nodes.parquet": ("name", "kind", "domain", "operator", "lat_deg", "lon_deg", "up"),
    "links.parquet": ("src_name", "dst_name", "domain", "medium", "length_m", "up", "operator"),
    "steps.parquet": (
        "step",
        "time_s",
        kc.SERVED_SHARE.name,
        kc.SLA_SHARE.name,
        kc.LATENCY_P50_MS.name,
        kc.LATENCY_P95_MS.name,
        kc.POPULATION_SERVED.name,
        kc.POPULATION_UNSERVED.name,
        kc.ENERGY_OPTICAL_KWH.name,
        kc.ENERGY_RAN_KWH.name,
        kc.ENERGY_NTN_KWH.name,
        kc.ENERGY_COMPUTE_KWH.name,
        kc.ENERGY_TOTAL_KWH.name,
        kc.CARBON_KG.name,
    ),
    "flows.parquet": (
        "step",
        "demand",
        "prefecture",
        "region",
        "lat_deg",
        "lon_deg",
        "population",
        "service",
        kc.DEMAND_RPS.name,
        "access",
        "site",
        "latency_propagation_ms",
        "latency_transmission_ms",
        "latency_queueing_ms",
        "latency_processing_ms",
        "latency_total_ms",
        "sla_met",
    ),
    "satellites.parquet": ("step", "constellation", "sat_id", "lat_deg", "lon_deg"),
}
_SUMMARY_KEYS = ("scenario", "counts", "kpis")

# Read when present (runs written before restoration KPIs existed lack them).
_OPTIONAL_STEPS = tuple(kc.access_population(a).name for a in ("ran", "haps", "leo", "none"))
_NTN_RTT = ("time_s", "pair", "rtt_ms", "hops", "path_change")
_NTN_TRACKS = ("time_s", "sat_id", "lat_deg", "lon_deg", "alt_m")
_AREAS = (
    "step",
    "time_s",
    "prefecture_name",
    "population",
    "population_without_service",
    "population_on_ntn",
)


@dataclass(frozen=True)
class RunData:
    """The parts of a run directory the report shows."""

    summary: dict[str, Any]
    nodes: Columns
    links: Columns
    steps: Columns
    flows: Columns
    satellites: Columns
    areas: Columns
    lightpaths: Columns = field(default_factory=dict)
    ntn_rtt: Columns = field(default_factory=dict)
    ntn_tracks: Columns = field(default_factory=dict)


def read_run(run_dir: Path) -> RunData:
    """Read ``summary.json`` and the Parquet tables of ``run_dir``.

    Raises
    ------
    DataError
        If ``run_dir``, a file, a column or a summary key is missing or unreadable; the message
        names it and says how to produce it.
    """
    from tsunagu.results.store import check_run_id, recover_run_dir

    run_dir = Path(run_dir)
    recover_run_dir(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"run directory {run_dir} does not exist; {_FIX}")
    summary = _read_summary(run_dir / "summary.json")
    check_run_id(run_dir, summary)
    tables = {name: _read_table(run_dir / name, cols) for name, cols in _COLUMNS.items()}
    tables["steps.parquet"].update(_read_optional(run_dir / "steps.parquet", _OPTIONAL_STEPS))
    return RunData(
        areas=_read_optional(run_dir / "areas.parquet", _AREAS),
        summary=summary,
        nodes=tables["nodes.parquet"],
        links=tables["links.parquet"],
        steps=tables["steps.parquet"],
        flows=tables["flows.parquet"],
        satellites=tables["satellites.parquet"],
        lightpaths=_read_optional(run_dir / "lightpaths.parquet", LIGHTPATH_COLUMNS),
        ntn_rtt=_read_optional(run_dir / "ntn_rtt.parquet", _NTN_RTT),
        ntn_tracks=_read_optional(run_dir / "ntn_tracks.parquet", _NTN_TRACKS),
    )


def _read_summary(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"{path} is missing; {_FIX}")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path} is not valid JSON ({exc}); re-run `tsunagu run` to rewrite it"
        ) from exc
    if not isinstance(summary, dict):
        raise DataError(f"{path} must hold a JSON object; re-run `tsunagu run` to rewrite it")
    for key in _SUMMARY_KEYS:
        if key not in summary:
            raise DataError(
                f"{path} has no '{key}' key (see docs/results-format.md); "
                "re-run `tsunagu run` with this version of tsunagu"
            )
    for key in ("counts", "kpis"):
        if not isinstance(summary[key], dict):
            raise DataError(f"{path}: '{key}' must be a JSON object (see docs/results-format.md)")
    return summary


def _read_table(path: Path, columns: tuple[str, ...]) -> Columns:
    if not path.is_file():
        raise DataError(f"{path} is missing; {_FIX}")
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path} is not a readable Parquet file ({exc}); {_FIX}") from exc
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)} (see docs/results-format.md); "
            "re-run `tsunagu run` with this version of tsunagu"
        )
    try:
        table = pq.read_table(path, columns=list(columns))
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path} could not be read ({exc}); {_FIX}") from exc
    return {name: _to_numpy(table.column(name)) for name in columns}


def _read_optional(path: Path, columns: tuple[str, ...]) -> Columns:
    """The columns of ``path`` that exist; empty when the file is absent or unreadable."""
    if not path.is_file():
        return {}
    try:
        names = pq.read_schema(path).names
        present = [c for c in columns if c in names]
        table = pq.read_table(path, columns=present)
    except (OSError, pa.ArrowException):
        return {}
    return {name: _to_numpy(table.column(name)) for name in present}


def _to_numpy(column: pa.ChunkedArray) -> npt.NDArray[Any]:
    """One column as NumPy: numbers as float/int/bool, text as ``str`` objects ('' for null)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return np.array(["" if v is None else v for v in column.to_pylist()], dtype=object)
    if pa.types.is_boolean(kind):
        return np.asarray(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_integer(kind) and column.null_count == 0:
        return np.asarray(column.to_numpy(), dtype=np.int64)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
