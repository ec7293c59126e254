"""Devices that answer badly or not at all: offline, never a crash; concurrent use is safe."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import BatteryDecision
from panelpilot.drivers.sunspec import SunSpecConfig, build_battery, build_meter
from panelpilot.drivers.sunspec.simdevices import SimBattery, SimMeter
from panelpilot.drivers.sunspec.simulator import SunSpecServer


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # accept, listen, never answer
    writer.close()


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(12)
    writer.write(b"\x00\x01garbage, not a Modbus frame")
    await writer.drain()
    writer.close()


@pytest.mark.parametrize("handler", [_silent, _garbage], ids=["silent", "garbage"])
def test_a_device_that_answers_badly_reads_offline(handler, caplog):
    async def scenario() -> float | None:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        meter = build_meter(SunSpecConfig("site", "127.0.0.1", port, timeout_s=0.2))
        try:
            return await meter.read_current_a()
        finally:
            await meter.close()
            server.close()
            await server.wait_closed()

    assert asyncio.run(scenario()) is None
    assert "offline" in caplog.text


def test_a_device_that_comes_back_reconfigured_is_rediscovered():
    async def scenario() -> list[float | None]:
        single_phase = SimMeter(model_id=201)
        single_phase.current_a = 5.0
        first = SunSpecServer(single_phase)
        port = await first.start()
        meter = build_meter(SunSpecConfig("site", "127.0.0.1", port))
        readings = [await meter.read_current_a()]
        await first.stop()
        readings.append(await meter.read_current_a())
        three_phase = SimMeter(model_id=203)  # the meter was swapped for a three-phase one
        three_phase.current_a = 8.0
        async with SunSpecServer(three_phase, port=port):
            readings.append(await meter.read_current_a())
        await meter.close()
        return readings

    assert asyncio.run(scenario()) == [pytest.approx(5.0), None, pytest.approx(8.0)]


def test_concurrent_reads_and_caps_on_one_connection():
    async def scenario() -> SimBattery:
        sim = SimBattery()
        sim.demand_a = 30.0
        async with SunSpecServer(sim) as server:
            battery = build_battery(SunSpecConfig("pw1", "127.0.0.1", server.port))
            results = await asyncio.gather(
                *(battery.read() for _ in range(5)),
                battery.apply(BatteryDecision(12.0, 0.0, 40.0)),
                *(battery.read() for _ in range(5)),
            )
            assert all(r is None or r.online for r in results)
            await battery.close()
        return sim

    assert asyncio.run(scenario()).current_a == pytest.approx(12.0, abs=0.05)
