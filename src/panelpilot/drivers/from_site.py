"""Build the polled device drivers a site file's `drivers:` section names.

SunSpec devices take their role from the site section that lists them (a meter, a battery or
a solar inverter); Tesla Wall Connectors are monitors. OCPP chargers dial in to the central
system (`panelpilot.drivers.ocpp`), which the service starts; `ocpp_driver` builds the driver
of one entry with what the site file says about it. `sim` devices are played by the simulator.
"""

from __future__ import annotations

from collections.abc import Callable

from panelpilot.drivers.ocpp import CentralSystem, OcppChargerDriver
from panelpilot.drivers.sunspec import SunSpecConfig, build_sunspec_driver
from panelpilot.drivers.sunspec.config import SunSpecDriver, SunSpecRole
from panelpilot.drivers.tesla_wc.reader import (
    TeslaWallConnector,
    TeslaWcConfig,
    build_tesla_wc_driver,
)
from panelpilot.site.drivers import OcppDriverConfig, SunSpecDriverConfig, TeslaWcDriverConfig
from panelpilot.site.model import Site


def sunspec_role(site: Site, device: str) -> SunSpecRole:
    """Which part a SunSpec device plays, from the site section that lists it."""
    if device in {b.id for b in site.batteries}:
        return "battery"
    if device in {s.id for s in site.solar}:
        return "solar"
    return "meter"  # the site rules admit only meters, batteries and solar here


def sunspec_drivers(site: Site) -> dict[str, SunSpecDriver]:
    """One SunSpec driver per `kind: sunspec` entry, keyed by device id."""
    out: dict[str, SunSpecDriver] = {}
    for entry in site.drivers:
        if not isinstance(entry, SunSpecDriverConfig):
            continue
        config = SunSpecConfig(
            device=entry.device,
            host=entry.host,
            port=entry.port,
            unit_id=entry.unit_id,
            timeout_s=entry.timeout_s,
            base_address=entry.base_address,
            invert=entry.invert,
            voltage_v=entry.voltage_v or site.voltage_v,
            revert_s=entry.revert_s,
            revert_cap_a=entry.revert_cap_a,
        )
        out[entry.device] = build_sunspec_driver(config, sunspec_role(site, entry.device))
    return out


def tesla_wc_monitors(site: Site) -> dict[str, TeslaWallConnector]:
    """One vitals monitor per `kind: tesla_wc` entry, keyed by charger id."""
    return {
        entry.device: build_tesla_wc_driver(
            TeslaWcConfig(entry.device, entry.host, entry.port, entry.timeout_s)
        )
        for entry in site.drivers
        if isinstance(entry, TeslaWcDriverConfig)
    }


def ocpp_driver(
    site: Site,
    central: CentralSystem,
    config: OcppDriverConfig,
    *,
    decision_clock: Callable[[], float] | None = None,
) -> OcppChargerDriver:
    """The driver of one `kind: ocpp` entry: the charger's max, the site's clock-skew bound
    (`control.clock_skew_s`) and voltage; `decision_clock` is the clock of the controller's
    snapshots when it is not the central system's."""
    max_a = {c.id: c.max_a for c in site.chargers}[config.device]
    return OcppChargerDriver(
        central,
        config,
        max_a,
        clock_skew_s=site.control.clock_skew_s,
        voltage_v=site.voltage_v,
        decision_clock=decision_clock,
    )
