"""Simulated devices in process: chargers with EVs that follow their limit, meters that sum
the loads below them, a battery and solar. The runtime, the web pages and the tests run on
them without a network; `twin` serves the same world over loopback HTTP for end-to-end tests.
"""

from panelpilot.drivers.sim.devices import (
    SimBattery,
    SimCharger,
    SimMeter,
    SimSolar,
    sim_drivers,
)
from panelpilot.drivers.sim.world import ChargerTwin, World

__all__ = [
    "ChargerTwin",
    "SimBattery",
    "SimCharger",
    "SimMeter",
    "SimSolar",
    "World",
    "sim_drivers",
]
