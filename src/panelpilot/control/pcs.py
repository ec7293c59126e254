"""Power Control System limits for batteries and solar (NEC 705.13).

* Panel Limit (seeds/panel-limit.txt): panel current = max(site, 0) + solar + max(battery, 0).
  At or above 90 % of the limit battery output is reduced; at or above 95 % controllable
  solar is limited too; above the limit every controlled source is curtailed to 0.
* Conductor Limit (seeds/conductor-limit.txt): battery output is curtailed so the current
  on the conductor CTs stays under the limit (and battery charging, for the import side).
* Site Export Limit (best effort): batteries stop discharging, then charge, then
  controllable solar is curtailed.

A lost meter fails safe: what its limit controls goes to 0 and an alert is raised. A device
that does not report is assumed at its rated output (never guessed lower).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from panelpilot.control.alerts import alert
from panelpilot.control.types import Alert, BatteryDecision, Snapshot, SolarDecision
from panelpilot.site.model import Battery, Site, Solar

PANEL_BATTERY_STAGE = 0.90  # seeds/panel-limit.txt: batteries first, at 90 % of the limit
PANEL_SOLAR_STAGE = 0.95  # then controlled solar, at 95 %


@dataclass(slots=True)
class Caps:
    """Caps being built up; every limit may only lower them."""

    discharge_a: dict[str, float]
    charge_a: dict[str, float]
    charge_request_a: dict[str, float]
    solar_a: dict[str, float]

    def cap_discharge(self, key: str, value: float) -> None:
        self.discharge_a[key] = max(0.0, min(self.discharge_a[key], value))

    def cap_solar(self, key: str, value: float) -> None:
        self.solar_a[key] = max(0.0, min(self.solar_a[key], value))


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


def _down(value_a: float) -> float:
    """Round a cap down to 1 mA: a cap is never rounded up past what a limit allows."""
    return math.floor(value_a * 1000 + 1e-6) / 1000


def _scale_down(
    items: list[tuple[str, float]], total_allowed_a: float, cap: Callable[[str, float], None]
) -> None:
    """Cap each source so their sum is at most `total_allowed_a`, in proportion to output."""
    total = sum(out for _, out in items)
    factor = 0.0 if total <= 0 else min(1.0, max(0.0, total_allowed_a) / total)
    for key, out in items:
        cap(key, out * factor)


def apply_pcs(
    site: Site,
    snap: Snapshot,
    within: Callable[[str, str], bool],
    meters: Mapping[str, float | None],
) -> tuple[dict[str, BatteryDecision], dict[str, SolarDecision], list[Alert]]:
    """Caps for every battery and solar inverter, and the alerts explaining them.

    `within(circuit, ancestor)` tells whether a circuit is fed from another; `meters` holds
    the readings (None = lost).
    """
    caps = Caps(
        discharge_a={b.id: b.max_discharge_a for b in site.batteries},
        charge_a={b.id: b.max_charge_a for b in site.batteries},
        charge_request_a={b.id: 0.0 for b in site.batteries},
        solar_a={s.id: s.max_a for s in site.solar},
    )
    alerts: list[Alert] = []
    for b in site.batteries:
        r = snap.batteries.get(b.id)
        if r is None or not r.online:
            alerts.append(alert("battery_unresponsive", f"battery {b.id} is not reporting", b.id))
    for s in site.solar:
        sr = snap.solar.get(s.id)
        if sr is None or not sr.online:
            alerts.append(alert("solar_unresponsive", f"solar {s.id} is not reporting", s.id))
    _panel_limit(site, snap, within, meters, caps, alerts)
    _conductor_limit(site, snap, meters, caps, alerts)
    _export_limit(site, snap, meters, caps, alerts)
    batteries = {
        b.id: BatteryDecision(
            max_discharge_a=_down(caps.discharge_a[b.id]),
            charge_request_a=_down(min(caps.charge_request_a[b.id], caps.charge_a[b.id])),
            max_charge_a=_down(caps.charge_a[b.id]),
        )
        for b in site.batteries
    }
    solar = {s.id: SolarDecision(max_a=_down(caps.solar_a[s.id])) for s in site.solar}
    return batteries, solar, alerts


def _panel_limit(
    site: Site,
    snap: Snapshot,
    within: Callable[[str, str], bool],
    meters: Mapping[str, float | None],
    caps: Caps,
    alerts: list[Alert],
) -> None:
    pcs = site.pcs
    if pcs.panel is None or pcs.panel_limit_a is None:
        return
    limit = pcs.panel_limit_a
    panel = next(c for c, _ in site.all_circuits() if c.id == pcs.panel)
    batteries = [b for b in site.batteries if within(b.circuit, panel.id)]
    solar = [s for s in site.solar if within(s.circuit, panel.id) and s.controllable]
    all_solar = [s for s in site.solar if within(s.circuit, panel.id)]
    site_a = meters.get(panel.meter) if panel.meter else None
    if site_a is None:
        for b in batteries:
            caps.cap_discharge(b.id, 0.0)
        for s in solar:
            caps.cap_solar(s.id, 0.0)
        alerts.append(
            alert("meter_lost", f"meter {panel.meter} lost: Panel Limit sources held at 0 A")
        )
        return
    bat = [(b.id, battery_output_a(b, snap)) for b in batteries]
    sol = [(s.id, solar_output_a(s, snap)) for s in solar]
    bat_out = sum(out for _, out in bat)
    panel_a = max(site_a, 0.0) + sum(solar_output_a(s, snap) for s in all_solar) + bat_out
    if panel_a > limit:
        for key, _ in bat:
            caps.cap_discharge(key, 0.0)
        for key, _ in sol:
            caps.cap_solar(key, 0.0)
        alerts.append(
            alert(
                "panel_limit_exceeded",
                f"panel {panel.id}: {panel_a:.1f} A > Panel Limit {limit:g} A; "
                "controlled sources curtailed to 0",
                panel.id,
            )
        )
        return
    measured = panel_a  # the stages are judged on what is measured
    if measured >= PANEL_BATTERY_STAGE * limit:
        excess = panel_a - PANEL_BATTERY_STAGE * limit
        _scale_down(bat, bat_out - excess, caps.cap_discharge)
        alerts.append(
            alert(
                "panel_limit_battery",
                f"panel {panel.id}: {panel_a:.1f} A >= 90 % of {limit:g} A; battery output "
                f"reduced by {min(excess, bat_out):.1f} A",
                panel.id,
            )
        )
        panel_a -= min(excess, bat_out)
    if measured >= PANEL_SOLAR_STAGE * limit and sol:
        # Held at its present output (no increase), less what is still over 95 %.
        excess = max(0.0, panel_a - PANEL_SOLAR_STAGE * limit)
        _scale_down(sol, sum(out for _, out in sol) - excess, caps.cap_solar)
        alerts.append(
            alert(
                "panel_limit_solar",
                f"panel {panel.id}: {measured:.1f} A >= 95 % of {limit:g} A; controllable "
                "solar limited",
                panel.id,
            )
        )


def _conductor_limit(
    site: Site,
    snap: Snapshot,
    meters: Mapping[str, float | None],
    caps: Caps,
    alerts: list[Alert],
) -> None:
    pcs = site.pcs
    if pcs.conductor_limit_a is None or pcs.conductor_meter is None:
        return
    limit = pcs.conductor_limit_a
    margin = site.control.margin_a
    reading = meters.get(pcs.conductor_meter)
    if reading is None:
        for b in site.batteries:
            caps.cap_discharge(b.id, 0.0)
        alerts.append(
            alert(
                "meter_lost",
                f"meter {pcs.conductor_meter} lost: battery output held at 0 A "
                "for the Conductor Limit",
            )
        )
        return
    bat = [(b.id, battery_output_a(b, snap)) for b in site.batteries]
    backfeed = -reading  # CTs face the grid: backfeed reads negative
    if backfeed > limit - margin:
        excess = backfeed - (limit - margin)
        _scale_down(bat, sum(out for _, out in bat) - excess, caps.cap_discharge)
        alerts.append(
            alert(
                "conductor_limit",
                f"conductor {pcs.conductor_meter}: {backfeed:.1f} A backfeed at Conductor "
                f"Limit {limit:g} A; battery output reduced by {excess:.1f} A",
            )
        )
    elif reading > limit - margin:
        excess = reading - (limit - margin)
        charging = [
            (b.id, max(0.0, -(snap.batteries[b.id].current_a)))
            for b in site.batteries
            if b.id in snap.batteries and snap.batteries[b.id].online
        ]
        total = sum(c for _, c in charging)
        factor = 0.0 if total <= 0 else max(0.0, total - excess) / total
        for key, c in charging:
            caps.charge_a[key] = max(0.0, min(caps.charge_a[key], c * factor))
        alerts.append(
            alert(
                "conductor_limit",
                f"conductor {pcs.conductor_meter}: {reading:.1f} A at Conductor Limit "
                f"{limit:g} A; battery charging reduced by {min(excess, total):.1f} A",
            )
        )


def _export_limit(
    site: Site,
    snap: Snapshot,
    meters: Mapping[str, float | None],
    caps: Caps,
    alerts: list[Alert],
) -> None:
    pcs = site.pcs
    if pcs.export_limit_a is None:
        return
    meter = pcs.export_meter or site.circuits[0].meter
    reading = meters.get(meter) if meter else None
    solar = [s for s in site.solar if s.controllable]
    if reading is None:
        for b in site.batteries:
            caps.cap_discharge(b.id, 0.0)
        for s in solar:
            caps.cap_solar(s.id, 0.0)
        alerts.append(alert("meter_lost", f"meter {meter} lost: export limit sources held at 0 A"))
        return
    threshold = max(0.0, pcs.export_limit_a - site.control.margin_a)
    excess = -reading - threshold
    online = {
        b.id: snap.batteries[b.id]
        for b in site.batteries
        if b.id in snap.batteries and snap.batteries[b.id].online
    }
    charging_now = {k: max(0.0, -r.current_a) for k, r in online.items()}
    if excess <= 0:
        # Keep asking batteries that already charge for export, less the room regained.
        total = sum(charging_now.values())
        keep = max(0.0, total + excess) if total > 0 else 0.0
        for key, c in charging_now.items():
            caps.charge_request_a[key] = c * keep / total if total > 0 else 0.0
        return
    # 1. batteries stop discharging.
    bat = [(b.id, battery_output_a(b, snap)) for b in site.batteries]
    bat_out = sum(out for _, out in bat)
    cut = min(excess, bat_out)
    _scale_down(bat, bat_out - cut, caps.cap_discharge)
    excess -= cut
    # 2. batteries charge, up to what they can take.
    room = {
        key: max(0.0, caps.charge_a[key] - charging_now[key])
        for key, r in online.items()
        if r.soc is None or r.soc < 0.999
    }
    total_room = sum(room.values())
    absorb = min(excess, total_room)
    for key, r in room.items():
        share = absorb * r / total_room if total_room > 0 else 0.0
        caps.charge_request_a[key] = charging_now[key] + share
    excess -= absorb
    alerts.append(
        alert(
            "export_limit_battery",
            f"export {-reading:.1f} A near the Site Export Limit {pcs.export_limit_a:g} A: "
            f"battery discharge cut by {cut:.1f} A, charging asked for {absorb:.1f} A more",
        )
    )
    # 3. what batteries cannot absorb: curtail controllable solar.
    if excess > 1e-9 and solar:
        sol = [(s.id, solar_output_a(s, snap)) for s in solar]
        _scale_down(sol, sum(out for _, out in sol) - excess, caps.cap_solar)
        alerts.append(
            alert(
                "export_limit_solar",
                f"export over the Site Export Limit {pcs.export_limit_a:g} A by {excess:.1f} A "
                "after batteries: controllable solar curtailed",
            )
        )
