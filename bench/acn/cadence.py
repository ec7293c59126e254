"""The service's cadence inside one ACN period: the follow-up cycles a real site runs.

The service decides every second, so within a minute it sees each car follow its new pilot
(J1772: within `response_s`, 5 s) and acts on it: a raise waiting for current freed by a
lowered car goes out, a probe is judged as soon as the probed car's reading settles, a car
that stopped drawing gives its current back. ACN asks once a minute. So after the period's
decision the benchmark runs up to `MAX_FOLLOW_UPS` further cycles within the period, each
`response_s` after the one before (just before the hold on the lowered cars runs out), with
every car reading what its battery model says it draws at the pilot it was just sent, and
sends the last cycle's pilots for the period.

What this assumes, and its bias: the readings are ACN's own battery model (`draws`), so no
reading is made up beyond what the car would do; the pilots of the first follow-ups apply to
ACN for the whole period, not for their first `k x response_s` seconds (at most 20 s of 60),
so a change reaches ACN up to 20 s early. A lowering is never late: every cycle's decision,
the last included, is within every limit.

No acnportal here (tested by `make test` without it); `adapter` passes the battery model in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bench.acn.site import pilot_of
from panelpilot.control import Controller, Decision, Snapshot

# At most this many follow-up cycles per ACN period (each `response_s` after the last). Four,
# because a full car's test turn takes four of the service's cycles after the one that
# starts it (which lowers the cars beside it): its raise, one that waits out the car's
# response, the one that finds the turn unused and ends it, and the one that gives the cars
# beside it their current back once that is taken. With three, that give-back never
# reached ACN: each test turn cost them the whole minute, where the service takes about 10 s.
MAX_FOLLOW_UPS = 4
# A follow-up runs this long before the lowered cars' hold on their old limit runs out.
BEFORE_HOLD_ENDS_S = 1e-3
READING_DECIMALS = 1

# (EVSE id, pilot A) -> the current its car draws once it has followed that pilot.
Draws = Callable[[str, float], float]


def followed(
    snap: Snapshot, decision: Decision, response_s: float, draws: Draws, top_a: float
) -> Snapshot:
    """The snapshot `response_s` after `snap`: each plugged-in car draws what it does at the
    pilot `decision` sent it; nothing else has changed."""
    readings = {}
    for sid, r in snap.chargers.items():
        if r.connected:
            pilot = pilot_of(decision.chargers[sid].limit_a, top_a)
            r = replace(r, current_a=round(draws(sid, pilot), READING_DECIMALS))
        readings[sid] = r
    return Snapshot(snap.t + response_s - BEFORE_HOLD_ENDS_S, snap.meters, readings)


def unsettled(controller: Controller, decision: Decision) -> bool:
    """True while the service's next cycle would still act: a raise waits for room or a probe
    waits for the probed car's reading."""
    if any(d.limit_a + 1e-9 < d.target_a for d in decision.chargers.values()):
        return True
    return any(m.probing for m in controller.state.chargers.values())


def settle(
    controller: Controller, snap: Snapshot, draws: Draws, top_a: float
) -> tuple[Decision, int]:
    """The period's decision, then its follow-up cycles while something is still moving: the
    last decision (the one whose pilots ACN gets) and how many cycles were run."""
    decision = controller.decide(snap)
    control = controller.site.control
    response_s, next_period_t = control.response_s, snap.t + control.period_s
    cycles = 1
    for _ in range(MAX_FOLLOW_UPS):
        after = followed(snap, decision, response_s, draws, top_a)
        if after.t >= next_period_t:
            break  # (a short ACN period: the next period's decision comes first)
        if after.chargers == snap.chargers and not unsettled(controller, decision):
            break
        snap = after
        decision = controller.decide(snap)
        cycles += 1
    return decision, cycles
