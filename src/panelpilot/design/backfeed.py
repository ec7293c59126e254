"""Backfeed on every panel: the 120 % rule unless a Panel Limit (PCS, 705.13) covers it.

Sources: seeds/powerwall-3-design-considerations.txt, "System Tie-in" (705.12 / 705.13, the
Powershare warning, backup load centers), seeds/panel-limit.txt "Example" and
seeds/conductor-limit.txt Example 2 (the 200 A busbar / 200 A main arithmetic).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from panelpilot.design.arithmetic import (
    CONTINUOUS_FACTOR,
    allowed_backfeed_breaker_a,
    allowed_supply_a,
    continuous_a,
    suggested_panel_limit_a,
)
from panelpilot.design.findings import Design, Hit, Rule, Severity, num
from panelpilot.field import WALL_CONNECTOR_MAX_A
from panelpilot.site.installation import Panel

DOC = "powerwall-3-design-considerations"
TIE_IN = "System Tie-in"
PANELS = ("installation", "panels")


@dataclass(frozen=True)
class Backfeed:
    """The 120 % arithmetic of one panel, with each term named."""

    panel: Panel
    covered_by_panel_limit: bool
    terms: tuple[tuple[str, float], ...]

    @property
    def total_a(self) -> float:
        """Sum of the supply breakers counted against the busbar."""
        return sum(amps for _, amps in self.terms)

    @property
    def allowed_a(self) -> float:
        """1.2 x busbar."""
        return allowed_supply_a(self.panel.busbar_a)

    @property
    def passes(self) -> bool:
        """True when the counted breakers fit within 120 % of the busbar."""
        return self.total_a <= self.allowed_a + 1e-9

    def arithmetic(self) -> str:
        """`200 A busbar x 1.2 = 240 A allowed; 200 A main + 60 A supply = 260 A`."""
        sums = " + ".join(f"{num(amps)} A {label}" for label, amps in self.terms) or "0 A"
        return (
            f"{num(self.panel.busbar_a)} A busbar x 1.2 = {num(self.allowed_a)} A allowed; "
            f"{sums} = {num(self.total_a)} A"
        )


def panel_limit_of(d: Design, panel: Panel) -> float | None:
    """The Panel Limit covering a panel: its own, or the site's `pcs` one naming it."""
    if panel.panel_limit_a is not None:
        return panel.panel_limit_a
    pcs = d.site.pcs
    if pcs.panel == panel.id and pcs.panel_limit_a is not None:
        return pcs.panel_limit_a
    return None


def backfeed_of(d: Design, panel: Panel) -> Backfeed:
    """The supply breakers counted on a panel. With a Panel Limit the PCS-controlled ones drop
    out (705.13); a Powershare charger on backup counts as a generation source."""
    covered = panel_limit_of(d, panel) is not None
    terms: list[tuple[str, float]] = []
    if panel.main_breaker_a is not None:
        terms.append(("main", panel.main_breaker_a))
    terms += [("supply", amps) for amps in panel.supply_breakers_a]
    if not covered:
        terms += [("controlled supply", amps) for amps in panel.controlled_supply_breakers_a]
    for charger in d.inst.ev_chargers:
        if charger.powershare and charger.on_backup and charger.panel == panel.id:
            # Without a breaker, the one its max current needs: max / 0.8 (48 A -> 60 A).
            amps = charger.breaker_a or (charger.max_a or WALL_CONNECTOR_MAX_A) / CONTINUOUS_FACTOR
            terms.append(("Powershare charger", amps))
    return Backfeed(panel, covered, tuple(terms))


def busbar_120(d: Design) -> Iterator[Hit]:
    """Supply breakers on a busbar total at most 120 % of its rating (705.12)."""
    for i, panel in enumerate(d.inst.panels):
        calc = backfeed_of(d, panel)
        if calc.passes:
            continue
        over = calc.total_a - calc.allowed_a
        main = panel.main_breaker_a or 0.0
        allowed = allowed_backfeed_breaker_a(panel.busbar_a, main)
        advice = (
            f"allowed backfeed beside the {num(main)} A main: {num(calc.allowed_a)} - "
            f"{num(main)} = {num(allowed)} A of breakers ({num(continuous_a(allowed))} A "
            "continuous)"
        )
        if calc.covered_by_panel_limit:
            fix = "the Panel Limit covers controlled sources only; uncontrolled ones must fit"
        else:
            fix = (
                f"or set a Panel Limit of {num(suggested_panel_limit_a(panel.busbar_a))} A "
                f"(0.8 x {num(panel.busbar_a)} A busbar) so the PCS controls Powerwall "
                "backfeed (705.13), or a Conductor Limit"
            )
        yield Hit(
            f"panel {panel.id!r}: {calc.arithmetic()}, {num(over)} A over; {advice}; {fix}",
            (*PANELS, i),
        )


def powershare_counted(d: Design) -> Iterator[Hit]:
    """A Powershare charger on backup is counted as a source in some panel's backfeed."""
    panels = {p.id for p in d.inst.panels}
    for i, charger in enumerate(d.inst.ev_chargers):
        if charger.powershare and charger.on_backup and charger.panel not in panels:
            where = f"panel {charger.panel!r} is not listed" if charger.panel else "no panel named"
            yield Hit(
                f"Powershare charger {i + 1} on backup must be counted as a generation source in "
                f"backfeed calculations; {where} (set ev_chargers[{i}].panel)",
                ("installation", "ev_chargers", i, "panel"),
            )


def backup_panel_ocpd(d: Design) -> Iterator[Hit]:
    """A backup load center is protected by an overcurrent device."""
    for i, panel in enumerate(d.inst.panels):
        if panel.backup and panel.main_breaker_a is None:
            yield Hit(
                f"backup panel {panel.id!r} has no main/feeder breaker; backup load centers need "
                "overcurrent protection (set main_breaker_a)",
                (*PANELS, i, "main_breaker_a"),
            )


E, W = Severity.ERROR, Severity.WARNING
# fmt: off
RULES = (
    Rule("BUSBAR-120", E, DOC, TIE_IN,
         "Each panel meets the 120 % rule (705.12) for the sources no Panel Limit controls.",
         "main + supply breakers (+ controlled ones without a Panel Limit, + Powershare chargers "
         "on backup) <= 1.2 x busbar; allowed backfeed = 1.2 x busbar - main, continuous x 0.8",
         busbar_120),
    Rule("BACKFEED-POWERSHARE", W, DOC, TIE_IN,
         "A Powershare charger on backup is counted as a generation source in a panel.",
         "ev_chargers[i].powershare and on_backup => panel names a listed panel",
         powershare_counted),
    Rule("BACKUP-PANEL-OCPD", W, DOC, TIE_IN,
         "Backup load centers are protected by an overcurrent device.",
         "panels[i].backup => main_breaker_a is set", backup_panel_ocpd),
)
# fmt: on
