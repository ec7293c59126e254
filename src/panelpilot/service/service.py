"""The service assembled: runtime, storage, accounts, settings, recorder, and the web server.

Three threads, so that nothing the web or the storage does can delay a control cycle:

* the **control thread** (`ControlThread`) runs the control loop on its own asyncio event loop,
  with the drivers it awaits (the OCPP central system, SunSpec clients, simulated devices);
* the **web** runs on the caller's event loop (uvicorn); it reads what the last cycle published
  and hands settings over through the runtime's thread-safe doors;
* the **storage writer** (`recorder.StorageWriter`) commits telemetry and events behind both.

A stall watchdog thread notices a control loop that stopped cycling (a driver blocking its
event loop) and says so on standard error and in the event log.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol, TypeVar

import uvicorn
from starlette.types import ASGIApp

from panelpilot.drivers.base import DriverSet
from panelpilot.service.accounts import Accounts
from panelpilot.service.audit import Audit
from panelpilot.service.clock import Clock
from panelpilot.service.energy import SessionEnergy
from panelpilot.service.metrics import Metrics
from panelpilot.service.need_settings import NeedSettings
from panelpilot.service.needs_setup import need_book, stored_sessions
from panelpilot.service.reads import Reads
from panelpilot.service.recorder import Hub, Recorder, StorageWriter
from panelpilot.service.runtime import Runtime
from panelpilot.service.settings import SettingsManager
from panelpilot.service.storage import Storage
from panelpilot.site.model import Site

T = TypeVar("T")

# The control loop's side of the service: entered on the control thread around the loop
# (start the OCPP central system, a demo's fleet), given the loop's stop event.
ControlSide = Callable[[asyncio.Event], AbstractAsyncContextManager[object]]

STALL_PERIODS = 3  # no cycle for this many periods is a stalled loop
SHUTDOWN_DEADLINE_S = 60.0  # the fallbacks are sent in two waves, response_s apart


class Follower(Protocol):
    """Something that runs beside the control loop on its own thread (the MQTT publisher)."""

    def start(self) -> None:
        """Start (never waiting for anything outside this machine)."""
        ...

    def stop(self) -> None:
        """Stop, after the loop's last cycle and its fallbacks (bounded in time)."""
        ...


def software_version() -> str:
    """panelpilot's version as installed."""
    try:
        return version("panelpilot")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class Service:
    """Everything a running panelpilot holds; the web app is created from it.

    The web reads through `reads` (read models), changes settings through `settings`, signs
    people in through `accounts` and records what they did through `audit`; it never touches
    `runtime` or `storage` itself.
    """

    runtime: Runtime
    storage: Storage
    accounts: Accounts
    settings: SettingsManager
    reads: Reads
    audit: Audit
    hub: Hub
    metrics: Metrics
    clock: Clock
    version: str
    writer: StorageWriter
    needs: NeedSettings | None = None  # each session's charging need (service/needs.py)
    secure_cookies: bool = False  # set when served over HTTPS (behind a proxy)
    # Started with the loop, stopped after its fallbacks (the MQTT publisher).
    followers: list[Follower] = field(default_factory=list)


def build_service(
    site: Site, drivers: DriverSet, storage: Storage, clock: Clock, *, restore: bool = True
) -> Service:
    """Assemble a service and (unless told not to) put the stored settings back."""
    runtime = Runtime(site, drivers, clock)
    writer = StorageWriter(storage, now_s=clock.monotonic_s, wall_s=clock.wall_s)
    audit = Audit(storage, clock)
    audit.on_storage_failure.append(writer.note_failure)
    settings = SettingsManager(runtime, storage, clock, audit)
    if restore:
        settings.restore()
    hub, metrics = Hub(), Metrics()
    software = software_version()
    runtime.listeners.append(Recorder(runtime, writer, hub, metrics))
    energy = SessionEnergy(site.voltage_v, max_gap_s=STALL_PERIODS * site.control.period_s)
    runtime.listeners.append(energy)
    runtime.alert_sources.append(writer.alerts)
    max_gap_s = STALL_PERIODS * site.control.period_s
    needs = need_book(site, drivers, writer, clock, stored_sessions(storage), max_gap_s)
    runtime.needs = needs.apply
    need_settings = NeedSettings(needs, runtime, audit, clock)
    return Service(
        runtime=runtime,
        storage=storage,
        accounts=Accounts(storage),
        settings=settings,
        reads=Reads(runtime, settings, storage, software, energy),
        audit=audit,
        hub=hub,
        metrics=metrics,
        clock=clock,
        version=software,
        writer=writer,
        needs=need_settings,
    )


class ControlThread:
    """An asyncio event loop on a thread of its own: the control loop's."""

    def __init__(self, name: str = "panelpilot-control") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> ControlThread:
        """Start the thread (its loop then waits for work)."""
        self._thread.start()
        return self

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `work` on the control loop; its future may be awaited from any thread."""
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def call(self, work: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run `work` on the control loop and wait for its result (not from the loop itself)."""
        return self.submit(work).result(timeout_s)

    def close(self) -> None:
        """Stop the loop and wait for the thread."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(SHUTDOWN_DEADLINE_S)
        if not self._thread.is_alive() and not self.loop.is_closed():
            self.loop.close()

    @contextlib.contextmanager
    def running(self) -> Iterator[ControlThread]:
        """Started for the life of the block."""
        self.start()
        try:
            yield self
        finally:
            self.close()


async def _new_event() -> asyncio.Event:
    return asyncio.Event()


@contextlib.asynccontextmanager
async def _nothing(_stop: asyncio.Event) -> AsyncIterator[None]:
    yield


async def _control_main(
    runtime: Runtime,
    side: ControlSide,
    stop: asyncio.Event,
    ready: concurrent.futures.Future[None],
) -> None:
    """The control thread's work: the side's setup, the loop until `stop`, the fallbacks."""
    runtime.loop = asyncio.get_running_loop()  # before the web can ask a driver anything
    try:
        async with side(stop):
            ready.set_result(None)
            await runtime.run(stop)
    except BaseException as exc:
        if not ready.done():
            ready.set_exception(exc)
        raise


class StallWatchdog:
    """A thread that notices a control loop that stopped cycling and says so.

    The loop measures its own lateness (`cycle_overrun`); this catches the case it cannot:
    its event loop blocked, so no cycle runs to raise the alert.
    """

    def __init__(self, runtime: Runtime, writer: StorageWriter, clock: Clock) -> None:
        self.runtime = runtime
        self.writer = writer
        self.clock = clock
        self.stalls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="panelpilot-watchdog", daemon=True)

    def start(self) -> None:
        """Watch from now on."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(SHUTDOWN_DEADLINE_S)

    def check(self, stalled: bool) -> bool:
        """One look: whether the loop is stalled now (logging the start of a stall)."""
        period_s = self.runtime.site.control.period_s
        since_s = self.clock.monotonic_s() - self.runtime.beat_s
        now_stalled = since_s > STALL_PERIODS * period_s
        if now_stalled and not stalled:
            self.stalls += 1
            message = f"control loop stalled: no cycle for {since_s:.1f} s (period {period_s:g} s)"
            print(f"panelpilot: {message}", file=sys.stderr, flush=True)
            self.writer.add_event(
                self.clock.wall_s(), "alert", message, severity="warning", code="cycle_overrun"
            )
        return now_stalled

    def _run(self) -> None:
        stalled = False
        while not self._stop.wait(self.runtime.site.control.period_s):
            stalled = self.check(stalled)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service's stop event decides."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    service: Service,
    app: ASGIApp,
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    side: ControlSide | None = None,
    control: ControlThread | None = None,
) -> None:
    """Run the control loop (on its own thread) and the web app (here) until `stop` is set.

    The control loop starts first (with `side` entered around it on its thread) so that a
    device that cannot start fails the start; on the way out every charger is left at its
    fallback before this returns.
    """
    owned = control is None
    thread = ControlThread().start() if control is None else control
    loop_stop = thread.call(_new_event())
    ready: concurrent.futures.Future[None] = concurrent.futures.Future()
    service.writer.start()
    watchdog = StallWatchdog(service.runtime, service.writer, service.clock)
    loop_done = thread.submit(_control_main(service.runtime, side or _nothing, loop_stop, ready))
    web_task: asyncio.Task[None] | None = None
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    try:
        await asyncio.wrap_future(ready)
        watchdog.start()
        for follower in service.followers:
            follower.start()
        service.writer.add_event(service.clock.wall_s(), "service", "service started")
        web_task = asyncio.create_task(server.serve())
        stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        loop_wait: asyncio.Future[Any] = asyncio.wrap_future(loop_done)
        web_wait: asyncio.Future[Any] = web_task
        done, _ = await asyncio.wait(
            {loop_wait, web_wait, stopped}, return_when=asyncio.FIRST_COMPLETED
        )
        stopped.cancel()
        for task in done:
            error = None if task is stopped else task.exception()
            if error is not None:
                raise error
    finally:
        stop.set()
        watchdog.stop()  # the shutdown's waves are no cycles, and no stall
        server.should_exit = True
        thread.loop.call_soon_threadsafe(loop_stop.set)
        if web_task is not None:
            await asyncio.gather(web_task, return_exceptions=True)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wrap_future(loop_done)
        service.writer.add_event(
            service.clock.wall_s(), "service", "service stopped; chargers at their fallback"
        )
        service.writer.stop()
        for follower in service.followers:
            follower.stop()
        if owned:
            thread.close()
