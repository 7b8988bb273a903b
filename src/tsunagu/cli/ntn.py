"""``tsunagu ntn``: Satellites and HAPS: round-trip times and direct-to-device coverage."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ntn",
    help="Satellites and HAPS: round-trip times and direct-to-device coverage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
