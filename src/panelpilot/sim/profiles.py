"""Everything the scenario fixes in advance, drawn once from `seed`: cars, loads, sunshine.

Each kind of randomness has its own stream (`default_rng([seed, stream, index])`), so adding a
load does not change the cars, and every controller sees exactly the same world.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.ev import Car
from panelpilot.sim.scenario import EvArrivals, Load, Scenario, SolarProfile

FloatArray = NDArray[np.float64]

STREAM_ARRIVALS = 1
STREAM_LOADS = 2
STREAM_CLOUDS = 3
# Household load wanders slowly: a new random level every 5 minutes, linearly in between.
LOAD_KNOT_S = 300.0
# Clouds pass in a couple of minutes: a new cloud cover every 2 minutes, linear in between.
CLOUD_KNOT_S = 120.0
# A thick cloud lets through about a quarter of clear-sky irradiance (modelling choice).
CLOUD_MAX_DIMMING = 0.75


def step_times(scenario: Scenario) -> FloatArray:
    """The start time of every step of the run."""
    n = round(scenario.duration_s / scenario.step_s)
    return np.arange(n, dtype=np.float64) * scenario.step_s


def _knots(rng: np.random.Generator, times: FloatArray, knot_s: float) -> FloatArray:
    """Standard normal values at every `knot_s`, interpolated onto `times`."""
    end = float(times[-1]) if len(times) else 0.0
    knot_t = np.arange(0.0, end + 2 * knot_s, knot_s)
    return np.interp(times, knot_t, rng.standard_normal(len(knot_t)))


def load_profile(load: Load, times: FloatArray, rng: np.random.Generator) -> FloatArray:
    """One load's current at every step: base + slow noise + events, never below 0."""
    current = np.full(len(times), load.base_a)
    if load.noise_a > 0:
        current += load.noise_a * _knots(rng, times, LOAD_KNOT_S)
    for ev in load.events:
        end_s = ev.start_s + ev.duration_s
        if ev.ramp_s > 0:
            rise = np.clip((times - ev.start_s) / ev.ramp_s, 0.0, 1.0)
            fall = np.clip((end_s - times) / ev.ramp_s, 0.0, 1.0)
            current += ev.current_a * np.minimum(rise, fall)
        else:
            current += np.where((times >= ev.start_s) & (times < end_s), ev.current_a, 0.0)
    out: FloatArray = np.maximum(current, 0.0)
    return out


def load_profiles(scenario: Scenario, times: FloatArray) -> FloatArray:
    """Every load of the scenario, shape (loads, steps)."""
    rows = [
        load_profile(load, times, np.random.default_rng([scenario.seed, STREAM_LOADS, i]))
        for i, load in enumerate(scenario.loads)
    ]
    return np.array(rows).reshape(len(rows), len(times))


def solar_profile(
    profile: SolarProfile, max_a: float, times: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Available solar current at every step: a half sine over the day, dimmed by clouds."""
    day = profile.sunset_s - profile.sunrise_s
    phase = np.clip((times % 86400.0 - profile.sunrise_s) / day, 0.0, 1.0)
    clear = profile.peak_a * np.sin(np.pi * phase)
    if profile.clouds > 0:
        cover = np.clip(0.5 + 0.5 * _knots(rng, times, CLOUD_KNOT_S), 0.0, 1.0)
        clear = clear * (1.0 - CLOUD_MAX_DIMMING * profile.clouds * cover)
    return np.minimum(np.maximum(clear, 0.0), max_a)


def random_cars(
    arrivals: EvArrivals,
    chargers: list[int],
    duration_s: float,
    rng: np.random.Generator,
) -> list[Car]:
    """A Poisson stream of cars per charger; each stays its dwell, the next comes after."""
    rate_per_s = arrivals.per_charger_per_day / 86400.0
    if rate_per_s <= 0:
        return []
    start_s, end_s = arrivals.window_s or (0.0, duration_s)
    cars = []
    for slot in chargers:
        t = start_s + rng.exponential(1.0 / rate_per_s)
        while t < min(end_s, duration_s):
            dwell = rng.uniform(*arrivals.dwell_s)
            cars.append(
                Car(
                    charger=slot,
                    arrive_s=float(t),
                    depart_s=float(min(t + dwell, duration_s)),
                    energy_kwh=float(rng.uniform(*arrivals.energy_kwh)),
                    max_a=float(rng.choice(np.asarray(arrivals.max_a))),
                    response_s=float(rng.uniform(*arrivals.response_s)),
                )
            )
            t += dwell + rng.exponential(1.0 / rate_per_s)
    return cars


def scenario_cars(scenario: Scenario, charger_index: dict[str, int]) -> list[Car]:
    """Explicit cars, plus random ones on chargers that have no explicit car."""
    cars = [
        Car(
            charger=charger_index[ev.charger],
            arrive_s=ev.arrive_s,
            depart_s=ev.depart_s if ev.depart_s is not None else scenario.duration_s,
            energy_kwh=ev.energy_kwh,
            max_a=ev.max_a,
            response_s=ev.response_s,
        )
        for ev in scenario.evs
    ]
    arrivals = scenario.ev_arrivals
    if arrivals is not None:
        explicit = {ev.charger for ev in scenario.evs}
        names = arrivals.chargers if arrivals.chargers is not None else tuple(charger_index)
        slots = [charger_index[c] for c in names if c not in explicit]
        rng = np.random.default_rng([scenario.seed, STREAM_ARRIVALS])
        cars += random_cars(arrivals, slots, scenario.duration_s, rng)
    return cars


def solar_profiles(
    scenario: Scenario, solar_ids: list[str], max_a: list[float], times: FloatArray
) -> FloatArray:
    """Available current of every site inverter, shape (inverters, steps); 0 without profile."""
    rows = []
    for i, (sid, cap) in enumerate(zip(solar_ids, max_a, strict=True)):
        profile = scenario.solar.get(sid)
        if profile is None:
            rows.append(np.zeros(len(times)))
        else:
            rng = np.random.default_rng([scenario.seed, STREAM_CLOUDS, i])
            rows.append(solar_profile(profile, cap, times, rng))
    return np.array(rows).reshape(len(rows), len(times))
