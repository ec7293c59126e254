"""Circuit breakers: an inverse-time thermal trip fitted to UL 489 points, and a magnetic trip.

The thermal element is an inverse-time overcurrent curve of the IEEE C37.112 form with an
I^2 t shape (heat in a conductor goes as I^2 R):

    t_trip(M) = A / (M^2 - 1)      for M = I / I_pickup > 1

integrated over time as C37.112 prescribes for a varying current (the breaker trips when the
integral of 1 / t_trip reaches 1) and cooled below pickup by its reset curve
`t_reset(M) = A / (1 - M^2)` (the same thermal mass heats and cools). `A` is fitted per rating
so that at 200 % of rating the breaker trips at half the UL 489 calibration maximum for that
rating; the 135 % point then falls well inside UL 489's one (or two) hour bound. See
docs/simulator.md for the table and the resulting times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# UL 489 calibration at 200 % of rating: maximum trip time by rating (rating up to, seconds).
UL489_200_PCT_MAX_S: tuple[tuple[float, float], ...] = (
    (30.0, 2 * 60.0),
    (50.0, 4 * 60.0),
    (100.0, 6 * 60.0),
    (150.0, 8 * 60.0),
    (225.0, 10 * 60.0),
    (400.0, 12.5 * 60.0),
    (600.0, 15 * 60.0),
    (800.0, 17.5 * 60.0),
    (1000.0, 20 * 60.0),
    (1200.0, 22.5 * 60.0),
    (1600.0, 25 * 60.0),
    (2000.0, 27.5 * 60.0),
    (float("inf"), 30 * 60.0),
)
# UL 489 calibration at 135 % of rating: maximum trip time (rating up to, seconds).
UL489_135_PCT_MAX_S: tuple[tuple[float, float], ...] = (
    (50.0, 3600.0),
    (float("inf"), 7200.0),
)
# Where in UL 489's window the model trips at 200 %: half the maximum (a mid-band breaker).
FIT_FRACTION_OF_MAX = 0.5
# Thermal pickup: the current (x rating) above which heat builds up. UL 489 requires a breaker
# to carry 100 % indefinitely; thermal-magnetic breakers typically start to trip near 110 %.
PICKUP_X_RATING = 1.10
# Instantaneous (magnetic) trip at 10 x rating: a typical fixed magnetic setting of
# thermal-magnetic breakers (manufacturers' curves; UL 489 does not fix it).
MAGNETIC_X_RATING = 10.0


def ul489_max_s(rating_a: float, table: tuple[tuple[float, float], ...]) -> float:
    """The UL 489 calibration maximum trip time for a rating, from one of the tables above."""
    for up_to_a, max_s in table:
        if rating_a <= up_to_a:
            return max_s
    raise ValueError(f"rating {rating_a} A is not in the table")


def curve_constant_s(rating_a: float) -> float:
    """`A` of `t = A / (M^2 - 1)`, fitted to trip at 200 % at FIT_FRACTION_OF_MAX of UL 489."""
    target_s = FIT_FRACTION_OF_MAX * ul489_max_s(rating_a, UL489_200_PCT_MAX_S)
    m_200 = 2.0 / PICKUP_X_RATING
    return target_s * (m_200**2 - 1.0)


def trip_time_s(rating_a: float, current_a: float) -> float:
    """Time to trip from cold at a constant current (inf when it never trips)."""
    if current_a >= MAGNETIC_X_RATING * rating_a:
        return 0.0
    m = current_a / (PICKUP_X_RATING * rating_a)
    if m <= 1.0:
        return float("inf")
    return curve_constant_s(rating_a) / (m * m - 1.0)


@dataclass
class BreakerBank:
    """Every breaker of a site, stepped together. `heat` 0 = cold, 1 = trips."""

    rating_a: FloatArray
    curve_s: FloatArray
    heat: FloatArray
    tripped: BoolArray
    trip_t_s: FloatArray

    @classmethod
    def of(cls, ratings_a: list[float]) -> BreakerBank:
        """A bank of cold, closed breakers of these ratings."""
        rating = np.asarray(ratings_a, dtype=np.float64)
        return cls(
            rating_a=rating,
            curve_s=np.array([curve_constant_s(r) for r in ratings_a], dtype=np.float64),
            heat=np.zeros(len(ratings_a)),
            tripped=np.zeros(len(ratings_a), dtype=bool),
            trip_t_s=np.full(len(ratings_a), np.nan),
        )

    def step(self, current_a: FloatArray, dt_s: float, t_s: float) -> BoolArray:
        """Advance `dt_s` at these currents; return the breakers that just tripped."""
        m = np.abs(current_a) / (PICKUP_X_RATING * self.rating_a)
        m2 = m * m
        # C37.112: above pickup integrate 1/t_trip; below it, reset along t_reset.
        rate = (m2 - 1.0) / self.curve_s
        self.heat = np.maximum(self.heat + rate * dt_s, 0.0)
        magnetic = np.abs(current_a) >= MAGNETIC_X_RATING * self.rating_a
        new = ~self.tripped & ((self.heat >= 1.0) | magnetic)
        if new.any():
            self.tripped |= new
            self.trip_t_s[new] = t_s
        return new

    def block(self, current_a: FloatArray, dt_s: float) -> tuple[int, FloatArray | None]:
        """A block of steps (`current_a`: breakers x steps), without changing the breakers.

        Returns how many steps pass before the first one at which a closed breaker would
        trip (all of them when none does), and the heat after each step (None when every
        breaker stays cold). The heat follows `step`'s recursion `heat = max(heat + rate dt,
        0)` in closed form: with `w` the running sum from the present heat,
        `heat = w - min(0, running minimum of w)`.
        """
        n = current_a.shape[1]
        amps = np.abs(current_a)
        pickup = (PICKUP_X_RATING * self.rating_a)[:, None]
        trips = amps >= (MAGNETIC_X_RATING * self.rating_a)[:, None]
        heat = None
        if self.heat.any() or (amps > pickup).any():
            m = amps / pickup
            w = self.heat[:, None] + np.cumsum((m * m - 1.0) / self.curve_s[:, None] * dt_s, axis=1)
            heat = w - np.minimum(np.minimum.accumulate(w, axis=1), 0.0)
            trips |= heat >= 1.0
        trips &= ~self.tripped[:, None]
        hit = np.flatnonzero(trips.any(axis=0))
        return (int(hit[0]) if len(hit) else n), heat
