"""Run every design rule over a site and collect findings and computed values into a report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from panelpilot.design import (
    backfeed,
    conductor_limit,
    panel_limit,
    power_sharing,
    pw3_configurations,
    pw3_protection,
    pw3_tie_in,
)
from panelpilot.design.computed import Json, computed
from panelpilot.design.findings import SEVERITY_ORDER, Design, FieldPath, Finding, Rule, Severity
from panelpilot.site.errors import Problem
from panelpilot.site.loader import field_name
from panelpilot.site.model import Site

RULES: tuple[Rule, ...] = (
    *pw3_configurations.RULES,
    *pw3_tie_in.RULES,
    *pw3_protection.RULES,
    *backfeed.RULES,
    *panel_limit.RULES,
    *conductor_limit.RULES,
    *power_sharing.RULES,
)
# A cross-field problem of the site file that no design rule explains better.
SITE_FILE_RULE = "SITE-FILE"
SITE_FILE_SOURCE = "site file (panelpilot validate)"

Locate = Callable[[FieldPath], int | None]


def _no_line(path: FieldPath) -> int | None:
    return None


@dataclass(frozen=True)
class Report:
    """The outcome of `check`: findings (errors first) and the computed values."""

    site_name: str
    findings: tuple[Finding, ...]
    computed: Json = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        """True when any finding is an error (exit code 1)."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def count(self, severity: Severity) -> int:
        """How many findings of one severity."""
        return sum(1 for f in self.findings if f.severity is severity)

    def as_dict(self) -> Json:
        """The `--json` object: findings and computed values."""
        return {
            "site": self.site_name,
            "findings": [f.as_dict() for f in self.findings],
            "summary": {s.value: self.count(s) for s in SEVERITY_ORDER},
            "computed": self.computed,
        }


def run_rules(design: Design, rules: Iterable[Rule], locate: Locate = _no_line) -> list[Finding]:
    """Every hit of the given rules as a located finding, in rule order."""
    return [
        Finding(
            rule.id,
            rule.severity,
            hit.message,
            rule.source,
            field_name(hit.field),
            locate(hit.field),
        )
        for rule in rules
        for hit in rule.run(design)
    ]


def check_design(
    site: Site, *, locate: Locate = _no_line, site_problems: Iterable[Problem] = ()
) -> Report:
    """Check a site against every rule. `site_problems` are the loader's cross-field problems
    (a file that loads as a model but that the controller would refuse): each becomes an error
    finding unless a design rule already reports the same field with its arithmetic."""
    design = Design(site, site.installation)
    findings = run_rules(design, RULES, locate)
    covered = {f.field for f in findings}
    findings += [
        Finding(SITE_FILE_RULE, Severity.ERROR, p.message, SITE_FILE_SOURCE, p.field, p.line)
        for p in site_problems
        if p.field not in covered
    ]
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    ordered = sorted(findings, key=lambda f: rank[f.severity])
    return Report(site.name, tuple(ordered), computed(design))
