"""Power sharing networks: size, the 6 A per unit minimum, circuits, breakers, firmware.

Source: seeds/wall-connector-power-sharing.txt, "Introduction", "Firmware", "Terms",
"Installation Options" and "Power Sharing Commissioning".
"""

from __future__ import annotations

from collections.abc import Iterator

from panelpilot.design.arithmetic import (
    CONTINUOUS_FACTOR,
    J1772_MIN_A,
    MAX_NETWORK_SIZE,
    MIN_SHARING_FIRMWARE,
    parse_version,
    version_text,
)
from panelpilot.design.findings import Design, Hit, Rule, Severity, num
from panelpilot.site.installation import EvCharger

DOC = "wall-connector-power-sharing"
GEN3 = "gen3-wall-connector"


def network_size(d: Design) -> Iterator[Hit]:
    """At most six Wall Connectors in one network."""
    for i, net in enumerate(d.site.networks):
        size = len(d.site.network_members(net.id))
        if size > MAX_NETWORK_SIZE:
            yield Hit(
                f"network {net.id!r} has {size} units; a power sharing network holds at most "
                f"{MAX_NETWORK_SIZE}",
                ("networks", i),
            )


def leader_and_followers(d: Design) -> Iterator[Hit]:
    """A network is one leader and at least one follower."""
    for i, net in enumerate(d.site.networks):
        size = len(d.site.network_members(net.id))
        if size < 2:
            yield Hit(
                f"network {net.id!r} has {size} unit(s); a network is a leader and followers",
                ("networks", i),
            )


def minimum_per_unit(d: Design) -> Iterator[Hit]:
    """The network limit gives every unit at least 6 A."""
    for i, net in enumerate(d.site.networks):
        members = d.site.network_members(net.id)
        if net.network_limit_a is None or not members:
            continue
        mins = [max(c.min_a, J1772_MIN_A) for c in members]
        if net.network_limit_a < sum(mins):
            per = (
                f"{num(mins[0])} A x {len(mins)} units"
                if len(set(mins)) == 1
                else " + ".join(f"{num(m)} A" for m in mins)
            )
            yield Hit(
                f"network {net.id!r}: {num(net.network_limit_a)} A is below {per} = "
                f"{num(sum(mins))} A",
                ("networks", i, "network_limit_a"),
            )


def limit_set(d: Design) -> Iterator[Hit]:
    """An enabled network has a network limit."""
    for i, net in enumerate(d.site.networks):
        if net.enabled and net.network_limit_a is None:
            size = len(d.site.network_members(net.id))
            yield Hit(
                f"network {net.id!r} is enabled with no network current limit; set one of at "
                f"least {num(J1772_MIN_A)} A x {size} = {num(J1772_MIN_A * size)} A",
                ("networks", i, "network_limit_a"),
            )


def limit_within_circuit(d: Design) -> Iterator[Hit]:
    """The network limit fits the circuit (panel) that feeds the network."""
    circuits = {c.id: c for c, _ in d.site.all_circuits()}
    for i, net in enumerate(d.site.networks):
        circuit = circuits.get(net.circuit)
        if circuit is None or net.network_limit_a is None:
            continue
        if net.network_limit_a > circuit.limit_a:
            yield Hit(
                f"network {net.id!r}: {num(net.network_limit_a)} A is above the "
                f"{num(circuit.limit_a)} A limit of its circuit {circuit.id!r}; match the panel "
                "capacity or a load calculation",
                ("networks", i, "network_limit_a"),
            )


def _units(d: Design) -> Iterator[tuple[int, EvCharger, float | None]]:
    """Installed chargers with the max current in effect (site charger's max_a if linked)."""
    chargers = {c.id: c for c in d.site.chargers}
    for i, unit in enumerate(d.inst.ev_chargers):
        linked = chargers.get(unit.id) if unit.id else None
        yield i, unit, (linked.max_a if linked else unit.max_a)


def unit_breaker(d: Design) -> Iterator[Hit]:
    """Each unit's max output is within its branch breaker (continuous: 0.8 x breaker)."""
    for i, unit, max_a in _units(d):
        if max_a is None or unit.breaker_a is None:
            continue
        allowed = CONTINUOUS_FACTOR * unit.breaker_a
        if max_a > allowed + 1e-9:
            yield Hit(
                f"charger {unit.id or i + 1}: max {num(max_a)} A is above {num(unit.breaker_a)} A "
                f"breaker x 0.8 = {num(allowed)} A continuous",
                ("installation", "ev_chargers", i, "max_a"),
            )


def _members(d: Design) -> set[str]:
    return {c.id for c in d.site.chargers if c.network is not None}


def firmware(d: Design) -> Iterator[Hit]:
    """A Gen 3 Wall Connector in a network runs firmware 21.18.0 or higher."""
    members = _members(d)
    need = version_text(MIN_SHARING_FIRMWARE)
    for i, unit, _ in _units(d):
        in_network = unit.id in members if unit.id else bool(d.site.networks)
        if unit.model != GEN3 or unit.firmware is None or not in_network:
            continue
        version = parse_version(unit.firmware)
        if version is None or version < MIN_SHARING_FIRMWARE:
            yield Hit(
                f"charger {unit.id or i + 1}: firmware {unit.firmware} is below {need}, needed "
                "for power sharing; connect it to Wi-Fi to update",
                ("installation", "ev_chargers", i, "firmware"),
            )


def firmware_unknown(d: Design) -> Iterator[Hit]:
    """A network member's firmware is stated, so it can be checked."""
    members = _members(d)
    for i, unit, _ in _units(d):
        if unit.model == GEN3 and unit.firmware is None and unit.id in members:
            yield Hit(
                f"charger {unit.id}: firmware not given; power sharing needs "
                f"{version_text(MIN_SHARING_FIRMWARE)} or higher",
                ("installation", "ev_chargers", i),
            )


E, W = Severity.ERROR, Severity.WARNING
# fmt: off
RULES = (
    Rule("SHARING-SIZE", E, DOC, "Introduction", "At most six Wall Connectors per network.",
         "network size <= 6", network_size),
    Rule("SHARING-LEADER-FOLLOWERS", W, DOC, "Terms",
         "A network is one leader and one or more followers.", "network size >= 2",
         leader_and_followers),
    Rule("SHARING-MIN-6A", E, DOC, "Power Sharing Commissioning",
         "The network limit gives every unit at least 6 A.",
         "network_limit_a >= 6 A x size (or the sum of min_a when higher)", minimum_per_unit),
    Rule("SHARING-LIMIT-SET", E, DOC, "Power Sharing Commissioning",
         "An enabled network has a network limit.", "enabled => network_limit_a is set",
         limit_set),
    Rule("SHARING-LIMIT-CIRCUIT", E, DOC, "Installation Options",
         "The network limit fits the circuit feeding the network.",
         "network_limit_a <= limit_a of the network's circuit", limit_within_circuit),
    Rule("SHARING-UNIT-BREAKER", E, DOC, "Terms",
         "Each unit's max output is within its branch circuit breaker (NEC continuous load).",
         "max_a <= 0.8 x breaker_a", unit_breaker),
    Rule("SHARING-FIRMWARE", E, DOC, "Firmware",
         "Gen 3 Wall Connectors in a network run firmware 21.18.0 or higher.",
         "firmware >= 21.18.0", firmware),
    Rule("SHARING-FIRMWARE-UNKNOWN", W, DOC, "Firmware",
         "A network member's firmware is stated so it can be checked.",
         "ev_chargers[i].firmware is set", firmware_unknown),
)
# fmt: on
