"""The arithmetic every Power Control System limit shares: sources, caps that only go down,
and sharing a total among sources in proportion (`control/pcs.py` applies the limits)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from panelpilot.control.alerts import alert
from panelpilot.control.pcs_law import PcsMemory
from panelpilot.control.types import Alert, Snapshot
from panelpilot.site.model import Battery, Site, Solar


class Source(NamedTuple):
    """A battery or inverter as a limit counts it: what it gives now, and at most."""

    key: str
    output_a: float
    rating_a: float


def output_a(sources: list[Source]) -> float:
    return sum(s.output_a for s in sources)


@dataclass(slots=True)
class Caps:
    """Caps being built up; every limit may only lower them (`lower`)."""

    discharge_a: dict[str, float]
    charge_a: dict[str, float]
    charge_request_a: dict[str, float]
    solar_a: dict[str, float]

    def hold(self, batteries: list[Battery], solar: list[Solar]) -> None:
        """A lost meter fails safe: what its limit controls is held at 0 A."""
        for b in batteries:
            lower(self.discharge_a, b.id, 0.0)
        for s in solar:
            lower(self.solar_a, s.id, 0.0)


def lower(caps: dict[str, float], key: str, value_a: float) -> None:
    """Lower one cap to `value_a` (never below 0, never up)."""
    caps[key] = max(0.0, min(caps[key], value_a))


def battery_output_a(b: Battery, snap: Snapshot) -> float:
    """Discharge current counted for limits: measured, or rated when not reporting."""
    r = snap.batteries.get(b.id)
    if r is None or not r.online:
        return b.max_discharge_a
    return max(0.0, r.current_a)


def solar_output_a(s: Solar, snap: Snapshot) -> float:
    """Solar output counted for limits: measured, or rated when not reporting."""
    r = snap.solar.get(s.id)
    if r is None or not r.online:
        return s.max_a
    return max(0.0, r.current_a)


def down(value_a: float) -> float:
    """Round a cap down to 1 mA: a cap is never rounded up past what a limit allows."""
    return math.floor(value_a * 1000 + 1e-6) / 1000


def share(sources: list[Source], total_a: float, caps: dict[str, float]) -> None:
    """Cap `sources` so their caps sum to `total_a`.

    Below their present output the cut is shared in proportion to output; above it, the
    headroom is shared in proportion to what each can still add. At or above the sum of the
    ratings nothing is capped. A cap above present output never reduces anything: it only
    keeps the sources from pushing a limit past its threshold, which is what keeps the caps
    from swinging on and off from one cycle to the next.
    """
    output = output_a(sources)
    rated = sum(s.rating_a for s in sources)
    if total_a >= rated:
        return
    if total_a <= output:
        factor = 0.0 if output <= 0 else max(0.0, total_a) / output
        for key, out, _ in sources:
            lower(caps, key, out * factor)
        return
    room = rated - output
    for key, out, r in sources:
        lower(caps, key, out + (total_a - output) * (r - out) / room if room > 0 else r)


def batteries_of(batteries: list[Battery], snap: Snapshot) -> list[Source]:
    return [
        Source(b.id, min(battery_output_a(b, snap), b.max_discharge_a), b.max_discharge_a)
        for b in batteries
    ]


def solar_of(solar: list[Solar], snap: Snapshot) -> list[Source]:
    return [Source(s.id, min(solar_output_a(s, snap), s.max_a), s.max_a) for s in solar]


def silent_devices(site: Site, snap: Snapshot) -> list[Alert]:
    """An alert for every battery and solar inverter that is not reporting."""
    alerts = []
    for b in site.batteries:
        r = snap.batteries.get(b.id)
        if r is None or not r.online:
            alerts.append(alert("battery_unresponsive", f"battery {b.id} is not reporting", b.id))
    for s in site.solar:
        sr = snap.solar.get(s.id)
        if sr is None or not sr.online:
            alerts.append(alert("solar_unresponsive", f"solar {s.id} is not reporting", s.id))
    return alerts


def nothing_to_control(site: Site, memory: PcsMemory) -> bool:
    """Whether the PCS step has nothing to do: no battery, no solar, no Panel, Conductor or
    Site Export limit and no stage warning held, so it raises no alert and sets no cap."""
    pcs = site.pcs
    return (
        not site.batteries
        and not site.solar
        and not memory.stages
        and (pcs.panel is None or pcs.panel_limit_a is None)
        and (pcs.conductor_limit_a is None or pcs.conductor_meter is None)
        and pcs.export_limit_a is None
    )
