"""Profiles are sent when the commitment changes only (the controller renews leases by moving
their end); a charger that refuses them raises an alert and is reported at its max (fail safe)
until it complies; silence and closed sockets are offline."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import ChargerDecision, ChargerStatus
from panelpilot.drivers.ocpp import (
    PROFILE_REJECTED,
    CentralSystem,
    CredentialStore,
    OcppChargerDriver,
)
from panelpilot.drivers.ocpp.profiles import Version
from panelpilot.drivers.ocpp.simulator import SimulatedChargePoint, SmartChargingMode
from panelpilot.drivers.ocpp.smart_charging import RETRY_REFUSED_S
from panelpilot.site.drivers import OcppDriverConfig
from tests.drivers.ocpp.conftest import PASSWORD, T0, ManualClock

MAX_A = 40.0
CONFIG = OcppDriverConfig(kind="ocpp", device="wc1", charge_point_id="cp1", heartbeat_interval_s=60)


def decision(limit_a: float, lease_until_t: float = T0 + 30) -> ChargerDecision:
    return ChargerDecision(
        limit_a, 13.3, ChargerStatus.CHARGING, limit_a, 30.0, limit_a, lease_until_t
    )


async def settle(central: CentralSystem, driver: OcppChargerDriver, d: ChargerDecision) -> None:
    """Apply, then let any exchange started on its own (an install) finish."""
    await driver.apply(d)
    await central.smart_charging.settled(driver.charge_point_id)


def test_profiles_are_sent_only_when_the_commitment_changes(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> list[int]:
        async with CentralSystem(store, clock=clock) as central:
            cp = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await cp.connect()
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            sent = []
            await settle(central, driver, decision(20))  # station cap + lease
            sent.append(cp.profiles_received)
            clock.advance(1)
            await settle(
                central, driver, decision(20.04)
            )  # the same 0.1 A step, the same lease end
            sent.append(cp.profiles_received)
            clock.advance(20)
            await settle(
                central, driver, decision(20)
            )  # most of the lease gone: the driver does not renew
            sent.append(cp.profiles_received)
            await settle(central, driver, decision(20, T0 + 51))  # the controller renews: sent
            sent.append(cp.profiles_received)
            await settle(central, driver, decision(24, T0 + 51))  # a new limit: sent
            sent.append(cp.profiles_received)
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (24.0, T0 + 51)
            clock.t = T0 + 50.9
            assert cp.limit_a() == 24.0
            clock.t = T0 + 51  # its clock agrees with ours: the fallback from the lease end
            assert cp.limit_a() == 13.3
            # Within the skew bound of the lease end the reading counts the higher of the two.
            assert (await driver.read()).limit_a == 24.0
            clock.t = T0 + 61
            assert (await driver.read()).limit_a == 13.3
            await cp.close()
            return sent

    assert asyncio.run(scenario()) == [2, 2, 2, 3, 4]


def test_the_station_cap_holds_the_unit_max(store: CredentialStore, clock: ManualClock) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            cp = SimulatedChargePoint(
                "cp1", PASSWORD, central.url("cp1"), clock=clock, unit_max_a=80
            )
            await cp.connect()
            await OcppChargerDriver(central, CONFIG, MAX_A).apply(decision(60))
            assert cp.limit_a() == MAX_A  # the cap wins over a larger allocation
            await cp.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", ["reject", "unsupported"])
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_charger_refusing_profiles_raises_the_alert_and_counts_at_its_max(
    store: CredentialStore, clock: ManualClock, mode: SmartChargingMode, version: Version
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            cp = SimulatedChargePoint(
                "cp1",
                PASSWORD,
                central.url("cp1"),
                clock=clock,
                version=version,
                smart_charging=mode,
            )
            await cp.connect()
            await cp.plug_in()
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            await settle(central, driver, decision(10))
            (alert,) = driver.alerts()
            assert (alert.code, alert.device, alert.severity) == (
                PROFILE_REJECTED,
                "wc1",
                "warning",
            )
            reading = await driver.read()
            assert reading.online and reading.limit_a == MAX_A  # fail safe: all of it reserved

            # It complies later: asked again after the retry interval, the alert clears.
            cp.smart_charging = "accept"
            clock.advance(RETRY_REFUSED_S)
            await settle(central, driver, decision(10, clock() + 30))
            assert driver.alerts() == ()
            assert (await driver.read()).limit_a == 10.0
            assert cp.limit_a() == 10.0
            await cp.close()

    asyncio.run(scenario())


def test_silence_past_two_heartbeats_and_a_closed_socket_read_offline(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            cp = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            assert not (await driver.read()).online  # never connected
            await cp.connect()
            assert (await driver.read()).online
            clock.advance(driver.offline_after_s)
            assert (await driver.read()).online
            await cp.heartbeat()
            clock.advance(driver.offline_after_s + 1)
            assert not (await driver.read()).online  # silent too long
            await cp.heartbeat()
            assert (await driver.read()).online  # heard again
            await cp.close()
            await central.wait_disconnected("cp1")
            assert not (await driver.read()).online
            with pytest.raises(Exception, match="not connected"):
                await settle(central, driver, decision(10))

    asyncio.run(scenario())


def test_meter_values_and_transactions_reach_the_reading(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            versions: tuple[tuple[Version, str], ...] = (("1.6", "cp1"), ("2.0.1", "cp2"))
            for version, cp_id in versions:
                cp = SimulatedChargePoint(
                    cp_id, PASSWORD, central.url(cp_id), clock=clock, version=version
                )
                config = OcppDriverConfig(kind="ocpp", device=f"wc-{cp_id}", charge_point_id=cp_id)
                driver = OcppChargerDriver(central, config, MAX_A)
                await cp.connect()
                assert not (await driver.read()).connected
                await settle(central, driver, decision(16))
                await cp.plug_in()
                reading = await driver.read()
                assert (reading.connected, reading.current_a, reading.limit_a) == (True, 16.0, 16.0)
                await cp.unplug()
                reading = await driver.read()
                assert (reading.connected, reading.current_a) == (False, 0.0)
                await cp.close()

    asyncio.run(scenario())
