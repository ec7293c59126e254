"""NotifyEVChargingNeeds (OCPP 2.0.1, ISO 15118) over a real socket: the car's departure and
energy reach the reading on the controller's clock, strange values are refused with a reason,
and the need ends with the session."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from ocpp.v201 import call as v201_call

from panelpilot.control.types import ChargingNeed
from panelpilot.drivers.ocpp import CentralSystem, CredentialStore, OcppChargerDriver
from panelpilot.drivers.ocpp.profiles import iso_utc
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint
from panelpilot.site.drivers import OcppDriverConfig
from tests.drivers.ocpp.conftest import PASSWORD, T0, ManualClock

MAX_A = 48.0
CONFIG = OcppDriverConfig(kind="ocpp", device="wc1", charge_point_id="cp1", heartbeat_interval_s=60)
SNAPSHOT_T0 = 5_000.0  # the controller's (monotonic) clock when the central's reads T0


def needs(departure: str | None, energy_wh: Any, *, dc: bool = False) -> dict[str, Any]:
    """A chargingNeeds object as a station sends it (camelCase on the wire)."""
    out: dict[str, Any] = {"requestedEnergyTransfer": "DC" if dc else "AC_single_phase"}
    if departure is not None:
        out["departureTime"] = departure
    key = "dcChargingParameters" if dc else "acChargingParameters"
    out[key] = {"evMaxCurrent": 32, "evMaxVoltage": 400}
    if energy_wh is not None:
        out[key]["energyAmount"] = energy_wh
    if not dc:
        out[key]["evMinCurrent"] = 6
    return out


async def notify(cp: SimulatedChargePoint, charging_needs: dict[str, Any], evse_id: int = 1) -> Any:
    """Send NotifyEVChargingNeeds with the real library client; the answer."""
    payload = v201_call.NotifyEVChargingNeeds(charging_needs=charging_needs, evse_id=evse_id)
    return await cp._call(payload)


async def started(store: CredentialStore, clock: ManualClock) -> Any:
    central = CentralSystem(store, clock=clock)
    await central.__aenter__()
    snapshot_clock = lambda: SNAPSHOT_T0 + clock() - T0  # noqa: E731
    driver = OcppChargerDriver(central, CONFIG, MAX_A, decision_clock=snapshot_clock)
    cp = SimulatedChargePoint(
        "cp1", PASSWORD, central.url("cp1"), clock=clock, version="2.0.1", ev=SimEV(32)
    )
    await cp.connect()
    await cp.plug_in()
    return central, driver, cp


def test_the_cars_need_reaches_the_reading_on_the_controllers_clock_and_ends_with_the_session(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        central, driver, cp = await started(store, clock)
        try:
            assert (await driver.read()).need is None
            answer = await notify(cp, needs(iso_utc(T0 + 7200), 25_000))
            assert answer.status == "Accepted"
            clock.advance(60)
            reading = await driver.read()
            assert reading.need == ChargingNeed(
                departure_t=SNAPSHOT_T0 + 7200, energy_wh=25_000.0, source="ev"
            )
            await cp.unplug()
            assert (await driver.read()).need is None
            await cp.plug_in()  # the next car has told nothing yet
            assert (await driver.read()).need is None
        finally:
            await cp.close()
            await central.__aexit__(None, None, None)

    asyncio.run(scenario())


def test_a_dc_need_without_departure_keeps_the_energy(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        central, driver, cp = await started(store, clock)
        try:
            answer = await notify(cp, needs(None, 40_000, dc=True))
            assert answer.status == "Accepted"
            need = (await driver.read()).need
            assert need == ChargingNeed(departure_t=None, energy_wh=40_000.0, source="ev")
        finally:
            await cp.close()
            await central.__aexit__(None, None, None)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("departure_offset_s", "energy_wh", "evse_id", "reason"),
    [
        (-60, 10_000, 1, "in the past"),
        (8 * 24 * 3600, 10_000, 1, "more than a week away"),
        (3600, 900_000, 1, "outside 0..500000 Wh"),
        (3600, 10_000, 0, "evseId 0"),
    ],
)
def test_an_impossible_need_is_rejected_with_its_reason_and_not_kept(
    store: CredentialStore,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    departure_offset_s: float,
    energy_wh: int,
    evse_id: int,
    reason: str,
) -> None:
    async def scenario() -> None:
        central, driver, cp = await started(store, clock)
        try:
            await notify(cp, needs(iso_utc(T0 + 3600), 20_000))  # a good one first
            with caplog.at_level(logging.WARNING):
                departure = iso_utc(T0 + departure_offset_s)
                answer = await notify(cp, needs(departure, energy_wh), evse_id)
            assert answer.status == "Rejected"
            assert reason in answer.status_info["additional_info"]
            assert any("cp1" in r.getMessage() and reason in r.getMessage() for r in caplog.records)
            assert (await driver.read()).need == ChargingNeed(
                departure_t=SNAPSHOT_T0 + 3600, energy_wh=20_000.0, source="ev"
            )  # the good need stands; the refused one changed nothing
            assert central.session("cp1") is not None  # and the session lives on
        finally:
            await cp.close()
            await central.__aexit__(None, None, None)

    asyncio.run(scenario())


def test_an_unreadable_departure_is_rejected_naming_the_field(
    store: CredentialStore, clock: ManualClock
) -> None:
    async def scenario() -> None:
        central, driver, cp = await started(store, clock)
        try:
            cp.validate_schemas = False  # the schema says only "string"
            answer = await notify(cp, needs("tomorrow morning", 20_000))
            assert answer.status == "Rejected"
            assert "departureTime" in answer.status_info["additional_info"]
            assert (await driver.read()).need is None
        finally:
            await cp.close()
            await central.__aexit__(None, None, None)

    asyncio.run(scenario())
