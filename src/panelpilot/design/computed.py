"""The helpful numbers of a design, each with the arithmetic that produced it.

Allowed backfeed by the 120 % rule, the OCPD each Powerwall 3 needs, the Conductor Limit for an
OCPD, a suggested Panel Limit, each network's fallback limit per unit, the fault-current rating.
"""

from __future__ import annotations

from panelpilot.design.arithmetic import (
    DEFAULT_OUTPUT_A,
    OFF_GRID_BOOST,
    ON_GRID_OPTIONS,
    allowed_backfeed_breaker_a,
    conductor_limit_for_ocpd,
    continuous_a,
    fallback_a,
    fault_rating,
    option_for,
    required_ocpd_a,
    suggested_panel_limit_a,
)
from panelpilot.design.backfeed import backfeed_of
from panelpilot.design.findings import Design, num
from panelpilot.design.pw3_configurations import RELAY_NAMES
from panelpilot.site.installation import Panel

Json = dict[str, object]


def _site_panels(d: Design) -> tuple[Panel, ...]:
    """Panels from the installation section, else the circuits that give a busbar rating
    (then only the allowed backfeed and the Panel Limit suggestion are known)."""
    if d.inst.panels:
        return d.inst.panels
    return tuple(
        Panel(id=c.id, busbar_a=c.busbar_a, main_breaker_a=c.breaker_a)
        for c, _ in d.site.all_circuits()
        if c.busbar_a is not None
    )


def panels(d: Design) -> list[Json]:
    """Per panel: the 120 % rule, the allowed backfeed breaker and a suggested Panel Limit."""
    ratings = tuple(p.busbar_a for p in d.inst.panels if p.pcs_controlled)
    out: list[Json] = []
    listed = bool(d.inst.panels)
    for panel in _site_panels(d):
        main = panel.main_breaker_a or 0.0
        allowed = allowed_backfeed_breaker_a(panel.busbar_a, main)
        calc = backfeed_of(d, panel)
        suggested = suggested_panel_limit_a(panel.busbar_a, ratings)
        out.append(
            {
                "id": panel.id,
                "busbar_a": panel.busbar_a,
                "main_breaker_a": panel.main_breaker_a,
                "allowed_supply_a": calc.allowed_a,
                "allowed_backfeed_breaker_a": allowed,
                "allowed_backfeed_continuous_a": continuous_a(allowed),
                "backfeed_arithmetic": (
                    f"{num(panel.busbar_a)} A x 1.2 - {num(main)} A main = {num(allowed)} A "
                    f"breaker; x 0.8 = {num(continuous_a(allowed))} A continuous"
                ),
                "counted_supply_a": calc.total_a if listed else None,
                "supply_arithmetic": calc.arithmetic() if listed else None,
                "passes_120_percent": calc.passes if listed else None,
                "covered_by_panel_limit": calc.covered_by_panel_limit,
                "suggested_panel_limit_a": suggested,
                "panel_limit_arithmetic": (
                    f"0.8 x {num(panel.busbar_a)} A busbar = {num(continuous_a(panel.busbar_a))}"
                    f" A, kept within 10..200 A and controlled panel ratings -> {num(suggested)} A"
                ),
            }
        )
    return out


def batteries(d: Design) -> list[Json]:
    """Per Powerwall 3: its output option and the OCPD Table 1 requires."""
    out: list[Json] = []
    for i, unit in d.units("powerwall-3"):
        setting = unit.max_continuous_a or DEFAULT_OUTPUT_A
        option = OFF_GRID_BOOST if unit.off_grid_boost else option_for(setting)
        out.append(
            {
                "unit": i + 1,
                "max_continuous_a": setting,
                "off_grid_boost": unit.off_grid_boost,
                "output_kw": option.output_kw if option else None,
                "required_ocpd_a": required_ocpd_a(setting, unit.off_grid_boost),
                "ocpd_a": unit.ocpd.rating_a if unit.ocpd else None,
            }
        )
    return out


def output_options() -> list[Json]:
    """Table 1 as data: every output option and its breaker."""
    return [
        {
            "max_continuous_a": o.max_continuous_a,
            "output_kw": o.output_kw,
            "breaker_a": o.breaker_a,
            "grid": o.grid,
        }
        for o in (*ON_GRID_OPTIONS, OFF_GRID_BOOST)
    ]


def conductor(d: Design) -> Json | None:
    """The Conductor Limit for the OCPD it stands in for: 0.8 x OCPD."""
    cts = d.inst.conductor_cts
    if cts is None or cts.ocpd_a is None:
        return None
    limit = conductor_limit_for_ocpd(cts.ocpd_a)
    return {
        "ocpd_a": cts.ocpd_a,
        "conductor_limit_a": limit,
        "arithmetic": f"{num(cts.ocpd_a)} A x 0.8 = {num(limit)} A",
        "set_a": d.site.pcs.conductor_limit_a,
    }


def fault_current(d: Design) -> Json | None:
    """The relay's fault-current rating in this installation."""
    relay = d.inst.site_relay
    if relay is None:
        return None
    main = d.inst.service.main_breaker
    rating = fault_rating(
        relay.type,
        relay.j_class_fuse_upstream,
        main.family if main else None,
        main.interrupting_ka if main else None,
    )
    return {
        "relay": RELAY_NAMES[relay.type],
        "rating_ka": rating.rating_ka,
        "condition": rating.condition,
        "available_ka": d.inst.service.available_fault_current_ka,
    }


def _fallback_text(limit_a: float | None, size: int, fallbacks: dict[str, float]) -> str:
    """`150 A / 4 = 37.5 A per unit`, plus the bounded values when min/max change it."""
    if limit_a is None or not size:
        return ""
    share = limit_a / size
    text = f"{num(limit_a)} A / {size} = {num(share)} A per unit"
    bounded = sorted({v for v in fallbacks.values() if abs(v - round(share, 2)) >= 0.01})
    if bounded:
        text += " (bounded to the unit's min..max: " + ", ".join(f"{num(v)} A" for v in bounded)
        text += ")"
    return text


def networks(d: Design) -> list[Json]:
    """Per sharing network: size, minimum limit (6 A x size) and each unit's fallback."""
    out: list[Json] = []
    for net in d.site.networks:
        members = d.site.network_members(net.id)
        size = len(members)
        fallbacks = (
            {
                c.id: round(fallback_a(net.network_limit_a, size, c.min_a, c.max_a), 2)
                for c in members
            }
            if net.network_limit_a is not None and size
            else {}
        )
        out.append(
            {
                "id": net.id,
                "size": size,
                "network_limit_a": net.network_limit_a,
                "minimum_limit_a": sum(c.min_a for c in members),
                "fallback_a": fallbacks,
                "fallback_arithmetic": _fallback_text(net.network_limit_a, size, fallbacks),
            }
        )
    return out


def computed(d: Design) -> Json:
    """Every helpful number of the design, JSON-ready."""
    return {
        "panels": panels(d),
        "batteries": batteries(d),
        "output_options": output_options(),
        "conductor": conductor(d),
        "fault_current": fault_current(d),
        "networks": networks(d),
    }
