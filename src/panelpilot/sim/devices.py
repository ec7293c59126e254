"""Real PCS devices: meters, batteries and inverters that answer late, slowly and noisily.

A scenario gives each meter, battery and inverter (`Device` in the scenario) up to four
departures from an ideal device:

* `latency_s`: what it reports is what it measured that long ago (SunSpec and meter reads lag,
  and each device is read at its own instant, so two devices' latencies differ: sample skew);
* `response_s`: a new cap is acted on that long after it is sent;
* `ramp_s`: its output moves from 0 to its rating in that time at the fastest, toward what it
  would give (its cap, the sun, the load it covers), up or down;
* `noise_a`: the standard deviation of what is added to each reading (its own random stream).

Times are rounded to whole steps: a scenario that wants 0.2 s sets `step_s` to 0.2. A site
whose devices are all ideal gets no `Dynamics` at all, and steps exactly as before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.scenario import Device
from panelpilot.sim.world import World

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

STREAM_NOISE = 4  # profiles.py's streams are 1-3


def _steps(seconds: Sequence[float], step_s: float) -> IntArray:
    return np.array([round(s / step_s) for s in seconds], dtype=np.int64)


class Lagged:
    """Values with a per-row latency: `read` gives row i as it was `lag[i]` pushes ago."""

    def __init__(self, lag_steps: IntArray, initial: FloatArray) -> None:
        self.lag = lag_steps
        depth = int(lag_steps.max()) + 1 if len(lag_steps) else 1
        self.history: deque[FloatArray] = deque([initial.copy()] * depth, maxlen=depth)
        self.rows = np.arange(len(lag_steps))

    def push(self, values: FloatArray) -> None:
        self.history.append(values.copy())

    def read(self) -> FloatArray:
        if not len(self.rows):
            return self.history[-1].copy()
        stacked = np.stack(list(self.history))  # (depth, rows), oldest first
        return stacked[len(self.history) - 1 - self.lag, self.rows]


class Dynamics:
    """Every PCS device's latency, noise, response delay and ramp on one site."""

    def __init__(
        self,
        meters: Sequence[Device],
        batteries: Sequence[Device],
        solar: Sequence[Device],
        battery_rating_a: FloatArray,
        solar_rating_a: FloatArray,
        step_s: float,
        seed: int,
    ) -> None:
        self.step_s = step_s
        self.rng = np.random.default_rng([seed, STREAM_NOISE])
        self.meter_noise = np.array([d.noise_a for d in meters])
        self.battery_noise = np.array([d.noise_a for d in batteries])
        self.solar_noise = np.array([d.noise_a for d in solar])
        self.meters = Lagged(_steps([d.latency_s for d in meters], step_s), np.zeros(len(meters)))
        self.battery = Lagged(
            _steps([d.latency_s for d in batteries], step_s), np.zeros(len(batteries))
        )
        self.solar = Lagged(_steps([d.latency_s for d in solar], step_s), np.zeros(len(solar)))
        # Caps sent, acted on `response_s` later: (discharge, charge request) and solar.
        self.discharge = Lagged(
            _steps([d.response_s for d in batteries], step_s), np.full(len(batteries), np.inf)
        )
        self.request = Lagged(
            _steps([d.response_s for d in batteries], step_s), np.zeros(len(batteries))
        )
        self.solar_cap = Lagged(
            _steps([d.response_s for d in solar], step_s), np.full(len(solar), np.inf)
        )
        self.battery_rate = _rate(battery_rating_a, [d.ramp_s for d in batteries], step_s)
        self.solar_rate = _rate(solar_rating_a, [d.ramp_s for d in solar], step_s)

    def sent(self, discharge: FloatArray, request: FloatArray, solar: FloatArray) -> None:
        """The caps held as this step begins (what the controller last sent)."""
        self.discharge.push(discharge)
        self.request.push(request)
        self.solar_cap.push(solar)

    def acting(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The caps the devices act on in this step: discharge, charge request, solar."""
        return self.discharge.read(), self.request.read(), self.solar_cap.read()

    def measured(self, meters: FloatArray, battery: FloatArray, solar: FloatArray) -> None:
        """What flowed in the step just taken: each meter's circuit, batteries, inverters."""
        self.meters.push(meters)
        self.battery.push(battery)
        self.solar.push(solar)

    def reported(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """What the devices report now: late by their latency, with their noise."""
        return (
            self._noisy(self.meters.read(), self.meter_noise),
            self._noisy(self.battery.read(), self.battery_noise),
            np.maximum(0.0, self._noisy(self.solar.read(), self.solar_noise)),
        )

    def _noisy(self, values: FloatArray, sigma: FloatArray) -> FloatArray:
        if not len(values) or not sigma.any():
            return values
        out: FloatArray = values + self.rng.standard_normal(len(values)) * sigma
        return out


def _rate(rating_a: FloatArray, ramp_s: Sequence[float], step_s: float) -> FloatArray:
    """The most each device's output moves in one step (inf: at once)."""
    ramp = np.asarray(ramp_s, dtype=np.float64)
    return np.where(ramp > 0, rating_a * step_s / np.where(ramp > 0, ramp, 1.0), np.inf)


def ramped(before: FloatArray, wanted: FloatArray, rate: FloatArray) -> FloatArray:
    """Output after one step toward `wanted`, moving at most `rate`."""
    out: FloatArray = before + np.clip(wanted - before, -rate, rate)
    return out


def dynamics_of(world: World) -> Dynamics | None:
    """The site's device dynamics as its scenario gives them, or None when all are ideal."""
    site, scenario, topo = world.loaded.site, world.loaded.scenario, world.topo
    ideal = Device()

    def device(d: Device | None) -> Device:
        return Device.model_validate(d.model_dump(include=set(Device.model_fields))) if d else ideal

    meters = [scenario.meters.get(m) or ideal for m in topo.meter_circuit]
    batteries = [device(scenario.batteries.get(b.id)) for b in site.batteries]
    solar = [device(scenario.solar.get(s.id)) for s in site.solar]
    if all(d == ideal for d in (*meters, *batteries, *solar)):
        return None
    return Dynamics(
        meters,
        batteries,
        solar,
        np.array([b.max_discharge_a for b in site.batteries]),
        np.array([s.max_a for s in site.solar]),
        scenario.step_s,
        scenario.seed,
    )
