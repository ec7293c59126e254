"""Driver supervision: a driver that raises or hangs is marked down and retried with backoff.

A driver's failure never reaches the control loop: a charger that cannot be read is reported
offline (the controller then reserves its fallback), a meter that cannot be read is lost (the
controller fails safe). Drivers may offer the abilities of `drivers/base.py`: `Connectable`
(called before the first use and again on every retry after a failure), `Closable` (at
shutdown) and `Alerting` (its alerts join the cycle's; alerts that fail are a `driver_down`).

Every call is bounded by the timeout whatever the driver does: a call that outlives it is
cancelled and left behind, not awaited (a driver that swallows the cancellation cannot hold
the loop), and while it is still running the driver is not called again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from panelpilot.control.alerts import alert
from panelpilot.control.types import Alert
from panelpilot.drivers.base import Alerting, Closable, Connectable, Driver, DriverError

T = TypeVar("T")

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0


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
        self, device_id: str, driver: Driver, timeout_s: float, now_s: Callable[[], float]
    ) -> None:
        self.driver = driver
        self.timeout_s = timeout_s
        self.now_s = now_s
        self.health = Health(device_id)
        self._busy: asyncio.Future[Any] | None = None  # a timed-out call still running
        self._busy_since_s = 0.0

    def ready(self) -> bool:
        """Whether the driver may be called now (up, or its backoff has passed)."""
        return self.health.up or self.now_s() >= self.health.retry_at_s

    async def call(self, make: Callable[[], Awaitable[T]]) -> T | None:
        """Run one driver call; None when the driver is backing off or failed now."""
        if not self.ready():
            return None
        h = self.health
        if self._busy is not None:
            if not self._busy.done():
                since_s = self.now_s() - self._busy_since_s
                self._failed(f"still busy with a call that timed out {since_s:.1f} s ago")
                return None
            self._busy = None
        try:
            if not h.connected and isinstance(self.driver, Connectable):
                await self._bounded(self.driver.connect())
            h.connected = True
            result: T = await self._bounded(make())
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

    async def _bounded(self, work: Awaitable[T]) -> T:
        """`work`, or TimeoutError after `timeout_s`; never waits for a call that hangs."""
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.cancel()
            # Left behind: if it ignores the cancellation it is still running next cycle.
            task.add_done_callback(_consume)
            self._busy, self._busy_since_s = task, self.now_s()
            raise TimeoutError
        return task.result()

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

    def device_alerts(self) -> tuple[Alert, ...]:
        """The driver's own alerts, if it is `Alerting`; a driver whose alerts fail is reported
        down for it, so its bug cannot fail the cycle."""
        if not isinstance(self.driver, Alerting):
            return ()
        try:
            return tuple(self.driver.alerts())
        except Exception as exc:  # a driver's bug must not stop the loop
            h = self.health
            why = f"{h.device_id}: its alerts failed: {type(exc).__name__}: {exc}"
            return (alert("driver_down", why, h.device_id),)

    async def close(self) -> None:
        """Close the driver's connection if it has one; errors are ignored on the way out."""
        if isinstance(self.driver, Closable):
            try:
                await self._bounded(self.driver.close())
            except Exception:  # closing is best effort
                return


def _consume(task: asyncio.Task[object]) -> None:
    """Read an abandoned call's outcome so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()
