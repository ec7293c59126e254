"""panelpilot's `Controller.decide` as an ACN-Sim scheduling algorithm.

Each ACN period (1 minute by default) `schedule` builds one `Snapshot` from the simulated
chargers, calls `decide` once, and sends each EVSE the decision's `limit_a` as its pilot for
that period. What panelpilot is told is what a real charger reports, nothing more:

* `connected`: a car is plugged into the EVSE (a full car stays plugged in, drawing 0 A, until
  it leaves; ACN's `active_sessions` drop it, a charger does not);
* `current_a`: the car's actual rate in the last period (ACN's `current_charging_rate`),
  rounded to 0.1 A as chargers report it;
* no meters: the one ACN constraint is a circuit without other loads, so its capacity is its
  `limit_a` (docs/control.md).

The site is one circuit of `limit_a`, and, where the settings lock allows it (6 A per EVSE
fits), one sharing network of the same limit over all the EVSEs; otherwise the EVSEs sit on
the circuit alone with `fallback_a: 0` (their fallbacks must fit the circuit).

Time: `control.period_s` is the ACN period (60 s), so a car's response (`response_s`, 5 s)
has always settled by the next cycle; a probe (`probe_s` 60 s) is one period. The lease is
five periods (`lease_s` 300 s) so a lease outlives a cycle. The pilot sent is the limit
rounded down to an allowed J1772 rate (0 or 6..32 A in 1 A steps).

Cadence: the service decides every `period_s` (1 s by default); ACN asks once a minute. So
each period runs the follow-up cycles the service would run within its first seconds
(`cadence.settle`: each car reading what ACN's own battery model says it draws at its new
pilot), and sends the last cycle's pilots for the period (the bias is in `cadence`).

Charging needs (`with_needs=True`): each session's departure (ACN's `estimated_departure`)
and energy still wanted (`remaining_demand`) as a `ChargingNeed` on its charger's reading,
as OCPP 2.0.1 NotifyEVChargingNeeds would give them (source "ev").
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from acnportal.algorithms import BaseAlgorithm

from bench.acn.cadence import settle
from bench.acn.events import EventSet
from bench.acn.site import pilot_of, site_for
from panelpilot.control import (
    ChargerReading,
    ChargerStatus,
    ChargingNeed,
    Controller,
    Decision,
    Snapshot,
)

READING_DECIMALS = 1
# A car reading less than this draws nothing (full, or not started).
IDLE_A = 0.5


@dataclass(slots=True)
class Counters:
    """What the controller did, counted per charger-period (the causes in issue 14)."""

    decide_ns: list[int] = field(default_factory=list)
    cycles: list[int] = field(default_factory=list)  # `decide` calls per period (1 + follow-ups)
    raise_waits: int = 0  # a charger whose limit is below its target (a raise waiting)
    raise_wait_a: float = 0.0  # the same in A x periods: target - limit, summed
    paused: int = 0  # a car wanting current held at 0 (waiting for a turn)
    probes: int = 0  # probes started
    probes_deferred: int = 0  # of them, started with the raise waiting for room
    # A x periods given to plugged-in cars that drew nothing (full, or not yet started) in
    # cycles where another car was held below what it would draw (limited or paused).
    idle_held_a: float = 0.0
    probing_before: set[str] = field(default_factory=set)
    pilots_before: dict[str, float] = field(default_factory=dict)


class PanelpilotAlgo(BaseAlgorithm):
    """ACN-Sim calls `schedule` every period (`max_recompute` 1); one `decide` per call."""

    def __init__(
        self,
        events: EventSet,
        *,
        with_needs: bool = False,
        control: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        self.max_recompute = 1
        self.events = events
        self.with_needs = with_needs
        self.controller = Controller(site_for(events, control))
        self.counters = Counters()

    def now_s(self) -> float:
        """The snapshot clock: seconds since the simulation's first period."""
        return float(self.interface.current_time) * float(self.interface.period) * 60.0

    def readings(self, needs: Mapping[str, ChargingNeed]) -> dict[str, ChargerReading]:
        """What each EVSE reports: a car plugged in, what it drew in the last period, and its
        need when the car tells it."""
        network = self.interface._simulator.network  # the chargers' own plug state
        out: dict[str, ChargerReading] = {}
        for sid in self.events.stations:
            ev = network.get_ev(sid)
            if ev is None:
                out[sid] = ChargerReading(True, False, 0.0)
            else:
                drawn = round(float(ev.current_charging_rate), READING_DECIMALS)
                out[sid] = ChargerReading(True, True, drawn, need=needs.get(sid))
        return out

    def needs_of(self, active_sessions: list[Any]) -> dict[str, ChargingNeed]:
        """Each active session's departure and energy still wanted, by EVSE."""
        period_s = float(self.interface.period) * 60.0
        return {
            s.station_id: ChargingNeed(
                float(s.estimated_departure) * period_s, 1000.0 * float(s.remaining_demand), "ev"
            )
            for s in active_sessions
        }

    def snapshot(self, active_sessions: list[Any]) -> Snapshot:
        """The snapshot of this period."""
        needs = self.needs_of(active_sessions) if self.with_needs else {}
        return Snapshot(self.now_s(), {}, self.readings(needs))

    def schedule(self, active_sessions: list[Any]) -> dict[str, list[float]]:
        """The period's decision and its follow-up cycles (`cadence`); each EVSE's pilot."""
        snap = self.snapshot(active_sessions)
        top = self.events.max_pilot_a
        start = time.perf_counter_ns()
        decision, cycles = settle(self.controller, snap, self.draws, top)
        self.counters.decide_ns.append(time.perf_counter_ns() - start)
        self.counters.cycles.append(cycles)
        self.count(snap, decision)
        return {sid: [pilot_of(d.limit_a, top)] for sid, d in decision.chargers.items()}

    def draws(self, sid: str, pilot: float) -> float:
        """What the car on `sid` draws once it has followed `pilot`: ACN's battery model
        charged for `response_s` on a copy (the simulated car is not touched)."""
        ev = self.interface._simulator.network.get_ev(sid)
        if ev is None or pilot <= 0.0:
            return 0.0
        battery = copy.copy(ev._battery)
        minutes = self.controller.site.control.response_s / 60.0
        return float(battery.charge(pilot, self.events.voltage_v, minutes))

    def count(self, snap: Snapshot, decision: Decision) -> None:
        """Add this cycle's raise waits, pauses, probes and idle holds to the counters."""
        c = self.counters
        memory = self.controller.state.chargers
        probing_now: set[str] = set()
        pilots_now: dict[str, float] = {}
        short = False
        idle_a = 0.0
        for sid, d in decision.chargers.items():
            waiting = d.limit_a + 1e-9 < d.target_a
            c.raise_waits += waiting
            c.raise_wait_a += max(0.0, d.target_a - d.limit_a)
            c.paused += d.status is ChargerStatus.PAUSED
            short |= d.status in (ChargerStatus.PAUSED, ChargerStatus.LIMITED)
            reading = snap.chargers[sid]
            pilot = pilot_of(d.limit_a, self.events.max_pilot_a)
            # Offered current last period and drew none of it: held by a car that draws
            # nothing (a car just started reads 0 from its pause, and is not counted).
            if reading.connected and reading.current_a < IDLE_A and c.pilots_before.get(sid):
                idle_a += pilot
            pilots_now[sid] = pilot
            m = memory.get(sid)
            if m is not None and m.probing:
                probing_now.add(sid)
                if sid not in c.probing_before:
                    c.probes += 1
                    c.probes_deferred += waiting
        c.probing_before = probing_now
        c.pilots_before = pilots_now
        if short:
            c.idle_held_a += idle_a
