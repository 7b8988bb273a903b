"""``tsunagu optical``: All-Photonics Network QoT (GNPy files) and flexgrid RMSA."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="optical",
    help="All-Photonics Network: quality of transmission (GNPy files) and flexgrid RMSA.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
