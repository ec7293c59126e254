"""Which of a listening charger's timers end a fixed point (`steady.listening_times`): only those
at which a cycle with the same readings could decide otherwise."""

from __future__ import annotations

import math

from panelpilot.control.demand import update
from panelpilot.control.state import ChargerMemory
from panelpilot.control.steady import listening_times
from panelpilot.control.types import ChargerReading
from panelpilot.site import parse_site

SITE = parse_site(
    {
        "circuits": [{"id": "service", "limit_a": 100}],
        "chargers": [{"id": "wc1", "circuit": "service", "max_a": 32}],
    }
)
UNIT, CFG = SITE.chargers[0], SITE.control
CHANGED_T = 100.0
SETTLE_T = CHANGED_T + CFG.response_s


def _tapering(draw_a: float) -> ChargerMemory:
    """A capped car lowered to 26.7 A at `CHANGED_T`, counted as drawing `draw_a` before."""
    return ChargerMemory(
        demand_a=draw_a + CFG.headroom_a,
        limit_a=26.7,
        hold_a=26.8,
        hold_until_t=SETTLE_T,
        changed_t=CHANGED_T,
        connected=True,
        capped_since_t=50.0,
        able_a=draw_a,
        admitted=True,
        turn_since_t=0.0,
        charged=True,
    )


def test_the_response_time_ends_a_fixed_point_only_where_the_settled_reading_moves_the_demand() -> (
    None
):
    reading = ChargerReading(True, True, 24.7, 26.7)
    mem = _tapering(24.7)
    # Settled, the car still draws what it was counted at: nothing changes then.
    assert update(mem, UNIT, reading, SETTLE_T + 1.0, CFG) is mem
    assert SETTLE_T not in listening_times(mem, UNIT, reading, CHANGED_T + 1.0, CFG)
    # It was counted at 26 A, more than a step above: settled, its demand follows the 24.7 A
    # it draws (within a step, it would stay: `demand._within_step`).
    moved = _tapering(26.0)
    assert update(moved, UNIT, reading, SETTLE_T + 1.0, CFG) is not moved
    assert SETTLE_T in listening_times(moved, UNIT, reading, CHANGED_T + 1.0, CFG)
    # Once settled, no response time is running.
    assert SETTLE_T not in listening_times(moved, UNIT, reading, SETTLE_T + 1.0, CFG)


def test_a_decrease_s_hold_ends_a_fixed_point_only_while_the_car_draws_above_its_new_limit() -> (
    None
):
    mem = _tapering(24.7)
    above = ChargerReading(True, True, 28.0, 26.7)
    below = ChargerReading(True, True, 24.7, 26.7)
    assert mem.hold_until_t in listening_times(mem, UNIT, above, CHANGED_T + 1.0, CFG)
    assert mem.hold_until_t not in listening_times(mem, UNIT, below, CHANGED_T + 1.0, CFG)
    # A hold no higher than the limit counts for nothing either way.
    flat = mem._replace(hold_a=mem.limit_a, hold_until_t=SETTLE_T + 2.0)
    assert flat.hold_until_t not in listening_times(flat, UNIT, above, CHANGED_T + 1.0, CFG)


def test_turns_and_probes_always_end_a_fixed_point() -> None:
    mem = _tapering(24.7)
    times = listening_times(mem, UNIT, ChargerReading(True, True, 24.7, 26.7), CHANGED_T + 1.0, CFG)
    assert mem.turn_since_t + CFG.rotation_s in times
    assert any(math.isfinite(x) and x > SETTLE_T for x in times)  # the capped car's probe
