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


@dataclass(slots=True)  # not frozen: built a thousand times a cycle; never mutated
class Claim:
    """One charger asking for current. `demand_a` 0 means it wants nothing now."""

    key: str
    demand_a: float
    min_a: float
    priority: int
    constraints: tuple[int, ...]
    exact: bool = False  # a fixed limit (a fallback) kept as is, not rounded to the step


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
        need = claim.min_a - EPS
        for k in claim.constraints:
            if capacities_a[k] - used[k] < need:
                paused.add(claim.key)
                break
        else:
            for k in claim.constraints:
                used[k] += claim.min_a
            admitted.append(claim)

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
    stays fixed while the number of its growing members does not change, so a heap of those
    levels, refreshed once per batch of changes, keeps this near O(n log n).
    """
    n = len(group)
    alloc = [c.min_a for c in group]
    if n == 0:
        return alloc
    top = [c.demand_a if c.demand_a > c.min_a else c.min_a for c in group]
    cons = [c.constraints for c in group]
    mins = [c.min_a for c in group]
    nk = len(extra)
    members: list[list[int]] = [[] for _ in range(nk)]
    for i, ks in enumerate(cons):
        for k in ks:
            members[k].append(i)
    growing = [0] * nk  # members currently growing with the level
    filled = [0.0] * nk  # extra used, as of level `mark[k]`
    mark = [0.0] * nk
    version = [0] * nk
    saturated = [False] * nk
    state = bytearray(n)  # 0 waiting for the level to reach min_a, 1 growing, 2 frozen
    heap: list[tuple[float, int, int]] = []  # (saturation level, version, constraint)
    starts = sorted(range(n), key=mins.__getitem__)
    stops: list[tuple[float, int]] = []
    level = mins[starts[0]]
    next_start = 0

    def touch(k: int, touched: set[int]) -> None:
        if k not in touched:
            filled[k] += growing[k] * (level - mark[k])
            mark[k] = level
            touched.add(k)

    def push(touched: set[int]) -> None:
        for k in touched:
            version[k] += 1
            if growing[k] > 0 and not saturated[k]:
                at = level + max(0.0, extra[k] - filled[k]) / growing[k]
                heapq.heappush(heap, (at, version[k], k))

    def freeze(i: int, touched: set[int]) -> None:
        if state[i] == 1:
            value = level if level > mins[i] else mins[i]
            alloc[i] = value if value < top[i] else top[i]
            for k in cons[i]:
                touch(k, touched)
                growing[k] -= 1
        state[i] = 2

    while True:
        touched: set[int] = set()
        while next_start < n and mins[starts[next_start]] <= level + EPS:
            i = starts[next_start]
            next_start += 1
            if state[i] != 0:
                continue
            if top[i] <= mins[i] or any(saturated[k] for k in cons[i]):
                state[i] = 2
                continue
            state[i] = 1
            for k in cons[i]:
                touch(k, touched)
                growing[k] += 1
            heapq.heappush(stops, (top[i], i))
        push(touched)
        while heap and (heap[0][1] != version[heap[0][2]] or saturated[heap[0][2]]):
            heapq.heappop(heap)
        while stops and state[stops[0][1]] != 1:
            heapq.heappop(stops)
        nxt = math.inf
        if heap:
            nxt = heap[0][0]
        if stops and stops[0][0] < nxt:
            nxt = stops[0][0]
        if next_start < n and mins[starts[next_start]] < nxt:
            nxt = mins[starts[next_start]]
        if nxt == math.inf:
            break
        level = max(level, nxt)
        touched = set()
        if heap and heap[0][0] <= level + EPS:
            _, _, k = heapq.heappop(heap)
            touch(k, touched)
            saturated[k] = True
            for i in members[k]:
                freeze(i, touched)
        else:
            while stops and stops[0][0] <= level + EPS:
                _, i = heapq.heappop(stops)
                freeze(i, touched)
        push(touched)
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
    tops: dict[str, float] = {}
    slack = list(capacities_a)
    floor = math.floor
    for c in admitted:
        level = levels[c.key]
        value = level if c.exact else floor(level / resolution_a + EPS) * resolution_a
        targets[c.key] = value if value > c.min_a else c.min_a
        tops[c.key] = c.demand_a if c.demand_a > c.min_a else c.min_a
        for k in c.constraints:
            slack[k] -= targets[c.key]
    # Each pass gives every charger that wants more at most one step, lowest first, so
    # the result stays max-min fair within one step; few passes are ever needed.
    step = resolution_a - EPS
    candidates = sorted(
        (c for c in admitted if tops[c.key] - targets[c.key] >= step),
        key=lambda c: targets[c.key],
    )
    while candidates:
        still = []
        for c in candidates:
            if tops[c.key] - targets[c.key] < step:
                continue
            for k in c.constraints:
                if slack[k] < step:
                    break
            else:
                targets[c.key] += resolution_a
                for k in c.constraints:
                    slack[k] -= resolution_a
                still.append(c)
        candidates = still
    return targets
