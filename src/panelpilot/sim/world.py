"""What a run starts from and what it leaves: the world drawn once per scenario, the trace.

The world (cars, loads, sunshine, faults) is drawn once from the scenario's seed and shared by
every controller run on it, so the controllers are compared on the same day. The trace is a
run's per-step history, filled in by `sim/stepping.py` and read by the metrics and the plot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.battery import BatteryBank
from panelpilot.sim.ev import Car
from panelpilot.sim.faults import FaultSchedule
from panelpilot.sim.loader import LoadedScenario
from panelpilot.sim.profiles import load_profiles, scenario_cars, solar_profiles, step_times
from panelpilot.sim.topology import Topology, topology_of

FloatArray = NDArray[np.float64]

# Chargers whose pilot and draw are kept for the plot (a 200-charger plot says nothing).
TRACED_CHARGERS = 8
# A battery without a profile in the scenario: a common home battery, half full.
DEFAULT_CAPACITY_KWH = 13.5
DEFAULT_SOC = 0.5


@dataclass
class Trace:
    """Per-step history: every circuit, network, inverter and battery; a few chargers."""

    t_s: FloatArray
    circuit_a: FloatArray  # (circuits, steps)
    network_a: FloatArray  # (networks, steps)
    solar_a: FloatArray  # (inverters, steps), produced
    solar_available_a: FloatArray  # (inverters, steps), available while energised
    battery_a: FloatArray  # (batteries, steps), + discharge
    battery_wanted_a: FloatArray  # (batteries, steps), what each would discharge uncapped
    battery_cap_a: FloatArray  # (batteries, steps), the discharge cap held (sent)
    solar_cap_a: FloatArray  # (inverters, steps), the cap held (sent)
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
            battery_wanted_a=np.zeros((len(topo.battery_ids), n)),
            battery_cap_a=np.zeros((len(topo.battery_ids), n)),
            solar_cap_a=np.zeros((len(topo.solar_ids), n)),
            pilot_a=np.zeros((traced, n), dtype=np.float32),
            draw_a=np.zeros((traced, n), dtype=np.float32),
        )


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


def battery_bank(world: World) -> BatteryBank:
    """The site's batteries at the start of a run, as the scenario's profiles describe them."""
    site, scenario = world.loaded.site, world.loaded.scenario
    profiles = [scenario.batteries.get(b.id) for b in site.batteries]
    return BatteryBank(
        max_discharge_a=[b.max_discharge_a for b in site.batteries],
        max_charge_a=[b.max_charge_a for b in site.batteries],
        capacity_kwh=[p.capacity_kwh if p else DEFAULT_CAPACITY_KWH for p in profiles],
        soc=[p.soc if p else DEFAULT_SOC for p in profiles],
        export_windows=[p.export_windows if p else () for p in profiles],
        voltage_v=site.voltage_v,
    )
