"""Profile semantics over real sockets: TxProfile for a running transaction, acknowledged only
when every profile is, stack levels and rate units as the charger reports, the composite
verified, and skewed clocks kept inside the envelope across renewals."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from websockets.asyncio.client import connect

from panelpilot.control.types import ChargerDecision, ChargerStatus
from panelpilot.drivers.ocpp import (
    PROFILE_REJECTED,
    CentralSystem,
    CredentialStore,
    OcppChargerDriver,
)
from panelpilot.drivers.ocpp.alerts import PROFILE_MISMATCH
from panelpilot.drivers.ocpp.factory import ocpp_driver
from panelpilot.drivers.ocpp.profiles import Version
from panelpilot.drivers.ocpp.schedules import Commitment
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint
from panelpilot.drivers.ocpp.smart_charging import RETRY_REFUSED_S
from panelpilot.site import load_site_text
from panelpilot.site.drivers import OcppDriverConfig
from tests.drivers.ocpp.conftest import PASSWORD, T0, ManualClock

MAX_A = 48.0
CONFIG = OcppDriverConfig(kind="ocpp", device="wc1", charge_point_id="cp1", heartbeat_interval_s=60)


def decision(limit_a: float, lease_until_t: float, fallback_a: float = 10.0) -> ChargerDecision:
    return ChargerDecision(
        limit_a, fallback_a, ChargerStatus.CHARGING, limit_a, 30.0, limit_a, lease_until_t
    )


async def settle(central: CentralSystem, driver: OcppChargerDriver, d: ChargerDecision) -> None:
    """Apply, then let any exchange started on its own (an install) finish."""
    await driver.apply(d)
    await central.smart_charging.settled(driver.charge_point_id)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_strict_charger_obeys_every_change_and_the_fallback_through_its_tx_profile(
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
                ev=SimEV(onboard_max_a=48),
                strict_tx_default=True,
            )
            await cp.connect()
            await settle(central, driver, decision(32, T0 + 30))
            await cp.plug_in()
            assert cp.limit_a() == 32.0
            await settle(central, driver, decision(12, T0 + 30))  # lowered mid-session
            tx = next(p for p in cp.profiles.values() if p.purpose == "tx")
            expected_id = str(cp._transaction_id)
            assert tx.transaction_id == expected_id
            assert cp.limit_a() == 12.0 and cp.current_a() == 12.0
            clock.t = T0 + 30
            assert cp.limit_a() == 10.0  # and the lease fallback
            await cp.unplug()
            assert "tx" not in {p.purpose for p in cp.profiles.values()}  # ended with it
            await cp.close()

    asyncio.run(scenario())


def test_a_commitment_counts_as_acknowledged_only_when_every_profile_is(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            cp = SimulatedChargePoint("cp1", PASSWORD, central.url("cp1"), clock=clock)
            await cp.connect()
            await settle(central, driver, decision(20, T0 + 30))
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (20.0, T0 + 30)
            await cp.plug_in()
            cp.smart_charging = "reject_tx"  # it takes TxDefault but refuses the TxProfile
            await settle(central, driver, decision(16, T0 + 40))
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (MAX_A, None)
            assert [a.code for a in driver.alerts()] == [PROFILE_REJECTED]
            cp.smart_charging = "accept"
            clock.advance(RETRY_REFUSED_S)
            await settle(central, driver, decision(16, clock() + 30))
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (16.0, clock() + 30)
            assert driver.alerts() == ()
            await cp.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(("version", "max_stack_level"), [("1.6", 3), ("2.0.1", 0), ("1.6", 0)])
def test_profiles_use_the_highest_stack_level_the_charger_allows(
    store: CredentialStore, clock: ManualClock, version: Version, max_stack_level: int
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
                max_stack_level=max_stack_level,
            )
            await cp.connect()
            await settle(central, driver, decision(20, T0 + 30))
            assert {p.stack_level for p in cp.received} == {max_stack_level}
            assert driver.alerts() == () and cp.limit_a() == 20.0
            await cp.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_charger_that_takes_only_watts_gets_watts_at_the_site_voltage(
    store: CredentialStore, clock: ManualClock, version: Version
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            config = CONFIG.model_copy(update={"phases": 3})
            driver = OcppChargerDriver(central, config, MAX_A, voltage_v=230.0)
            cp = SimulatedChargePoint(
                "cp1",
                PASSWORD,
                central.url("cp1"),
                clock=clock,
                version=version,
                rate_units=("W",),
                voltage_v=230.0,
            )
            await cp.connect()
            await settle(central, driver, decision(16, T0 + 30))
            assert driver.alerts() == ()
            assert cp.limit_a() == pytest.approx(16.0)
            assert cp.limit_a(t=T0 + 30) == pytest.approx(10.0)
            assert (await driver.read()).commitment_t == T0 + 30  # its composite checked out
            await cp.close()

    asyncio.run(scenario())


def test_a_charger_whose_composite_is_above_its_commitment_is_alerted_and_kept_at_its_max(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            cp = SimulatedChargePoint(
                "cp1", PASSWORD, central.url("cp1"), clock=clock, smart_charging="ignore"
            )
            await cp.connect()
            await settle(central, driver, decision(20, T0 + 30))  # "Accepted", and nothing obeyed
            assert [a.code for a in driver.alerts()] == [PROFILE_MISMATCH]
            reading = await driver.read()
            assert (reading.limit_a, reading.commitment_t) == (MAX_A, None)
            cp.smart_charging = "accept"  # it behaves again: the next commitment checks out
            await settle(central, driver, decision(20, T0 + 45))
            assert driver.alerts() == ()
            assert (await driver.read()).commitment_t == T0 + 45
            await cp.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("offset_s", [-10.0, -1.0, 0.0, 10.0])
def test_a_skewed_charger_stays_inside_the_envelope_through_renewals_and_changes(
    store: CredentialStore, clock: ManualClock, offset_s: float
) -> None:
    """The controller renews every 15 s and changes the limit now and then; at every sampled
    instant the charger obeys our profile (never its max) within the envelope of every
    commitment it may hold: the one acknowledged last and any sent since."""

    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            cp = SimulatedChargePoint(
                "cp1",
                PASSWORD,
                central.url("cp1"),
                clock=clock,
                clock_offset_s=offset_s,
                ev=SimEV(onboard_max_a=48),
            )
            await cp.connect()
            limits = [20.0, 20.0, 6.0, 32.0, 32.0, 8.0]
            held: list[Commitment] = []
            for step in range(120):  # two minutes in 0.5 s steps
                t = clock()
                if step % 30 == 0:  # every 15 s: renew, maybe with a new limit
                    d = decision(limits[step // 30 % len(limits)], t + 30, fallback_a=12.0)
                    await settle(central, driver, d)
                    held = [*held[-1:], Commitment.of(d)]
                for sample_t in (t, t + 0.25):
                    obeyed = cp.limit_a(t=sample_t)
                    allowed = max(c.envelope_a(sample_t, sample_t, 10.0) for c in held)
                    assert obeyed <= allowed, (step, sample_t - T0, obeyed, allowed)
                    assert obeyed < MAX_A
                clock.advance(0.5)
            await cp.close()

    asyncio.run(scenario())


def test_the_site_file_gives_the_driver_its_skew_bound_and_voltage(
    store: CredentialStore, clock: ManualClock
) -> None:
    site = load_site_text(
        "voltage_v: 208\ncontrol: {clock_skew_s: 4}\n"
        "circuits:\n  - {id: garage, limit_a: 100}\n"
        "chargers:\n  - {id: wc1, circuit: garage, max_a: 48}\n"
        "drivers:\n  - {kind: ocpp, device: wc1, charge_point_id: cp1, phases: 3}\n"
    )
    (config,) = site.drivers
    assert isinstance(config, OcppDriverConfig)

    async def scenario() -> None:
        async with CentralSystem(store, clock=clock) as central:
            driver = ocpp_driver(site, central, config)
            cp = SimulatedChargePoint(
                "cp1", PASSWORD, central.url("cp1"), clock=clock, rate_units=("W",), voltage_v=208
            )
            await cp.connect()
            await settle(central, driver, decision(16, T0 + 30))
            lease = next(p for p in cp.received if p.purpose == "tx_default")
            assert lease.schedule.start_t == T0 - 5  # the site's 4 s bound and the 1 s margin
            assert lease.schedule.periods == ((0.0, 16.0), (35.0, 10.0))
            await cp.close()

    asyncio.run(scenario())


def test_nonsense_settings_and_composite_answers_fall_back_to_defaults_and_trust(
    store: CredentialStore, clock: ManualClock
) -> None:
    """A charger whose GetConfiguration and GetCompositeSchedule answers make no sense gets
    the spec's defaults (stack level 0, amps) and is trusted on its acknowledgements."""

    async def scenario() -> tuple[list[str], dict[str, object]]:
        async with CentralSystem(store, clock=clock) as central:
            driver = OcppChargerDriver(central, CONFIG, MAX_A)
            token = base64.b64encode(f"cp1:{PASSWORD}".encode()).decode()
            async with connect(
                central.url("cp1"),
                additional_headers={"Authorization": f"Basic {token}"},
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            ) as charger:
                answers: dict[str, object] = {
                    "GetConfiguration": {"configurationKey": "nonsense"},
                    "SetChargingProfile": {"status": "Accepted"},
                    "ClearChargingProfile": {"status": "Unknown"},
                    "GetCompositeSchedule": {"status": "Accepted", "chargingSchedule": 7},
                }
                actions: list[str] = []
                lease: dict[str, object] = {}

                async def answer(count: int) -> None:
                    for _ in range(count):
                        call = json.loads(await charger.recv())
                        actions.append(call[2])
                        profile = call[3].get("csChargingProfiles", {})
                        if profile.get("chargingProfilePurpose") == "TxDefaultProfile":
                            lease.update(profile)
                        await charger.send(json.dumps([3, call[1], answers[call[2]]]))

                answering = asyncio.create_task(answer(5))
                await settle(central, driver, decision(20, T0 + 30))
                await answering
                reading = await driver.read()
                assert (reading.limit_a, reading.commitment_t) == (20.0, T0 + 30)
                assert driver.alerts() == ()
                return actions, lease

    actions, lease = asyncio.run(scenario())
    assert actions == [
        "GetConfiguration",
        "SetChargingProfile",  # the station cap
        "ClearChargingProfile",  # our own stale TxProfile, by id
        "SetChargingProfile",
        "GetCompositeSchedule",
    ]
    assert lease["stackLevel"] == 0
