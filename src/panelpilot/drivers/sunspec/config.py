"""How a SunSpec device is reached, and the factory that builds its driver from plain values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from panelpilot.drivers.sunspec.client import SunSpecClient
from panelpilot.drivers.sunspec.devices import (
    Reversion,
    SunSpecBattery,
    SunSpecMeter,
    SunSpecSolar,
)

SunSpecRole = Literal["meter", "battery", "solar"]
SunSpecDriver = SunSpecMeter | SunSpecBattery | SunSpecSolar


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
    revert_s: int = 0  # batteries, solar (704): fall back to revert_cap_a after this; 0 = off
    revert_cap_a: float = 0.0  # the output cap the device reverts to if panelpilot stops


def _client(config: SunSpecConfig) -> SunSpecClient:
    return SunSpecClient(
        config.device,
        config.host,
        config.port,
        unit_id=config.unit_id,
        timeout_s=config.timeout_s,
        base_address=config.base_address,
    )


def build_meter(config: SunSpecConfig) -> SunSpecMeter:
    """A SunSpec meter driver from plain config values."""
    return SunSpecMeter(_client(config), invert=config.invert)


def _reversion(config: SunSpecConfig) -> Reversion | None:
    return Reversion(config.revert_s, config.revert_cap_a) if config.revert_s > 0 else None


def build_battery(config: SunSpecConfig) -> SunSpecBattery:
    """A SunSpec battery driver from plain config values."""
    return SunSpecBattery(_client(config), config.voltage_v, _reversion(config))


def build_solar(config: SunSpecConfig) -> SunSpecSolar:
    """A SunSpec solar inverter driver from plain config values."""
    return SunSpecSolar(_client(config), config.voltage_v, _reversion(config))


BUILDERS: dict[SunSpecRole, Callable[[SunSpecConfig], SunSpecDriver]] = {
    "meter": build_meter,
    "battery": build_battery,
    "solar": build_solar,
}


def build_sunspec_driver(config: SunSpecConfig, role: SunSpecRole) -> SunSpecDriver:
    """The driver for `config` acting as `role` (the site section the device is listed in)."""
    return BUILDERS[role](config)
