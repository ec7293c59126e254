"""Powerwall 3 system tie-in: relays, service and voltage, taps, other sources, backup loads.

Source: seeds/powerwall-3-design-considerations.txt, section "System Tie-in".
"""

from __future__ import annotations

from collections.abc import Iterator

from panelpilot.design.arithmetic import (
    BACKUP_SWITCH_SOCKET,
    BACKUP_VOLTAGE,
    DEFAULT_OUTPUT_A,
    MAX_SERVICE_A,
)
from panelpilot.design.findings import Design, Hit, Rule, Severity, num
from panelpilot.design.pw3_configurations import RELAY_NAMES

DOC = "powerwall-3-design-considerations"
TIE_IN = "System Tie-in"
GATEWAYS = ("backup-gateway-2", "gateway-3")
RELAY = ("installation", "site_relay")
SERVICE = ("installation", "service")


def tesla_only(d: Design) -> Iterator[Hit]:
    """No third-party equipment in place of a Tesla relay."""
    relay = d.inst.site_relay
    if relay is not None and relay.type == "other" and d.inst.batteries:
        yield Hit(
            "a third-party site relay; only a Backup Switch, Backup Gateway 2 or Gateway 3 may "
            "be used with Powerwall",
            (*RELAY, "type"),
        )


def backup_switch_service(d: Design) -> Iterator[Hit]:
    """Backup Switch: service up to 200 A."""
    relay, service = d.inst.site_relay, d.inst.service
    if relay and relay.type == "backup-switch" and service.rating_a is not None:
        if service.rating_a > MAX_SERVICE_A:
            yield Hit(
                f"{num(service.rating_a)} A service; Backup Switch is for services up to "
                f"{num(MAX_SERVICE_A)} A",
                (*SERVICE, "rating_a"),
            )


def backup_switch_socket(d: Design) -> Iterator[Hit]:
    """Backup Switch: a Form 2S meter socket."""
    relay, socket = d.inst.site_relay, d.inst.service.meter_socket
    if relay and relay.type == "backup-switch" and socket is not None:
        if socket.strip().upper() != BACKUP_SWITCH_SOCKET:
            yield Hit(
                f"meter socket {socket!r}; Backup Switch needs a Form {BACKUP_SWITCH_SOCKET} "
                "meter socket",
                (*SERVICE, "meter_socket"),
            )


def backup_voltage(d: Design) -> Iterator[Hit]:
    """A backup system is on 120/240 V single/split-phase service only."""
    voltage = d.inst.service.voltage
    if d.inst.backup and d.inst.batteries and voltage.replace(" ", "") != BACKUP_VOLTAGE:
        yield Hit(
            f"{voltage} V service; backup systems need {BACKUP_VOLTAGE} V single/split-phase",
            (*SERVICE, "voltage"),
        )


MULTIPLE_GATEWAYS = (
    "a site with service equipment above 200 A uses multiple Backup Gateways (Tesla application "
    'note "Multiple Backup Gateways on a Single Site", Partner Portal)'
)


def gateway_service(d: Design) -> Iterator[Hit]:
    """A gateway: a service rated 200 A or less; only when the service has no rating, at most
    200 A of loads behind it. Downstream loads never excuse a rated service above 200 A."""
    relay, rating = d.inst.site_relay, d.inst.service.rating_a
    if relay is None or relay.type not in GATEWAYS:
        return
    name, loads = RELAY_NAMES[relay.type], relay.downstream_loads_a
    if rating is not None:
        if rating > MAX_SERVICE_A:
            yield Hit(_rated_over(rating, loads, name), (*SERVICE, "rating_a"))
        return
    if loads is None or loads > MAX_SERVICE_A:
        behind = f"{num(loads)} A of loads" if loads is not None else "no load calculation"
        yield Hit(
            f"no service rating and {behind} behind the {name}; without a service rating it "
            f"needs at most {num(MAX_SERVICE_A)} A of downstream loads by NEC load calculation; "
            + MULTIPLE_GATEWAYS,
            (*RELAY, "downstream_loads_a") if loads is not None else (*SERVICE, "rating_a"),
        )


def _rated_over(rating: float, loads: float | None, name: str) -> str:
    """The message for a gateway on a rated service above 200 A."""
    text = (
        f"{num(rating)} A service with a {name}; a Backup Gateway 2 / Gateway 3 is for a "
        f"service of {num(MAX_SERVICE_A)} A or less"
    )
    if loads is not None:
        text += (
            f" ({num(loads)} A of downstream loads does not change that: the "
            f"{num(MAX_SERVICE_A)} A load allowance applies only when the service has no rating)"
        )
    return f"{text}; {MULTIPLE_GATEWAYS}"


def line_side_tap(d: Design) -> Iterator[Hit]:
    """A gateway is never connected by a line-side tap (NEC 230.82)."""
    relay = d.inst.site_relay
    if relay and relay.type in GATEWAYS and relay.interconnection == "line-side-tap":
        yield Hit(
            f"{RELAY_NAMES[relay.type]} on a line-side tap: loads behind it would be on the "
            "supply side of the service disconnect (NEC 230.82); intercept the service feeders "
            "instead so its main breaker becomes the service disconnect",
            (*RELAY, "interconnection"),
        )


def load_side_tap(d: Design) -> Iterator[Hit]:
    """A gateway is fed by a directly routed feed, not a load-side tap."""
    relay = d.inst.site_relay
    if relay and relay.type in GATEWAYS and relay.interconnection == "load-side-tap":
        yield Hit(
            f"{RELAY_NAMES[relay.type]} on a load-side tap (insulation-piercing connectors): "
            "non-standard, risks failed inspections; use a directly routed feed",
            (*RELAY, "interconnection"),
        )


def backup_switch_tap(d: Design) -> Iterator[Hit]:
    """With a Backup Switch a generation-only panel may be tapped."""
    relay = d.inst.site_relay
    if relay and relay.type == "backup-switch" and relay.interconnection.endswith("-tap"):
        yield Hit(
            "tap with a Backup Switch: allowed for a generation-only panel (no loads behind it); "
            "make sure no loads are downstream of the tapped panel",
            (*RELAY, "interconnection"),
        )


def non_ul1741(d: Design) -> Iterator[Hit]:
    """Sources not listed to UL 1741 are isolated from the Powerwall system."""
    sources = [("ac_solar", i, s.kind, s.ul1741, s.isolated) for i, s in enumerate(d.inst.ac_solar)]
    sources += [
        ("other_sources", i, s.kind, s.ul1741, s.isolated)
        for i, s in enumerate(d.inst.other_sources)
    ]
    for section, i, kind, listed, isolated in sources:
        if d.inst.batteries and not listed and not isolated:
            yield Hit(
                f"{kind} is not listed to UL 1741; Powerwall must not interact with it "
                "(isolate it completely, isolated: true)",
                ("installation", section, i),
            )


def backup_load_supply(d: Design) -> Iterator[Hit]:
    """The Powerwalls can power the largest automatic backup load."""
    units = d.units("powerwall-3")
    loads = [(i, load) for i, load in enumerate(d.inst.backup_loads) if load.automatic]
    if not units or not loads:
        return
    supply = sum(u.max_continuous_a or DEFAULT_OUTPUT_A for _, u in units)
    i, largest = max(loads, key=lambda item: item[1].current_a)
    if largest.current_a > supply:
        parts = " + ".join(num(u.max_continuous_a or DEFAULT_OUTPUT_A) for _, u in units)
        yield Hit(
            f"largest automatic backup load {largest.name!r} draws {num(largest.current_a)} A; "
            f"Powerwall supply is {parts} = {num(supply)} A; add a Powerwall or make the load "
            "manual",
            ("installation", "backup_loads", i, "current_a"),
        )


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
# fmt: off
RULES = (
    Rule("TIE-TESLA-ONLY", E, DOC, TIE_IN,
         "Only a Backup Switch, Backup Gateway 2 or Gateway 3 as the site relay.",
         "site_relay.type != other", tesla_only),
    Rule("TIE-BACKUP-SWITCH-SERVICE", E, DOC, TIE_IN, "Backup Switch: service up to 200 A.",
         "service.rating_a <= 200 A", backup_switch_service),
    Rule("TIE-BACKUP-SWITCH-SOCKET", E, DOC, TIE_IN,
         "Backup Switch: Form 2S meter socket.", "service.meter_socket == 2S",
         backup_switch_socket),
    Rule("TIE-VOLTAGE", E, DOC, TIE_IN,
         "Backup systems on 120/240 V single/split-phase service only.",
         "service.voltage == 120/240", backup_voltage),
    Rule("TIE-GATEWAY-SERVICE", E, DOC, TIE_IN,
         "Backup Gateway 2 / Gateway 3: a service rated 200 A or less; only without a service "
         "rating, at most 200 A of loads behind it by NEC load calculation. Above 200 A: "
         "multiple Backup Gateways.",
         "service.rating_a <= 200 A; no service.rating_a => site_relay.downstream_loads_a <= "
         "200 A", gateway_service),
    Rule("TIE-LINE-SIDE-TAP", E, DOC, TIE_IN,
         "Backup Gateway 2 / Gateway 3 never on a line-side tap (NEC 230.82).",
         "interconnection != line-side-tap", line_side_tap),
    Rule("TIE-LOAD-SIDE-TAP", E, DOC, TIE_IN,
         "Backup Gateway 2 / Gateway 3 fed by a directly routed feed, not a load-side tap.",
         "interconnection != load-side-tap", load_side_tap),
    Rule("TIE-BACKUP-SWITCH-TAP", INFO, DOC, TIE_IN,
         "A tap with a Backup Switch is allowed for a generation-only panel.",
         "", backup_switch_tap),
    Rule("TIE-NON-UL1741", E, DOC, TIE_IN,
         "Storage or generation not listed to UL 1741 is completely isolated from Powerwall.",
         "ul1741 or isolated", non_ul1741),
    Rule("BACKUP-LOAD-SUPPLY", W, DOC, TIE_IN,
         "Total Powerwall 3 output can power the largest automatic backup load.",
         "max(automatic backup load current_a) <= sum(max_continuous_a of Powerwall 3 units)",
         backup_load_supply),
)
# fmt: on
