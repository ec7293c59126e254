"""Scheduled faults as time windows: a device out of contact, the controller down, a meter lost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.scenario import Fault
from panelpilot.sim.topology import Topology

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

Window = tuple[float, float]


@dataclass(frozen=True)
class Reach:
    """Which devices the controller can talk to now."""

    chargers: BoolArray
    batteries: BoolArray
    solar: BoolArray


@dataclass(frozen=True)
class FaultSchedule:
    """The faults of a scenario, indexed for the step loop."""

    controller_down: tuple[Window, ...]
    chargers: tuple[tuple[int, Window], ...]
    batteries: tuple[tuple[int, Window], ...]
    solar: tuple[tuple[int, Window], ...]
    meters_lost: tuple[tuple[str, Window], ...]
    meter_circuit: dict[str, int]
    n_chargers: int
    n_batteries: int
    n_solar: int

    @classmethod
    def of(cls, faults: tuple[Fault, ...], topo: Topology) -> FaultSchedule:
        """Index scenario faults against a site's topology."""
        index = {
            "chargers": {d: i for i, d in enumerate(topo.charger_ids)},
            "batteries": {d: i for i, d in enumerate(topo.battery_ids)},
            "solar": {d: i for i, d in enumerate(topo.solar_ids)},
        }
        devices: dict[str, list[tuple[int, Window]]] = {k: [] for k in index}
        down: list[Window] = []
        meters: list[tuple[str, Window]] = []
        for f in faults:
            if f.controller_down_s is not None:
                down.append((f.at_s, f.at_s + f.controller_down_s))
            elif f.meter is not None and f.lost_s is not None:
                meters.append((f.meter, (f.at_s, f.at_s + f.lost_s)))
            elif f.device is not None and f.offline_s is not None:
                for kind, ids in index.items():
                    if f.device in ids:
                        devices[kind].append((ids[f.device], (f.at_s, f.at_s + f.offline_s)))
        return cls(
            controller_down=tuple(down),
            chargers=tuple(devices["chargers"]),
            batteries=tuple(devices["batteries"]),
            solar=tuple(devices["solar"]),
            meters_lost=tuple(meters),
            meter_circuit=topo.meter_circuit,
            n_chargers=len(topo.charger_ids),
            n_batteries=len(topo.battery_ids),
            n_solar=len(topo.solar_ids),
        )

    def quiet_until(self, t_s: float) -> float:
        """When no fault is active at `t_s`: the start of the next one (inf if none); else
        `t_s` itself (a fault is under way now)."""
        windows = [
            *self.controller_down,
            *(w for _, w in self.chargers),
            *(w for _, w in self.batteries),
            *(w for _, w in self.solar),
            *(w for _, w in self.meters_lost),
        ]
        if any(a <= t_s < b for a, b in windows):
            return t_s
        return min((a for a, _ in windows if a > t_s), default=np.inf)

    def controller_up(self, t_s: float) -> bool:
        """False while a `controller_down_s` fault lasts."""
        return not any(a <= t_s < b for a, b in self.controller_down)

    @staticmethod
    def _mask(n: int, windows: tuple[tuple[int, Window], ...], t_s: float) -> BoolArray:
        mask = np.ones(n, dtype=bool)
        for i, (a, b) in windows:
            if a <= t_s < b:
                mask[i] = False
        return mask

    def reachable(self, t_s: float) -> Reach | None:
        """Devices not cut off by a fault at `t_s`; None when no device fault is scheduled."""
        if not (self.chargers or self.batteries or self.solar):
            return None
        return Reach(
            chargers=self._mask(self.n_chargers, self.chargers, t_s),
            batteries=self._mask(self.n_batteries, self.batteries, t_s),
            solar=self._mask(self.n_solar, self.solar, t_s),
        )

    def meters(self, t_s: float, circuit_a: FloatArray) -> dict[str, float | None]:
        """Each meter's reading: its circuit's current, or None while it is lost."""
        lost = {m for m, (a, b) in self.meters_lost if a <= t_s < b}
        values = circuit_a.tolist()
        return {
            meter: None if meter in lost else values[c] for meter, c in self.meter_circuit.items()
        }
