"""Battery and solar caps reach simulated SunSpec devices, which obey them.

Scenario tables in the seed's numbers: a 240 V site, an 11.5 kW battery (47.9 A) and a
9.6 kW inverter (40 A).
"""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import BatteryDecision, Snapshot, SolarDecision
from panelpilot.drivers.base import BatteryDriver, DriverError, SolarDriver
from panelpilot.drivers.sunspec import (
    SunSpecBattery,
    SunSpecConfig,
    SunSpecSolar,
    build_battery,
    build_solar,
    build_sunspec_driver,
)
from panelpilot.drivers.sunspec.simdevices import SimBattery, SimSolar
from panelpilot.drivers.sunspec.simulator import SunSpecServer


def _config(port: int, device: str) -> SunSpecConfig:
    return SunSpecConfig(device=device, host="127.0.0.1", port=port, voltage_v=240.0)


def _battery(port: int) -> SunSpecBattery:
    driver = build_sunspec_driver(_config(port, "pw1"), "battery")
    assert isinstance(driver, SunSpecBattery)
    return driver


def _solar(port: int) -> SunSpecSolar:
    driver = build_sunspec_driver(_config(port, "pv1"), "solar")
    assert isinstance(driver, SunSpecSolar)
    return driver


@pytest.mark.parametrize("der", [True, False], ids=["704", "124"])
@pytest.mark.parametrize(
    ("demand_a", "max_discharge_a", "expected_a"),
    [
        (30.0, 20.0, 20.0),  # capped
        (30.0, 0.0, 0.0),  # curtailed to nothing (panel limit exceeded)
        (12.0, 40.0, 12.0),  # cap above what it wants: unchanged
        (-10.0, 20.0, -10.0),  # charging from solar is not a discharge
    ],
)
def test_battery_cap_reaches_the_battery_which_obeys_it(der, demand_a, max_discharge_a, expected_a):
    async def scenario() -> tuple[SimBattery, Snapshot]:
        sim = SimBattery(der=der)
        sim.demand_a = demand_a
        async with SunSpecServer(sim) as server:
            driver = _battery(server.port)
            assert isinstance(driver, BatteryDriver)
            await driver.apply(BatteryDecision(max_discharge_a, 0.0, 40.0))
            snapshot = Snapshot(t=1.0, batteries={"pw1": await driver.read()})
            await driver.close()
        return sim, snapshot

    sim, snapshot = asyncio.run(scenario())
    assert sim.output_cap_a() == pytest.approx(max_discharge_a, abs=0.05)
    assert sim.current_a == pytest.approx(expected_a, abs=0.05)
    reading = snapshot.batteries["pw1"]
    assert reading.online
    assert reading.current_a == pytest.approx(expected_a, abs=0.1)
    assert reading.soc == pytest.approx(0.5)


def test_der_cap_lands_in_model_704_registers():
    async def scenario() -> SimBattery:
        sim = SimBattery(der=True, max_power_w=12000.0)
        async with SunSpecServer(sim) as server:
            driver = _battery(server.port)
            await driver.apply(BatteryDecision(25.0, 0.0, 30.0))
            await driver.close()
        return sim

    image = asyncio.run(scenario()).image
    assert image.get_raw(704, "WMaxLimPctEna") == 1
    assert image.get(704, "WMaxLimPct") == pytest.approx(50.0)  # 25 A x 240 V / 12 kW
    assert image.get_raw(704, "WMaxLimPct") == 500  # WMaxLimPct_SF = -1
    assert image.get_raw(704, "WSetEna") == 0
    assert image.get(702, "WChaRteMax") == pytest.approx(7200.0)  # 30 A x 240 V


@pytest.mark.parametrize("der", [True, False], ids=["702", "124"])
@pytest.mark.parametrize(
    ("demand_a", "charge_request_a", "max_charge_a", "expected_a"),
    [
        (-30.0, 0.0, 12.0, -12.0),  # soaking up solar, held to the conductor's room
        (-30.0, 0.0, 40.0, -30.0),
        (0.0, 25.0, 10.0, -10.0),  # a charge request never exceeds the charge cap
    ],
)
def test_charge_cap_reaches_the_battery_which_obeys_it(
    der, demand_a, charge_request_a, max_charge_a, expected_a
):
    async def scenario() -> tuple[SimBattery, float]:
        sim = SimBattery(der=der)
        sim.demand_a = demand_a
        async with SunSpecServer(sim) as server:
            driver = _battery(server.port)
            await driver.apply(BatteryDecision(40.0, charge_request_a, max_charge_a))
            reading = await driver.read()
            await driver.close()
        return sim, reading.current_a

    sim, read_a = asyncio.run(scenario())
    assert sim.charge_cap_a() == pytest.approx(max_charge_a, abs=0.05)
    assert sim.current_a == pytest.approx(expected_a, abs=0.05)
    assert read_a == pytest.approx(expected_a, abs=0.1)


@pytest.mark.parametrize("der", [True, False], ids=["704", "124"])
def test_charge_request_makes_the_battery_charge(der):
    async def scenario() -> tuple[SimBattery, float]:
        sim = SimBattery(der=der)
        sim.demand_a = 15.0
        async with SunSpecServer(sim) as server:
            driver = _battery(server.port)
            await driver.apply(BatteryDecision(0.0, 20.0, 40.0))
            reading = await driver.read()
            await driver.close()
        return sim, reading.current_a

    sim, read_a = asyncio.run(scenario())
    assert sim.charge_request_a() == pytest.approx(20.0, abs=0.05)
    assert sim.current_a == pytest.approx(-20.0, abs=0.05)
    assert read_a == pytest.approx(-20.0, abs=0.1)


def test_lifting_the_charge_request_returns_to_the_cap():
    async def scenario() -> float:
        sim = SimBattery(der=True)
        sim.demand_a = 15.0
        async with SunSpecServer(sim) as server:
            driver = _battery(server.port)
            await driver.apply(BatteryDecision(0.0, 20.0, 40.0))
            await driver.apply(BatteryDecision(10.0, 0.0, 40.0))
            reading = await driver.read()
            await driver.close()
        return reading.current_a

    assert asyncio.run(scenario()) == pytest.approx(10.0, abs=0.1)


@pytest.mark.parametrize("der", [True, False], ids=["704", "123"])
@pytest.mark.parametrize(
    ("available_a", "max_a", "expected_a"),
    [(35.0, 40.0, 35.0), (35.0, 12.0, 12.0), (35.0, 0.0, 0.0)],
)
def test_solar_cap_reaches_the_inverter_which_obeys_it(der, available_a, max_a, expected_a):
    async def scenario() -> tuple[SimSolar, Snapshot]:
        sim = SimSolar(der=der)
        sim.available_a = available_a
        async with SunSpecServer(sim) as server:
            driver = _solar(server.port)
            assert isinstance(driver, SolarDriver)
            await driver.apply(SolarDecision(max_a=max_a))
            snapshot = Snapshot(t=1.0, solar={"pv1": await driver.read()})
            await driver.close()
        return sim, snapshot

    sim, snapshot = asyncio.run(scenario())
    assert sim.output_cap_a() == pytest.approx(max_a, abs=0.05)
    assert sim.current_a == pytest.approx(expected_a, abs=0.05)
    assert snapshot.solar["pv1"].current_a == pytest.approx(expected_a, abs=0.1)


def test_cap_above_the_rating_is_clamped_to_100_percent():
    async def scenario() -> SimSolar:
        sim = SimSolar(der=True, max_power_w=9600.0)
        async with SunSpecServer(sim) as server:
            driver = _solar(server.port)
            await driver.apply(SolarDecision(max_a=80.0))
            await driver.close()
        return sim

    assert asyncio.run(scenario()).image.get(704, "WMaxLimPct") == pytest.approx(100.0)


def test_battery_and_solar_that_do_not_answer_read_offline(closed_port):
    async def scenario() -> tuple[bool, bool]:
        battery, solar = _battery(closed_port), _solar(closed_port)
        return (await battery.read()).online, (await solar.read()).online

    assert asyncio.run(scenario()) == (False, False)


def test_applying_a_cap_to_a_device_that_does_not_answer_raises(closed_port):
    with pytest.raises(DriverError, match="pw1"):
        asyncio.run(_battery(closed_port).apply(BatteryDecision(10.0, 0.0, 40.0)))


@pytest.mark.parametrize("kind", ["battery", "solar"])
def test_reversion_makes_a_device_fail_safe_when_panelpilot_stops(kind):
    """Caps renew the 704 reversion timer; when it lapses the device falls to the safe cap."""

    async def scenario() -> tuple[SimBattery | SimSolar, float]:
        sim: SimBattery | SimSolar
        if kind == "battery":
            sim = SimBattery()
            sim.demand_a = 30.0
        else:
            sim = SimSolar()
            sim.available_a = 30.0
        async with SunSpecServer(sim) as server:
            config = SunSpecConfig("dev1", "127.0.0.1", server.port, revert_s=60, revert_cap_a=5.0)
            if kind == "battery":
                battery = build_battery(config)
                await battery.apply(BatteryDecision(40.0, 0.0, 40.0))
                await battery.close()
            else:
                inverter = build_solar(config)
                await inverter.apply(SolarDecision(max_a=40.0))
                await inverter.close()
        running_a = sim.current_a
        sim.lapse_reversion_timers()  # panelpilot went silent for 60 s
        return sim, running_a

    sim, running_a = asyncio.run(scenario())
    assert running_a == pytest.approx(30.0, abs=0.05)
    assert sim.image.get(704, "WMaxLimPctRvrtTms") == 60
    assert sim.output_cap_a() == pytest.approx(5.0, abs=0.05)
    assert sim.current_a == pytest.approx(5.0, abs=0.05)


def test_reversion_stops_a_forced_charge():
    async def scenario() -> SimBattery:
        sim = SimBattery()
        async with SunSpecServer(sim) as server:
            config = SunSpecConfig("pw1", "127.0.0.1", server.port, revert_s=30)
            battery = build_battery(config)
            await battery.apply(BatteryDecision(0.0, 20.0, 40.0))
            await battery.close()
        assert sim.current_a == pytest.approx(-20.0, abs=0.05)
        sim.lapse_reversion_timers()
        return sim

    sim = asyncio.run(scenario())
    assert sim.charge_request_a() == 0.0
    assert sim.current_a == pytest.approx(0.0)  # demand 0, discharge capped at 0


def test_the_stored_charge_setting_is_written_only_when_it_changes():
    """702 WChaRteMax is a setting (often kept in flash): rewritten on change, not per cycle."""

    async def scenario() -> list[float | None]:
        sim = SimBattery()
        seen = []
        async with SunSpecServer(sim) as server:
            battery = build_battery(SunSpecConfig("pw1", "127.0.0.1", server.port))
            for max_charge_a in (30.0, 30.0, 20.0):
                sim.image.set(702, "WChaRteMax", 1.0)  # a marker the driver would overwrite
                await battery.apply(BatteryDecision(10.0, 0.0, max_charge_a))
                seen.append(sim.image.get(702, "WChaRteMax"))
            await battery.close()
        return seen

    assert asyncio.run(scenario()) == [7200.0, 1.0, 4800.0]


def test_a_cap_that_does_not_fit_the_register_is_refused():
    async def scenario() -> None:
        sim = SimBattery()
        async with SunSpecServer(sim) as server:
            battery = build_battery(SunSpecConfig("pw1", "127.0.0.1", server.port))
            try:
                await battery.apply(BatteryDecision(10.0, 0.0, 400.0))  # 96 kW > uint16 W
            finally:
                await battery.close()

    with pytest.raises(DriverError, match=r"WChaRteMax: 96000\.0 does not fit a uint16"):
        asyncio.run(scenario())
