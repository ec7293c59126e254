"""How a SunSpec device is reached, and the factory that builds its driver from plain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from panelpilot.drivers.sunspec.client import SunSpecClient
from panelpilot.drivers.sunspec.devices import SunSpecBattery, SunSpecMeter, SunSpecSolar

SunSpecRole = Literal["meter", "battery", "solar"]


@dataclass(frozen=True, slots=True)
class SunSpecConfig:
    """One SunSpec device on Modbus TCP (the site file's `kind: sunspec` driver block)."""

    device: str  # the site's id for the meter, battery or solar inverter
    host: str
    port: int = 502  # Modbus TCP
    unit_id: int = 1  # Modbus unit (slave) id; 1 for most single devices, 126 for some
    timeout_s: float = 1.0
    base_address: int | None = None  # None: look for 'SunS' at 40000, 0 and 50000
    invert: bool = False  # meters: flip the sign (CTs facing the other way)
    voltage_v: float = 240.0  # batteries, solar: amps <-> watts for % caps


def build_sunspec_driver(
    config: SunSpecConfig, role: SunSpecRole
) -> SunSpecMeter | SunSpecBattery | SunSpecSolar:
    """The driver for `config` acting as `role` (the site section the device is listed in)."""
    client = SunSpecClient(
        config.device,
        config.host,
        config.port,
        unit_id=config.unit_id,
        timeout_s=config.timeout_s,
        base_address=config.base_address,
    )
    if role == "meter":
        return SunSpecMeter(client, invert=config.invert)
    if role == "battery":
        return SunSpecBattery(client, voltage_v=config.voltage_v)
    return SunSpecSolar(client, voltage_v=config.voltage_v)
