"""One run: a scenario, a policy, and the world stepped forward one `step_s` at a time.

Each step, in order: cars arrive and leave; meters report what flowed in the previous step
(a meter samples, it does not foresee); the policy decides when its period comes (unless the
controller is down) and the decision reaches the chargers that are in contact; each charger
offers its pilot (limit, or fallback once its lease has run out); cars ramp toward it;
solar and batteries respond; circuit currents are summed; breakers heat, cool or trip.

The world a run starts from is `sim/world.py`; the steps themselves are `sim/stepping.py`
(one path: a step is a stretch of one); this module runs one policy and sums up its metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from panelpilot.sim.metrics import JOULES_PER_KWH, excess_amp_s, limit_figures, summary
from panelpilot.sim.pcs_metrics import pcs_figures
from panelpilot.sim.policies import Policy
from panelpilot.sim.stepping import Progress, Run
from panelpilot.sim.topology import Topology
from panelpilot.sim.world import Trace, World, build_world
from panelpilot.site import Site

__all__ = ["Progress", "RunResult", "Trace", "World", "build_world", "pcs_excess_amp_s", "run"]


@dataclass
class RunResult:
    """The metrics of one policy on one scenario, and its trace."""

    policy: str
    metrics: dict[str, Any]
    trace: Trace


def run(
    world: World, policy: Policy, progress: Progress | None = None, blocks: bool = True
) -> RunResult:
    """Run one policy through the whole scenario.

    `blocks=False` takes every step as a stretch of one (the reference longer stretches are
    tested against); the results agree up to rounding in the last digits.
    """
    site, topo = world.loaded.site, world.topo
    r = Run(world, policy, progress, blocks)
    r.loop()
    dt, trace, fleet = r.dt, r.trace, r.fleet
    delivered = fleet.delivered_kwh()
    unmet = fleet.unmet_kwh()
    cars = [
        {
            "charger": topo.charger_ids[c.charger],
            "arrive_s": c.arrive_s,
            "depart_s": c.depart_s,
            "wanted_kwh": round(c.energy_kwh, 3),
            "delivered_kwh": round(float(delivered[i]), 3),
            "unmet_kwh": round(float(unmet[i]), 3),
        }
        for i, c in enumerate(world.cars)
    ]
    curtailed_a_s = float((trace.solar_available_a - trace.solar_a).sum()) * dt
    metrics = summary(
        circuits=limit_figures(topo.circuit_ids, topo.circuit_limit_a, trace.circuit_a, dt),
        networks=limit_figures(topo.network_ids, topo.network_limit_a, trace.network_a, dt),
        fairness=r.fairness,
        solar_curtailed_kwh=curtailed_a_s * site.voltage_v / JOULES_PER_KWH,
        pcs_amp_s=pcs_excess_amp_s(site, topo, trace, dt),
        delivered_kwh=delivered,
        unmet_kwh=unmet,
        cars=cars,
        trips=r.trips,
    )
    if site.batteries or site.solar:
        metrics.update(pcs_figures(site, topo, trace, dt))
    return RunResult(policy=policy.name, metrics=metrics, trace=trace)


def pcs_excess_amp_s(site: Site, topo: Topology, trace: Trace, dt_s: float) -> dict[str, float]:
    """Amp-seconds over the Panel, Conductor and Site Export limits (DESIGN.md section 3)."""
    pcs = site.pcs
    out: dict[str, float] = {}
    index = {cid: i for i, cid in enumerate(topo.circuit_ids)}
    if pcs.panel_limit_a is not None and pcs.panel in index:
        # Panel current = max(site, 0) + solar + max(battery, 0) (seeds/panel-limit.txt).
        p = index[pcs.panel]
        panel_a = (
            np.maximum(trace.circuit_a[p], 0.0)
            + topo.below(topo.solar_circuit)[p] @ trace.solar_a
            + topo.below(topo.battery_circuit)[p] @ np.maximum(trace.battery_a, 0.0)
        )
        out["panel"] = excess_amp_s(panel_a, pcs.panel_limit_a, dt_s)
    if pcs.conductor_limit_a is not None and pcs.conductor_meter in topo.meter_circuit:
        conductor_a = np.abs(trace.circuit_a[topo.meter_circuit[pcs.conductor_meter]])
        out["conductor"] = excess_amp_s(conductor_a, pcs.conductor_limit_a, dt_s)
    export_meter = pcs.export_meter or site.circuits[0].meter
    if pcs.export_limit_a is not None:
        row = topo.meter_circuit.get(export_meter, 0) if export_meter else 0
        out["export"] = excess_amp_s(-trace.circuit_a[row], pcs.export_limit_a, dt_s)
    return out
