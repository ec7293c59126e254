"""Part of step 5 of a cycle (`claims`): what each car would draw if offered more.

A car that draws less than it is offered (a full battery, a small on-board charger) is capped
near its real draw so its spare current goes to the others, and a car that uses all it is
offered is taken to want its charger's max again. A capped car is re-probed `probe_s` after it
was capped: offered its whole demand, the headroom above its draw included, ahead of the
others (the headroom is otherwise served last). Drawing all of it shows it wants more, as an
offer of its max would, at a cost to the cars beside it of the headroom, not of its max less
its draw. Each probe it leaves unused doubles the wait before the next, up to `probe_max_s`,
because a probe takes current from the cars that are charging for the seconds it lasts. A car
seen using all it is offered starts again from `probe_s`. A probe whose raise waits for room
(another car must lower first) is judged only once the raise has been sent, so a probe never
counts as unused before the car was offered more.

A car plugged in that does not draw is idle (a standby claim) and gets a test turn now and
then. What each car claims from these estimates, and in which order, is `claims`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from panelpilot.control.state import ChargerMemory
from panelpilot.control.types import ChargerReading, Snapshot
from panelpilot.field import DRAWING_A
from panelpilot.site.model import Charger, ControlSettings


def update(
    mem: ChargerMemory, charger: Charger, reading: ChargerReading, t: float, cfg: ControlSettings
) -> ChargerMemory:
    """`mem` with its demand estimate refreshed from what the car drew once its last change
    has settled (`mem` itself when nothing changes)."""
    if not reading.connected or not mem.connected:
        return _plugged(mem, charger, reading.connected, t)
    demand_a, capped, idle, unused, probing = _observed(mem, charger, reading.current_a, t, cfg)
    probe_t = mem.probe_t
    # (A car that draws nothing is not probed: its standby minimum shows when it starts.)
    if capped is not None and not idle and not probing and t >= _probe_due(capped, unused, cfg):
        # Re-probe: does it want more? Offered its whole demand, the headroom above its draw
        # included, as a firm claim: a car that draws all of it is taken to want its max.
        capped, probing, probe_t = None, True, t
    charged = mem.charged or reading.current_a >= DRAWING_A
    if idle and not mem.admitted and t >= _test_due(mem.turn_since_t, unused, charged, cfg):
        # A paused car that does not draw gets a test turn at its minimum now and then to
        # show it wants; each one it leaves unused doubles the wait, like a probe's.
        idle, probing, probe_t = False, True, t
    able = _able(mem, charger, reading.current_a, t, cfg)
    new = (demand_a, capped, idle, unused, probing, probe_t, able, charged)
    if new == (
        mem.demand_a,
        mem.capped_since_t,
        mem.idle_car,
        mem.probes_unused,
        mem.probing,
        mem.probe_t,
        mem.able_a,
        mem.charged,
    ):
        return mem
    return mem._replace(
        demand_a=demand_a,
        capped_since_t=capped,
        idle_car=idle,
        probes_unused=unused,
        probing=probing,
        probe_t=probe_t,
        able_a=able,
        charged=charged,
    )


def settled(
    chargers: Mapping[str, Charger],
    estimated: Mapping[str, ChargerMemory],
    observed: Mapping[str, ChargerMemory],
    snap: Snapshot,
    t: float,
    cfg: ControlSettings,
) -> bool:
    """Whether every demand estimate this cycle refreshed (`observed` -> `estimated`) stays
    as it is when refreshed again from the same readings: then a cycle that changed only
    those estimates is still a fixed point (a tapering car's 0.1 A step costs one full cycle,
    not two)."""
    readings = snap.chargers
    return all(
        update(m, chargers[c], readings[c], t, cfg) is m
        for c, m in estimated.items()
        if m is not observed[c]
    )


def _able(
    mem: ChargerMemory, charger: Charger, drawn_a: float, t: float, cfg: ControlSettings
) -> float:
    """The most the car can draw now, as far as seen: what it drew when it last drew less
    than it was offered (an on-board charger's limit, a battery tapering); inf while it has
    used all it was offered above that."""
    settled = t - mem.changed_t >= cfg.response_s and mem.limit_a >= charger.min_a
    if not settled or drawn_a < DRAWING_A:
        return mem.able_a
    if drawn_a < mem.limit_a - cfg.resolution_a:
        return mem.able_a if _within_step(mem.able_a, drawn_a, cfg.resolution_a) else drawn_a
    return math.inf if drawn_a > mem.able_a else mem.able_a


def _within_step(held: float, now: float, step: float) -> bool:
    """Whether `now` is less than a step below `held` and at most half a step above it: a
    value held while a reading wanders within a step (a real charger's meter), and moved once
    per step while it falls (a tapering battery)."""
    return held - step < now <= held + step / 2


def _plugged(mem: ChargerMemory, charger: Charger, connected: bool, t: float) -> ChargerMemory:
    """A car unplugged wants nothing; one just plugged in is assumed to want everything."""
    demand_a = charger.max_a if connected else 0.0
    if mem.connected == connected and mem.demand_a == demand_a and _reset(mem):
        return mem
    arrived = connected and not mem.connected
    return mem._replace(
        connected=connected,
        plugged_t=t if arrived else mem.plugged_t,
        # A car just plugged in has waited for its turn since then, not since the charger's
        # last car left (or the controller started).
        turn_since_t=t if arrived else mem.turn_since_t,
        demand_a=demand_a,
        capped_since_t=None,
        idle_car=False,
        probes_unused=0,
        probing=False,
        able_a=math.inf,
        charged=False,
    )


def _observed(
    mem: ChargerMemory, charger: Charger, drawn_a: float, t: float, cfg: ControlSettings
) -> tuple[float, float | None, bool, int, bool]:
    """(demand, capped since, idle, probes unused, probing) from what the car draws, once its
    last change has settled (J1772: a car follows within 5 s); as they were before that."""
    unused = mem.probes_unused
    if t - mem.changed_t < cfg.response_s or mem.limit_a < charger.min_a or _offer_due(mem, t, cfg):
        return mem.demand_a, mem.capped_since_t, mem.idle_car, unused, mem.probing
    if drawn_a >= mem.limit_a - cfg.resolution_a:
        if _headroom_withheld(mem, drawn_a, cfg.resolution_a):
            # Offered what it was seen able to draw, its headroom gone to others: that it
            # draws it all says nothing new.
            return mem.demand_a, mem.capped_since_t, mem.idle_car, unused, mem.probing
        return charger.max_a, None, False, 0, False  # uses all it gets: it may want more
    demand_a = _capped_demand(mem, charger, drawn_a, cfg)
    capped = t if mem.capped_since_t is None else mem.capped_since_t
    if mem.probing:
        unused += 1  # offered more, it still drew less than it had
    return demand_a, capped, drawn_a < DRAWING_A, unused, False


def _capped_demand(
    mem: ChargerMemory, charger: Charger, drawn_a: float, cfg: ControlSettings
) -> float:
    """A capped car's demand: its draw + `headroom_a`, up to a whole `resolution_a` step
    (limits are given in steps). Once capped, it moves only when the draw does by more than
    a step down or half a step up, so a reading that wanders within a step (a real charger's
    meter) changes nothing, and a tapering car is given a new limit once per step, not once
    per reading."""
    step = cfg.resolution_a
    want = drawn_a + cfg.headroom_a
    if mem.capped_since_t is not None and _within_step(mem.demand_a, want, step):
        return mem.demand_a
    stepped = math.ceil(want / step - 1e-9) * step
    return min(charger.max_a, max(charger.min_a, stepped))


def _headroom_withheld(mem: ChargerMemory, drawn_a: float, resolution_a: float) -> bool:
    """A capped car given less than its demand (not its headroom) that draws no more than it
    was seen able to. A capped car given all of its demand that draws it all may want more:
    its cap is undone (a cap that is stale, from a moment it drew less, must not stick)."""
    return (
        mem.capped_since_t is not None
        and mem.limit_a < mem.demand_a - resolution_a / 2
        and drawn_a <= mem.able_a + resolution_a / 2
    )


def _offer_due(mem: ChargerMemory, t: float, cfg: ControlSettings) -> bool:
    """A probe whose raise has not been sent yet (it waits for room), for at most `probe_s`:
    what the car draws does not answer it yet."""
    return mem.probing and mem.changed_t < mem.probe_t and t - mem.probe_t < cfg.probe_s


def _reset(mem: ChargerMemory) -> bool:
    return (
        mem.capped_since_t is None
        and not mem.idle_car
        and mem.probes_unused == 0
        and not mem.probing
        and mem.able_a == math.inf
        and not mem.charged
    )


def _probe_due(capped_since_t: float, probes_unused: int, cfg: ControlSettings) -> float:
    # (The exponent is bounded: a car parked for weeks must not overflow a float.)
    wait = min(cfg.probe_s * 2.0 ** min(probes_unused, 40), max(cfg.probe_s, cfg.probe_max_s))
    return capped_since_t + wait


def _test_due(paused_t: float, tests_unused: int, charged: bool, cfg: ControlSettings) -> float:
    """When a paused car that draws nothing gets its next test turn: a car that charged and
    stopped is full, and is asked every `standby_test_max_s`; one that has not drawn yet (a
    timer of its own) first after `probe_s`, the wait doubling up to that."""
    cap = max(cfg.probe_s, cfg.standby_test_max_s)
    if charged:
        return paused_t + cap
    return paused_t + min(cfg.probe_s * 2.0 ** min(tests_unused, 40), cap)


def probe_due_t(mem: ChargerMemory, cfg: ControlSettings) -> float:
    """When a capped car is next probed (offered its headroom back), or a paused one that
    does not draw its test turn (inf when neither is due)."""
    if mem.idle_car:
        if mem.admitted:
            return float("inf")
        return _test_due(mem.turn_since_t, mem.probes_unused, mem.charged, cfg)
    if mem.capped_since_t is None:
        return float("inf")
    return _probe_due(mem.capped_since_t, mem.probes_unused, cfg)
