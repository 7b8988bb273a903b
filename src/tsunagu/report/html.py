"""Write a run's self-contained, offline HTML report.

The page embeds plotly.js once, inline, and every figure's data; it loads nothing from the
network (no CDN, web fonts, map tiles or topojson), so it can be mailed or archived as one file.
``summary.json`` is embedded verbatim in ``<script type="application/json" id="tsunagu-summary">``
so readers and tests can recover the headline numbers without parsing the charts.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import plotly.io as pio
import plotly.offline

from tsunagu.report._rundir import RunData, read_run
from tsunagu.report.figures import FIGURE_IDS, figures_from_data
from tsunagu.sim import catalogue as kc

__all__ = ["SUMMARY_SCRIPT_ID", "render_report", "write_report"]

logger = logging.getLogger(__name__)

#: The id of the ``<script type="application/json">`` element holding summary.json.
SUMMARY_SCRIPT_ID = "tsunagu-summary"

_PLOTLY_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}

_FIGURE_CAPTIONS: dict[str, str] = {
    "map": "Map",
    "latency-time": "Latency over time",
    "energy-time": "Energy over time",
    "carbon-time": "Carbon over time",
    "share-time": "Served and SLA shares",
    "outage-time": "Population without service",
    "latency-dist": "Latency distribution",
    "latency-region": "Latency by region",
    "latency-components": "Latency components",
    "apn-margin": "APN: DCI lightpaths and their GSNR margin",
    "apn-vs-ip": "APN: power and latency against IP hops",
    "ntn-map": "Satellites and ground tracks",
    "ntn-rtt": "LEO round-trip time",
}

# Figures drawn before the page's layout settled (fonts, scroll bar) are refitted once loaded.
_RESIZE_JS = (
    'window.addEventListener("load", function () {'
    ' document.querySelectorAll(".plotly-graph-div").forEach(function (d) {'
    " Plotly.Plots.resize(d); }); });"
)

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; }
header { background: #1d3557; color: #fff; padding: 1.2em 2em; }
header h1 { margin: 0 0 0.3em 0; font-size: 1.6em; }
header p { margin: 0.2em 0; opacity: 0.9; }
main { padding: 1em 2em 3em 2em; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 1em;
          margin: 1em 0; }
h2 { font-size: 1.2em; margin: 0 0 0.6em 0; }
table { border-collapse: collapse; font-size: 0.92em; }
th, td { padding: 0.25em 0.9em; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.tables { display: flex; flex-wrap: wrap; gap: 2em; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr));
          gap: 1em; }
.charts section { margin: 0; }
"""


def write_report(run_dir: Path, out_path: Path | None = None) -> Path:
    """Write the HTML report of a run, atomically.

    Parameters
    ----------
    run_dir : Path
        A run directory written by ``tsunagu run`` (docs/results-format.md).
    out_path : Path, optional
        Where to write; defaults to ``run_dir / "report.html"``.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    tsunagu.errors.DataError
        If a file, column or summary key the report needs is missing; the message names it.

    Notes
    -----
    The page is built completely in memory, written to a temporary file in the target's
    directory and moved over the target with :func:`os.replace`, so a reader sees either the
    previous report or the new one, never a half-written file.
    """
    run_dir = Path(run_dir)
    out = Path(out_path) if out_path is not None else run_dir / "report.html"
    page = render_report(run_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(out, page)
    logger.debug("wrote %s (%d bytes)", out, out.stat().st_size)
    return out


def render_report(run_dir: Path) -> str:
    """Return the report of the run in ``run_dir`` as one HTML document (see write_report)."""
    run = read_run(Path(run_dir))
    figures = figures_from_data(run)
    from tsunagu.report.fig_emulate import emulation_section
    from tsunagu.report.fig_latency import latency_section
    from tsunagu.report.fig_load import load_section

    extra = (
        latency_section(Path(run_dir))
        + load_section(Path(run_dir))
        + emulation_section(Path(run_dir))
    )
    return _page(run, figures, extra=extra)


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _json_for_script(value: Any) -> str:
    """JSON safe to place inside a ``<script>`` element (no ``</script>`` can occur)."""
    text = json.dumps(value, ensure_ascii=False, indent=1, allow_nan=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(run: RunData, figures: Mapping[str, Any], extra: str = "") -> str:
    summary = run.summary
    scenario = str(summary.get("scenario", "unnamed scenario"))
    figure_divs = {
        fid: pio.to_html(
            figures[fid],
            include_plotlyjs=False,
            full_html=False,
            div_id=fid,
            config=_PLOTLY_CONFIG,
            default_width="100%",
        )
        for fid in FIGURE_IDS
    }
    charts = "\n".join(
        f"<section><h2>{html.escape(_FIGURE_CAPTIONS[fid])}</h2>\n{figure_divs[fid]}\n</section>"
        for fid in FIGURE_IDS
        if fid != "map"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>tsunagu report: {html.escape(scenario)}</title>",
            f"<style>{_CSS}</style>",
            '<script type="text/javascript">',
            plotly.offline.get_plotlyjs(),
            "</script>",
            f'<script type="application/json" id="{SUMMARY_SCRIPT_ID}">',
            _json_for_script(summary),
            "</script>",
            "</head>",
            "<body>",
            _header(summary),
            "<main>",
            _kpi_section(summary),
            _restoration_section(summary),
            f"<section><h2>{_FIGURE_CAPTIONS['map']}</h2>\n{figure_divs['map']}\n</section>",
            f'<div class="charts">\n{charts}\n</div>',
            extra,
            "</main>",
            f"<script>{_RESIZE_JS}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _header(summary: Mapping[str, Any]) -> str:
    scenario = html.escape(str(summary.get("scenario", "unnamed scenario")))
    facts = []
    if "steps" in summary and "step_s" in summary:
        facts.append(f"{summary['steps']} steps of {_number(summary['step_s'])} s")
    if "seed" in summary:
        facts.append(f"seed {summary['seed']}")
    if "runtime_s" in summary:
        facts.append(f"computed in {_number(summary['runtime_s'])} s")
    if "tsunagu_version" in summary:
        facts.append(f"tsunagu {summary['tsunagu_version']}")
    counts = summary.get("counts", {})
    count_text = ", ".join(f"{_number(v)} {str(k).replace('_', ' ')}" for k, v in counts.items())
    return (
        "<header>\n"
        f"<h1>tsunagu report: {scenario}</h1>\n"
        f'<p id="run-facts">{html.escape(" · ".join(facts))}</p>\n'
        f'<p id="run-counts">{html.escape(count_text)}</p>\n'
        "</header>"
    )


def _kpi_section(summary: Mapping[str, Any]) -> str:
    rows = []
    for key, value in summary["kpis"].items():
        label, unit = kc.label_unit(str(key))
        rows.append((label, _format_value(value, unit), unit))
    kpi_table = _table(("KPI", "value", "unit"), rows, numeric=(1,), table_id="kpis")
    parts = [f"<div><h2>Headline KPIs</h2>\n{kpi_table}\n</div>"]
    for key, title in (("per_service", "Per service"), ("per_region", "Per region")):
        groups = summary.get(key)
        if isinstance(groups, Mapping) and groups:
            parts.append(
                f"<div><h2>{title}</h2>\n{_group_table(groups, key.replace('_', '-'))}\n</div>"
            )
    return '<section class="tables">\n' + "\n".join(parts) + "\n</section>"


def _restoration_section(summary: Mapping[str, Any]) -> str:
    """Loss and restoration per prefecture (empty when nothing was lost)."""
    areas = summary.get("restoration")
    if not isinstance(areas, Mapping) or not areas:
        return ""

    def hours(v: Any) -> str:
        return "not within the run" if v is None else f"{float(v) / 3600.0:.1f}"

    rows = [
        (
            str(name),
            _number(r.get("peak_without_service")),
            hours(r.get("lost_at_s")),
            hours(r.get("restored_at_s")),
            hours(r.get("time_to_restore_s")),
            _number(r.get("person_hours")),
            _number(r.get("population_on_ntn_peak")),
        )
        for name, r in areas.items()
        if isinstance(r, Mapping)
    ]
    table = _table(
        (
            "prefecture",
            "peak without service (people)",
            "lost at (h)",
            "restored at (h)",
            "time to restore (h)",
            "person-hours without service",
            "peak on NTN backup (people)",
        ),
        rows,
        numeric=(1, 2, 3, 4, 5, 6),
        table_id="restoration",
    )
    return f"<section><h2>Loss and restoration by prefecture</h2>\n{table}\n</section>"


def _group_table(groups: Mapping[str, Any], table_id: str) -> str:
    columns: list[str] = []
    for values in groups.values():
        if isinstance(values, Mapping):
            columns += [c for c in values if c not in columns]
    headers = ["name"] + [f"{kc.label_unit(c)[0]} ({kc.label_unit(c)[1] or '-'})" for c in columns]
    rows = []
    for name, values in groups.items():
        values = values if isinstance(values, Mapping) else {}
        rows.append(
            (
                str(name),
                *(_format_value(values.get(c), kc.label_unit(c)[1]) for c in columns),
            )
        )
    return _table(headers, rows, numeric=tuple(range(1, len(headers))), table_id=table_id)


def _table(
    headers: tuple[str, ...] | list[str],
    rows: Sequence[tuple[str, ...]],
    *,
    numeric: tuple[int, ...],
    table_id: str,
) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(c)}</td>'
            if i in numeric
            else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<table id="{table_id}">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table>"
    )


def _format_value(value: Any, unit: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    if unit == "%":
        return f"{100.0 * value:.1f}"
    return _number(value)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
