"""One run: a scenario, a policy, and the world stepped forward one `step_s` at a time.

Each step, in order: cars arrive and leave; meters report what flowed in the previous step
(a meter samples, it does not foresee); the policy decides when its period comes (unless the
controller is down) and the decision reaches the chargers that are in contact; each charger
offers its pilot (limit, or fallback once its lease has run out); cars ramp toward it;
solar and batteries respond; circuit currents are summed; breakers heat, cool or trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.battery import BatteryBank
from panelpilot.sim.breaker import BreakerBank
from panelpilot.sim.chargers import ChargerBank
from panelpilot.sim.ev import Car, Fleet
from panelpilot.sim.faults import FaultSchedule
from panelpilot.sim.loader import LoadedScenario
from panelpilot.sim.metrics import (
    JOULES_PER_KWH,
    Fairness,
    excess_amp_s,
    limit_figures,
    summary,
)
from panelpilot.sim.policies import Policy, Readings
from panelpilot.sim.profiles import load_profiles, scenario_cars, solar_profiles, step_times
from panelpilot.sim.topology import Topology, topology_of
from panelpilot.site import Site

FloatArray = NDArray[np.float64]
Progress = Callable[[int, int], None]

# Chargers whose pilot and draw are kept for the plot (a 200-charger plot says nothing).
TRACED_CHARGERS = 8


@dataclass
class Trace:
    """Per-step history: every circuit, network, inverter and battery; a few chargers."""

    t_s: FloatArray
    circuit_a: FloatArray  # (circuits, steps)
    network_a: FloatArray  # (networks, steps)
    solar_a: FloatArray  # (inverters, steps), produced
    solar_available_a: FloatArray  # (inverters, steps), available while energised
    battery_a: FloatArray  # (batteries, steps), + discharge
    pilot_a: NDArray[np.float32]  # (traced chargers, steps)
    draw_a: NDArray[np.float32]  # (traced chargers, steps)

    @classmethod
    def empty(cls, topo: Topology, times: FloatArray) -> Trace:
        """Zeroed arrays for a run over `times`."""
        n = len(times)
        traced = min(TRACED_CHARGERS, len(topo.charger_ids))
        return cls(
            t_s=times,
            circuit_a=np.zeros((len(topo.circuit_ids), n)),
            network_a=np.zeros((len(topo.network_ids), n)),
            solar_a=np.zeros((len(topo.solar_ids), n)),
            solar_available_a=np.zeros((len(topo.solar_ids), n)),
            battery_a=np.zeros((len(topo.battery_ids), n)),
            pilot_a=np.zeros((traced, n), dtype=np.float32),
            draw_a=np.zeros((traced, n), dtype=np.float32),
        )


@dataclass
class RunResult:
    """The metrics of one policy on one scenario, and its trace."""

    policy: str
    metrics: dict[str, Any]
    trace: Trace


@dataclass(frozen=True)
class World:
    """Everything fixed before the first step, shared by every policy run on a scenario."""

    loaded: LoadedScenario
    topo: Topology
    times: FloatArray
    cars: list[Car]
    loads_a: FloatArray  # (loads, steps)
    load_circuit: NDArray[np.int64]
    solar_a: FloatArray  # (inverters, steps), available
    faults: FaultSchedule


def build_world(loaded: LoadedScenario) -> World:
    """Draw the cars, loads and sunshine of a scenario once, from its seed."""
    scenario, site = loaded.scenario, loaded.site
    topo = topology_of(site)
    times = step_times(scenario)
    index = {cid: i for i, cid in enumerate(topo.charger_ids)}
    circuit_index = {cid: i for i, cid in enumerate(topo.circuit_ids)}
    return World(
        loaded=loaded,
        topo=topo,
        times=times,
        cars=scenario_cars(scenario, index),
        loads_a=load_profiles(scenario, times),
        load_circuit=np.array([circuit_index[x.circuit] for x in scenario.loads], dtype=np.int64),
        solar_a=solar_profiles(scenario, topo.solar_ids, [s.max_a for s in site.solar], times),
        faults=FaultSchedule.of(scenario.faults, topo),
    )


def _battery_bank(world: World) -> BatteryBank:
    site, scenario = world.loaded.site, world.loaded.scenario
    profiles = [scenario.batteries.get(b.id) for b in site.batteries]
    return BatteryBank(
        max_discharge_a=[b.max_discharge_a for b in site.batteries],
        max_charge_a=[b.max_charge_a for b in site.batteries],
        capacity_kwh=[p.capacity_kwh if p else 13.5 for p in profiles],
        soc=[p.soc if p else 0.5 for p in profiles],
        export_windows=[p.export_windows if p else () for p in profiles],
        voltage_v=site.voltage_v,
    )


def run(world: World, policy: Policy, progress: Progress | None = None) -> RunResult:
    """Run one policy through the whole scenario."""
    site, scenario, topo = world.loaded.site, world.loaded.scenario, world.topo
    dt = scenario.step_s
    n_steps = len(world.times)
    period_steps = round(site.control.period_s / dt)
    fleet = Fleet(world.cars, len(topo.charger_ids), site.voltage_v)
    chargers = ChargerBank(topo.fair_a, topo.fair_a)
    batteries = _battery_bank(world)
    breakers = BreakerBank.of(topo.breaker_ratings_a)
    below_ev = topo.below(topo.charger_circuit)
    below_solar = topo.below(topo.solar_circuit)
    below_batt = topo.below(topo.battery_circuit)
    below_load = topo.below(world.load_circuit)
    has_batteries = len(topo.battery_ids) > 0
    has_solar = len(topo.solar_ids) > 0
    n_circ = len(topo.circuit_ids)
    fairness = Fairness()
    trace = Trace.empty(topo, world.times)
    traced = trace.pilot_a.shape[0]
    energized = np.ones(n_circ, dtype=bool)
    ev_on = energized[topo.charger_circuit]
    solar_on = energized[topo.solar_circuit]
    batt_on = energized[topo.battery_circuit]
    load_on = energized[world.load_circuit]
    current = np.zeros(n_circ)
    solar_out = np.zeros(len(topo.solar_ids))
    caps_solar = np.full(len(topo.solar_ids), np.inf)
    caps_discharge = np.full(len(topo.battery_ids), np.inf)
    charge_request = np.zeros(len(topo.battery_ids))
    trips: list[dict[str, Any]] = []
    tick = max(1, n_steps // 100)
    # Baselines are settings stored in the chargers: set once, never renewed.
    decide_every = period_steps if policy.remote else n_steps + 1
    for k in range(n_steps):
        t = float(world.times[k])
        fleet.advance_to(t)
        if k % decide_every == 0 and (not policy.remote or world.faults.controller_up(t)):
            reach = world.faults.reachable(t) if policy.remote else None
            ch_reach = ev_on if reach is None else ev_on & reach.chargers
            readings = Readings(
                t_s=t,
                meters=world.faults.meters(t, current) if policy.remote else {},
                charger_online=ch_reach,
                charger_connected=fleet.connected,
                charger_current_a=fleet.draw_a,
                charger_pilot_a=chargers.pilot_a(t),
                battery_online=batt_on if reach is None else batt_on & reach.batteries,
                battery_current_a=batteries.current_a,
                battery_soc=batteries.soc,
                solar_online=solar_on if reach is None else solar_on & reach.solar,
                solar_current_a=solar_out,
            )
            orders = policy.decide(readings)
            chargers.receive(
                orders.charger_reached & ch_reach,
                orders.charger_limit_a,
                orders.charger_fallback_a,
                orders.charger_lease_s,
                t,
            )
            if has_solar:
                caps_solar = np.where(readings.solar_online, orders.solar_max_a, caps_solar)
            if has_batteries:
                caps_discharge = np.where(
                    readings.battery_online, orders.battery_max_discharge_a, caps_discharge
                )
                charge_request = np.where(
                    readings.battery_online, orders.battery_charge_request_a, charge_request
                )
        pilot = chargers.pilot_a(t)
        accept = fleet.accept_a()
        draw = fleet.step(pilot, accept, ev_on, dt)
        current = below_ev @ draw + below_load @ (world.loads_a[:, k] * load_on)
        if has_solar:
            available = world.solar_a[:, k] * solar_on
            solar_out = np.minimum(available, caps_solar)
            current -= below_solar @ solar_out
            trace.solar_a[:, k] = solar_out
            trace.solar_available_a[:, k] = available
        if has_batteries:
            batt = batteries.step(float(current[0]), caps_discharge, charge_request, batt_on, t, dt)
            current -= below_batt @ batt
            trace.battery_a[:, k] = batt
        tripped = breakers.step(current[topo.breaker_circuits], dt, t)
        if tripped.any():
            for b in np.flatnonzero(tripped):
                circuit = int(topo.breaker_circuits[b])
                trips.append({"circuit": topo.circuit_ids[circuit], "t_s": t})
            open_circuits = np.zeros(n_circ, dtype=bool)
            open_circuits[topo.breaker_circuits[breakers.tripped]] = True
            energized = topo.energized(open_circuits)
            ev_on = energized[topo.charger_circuit]
            solar_on = energized[topo.solar_circuit]
            batt_on = energized[topo.battery_circuit]
            load_on = energized[world.load_circuit]
        fairness.add(draw, accept * ev_on)
        trace.circuit_a[:, k] = current
        trace.network_a[:, k] = topo.network_members @ draw
        trace.pilot_a[:, k] = pilot[:traced]
        trace.draw_a[:, k] = draw[:traced]
        if progress is not None and (k % tick == 0 or k == n_steps - 1):
            progress(k + 1, n_steps)
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
        fairness=fairness,
        solar_curtailed_kwh=curtailed_a_s * site.voltage_v / JOULES_PER_KWH,
        pcs_amp_s=pcs_excess_amp_s(site, topo, trace, dt),
        delivered_kwh=delivered,
        unmet_kwh=unmet,
        cars=cars,
        trips=trips,
    )
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
