"""The drivers of a site, built from its `drivers:` section (ocpp, sunspec, sim).

A device with no `drivers:` entry is simulated when `simulate_rest` is set (`--sim`), and is
otherwise an error that names it. OCPP chargers dial in to the central system this module
starts; their passwords live in the service's SQLite database (`panelpilot chargers add`).
Tesla Wall Connectors' local API only reports vitals, so it cannot carry a limit: a charger
needs an `ocpp` or `sim` driver.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from panelpilot.control.types import Alert, ChargerDecision, ChargerReading
from panelpilot.drivers.from_site import ocpp_driver, sunspec_drivers
from panelpilot.drivers.ocpp import CentralSystem, CredentialStore, OcppChargerDriver
from panelpilot.drivers.sim import World, sim_drivers
from panelpilot.service.clock import Clock
from panelpilot.service.runtime import DriverSet
from panelpilot.site.drivers import (
    OcppDriverConfig,
    SimDriverConfig,
    SunSpecDriverConfig,
    TeslaWcDriverConfig,
)
from panelpilot.site.model import Site


class DeviceSetupError(Exception):
    """The site's devices cannot be driven as configured; says which and why."""


@dataclass(frozen=True)
class OcppOptions:
    """Where the OCPP central system listens, and where the charge points' passwords are."""

    credentials_db: Path
    host: str = "127.0.0.1"
    port: int = 9000


class PairableOcppCharger:
    """An OCPP charger whose pairing password is the one it authenticates with."""

    def __init__(self, driver: OcppChargerDriver, store: CredentialStore) -> None:
        self.driver = driver
        self.store = store
        self.device_id = driver.device_id

    async def read(self) -> ChargerReading:
        """As the OCPP driver reads it."""
        return await self.driver.read()

    async def apply(self, decision: ChargerDecision) -> None:
        """As the OCPP driver applies it."""
        await self.driver.apply(decision)

    def alerts(self) -> tuple[Alert, ...]:
        """The OCPP driver's alerts (a charger refusing smart charging)."""
        return self.driver.alerts()

    async def verify_password(self, password: str) -> bool:
        """Whether the password is the charge point's registered one (Argon2, off the loop)."""
        cp_id = self.driver.charge_point_id
        return await asyncio.to_thread(self.store.verify, cp_id, password)


@dataclass
class Devices:
    """The drivers, and what must run beside them (the OCPP central system, a sim world)."""

    drivers: DriverSet
    central: CentralSystem | None
    world: World | None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Devices]:
        """Start the OCPP central system (if any) for the life of the block."""
        if self.central is None:
            yield self
            return
        await self.central.start()
        try:
            yield self
        finally:
            await self.central.stop()


def build_devices(
    site: Site, clock: Clock, *, simulate_rest: bool, ocpp: OcppOptions | None
) -> Devices:
    """Drivers for every device of the site, from its `drivers:` section."""
    configs = {d.device: d for d in site.drivers}
    roles = {c.id: "charger" for c in site.chargers}
    roles |= {m: "meter" for m in site.meter_ids()}
    roles |= {b.id: "battery" for b in site.batteries}
    roles |= {s.id: "solar" for s in site.solar}
    missing = sorted(d for d in roles if d not in configs)
    if missing and not simulate_rest:
        raise DeviceSetupError(
            f"no driver for {', '.join(missing)}: add them to the site's drivers: section, "
            "or run with --sim to simulate them"
        )
    world: World | None = None
    if simulate_rest or any(isinstance(c, SimDriverConfig) for c in configs.values()):
        world = World.of(site, clock.monotonic_s)
    sim = sim_drivers(world) if world is not None else ({}, {}, {}, {})
    needs_ocpp = any(isinstance(c, OcppDriverConfig) for c in configs.values())
    central: CentralSystem | None = None
    store: CredentialStore | None = None
    if needs_ocpp:
        if ocpp is None:
            raise DeviceSetupError("OCPP chargers need a SQLite --db for their passwords")
        store = CredentialStore(ocpp.credentials_db)
        heartbeat_s = min(
            c.heartbeat_interval_s for c in configs.values() if isinstance(c, OcppDriverConfig)
        )
        central = CentralSystem(
            store,
            host=ocpp.host,
            port=ocpp.port,
            clock=clock.wall_s,
            heartbeat_interval_s=heartbeat_s,
        )
    sunspec = sunspec_drivers(site)
    chargers: dict[str, object] = {}
    meters: dict[str, object] = {}
    batteries: dict[str, object] = {}
    solar: dict[str, object] = {}
    tables = {"charger": chargers, "meter": meters, "battery": batteries, "solar": solar}
    for device, role in roles.items():
        config = configs.get(device)
        table = tables[role]
        if config is None or isinstance(config, SimDriverConfig):
            table[device] = sim[("charger", "meter", "battery", "solar").index(role)][device]
        elif isinstance(config, OcppDriverConfig):
            if role != "charger":
                raise DeviceSetupError(f"{device}: an ocpp driver drives a charger, not a {role}")
            assert central is not None and store is not None
            # The snapshots' `t` (so decisions' lease ends) is on the monotonic clock.
            driver = ocpp_driver(site, central, config, decision_clock=clock.monotonic_s)
            table[device] = PairableOcppCharger(driver, store)
        elif isinstance(config, SunSpecDriverConfig):
            if role == "charger":
                raise DeviceSetupError(f"{device}: a sunspec driver cannot drive a charger")
            table[device] = sunspec[device]
        elif isinstance(config, TeslaWcDriverConfig):
            raise DeviceSetupError(
                f"{device}: the Tesla Wall Connector's local API reports vitals only and cannot "
                "take a limit; drive it over OCPP (kind: ocpp) or simulate it"
            )
    return Devices(
        DriverSet(chargers, meters, batteries, solar),  # type: ignore[arg-type]
        central,
        world,
    )
