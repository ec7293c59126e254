"""The Live page's Power Control System rows (`views.PcsLive`): each PCS limit's measured
current against the limit, and every battery's and inverter's output against its cap.

* Panel Limit: the panel current as the limit counts it (`service/panel.py`), with the
  stage marks at 90 %, 95 % and 100 % of the limit (seeds/panel-limit.txt);
* Conductor Limit: the conductor CTs' backfeed (their reading, negative toward the grid);
* Site Export Limit: export, the export meter's reading turned around.
"""

from __future__ import annotations

from panelpilot.control.pcs import PANEL_BATTERY_STAGE, PANEL_SOLAR_STAGE
from panelpilot.control.types import Decision, Snapshot
from panelpilot.service.views import PanelView, PcsLimitRow, PcsLive, PcsSourceRow
from panelpilot.site.model import Site


def _kw(current_a: float | None, voltage_v: float) -> float | None:
    return None if current_a is None else round(current_a * voltage_v / 1000.0, 2)


def _limit(name: str, current_a: float | None, limit_a: float, v: float) -> PcsLimitRow:
    return PcsLimitRow(name, current_a, _kw(current_a, v), limit_a, round(limit_a * v / 1000, 2))


def pcs_live(
    site: Site, panel: PanelView, snapshot: Snapshot | None, decision: Decision | None
) -> PcsLive | None:
    """The PCS rows of the last cycle, or None on a site without batteries, solar or limits."""
    pcs, v = site.pcs, site.voltage_v
    if not (site.batteries or site.solar) and panel.panel_limit_a is None:
        return None
    meters = snapshot.meters if snapshot is not None else {}
    limits: list[PcsLimitRow] = []
    if panel.panel_limit_a is not None:
        limits.append(
            _limit(f"Panel Limit ({panel.panel})", panel.current_a, panel.panel_limit_a, v)
        )
    if pcs.conductor_limit_a is not None and pcs.conductor_meter is not None:
        reading = meters.get(pcs.conductor_meter)
        limits.append(
            _limit("Conductor Limit (backfeed)", None if reading is None else max(0.0, -reading),
                   pcs.conductor_limit_a, v)
        )  # fmt: skip
    if pcs.export_limit_a is not None:
        meter = pcs.export_meter or site.circuits[0].meter
        reading = meters.get(meter) if meter else None
        export = None if reading is None else max(0.0, -reading)
        limits.append(_limit("Site Export Limit (export)", export, pcs.export_limit_a, v))
    sources: list[PcsSourceRow] = []
    for b in site.batteries:
        r = snapshot.batteries.get(b.id) if snapshot is not None else None
        d = decision.batteries.get(b.id) if decision is not None else None
        out = r.current_a if r is not None and r.online else None
        cap = d.max_discharge_a if d is not None else None
        sources.append(PcsSourceRow(b.id, "battery", out, _kw(out, v), cap, b.max_discharge_a))
    for s in site.solar:
        sr = snapshot.solar.get(s.id) if snapshot is not None else None
        sd = decision.solar.get(s.id) if decision is not None else None
        out = sr.current_a if sr is not None and sr.online else None
        cap = sd.max_a if sd is not None and s.controllable else None
        sources.append(PcsSourceRow(s.id, "solar", out, _kw(out, v), cap, s.max_a))
    marks = (PANEL_BATTERY_STAGE, PANEL_SOLAR_STAGE, 1.0)
    return PcsLive(tuple(limits), tuple(sources), marks)
