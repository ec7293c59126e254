"""The EV model: follows a pilot change within its response time, ramping; stops below 6 A."""

import numpy as np
import pytest

from panelpilot.sim import ev
from panelpilot.sim.ev import TAPER_KWH, Car, Fleet

ON = np.array([True])


def one_car(max_a: float = 48.0, response_s: float = 5.0, energy_kwh: float = 50.0) -> Fleet:
    fleet = Fleet([Car(0, 0.0, 1e6, energy_kwh, max_a, response_s)], 1, 240.0)
    fleet.advance_to(0.0)
    return fleet


def steps(fleet: Fleet, pilot_a: float, n: int) -> list[float]:
    out = []
    for _ in range(n):
        draw = fleet.step(np.array([pilot_a]), fleet.accept_a(), ON, 1.0)
        out.append(float(draw[0]))
    return out


@pytest.mark.parametrize("response_s", [1.0, 2.0, 3.0, 5.0])
def test_follows_a_pilot_drop_within_its_response_time(response_s: float) -> None:
    fleet = one_car(response_s=response_s)
    steps(fleet, 48.0, 10)
    after = steps(fleet, 6.0, int(response_s))
    assert after[-1] == pytest.approx(6.0)


def test_ramps_rather_than_jumps() -> None:
    fleet = one_car(max_a=48.0, response_s=4.0)
    up = steps(fleet, 48.0, 4)
    assert up == pytest.approx([12.0, 24.0, 36.0, 48.0])
    down = steps(fleet, 12.0, 3)
    assert down == pytest.approx([36.0, 24.0, 12.0])


def test_draws_no_more_than_its_on_board_charger() -> None:
    fleet = one_car(max_a=16.0, response_s=1.0)
    assert steps(fleet, 48.0, 3)[-1] == pytest.approx(16.0)


def test_a_pilot_below_6_a_stops_the_car() -> None:
    fleet = one_car(response_s=1.0)
    steps(fleet, 32.0, 2)
    assert steps(fleet, 5.0, 1) == [0.0]


def test_tapers_near_full_and_stops_when_done() -> None:
    fleet = one_car(max_a=48.0, response_s=1.0, energy_kwh=TAPER_KWH)
    # At the start of the taper region the car accepts its full limit; later, less.
    first = steps(fleet, 48.0, 1)[0]
    assert first == pytest.approx(48.0)
    draws = steps(fleet, 48.0, 3600)
    assert max(draws[600:]) < 48.0
    assert draws[-1] == 0.0
    assert fleet.delivered_kwh()[0] == pytest.approx(TAPER_KWH)


def test_energy_is_current_times_voltage_times_time() -> None:
    fleet = one_car(max_a=32.0, response_s=1.0)
    steps(fleet, 32.0, 3600)
    # 32 A x 240 V = 7.68 kW, for one hour: 7.68 kWh.
    assert fleet.delivered_kwh()[0] == pytest.approx(7.68)


def test_a_de_energised_charger_stops_the_car_at_once() -> None:
    fleet = one_car(response_s=5.0)
    steps(fleet, 48.0, 10)
    draw = fleet.step(np.array([48.0]), fleet.accept_a(), np.array([False]), 1.0)
    assert draw[0] == 0.0


def test_cars_leave_and_the_next_one_plugs_in() -> None:
    cars = [Car(0, 0.0, 100.0, 10.0, 32.0, 1.0), Car(0, 100.0, 200.0, 10.0, 16.0, 1.0)]
    fleet = Fleet(cars, 1, 240.0)
    fleet.advance_to(0.0)
    assert fleet.car_of[0] == 0
    fleet.advance_to(100.0)
    assert fleet.car_of[0] == 1
    fleet.advance_to(200.0)
    assert fleet.car_of[0] == -1


def test_energy_is_kept_per_car_across_departures() -> None:
    cars = [Car(0, 0.0, 10.0, 10.0, 32.0, 1.0), Car(0, 10.0, 20.0, 10.0, 16.0, 1.0)]
    fleet = Fleet(cars, 1, 240.0)
    for t in range(20):
        fleet.advance_to(float(t))
        fleet.step(np.array([32.0]), fleet.accept_a(), ON, 1.0)
    fleet.advance_to(20.0)
    # Car 0: ramps 32 A in 1 s then holds, 10 s; car 1 the same at 16 A (kWh = A x 240 V x s).
    assert fleet.delivered_kwh() == pytest.approx([32 * 240 * 10 / 3.6e6, 16 * 240 * 10 / 3.6e6])


def _fleet_in_motion(n: int, seed: int) -> tuple[Fleet, np.ndarray, np.ndarray]:
    """`n` cars in every state at once: ramping up and down, tapering, nearly full, steady,
    on a de-energised charger, on a pilot below 6 A; and their pilots."""
    rng = np.random.default_rng(seed)
    cars = [
        Car(i, 0.0, 1e6, float(rng.uniform(0.05, 4.0)), float(rng.choice([16, 32, 48])), 2.0)
        for i in range(n)
    ]
    fleet = Fleet(cars, n, 240.0)
    fleet.advance_to(0.0)
    pilot = rng.choice([0.0, 5.0, 6.0, 12.0, 24.0, 40.0, 48.0], n)
    on = rng.random(n) > 0.1
    for _ in range(int(rng.integers(0, 4))):
        fleet.step(rng.choice([6.0, 20.0, 48.0], n), fleet.accept_a(), np.ones(n, bool), 1.0)
    return fleet, pilot, on


@pytest.mark.parametrize("scalar", [True, False])  # followed in plain floats, or with NumPy
@pytest.mark.parametrize("n", [1, 3, 40])
@pytest.mark.parametrize("seed", range(6))
def test_a_trajectory_is_what_single_steps_give_to_the_last_bit(
    n: int, seed: int, scalar: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ev, "SCALAR_CARS", 1000 if scalar else 0)
    fleet, pilot, on = _fleet_in_motion(n, seed)
    twin, _, _ = _fleet_in_motion(n, seed)
    path = fleet.trajectory(pilot, on, 1000, 1.0)
    assert len(path.moving) > 0 or n < 6  # (a big fleet always has a car in motion)
    accepts = fleet.accept_path_a(path, 1000, 1.0)
    draws = path.all_draws_a(1000)
    moving = path.moving
    for j in range(1000):
        accept = twin.accept_a()
        # A steady car's energy (and so what it would accept) is counted down at once, not
        # step by step: equal to rounding. A moving car's is the single steps' own.
        np.testing.assert_allclose(accepts[:, j], accept, rtol=1e-12)
        np.testing.assert_array_equal(accepts[moving, j], accept[moving])
        np.testing.assert_array_equal(draws[:, j], twin.step(pilot, accept, on, 1.0))
    fleet.follow(path, 1000, 1.0)
    np.testing.assert_array_equal(fleet.draw_a, twin.draw_a)
    np.testing.assert_allclose(fleet.remaining_kwh, twin.remaining_kwh, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(fleet.remaining_kwh[moving], twin.remaining_kwh[moving])


def test_a_steady_car_is_steady_as_long_as_it_is_said_to_be_and_hardly_longer() -> None:
    # 48 A on-board, on a 24 A pilot, 2 kWh to go: it accepts 48 x 2/3 = 32 A and draws 24 A
    # until the taper takes it below 24 A at 1.5 kWh, 0.5 kWh = 312.5 s later.
    fleet = one_car(max_a=48.0, response_s=1.0, energy_kwh=2.0)
    steps(fleet, 24.0, 1)
    path = fleet.trajectory(np.array([24.0]), ON, 400, 1.0)
    horizon = int(fleet._steady_horizon(np.array([24.0]), np.array([24.0]), 1.0)[0])
    assert len(path.moving) == 1  # not steady for all 400 steps
    draws = steps(fleet, 24.0, 400)
    assert draws[:horizon] == [24.0] * horizon
    assert draws[horizon + 2] < 24.0
