"""Electric vehicles on chargers, one slot per charger, stepped together with NumPy.

A car draws toward `min(pilot, what it accepts)` and reaches it within its `response_s`,
ramping (SAE J1772: an EV follows a pilot change within 5 s); a pilot below 6 A means stop
(J1772 cannot signal less). What it accepts is its on-board charger limit, tapering over the
last TAPER_KWH of the energy it wants (constant current then constant voltage, simplified).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# J1772: the lowest pilot a car may draw on; below it the car stops.
J1772_MIN_PILOT_A = 6.0
# Modelling choice: the taper covers the last 3 kWh of the energy a car wants, and the car
# keeps accepting at least 10 % of its on-board limit until it is done (no endless tail).
TAPER_KWH = 3.0
TAPER_FLOOR = 0.1
JOULES_PER_KWH = 3.6e6


@dataclass(frozen=True)
class Car:
    """One car of a run (explicit or drawn at random): where, when, how much, how fast."""

    charger: int
    arrive_s: float
    depart_s: float
    energy_kwh: float
    max_a: float
    response_s: float


class Fleet:
    """The cars of a run on their chargers: arrivals, departures, ramping, energy."""

    def __init__(self, cars: list[Car], n_chargers: int, voltage_v: float) -> None:
        self.cars = cars
        self.voltage_v = voltage_v
        self.wanted_kwh = np.array([c.energy_kwh for c in cars], dtype=np.float64)
        # Energy of cars that have left; a plugged car's is wanted minus what it still wants.
        self._left_kwh = np.zeros(len(cars))
        self.car_of = np.full(n_chargers, -1, dtype=np.int64)
        self.draw_a = np.zeros(n_chargers)
        self.obc_a = np.zeros(n_chargers)
        self.ramp_a_per_s = np.ones(n_chargers)
        self.remaining_kwh = np.zeros(n_chargers)
        events = [(c.arrive_s, 1, i) for i, c in enumerate(cars)]
        events += [(c.depart_s, 0, i) for i, c in enumerate(cars)]
        # Departures before arrivals at the same instant, so a slot frees before it refills.
        self._events = sorted(events)
        self._next = 0

    def advance_to(self, t_s: float) -> bool:
        """Plug in and unplug every car whose time has come; True when anything changed."""
        changed = False
        while self._next < len(self._events) and self._events[self._next][0] <= t_s:
            _, arriving, i = self._events[self._next]
            self._next += 1
            car = self.cars[i]
            slot = car.charger
            if arriving:
                self.car_of[slot] = i
                self.draw_a[slot] = 0.0
                self.obc_a[slot] = car.max_a
                self.ramp_a_per_s[slot] = car.max_a / car.response_s
                self.remaining_kwh[slot] = car.energy_kwh
            elif self.car_of[slot] == i:
                self._unplug(slot)
            changed = True
        return changed

    def _unplug(self, slot: int) -> None:
        car = int(self.car_of[slot])
        self._left_kwh[car] = self.wanted_kwh[car] - self.remaining_kwh[slot]
        self.car_of[slot] = -1
        self.draw_a[slot] = 0.0
        self.obc_a[slot] = 0.0
        self.remaining_kwh[slot] = 0.0

    @property
    def connected(self) -> BoolArray:
        """Slots with a car plugged in."""
        return self.car_of >= 0

    def accept_a(self) -> FloatArray:
        """What each car would draw on an unlimited pilot (0 for an empty slot or a full car)."""
        taper = np.minimum(np.maximum(self.remaining_kwh * (1.0 / TAPER_KWH), TAPER_FLOOR), 1.0)
        return np.where(self.remaining_kwh > 0.0, self.obc_a * taper, 0.0)

    def step(
        self, pilot_a: FloatArray, accept_a: FloatArray, energized: BoolArray, dt_s: float
    ) -> FloatArray:
        """Advance `dt_s` under these pilots; a de-energised charger's car stops at once.

        `accept_a` is `accept_a()` at the start of the step (passed in: the caller needs it too).
        """
        target = np.where(pilot_a >= J1772_MIN_PILOT_A, np.minimum(pilot_a, accept_a), 0.0)
        reach = self.ramp_a_per_s * dt_s
        draw = self.draw_a + np.minimum(np.maximum(target - self.draw_a, -reach), reach)
        draw = np.where(energized, draw, 0.0)
        energy = np.minimum(draw * (self.voltage_v * dt_s / JOULES_PER_KWH), self.remaining_kwh)
        self.remaining_kwh -= energy
        # A car that has all it wanted ends its session itself, at once.
        draw = np.where(self.remaining_kwh > 0.0, draw, 0.0)
        self.draw_a = draw
        return draw

    def next_event_t(self) -> float:
        """When the next car arrives or leaves (inf when none will)."""
        return self._events[self._next][0] if self._next < len(self._events) else np.inf

    def steady_steps(self, pilot_a: FloatArray, energized: BoolArray, dt_s: float) -> int:
        """How many steps from now every car keeps drawing exactly what it draws now.

        0 unless every car already draws its target under `pilot_a` (no ramp under way);
        then until the first car would start to taper below its pilot or finish, less one
        step, so the last of those steps is still certain. Arrivals and departures are the
        caller's to check (`next_event_t`).
        """
        accept = self.accept_a()
        target = np.where(pilot_a >= J1772_MIN_PILOT_A, np.minimum(pilot_a, accept), 0.0)
        target = np.where(energized, target, 0.0)
        if not np.array_equal(target, self.draw_a):
            return 0
        drawing = self.draw_a > 0.0
        if not drawing.any():
            return np.iinfo(np.int64).max
        draw = self.draw_a[drawing]
        obc = self.obc_a[drawing]
        remaining = self.remaining_kwh[drawing]
        on_pilot = draw == pilot_a[drawing]
        if not np.all(on_pilot | (draw == obc)):
            return 0  # a car drawing less than its pilot and its on-board limit: tapering
        # The energy left below which a car would accept less than it draws now.
        floor_kwh = np.where(draw > TAPER_FLOOR * obc, TAPER_KWH * draw / obc, 0.0)
        per_step = draw * (self.voltage_v * dt_s / JOULES_PER_KWH)
        floor_kwh = np.maximum(floor_kwh, 2.0 * per_step)
        steps = np.floor((remaining - floor_kwh) / per_step) - 1.0
        return max(0, int(steps.min()))

    def accept_block_a(self, steps: int, dt_s: float) -> FloatArray:
        """`accept_a()` at the start of each of the next `steps` steady steps (chargers x steps)."""
        per_step = self.draw_a * (self.voltage_v * dt_s / JOULES_PER_KWH)
        remaining = self.remaining_kwh[:, None] - per_step[:, None] * np.arange(steps)
        taper = np.minimum(np.maximum(remaining * (1.0 / TAPER_KWH), TAPER_FLOOR), 1.0)
        return np.where(remaining > 0.0, self.obc_a[:, None] * taper, 0.0)

    def coast(self, steps: int, dt_s: float) -> None:
        """Advance `steps` steps in which every car draws what it draws now (`steady_steps`)."""
        per_step = self.draw_a * (self.voltage_v * dt_s / JOULES_PER_KWH)
        self.remaining_kwh -= per_step * steps

    def delivered_kwh(self) -> FloatArray:
        """Energy each car has received so far."""
        out = self._left_kwh.copy()
        plugged = self.car_of >= 0
        cars = self.car_of[plugged]
        out[cars] = self.wanted_kwh[cars] - self.remaining_kwh[plugged]
        return out

    def unmet_kwh(self) -> FloatArray:
        """Energy each car wanted and did not get (so far)."""
        return np.maximum(self.wanted_kwh - self.delivered_kwh(), 0.0)
