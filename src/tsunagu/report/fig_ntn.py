"""NTN figures for the report: satellites and ground tracks over Japan, RTT over time.

Cartesian axes only, like :mod:`tsunagu.report.figures` (Plotly's geo traces fetch their base
map from a CDN, which would break the report offline): longitude against latitude with the
prefecture outlines drawn as lines, the y axis scaled by ``1/cos(mid-latitude)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from tsunagu.errors import ModelRangeError
from tsunagu.geo import ecef_to_geodetic, prefecture_outlines
from tsunagu.ntn.routing import GroundPoints, RouteSeries

__all__ = [
    "GROUND_TRACK_TRACE",
    "JAPAN_BOX_DEG",
    "rtt_time_figure",
    "satellite_map_figure",
]

#: (lon_min, lon_max, lat_min, lat_max) of the map, degrees: Japan with its outlying islands.
JAPAN_BOX_DEG: Final = (122.0, 154.0, 20.0, 47.0)
GROUND_TRACK_TRACE: Final = "ground tracks"


def _unwrap_tracks(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Ground tracks (T, N) as one polyline per satellite, NaN-separated, cut at the box edge
    and where the track jumps across the antimeridian."""
    lo0, lo1, la0, la1 = JAPAN_BOX_DEG
    inside = (lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1)
    x = np.where(inside, lon, np.nan)
    y = np.where(inside, lat, np.nan)
    jump = np.zeros_like(inside)
    jump[1:] = np.abs(np.diff(lon, axis=0)) > 180.0
    x = np.where(jump, np.nan, x)
    y = np.where(jump, np.nan, y)
    gap = np.full((1, lon.shape[1]), np.nan)
    return (
        np.concatenate([x, gap]).T.ravel(),
        np.concatenate([y, gap]).T.ravel(),
    )


def satellite_map_figure(
    sat_ecef_m: npt.ArrayLike,
    time_s: npt.ArrayLike,
    step: int = 0,
    ground: GroundPoints | None = None,
    title: str = "Satellites over Japan and their ground tracks",
) -> Any:
    """Sub-satellite points at one step and the ground tracks over the whole series.

    Parameters
    ----------
    sat_ecef_m : array_like, shape (T, N, 3)
        Satellite positions (m), e.g. ``Twin.satellites_ecef(times)[0]``. Sample at 60 s or
        finer for smooth tracks (a LEO satellite crosses Japan in about 8 minutes).
    time_s : array_like, shape (T,)
        Times of the steps (s).
    step : int
        Which step's satellites to mark.
    ground : GroundPoints, optional
        Ground endpoints (cities, gateways) to mark.
    title : str

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: ``prefectures``, ``ground tracks``, ``satellites at t = … s`` and, if given,
        ``ground points``.
    """
    pos = np.asarray(sat_ecef_m, dtype=np.float64)
    t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
    if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[0] != t.size:
        raise ModelRangeError(
            f"satellite_map_figure: sat_ecef_m must be (T, N, 3) with T = len(time_s) = {t.size};"
            f" got {pos.shape}."
        )
    if not 0 <= step < t.size:
        raise ModelRangeError(f"satellite_map_figure: step must lie in 0..{t.size - 1}.")
    finite = np.all(np.isfinite(pos), axis=2)
    safe = np.where(finite[..., np.newaxis], pos, np.array([1.0e7, 0.0, 0.0]))
    lat, lon, _ = ecef_to_geodetic(safe[..., 0], safe[..., 1], safe[..., 2])
    lat = np.where(finite, lat, np.nan)
    lon = np.where(finite, lon, np.nan)

    fig = go.Figure()
    rings = prefecture_outlines()
    gap = np.array([np.nan])
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([np.r_[r.lon_deg, gap] for r in rings]),
            y=np.concatenate([np.r_[r.lat_deg, gap] for r in rings]),
            mode="lines",
            name="prefectures",
            line={"color": "rgb(150, 150, 140)", "width": 0.7},
            hoverinfo="skip",
        )
    )
    tx, ty = _unwrap_tracks(lon, lat)
    fig.add_trace(
        go.Scatter(
            x=tx,
            y=ty,
            mode="lines",
            name=GROUND_TRACK_TRACE,
            line={"color": "rgba(148, 103, 189, 0.35)", "width": 1},
            hoverinfo="skip",
        )
    )
    lo0, lo1, la0, la1 = JAPAN_BOX_DEG
    now_lon, now_lat = lon[step], lat[step]
    inside = (now_lon >= lo0) & (now_lon <= lo1) & (now_lat >= la0) & (now_lat <= la1)
    idx = np.flatnonzero(inside)
    fig.add_trace(
        go.Scatter(
            x=now_lon[idx],
            y=now_lat[idx],
            mode="markers",
            name=f"satellites at t = {t[step]:g} s",
            text=[f"satellite {i}" for i in idx.tolist()],
            hovertemplate="%{text}<br>%{x:.2f}°E %{y:.2f}°N<extra></extra>",
            marker={"symbol": "star", "size": 8, "color": "rgb(148, 103, 189)"},
        )
    )
    if ground is not None:
        fig.add_trace(
            go.Scatter(
                x=ground.lon_deg,
                y=ground.lat_deg,
                mode="markers+text",
                name="ground points",
                text=list(ground.names),
                textposition="top right",
                marker={"symbol": "square", "size": 8, "color": "rgb(214, 39, 40)"},
            )
        )
    mid = np.deg2rad(0.5 * (la0 + la1))
    fig.update_layout(title={"text": title}, template="plotly_white", height=650)
    fig.update_xaxes(title_text="longitude (°E)", range=[lo0, lo1], constrain="domain")
    fig.update_yaxes(
        title_text="latitude (°N)",
        range=[la0, la1],
        scaleanchor="x",
        scaleratio=float(1.0 / np.cos(mid)),
        constrain="domain",
    )
    return fig


def rtt_time_figure(series: RouteSeries, pairs: Sequence[int] | None = None) -> Any:
    """RTT (ms) over time for each route of a :class:`RouteSeries`; gaps mark outages.

    Hovering shows the hop count. Path changes are marked with open circles.

    Returns
    -------
    plotly.graph_objects.Figure
        One line trace per pair, named ``"A → B"``, and one marker trace of path changes each.
    """
    chosen = range(len(series.pairs)) if pairs is None else pairs
    fig = go.Figure()
    t = series.time_s
    for p in chosen:
        a, b = series.pairs[p]
        rtt_ms = np.where(np.isfinite(series.rtt_s[:, p]), series.rtt_s[:, p] * 1e3, np.nan)
        fig.add_trace(
            go.Scatter(
                x=t,
                y=rtt_ms,
                mode="lines",
                name=f"{a} → {b}",
                customdata=series.hops[:, p],
                hovertemplate="t = %{x:g} s: %{y:.2f} ms, %{customdata} hops<extra></extra>",
                connectgaps=False,
            )
        )
        if t.size > 1:
            changed = np.r_[
                False, np.any(series.paths[1:, p] != series.paths[:-1, p], axis=1)
            ] & np.isfinite(rtt_ms)
            fig.add_trace(
                go.Scatter(
                    x=t[changed],
                    y=rtt_ms[changed],
                    mode="markers",
                    name=f"{a} → {b}: path changes ({int(changed.sum())})",
                    marker={"symbol": "circle-open", "size": 7},
                    hovertemplate="path change at %{x:g} s<extra></extra>",
                )
            )
    fig.update_layout(
        title={"text": "Round-trip time over satellites (propagation only)"},
        template="plotly_white",
        hovermode="x unified",
        height=420,
    )
    fig.update_xaxes(title_text="time (s)")
    fig.update_yaxes(title_text="RTT (ms)", rangemode="tozero")
    return fig
