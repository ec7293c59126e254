"""Seeded, reproducible event sets: who arrives at which EVSE, when, wanting how much.

Pure numpy: the same `(spec, seed)` always gives the same sessions, and every algorithm is run
on the same ones. Times are in simulator periods (minutes by default) from midnight of day 0.
Each car's battery is as ACN-Sim's own event generator makes it by default: empty on arrival,
with the capacity of its request, so a car stops drawing exactly when it has what it asked for
(ACN's analysis counts delivered against requested) and a two-stage battery tapers over the
last 20 % of its request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# On-board chargers (kW): 27.5 A, 30 A and 32 A at 240 V.
MAX_POWERS_KW = (6.6, 7.2, 7.68)
# J1772 pilots an ACN FiniteRatesEVSE accepts here: 0, then 6..32 A in 1 A steps.
MIN_PILOT_A = 6
MAX_PILOT_A = 32


@dataclass(frozen=True, slots=True)
class Session:
    """One car's stay: plugged in at `arrival`, gone at `departure` (periods, exclusive)."""

    session_id: str
    station_id: str
    arrival: int
    departure: int
    energy_kwh: float  # requested (and exactly what fills its battery)
    max_power_kw: float  # its on-board charger
    capacity_kwh: float  # ACN's default: the request (the battery arrives empty)

    @property
    def init_kwh(self) -> float:
        """The battery's charge on arrival."""
        return self.capacity_kwh - self.energy_kwh


@dataclass(frozen=True, slots=True)
class Spec:
    """How a scenario's sessions are drawn."""

    name: str
    evses: int
    limit_a: float
    days: int
    sessions_per_day: int
    arrival_mean_h: float  # arrivals ~ normal(mean, sd), clipped to [lo, hi]
    arrival_sd_h: float
    arrival_clip_h: tuple[float, float]
    stay_h: tuple[float, float]  # uniform
    energy_kwh: tuple[float, float]  # uniform


@dataclass(frozen=True, slots=True)
class EventSet:
    """A scenario's infrastructure and sessions: what every algorithm is run on."""

    name: str
    stations: tuple[str, ...]
    limit_a: float
    voltage_v: float
    period_min: float
    max_pilot_a: float
    sessions: tuple[Session, ...]
    dropped: int  # drawn arrivals that found every EVSE taken (they drove on)

    def energy_per_amp_period_kwh(self) -> float:
        """kWh delivered by 1 A for one period."""
        return self.voltage_v * self.period_min / 60.0 / 1000.0

    def horizon(self) -> int:
        """Periods until the last departure."""
        return max((s.departure for s in self.sessions), default=0)


SPECS: dict[str, Spec] = {
    "workplace": Spec(
        "workplace", 30, 240.0, 1, 45, 9.0, 1.5, (6.0, 14.0), (4.0, 10.0), (5.0, 40.0)
    ),
    "garage": Spec("garage", 10, 60.0, 3, 10, 18.5, 1.5, (15.0, 23.0), (9.0, 14.0), (5.0, 40.0)),
    "tight-garage": Spec(
        "tight-garage", 20, 80.0, 3, 20, 18.5, 1.5, (15.0, 23.0), (9.0, 14.0), (5.0, 40.0)
    ),
}


def generate(
    spec: Spec, seed: int, *, voltage_v: float = 240.0, period_min: float = 1.0
) -> EventSet:
    """Draw `spec`'s sessions with `seed`; each car takes a free EVSE at random, or drives on."""
    rng = np.random.default_rng(seed)
    per_hour = 60.0 / period_min
    drawn: list[tuple[int, int, float, float, float]] = []
    for day in range(spec.days):
        n = spec.sessions_per_day
        lo, hi = spec.arrival_clip_h
        arrive_h = np.clip(rng.normal(spec.arrival_mean_h, spec.arrival_sd_h, n), lo, hi)
        stay_h = rng.uniform(*spec.stay_h, n)
        energy = np.round(rng.uniform(*spec.energy_kwh, n), 1)
        power = rng.choice(MAX_POWERS_KW, n)
        picks = rng.random(n)
        for i in range(n):
            arrival = round((24.0 * day + arrive_h[i]) * per_hour)
            departure = max(arrival + 1, round((24.0 * day + arrive_h[i] + stay_h[i]) * per_hour))
            drawn.append((arrival, departure, float(energy[i]), float(power[i]), float(picks[i])))
    drawn.sort(key=lambda d: (d[0], d[1]))
    stations = tuple(f"evse-{i:02d}" for i in range(spec.evses))
    free_at = [0] * spec.evses
    sessions: list[Session] = []
    dropped = 0
    for arrival, departure, kwh, kw, pick in drawn:
        free = [i for i in range(spec.evses) if free_at[i] <= arrival]
        if not free:
            dropped += 1
            continue
        station = free[int(pick * len(free))]
        free_at[station] = departure
        sessions.append(
            Session(
                f"{spec.name}-{len(sessions):03d}",
                stations[station],
                arrival,
                departure,
                kwh,
                kw,
                kwh,
            )
        )
    return EventSet(
        spec.name,
        stations,
        spec.limit_a,
        voltage_v,
        period_min,
        float(MAX_PILOT_A),
        tuple(sessions),
        dropped,
    )
