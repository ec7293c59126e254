"""Batteries and the chargers' own lease/fallback side."""

import numpy as np
import pytest

from panelpilot.sim.battery import BatteryBank
from panelpilot.sim.chargers import Change, ChargerBank

INF = np.array([np.inf])
ZERO = np.array([0.0])
ON = np.array([True])
NONE, OTHER = Change.NONE, Change.OTHER


def battery(
    soc: float, capacity_kwh: float = 1.0, windows: tuple[tuple[float, float], ...] = ()
) -> BatteryBank:
    return BatteryBank([48.0], [48.0], [capacity_kwh], [soc], [windows], 240.0)


def test_a_battery_stops_discharging_at_0_pct() -> None:
    bank = battery(soc=0.1)
    # 0.1 kWh at 240 V is 1500 A·s: 48 A for 31.25 s.
    out = [float(bank.step(40.0, INF, ZERO, ON, t, 1.0)[0]) for t in range(40)]
    assert out[0] == pytest.approx(40.0)
    assert bank.soc[0] == 0.0
    assert out[-1] == 0.0
    assert sum(out) == pytest.approx(1500.0)


def test_a_battery_stops_charging_at_100_pct() -> None:
    bank = battery(soc=0.99)
    out = [float(bank.step(-30.0, INF, ZERO, ON, t, 1.0)[0]) for t in range(10)]
    assert out[0] == pytest.approx(-30.0)
    assert bank.soc[0] == 1.0
    assert out[-1] == 0.0


def test_a_battery_obeys_the_discharge_cap_and_the_charge_request() -> None:
    bank = battery(soc=0.5, capacity_kwh=13.5)
    assert bank.step(40.0, np.array([10.0]), ZERO, ON, 0.0, 1.0)[0] == pytest.approx(10.0)
    assert bank.step(40.0, INF, np.array([20.0]), ON, 1.0, 1.0)[0] == pytest.approx(-20.0)


def test_an_export_window_discharges_at_full_power() -> None:
    bank = battery(soc=0.5, capacity_kwh=13.5, windows=((100.0, 200.0),))
    assert bank.step(0.0, INF, ZERO, ON, 150.0, 1.0)[0] == pytest.approx(48.0)
    assert bank.step(0.0, INF, ZERO, ON, 250.0, 1.0)[0] == pytest.approx(0.0)


def test_a_charger_keeps_its_limit_for_the_lease_then_falls_back() -> None:
    bank = ChargerBank(np.array([6.0]), np.array([20.0]))
    assert bank.pilot_a(0.0)[0] == 20.0  # before any decision: the fallback
    # Received at 10 s with a 30 s lease: it ends at 40 s.
    assert bank.change(ON, np.array([40.0]), np.array([25.0]), np.array([40.0]), 10.0) is OTHER
    bank.receive(ON, np.array([40.0]), np.array([25.0]), np.array([40.0]))
    assert bank.change(ON, np.array([40.0]), np.array([25.0]), np.array([40.0]), 11.0) is NONE
    assert bank.pilot_a(39.0)[0] == 40.0
    assert bank.pilot_a(40.0)[0] == 25.0
    assert bank.next_lapse_s(10.0) == 40.0
    assert bank.next_lapse_s(40.0) == float("inf")  # an end already past changes nothing more
    off = np.array([False])
    assert bank.change(off, np.array([6.0]), np.array([6.0]), np.array([71.0]), 41.0) is NONE
    bank.receive(off, np.array([6.0]), np.array([6.0]), np.array([71.0]))
    assert bank.pilot_a(41.0)[0] == 25.0  # a decision that did not reach it changes nothing


def test_a_lease_ending_on_a_charger_whose_limit_is_its_fallback_changes_no_pilot() -> None:
    bank = ChargerBank(np.array([6.0, 6.0]), np.array([6.0, 6.0]))
    both = np.array([True, True])
    bank.receive(both, np.array([16.0, 10.0]), np.array([10.0, 10.0]), np.array([40.0, 30.0]))
    assert bank.next_lapse_s(0.0) == 40.0  # the second one's end at 30 s changes nothing
    assert bank.pilot_a(35.0).tolist() == [16.0, 10.0]


def test_a_renewal_only_moves_leases_still_running() -> None:
    bank = ChargerBank(np.array([6.0]), np.array([20.0]))
    bank.receive(ON, np.array([40.0]), np.array([25.0]), np.array([40.0]))
    renewed = (ON, np.array([40.0]), np.array([25.0]), np.array([70.0]))
    assert bank.change(*renewed, 30.0) is Change.RENEWAL  # the pilot stays at 40 A
    assert bank.change(*renewed, 45.0) is OTHER  # ended at 40 s: the pilot rises from 25 A
    lowered = (ON, np.array([32.0]), np.array([25.0]), np.array([70.0]))
    assert bank.change(*lowered, 30.0) is OTHER


def test_a_charger_bank_given_back_its_own_arrays_sees_no_change_and_others_are_compared() -> None:
    limit, fallback, until = np.array([16.0, 6.0]), np.array([10.0, 10.0]), np.array([40.0, 40.0])
    both = np.array([True, True])
    bank = ChargerBank(np.array([6.0, 6.0]), np.array([6.0, 6.0]))
    bank.receive(both, limit, fallback, until)
    assert bank.change(both, limit, fallback, until, 10.0) is NONE  # the same arrays
    assert bank.change(both, limit.copy(), fallback.copy(), until.copy(), 10.0) is NONE
    # One array the same object, another with a new value: a change.
    assert bank.change(both, limit, fallback, np.array([40.0, 70.0]), 10.0) is Change.RENEWAL
    assert bank.change(both, np.array([16.0, 0.0]), fallback, until, 10.0) is OTHER
    # Reaching one charger only: compared, not taken for the arrays it holds.
    assert (
        bank.change(np.array([True, False]), np.array([20.0, 6.0]), fallback, until, 10.0) is OTHER
    )
