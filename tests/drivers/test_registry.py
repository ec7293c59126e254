"""The site file's `drivers:` section builds working drivers through the registry (real sockets
on loopback); every kind of the site file has its factory."""

from __future__ import annotations

import asyncio
import time
import typing

import pytest

from panelpilot.control.types import BatteryDecision
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.factory import BuildContext
from panelpilot.drivers.registry import DRIVER_KINDS, build_drivers, device_entries
from panelpilot.drivers.sunspec import SunSpecBattery, SunSpecMeter
from panelpilot.drivers.sunspec.factory import build_sunspec
from panelpilot.drivers.sunspec.simdevices import SimBattery, SimMeter
from panelpilot.drivers.sunspec.simulator import SunSpecServer
from panelpilot.drivers.tesla_wc.factory import tesla_wc_monitors
from panelpilot.site import Site, SiteFileError, load_site_text
from panelpilot.site.drivers import DriverConfig

SITE = """
circuits:
  - {{id: service, limit_a: 160, meter: site}}
batteries:
  - {{id: pw1, circuit: service, max_discharge_a: 48, max_charge_a: 48}}
chargers:
  - {{id: wc1, circuit: service, max_a: 48}}
drivers:
  - {{kind: sunspec, device: site, host: 127.0.0.1, port: {meter}, unit_id: 1}}
  - {{kind: sunspec, device: pw1, host: 127.0.0.1, port: {battery}}}
  - {{kind: tesla_wc, device: wc1, host: 127.0.0.1, port: 8080}}
"""


def test_drivers_section_builds_a_meter_and_a_battery_that_talk_sunspec() -> None:
    async def scenario() -> tuple[float | None, float]:
        meter_sim, battery_sim = SimMeter(model_id=203), SimBattery()
        meter_sim.current_a = 42.0
        async with SunSpecServer(meter_sim) as m, SunSpecServer(battery_sim) as b:
            site = load_site_text(SITE.format(meter=m.port, battery=b.port))
            entries = device_entries(site, rest=None)["sunspec"]
            drivers = build_sunspec(entries, _context(site)).drivers
            meter, battery = drivers.meters["site"], drivers.batteries["pw1"]
            assert isinstance(meter, SunSpecMeter) and isinstance(battery, SunSpecBattery)
            current = await meter.read_current_a()
            await battery.apply(BatteryDecision(10.0, 0.0, 48.0))
            await meter.close()
            await battery.close()
        return current, battery_sim.output_cap_a()

    current, cap = asyncio.run(scenario())
    assert current == pytest.approx(42.0)
    assert cap == pytest.approx(10.0, abs=0.5)


def _context(site: Site) -> BuildContext:
    return BuildContext(site, time.monotonic, time.time)


def test_tesla_wc_entry_builds_a_monitor() -> None:
    site = load_site_text(SITE.format(meter=502, battery=502))
    assert set(tesla_wc_monitors(site)) == {"wc1"}


def test_a_wall_connector_drives_nothing_and_says_why() -> None:
    site = load_site_text(SITE.format(meter=502, battery=502))
    with pytest.raises(DriverError, match=r"^wc1: the Tesla Wall Connector's local API reports"):
        build_drivers(_context(site))


def test_every_kind_of_the_site_file_has_a_factory_or_is_the_simulators() -> None:
    union = typing.get_args(DriverConfig)[0]  # Annotated[A | B | ..., Field(discriminator)]
    models = typing.get_args(union)
    kinds = {typing.get_args(m.model_fields["kind"].annotation)[0] for m in models}
    assert kinds == {*DRIVER_KINDS, "sim"}


def test_a_sim_entry_has_no_factory_in_production() -> None:
    site = load_site_text(
        SITE.format(meter=502, battery=502).replace(
            "{kind: tesla_wc, device: wc1, host: 127.0.0.1, port: 8080}", "{kind: sim, device: wc1}"
        )
    )
    with pytest.raises(DriverError, match=r"^wc1: kind: sim devices are simulated: run with --sim"):
        build_drivers(_context(site))


def test_a_device_without_an_entry_is_named() -> None:
    site = load_site_text(SITE.format(meter=502, battery=502).rsplit("  - {kind: tesla", 1)[0])
    with pytest.raises(DriverError, match=r"^wc1: no driver"):
        build_drivers(_context(site))


def test_a_driver_must_name_a_device_it_can_drive() -> None:
    bad = SITE.format(meter=502, battery=502).replace("device: wc1", "device: pw1")
    with pytest.raises(SiteFileError) as info:
        load_site_text(bad, "site.yaml")
    assert "site.yaml:11: drivers[2].device: 'pw1' is not a charger of this site" in str(info.value)


def test_an_ocpp_charger_must_be_noticed_before_its_lease_lapses() -> None:
    site = """
circuits:
  - {id: garage, limit_a: 80}
chargers:
  - {id: wc1, circuit: garage, max_a: 48}
drivers:
  - {kind: ocpp, device: wc1%s}
"""
    # Defaults: 2 x 10 s heartbeats + 2 s = 22 s, within 60 s lease - 5 s - 2 x 1 s = 53 s.
    assert load_site_text(site % "").drivers[0].kind == "ocpp"
    with pytest.raises(SiteFileError) as info:
        load_site_text(site % ", heartbeat_interval_s: 60", "g.yaml")
    assert (
        "g.yaml:7: drivers[0].heartbeat_interval_s: a silent charger would be noticed after "
        "122 s, but its lease lapses after 60 s: it must be noticed within lease_s - "
        "response_s - 2 x period_s = 53 s"
    ) in str(info.value)
    # A longer lease makes room for a slower heartbeat.
    longer = site.replace("drivers:", "control: {lease_s: 150}\ndrivers:")
    assert load_site_text(longer % ", heartbeat_interval_s: 60").control.lease_s == 150
