"""Charging needs end to end over a real OCPP socket: the car's NotifyEVChargingNeeds and the
site file's id tag default reach the snapshot the controller decides on."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from ocpp.v201 import call as v201_call

from panelpilot.control.types import ChargingNeed
from panelpilot.drivers.ocpp import CredentialStore
from panelpilot.drivers.ocpp.profiles import Version, iso_utc
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint
from panelpilot.service.clock import SystemClock
from panelpilot.service.database import sqlite_url
from panelpilot.service.demo import simulated_devices
from panelpilot.service.devices import OcppOptions
from panelpilot.service.service import build_service
from panelpilot.service.storage import Storage
from panelpilot.site import load_site_text
from tests.service.helpers import SITE_YAML

PASSWORD = "correct-horse-battery"
DRIVERS = "drivers:\n  - {kind: ocpp, device: wc1, charge_point_id: cp1}\n"
NEEDS = """needs:
  chargers:
    wc1: {energy_kwh: 10}
  id_tags:
    SIMTAG: {energy_kwh: 30}
"""


def need_after_cycles(
    tmp_path: Path, version: Version, notify: v201_call.NotifyEVChargingNeeds | None
) -> tuple[ChargingNeed | None, float]:
    """The need in the snapshot of the last of a few cycles, and that snapshot's t."""
    db = sqlite_url(str(tmp_path / "pp.db"))
    storage = Storage.open(db)
    CredentialStore(db).add("cp1", PASSWORD)
    site = load_site_text(SITE_YAML + DRIVERS + NEEDS)

    async def scenario() -> tuple[ChargingNeed | None, float]:
        clock = SystemClock()
        devices, _ = simulated_devices(
            site, clock, simulate_rest=True, ocpp=OcppOptions(db, "127.0.0.1", 0)
        )
        async with devices.running() as running:
            assert running.central is not None
            cp = SimulatedChargePoint(
                "cp1", PASSWORD, running.central.url("cp1"), clock=time.time,
                ev=SimEV(onboard_max_a=32), unit_max_a=32, version=version,
            )  # fmt: skip
            await cp.connect()
            await running.central.wait_connected("cp1")
            await cp.plug_in()
            if notify is not None:
                assert (await cp._call(notify)).status == "Accepted"
            service = build_service(site, running.drivers, storage, clock)
            for _ in range(3):
                await cp.send_meter_values()
                result = await service.runtime.cycle()
            await service.runtime.shutdown()
            await cp.close()
            return result.snapshot.chargers["wc1"].need, result.snapshot.t

    return asyncio.run(scenario())


def test_the_cars_need_over_ocpp_201_reaches_the_snapshot(tmp_path: Path) -> None:
    departure_wall_s = time.time() + 7200
    notify = v201_call.NotifyEVChargingNeeds(
        charging_needs={
            "requestedEnergyTransfer": "AC_single_phase",
            "departureTime": iso_utc(departure_wall_s),
            "acChargingParameters": {
                "energyAmount": 40_000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 240,
            },
        },
        evse_id=1,
    )  # fmt: skip
    need, t = need_after_cycles(tmp_path, "2.0.1", notify)
    assert need is not None and need.source == "ev"  # before the id tag and charger defaults
    assert need.departure_t == pytest.approx(t + 7200, abs=60)
    assert need.energy_wh is not None and 39_000 < need.energy_wh <= 40_000


def test_the_id_tag_of_an_ocpp_16_session_picks_its_default(tmp_path: Path) -> None:
    need, _ = need_after_cycles(tmp_path, "1.6", None)  # the simulator starts with SIMTAG
    assert need is not None and need.source == "default" and need.departure_t is None
    assert need.energy_wh is not None and 29_000 < need.energy_wh <= 30_000
