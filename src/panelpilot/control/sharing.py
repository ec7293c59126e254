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
    used = [0.0] * len(capacities_a)
    admitted: list[Claim] = []
    paused: set[str] = set()
    active: set[int] = set()
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

    # Capacity left above everyone's minimum, shared by water-filling class by class.
    extra = [max(0.0, capacities_a[k] - used[k]) for k in range(len(capacities_a))]
    classes = {c.priority for c in admitted}
    if len(classes) <= 1:
        levels = _water_fill(admitted, extra, active)  # the usual case: one class
    else:
        position = {id(c): i for i, c in enumerate(admitted)}
        levels = [0.0] * len(admitted)
        for priority in sorted(classes, reverse=True):
            group = [c for c in admitted if c.priority == priority]
            for claim, alloc in zip(group, _water_fill(group, extra, active), strict=True):
                levels[position[id(claim)]] = alloc
                for k in claim.constraints:
                    extra[k] = max(0.0, extra[k] - (alloc - claim.min_a))

    targets = dict.fromkeys((c.key for c in claims), 0.0)
    for claim, value in zip(
        admitted, _quantize(admitted, levels, capacities_a, resolution_a, active), strict=True
    ):
        targets[claim.key] = value
    return Allocation(targets, frozenset(paused), frozenset(active))


def _water_fill(group: Sequence[Claim], extra: list[float], active: set[int]) -> list[float]:
    """Progressive filling: raise a common level; freeze chargers as limits bind.

    A charger's allocation is clamp(level, min_a, demand_a). A constraint's saturation level
    stays fixed while the number of its growing members does not change, so a heap of those
    levels, refreshed once per batch of changes, keeps this near O(n log n). Starts (a
    charger's minimum) and stops (its demand) are two sorted lists walked once.
    """
    n = len(group)
    mins = [c.min_a for c in group]
    alloc = list(mins)
    if n == 0:
        return alloc
    top = [c.demand_a if c.demand_a > c.min_a else c.min_a for c in group]
    cons = [c.constraints for c in group]
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
    stops = sorted(range(n), key=top.__getitem__)
    next_start = next_stop = 0
    level = mins[starts[0]]
    heappush, heappop = heapq.heappush, heapq.heappop

    def push(touched: set[int]) -> None:
        for k in touched:
            version[k] += 1
            if growing[k] > 0 and not saturated[k]:
                room = extra[k] - filled[k]
                heappush(heap, (level + (room if room > 0 else 0.0) / growing[k], version[k], k))

    def freeze(chargers: Sequence[int], touched: set[int]) -> None:
        for i in chargers:
            if state[i] == 1:
                value = level if level > mins[i] else mins[i]
                alloc[i] = value if value < top[i] else top[i]
                for k in cons[i]:
                    if k not in touched:
                        filled[k] += growing[k] * (level - mark[k])
                        mark[k] = level
                        touched.add(k)
                    growing[k] -= 1
            state[i] = 2

    while True:
        touched: set[int] = set()
        while next_start < n and mins[starts[next_start]] <= level + EPS:
            i = starts[next_start]
            next_start += 1
            if state[i] != 0:
                continue
            blocked = top[i] <= mins[i]
            for k in cons[i]:
                if saturated[k]:
                    blocked = True
            if blocked:
                state[i] = 2
                continue
            state[i] = 1
            for k in cons[i]:
                if k not in touched:
                    filled[k] += growing[k] * (level - mark[k])
                    mark[k] = level
                    touched.add(k)
                growing[k] += 1
        push(touched)
        while heap and (heap[0][1] != version[heap[0][2]] or saturated[heap[0][2]]):
            heappop(heap)
        while next_stop < n and state[stops[next_stop]] == 2:
            next_stop += 1
        nxt = heap[0][0] if heap else math.inf
        if next_stop < n and top[stops[next_stop]] < nxt:
            nxt = top[stops[next_stop]]
        if next_start < n and mins[starts[next_start]] < nxt:
            nxt = mins[starts[next_start]]
        if nxt == math.inf:
            break
        if nxt > level:
            level = nxt
        touched = set()
        if heap and heap[0][0] <= level + EPS:
            _, _, k = heappop(heap)
            filled[k] += growing[k] * (level - mark[k])
            mark[k] = level
            touched.add(k)
            saturated[k] = True
            active.add(k)
            freeze(members[k], touched)
        else:
            done = next_stop
            while done < n and top[stops[done]] <= level + EPS:
                done += 1
            freeze(stops[next_stop:done], touched)
            next_stop = done
        push(touched)
    return alloc


def _quantize(
    admitted: Sequence[Claim],
    levels: Sequence[float],
    capacities_a: Sequence[float],
    resolution_a: float,
    active: set[int],
) -> list[float]:
    """Round down to the charger's resolution, then hand out whole steps left over.

    Steps go to the lowest allocations first, so the result stays max-min fair within one
    resolution step and never exceeds any capacity. Returns targets in `admitted` order.
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
        (i for i in range(n) if tops[i] - targets[i] >= step), key=targets.__getitem__
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
    return targets
