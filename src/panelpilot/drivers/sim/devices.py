"""Driver objects over a simulated `World`, implementing the protocols of `drivers.base`."""

from __future__ import annotations

from panelpilot.control.types import (
    BatteryDecision,
    BatteryReading,
    ChargerDecision,
    ChargerReading,
    SolarDecision,
    SolarReading,
)
from panelpilot.drivers.base import DeviceIdentity, DriverError, DriverSet
from panelpilot.drivers.sim.world import World


class SimCharger:
    """A simulated charger: reports its car's draw, takes a limit for a lease."""

    def __init__(self, world: World, device_id: str) -> None:
        self.world = world
        self.device_id = device_id

    async def read(self) -> ChargerReading:
        """The charger's state now."""
        self.world.tick()
        twin = self.world.chargers[self.device_id]
        if not twin.online:
            raise DriverError(self.device_id, "no answer (simulated charger offline)")
        return ChargerReading(
            online=True,
            connected=twin.car_wants_a > 0,
            current_a=twin.draw_a(),
            limit_a=twin.limit_a,
        )

    async def apply(self, decision: ChargerDecision) -> None:
        """Take the limit for its lease, and remember the fallback."""
        twin = self.world.chargers[self.device_id]
        if not twin.online:
            raise DriverError(self.device_id, "no answer (simulated charger offline)")
        twin.limit_a = decision.limit_a
        twin.fallback_a = decision.fallback_a
        twin.lease_until_s = self.world.now_s() + decision.lease_s

    async def verify_password(self, password: str) -> bool:
        """Whether `password` is the one on the charger's sticker (pairing)."""
        return password == self.world.chargers[self.device_id].password

    def identity(self) -> DeviceIdentity | None:
        """A simulated unit's vendor, model, serial number and firmware (`Identified`)."""
        twin = self.world.chargers[self.device_id]
        return DeviceIdentity("panelpilot", "Simulated charger", twin.serial_number, twin.firmware)


class SimMeter:
    """A simulated meter on a circuit."""

    def __init__(self, world: World, device_id: str) -> None:
        self.world = world
        self.device_id = device_id

    async def read_current_a(self) -> float | None:
        """The current through the metered circuit, or None when the meter is lost."""
        return self.world.meter_current_a(self.device_id)


class SimBattery:
    """A simulated battery inverter."""

    def __init__(self, world: World, device_id: str) -> None:
        self.world = world
        self.device_id = device_id

    async def read(self) -> BatteryReading:
        """Current (+ discharge) and state of charge."""
        self.world.settle_battery(self.device_id)
        twin = self.world.batteries[self.device_id]
        return BatteryReading(online=True, current_a=twin.current_a, soc=twin.soc)

    async def apply(self, decision: BatteryDecision) -> None:
        """Cap discharge; charge when requested."""
        twin = self.world.batteries[self.device_id]
        twin.max_discharge_a = decision.max_discharge_a
        twin.charge_request_a = min(decision.charge_request_a, decision.max_charge_a)
        self.world.settle_battery(self.device_id)


class SimSolar:
    """A simulated solar inverter."""

    def __init__(self, world: World, device_id: str) -> None:
        self.world = world
        self.device_id = device_id

    async def read(self) -> SolarReading:
        """Output current."""
        return SolarReading(online=True, current_a=self.world.solar[self.device_id].output_a())

    async def apply(self, decision: SolarDecision) -> None:
        """Cap the output."""
        self.world.solar[self.device_id].max_a = decision.max_a


def sim_driver_set(world: World) -> DriverSet:
    """One simulated driver per device of the world's site."""
    return DriverSet(
        chargers={cid: SimCharger(world, cid) for cid in world.chargers},
        meters={mid: SimMeter(world, mid) for mid in world.meters_online},
        batteries={bid: SimBattery(world, bid) for bid in world.batteries},
        solar={sid: SimSolar(world, sid) for sid in world.solar},
    )
