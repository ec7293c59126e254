"""Simulated devices in process: chargers with EVs that follow their limit, meters that sum
the loads below them, a battery and solar. The demo, the web pages' tests and the service's
tests run on them without a network; `twin` serves the same world over loopback HTTP for
end-to-end tests, `twin_client` drives it from another process, and `factory` is the `kind:
sim` registry entry. Only the demo (`service/demo.py`) and the tests import this package.
"""

from panelpilot.drivers.sim.devices import (
    SimBattery,
    SimCharger,
    SimMeter,
    SimSolar,
    sim_driver_set,
)
from panelpilot.drivers.sim.world import ChargerTwin, World

__all__ = [
    "ChargerTwin",
    "SimBattery",
    "SimCharger",
    "SimMeter",
    "SimSolar",
    "World",
    "sim_driver_set",
]
