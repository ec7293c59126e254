"""Session energy: measured current x voltage_v summed over the cycles of one car's session."""

from __future__ import annotations

import pytest

from panelpilot.control.types import ChargerReading, Decision, Snapshot
from panelpilot.service.energy import SessionEnergy
from panelpilot.service.runtime import CycleResult


def _cycle(t: float, reading: ChargerReading) -> CycleResult:
    snapshot = Snapshot(t, chargers={"wc1": reading})
    decision = Decision(t, {}, {}, {}, {}, {}, ())
    return CycleResult(t, snapshot, decision, 0.0, False)


def test_a_session_counts_current_x_voltage_and_starts_again_with_the_next_car() -> None:
    energy = SessionEnergy(voltage_v=240.0, max_gap_s=3.0)
    plugged = ChargerReading(online=True, connected=True, current_a=30.0)
    for t in range(0, 3601):  # an hour at 30 A, 240 V: 7.2 kWh
        energy(_cycle(float(t), plugged))
    assert energy.kwh()["wc1"] == pytest.approx(7.2)
    energy(_cycle(3601.0, ChargerReading(online=False)))  # a blip of contact
    energy(_cycle(3602.0, plugged))
    assert energy.kwh()["wc1"] == pytest.approx(7.2)  # the same session, nothing counted
    energy(_cycle(3603.0, ChargerReading(online=True, connected=False)))
    assert energy.kwh()["wc1"] == pytest.approx(7.2 + 30 * 240 / 3.6e6)  # kept after unplug
    energy(_cycle(3604.0, plugged))
    assert energy.kwh()["wc1"] == 0.0  # the next car
    energy(_cycle(3614.0, plugged))  # ten seconds without a cycle: not counted
    assert energy.kwh()["wc1"] == 0.0
