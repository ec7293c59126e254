"""`panelpilot demo`: the built-in site on loopback: OCPP charge points, SunSpec devices.

Cars arrive one by one, the garage panel's other loads wander, the sun rises and sets. The
physics lives in one simulated world (`drivers/sim`): each OCPP charge point's car is mirrored
into it, and the SunSpec meters, battery and solar inverter on loopback (Modbus TCP) take their
measurements from it, and put the caps panelpilot writes to them into it, before every read.

This module is where simulated twins are wired into the service, for the demo and for
`panelpilot run --sim` / `--twins URL`: the `sim` driver kind over one world, the HTTP twins,
the demo's fleet. No other module of the service imports a twin (tests/drivers/test_twins.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from panelpilot.drivers.base import DeviceIdentity
from panelpilot.drivers.factory import DriverKind, OcppOptions
from panelpilot.drivers.ocpp import CredentialStore
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint
from panelpilot.drivers.registry import DRIVER_KINDS
from panelpilot.drivers.sim import World
from panelpilot.drivers.sim.factory import sim_kind
from panelpilot.drivers.sim.twin_client import twin_driver_set
from panelpilot.drivers.sim.world import SIM_FIRMWARE, sim_serial
from panelpilot.drivers.sunspec.simdevices import SimBattery as SunSpecSimBattery
from panelpilot.drivers.sunspec.simdevices import SimMeter as SunSpecSimMeter
from panelpilot.drivers.sunspec.simdevices import SimSolar as SunSpecSimSolar
from panelpilot.drivers.sunspec.simulator import SunSpecServer
from panelpilot.service.accounts import Accounts
from panelpilot.service.clock import Clock
from panelpilot.service.database import sqlite_url
from panelpilot.service.devices import Devices, build_devices
from panelpilot.service.service import ControlSide, Service, build_service
from panelpilot.service.storage import Storage
from panelpilot.site import Site, load_site_text, parse_site

# When each car arrives (seconds after start) and the most its on-board charger draws.
ARRIVALS: dict[str, tuple[float, float]] = {
    "wc1": (3.0, 32.0),
    "wc2": (10.0, 32.0),
    "wc3": (20.0, 16.0),
    "wc4": (30.0, 24.0),
}
WC4_STICKER = "wc4-sticker-pw"  # the password printed on wc4's Quickstart guide
DEMO_BATTERY_RAMP_A_PER_S = 12.0  # a 48 A battery from 0 to full in 4 s
DEMO_SOLAR_RAMP_A_PER_S = 5.0  # a 40 A inverter from 0 to full in 8 s


def simulated_kinds(world: World) -> Mapping[str, DriverKind]:
    """The production driver kinds, and `kind: sim` devices played by `world`."""
    return {**DRIVER_KINDS, "sim": sim_kind(world)}


def simulated_devices(
    site: Site, clock: Clock, *, ocpp: OcppOptions | None, simulate_rest: bool
) -> tuple[Devices, World]:
    """Drivers from the site's `drivers:` section, its `kind: sim` devices (and with
    `simulate_rest` every device the section leaves out) played by one simulated world."""
    world = World.of(site, clock.monotonic_s)
    rest = "sim" if simulate_rest else None
    devices = build_devices(site, clock, ocpp=ocpp, kinds=simulated_kinds(world), rest=rest)
    return devices, world


def twin_devices(site: Site, base_url: str) -> Devices:
    """Every device of the site reached as a simulated twin over HTTP (`run --twins URL`)."""
    return Devices(twin_driver_set(site, base_url))


def demo_site() -> Site:
    """The built-in demo site."""
    text = resources.files("panelpilot.service").joinpath("demo-site.yaml").read_text()
    return load_site_text(text, "demo-site.yaml")


class MirroredMeter:
    """A SunSpec meter (model 203) serving what the world's meter on a circuit reads."""

    def __init__(self, meter_id: str) -> None:
        self.device_id = meter_id
        self.sim = SunSpecSimMeter(model_id=203)
        self.image = self.sim.image
        self.world: World | None = None

    def refresh(self) -> None:
        """Before every Modbus read: take the current from the world."""
        if self.world is not None:
            self.sim.current_a = self.world.meter_current_a(self.device_id) or 0.0
        self.sim.refresh()


class MirroredBattery:
    """A SunSpec battery (704 DER controls): the caps written to it act on the world's battery."""

    def __init__(self, battery_id: str, max_a: float, voltage_v: float) -> None:
        self.device_id = battery_id
        self.sim = SunSpecSimBattery(max_power_w=max_a * voltage_v, voltage_v=voltage_v)
        self.image = self.sim.image
        self.world: World | None = None

    def refresh(self) -> None:
        """Before every Modbus read: apply its caps in the world, publish what it does."""
        if self.world is not None:
            twin = self.world.batteries[self.device_id]
            twin.max_discharge_a = self.sim.output_cap_a()
            twin.charge_request_a = self.sim.charge_request_a()
            self.world.settle_battery(self.device_id)
            self.sim.demand_a = twin.current_a
            self.sim.soc = twin.soc
        self.sim.refresh()


class MirroredSolar:
    """A SunSpec solar inverter (704 DER controls): the world's sun under the cap written to it."""

    def __init__(self, solar_id: str, max_a: float, voltage_v: float) -> None:
        self.device_id = solar_id
        self.sim = SunSpecSimSolar(max_power_w=max_a * voltage_v, voltage_v=voltage_v)
        self.image = self.sim.image
        self.world: World | None = None

    def refresh(self) -> None:
        """Before every Modbus read: the sun from the world, the cap into the world."""
        if self.world is not None:
            twin = self.world.solar[self.device_id]
            self.sim.available_a = twin.available_a
            twin.max_a = self.sim.output_cap_a()
        self.sim.refresh()


Mirrored = MirroredMeter | MirroredBattery | MirroredSolar


async def start_sunspec_twins(site: Site) -> dict[str, tuple[Mirrored, SunSpecServer]]:
    """One SunSpec server on loopback per meter, battery and solar inverter of the site."""
    v = site.voltage_v
    devices: list[Mirrored] = [MirroredMeter(m) for m in sorted(site.meter_ids())]
    devices += [MirroredBattery(b.id, b.max_discharge_a, v) for b in site.batteries]
    devices += [MirroredSolar(s.id, s.max_a, v) for s in site.solar]
    twins: dict[str, tuple[Mirrored, SunSpecServer]] = {}
    for device in devices:
        server = SunSpecServer(device)
        await server.start()
        twins[device.device_id] = (device, server)
    return twins


async def stop_sunspec_twins(twins: Mapping[str, tuple[Mirrored, SunSpecServer]]) -> None:
    """Stop every SunSpec twin's server."""
    for _, server in twins.values():
        await server.stop()


def with_sunspec(site: Site, ports: dict[str, int]) -> Site:
    """The site with these devices reached over SunSpec on loopback at these ports."""
    data = site.model_dump(mode="json", exclude_none=True)
    data["drivers"] = [d for d in data["drivers"] if d["device"] not in ports] + [
        {"kind": "sunspec", "device": device, "host": "127.0.0.1", "port": port}
        for device, port in ports.items()
    ]
    return parse_site(data, file="demo-site.yaml")


@dataclass
class Demo:
    """A ready demo: the service, its devices, and the charge points' passwords."""

    service: Service
    devices: Devices
    world: World
    passwords: dict[str, str]
    installer_password: str


def prepare_demo(
    db_path: Path, clock: Clock, host: str, sunspec_ports: dict[str, int] | None = None
) -> Demo:
    """Database, accounts, charge point registrations and drivers for the demo."""
    site = demo_site()
    if sunspec_ports:
        site = with_sunspec(site, sunspec_ports)
    storage = Storage.open(sqlite_url(str(db_path)))
    installer_password = secrets.token_urlsafe(12)
    Accounts(storage).add_user("installer", "installer", installer_password, clock.wall_s())
    store = CredentialStore(sqlite_url(str(db_path)))
    passwords = {c.id: secrets.token_urlsafe(12) for c in site.chargers}
    passwords["wc4"] = WC4_STICKER
    for cid, password in passwords.items():
        store.add(cid, password, replace=True)
    store.close()
    ocpp = OcppOptions(sqlite_url(str(db_path)), host, 0)
    devices, world = simulated_devices(site, clock, ocpp=ocpp, simulate_rest=True)
    # Real inverters ramp: the battery over about 4 s, the solar inverter over about 8 s.
    for battery in world.batteries.values():
        battery.ramp_a_per_s = DEMO_BATTERY_RAMP_A_PER_S
    for solar in world.solar.values():
        solar.ramp_a_per_s = DEMO_SOLAR_RAMP_A_PER_S
    service = build_service(site, devices.drivers, storage, clock)
    return Demo(service, devices, world, passwords, installer_password)


async def run_fleet(demo: Demo, clock: Clock, stop: asyncio.Event, seed: int = 1) -> None:
    """Connect the charge points, bring the cars, move the loads; until `stop`."""
    central, world = demo.devices.central, demo.world
    assert central is not None
    site = demo.service.runtime.site
    fleet = {
        c.id: SimulatedChargePoint(
            c.id,
            demo.passwords[c.id],
            central.url(c.id),
            clock=clock.wall_s,
            ev=SimEV(onboard_max_a=ARRIVALS.get(c.id, (0.0, 32.0))[1]),
            unit_max_a=c.max_a,
            identity=DeviceIdentity("panelpilot", "SimWC", sim_serial(c.id), SIM_FIRMWARE),
        )
        for c in site.chargers
    }
    tasks = [
        asyncio.create_task(cp.keep_alive(meter_period_s=1.0, sleep=clock.sleep))
        for cp in fleet.values()
    ]
    try:
        await _scenario(fleet, world, clock, stop, random.Random(seed))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for cp in fleet.values():
            with contextlib.suppress(Exception):
                await cp.close()


def demo_side(demo: Demo, clock: Clock) -> ControlSide:
    """The demo's control-thread side: the central system, and the fleet until the loop stops.

    The simulated charge points live on the control thread's loop too, so at shutdown they
    are still there to acknowledge their fallbacks.
    """

    @contextlib.asynccontextmanager
    async def side(_loop_stop: asyncio.Event) -> AsyncIterator[None]:
        # The fleet stops after the loop (and its fallbacks), not with it.
        fleet_stop = asyncio.Event()
        async with demo.devices.running():
            fleet = asyncio.create_task(run_fleet(demo, clock, fleet_stop))
            try:
                yield
            finally:
                fleet_stop.set()
                await asyncio.gather(fleet, return_exceptions=True)

    return side


async def _scenario(
    fleet: dict[str, SimulatedChargePoint],
    world: World,
    clock: Clock,
    stop: asyncio.Event,
    rng: random.Random,
) -> None:
    start_s = clock.monotonic_s()
    garage_load_a = 8.0
    while not stop.is_set():
        t = clock.monotonic_s() - start_s
        for cid, cp in fleet.items():
            arrive_s = ARRIVALS.get(cid, (math.inf, 0.0))[0]
            if t >= arrive_s and not cp.ev.plugged and cp.ready.is_set():
                with contextlib.suppress(Exception):
                    await cp.plug_in()
            # Mirror the car into the world so the garage and site meters see it.
            twin = world.chargers[cid]
            twin.limit_a = cp.limit_a()
            twin.car_wants_a = cp.ev.onboard_max_a if cp.ev.plugged else 0.0
        # A dryer and an oven: the garage panel's other loads wander between 0 and 40 A.
        garage_load_a = min(40.0, max(0.0, garage_load_a + rng.uniform(-3.0, 3.2)))
        world.loads_a["garage"] = garage_load_a
        # The rest of the house: 4-12 A. With the garage's 80 A the loads stay under the 100 A
        # Panel Limit (the garage may overshoot briefly when its loads step up), so the
        # battery and solar stages engage and `panel_limit_exceeded` does not.
        world.loads_a["service"] = 8.0 + 4.0 * math.sin(t / 40.0)
        for solar in world.solar.values():
            solar.available_a = max(0.0, 30.0 * math.sin(t / 300.0 + 0.3))
        await clock.sleep(0.5)
