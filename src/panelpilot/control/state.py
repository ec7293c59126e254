"""The controller's memory, as plain data: what it has told each charger and why.

Everything the controller needs from one cycle to the next lives here, so a controller can be
inspected, serialised (`dataclasses.asdict`) and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from panelpilot.control.commitments import Commitment


@dataclass(slots=True)
class ChargerMemory:
    """One charger, as the controller remembers it."""

    limit_a: float = 0.0  # last limit given (or reserved while it is silent)
    hold_a: float = 0.0  # what it may still draw while a decrease settles
    hold_until_t: float = float("-inf")
    changed_t: float = float("-inf")  # when its limit last changed
    lease_until_t: float = float("-inf")  # its limit holds until then, then its fallback
    demand_a: float = 0.0  # estimated draw if offered more
    capped_since_t: float | None = None  # demand capped near its real draw since then
    probes_unused: int = 0  # probes in a row it did not take (each doubles the next wait)
    probing: bool = False  # offered its max by a probe; the next settled reading tells
    connected: bool = False
    online: bool = False
    admitted: bool = False  # holds a turn (not paused)
    turn_since_t: float = 0.0  # when it last was admitted or paused
    idle_car: bool = False  # a car that is plugged in but does not draw
    defiant_since_t: float | None = None  # reports a limit above the one it was given
    # Every commitment it holds or may hold, oldest first; the last is the newest sent
    # (`limit_a` until `lease_until_t`, then its fallback).
    held: tuple[Commitment, ...] = ()


@dataclass(slots=True)
class NetworkMemory:
    """A power sharing network's settings, which change only while it is disabled."""

    enabled: bool
    limit_a: float | None
    members: tuple[str, ...]


@dataclass(slots=True)
class ControllerState:
    """All of the controller's memory."""

    t: float | None = None
    chargers: dict[str, ChargerMemory] = field(default_factory=dict)
    networks: dict[str, NetworkMemory] = field(default_factory=dict)
    # A charger removed from a network, held at 6 A until power-cycled; the flag says
    # whether it has been seen offline since (the first half of a power cycle).
    removed: dict[str, bool] = field(default_factory=dict)
    uncontrolled_a: dict[str, float] = field(default_factory=dict)  # per metered circuit
    export_curtailing: bool = False  # controllable solar is held down for the export limit
