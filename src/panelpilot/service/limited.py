"""Why a charger is Limited or Paused: the binding constraint, derived from the Decision.

The controller says a charger is `limited` (offered less than its car would draw) or `paused`
(held at 0 for lack of capacity) but not by what. An installer needs the name of the thing
to change, so the read side works it out from what the cycle published, in this order:

1. the charger's own Max output current (the car would take more than the installation allows);
2. a circuit on the charger's path with no room left: `available_a` (its limit less the
   margin, its other loads and offline reservations) against `allocated_a` (the limits of the
   online chargers below it); the tightest one is named, with its other loads;
3. the network's Max network current: its `available_a` against the online members' limits;
4. taking turns: a paused car while current is short waits for its rotation;
5. a raise still on its way (limits rise in steps, into real room only).

The PCS limits (Panel, Conductor, Site Export) curtail batteries and solar, never a charger
(`control/pcs.py`), so they are never a charger's reason. A charger whose car draws less than
it is offered is limited by the car itself, which is said too (status `charging`).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

from panelpilot.control.topology import Topology
from panelpilot.control.types import (
    ChargerDecision,
    ChargerReading,
    ChargerStatus,
    CircuitState,
    NetworkState,
)
from panelpilot.field import DRAWING_A


@dataclass(frozen=True, slots=True)
class LimitReason:
    """What holds a charger below what its car would draw.

    `by` is one of `charger_max`, `circuit`, `network`, `turns`, `ramping`, `car`; `where`
    names the circuit or network when there is one; `text` is the sentence the pages show.
    """

    by: str
    where: str | None
    text: str


@dataclass(frozen=True, slots=True)
class CycleFacts:
    """What one cycle published, as the derivation needs it."""

    topology: Topology
    chargers: Mapping[str, ChargerDecision]
    readings: Mapping[str, ChargerReading]
    circuits: Mapping[str, CircuitState]
    networks: Mapping[str, NetworkState]
    member_of: Mapping[str, str]  # charger id -> network id
    resolution_a: float

    def online(self) -> Set[str]:
        """Chargers that reported this cycle."""
        return {cid for cid, r in self.readings.items() if r.online}


def _amps(value_a: float) -> str:
    return f"{value_a:g}\u00a0A"


def _tightest_circuit(facts: CycleFacts, charger_id: str) -> tuple[str, float] | None:
    """The circuit on the charger's path with the least room, if it has less than a step."""
    best: tuple[str, float] | None = None
    for circuit_id in facts.topology.paths.get(charger_id, ()):
        state = facts.circuits.get(circuit_id)
        if state is None:
            continue
        room = state.available_a - state.allocated_a
        if room < facts.resolution_a and (best is None or room < best[1]):
            best = (circuit_id, room)
    return best


def _network_room(facts: CycleFacts, network_id: str) -> float | None:
    state = facts.networks.get(network_id)
    if state is None or not state.enabled:
        return None
    online = facts.online()
    given = sum(
        d.limit_a
        for cid, d in facts.chargers.items()
        if facts.member_of.get(cid) == network_id and cid in online
    )
    return state.available_a - given


def _circuit_reason(facts: CycleFacts, circuit_id: str) -> LimitReason:
    state = facts.circuits[circuit_id]
    others = (
        f", other loads {_amps(round(state.uncontrolled_a, 1))}" if state.uncontrolled_a > 0 else ""
    )
    return LimitReason(
        "circuit",
        circuit_id,
        f"circuit {circuit_id} at its limit ({_amps(state.limit_a)}{others})",
    )


def _network_reason(facts: CycleFacts, network_id: str) -> LimitReason:
    state = facts.networks[network_id]
    return LimitReason(
        "network",
        network_id,
        f"network {network_id} at its Max network current ({_amps(state.limit_a)} "
        f"shared by {state.connections})",
    )


def _shortage(facts: CycleFacts, charger_id: str) -> LimitReason | None:
    """The circuit or network with no room left, the tighter of the two."""
    circuit = _tightest_circuit(facts, charger_id)
    network_id = facts.member_of.get(charger_id)
    room = _network_room(facts, network_id) if network_id else None
    network_binds = room is not None and room < facts.resolution_a
    if circuit is not None and (not network_binds or circuit[1] <= (room or 0.0)):
        return _circuit_reason(facts, circuit[0])
    if network_binds and network_id is not None:
        return _network_reason(facts, network_id)
    return None


def limit_reason(facts: CycleFacts, charger_id: str, max_a: float) -> LimitReason | None:
    """Why the charger gets less than its car would take; None when nothing holds it."""
    decision = facts.chargers.get(charger_id)
    if decision is None:
        return None
    if decision.status is ChargerStatus.CHARGING:
        return _car_reason(facts, charger_id, decision)
    if decision.status not in (ChargerStatus.LIMITED, ChargerStatus.PAUSED):
        return None
    if decision.limit_a >= max_a - facts.resolution_a / 2 and decision.limit_a > 0:
        return LimitReason("charger_max", None, f"its own Max output current ({_amps(max_a)})")
    if decision.limit_a + facts.resolution_a / 2 < decision.target_a:
        return LimitReason(
            "ramping", None, f"rising to {_amps(decision.target_a)} as room is confirmed"
        )
    shortage = _shortage(facts, charger_id)
    if decision.status is ChargerStatus.PAUSED:
        where = f" on {shortage.text}" if shortage else ""
        return LimitReason(
            "turns",
            shortage.where if shortage else None,
            f"taking turns: paused until its turn, current is short{where}",
        )
    return shortage or LimitReason("turns", None, "sharing: its fair share of what is left")


def _car_reason(
    facts: CycleFacts, charger_id: str, decision: ChargerDecision
) -> LimitReason | None:
    reading = facts.readings.get(charger_id)
    if reading is None or not reading.online or reading.current_a < DRAWING_A:
        return None
    if reading.current_a < decision.limit_a - facts.resolution_a:
        return LimitReason(
            "car",
            None,
            f"the car takes {_amps(round(reading.current_a, 1))} of {_amps(decision.limit_a)}",
        )
    return None


def network_reason(
    facts: CycleFacts, network_id: str, reasons: Mapping[str, LimitReason | None]
) -> LimitReason | None:
    """What limits a network's members: its own limit when that binds, else the reason most
    of its limited members share."""
    room = _network_room(facts, network_id)
    held = [r for r in reasons.values() if r is not None and r.by != "car"]
    if not held:
        return None
    if room is not None and room < facts.resolution_a:
        return _network_reason(facts, network_id)
    counts: dict[str, int] = {}
    for r in held:
        counts[r.text] = counts.get(r.text, 0) + 1
    text = max(counts, key=lambda t: counts[t])
    return next(r for r in held if r.text == text)
