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

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from panelpilot.control.alerts import alert
from panelpilot.control.pcs_caps import (
    Caps,
    Source,
    batteries_of,
    battery_output_a,
    down,
    nothing_to_control,
    output_a,
    share,
    silent_devices,
    solar_of,
    solar_output_a,
)
from panelpilot.control.pcs_law import CapMemory, Law, PcsMemory, cap_key, hold_stages, move
from panelpilot.control.types import (
    Alert,
    BatteryDecision,
    BatteryReading,
    Snapshot,
    SolarDecision,
)
from panelpilot.site.model import Battery, Site

PANEL_BATTERY_STAGE = 0.90  # seeds/panel-limit.txt: batteries first, at 90 % of the limit
PANEL_SOLAR_STAGE = 0.95  # then controlled solar, at 95 %
# A deadband is a share of its limit, and never narrower than that share of this (a zero
# export limit still has one).
BAND_FLOOR_A = 100.0
FULL = 0.999  # a battery this full takes no more charge


def band_a(limit_a: float, shift: float) -> float:
    """The deadband below a Conductor or export threshold, in amps."""
    return shift * max(limit_a, BAND_FLOOR_A)


@dataclass(frozen=True, slots=True)
class PcsDecision:
    """Every battery's and solar inverter's caps, the alerts explaining them, and the caps'
    memory for the next cycle (`control/pcs_law.py`)."""

    batteries: dict[str, BatteryDecision]
    solar: dict[str, SolarDecision]
    alerts: list[Alert]
    memory: PcsMemory

    @property
    def export_curtailing(self) -> bool:
        """Whether controllable solar is held below its rating for the export limit."""
        return self.memory.export_curtailing


def apply_pcs(
    site: Site,
    snap: Snapshot,
    within: Callable[[str, str], bool],
    meters: Mapping[str, float | None],
    memory: PcsMemory | None = None,
    dt_s: float = 0.0,
) -> PcsDecision:
    """Caps for every battery and solar inverter, and the alerts explaining them.

    `within(circuit, ancestor)` tells whether a circuit is fed from another; `meters` holds
    the readings (None = lost); `memory` is the caps in force after the last cycle, `dt_s`
    the time since it. Each limit is worked out twice from the same readings: at its
    thresholds (`low`: a cap above it comes down at once, with the alerts) and a deadband
    below them (`high`: where a cap may rise to, gradually); `pcs_law.move` moves the caps.
    """
    memory = memory if memory is not None else PcsMemory()
    if nothing_to_control(site, memory):  # what the steps below come to there, at once
        return PcsDecision({}, {}, [], PcsMemory(dict(memory.caps), False, {}))
    alerts = silent_devices(site, snap)
    at: list[Alert] = []
    near: list[Alert] = []
    low, curtailed_now = _limits(site, snap, within, meters, memory, 0.0, at)
    high, _ = _limits(site, snap, within, meters, memory, site.pcs.deadband_pct / 100, near)
    held_alerts, stages = hold_stages(memory, at, near, snap.t, site.pcs.hold_s)
    alerts.extend(held_alerts)
    pcs = site.pcs
    law = Law(snap.t, min(max(dt_s, 0.0), site.control.period_s), pcs.hold_s, pcs.raise_s)
    caps = dict(memory.caps)
    batteries = {b.id: _battery(b, snap, low, high, caps, law) for b in site.batteries}
    solar = {}
    for s in site.solar:
        k = cap_key("solar", s.id)
        caps[k] = move(caps.get(k), s.max_a, low.solar_a[s.id], high.solar_a[s.id], law)
        solar[s.id] = SolarDecision(max_a=down(caps[k].cap_a))
    # Still curtailing while controllable solar stays capped below its rating.
    held = memory.export_curtailing and any(
        solar[s.id].max_a < s.max_a for s in site.solar if s.controllable
    )
    return PcsDecision(batteries, solar, alerts, PcsMemory(caps, curtailed_now or held, stages))


def _battery(
    b: Battery, snap: Snapshot, low: Caps, high: Caps, caps: dict[str, CapMemory], law: Law
) -> BatteryDecision:
    """One battery's caps moved (`pcs_law.move`). Its charge request is the mirror image: the
    room it is *not* asked to charge is a cap, so a request rises at once (less export) and
    falls gradually after a hold; it follows the deadband's figure, so it settles a deadband
    inside the export limit however late the battery and the meter answer."""
    d, c, r = cap_key("discharge", b.id), cap_key("charge", b.id), cap_key("request", b.id)
    caps[d] = move(
        caps.get(d), b.max_discharge_a, low.discharge_a[b.id], high.discharge_a[b.id], law
    )
    caps[c] = move(caps.get(c), b.max_charge_a, low.charge_a[b.id], high.charge_a[b.id], law)
    need = b.max_charge_a - min(high.charge_request_a[b.id], b.max_charge_a)
    reading = snap.batteries.get(b.id)
    if reading is None or not reading.online or (reading.soc is not None and reading.soc >= FULL):
        caps[r] = CapMemory(b.max_charge_a)  # a full or silent battery is asked for nothing
    else:
        caps[r] = move(caps.get(r), b.max_charge_a, need, need, law)
    request = b.max_charge_a - caps[r].cap_a
    return BatteryDecision(
        max_discharge_a=down(caps[d].cap_a),
        charge_request_a=down(min(request, caps[c].cap_a)),
        max_charge_a=down(caps[c].cap_a),
    )


def _limits(
    site: Site,
    snap: Snapshot,
    within: Callable[[str, str], bool],
    meters: Mapping[str, float | None],
    memory: PcsMemory,
    shift: float,
    alerts: list[Alert],
) -> tuple[Caps, bool]:
    """Every limit's caps with its thresholds lowered by `shift` of the limit; whether solar
    is curtailed for export now."""
    caps = Caps(
        discharge_a={b.id: b.max_discharge_a for b in site.batteries},
        charge_a={b.id: b.max_charge_a for b in site.batteries},
        charge_request_a={b.id: 0.0 for b in site.batteries},
        solar_a={s.id: s.max_a for s in site.solar},
    )
    _panel_limit(site, snap, within, meters, caps, alerts, shift)
    _conductor_limit(site, snap, meters, caps, alerts, shift)
    curtailed = _export_limit(site, snap, meters, caps, alerts, memory.export_curtailing, shift)
    return caps, curtailed


def _panel_limit(
    site: Site,
    snap: Snapshot,
    within: Callable[[str, str], bool],
    meters: Mapping[str, float | None],
    caps: Caps,
    alerts: list[Alert],
    shift: float,
) -> None:
    pcs = site.pcs
    if pcs.panel is None or pcs.panel_limit_a is None:
        return
    limit = pcs.panel_limit_a
    battery_stage = (PANEL_BATTERY_STAGE - shift) * limit
    solar_stage = (PANEL_SOLAR_STAGE - shift) * limit
    panel = next(c for c, _ in site.all_circuits() if c.id == pcs.panel)
    batteries = [b for b in site.batteries if within(b.circuit, panel.id)]
    solar = [s for s in site.solar if within(s.circuit, panel.id) and s.controllable]
    all_solar = [s for s in site.solar if within(s.circuit, panel.id)]
    site_a = meters.get(panel.meter) if panel.meter else None
    if site_a is None:
        caps.hold(batteries, solar)
        alerts.append(
            alert("meter_lost", f"meter {panel.meter} lost: Panel Limit sources held at 0 A")
        )
        return
    bat, sol = batteries_of(batteries, snap), solar_of(solar, snap)
    bat_out, sol_out = output_a(bat), output_a(sol)
    # Negative site and battery values count as 0 (seeds/panel-limit.txt).
    panel_a = (
        max(site_a, 0.0)
        + sum(solar_output_a(s, snap) for s in all_solar)
        + sum(battery_output_a(b, snap) for b in batteries)
    )
    if panel_a > (1.0 - shift) * limit:
        caps.hold(batteries, solar)
        alerts.append(
            alert(
                "panel_limit_exceeded",
                f"panel {panel.id}: {panel_a:.1f} A > Panel Limit {limit:g} A; "
                "controlled sources curtailed to 0",
                panel.id,
            )
        )
        return
    # Below 90 % the batteries may give what keeps batteries and all solar within 90 % of the
    # limit (more than they give now: no reduction); at or above it they give the excess less.
    sol_all = sum(solar_output_a(s, snap) for s in all_solar)
    if panel_a >= battery_stage:
        battery_total = bat_out - (panel_a - battery_stage)
        alerts.append(
            alert(
                "panel_limit_battery",
                f"panel {panel.id}: {panel_a:.1f} A >= 90 % of {limit:g} A; battery output "
                f"reduced by {min(bat_out, bat_out - battery_total):.1f} A",
                panel.id,
            )
        )
    else:
        battery_total = battery_stage - sol_all
    share(bat, battery_total, caps.discharge_a)
    # Controllable solar likewise within 95 %, after the batteries' share; at or above 95 %
    # measured it is also held at its present output.
    uncontrolled = sol_all - sol_out
    solar_total = solar_stage - uncontrolled - min(bat_out, max(0.0, battery_total))
    if panel_a >= solar_stage and sol:
        solar_total = min(solar_total, sol_out)
        alerts.append(
            alert(
                "panel_limit_solar",
                f"panel {panel.id}: {panel_a:.1f} A >= 95 % of {limit:g} A; controllable "
                "solar limited",
                panel.id,
            )
        )
    share(sol, solar_total, caps.solar_a)


def _conductor_limit(
    site: Site,
    snap: Snapshot,
    meters: Mapping[str, float | None],
    caps: Caps,
    alerts: list[Alert],
    shift: float,
) -> None:
    pcs = site.pcs
    if pcs.conductor_limit_a is None or pcs.conductor_meter is None:
        return
    limit = pcs.conductor_limit_a
    threshold = limit - site.control.margin_a - band_a(limit, shift)
    reading = meters.get(pcs.conductor_meter)
    if reading is None:
        caps.hold(list(site.batteries), [])
        alerts.append(
            alert(
                "meter_lost",
                f"meter {pcs.conductor_meter} lost: battery output held at 0 A "
                "for the Conductor Limit",
            )
        )
        return
    bat = batteries_of(list(site.batteries), snap)
    bat_out = output_a(bat)
    backfeed = -reading  # CTs face the grid: backfeed reads negative
    share(bat, bat_out + (threshold - backfeed), caps.discharge_a)
    if backfeed > threshold:
        alerts.append(
            alert(
                "conductor_limit",
                f"conductor {pcs.conductor_meter}: {backfeed:.1f} A backfeed at Conductor "
                f"Limit {limit:g} A; battery output reduced by "
                f"{min(bat_out, backfeed - threshold):.1f} A",
            )
        )
    # The import side: batteries charging through the conductor may take what keeps it under.
    charging = [
        Source(b.id, max(0.0, -snap.batteries[b.id].current_a), b.max_charge_a)
        for b in site.batteries
        if b.id in snap.batteries and snap.batteries[b.id].online
    ]
    charging_now = output_a(charging)
    share(charging, charging_now + (threshold - reading), caps.charge_a)
    if reading > threshold and charging_now > 0:
        alerts.append(
            alert(
                "conductor_limit",
                f"conductor {pcs.conductor_meter}: {reading:.1f} A at Conductor Limit "
                f"{limit:g} A; battery charging reduced by "
                f"{min(charging_now, reading - threshold):.1f} A",
            )
        )


def _export_limit(
    site: Site,
    snap: Snapshot,
    meters: Mapping[str, float | None],
    caps: Caps,
    alerts: list[Alert],
    solar_curtailed: bool,
    shift: float,
) -> bool:
    """Best effort: batteries stop discharging, then charge, then solar is curtailed; returns
    whether solar is curtailed now.

    When export falls back under the limit, the room goes to whatever was curtailed last
    (solar first, then battery charging), one at a time, so the two do not both swing back.
    """
    pcs = site.pcs
    if pcs.export_limit_a is None:
        return False
    meter = pcs.export_meter or site.circuits[0].meter
    reading = meters.get(meter) if meter else None
    solar = [s for s in site.solar if s.controllable]
    if reading is None:
        caps.hold(list(site.batteries), solar)
        alerts.append(alert("meter_lost", f"meter {meter} lost: export limit sources held at 0 A"))
        return False
    limit = pcs.export_limit_a
    excess = -reading - max(0.0, limit - site.control.margin_a - band_a(limit, shift))
    bat = batteries_of(list(site.batteries), snap)
    sol = solar_of(solar, snap)
    # 1. batteries give no more than keeps export at the limit.
    share(bat, output_a(bat) - excess, caps.discharge_a)
    online = {
        b.id: snap.batteries[b.id]
        for b in site.batteries
        if b.id in snap.batteries and snap.batteries[b.id].online
    }
    charging_now = {k: max(0.0, -r.current_a) for k, r in online.items()}
    if excess <= 0:
        _give_back(caps, sol, charging_now, -excess, solar_curtailed)
        return False
    cut = min(excess, output_a(bat))
    absorb = _absorb(caps, online, charging_now, excess - cut)
    alerts.append(
        alert(
            "export_limit_battery",
            f"export {-reading:.1f} A near the Site Export Limit {pcs.export_limit_a:g} A: "
            f"battery discharge cut by {cut:.1f} A, charging asked for {absorb:.1f} A more",
        )
    )
    # 3. what batteries cannot absorb comes off controllable solar (held while it is curtailed).
    remaining = excess - cut - absorb
    if sol and (remaining > 1e-9 or solar_curtailed):
        share(sol, output_a(sol) - remaining, caps.solar_a)
    if not sol or remaining <= 1e-9:
        return False
    alerts.append(
        alert(
            "export_limit_solar",
            f"export over the Site Export Limit {pcs.export_limit_a:g} A by "
            f"{remaining:.1f} A after batteries: controllable solar curtailed",
        )
    )
    return True


def _give_back(
    caps: Caps,
    sol: list[Source],
    charging_now: dict[str, float],
    room_a: float,
    solar_curtailed: bool,
) -> None:
    """Export under the limit: the room goes to solar first if it was curtailed (charging
    held as it is), else to less battery charging."""
    total = sum(charging_now.values())
    if solar_curtailed and sol:
        share(sol, output_a(sol) + room_a, caps.solar_a)
        keep = total
    else:
        keep = max(0.0, total - room_a)
    for key, c in charging_now.items():
        caps.charge_request_a[key] = c * keep / total if total > 0 else 0.0


def _absorb(
    caps: Caps,
    online: Mapping[str, BatteryReading],
    charging_now: dict[str, float],
    remaining_a: float,
) -> float:
    """2. batteries that are not full charge more, up to what they can take; returns how
    much more they are asked to charge."""
    free = {
        key: max(0.0, caps.charge_a[key] - charging_now[key])
        for key, r in online.items()
        if r.soc is None or r.soc < FULL
    }
    total_free = sum(free.values())
    absorb = min(remaining_a, total_free)
    for key in online:
        share = absorb * free[key] / total_free if key in free and total_free > 0 else 0.0
        caps.charge_request_a[key] = charging_now[key] + share
    return absorb
