"""The control loop on simulated devices, cycle by cycle on a manual clock."""

from __future__ import annotations

import asyncio

from panelpilot.control.types import Alert, ChargerDecision, ChargerReading, Command
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.sim import World
from panelpilot.service.clock import ManualClock
from panelpilot.service.runtime import CycleResult, Runtime
from tests.service.helpers import sim_runtime


async def _cycles(runtime: Runtime, clock: ManualClock, n: int) -> CycleResult:
    result = None
    for _ in range(n):
        clock.advance(runtime.site.control.period_s)
        result = await runtime.cycle()
    assert result is not None
    return result


def _plug_in(world: World, *ids: str, wants_a: float = 32.0) -> None:
    for cid in ids:
        world.chargers[cid].car_wants_a = wants_a


def test_three_cars_share_the_network_limit() -> None:
    async def main() -> None:
        runtime, world, clock = sim_runtime()
        _plug_in(world, "wc1", "wc2", "wc3")
        result = await _cycles(runtime, clock, 20)
        limits = [result.decision.chargers[c].limit_a for c in ("wc1", "wc2", "wc3")]
        assert sum(limits) <= 72
        assert limits == [24, 24, 24]
        assert [world.chargers[c].draw_a() for c in ("wc1", "wc2", "wc3")] == [24, 24, 24]

    asyncio.run(main())


def test_rising_household_load_lowers_chargers_within_two_cycles() -> None:
    async def main() -> None:
        runtime, world, clock = sim_runtime()
        _plug_in(world, "wc1", "wc2", "wc3")
        before = await _cycles(runtime, clock, 20)
        world.loads_a["garage"] = 30.0  # the dryer and the oven come on
        after = await _cycles(runtime, clock, 2)
        total_before = sum(before.decision.chargers[c].limit_a for c in ("wc1", "wc2", "wc3"))
        total_after = sum(after.decision.chargers[c].limit_a for c in ("wc1", "wc2", "wc3"))
        assert total_after < total_before
        assert total_after + 30.0 <= 80.0

    asyncio.run(main())


class _Broken:
    """A charger driver that fails until told to recover."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.failing = True
        self.calls = 0

    async def read(self) -> ChargerReading:
        self.calls += 1
        if self.failing:
            raise DriverError(self.device_id, "connection refused")
        return ChargerReading(online=True)

    async def apply(self, decision: ChargerDecision) -> None:
        if self.failing:
            raise RuntimeError("bug in the driver")


def test_a_failing_driver_never_stops_the_loop_and_is_retried_with_backoff() -> None:
    async def main() -> None:
        runtime, _world, clock = sim_runtime()
        broken = _Broken("wc2")
        runtime.drivers.chargers["wc2"] = broken  # type: ignore[index]
        runtime.supervisors["wc2"].driver = broken
        first = await _cycles(runtime, clock, 1)
        assert first.snapshot.chargers["wc2"].online is False
        assert any(a.code == "driver_down" and a.device == "wc2" for a in first.decision.alerts)
        calls = broken.calls
        await _cycles(runtime, clock, 5)
        # Backoff: 1, 2, 4 s between tries, not every cycle.
        assert calls < broken.calls < calls + 5
        broken.failing = False
        result = await _cycles(runtime, clock, 70)
        assert result.snapshot.chargers["wc2"].online is True
        assert not any(a.code == "driver_down" for a in result.decision.alerts)

    asyncio.run(main())


class _BadAlerts(_Broken):
    """A charger driver that works, and whose alerts (`Alerting`) have a bug."""

    def alerts(self) -> tuple[Alert, ...]:
        raise KeyError("wc2")


def test_a_driver_whose_alerts_fail_is_reported_down_and_the_cycle_goes_on() -> None:
    async def main() -> None:
        runtime, _world, clock = sim_runtime()
        bad = _BadAlerts("wc2")
        bad.failing = False
        runtime.drivers.chargers["wc2"] = bad  # type: ignore[index]
        runtime.supervisors["wc2"].driver = bad
        result = await _cycles(runtime, clock, 3)
        assert runtime.cycles == 3 and runtime.failed_cycles == 0
        assert result.snapshot.chargers["wc2"].online is True
        down = [a for a in result.decision.alerts if a.code == "driver_down"]
        assert [a.device for a in down] == ["wc2"]
        assert "its alerts failed: KeyError" in down[0].message

    asyncio.run(main())


class _Hanging:
    device_id = "site"

    async def read_current_a(self) -> float | None:
        await asyncio.Event().wait()
        return 0.0


def test_a_hanging_meter_times_out_and_reads_as_lost() -> None:
    async def main() -> None:
        runtime, _world, clock = sim_runtime()
        runtime.supervisors["site"].driver = _Hanging()
        runtime.supervisors["site"].timeout_s = 0.01
        runtime.drivers.meters["site"] = _Hanging()  # type: ignore[index]
        result = await _cycles(runtime, clock, 1)
        assert result.snapshot.meters["site"] is None
        alerts = [a for a in result.decision.alerts if a.code == "driver_down"]
        assert alerts and "no answer" in alerts[0].message

    asyncio.run(main())


def test_watchdog_alerts_when_a_cycle_overruns_its_period() -> None:
    async def main() -> None:
        runtime, _world, clock = sim_runtime()
        slow = runtime.drivers.meters["garage"]

        class _Slow:
            device_id = "garage"

            async def read_current_a(self) -> float | None:
                clock.advance(2.5)  # the meter answers after 2.5 s of a 1 s period
                return await slow.read_current_a()

        runtime.supervisors["garage"].driver = _Slow()
        runtime.drivers.meters["garage"] = _Slow()  # type: ignore[index]
        result = await _cycles(runtime, clock, 1)
        assert result.overrun
        assert any(a.code == "cycle_overrun" for a in result.decision.alerts)
        assert runtime.overruns == 1

    asyncio.run(main())


def test_shutdown_leaves_every_charger_at_its_fallback() -> None:
    async def main() -> None:
        runtime, world, clock = sim_runtime()
        _plug_in(world, "wc1", "wc2", "wc3", "wc4")
        result = await _cycles(runtime, clock, 10)
        await runtime.shutdown()
        for cid, cd in result.decision.chargers.items():
            assert world.chargers[cid].limit_a == cd.fallback_a
        assert world.chargers["wc1"].limit_a == 24.0  # 72 A / 3 chargers

    asyncio.run(main())


def test_run_cycles_until_stopped_then_falls_back() -> None:
    async def main() -> None:
        runtime, world, _clock = sim_runtime()
        _plug_in(world, "wc1")
        stop = asyncio.Event()

        def stop_after_five(result: CycleResult) -> None:
            if runtime.cycles >= 5:
                stop.set()

        runtime.listeners.append(stop_after_five)
        await runtime.run(stop)
        assert runtime.cycles == 5
        assert world.chargers["wc1"].limit_a == 24.0

    asyncio.run(main())


def test_commands_reach_the_controller_through_the_settings_lock() -> None:
    async def main() -> None:
        runtime, _world, clock = sim_runtime()
        runtime.submit(Command("garage-net", network_limit_a=60))
        refused = await _cycles(runtime, clock, 1)
        assert any(a.code == "setting_rejected" for a in refused.decision.alerts)
        runtime.submit(Command("garage-net", enabled=False))
        runtime.submit(Command("garage-net", network_limit_a=60))
        runtime.submit(Command("garage-net", enabled=True))
        done = await _cycles(runtime, clock, 1)
        assert done.decision.networks["garage-net"].limit_a == 60

    asyncio.run(main())


class _Recording:
    """A charger driver that records each limit it is given, with the clock's time."""

    def __init__(self, device_id: str, clock: ManualClock, log: list[tuple[float, str, float]]):
        self.device_id = device_id
        self.clock = clock
        self.log = log

    async def read(self) -> ChargerReading:
        return ChargerReading(online=True, connected=True, current_a=0.0)

    async def apply(self, decision: ChargerDecision) -> None:
        self.log.append((self.clock.monotonic_s(), self.device_id, decision.limit_a))


def test_shutdown_lowers_every_charger_above_its_fallback_before_raising_any() -> None:
    async def main() -> None:
        runtime, world, clock = sim_runtime()
        _plug_in(world, "wc1", wants_a=32.0)
        _plug_in(world, "wc2", "wc3", wants_a=10.0)  # small cars: capped below the fallback
        last = await _cycles(runtime, clock, 120)
        given = {c: last.decision.chargers[c].limit_a for c in ("wc1", "wc2", "wc3")}
        fallback = {c: last.decision.chargers[c].fallback_a for c in given}
        assert given["wc1"] > fallback["wc1"] and given["wc2"] < fallback["wc2"], given
        log: list[tuple[float, str, float]] = []
        for cid in given:
            recording = _Recording(cid, clock, log)
            runtime.drivers.chargers[cid] = recording  # type: ignore[index]
            runtime.supervisors[cid].driver = recording
        await runtime.shutdown()
        sent = {cid: (t, limit) for t, cid, limit in log}
        assert all(limit == fallback[cid] for cid, (_t, limit) in sent.items())
        lowered_t = sent["wc1"][0]
        raised_t = [sent[c][0] for c in ("wc2", "wc3")]
        order = [cid for _t, cid, _l in log]
        assert order.index("wc1") < min(order.index("wc2"), order.index("wc3"))
        response_s = runtime.site.control.response_s
        assert all(t - lowered_t >= response_s for t in raised_t)

    asyncio.run(main())
