"""Commitments: what each charger may draw at every future instant, whatever fails next.

A charger is told a *commitment*: run at `limit_a` until the lease ends at `until_t`, then at
`fallback_a` until told otherwise. Once sent, it binds the site whether or not the controller
lives on: the charger applies it on its own clock and falls back on its own. So the controller
keeps, per charger, every commitment the charger holds or may hold (sent but not yet
acknowledged counts both ways), and from those the **envelope**: the most the charger may draw
at each future instant, given

* the charger's clock error, at most `clock_skew_s` either way: a lease end that lowers the
  charger (limit above fallback) may come that much late, one that raises it (limit below
  fallback) that much early;
* the car's response: a lower pilot is followed within `response_s` (SAE J1772: 5 s), so a
  decrease counts only `response_s` after it can have taken effect, a raise at once;
* a commitment replaced by a newer one stays possible until the newer one is acknowledged,
  and `response_s` beyond that if it allowed more at that moment.

The controller only sends a commitment that keeps the sum of the envelopes within every
constraint wherever it adds to them (`StepSum.fits`): so at every instant, from now on, the
chargers under a network or circuit may not draw more than its capacity, if the controller is
killed at any instant, if any link is lost, or if nothing fails.

Pure and small: step functions over future time, as tuples of `(from_t, value_a)`.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from panelpilot.control.tolerances import EPS_A, SAME_T_S

Steps = tuple[tuple[float, float], ...]


class Commitment(NamedTuple):
    """One lease a charger holds or may hold: `limit_a` until `until_t`, then `fallback_a`.
    (A named tuple: built and changed often, in every cycle that sends.)"""

    limit_a: float
    fallback_a: float
    until_t: float  # the lease end, on the controller's clock
    sent_t: float = -math.inf  # when it was decided
    acked_t: float | None = None  # when the charger was first seen to hold it


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the envelope allows for: the charger's clock error and the car's response."""

    skew_s: float
    response_s: float


def switch_t(c: Commitment, bounds: Bounds) -> float:
    """When `c`'s fallback counts instead of its limit, on the safe side of the clock error."""
    if c.limit_a > c.fallback_a + EPS_A:  # a decrease at the lease end: late, then followed
        return c.until_t + bounds.skew_s + bounds.response_s
    if c.limit_a < c.fallback_a - EPS_A:  # a raise at the lease end: early
        return c.until_t - bounds.skew_s
    return math.inf


def value_at(c: Commitment, t: float, bounds: Bounds) -> float:
    """What `c` allows at `t`."""
    return c.limit_a if t < switch_t(c, bounds) else c.fallback_a


def _pieces(
    held: Sequence[Commitment], t: float, bounds: Bounds
) -> list[tuple[float, float, float]]:
    """(from, to, value) pieces of every commitment still possible at or after `t`."""
    newest = max((i for i, c in enumerate(held) if c.acked_t is not None), default=None)
    out = []
    for i, c in enumerate(held):
        end = math.inf
        if newest is not None and i < newest:
            acked = held[newest]
            ack_t = acked.acked_t if acked.acked_t is not None else t
            # Replaced at the acknowledgement; a car drawing more under it takes response_s.
            end = ack_t
            if value_at(c, ack_t, bounds) > value_at(acked, ack_t, bounds) + EPS_A:
                end = ack_t + bounds.response_s
        if end <= t:
            continue
        sw = switch_t(c, bounds)
        if sw > t:
            out.append((t, min(sw, end), c.limit_a))
        if sw < end:
            out.append((max(t, sw), end, c.fallback_a))
    return out


def envelope(held: Sequence[Commitment], t: float, bounds: Bounds) -> Steps:
    """The most the charger may draw from `t` on: `((t, a0), (t1, a1), ...)`, value `a_i`
    from `t_i` until the next step. Nothing held: 0 A."""
    if len(held) == 1:  # the common case, without the general merge
        c = held[0]
        sw = switch_t(c, bounds)
        if sw <= t:
            return ((t, c.fallback_a),)
        if sw == math.inf:
            return ((t, c.limit_a),)
        return ((t, c.limit_a), (sw, c.fallback_a))
    return merged_envelope(held, t, bounds)


def merged_envelope(held: Sequence[Commitment], t: float, bounds: Bounds) -> Steps:
    """`envelope` by the general merge of every commitment's pieces (any number held)."""
    pieces = _pieces(held, t, bounds)
    if not pieces:
        return ((t, 0.0),)
    if len(pieces) == 1:
        return ((t, pieces[0][2]),)
    cuts = {t}
    for a, b, _ in pieces:
        cuts.add(a)
        if b < math.inf:
            cuts.add(b)
    steps: list[tuple[float, float]] = []
    for at in sorted(cuts):
        level = 0.0
        for a, b, v in pieces:
            if a <= at < b and v > level:
                level = v
        if not steps or abs(steps[-1][1] - level) > EPS_A:
            steps.append((at, level))
    return tuple(steps)


def with_new(old: Steps, c: Commitment, t: float, bounds: Bounds) -> Steps:
    """`envelope((*held, c), t)` from `old = envelope(held, t)`, for a commitment `c` not yet
    acknowledged: it retires nothing, so the envelope is the larger of the old one and `c`'s
    own (its limit until its switch, then its fallback) at every instant."""
    sw = switch_t(c, bounds)
    cuts = {at for at, _ in old}
    if t < sw < math.inf:
        cuts.add(sw)
    steps: list[tuple[float, float]] = []
    for at in sorted(cuts):
        mine = c.limit_a if at < sw else c.fallback_a
        level = _at(old, at)
        if mine > level:
            level = mine
        if not steps or abs(steps[-1][1] - level) > EPS_A:
            steps.append((at, level))
    return tuple(steps)


def peak_a(steps: Steps) -> float:
    """The most an envelope allows at any instant from its start on."""
    return max(v for _, v in steps)


def final_a(steps: Steps) -> float:
    """What an envelope settles at (the fallback the charger keeps if nobody speaks to it)."""
    return steps[-1][1]


def acknowledge(
    held: tuple[Commitment, ...], commitment_t: float | None, t: float
) -> tuple[Commitment, ...]:
    """Mark what the charger says it holds: the commitment with lease end `commitment_t`, or,
    when the source does not say (None), the newest one (the last decision counts as applied)."""
    if not held:
        return held
    index = len(held) - 1
    if commitment_t is not None:
        found = [i for i, c in enumerate(held) if abs(c.until_t - commitment_t) <= SAME_T_S]
        if not found:
            return held  # not one of ours (an older process's): the reading's limit tells
        index = found[-1]
    if held[index].acked_t is not None:
        return held
    # A source that does not say applies each decision as it is made.
    at = (
        t
        if commitment_t is not None or not math.isfinite(held[index].sent_t)
        else held[index].sent_t
    )
    return (*held[:index], held[index]._replace(acked_t=at), *held[index + 1 :])


def settle(
    held: tuple[Commitment, ...], t: float, bounds: Bounds, followed: bool = False
) -> tuple[Commitment, ...]:
    """Drop the commitments that can no longer be in force at `t`: replaced by one the charger
    acknowledged, and either the car has had its response time or it is measured at or below
    the acknowledged limit (`followed`: it has followed)."""
    newest = max((i for i, c in enumerate(held) if c.acked_t is not None), default=None)
    if not newest:
        return held
    acked = held[newest]
    assert acked.acked_t is not None
    ack_t = acked.acked_t
    keep = [
        c
        for c in held[:newest]
        if not followed
        and value_at(c, ack_t, bounds) > value_at(acked, ack_t, bounds) + EPS_A
        and t < ack_t + bounds.response_s
    ]
    if len(keep) == newest:
        return held
    return (*keep, *held[newest:])


class StepSum:
    """The sum of many envelopes over one constraint, as a step function from `t` on."""

    def __init__(self, t: float, envelopes: Sequence[Steps]) -> None:
        """Sum `envelopes`, each starting at `t`."""
        deltas: dict[float, float] = {}
        get = deltas.get
        for steps in envelopes:
            previous = 0.0
            for at, value in steps:
                deltas[at] = get(at, 0.0) + value - previous
                previous = value
        self.times: list[float] = []
        self.values: list[float] = []
        level = 0.0
        for at in sorted(deltas):
            level += deltas[at]
            self.times.append(at)
            self.values.append(level)
        if not self.times or self.times[0] > t:
            self.times.insert(0, t)
            self.values.insert(0, 0.0)

    def _split(self, at: float) -> int:
        """Index of the step starting at `at`, cutting a step there if needed."""
        i = bisect_left(self.times, at)
        if i < len(self.times) and self.times[i] == at:
            return i
        self.times.insert(i, at)
        self.values.insert(i, self.values[i - 1])
        return i

    def peak(self, start: float, end: float) -> float:
        """The highest value on `[start, end)`."""
        i = max(0, bisect_right(self.times, start) - 1)
        j = bisect_left(self.times, end)
        return max(self.values[i : max(j, i + 1)])

    def add(self, delta: Steps, end_t: float = math.inf) -> None:
        """Add a step function (`delta` from its first time on)."""
        for n, (at, value) in enumerate(delta):
            until = delta[n + 1][0] if n + 1 < len(delta) else end_t
            if abs(value) <= EPS_A or until <= at:
                continue
            i = self._split(at)
            j = self._split(until) if until < math.inf else len(self.times)
            for k in range(i, j):
                self.values[k] += value

    def fits(self, delta: Steps, capacity_a: float) -> bool:
        """Whether adding `delta` keeps the sum within `capacity_a` wherever `delta` adds."""
        for n, (at, value) in enumerate(delta):
            if value <= EPS_A:
                continue
            until = delta[n + 1][0] if n + 1 < len(delta) else math.inf
            if self.peak(at, until) + value > capacity_a + EPS_A:
                return False
        return True


def difference(new: Steps, old: Steps) -> Steps:
    """`new - old` as a step function (both start at the same instant)."""
    cuts = sorted({at for at, _ in new} | {at for at, _ in old})
    out: list[tuple[float, float]] = []
    for at in cuts:
        value = _at(new, at) - _at(old, at)
        if not out or abs(out[-1][1] - value) > EPS_A:
            out.append((at, value))
    return tuple(out)


def _at(steps: Steps, t: float) -> float:
    value = steps[0][1]
    for at, v in steps:
        if at > t:
            break
        value = v
    return value


def adds(delta: Steps) -> bool:
    """Whether a difference adds anywhere."""
    return any(v > EPS_A for _, v in delta)


def adds_over(new: Steps, old: Steps) -> bool:
    """Whether `new` allows more than `old` anywhere (`adds(difference(new, old))`, without
    building the difference; both start at the same instant)."""
    cuts = {at for at, _ in new}
    cuts.update(at for at, _ in old)
    return any(_at(new, at) > _at(old, at) + EPS_A for at in cuts)


def next_change_t(held: Sequence[Commitment], t: float, bounds: Bounds) -> float:
    """The first time after `t` at which the envelope of `held`, or what `settle` keeps, can
    change: a lease end on either side of the clock error, a replaced commitment retired."""
    out = math.inf
    several = len(held) > 1
    for c in held:
        x = switch_t(c, bounds)
        if t < x < out:
            out = x
        acked = c.acked_t
        if acked is not None and several:  # a replaced one is retired then
            for x in (acked, acked + bounds.response_s):
                if t < x < out:
                    out = x
    return out
