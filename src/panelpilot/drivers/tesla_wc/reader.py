"""Read a Gen 3 Wall Connector's vitals with the `tesla-wall-connector` package and map them
into a `ChargerReading`.

Mapping: `online` is whether /api/1/vitals answered; `connected` is `vehicle_connected`;
`current_a` is the largest phase current (`currentA_a`, `currentB_a`, `currentC_a`): on a
240 V split-phase unit lines A and B carry the car's current, on a three-phase unit each phase
does, and a breaker trips on the most loaded conductor. `limit_a` stays None: the vitals do
not report the pilot limit in effect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import aiohttp
from tesla_wall_connector import WallConnector
from tesla_wall_connector.exceptions import (
    WallConnectorConnectionError,
    WallConnectorError,
)

from panelpilot.control.types import ChargerReading
from panelpilot.drivers.base import DeviceIdentity, DriverError

log = logging.getLogger(__name__)

PHASE_CURRENT_FIELDS = ("currentA_a", "currentB_a", "currentC_a")  # vitals, amps
# /api/1/version fields: Gen 3 serial numbers are 14 characters, part numbers 12, firmware
# versions about 25 ("24.36.3+gc9a7e4d9f7b3e0"); anything longer than this is not a unit's.
LONGEST_VERSION_FIELD = 64


@runtime_checkable
class ChargerMonitor(Protocol):
    """A charger panelpilot can watch but not limit (a read-only API)."""

    device_id: str

    async def read(self) -> ChargerReading:
        """The charger's state now; `online=False` when it cannot be reached."""
        ...


@dataclass(frozen=True, slots=True)
class TeslaWcConfig:
    """One Wall Connector on the local network (the site file's `kind: tesla_wc` block)."""

    device: str  # the site's charger id
    host: str
    port: int = 80
    timeout_s: float = 2.0


@dataclass(frozen=True, slots=True)
class WallConnectorInfo:
    """What /api/1/version tells about a unit (firmware for the design checks)."""

    firmware_version: str
    part_number: str
    serial_number: str


VERSION_FIELDS = ("serial_number", "firmware_version", "part_number")


def _text(device_id: str, raw: dict[str, object], field: str) -> str | None:
    """One /api/1/version field as text, or None (logged) when it is not a unit's."""
    value = raw.get(field)
    if value is None:
        return None
    why = None
    if not isinstance(value, str):
        why = f"is not text ({type(value).__name__})"
    elif len(value) > LONGEST_VERSION_FIELD:
        why = f"is {len(value)} characters, at most {LONGEST_VERSION_FIELD} allowed"
    elif not value.isprintable():
        why = "holds control characters"
    if why is not None or not isinstance(value, str):
        log.warning("%s: version %s %s; left out", device_id, field, why)
        return None
    return value.strip() or None


def _number(raw: dict[str, object], field: str) -> float | None:
    value = raw.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class TeslaWallConnector:
    """A Gen 3 Wall Connector's vitals as a `ChargerReading` (monitoring only, no `apply`)."""

    def __init__(self, device_id: str, host: str, port: int = 80, timeout_s: float = 2.0) -> None:
        self.device_id = device_id
        self._address = host if port == 80 else f"{host}:{port}"
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None  # made in the running loop
        self._identity: DeviceIdentity | None = None
        self._identity_due = True  # asked at the first answer, and after each silence

    def _client(self) -> WallConnector:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return WallConnector(self._address, timeout=self._timeout_s, session=self._session)

    async def read(self) -> ChargerReading:
        """Vitals now; offline (logged) when the unit does not answer, DriverError if garbled."""
        try:
            vitals = await self._client().async_get_vitals()
        except WallConnectorConnectionError as exc:
            log.warning("%s offline: %s", self.device_id, exc)
            self._identity_due = True  # it may come back with new firmware
            return ChargerReading(online=False)
        except WallConnectorError as exc:
            raise DriverError(self.device_id, f"vitals are not valid JSON: {exc}") from exc
        raw = vitals.raw_data
        if not isinstance(raw, dict):
            raise DriverError(self.device_id, f"vitals are not a JSON object: {raw!r:.80}")
        connected = raw.get("vehicle_connected")
        if not isinstance(connected, bool):
            raise DriverError(self.device_id, "vitals lack 'vehicle_connected'")
        phases = [abs(a) for f in PHASE_CURRENT_FIELDS if (a := _number(raw, f)) is not None]
        if not phases:
            raise DriverError(self.device_id, "vitals lack the phase currents (currentA_a, ...)")
        if self._identity_due:
            await self._refresh_identity()
        return ChargerReading(online=True, connected=connected, current_a=max(phases))

    def identity(self) -> DeviceIdentity | None:
        """Firmware, serial and part number from /api/1/version (`Identified`), asked once the
        unit answers and again after it was silent; None before."""
        return self._identity

    async def _refresh_identity(self) -> None:
        """Ask /api/1/version; a failure or a field that is not a unit's is logged in one
        line and left out (the vitals still count)."""
        self._identity_due = False
        try:
            version = (await self._client().async_get_version()).raw_data
        except (WallConnectorError, KeyError, TypeError) as exc:
            log.warning("%s: version not read: %s", self.device_id, exc)
            return
        raw = version if isinstance(version, dict) else {}
        fields = {k: _text(self.device_id, raw, k) for k in VERSION_FIELDS}
        self._identity = DeviceIdentity(
            vendor="Tesla",
            model="Gen 3 Wall Connector",
            serial_number=fields["serial_number"],
            firmware=fields["firmware_version"],
            part_number=fields["part_number"],
        )

    async def read_info(self) -> WallConnectorInfo:
        """Firmware, part and serial number (DriverError when the unit does not answer)."""
        try:
            version = await self._client().async_get_version()
            return WallConnectorInfo(
                firmware_version=str(version.firmware_version),
                part_number=str(version.part_number),
                serial_number=str(version.serial_number),
            )
        except (WallConnectorError, KeyError, TypeError) as exc:
            raise DriverError(self.device_id, f"version: {exc}") from exc

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def build_tesla_wc_driver(config: TeslaWcConfig) -> TeslaWallConnector:
    """The monitor for one Wall Connector from plain config values."""
    return TeslaWallConnector(config.device, config.host, config.port, config.timeout_s)
