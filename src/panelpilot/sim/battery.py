"""Batteries: energy, state of charge, rated limits, and how they are operated.

Each battery works in self-consumption (discharge to cover the site's import, charge from its
export) within the caps the controller sends (`max_discharge_a`, `charge_request_a`), except in
an export window, when it discharges at full power (a utility or VPP event: the case a Panel
Limit and an export limit exist for). It stops discharging at 0 % and charging at 100 %.
Conversion losses are not modelled.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

JOULES_PER_KWH = 3.6e6


class BatteryBank:
    """Every battery of a site, stepped together; current + discharge, - charge."""

    def __init__(
        self,
        max_discharge_a: list[float],
        max_charge_a: list[float],
        capacity_kwh: list[float],
        soc: list[float],
        export_windows: list[tuple[tuple[float, float], ...]],
        voltage_v: float,
    ) -> None:
        self.max_discharge_a = np.asarray(max_discharge_a, dtype=np.float64)
        self.max_charge_a = np.asarray(max_charge_a, dtype=np.float64)
        self.capacity_kwh = np.asarray(capacity_kwh, dtype=np.float64)
        self.soc = np.asarray(soc, dtype=np.float64)
        self.export_windows = export_windows
        self.voltage_v = voltage_v
        self.current_a = np.zeros(len(max_discharge_a))
        # What each would discharge uncapped in the last step (the least-curtailment metric).
        self.wanted_a = np.zeros(len(max_discharge_a))
        # The most its current moves in one step (None: at once; sim/devices.py).
        self.rate_a: FloatArray | None = None

    def exporting(self, t_s: float) -> BoolArray:
        """Batteries inside one of their export windows at `t_s`."""
        return np.array(
            [any(a <= t_s < b for a, b in windows) for windows in self.export_windows], dtype=bool
        )

    def step(
        self,
        site_import_a: float,
        cap_discharge_a: FloatArray,
        charge_request_a: FloatArray,
        energized: BoolArray,
        t_s: float,
        dt_s: float,
    ) -> FloatArray:
        """Advance `dt_s`: `site_import_a` is the root current these batteries would offset."""
        n = len(self.soc)
        if n == 0:
            return self.current_a
        share = site_import_a / n
        wanted = np.where(self.exporting(t_s), self.max_discharge_a, share)
        discharge = np.clip(wanted, 0.0, np.minimum(self.max_discharge_a, cap_discharge_a))
        charge = np.clip(-wanted, 0.0, self.max_charge_a)
        requested = np.minimum(charge_request_a, self.max_charge_a)
        charge = np.where(requested > 0, np.maximum(charge, requested), charge)
        discharge = np.where(requested > 0, 0.0, discharge)
        # Energy that is there (discharge) or room that is left (charge), this step.
        amp_s_per_kwh = JOULES_PER_KWH / self.voltage_v
        stored_a = self.soc * self.capacity_kwh * amp_s_per_kwh / dt_s
        room_a = (1.0 - self.soc) * self.capacity_kwh * amp_s_per_kwh / dt_s
        current = discharge - charge
        if self.rate_a is not None:  # a real battery ramps toward its setpoint
            current = self.current_a + np.clip(current - self.current_a, -self.rate_a, self.rate_a)
        current = np.clip(current, -room_a, stored_a)
        self.wanted_a = np.where(
            energized, np.minimum(np.clip(wanted, 0.0, self.max_discharge_a), stored_a), 0.0
        )
        current = np.where(energized, current, 0.0)
        self.soc = np.clip(self.soc - current * dt_s / (self.capacity_kwh * amp_s_per_kwh), 0, 1)
        self.current_a = current
        return current
