"""The EV model: follows a pilot change within its response time, ramping; stops below 6 A."""

import numpy as np
import pytest

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
