"""The breaker model against UL 489's calibration points, computed by hand and stepped."""

import numpy as np
import pytest

from panelpilot.sim.breaker import (
    MAGNETIC_X_RATING,
    UL489_135_PCT_MAX_S,
    UL489_200_PCT_MAX_S,
    BreakerBank,
    trip_time_s,
    ul489_max_s,
)

SMALL_RATINGS_A = [15.0, 20.0, 30.0]
ALL_RATINGS_A = [15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 100.0, 125.0, 200.0, 400.0, 800.0, 1600.0]


def seconds_to_trip(rating_a: float, current_a: float, limit_s: float, dt_s: float = 1.0) -> float:
    """Step one breaker at a constant current, `dt_s` at a time, until it trips."""
    bank = BreakerBank.of([rating_a])
    t = 0.0
    while t < limit_s:
        t += dt_s
        if bank.step(np.array([current_a]), dt_s, t).any():
            return t
    return float("inf")


@pytest.mark.parametrize("rating_a", SMALL_RATINGS_A)
def test_trips_within_2_min_at_200_pct_up_to_30_a(rating_a: float) -> None:
    assert seconds_to_trip(rating_a, 2.0 * rating_a, 3600) <= 120


@pytest.mark.parametrize("rating_a", ALL_RATINGS_A)
def test_trips_within_1_h_at_135_pct_and_within_ul_window(rating_a: float) -> None:
    t = seconds_to_trip(rating_a, 1.35 * rating_a, 4 * 3600)
    assert t <= 3600
    assert t <= ul489_max_s(rating_a, UL489_135_PCT_MAX_S)


@pytest.mark.parametrize("rating_a", ALL_RATINGS_A)
def test_trips_inside_ul_200_pct_window_for_every_rating(rating_a: float) -> None:
    assert seconds_to_trip(rating_a, 2.0 * rating_a, 3600) <= ul489_max_s(
        rating_a, UL489_200_PCT_MAX_S
    )


def test_larger_ratings_take_longer_at_200_pct() -> None:
    assert trip_time_s(20, 40) < trip_time_s(50, 100) < trip_time_s(100, 200)


@pytest.mark.parametrize("rating_a", ALL_RATINGS_A)
def test_never_trips_at_100_pct(rating_a: float) -> None:
    assert seconds_to_trip(rating_a, rating_a, 24 * 3600, dt_s=60.0) == float("inf")
    assert seconds_to_trip(rating_a, 1.1 * rating_a, 24 * 3600, dt_s=60.0) == float("inf")


def test_20_a_breaker_at_200_pct_by_hand() -> None:
    # A = 0.5 x 120 s x ((2 / 1.1)^2 - 1) = 138.35 s; t(200 %) = A / ((2/1.1)^2 - 1) = 60 s.
    assert trip_time_s(20, 40) == pytest.approx(60.0)
    assert seconds_to_trip(20, 40, 600) == 60.0


def test_magnetic_trip_is_instantaneous() -> None:
    assert trip_time_s(20, MAGNETIC_X_RATING * 20) == 0.0
    assert seconds_to_trip(20, MAGNETIC_X_RATING * 20, 10) == 1.0


def test_heat_fades_below_pickup() -> None:
    # 50 s at 200 % (5/6 of the way to a trip), then cool at 0 A, then 200 % again.
    bank = BreakerBank.of([20.0])
    for t in range(50):
        assert not bank.step(np.array([40.0]), 1.0, float(t)).any()
    for t in range(600):
        bank.step(np.array([0.0]), 1.0, 50.0 + t)
    assert bank.heat[0] == 0.0
    assert seconds_to_trip(20, 40, 600) == 60.0


def test_a_tripped_breaker_stays_open() -> None:
    bank = BreakerBank.of([20.0, 20.0])
    bank.step(np.array([400.0, 10.0]), 1.0, 5.0)
    assert bank.tripped.tolist() == [True, False]
    assert not bank.step(np.array([0.0, 0.0]), 1.0, 6.0).any()
    assert bank.tripped.tolist() == [True, False]
    assert bank.trip_t_s[0] == 5.0
