"""The panelpilot site that matches an ACN-Sim infrastructure, and the pilot a limit becomes.

No acnportal here (tested by `make test` without it); `adapter` uses both. See `adapter` for
why the settings are what they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bench.acn.events import MIN_PILOT_A, EventSet
from panelpilot.site import Site, parse_site

# The lease, in controller periods: a lease outlives a cycle.
LEASE_PERIODS = 5


def site_for(events: EventSet, control: Mapping[str, float] | None = None) -> Site:
    """The panelpilot site matching the ACN infrastructure of `events`; `control` overrides
    the site file's `control:` settings (`rotation_s`, `probe_s`, ...) to measure them."""
    period_s = events.period_min * 60.0
    as_network = MIN_PILOT_A * len(events.stations) <= events.limit_a
    chargers: list[dict[str, Any]] = []
    for sid in events.stations:
        charger: dict[str, Any] = {"id": sid, "circuit": "service", "max_a": events.max_pilot_a}
        if as_network:
            charger["network"] = "evses"
        else:
            charger["fallback_a"] = 0
        chargers.append(charger)
    networks = (
        [{"id": "evses", "circuit": "service", "network_limit_a": events.limit_a}]
        if as_network
        else []
    )
    return parse_site(
        {
            "name": events.name,
            "circuits": [{"id": "service", "limit_a": events.limit_a}],
            "networks": networks,
            "chargers": chargers,
            "control": {
                "period_s": period_s,
                "lease_s": LEASE_PERIODS * period_s,
                **(control or {}),
            },
        }
    )


def pilot_of(limit_a: float, max_pilot_a: float) -> float:
    """The J1772 pilot sent for a limit: rounded down to whole amps, 0 below the minimum."""
    amps = min(math.floor(limit_a + 1e-9), max_pilot_a)
    return float(amps) if amps >= MIN_PILOT_A else 0.0
