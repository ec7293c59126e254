"""Profiles as plain data: the lease schedule, both encodings, the composite limit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panelpilot.drivers.ocpp.profiles import Version, decode_profile, encode_profile
from panelpilot.drivers.ocpp.schedules import (
    Commitment,
    Profile,
    Schedule,
    cap_schedule,
    commitment_schedule,
    composite_limit_a,
    floor_tenth_a,
)
from panelpilot.drivers.ocpp.state import import_current_a

T0 = 1_798_761_600.0


def lease_schedule(limit_a: float, fallback_a: float, lease_s: float, start_t: float) -> Schedule:
    """A commitment sent at `start_t` whose lease ends `lease_s` later."""
    commitment = Commitment(floor_tenth_a(limit_a), floor_tenth_a(fallback_a), start_t + lease_s)
    return commitment_schedule(commitment, start_t)


def test_a_lease_holds_the_allocation_then_the_fallback() -> None:
    schedule = lease_schedule(20, 80 / 6, 30, T0)
    assert schedule.limit_at(T0 - 1) is None
    assert schedule.limit_at(T0) == 20.0
    assert schedule.limit_at(T0 + 29.9) == 20.0
    assert schedule.limit_at(T0 + 30) == 13.3  # 80 / 6 rounded down, never up
    assert schedule.limit_at(T0 + 86_400) == 13.3


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_profiles_survive_their_encoding(version: Version) -> None:
    profile = Profile(101, "tx_default", 0, lease_schedule(20, 13.3, 30, T0), 1)
    assert decode_profile(version, 1, encode_profile(version, profile)) == profile


def test_the_composite_is_the_lowest_of_cap_and_default() -> None:
    held = [
        Profile(1, "max", 0, cap_schedule(32, T0), 0),
        Profile(101, "tx_default", 0, lease_schedule(40, 13.3, 30, T0), 1),
    ]
    assert composite_limit_a(held, T0, in_transaction=True, unit_max_a=48) == 32.0
    assert composite_limit_a(held, T0 + 30, in_transaction=True, unit_max_a=48) == 13.3
    assert composite_limit_a([], T0, in_transaction=False, unit_max_a=48) == 48.0


@given(
    limit_a=st.floats(0, 80),
    fallback_a=st.floats(6, 48),
    elapsed_s=st.floats(0, 100),
)
def test_composite_never_exceeds_the_allocation_during_or_the_fallback_after_the_lease(
    limit_a: float, fallback_a: float, elapsed_s: float
) -> None:
    held = [Profile(101, "tx_default", 0, lease_schedule(limit_a, fallback_a, 30, T0), 1)]
    got = composite_limit_a(held, T0 + elapsed_s, in_transaction=True, unit_max_a=80)
    # Rounding is down to 0.1 A; only float noise (a micro-amp) may round up.
    assert got <= (limit_a if elapsed_s < 30 else fallback_a) + 1e-6


def test_meter_values_take_the_largest_phase_and_ignore_nonsense() -> None:
    samples = [
        {
            "sampled_value": [
                {"value": "15.5", "measurand": "Current.Import", "phase": "L1"},
                {"value": "16.0", "measurand": "Current.Import", "phase": "L2"},
                {"value": "230", "measurand": "Voltage"},
                {"value": "nan", "measurand": "Current.Import"},
                {"value": "1e9", "measurand": "Current.Import"},
                {"value": "-3", "measurand": "Current.Import"},
                {"value": "x", "measurand": "Current.Import"},
                {"value": 17, "measurand": "Current.Import", "unit_of_measure": {"unit": "mA"}},
            ]
        },
        "not a dict",
    ]
    assert import_current_a(samples) == 16.0  # type: ignore[arg-type]
    assert import_current_a([]) is None


def test_limits_round_down_to_a_tenth() -> None:
    assert [floor_tenth_a(x) for x in (13.333, 13.3, 0.05, 48.0)] == [13.3, 13.3, 0.0, 48.0]
