"""Tesla Gen 3 Wall Connector vitals over HTTP on loopback reach the Snapshot."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from panelpilot.control.types import ChargerReading, Snapshot
from panelpilot.drivers.base import ChargerDriver, DeviceIdentity, DriverError, Identified
from panelpilot.drivers.tesla_wc import (
    ChargerMonitor,
    TeslaWallConnector,
    TeslaWcConfig,
    build_tesla_wc_driver,
)
from panelpilot.drivers.tesla_wc.simulator import SimWallConnector, WallConnectorServer


def _read(unit: SimWallConnector) -> ChargerReading:
    async def scenario() -> ChargerReading:
        async with WallConnectorServer(unit) as server:
            driver = build_tesla_wc_driver(TeslaWcConfig("wc1", "127.0.0.1", server.port))
            try:
                return await driver.read()
            finally:
                await driver.close()

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    ("split_phase", "connected", "current_a", "expected"),
    [
        (True, True, 32.0, ChargerReading(online=True, connected=True, current_a=32.0)),
        (True, True, 0.0, ChargerReading(online=True, connected=True, current_a=0.0)),
        (True, False, 0.0, ChargerReading(online=True, connected=False, current_a=0.0)),
        (False, True, 16.0, ChargerReading(online=True, connected=True, current_a=16.0)),
    ],
    ids=["charging", "plugged-full", "no-car", "three-phase"],
)
def test_vitals_reach_the_snapshot(split_phase, connected, current_a, expected):
    unit = SimWallConnector(split_phase=split_phase)
    unit.vehicle_connected = connected
    unit.current_a = current_a
    snapshot = Snapshot(t=0.0, chargers={"wc1": _read(unit)})
    assert snapshot.chargers["wc1"] == expected


def test_it_is_a_monitor_not_a_charger_driver():
    driver = TeslaWallConnector("wc1", "127.0.0.1")
    assert isinstance(driver, ChargerMonitor)
    assert not isinstance(driver, ChargerDriver)  # the Gen 3 local API takes no limit


def test_a_unit_that_does_not_answer_reads_offline(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    driver = TeslaWallConnector("wc1", "127.0.0.1", port)

    async def scenario() -> ChargerReading:
        try:
            return await driver.read()
        finally:
            await driver.close()

    assert asyncio.run(scenario()) == ChargerReading(online=False)
    assert "wc1 offline" in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>not json", "not valid JSON"),
        ('{"vehicle_connected": true}', "lack the phase currents"),
        ('{"currentA_a": 3.0}', "lack 'vehicle_connected'"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_garbled_vitals_are_a_driver_error(body, message):
    unit = SimWallConnector()
    unit.garbled_body = body
    with pytest.raises(DriverError, match=message) as raised:
        _read(unit)
    assert raised.value.device == "wc1"


def test_every_endpoint_answers_what_the_package_reads():
    from tesla_wall_connector import WallConnector

    async def scenario() -> tuple[str, str, int, str]:
        import aiohttp

        unit = SimWallConnector()
        async with WallConnectorServer(unit) as server, aiohttp.ClientSession() as session:
            wc = WallConnector(f"127.0.0.1:{server.port}", session=session)
            vitals = await wc.async_get_vitals()
            version = await wc.async_get_version()
            lifetime = await wc.async_get_lifetime()
            wifi = await wc.async_get_wifi_status()
            _ = (vitals.total_power_w, vitals.evse_state, vitals.relay_coil_v)
            return version.firmware_version, wifi.wifi_ssid, lifetime.energy_wh, str(vitals.grid_v)

    firmware, ssid, energy_wh, grid_v = asyncio.run(scenario())
    assert firmware.startswith("24.")
    assert ssid == "garage"
    assert energy_wh == 1_250_000
    assert grid_v == "240.0"


def test_read_info_gives_the_firmware_version():
    async def scenario() -> str:
        async with WallConnectorServer(SimWallConnector()) as server:
            driver = TeslaWallConnector("wc1", "127.0.0.1", server.port)
            try:
                return (await driver.read_info()).firmware_version
            finally:
                await driver.close()

    assert asyncio.run(scenario()) == "24.36.3+gc9a7e4d9f7b3e0"


def _identity(unit: SimWallConnector) -> DeviceIdentity | None:
    async def scenario() -> DeviceIdentity | None:
        async with WallConnectorServer(unit) as server:
            driver = TeslaWallConnector("wc1", "127.0.0.1", server.port)
            try:
                assert driver.identity() is None  # nothing before it answered
                await driver.read()
                return driver.identity()
            finally:
                await driver.close()

    return asyncio.run(scenario())


def test_the_version_api_gives_firmware_serial_and_part_number() -> None:
    assert isinstance(TeslaWallConnector("wc1", "127.0.0.1"), Identified)
    assert _identity(SimWallConnector()) == DeviceIdentity(
        "Tesla", "Gen 3 Wall Connector", "PGT22137007ZZZ", "24.36.3+gc9a7e4d9f7b3e0", "1734412-02-E"
    )


def test_an_oversized_serial_number_is_left_out_with_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unit = SimWallConnector()
    unit.serial_number = "S" * 300
    with caplog.at_level(logging.WARNING):
        identity = _identity(unit)
    assert identity is not None
    assert identity.serial_number is None and identity.firmware == unit.firmware_version
    lines = [r.getMessage() for r in caplog.records]
    assert "wc1: version serial_number is 300 characters, at most 64 allowed; left out" in lines
    assert not any(r.exc_info for r in caplog.records)
