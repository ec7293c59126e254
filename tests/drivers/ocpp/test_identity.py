"""A charge point's firmware and serial number from its BootNotification, over a real socket
with the `ocpp` library on both sides (1.6 and 2.0.1), kept across reconnections; a serial
number longer than the schema allows is refused with one line naming the field."""

from __future__ import annotations

import asyncio
import logging

import pytest
from ocpp.exceptions import OCPPError

from panelpilot.drivers.base import DeviceIdentity, Identified
from panelpilot.drivers.ocpp import CentralSystem, CredentialStore, OcppChargerDriver
from panelpilot.drivers.ocpp.identity import boot_identity
from panelpilot.drivers.ocpp.simulator import SimulatedChargePoint
from panelpilot.site.drivers import OcppDriverConfig
from tests.drivers.ocpp.conftest import PASSWORD, ManualClock

UNIT = DeviceIdentity("Acme", "AC-22", "SN-0000123", "4.2.1")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_boot_notification_gives_the_identity_and_it_survives_a_reconnect(
    store: CredentialStore, clock: ManualClock, version: str
) -> None:
    async def scenario() -> tuple[DeviceIdentity | None, DeviceIdentity | None, bool]:
        async with CentralSystem(store, clock=clock) as central:
            config = OcppDriverConfig(kind="ocpp", device="wc1", charge_point_id="cp1")
            driver = OcppChargerDriver(central, config, 32.0)
            cp = SimulatedChargePoint(
                "cp1",
                PASSWORD,
                central.url("cp1"),
                clock=clock,
                version=version,  # type: ignore[arg-type]
                identity=UNIT,
            )
            await cp.connect()
            first = driver.identity()
            await cp.close()
            await central.wait_disconnected("cp1")
            kept = driver.identity()  # the charge point is gone; what it said stays
            return first, kept, isinstance(driver, Identified)

    first, kept, identified = asyncio.run(scenario())
    assert first == UNIT
    assert kept == UNIT
    assert identified


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_an_oversized_serial_number_is_refused_with_one_line_naming_the_field(
    store: CredentialStore, clock: ManualClock, version: str, caplog: pytest.LogCaptureFixture
) -> None:
    long_serial = DeviceIdentity("Acme", "AC-22", "X" * 40, "4.2.1")

    async def scenario() -> tuple[str | None, DeviceIdentity | None]:
        async with CentralSystem(store, clock=clock) as central:
            config = OcppDriverConfig(kind="ocpp", device="wc1", charge_point_id="cp1")
            driver = OcppChargerDriver(central, config, 32.0)
            cp = SimulatedChargePoint(
                "cp1",
                PASSWORD,
                central.url("cp1"),
                clock=clock,
                version=version,  # type: ignore[arg-type]
                identity=long_serial,
                validate_schemas=False,  # a charger that breaks the schema
            )
            with pytest.raises(OCPPError):  # the boot is answered with a CALLERROR
                await cp.connect()
            await cp.close()
            return driver.identity_problem(), driver.identity()

    with caplog.at_level(logging.WARNING):
        problem, identity = asyncio.run(scenario())
    key = "chargePointSerialNumber" if version == "1.6" else "serialNumber"
    assert problem == f"cp1: BootNotification {key} is 40 characters, at most 25 allowed; refused"
    assert identity is None
    assert any(problem == r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records)  # no traceback


def test_control_characters_leave_the_field_out_and_say_so() -> None:
    payload = {"chargePointVendor": "Acme", "chargePointModel": "M", "firmwareVersion": "1\x1b[2J"}
    identity, problem = boot_identity("1.6", payload)
    assert identity == DeviceIdentity("Acme", "M", None, None)
    assert problem == "BootNotification firmwareVersion holds control characters"


def test_the_deprecated_charge_box_serial_is_read_when_it_is_the_only_one() -> None:
    payload = {"chargePointVendor": "A", "chargePointModel": "M", "chargeBoxSerialNumber": "B1"}
    identity, problem = boot_identity("1.6", payload)
    assert identity.serial_number == "B1" and problem is None
