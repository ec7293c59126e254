"""From the `kind:` of a site file's `drivers:` entry to the factory that builds its drivers.

`DRIVER_KINDS` is the one table to extend when panelpilot learns a device family: an entry
(the parts its drivers can play, why it refuses the others, its factory) and the family's
module with its `factory.py` (see docs/architecture.md, "Adding a driver"). `build_drivers`
gives every device of the site its entry's kind, refuses a device its kind cannot drive, and
calls each factory once with all its devices.

The site file's `sim` kind is not in this table: simulated twins are wired by the demo and the
tests (`service/demo.py` adds it), never by the production service.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from panelpilot.drivers.base import DriverError, DriverSet
from panelpilot.drivers.factory import (
    BuildContext,
    Built,
    Companion,
    DeviceEntry,
    DriverKind,
    Role,
    drives_nothing,
)
from panelpilot.drivers.ocpp.factory import build_ocpp
from panelpilot.drivers.sunspec.factory import build_sunspec
from panelpilot.drivers.tesla_wc.factory import TESLA_WC_REFUSAL
from panelpilot.site.model import Site

DRIVER_KINDS: Mapping[str, DriverKind] = MappingProxyType(
    {
        "ocpp": DriverKind(
            frozenset({"charger"}), "an ocpp driver drives a charger, not a {role}", build_ocpp
        ),
        "sunspec": DriverKind(
            frozenset({"meter", "battery", "solar"}),
            "a sunspec driver cannot drive a {role}",
            build_sunspec,
        ),
        "tesla_wc": DriverKind(frozenset(), TESLA_WC_REFUSAL, drives_nothing),
    }
)
"""The production driver kinds, by the site file's `kind:`."""


def device_roles(site: Site) -> dict[str, Role]:
    """The part every device of the site plays, by device id."""
    roles: dict[str, Role] = {c.id: "charger" for c in site.chargers}
    roles |= {m: "meter" for m in site.meter_ids()}
    roles |= {b.id: "battery" for b in site.batteries}
    roles |= {s.id: "solar" for s in site.solar}
    return roles


def missing_devices(site: Site) -> list[str]:
    """The devices of the site the `drivers:` section leaves out, sorted."""
    listed = {d.device for d in site.drivers}
    return sorted(d for d in device_roles(site) if d not in listed)


def device_entries(site: Site, *, rest: str | None) -> dict[str, list[DeviceEntry]]:
    """Every device of the site with its `drivers:` entry, grouped by the kind that drives it;
    a device without an entry goes to the `rest` kind (a DriverError with no `rest`)."""
    configs = {d.device: d for d in site.drivers}  # the last entry of a device wins
    grouped: dict[str, list[DeviceEntry]] = {}
    for device, role in device_roles(site).items():
        config = configs.get(device)
        kind = config.kind if config is not None else rest
        if kind is None:
            raise DriverError(device, "no driver: add it to the site's drivers: section")
        grouped.setdefault(kind, []).append(DeviceEntry(device, role, config))
    return grouped


def build_drivers(
    context: BuildContext,
    kinds: Mapping[str, DriverKind] = DRIVER_KINDS,
    *,
    rest: str | None = None,
) -> Built:
    """The drivers of every device of `context.site`, each by its entry's kind in `kinds`.

    A DriverError names a device whose kind is not in `kinds` (a `sim` entry outside the demo
    and the tests) or cannot play its part.
    """
    grouped = device_entries(context.site, rest=rest)
    for kind, entries in grouped.items():
        _check(kind, kinds.get(kind), entries)
    drivers, companions = DriverSet(), list[Companion]()
    for kind, entries in grouped.items():
        built = kinds[kind].build(entries, context)
        drivers = drivers.merged(built.drivers)
        companions.extend(built.companions)
    return Built(drivers, tuple(companions))


def _check(kind: str, driver_kind: DriverKind | None, entries: list[DeviceEntry]) -> None:
    first = entries[0].device
    if driver_kind is None:
        if kind == "sim":
            raise DriverError(first, "kind: sim devices are simulated: run with --sim")
        raise DriverError(first, f"no driver of kind {kind!r} here")
    for entry in entries:
        if entry.role not in driver_kind.roles:
            raise DriverError(entry.device, driver_kind.refusal.format(role=entry.role))
