"""No charger runs without our profile: at connection the cap and the lease profile are installed,
and a transaction start is answered only once the connector acknowledged one (bounded)."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import ChargerDecision, ChargerStatus
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp import (
    PROFILE_REJECTED,
    CentralSystem,
    CredentialStore,
    OcppChargerDriver,
)
from panelpilot.drivers.ocpp.profiles import Version
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint
from panelpilot.site.drivers import OcppDriverConfig
from tests.drivers.ocpp.conftest import PASSWORD, T0, ManualClock

MAX_A = 48.0
CONFIG = OcppDriverConfig(kind="ocpp", device="wc1", charge_point_id="cp1", heartbeat_interval_s=60)
DECISION = ChargerDecision(16.0, 13.3, ChargerStatus.CHARGING, 16.0, 30.0, 16.0, T0 + 30)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_car_plugged_in_at_boot_never_draws_before_its_lease_profile_is_acknowledged(
    store: CredentialStore, clock: ManualClock, version: Version
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            with pytest.raises(DriverError):
                await driver.apply(DECISION)  # not connected: kept for when it is
            gate = asyncio.Event()  # a slow charger: profiles answered when the test says
            cp = SimulatedChargePoint(
                "cp1",
                PASSWORD,
                central.url("cp1"),
                clock=clock,
                version=version,
                ev=SimEV(onboard_max_a=48, plugged=True),
                profile_gate=gate,
                strict_tx_default=True,
            )
            await cp.connect()
            plugging = asyncio.create_task(cp.plug_in())
            await central.wait_connected("cp1")
            # Nothing acknowledged yet: the transaction waits, the car draws nothing, and the
            # reading reserves the unit max with no commitment.
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (MAX_A, None)
            assert cp.current_a() == 0.0 and not plugging.done()
            gate.set()
            await plugging
            await central.smart_charging.settled("cp1")
            # The strict charger fixed its TxDefault when the start was answered: the decision's,
            # so it was in before the answer (else it would run at its max, 48 A).
            assert cp.charging and cp.limit_a() == 16.0 and cp.current_a() == 16.0
            assert [p.purpose for p in cp.received[:2]] == ["max", "tx_default"]
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (16.0, T0 + 30)
            await cp.close()

    asyncio.run(scenario())


def test_with_no_decision_yet_the_charger_is_held_at_zero(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            cp = SimulatedChargePoint(
                "cp1", PASSWORD, central.url("cp1"), clock=clock, ev=SimEV(onboard_max_a=32)
            )
            await cp.connect()
            await cp.plug_in()  # answered: the hold was acknowledged
            assert cp.charging and cp.limit_a() == 0.0 and cp.current_a() == 0.0
            assert cp.limit_a(t=clock() + 86_400) == 0.0  # the hold has no end
            reading = await driver.read()  # the hold is no commitment: the max is reserved
            assert (reading.limit_a, reading.commitment_t) == (MAX_A, None)
            await driver.apply(DECISION._replace(lease_until_t=clock() + 30))
            assert cp.limit_a() == 16.0  # the TxProfile of the running transaction
            assert [p.purpose for p in cp.received[-2:]] == ["tx", "tx_default"]
            await cp.close()

    asyncio.run(scenario())


def test_a_charger_that_never_acknowledges_gets_its_answer_after_the_timeout_at_its_max(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock, response_timeout_s=0.2) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            gate = asyncio.Event()  # never set while the central system waits
            cp = SimulatedChargePoint(
                "cp1", PASSWORD, central.url("cp1"), clock=clock, profile_gate=gate
            )
            await cp.connect()
            await cp.plug_in()  # returns only because the central system stopped waiting
            assert cp.charging
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (MAX_A, None)
            gate.set()
            await cp.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_charger_refusing_profiles_starts_at_once_reserved_at_its_max_and_alerted(
    store: CredentialStore, clock: ManualClock, version: Version
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            cp = SimulatedChargePoint(
                "cp1",
                PASSWORD,
                central.url("cp1"),
                clock=clock,
                version=version,
                smart_charging="reject",
            )
            await cp.connect()
            await cp.plug_in()  # answered without waiting out the timeout (30 s)
            await central.smart_charging.settled("cp1")
            assert [a.code for a in driver.alerts()] == [PROFILE_REJECTED]
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (MAX_A, None)
            await cp.close()

    asyncio.run(scenario())


def test_a_reconnecting_charger_gets_the_last_decision_and_our_stale_tx_profile_cleared(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            cp = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await cp.connect()
            await cp.plug_in()
            await driver.apply(DECISION)
            assert {p.purpose for p in cp.profiles.values()} == {"max", "tx", "tx_default"}
            await cp.close()
            await central.wait_disconnected("cp1")
            with pytest.raises(DriverError):
                await driver.apply(DECISION._replace(limit_a=10.0))
            # It comes back on a new connection without booting, its transaction running,
            # after panelpilot forgot the transaction (as after a restart of the service).
            central.state("cp1").connector(1).transaction_id = None
            await cp.connect()
            await central.smart_charging.settled("cp1")
            assert "tx" not in {p.purpose for p in cp.profiles.values()}  # ours, cleared
            assert cp.limit_a() == 10.0  # the TxDefault of the last decision governs
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (10.0, T0 + 30)
            await cp.close()

    asyncio.run(scenario())


def test_a_charger_that_refused_is_asked_again_at_once_on_a_new_connection(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            with pytest.raises(DriverError):
                await driver.apply(DECISION)
            cp = SimulatedChargePoint(
                "cp1", PASSWORD, central.url("cp1"), clock=clock, smart_charging="reject"
            )
            await cp.connect()
            await central.smart_charging.settled("cp1")
            assert [a.code for a in driver.alerts()] == [PROFILE_REJECTED]
            await cp.close()
            await central.wait_disconnected("cp1")
            cp.smart_charging = "accept"  # its firmware was fixed; well within the retry wait
            await cp.connect()
            await cp.plug_in()  # the start waits for the profile again, and gets it
            await central.smart_charging.settled("cp1")
            assert driver.alerts() == ()
            assert cp.limit_a() == 16.0
            assert (await driver.read()).commitment_t == T0 + 30
            await cp.close()

    asyncio.run(scenario())
