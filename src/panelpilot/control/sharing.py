"""EV power sharing: who charges, and how much, under nested limits.

`allocate` is a pure function. Each charger (a `Claim`) sits under several constraints (its
network and every circuit from its own up to the service); each constraint has a capacity.
The allocation is max-min fair ("water-filling"): every charger that wants more gets the same
current, except where a constraint it sits under is full or it wants less. A charger gets 0 or
at least its `min_a` (J1772 cannot signal less than 6 A): when a constraint cannot give every
charger its minimum, chargers are admitted in the caller's order and the rest wait (paused).
Higher `priority` classes are filled first.

Needs change that (docs/control.md, "Charging needs"; control/needs.py):

* A *standby* claim (a car plugged in that does not draw: full, or waiting for its own timer)
  gets its minimum only from what is left once every other claim has its share, so a full
  car never holds 6 A that a charging car could use.
* A *deferred* claim (a need that can still wait: its laxity is more than a period) is served
  after the others, least laxity first, each as much as is left; standby claims come last.
* A capped claim's *spare* (`spare_a`: the headroom above what the car was seen able to
  draw) is served last of all, from what is left, so it never holds current another car
  could draw.
* In a class where the other claims include needs (`required_a`: the current that delivers
  the energy still wanted by departure), the levels come from `needs.needs_fill`: the plain
  max-min shares `F`; then every car up to what it requires (a car without a need up to its
  share in `F`); then cars with a need up to their demand, least laxity first; what is left,
  max-min. So a car without a need never gets less than its share in `F`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from panelpilot.control.needs import admit_standby, needs_fill, serve_deferred, serve_spare
from panelpilot.control.tolerances import EPS
from panelpilot.control.waterfill import water_fill


@dataclass(slots=True)  # not frozen: built a thousand times a cycle; never mutated
class Claim:
    """One charger asking for current. `demand_a` 0 means it wants nothing now."""

    key: str
    demand_a: float
    min_a: float
    priority: int
    constraints: tuple[int, ...]
    exact: bool = False  # a fixed limit (a fallback) kept as is, not rounded to the step
    # The current that delivers its need by departure (None: no need known; inf: past due).
    required_a: float | None = None
    standby: bool = False  # plugged in, not drawing: its minimum only from what is left
    laxity_s: float | None = None  # with a need: how long it can still wait and finish
    deferred: bool = False  # a need that can wait: served after the others, least laxity first
    # The part of `demand_a` above what the car was seen able to draw (a capped car's
    # headroom): given only from what is left once every claim has the rest of its demand.
    spare_a: float = 0.0
    # When the car was plugged in: of claims with the same target, the one plugged in first
    # gets a whole step left over first (it is likely the first to leave).
    since_t: float = 0.0


@dataclass(frozen=True, slots=True)
class Allocation:
    """The fair targets, and the chargers that want current but must wait.

    `active` holds the constraints that shaped the result: one that turned a charger away,
    filled up while chargers under it still wanted more, or stopped a rounding step. Any
    other constraint could be removed, or given more capacity, without changing anything.
    """

    targets_a: dict[str, float]
    paused: frozenset[str]
    active: frozenset[int] = frozenset()


def allocate(
    claims: Sequence[Claim], capacities_a: Sequence[float], resolution_a: float
) -> Allocation:
    """Max-min fair targets for `claims`, admitted in the given order, within `capacities_a`.

    Invariants: for every constraint the sum of targets of its members is at most
    max(0, capacity); each target is 0 or within [min_a, max(min_a, demand_a)].
    """
    active: set[int] = set()
    spares = [c for c in claims if c.spare_a > 0]
    if spares:
        claims = [_firm(c) if c.spare_a > 0 else c for c in claims]
    later = [c for c in claims if c.standby or c.deferred]
    regular = [c for c in claims if not (c.standby or c.deferred)] if later else claims
    admitted, paused, used = _admit(regular, capacities_a, active)
    # Capacity left above everyone's minimum, shared by water-filling class by class.
    extra = [max(0.0, capacities_a[k] - used[k]) for k in range(len(capacities_a))]
    levels = _levels(admitted, extra, active)
    targets = dict.fromkeys((c.key for c in claims), 0.0)
    values, slack = _quantize(admitted, levels, capacities_a, resolution_a, active)
    for claim, value in zip(admitted, values, strict=True):
        targets[claim.key] = value
    if later:
        deferred = [c for c in later if c.deferred]
        for claim, value in serve_deferred(deferred, slack, paused, active, resolution_a):
            targets[claim.key] = value
        for claim in admit_standby([c for c in later if c.standby], slack, paused, active):
            targets[claim.key] = claim.min_a
    if spares:
        serve_spare(spares, targets, slack, active, resolution_a)
    return Allocation(targets, frozenset(paused), frozenset(active))


@dataclass(frozen=True, slots=True)
class Allotted:
    """An allocation and what it was worked out from (`allot`)."""

    claims: Sequence[Claim]
    capacities_a: tuple[float, ...]
    allocation: Allocation


def allot(
    last: Allotted | None,
    claims: Sequence[Claim],
    capacities_a: Sequence[float],
    resolution_a: float,
) -> tuple[Allocation, Allotted]:
    """`allocate`, or `last`'s allocation where it was worked out from these very claims (the
    same objects: claims are never changed once made) and capacities: the cycle that sees a
    change acknowledged allocates what the cycle that made it did."""
    caps = tuple(capacities_a)
    if (
        last is not None
        and last.capacities_a == caps
        and 0.0 not in caps  # (== takes -0.0 for 0.0: a capacity of zero is allocated again)
        and len(last.claims) == len(claims)
        and all(a is b for a, b in zip(last.claims, claims, strict=True))
    ):
        return last.allocation, last
    allocation = allocate(claims, caps, resolution_a)
    return allocation, Allotted(tuple(claims), caps, allocation)


def _firm(c: Claim) -> Claim:
    """`c` without its spare: what every step but the last one shares."""
    return replace(c, demand_a=c.demand_a - c.spare_a, spare_a=0.0)


def _admit(
    claims: Sequence[Claim], capacities_a: Sequence[float], active: set[int]
) -> tuple[list[Claim], set[str], list[float]]:
    """Admit claims in order while every constraint above them has room for their minimum;
    the rest wait (the constraint that turned one away shaped the allocation)."""
    used = [0.0] * len(capacities_a)
    admitted: list[Claim] = []
    paused: set[str] = set()
    for claim in claims:
        if claim.demand_a <= 0:
            continue
        need = claim.min_a - EPS
        for k in claim.constraints:
            if capacities_a[k] - used[k] < need:
                paused.add(claim.key)
                active.add(k)
                break
        else:
            for k in claim.constraints:
                used[k] += claim.min_a
            admitted.append(claim)
    return admitted, paused, used


def _levels(admitted: list[Claim], extra: list[float], active: set[int]) -> list[float]:
    """Each admitted claim's level: water-filled class by class, higher priority first."""
    classes = {c.priority for c in admitted}
    if len(classes) <= 1:
        return _fill_class(admitted, extra, active)  # the usual case: one class
    position = {id(c): i for i, c in enumerate(admitted)}
    levels = [0.0] * len(admitted)
    for priority in sorted(classes, reverse=True):
        group = [c for c in admitted if c.priority == priority]
        for claim, alloc in zip(group, _fill_class(group, extra, active), strict=True):
            levels[position[id(claim)]] = alloc
            for k in claim.constraints:
                extra[k] = max(0.0, extra[k] - (alloc - claim.min_a))
    return levels


def _fill_class(group: list[Claim], extra: list[float], active: set[int]) -> list[float]:
    """One priority class: plain water-filling, or `_needs_fill` when a need is known."""
    if any(c.required_a is not None for c in group):
        return needs_fill(group, extra, active)
    return water_fill(group, extra, active)


def _quantize(
    admitted: Sequence[Claim],
    levels: Sequence[float],
    capacities_a: Sequence[float],
    resolution_a: float,
    active: set[int],
) -> tuple[list[float], list[float]]:
    """Round down to the charger's resolution, then hand out whole steps left over.

    Steps go to the lowest allocations first, so the result stays max-min fair within one
    resolution step and never exceeds any capacity. Returns targets in `admitted` order, and
    each constraint's capacity left.
    """
    n = len(admitted)
    targets = [0.0] * n
    tops = [0.0] * n
    slack = list(capacities_a)
    floor = math.floor
    for i, c in enumerate(admitted):
        level = levels[i]
        value = level if c.exact else floor(level / resolution_a + EPS) * resolution_a
        targets[i] = value = value if value > c.min_a else c.min_a
        tops[i] = c.demand_a if c.demand_a > c.min_a else c.min_a
        for k in c.constraints:
            slack[k] -= value
    # Each pass gives every charger that wants more at most one step, lowest first, so
    # the result stays max-min fair within one step; few passes are ever needed.
    step = resolution_a - EPS
    candidates = sorted(
        (i for i in range(n) if tops[i] - targets[i] >= step),
        key=lambda i: (targets[i], admitted[i].since_t),
    )
    while candidates:
        still = []
        for i in candidates:
            if tops[i] - targets[i] < step:
                continue
            ks = admitted[i].constraints
            for k in ks:
                if slack[k] < step:
                    active.add(k)
                    break
            else:
                targets[i] += resolution_a
                for k in ks:
                    slack[k] -= resolution_a
                still.append(i)
        candidates = still
    return targets, slack
