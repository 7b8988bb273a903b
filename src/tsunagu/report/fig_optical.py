"""Report figures of the APN: DCI lightpaths' GSNR margin, power and latency against IP hops.

Built from the run's ``lightpaths.parquet`` (docs/results-format.md) as NumPy columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

__all__ = ["LIGHTPATH_COLUMNS", "lightpath_figures"]

Columns = dict[str, npt.NDArray[Any]]

#: Columns of ``lightpaths.parquet`` the figures read.
LIGHTPATH_COLUMNS: tuple[str, ...] = (
    "src",
    "dst",
    "operators",
    "hops",
    "length_km",
    "modulation",
    "gsnr_db",
    "margin_db",
    "latency_ms",
    "ip_latency_ms",
    "power_w",
    "ip_power_w",
    "w_per_gbps",
    "ip_w_per_gbps",
    "reason",
)

_HEIGHT_PX = 420


def _labels(lp: Columns) -> npt.NDArray[np.str_]:
    return np.char.add(np.char.add(lp["src"].astype(str), " – "), lp["dst"].astype(str))


def _margin_figure(lp: Columns, ok: npt.NDArray[np.bool_]) -> Any:
    order = np.argsort(lp["margin_db"][ok])
    labels = _labels(lp)[ok][order]
    margin = lp["margin_db"][ok][order]
    text = np.char.add(
        np.char.add(lp["modulation"][ok][order].astype(str), " · "),
        lp["operators"][ok][order].astype(str),
    )
    fig = go.Figure(
        go.Bar(
            x=margin,
            y=labels,
            orientation="h",
            text=text,
            name="GSNR margin",
            customdata=np.stack([lp["gsnr_db"][ok][order], lp["length_km"][ok][order]], axis=-1),
            hovertemplate=(
                "%{y}<br>margin %{x:.2f} dB (GSNR %{customdata[0]:.2f} dB, "
                "%{customdata[1]:,.0f} km)<br>%{text}<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        title="DCI lightpaths: GSNR margin over the chosen format's threshold",
        xaxis_title="GSNR margin (dB)",
        yaxis_title="site pair (src – dst)",
        height=max(_HEIGHT_PX, 18 * int(ok.sum()) + 120),
        margin={"l": 220},
    )
    return fig


def _versus_figure(lp: Columns, ok: npt.NDArray[np.bool_]) -> Any:
    labels = _labels(lp)[ok]
    fig = go.Figure()
    for name, col, colour in (
        ("APN lightpath", "w_per_gbps", "rgb(31, 119, 180)"),
        ("IP hops", "ip_w_per_gbps", "rgb(214, 39, 40)"),
    ):
        fig.add_trace(
            go.Bar(
                x=labels,
                y=lp[col][ok],
                name=f"{name}: W per Gb/s",
                marker={"color": colour},
                hovertemplate="%{x}: %{y:.2f} W/(Gb/s)<extra>" + name + "</extra>",
            )
        )
    for name, col, colour in (
        ("APN lightpath", "latency_ms", "rgb(31, 119, 180)"),
        ("IP hops", "ip_latency_ms", "rgb(214, 39, 40)"),
    ):
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=lp[col][ok],
                name=f"{name}: one-way latency",
                mode="markers",
                yaxis="y2",
                marker={"color": colour, "symbol": "diamond", "size": 9},
                hovertemplate="%{x}: %{y:.3f} ms<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title="Same traffic, same route: APN lightpath versus IP router hops",
        barmode="group",
        xaxis={"title": "site pair (src – dst)"},
        yaxis={"title": "power per traffic (W per Gb/s)"},
        yaxis2={"title": "one-way latency (ms)", "overlaying": "y", "side": "right"},
        height=_HEIGHT_PX + 180,
        legend={"orientation": "h", "y": -0.75},
        margin={"b": 200},
    )
    return fig


def lightpath_figures(lp: Columns) -> dict[str, Any]:
    """The APN figures keyed by div id: ``apn-margin`` and ``apn-vs-ip``.

    Blocked lightpaths (non-empty ``reason``) are left out of both.
    """
    ok = np.asarray(lp["reason"]).astype(str) == ""
    return {"apn-margin": _margin_figure(lp, ok), "apn-vs-ip": _versus_figure(lp, ok)}
