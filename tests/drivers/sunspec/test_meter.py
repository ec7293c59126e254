"""A SunSpec meter over Modbus TCP on loopback reaches the Snapshot, with its sign."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import Snapshot
from panelpilot.drivers.base import MeterDriver
from panelpilot.drivers.sunspec import SunSpecConfig, SunSpecMeter, build_sunspec_driver
from panelpilot.drivers.sunspec.simdevices import SimMeter
from panelpilot.drivers.sunspec.simulator import SunSpecServer


def _meter(port: int, *, invert: bool = False, unit_id: int = 1) -> SunSpecMeter:
    config = SunSpecConfig(
        device="site", host="127.0.0.1", port=port, unit_id=unit_id, invert=invert
    )
    driver = build_sunspec_driver(config, "meter")
    assert isinstance(driver, SunSpecMeter)
    return driver


@pytest.mark.parametrize(
    ("model_id", "current_a"),
    [(201, 12.34), (202, 42.5), (203, 80.0), (204, 63.0), (202, -17.25)],  # -: export
)
def test_meter_current_reaches_snapshot(model_id, current_a):
    async def scenario() -> Snapshot:
        sim = SimMeter(model_id=model_id)
        sim.current_a = current_a
        async with SunSpecServer(sim, unit_id=3) as server:
            driver = _meter(server.port, unit_id=3)
            assert isinstance(driver, MeterDriver)
            snapshot = Snapshot(t=0.0, meters={"site": await driver.read_current_a()})
            await driver.close()
        return snapshot

    assert asyncio.run(scenario()).meters["site"] == pytest.approx(current_a)


def test_meter_follows_a_changing_current_on_one_connection():
    async def scenario() -> list[float | None]:
        sim = SimMeter(model_id=202)
        async with SunSpecServer(sim) as server:
            driver = _meter(server.port)
            readings = []
            for current_a in (10.0, 55.5, -3.0):
                sim.current_a = current_a
                readings.append(await driver.read_current_a())
            await driver.close()
        return readings

    assert asyncio.run(scenario()) == pytest.approx([10.0, 55.5, -3.0])


def test_export_positive_meter_is_flipped_by_invert():
    async def scenario() -> tuple[float | None, float | None]:
        sim = SimMeter(model_id=202, export_positive=True)
        sim.current_a = 20.0  # importing 20 A, but the device reports W negative
        async with SunSpecServer(sim) as server:
            plain, inverted = _meter(server.port), _meter(server.port, invert=True)
            result = (await plain.read_current_a(), await inverted.read_current_a())
            await plain.close()
            await inverted.close()
        return result

    plain, inverted = asyncio.run(scenario())
    assert plain == pytest.approx(-20.0)
    assert inverted == pytest.approx(20.0)


def test_meter_that_does_not_answer_reads_none(closed_port, caplog):
    driver = _meter(closed_port)
    assert asyncio.run(driver.read_current_a()) is None
    assert "offline" in caplog.text


def test_meter_that_goes_down_reads_none_then_comes_back():
    async def scenario() -> list[float | None]:
        sim = SimMeter(model_id=201)
        sim.current_a = 7.0
        server = SunSpecServer(sim)
        await server.start()
        driver = _meter(server.port)
        readings = [await driver.read_current_a()]
        await server.stop()
        readings.append(await driver.read_current_a())
        await driver.close()
        return readings

    assert asyncio.run(scenario()) == [pytest.approx(7.0), None]
