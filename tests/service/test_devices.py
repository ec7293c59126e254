"""Drivers from the site's `drivers:` section: OCPP chargers dial in, the rest is simulated."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from panelpilot.drivers.base import DriverError, DriverSet
from panelpilot.drivers.ocpp import CredentialStore
from panelpilot.drivers.ocpp.simulator import SimEV, SimulatedChargePoint
from panelpilot.drivers.sunspec.simdevices import SimMeter as SunSpecSimMeter
from panelpilot.drivers.sunspec.simulator import SunSpecServer
from panelpilot.service.clock import SystemClock
from panelpilot.service.database import sqlite_url
from panelpilot.service.demo import simulated_devices
from panelpilot.service.devices import Devices, DeviceSetupError, OcppOptions, build_devices
from panelpilot.service.runtime import Runtime
from panelpilot.service.storage import Storage
from panelpilot.site import load_site_text
from tests.service.helpers import SITE_YAML

PASSWORD = "correct-horse-battery"


def test_devices_without_a_driver_are_named_unless_simulated() -> None:
    site = load_site_text(SITE_YAML + "drivers:\n  - {kind: sim, device: wc1}\n")
    with pytest.raises(DeviceSetupError, match="no driver for garage, pv1, pw1, site, wc2"):
        simulated_devices(site, SystemClock(), simulate_rest=False, ocpp=None)
    devices, _ = simulated_devices(site, SystemClock(), simulate_rest=True, ocpp=None)
    assert set(devices.drivers.chargers) == {"wc1", "wc2", "wc3", "wc4"}


def test_a_sim_entry_is_refused_outside_the_demo_and_the_tests() -> None:
    site = load_site_text(SITE_YAML + "drivers:\n  - {kind: sim, device: wc1}\n")
    with pytest.raises(DeviceSetupError, match="wc1: kind: sim devices are simulated"):
        build_devices(site, SystemClock(), ocpp=None, rest="sim")


def test_a_wall_connector_read_over_its_local_api_cannot_take_a_limit() -> None:
    site = load_site_text(SITE_YAML + "drivers:\n  - {kind: tesla_wc, device: wc1, host: x}\n")
    with pytest.raises(DeviceSetupError, match="vitals only"):
        simulated_devices(site, SystemClock(), simulate_rest=True, ocpp=None)


def test_an_ocpp_charger_dials_in_takes_its_limit_and_falls_back_on_shutdown(
    tmp_path: Path,
) -> None:
    db = sqlite_url(str(tmp_path / "pp.db"))
    Storage.open(db)
    CredentialStore(db).add("cp1", PASSWORD)
    site = load_site_text(
        SITE_YAML + "drivers:\n  - {kind: ocpp, device: wc1, charge_point_id: cp1}\n"
    )

    async def scenario() -> None:
        clock = SystemClock()
        devices, _ = simulated_devices(
            site, clock, simulate_rest=True, ocpp=OcppOptions(db, "127.0.0.1", 0)
        )
        async with devices.running() as running:
            assert running.central is not None
            cp = SimulatedChargePoint(
                "cp1", PASSWORD, running.central.url("cp1"), clock=time.time,
                ev=SimEV(onboard_max_a=32), unit_max_a=32,
            )  # fmt: skip
            await cp.connect()
            await running.central.wait_connected("cp1")
            await cp.plug_in()
            runtime = Runtime(site, running.drivers, clock)
            assert await running.drivers.chargers["wc1"].verify_password(PASSWORD)  # type: ignore[attr-defined]
            for _ in range(10):
                await cp.send_meter_values()
                result = await runtime.cycle()
            assert result.snapshot.chargers["wc1"].online
            assert result.decision.chargers["wc1"].limit_a == 32.0
            assert cp.limit_a() == 32.0
            await runtime.shutdown()
            assert cp.limit_a() == result.decision.chargers["wc1"].fallback_a == 24.0
            await cp.close()

    asyncio.run(scenario())


def test_a_sunspec_meter_on_loopback_limits_the_chargers_below_it() -> None:
    async def scenario() -> None:
        meter = SunSpecSimMeter(model_id=203)
        meter.current_a = 70.0  # the garage's other loads: only 9 A left for the cars
        async with SunSpecServer(meter, unit_id=1) as server:
            site = load_site_text(
                SITE_YAML
                + "drivers:\n"
                + f"  - {{kind: sunspec, device: garage, host: 127.0.0.1, port: {server.port}}}\n"
            )
            devices, world = simulated_devices(site, SystemClock(), simulate_rest=True, ocpp=None)
            for twin in world.chargers.values():
                twin.car_wants_a = 32.0
            runtime = Runtime(site, devices.drivers, SystemClock())
            for _ in range(5):
                result = await runtime.cycle()
            assert result.snapshot.meters["garage"] == pytest.approx(70.0)
            assert sum(c.limit_a for c in result.decision.chargers.values()) <= 80 - 70
            await runtime.shutdown()

    asyncio.run(scenario())


class _Companion:
    def __init__(self, name: str, log: list[str], *, fails: bool = False) -> None:
        self.name, self.log, self.fails = name, log, fails

    async def start(self) -> None:
        if self.fails:
            raise DriverError(self.name, "cannot listen")
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def test_companions_start_in_order_and_stop_in_reverse_even_when_one_cannot_start() -> None:
    async def scenario() -> None:
        log: list[str] = []
        devices = Devices(DriverSet(), (_Companion("a", log), _Companion("b", log)))
        async with devices.running():
            log.append("loop")
        assert log == ["start a", "start b", "loop", "stop b", "stop a"]
        log.clear()
        broken = Devices(DriverSet(), (_Companion("a", log), _Companion("b", log, fails=True)))
        with pytest.raises(DriverError, match="b: cannot listen"):
            async with broken.running():
                log.append("loop")
        assert log == ["start a", "stop a"]

    asyncio.run(scenario())
