"""Checks on a snapshot before the controller trusts it: known devices, sane values, order."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from panelpilot.control.types import ChargingNeed, Snapshot
from panelpilot.site.model import Site

# No current is a million amps, and within these bounds no sum or product the controller
# forms overflows (a meter of 1e308 A once did). Times are seconds on any epoch; within 1e12 s
# (31,700 years) a float still resolves well under a millisecond.
MAX_CURRENT_A = 1e6
MAX_TIME_S = 1e12


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
    if value is not None and not -MAX_CURRENT_A <= value <= MAX_CURRENT_A:
        raise SnapshotError(
            f"{field}: {value:g} is not a finite number of amps within +-{MAX_CURRENT_A:g}"
        )


def check_snapshot(known: KnownDevices, previous_t: float | None, snap: Snapshot) -> None:
    """Raise `SnapshotError` unless every device is known and every value is usable."""
    if not -MAX_TIME_S <= snap.t <= MAX_TIME_S:
        raise SnapshotError(f"t: {snap.t:g} is not a finite time within +-{MAX_TIME_S:g} s")
    if previous_t is not None and snap.t < previous_t:
        raise SnapshotError(
            f"t: {snap.t:g} is before the previous snapshot's t {previous_t:g}; "
            "snapshots must come in time order"
        )
    _unknown("meters", snap.meters, known.meters)
    _check_chargers(known, snap)
    _unknown("batteries", snap.batteries, known.batteries)
    _unknown("solar", snap.solar, known.solar)
    for key, value in snap.meters.items():
        _finite(f"meters.{key}", value)
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


def _check_chargers(known: KnownDevices, snap: Snapshot) -> None:
    _unknown("chargers", snap.chargers, known.chargers)
    top = MAX_CURRENT_A
    for key, r in snap.chargers.items():
        if r.need is not None:
            _check_need(key, r.need)
        limit = r.limit_a
        if 0.0 <= r.current_a <= top and (limit is None or 0.0 <= limit <= top):
            continue  # the common case, checked fast (NaN fails every comparison)
        _finite(f"chargers.{key}.current_a", r.current_a)
        if r.current_a < 0:
            raise SnapshotError(
                f"chargers.{key}.current_a: {r.current_a:g} is negative; "
                "a charger's current is 0 or more"
            )
        if r.limit_a is not None and not 0 <= r.limit_a <= top:
            raise SnapshotError(
                f"chargers.{key}.limit_a: {r.limit_a:g} must be 0 or more "
                f"(a finite number of amps within {top:g})"
            )


def _check_need(key: str, need: ChargingNeed) -> None:
    """A need's departure is a finite time and its energy a finite amount, 0 or more."""
    if need.departure_t is not None and not math.isfinite(need.departure_t):
        raise SnapshotError(
            f"chargers.{key}.need.departure_t: {need.departure_t:g} is not a finite time "
            "(seconds on the snapshot's clock)"
        )
    if need.energy_wh is not None and not (math.isfinite(need.energy_wh) and need.energy_wh >= 0):
        raise SnapshotError(
            f"chargers.{key}.need.energy_wh: {need.energy_wh:g} must be a finite number of "
            "Wh, 0 or more"
        )
