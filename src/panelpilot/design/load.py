"""Load a site file for `check`: settings the controller would refuse are explained, not fatal.

`load_site` refuses a file whose settings break a cross-field rule (a network limit under
6 A x size). The checker's job is to explain such a design, so when the file is valid as a
model, those problems come back as values and become findings; a file that is not even a
valid model (bad YAML, a wrong type, an unknown field) still raises `SiteFileError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from panelpilot.design.findings import FieldPath
from panelpilot.site.errors import Problem, SiteFileError
from panelpilot.site.loader import line_of, load_site
from panelpilot.site.model import Site


@dataclass(frozen=True)
class LoadedSite:
    """A site for checking, its YAML document (for line numbers) and its settings problems."""

    site: Site
    doc: Any
    problems: tuple[Problem, ...] = ()

    def line(self, path: FieldPath) -> int | None:
        """1-based line of a field in the file, when it can be found."""
        return line_of(self.doc, path) if path else None


def _read(path: Path, typ: str) -> Any:
    try:
        return YAML(typ=typ).load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError):
        return None


def load_for_check(path: Path) -> LoadedSite:
    """Load a site file; raise `SiteFileError` only when it is unusable as a model."""
    try:
        site = load_site(path)
    except SiteFileError as exc:
        data = _read(path, "safe")
        try:
            site = Site.model_validate(data)
        except ValidationError:
            raise exc from None
        return LoadedSite(site, _read(path, "rt"), tuple(exc.problems))
    return LoadedSite(site, _read(path, "rt"))
