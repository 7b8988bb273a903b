"""The load figures: a utilisation map at the busy step and utilisation per resource over time.

Drawn when the run directory holds ``link_loads.parquet`` (one row per link and step: ``step,
time_s, link, src, dst, domain, resource, capacity_bps, load_bps, utilisation,
queue_delay_s``); node coordinates come from ``nodes.parquet`` (``name, lat_deg, lon_deg``).
The busy step is the step with the largest total offered load over all links. Links whose end
points have no coordinates (for example inter-satellite links) are left off the map and counted
in its title; they stay in the per-resource chart.
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
from tsunagu.geo import prefecture_outlines

__all__ = [
    "LINK_LOAD_COLUMNS",
    "LOAD_MAP_ID",
    "RESOURCE_CHART_ID",
    "UTILISATION_BINS",
    "busy_step",
    "load_map_figure",
    "load_section",
    "read_link_loads",
    "resource_summary",
    "resource_utilisation_figure",
]

#: The div ids of the load figures in the report.
LOAD_MAP_ID: Final[str] = "load-map"
RESOURCE_CHART_ID: Final[str] = "load-resource"

#: Columns of ``link_loads.parquet`` the figures read.
LINK_LOAD_COLUMNS: Final[tuple[str, ...]] = (
    "step",
    "time_s",
    "link",
    "src",
    "dst",
    "domain",
    "resource",
    "capacity_bps",
    "load_bps",
    "utilisation",
    "queue_delay_s",
)

#: Utilisation classes of the map: (lower bound, label, colour); the last is overload.
UTILISATION_BINS: Final[tuple[tuple[float, str, str], ...]] = (
    (0.0, "< 50 %", "rgb(26, 150, 65)"),
    (0.5, "50–80 %", "rgb(166, 217, 106)"),
    (0.8, "80–95 %", "rgb(253, 174, 97)"),
    (0.95, "95–100 %", "rgb(244, 109, 67)"),
    (1.0, "≥ 100 % (overloaded)", "rgb(165, 0, 38)"),
)

Columns = dict[str, npt.NDArray[Any]]
_MAP_HEIGHT_PX: Final[int] = 720
_PAD_DEG: Final[float] = 0.6


def _numpy(column: pa.ChunkedArray) -> npt.NDArray[Any]:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.array(["" if v is None else v for v in column.to_pylist()], dtype=object)
    return np.asarray(column.to_numpy(zero_copy_only=False))


def read_link_loads(run_dir: Path) -> Columns | None:
    """The ``link_loads`` table of ``run_dir`` as NumPy columns; None when it is absent.

    Raises
    ------
    DataError
        If the file exists but is unreadable or lacks a column.
    """
    path = Path(run_dir) / "link_loads.parquet"
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path} is not a readable Parquet file ({exc}); re-run the twin") from exc
    missing = [c for c in LINK_LOAD_COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)} (see docs/results-format.md); "
            "re-run `tsunagu run` with this version of tsunagu"
        )
    return {c: _numpy(table.column(c)) for c in LINK_LOAD_COLUMNS}


def _read_nodes(run_dir: Path) -> Columns:
    path = Path(run_dir) / "nodes.parquet"
    if not path.is_file():
        return {
            "name": np.array([], dtype=object),
            "lat_deg": np.array([]),
            "lon_deg": np.array([]),
        }
    table = pq.read_table(path, columns=["name", "lat_deg", "lon_deg"])
    return {c: _numpy(table.column(c)) for c in ("name", "lat_deg", "lon_deg")}


def busy_step(loads: Columns) -> int:
    """The step with the largest total load over all links (the first one on a tie)."""
    steps, inverse = np.unique(loads["step"], return_inverse=True)
    if steps.size == 0:
        raise DataError("link_loads holds no rows; the run wrote no link loads")
    total = np.bincount(inverse, weights=loads["load_bps"].astype(np.float64))
    return int(steps[int(np.argmax(total))])


def _coordinates(names: npt.NDArray[Any], nodes: Columns) -> tuple[Any, Any, Any]:
    """(lon, lat, found) of each name, looked up in the nodes table."""
    keys = names.astype(str)
    node_names = nodes["name"].astype(str)
    if node_names.size == 0:
        nan = np.full(keys.size, np.nan)
        return nan, nan.copy(), np.zeros(keys.size, dtype=bool)
    order = np.argsort(node_names)
    pos = np.clip(np.searchsorted(node_names[order], keys), 0, node_names.size - 1)
    idx = order[pos]
    found = node_names[idx] == keys
    lon = np.where(found, nodes["lon_deg"][idx].astype(np.float64), np.nan)
    lat = np.where(found, nodes["lat_deg"][idx].astype(np.float64), np.nan)
    return lon, lat, found & np.isfinite(lon) & np.isfinite(lat)


def _segments(x0: Any, y0: Any, x1: Any, y1: Any) -> tuple[Any, Any]:
    n = x0.size
    xs = np.full(3 * n, np.nan)
    ys = np.full(3 * n, np.nan)
    xs[0::3], xs[1::3] = x0, x1
    ys[0::3], ys[1::3] = y0, y1
    return xs, ys


def load_map_figure(loads: Columns, nodes: Columns, step: int | None = None) -> Any:
    """Links drawn between their end points, coloured by utilisation at ``step`` (default: the
    busy step), over the prefecture outlines; hover on a link's middle gives its figures."""
    step = busy_step(loads) if step is None else step
    at = loads["step"] == step
    lon0, lat0, ok0 = _coordinates(loads["src"][at], nodes)
    lon1, lat1, ok1 = _coordinates(loads["dst"][at], nodes)
    drawn = ok0 & ok1
    util = loads["utilisation"][at].astype(np.float64)[drawn]
    lon0, lat0, lon1, lat1 = lon0[drawn], lat0[drawn], lon1[drawn], lat1[drawn]
    fig = go.Figure()
    rings = prefecture_outlines()
    ox = np.concatenate([np.append(r.lon_deg, np.nan) for r in rings])
    oy = np.concatenate([np.append(r.lat_deg, np.nan) for r in rings])
    fig.add_trace(
        go.Scatter(
            x=ox,
            y=oy,
            mode="lines",
            name="prefectures",
            fill="toself",
            fillcolor="rgba(235, 235, 225, 0.6)",
            line={"color": "rgb(150, 150, 140)", "width": 0.7},
            hoverinfo="skip",
        )
    )
    lows = np.array([b[0] for b in UTILISATION_BINS])
    which = np.searchsorted(lows, util, side="right") - 1
    for k, (_, label, colour) in enumerate(UTILISATION_BINS):
        sel = which == k
        xs, ys = _segments(lon0[sel], lat0[sel], lon1[sel], lat1[sel])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"{label} ({int(sel.sum())})",
                line={"color": colour, "width": 1.5 + 2.0 * min(k, 3) / 3},
                hoverinfo="skip",
                meta={"links": int(sel.sum())},
            )
        )
    custom = np.column_stack(
        [
            loads["src"][at][drawn].astype(str),
            loads["dst"][at][drawn].astype(str),
            loads["resource"][at][drawn].astype(str),
            loads["domain"][at][drawn].astype(str),
            util * 100.0,
            loads["load_bps"][at][drawn].astype(np.float64) / 1e9,
            loads["capacity_bps"][at][drawn].astype(np.float64) / 1e9,
            loads["queue_delay_s"][at][drawn].astype(np.float64) * 1e3,
        ]
    ).astype(object)
    fig.add_trace(
        go.Scatter(
            x=(lon0 + lon1) / 2.0,
            y=(lat0 + lat1) / 2.0,
            mode="markers",
            name="link utilisation",
            marker={
                "size": 5,
                "color": np.minimum(util, 1.2) * 100.0,
                "colorscale": "RdYlGn_r",
                "cmin": 0.0,
                "cmax": 100.0,
                "colorbar": {"title": "utilisation (%)", "x": 1.0},
            },
            customdata=custom,
            hovertemplate=(
                "%{customdata[0]} → %{customdata[1]}<br>%{customdata[2]} (%{customdata[3]})"
                "<br>utilisation %{customdata[4]:.1f} %<br>load %{customdata[5]:,.1f} / "
                "%{customdata[6]:,.1f} Gb/s<br>queue %{customdata[7]:.3f} ms<extra></extra>"
            ),
            showlegend=False,
        )
    )
    hidden = int(at.sum() - drawn.sum())
    t_h = float(loads["time_s"][at][0]) / 3600.0 if at.any() else float("nan")
    title = f"Link utilisation at the busy step {step} (t = {t_h:.2f} h)"
    if hidden:
        title += f"; {hidden} link(s) without ground coordinates not drawn"
    all_x = np.concatenate([lon0, lon1, ox[np.isfinite(ox)]])
    all_y = np.concatenate([lat0, lat1, oy[np.isfinite(oy)]])
    x_range = [float(np.nanmin(all_x)) - _PAD_DEG, float(np.nanmax(all_x)) + _PAD_DEG]
    y_range = [float(np.nanmin(all_y)) - _PAD_DEG, float(np.nanmax(all_y)) + _PAD_DEG]
    fig.update_layout(
        title={"text": title},
        height=_MAP_HEIGHT_PX,
        template="plotly_white",
        hovermode="closest",
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.8)"},
        margin={"l": 70, "r": 20, "t": 60, "b": 50},
        meta={"busy_step": step, "links_drawn": int(drawn.sum()), "links_hidden": hidden},
    )
    fig.update_xaxes(title_text="longitude (°E)", range=x_range, constrain="domain")
    fig.update_yaxes(
        title_text="latitude (°N)",
        range=y_range,
        scaleanchor="x",
        scaleratio=float(1.0 / np.cos(np.deg2rad(0.5 * (y_range[0] + y_range[1])))),
        constrain="domain",
    )
    return fig


def resource_summary(loads: Columns) -> dict[str, dict[str, npt.NDArray[np.float64]]]:
    """Per resource and step: time (s), aggregate utilisation Σload/Σcapacity, max utilisation
    and max queueing delay (s)."""
    out: dict[str, dict[str, npt.NDArray[np.float64]]] = {}
    steps, s_inv = np.unique(loads["step"], return_inverse=True)
    time_s = np.zeros(steps.size)
    time_s[s_inv] = loads["time_s"]
    resources = loads["resource"].astype(str)
    for res in np.unique(resources):
        sel = resources == res
        inv = s_inv[sel]
        n = steps.size
        load = np.bincount(inv, weights=loads["load_bps"][sel].astype(np.float64), minlength=n)
        cap = np.bincount(inv, weights=loads["capacity_bps"][sel].astype(np.float64), minlength=n)
        umax = np.full(n, np.nan)
        np.fmax.at(umax, inv, loads["utilisation"][sel].astype(np.float64))
        qmax = np.full(n, np.nan)
        np.fmax.at(qmax, inv, loads["queue_delay_s"][sel].astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            agg = np.where(cap > 0.0, load / cap, np.nan)
        present = np.bincount(inv, minlength=n) > 0
        out[str(res)] = {
            "time_s": time_s[present],
            "aggregate": agg[present],
            "max": umax[present],
            "queue_max_s": qmax[present],
        }
    return out


def resource_utilisation_figure(loads: Columns) -> Any:
    """Utilisation per resource kind over time: Σload/Σcapacity (solid) and the most loaded
    link of the kind (dotted), with the 100 % line."""
    fig = go.Figure()
    summary = resource_summary(loads)
    for res, s in summary.items():
        hours = s["time_s"] / 3600.0
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=s["aggregate"] * 100.0,
                mode="lines",
                name=f"{res}: all links (Σ load / Σ capacity)",
                legendgroup=res,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=s["max"] * 100.0,
                mode="lines",
                line={"dash": "dot"},
                name=f"{res}: most loaded link",
                legendgroup=res,
                customdata=s["queue_max_s"] * 1e3,
                hovertemplate="%{y:.1f} %, max queue %{customdata:.3f} ms<extra></extra>",
            )
        )
    fig.add_hline(y=100.0, line={"color": "rgb(165, 0, 38)", "width": 1, "dash": "dash"})
    fig.update_layout(
        title={"text": "Utilisation per resource"},
        template="plotly_white",
        xaxis_title="time (h)",
        yaxis_title="utilisation (%)",
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
        height=440,
        meta={"resources": list(summary)},
    )
    return fig


def _busy_table(loads: Columns, step: int) -> str:
    at = loads["step"] == step
    res = loads["resource"][at].astype(str)
    rows = []
    for r in np.unique(res):
        sel = res == r
        u = loads["utilisation"][at][sel].astype(np.float64)
        i = int(np.argmax(u))
        name = f"{loads['src'][at][sel][i]} → {loads['dst'][at][sel][i]}"
        over = int(np.sum(u >= 1.0))
        rows.append(
            f"<tr><td>{html.escape(str(r))}</td><td>{int(sel.sum())}</td>"
            f"<td>{u[i]:.1%}</td><td>{html.escape(name)}</td><td>{over}</td>"
            f"<td>{float(np.max(loads['queue_delay_s'][at][sel])) * 1e3:.3f}</td></tr>"
        )
    head = (
        "<tr><th>resource</th><th>links</th><th>max utilisation</th><th>most loaded</th>"
        "<th>at or over capacity</th><th>max queueing (ms)</th></tr>"
    )
    return f'<table id="load-busy">{head}{"".join(rows)}</table>'


def _div(fig: Any, div_id: str) -> str:
    return str(
        pio.to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
            default_width="100%",
        )
    )


def load_section(run_dir: Path) -> str:
    """The report's load section (empty when the run directory holds no ``link_loads``)."""
    loads = read_link_loads(run_dir)
    if loads is None or loads["step"].size == 0:
        return ""
    step = busy_step(loads)
    nodes = _read_nodes(run_dir)
    return (
        "<section><h2>Where the network is loaded at the busy step</h2>\n"
        f"{_busy_table(loads, step)}\n{_div(load_map_figure(loads, nodes, step), LOAD_MAP_ID)}\n"
        "</section>\n<section><h2>Utilisation per resource</h2>\n"
        f"{_div(resource_utilisation_figure(loads), RESOURCE_CHART_ID)}\n</section>"
    )
