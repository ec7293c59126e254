"""Hypothesis strategies of hostile YAML: random text, YAML-shaped fragments, bad numbers."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

# Pieces a YAML file is made of, and the ones an attacker or a slip of the keyboard brings.
FRAGMENTS = (
    "circuits:",
    "  - id: service",
    "    limit_a: ",
    "children:",
    "chargers:",
    "networks:",
    "pcs:",
    "control:",
    "evs:",
    "site:",
    "duration_s: ",
    "- ",
    "  ",
    "\n",
    ": ",
    ", ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "&b [*a, *a, *a]",
    "<<: ",
    "? ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!binary ",
    "!!timestamp ",
    "!!python/object:os.system ",
    "'",
    '"',
    "#",
    "|",
    ">",
    "\t",
    "\\",
    "\x00",
    "\ufeff",
    ".inf",
    "-.inf",
    ".nan",
    "NaN",
    "1e400",
    "1e308",
    "-0",
    "0x1F",
    "0o17",
    "1_000",
    "2024-13-45",
    "12:30:00",
    "~",
    "null",
    "yes",
    "1" + "0" * 400,
)


def _scalar_yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_yaml(value: Any) -> str:
    """Flow-style YAML of plain data, with YAML's words for NaN and infinity."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{to_yaml(k)}: {to_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(to_yaml(v) for v in value) + "]"
    return _scalar_yaml(value)


def fragments() -> st.SearchStrategy[str]:
    """Text assembled from YAML's pieces: mostly near-YAML, often invalid."""
    return st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=40).map("".join)


def hostile_text() -> st.SearchStrategy[str]:
    """Any text: random characters, YAML fragments, deep brackets."""
    deep = st.integers(1, 5000).map(lambda n: "circuits: " + "[" * n + "]" * (n % 3))
    return st.text(max_size=200) | fragments() | deep


def bad_numbers() -> st.SearchStrategy[Any]:
    """Numbers no field should take: non-finite, huge, or of the wrong kind."""
    return st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e10, 2e9]),
        st.integers(min_value=10**10, max_value=10**90),
        st.integers(max_value=-(10**10), min_value=-(10**90)),
    )


def wrong_values() -> st.SearchStrategy[Any]:
    """Values of every kind, for any field: bad numbers, text, lists, nesting, nulls."""
    leaves = st.one_of(
        bad_numbers(),
        st.floats(),
        st.integers(),
        st.text(max_size=20),
        st.booleans(),
        st.none(),
    )
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3), max_leaves=10)


def leaf_paths(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path to a scalar in plain data, in document order."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in leaf_paths(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in leaf_paths(v, (*path, i))]
    return [path]


def replaced(data: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of plain data with the value at `path` replaced."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: replaced(v, rest, value) if k == head else v for k, v in data.items()}
    return [replaced(v, rest, value) if i == head else v for i, v in enumerate(data)]


def get(data: Any, path: tuple[str | int, ...]) -> Any:
    """The value at `path` in plain data."""
    for part in path:
        data = data[part]
    return data
