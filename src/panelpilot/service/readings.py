"""One cycle's readings: every driver read concurrently, each value no device can mean refused.

A value no device can mean (NaN, infinite, a negative charger current, a state of charge
outside 0..1) would make the whole snapshot invalid and the cycle fail. The device is read as
lost instead (a meter: the controller fails safe; a charger, battery or inverter: offline, so
its fallback is reserved), and a `driver_down` alert says what it reported.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from panelpilot.control.alerts import alert
from panelpilot.control.types import Alert, BatteryReading, ChargerReading, SolarReading
from panelpilot.drivers.base import (
    BatteryDriver,
    ChargerDriver,
    DriverSet,
    MeterDriver,
    SolarDriver,
)
from panelpilot.service.supervisor import Supervisor

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Readings:
    """What every device reported this cycle, impossible values already read as lost.

    `refused` holds one `driver_down` alert per device whose value was refused.
    """

    meters: dict[str, float | None]
    chargers: dict[str, ChargerReading]
    batteries: dict[str, BatteryReading]
    solar: dict[str, SolarReading]
    refused: tuple[Alert, ...]


def refusal(device_id: str, what: str, value: object) -> Alert:
    """The `driver_down` alert for a device that reported an impossible value."""
    return alert(
        "driver_down",
        f"{device_id}: reported an impossible {what} ({value}); read as offline",
        device_id,
    )


def checked_meter(device_id: str, value: float | None) -> tuple[float | None, Alert | None]:
    """A meter's current, or None (lost) when it is not a finite number."""
    if value is not None and not math.isfinite(value):
        return None, refusal(device_id, "current", value)
    return value, None


def checked_charger(device_id: str, r: ChargerReading) -> tuple[ChargerReading, Alert | None]:
    """A charger's reading, or offline when its current or limit is negative or not finite."""
    if not (math.isfinite(r.current_a) and r.current_a >= 0):
        return ChargerReading(online=False), refusal(device_id, "current", r.current_a)
    if r.limit_a is not None and not (math.isfinite(r.limit_a) and r.limit_a >= 0):
        return ChargerReading(online=False), refusal(device_id, "limit", r.limit_a)
    return r, None


def checked_battery(device_id: str, r: BatteryReading) -> tuple[BatteryReading, Alert | None]:
    """A battery's reading, or offline when its current is not finite or its soc not 0..1."""
    if not math.isfinite(r.current_a) or (r.soc is not None and not 0.0 <= r.soc <= 1.0):
        what = f"{r.current_a} A, soc {r.soc}"
        return BatteryReading(online=False), refusal(device_id, "reading", what)
    return r, None


def checked_solar(device_id: str, r: SolarReading) -> tuple[SolarReading, Alert | None]:
    """An inverter's reading, or offline when its current is not finite."""
    if not math.isfinite(r.current_a):
        return SolarReading(online=False), refusal(device_id, "current", r.current_a)
    return r, None


async def read_devices(drivers: DriverSet, supervisors: Mapping[str, Supervisor]) -> Readings:
    """Read every driver at once through its supervisor, then refuse the impossible values.

    A device its supervisor could not read (down, backing off, timed out) is offline, or lost
    for a meter; `supervisors` holds one per device id of `drivers`.
    """

    async def charger(cid: str, drv: ChargerDriver) -> tuple[str, ChargerReading]:
        r = await supervisors[cid].call(drv.read)
        return cid, r if r is not None else ChargerReading(online=False)

    async def meter(mid: str, drv: MeterDriver) -> tuple[str, float | None]:
        return mid, await supervisors[mid].call(drv.read_current_a)

    async def battery(bid: str, drv: BatteryDriver) -> tuple[str, BatteryReading]:
        r = await supervisors[bid].call(drv.read)
        return bid, r if r is not None else BatteryReading(online=False)

    async def solar(sid: str, drv: SolarDriver) -> tuple[str, SolarReading]:
        r = await supervisors[sid].call(drv.read)
        return sid, r if r is not None else SolarReading(online=False)

    c_t = asyncio.gather(*(charger(k, v) for k, v in drivers.chargers.items()))
    m_t = asyncio.gather(*(meter(k, v) for k, v in drivers.meters.items()))
    b_t = asyncio.gather(*(battery(k, v) for k, v in drivers.batteries.items()))
    s_t = asyncio.gather(*(solar(k, v) for k, v in drivers.solar.items()))
    chargers, meters, batteries, solar_r = await asyncio.gather(c_t, m_t, b_t, s_t)
    refused: list[Alert] = []

    def keep(checked: tuple[R, Alert | None]) -> R:
        reading, refused_now = checked
        if refused_now is not None:
            refused.append(refused_now)
        return reading

    return Readings(
        meters={k: keep(checked_meter(k, v)) for k, v in meters},
        chargers={k: keep(checked_charger(k, r)) for k, r in chargers},
        batteries={k: keep(checked_battery(k, r)) for k, r in batteries},
        solar={k: keep(checked_solar(k, r)) for k, r in solar_r},
        refused=tuple(refused),
    )
