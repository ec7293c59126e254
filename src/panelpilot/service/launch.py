"""Starting the service from the command line: drivers, the first owner, signals, the demo."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import AsyncIterator, Callable

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
from panelpilot.service.demo import Demo, run_fleet
from panelpilot.service.runtime import DriverSet
from panelpilot.service.service import ControlSide, ControlThread, Service, serve
from panelpilot.site import Site


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


def listen_problem(host: str, port: int) -> str | None:
    """Why the web server could not listen at host:port, or None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def needs_owner(accounts: Accounts) -> bool:
    """Whether this is a first run (no owner yet)."""
    return accounts.count("owner") == 0


async def serve_until_signalled(
    service: Service,
    app_factory: Callable[[Service], ASGIApp],
    host: str,
    port: int,
    side: ControlSide | None = None,
    control: ControlThread | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then leave every charger at its fallback.

    `side` is entered on the control thread around the loop (the devices' servers, a fleet).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(service, app_factory(service), host, port, stop, side=side, control=control)


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
