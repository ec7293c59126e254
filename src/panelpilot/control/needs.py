"""What the allocation does with charging needs, standby cars and deferred needs.

`sharing.allocate` calls these (docs/control.md, "Charging needs"): a class with needs is
filled in four steps (`needs_fill`: fair shares, what each requires, least laxity first, the
rest max-min); deferred needs are served after everyone else,
least laxity first (`serve_deferred`); standby cars get their minimum only from what is left
(`admit_standby`); a capped car's headroom comes last of all (`serve_spare`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from panelpilot.control.tolerances import EPS
from panelpilot.control.waterfill import water_fill

if TYPE_CHECKING:
    from panelpilot.control.sharing import Claim


def needs_fill(group: list[Claim], extra: list[float], active: set[int]) -> list[float]:
    """Levels for a class in which some needs are known (the four steps above)."""
    fair = water_fill(group, extra, set())
    first = [
        replace(c, demand_a=_first_cap(c, f), exact=False, required_a=None, standby=False)
        for c, f in zip(group, fair, strict=True)
    ]
    base = water_fill(first, extra, active)
    left = list(extra)
    for c, a in zip(group, base, strict=True):
        for k in c.constraints:
            left[k] -= a - c.min_a
    base = _greedy(group, base, left)
    rest = [
        replace(c, demand_a=max(0.0, top(c) - a), min_a=0.0, exact=False, required_a=None)
        for c, a in zip(group, base, strict=True)
    ]
    more = water_fill(rest, [max(0.0, x) for x in left], active)
    return [a + b for a, b in zip(base, more, strict=True)]


def _greedy(group: list[Claim], base: list[float], left: list[float]) -> list[float]:
    """Cars with a need, in the group's order (least laxity first), each raised toward its
    demand as far as every constraint above it has room left; `left` is used up."""
    out = list(base)
    for i, c in enumerate(group):
        if c.required_a is None:
            continue
        room = min((left[k] for k in c.constraints), default=0.0)
        give = min(top(c) - out[i], room)
        if give > 0:
            out[i] += give
            for k in c.constraints:
                left[k] -= give
    return out


def top(c: Claim) -> float:
    return c.demand_a if c.demand_a > c.min_a else c.min_a


def _first_cap(c: Claim, fair_a: float) -> float:
    """How far the second fill takes a claim: what its need requires (at least its
    minimum), or its fair share when no need is known; never above its demand."""
    want = fair_a if c.required_a is None else max(c.min_a, c.required_a)
    return max(c.min_a, min(top(c), want))


def serve_deferred(
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
        give = min(top(claim), math.floor(room / resolution_a + EPS) * resolution_a)
        if give < claim.min_a - EPS:
            paused.add(claim.key)
            active.update(k for k in claim.constraints if slack[k] < claim.min_a)
            continue
        if give < top(claim):
            active.update(k for k in claim.constraints if slack[k] - give < resolution_a)
        for k in claim.constraints:
            slack[k] -= give
        out.append((claim, give))
    return out


def admit_standby(
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


def serve_spare(
    spares: Sequence[Claim],
    targets: dict[str, float],
    slack: list[float],
    active: set[int],
    resolution_a: float,
) -> None:
    """Capped cars' headroom, last and in order: each charging claim in `spares` raised
    toward its whole demand as far as every constraint above it has room, in whole steps."""
    for claim in spares:
        now = targets[claim.key]
        if now <= 0:
            continue
        room = min((slack[k] for k in claim.constraints), default=math.inf)
        give = min(claim.demand_a - now, math.floor(room / resolution_a + EPS) * resolution_a)
        if give < claim.demand_a - now:
            active.update(k for k in claim.constraints if slack[k] - give < resolution_a)
        if give <= 0:
            continue
        targets[claim.key] = now + give
        for k in claim.constraints:
            slack[k] -= give
