"""Load a site file for `check`: settings the controller would refuse are explained, not fatal.

`load_site` refuses a file whose settings break a cross-field rule (a network limit under
6 A x size) or a setting range (a Panel Limit above 200 A). The checker's job is to explain
such a design, so when the rest of the file is a valid model, those problems come back as
values and become findings. A file that is not a valid model for any other reason (bad YAML,
a wrong type, an unknown field) still raises `SiteFileError` (exit 2).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from panelpilot.design.checker import Report, check_design
from panelpilot.design.findings import FieldPath
from panelpilot.site.errors import Problem, SiteFileError
from panelpilot.site.loader import (
    field_name,
    line_of,
    load_site,
    plain_yaml,
    read_text,
    yaml_document,
)
from panelpilot.site.model import Site
from panelpilot.site.rules import check_site

# Settings whose range the design rules explain with their arithmetic (PANEL-LIMIT-RANGE).
RANGE_CHECKED_BY_RULES: frozenset[tuple[str, str]] = frozenset({("pcs", "panel_limit_a")})
RANGE_ERRORS = frozenset({"less_than_equal", "greater_than_equal", "less_than", "greater_than"})


@dataclass(frozen=True)
class LoadedSite:
    """A site for checking, its YAML document (for line numbers) and its settings problems."""

    site: Site
    doc: Any
    problems: tuple[Problem, ...] = ()

    def line(self, path: FieldPath) -> int | None:
        """1-based line of a field in the file, when it can be found."""
        return line_of(self.doc, path) if path else None

    def check(self) -> Report:
        """Every design rule over this site, findings located by line, the settings problems
        that no rule explains as SITE-FILE findings."""
        return check_design(self.site, locate=self.line, site_problems=self.problems)


def _read(path: Path, typ: str) -> Any:
    # The site layer's bounded reader: a hostile file is refused here as in `load_site`.
    try:
        doc = yaml_document(read_text(path), str(path))
    except SiteFileError:
        return None
    return plain_yaml(doc) if typ == "safe" else doc


def _out_of_range(exc: ValidationError) -> list[tuple[str, str]] | None:
    """The range-checked settings that failed, or None when anything else failed too."""
    found: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if len(loc) != 2 or loc not in RANGE_CHECKED_BY_RULES or err["type"] not in RANGE_ERRORS:
            return None
        found.append((str(loc[0]), str(loc[1])))
    return found


def _lenient(data: Any) -> Site | None:
    """The site as a model, with out-of-range settings put back unvalidated for the rules."""
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        failed = _out_of_range(exc)
        if not failed or not isinstance(data, dict):
            return None
        patched = copy.deepcopy(data)
        for section, name in failed:
            patched[section][name] = None
        try:
            site = Site.model_validate(patched)
        except ValidationError:
            return None
        for section, name in failed:
            part: BaseModel = getattr(site, section)
            part = part.model_copy(update={name: data[section][name]})
            site = site.model_copy(update={section: part})
        return site


def load_for_check(path: Path) -> LoadedSite:
    """Load a site file; raise `SiteFileError` only when it is unusable as a model."""
    try:
        site = load_site(path)
    except SiteFileError as exc:
        lenient = _lenient(_read(path, "safe"))
        if lenient is None:
            raise exc from None
        doc = _read(path, "rt")
        problems = tuple(
            Problem(field_name(loc), message, line_of(doc, loc), str(path))
            for loc, message in check_site(lenient)
        )
        return LoadedSite(lenient, doc, problems)
    return LoadedSite(site, _read(path, "rt"))


def check_file(path: Path) -> Report:
    """Check one site file. Raises `SiteFileError` when the file is unusable."""
    return load_for_check(path).check()
