"""What follows from the site and the settings alone: constraints, fallbacks, memberships.

A *constraint* is a numbered limit a charger sits under: each circuit that has a charger
below it (numbered first, in the site's order, parents first), then each network. `Layout`
holds what the settings fix (each charger's fallback and constraint list, the members of each
constraint, the chargers held at a fixed limit); the controller rebuilds it only when a
setting changes, so a cycle's cost is linear in the number of chargers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from panelpilot.control.settings import fallback_a, membership
from panelpilot.control.state import ControllerState, NetworkMemory
from panelpilot.control.topology import Topology


@dataclass(frozen=True, slots=True)
class Index:
    """The constraint numbers of a site: fixed for the controller's life."""

    circuit_k: Mapping[str, int]  # circuits with a charger below them
    network_k: Mapping[str, int]

    @classmethod
    def of(cls, topology: Topology, networks: Mapping[str, NetworkMemory]) -> Index:
        """Number the circuits that shape something, then the networks."""
        used = {cid for path in topology.paths.values() for cid in path}
        circuit_k = {cid: k for k, cid in enumerate(c for c in topology.order if c in used)}
        base = len(circuit_k)
        return cls(circuit_k, {nid: base + i for i, nid in enumerate(networks)})

    @property
    def size(self) -> int:
        """How many constraints there are."""
        return len(self.circuit_k) + len(self.network_k)


@dataclass(frozen=True, slots=True)
class Layout:
    """What follows from the settings alone."""

    fallbacks: Mapping[str, float]
    constraints: Mapping[str, tuple[int, ...]]
    fixed: Mapping[str, float]  # chargers held at a fixed limit (removed, disabled network)
    members: tuple[tuple[str, ...], ...]  # per constraint, the chargers under it
    circuits: int  # constraints below this number are circuits, the rest networks

    @classmethod
    def of(cls, topology: Topology, index: Index, state: ControllerState) -> Layout:
        """Membership, fallbacks and constraint paths under `state`'s settings."""
        member_of = membership(state)
        fallbacks: dict[str, float] = {}
        constraints: dict[str, tuple[int, ...]] = {}
        fixed: dict[str, float] = {}
        members: list[list[str]] = [[] for _ in range(index.size)]
        for cid in state.chargers:
            nid = member_of.get(cid)
            fallbacks[cid] = fallback_a(topology, state, cid, nid)
            ks = [index.circuit_k[c] for c in topology.paths[cid]]
            enabled = nid is not None and state.networks[nid].enabled
            if nid is not None and enabled:
                ks.append(index.network_k[nid])
            constraints[cid] = tuple(ks)
            for k in ks:
                members[k].append(cid)
            # A removed unit, or a member of a disabled network, runs at its fallback.
            if cid in state.removed or (nid is not None and not enabled):
                fixed[cid] = fallbacks[cid]
        return cls(fallbacks, constraints, fixed, tuple(map(tuple, members)), len(index.circuit_k))


def signature(state: ControllerState) -> tuple[object, ...]:
    """What a `Layout` depends on: equal signatures, equal layouts."""
    return (
        tuple((nid, n.enabled, n.limit_a, n.members) for nid, n in state.networks.items()),
        frozenset(state.removed),
    )
