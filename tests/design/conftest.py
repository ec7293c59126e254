"""Build sites for rule tests from the seed-based example files plus small edits."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from panelpilot.design.checker import Report, check_design
from panelpilot.site.model import Site

EXAMPLES = Path(__file__).parents[2] / "examples"
Edit = Callable[[dict[str, Any]], None]


def example_data(name: str) -> dict[str, Any]:
    """An example file as plain data."""
    data = YAML(typ="safe").load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def put(path: str, value: Any) -> Edit:
    """An edit setting a dotted path (`installation.batteries.0.ocpd.rating_a`); None deletes."""

    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            key: Any = int(part) if part.isdigit() else part
            if isinstance(node, dict) and key not in node:
                node[key] = {}
            node = node[key]
        last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
        if value is None and isinstance(node, dict):
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)

    return edit


def add(path: str, *items: Any) -> Edit:
    """An edit appending items to the list at a dotted path (created when missing)."""

    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part) if part.isdigit() else part]
        node.setdefault(parts[-1], [])
        node[parts[-1]].extend(copy.deepcopy(list(items)))

    return edit


def build(base: str, *edits: Edit) -> Site:
    """An example site with edits applied, validated as a model (no cross-field refusal)."""
    data = example_data(base)
    for edit in edits:
        edit(data)
    return Site.model_validate(data)


def check(base: str, *edits: Edit) -> Report:
    """Check an edited example site."""
    return check_design(build(base, *edits))


def rules_of(report: Report) -> set[str]:
    """The rule ids that fired."""
    return {f.rule for f in report.findings}


def computed_items(report: Report, key: str) -> list[dict[str, Any]]:
    """A list of computed values (`panels`, `batteries`, `networks`) as plain dicts."""
    value = report.computed[key]
    assert isinstance(value, list)
    return [dict(item) for item in value]


def computed_item(report: Report, key: str) -> dict[str, Any]:
    """One computed value (`conductor`, `fault_current`) as a plain dict."""
    value = report.computed[key]
    assert isinstance(value, dict)
    return dict(value)
