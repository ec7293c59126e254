"""The small interfaces device drivers implement, their optional abilities, and the layer's
one error type.

One protocol per device role (`ChargerDriver`, `MeterDriver`, `BatteryDriver`, `SolarDriver`),
and one per optional ability (`Connectable`, `Closable`, `Alerting`, `Pairable`,
`Identified`): a driver
offers an ability by having its method, and the service asks with `isinstance`. Everything
above the drivers (the runtime, its supervisors, the settings) sees only these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from panelpilot.control.types import (
    Alert,
    BatteryDecision,
    BatteryReading,
    ChargerDecision,
    ChargerReading,
    SolarDecision,
    SolarReading,
)


class DriverError(Exception):
    """A device could not be reached or answered wrongly; names the device and what failed."""

    def __init__(self, device: str, message: str) -> None:
        self.device = device
        self.message = message
        super().__init__(f"{device}: {message}")


@runtime_checkable
class ChargerDriver(Protocol):
    """An EV charger: report what it measures, take a limit and a fallback."""

    device_id: str

    async def read(self) -> ChargerReading:
        """The charger's state now; `online=False` when it cannot be reached."""
        ...

    async def apply(self, decision: ChargerDecision) -> None:
        """Apply a limit (for its lease) and the fallback it keeps if contact is lost."""
        ...


@runtime_checkable
class MeterDriver(Protocol):
    """A meter: the current through a measurement point, + from the grid toward loads."""

    device_id: str

    async def read_current_a(self) -> float | None:
        """Current in amps, or None when the meter does not answer."""
        ...


@runtime_checkable
class BatteryDriver(Protocol):
    """A battery inverter: + discharge, - charge."""

    device_id: str

    async def read(self) -> BatteryReading:
        """Current, state of charge, reachability."""
        ...

    async def apply(self, decision: BatteryDecision) -> None:
        """Cap discharge and request charging."""
        ...


@runtime_checkable
class SolarDriver(Protocol):
    """A solar inverter that reports its output and, if controllable, takes a cap."""

    device_id: str

    async def read(self) -> SolarReading:
        """Output current, reachability."""
        ...

    async def apply(self, decision: SolarDecision) -> None:
        """Cap the output current."""
        ...


Driver = ChargerDriver | MeterDriver | BatteryDriver | SolarDriver
"""Any device driver, whatever its role."""


@dataclass(frozen=True)
class DriverSet:
    """The drivers of one site by role, each by device id (what the runtime drives)."""

    chargers: Mapping[str, ChargerDriver] = field(default_factory=dict)
    meters: Mapping[str, MeterDriver] = field(default_factory=dict)
    batteries: Mapping[str, BatteryDriver] = field(default_factory=dict)
    solar: Mapping[str, SolarDriver] = field(default_factory=dict)

    def merged(self, other: DriverSet) -> DriverSet:
        """Both sets' drivers (`other` wins for a device in both)."""
        return DriverSet(
            {**self.chargers, **other.chargers},
            {**self.meters, **other.meters},
            {**self.batteries, **other.batteries},
            {**self.solar, **other.solar},
        )


# -- optional abilities ---------------------------------------------------------------------


@runtime_checkable
class Connectable(Protocol):
    """A driver that holds a connection: (re)opened before its first use and after a failure."""

    async def connect(self) -> None:
        """Open (or reopen) the connection to the device."""
        ...


@runtime_checkable
class Closable(Protocol):
    """A driver that holds a connection to release when the service stops."""

    async def close(self) -> None:
        """Close the connection."""
        ...


@runtime_checkable
class Alerting(Protocol):
    """A driver that knows more about its device than up or down (a charger refusing smart
    charging): its alerts join the cycle's."""

    def alerts(self) -> tuple[Alert, ...]:
        """The device's alerts now."""
        ...


@runtime_checkable
class Pairable(Protocol):
    """A charger driver that can check the password on the unit's sticker (pairing)."""

    async def verify_password(self, password: str) -> bool:
        """Whether the password is this charger's."""
        ...


@runtime_checkable
class SessionTagged(Protocol):
    """A charger driver that knows the id tag the session now plugged in was started with
    (OCPP), for the site file's `needs.id_tags` defaults."""

    def id_tag(self) -> str | None:
        """The running session's id tag, None when there is none or it is unknown."""


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """What a device says about itself (OCPP BootNotification, a Wall Connector's version
    API); None for what it did not say."""

    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware: str | None = None
    part_number: str | None = None


@runtime_checkable
class Identified(Protocol):
    """A driver that knows its device's identity (firmware, serial number)."""

    def identity(self) -> DeviceIdentity | None:
        """What the device last said about itself; None before it said anything."""
        ...
