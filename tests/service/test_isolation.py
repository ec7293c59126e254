"""The control loop is isolated: a blocked web, a hung driver or a stalled loop never stop it
unnoticed. Cycles are counted (the loop's own counter, a manual clock), never timed."""

from __future__ import annotations

import asyncio
import threading
import urllib.request
from pathlib import Path

from fastapi import FastAPI

from panelpilot.control.types import ChargerDecision, ChargerReading, Command, Decision, Snapshot
from panelpilot.drivers.sim import World, sim_driver_set
from panelpilot.service.clock import ManualClock, SystemClock
from panelpilot.service.database import sqlite_url
from panelpilot.service.recorder import StorageWriter
from panelpilot.service.runtime import CycleResult
from panelpilot.service.service import Service, StallWatchdog, build_service, serve
from panelpilot.service.storage import Storage
from panelpilot.site import load_site_text
from panelpilot.web import create_app
from tests.service.helpers import SITE_YAML, sim_runtime
from tests.web.live_server import free_port

DEADLINE_S = 60.0  # only ever reached when the behaviour under test is broken


class HangingCharger:
    """A charger driver whose calls never return and shrug off cancellation until released."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.released = asyncio.Event()
        self.calls = 0

    async def _hang(self) -> None:
        self.calls += 1
        while not self.released.is_set():
            try:
                await self.released.wait()
            except asyncio.CancelledError:
                continue  # a badly written driver: it ignores the cancellation

    async def read(self) -> ChargerReading:
        await self._hang()
        return ChargerReading(online=True)

    async def apply(self, decision: ChargerDecision) -> None:
        await self._hang()


def test_a_driver_that_hangs_and_ignores_cancellation_never_stalls_the_loop() -> None:
    async def main() -> None:
        runtime, world, clock = sim_runtime()
        hung = HangingCharger("wc2")
        runtime.drivers.chargers["wc2"] = hung  # type: ignore[index]
        runtime.supervisors["wc2"].driver = hung
        runtime.supervisors["wc2"].timeout_s = 0.01
        world.chargers["wc1"].car_wants_a = 32.0
        for _ in range(10):
            clock.advance(1.0)
            result = await runtime.cycle()
        assert runtime.cycles == 10
        assert result.snapshot.chargers["wc2"].online is False  # its fallback is reserved
        down = [a for a in result.decision.alerts if a.code == "driver_down"]
        assert down and down[0].device == "wc2"
        # While its first call still hangs it is not called again (no pile of stuck calls).
        assert hung.calls == 1
        assert "still busy" in down[0].message
        assert world.chargers["wc1"].limit_a > 0  # the others are still driven
        hung.released.set()

    asyncio.run(main())


def test_a_cycle_that_starts_late_raises_cycle_overrun() -> None:
    async def main() -> None:
        runtime, _world, clock = sim_runtime()
        stop = asyncio.Event()
        results: list[CycleResult] = []

        def listen(result: CycleResult) -> None:
            results.append(result)
            if runtime.cycles == 3:
                clock.advance(2.5)  # held up 2.5 s after its third cycle: 1.5 s past the slot
            if runtime.cycles == 6:
                stop.set()

        runtime.listeners.append(listen)
        await runtime.run(stop)
        late = [r for r in results if r.overrun]
        assert len(late) == 1 and late[0] is results[3]
        assert late[0].late_s == 1.5
        messages = [a.message for a in late[0].decision.alerts if a.code == "cycle_overrun"]
        assert messages == ["control cycle started 1.50 s late (period 1 s)"]
        assert not any(r.overrun for r in results[4:])  # a new schedule, not a burst

    asyncio.run(main())


def test_the_stall_watchdog_notices_a_loop_that_stopped_cycling(tmp_path: Path) -> None:
    runtime, _world, clock = sim_runtime()
    writer = StorageWriter(Storage.open(sqlite_url(str(tmp_path / "pp.db"))))
    watchdog = StallWatchdog(runtime, writer, clock)
    assert watchdog.check(stalled=False) is False
    clock.advance(3.5)  # no cycle for 3.5 periods
    assert watchdog.check(stalled=False) is True
    assert watchdog.check(stalled=True) is True  # the same stall is logged once
    assert watchdog.stalls == 1
    events = writer.storage.events()
    assert [e.code for e in events] == ["cycle_overrun"]
    assert "control loop stalled" in events[0].message


def _live_service(tmp_path: Path) -> Service:
    site = load_site_text(SITE_YAML + "control:\n  period_s: 0.05\n", "fast.yaml")
    clock = SystemClock()
    world = World.of(site, clock.monotonic_s)
    world.chargers["wc1"].car_wants_a = 32.0
    storage = Storage.open(sqlite_url(str(tmp_path / "pp.db")))
    return build_service(site, sim_driver_set(world), storage, clock)


def test_a_web_request_that_blocks_the_web_loop_does_not_stop_cycles(tmp_path: Path) -> None:
    service = _live_service(tmp_path)
    app = create_app(service)
    assert isinstance(app, FastAPI)
    entered, release = threading.Event(), threading.Event()

    @app.get("/block")
    async def block() -> dict[str, bool]:
        entered.set()
        release.wait()  # blocks the web's event loop itself, as a hostile request might
        return {"ok": True}

    target = {"cycles": -1}
    reached = threading.Event()

    def count(result: CycleResult) -> None:
        if target["cycles"] >= 0 and service.runtime.cycles >= target["cycles"]:
            reached.set()

    service.runtime.listeners.append(count)
    port = free_port()
    web: dict[str, asyncio.AbstractEventLoop | asyncio.Event] = {}
    started = threading.Event()

    def web_main() -> None:
        async def main() -> None:
            stop = asyncio.Event()
            web["loop"], web["stop"] = asyncio.get_running_loop(), stop
            started.set()
            await serve(service, app, "127.0.0.1", port, stop)

        asyncio.run(main())

    web_thread = threading.Thread(target=web_main, daemon=True)
    web_thread.start()
    assert started.wait(DEADLINE_S)

    def request() -> None:
        deadline = threading.Event()
        while not deadline.wait(0.05):  # polling while the port opens
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/block", timeout=DEADLINE_S)
                return
            except OSError:
                if release.is_set():
                    return

    client = threading.Thread(target=request, daemon=True)
    client.start()
    try:
        assert entered.wait(DEADLINE_S), "the blocking request never arrived"
        target["cycles"] = service.runtime.cycles + 20
        assert reached.wait(DEADLINE_S), "the control loop stopped while the web was blocked"
        assert not release.is_set()  # the web loop was blocked the whole time
    finally:
        release.set()
        loop, stop = web["loop"], web["stop"]
        assert isinstance(loop, asyncio.AbstractEventLoop) and isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        web_thread.join(DEADLINE_S)
        client.join(DEADLINE_S)
    assert not web_thread.is_alive()
    last = service.runtime.last
    assert last is not None and world_limit(last, "wc1") > 0


def world_limit(result: CycleResult, charger_id: str) -> float:
    """The limit the last cycle gave a charger."""
    return result.decision.chargers[charger_id].limit_a


def test_a_slow_storage_never_delays_a_cycle() -> None:
    """The recorder only buffers: with the writer's storage blocked, cycles still complete."""

    class BlockedStorage:
        def __init__(self) -> None:
            self.release = threading.Event()
            self.entered = threading.Event()
            self.rows = 0

        def write_rows(self, _events: object, telemetry: list[object]) -> None:
            self.entered.set()
            self.release.wait()  # a disk that does not answer
            self.rows += len(telemetry)

    async def main() -> None:
        runtime, _world, clock = sim_runtime()
        storage = BlockedStorage()
        writer = StorageWriter(storage)  # type: ignore[arg-type]
        writer.start()
        runtime.listeners.append(lambda r: writer.add_telemetry(r.wall_s, {"t": r.wall_s}))
        clock.advance(1.0)
        await runtime.cycle()
        assert storage.entered.wait(DEADLINE_S)  # the writer is stuck in the disk now
        for _ in range(29):
            clock.advance(1.0)
            await runtime.cycle()
        assert runtime.cycles == 30
        storage.release.set()
        writer.stop(DEADLINE_S)
        assert storage.rows == 30  # nothing was lost while it waited

    asyncio.run(main())


def test_clock_is_manual_in_these_tests() -> None:
    """The manual clock never sleeps: the counting tests above cannot depend on timing."""
    clock = ManualClock()
    before = clock.monotonic_s()
    asyncio.run(clock.sleep(5.0))
    assert clock.monotonic_s() == before + 5.0


def test_impossible_readings_are_read_as_offline_not_a_failed_cycle() -> None:
    async def main() -> None:
        runtime, world, clock = sim_runtime()

        class NanMeter:
            device_id = "garage"

            async def read_current_a(self) -> float | None:
                return float("nan")

        class NegativeCharger:
            device_id = "wc2"

            async def read(self) -> ChargerReading:
                return ChargerReading(online=True, current_a=-5.0)

            async def apply(self, decision: ChargerDecision) -> None:
                return None

        runtime.supervisors["garage"].driver = NanMeter()
        runtime.drivers.meters["garage"] = NanMeter()  # type: ignore[index]
        runtime.supervisors["wc2"].driver = NegativeCharger()
        runtime.drivers.chargers["wc2"] = NegativeCharger()  # type: ignore[index]
        clock.advance(1.0)
        result = await runtime.cycle()
        assert result.snapshot.meters["garage"] is None  # lost: the controller fails safe
        assert result.snapshot.chargers["wc2"].online is False  # its fallback is reserved
        refused = {a.device: a.message for a in result.decision.alerts if a.code == "driver_down"}
        assert "impossible current (nan)" in refused["garage"]
        assert "impossible current (-5.0)" in refused["wc2"]
        assert world.chargers["wc1"].lease_until_s > clock.monotonic_s()

    asyncio.run(main())


def test_a_cycle_that_fails_is_reported_and_the_loop_goes_on() -> None:
    async def main() -> None:
        runtime, _world, _clock = sim_runtime()
        decide = runtime.controller.decide
        calls = {"n": 0}

        def flaky(snap: Snapshot) -> Decision:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("a bug in one cycle")
            return decide(snap)

        runtime.controller.decide = flaky  # type: ignore[method-assign]
        stop = asyncio.Event()

        def listen(result: CycleResult) -> None:
            if runtime.cycles == 1:
                runtime.submit(Command("garage-net", enabled=False))  # taken by the failing one
            if runtime.cycles == 4:
                stop.set()

        runtime.listeners.append(listen)
        await runtime.run(stop)
        assert runtime.failed_cycles == 1 and runtime.cycles == 4
        last = runtime.last
        assert last is not None
        # The command the failed cycle had taken was applied by the next one.
        assert last.decision.networks["garage-net"].status.value == "disabled"

    asyncio.run(main())
