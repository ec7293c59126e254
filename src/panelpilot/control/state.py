"""The controller's memory, as frozen records: what it has told each charger and why.

Everything the controller needs from one cycle to the next lives here. Records are never
changed in place: each step of a cycle returns new ones (the same object where nothing
changed, so "did anything change?" is an identity test), and `Controller.decide` is the only
place that puts a new state in force. A state can be shared with other threads, inspected,
serialised and replayed without copying.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from panelpilot.control.commitments import Commitment
from panelpilot.control.pcs_law import PcsMemory
from panelpilot.site.model import Site


class ChargerMemory(NamedTuple):
    """One charger, as the controller remembers it. A named tuple rather than a frozen
    dataclass: a cycle makes a new one for every charger that changes, and a tuple is built
    ten times faster; it is just as immutable (`_replace` gives a changed copy)."""

    limit_a: float = 0.0  # last limit given (or reserved while it is silent)
    hold_a: float = 0.0  # what it may still draw while a decrease settles
    hold_until_t: float = float("-inf")
    changed_t: float = float("-inf")  # when its limit last changed
    demand_a: float = 0.0  # estimated draw if offered more
    capped_since_t: float | None = None  # demand capped near its real draw since then
    probes_unused: int = 0  # probes in a row it did not take (each doubles the next wait)
    probing: bool = False  # offered its headroom back by a probe; the next settled reading tells
    probe_t: float = float("-inf")  # when the probe began (a raise it waits for comes later)
    able_a: float = float("inf")  # the most the car was seen able to draw (inf: not seen)
    charged: bool = False  # the car has drawn current since it was plugged in
    connected: bool = False
    plugged_t: float = float("-inf")  # when the car was first seen plugged in (-inf: not yet)
    admitted: bool = False  # holds a turn (not paused)
    turn_since_t: float = 0.0  # when it last was admitted or paused
    idle_car: bool = False  # a car that is plugged in but does not draw
    defiant_since_t: float | None = None  # reports a limit above the one it was given
    # Every commitment it holds or may hold, oldest first; the last is the newest sent
    # (`limit_a` until its `until_t`, then its fallback).
    held: tuple[Commitment, ...] = ()

    @property
    def lease_until_t(self) -> float:
        """When the newest commitment's lease ends (-inf: none sent yet)."""
        return self.held[-1].until_t if self.held else float("-inf")


@dataclass(frozen=True, slots=True)
class NetworkMemory:
    """A power sharing network's settings, which change only while it is disabled."""

    enabled: bool
    limit_a: float | None
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ControllerState:
    """All of the controller's memory."""

    t: float | None = None
    chargers: Mapping[str, ChargerMemory] = field(default_factory=dict)
    networks: Mapping[str, NetworkMemory] = field(default_factory=dict)
    # A charger removed from a network, held at 6 A until power-cycled; the flag says
    # whether it has been seen offline since (the first half of a power cycle).
    removed: Mapping[str, bool] = field(default_factory=dict)
    uncontrolled_a: Mapping[str, float] = field(default_factory=dict)  # per metered circuit
    pcs: PcsMemory = field(default_factory=PcsMemory)  # the batteries' and inverters' caps in force
    online: frozenset[str] = frozenset()  # the chargers that reported in the last cycle
    first_t: float | None = None  # the first cycle's time (commitments of an earlier process)
    # Metered circuits over their limit now, and since when (`report.overload_alerts`).
    over_since: Mapping[str, float] = field(default_factory=dict)


def firm_a(mem: ChargerMemory, min_a: float) -> float:
    """What a car is seen able to draw of its demand: a capped car's draw (its demand less
    the headroom, which it gets only from what is left), else all of its demand."""
    if mem.capped_since_t is None or mem.able_a >= mem.demand_a:
        return mem.demand_a
    return max(min_a, mem.able_a)


def initial_state(
    site: Site, networks: Mapping[str, NetworkMemory] | None = None
) -> ControllerState:
    """The memory of a controller that has seen nothing yet: the site file's network
    settings, or `networks` where given (stored settings restored at start)."""
    chargers = {c.id: ChargerMemory(demand_a=c.max_a) for c in site.chargers}
    filed = {
        n.id: NetworkMemory(
            n.enabled, n.network_limit_a, tuple(c.id for c in site.network_members(n.id))
        )
        for n in site.networks
    }
    if networks:
        filed = {nid: networks.get(nid, net) for nid, net in filed.items()}
    return ControllerState(chargers=chargers, networks=filed)
