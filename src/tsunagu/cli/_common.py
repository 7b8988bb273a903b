"""Console helpers shared by every ``tsunagu`` command group (only the CLI prints)."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

from tsunagu.errors import TsunaguError
from tsunagu.sim.kpis import finite_or_none

console = Console()
err = Console(stderr=True)


def fmt_value(fmt: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    text: str = fmt.format(value).replace("%", "")
    return text


def fail(exc: TsunaguError) -> NoReturn:
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _json_default(o: Any) -> Any:
    raise TypeError(f"not JSON serialisable: {type(o)}")


def print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(
        json.dumps(finite_or_none(data), indent=2, allow_nan=False, default=_json_default) + "\n"
    )
