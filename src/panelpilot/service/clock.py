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
