"""The report's latency section: round-trip distributions per service and region.

Drawn when the run directory holds ``latency.parquet`` (:mod:`tsunagu.sim.latency`, columns in
docs/results-format.md): a chart of each service's p50 / p95 / p99 round trip with its network
and AI-processing means side by side, and a table per service and region with the quantiles,
the network / processing split and the stated sampling error.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
import plotly.io as pio
import pyarrow as pa
import pyarrow.parquet as pq

from tsunagu.errors import DataError
from tsunagu.sim.latency import ALL, LATENCY_SCHEMA

__all__ = ["LATENCY_CHART_ID", "LATENCY_TABLE_ID", "latency_figure", "latency_section"]

#: The div id of the chart and the id of the table in the report.
LATENCY_CHART_ID: Final[str] = "latency-services"
LATENCY_TABLE_ID: Final[str] = "latency-table"

Columns = dict[str, npt.NDArray[Any]]

#: Table columns: (column of latency.parquet, header).
_TABLE: Final[tuple[tuple[str, str], ...]] = (
    ("p50_ms", "p50 (ms)"),
    ("p95_ms", "p95 (ms)"),
    ("p99_ms", "p99 (ms)"),
    ("mean_ms", "mean (ms)"),
    ("network_p50_ms", "network p50 (ms)"),
    ("network_p95_ms", "network p95 (ms)"),
    ("network_p99_ms", "network p99 (ms)"),
    ("network_mean_ms", "network mean (ms)"),
    ("processing_mean_ms", "AI processing mean (ms)"),
    ("lastmile_mean_ms", "of which last mile (ms)"),
    ("queueing_mean_ms", "queueing mean (ms)"),
    ("requests", "requests"),
    ("cdf_error", "sampling error (± quantile level)"),
)


def _read(run_dir: Path) -> Columns | None:
    path = Path(run_dir) / "latency.parquet"
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path} is not a readable Parquet file ({exc}); re-run the twin") from exc
    missing = [c for c in LATENCY_SCHEMA.names if c not in table.column_names]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)} (see docs/results-format.md); "
            "re-run `tsunagu run` with this version of tsunagu"
        )
    return {
        c: np.asarray(table.column(c).to_numpy(zero_copy_only=False)) for c in table.column_names
    }


def latency_figure(lat: Columns) -> go.Figure:
    """Per service: p50 / p95 / p99 of the round trip, network and AI-processing means (ms)."""
    rows = np.flatnonzero((lat["region"] == ALL) & (lat["service"] != ALL))
    names = [str(s) for s in lat["service"][rows]]
    fig = go.Figure()
    for col, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        fig.add_bar(x=names, y=lat[col][rows], name=f"round trip {label}")
    fig.add_bar(x=names, y=lat["network_mean_ms"][rows], name="network, mean")
    fig.add_bar(x=names, y=lat["processing_mean_ms"][rows], name="AI processing, mean")
    fig.update_layout(
        barmode="group",
        title="Round trip per service: quantiles, network and AI processing (served requests)",
        yaxis={"title": "ms", "type": "log"},
        legend={"orientation": "h"},
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
    )
    return fig


def _fmt(value: Any, col: str) -> str:
    v = float(value)
    if not np.isfinite(v):
        return "∞" if v > 0 else "—"
    if col == "requests":
        return f"{v:,.0f}"
    if col == "cdf_error":
        return f"{v:.4f}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"


def _table(lat: Columns) -> str:
    head = "<th>service</th><th>region</th>" + "".join(
        f"<th>{html.escape(h)}</th>" for _, h in _TABLE
    )
    body = []
    for i in range(lat["service"].size):
        cells = "".join(f'<td class="num">{_fmt(lat[c][i], c)}</td>' for c, _ in _TABLE)
        body.append(
            f"<tr><td>{html.escape(str(lat['service'][i]))}</td>"
            f"<td>{html.escape(str(lat['region'][i]))}</td>{cells}</tr>"
        )
    return (
        f'<table id="{LATENCY_TABLE_ID}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody>\n</table>"
    )


def latency_section(run_dir: Path) -> str:
    """The report's latency section (empty when the run directory holds no latency table)."""
    lat = _read(run_dir)
    if lat is None or lat["service"].size == 0:
        return ""
    div = pio.to_html(
        latency_figure(lat),
        include_plotlyjs=False,
        full_html=False,
        div_id=LATENCY_CHART_ID,
        config={"displaylogo": False, "responsive": True},
        default_width="100%",
    )
    note = (
        "<p>Served requests' round trip as distributions: propagation, transmission and "
        "equipment fixed; the last mile of each access technology (lastmile_delay.csv), the "
        "links' M/M/1 and the GPUs' M/M/c queueing drawn; weighted by requests. The sampling "
        "error is the ± quantile level within which each quantile lies with 99 % confidence.</p>"
    )
    return (
        "<section><h2>Latency distributions per service and region</h2>\n"
        f"{note}\n{div}\n{_table(lat)}\n</section>"
    )
