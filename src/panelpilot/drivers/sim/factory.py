"""The `kind: sim` factory over one simulated world, for the demo and the tests only.

`sim_kind(world)` is the registry entry the demo adds to the production kinds (with `--sim`
it also plays every device the `drivers:` section leaves out); the production service never
builds it (tests/drivers/test_twins.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from panelpilot.drivers.base import DriverSet
from panelpilot.drivers.factory import BuildContext, Built, DeviceEntry, DriverKind
from panelpilot.drivers.sim.devices import sim_driver_set
from panelpilot.drivers.sim.world import World


def sim_kind(world: World) -> DriverKind:
    """Devices played by `world`, in any part."""

    def build(entries: Sequence[DeviceEntry], context: BuildContext) -> Built:
        every = sim_driver_set(world)
        wanted = {e.device for e in entries}
        return Built(
            DriverSet(
                chargers={k: v for k, v in every.chargers.items() if k in wanted},
                meters={k: v for k, v in every.meters.items() if k in wanted},
                batteries={k: v for k, v in every.batteries.items() if k in wanted},
                solar={k: v for k, v in every.solar.items() if k in wanted},
            )
        )

    return DriverKind(frozenset({"charger", "meter", "battery", "solar"}), "", build)
