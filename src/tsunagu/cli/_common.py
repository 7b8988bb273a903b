"""Console helpers and the one error boundary shared by every ``tsunagu`` command (only the CLI
prints).

The error contract (docs/errors.md):

* bad input — a :class:`~tsunagu.errors.TsunaguError`, a pydantic validation error or a bad
  command-line argument — prints one ``error:`` line (what, where, the fix) and exits with 2;
* Ctrl-C stops the command and exits with 130;
* anything else is a bug: one line says so and where to report it, the traceback goes only to
  a crash log file whose path is printed, and the exit status is 1.

User text is escaped before Rich renders it, and emoji codes are off, so a path such as
``x[/y]`` or a ``file:100:`` location prints literally.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import signal
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from tsunagu.errors import TsunaguError
from tsunagu.sim.kpis import finite_or_none

__all__ = [
    "BUG_REPORT_WHERE",
    "BoundaryGroup",
    "console",
    "crash_dir",
    "err",
    "fail",
    "fmt_value",
    "print_json",
    "say",
]

BUG_REPORT_WHERE = "the tsunagu issue tracker"
"""Where a crash (exit status 1) asks to be reported."""

EXIT_BAD_INPUT = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130

console = Console(emoji=False, highlight=False)
err = Console(stderr=True, emoji=False, highlight=False)


def say(text: object) -> str:
    """``text`` (user input, paths, messages) escaped so Rich prints it literally."""
    return escape(str(text))


def fmt_value(fmt: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    text: str = fmt.format(value).replace("%", "")
    return text


def _print_error(message: str) -> None:
    err.print(f"[bold red]error:[/] {say(message)}", soft_wrap=True)


def fail(exc: TsunaguError) -> NoReturn:
    """Print ``exc`` as one error line and exit with the bad-input status (2)."""
    _print_error(str(exc))
    raise typer.Exit(code=EXIT_BAD_INPUT)


def crash_dir() -> Path:
    """Where crash logs go: ``$TSUNAGU_CRASH_DIR``, else the user's state directory."""
    override = os.environ.get("TSUNAGU_CRASH_DIR")
    if override:
        return Path(override)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(state) / "tsunagu" / "crashes"


def _write_crash_log(exc: BaseException) -> Path | None:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    text = (
        f"tsunagu crash {stamp} UTC\ncommand: {' '.join(sys.argv)}\n"
        f"python: {sys.version.split()[0]}\n\n"
        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    )
    for folder in (crash_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"tsunagu-crash-{stamp}-", suffix=".log", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return Path(name)
        except OSError:
            continue
    return None


def _pydantic_message(exc: Any) -> str:
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "(value)"
    more = exc.error_count() - 1
    extra = f" ({more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    return (
        f"{loc}: {first.get('msg', 'invalid value')}, got {first.get('input')!r}{extra}. "
        "Fix: correct this value (see `tsunagu validate` for the scenario's own checks)."
    )


def _ignore_further_interrupts() -> None:
    """After Ctrl-C has been handled, the clean-up is done and the process only exits: a
    second Ctrl-C would land in the interpreter's shutdown (joining a pool's threads) and print
    a traceback there, so it is ignored from now on."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def handle_exception(exc: BaseException) -> NoReturn:
    """Turn ``exc`` into the exit status and the one line of the error contract."""
    from pydantic import ValidationError

    if isinstance(exc, TsunaguError):
        fail(exc)
    if isinstance(exc, ValidationError):
        _print_error(_pydantic_message(exc))
        raise typer.Exit(code=EXIT_BAD_INPUT)
    if isinstance(exc, KeyboardInterrupt):
        _ignore_further_interrupts()
        err.print("interrupted; nothing was left half-written", soft_wrap=True)
        raise typer.Exit(code=EXIT_INTERRUPTED)
    log = _write_crash_log(exc)
    where = f"the traceback is in {log}" if log else "no crash log could be written"
    what = type(exc).__name__
    if isinstance(exc, MemoryError):
        what = "MemoryError (out of memory)"
    _print_error(
        f"internal error ({what}): this is a bug in tsunagu, not in your input. "
        f"Please report it on {BUG_REPORT_WHERE} with the crash log; {where}"
    )
    raise typer.Exit(code=EXIT_BUG)


class BoundaryGroup(TyperGroup):
    """A command group whose commands never end in a Python traceback (see module docs)."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors its own click)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # usage errors (exit 2) and deliberate exits keep their own handling
        except (Exception, KeyboardInterrupt) as exc:  # the boundary itself
            handle_exception(exc)


def _json_default(o: Any) -> Any:
    raise TypeError(f"not JSON serialisable: {type(o)}")


def print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(
        json.dumps(finite_or_none(data), indent=2, allow_nan=False, default=_json_default) + "\n"
    )
