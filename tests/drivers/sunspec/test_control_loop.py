"""One control cycle over real sockets: SunSpec and Wall Connector readings make the Snapshot,
the controller decides, and the caps reach the simulated devices, which obey them.

The site is examples/home-panel-limit.yaml (the seed's 160 A Panel Limit example).
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from panelpilot.control import Controller, Decision, Snapshot
from panelpilot.drivers.sunspec import SunSpecConfig, build_battery, build_meter, build_solar
from panelpilot.drivers.sunspec.simdevices import SimBattery, SimMeter, SimSolar
from panelpilot.drivers.sunspec.simulator import SunSpecServer
from panelpilot.drivers.tesla_wc import TeslaWcConfig, build_tesla_wc_driver
from panelpilot.drivers.tesla_wc.simulator import SimWallConnector, WallConnectorServer
from panelpilot.site.loader import load_site

EXAMPLE = Path(__file__).parents[3] / "examples" / "home-panel-limit.yaml"


def test_panel_limit_caps_reach_the_simulated_batteries_and_solar():
    site = load_site(EXAMPLE)
    meter = SimMeter(model_id=202)
    meter.current_a = 120.0  # main panel importing 120 A
    batteries = {"pw1": SimBattery(), "pw2": SimBattery(der=False)}
    for battery in batteries.values():
        battery.demand_a = 30.0
    solar = {"pw-solar": SimSolar(), "standalone-pv": SimSolar(der=False)}
    solar["pw-solar"].available_a = 30.0
    solar["standalone-pv"].available_a = 35.0
    unit = SimWallConnector()
    unit.vehicle_connected, unit.current_a = True, 40.0

    async def cycle() -> tuple[Snapshot, Decision]:
        async with AsyncExitStack() as stack:

            async def serve(sim: SimMeter | SimBattery | SimSolar) -> int:
                return (await stack.enter_async_context(SunSpecServer(sim))).port

            def config(device: str, port: int) -> SunSpecConfig:
                return SunSpecConfig(device=device, host="127.0.0.1", port=port)

            site_meter = build_meter(config("site", await serve(meter)))
            battery_drivers = [
                build_battery(config(key, await serve(sim))) for key, sim in batteries.items()
            ]
            solar_drivers = [
                build_solar(config(key, await serve(sim))) for key, sim in solar.items()
            ]
            wc_server = await stack.enter_async_context(WallConnectorServer(unit))
            wc = build_tesla_wc_driver(TeslaWcConfig("wc1", "127.0.0.1", wc_server.port))
            stack.push_async_callback(wc.close)
            stack.push_async_callback(site_meter.close)
            for driver in (*battery_drivers, *solar_drivers):
                stack.push_async_callback(driver.close)

            snapshot = Snapshot(
                t=0.0,
                meters={"site": await site_meter.read_current_a()},
                chargers={"wc1": await wc.read()},
                batteries={d.device_id: await d.read() for d in battery_drivers},
                solar={d.device_id: await d.read() for d in solar_drivers},
            )
            decision = Controller(site).decide(snapshot)
            for battery in battery_drivers:
                await battery.apply(decision.batteries[battery.device_id])
            controllable = {s.id for s in site.solar if s.controllable}
            for inverter in solar_drivers:
                if inverter.device_id in controllable:
                    await inverter.apply(decision.solar[inverter.device_id])
        return snapshot, decision

    snapshot, decision = asyncio.run(cycle())
    assert snapshot.meters["site"] == pytest.approx(120.0)
    assert snapshot.chargers["wc1"].current_a == pytest.approx(40.0)
    assert snapshot.batteries["pw2"].current_a == pytest.approx(30.0)
    # panel current 120 + 30 + 35 + 30 + 30 = 245 A > 160 A: every controlled source to 0
    assert [a.code for a in decision.alerts] == ["panel_limit_exceeded"]
    for key, sim in batteries.items():
        assert decision.batteries[key].max_discharge_a == 0.0
        assert sim.output_cap_a() == pytest.approx(0.0)
        assert sim.current_a == pytest.approx(0.0)
    assert decision.solar["pw-solar"].max_a == 0.0
    assert solar["pw-solar"].current_a == pytest.approx(0.0)
    assert solar["standalone-pv"].current_a == pytest.approx(35.0)  # not controllable
