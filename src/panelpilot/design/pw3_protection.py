"""Powerwall 3 overcurrent protection (breaker or RK1 fuse) and fault-current ratings.

Source: seeds/powerwall-3-design-considerations.txt, section "System Tie-in" (Table 1, the
fuse list, the fault-current paragraphs).
"""

from __future__ import annotations

from collections.abc import Iterator

from panelpilot.design.arithmetic import (
    DEFAULT_OUTPUT_A,
    OFF_GRID_BOOST,
    OFF_GRID_BOOST_NEEDS_A,
    ON_GRID_OPTIONS,
    RK1_FUSES,
    fault_rating,
    option_for,
    required_ocpd_a,
)
from panelpilot.design.findings import Design, Hit, Rule, Severity, num
from panelpilot.design.pw3_configurations import RELAY_NAMES

DOC = "powerwall-3-design-considerations"
TIE_IN = "System Tie-in"
TABLE_1 = "System Tie-in, Table 1"
FUSES = "System Tie-in, RK1 fuses"
FAULT = "System Tie-in, fault current"
BATTERIES = ("installation", "batteries")


def _pw3(d: Design) -> list[tuple[int, float, bool]]:
    """(index, output setting, off-grid boost) of every Powerwall 3 unit."""
    return [
        (i, u.max_continuous_a or DEFAULT_OUTPUT_A, u.off_grid_boost)
        for i, u in d.units("powerwall-3")
    ]


def ocpd_required(d: Design) -> Iterator[Hit]:
    """Every Powerwall 3 ties in through an OCPD (NEC 705.12)."""
    for i, unit in d.units("powerwall-3"):
        if unit.ocpd is None:
            needed = required_ocpd_a(unit.max_continuous_a or DEFAULT_OUTPUT_A, unit.off_grid_boost)
            hint = f" ({num(needed)} A for its output setting)" if needed else ""
            yield Hit(
                f"Powerwall 3 #{i + 1} has no overcurrent protection; an OCPD is always "
                f"required{hint}",
                (*BATTERIES, i, "ocpd"),
            )


def output_option(d: Design) -> Iterator[Hit]:
    """The output setting is one of Table 1's options."""
    listed = ", ".join(f"{num(o.max_continuous_a)} A" for o in ON_GRID_OPTIONS)
    for i, setting, _ in _pw3(d):
        if option_for(setting) is None:
            yield Hit(
                f"Powerwall 3 #{i + 1}: {num(setting)} A is not an output option ({listed})",
                (*BATTERIES, i, "max_continuous_a"),
            )


def ocpd_size(d: Design) -> Iterator[Hit]:
    """The OCPD rating is the one Table 1 requires for the output setting."""
    for i, setting, boost in _pw3(d):
        ocpd = d.inst.batteries[i].ocpd
        needed = required_ocpd_a(setting, boost)
        if ocpd is None or needed is None or abs(ocpd.rating_a - needed) < 0.05:
            continue
        if boost:
            why = f"off-grid {num(OFF_GRID_BOOST.max_continuous_a)} A / 15.4 kW"
        else:
            option = option_for(setting)
            kw = f" / {num(option.output_kw)} kW" if option else ""
            why = f"{num(setting)} A{kw}"
        yield Hit(
            f"Powerwall 3 #{i + 1}: {num(ocpd.rating_a)} A {ocpd.kind}; {why} requires "
            f"{num(needed)} A",
            (*BATTERIES, i, "ocpd", "rating_a"),
        )


def off_grid_boost(d: Design) -> Iterator[Hit]:
    """The 15.4 kW off-grid option needs the 11.5 kW (48 A) on-grid rating."""
    for i, setting, boost in _pw3(d):
        if boost and abs(setting - OFF_GRID_BOOST_NEEDS_A) >= 0.05:
            yield Hit(
                f"Powerwall 3 #{i + 1}: off-grid 15.4 kW needs the 11.5 kW on-grid rating "
                f"({num(OFF_GRID_BOOST_NEEDS_A)} A), not {num(setting)} A",
                (*BATTERIES, i, "off_grid_boost"),
            )


def fuse_rk1(d: Design) -> Iterator[Hit]:
    """A fuse used as the OCPD is Class RK1 fast-acting."""
    for i, unit in d.units("powerwall-3"):
        ocpd = unit.ocpd
        if ocpd and ocpd.kind == "fuse" and (ocpd.fuse_class or "").upper() != "RK1":
            shown = f"class {ocpd.fuse_class}" if ocpd.fuse_class else "a fuse of unstated class"
            yield Hit(
                f"Powerwall 3 #{i + 1}: {shown}; a fuse OCPD must be Class RK1 fast-acting, "
                ">= 250 VAC",
                (*BATTERIES, i, "ocpd", "fuse_class"),
            )


def _part_rating(part: str) -> float | None:
    wanted = part.strip().upper()
    for rating, parts in RK1_FUSES.items():
        if wanted in parts:
            return rating
    return None


def fuse_part(d: Design) -> Iterator[Hit]:
    """A fuse part not on the list must be an equivalent RK1 fast-acting fuse."""
    for i, unit in d.units("powerwall-3"):
        ocpd = unit.ocpd
        if ocpd and ocpd.kind == "fuse" and ocpd.part and _part_rating(ocpd.part) is None:
            listed = ", ".join(RK1_FUSES.get(ocpd.rating_a, ()))
            yield Hit(
                f"Powerwall 3 #{i + 1}: fuse {ocpd.part} is not a listed part"
                + (f" ({num(ocpd.rating_a)} A: {listed})" if listed else "")
                + "; confirm it is an equivalent Class RK1 fast-acting, >= 250 VAC fuse",
                (*BATTERIES, i, "ocpd", "part"),
            )


def fuse_part_rating(d: Design) -> Iterator[Hit]:
    """A listed fuse part has the rating the file says."""
    for i, unit in d.units("powerwall-3"):
        ocpd = unit.ocpd
        rating = _part_rating(ocpd.part) if ocpd and ocpd.kind == "fuse" and ocpd.part else None
        if ocpd and ocpd.part and rating is not None and abs(rating - ocpd.rating_a) >= 0.05:
            yield Hit(
                f"Powerwall 3 #{i + 1}: fuse {ocpd.part} is rated {num(rating)} A, the file "
                f"says {num(ocpd.rating_a)} A",
                (*BATTERIES, i, "ocpd", "part"),
            )


def _rating(d: Design) -> tuple[str, float, str] | None:
    relay = d.inst.site_relay
    if relay is None or not d.inst.batteries:
        return None
    main = d.inst.service.main_breaker
    found = fault_rating(
        relay.type,
        relay.j_class_fuse_upstream,
        main.family if main else None,
        main.interrupting_ka if main else None,
    )
    return RELAY_NAMES[relay.type], found.rating_ka, found.condition


def fault_current(d: Design) -> Iterator[Hit]:
    """The available fault current is within the relay's rating in this installation."""
    rated = _rating(d)
    available = d.inst.service.available_fault_current_ka
    if rated is None or available is None:
        return
    name, rating_ka, condition = rated
    if available > rating_ka:
        yield Hit(
            f"{num(available)} kA available fault current is above {num(rating_ka)} kA, the "
            f"rating of {name} ({condition}); options: J-class fuse upstream (Backup Gateway 2, "
            "22 kA), a 22 kA main breaker (Backup Switch, 22 kA), Eaton CSR/BWH (Gateway 3, "
            "25 kA) or Square D QO (Gateway 3, 22 kA) main breaker",
            ("installation", "service", "available_fault_current_ka"),
        )


def fault_current_unknown(d: Design) -> Iterator[Hit]:
    """The available fault current is stated, so the rating can be checked."""
    rated = _rating(d)
    if rated is not None and d.inst.service.available_fault_current_ka is None:
        name, rating_ka, condition = rated
        yield Hit(
            f"available fault current not given; {name} {condition} is rated {num(rating_ka)} kA",
            ("installation", "service"),
        )


E, W = Severity.ERROR, Severity.WARNING
# fmt: off
RULES = (
    Rule("OCPD-REQUIRED", E, DOC, TIE_IN, "Every Powerwall 3 ties in through an OCPD (705.12).",
         "batteries[i].ocpd is set", ocpd_required),
    Rule("OCPD-OPTION", E, DOC, TABLE_1,
         "The output setting is one of Table 1's maximum continuous current options.",
         "max_continuous_a in {48, 41.7, 31.7, 24} A", output_option),
    Rule("OCPD-SIZE", E, DOC, TABLE_1,
         "The OCPD is the size Table 1 requires for the output setting.",
         "48 A (11.5 kW) -> 60 A; 41.7 A (10 kW) -> 60 A; 31.7 A (7.6 kW) -> 40 A; "
         "24 A (5.8 kW) -> 30 A; off-grid 64 A (15.4 kW) -> 80 A", ocpd_size),
    Rule("OCPD-OFF-GRID", E, DOC, TABLE_1,
         "The 15.4 kW off-grid option needs the 11.5 kW on-grid rating.",
         "off_grid_boost => max_continuous_a == 48 A", off_grid_boost),
    Rule("FUSE-RK1", E, DOC, FUSES, "A fuse OCPD is Class RK1 fast-acting, >= 250 VAC.",
         "ocpd.kind == fuse => fuse_class == RK1", fuse_rk1),
    Rule("FUSE-PART", W, DOC, FUSES,
         "A fuse part not on the list must be a confirmed equivalent.",
         "part in KLNR0xx, KTN-R-xx, A2KxxR (xx = 80, 60, 40, 30 A)", fuse_part),
    Rule("FUSE-PART-RATING", E, DOC, FUSES, "A listed fuse part matches the stated rating.",
         "rating(part) == ocpd.rating_a", fuse_part_rating),
    Rule("FAULT-CURRENT", E, DOC, FAULT,
         "Available fault current within the relay's rating in this installation.",
         "10 kA base; Backup Gateway 2 + J-class fuse 22 kA; Backup Switch + >= 22 kA main "
         "breaker 22 kA; Gateway 3 + Eaton CSR/BWH 25 kA, + Square D QO 22 kA", fault_current),
    Rule("FAULT-CURRENT-UNKNOWN", W, DOC, FAULT,
         "The available fault current is stated so its rating can be checked.",
         "service.available_fault_current_ka is set", fault_current_unknown),
)
# fmt: on
