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

from panelpilot.field import J1772_MIN_A

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# J1772: the lowest pilot a car may draw on; below it the car stops.
# Modelling choice: the taper covers the last 3 kWh of the energy a car wants, and the car
# keeps accepting at least 10 % of its on-board limit until it is done (no endless tail).
TAPER_KWH = 3.0
TAPER_FLOOR = 0.1
JOULES_PER_KWH = 3.6e6


# Up to this many changing cars are followed in plain floats; more, with NumPy step by step.
SCALAR_CARS = 6


@dataclass(frozen=True)
class Trajectory:
    """The steps ahead under fixed pilots (`Fleet.trajectory`): every car's draw now, and
    for the cars whose draw changes, each step's draw, acceptance and energy left."""

    draw_a: FloatArray  # every car's draw before the first step (the steady ones keep it)
    moving: IntArray  # the cars whose draw changes
    draws_a: FloatArray  # (moving, steps): draw after each step
    accepts_a: FloatArray  # (moving, steps): accept_a() at the start of each step
    remaining_kwh: FloatArray  # (moving, steps): energy still wanted after each step

    def all_draws_a(self, steps: int) -> FloatArray:
        """Every car's draw after each of the first `steps` steps (chargers x steps)."""
        out = np.repeat(self.draw_a[:, None], steps, axis=1)
        if len(self.moving):
            out[self.moving] = self.draws_a[:, :steps]
        return out


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
        target = np.where(pilot_a >= J1772_MIN_A, np.minimum(pilot_a, accept_a), 0.0)
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

    def trajectory(
        self, pilot_a: FloatArray, energized: BoolArray, steps: int, dt_s: float
    ) -> Trajectory:
        """The next `steps` steps under these pilots, as `step` would take them one by one.

        A car that draws its target and keeps drawing it through all of them (no ramp under
        way, no taper reaching below its draw) is steady: its draw is one value. Every other
        car (ramping, tapering, finishing) is followed step by step with `step`'s own
        arithmetic, so its draws and remaining energy are exactly those of single steps.
        """
        accept = self.accept_a()
        target = np.where(pilot_a >= J1772_MIN_A, np.minimum(pilot_a, accept), 0.0)
        target = np.where(energized, target, 0.0)
        moving = np.flatnonzero(self._steady_horizon(pilot_a, target, dt_s) < steps)
        draws = np.empty((len(moving), steps))
        accepts = np.empty((len(moving), steps))
        remaining = np.empty((len(moving), steps))
        if len(moving) <= SCALAR_CARS:
            for row, i in enumerate(moving.tolist()):
                self._follow_one(
                    i, float(pilot_a[i]), bool(energized[i]), dt_s, (draws, accepts, remaining), row
                )
        else:
            self._follow_many(moving, pilot_a, energized, dt_s, (draws, accepts, remaining))
        return Trajectory(self.draw_a.copy(), moving, draws, accepts, remaining)

    def _steady_horizon(self, pilot_a: FloatArray, target: FloatArray, dt_s: float) -> FloatArray:
        """Per car, how many steps from now it certainly keeps drawing exactly what it draws
        (0 when its draw is not its target; inf when it draws nothing and will not start).

        A car on its pilot or its on-board limit stays there until the taper would take it
        below its draw; the step before that, less one, is still certain.
        """
        draw = self.draw_a
        horizon = np.where(draw == target, np.inf, 0.0)
        drawing = (draw > 0.0) & (draw == target)
        if not drawing.any():
            return horizon
        d = draw[drawing]
        obc = self.obc_a[drawing]
        on_limit = (d == pilot_a[drawing]) | (d == obc)
        # The energy left below which a car would accept less than it draws now.
        floor_kwh = np.where(d > TAPER_FLOOR * obc, TAPER_KWH * d / obc, 0.0)
        per_step = d * (self.voltage_v * dt_s / JOULES_PER_KWH)
        floor_kwh = np.maximum(floor_kwh, 2.0 * per_step)
        steps = np.floor((self.remaining_kwh[drawing] - floor_kwh) / per_step) - 1.0
        horizon[drawing] = np.where(on_limit, np.maximum(steps, 0.0), 0.0)
        return horizon

    def _follow_one(
        self,
        i: int,
        pilot: float,
        energized: bool,
        dt_s: float,
        out: tuple[FloatArray, FloatArray, FloatArray],
        row: int,
    ) -> None:
        """Car `i` through `out`'s steps in plain floats: `accept_a` then `step`, exactly."""
        draws, accepts, remaining = out
        rem, draw = float(self.remaining_kwh[i]), float(self.draw_a[i])
        obc, reach = float(self.obc_a[i]), float(self.ramp_a_per_s[i]) * dt_s
        per_a = self.voltage_v * dt_s / JOULES_PER_KWH
        inv, floor, j1772 = 1.0 / TAPER_KWH, TAPER_FLOOR, J1772_MIN_A
        d_row, a_row, r_row = [], [], []
        for _ in range(draws.shape[1]):
            if rem > 0.0:
                taper = rem * inv
                taper = taper if taper > floor else floor
                accept = obc * (taper if taper < 1.0 else 1.0)
            else:
                accept = 0.0
            target = (pilot if pilot < accept else accept) if pilot >= j1772 else 0.0
            delta = target - draw
            delta = delta if delta > -reach else -reach
            draw = draw + (delta if delta < reach else reach)
            if not energized:
                draw = 0.0
            energy = draw * per_a
            rem -= energy if energy < rem else rem
            if not rem > 0.0:
                draw = 0.0
            d_row.append(draw)
            a_row.append(accept)
            r_row.append(rem)
        draws[row] = d_row
        accepts[row] = a_row
        remaining[row] = r_row

    def _follow_many(
        self,
        moving: IntArray,
        pilot_a: FloatArray,
        energized: BoolArray,
        dt_s: float,
        out: tuple[FloatArray, FloatArray, FloatArray],
    ) -> None:
        """The cars `moving` through `out`'s steps together: `accept_a` then `step`, exactly."""
        draws, accepts, remaining = out
        rem, draw = self.remaining_kwh[moving].copy(), self.draw_a[moving].copy()
        obc, reach = self.obc_a[moving], self.ramp_a_per_s[moving] * dt_s
        pilot, on = pilot_a[moving], energized[moving]
        per_a = self.voltage_v * dt_s / JOULES_PER_KWH
        for j in range(draws.shape[1]):
            taper = np.minimum(np.maximum(rem * (1.0 / TAPER_KWH), TAPER_FLOOR), 1.0)
            accept = np.where(rem > 0.0, obc * taper, 0.0)
            target = np.where(pilot >= J1772_MIN_A, np.minimum(pilot, accept), 0.0)
            draw = draw + np.minimum(np.maximum(target - draw, -reach), reach)
            draw = np.where(on, draw, 0.0)
            rem = rem - np.minimum(draw * per_a, rem)
            draw = np.where(rem > 0.0, draw, 0.0)
            draws[:, j] = draw
            accepts[:, j] = accept
            remaining[:, j] = rem

    def follow(self, path: Trajectory, steps: int, dt_s: float) -> None:
        """Take the first `steps` steps of `path` (from `trajectory`, nothing stepped since)."""
        per_step = self.draw_a * (self.voltage_v * dt_s / JOULES_PER_KWH)
        self.remaining_kwh -= per_step * steps
        moving = path.moving
        if len(moving):
            self.remaining_kwh[moving] = path.remaining_kwh[:, steps - 1]
            self.draw_a = self.draw_a.copy()
            self.draw_a[moving] = path.draws_a[:, steps - 1]

    def accept_path_a(self, path: Trajectory, steps: int, dt_s: float) -> FloatArray:
        """`accept_a()` at the start of each of the first `steps` steps of `path`
        (chargers x steps)."""
        per_step = self.draw_a * (self.voltage_v * dt_s / JOULES_PER_KWH)
        remaining = self.remaining_kwh[:, None] - per_step[:, None] * np.arange(steps)
        taper = np.minimum(np.maximum(remaining * (1.0 / TAPER_KWH), TAPER_FLOOR), 1.0)
        out: FloatArray = np.where(remaining > 0.0, self.obc_a[:, None] * taper, 0.0)
        if len(path.moving):
            out[path.moving] = path.accepts_a[:, :steps]
        return out

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
