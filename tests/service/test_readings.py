"""A cycle's readings: impossible values are read as lost and told, possible ones pass as is."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import BatteryReading, ChargerReading, SolarReading
from panelpilot.drivers.base import DriverError, DriverSet
from panelpilot.service.readings import (
    checked_battery,
    checked_charger,
    checked_meter,
    checked_solar,
    read_devices,
)
from panelpilot.service.supervisor import Supervisor

NAN = float("nan")
INF = float("inf")


def test_possible_readings_pass_unchanged_and_raise_nothing() -> None:
    charging = ChargerReading(online=True, connected=True, current_a=24.0, limit_a=24.0)
    assert checked_charger("wc1", charging) == (charging, None)
    assert checked_charger("wc4", ChargerReading(online=False)) == (
        ChargerReading(online=False),
        None,
    )
    assert checked_meter("garage", 72.0) == (72.0, None)
    assert checked_meter("garage", None) == (None, None)  # lost stays lost, without an alert
    discharging = BatteryReading(online=True, current_a=-48.0, soc=0.0)
    assert checked_battery("pw1", discharging) == (discharging, None)
    assert checked_battery("pw1", BatteryReading(soc=1.0))[1] is None
    assert checked_solar("pv1", SolarReading(current_a=40.0)) == (
        SolarReading(current_a=40.0),
        None,
    )


@pytest.mark.parametrize("current_a", [NAN, INF, -INF])
def test_a_meter_that_is_not_a_finite_number_is_lost(current_a: float) -> None:
    value, refused = checked_meter("garage", current_a)
    assert value is None  # the controller fails safe
    assert refused is not None
    assert refused.code == "driver_down"
    assert refused.device == "garage"
    assert refused.message == (
        f"garage: reported an impossible current ({current_a}); read as offline"
    )


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        (ChargerReading(current_a=-5.0), "impossible current (-5.0)"),
        (ChargerReading(current_a=NAN), "impossible current (nan)"),
        (ChargerReading(current_a=INF), "impossible current (inf)"),
        (ChargerReading(current_a=10.0, limit_a=-6.0), "impossible limit (-6.0)"),
        (ChargerReading(current_a=10.0, limit_a=NAN), "impossible limit (nan)"),
    ],
)
def test_a_charger_with_an_impossible_current_or_limit_is_offline(
    reading: ChargerReading, message: str
) -> None:
    checked, refused = checked_charger("wc2", reading)
    assert checked == ChargerReading(online=False)  # its fallback is reserved
    assert refused is not None
    assert refused.code == "driver_down"
    assert refused.device == "wc2"
    assert message in refused.message


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        (BatteryReading(current_a=NAN, soc=0.5), "impossible reading (nan A, soc 0.5)"),
        (BatteryReading(current_a=10.0, soc=1.5), "impossible reading (10.0 A, soc 1.5)"),
        (BatteryReading(current_a=10.0, soc=-0.1), "impossible reading (10.0 A, soc -0.1)"),
    ],
)
def test_a_battery_with_an_impossible_current_or_soc_is_offline(
    reading: BatteryReading, message: str
) -> None:
    checked, refused = checked_battery("pw1", reading)
    assert checked == BatteryReading(online=False)
    assert refused is not None
    assert refused.device == "pw1"
    assert message in refused.message


def test_an_inverter_with_an_infinite_current_is_offline() -> None:
    checked, refused = checked_solar("pv1", SolarReading(current_a=-INF))
    assert checked == SolarReading(online=False)
    assert refused is not None
    assert "pv1: reported an impossible current (-inf)" in refused.message


class Meter:
    def __init__(self, device_id: str, current_a: float) -> None:
        self.device_id = device_id
        self.current_a = current_a

    async def read_current_a(self) -> float | None:
        return self.current_a


class Charger:
    def __init__(self, device_id: str, reading: ChargerReading | None) -> None:
        self.device_id = device_id
        self.reading = reading

    async def read(self) -> ChargerReading:
        if self.reading is None:
            raise DriverError(self.device_id, "connection refused")
        return self.reading

    async def apply(self, decision: object) -> None:
        return None


def test_read_devices_reads_all_and_tells_only_the_impossible_ones() -> None:
    async def main() -> None:
        drivers = DriverSet(
            chargers={
                "wc1": Charger("wc1", ChargerReading(connected=True, current_a=24.0)),
                "wc2": Charger("wc2", ChargerReading(current_a=-5.0)),
                "wc3": Charger("wc3", None),  # a driver that fails: offline, its supervisor says
            },
            meters={"garage": Meter("garage", NAN), "site": Meter("site", 90.0)},
        )
        supervisors = {
            device_id: Supervisor(device_id, driver, 1.0, lambda: 0.0)
            for group in (drivers.chargers, drivers.meters)
            for device_id, driver in group.items()
        }
        readings = await read_devices(drivers, supervisors)
        assert readings.chargers == {
            "wc1": ChargerReading(connected=True, current_a=24.0),
            "wc2": ChargerReading(online=False),
            "wc3": ChargerReading(online=False),
        }
        assert readings.meters["site"] == 90.0
        assert readings.meters["garage"] is None
        assert readings.batteries == {}
        assert readings.solar == {}
        # Meters are checked first, then chargers; a failing driver is its supervisor's alert.
        assert [(a.code, a.device) for a in readings.refused] == [
            ("driver_down", "garage"),
            ("driver_down", "wc2"),
        ]
        down = supervisors["wc3"].alert()
        assert down is not None
        assert "connection refused" in down.message

    asyncio.run(main())
