"""The `kind: sunspec` factory: a meter, battery or solar driver per entry, by the part the
device plays in the site (the section that lists it)."""

from __future__ import annotations

from collections.abc import Sequence

from panelpilot.drivers.base import DriverSet
from panelpilot.drivers.factory import BuildContext, Built, DeviceEntry
from panelpilot.drivers.sunspec.config import (
    SunSpecConfig,
    build_battery,
    build_meter,
    build_solar,
)
from panelpilot.site.drivers import SunSpecDriverConfig
from panelpilot.site.model import Site


def sunspec_config(site: Site, entry: SunSpecDriverConfig) -> SunSpecConfig:
    """The plain config of one `kind: sunspec` entry (the site's voltage unless it says)."""
    return SunSpecConfig(
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


def build_sunspec(entries: Sequence[DeviceEntry], context: BuildContext) -> Built:
    """One SunSpec driver per entry, in the table of its part."""
    by_role: dict[str, dict[str, SunSpecConfig]] = {"meter": {}, "battery": {}, "solar": {}}
    for e in entries:
        if isinstance(e.config, SunSpecDriverConfig):
            by_role[e.role][e.device] = sunspec_config(context.site, e.config)
    return Built(
        DriverSet(
            meters={d: build_meter(c) for d, c in by_role["meter"].items()},
            batteries={d: build_battery(c) for d, c in by_role["battery"].items()},
            solar={d: build_solar(c) for d, c in by_role["solar"].items()},
        )
    )
