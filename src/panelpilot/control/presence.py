"""Step 2 of a cycle: who reported, what each charger says it holds, who does not follow.

* A removed unit stays at 6 A until its breaker is cycled (seed: power sharing); a power
  cycle shows as the unit going silent and coming back.
* What a charger acknowledges (`ChargerReading.commitment_t`) retires the commitments it
  replaced, once the car has had its response time or is measured at the acknowledged limit.
* A charger that says it runs above the limit it was given (it rejected the profile, or has
  not applied it yet) is *defiant*: counted at what it says, fail safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from panelpilot.control.commitments import Bounds, acknowledge, settle
from panelpilot.control.state import ChargerMemory
from panelpilot.control.tolerances import EPS
from panelpilot.control.types import ChargerReading, Snapshot

# A car measured within this of a lower limit it acknowledged has followed it (meters read
# to 0.1 A); until then, or `response_s`, it may still draw what it was allowed before.
FOLLOWED_A = 0.1


@dataclass(frozen=True, slots=True)
class Presence:
    """The chargers' memories after this cycle's readings, and who does not follow."""

    chargers: dict[str, ChargerMemory]
    defiant: dict[str, float]  # online chargers reporting a limit above theirs: that limit


def online_of(snap: Snapshot) -> frozenset[str]:
    """The chargers that reported in this snapshot."""
    return frozenset(cid for cid, r in snap.chargers.items() if r.online)


def power_cycles(removed: Mapping[str, bool], online: frozenset[str]) -> Mapping[str, bool]:
    """Removed units seen silent, and those back after a power cycle (no longer removed)."""
    if not removed:
        return removed
    out: dict[str, bool] = {}
    for cid, was_silent in removed.items():
        if cid not in online:
            out[cid] = True
        elif not was_silent:
            out[cid] = False
    return out if out != removed else removed


def acknowledged(
    mem: ChargerMemory, reading: ChargerReading | None, t: float, bounds: Bounds
) -> ChargerMemory:
    """`mem` with what its charger acknowledges marked and what that retires dropped."""
    held = mem.held
    followed = False
    if reading is not None:
        held = acknowledge(held, reading.commitment_t, t)
        if len(held) > 1:
            acked = next((c for c in reversed(held) if c.acked_t is not None), None)
            # Measured at (or below) the limit it acknowledged: the car has followed.
            followed = acked is not None and reading.current_a <= acked.limit_a + FOLLOWED_A
    if len(held) > 1:
        held = settle(held, t, bounds, followed)
    return mem if held is mem.held else mem._replace(held=held)


def acknowledged_now(
    mem: ChargerMemory, reading: ChargerReading | None, t: float, bounds: Bounds
) -> ChargerMemory:
    """`acknowledged`, or `mem` itself where there is nothing to acknowledge or retire: one
    commitment, acknowledged (the common case, checked without building anything)."""
    held = mem.held
    if len(held) > 1 or (held and held[0].acked_t is None):
        return acknowledged(mem, reading, t, bounds)
    return mem


def observe(
    chargers: Mapping[str, ChargerMemory], snap: Snapshot, online: frozenset[str], bounds: Bounds
) -> Presence:
    """Acknowledgements and defiance from this cycle's readings."""
    out = dict(chargers)
    defiant: dict[str, float] = {}
    t = snap.t
    for cid, mem in chargers.items():
        reading = snap.chargers[cid] if cid in online else None
        new = acknowledged_now(mem, reading, t, bounds)
        if reading is not None:
            reported = reading.limit_a
            if reported is None or reported <= new.limit_a + EPS:
                if new.defiant_since_t is not None:
                    new = new._replace(defiant_since_t=None)
            else:
                defiant[cid] = reported
                if new.defiant_since_t is None:
                    new = new._replace(defiant_since_t=t)
        if new is not mem:
            out[cid] = new
    return Presence(out, defiant)
