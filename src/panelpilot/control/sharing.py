"""EV power sharing: who charges, and how much, under nested limits.

`allocate` is a pure function. Each charger (a `Claim`) sits under several constraints (its
network and every circuit from its own up to the service); each constraint has a capacity.
The allocation is max-min fair ("water-filling"): every charger that wants more gets the same
current, except where a constraint it sits under is full or it wants less. A charger gets 0 or
at least its `min_a` (J1772 cannot signal less than 6 A): when a constraint cannot give every
charger its minimum, chargers are admitted in the caller's order and the rest wait (paused).
Higher `priority` classes are filled first.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Claim:
    """One charger asking for current. `demand_a` 0 means it wants nothing now."""

    key: str
    demand_a: float
    min_a: float
    priority: int
    constraints: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Allocation:
    """The fair targets, and the chargers that want current but must wait."""

    targets_a: dict[str, float]
    paused: frozenset[str]


def allocate(
    claims: Sequence[Claim], capacities_a: Sequence[float], resolution_a: float
) -> Allocation:
    """Max-min fair targets for `claims`, admitted in the given order, within `capacities_a`.

    Invariants: for every constraint the sum of targets of its members is at most
    max(0, capacity); each target is 0 or within [min_a, max(min_a, demand_a)].
    """
    used = [0.0] * len(capacities_a)
    admitted: list[Claim] = []
    paused: set[str] = set()
    for claim in claims:
        if claim.demand_a <= 0:
            continue
        if all(used[k] + claim.min_a <= capacities_a[k] + EPS for k in claim.constraints):
            for k in claim.constraints:
                used[k] += claim.min_a
            admitted.append(claim)
        else:
            paused.add(claim.key)

    # Capacity left above everyone's minimum, shared by water-filling class by class.
    extra = [max(0.0, capacities_a[k] - used[k]) for k in range(len(capacities_a))]
    levels: dict[str, float] = {}
    for priority in sorted({c.priority for c in admitted}, reverse=True):
        group = [c for c in admitted if c.priority == priority]
        for claim, alloc in zip(group, _water_fill(group, extra), strict=True):
            levels[claim.key] = alloc
            for k in claim.constraints:
                extra[k] = max(0.0, extra[k] - (alloc - claim.min_a))

    targets = _quantize(admitted, levels, capacities_a, resolution_a)
    for claim in claims:
        targets.setdefault(claim.key, 0.0)
    return Allocation(targets, frozenset(paused))


def _water_fill(group: Sequence[Claim], extra: list[float]) -> list[float]:
    """Progressive filling: raise a common level; freeze chargers as limits bind.

    A charger's allocation is clamp(level, min_a, demand_a). A constraint's saturation level
    stays fixed while the number of growing members does not change, so a heap of those
    levels (refreshed only on membership change) keeps this near O(n log n).
    """
    n = len(group)
    alloc = [c.min_a for c in group]
    top = [max(c.min_a, c.demand_a) for c in group]
    if n == 0:
        return alloc
    members: dict[int, list[int]] = {}
    for i, c in enumerate(group):
        for k in c.constraints:
            members.setdefault(k, []).append(i)
    growing = [0] * len(extra)  # members currently growing with the level
    filled = [0.0] * len(extra)  # extra used, as of `mark[k]`
    mark = [0.0] * len(extra)  # level at which `filled[k]` was last brought up to date
    version = [0] * len(extra)
    saturated = [False] * len(extra)
    state = [0] * n  # 0 waiting for level to reach min_a, 1 growing, 2 frozen
    heap: list[tuple[float, int, int]] = []  # (saturation level, version, constraint)
    starts = sorted(range(n), key=lambda i: group[i].min_a)
    stops: list[tuple[float, int]] = []
    level = min(c.min_a for c in group)

    def refresh(k: int) -> None:
        filled[k] += growing[k] * (level - mark[k])
        mark[k] = level

    def push(k: int) -> None:
        version[k] += 1
        if growing[k] > 0 and not saturated[k]:
            at = level + max(0.0, extra[k] - filled[k]) / growing[k]
            heapq.heappush(heap, (at, version[k], k))

    def change(i: int, delta: int) -> None:
        for k in group[i].constraints:
            refresh(k)
            growing[k] += delta
            push(k)

    def freeze(i: int) -> None:
        if state[i] == 1:
            alloc[i] = min(top[i], max(group[i].min_a, level))
            change(i, -1)
        state[i] = 2

    next_start = 0
    while True:
        # Start every charger whose minimum the level has reached.
        while next_start < n and group[starts[next_start]].min_a <= level + EPS:
            i = starts[next_start]
            next_start += 1
            if state[i] != 0:
                continue
            if any(saturated[k] for k in group[i].constraints) or top[i] <= group[i].min_a:
                state[i] = 2
                continue
            state[i] = 1
            change(i, +1)
            heapq.heappush(stops, (top[i], i))
        while heap and (heap[0][1] != version[heap[0][2]] or saturated[heap[0][2]]):
            heapq.heappop(heap)
        while stops and state[stops[0][1]] != 1:
            heapq.heappop(stops)
        candidates = []
        if heap:
            candidates.append(heap[0][0])
        if stops:
            candidates.append(stops[0][0])
        if next_start < n:
            candidates.append(group[starts[next_start]].min_a)
        if not candidates:
            break
        level = max(level, min(candidates))
        if heap and heap[0][0] <= level + EPS:
            _, _, k = heapq.heappop(heap)
            refresh(k)
            saturated[k] = True
            for i in members[k]:
                freeze(i)
        elif stops and stops[0][0] <= level + EPS:
            _, i = heapq.heappop(stops)
            freeze(i)
    return alloc


def _quantize(
    admitted: Sequence[Claim],
    levels: dict[str, float],
    capacities_a: Sequence[float],
    resolution_a: float,
) -> dict[str, float]:
    """Round down to the charger's resolution, then hand out whole steps left over.

    Steps go to the lowest allocations first, so the result stays max-min fair within one
    resolution step and never exceeds any capacity.
    """
    targets: dict[str, float] = {}
    slack = list(capacities_a)
    for c in admitted:
        value = max(c.min_a, math.floor(levels[c.key] / resolution_a + EPS) * resolution_a)
        targets[c.key] = value
        for k in c.constraints:
            slack[k] -= value
    # Each pass gives every charger that wants more at most one step, lowest first, so
    # the result stays max-min fair within one step; few passes are ever needed.
    candidates = sorted(admitted, key=lambda c: targets[c.key])
    while candidates:
        still = []
        for c in candidates:
            want = max(c.min_a, c.demand_a) - targets[c.key]
            if want + EPS >= resolution_a and all(
                slack[k] + EPS >= resolution_a for k in c.constraints
            ):
                targets[c.key] += resolution_a
                for k in c.constraints:
                    slack[k] -= resolution_a
                still.append(c)
        candidates = still
    return targets
