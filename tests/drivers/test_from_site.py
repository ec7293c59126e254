"""The site file's `drivers:` section builds working drivers (real sockets on loopback)."""

from __future__ import annotations

import asyncio

import pytest

from panelpilot.control.types import BatteryDecision
from panelpilot.drivers.from_site import sunspec_drivers, tesla_wc_monitors
from panelpilot.drivers.sunspec import SunSpecBattery, SunSpecMeter
from panelpilot.drivers.sunspec.simdevices import SimBattery, SimMeter
from panelpilot.drivers.sunspec.simulator import SunSpecServer
from panelpilot.site import SiteFileError, load_site_text

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
            drivers = sunspec_drivers(site)
            meter, battery = drivers["site"], drivers["pw1"]
            assert isinstance(meter, SunSpecMeter) and isinstance(battery, SunSpecBattery)
            current = await meter.read_current_a()
            await battery.apply(BatteryDecision(10.0, 0.0, 48.0))
            await meter.close()
            await battery.close()
        return current, battery_sim.output_cap_a()

    current, cap = asyncio.run(scenario())
    assert current == pytest.approx(42.0)
    assert cap == pytest.approx(10.0, abs=0.5)


def test_tesla_wc_entry_builds_a_monitor() -> None:
    site = load_site_text(SITE.format(meter=502, battery=502))
    assert set(tesla_wc_monitors(site)) == {"wc1"}


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
