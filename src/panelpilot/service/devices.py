"""The drivers of a site, built from its `drivers:` section through the driver registry.

Each entry's `kind` selects its factory (`drivers/registry.py`); what a factory needs to run
beside its drivers (the OCPP central system chargers dial in to) is started and stopped with
`Devices.running`. A device with no `drivers:` entry is an error that names it, unless the
caller says which kind plays the rest: only the demo and the tests do, with simulated twins
(`service/demo.py`); the production service never imports them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from panelpilot.drivers.base import DriverError, DriverSet
from panelpilot.drivers.factory import BuildContext, Companion, DriverKind, OcppOptions
from panelpilot.drivers.ocpp import CentralSystem
from panelpilot.drivers.registry import DRIVER_KINDS, build_drivers, missing_devices
from panelpilot.service.clock import Clock
from panelpilot.site.model import Site

__all__ = ["DeviceSetupError", "Devices", "OcppOptions", "build_devices"]


class DeviceSetupError(Exception):
    """The site's devices cannot be driven as configured; says which and why."""


@dataclass(frozen=True)
class Devices:
    """The drivers, and what must run beside them (the OCPP central system)."""

    drivers: DriverSet
    companions: tuple[Companion, ...] = ()

    @property
    def central(self) -> CentralSystem | None:
        """The OCPP central system, when the site has OCPP chargers."""
        return next((c for c in self.companions if isinstance(c, CentralSystem)), None)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Devices]:
        """Start every companion for the life of the block (stopped in reverse order)."""
        async with contextlib.AsyncExitStack() as stack:
            for companion in self.companions:
                await companion.start()
                stack.push_async_callback(companion.stop)
            yield self


def build_devices(
    site: Site,
    clock: Clock,
    *,
    ocpp: OcppOptions | None,
    kinds: Mapping[str, DriverKind] = DRIVER_KINDS,
    rest: str | None = None,
) -> Devices:
    """Drivers for every device of the site, each by its `drivers:` entry's kind in `kinds`;
    devices without an entry by the `rest` kind (an error naming them when None)."""
    missing = missing_devices(site)
    if missing and rest is None:
        raise DeviceSetupError(
            f"no driver for {', '.join(missing)}: add them to the site's drivers: section, "
            "or run with --sim to simulate them"
        )
    context = BuildContext(site, clock.monotonic_s, clock.wall_s, ocpp)
    try:
        built = build_drivers(context, kinds, rest=rest)
    except DriverError as exc:
        raise DeviceSetupError(str(exc)) from None
    return Devices(built.drivers, built.companions)
