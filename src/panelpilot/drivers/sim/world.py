"""A simulated site: household loads per circuit, chargers with cars, a battery and solar.

Physics is deliberately simple: a car draws `min(pilot limit, what it wants)` at once; a
charger keeps its limit for the lease it was given and then falls back to its fallback limit
(the seed: "the maximum safe fallback current for a unit if communication is lost").
A meter on a circuit reads every load, charger and source below that circuit,
+ from the grid toward the loads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from panelpilot.field import J1772_MIN_A
from panelpilot.site.model import Site

SIM_FIRMWARE = "1.0.0-sim"  # what every simulated charger reports as its firmware


def sim_serial(device_id: str) -> str:
    """A simulated charger's serial number: "SIM-" and its id, within OCPP's 25 characters."""
    return f"SIM-{device_id}"[:25]


@dataclass(slots=True)
class ChargerTwin:
    """One simulated charger and the car plugged into it."""

    circuit: str
    max_a: float
    password: str
    limit_a: float = J1772_MIN_A  # pilot limit in effect now
    fallback_a: float = J1772_MIN_A
    lease_until_s: float = float("inf")
    car_wants_a: float = 0.0  # 0 = no car (or a full one)
    online: bool = True
    # What it reports about itself (the charger page's Firmware and Serial number); None:
    # a unit that does not say.
    serial_number: str | None = None
    firmware: str | None = SIM_FIRMWARE

    def draw_a(self) -> float:
        """What the car draws now: J1772 pilots below 6 A mean no charging."""
        if not self.online or self.car_wants_a <= 0 or self.limit_a < J1772_MIN_A:
            return 0.0
        return min(self.limit_a, self.car_wants_a, self.max_a)


def _toward(before_a: float, target_a: float, rate_a_per_s: float, dt_s: float) -> float:
    """`before_a` moved toward `target_a` by at most `rate_a_per_s` for `dt_s`."""
    step = rate_a_per_s * max(dt_s, 0.0)
    return before_a + max(-step, min(step, target_a - before_a))


@dataclass(slots=True)
class BatteryTwin:
    """A battery: discharges up to its cap to cover the site, charges when asked; a real one
    ramps to a new output (`ramp_a_per_s`; inf: at once)."""

    circuit: str
    current_a: float = 0.0
    soc: float = 0.5
    max_discharge_a: float = 0.0
    charge_request_a: float = 0.0
    ramp_a_per_s: float = float("inf")
    settled_s: float | None = None  # when `current_a` was last moved


@dataclass(slots=True)
class SolarTwin:
    """A solar inverter producing `available_a` under its cap; a real one ramps to a new
    output (`ramp_a_per_s`; inf: at once)."""

    circuit: str
    available_a: float = 0.0
    max_a: float = float("inf")
    ramp_a_per_s: float = float("inf")
    out_a: float = 0.0
    moved_s: float | None = None

    def target_a(self) -> float:
        """What the sun gives, under the cap."""
        return max(0.0, min(self.available_a, self.max_a))

    def advance(self, now_s: float) -> None:
        """Ramp the output toward its target up to `now_s`."""
        dt = 0.0 if self.moved_s is None else now_s - self.moved_s
        if self.ramp_a_per_s == float("inf") or self.moved_s is None:
            self.out_a = self.target_a()
        else:
            self.out_a = _toward(self.out_a, self.target_a(), self.ramp_a_per_s, dt)
        self.moved_s = now_s

    def output_a(self) -> float:
        """Output now (at once, or as far as its ramp has come)."""
        if self.ramp_a_per_s == float("inf"):
            return self.target_a()
        return self.out_a


@dataclass
class World:
    """Every simulated device of one site, and the household loads on its circuits."""

    site: Site
    now_s: Callable[[], float]
    loads_a: dict[str, float] = field(default_factory=dict)
    chargers: dict[str, ChargerTwin] = field(default_factory=dict)
    batteries: dict[str, BatteryTwin] = field(default_factory=dict)
    solar: dict[str, SolarTwin] = field(default_factory=dict)
    meters_online: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        site: Site,
        now_s: Callable[[], float],
        passwords: dict[str, str] | None = None,
    ) -> World:
        """A world with one twin per device of the site, no cars and no loads yet."""
        pw = passwords or {}
        return cls(
            site=site,
            now_s=now_s,
            chargers={
                c.id: ChargerTwin(
                    c.circuit,
                    c.max_a,
                    pw.get(c.id, f"{c.id}-password"),
                    serial_number=sim_serial(c.id),
                )
                for c in site.chargers
            },
            batteries={b.id: BatteryTwin(b.circuit) for b in site.batteries},
            solar={s.id: SolarTwin(s.circuit) for s in site.solar},
            meters_online={m: True for m in site.meter_ids()},
        )

    def tick(self) -> None:
        """Let leases expire: a charger not renewed in time drops to its fallback limit."""
        now = self.now_s()
        for solar in self.solar.values():
            solar.advance(now)
        for twin in self.chargers.values():
            if now >= twin.lease_until_s:
                twin.limit_a = twin.fallback_a
                twin.lease_until_s = float("inf")

    def _below(self) -> dict[str, set[str]]:
        below: dict[str, set[str]] = {}
        for root in self.site.circuits:
            for circuit, _ in root.walk():
                below[circuit.id] = {c.id for c, _ in circuit.walk()}
        return below

    def circuit_current_a(self, circuit_id: str) -> float:
        """Current through a circuit: loads and cars below it, less what sources supply."""
        self.tick()
        inside = self._below().get(circuit_id, set())
        total = sum(a for cid, a in self.loads_a.items() if cid in inside)
        total += sum(t.draw_a() for t in self.chargers.values() if t.circuit in inside)
        total -= sum(s.output_a() for s in self.solar.values() if s.circuit in inside)
        total -= sum(b.current_a for b in self.batteries.values() if b.circuit in inside)
        return total

    def meter_current_a(self, meter_id: str) -> float | None:
        """What a meter reads, or None when it is offline or measures nothing known."""
        if not self.meters_online.get(meter_id, False):
            return None
        for circuit, _ in self.site.all_circuits():
            if circuit.meter == meter_id:
                return self.circuit_current_a(circuit.id)
        return None

    def settle_battery(self, battery_id: str) -> None:
        """The battery covers the site's import up to its cap, or charges as requested."""
        twin = self.batteries[battery_id]
        before, now = twin.current_a, self.now_s()
        if twin.charge_request_a > 0:
            target = -twin.charge_request_a
        else:
            twin.current_a = 0.0
            need_a = max(0.0, self.circuit_current_a(twin.circuit))
            target = min(twin.max_discharge_a, need_a) if twin.soc > 0.05 else 0.0
        if twin.ramp_a_per_s == float("inf") or twin.settled_s is None:
            twin.current_a = target
        else:
            twin.current_a = _toward(before, target, twin.ramp_a_per_s, now - twin.settled_s)
        twin.settled_s = now
