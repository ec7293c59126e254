"""The runtime's clock, injectable so tests step cycles without sleeping."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic time for the control loop, wall time for records, and a way to wait."""

    def monotonic_s(self) -> float:
        """Seconds that only increase (the snapshots' `t`)."""
        ...

    def wall_s(self) -> float:
        """Seconds since the Unix epoch (what records are stamped with)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this long."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic_s(self) -> float:
        """`time.monotonic()`."""
        return time.monotonic()

    def wall_s(self) -> float:
        """`time.time()`."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """`asyncio.sleep`."""
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Time that runs `speed` times faster than the real clock from the moment it is made
    (`panelpilot demo --speed`: at 10, ten demo minutes pass in one real minute). Every part
    of the demo reads and waits on it: the control loop, the central system's commitments,
    the simulated charge points' own clocks, the cars and the loads."""

    def __init__(self, speed: float) -> None:
        if not speed > 0:
            raise ValueError(f"speed {speed}: must be above 0")
        self.speed = speed
        self._real0_s = time.monotonic()
        self._wall0_s = time.time()

    def _elapsed_s(self) -> float:
        return (time.monotonic() - self._real0_s) * self.speed

    def monotonic_s(self) -> float:
        """Real monotonic seconds since the start, times `speed`, from the real start."""
        return self._real0_s + self._elapsed_s()

    def wall_s(self) -> float:
        """The wall clock at the start plus the scaled time since."""
        return self._wall0_s + self._elapsed_s()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of scaled time."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)


class ManualClock:
    """A clock that moves only when told (tests, faster-than-real-time runs)."""

    def __init__(self, start_s: float = 1_000.0, wall_offset_s: float = 1.7e9) -> None:
        self.now_s = start_s
        self.wall_offset_s = wall_offset_s

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now_s += seconds

    def monotonic_s(self) -> float:
        """The current manual time."""
        return self.now_s

    def wall_s(self) -> float:
        """The manual time shifted to a plausible epoch."""
        return self.now_s + self.wall_offset_s

    async def sleep(self, seconds: float) -> None:
        """Advance time instead of waiting, and let other tasks run."""
        self.now_s += max(0.0, seconds)
        await asyncio.sleep(0)
