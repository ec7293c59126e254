"""Load a scenario file into a `Scenario` and its `Site`, or fail with every problem located.

Errors name the file, the line and the field (`garage-day.yaml:12: evs[0].charger: ...`), the
same way the site loader does; a bad referenced site file is reported with its own lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from panelpilot.sim.rules import check_scenario
from panelpilot.sim.scenario import Scenario
from panelpilot.site import Problem, Site, SiteFileError, load_site, parse_site
from panelpilot.site.loader import (
    field_name,
    line_of,
    number_message,
    plain_yaml,
    read_text,
    shown_value,
    yaml_document,
)


class ScenarioError(Exception):
    """A scenario that cannot be run. Carries every problem found, each with its location."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario, the site it runs on, and where it came from."""

    scenario: Scenario
    site: Site
    file: str


def _validation_problems(exc: ValidationError, doc: Any, file: str) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
        # Unions (`site: path | mapping`) tag their branches; keep the user's path only.
        loc = tuple(p for p in loc if p not in ("str", "dict[str,any]"))
        if loc == ("site",) and err["type"] in ("string_type", "dict_type"):
            msg = f"{err.get('input')!r}: a site file path or an inline site mapping"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field; see docs/simulator.md for the scenario format"
        elif err["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = number_message(err) or str(err["msg"]).removeprefix("Value error, ")
            shown = shown_value(err.get("input"))
            if shown is not None:
                msg = f"{shown}: {msg}"
        problems.append(Problem(field_name(loc), msg, line_of(doc, loc), file))
    # One line per field is enough (a union reports both branches).
    seen: set[tuple[str, int | None]] = set()
    unique = []
    for p in problems:
        if (p.field, p.line) not in seen:
            seen.add((p.field, p.line))
            unique.append(p)
    return unique


def _load_site(scenario: Scenario, doc: Any, file: str, base: Path) -> Site:
    if isinstance(scenario.site, str):
        path = Path(scenario.site)
        if not path.is_absolute():
            path = base / path
        if not path.exists():
            raise ScenarioError(
                [Problem("site", f"no such site file {str(path)!r}", line_of(doc, ("site",)), file)]
            )
        try:
            return load_site(path)
        except SiteFileError as exc:
            raise ScenarioError(exc.problems) from None
    sub = doc.get("site") if isinstance(doc, dict) else None
    try:
        return parse_site(scenario.site, file=file, doc=sub)
    except SiteFileError as exc:
        raise ScenarioError(
            [
                Problem(f"site.{p.field}" if p.field else "site", p.message, p.line, file)
                for p in exc.problems
            ]
        ) from None


def load_scenario_text(
    text: str, file: str = "<scenario>", base: Path | None = None
) -> LoadedScenario:
    """Parse scenario YAML text; site paths resolve against `base` (default: cwd)."""
    try:
        doc = yaml_document(text, file)
    except SiteFileError as exc:
        raise ScenarioError(exc.problems) from None
    data = plain_yaml(doc)
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem("", "a scenario must be a mapping (site:, evs:, ...)", 1, file)]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_validation_problems(exc, doc, file)) from None
    site = _load_site(scenario, doc, file, base or Path.cwd())
    findings = check_scenario(scenario, site)
    if findings:
        raise ScenarioError(
            [Problem(field_name(path), msg, line_of(doc, path), file) for path, msg in findings]
        )
    return LoadedScenario(scenario=scenario, site=site, file=file)


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file and the site it names."""
    p = Path(path)
    try:
        text = read_text(p)
    except SiteFileError as exc:
        raise ScenarioError(exc.problems) from None
    return load_scenario_text(text, str(p), p.parent)
