"""A cycle after a fixed point that runs only the steps whose inputs moved.

While a fixed point's readings and lost meters hold and no timer but a lease renewal is due
(`steady.Steady.holds`), the claims (step 5) come out as the fixed point's, so two steps may
be all that a cycle needs to run again, on the fixed point's own inputs (`steady.Fixed`):

* a capacity left its region (the allocation may come out otherwise): step 6, the
  allocation; where its targets and pauses come out the same, so do the limits (a fixed point
  has no raise waiting, so sequencing changes nothing), and the region is the new one's;
* leases fall due: step 8, the commit step, which renews them, and step 9 records what it
  sends. The cycle after it sees the renewals acknowledged (step 2, `presence.observe`) and
  runs the commit step again, which on a settled site sends nothing: a fixed point again. A
  renewal that does not fit at once (the chargers below their fallback renew first) takes one
  such cycle more. Where every renewal was sent and no charger says which lease it holds, the
  renewing cycle works that next cycle out at once (`acknowledged_ahead`, `steady.Ahead`).

Each checks what its steps did: the same targets and pauses, every limit as before, and only
renewals of what each charger holds (the same limit and fallback, a later lease end).
Anything else, and any cycle with a silent or defiant charger, is decided by every step. The
test suite runs both ways on random sites and compares every decision and memory
(tests/control/test_steady.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from panelpilot.control.commitments import Commitment
from panelpilot.control.leases import Job, Leases, Sent
from panelpilot.control.presence import observe
from panelpilot.control.record import record
from panelpilot.control.sharing import allocate
from panelpilot.control.state import ChargerMemory, ControllerState
from panelpilot.control.steady import Ahead, Fixed, Steady, quiet_until, region
from panelpilot.control.types import ChargerDecision, Snapshot
from panelpilot.site.model import ControlSettings


@dataclass(frozen=True, slots=True)
class Rerun:
    """What the cycle decided: the controller's memory, the next cycle's conditions, and the
    decision's `steady_until_t`."""

    state: ControllerState
    steady: Steady
    until_t: float


def rerun(
    steady: Steady,
    snap: Snapshot,
    state: ControllerState,
    leases: Leases,
    cfg: ControlSettings,
    caps: list[float],
    room: list[float],
    within: bool,
) -> Rerun | None:
    """The cycle at `snap.t` after `steady` (see the module), or None. `within`: whether every
    capacity is in its region."""
    fixed, t, chargers = steady.fixed, snap.t, state.chargers
    if fixed is None or state.first_t is None:
        return None
    if not within:
        fixed = _reallocated(fixed, room, cfg)
        if fixed is None:
            return None
    if steady.renewing:
        presence = observe(chargers, snap, state.online, leases.bounds)
        if presence.defiant:
            return None
        chargers = presence.chargers
    sent = _commit(leases, fixed, t, chargers, caps)
    if sent.limits != fixed.limits:
        return None
    renewed = _renewed(sent.commitments, chargers, steady, fixed, t, cfg)
    if renewed is None:
        return None
    out, decisions = renewed
    if sent.commitments or sent.pending:
        ahead = None
        if not sent.pending:
            ahead = acknowledged_ahead(steady, fixed, decisions, snap, state, out, leases, cfg,
                                       caps, room)  # fmt: skip
        renewing = replace(steady, decisions=decisions, renewing=True, fixed=fixed, ahead=ahead)
        return Rerun(replace(state, chargers=out), renewing, t)
    again = _again(steady, fixed, decisions, snap, state, chargers, leases, cfg, room)
    return Rerun(
        state if chargers is state.chargers else replace(state, chargers=chargers),
        again,
        again.until_t,
    )


def _commit(
    leases: Leases, fixed: Fixed, t: float, chargers: Mapping[str, ChargerMemory], caps: list[float]
) -> Sent:
    """The commit step alone, on the fixed point's claims, limits and fallbacks."""
    job = Job(t, chargers, fixed.claims, dict(fixed.limits), fixed.fallbacks, {}, {}, caps,
              fixed.layout)  # fmt: skip
    return leases.commit(job)


def _renewed(
    commitments: Mapping[str, Commitment],
    chargers: Mapping[str, ChargerMemory],
    steady: Steady,
    fixed: Fixed,
    t: float,
    cfg: ControlSettings,
) -> tuple[dict[str, ChargerMemory], dict[str, ChargerDecision]] | None:
    """The memory and decisions with `commitments` sent: None unless each renews what its
    charger holds (the same limit and fallback)."""
    out, decisions = dict(chargers), dict(steady.decisions)
    for cid, c in commitments.items():
        mem = chargers[cid]
        newest = mem.held[-1] if mem.held else None
        if newest is None or (c.limit_a, c.fallback_a) != (newest.limit_a, newest.fallback_a):
            return None
        out[cid] = record(mem, mem.limit_a, mem.hold_a, cid in fixed.paused, t, c, cfg.response_s)
        decisions[cid] = decisions[cid]._replace(fallback_a=c.fallback_a, lease_until_t=c.until_t)
    return out, decisions


def _reallocated(fixed: Fixed, room: list[float], cfg: ControlSettings) -> Fixed | None:
    """`fixed` with its allocation made again for `room`: None unless its targets and pauses
    come out the same."""
    allocation = allocate(fixed.claims, room, cfg.resolution_a)
    before = fixed.allocation
    if allocation.targets_a != before.targets_a or allocation.paused != before.paused:
        return None
    return replace(fixed, allocation=allocation)


def acknowledged_ahead(
    steady: Steady,
    fixed: Fixed,
    decisions: Mapping[str, ChargerDecision],
    snap: Snapshot,
    state: ControllerState,
    chargers: dict[str, ChargerMemory],
    leases: Leases,
    cfg: ControlSettings,
    caps: list[float],
    room: list[float],
) -> Ahead | None:
    """The next cycle after renewals sent at `snap.t` after `steady` (`chargers`: the memory
    with them; `fixed` and `decisions`: what the renewing cycle worked on and decided), where
    it has the same readings (`steady.Ahead`): it acknowledges them, retires what they
    replace and sends nothing, a fixed point. None where a reading says which lease its
    charger holds, a charger is defiant, a replaced commitment stays until some time, or the
    commit step would send anything: then that cycle runs."""
    t, readings = snap.t, snap.chargers
    if any(r.commitment_t is not None for r in readings.values()):
        return None
    presence = observe(chargers, snap, state.online, leases.bounds)
    acked = presence.chargers
    if presence.defiant or any(len(m.held) > 1 for m in acked.values()):
        return None
    sent = _commit(leases, fixed, t, acked, caps)
    if sent.commitments or sent.pending or sent.limits != fixed.limits:
        return None
    return Ahead(acked, _again(steady, fixed, decisions, snap, state, acked, leases, cfg, room))


def _again(
    steady: Steady,
    fixed: Fixed,
    decisions: Mapping[str, ChargerDecision],
    snap: Snapshot,
    state: ControllerState,
    chargers: Mapping[str, ChargerMemory],
    leases: Leases,
    cfg: ControlSettings,
    room: list[float],
) -> Steady:
    """`steady` as the fixed point at `snap.t` with this memory, `fixed` and `decisions`: its
    timers and region."""
    assert state.first_t is not None
    t = snap.t
    other_t, renew_t = quiet_until(
        chargers, snap.chargers, fixed.units, state.online, {}, leases, cfg, t, state.first_t
    )
    low, high = region(fixed.allocation, room, fixed.layout)
    return replace(
        steady,
        fixed=fixed,
        decisions=decisions,
        t=t,
        until_t=min(other_t, renew_t),
        other_t=other_t,
        low_a=low,
        high_a=high,
        renewing=False,
        ahead=None,
    )
