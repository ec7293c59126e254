"""What each cycle leaves behind: telemetry, alert events, metrics, and the live stream.

Storage is a follower: the control thread hands rows to a `StorageWriter` (bounded buffers,
never a wait) and a writer thread commits them. A failed write (disk full, read-only file, I/O
error) keeps the rows, raises `storage_failed` and is retried with backoff; when a buffer is
full its oldest rows are dropped and counted. The live stream crosses threads the same way:
each subscriber's queue is fed on its own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from panelpilot.control.alerts import alert
from panelpilot.control.codec import decision_to_json
from panelpilot.control.types import Alert
from panelpilot.service.database import reason
from panelpilot.service.metrics import Metrics
from panelpilot.service.runtime import CycleResult, Runtime
from panelpilot.service.storage import EventRow, Storage

DOWNSAMPLE_EVERY_CYCLES = 3600
STREAM_QUEUE = 8
TELEMETRY_BUFFER_ROWS = 600  # ten minutes at the default 1 s period
EVENT_BUFFER_ROWS = 2000
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0


def cycle_json(result: CycleResult) -> dict[str, Any]:
    """One cycle as the live stream and the telemetry store it: the decision plus readings."""
    data = decision_to_json(result.decision)
    data["wall_s"] = result.wall_s
    data["readings"] = {
        "meters": dict(result.snapshot.meters),
        "chargers": {
            cid: {"online": r.online, "connected": r.connected, "current_a": r.current_a}
            for cid, r in result.snapshot.chargers.items()
        },
        "batteries": {bid: r.current_a for bid, r in result.snapshot.batteries.items()},
        "solar": {sid: r.current_a for sid, r in result.snapshot.solar.items()},
    }
    return data


def _offer(queue: asyncio.Queue[dict[str, Any]], data: dict[str, Any]) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(data)


class Hub:
    """Fans each cycle out to the live subscribers; a slow one loses old cycles, not new.

    `publish` may be called from any thread (the control loop's); each queue is fed on the
    event loop that subscribed it, so a blocked web loop delays only its own subscribers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[asyncio.Queue[dict[str, Any]], asyncio.AbstractEventLoop] = {}
        self.latest: dict[str, Any] | None = None

    @property
    def subscribers(self) -> tuple[asyncio.Queue[dict[str, Any]], ...]:
        """The queues subscribed now."""
        with self._lock:
            return tuple(self._subscribers)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives every following cycle (call it on the loop that reads it)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(STREAM_QUEUE)
        with self._lock:
            self._subscribers[queue] = asyncio.get_running_loop()
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop receiving."""
        with self._lock:
            self._subscribers.pop(queue, None)

    def publish(self, data: dict[str, Any]) -> None:
        """Give every subscriber this cycle, dropping its oldest if it is behind."""
        self.latest = data
        with self._lock:
            subscribers = list(self._subscribers.items())
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        for queue, loop in subscribers:
            if loop is here:
                _offer(queue, data)
                continue
            try:
                loop.call_soon_threadsafe(_offer, queue, data)
            except RuntimeError:  # its loop has closed: the subscriber is gone
                self.unsubscribe(queue)


@dataclass(frozen=True, slots=True)
class StorageHealth:
    """What the writer knows: failing since when and why, what waits, what was dropped."""

    failing_since_s: float | None
    last_error: str | None
    buffered_rows: int
    dropped_telemetry: int
    dropped_events: int


class StorageWriter:
    """Commits telemetry and events behind the control loop; never makes the loop wait.

    Without `start()` every `add_*` writes at once on the caller's thread (tests and tools);
    failures are caught either way. Rows wait in bounded buffers until a write succeeds.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        telemetry_rows: int = TELEMETRY_BUFFER_ROWS,
        event_rows: int = EVENT_BUFFER_ROWS,
        now_s: Callable[[], float] = time.monotonic,
        wall_s: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.now_s = now_s
        self.wall_s = wall_s
        self._cond = threading.Condition()
        self._telemetry: deque[tuple[float, dict[str, Any]]] = deque()
        self._events: deque[EventRow] = deque()
        self._telemetry_rows = telemetry_rows
        self._event_rows = event_rows
        self._downsample_at_s: float | None = None
        self.dropped_telemetry = 0
        self.dropped_events = 0
        self._dropped_reported = (0, 0)
        self.failing_since_s: float | None = None
        self.last_error: str | None = None
        self.failures = 0  # consecutive
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- any thread -----------------------------------------------------------------------

    def add_telemetry(self, at_s: float, data: dict[str, Any]) -> None:
        """Buffer one cycle's row (the oldest is dropped and counted when the buffer is full)."""
        with self._cond:
            self._telemetry.append((at_s, data))
            self._bound()
            self._cond.notify()
        self._write_now()

    def add_event(
        self,
        at_s: float,
        kind: str,
        message: str,
        *,
        severity: str = "info",
        code: str | None = None,
        device: str | None = None,
        who: str | None = None,
    ) -> None:
        """Buffer one event."""
        with self._cond:
            self._events.append(EventRow(at_s, kind, severity, code, device, who, message))
            self._bound()
            self._cond.notify()
        self._write_now()

    def request_downsample(self, at_s: float) -> None:
        """Thin old telemetry at the next write."""
        with self._cond:
            self._downsample_at_s = at_s
            self._cond.notify()

    def note_failure(self, message: str) -> None:
        """A write elsewhere failed (a settings change): show it as `storage_failed` too."""
        with self._cond:
            if self.failing_since_s is None:
                self.failing_since_s = self.now_s()
            self.last_error = message

    def health(self) -> StorageHealth:
        """The writer's state now."""
        with self._cond:
            return StorageHealth(
                self.failing_since_s,
                self.last_error,
                len(self._telemetry) + len(self._events),
                self.dropped_telemetry,
                self.dropped_events,
            )

    def alerts(self) -> tuple[Alert, ...]:
        """`storage_failed` while writes fail (an alert source of the runtime)."""
        h = self.health()
        if h.failing_since_s is None:
            return ()
        dropped = h.dropped_telemetry + h.dropped_events
        return (
            alert(
                "storage_failed",
                f"database writes fail ({h.last_error}); {h.buffered_rows} rows waiting, "
                f"{dropped} dropped; control goes on, settings changes are refused",
            ),
        )

    # -- the writer -----------------------------------------------------------------------

    def _bound(self) -> None:
        while len(self._telemetry) > self._telemetry_rows:
            self._telemetry.popleft()
            self.dropped_telemetry += 1
        while len(self._events) > self._event_rows:
            self._events.popleft()
            self.dropped_events += 1

    def _write_now(self) -> None:
        if self._thread is None:
            self.drain()

    def drain(self) -> bool:
        """Try once to commit everything buffered now; False when a write failed."""
        with self._cond:
            events, self._events = list(self._events), deque()
            telemetry, self._telemetry = list(self._telemetry), deque()
            downsample_at_s = self._downsample_at_s
            dropped = (self.dropped_telemetry, self.dropped_events)
            recovered = self.failing_since_s is not None
        notice: list[EventRow] = []
        if recovered and dropped != self._dropped_reported:
            lost_t = dropped[0] - self._dropped_reported[0]
            lost_e = dropped[1] - self._dropped_reported[1]
            notice.append(
                EventRow(
                    self.wall_s(), "service", "warning", "storage_failed", None, None,
                    f"storage writes failed for a while: {lost_t} telemetry rows and "
                    f"{lost_e} events were dropped",
                )
            )  # fmt: skip
        if not events and not telemetry and not notice and downsample_at_s is None:
            return True
        try:
            self.storage.write_rows([*events, *notice], telemetry)
        except (SQLAlchemyError, OSError) as exc:
            with self._cond:
                # Put them back in front of anything newer; the bounds drop the oldest.
                self._events.extendleft(reversed(events))
                self._telemetry.extendleft(reversed(telemetry))
                self._bound()
            self._failed(exc)
            return False
        if downsample_at_s is not None:
            try:
                self.storage.downsample(downsample_at_s)
            except (SQLAlchemyError, OSError) as exc:
                self._failed(exc)
                return False
        with self._cond:
            if downsample_at_s is not None and self._downsample_at_s == downsample_at_s:
                self._downsample_at_s = None
            self._dropped_reported = dropped
            self.failing_since_s, self.last_error, self.failures = None, None, 0
            return True

    def _failed(self, exc: BaseException) -> None:
        with self._cond:
            if self.failing_since_s is None:
                self.failing_since_s = self.now_s()
            self.last_error = reason(exc)
            self.failures += 1

    def start(self) -> None:
        """Write on a thread of its own from now on."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="panelpilot-storage", daemon=True
            )
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Write what is left (one more try) and end the thread."""
        thread = self._thread
        if thread is None:
            self.drain()
            return
        with self._cond:
            self._stopping = True
            self._cond.notify()
        thread.join(timeout_s)
        self._thread = None

    def _waiting(self) -> bool:
        return bool(self._events or self._telemetry or self._downsample_at_s is not None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._waiting() and not self._stopping:
                    self._cond.wait()
                if self._stopping and not self._waiting():
                    return
            if self.drain():
                continue
            if self._stopping:
                return
            delay_s = min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** min(self.failures - 1, 10))
            with self._cond:
                self._cond.wait_for(lambda: self._stopping, delay_s)


class Recorder:
    """The runtime's listener: buffer telemetry, log alerts as they come and go, publish.

    Runs on the control thread and never waits: storage goes through the writer.
    """

    def __init__(self, runtime: Runtime, writer: StorageWriter, hub: Hub, metrics: Metrics) -> None:
        self.runtime = runtime
        self.writer = writer
        self.hub = hub
        self.metrics = metrics
        self.active: dict[tuple[str, str | None], str] = {}

    def __call__(self, result: CycleResult) -> None:
        """Record one cycle."""
        data = cycle_json(result)
        self.writer.add_telemetry(result.wall_s, data)
        self._alerts(result)
        with contextlib.suppress(Exception):  # metrics are a convenience, never a stop
            self.metrics.observe(result, self.runtime)
        self.hub.publish(data)
        if self.runtime.cycles % DOWNSAMPLE_EVERY_CYCLES == 0:
            self.writer.request_downsample(result.wall_s)

    def _alerts(self, result: CycleResult) -> None:
        now = {(a.code, a.device): a for a in result.decision.alerts}
        for key, a in now.items():
            # A refused command is an event every time; other alerts when they start.
            if key not in self.active or a.code == "setting_rejected":
                self.writer.add_event(
                    result.wall_s,
                    "alert",
                    a.message,
                    severity=a.severity,
                    code=a.code,
                    device=a.device,
                )
        for key, message in self.active.items():
            if key not in now:
                self.writer.add_event(
                    result.wall_s,
                    "alert_cleared",
                    f"cleared: {message}",
                    code=key[0],
                    device=key[1],
                )
        self.active = {key: a.message for key, a in now.items()}
