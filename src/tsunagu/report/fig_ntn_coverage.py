"""Direct-to-device coverage figures (Plotly, cartesian axes only so the report works offline).

* :func:`coverage_time_figure` — share of population, island population, land and sea with a
  usable link at each step, per access kind (LEO, HAPS, either), from
  :func:`tsunagu.ntn.coverage.coverage_series`.
* :func:`coverage_map_figure` — the share of time each sample point had a usable link, on a map
  of Japan drawn as longitude/latitude scatter with the prefecture outlines.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from tsunagu.geo import prefecture_outlines

__all__ = ["coverage_map_figure", "coverage_time_figure"]

_MEASURE_LABEL = {
    "population": "population",
    "island": "island population",
    "land": "land area",
    "sea": "sea area",
}
_KIND_DASH = {"leo": "solid", "haps": "dot", "any": "dash"}


def coverage_time_figure(
    times_s: npt.ArrayLike, series: dict[str, npt.NDArray[np.float64]], title: str = ""
) -> go.Figure:
    """Line chart of coverage shares (%) over time.

    Parameters
    ----------
    times_s : array_like, shape (T,)
        Step times (s).
    series : dict
        Output of :func:`tsunagu.ntn.coverage.coverage_series` (keys ``"{measure}_{kind}"``).
    title : str
        Figure title.
    """
    t_h = np.asarray(times_s, dtype=np.float64) / 3600.0
    fig = go.Figure()
    for measure, label in _MEASURE_LABEL.items():
        for kind, dash in _KIND_DASH.items():
            key = f"{measure}_{kind}"
            if key not in series:
                continue
            y = 100.0 * np.asarray(series[key], dtype=np.float64)
            if y.size == 1 and t_h.size > 1:
                y = np.full(t_h.size, float(y[0]))
            fig.add_trace(
                go.Scatter(
                    x=t_h,
                    y=y,
                    mode="lines",
                    name=f"{label} · {kind.upper() if kind != 'any' else 'LEO or HAPS'}",
                    line={"dash": dash},
                )
            )
    fig.update_layout(
        title=title or "Direct-to-device coverage",
        xaxis_title="time (h)",
        yaxis_title="share with a usable link (%)",
        yaxis_range=[0, 100.5],
        template="plotly_white",
    )
    return fig


def coverage_map_figure(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    time_share: npt.ArrayLike,
    title: str = "",
) -> go.Figure:
    """Map of the share of time (%) each point had a usable link.

    Axes are scaled so a kilometre east is as long as a kilometre north at the map's
    mid-latitude (cartesian, no base-map download).
    """
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    share = 100.0 * np.asarray(time_share, dtype=np.float64)
    fig = go.Figure()
    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in prefecture_outlines():
        xs.extend([*ring.lon_deg.tolist(), None])
        ys.extend([*ring.lat_deg.tolist(), None])
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            name="prefectures",
            line={"color": "#888", "width": 0.6},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=lon,
            y=lat,
            mode="markers",
            name="usable link (% of time)",
            marker={
                "color": share,
                "cmin": 0.0,
                "cmax": 100.0,
                "colorscale": "Viridis",
                "size": 5,
                "colorbar": {"title": "% of time"},
            },
            hovertemplate="%{y:.2f}° N %{x:.2f}° E: %{marker.color:.1f} %<extra></extra>",
        )
    )
    mid = math.radians(float(np.mean(lat))) if lat.size else math.radians(35.0)
    fig.update_layout(
        title=title or "Direct-to-device coverage (share of time)",
        xaxis_title="longitude (°E)",
        yaxis_title="latitude (°N)",
        template="plotly_white",
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1.0 / max(math.cos(mid), 0.1))
    return fig
