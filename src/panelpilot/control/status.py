"""Statuses as the seed's pages show them: per charger, per network, per circuit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

from panelpilot.control.later import Later
from panelpilot.control.state import ChargerMemory, NetworkMemory, firm_a
from panelpilot.control.topology import Topology
from panelpilot.control.types import (
    ChargerDecision,
    ChargerReading,
    ChargerStatus,
    CircuitState,
    NetworkState,
    NetworkStatus,
    Snapshot,
)
from panelpilot.field import DRAWING_A
from panelpilot.site.model import Site


def charger_status(
    mem: ChargerMemory,
    online: bool,
    paused: bool,
    target_a: float,
    reading: ChargerReading | None,
    resolution_a: float,
) -> ChargerStatus:
    """charging, limited, idle, paused or unresponsive."""
    if not online or reading is None:
        return ChargerStatus.UNRESPONSIVE
    if not reading.connected or mem.idle_car:
        return ChargerStatus.IDLE
    if mem.limit_a <= 0:
        return ChargerStatus.PAUSED if paused or mem.demand_a > 0 else ChargerStatus.IDLE
    if firm_a(mem, 0.0) > mem.limit_a + resolution_a / 2:
        return ChargerStatus.LIMITED
    if reading.current_a < DRAWING_A:
        return ChargerStatus.IDLE
    return ChargerStatus.CHARGING


def network_states(
    networks: Mapping[str, NetworkMemory],
    snap: Snapshot,
    decisions: Mapping[str, ChargerDecision],
    available_a: Mapping[str, float],
) -> dict[str, NetworkState]:
    """The Network Status card: current draw x A / limit A, connections n / size, status."""
    out: dict[str, NetworkState] = {}
    for nid, net in networks.items():
        readings = [snap.chargers.get(m) for m in net.members]
        live = [r for r in readings if r is not None and r.online]
        statuses = {decisions[m].status for m in net.members}
        if not net.enabled:
            status = NetworkStatus.DISABLED
        elif statuses & {ChargerStatus.LIMITED, ChargerStatus.PAUSED}:
            status = NetworkStatus.LIMITED
        elif ChargerStatus.CHARGING in statuses:
            status = NetworkStatus.CHARGING
        else:
            status = NetworkStatus.IDLE
        out[nid] = NetworkState(
            current_a=round(sum(r.current_a for r in live), 3),
            limit_a=net.limit_a or 0.0,
            connections=len(live),
            size=len(net.members),
            status=status,
            enabled=net.enabled,
            available_a=round(available_a.get(nid, net.limit_a or 0.0), 3),
        )
    return out


def allocated_a(
    topology: Topology, decisions: Mapping[str, ChargerDecision], online: Set[str]
) -> dict[str, float]:
    """Per circuit, the sum of the limits of the online chargers below it."""
    own: dict[str, float] = {}
    for cid, charger in topology.chargers.items():
        if cid in online:
            home = charger.circuit
            own[home] = own.get(home, 0.0) + decisions[cid].limit_a
    return topology.roll_up(own)


def circuit_states(
    site: Site,
    topology: Topology,
    meters: Mapping[str, float | None],
    uncontrolled_a: Mapping[str, float],
    allocated: Mapping[str, float],
    available_a: Mapping[str, float],
) -> dict[str, CircuitState]:
    """Every circuit's measured current against its limit, and what chargers were given
    (`allocated`, from `allocated_a`)."""
    out: dict[str, CircuitState] = {}
    margin = site.control.margin_a
    for circuit_id in topology.order:
        circuit = topology.circuits[circuit_id]
        meter = circuit.meter
        current = meters.get(meter) if meter else None
        unc = uncontrolled_a.get(circuit_id, 0.0)
        available = available_a.get(circuit_id)
        if available is None:
            available = circuit.limit_a - (margin + unc if meter else 0.0)
        out[circuit_id] = CircuitState(
            current_a=current,
            limit_a=circuit.limit_a,
            uncontrolled_a=round(unc, 3),
            available_a=round(available, 3),
            allocated_a=round(allocated.get(circuit_id, 0.0), 3),
        )
    return out


def circuit_states_later(
    site: Site,
    topology: Topology,
    meters: Mapping[str, float | None],
    uncontrolled_a: Mapping[str, float],
    allocated: Mapping[str, float],
    room: Sequence[float],
    circuit_k: Mapping[str, int],
) -> Later[CircuitState]:
    """`circuit_states(...)`, made when first read (`Later`): most cycles' circuit figures are
    never read (the simulator reads none; the service reads the last decision's). `room`:
    each constraint's capacity; `circuit_k`: a limited circuit's constraint."""

    def make() -> dict[str, CircuitState]:
        available = {c: room[k] for c, k in circuit_k.items()}
        return circuit_states(site, topology, meters, uncontrolled_a, allocated, available)

    return Later(topology.order, make)
