"""What runs the site in a simulation: panelpilot's controller, or a baseline without sharing.

Every policy sees the same `Readings` and answers with `Orders` (arrays in the topology's
order). The panelpilot policy turns readings into the real `Snapshot` and the real `Decision`
back into orders, so the simulator exercises exactly the controller the service runs.
Baselines are settings stored in the devices: no communication, so no faults reach them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from panelpilot.control.quiet import Quiet
from panelpilot.control.types import (
    BatteryReading,
    ChargerReading,
    Command,
    Decision,
    Snapshot,
    SolarReading,
)
from panelpilot.sim.topology import Topology
from panelpilot.site import Site

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# A charger reports the current its car draws to 0.1 A, as the Tesla Gen 3 vitals do (OCPP
# meter values are as coarse or coarser). The controller sees what a real one would: a
# tapering car's reading changes every few seconds, not every step.
REPORTED_DECIMALS = 1


def reported_a(current_a: FloatArray) -> FloatArray:
    """What chargers drawing `current_a` report (to `REPORTED_DECIMALS`)."""
    return np.round(current_a, REPORTED_DECIMALS)


def reports_change(draws_a: FloatArray | None, n: int) -> NDArray[np.int64]:
    """The columns of the first `n` steps of `draws_a` (moving cars x steps; None: no car
    moves) in which what their chargers report (`reported_a`) differs from the column
    before, and `n` after them all: a decision reading column `c` reads the same as those
    up to the next such column."""
    if draws_a is None:
        return np.array([n], dtype=np.int64)
    reported = reported_a(draws_a[:, :n])
    moved = np.flatnonzero((reported[:, 1:] != reported[:, :-1]).any(axis=0)) + 1
    return np.append(moved, n)


@dataclass(frozen=True)
class Readings:
    """What the site's meters and devices report at `t_s` (a device not online is silent)."""

    t_s: float
    meters: dict[str, float | None]
    charger_online: BoolArray
    charger_connected: BoolArray
    charger_current_a: FloatArray
    charger_pilot_a: FloatArray
    battery_online: BoolArray
    battery_current_a: FloatArray
    battery_soc: FloatArray
    solar_online: BoolArray
    solar_current_a: FloatArray


@dataclass(frozen=True)
class Orders:
    """What a policy tells the devices; `reached` says which chargers got an answer."""

    charger_reached: BoolArray
    charger_limit_a: FloatArray
    charger_fallback_a: FloatArray
    charger_until_s: FloatArray  # each charger's lease end (inf: a setting, never lapses)
    battery_max_discharge_a: FloatArray
    battery_charge_request_a: FloatArray
    solar_max_a: FloatArray


class Policy(Protocol):
    """A way of running the site. `remote` policies talk to devices and suffer comms faults."""

    name: str
    remote: bool

    def decide(self, readings: Readings) -> Orders:
        """Orders for the devices, from what is measured now."""
        ...

    def next_change_t(self) -> float:
        """When the policy itself changes something next (a scheduled setting), or inf."""
        ...

    def quiet(self) -> Quiet | None:
        """The meter readings under which its next decisions repeat the last one, or None
        (`panelpilot.control.quiet`)."""
        ...

    def skip(self, t_s: float, meters: Mapping[str, float | None]) -> None:
        """Leave out the decision at `t_s`, one its `quiet()` counted as repeating the last
        one with these meter readings."""
        ...


def _fixed_orders(topo: Topology, limit_a: FloatArray) -> Orders:
    n = len(topo.charger_ids)
    return Orders(
        charger_reached=np.ones(n, dtype=bool),
        charger_limit_a=limit_a,
        charger_fallback_a=limit_a,
        charger_until_s=np.full(n, np.inf),
        battery_max_discharge_a=np.full(len(topo.battery_ids), np.inf),
        battery_charge_request_a=np.zeros(len(topo.battery_ids)),
        solar_max_a=np.full(len(topo.solar_ids), np.inf),
    )


class _FixedSettings:
    """A baseline: settings stored in the chargers once, the same orders at every step."""

    name = ""
    remote = False

    def __init__(self, orders: Orders) -> None:
        self._orders = orders

    def decide(self, readings: Readings) -> Orders:
        """The same fixed settings at every step."""
        return self._orders

    def next_change_t(self) -> float:
        """Never."""
        return float("inf")

    def quiet(self) -> Quiet | None:
        """Nothing to say: it is never asked between stretches."""
        return None

    def skip(self, t_s: float, meters: Mapping[str, float | None]) -> None:
        """Never asked (`quiet` says nothing)."""
        raise AssertionError("a baseline has no decisions to leave out")


class StaticPolicy(_FixedSettings):
    """Baseline `static`: network members fixed at the fair limit, others at their max."""

    name = "static"

    def __init__(self, site: Site, topo: Topology) -> None:
        in_network = topo.network_members.sum(axis=0) > 0
        super().__init__(_fixed_orders(topo, np.where(in_network, topo.fair_a, topo.charger_max_a)))


class NonePolicy(_FixedSettings):
    """Baseline `none`: every charger at its installation max, no sharing, no PCS."""

    name = "none"

    def __init__(self, site: Site, topo: Topology) -> None:
        super().__init__(_fixed_orders(topo, topo.charger_max_a.copy()))


class ControllerLike(Protocol):
    """The one method of `panelpilot.control.controller.Controller` the simulator uses."""

    def decide(self, snapshot: Snapshot) -> Decision:
        """Decide from a snapshot."""
        ...

    def quiet(self) -> Quiet | None:
        """The meter readings under which the next cycles repeat the last one."""
        ...

    def skip(self, t: float, meters: Mapping[str, float | None]) -> None:
        """Leave out a cycle `quiet()` counted as repeating the last one."""
        ...


class PanelpilotPolicy:
    """panelpilot's controller in the loop, through the service's Snapshot and Decision."""

    name = "panelpilot"
    remote = True

    def __init__(
        self,
        site: Site,
        topo: Topology,
        make_controller: Callable[[Site], ControllerLike] | None = None,
        settings: Sequence[tuple[float, Command]] = (),
    ) -> None:
        if make_controller is None:
            from panelpilot.control.controller import Controller

            def make_controller(site: Site) -> ControllerLike:
                return Controller(site)

        self.controller = make_controller(site)
        self.topo = topo
        # Settings changes not yet made, in time order: (at_s, command).
        self._settings = sorted(settings, key=lambda pair: pair[0])
        self.last_decision: Decision | None = None
        # The arrays behind the last readings built, and the readings (see _chargers).
        self._seen: tuple[BoolArray, BoolArray, FloatArray, FloatArray] | None = None
        self._last_chargers: dict[str, ChargerReading] = {}
        # Plain lists: the per-charger loop is Python either way, and lists index faster.
        self._limit: list[float] = topo.fair_a.tolist()
        self._fallback: list[float] = topo.fair_a.tolist()
        self._lease: list[float] = [-np.inf] * len(topo.charger_ids)  # lease ends
        self._arrays: tuple[FloatArray, FloatArray, FloatArray] | None = None
        self._discharge: list[float] = [float("inf")] * len(topo.battery_ids)
        self._charge: list[float] = [0.0] * len(topo.battery_ids)
        self._solar: list[float] = [float("inf")] * len(topo.solar_ids)
        # The storage orders' values and arrays, shared by the orders until a value moves.
        self._storage: tuple[tuple[float, ...], tuple[FloatArray, FloatArray, FloatArray]] | None
        self._storage = None

    def _chargers(self, r: Readings) -> dict[str, ChargerReading]:
        """Each online charger's reading; only the chargers whose values changed are rebuilt
        (most of a 200-charger garage is steady from one second to the next)."""
        topo = self.topo
        online = r.charger_online
        connected = r.charger_connected
        current = reported_a(r.charger_current_a)
        pilot = r.charger_pilot_a
        seen = self._seen
        if seen is not None and np.array_equal(online, seen[0]):
            changed = np.flatnonzero(
                (connected != seen[1]) | (current != seen[2]) | (pilot != seen[3])
            ).tolist()
            if not changed:  # the same readings: the same mapping (never changed in place)
                return self._last_chargers
            chargers = dict(self._last_chargers)
        else:
            changed = np.flatnonzero(online).tolist()
            chargers = {}
        for i in changed:
            if online[i]:
                cid = topo.charger_ids[i]
                chargers[cid] = ChargerReading(
                    True, bool(connected[i]), float(current[i]), float(pilot[i])
                )
        self._seen = (online.copy(), connected.copy(), current, pilot.copy())
        self._last_chargers = chargers
        return chargers

    def snapshot(self, r: Readings) -> Snapshot:
        """The controller's view of the readings (a charger not online is left out)."""
        topo = self.topo
        chargers = self._chargers(r)
        batteries = {
            bid: BatteryReading(online, current_a, soc)
            for bid, online, current_a, soc in zip(
                topo.battery_ids,
                r.battery_online.tolist(),
                r.battery_current_a.tolist(),
                r.battery_soc.tolist(),
                strict=True,
            )
        }
        solar = {
            sid: SolarReading(online, current_a)
            for sid, online, current_a in zip(
                topo.solar_ids, r.solar_online.tolist(), r.solar_current_a.tolist(), strict=True
            )
        }
        due: list[Command] = []
        while self._settings and self._settings[0][0] <= r.t_s:
            due.append(self._settings.pop(0)[1])
        return Snapshot(
            t=r.t_s,
            meters=r.meters,
            chargers=chargers,
            batteries=batteries,
            solar=solar,
            commands=tuple(due),
        )

    def next_change_t(self) -> float:
        """When the next scheduled settings change is made."""
        return self._settings[0][0] if self._settings else float("inf")

    def quiet(self) -> Quiet | None:
        """The controller's own conditions for its next cycles to repeat the last one."""
        return self.controller.quiet()

    def skip(self, t_s: float, meters: Mapping[str, float | None]) -> None:
        """The controller leaves out that cycle (`Controller.skip`)."""
        self.controller.skip(t_s, meters)

    def decide(self, readings: Readings) -> Orders:
        """Run the controller once and turn its decision into orders."""
        decision = self.controller.decide(self.snapshot(readings))
        last, self.last_decision = self.last_decision, decision
        topo = self.topo
        reached = readings.charger_online.copy()
        got = decision.chargers
        if (
            last is not None
            and decision.chargers_since_t == last.chargers_since_t
            and len(got) == len(topo.charger_ids)
        ):
            pass  # the same charger decisions as the last cycle's: the same orders
        elif len(got) == len(topo.charger_ids):
            # The usual case: the decision names every charger; read it column by column.
            ds = [got[cid] for cid in topo.charger_ids]
            self._limit = [d.limit_a for d in ds]
            self._fallback = [d.fallback_a for d in ds]
            self._lease = [d.lease_until_t for d in ds]
            self._arrays = None
        else:
            for i, cid in enumerate(topo.charger_ids):
                d = got.get(cid)
                if d is None:
                    reached[i] = False
                    continue
                self._limit[i] = d.limit_a
                self._fallback[i] = d.fallback_a
                self._lease[i] = d.lease_until_t
            self._arrays = None
        if self._arrays is None:  # shared by the orders until the decisions change
            self._arrays = (np.array(self._limit), np.array(self._fallback), np.array(self._lease))
        limit, fallback, lease = self._arrays
        discharge, charge, solar = self._storage_orders(decision, readings)
        return Orders(
            charger_reached=reached,
            charger_limit_a=limit,
            charger_fallback_a=fallback,
            charger_until_s=lease,
            battery_max_discharge_a=discharge,
            battery_charge_request_a=charge,
            solar_max_a=solar,
        )

    def _storage_orders(
        self, decision: Decision, readings: Readings
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The batteries' and inverters' orders: each device in contact is told what the
        decision says; the others keep the last. The arrays are made again only when a value
        moved."""
        topo = self.topo
        battery_online = readings.battery_online.tolist()
        for i, bid in enumerate(topo.battery_ids):
            b = decision.batteries.get(bid)
            if b is not None and battery_online[i]:
                self._discharge[i] = b.max_discharge_a
                self._charge[i] = b.charge_request_a
        solar_online = readings.solar_online.tolist()
        for i, sid in enumerate(topo.solar_ids):
            s = decision.solar.get(sid)
            if s is not None and solar_online[i] and topo.solar_controllable[i]:
                self._solar[i] = s.max_a
        key = (*self._discharge, *self._charge, *self._solar)
        if self._storage is None or self._storage[0] != key:
            arrays = (np.array(self._discharge), np.array(self._charge), np.array(self._solar))
            self._storage = (key, arrays)
        return self._storage[1]


POLICIES: dict[str, Callable[[Site, Topology], Policy]] = {
    "panelpilot": PanelpilotPolicy,
    "static": StaticPolicy,
    "none": NonePolicy,
}
