"""A charge point's identity from its BootNotification (1.6 and 2.0.1), checked against the
schema's string lengths, and the BootNotification the simulated charge point sends.

The library refuses a BootNotification that breaks the schema (a CALLERROR, and the charger
boots again); `refused_boot` turns such a payload into one line naming the field, its length
and what is allowed, for the log and the charger's page. Kept across reconnections: a charger
that reconnects without booting keeps what it said last.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call

from panelpilot.drivers.base import DeviceIdentity

LOG = logging.getLogger(__name__)

# OCPP 1.6 BootNotification.req: CiString20 vendor and model, CiString25 serial numbers,
# CiString50 firmware. Field of DeviceIdentity -> (payload key, longest allowed).
V16_FIELDS: dict[str, tuple[str, int]] = {
    "vendor": ("chargePointVendor", 20),
    "model": ("chargePointModel", 20),
    "serial_number": ("chargePointSerialNumber", 25),
    "firmware": ("firmwareVersion", 50),
}
V16_OLD_SERIAL = ("chargeBoxSerialNumber", 25)  # deprecated in 1.6, still sent by some
# OCPP 2.0.1 ChargingStationType: vendorName 50, model 20, serialNumber 25, firmwareVersion 50.
V201_FIELDS: dict[str, tuple[str, int]] = {
    "vendor": ("vendorName", 50),
    "model": ("model", 20),
    "serial_number": ("serialNumber", 25),
    "firmware": ("firmwareVersion", 50),
}


def _fields(version: str, payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    if version == "1.6":
        fields = dict(V16_FIELDS)
        if "chargePointSerialNumber" not in payload and V16_OLD_SERIAL[0] in payload:
            fields["serial_number"] = V16_OLD_SERIAL
        return payload, fields
    station = payload.get("chargingStation")
    return (station if isinstance(station, Mapping) else {}), dict(V201_FIELDS)


def boot_identity(version: str, payload: Mapping[str, Any]) -> tuple[DeviceIdentity, str | None]:
    """The identity a BootNotification payload (camelCase, as sent) gives, and the first
    problem with it: a field that is not printable text or longer than the schema allows is
    left out (None) and named."""
    source, fields = _fields(version, payload)
    values: dict[str, str | None] = {}
    problem: str | None = None
    for name, (key, longest) in fields.items():
        raw = source.get(key)
        values[name] = None
        if raw is None:
            continue
        why = _wrong(raw, longest)
        if why is None:
            values[name] = str(raw).strip() or None
        elif problem is None:
            problem = f"BootNotification {key} {why}"
    return DeviceIdentity(**values), problem


def _wrong(raw: object, longest: int) -> str | None:
    if not isinstance(raw, str):
        return f"is not text ({type(raw).__name__})"
    if len(raw) > longest:
        return f"is {len(raw)} characters, at most {longest} allowed"
    if not raw.isprintable():
        return "holds control characters"
    return None


def refused_boot(charge_point_id: str, version: str, payload: Mapping[str, Any]) -> str:
    """One line for a BootNotification the schema refused, naming the field; logged."""
    _, problem = boot_identity(version, payload)
    line = f"{charge_point_id}: {problem or 'BootNotification against the OCPP schema'}; refused"
    LOG.warning("%s", line)
    return line


def boot_notification(version: str, identity: DeviceIdentity) -> Any:
    """The BootNotification a charge point with this identity sends (the simulator's)."""
    if version == "1.6":
        extra = {
            k: v
            for k, v in (
                ("charge_point_serial_number", identity.serial_number),
                ("firmware_version", identity.firmware),
            )
            if v is not None
        }
        return v16_call.BootNotification(
            charge_point_model=identity.model or "",
            charge_point_vendor=identity.vendor or "",
            **extra,
        )
    station = {
        k: v
        for k, v in (
            ("model", identity.model or ""),
            ("vendor_name", identity.vendor or ""),
            ("serial_number", identity.serial_number),
            ("firmware_version", identity.firmware),
        )
        if v is not None
    }
    return v201_call.BootNotification(charging_station=station, reason="PowerUp")
