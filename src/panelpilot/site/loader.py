"""Load a site file (YAML) into a validated `Site`, or fail whole with every problem located.

Errors name the file, the line and the field, and say what is allowed. Nothing half-loads:
either every check passes and a `Site` comes back, or `SiteFileError` lists all problems.
The YAML reader is bounded (`panelpilot.site.yaml_reader`): size, nesting, values, aliases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from panelpilot.site.base import TOO_LARGE
from panelpilot.site.errors import Problem, SiteFileError
from panelpilot.site.model import Site
from panelpilot.site.mqtt import BROKER_URL_ERROR
from panelpilot.site.rules import check_site
from panelpilot.site.yaml_reader import (
    DEFAULT_LIMITS,
    YamlLimitError,
    YamlLimits,
    bounded_yaml,
    check_size,
    too_large,
)

Loc = tuple[str | int, ...]


def field_name(loc: Loc) -> str:
    """Render a location as the user writes it: `networks[0].network_limit_a`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            if len(part) > 64:  # a key that is no field at all; enough of it to find it
                part = f"{part[:30]}...({len(part):,} characters)"
            out += f".{part}" if out else part
    return out


def line_of(doc: Any, loc: Loc) -> int | None:
    """1-based line of the deepest node of `loc` present in the YAML document."""
    line: int | None = None
    node = doc
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(doc, CommentedMap | CommentedSeq):
        line = doc.lc.line + 1
    return line


def plain_yaml(node: Any) -> Any:
    """Round-trip YAML nodes to plain dicts, lists and scalars."""
    if isinstance(node, dict):
        return {str(k): plain_yaml(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain_yaml(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model a location points into, to list its allowed fields."""
    model: type[BaseModel] | None = Site
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def shown_value(value: Any) -> str | None:
    """A scalar as the user wrote it, short enough for one line (None for lists and mappings)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return json.dumps(value) if isinstance(value, bool) else None
    if isinstance(value, int) and abs(value) >= 10**20:
        return "a number of more than 20 digits"  # str() refuses beyond 4300
    shown = json.dumps(value)
    return shown if len(shown) <= 40 else f'{shown[:30]}..." ({len(shown):,} characters)'


def number_message(err: Any) -> str | None:
    """The message of a non-finite or oversized number (pydantic's words say neither why nor
    what is allowed), or None for any other error."""
    kind, value = err["type"], err.get("input")
    if kind == "finite_number":
        return "not a finite number; NaN and infinity are refused"
    if kind == "float_type" and isinstance(value, int) and not isinstance(value, bool):
        # An integer too large to become a float at all.
        return TOO_LARGE
    return None


def _message(err: Any) -> str:
    kind = err["type"]
    loc: Loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = ", ".join(model.model_fields) if model else "see `panelpilot schema`"
        return f"unknown field; allowed here: {allowed}"
    if kind == "missing":
        return "required field is missing"
    if kind == BROKER_URL_ERROR:
        return str(err["msg"])  # the URL is not repeated: it may carry a password
    shown = shown_value(err.get("input"))
    msg = number_message(err) or str(err["msg"])
    return f"{shown}: {msg}" if shown is not None else msg


def _document_loc(data: Any, loc: Loc) -> Loc:
    """Drop what pydantic adds that is not in the document: a union's tag (`ocpp` in
    `drivers[0].ocpp.connector_id`), so the field reads as the user wrote it."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def parse_site(data: Any, *, file: str | None = None, doc: Any = None) -> Site:
    """Validate already-parsed data (e.g. an inline site) into a `Site`."""
    if not isinstance(data, dict):
        raise SiteFileError(
            [Problem("", "a site file must be a mapping (name:, circuits:, ...)", 1, file)]
        )
    try:
        site = Site.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        locs = [tuple(e["loc"]) for e in errors]
        for err in errors:
            loc = _document_loc(data, tuple(p for p in err["loc"] if isinstance(p, str | int)))
            if err["type"] == "too_short" and any(
                len(o) > len(loc) and o[: len(loc)] == loc for o in locs
            ):
                continue  # an item below failed; that error says more than "too short"
            problems.append(Problem(field_name(loc), _message(err), line_of(doc, loc), file))
        raise SiteFileError(problems) from None
    findings = check_site(site)
    if findings:
        raise SiteFileError(
            [Problem(field_name(path), msg, line_of(doc, path), file) for path, msg in findings]
        )
    return site


def yaml_document(text: str, file: str, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """The YAML document with line numbers kept; a syntax error or a file over the reader's
    limits is a located `Problem`."""
    try:
        check_size(text, limits)
        return bounded_yaml(limits).load(text)
    except YamlLimitError as exc:
        raise SiteFileError([Problem("", exc.message, exc.line, file)]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        raise SiteFileError(
            [Problem("", f"YAML syntax: {_one_line(reason)}", line, file)]
        ) from None
    except ReaderError as exc:
        # A character YAML does not allow (a control character, say), found before parsing.
        line = text.count("\n", 0, exc.position) + 1
        reason = f"character {exc.character!r} is not allowed in YAML ({_one_line(exc.reason)})"
        raise SiteFileError([Problem("", reason, line, file)]) from None
    except YAMLError as exc:
        first = str(exc).split("\n", 1)[0]
        raise SiteFileError([Problem("", f"YAML syntax: {_one_line(first)}", None, file)]) from None


def _one_line(text: str) -> str:
    """A message squeezed onto one line and kept short (ruamel's can span several)."""
    line = " ".join(str(text).split())
    return line if len(line) <= 200 else line[:200] + "..."


def load_site_text(text: str, file: str = "<site>") -> Site:
    """Parse YAML text into a validated `Site`."""
    doc = yaml_document(text, file)
    return parse_site(plain_yaml(doc), file=file, doc=doc)


def read_text(path: Path, limits: YamlLimits = DEFAULT_LIMITS) -> str:
    """A YAML file's text, reading no more than the size limit allows (a FIFO or a device
    never fills memory); `SiteFileError` when it is missing, unreadable, too big or not UTF-8."""
    file = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise SiteFileError([Problem("", "no such file", None, file)]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SiteFileError([Problem("", f"cannot read: {reason}", None, file)]) from None
    if len(raw) > limits.max_bytes:
        raise SiteFileError([Problem("", too_large(limits).message, None, file)])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SiteFileError(
            [Problem("", f"not UTF-8 text (byte {exc.start + 1}: {exc.reason})", line, file)]
        ) from None


def load_site(path: str | Path) -> Site:
    """Read and validate a site file; `SiteFileError` names every problem and its line."""
    p = Path(path)
    return load_site_text(read_text(p), str(p))


def site_schema() -> dict[str, Any]:
    """The JSON Schema of the site file."""
    schema = Site.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "panelpilot site file"
    return schema
