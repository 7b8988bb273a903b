"""``tsunagu ran``: Radio access: 3GPP calibration and national coverage."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ran",
    help="Radio access: 3GPP calibration and national coverage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
