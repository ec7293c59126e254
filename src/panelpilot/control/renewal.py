"""Leases falling due at a fixed point: the commit step again, and nothing else.

A cycle after a fixed point whose readings, capacities and other timers are as the fixed
point's (`steady.Steady.holds`), and in which only leases fall due, computes again everything
the fixed point computed except in step 8, which now renews those leases. So it runs only that
step, with the fixed point's claims and limits (`steady.Fixed`) and this cycle's capacities,
and records what it sends (step 9). The cycle after it sees the renewals acknowledged (step 2,
`presence.observe`), sends nothing and is a fixed point again.

Each of the two checks what its commit step did: nothing waiting, every limit as before, and
only renewals of what each charger holds (the same limit and fallback, a later lease end).
Anything else is decided in full by every step. The test suite runs both ways on random sites
and compares every decision and memory (tests/control/test_steady.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from panelpilot.control.leases import Job, Leases
from panelpilot.control.presence import observe
from panelpilot.control.record import record
from panelpilot.control.state import ControllerState
from panelpilot.control.steady import Steady, quiet_until, region
from panelpilot.control.types import Snapshot
from panelpilot.site.model import ControlSettings


@dataclass(frozen=True, slots=True)
class Renewal:
    """What a renewal cycle (or the one after it) decided: the controller's memory, the next
    cycle's conditions, and the decision's `steady_until_t`."""

    state: ControllerState
    steady: Steady
    until_t: float


def renewal_cycle(
    steady: Steady,
    snap: Snapshot,
    state: ControllerState,
    leases: Leases,
    cfg: ControlSettings,
    caps: list[float],
    room: list[float],
) -> Renewal | None:
    """The cycle at `snap.t` after `steady`, from `until_t` on (see the module), or None."""
    fixed, t, chargers = steady.fixed, snap.t, state.chargers
    if fixed is None or state.first_t is None:
        return None
    if steady.renewing:
        presence = observe(chargers, snap, state.online, leases.bounds)
        if presence.defiant:
            return None
        chargers = presence.chargers
    job = Job(t, chargers, fixed.claims, dict(fixed.limits), fixed.fallbacks, {}, {}, caps,
              fixed.layout)  # fmt: skip
    sent = leases.commit(job)
    if sent.limits != fixed.limits:
        return None
    out, decisions = dict(chargers), dict(steady.decisions)
    for cid, c in sent.commitments.items():
        mem = chargers[cid]
        newest = mem.held[-1] if mem.held else None
        if newest is None or (c.limit_a, c.fallback_a) != (newest.limit_a, newest.fallback_a):
            return None
        out[cid] = record(mem, mem.limit_a, mem.hold_a, cid in fixed.paused, t, c, cfg.response_s)
        decisions[cid] = decisions[cid]._replace(fallback_a=c.fallback_a, lease_until_t=c.until_t)
    if sent.commitments or sent.pending:
        renewing = replace(steady, decisions=decisions, renewing=True)
        return Renewal(replace(state, chargers=out), renewing, t)
    other_t, renew_t = quiet_until(chargers, state.online, {}, leases, cfg, t, state.first_t)
    low, high = region(fixed.allocation, room, fixed.layout)
    until = min(other_t, renew_t)
    again = replace(
        steady,
        t=t,
        until_t=until,
        other_t=other_t,
        low_a=low,
        high_a=high,
        decisions=decisions,
        renewing=False,
    )
    return Renewal(
        state if chargers is state.chargers else replace(state, chargers=chargers), again, until
    )
