"""The small interfaces every device driver implements, and the layer's one error type."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from panelpilot.control.types import (
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
