"""Step 12 of a cycle: the conditions under which the next cycles decide the same.

A cycle that changed nothing in the chargers' memories, sent nothing and left no change
waiting is a *fixed point*: a cycle with the same charger readings, no command, no timer
fallen due and capacities for which the allocation comes out the same decides exactly what it
decided, and changes nothing again. `Steady` states those conditions, computed from what the
cycle itself found, so that `Controller.decide` can skip the chargers' steps while they hold
(the service and the simulator alike); `until_t` is also what `Decision.steady_until_t` tells.

The allocation comes out the same (`sharing.Allocation.active`) while each constraint that
shaped it keeps its capacity exactly, and each other constraint keeps at least what its
chargers were given: it turned nobody away and stopped no rounding step, so more changes
nothing, and less changes nothing while it still fits them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from panelpilot.control.capacity import Reserved
from panelpilot.control.commitments import next_change_t
from panelpilot.control.demand import probe_due_t, update
from panelpilot.control.layout import Layout
from panelpilot.control.leases import Leases
from panelpilot.control.sharing import Allocation, Claim
from panelpilot.control.state import ChargerMemory
from panelpilot.control.types import Alert, ChargerDecision, ChargerReading, NetworkState
from panelpilot.site.model import Charger, ControlSettings

# A timer is taken to fall due this much before it does, so that rounding in `t - since`
# against `since + wait` can never let a cycle skip past one.
EARLY_S = 1e-6
# Room a constraint keeps above what its chargers were given before it counts as full.
FIT_A = 1e-6
# A change's response time is taken to have run out this long (s) after it does, so that
# rounding in `t - changed_t` cannot leave the change unsettled there.
SETTLED_AFTER_S = 1e-3


@dataclass(frozen=True, slots=True)
class Fixed:
    """What a fixed point's allocation and commit steps worked on, to run one of them again
    alone (`rerun`). Kept only where no charger is silent or defiant."""

    claims: tuple[Claim, ...]
    limits: Mapping[str, float]  # each listening charger's limit, as sent or kept
    fallbacks: Mapping[str, float]
    paused: frozenset[str]
    allocation: Allocation
    layout: Layout
    units: Mapping[str, Charger]  # the site's chargers (`Topology.chargers`)


@dataclass(frozen=True, slots=True)
class Steady:
    """A fixed point's conditions, and what it decided for the chargers."""

    t: float  # the fixed point's time
    until_t: float  # the first timer (a lease renewal or any other)
    other_t: float  # the first timer other than a lease renewal
    low_a: tuple[float, ...]  # per constraint: the allocation holds for capacities >= this
    high_a: tuple[float, ...]  # ... and <= this
    readings: Mapping[str, ChargerReading]
    lost: frozenset[str]
    reserved: Reserved
    decisions: Mapping[str, ChargerDecision]
    charger_alerts: tuple[Alert, ...]
    network_alerts: tuple[Alert, ...]
    networks: Mapping[str, NetworkState]
    allocated: Mapping[str, float]  # per circuit: the online chargers' limits below it
    fixed: Fixed | None = None  # None: every step runs once the fixed point's conditions fail
    # Renewals were sent: the next cycle sees them acknowledged (`rerun`), and is not a
    # repeat of this one.
    renewing: bool = False
    # After renewals: what that next cycle decides where it has these readings (`Ahead`).
    ahead: Ahead | None = None

    def holds(self, t: float, readings: Mapping[str, ChargerReading], lost: frozenset[str]) -> bool:
        """Whether a cycle at `t` has the fixed point's inputs: the same charger readings and
        lost meters, and no timer due but lease renewals (`rerun`)."""
        return t < self.other_t and lost == self.lost and readings == self.readings

    def within(self, capacities: Sequence[float]) -> bool:
        """Whether every capacity is in its region: the allocation comes out the same."""
        return all(
            lo <= c <= hi for lo, c, hi in zip(self.low_a, capacities, self.high_a, strict=True)
        )


@dataclass(frozen=True, slots=True)
class Ahead:
    """The cycle after renewals, worked out with them (`rerun.acknowledged_ahead`): with the
    same charger readings, whose source does not say which lease a charger holds (the newest
    counts as applied, from when it was sent), it acknowledges the renewals the same way
    whenever it comes, and is then a fixed point, `steady`, until its first timer."""

    chargers: Mapping[str, ChargerMemory]  # the memory with the renewals acknowledged
    steady: Steady


def region(
    allocation: Allocation, capacities: Sequence[float], layout: Layout
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The capacities for which `allocation` comes out the same (see the module)."""
    used = [0.0] * len(capacities)
    constraints = layout.constraints
    for cid, target in allocation.targets_a.items():
        if target:
            for k in constraints[cid]:
                used[k] += target
    low, high = [], []
    for k, cap in enumerate(capacities):
        if k in allocation.active:
            low.append(cap)
            high.append(cap)
        else:
            low.append(min(cap, used[k] + FIT_A))
            high.append(math.inf)
    return tuple(low), tuple(high)


def quiet_until(
    chargers: Mapping[str, ChargerMemory],
    readings: Mapping[str, ChargerReading],
    units: Mapping[str, Charger],
    online: frozenset[str],
    defiant: Mapping[str, float],
    leases: Leases,
    cfg: ControlSettings,
    t: float,
    first_t: float,
) -> tuple[float, float]:
    """The first time after `t` at which a timer can change what a cycle decides with the
    same readings (`readings`): a hold or a response time running out where it changes
    something (`listening_times`), a probe or a turn falling due, a commitment's step (its lease
    end on either side of the clock error, a replaced one retired), or the end of what an
    earlier process can have sent; and the first time a lease falls due for renewal."""
    until = renew = math.inf
    lapsed = leases.lapsed_t(first_t)
    bounds = leases.bounds
    # (A time of inf is never taken: it stands for a timer that is not running.)
    for cid, mem in chargers.items():
        held = mem.held
        times: tuple[float, ...]
        if cid not in online:
            times = () if held else (lapsed,)
        elif cid in defiant:
            since = mem.defiant_since_t
            times = () if since is None else (since + cfg.response_s,)
        else:
            times = listening_times(mem, units[cid], readings[cid], t, cfg)
        if held:
            times += (next_change_t(held, t, bounds),)
            due = leases.renewal_due_t(held[-1])
            if t < due < renew:
                renew = due
        for x in times:
            if t < x < until:
                until = x
    return early(until), early(renew)


def listening_times(
    mem: ChargerMemory, unit: Charger, reading: ChargerReading, t: float, cfg: ControlSettings
) -> tuple[float, ...]:
    """A listening charger's timers, with its reading as it is: its turn, its probe or test
    turn, a probe not offered yet judged; a decrease's hold running out only while its car
    draws above the new limit (only then does the hold count, `sequencer.steps_for`); and its
    last change's response time running out only where the demand estimate refreshed then
    (`demand.update`, once the change has settled) comes out otherwise."""
    times: tuple[float, ...] = (
        mem.turn_since_t + cfg.rotation_s,
        probe_due_t(mem, cfg),
        mem.probe_t + cfg.probe_s if mem.probing else math.inf,
    )
    if reading.current_a > mem.limit_a + cfg.resolution_a and mem.hold_a > mem.limit_a:
        times += (mem.hold_until_t,)
    settle_t = mem.changed_t + cfg.response_s
    if t < settle_t and not _settles_as_is(mem, unit, reading, t, settle_t, times, cfg):
        times += (settle_t,)
    return times


def _settles_as_is(
    mem: ChargerMemory,
    unit: Charger,
    reading: ChargerReading,
    t: float,
    settle_t: float,
    times: tuple[float, ...],
    cfg: ControlSettings,
) -> bool:
    """Whether, from `settle_t` (when the last change has settled) to the charger's next other
    timer, the demand estimate refreshed from `reading` is `mem`'s: `demand.update` depends on
    the time only through those timers and whether the change has settled, so it is asked
    once, `SETTLED_AFTER_S` after `settle_t`, where no other timer after `t` falls first."""
    at = settle_t + SETTLED_AFTER_S
    if any(t < x <= at for x in times):
        return False
    return update(mem, unit, reading, at, cfg) is mem


def early(t: float) -> float:
    return t - EARLY_S if t < math.inf else t
