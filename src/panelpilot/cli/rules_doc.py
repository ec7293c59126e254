"""docs/design-checks.md, generated from the design rule records so the list cannot drift.

Regenerate with `python -m panelpilot.cli.rules_doc > docs/design-checks.md`; a test fails when
the file and the rules disagree. It lives beside `panelpilot check`'s other renderings: the
design layer declares the rules, the CLI side writes them out.
"""

from __future__ import annotations

from panelpilot.design.arithmetic import OFF_GRID_BOOST, ON_GRID_OPTIONS, RK1_FUSES
from panelpilot.design.checker import RULES, SITE_FILE_RULE, SITE_FILE_SOURCE
from panelpilot.design.findings import Rule, num

INTRO = """\
# Design check rules

`panelpilot check site.yaml` runs every rule below over a site file and its `installation:`
section (see `site-file-installation.md`). Each finding names its rule id, severity and
source, and a message with the numbers. Exit code: 0 no error findings, 1 any error finding,
2 a file that cannot be read as a site (bad YAML, wrong types, unknown fields).

Sources are the documents in `shared/seeds/`: `powerwall-3-design-considerations`,
`panel-limit`, `conductor-limit`, `wall-connector-power-sharing`. Rule ids are stable: a rule
never changes meaning; a new requirement gets a new id.

This file is generated from the rule records (`python -m panelpilot.cli.rules_doc`); do not
edit it by hand.
"""

ARITHMETIC = """\
## The arithmetic

* **120 % rule** (NEC 705.12): supply breakers on a busbar may total 1.2 x busbar. Allowed
  backfeed breaker beside the main = 1.2 x busbar - main; its continuous current = x 0.8.
  200 A busbar, 200 A main: 240 - 200 = 40 A breaker, 32 A continuous.
* **Panel Limit suggestion**: 0.8 x the panel's busbar rating (its continuous rating), kept
  within 10..200 A and never above a PCS-controlled panel's rating. 200 A busbar -> 160 A,
  the value of the Panel Limit example and of Conductor Limit Example 2.
* **Conductor Limit**: 0.8 x the overcurrent device it stands in for (40 A -> 32 A).
* **Power sharing fallback**: network limit / network size, bounded to the unit's
  min..max (150 A / 4 = 37.5 A; 110 A / 3 = 36.67 A). Minimum network limit 6 A x size.
* **Powershare**: a Powershare charger on backup counts as a generation source with its
  breaker (or max current / 0.8) in its panel's 120 % sum.
"""


def _table_1() -> str:
    rows = [
        f"| {num(o.max_continuous_a)} A | {num(o.output_kw)} kW | {o.grid} | {num(o.breaker_a)} A |"
        for o in (*ON_GRID_OPTIONS, OFF_GRID_BOOST)
    ]
    fuses = [f"| {num(amps)} A | {', '.join(parts)} |" for amps, parts in sorted(RK1_FUSES.items())]
    return "\n".join(
        [
            "## Powerwall 3 output options and OCPD (Table 1)",
            "",
            "| max continuous | output | | OCPD |",
            "|---|---|---|---|",
            *rows,
            "",
            "The off-grid 64 A / 15.4 kW option needs the 48 A / 11.5 kW on-grid setting.",
            "",
            "RK1 fast-acting fuses (>= 250 VAC), listed parts (or an equivalent):",
            "",
            "| rating | parts |",
            "|---|---|",
            *fuses,
            "",
        ]
    )


def _row(rule: Rule) -> str:
    arithmetic = rule.arithmetic.replace("|", "\\|") or "-"
    return (
        f"| `{rule.id}` | {rule.severity.value} | {rule.document} § {rule.section} | "
        f"{rule.checks} | {arithmetic} |"
    )


def rules_markdown() -> str:
    """The whole of docs/design-checks.md."""
    lines = [
        INTRO,
        "## Rules",
        "",
        "| id | severity | source | checks | arithmetic |",
        "|---|---|---|---|---|",
        *(_row(rule) for rule in RULES),
        f"| `{SITE_FILE_RULE}` | error | {SITE_FILE_SOURCE} | A setting the controller would "
        "refuse (a cross-field problem the loader reports) and no rule above explains. | - |",
        "",
        ARITHMETIC,
        _table_1(),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(rules_markdown(), end="")
