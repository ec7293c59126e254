"""Step 4 of a cycle: how much each constraint has for the chargers that are listening.

A circuit with a meter has its limit less the margin and its uncontrolled load; one without,
its limit; a network, its network limit. From each, the chargers that do not listen are taken
first: a silent charger at the most its commitments allow from now on, a charger that reports
a limit above the one it was given at what it reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from panelpilot.control.commitments import Steps, final_a, peak_a
from panelpilot.control.layout import Index, Layout
from panelpilot.control.leases import Leases
from panelpilot.control.loads import counted_load, per_circuit
from panelpilot.control.state import ChargerMemory, NetworkMemory
from panelpilot.control.tolerances import EPS
from panelpilot.control.topology import Topology
from panelpilot.site.model import ControlSettings


@dataclass(frozen=True, slots=True)
class Reserved:
    """What silent and defiant chargers take from every constraint above them."""

    envelopes: dict[str, Steps]  # silent chargers: what they may draw from now on
    reserves: dict[str, float]  # silent chargers: the most of that
    amounts: tuple[float, ...]  # per constraint


def base_caps(
    index: Index,
    topology: Topology,
    cfg: ControlSettings,
    uncontrolled_a: Mapping[str, float],
    networks: Mapping[str, NetworkMemory],
) -> list[float]:
    """Each constraint's room before reservations (and before an overload is corrected)."""
    caps = [0.0] * index.size
    for circuit_id, k in index.circuit_k.items():
        circuit = topology.circuits[circuit_id]
        if circuit.meter:
            caps[k] = circuit.limit_a - cfg.margin_a - counted_load(uncontrolled_a[circuit_id])
        else:
            caps[k] = circuit.limit_a
    for nid, k in index.network_k.items():
        caps[k] = networks[nid].limit_a or 0.0
    return caps


def overloads(
    index: Index, topology: Topology, cfg: ControlSettings, meters: Mapping[str, float | None]
) -> dict[str, float]:
    """Metered circuits measured above their limit less the margin, and by how much."""
    over: dict[str, float] = {}
    for circuit_id in index.circuit_k:
        circuit = topology.circuits[circuit_id]
        measured = meters.get(circuit.meter) if circuit.meter else None
        room = circuit.limit_a - cfg.margin_a
        if measured is not None and measured > room + EPS:
            over[circuit_id] = measured - room
    return over


def correct_overloads(
    caps: list[float],
    over: Mapping[str, float],
    index: Index,
    topology: Topology,
    chargers: Mapping[str, ChargerMemory],
    online: frozenset[str],
) -> None:
    """A metered circuit over its limit: the chargers below it are lowered by the excess,
    whatever the readings say drew it (the meter is the truth)."""
    given = per_circuit(topology, {cid: chargers[cid].limit_a for cid in online})
    for circuit_id, excess in over.items():
        k = index.circuit_k[circuit_id]
        caps[k] = min(caps[k], max(0.0, given.get(circuit_id, 0.0) - excess))


def reserve(
    layout: Layout,
    leases: Leases,
    topology: Topology,
    chargers: Mapping[str, ChargerMemory],
    online: frozenset[str],
    defiant: Mapping[str, float],
    t: float,
    first_t: float,
) -> Reserved:
    """Reserve each silent charger's envelope peak and each defiant charger's reported limit
    in every constraint above it."""
    amounts = [0.0] * len(layout.members)
    envelopes: dict[str, Steps] = {}
    reserves: dict[str, float] = {}
    for cid, mem in chargers.items():
        if cid in online:
            amount = defiant.get(cid)
            if amount is None:
                continue
        else:
            env = envelopes[cid] = leases.silent_envelope(
                cid, mem, topology.chargers[cid].max_a, layout.fallbacks[cid], t, first_t
            )
            amount = reserves[cid] = peak_a(env)
        for k in layout.constraints[cid]:
            amounts[k] += amount
    return Reserved(envelopes, reserves, tuple(amounts))


def frozen(index: Index, topology: Topology, lost: frozenset[str]) -> frozenset[int]:
    """The constraints below a lost meter: no charger under them is raised."""
    if not lost:
        return frozenset()
    return frozenset(
        k
        for c, k in index.circuit_k.items()
        if any(m in lost for m in topology.metered_ancestors(c))
    )


def fallbacks_beside_silent(
    topology: Topology,
    networks: Mapping[str, NetworkMemory],
    fallbacks: Mapping[str, float],
    envelopes: Mapping[str, Steps],
    online: frozenset[str],
) -> Mapping[str, float]:
    """Fallbacks lowered where silent members still hold a higher one (the network limit was
    lowered while they were away): with them at what they hold, the fallbacks of all members
    still sum to at most the network limit."""
    adjusted: dict[str, float] | None = None
    for net in networks.values():
        if net.limit_a is None:
            continue
        silent = [c for c in net.members if c not in online and c in envelopes]
        if not silent or all(final_a(envelopes[c]) <= fallbacks[c] + EPS for c in silent):
            continue
        present = [c for c in net.members if c in online]
        if not present:
            continue
        held = sum(final_a(envelopes[c]) for c in silent)
        share = math.floor((net.limit_a - held) / len(present) * 10 + 1e-9) / 10
        adjusted = dict(fallbacks) if adjusted is None else adjusted
        for c in present:
            low = topology.chargers[c].min_a
            adjusted[c] = min(fallbacks[c], max(low, share))
    return fallbacks if adjusted is None else adjusted


def capacities(caps: list[float], reserved: Reserved) -> list[float]:
    """Room left for the chargers that listen."""
    return [cap - amount for cap, amount in zip(caps, reserved.amounts, strict=True)]
