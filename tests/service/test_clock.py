"""`ScaledClock`: the demo's `--speed`."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.service.clock import ScaledClock


def test_a_scaled_clock_runs_faster_by_its_speed() -> None:
    clock = ScaledClock(50.0)
    mono0, wall0 = clock.monotonic_s(), clock.wall_s()
    asyncio.run(clock.sleep(5.0))  # 0.1 s of real time
    # Every scaled second is a real one divided by the speed: at least the 5 s slept have
    # passed on both of its clocks, and they moved together.
    moved = clock.monotonic_s() - mono0
    assert moved >= 5.0
    assert abs((clock.wall_s() - wall0) - moved) < 1.0


@pytest.mark.parametrize("speed", [0.0, -1.0])
def test_a_scaled_clock_refuses_a_speed_that_is_not_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="must be above 0"):
        ScaledClock(speed)
