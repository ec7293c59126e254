"""Checks on a snapshot before the controller trusts it: known devices, sane values, order."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from panelpilot.control.types import Snapshot
from panelpilot.site.model import Site


class SnapshotError(ValueError):
    """A snapshot the controller cannot use; the message names the field and what is allowed."""


def _unknown(section: str, given: Iterable[str], known: frozenset[str]) -> None:
    for key in given:
        if key not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise SnapshotError(f"{section}.{key}: unknown device; this site has: {allowed}")


@dataclass(frozen=True)
class KnownDevices:
    """The ids a snapshot may name, computed once per site."""

    meters: frozenset[str]
    chargers: frozenset[str]
    batteries: frozenset[str]
    solar: frozenset[str]

    @classmethod
    def of(cls, site: Site) -> KnownDevices:
        """The ids of a site's meters and devices."""
        return cls(
            frozenset(site.meter_ids()),
            frozenset(c.id for c in site.chargers),
            frozenset(b.id for b in site.batteries),
            frozenset(s.id for s in site.solar),
        )


def _finite(field: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise SnapshotError(f"{field}: {value} is not a finite number of amps")


def check_snapshot(known: KnownDevices, previous_t: float | None, snap: Snapshot) -> None:
    """Raise `SnapshotError` unless every device is known and every value is usable."""
    if not math.isfinite(snap.t):
        raise SnapshotError(f"t: {snap.t} is not a finite time")
    if previous_t is not None and snap.t < previous_t:
        raise SnapshotError(
            f"t: {snap.t:g} is before the previous snapshot's t {previous_t:g}; "
            "snapshots must come in time order"
        )
    _unknown("meters", snap.meters, known.meters)
    _unknown("chargers", snap.chargers, known.chargers)
    _unknown("batteries", snap.batteries, known.batteries)
    _unknown("solar", snap.solar, known.solar)
    for key, value in snap.meters.items():
        _finite(f"meters.{key}", value)
    inf = math.inf
    for key, r in snap.chargers.items():
        limit = r.limit_a
        if 0.0 <= r.current_a < inf and (limit is None or 0.0 <= limit < inf):
            continue  # the common case, checked fast (NaN fails every comparison)
        _finite(f"chargers.{key}.current_a", r.current_a)
        if r.current_a < 0:
            raise SnapshotError(
                f"chargers.{key}.current_a: {r.current_a:g} is negative; "
                "a charger's current is 0 or more"
            )
        if r.limit_a is not None and (not math.isfinite(r.limit_a) or r.limit_a < 0):
            raise SnapshotError(f"chargers.{key}.limit_a: {r.limit_a:g} must be 0 or more")
    for key, b in snap.batteries.items():
        _finite(f"batteries.{key}.current_a", b.current_a)
        if b.soc is not None and not 0.0 <= b.soc <= 1.0:
            raise SnapshotError(f"batteries.{key}.soc: {b.soc:g} must be within 0..1")
    for key, s in snap.solar.items():
        _finite(f"solar.{key}.current_a", s.current_a)
        if s.current_a < -1.0:
            raise SnapshotError(
                f"solar.{key}.current_a: {s.current_a:g} is negative; solar output is 0 or more"
            )
