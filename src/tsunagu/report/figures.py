"""The report's figures, built from a run directory with Plotly.

Every figure uses cartesian axes only: Plotly's geo traces (``scattergeo``, ``choropleth``) fetch
their base map from a CDN when viewed, which would break the report offline. The map of Japan is
an ordinary scatter of longitude against latitude with prefecture outlines drawn as lines and the
axes scaled so a kilometre east looks as long as a kilometre north at the map's mid-latitude.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
from plotly.colors import qualitative

from tsunagu.geo import geodetic_to_ecef, prefecture_outlines
from tsunagu.report._rundir import Columns, RunData, read_run
from tsunagu.report.fig_ntn import satellite_map_figure
from tsunagu.report.fig_optical import lightpath_figures
from tsunagu.sim import catalogue as kc

__all__ = [
    "COMPUTE_TRACE",
    "DEMAND_TRACE",
    "FIGURE_IDS",
    "OUTLINE_TRACE",
    "SATELLITE_TRACE",
    "UNSERVED_TRACE",
    "WITHOUT_SERVICE_TRACE",
    "build_figures",
    "figures_from_data",
]

logger = logging.getLogger(__name__)

#: The div ids of the report's figures, in page order.
FIGURE_IDS: tuple[str, ...] = (
    "map",
    "latency-time",
    "energy-time",
    "carbon-time",
    "share-time",
    "outage-time",
    "latency-dist",
    "latency-region",
    "latency-components",
    "apn-margin",
    "apn-vs-ip",
    "ntn-map",
    "ntn-rtt",
)

#: Trace names the tests and users can look figures' layers up by.
OUTLINE_TRACE = "prefectures"
DEMAND_TRACE = "demand points"
UNSERVED_TRACE = "demand points (never served)"
COMPUTE_TRACE = "compute sites"
SATELLITE_TRACE = "satellites"
WITHOUT_SERVICE_TRACE = "population without service"

_FIBRE = frozenset({"fibre", "fiber"})
_ENERGY_DOMAINS = (
    ("optical", kc.ENERGY_OPTICAL_KWH.name),
    ("RAN", kc.ENERGY_RAN_KWH.name),
    ("NTN", kc.ENERGY_NTN_KWH.name),
    ("compute", kc.ENERGY_COMPUTE_KWH.name),
)
_COMPONENTS = (
    ("propagation", "latency_propagation_ms"),
    ("transmission", "latency_transmission_ms"),
    ("queueing", "latency_queueing_ms"),
    ("processing", "latency_processing_ms"),
)
_NTN_SYMBOLS = {"gateway": "triangle-up", "haps": "diamond"}
_MAP_PAD_DEG = 0.6
_CHART_HEIGHT_PX = 400
_MAP_HEIGHT_PX = 820
_HIST_BINS_PER_DECADE = 12

Array = npt.NDArray[Any]
FloatArray = npt.NDArray[np.float64]


def build_figures(run_dir: Path) -> dict[str, Any]:
    """Build the report's figures for the run in ``run_dir``.

    Parameters
    ----------
    run_dir : Path
        A run directory as described in docs/results-format.md.

    Returns
    -------
    dict of str to plotly.graph_objects.Figure
        Keyed by the figure's div id, in the order of :data:`FIGURE_IDS`.

    Raises
    ------
    tsunagu.errors.DataError
        If a file, column or summary key the report needs is missing.
    """
    return figures_from_data(read_run(Path(run_dir)))


def figures_from_data(run: RunData) -> dict[str, Any]:
    """Build the figures from an already read run (see :func:`build_figures`)."""
    served = _served_mask(run.flows)
    figures = {
        "map": _map_figure(run, served),
        "latency-time": _latency_time_figure(run.steps),
        "energy-time": _energy_time_figure(run.steps),
        "carbon-time": _carbon_time_figure(run.steps),
        "share-time": _share_time_figure(run.steps),
        "outage-time": _outage_time_figure(run.steps, run.areas),
        "latency-dist": _latency_dist_figure(run.flows, served),
        "latency-region": _latency_region_figure(run.flows, served),
        "latency-components": _latency_components_figure(run.flows, served),
    }
    figures.update(_apn_figures(run.lightpaths))
    figures["ntn-map"] = _ntn_map_figure(run.ntn_tracks)
    figures["ntn-rtt"] = _ntn_rtt_figure(run.ntn_rtt)
    return figures


# -- domain figures ------------------------------------------------------------------------------


def _empty(title: str, x_title: str, y_title: str) -> Any:
    """A figure with nothing to show, saying why in its title."""
    fig = go.Figure()
    fig.update_layout(
        title=title, height=_CHART_HEIGHT_PX, xaxis_title=x_title, yaxis_title=y_title
    )
    return fig


def _apn_figures(lightpaths: Columns) -> dict[str, Any]:
    reason = lightpaths.get("reason", np.zeros(0)).astype(str) if lightpaths else np.zeros(0)
    if not np.any(reason == ""):
        none = "This run established no DCI lightpath (optical.dci)"
        return {
            "apn-margin": _empty(none, "GSNR margin (dB)", "site pair (src – dst)"),
            "apn-vs-ip": _empty(none, "site pair (src – dst)", "power per traffic (W per Gb/s)"),
        }
    return lightpath_figures(lightpaths)


def _ntn_map_figure(tracks: Columns) -> Any:
    """Satellites at the run's start and their ground tracks over the first half hour."""
    if not tracks or tracks.get("time_s", np.zeros(0)).size == 0:
        return _empty("This run has no satellites", "longitude (°E)", "latitude (°N)")
    times = np.unique(tracks["time_s"])
    n_sat = int(tracks["sat_id"].max()) + 1
    x, y, z = geodetic_to_ecef(tracks["lat_deg"], tracks["lon_deg"], tracks["alt_m"])
    ecef = np.stack([x, y, z], axis=-1).reshape(times.size, n_sat, 3)
    return satellite_map_figure(
        ecef,
        times,
        step=0,
        title=f"Satellites at the start and their ground tracks over {times[-1] / 60:.0f} min",
    )


def _ntn_rtt_figure(rtt: Columns) -> Any:
    """RTT over the LEO ISL mesh between the scenario's place pairs; gaps are outages."""
    if not rtt or rtt.get("time_s", np.zeros(0)).size == 0:
        return _empty("No RTT pairs in this scenario (ntn.rtt_pairs)", "time (h)", "RTT (ms)")
    fig = go.Figure()
    pairs = rtt["pair"].astype(str)
    for label in dict.fromkeys(pairs.tolist()):
        sel = pairs == label
        hours = rtt["time_s"][sel] / 3600.0
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=rtt["rtt_ms"][sel],
                mode="lines",
                name=label,
                customdata=rtt["hops"][sel],
                hovertemplate="%{x:.2f} h: %{y:.2f} ms, %{customdata} hops<extra></extra>",
                connectgaps=False,
            )
        )
        changed = sel & rtt["path_change"].astype(bool)
        fig.add_trace(
            go.Scatter(
                x=rtt["time_s"][changed] / 3600.0,
                y=rtt["rtt_ms"][changed],
                mode="markers",
                name=f"{label}: path changes",
                marker={"symbol": "circle-open", "size": 5},
                hoverinfo="skip",
                visible="legendonly",
            )
        )
    _time_layout(fig, "Round-trip time over the LEO inter-satellite mesh", "RTT (ms)")
    return fig


# -- aggregation helpers -------------------------------------------------------------------------


def _weighted_quantile(values: Array, weights: Array, q: float | FloatArray) -> FloatArray:
    """Request-weighted quantile(s): the smallest value whose cumulative weight reaches ``q``.

    Entries with a non-finite value or a non-positive weight are ignored; with none left the
    result is NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    q_arr = np.asarray(q, dtype=np.float64)
    keep = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    if not keep.any():
        return np.full(q_arr.shape, np.nan)
    order = np.argsort(values[keep], kind="stable")
    v = values[keep][order]
    cum = np.cumsum(weights[keep][order])
    idx = np.searchsorted(cum, q_arr * cum[-1], side="left")
    return np.asarray(v[np.clip(idx, 0, v.size - 1)], dtype=np.float64)


def _weighted_mean_by(inverse: Array, n_groups: int, values: Array, weights: Array) -> FloatArray:
    """Weighted mean of ``values`` per group; NaN for groups without finite, weighted values."""
    values = np.asarray(values, dtype=np.float64)
    w = np.where(np.isfinite(values) & (weights > 0), weights, 0.0)
    num = np.bincount(inverse, weights=np.where(w > 0, values, 0.0) * w, minlength=n_groups)
    den = np.bincount(inverse, weights=w, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _served_mask(flows: Columns) -> npt.NDArray[np.bool_]:
    """Flows that were served: an access was assigned and the latency is a number."""
    access = flows["access"]
    mask = (access != "none") & (access != "") & np.isfinite(flows["latency_total_ms"])
    return np.asarray(mask, dtype=bool)


def _hours(steps: Columns) -> FloatArray:
    return np.asarray(steps["time_s"], dtype=np.float64) / 3600.0


def _time_layout(fig: Any, title: str, y_title: str) -> None:
    fig.update_layout(
        title={"text": title},
        height=_CHART_HEIGHT_PX,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 70, "r": 20, "t": 60, "b": 40},
    )
    fig.update_xaxes(title_text="time since start of run (h)")
    fig.update_yaxes(title_text=y_title)


def _step_hover(steps: Columns) -> Array:
    return np.asarray(steps["step"])


# -- map -----------------------------------------------------------------------------------------


def _map_figure(run: RunData, served: npt.NDArray[np.bool_]) -> Any:
    fig = go.Figure()
    bounds = _BoundingBox()

    rings = prefecture_outlines()
    ox, oy = _join_with_gaps([r.lon_deg for r in rings], [r.lat_deg for r in rings])
    bounds.add(ox, oy)
    fig.add_trace(
        go.Scatter(
            x=ox,
            y=oy,
            mode="lines",
            name=OUTLINE_TRACE,
            fill="toself",
            fillcolor="rgba(235, 235, 225, 0.6)",
            line={"color": "rgb(150, 150, 140)", "width": 0.7},
            hoverinfo="skip",
            meta={"rings": len(rings)},
        )
    )

    _add_fibre_traces(fig, run.nodes, run.links)
    _add_demand_traces(fig, run.flows, served, bounds)
    _add_compute_trace(fig, run.nodes, run.flows, served, bounds)
    _add_ntn_traces(fig, run.nodes, bounds)
    _add_down_nodes_trace(fig, run.nodes)
    _add_satellite_trace(fig, run.satellites, bounds)

    x_range, y_range = bounds.ranges(_MAP_PAD_DEG)
    mid_lat_rad = np.deg2rad(0.5 * (y_range[0] + y_range[1]))
    fig.update_layout(
        title={"text": "Network, compute and demand (colour: mean request-weighted latency)"},
        height=_MAP_HEIGHT_PX,
        template="plotly_white",
        hovermode="closest",
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.8)"},
        margin={"l": 70, "r": 20, "t": 60, "b": 50},
    )
    fig.update_xaxes(title_text="longitude (°E)", range=x_range, constrain="domain", showgrid=False)
    # One degree of latitude is 1/cos(latitude) times longer on the ground than one of longitude.
    fig.update_yaxes(
        title_text="latitude (°N)",
        range=y_range,
        scaleanchor="x",
        scaleratio=float(1.0 / np.cos(mid_lat_rad)),
        constrain="domain",
        showgrid=False,
    )
    return fig


class _BoundingBox:
    """The longitude/latitude extent of what the map shows."""

    def __init__(self) -> None:
        self._lon: list[float] = []
        self._lat: list[float] = []

    def add(self, lon_deg: Array, lat_deg: Array) -> None:
        lon = np.asarray(lon_deg, dtype=np.float64)
        lat = np.asarray(lat_deg, dtype=np.float64)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if ok.any():
            self._lon += [float(lon[ok].min()), float(lon[ok].max())]
            self._lat += [float(lat[ok].min()), float(lat[ok].max())]

    def ranges(self, pad_deg: float) -> tuple[list[float], list[float]]:
        if not self._lon:
            return [122.0, 154.0], [24.0, 46.0]
        return (
            [min(self._lon) - pad_deg, max(self._lon) + pad_deg],
            [min(self._lat) - pad_deg, max(self._lat) + pad_deg],
        )

    def contains(self, lon_deg: Array, lat_deg: Array, pad_deg: float) -> npt.NDArray[np.bool_]:
        (x0, x1), (y0, y1) = self.ranges(pad_deg)
        return (lon_deg >= x0) & (lon_deg <= x1) & (lat_deg >= y0) & (lat_deg <= y1)


def _join_with_gaps(xs: list[Array], ys: list[Array]) -> tuple[FloatArray, FloatArray]:
    """Concatenate polylines with a NaN between them (Plotly draws a gap there)."""
    if not xs:
        return np.empty(0), np.empty(0)
    gap = np.array([np.nan])
    x = np.concatenate([np.concatenate([np.asarray(a, dtype=np.float64), gap]) for a in xs])
    y = np.concatenate([np.concatenate([np.asarray(a, dtype=np.float64), gap]) for a in ys])
    return x, y


def _segments(x0: Array, y0: Array, x1: Array, y1: Array) -> tuple[FloatArray, FloatArray]:
    """Line segments (x0, y0)-(x1, y1) as one polyline with NaN gaps."""
    gap = np.full(np.shape(x0), np.nan)
    return (
        np.column_stack([x0, x1, gap]).ravel().astype(np.float64),
        np.column_stack([y0, y1, gap]).ravel().astype(np.float64),
    )


def _lookup(names: Array, keys: Array) -> tuple[Array, npt.NDArray[np.bool_]]:
    """Indices of ``keys`` in ``names`` and whether each key was found."""
    if names.size == 0:
        return np.zeros(keys.shape, dtype=np.intp), np.zeros(keys.shape, dtype=bool)
    order = np.argsort(names, kind="stable")
    sorted_names = names[order]
    pos = np.clip(np.searchsorted(sorted_names, keys), 0, names.size - 1)
    found = sorted_names[pos] == keys
    return order[pos], np.asarray(found, dtype=bool)


def _add_fibre_traces(fig: Any, nodes: Columns, links: Columns) -> None:
    medium = np.array([str(m).lower() for m in links["medium"]], dtype=object)
    fibre = np.isin(medium, list(_FIBRE))
    src, src_ok = _lookup(nodes["name"], links["src_name"])
    dst, dst_ok = _lookup(nodes["name"], links["dst_name"])
    drawable = fibre & src_ok & dst_ok
    if (fibre & ~drawable).any():
        logger.debug(
            "%d fibre links name nodes absent from nodes.parquet", (fibre & ~drawable).sum()
        )
    lon, lat = nodes["lon_deg"], nodes["lat_deg"]
    up = np.asarray(links["up"], dtype=bool)
    operators = links["operator"]
    palette = qualitative.D3
    for i, operator in enumerate(np.unique(operators[drawable & up])):
        sel = drawable & up & (operators == operator)
        x, y = _segments(lon[src[sel]], lat[src[sel]], lon[dst[sel]], lat[dst[sel]])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=f"fibre · {operator or 'unknown operator'}",
                legendgroup="fibre",
                line={"color": palette[i % len(palette)], "width": 1.4},
                hoverinfo="name",
            )
        )
    down = drawable & ~up
    if down.any():
        x, y = _segments(lon[src[down]], lat[src[down]], lon[dst[down]], lat[dst[down]])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name="fibre down",
                line={"color": "crimson", "width": 2.0, "dash": "dot"},
                hoverinfo="name",
            )
        )


def _add_demand_traces(
    fig: Any, flows: Columns, served: npt.NDArray[np.bool_], bounds: _BoundingBox
) -> None:
    names, first, inverse = np.unique(flows["demand"], return_index=True, return_inverse=True)
    n = names.size
    weights = np.where(served, flows[kc.DEMAND_RPS.name], 0.0)
    latency = _weighted_mean_by(inverse, n, flows["latency_total_ms"], weights)
    lon = flows["lon_deg"][first]
    lat = flows["lat_deg"][first]
    population = np.asarray(flows["population"][first], dtype=np.float64)
    bounds.add(lon, lat)
    size = 6.0 + 10.0 * np.sqrt(population / max(float(np.nanmax(population, initial=0.0)), 1.0))
    hover = np.array(
        [
            f"{d}<br>prefecture {p}, {r}<br>population {pop:,.0f}"
            for d, p, r, pop in zip(
                names,
                flows["prefecture"][first],
                flows["region"][first],
                population,
                strict=True,
            )
        ],
        dtype=object,
    )
    ok = np.isfinite(latency)
    fig.add_trace(
        go.Scatter(
            x=lon[ok],
            y=lat[ok],
            mode="markers",
            name=DEMAND_TRACE,
            text=hover[ok],
            customdata=latency[ok],
            hovertemplate="%{text}<br>mean latency %{customdata:.1f} ms<extra></extra>",
            marker={
                "size": size[ok],
                "color": latency[ok],
                "colorscale": "Viridis",
                "line": {"width": 0.5, "color": "white"},
                "colorbar": {"title": {"text": "mean latency (ms)"}, "x": 1.0},
                "showscale": True,
            },
        )
    )
    if (~ok).any():
        fig.add_trace(
            go.Scatter(
                x=lon[~ok],
                y=lat[~ok],
                mode="markers",
                name=UNSERVED_TRACE,
                text=hover[~ok],
                hovertemplate="%{text}<br>never served<extra></extra>",
                marker={"size": size[~ok], "color": "lightgray", "line": {"color": "black"}},
            )
        )


def _add_compute_trace(
    fig: Any,
    nodes: Columns,
    flows: Columns,
    served: npt.NDArray[np.bool_],
    bounds: _BoundingBox,
) -> None:
    sel = nodes["domain"] == "compute"
    names = nodes["name"][sel]
    lon, lat = nodes["lon_deg"][sel], nodes["lat_deg"][sel]
    bounds.add(lon, lat)
    n_steps = max(np.unique(flows["step"]).size, 1)
    idx, found = _lookup(names, flows["site"])
    take = served & found
    total_rps = np.bincount(
        idx[take], weights=flows[kc.DEMAND_RPS.name][take], minlength=names.size
    )
    rps = total_rps[: names.size] / n_steps
    share = rps / rps.sum() if rps.sum() > 0 else np.zeros_like(rps)
    fig.add_trace(
        go.Scatter(
            x=lon,
            y=lat,
            mode="markers+text",
            name=COMPUTE_TRACE,
            text=names,
            textposition="top center",
            textfont={"size": 10},
            customdata=rps,
            hovertemplate="%{text}<br>serves %{customdata:,.0f} requests/s on average"
            "<extra>compute site</extra>",
            marker={
                "symbol": "square",
                "size": 10.0 + 22.0 * np.sqrt(share),
                "color": "rgba(214, 39, 40, 0.75)",
                "line": {"width": 1, "color": "black"},
            },
        )
    )


def _add_ntn_traces(fig: Any, nodes: Columns, bounds: _BoundingBox) -> None:
    ntn = nodes["domain"] == "ntn"
    for kind in np.unique(nodes["kind"][ntn]):
        sel = ntn & (nodes["kind"] == kind)
        bounds.add(nodes["lon_deg"][sel], nodes["lat_deg"][sel])
        fig.add_trace(
            go.Scatter(
                x=nodes["lon_deg"][sel],
                y=nodes["lat_deg"][sel],
                mode="markers",
                name=f"NTN {kind}",
                text=nodes["name"][sel],
                hovertemplate="%{text}<extra>" + str(kind) + "</extra>",
                marker={
                    "symbol": _NTN_SYMBOLS.get(str(kind), "square"),
                    "size": 11,
                    "color": "rgb(44, 160, 44)",
                    "line": {"width": 1, "color": "black"},
                },
            )
        )


def _add_down_nodes_trace(fig: Any, nodes: Columns) -> None:
    down = ~np.asarray(nodes["up"], dtype=bool)
    if not down.any():
        return
    fig.add_trace(
        go.Scatter(
            x=nodes["lon_deg"][down],
            y=nodes["lat_deg"][down],
            mode="markers",
            name="nodes down",
            text=nodes["name"][down],
            hovertemplate="%{text} (down)<extra></extra>",
            marker={"symbol": "x", "size": 12, "color": "crimson"},
        )
    )


def _add_satellite_trace(fig: Any, satellites: Columns, bounds: _BoundingBox) -> None:
    steps = satellites["step"]
    if steps.size:
        first_step = steps.min()
        sel = steps == first_step
        lon, lat = satellites["lon_deg"][sel], satellites["lat_deg"][sel]
        inside = bounds.contains(lon, lat, _MAP_PAD_DEG)
        sel_lon, sel_lat = lon[inside], lat[inside]
        text = np.array(
            [
                f"{c} {s}"
                for c, s in zip(
                    satellites["constellation"][sel][inside],
                    satellites["sat_id"][sel][inside],
                    strict=True,
                )
            ],
            dtype=object,
        )
        label = f"{SATELLITE_TRACE} at step {first_step}"
    else:
        sel_lon = sel_lat = np.empty(0)
        text = np.empty(0, dtype=object)
        label = f"{SATELLITE_TRACE} (none in this run)"
    fig.add_trace(
        go.Scatter(
            x=sel_lon,
            y=sel_lat,
            mode="markers",
            name=label,
            text=text,
            hovertemplate="%{text}<extra>satellite</extra>",
            marker={"symbol": "star", "size": 7, "color": "rgb(148, 103, 189)"},
        )
    )


# -- time series ---------------------------------------------------------------------------------


def _latency_time_figure(steps: Columns) -> Any:
    fig = go.Figure()
    hours = _hours(steps)
    for label, column in (("p50", kc.LATENCY_P50_MS.name), ("p95", kc.LATENCY_P95_MS.name)):
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=steps[column],
                mode="lines+markers",
                name=f"latency {label}",
                customdata=_step_hover(steps),
                hovertemplate="step %{customdata}: %{y:.1f} ms",
            )
        )
    _time_layout(fig, "Request-weighted latency over time", "latency (ms)")
    return fig


def _energy_time_figure(steps: Columns) -> Any:
    fig = go.Figure()
    hours = _hours(steps)
    for label, column in _ENERGY_DOMAINS:
        fig.add_trace(
            go.Bar(
                x=hours,
                y=steps[column],
                name=label,
                customdata=_step_hover(steps),
                hovertemplate="step %{customdata}: %{y:,.1f} kWh",
            )
        )
    fig.update_layout(barmode="stack")
    _time_layout(fig, "Energy by domain per step", "energy per step (kWh)")
    return fig


def _carbon_time_figure(steps: Columns) -> Any:
    fig = go.Figure(
        go.Bar(
            x=_hours(steps),
            y=steps[kc.CARBON_KG.name],
            name="carbon",
            marker={"color": "rgb(90, 90, 90)"},
            customdata=_step_hover(steps),
            hovertemplate="step %{customdata}: %{y:,.1f} kg CO₂",
        )
    )
    _time_layout(fig, "Carbon emissions per step", "carbon per step (kg CO₂)")
    return fig


def _share_time_figure(steps: Columns) -> Any:
    fig = go.Figure()
    hours = _hours(steps)
    pop_total = steps[kc.POPULATION_SERVED.name] + steps[kc.POPULATION_UNSERVED.name]
    with np.errstate(invalid="ignore", divide="ignore"):
        pop_share = np.where(pop_total > 0, steps[kc.POPULATION_SERVED.name] / pop_total, np.nan)
    for label, share in (
        ("requests served", steps[kc.SERVED_SHARE.name]),
        ("requests within SLA", steps[kc.SLA_SHARE.name]),
        ("population served", pop_share),
    ):
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=100.0 * np.asarray(share, dtype=np.float64),
                mode="lines+markers",
                name=label,
                customdata=_step_hover(steps),
                hovertemplate="step %{customdata}: %{y:.1f} %",
            )
        )
    _time_layout(fig, "Served and within-SLA shares over time", "share (%)")
    fig.update_yaxes(range=[0, 102])
    return fig


def _outage_time_figure(steps: Columns, areas: Columns) -> Any:
    """Population without service over time, with the population kept on NTN backup.

    Lines per prefecture are added for every prefecture that was ever without service (from
    ``areas.parquet`` when the run has it).
    """
    fig = go.Figure()
    hours = _hours(steps)
    fig.add_trace(
        go.Scatter(
            x=hours,
            y=np.asarray(steps[kc.POPULATION_UNSERVED.name], dtype=np.float64),
            mode="lines+markers",
            name=WITHOUT_SERVICE_TRACE,
            line={"color": "rgb(200, 30, 30)", "width": 3, "shape": "hv"},
            customdata=_step_hover(steps),
            hovertemplate="step %{customdata}: %{y:,.0f} people",
        )
    )
    for label, column, colour in (
        ("on HAPS", kc.access_population("haps").name, "rgb(31, 119, 180)"),
        ("on LEO", kc.access_population("leo").name, "rgb(148, 103, 189)"),
    ):
        if column in steps and np.any(np.asarray(steps[column]) > 0):
            fig.add_trace(
                go.Scatter(
                    x=hours,
                    y=np.asarray(steps[column], dtype=np.float64),
                    mode="lines",
                    name=f"population {label}",
                    line={"dash": "dot", "color": colour, "shape": "hv"},
                    customdata=_step_hover(steps),
                    hovertemplate="step %{customdata}: %{y:,.0f} people",
                )
            )
    if areas and "population_without_service" in areas:
        names = np.asarray(areas["prefecture_name"]).astype(str)
        without = np.asarray(areas["population_without_service"], dtype=np.float64)
        for name in np.unique(names[without > 0.5]):
            m = names == name
            fig.add_trace(
                go.Scatter(
                    x=np.asarray(areas["time_s"], dtype=np.float64)[m] / 3600.0,
                    y=without[m],
                    mode="lines",
                    name=f"without service: {name}",
                    line={"shape": "hv"},
                    hovertemplate="%{y:,.0f} people",
                )
            )
    _time_layout(fig, "Population without service (and kept on NTN backup)", "population (people)")
    fig.update_yaxes(rangemode="tozero")
    return fig


# -- distributions -------------------------------------------------------------------------------


def _log_bin_edges(values: FloatArray) -> FloatArray:
    positive = values[values > 0]
    if positive.size == 0:
        return np.array([0.1, 1.0])
    lo = np.floor(np.log10(positive.min()))
    hi = max(np.ceil(np.log10(positive.max())), lo + 1.0)
    return np.logspace(lo, hi, int((hi - lo) * _HIST_BINS_PER_DECADE) + 1)


def _latency_dist_figure(flows: Columns, served: npt.NDArray[np.bool_]) -> Any:
    fig = go.Figure()
    latency = np.asarray(flows["latency_total_ms"], dtype=np.float64)
    edges = _log_bin_edges(latency[served])
    for service in np.unique(flows["service"]):
        sel = served & (flows["service"] == service)
        counts, _ = np.histogram(
            np.clip(latency[sel], edges[0], edges[-1]),
            bins=edges,
            weights=flows[kc.DEMAND_RPS.name][sel],
        )
        total = counts.sum()
        share = 100.0 * counts / total if total > 0 else np.zeros_like(counts)
        # Draw as a step line: the share in [edge_i, edge_i+1) is held across the bin.
        fig.add_trace(
            go.Scatter(
                x=edges,
                y=np.append(share, share[-1:] if share.size else []),
                mode="lines",
                line_shape="hv",
                name=str(service) if total > 0 else f"{service} (no served requests)",
                hovertemplate="from %{x:.3g} ms: %{y:.1f} % of requests",
            )
        )
    _time_layout(
        fig, "Latency distribution per service (request-weighted)", "share of requests (%)"
    )
    fig.update_xaxes(title_text="end-to-end latency (ms, log scale)", type="log")
    return fig


def _latency_region_figure(flows: Columns, served: npt.NDArray[np.bool_]) -> Any:
    fig = go.Figure()
    regions = np.unique(flows["region"])
    quantiles = np.array(
        [
            _weighted_quantile(
                flows["latency_total_ms"][served & (flows["region"] == r)],
                flows[kc.DEMAND_RPS.name][served & (flows["region"] == r)],
                np.array([0.5, 0.95]),
            )
            for r in regions
        ]
    ).reshape(regions.size, 2)
    for j, label in enumerate(("p50", "p95")):
        fig.add_trace(
            go.Bar(
                x=regions,
                y=quantiles[:, j],
                name=f"latency {label}",
                hovertemplate="%{x}: %{y:.1f} ms",
            )
        )
    _time_layout(fig, "Request-weighted latency by region", "latency (ms)")
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="region")
    return fig


def _latency_components_figure(flows: Columns, served: npt.NDArray[np.bool_]) -> Any:
    fig = go.Figure()
    services, inverse = np.unique(flows["service"], return_inverse=True)
    weights = np.where(served, flows[kc.DEMAND_RPS.name], 0.0)
    for label, column in _COMPONENTS:
        mean = _weighted_mean_by(inverse, services.size, flows[column], weights)
        fig.add_trace(
            go.Bar(
                x=services,
                y=mean,
                name=label,
                hovertemplate="%{x}: %{y:.2f} ms " + label + "<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    _time_layout(fig, "Latency components per service (request-weighted means)", "latency (ms)")
    fig.update_xaxes(title_text="service")
    return fig
