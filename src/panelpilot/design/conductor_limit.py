"""Conductor Limit: two CTs oriented like the site CTs, a limit within the OCPD it replaces.

Source: seeds/conductor-limit.txt, "Feature Overview", "Application of the Conductor Limits
Feature" (Examples 1-3) and "Installing and Configuring Conductor CTs".
"""

from __future__ import annotations

from collections.abc import Iterator

from panelpilot.design.arithmetic import conductor_limit_for_ocpd
from panelpilot.design.findings import Design, Hit, Rule, Severity, num

DOC = "conductor-limit"
OVERVIEW = "Feature Overview"
APPLICATION = "Application of the Conductor Limits Feature"
INSTALLING = "Installing and Configuring Conductor CTs"
CTS = ("installation", "conductor_cts")
CT_COUNT = 2


def ct_count(d: Design) -> Iterator[Hit]:
    """A Conductor Limit is measured by two CTs."""
    cts = d.inst.conductor_cts
    if cts is not None and cts.count != CT_COUNT:
        yield Hit(
            f"{cts.count} conductor CT(s); a Conductor Limit is measured by {CT_COUNT} CTs at the "
            "controlled conductor",
            (*CTS, "count"),
        )


def ct_orientation(d: Design) -> Iterator[Hit]:
    """Conductor CTs face the same way as the site CTs (label toward the grid)."""
    cts = d.inst.conductor_cts
    if cts is not None and not cts.oriented_like_site_cts:
        yield Hit(
            "conductor CTs are not oriented like the site CTs; turn them so the label faces "
            "the grid, or the limit acts on the wrong direction",
            (*CTS, "oriented_like_site_cts"),
        )


def _limit_and_ocpd(d: Design) -> tuple[float, float] | None:
    cts, limit = d.inst.conductor_cts, d.site.pcs.conductor_limit_a
    if cts is None or cts.ocpd_a is None or limit is None:
        return None
    return limit, cts.ocpd_a


def limit_ocpd(d: Design) -> Iterator[Hit]:
    """The limit is never above the OCPD it stands in for (the breaker would trip first)."""
    found = _limit_and_ocpd(d)
    if found is not None and found[0] > found[1]:
        limit, ocpd = found
        yield Hit(
            f"Conductor Limit {num(limit)} A is above the {num(ocpd)} A overcurrent device it "
            f"stands in for; continuous value {num(ocpd)} A x 0.8 = "
            f"{num(conductor_limit_for_ocpd(ocpd))} A",
            ("pcs", "conductor_limit_a"),
        )


def limit_continuous(d: Design) -> Iterator[Hit]:
    """The limit is the continuous current of the OCPD: 0.8 x OCPD."""
    found = _limit_and_ocpd(d)
    if found is None:
        return
    limit, ocpd = found
    continuous = conductor_limit_for_ocpd(ocpd)
    if continuous < limit <= ocpd:
        yield Hit(
            f"Conductor Limit {num(limit)} A is above {num(ocpd)} A x 0.8 = {num(continuous)} A "
            "continuous; fine to keep a breaker from tripping (Example 1), but for backfeed "
            f"compliance set {num(continuous)} A (Examples 2 and 3)",
            ("pcs", "conductor_limit_a"),
        )


def cts_missing(d: Design) -> Iterator[Hit]:
    """A Conductor Limit is described by its CTs and the OCPD it replaces."""
    if d.installation is None or d.site.pcs.conductor_limit_a is None:
        return
    cts = d.inst.conductor_cts
    if cts is None or cts.ocpd_a is None:
        yield Hit(
            "a Conductor Limit is set but installation.conductor_cts (count, orientation, "
            "ocpd_a) is missing; the limit cannot be checked against its OCPD",
            ("installation",) if cts is None else (*CTS, "ocpd_a"),
        )


def limit_unset(d: Design) -> Iterator[Hit]:
    """Conductor CTs are installed but no limit is set: suggest 0.8 x OCPD."""
    cts = d.inst.conductor_cts
    if cts is not None and cts.ocpd_a is not None and d.site.pcs.conductor_limit_a is None:
        yield Hit(
            f"conductor CTs but no Conductor Limit; for the {num(cts.ocpd_a)} A OCPD set "
            f"{num(cts.ocpd_a)} A x 0.8 = {num(conductor_limit_for_ocpd(cts.ocpd_a))} A "
            "(pcs.conductor_limit_a)",
            ("pcs",),
        )


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
# fmt: off
RULES = (
    Rule("CONDUCTOR-CT-COUNT", E, DOC, OVERVIEW, "A Conductor Limit is measured by two CTs.",
         "conductor_cts.count == 2", ct_count),
    Rule("CONDUCTOR-CT-ORIENTATION", E, DOC, INSTALLING,
         "Conductor CTs are oriented like the site CTs (label toward the grid).",
         "conductor_cts.oriented_like_site_cts", ct_orientation),
    Rule("CONDUCTOR-LIMIT-OCPD", E, DOC, APPLICATION,
         "The Conductor Limit is not above the OCPD it stands in for.",
         "conductor_limit_a <= ocpd_a", limit_ocpd),
    Rule("CONDUCTOR-LIMIT-CONTINUOUS", W, DOC, APPLICATION,
         "The Conductor Limit is the OCPD's continuous current.",
         "conductor_limit_a <= 0.8 x ocpd_a (40 A -> 32 A)", limit_continuous),
    Rule("CONDUCTOR-CTS-MISSING", W, DOC, OVERVIEW,
         "A set Conductor Limit comes with its CTs and OCPD in the installation section.",
         "pcs.conductor_limit_a => conductor_cts.ocpd_a", cts_missing),
    Rule("CONDUCTOR-LIMIT-UNSET", INFO, DOC, APPLICATION,
         "Conductor CTs without a limit: the value to set.",
         "suggested = 0.8 x ocpd_a", limit_unset),
)
# fmt: on
