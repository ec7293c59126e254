"""Each charger's session energy: its measured current x the site's `voltage_v`, summed over
the cycles since its car was plugged in.

A runtime listener (on the control thread: a few multiplications per charger per cycle, no
wait). The figure is an estimate from panelpilot's own readings, not the charger's energy
register: the current of a cycle is counted until the next cycle's reading, and a charger
that is offline counts nothing (and ends no session). A session starts when an online charger
reports a car connected, and its total stays until the next car is.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType

from panelpilot.service.runtime import CycleResult

WH_PER_KWH = 1000.0
S_PER_H = 3600.0


class SessionEnergy:
    """Session energy (kWh) by charger; `__call__` is the runtime listener."""

    def __init__(self, voltage_v: float, max_gap_s: float) -> None:
        self.voltage_v = voltage_v
        # A gap between cycles longer than this (a stalled loop) is not counted at the last
        # current: the reading says nothing about what happened in between.
        self.max_gap_s = max_gap_s
        self._kwh: dict[str, float] = {}
        self._was_connected: dict[str, bool] = {}
        self._last: dict[str, tuple[float, float]] = {}  # charger: (t, current_a)
        self._lock = threading.Lock()
        self._published: Mapping[str, float] = MappingProxyType({})

    def __call__(self, result: CycleResult) -> None:
        """Count one cycle."""
        t = result.snapshot.t
        for cid, reading in result.snapshot.chargers.items():
            if not reading.online:  # counts nothing; a blip of contact ends no session
                self._last.pop(cid, None)
                continue
            if reading.connected and not self._was_connected.get(cid, False):
                self._kwh[cid] = 0.0  # a car plugged in: a new session
                self._last.pop(cid, None)
            self._was_connected[cid] = reading.connected
            previous = self._last.get(cid)
            if previous is not None and 0.0 < t - previous[0] <= self.max_gap_s:
                wh = previous[1] * self.voltage_v * (t - previous[0]) / S_PER_H
                self._kwh[cid] = self._kwh.get(cid, 0.0) + wh / WH_PER_KWH
            if reading.connected:
                self._last[cid] = (t, max(0.0, reading.current_a))
            else:
                self._last.pop(cid, None)
        published = MappingProxyType(dict(self._kwh))
        with self._lock:
            self._published = published

    def kwh(self) -> Mapping[str, float]:
        """Each charger's session energy as of the last cycle (thread-safe, read-only)."""
        with self._lock:
            return self._published
