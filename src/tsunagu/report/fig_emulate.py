"""The emulation figure: RTT measured over the emulated path against the twin's prediction.

Drawn when the run directory holds the files ``tsunagu emulate`` writes
(``emulation_rtt.parquet``, ``emulation_steps.parquet``; docs/results-format.md).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pyarrow.parquet as pq

__all__ = ["EMULATION_FIGURE_ID", "emulation_figure", "emulation_section"]

#: The div id of the emulation figure in the report.
EMULATION_FIGURE_ID = "emulation-rtt"


def _columns(path: Path) -> dict[str, np.ndarray]:
    table = pq.read_table(path)
    return {n: table[n].to_numpy(zero_copy_only=False) for n in table.column_names}


def emulation_figure(run_dir: Path) -> Any | None:
    """Measured RTT of every echo and the per-step median against the twin's RTT (None when
    the run directory holds no emulation)."""
    rtt_path = Path(run_dir) / "emulation_rtt.parquet"
    steps_path = Path(run_dir) / "emulation_steps.parquet"
    if not (rtt_path.is_file() and steps_path.is_file()):
        return None
    rtt = _columns(rtt_path)
    steps = _columns(steps_path)
    flow = str(steps["flow"][0]) if steps["flow"].size else ""
    loaded = rtt["loaded"].astype(bool)
    fig = go.Figure()
    # The twin's RTT holds over each step: a step line to the end of the replay.
    meta_path = Path(run_dir) / "emulation.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    t_end = float(
        meta.get("end_s") or (np.max(rtt["time_s"]) if rtt["time_s"].size else steps["time_s"][-1])
    )
    fig.add_trace(
        go.Scatter(
            x=np.append(steps["time_s"], t_end),
            y=np.append(steps["twin_rtt_ms"], steps["twin_rtt_ms"][-1]),
            mode="lines",
            line={"shape": "hv", "width": 2},
            name="twin (predicted)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=rtt["time_s"][~loaded],
            y=rtt["rtt_ms"][~loaded],
            mode="markers",
            marker={"size": 3, "opacity": 0.5},
            name="measured (each echo)",
        )
    )
    if loaded.any():
        fig.add_trace(
            go.Scatter(
                x=rtt["time_s"][loaded],
                y=rtt["rtt_ms"][loaded],
                mode="markers",
                marker={"size": 3, "opacity": 0.4},
                name="measured under TCP load",
                visible="legendonly",
            )
        )
    mid = (steps["time_s"] + np.append(steps["time_s"][1:], t_end)) / 2.0
    fig.add_trace(
        go.Scatter(
            x=mid,
            y=steps["rtt_p50_ms"],
            mode="markers",
            marker={"symbol": "diamond", "size": 8},
            name="measured, step median",
        )
    )
    fig.update_layout(
        title=f"Emulated path {flow}: measured and predicted RTT",
        xaxis_title="twin time (s)",
        yaxis_title="RTT (ms)",
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
    )
    return fig


def emulation_section(run_dir: Path) -> str:
    """The report's emulation section (empty when the run directory holds no emulation)."""
    fig = emulation_figure(run_dir)
    if fig is None:
        return ""
    div = pio.to_html(
        fig,
        include_plotlyjs=False,
        full_html=False,
        div_id=EMULATION_FIGURE_ID,
        config={"displaylogo": False, "responsive": True},
        default_width="100%",
    )
    meta_path = Path(run_dir) / "emulation.json"
    facts = ""
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        segs = " → ".join(f"{s['name']} ({s['domain']})" for s in meta.get("segments", []))
        facts = (
            f"<p>{html.escape(segs)} · speed {meta.get('speed', 1):g} twin s per wall s · "
            f"{html.escape(str(meta.get('backend', '')))} backend</p>"
        )
    return f"<section><h2>Emulated path: measured against the twin</h2>\n{facts}\n{div}\n</section>"
