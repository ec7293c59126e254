"""What a run's Power Control System did, from its trace (simulator.md, "PCS figures").

* Stage changes: steps at which the panel current moves between the Panel Limit's stages
  (under 90 %, from 90 %, from 95 %, over 100 % of the limit), per hour.
* Cap reversals: a cap sent to a battery or inverter that comes down after it went up (a
  swing); the most any one cap made in any hour of the run (control.md bounds it).
* Curtailment: what the caps held back (controllable solar's available output not produced,
  batteries' wanted discharge not given) beside the least any controller would have had to hold
  back to keep the Panel and export limits, step by step, from the same trace. The least is a
  lower bound: it knows every value at once and ignores the devices' delays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.metrics import JOULES_PER_KWH
from panelpilot.sim.topology import Topology
from panelpilot.sim.world import Trace
from panelpilot.site import Site

FloatArray = NDArray[np.float64]
HOUR_S = 3600.0
MOVE_A = 1e-3  # a cap that moved less than this did not move (caps are sent to 1 mA)


def reversal_times(caps: FloatArray, t_s: FloatArray) -> list[FloatArray]:
    """Per cap (row), the times at which it came down after going up."""
    out = []
    for row in caps:
        finite = np.where(np.isfinite(row), row, 1e9)
        d = np.diff(finite)
        moved = np.flatnonzero(np.abs(d) > MOVE_A)
        signs = np.sign(d[moved])
        turns = moved[1:][(signs[1:] < 0) & (signs[:-1] > 0)]
        out.append(t_s[turns + 1])
    return out


def most_in_an_hour(times: FloatArray) -> int:
    """The most of `times` (sorted) inside any one hour."""
    best, lo = 0, 0
    for hi in range(len(times)):
        while times[hi] - times[lo] >= HOUR_S:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def panel_current_a(site: Site, topo: Topology, trace: Trace) -> FloatArray | None:
    """Panel current = max(site, 0) + solar + max(battery, 0) (seeds/panel-limit.txt)."""
    pcs = site.pcs
    index = {cid: i for i, cid in enumerate(topo.circuit_ids)}
    if pcs.panel_limit_a is None or pcs.panel not in index:
        return None
    p = index[pcs.panel]
    out: FloatArray = (
        np.maximum(trace.circuit_a[p], 0.0)
        + topo.below(topo.solar_circuit)[p] @ trace.solar_a
        + topo.below(topo.battery_circuit)[p] @ np.maximum(trace.battery_a, 0.0)
    )
    return out


def pcs_figures(site: Site, topo: Topology, trace: Trace, dt_s: float) -> dict[str, Any]:
    """Stage changes, cap reversals and curtailment of one run (see the module)."""
    hours = max(len(trace.t_s) * dt_s / HOUR_S, 1e-9)
    caps = np.vstack([trace.battery_cap_a, trace.solar_cap_a])
    turns = reversal_times(caps, trace.t_s)
    figures: dict[str, Any] = {
        "pcs_cap_reversals_per_hour": round(sum(len(x) for x in turns) / hours, 2),
        "pcs_cap_reversals_most_in_an_hour": max((most_in_an_hour(x) for x in turns), default=0),
    }
    controllable = np.array([s.controllable for s in site.solar], dtype=bool)
    solar_cut = (trace.solar_available_a - trace.solar_a) * controllable[:, None]
    battery_cut = np.maximum(trace.battery_wanted_a - np.maximum(trace.battery_a, 0.0), 0.0)
    cut_a = solar_cut.sum(axis=0) + battery_cut.sum(axis=0)
    least_a = np.zeros(len(trace.t_s))
    panel = panel_current_a(site, topo, trace)
    limit = site.pcs.panel_limit_a
    if panel is not None and limit is not None:
        stages = np.digitize(panel, [0.9 * limit, 0.95 * limit, limit + 1e-6])
        figures["pcs_stage_changes_per_hour"] = round(
            float(np.count_nonzero(np.diff(stages))) / hours, 2
        )
        # Uncurtailed, the panel carries max(load, sources + what was held back): only the
        # sources' side can be curtailed (seeds/panel-limit.txt; Kirchhoff at the panel).
        p = topo.circuit_ids.index(site.pcs.panel or "")
        below_solar, below_batt = (
            topo.below(topo.solar_circuit)[p],
            topo.below(topo.battery_circuit)[p],
        )
        sources = below_solar @ trace.solar_a + below_batt @ np.maximum(trace.battery_a, 0.0)
        held = below_solar @ solar_cut + below_batt @ battery_cut
        least_a = np.maximum(least_a, sources + held - limit)
    if site.pcs.export_limit_a is not None:
        # Every amp held back would have been exported (Kirchhoff at the service).
        least_a = np.maximum(least_a, -trace.circuit_a[0] + cut_a - site.pcs.export_limit_a)
    kwh = dt_s * site.voltage_v / JOULES_PER_KWH
    figures["pcs_curtailed_kwh"] = round(float(cut_a.sum()) * kwh, 3)
    figures["pcs_least_curtailed_kwh"] = round(float(least_a.sum()) * kwh, 3)
    return figures
