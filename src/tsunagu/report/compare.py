"""The side-by-side report of two runs (``tsunagu compare A B --report PATH``).

One offline HTML page: the two runs' headline KPIs with their difference, and the time series
of both runs overlaid (latency p95, energy, carbon, population without service), so a what-if
(e.g. japan-2030 with and without the Hokkaido and Kyushu core sites) reads at a glance.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from tsunagu.report._rundir import RunData, read_run
from tsunagu.report.html import _CSS, _PLOTLY_CONFIG, _atomic_write_text, _format_value, _table
from tsunagu.sim import catalogue as kc

__all__ = ["COMPARE_FIGURE_IDS", "compare_rows", "write_compare_report"]

#: (kpi key, label, unit) compared; shares in per cent.
COMPARE_KPIS: tuple[tuple[str, str, str], ...] = tuple(
    (k.name, k.label, k.unit) for k in kc.in_view("compare")
)

#: Time series overlaid: (figure id, steps column, title, y axis title).
_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("cmp-latency", kc.LATENCY_P95_MS.name, "Latency p95 over time", "latency p95 (ms)"),
    ("cmp-energy", kc.ENERGY_TOTAL_KWH.name, "Energy per step", "energy per step (kWh)"),
    ("cmp-carbon", kc.CARBON_KG.name, "Carbon per step", "carbon per step (kg CO₂)"),
    (
        "cmp-outage",
        kc.POPULATION_UNSERVED.name,
        "Population without service",
        "population (people)",
    ),
)
COMPARE_FIGURE_IDS: tuple[str, ...] = tuple(s[0] for s in _SERIES)


def compare_rows(
    a: Mapping[str, Any], b: Mapping[str, Any]
) -> list[tuple[str, str, str, Any, Any, Any]]:
    """(key, label, unit, A, B, B − A) for every compared KPI of two summaries."""
    rows = []
    for key, label, unit in COMPARE_KPIS:
        va, vb = a.get("kpis", {}).get(key), b.get("kpis", {}).get(key)
        num = (int, float)
        delta = (
            vb - va
            if isinstance(va, num) and isinstance(vb, num) and not isinstance(va, bool)
            else None
        )
        rows.append((key, label, unit, va, vb, delta))
    return rows


def _figure(fid: str, column: str, title: str, y_title: str, runs: Sequence[RunData]) -> Any:
    fig = go.Figure()
    for label, run in zip(("A", "B"), runs, strict=True):
        fig.add_trace(
            go.Scatter(
                x=np.asarray(run.steps["time_s"], dtype=np.float64) / 3600.0,
                y=np.asarray(run.steps[column], dtype=np.float64),
                mode="lines+markers",
                name=f"{label}: {run.summary.get('scenario', '')}",
            )
        )
    fig.update_layout(
        title={"text": title},
        height=380,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 70, "r": 20, "t": 60, "b": 40},
    )
    fig.update_xaxes(title_text="time since start of run (h)")
    fig.update_yaxes(title_text=y_title, rangemode="tozero")
    return fig


def write_compare_report(run_a: Path, run_b: Path, out_path: Path) -> Path:
    """Write the comparison page of two run directories to ``out_path`` (atomically).

    Raises
    ------
    tsunagu.errors.DataError
        If either run directory is incomplete (the message names the missing file).
    """
    runs = (read_run(Path(run_a)), read_run(Path(run_b)))
    rows = [
        (
            label,
            _format_value(va, unit),
            _format_value(vb, unit),
            _format_value(d, unit),
            unit,
        )
        for _, label, unit, va, vb, d in compare_rows(runs[0].summary, runs[1].summary)
    ]
    kpis = _table(("KPI", "A", "B", "B − A", "unit"), rows, numeric=(1, 2, 3), table_id="compare")
    divs = "\n".join(
        "<section>"
        + pio.to_html(
            _figure(fid, col, title, y, runs),
            include_plotlyjs=False,
            full_html=False,
            div_id=fid,
            config=_PLOTLY_CONFIG,
            default_width="100%",
        )
        + "</section>"
        for fid, col, title, y in _SERIES
    )
    name_a = html.escape(f"{runs[0].summary.get('scenario', '')} ({run_a})")
    name_b = html.escape(f"{runs[1].summary.get('scenario', '')} ({run_b})")
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>tsunagu compare: {name_a} vs {name_b}</title>",
            f"<style>{_CSS}</style>",
            '<script type="text/javascript">',
            plotly.offline.get_plotlyjs(),
            "</script>",
            "</head>",
            "<body>",
            f"<header><h1>tsunagu compare</h1><p>A: {name_a}</p><p>B: {name_b}</p></header>",
            "<main>",
            f"<section><h2>Headline KPIs</h2>\n{kpis}\n</section>",
            f'<div class="charts">\n{divs}\n</div>',
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(out, page)
    return out
