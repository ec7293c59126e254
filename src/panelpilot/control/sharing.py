"""EV power sharing: who charges, and how much, under nested limits.

`allocate` is a pure function. Each charger (a `Claim`) sits under several constraints (its
network and every circuit from its own up to the service); each constraint has a capacity.
The allocation is max-min fair ("water-filling"): every charger that wants more gets the same
current, except where a constraint it sits under is full or it wants less. A charger gets 0 or
at least its `min_a` (J1772 cannot signal less than 6 A): when a constraint cannot give every
charger its minimum, chargers are admitted in the caller's order and the rest wait (paused).
Higher `priority` classes are filled first.

Two kinds of claim change that (docs/control.md, "Charging needs"):

* A *standby* claim (a car plugged in that does not draw: full, or waiting for its own timer)
  gets its minimum only from what is left once every other claim has its share, so a full
  car never holds 6 A that a charging car could use.
* A claim with a known need (`required_a`: the current that delivers the energy still wanted
  by departure) is filled in three water-fills, class by class (`_needs_fill`): first the
  plain max-min shares `F`; then every car up to what it requires (a car without a need up to
  its share in `F`); then what is left, shared max-min. So a car that cannot finish gets at
  least its fair share, and a car without a need never gets less than its fair share.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

from panelpilot.control.tolerances import EPS


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
        for claim, value in _serve_deferred(deferred, slack, paused, active, resolution_a):
            targets[claim.key] = value
        for claim in _admit_standby([c for c in later if c.standby], slack, paused, active):
            targets[claim.key] = claim.min_a
    return Allocation(targets, frozenset(paused), frozenset(active))


def _serve_deferred(
    deferred: Sequence[Claim],
    slack: list[float],
    paused: set[str],
    active: set[int],
    resolution_a: float,
) -> list[tuple[Claim, float]]:
    """Deferred claims (needs that can wait), in order, least laxity first: each as much of
    its demand as every constraint above it has left, in whole steps; those that cannot have
    their minimum wait."""
    out = []
    for claim in deferred:
        if claim.demand_a <= 0:
            continue
        room = min((slack[k] for k in claim.constraints), default=math.inf)
        give = min(_top(claim), math.floor(room / resolution_a + EPS) * resolution_a)
        if give < claim.min_a - EPS:
            paused.add(claim.key)
            active.update(k for k in claim.constraints if slack[k] < claim.min_a)
            continue
        if give < _top(claim):
            active.update(k for k in claim.constraints if slack[k] - give < resolution_a)
        for k in claim.constraints:
            slack[k] -= give
        out.append((claim, give))
    return out


def _admit_standby(
    standby: Sequence[Claim], slack: list[float], paused: set[str], active: set[int]
) -> list[Claim]:
    """Standby claims, in order, each given its minimum where every constraint above it
    still has that much left; the rest wait."""
    out = []
    for claim in standby:
        if claim.demand_a <= 0:
            continue
        need = claim.min_a - EPS
        for k in claim.constraints:
            if slack[k] < need:
                paused.add(claim.key)
                active.add(k)
                break
        else:
            for k in claim.constraints:
                slack[k] -= claim.min_a
            out.append(claim)
    return out


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
        return _needs_fill(group, extra, active)
    return _water_fill(group, extra, active)


def _needs_fill(group: list[Claim], extra: list[float], active: set[int]) -> list[float]:
    """Levels for a class in which some needs are known (the module's water-fills)."""
    fair = _water_fill(group, extra, set())
    first = [
        Claim(c.key, _first_cap(c, f), c.min_a, c.priority, c.constraints)
        for c, f in zip(group, fair, strict=True)
    ]
    base = _water_fill(first, extra, active)
    left = list(extra)
    for c, a in zip(group, base, strict=True):
        for k in c.constraints:
            left[k] -= a - c.min_a
    base = _greedy(group, base, left)
    rest = [
        Claim(c.key, max(0.0, _top(c) - a), 0.0, c.priority, c.constraints)
        for c, a in zip(group, base, strict=True)
    ]
    more = _water_fill(rest, [max(0.0, x) for x in left], active)
    return [a + b for a, b in zip(base, more, strict=True)]


def _greedy(group: list[Claim], base: list[float], left: list[float]) -> list[float]:
    """Cars with a need, in the group's order (least laxity first), each raised toward its
    demand as far as every constraint above it has room left; `left` is used up."""
    out = list(base)
    for i, c in enumerate(group):
        if c.required_a is None:
            continue
        room = min((left[k] for k in c.constraints), default=0.0)
        give = min(_top(c) - out[i], room)
        if give > 0:
            out[i] += give
            for k in c.constraints:
                left[k] -= give
    return out


def _top(c: Claim) -> float:
    return c.demand_a if c.demand_a > c.min_a else c.min_a


def _first_cap(c: Claim, fair_a: float) -> float:
    """How far the second fill takes a claim: what its need requires (at least its
    minimum), or its fair share when no need is known; never above its demand."""
    want = fair_a if c.required_a is None else max(c.min_a, c.required_a)
    return max(c.min_a, min(_top(c), want))


def _water_fill(group: Sequence[Claim], extra: list[float], active: set[int]) -> list[float]:
    """Progressive filling: raise a common level; freeze chargers as limits bind.

    A charger's allocation is clamp(level, min_a, demand_a). A constraint's saturation level
    stays fixed while the number of its growing members does not change, so a heap of those
    levels, refreshed once per batch of changes, keeps this near O(n log n). Starts (a
    charger's minimum) and stops (its demand) are two sorted lists walked once.
    """
    if not group:
        return []
    fill = _Fill(group, extra, active)
    while fill.step():
        pass
    return fill.alloc


class _Fill:
    """The state of one water-filling: the level, who grows with it, each constraint's use."""

    def __init__(self, group: Sequence[Claim], extra: list[float], active: set[int]) -> None:
        n = len(group)
        self.n, self.extra, self.active = n, extra, active
        self.mins = mins = [c.min_a for c in group]
        self.alloc = list(mins)
        self.top = top = [c.demand_a if c.demand_a > c.min_a else c.min_a for c in group]
        self.cons = cons = [c.constraints for c in group]
        nk = len(extra)
        self.members: list[list[int]] = [[] for _ in range(nk)]
        for i, ks in enumerate(cons):
            for k in ks:
                self.members[k].append(i)
        self.growing = [0] * nk  # members currently growing with the level
        self.filled = [0.0] * nk  # extra used, as of level `mark[k]`
        self.mark = [0.0] * nk
        self.version = [0] * nk
        self.saturated = [False] * nk
        self.state = bytearray(n)  # 0 waiting for the level to reach min_a, 1 growing, 2 frozen
        self.heap: list[tuple[float, int, int]] = []  # (saturation level, version, constraint)
        self.starts = sorted(range(n), key=mins.__getitem__)
        self.stops = sorted(range(n), key=top.__getitem__)
        self.next_start = self.next_stop = 0
        self.level = mins[self.starts[0]]

    def _touch(self, k: int, touched: set[int]) -> None:
        """Bring constraint `k`'s use up to the present level (once per batch)."""
        if k not in touched:
            self.filled[k] += self.growing[k] * (self.level - self.mark[k])
            self.mark[k] = self.level
            touched.add(k)

    def _push(self, touched: set[int]) -> None:
        version, growing, saturated, extra, filled = (
            self.version,
            self.growing,
            self.saturated,
            self.extra,
            self.filled,
        )
        heap, level, push = self.heap, self.level, heapq.heappush
        for k in touched:
            version[k] += 1
            if growing[k] > 0 and not saturated[k]:
                room = extra[k] - filled[k]
                push(heap, (level + (room if room > 0 else 0.0) / growing[k], version[k], k))

    def _freeze(self, chargers: Sequence[int], touched: set[int]) -> None:
        state, level, mins, top, alloc = self.state, self.level, self.mins, self.top, self.alloc
        cons, growing, filled, mark = self.cons, self.growing, self.filled, self.mark
        for i in chargers:
            if state[i] == 1:
                value = level if level > mins[i] else mins[i]
                alloc[i] = value if value < top[i] else top[i]
                for k in cons[i]:
                    if k not in touched:  # `_touch`, inlined: this is the hot loop
                        filled[k] += growing[k] * (level - mark[k])
                        mark[k] = level
                        touched.add(k)
                    growing[k] -= 1
            state[i] = 2

    def _start_due(self) -> None:
        """Chargers whose minimum the level has reached start growing with it."""
        touched: set[int] = set()
        mins, starts, state, n = self.mins, self.starts, self.state, self.n
        cons, top, saturated = self.cons, self.top, self.saturated
        level, at = self.level, self.next_start
        while at < n and mins[starts[at]] <= level + EPS:
            i = starts[at]
            at += 1
            if state[i] != 0:
                continue
            if top[i] <= mins[i] or any(saturated[k] for k in cons[i]):
                state[i] = 2
                continue
            state[i] = 1
            for k in cons[i]:
                self._touch(k, touched)
                self.growing[k] += 1
        self.next_start = at
        self._push(touched)

    def _next_level(self) -> float:
        """The next level where something happens: a constraint full, a stop, a start."""
        heap, version, saturated = self.heap, self.version, self.saturated
        while heap and (heap[0][1] != version[heap[0][2]] or saturated[heap[0][2]]):
            heapq.heappop(heap)
        while self.next_stop < self.n and self.state[self.stops[self.next_stop]] == 2:
            self.next_stop += 1
        nxt = heap[0][0] if heap else math.inf
        if self.next_stop < self.n and self.top[self.stops[self.next_stop]] < nxt:
            nxt = self.top[self.stops[self.next_stop]]
        if self.next_start < self.n and self.mins[self.starts[self.next_start]] < nxt:
            nxt = self.mins[self.starts[self.next_start]]
        return nxt

    def step(self) -> bool:
        """Raise the level to the next event and handle it; False when nothing is left."""
        self._start_due()
        nxt = self._next_level()
        if nxt == math.inf:
            return False
        if nxt > self.level:
            self.level = nxt
        touched: set[int] = set()
        heap = self.heap
        if heap and heap[0][0] <= self.level + EPS:
            _, _, k = heapq.heappop(heap)
            self._touch(k, touched)
            self.saturated[k] = True
            self.active.add(k)
            self._freeze(self.members[k], touched)
        else:
            done, stops = self.next_stop, self.stops
            while done < self.n and self.top[stops[done]] <= self.level + EPS:
                done += 1
            self._freeze(stops[self.next_stop : done], touched)
            self.next_stop = done
        self._push(touched)
        return True


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
    return targets, slack
