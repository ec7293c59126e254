"""Progressive filling ("water-filling") of one group of claims under nested constraints.

The algorithm behind `sharing.allocate`'s max-min fairness: a common level rises from each
claim's minimum; a claim stops at its demand, and every claim under a constraint that fills
up stops with it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from panelpilot.control.tolerances import EPS

if TYPE_CHECKING:
    from panelpilot.control.sharing import Claim


def water_fill(group: Sequence[Claim], extra: list[float], active: set[int]) -> list[float]:
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
