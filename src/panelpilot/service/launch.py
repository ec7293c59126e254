"""Starting the service from the command line: drivers, the first owner, signals, the demo."""

from __future__ import annotations

import asyncio
import math
import random
import signal
from collections.abc import Callable
from importlib import resources

from starlette.types import ASGIApp

from panelpilot.drivers.sim import World, sim_drivers
from panelpilot.drivers.sim.twin import (
    TwinBattery,
    TwinCharger,
    TwinClient,
    TwinMeter,
    TwinSolar,
)
from panelpilot.service.accounts import Accounts
from panelpilot.service.clock import Clock
from panelpilot.service.runtime import DriverSet
from panelpilot.service.service import Service, serve
from panelpilot.site import Site, load_site_text


def demo_site() -> Site:
    """The built-in demo site."""
    text = resources.files("panelpilot.service").joinpath("demo-site.yaml").read_text()
    return load_site_text(text, "demo-site.yaml")


def sim_driver_set(world: World) -> DriverSet:
    """In-process simulated drivers for every device of a world."""
    chargers, meters, batteries, solar = sim_drivers(world)
    return DriverSet(chargers, meters, batteries, solar)


def twin_driver_set(site: Site, base_url: str) -> DriverSet:
    """HTTP drivers for every device of a site, served as twins at `base_url`."""
    client = TwinClient(base_url)
    return DriverSet(
        chargers={c.id: TwinCharger(client, c.id) for c in site.chargers},
        meters={m: TwinMeter(client, m) for m in sorted(site.meter_ids())},
        batteries={b.id: TwinBattery(client, b.id) for b in site.batteries},
        solar={s.id: TwinSolar(client, s.id) for s in site.solar},
    )


def needs_owner(accounts: Accounts) -> bool:
    """Whether this is a first run (no owner yet)."""
    return accounts.count("owner") == 0


async def demo_scenario(world: World, clock: Clock, stop: asyncio.Event, seed: int = 1) -> None:
    """Cars arrive one by one, the household load wanders, the sun rises and sets."""
    rng = random.Random(seed)
    arrivals_s = {"wc1": 3.0, "wc2": 10.0, "wc3": 20.0, "wc4": 30.0}
    wants_a = {"wc1": 32.0, "wc2": 32.0, "wc3": 16.0, "wc4": 24.0}
    start_s = clock.monotonic_s()
    garage_load_a = 8.0
    while not stop.is_set():
        t = clock.monotonic_s() - start_s
        for cid, at_s in arrivals_s.items():
            if cid in world.chargers and t >= at_s and world.chargers[cid].car_wants_a == 0:
                world.chargers[cid].car_wants_a = wants_a[cid]
        # A dryer and an oven: the garage panel's other loads wander between 0 and 40 A.
        garage_load_a = min(40.0, max(0.0, garage_load_a + rng.uniform(-3.0, 3.2)))
        world.loads_a["garage"] = garage_load_a
        world.loads_a["service"] = 12.0 + 4.0 * math.sin(t / 40.0)
        for twin in world.solar.values():
            twin.available_a = max(0.0, 30.0 * math.sin(t / 300.0 + 0.3))
        await clock.sleep(1.0)


async def serve_until_signalled(
    service: Service,
    app_factory: Callable[[Service], ASGIApp],
    host: str,
    port: int,
    extra: Callable[[asyncio.Event], asyncio.Future[None]] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then leave every charger at its fallback."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    side = extra(stop) if extra is not None else None
    try:
        await serve(service, app_factory(service), host, port, stop)
    finally:
        stop.set()
        if side is not None:
            side.cancel()
            await asyncio.gather(side, return_exceptions=True)
