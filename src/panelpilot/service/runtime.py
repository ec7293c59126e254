"""The control loop: read every driver concurrently, decide, apply; every `period_s`.

One cycle is OpenEMS-shaped: read then write, once. Drivers are supervised (a failing driver
never stops the loop), a cycle that takes longer than the period raises a `cycle_overrun`
alert (the watchdog), and shutdown leaves every charger on its fallback limit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from panelpilot.control import Controller
from panelpilot.control.alerts import alert
from panelpilot.control.types import (
    Alert,
    BatteryReading,
    ChargerDecision,
    ChargerReading,
    Command,
    Decision,
    Snapshot,
    SolarReading,
)
from panelpilot.drivers.base import BatteryDriver, ChargerDriver, MeterDriver, SolarDriver
from panelpilot.service.clock import Clock
from panelpilot.service.supervisor import Supervisor
from panelpilot.site.model import Site


@runtime_checkable
class Alerting(Protocol):
    """An optional driver ability: alerts about its device (e.g. refusing smart charging)."""

    def alerts(self) -> tuple[Alert, ...]:
        """The device's alerts now."""
        ...


@dataclass(frozen=True)
class DriverSet:
    """The drivers of one site, by device id."""

    chargers: Mapping[str, ChargerDriver] = field(default_factory=dict)
    meters: Mapping[str, MeterDriver] = field(default_factory=dict)
    batteries: Mapping[str, BatteryDriver] = field(default_factory=dict)
    solar: Mapping[str, SolarDriver] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CycleResult:
    """One cycle: what was measured, what was decided, how long it took (clock seconds)."""

    wall_s: float
    snapshot: Snapshot
    decision: Decision
    duration_s: float
    overrun: bool


CycleListener = Callable[[CycleResult], None]


def default_timeout_s(period_s: float) -> float:
    """A driver gets 40 % of the period (reads and writes each fit in one period)."""
    return max(0.05, 0.4 * period_s)


class Runtime:
    """Runs one controller against one site's drivers."""

    def __init__(
        self,
        site: Site,
        drivers: DriverSet,
        clock: Clock,
        *,
        controller: Controller | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.site = site
        self.drivers = drivers
        self.clock = clock
        self.controller = controller if controller is not None else Controller(site)
        t_s = timeout_s if timeout_s is not None else default_timeout_s(site.control.period_s)
        now = clock.monotonic_s
        self.supervisors: dict[str, Supervisor] = {}
        for group in (drivers.chargers, drivers.meters, drivers.batteries, drivers.solar):
            for device_id, driver in group.items():
                self.supervisors[device_id] = Supervisor(device_id, driver, t_s, now)
        self.listeners: list[CycleListener] = []
        self.last: CycleResult | None = None
        self.cycles = 0
        self.overruns = 0
        self._pending: list[Command] = []

    @property
    def pending(self) -> tuple[Command, ...]:
        """Settings commands waiting for the next cycle."""
        return tuple(self._pending)

    def submit(self, command: Command) -> None:
        """Queue a settings command for the next cycle's snapshot."""
        self._pending.append(command)

    def replace_site(self, site: Site) -> None:
        """Use a changed site (new PCS limits): a new controller that keeps the memory."""
        self.site = site
        self.controller = Controller(site, state=self.controller.state)

    async def _read(self) -> Snapshot:
        d = self.drivers

        async def charger(cid: str, drv: ChargerDriver) -> tuple[str, ChargerReading]:
            r = await self.supervisors[cid].call(drv.read)
            return cid, r if r is not None else ChargerReading(online=False)

        async def meter(mid: str, drv: MeterDriver) -> tuple[str, float | None]:
            return mid, await self.supervisors[mid].call(drv.read_current_a)

        async def battery(bid: str, drv: BatteryDriver) -> tuple[str, BatteryReading]:
            r = await self.supervisors[bid].call(drv.read)
            return bid, r if r is not None else BatteryReading(online=False)

        async def solar(sid: str, drv: SolarDriver) -> tuple[str, SolarReading]:
            r = await self.supervisors[sid].call(drv.read)
            return sid, r if r is not None else SolarReading(online=False)

        c_t = asyncio.gather(*(charger(k, v) for k, v in d.chargers.items()))
        m_t = asyncio.gather(*(meter(k, v) for k, v in d.meters.items()))
        b_t = asyncio.gather(*(battery(k, v) for k, v in d.batteries.items()))
        s_t = asyncio.gather(*(solar(k, v) for k, v in d.solar.items()))
        chargers, meters, batteries, solar_r = await asyncio.gather(c_t, m_t, b_t, s_t)
        commands, self._pending = tuple(self._pending), []
        return Snapshot(
            t=self.clock.monotonic_s(),
            meters=dict(meters),
            chargers=dict(chargers),
            batteries=dict(batteries),
            solar=dict(solar_r),
            commands=commands,
        )

    async def _apply(self, decision: Decision, *, force: bool = False) -> None:
        d = self.drivers
        calls: list[Awaitable[object]] = []

        def call(device_id: str, make: Callable[[], Awaitable[None]]) -> None:
            sup = self.supervisors[device_id]
            if force:
                sup.health.retry_at_s = float("-inf")
            calls.append(sup.call(make))

        for cid, cd in decision.chargers.items():
            if cid in d.chargers:
                call(cid, functools.partial(d.chargers[cid].apply, cd))
        for bid, bd in decision.batteries.items():
            if bid in d.batteries:
                call(bid, functools.partial(d.batteries[bid].apply, bd))
        for sid, sd in decision.solar.items():
            if sid in d.solar:
                call(sid, functools.partial(d.solar[sid].apply, sd))
        await asyncio.gather(*calls)

    def _alerts(self) -> list[Alert]:
        alerts = [a for s in self.supervisors.values() if (a := s.alert()) is not None]
        for sup in self.supervisors.values():
            if isinstance(sup.driver, Alerting):
                alerts.extend(sup.driver.alerts())
        return alerts

    async def cycle(self) -> CycleResult:
        """One control cycle: read, decide, apply; tell the listeners."""
        start_s = self.clock.monotonic_s()
        snap = await self._read()
        decision = self.controller.decide(snap)
        await self._apply(decision)
        duration_s = self.clock.monotonic_s() - start_s
        period_s = self.site.control.period_s
        extra = self._alerts()
        overrun = duration_s > period_s
        if overrun:
            self.overruns += 1
            extra.append(
                alert(
                    "cycle_overrun",
                    f"control cycle took {duration_s:.2f} s, longer than the {period_s:g} s period",
                )
            )
        if extra:
            decision = dataclasses.replace(decision, alerts=(*decision.alerts, *extra))
        result = CycleResult(self.clock.wall_s(), snap, decision, duration_s, overrun)
        self.last = result
        self.cycles += 1
        for listener in self.listeners:
            listener(result)
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle every `period_s` until `stop` is set, then shut down to the fallbacks."""
        period_s = self.site.control.period_s
        try:
            while not stop.is_set():
                started_s = self.clock.monotonic_s()
                await self.cycle()
                wait_s = period_s - (self.clock.monotonic_s() - started_s)
                sleep = asyncio.ensure_future(self.clock.sleep(max(0.0, wait_s)))
                stopped = asyncio.ensure_future(stop.wait())
                await asyncio.wait({sleep, stopped}, return_when=asyncio.FIRST_COMPLETED)
                sleep.cancel()
                stopped.cancel()
        finally:
            await self.shutdown()

    def fallback_decisions(self) -> dict[str, ChargerDecision]:
        """Every charger told to run at its fallback limit (what shutdown applies)."""
        if self.last is None:
            return {}
        return {
            cid: cd._replace(limit_a=cd.fallback_a, target_a=cd.fallback_a)
            for cid, cd in self.last.decision.chargers.items()
        }

    async def shutdown(self) -> None:
        """Leave every charger at its fallback limit and close the drivers."""
        if self.last is None:
            await self.cycle()
        assert self.last is not None
        fallback = dataclasses.replace(
            self.last.decision, chargers=self.fallback_decisions(), batteries={}, solar={}
        )
        await self._apply(fallback, force=True)
        await asyncio.gather(*(s.close() for s in self.supervisors.values()))
