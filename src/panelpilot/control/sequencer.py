"""Safe transitions: lower first, raise only into current that is really free.

A car takes up to 5 s to follow a lower pilot (SAE J1772), so for that long it may still draw
its old limit. The sequencer applies every decrease at once and raises a charger only as far
as every constraint above it has room, counting each charger at the larger of what it may
still draw (`hold_a`) and its new limit. So at every instant the sum of max(old, new) limits
stays within each capacity whenever anything is raised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EPS = 1e-9


@dataclass(slots=True)  # not frozen: built a thousand times a cycle; never mutated
class Step:
    """One charger's transition: what it had, what it may still draw, where it is going."""

    key: str
    previous_a: float  # the limit it was last given
    hold_a: float  # what it may still draw (>= previous_a while a decrease settles)
    target_a: float  # where the fair allocation wants it
    min_a: float
    constraints: tuple[int, ...]


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
        limits[s.key] = min(s.previous_a, s.target_a)
        for k in s.constraints:
            slack[k] -= max(s.hold_a, s.previous_a)
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
