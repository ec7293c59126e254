"""The site as index arrays: which device is below which circuit, which charger in which network.

Everything per step is then a matrix product (`circuit current = below @ device currents`)
instead of a walk over the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from panelpilot.site import Site

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def fair_limit_a(network_limit_a: float, size: int, min_a: float, max_a: float) -> float:
    """Seed: "Fallback (Fair) Limit" = network limit / network size, bounded to the unit."""
    return min(max(network_limit_a / size, min_a), max_a)


@dataclass(frozen=True)
class Topology:
    """Index arrays of one site."""

    circuit_ids: list[str]
    circuit_limit_a: FloatArray
    ancestors: FloatArray  # [c, a] = 1 when a is c or above it
    charger_ids: list[str]
    charger_circuit: IntArray
    charger_max_a: FloatArray
    fair_a: FloatArray  # each charger's fallback (fair) limit
    battery_ids: list[str]
    battery_circuit: IntArray
    solar_ids: list[str]
    solar_circuit: IntArray
    solar_controllable: BoolArray
    network_ids: list[str]
    network_limit_a: FloatArray
    network_members: FloatArray  # [n, charger] = 1 when the charger is in the network
    meter_circuit: dict[str, int]
    breaker_circuits: IntArray
    breaker_ratings_a: list[float]

    def below(self, device_circuit: IntArray) -> FloatArray:
        """[c, d] = 1 when device d sits on circuit c or anywhere below it."""
        return self.ancestors[device_circuit].T.copy()

    def energized(self, tripped_circuits: BoolArray) -> BoolArray:
        """Circuits with no open breaker on themselves or above them."""
        return ~((self.ancestors @ tripped_circuits.astype(np.float64)) > 0)


def _fallbacks(site: Site) -> list[float]:
    nets = {n.id: n for n in site.networks}
    out = []
    for ch in site.chargers:
        net = nets.get(ch.network) if ch.network else None
        if net is not None and net.network_limit_a is not None:
            size = len(site.network_members(net.id))
            out.append(fair_limit_a(net.network_limit_a, size, ch.min_a, ch.max_a))
        else:
            out.append(ch.fallback_a if ch.fallback_a is not None else ch.min_a)
    return out


def topology_of(site: Site) -> Topology:
    """Index a site for the simulator."""
    circuits = [c for c, _ in site.all_circuits()]
    index = {c.id: i for i, c in enumerate(circuits)}
    parent = {child.id: c.id for c in circuits for child in c.children}
    n = len(circuits)
    ancestors = np.zeros((n, n))
    for c in circuits:
        node: str | None = c.id
        while node is not None:
            ancestors[index[c.id], index[node]] = 1.0
            node = parent.get(node)
    members = np.zeros((len(site.networks), len(site.chargers)))
    for j, ch in enumerate(site.chargers):
        for k, net in enumerate(site.networks):
            if ch.network == net.id:
                members[k, j] = 1.0
    meter_circuit = {c.meter: index[c.id] for c in circuits if c.meter}
    for meter in site.meter_ids():
        # A meter named only in the PCS section is taken to measure the service (the root).
        meter_circuit.setdefault(meter, 0)
    with_breaker = [i for i, c in enumerate(circuits) if c.breaker_a is not None]
    return Topology(
        circuit_ids=[c.id for c in circuits],
        circuit_limit_a=np.array([c.limit_a for c in circuits]),
        ancestors=ancestors,
        charger_ids=[c.id for c in site.chargers],
        charger_circuit=np.array([index[c.circuit] for c in site.chargers], dtype=np.int64),
        charger_max_a=np.array([c.max_a for c in site.chargers], dtype=np.float64),
        fair_a=np.array(_fallbacks(site), dtype=np.float64),
        battery_ids=[b.id for b in site.batteries],
        battery_circuit=np.array([index[b.circuit] for b in site.batteries], dtype=np.int64),
        solar_ids=[s.id for s in site.solar],
        solar_circuit=np.array([index[s.circuit] for s in site.solar], dtype=np.int64),
        solar_controllable=np.array([s.controllable for s in site.solar], dtype=bool),
        network_ids=[n.id for n in site.networks],
        network_limit_a=np.array(
            [n.network_limit_a if n.network_limit_a is not None else np.inf for n in site.networks]
        ),
        network_members=members,
        meter_circuit=meter_circuit,
        breaker_circuits=np.array(with_breaker, dtype=np.int64),
        breaker_ratings_a=[float(circuits[i].breaker_a or 0.0) for i in with_breaker],
    )
