"""Malformed SunSpec maps give a DriverError that names the device and what is wrong."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import BatteryDecision
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.sunspec import SunSpecConfig, build_sunspec_driver
from panelpilot.drivers.sunspec.config import SunSpecRole
from panelpilot.drivers.sunspec.devices import SunSpecBattery, SunSpecMeter
from panelpilot.drivers.sunspec.simdevices import SimMeter
from panelpilot.drivers.sunspec.simulator import (
    SimulatedSunSpecDevice,
    StaticDevice,
    SunSpecImage,
    SunSpecServer,
)


def _read_with(device: SimulatedSunSpecDevice, role: SunSpecRole) -> object:
    async def scenario() -> object:
        async with SunSpecServer(device) as server:
            config = SunSpecConfig(device="dev7", host="127.0.0.1", port=server.port)
            driver = build_sunspec_driver(config, role)
            try:
                if isinstance(driver, SunSpecMeter):
                    return await driver.read_current_a()
                return await driver.read()
            finally:
                await driver.close()

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    ("image", "role", "message"),
    [
        (SunSpecImage((1, 203), marker=(0x4D6F, 0x6442)), "meter", "no SunSpec marker 'SunS'"),
        (SunSpecImage((203,)), "meter", "expected the common model 1 after 'SunS'"),
        (SunSpecImage((1, 203), lengths={203: 10}), "meter", "model 203 .* is 10 registers"),
        (SunSpecImage((1, 701, 702)), "battery", "lacks model 704 or 124"),
        (SunSpecImage((1, 123)), "solar", r"lacks model 101/102/103 \(needed for A\)"),
        (SunSpecImage((1, 701, 702, 704)), "meter", r"lacks model 201/202/203/204"),
    ],
    ids=["no-marker", "no-common", "short-model", "no-controls", "no-inverter", "not-a-meter"],
)
def test_malformed_map_names_device_and_fault(image, role, message):
    with pytest.raises(DriverError, match=message) as raised:
        _read_with(StaticDevice(image), role)
    assert raised.value.device == "dev7"


def test_a_meter_map_is_not_a_battery():
    with pytest.raises(DriverError, match="lacks model 704 or 124"):
        _read_with(SimMeter(model_id=203), "battery")


def test_cap_needs_the_rating():
    image = SunSpecImage((1, 701, 702, 704))  # WMax left 'not implemented'

    async def scenario() -> None:
        async with SunSpecServer(StaticDevice(image)) as server:
            config = SunSpecConfig(device="pw9", host="127.0.0.1", port=server.port)
            driver = build_sunspec_driver(config, "battery")
            assert isinstance(driver, SunSpecBattery)
            try:
                await driver.apply(BatteryDecision(10.0, 0.0, 40.0))
            finally:
                await driver.close()

    with pytest.raises(DriverError, match="702 WMax is not set"):
        asyncio.run(scenario())


def test_a_meter_without_current_points_is_an_error_not_zero():
    with pytest.raises(DriverError, match=r"current point \(A\) is not implemented"):
        _read_with(StaticDevice(SunSpecImage((1, 203))), "meter")


def test_vendor_models_are_skipped_by_their_length():
    sim = SimMeter(model_id=201)
    sim.current_a = 9.5
    sim.refresh()
    common_end = 2 + 2 + 66  # marker, then model 1 (ID, L and 66 registers)
    vendor = [64900, 4, 1, 2, 3, 4]  # a vendor model panelpilot has no definition for
    sim.image.registers[common_end:common_end] = vendor
    assert _read_with(StaticDevice(sim.image), "meter") == pytest.approx(9.5)


def test_wrong_unit_id_is_named():
    async def scenario() -> None:
        sim = SimMeter(model_id=201)
        async with SunSpecServer(sim, unit_id=5) as server:
            config = SunSpecConfig(device="site", host="127.0.0.1", port=server.port, unit_id=7)
            meter = build_sunspec_driver(config, "meter")
            try:
                assert isinstance(meter, SunSpecMeter)
                await meter.read_current_a()
            finally:
                await meter.close()

    with pytest.raises(DriverError, match="is unit_id 7 right"):
        asyncio.run(scenario())
