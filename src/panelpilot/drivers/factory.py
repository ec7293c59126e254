"""What a driver family's factory is given and what it returns (the contract of the registry).

A factory gets every device of its kind at once, so devices that share something (the OCPP
chargers share one central system) are built around one of it. It returns their drivers by
role, and the `Companion`s that must run beside them: started before the control loop, stopped
after it. It raises `DriverError` naming the device for anything it cannot build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from panelpilot.drivers.base import DriverSet
from panelpilot.site.drivers import DriverConfig
from panelpilot.site.model import Site

Role = Literal["charger", "meter", "battery", "solar"]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class OcppOptions:
    """Where the OCPP central system listens, and the database URL of the charge points'
    passwords (the service's own)."""

    credentials_url: str
    host: str = "127.0.0.1"
    port: int = 9000


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """One device to drive: its site id, the part it plays, its `drivers:` entry.

    `config` is None for a device the `drivers:` section leaves out, built by the kind that
    plays the rest (the simulator's, with `--sim`).
    """

    device: str
    role: Role
    config: DriverConfig | None


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What a factory may use beside the entries: the site, the clocks, the command line's
    OCPP options (None when there is no database for the passwords)."""

    site: Site
    monotonic_s: Clock  # the clock of the controller's snapshots (decisions' lease ends)
    wall_s: Clock
    ocpp: OcppOptions | None = None


class Companion(Protocol):
    """Something that runs beside the drivers (the OCPP central system chargers dial in to)."""

    async def start(self) -> None:
        """Start; raises `DriverError` (one line) when it cannot."""
        ...

    async def stop(self) -> None:
        """Stop."""
        ...


@dataclass(frozen=True)
class Built:
    """A family's drivers, and what must run beside them."""

    drivers: DriverSet
    companions: tuple[Companion, ...] = ()


Factory = Callable[[Sequence[DeviceEntry], BuildContext], Built]


@dataclass(frozen=True, slots=True)
class DriverKind:
    """One `kind:` of the `drivers:` section: the parts its drivers can play and its factory.

    `refusal` says why a device in another part cannot be driven by it; `{role}` in it is
    replaced by that part.
    """

    roles: frozenset[Role]
    refusal: str
    build: Factory


def drives_nothing(entries: Sequence[DeviceEntry], context: BuildContext) -> Built:
    """The factory of a kind that plays no part (every device is refused before it)."""
    return Built(DriverSet())
