"""The control loop: read every driver concurrently, decide, apply; every `period_s`.

One cycle is OpenEMS-shaped: read then write, once. Drivers are supervised (a failing or
hanging driver never stops the loop), their readings are checked (`service/readings.py`: an
impossible value is read as offline, not a failed cycle), a watchdog measures every cycle's
lateness and length against the period and raises `cycle_overrun`, and shutdown leaves every
charger on its fallback limit, decreases first.

The loop runs on its own thread and event loop (`service.ControlThread`); other threads talk to
it through three thread-safe doors only: `submit` and `replace_site` hand settings over,
`last` and `settings_view` read what the last cycle published (immutable values), and
`version` counts every change to any of them, so readers rebuild their views only then.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from panelpilot.control import Controller
from panelpilot.control.alerts import alert
from panelpilot.control.state import ControllerState, NetworkMemory
from panelpilot.control.types import (
    Alert,
    ChargerDecision,
    ChargerReading,
    Command,
    Decision,
    Snapshot,
)
from panelpilot.drivers.base import DriverSet
from panelpilot.service.clock import Clock
from panelpilot.service.readings import read_devices
from panelpilot.service.supervisor import Supervisor
from panelpilot.site.model import Site

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CycleResult:
    """One cycle: what was measured, what was decided, how long it took (clock seconds).

    `late_s` is how long after its slot on the schedule the cycle started.
    """

    wall_s: float
    snapshot: Snapshot
    decision: Decision
    duration_s: float
    overrun: bool
    late_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SettingsPublished:
    """The settings part of the controller's memory as the last cycle left it (a copy).

    `applied_seq` is the sequence number of the newest submitted command it includes.
    """

    networks: Mapping[str, NetworkMemory]
    removed: Mapping[str, bool]
    applied_seq: int

    def state(self) -> ControllerState:
        """A `ControllerState` holding these settings (for what-if checks)."""
        return ControllerState(networks=dict(self.networks), removed=dict(self.removed))


CycleListener = Callable[[CycleResult], None]
# Puts each session's charging need into the readings (`service/needs.py`): (t, wall_s, readings).
NeedSource = Callable[[float, float, Mapping[str, ChargerReading]], Mapping[str, ChargerReading]]
AlertSource = Callable[[], Iterable[Alert]]

# A cycle that starts later than this share of the period after its slot is an overrun
# (event-loop jitter on a busy machine stays well below it).
LATE_SHARE = 0.5


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
        # Extra alerts each cycle (the storage writer's), called on the control thread.
        self.alert_sources: list[AlertSource] = []
        self.needs: NeedSource | None = None  # on the control thread, before every decide
        self.last: CycleResult | None = None
        self.cycles = 0
        self.overruns = 0
        self.failed_cycles = 0
        self._refused: tuple[Alert, ...] = ()  # impossible readings of this cycle
        # Monotonic seconds when the loop last started or finished a cycle (the stall watchdog).
        self.beat_s = now()
        self._lock = threading.Lock()
        self._seq = 0  # of the newest submitted command
        self._taken_seq = 0  # of the newest command handed to the controller
        self._submitted: list[tuple[int, Command]] = []
        self._next_site: Site | None = None
        self._settings = self._settings_now(0)
        self._version = 0  # bumped by every change a reader can see (`version`)
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop `run` runs on

    # -- the doors other threads use ----------------------------------------------------------

    @property
    def version(self) -> int:
        """A number that changes whenever what readers see changes (a cycle published, a
        command submitted, the site replaced, settings restored): views are rebuilt then."""
        with self._lock:
            return self._version

    @property
    def pending(self) -> tuple[Command, ...]:
        """Settings commands submitted but not yet in the published settings (thread-safe)."""
        with self._lock:
            return tuple(cmd for _, cmd in self._submitted)

    def settings_view(self) -> tuple[SettingsPublished, tuple[Command, ...]]:
        """The published settings and the commands still to apply over them, taken together."""
        with self._lock:
            return self._settings, tuple(cmd for _, cmd in self._submitted)

    def submit(self, command: Command) -> int:
        """Queue a settings command for the next cycle's snapshot; returns its sequence number."""
        with self._lock:
            self._seq += 1
            self._version += 1
            self._submitted.append((self._seq, command))
            return self._seq

    def replace_site(self, site: Site) -> None:
        """Use a changed site (new PCS limits) from the next cycle: a new controller that keeps
        the memory. `site` says the new one at once."""
        with self._lock:
            self.site = site
            self._next_site = site
            self._version += 1

    async def on_loop(self, make: Callable[[], Awaitable[T]], timeout_s: float) -> T:
        """Await a driver's coroutine on the control loop, where the driver lives, from any
        thread's loop (the web's pairing check); bounded by `timeout_s`."""
        loop, here = self.loop, asyncio.get_running_loop()

        async def job() -> T:
            return await asyncio.wait_for(make(), timeout_s)

        if loop is None or loop is here:
            return await job()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(job(), loop))

    def restore_networks(self, networks: Mapping[str, NetworkMemory]) -> None:
        """Start from stored network settings instead of the site file's (before the loop
        runs: the controller's memory is never written from outside a cycle)."""
        with self._lock:
            st = self.controller.state
            kept = {nid: networks.get(nid, net) for nid, net in st.networks.items()}
            self.controller = Controller(self.site, state=replace(st, networks=kept))

    def publish_settings(self) -> None:
        """Publish the controller's settings as they are now (after a restore, before the loop)."""
        with self._lock:
            self._settings = self._settings_now(self._taken_seq)
            self._version += 1

    # -- the control thread's side ------------------------------------------------------------

    def _settings_now(self, applied_seq: int) -> SettingsPublished:
        st = self.controller.state  # frozen records: shared, never copied
        return SettingsPublished(st.networks, st.removed, applied_seq)

    def _take_inbox(self) -> tuple[Command, ...]:
        with self._lock:
            if self._next_site is not None:
                self.controller = Controller(self._next_site, state=self.controller.state)
                self._next_site = None
            commands = tuple(cmd for seq, cmd in self._submitted if seq > self._taken_seq)
            self._taken_seq = self._seq
            return commands

    def _publish(self, result: CycleResult) -> None:
        settings = self._settings_now(self._taken_seq)
        with self._lock:
            self._settings = settings
            self._submitted = [(s, c) for s, c in self._submitted if s > settings.applied_seq]
            self.last = result
            self._version += 1

    async def _read(self) -> Snapshot:
        readings = await read_devices(self.drivers, self.supervisors)
        commands = self._take_inbox()
        self._refused = readings.refused
        t = self.clock.monotonic_s()
        chargers = readings.chargers
        if self.needs is not None:
            chargers = dict(self.needs(t, self.clock.wall_s(), chargers))
        return Snapshot(
            t=t,
            meters=readings.meters,
            chargers=chargers,
            batteries=readings.batteries,
            solar=readings.solar,
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
        alerts += self._refused
        for sup in self.supervisors.values():
            alerts.extend(sup.device_alerts())
        for source in self.alert_sources:
            try:
                alerts.extend(source())
            except Exception:  # a broken follower must not stop the loop
                continue
        return alerts

    def _watchdog(self, late_s: float, duration_s: float) -> Alert | None:
        period_s = self.site.control.period_s
        if late_s > LATE_SHARE * period_s:
            return alert(
                "cycle_overrun",
                f"control cycle started {late_s:.2f} s late (period {period_s:g} s)",
            )
        if duration_s > period_s:
            return alert(
                "cycle_overrun",
                f"control cycle took {duration_s:.2f} s, longer than the {period_s:g} s period",
            )
        return None

    async def cycle(self, late_s: float = 0.0) -> CycleResult:
        """One control cycle: read, decide, apply; tell the listeners.

        `late_s` is how long after its slot the cycle started (the loop measures it).
        """
        start_s = self.clock.monotonic_s()
        self.beat_s = start_s
        taken_seq = self._taken_seq
        snap = await self._read()
        try:
            decision = self.controller.decide(snap)
        except BaseException:
            with self._lock:  # the commands it took are taken again by the next cycle
                self._taken_seq = taken_seq
            raise
        await self._apply(decision)
        duration_s = self.clock.monotonic_s() - start_s
        extra = self._alerts()
        overrun_alert = self._watchdog(late_s, duration_s)
        if overrun_alert is not None:
            self.overruns += 1
            extra.append(overrun_alert)
        if extra:
            decision = dataclasses.replace(decision, alerts=(*decision.alerts, *extra))
        result = CycleResult(
            self.clock.wall_s(), snap, decision, duration_s, overrun_alert is not None, late_s
        )
        self._publish(result)
        self.cycles += 1
        self.beat_s = self.clock.monotonic_s()
        for listener in self.listeners:
            try:
                listener(result)
            except Exception:  # a listener's failure is its own, never the loop's
                continue
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Cycle every `period_s` until `stop` is set, then shut down to the fallbacks.

        Cycles keep to a fixed schedule; one that starts late is measured (the watchdog), and
        a loop more than a period behind starts a new schedule instead of bursting cycles.
        """
        self.loop = asyncio.get_running_loop()
        period_s = self.site.control.period_s
        slot_s = self.clock.monotonic_s()
        try:
            while not stop.is_set():
                start_s = self.clock.monotonic_s()
                late_s = max(0.0, start_s - slot_s)
                try:
                    await self.cycle(late_s=late_s)
                except Exception as exc:  # one bad cycle must not end the loop
                    self.failed_cycles += 1
                    print(
                        f"panelpilot: control cycle failed: {type(exc).__name__}: {exc}",
                        file=sys.stderr,
                        flush=True,
                    )
                # More than a period behind: a new schedule from this cycle, not a burst.
                slot_s = slot_s + period_s if late_s <= period_s else start_s + period_s
                wait_s = max(0.0, slot_s - self.clock.monotonic_s())
                sleep = asyncio.ensure_future(self.clock.sleep(wait_s))
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

    def fallback_waves(self) -> tuple[dict[str, ChargerDecision], dict[str, ChargerDecision]]:
        """The fallbacks in two waves: chargers that go down (or stay), then those that go up.

        A raise may only land once every lowered car has followed its lower pilot.
        """
        if self.last is None:
            return {}, {}
        given = self.last.decision.chargers
        down: dict[str, ChargerDecision] = {}
        up: dict[str, ChargerDecision] = {}
        for cid, fallback in self.fallback_decisions().items():
            (up if given[cid].limit_a < fallback.limit_a else down)[cid] = fallback
        return down, up

    async def _apply_chargers(self, chargers: Mapping[str, ChargerDecision]) -> None:
        assert self.last is not None
        decision = dataclasses.replace(
            self.last.decision, chargers=chargers, batteries={}, solar={}
        )
        await self._apply(decision, force=True)

    async def shutdown(self) -> None:
        """Leave every charger at its fallback limit, in order, and close the drivers.

        Decreases first; once they are acknowledged (or their calls timed out) the cars get
        `control.response_s` to follow (J1772: up to 5 s), and only then are the chargers
        below their fallback raised to it.
        """
        if self.last is None:
            await self.cycle()
        down, up = self.fallback_waves()
        await self._apply_chargers(down)
        if up:
            await self.clock.sleep(self.site.control.response_s)
            await self._apply_chargers(up)
        await asyncio.gather(*(s.close() for s in self.supervisors.values()))
