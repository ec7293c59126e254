"""The simulated charge point applies profiles by the OCPP rules: a TxProfile overrides the
TxDefault during its transaction, a strict one fixes its TxDefault at the start, its clock may
be off, and what it cannot take it rejects. Profiles are sent raw over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from panelpilot.drivers.ocpp import CentralSystem, CredentialStore
from panelpilot.drivers.ocpp.profiles import RateUnits, Version, set_profile_request
from panelpilot.drivers.ocpp.schedules import Profile, Purpose, Schedule
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint
from tests.drivers.ocpp.conftest import PASSWORD, T0, ManualClock

Send = Callable[[Profile], Awaitable[str]]


def flat(
    profile_id: int,
    purpose: Purpose,
    limit_a: float,
    *,
    connector_id: int,
    start_t: float = T0 - 5,
    stack_level: int = 0,
    transaction_id: str | None = None,
) -> Profile:
    """One period from `start_t` on."""
    schedule = Schedule(start_t, ((0.0, limit_a),))
    return Profile(profile_id, purpose, stack_level, schedule, connector_id, transaction_id)


async def with_charger(
    store: CredentialStore,
    clock: ManualClock,
    body: Callable[[SimulatedChargePoint, Send], Awaitable[None]],
    *,
    version: Version = "1.6",
    units: RateUnits | None = None,
    **options: object,
) -> None:
    async with CentralSystem(store, clock=clock) as central:
        cp = SimulatedChargePoint(
            "cp1",
            PASSWORD,
            central.url("cp1"),
            clock=clock,
            version=version,
            ev=SimEV(onboard_max_a=48),
            **options,  # type: ignore[arg-type]
        )
        await cp.connect()
        session = central.require_session("cp1")

        async def send(profile: Profile) -> str:
            request = set_profile_request(version, profile.connector_id, profile, units)
            return str((await session.request(request, 5)).status)

        await body(cp, send)
        await cp.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_tx_profile_overrides_the_default_during_its_transaction_only(
    store: CredentialStore, clock: ManualClock, version: Version
) -> None:
    async def body(cp: SimulatedChargePoint, send: Send) -> None:
        assert await send(flat(101, "tx_default", 20, connector_id=1)) == "Accepted"
        assert await send(flat(201, "tx", 8, connector_id=1, transaction_id="1")) == "Rejected"
        await cp.plug_in()
        tx_id = str(cp._transaction_id)
        assert await send(flat(201, "tx", 30, connector_id=1, transaction_id="999")) == "Rejected"
        assert await send(flat(201, "tx", 30, connector_id=1, transaction_id=tx_id)) == "Accepted"
        assert cp.limit_a() == 30.0  # above the default: the TxProfile governs, not the minimum
        await cp.unplug()
        assert cp.limit_a() == 20.0  # the TxProfile ended with its transaction

    asyncio.run(with_charger(store, clock, body, version=version))


def test_a_strict_charger_ignores_tx_default_changes_until_the_next_transaction(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def body(cp: SimulatedChargePoint, send: Send) -> None:
        await send(flat(101, "tx_default", 20, connector_id=1))
        await cp.plug_in()
        await send(flat(101, "tx_default", 8, connector_id=1))
        assert cp.limit_a() == 20.0  # fixed at the start
        await cp.unplug()
        await cp.plug_in()
        assert cp.limit_a() == 8.0

    asyncio.run(with_charger(store, clock, body, strict_tx_default=True))


def test_a_charger_behind_sees_a_profile_start_later(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def body(cp: SimulatedChargePoint, send: Send) -> None:
        await send(flat(101, "tx_default", 20, connector_id=1, start_t=T0))
        assert cp.limit_a() == 48.0  # 2 s behind: not yet in force, it runs at its max
        clock.advance(2)
        assert cp.limit_a() == 20.0

    asyncio.run(with_charger(store, clock, body, clock_offset_s=-2.0))


def test_the_same_id_or_the_same_level_and_purpose_replaces(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def body(cp: SimulatedChargePoint, send: Send) -> None:
        await send(flat(101, "tx_default", 20, connector_id=1))
        await send(flat(101, "tx_default", 16, connector_id=1, stack_level=2))  # same id
        assert [p.stack_level for p in cp.profiles.values()] == [2]
        await send(flat(150, "tx_default", 12, connector_id=1, stack_level=2))  # same level
        assert [p.profile_id for p in cp.profiles.values()] == [150]
        await send(flat(151, "tx_default", 24, connector_id=1, stack_level=1))
        assert cp.limit_a() == 12.0  # the highest stack level wins within a purpose
        await send(flat(1, "max", 10, connector_id=0))
        assert cp.limit_a() == 10.0  # the station cap bounds everything

    asyncio.run(with_charger(store, clock, body))


def test_what_the_charger_cannot_take_it_rejects(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def body(cp: SimulatedChargePoint, send: Send) -> None:
        assert await send(flat(101, "tx_default", 20, connector_id=1, stack_level=3)) == "Rejected"
        assert await send(flat(101, "tx_default", 20, connector_id=1, stack_level=2)) == "Accepted"
        assert await send(flat(1, "max", 20, connector_id=1)) == "Rejected"  # a cap is station-wide

    asyncio.run(with_charger(store, clock, body, max_stack_level=2))


def test_a_charger_that_takes_only_watts_rejects_amps(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def amps(cp: SimulatedChargePoint, send: Send) -> None:
        assert await send(flat(101, "tx_default", 20, connector_id=1)) == "Rejected"

    async def watts(cp: SimulatedChargePoint, send: Send) -> None:
        assert await send(flat(101, "tx_default", 20, connector_id=1)) == "Accepted"
        assert cp.limit_a() == pytest.approx(20.0)

    asyncio.run(with_charger(store, clock, amps, rate_units=("W",), voltage_v=230.0))
    asyncio.run(
        with_charger(
            store, clock, watts, units=RateUnits("W", 230.0, 1), rate_units=("W",), voltage_v=230.0
        )
    )
