"""Panel Limit settings: range, never above a PCS-controlled panel, and set where needed.

Source: seeds/panel-limit.txt, "Feature Overview" (the rating warning), "Configuring Panel
Limits" (10..200 A, 80 A default) and "Application of the Panel Limits Feature".
"""

from __future__ import annotations

from collections.abc import Iterator

from panelpilot.design.arithmetic import (
    PANEL_LIMIT_DEFAULT_A,
    PANEL_LIMIT_MAX_A,
    PANEL_LIMIT_MIN_A,
    suggested_panel_limit_a,
)
from panelpilot.design.backfeed import panel_limit_of
from panelpilot.design.findings import Design, FieldPath, Hit, Rule, Severity, num

DOC = "panel-limit"
OVERVIEW = "Feature Overview"
CONFIGURING = "Configuring Panel Limits"
APPLICATION = "Application of the Panel Limits Feature"


def settings(d: Design) -> list[tuple[str, float, FieldPath]]:
    """Every Panel Limit the file sets: (where, value, field)."""
    found: list[tuple[str, float, FieldPath]] = [
        (f"panel {p.id!r}", p.panel_limit_a, ("installation", "panels", i, "panel_limit_a"))
        for i, p in enumerate(d.inst.panels)
        if p.panel_limit_a is not None
    ]
    if d.site.pcs.panel_limit_a is not None:
        found.append(("pcs", d.site.pcs.panel_limit_a, ("pcs", "panel_limit_a")))
    return found


def limit_range(d: Design) -> Iterator[Hit]:
    """A Panel Limit is settable from 10 to 200 A."""
    for where, value, path in settings(d):
        if not PANEL_LIMIT_MIN_A <= value <= PANEL_LIMIT_MAX_A:
            yield Hit(
                f"{where}: Panel Limit {num(value)} A is outside "
                f"{num(PANEL_LIMIT_MIN_A)}..{num(PANEL_LIMIT_MAX_A)} A",
                path,
            )


def limit_rating(d: Design) -> Iterator[Hit]:
    """A Panel Limit never exceeds the rating of any PCS-controlled panel."""
    controlled = [p for p in d.inst.panels if p.pcs_controlled]
    if not controlled:
        return
    lowest = min(controlled, key=lambda p: p.busbar_a)
    for where, value, path in settings(d):
        if value > lowest.busbar_a:
            yield Hit(
                f"{where}: Panel Limit {num(value)} A is above the {num(lowest.busbar_a)} A "
                f"rating of PCS-controlled panel {lowest.id!r}; the setting must not exceed any "
                f"controlled panel's rating (at most {num(min(lowest.busbar_a, 200.0))} A)",
                path,
            )


def limit_unset(d: Design) -> Iterator[Hit]:
    """A PCS-controlled panel has a Panel Limit covering it."""
    ratings = tuple(p.busbar_a for p in d.inst.panels if p.pcs_controlled)
    for i, panel in enumerate(d.inst.panels):
        if panel.pcs_controlled and panel_limit_of(d, panel) is None:
            suggested = suggested_panel_limit_a(panel.busbar_a, ratings)
            yield Hit(
                f"panel {panel.id!r} is PCS-controlled but no Panel Limit covers it (enabled "
                f"without a value it is {num(PANEL_LIMIT_DEFAULT_A)} A); suggested "
                f"{num(suggested)} A = 0.8 x {num(panel.busbar_a)} A busbar, within 10..200 A",
                ("installation", "panels", i, "panel_limit_a"),
            )


def limit_match(d: Design) -> Iterator[Hit]:
    """The control settings (`pcs`) and the installation agree on the Panel Limit."""
    pcs = d.site.pcs
    for i, panel in enumerate(d.inst.panels):
        if pcs.panel != panel.id or pcs.panel_limit_a is None or panel.panel_limit_a is None:
            continue
        if abs(pcs.panel_limit_a - panel.panel_limit_a) >= 0.05:
            yield Hit(
                f"panel {panel.id!r}: installation says {num(panel.panel_limit_a)} A, pcs."
                f"panel_limit_a says {num(pcs.panel_limit_a)} A; the controller runs the pcs one",
                ("installation", "panels", i, "panel_limit_a"),
            )


E, W = Severity.ERROR, Severity.WARNING
# fmt: off
RULES = (
    Rule("PANEL-LIMIT-RANGE", E, DOC, CONFIGURING, "A Panel Limit is 10..200 A.",
         "10 A <= panel_limit_a <= 200 A", limit_range),
    Rule("PANEL-LIMIT-RATING", E, DOC, OVERVIEW,
         "A Panel Limit is not above the rating of any PCS-controlled panel.",
         "panel_limit_a <= min(busbar_a of pcs_controlled panels)", limit_rating),
    Rule("PANEL-LIMIT-UNSET", W, DOC, APPLICATION,
         "A PCS-controlled panel is covered by a Panel Limit (suggested value given).",
         "suggested = min(0.8 x busbar, 200 A, controlled panel ratings), at least 10 A",
         limit_unset),
    Rule("PANEL-LIMIT-MATCH", W, DOC, CONFIGURING,
         "The installation's Panel Limit equals the controller's pcs.panel_limit_a.",
         "panels[i].panel_limit_a == pcs.panel_limit_a when pcs.panel == panels[i].id",
         limit_match),
)
# fmt: on
