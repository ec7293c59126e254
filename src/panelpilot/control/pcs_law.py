"""How a Power Control System cap moves from one cycle to the next (control.md, "How the caps
move").

Every limit (`control/pcs.py`) gives two caps per source from what is measured now: `low`, the
most the source may have without crossing a threshold (a stage of the Panel Limit, the
Conductor Limit, the export limit), and `high`, the most it may have while staying a deadband
below every threshold (`high <= low`). The cap in force moves:

* down to `low` at once, whenever it is above it;
* up toward `high` only after a hold since it was last lowered, and then by at most one
  cycle's share of its rating per `raise_s`: the source comes back gradually, and `high` is
  measured again before every step;
* not at all while it lies between the two (the deadband).

A lowering that follows a raise is a *reversal*. Each doubles the hold (30 s, 1 min, 2 min,
... with the default `hold_s`, never more than an hour), and a lowering after an hour without
one brings it back to `hold_s`. Between the n reversals of a cap inside any hour lie raises,
each after its hold, of at least hold_s x (1 + 2 + ... + 2^(n-2)), which bounds n
(`max_reversals_per_hour`: 7 with the default 30 s).

A stage's warning (`STAGE_CODES`) is held the same way (`hold_stages`): it starts when its
threshold is crossed, stays while the current is inside the deadband below it, and ends only
once it has stayed below the deadband for `hold_s`; a load hovering at a threshold raises one
warning, not one per crossing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from panelpilot.control.tolerances import EPS
from panelpilot.control.types import Alert

# An hour without a lowering forgets the reversals before it; no hold is longer.
QUIET_S = 3600.0
# The warnings of a limit's stages, held through the deadband and the hold (`hold_stages`).
STAGE_CODES = frozenset(
    {
        "panel_limit_battery",
        "panel_limit_solar",
        "conductor_limit",
        "export_limit_battery",
        "export_limit_solar",
    }
)


class CapMemory(NamedTuple):
    """One cap in force and how it last moved."""

    cap_a: float
    lowered_t: float = -math.inf  # when it was last lowered
    raised: bool = False  # raised since then
    backoff: int = 0  # reversals in a row, each doubling the hold


@dataclass(frozen=True, slots=True)
class PcsMemory:
    """Every cap in force (by `cap_key`), and whether controllable solar is held down for the
    export limit (the export step gives room back to it first)."""

    caps: Mapping[str, CapMemory] = field(default_factory=dict)
    export_curtailing: bool = False
    # Each stage warning in force (by code and device): when its condition last held, and
    # the warning as it was last raised at the threshold itself.
    stages: Mapping[tuple[str, str | None], tuple[float, Alert]] = field(default_factory=dict)


class Law(NamedTuple):
    """The site file's `pcs` settings that shape how caps move, and the cycle's time."""

    t: float
    dt_s: float  # since the last cycle, at most one period (a long gap is not a long step)
    hold_s: float
    raise_s: float


def cap_key(kind: str, device: str) -> str:
    """The memory's key for a device's cap: kind is discharge, charge or solar."""
    return f"{kind}:{device}"


def hold_of(mem: CapMemory, hold_s: float) -> float:
    """How long after its last lowering a cap waits before it rises."""
    return min(QUIET_S, hold_s * 2.0**mem.backoff)


def move(
    mem: CapMemory | None, rating_a: float, low_a: float, high_a: float, law: Law
) -> CapMemory:
    """The cap in force after this cycle (see the module's docstring)."""
    if mem is None:
        mem = CapMemory(rating_a)  # nothing held back before the first measurement
    cap = mem.cap_a
    if low_a < cap - EPS:
        if law.t - mem.lowered_t >= QUIET_S:
            backoff = 0
        else:
            backoff = mem.backoff + 1 if mem.raised else mem.backoff
        return CapMemory(max(0.0, low_a), law.t, False, min(backoff, 12))
    high = min(high_a, low_a, rating_a)
    if high > cap + EPS and law.t >= mem.lowered_t + hold_of(mem, law.hold_s):
        step = rating_a * law.dt_s / law.raise_s
        return mem._replace(cap_a=min(high, cap + step), raised=True)
    return mem


def hold_stages(
    memory: PcsMemory, at: list[Alert], near: list[Alert], t: float, hold_s: float
) -> tuple[list[Alert], dict[tuple[str, str | None], tuple[float, Alert]]]:
    """The cycle's alerts with its stage warnings held, and the warnings' memory.

    `at` are the alerts raised at the thresholds, `near` those raised a deadband below them.
    A stage warning in `at` is (re)started with its message; one only in `near` keeps the
    message it was started with; one in neither lasts until `hold_s` after it last held.
    """
    stages: dict[tuple[str, str | None], tuple[float, Alert]] = {}
    out = [a for a in at if a.code not in STAGE_CODES]
    for a in at:
        if a.code in STAGE_CODES:
            stages[(a.code, a.device)] = (t, a)
    for a in near:
        key = (a.code, a.device)
        if a.code in STAGE_CODES and key not in stages and key in memory.stages:
            stages[key] = (t, memory.stages[key][1])
    for key, (seen_t, a) in memory.stages.items():
        if key not in stages and t - seen_t < hold_s:
            stages[key] = (seen_t, a)
    out.extend(a for _, a in stages.values())
    return out, stages


def max_reversals_per_hour(hold_s: float) -> int:
    """The most reversals one cap can make in any hour (see the module's docstring)."""
    n, spent = 1, 0.0
    while True:
        spent += min(QUIET_S, hold_s * 2.0 ** (n - 1))
        if spent >= QUIET_S:
            return n
        n += 1
