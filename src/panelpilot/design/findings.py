"""Rules and findings as data: a rule is a small record, a finding is what one rule found.

Every rule has a stable id (it never changes meaning; new requirements get new ids), one
severity, the source document and section it comes from, a sentence on what it checks and the
arithmetic it applies. `docs/design-checks.md` is generated from these records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from panelpilot.site.installation import BatteryUnit, Installation
from panelpilot.site.model import Site

FieldPath = tuple[str | int, ...]


class Severity(StrEnum):
    """How bad a finding is: errors fail `check` (exit 1), the others inform."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


@dataclass(frozen=True)
class Design:
    """What the rules look at: the whole site and its installation section (maybe empty)."""

    site: Site
    installation: Installation | None

    @property
    def inst(self) -> Installation:
        """The installation section, or an empty one when the file has none."""
        return self.installation or Installation()

    def units(self, model: str) -> list[tuple[int, BatteryUnit]]:
        """Battery units of one model with their index in `installation.batteries`."""
        return [(i, b) for i, b in enumerate(self.inst.batteries) if b.model == model]

    @property
    def has_pw3(self) -> bool:
        """True when the design has a Powerwall 3: the Powerwall 3 rules then apply."""
        return bool(self.units("powerwall-3") or self.units("powerwall-3-expansion"))


@dataclass(frozen=True)
class Hit:
    """One thing a rule found: the message with its numbers, and the field it is about."""

    message: str
    field: FieldPath = ()


RuleCheck = Callable[[Design], Iterator[Hit]]


@dataclass(frozen=True)
class Rule:
    """A design rule: stable id, severity, source, what it checks, and the check itself."""

    id: str
    severity: Severity
    document: str
    section: str
    checks: str
    arithmetic: str
    run: RuleCheck = field(repr=False, compare=False)

    @property
    def source(self) -> str:
        """Where the requirement comes from: `document § section`."""
        return f"{self.document} § {self.section}"


@dataclass(frozen=True)
class Finding:
    """A rule's hit, ready to show: rule id, severity, message, source, located field."""

    rule: str
    severity: Severity
    message: str
    source: str
    field: str = ""
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form."""
        out: dict[str, object] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "source": self.source,
        }
        if self.field:
            out["field"] = self.field
        if self.line is not None:
            out["line"] = self.line
        return out


def num(value: float) -> str:
    """A number as an electrician writes it: 48, 41.7, 0.8 (no trailing zeros)."""
    return f"{round(value, 2):g}"
