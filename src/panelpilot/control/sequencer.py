"""Safe transitions: lower first, raise only into current that is really free.

A car takes up to 5 s to follow a lower pilot (SAE J1772), so for that long it may still draw
its old limit. The sequencer applies every decrease at once and raises a charger only as far
as every constraint above it has room, counting each charger at the larger of what it may
still draw (`hold_a`) and its new limit. So at every instant the sum of max(old, new) limits
stays within each capacity whenever anything is raised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from panelpilot.control.sharing import Claim
from panelpilot.control.state import ChargerMemory
from panelpilot.control.tolerances import EPS
from panelpilot.control.types import ChargerReading


@dataclass(slots=True)  # not frozen: built a thousand times a cycle; never mutated
class Step:
    """One charger's transition: what it had, what it may still draw, where it is going."""

    key: str
    previous_a: float  # the limit it was last given
    hold_a: float  # what it may still draw (>= previous_a while a decrease settles)
    target_a: float  # where the fair allocation wants it
    min_a: float
    constraints: tuple[int, ...]


def steps_for(
    claims: Sequence[Claim],
    chargers: Mapping[str, ChargerMemory],
    readings: Mapping[str, ChargerReading],
    targets_a: Mapping[str, float],
    t: float,
    resolution_a: float,
) -> list[Step]:
    """Each claim's transition. A charger may still draw what it had while a decrease
    settles (its car drawing above the new limit, within `hold_until_t`), and what it says
    it runs at if that is more."""
    steps = []
    for claim in claims:
        mem, reading = chargers[claim.key], readings[claim.key]
        previous = mem.limit_a
        hold = previous
        if t < mem.hold_until_t and reading.current_a > previous + resolution_a:
            hold = max(hold, mem.hold_a)  # a decrease still settling
        if reading.limit_a is not None and reading.limit_a > hold:
            hold = reading.limit_a
        steps.append(
            Step(claim.key, previous, hold, targets_a[claim.key], claim.min_a, claim.constraints)
        )
    return steps


def pending_raises(steps: Sequence[Step], limits: Mapping[str, float]) -> bool:
    """Whether a charger was left below its target (a raise waiting for room)."""
    return any(limits[s.key] < s.target_a - EPS for s in steps)


def sequence(
    steps: Sequence[Step],
    capacities_a: Sequence[float],
    frozen: frozenset[int],
    resolution_a: float,
) -> dict[str, float]:
    """New limits: decreases now; raises limited to the room left in every constraint.

    `frozen` constraints (a lost meter) allow no raise at all.
    """
    limits: dict[str, float] = {}
    slack = list(capacities_a)
    for s in steps:
        previous = s.previous_a
        limits[s.key] = min(previous, s.target_a)
        counted = max(s.hold_a, previous)
        for k in s.constraints:
            slack[k] -= counted
    risers = sorted((s for s in steps if s.target_a > s.previous_a + EPS), key=_raise_order)
    for s in risers:
        if any(k in frozen for k in s.constraints):
            continue
        committed = max(s.hold_a, s.previous_a)
        room = min((slack[k] for k in s.constraints), default=math.inf)
        new = min(s.target_a, committed + max(0.0, room))
        new = math.floor(new / resolution_a + EPS) * resolution_a if new < s.target_a else new
        if new < s.min_a or new <= s.previous_a + EPS:
            continue  # a car cannot be started below its minimum; wait for room
        limits[s.key] = new
        for k in s.constraints:
            slack[k] -= max(0.0, new - committed)
    return limits


def _raise_order(s: Step) -> tuple[float, str]:
    # The most starved charger is raised first.
    return (s.previous_a, s.key)
