"""Driver supervision: a driver that raises or hangs is marked down and retried with backoff.

A driver's failure never reaches the control loop: a charger that cannot be read is reported
offline (the controller then reserves its fallback), a meter that cannot be read is lost (the
controller fails safe). Drivers may offer `connect()` and `close()`; `connect()` is called
before the first use and again on every retry after a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from panelpilot.control.alerts import alert
from panelpilot.control.types import Alert
from panelpilot.drivers.base import DriverError

T = TypeVar("T")

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0


@runtime_checkable
class Connectable(Protocol):
    """An optional driver ability: (re)open its connection."""

    async def connect(self) -> None:
        """Open (or reopen) the connection to the device."""
        ...


@runtime_checkable
class Closable(Protocol):
    """An optional driver ability: release its connection."""

    async def close(self) -> None:
        """Close the connection."""
        ...


@dataclass(slots=True)
class Health:
    """What the supervisor knows about one driver."""

    device_id: str
    up: bool = False
    connected: bool = False
    failures: int = 0  # consecutive
    errors_total: int = 0
    retry_at_s: float = float("-inf")
    last_error: str | None = None


class Supervisor:
    """Calls one driver with a timeout; after a failure waits `backoff` before trying again."""

    def __init__(
        self, device_id: str, driver: object, timeout_s: float, now_s: Callable[[], float]
    ) -> None:
        self.driver = driver
        self.timeout_s = timeout_s
        self.now_s = now_s
        self.health = Health(device_id)

    def ready(self) -> bool:
        """Whether the driver may be called now (up, or its backoff has passed)."""
        return self.health.up or self.now_s() >= self.health.retry_at_s

    async def call(self, make: Callable[[], Awaitable[T]]) -> T | None:
        """Run one driver call; None when the driver is backing off or failed now."""
        if not self.ready():
            return None
        h = self.health
        try:
            if not h.connected and isinstance(self.driver, Connectable):
                await asyncio.wait_for(self.driver.connect(), self.timeout_s)
            h.connected = True
            result = await asyncio.wait_for(make(), self.timeout_s)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            self._failed(f"no answer within {self.timeout_s:g} s")
            return None
        except DriverError as exc:
            self._failed(exc.message)
            return None
        except Exception as exc:  # a driver's bug must not stop the loop
            self._failed(f"{type(exc).__name__}: {exc}")
            return None
        h.up, h.failures, h.last_error = True, 0, None
        return result

    def _failed(self, message: str) -> None:
        h = self.health
        h.up, h.connected = False, False
        h.failures += 1
        h.errors_total += 1
        h.last_error = message
        h.retry_at_s = self.now_s() + min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (h.failures - 1))

    def alert(self) -> Alert | None:
        """A `driver_down` alert while the driver is failing."""
        h = self.health
        if h.failures == 0:
            return None
        return alert(
            "driver_down",
            f"{h.device_id}: {h.last_error} ({h.failures} failures in a row; retrying)",
            h.device_id,
        )

    async def close(self) -> None:
        """Close the driver's connection if it has one; errors are ignored on the way out."""
        if isinstance(self.driver, Closable):
            try:
                await asyncio.wait_for(self.driver.close(), self.timeout_s)
            except Exception:  # closing is best effort
                return
