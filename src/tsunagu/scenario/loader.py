"""Load and validate scenario files, turning every mistake into one :class:`ScenarioError`.

YAML is parsed with PyYAML's safe loader while the position of every key and value is kept, so
that a schema error can name the file, the line, the dotted field path, what was expected, what
was given and how to fix it. Raw YAML or pydantic tracebacks never reach the user.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from yaml.constructor import SafeConstructor

from tsunagu.errors import ScenarioError
from tsunagu.scenario.schema import Scenario

__all__ = [
    "SIZE_LIMIT_ENV",
    "FieldError",
    "builtin_scenarios",
    "load_scenario",
    "locate",
    "max_scenario_bytes",
    "scenario_from_text",
    "slug",
]

_log = logging.getLogger(__name__)

Path_ = tuple[str | int, ...]
"""A location inside the parsed document: mapping keys and sequence indices from the root."""

_MAX_NODES = 200_000
"""Cap on nodes visited while building the data, against alias bombs ('billion laughs')."""

_MAX_LISTED = 10
"""How many further problems are listed below the headline of a validation error."""

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


# --------------------------------------------------------------------------------------------
# Public API


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with tsunagu, e.g. ``['japan-2030']``.

    Returns
    -------
    list of str
        Sorted names; each is accepted by :func:`load_scenario`.
    """
    folder = _builtin_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(source: str | os.PathLike[str]) -> Scenario:
    """Load a scenario from a built-in name or a YAML file path.

    Parameters
    ----------
    source
        The name of a built-in scenario (see :func:`builtin_scenarios`) or the path of a YAML
        file. A string that names a built-in scenario wins over a file of the same name.

    Returns
    -------
    Scenario
        The validated, immutable scenario.

    Raises
    ------
    ScenarioError
        If the file does not exist or cannot be read, is not valid YAML, or does not match the
        schema. The message starts with ``FILE:LINE:`` and says how to fix the problem.
    """
    if isinstance(source, str) and source in builtin_scenarios():
        resource = _builtin_dir() / f"{source}.yaml"
        return _from_bytes(resource.read_bytes(), str(resource))
    path = Path(source)
    filename = os.fspath(source)
    if not path.exists():
        builtins = builtin_scenarios()
        close = difflib.get_close_matches(filename, builtins, n=1, cutoff=0.6)
        guess = f"did you mean the built-in '{close[0]}'? " if close else ""
        raise ScenarioError(
            f"{filename}: the file does not exist (looked for {path.absolute()}); {guess}"
            f"Fix: pass the path of a scenario YAML file, or the name of a built-in scenario: "
            f"{', '.join(builtins) or '(none installed)'}"
        )
    if path.is_dir():
        raise ScenarioError(
            f"{filename}: is a directory, not a scenario file. "
            "Fix: pass the path of a YAML file inside it."
        )
    try:
        size = path.stat().st_size
        if path.is_file():
            _check_size(size, filename)
        with path.open("rb") as fh:
            data = fh.read(max_scenario_bytes() + 1)
    except OSError as exc:
        raise ScenarioError(
            f"{filename}: cannot be read ({exc.strerror or exc}). "
            "Fix: check the file's permissions."
        ) from exc
    return _from_bytes(data, filename)


def scenario_from_text(text: str, filename: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text.

    Parameters
    ----------
    text
        The YAML document.
    filename
        The name used in error messages.

    Returns
    -------
    Scenario
        The validated, immutable scenario.

    Raises
    ------
    ScenarioError
        If the text is not valid YAML or does not match the schema; the message starts with
        ``FILENAME:LINE:``.
    """
    _check_size(len(text.encode("utf-8", "surrogatepass")), filename)
    parsed = _parse_yaml(text, filename)
    return _validate(parsed, filename)


class FieldError(ScenarioError):
    """A scenario error found after validation that names its field (``events[0]``); the CLI
    adds the file and line with :func:`locate`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def locate(source: str | os.PathLike[str], error: ScenarioError) -> ScenarioError:
    """``error`` with ``FILE:LINE:`` of its field in ``source`` in front, when it names one."""
    field = getattr(error, "field", "")
    if not field:
        return error
    try:
        if isinstance(source, str) and source in builtin_scenarios():
            resource = _builtin_dir() / f"{source}.yaml"
            text, filename = resource.read_text("utf-8"), str(resource)
        else:
            text, filename = Path(source).read_text("utf-8"), os.fspath(source)
        parsed = _parse_yaml(text, filename)
    except (OSError, UnicodeDecodeError, ScenarioError):
        return error
    loc: Path_ = tuple(
        int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", field)
    )
    line = _line_of(loc, parsed)
    message = str(error)
    if not message.startswith(field):
        message = f"{field}: {message}"
    return ScenarioError(f"{filename}:{line}: {message}")


def slug(name: str) -> str:
    """A scenario name made safe as one path component: ``x/../../escaped`` → ``x-escaped``.

    Letters, digits, ``_``, ``-`` and ``.`` are kept; every other run of characters becomes one
    ``-``; leading dots and dashes are dropped, so the result never names a parent directory
    or a hidden file.
    """
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    text = re.sub(r"\.{2,}", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-.")
    return text or "scenario"


# --------------------------------------------------------------------------------------------
# Reading


def _builtin_dir() -> Traversable:
    return resources.files("tsunagu.scenario") / "builtin"


SIZE_LIMIT_ENV = "TSUNAGU_MAX_SCENARIO_BYTES"
"""Environment variable raising the scenario size limit (bytes)."""

_DEFAULT_MAX_BYTES = 1_000_000
"""A scenario file is a few kilobytes (japan-2030: about 8 kB); 1 MB leaves ample room."""


def max_scenario_bytes() -> int:
    """The scenario size limit: ``$TSUNAGU_MAX_SCENARIO_BYTES`` or 1 MB."""
    raw = os.environ.get(SIZE_LIMIT_ENV, "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return _DEFAULT_MAX_BYTES


def _check_size(size: int, filename: str) -> None:
    limit = max_scenario_bytes()
    if size > limit:
        raise ScenarioError(
            f"{filename}:1: the file is {size:,} bytes, over the scenario size limit of "
            f"{limit:,} bytes (checked before parsing). Fix: a scenario is a few kilobytes of "
            f"settings; if this one is meant to be larger, set {SIZE_LIMIT_ENV}=BYTES"
        )


def _from_bytes(data: bytes, filename: str) -> Scenario:
    _check_size(len(data), filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError(
            f"{filename}:{line}:{column}: the file is not UTF-8 text (byte "
            f"0x{data[exc.start]:02x} cannot be decoded). Fix: save the file as UTF-8."
        ) from None
    return scenario_from_text(text, filename)


# --------------------------------------------------------------------------------------------
# YAML with positions


@dataclass
class _Parsed:
    """Plain data from a YAML document and where each part of it was written (1-based)."""

    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    """Position of the value at each path."""
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    """Position of the mapping key that introduces each path."""


def _mark(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _parse_yaml(text: str, filename: str) -> _Parsed:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(_yaml_message(exc, filename)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise ScenarioError(
            f"{filename}:{line}:{column}: invalid YAML: the character {char!r} is not "
            "allowed in YAML text. Fix: delete it, or write it as an escape (\\x..) inside a "
            'double-quoted string "...".'
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(
            f"{filename}:1: invalid YAML: {exc}. Fix: check the file's syntax."
        ) from None
    except RecursionError:
        raise ScenarioError(
            f"{filename}:1: invalid YAML: the document is nested too deeply. "
            "Fix: flatten the nested lists/mappings."
        ) from None
    if root is None:
        raise ScenarioError(
            f"{filename}:1: the file is empty. Fix: write a scenario mapping (name:, optical:, "
            f"ran:, compute:, services:, ...) or start from a built-in one: {_builtin_hint()}"
        )
    if not isinstance(root, yaml.MappingNode):
        line, column = _mark(root.start_mark)
        got = "a list" if isinstance(root, yaml.SequenceNode) else f"{root.value!r}"
        raise ScenarioError(
            f"{filename}:{line}:{column}: the top level of a scenario must be a mapping of "
            f"sections (name:, optical:, ran:, compute:, services:, ...), got {got}. "
            "Fix: write one 'key: value' per line at the left margin."
        )
    return _Builder(filename).build(root)


def _builtin_hint() -> str:
    return ", ".join(builtin_scenarios()) or "(none installed)"


def _yaml_message(exc: yaml.MarkedYAMLError, filename: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    line, column = _mark(mark)
    problem = (exc.problem or "malformed YAML").strip()
    context = ""
    if exc.context:
        context = f" ({exc.context.strip()}"
        if exc.context_mark is not None and exc.context_mark.line != getattr(mark, "line", -1):
            context += f" on line {exc.context_mark.line + 1}"
        context += ")"
    if "'\\t'" in problem:
        fix = "indent with spaces, never tabs."
    elif "could not determine a constructor" in problem:
        fix = "remove the '!tag'; scenario files use plain YAML values only."
    elif "mapping values are not allowed" in problem:
        fix = "put a space after each ':' that ends a key, and quote text that contains ': '."
    else:
        fix = (
            "check the indentation and punctuation at and just before this position: a key is "
            "written 'key: value', a list item '- value', and text containing ':', '#', '[' or "
            "'{' must be quoted."
        )
    return f"{filename}:{line}:{column}: invalid YAML: {problem}{context}. Fix: {fix}"


class _Builder:
    """Turns a composed YAML node tree into plain Python data plus a position map."""

    def __init__(self, filename: str) -> None:
        self._filename = filename
        self._constructor = SafeConstructor()
        self._visited = 0
        self._active: set[int] = set()

    def build(self, root: yaml.Node) -> _Parsed:
        parsed = _Parsed(data=None)
        parsed.data = self._node(root, (), parsed)
        return parsed

    def _fail(self, node: yaml.Node, message: str) -> ScenarioError:
        line, column = _mark(node.start_mark)
        return ScenarioError(f"{self._filename}:{line}:{column}: {message}")

    def _node(self, node: yaml.Node, path: Path_, out: _Parsed) -> Any:
        self._visited += 1
        if self._visited > _MAX_NODES:
            raise self._fail(
                node,
                f"{_dotted(path)}: the document expands to more than {_MAX_NODES:,} values "
                "(aliases '*name' repeat whole subtrees). Fix: use fewer nested aliases.",
            )
        if id(node) in self._active:
            raise self._fail(
                node,
                f"{_dotted(path)}: an alias refers to the mapping or list that contains it. "
                "Fix: remove the recursive '*alias'.",
            )
        out.values[path] = _mark(node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                self._check_tag(node, _SEQ_TAG, path)
                return [self._node(item, (*path, i), out) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                self._check_tag(node, _MAP_TAG, path)
                return self._mapping(node, path, out)
        finally:
            self._active.discard(id(node))
        raise self._fail(node, f"{_dotted(path)}: unsupported YAML node. Fix: use plain values.")

    def _check_tag(self, node: yaml.Node, expected: str, path: Path_) -> None:
        if node.tag != expected:
            raise self._fail(
                node,
                f"{_dotted(path)}: unsupported YAML tag {node.tag!r}. "
                "Fix: remove the tag; scenario files use plain YAML values only.",
            )

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        try:
            return self._constructor.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            raise ScenarioError(_yaml_message(exc, self._filename)) from None
        except Exception as exc:
            # e.g. '!!int abc': the constructor raises a bare ValueError without a position.
            raise self._fail(
                node,
                f"{_dotted(path)}: cannot read {node.value!r} as {node.tag!r} ({exc}). "
                "Fix: remove the '!!' tag or correct the value.",
            ) from None

    def _mapping(self, node: yaml.MappingNode, path: Path_, out: _Parsed) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(
                    key_node,
                    f"{_dotted(path)}: a mapping key must be plain text, not a list or mapping. "
                    "Fix: write keys as 'name: value'.",
                )
            key = str(key_node.value)
            key_line, key_col = _mark(key_node.start_mark)
            if key in first_line:
                raise ScenarioError(
                    f"{self._filename}:{key_line}:{key_col}: {_dotted((*path, key))}: duplicate "
                    f"key '{key}' (first given on line {first_line[key]}, again on line "
                    f"{key_line}). Fix: keep only one '{key}:' in this mapping."
                )
            first_line[key] = key_line
            out.keys[(*path, key)] = (key_line, key_col)
            result[key] = self._node(value_node, (*path, key), out)
        for merge in merges:
            self._merge(merge, path, out, result)
        return result

    def _merge(self, node: yaml.Node, path: Path_, out: _Parsed, result: dict[str, Any]) -> None:
        """Apply a YAML merge key ('<<: *base'): keys given explicitly win."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise self._fail(
                    source,
                    f"{_dotted(path)}: a merge key '<<' needs a mapping or a list of mappings. "
                    "Fix: write '<<: *anchor' where '&anchor' names a mapping.",
                )
            scratch = _Parsed(data=None)
            merged = self._node(source, path, scratch)
            for key, value in merged.items():
                if key in result:
                    continue
                result[key] = value
                prefix = (*path, key)
                for table, into in ((scratch.values, out.values), (scratch.keys, out.keys)):
                    for sub, pos in table.items():
                        if sub[: len(prefix)] == prefix:
                            into[sub] = pos


# --------------------------------------------------------------------------------------------
# Validation and error messages


def _validate(parsed: _Parsed, filename: str) -> Scenario:
    sc = _model(parsed, filename)
    problems = [*_implausible(sc, parsed, filename), *_late_events(sc, parsed, filename)]
    if problems:
        problems.sort()
        lines = [problems[0][1]]
        if len(problems) > 1:
            lines.append(f"{len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}:")
            lines.extend(f"  {text}" for _, text in problems[1 : 1 + _MAX_LISTED])
        raise ScenarioError("\n".join(lines))
    return sc


@dataclass(frozen=True)
class _Range:
    path: tuple[str, ...]
    low: float
    high: float
    unit: str
    reason: str


def _plausible_ranges() -> list[_Range]:
    import csv
    import io

    text = (resources.files("tsunagu.data") / "plausible_ranges.csv").read_text("utf-8")
    body = "".join(ln for ln in text.splitlines(True) if not ln.startswith("#"))
    return [
        _Range(
            tuple(re.split(r"\.(?![^\[]*\])", row["path"])),
            float(row["low"]),
            float(row["high"]),
            row["unit"],
            row["reason"],
        )
        for row in csv.DictReader(io.StringIO(body))
    ]


def _expand(data: Any, parts: tuple[str, ...], prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Concrete (path, value) pairs for a pattern like ``ran.carriers[*].tx_power_dbm``."""
    if not parts:
        yield prefix, data
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(data, dict):
            for key, value in data.items():
                yield from _expand(value, rest, (*prefix, key))
        return
    key, star = (head[:-3], True) if head.endswith("[*]") else (head, False)
    if not isinstance(data, dict) or key not in data:
        return
    value = data[key]
    if not star:
        yield from _expand(value, rest, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _expand(item, rest, (*prefix, key, i))


def _implausible(sc: Scenario, parsed: _Parsed, filename: str) -> list[tuple[int, str]]:
    allowed = set(sc.allow_implausible)
    if "all" in allowed:
        return []
    out: list[tuple[int, str]] = []
    for rng in _plausible_ranges():
        for loc, value in _expand(parsed.data, rng.path):
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue  # the schema has already checked the type
            dotted = _dotted(loc)
            if rng.low <= value <= rng.high or dotted in allowed:
                continue
            line = _line_of(loc, parsed)
            out.append(
                (
                    line,
                    f"{filename}:{line}: {dotted}: {value:g} {rng.unit} is outside the "
                    f"plausible range {rng.low:g}-{rng.high:g} {rng.unit} ({rng.reason}). "
                    f"Fix: correct the value (check its unit), or list '{dotted}' under "
                    "allow_implausible if the study means it.",
                )
            )
    return out


def _late_events(sc: Scenario, parsed: _Parsed, filename: str) -> list[tuple[int, str]]:
    end = sc.timeline.duration_s
    out: list[tuple[int, str]] = []
    for i, event in enumerate(sc.events):
        if event.start_s >= end:
            loc: Path_ = ("events", i, "start_s")
            line = _line_of(loc, parsed)
            out.append(
                (
                    line,
                    f"{filename}:{line}: {_dotted(loc)}: the event starts at {event.start_s:g} s, "
                    f"at or after the end of the run (timeline.duration_s {end:g} s), so it "
                    "would never happen. Fix: start it earlier or lengthen the run.",
                )
            )
    return out


def _model(parsed: _Parsed, filename: str) -> Scenario:
    try:
        return Scenario.model_validate(parsed.data)
    except ValidationError as exc:
        raise ScenarioError(_validation_message(exc, parsed, filename)) from None
    except (ValueError, TypeError, ArithmeticError) as exc:  # a validator failing unexpectedly
        line = parsed.values.get((), (1, 1))[0]
        raise ScenarioError(
            f"{filename}:{line}: the scenario could not be validated ({type(exc).__name__}: "
            f"{exc}). Fix: check the values near this line; please report this message too."
        ) from exc


def _validation_message(exc: ValidationError, parsed: _Parsed, filename: str) -> str:
    found: list[tuple[int, int, str]] = []
    for order, error in enumerate(exc.errors(include_url=False)):
        line, text = _explain(error, parsed)
        found.append((line, order, f"{filename}:{line}: {text}"))
    found.sort()
    lines = [found[0][2]]
    rest = found[1:]
    if rest:
        lines.append(f"{len(rest)} more problem{'s' if len(rest) > 1 else ''}:")
        lines.extend(f"  {item[2]}" for item in rest[:_MAX_LISTED])
        if len(rest) > _MAX_LISTED:
            lines.append(f"  ... and {len(rest) - _MAX_LISTED} more")
    return "\n".join(lines)


def _line_of(loc: Path_, parsed: _Parsed) -> int:
    """The line of the key introducing ``loc`` (or of its value), walking up to the root."""
    for end in range(len(loc), -1, -1):
        prefix = loc[:end]
        pos = parsed.keys.get(prefix) or parsed.values.get(prefix)
        if pos is not None:
            return pos[0]
    return 1


def _explain(error: ErrorDetails, parsed: _Parsed) -> tuple[int, str]:
    """One error as (line, 'path: what was expected, what was given. Fix: ...')."""
    loc: Path_ = tuple(item for item in error["loc"] if item != "[key]")
    kind = error["type"]
    ctx = error.get("ctx", {})
    given = error.get("input")
    where = _resolve(loc)
    path = _dotted(loc)
    unit_field = where.field_name

    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        valid = sorted(where.container.model_fields) if where.container is not None else []
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        if close:
            text = (
                f"unknown key '{key}'; did you mean '{close[0]}'? "
                f"Fix: rename '{key}' to '{close[0]}'."
            )
        else:
            text = (
                f"unknown key '{key}'. Fix: remove it, or use one of the keys valid here: "
                f"{', '.join(valid)}."
            )
        return _line_of(loc, parsed), f"{path}: {text}"

    if kind == "missing":
        name = str(loc[-1]) if loc else "?"
        expected = _describe(where.field_info, name) if where.field_info else "a value"
        parent = f"under {_dotted(loc[:-1])}" if loc[:-1] else "at the top level"
        return (
            _line_of(loc[:-1], parsed),
            f"{path}: missing required field '{name}' (expected {expected}). "
            f"Fix: add '{name}: ...' {parent}.",
        )

    line = _line_of(loc, parsed)
    if kind in {"value_error", "assertion_error"}:
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return line, f"{path}: {message}."

    expected = _expected(kind, ctx, error["msg"], where)
    text = f"{path}: expected {expected}, got {_show(given)}."
    return line, f"{text} Fix: {_fix(kind, ctx, given, unit_field, where)}"


@dataclass(frozen=True)
class _Where:
    """What the schema says about a location."""

    container: type[BaseModel] | None
    """The model whose mapping holds the last key of the location."""
    field_name: str | None
    """The innermost model field on the location (its name carries the unit)."""
    field_info: FieldInfo | None
    annotation: Any


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _resolve(loc: Path_) -> _Where:
    """Walk the schema along ``loc`` through models, ``list[...]`` and ``dict[str, ...]``."""
    annotation: Any = Scenario
    container: type[BaseModel] | None = None
    field_name: str | None = None
    info: FieldInfo | None = None
    for item in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            container = annotation
            fields = annotation.model_fields
            if not isinstance(item, str) or item not in fields:
                return _Where(container, field_name, None, None)
            field_name, info = item, fields[item]
            annotation = info.annotation
            continue
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is list and isinstance(item, int) and args:
            annotation = args[0]
        elif origin is dict and len(args) == 2:
            annotation = args[1]
        else:
            break
    return _Where(container, field_name, info, _unwrap(annotation))


def _dotted(loc: Path_) -> str:
    """``('optical', 'operators', 0, 'name')`` → ``optical.operators[0].name``."""
    if not loc:
        return "(top level)"
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", item):
            out += f".{item}" if out else item
        else:
            out += f"[{item!r}]"
    return out


# Unit suffixes of field names (SPEC §2.2 principle 4), longest first.
_UNITS: tuple[tuple[str, str], ...] = (
    ("_db_per_km", "dB/km"),
    ("_w_per_gbps", "W per Gbit/s"),
    ("_g_per_kwh", "gCO2/kWh"),
    ("_wh_per_request", "Wh per request"),
    ("_per_user_per_day", "per user per day"),
    ("_per_km2", "per km²"),
    ("_per_load_w", "W at full load"),
    ("_hour_local", "hours, local time"),
    ("_bytes", "bytes"),
    ("_ghz", "GHz"),
    ("_mhz", "MHz"),
    ("_hz", "Hz"),
    ("_dbm", "dBm"),
    ("_dbw", "dBW"),
    ("_db", "dB"),
    ("_bps", "bit/s"),
    ("_deg", "degrees"),
    ("_km", "km"),
    ("_ms", "ms"),
    ("_m", "m"),
    ("_s", "s"),
    ("_w", "W"),
)


def _unit(field_name: str | None) -> str | None:
    if field_name is None:
        return None
    for suffix, unit in _UNITS:
        if field_name.endswith(suffix):
            return unit
    return None


_NUMBER_WITH_UNIT = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*[^\d\s.,+-].*$")


def _show(value: Any) -> str:
    """What the user wrote, briefly."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, dict):
        keys = ", ".join(str(k) for k in list(value)[:5])
        return f"a mapping (keys: {keys})" if keys else "an empty mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _literal_options(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    return []


def _expected(kind: str, ctx: dict[str, Any], msg: str, where: _Where) -> str:
    unit = _unit(where.field_name)
    in_unit = f" (in {unit})" if unit else ""
    simple = {
        "float_type": f"a number{in_unit}",
        "float_parsing": f"a number{in_unit}",
        "finite_number": f"a finite number{in_unit}",
        "int_type": f"a whole number{in_unit}",
        "int_parsing": f"a whole number{in_unit}",
        "int_from_float": f"a whole number{in_unit}",
        "string_type": "text",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "list_type": "a list ('- item' lines)",
        "dict_type": "a mapping ('key: value' lines)",
    }
    if kind in simple:
        return simple[kind]
    if kind in {"model_type", "model_attributes_type"}:
        model = _unwrap(where.annotation)
        if isinstance(model, type) and issubclass(model, BaseModel):
            return f"a mapping with keys such as {', '.join(list(model.model_fields)[:6])}"
        return "a mapping ('key: value' lines)"
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"a number {words} {ctx.get(key)}{in_unit}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    if kind == "string_too_short":
        return "non-empty text"
    if kind == "string_too_long":
        return f"text of at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return "a name of letters, digits, spaces and _ . - / that starts with a letter or digit"
    return msg.removeprefix("Input should be ").rstrip(".")


def _fix(kind: str, ctx: dict[str, Any], given: Any, field_name: str | None, where: _Where) -> str:
    unit = _unit(field_name)
    numeric = kind.startswith(("float", "int", "finite"))
    if numeric and isinstance(given, str) and _NUMBER_WITH_UNIT.match(given):
        if unit is not None:
            return (
                f"give a plain number in the unit of the field name "
                f"({field_name} → {unit}), e.g. {field_name}: {_leading_number(given)}."
            )
        return f"give a plain number without a unit, e.g. {_leading_number(given)}."
    if numeric:
        example = _example(where.field_info)
        return "write a plain number" + (f", e.g. {field_name}: {example}." if example else ".")
    if kind == "string_type":
        if isinstance(given, bool | int | float) or given is None:
            return (
                "put the value in quotes, e.g. 'no' or '78' (YAML reads yes/no/on/off as "
                "true/false and digits as numbers)."
            )
        return "write the value as text."
    if kind == "literal_error":
        options = _literal_options(where.annotation)
        close = difflib.get_close_matches(str(given), options, n=1, cutoff=0.5)
        if close:
            return f"did you mean '{close[0]}'?"
        return f"use one of {ctx.get('expected')}."
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        in_unit = f" in {unit}" if unit else ""
        return f"give a value within the allowed range{in_unit}."
    if kind == "too_short":
        return "add at least one item under this key."
    if kind == "list_type":
        return "write one '- item' per line under this key."
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "write the settings as indented 'key: value' lines under this key."
    return "correct the value."


def _leading_number(text: str) -> str:
    match = re.match(r"\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)", text)
    return match.group(1) if match else text


def _example(info: FieldInfo | None) -> str | None:
    if info is None or info.is_required():
        return None
    default = info.get_default()
    return repr(default) if isinstance(default, int | float) else None


def _describe(info: FieldInfo, name: str) -> str:
    """A short description of what a field accepts, e.g. 'a number greater than 0 (in dB/km)'."""
    annotation = _unwrap(info.annotation)
    origin = typing.get_origin(annotation)
    if annotation is float or annotation is int:
        what = "a number" if annotation is float else "a whole number"
        parts = list(_bounds(info.metadata))
        if parts:
            what += " " + " and ".join(parts)
    elif annotation is str:
        what = "text"
    elif annotation is bool:
        what = "true or false"
    elif origin is typing.Literal:
        what = "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    elif origin is list:
        what = "a list"
    elif origin is dict:
        what = "a mapping of names to values"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        required = [k for k, f in annotation.model_fields.items() if f.is_required()]
        what = "a mapping" + (f" with {', '.join(required)}" if required else "")
    else:
        what = "a value"
    unit = _unit(name)
    if unit is not None:
        what += f", in {unit}"
    if info.description:
        what += f": {info.description}"
    return what


def _bounds(metadata: list[Any]) -> Iterator[str]:
    for item in metadata:
        if isinstance(item, annotated_types.Gt):
            yield f"greater than {item.gt}"
        elif isinstance(item, annotated_types.Ge):
            yield f"at least {item.ge}"
        elif isinstance(item, annotated_types.Lt):
            yield f"less than {item.lt}"
        elif isinstance(item, annotated_types.Le):
            yield f"at most {item.le}"
