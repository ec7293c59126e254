"""The shape of a site, precomputed once: which circuits feed which, and charger paths."""

from __future__ import annotations

from dataclasses import dataclass

from panelpilot.site.model import Charger, Circuit, Site


@dataclass(frozen=True)
class Topology:
    """Parents, depth-first order and per-charger circuit paths of a site."""

    circuits: dict[str, Circuit]
    parents: dict[str, str | None]
    order: tuple[str, ...]  # parents before children
    paths: dict[str, tuple[str, ...]]  # charger id -> its circuit, then each ancestor
    chargers: dict[str, Charger]
    network_circuits: dict[str, str]  # network id -> the circuit it shares
    metered: tuple[str, ...] = ()  # circuits with a meter, in `order`
    voltage_v: float = 240.0  # the site's nominal voltage (energy to current)

    @classmethod
    def of(cls, site: Site) -> Topology:
        """Precompute the topology of a validated site."""
        circuits: dict[str, Circuit] = {}
        parents: dict[str, str | None] = {}
        order: list[str] = []
        for root in site.circuits:
            parents[root.id] = None
            for circuit, _ in root.walk():
                circuits[circuit.id] = circuit
                order.append(circuit.id)
                for child in circuit.children:
                    parents[child.id] = circuit.id
        paths: dict[str, tuple[str, ...]] = {}
        for charger in site.chargers:
            path: list[str] = []
            node: str | None = charger.circuit
            while node is not None:
                path.append(node)
                node = parents[node]
            paths[charger.id] = tuple(path)
        return cls(
            circuits,
            parents,
            tuple(order),
            paths,
            {c.id: c for c in site.chargers},
            {n.id: n.circuit for n in site.networks},
            tuple(cid for cid in order if circuits[cid].meter),
            site.voltage_v,
        )

    def roll_up(self, own_a: dict[str, float]) -> dict[str, float]:
        """Totals per circuit including everything below it, from amounts on each circuit."""
        total = {cid: own_a.get(cid, 0.0) for cid in self.order}
        for cid in reversed(self.order):  # children come after their parents in `order`
            parent = self.parents[cid]
            if parent is not None:
                total[parent] += total[cid]
        return total

    def within(self, circuit_id: str, ancestor_id: str) -> bool:
        """True when `circuit_id` is `ancestor_id` or is fed from it."""
        node: str | None = circuit_id
        while node is not None:
            if node == ancestor_id:
                return True
            node = self.parents.get(node)
        return False

    def metered_ancestors(self, circuit_id: str) -> tuple[str, ...]:
        """Meters on the circuit and every circuit above it (a loss there freezes raises)."""
        meters: list[str] = []
        node: str | None = circuit_id
        while node is not None:
            meter = self.circuits[node].meter
            if meter:
                meters.append(meter)
            node = self.parents[node]
        return tuple(meters)
