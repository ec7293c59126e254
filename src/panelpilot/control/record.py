"""Step 9 of a cycle: each charger's memory once its new limit and commitment are decided."""

from __future__ import annotations

from panelpilot.control.commitments import Commitment
from panelpilot.control.state import ChargerMemory


def record(
    mem: ChargerMemory,
    new_a: float,
    hold_a: float,
    paused: bool,
    t: float,
    sent: Commitment | None,
    response_s: float,
) -> ChargerMemory:
    """`mem` after a cycle that gave it `new_a` (sending `sent`, if any): a decrease starts
    the hold on what the car may still draw (`hold_a`: the most it was counted at, at least
    its old limit) for `response_s`, and only a decrease changes it, so the hold stands in
    every cycle of that time the car is measured above its new limit (`steps_for`); a change
    of turn (admitted or paused) restarts its turn clock. `mem` itself when nothing changes."""
    if sent is None and new_a == mem.limit_a:
        # The common case, checked without building anything: the same limit (so no hold
        # starts), nothing sent; `mem` itself unless its turn changes.
        admitted = new_a > 0 or (not paused and mem.connected and mem.demand_a > 0)
        if admitted == mem.admitted:
            return mem
    hold_until_t, changed_t = mem.hold_until_t, mem.changed_t
    if new_a < mem.limit_a:
        hold_a = max(hold_a, mem.limit_a)
        hold_until_t = t + response_s
    else:
        hold_a = mem.hold_a
    if new_a != mem.limit_a:
        changed_t = t
    held = mem.held if sent is None else (*mem.held, sent)
    admitted = new_a > 0 or (not paused and mem.connected and mem.demand_a > 0)
    turn_since_t = t if admitted != mem.admitted else mem.turn_since_t
    if new_a == mem.limit_a and sent is None and admitted == mem.admitted:
        return mem
    return mem._replace(
        limit_a=new_a,
        hold_a=hold_a,
        hold_until_t=hold_until_t,
        changed_t=changed_t,
        held=held,
        admitted=admitted,
        turn_since_t=turn_since_t,
    )


def record_sent(mem: ChargerMemory, sent: Commitment | None) -> ChargerMemory:
    """A charger that is silent or counted at more than its limit: only what was sent."""
    return mem if sent is None else mem._replace(held=(*mem.held, sent))
