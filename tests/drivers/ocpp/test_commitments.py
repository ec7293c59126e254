"""The pure commitment function: what is sent for a decision, in order, and that its meaning holds
for any charger clock within the skew bound."""

from __future__ import annotations

import asyncio
import math
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ocpp.charge_point import camel_to_snake_case
from ocpp.messages import Call, validate_payload

from panelpilot.control.types import ChargerDecision, ChargerStatus
from panelpilot.drivers.ocpp.exchanges import composite_excess, parse_profile_settings
from panelpilot.drivers.ocpp.profiles import (
    Version,
    commitment_requests,
    decode_profile,
    request_json,
    station_cap_request,
)
from panelpilot.drivers.ocpp.schedules import Commitment, Profile, Schedule, composite_limit_a
from panelpilot.drivers.ocpp.state import ProfileSettings

T0 = 1_798_761_600.0
VOLTAGE_V = 230.0


def decision(limit_a: float, fallback_a: float, lease_until_t: float) -> ChargerDecision:
    return ChargerDecision(
        limit_a, fallback_a, ChargerStatus.CHARGING, limit_a, 30.0, limit_a, lease_until_t
    )


def received(version: Version, calls: tuple[object, ...], connector_id: int = 1) -> list[Profile]:
    """What a charger decodes from the JSON on the wire."""
    out = []
    for call in calls:
        payload = camel_to_snake_case(request_json(call))
        data = payload["cs_charging_profiles" if version == "1.6" else "charging_profile"]
        out.append(decode_profile(version, connector_id, data, voltage_v=VOLTAGE_V))
    return out


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_running_transaction_gets_a_tx_profile_first_then_the_default(version: Version) -> None:
    calls = commitment_requests(
        decision(20, 13.3, T0 + 30),
        send_t=T0,
        clock_skew_s=10,
        connector_id=1,
        transaction_id=7 if version == "1.6" else "tx-7",
        version=version,
        stack_level=3,
    )
    payloads = [request_json(c) for c in calls]
    key = "csChargingProfiles" if version == "1.6" else "chargingProfile"
    profiles = [p[key] for p in payloads]
    assert [p["chargingProfilePurpose"] for p in profiles] == ["TxProfile", "TxDefaultProfile"]
    assert profiles[0]["transactionId"] == (7 if version == "1.6" else "tx-7")
    assert "transactionId" not in profiles[1]
    assert {p["stackLevel"] for p in profiles} == {3}
    schedule = profiles[1]["chargingSchedule"]
    schedule = schedule[0] if version == "2.0.1" else schedule
    # Starts 11 s before the send time; the fallback from the lease end, 41 s into it.
    assert schedule["startSchedule"] == "2026-12-31T23:59:49Z"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 20.0},
        {"startPeriod": 41, "limit": 13.3},
    ]
    for payload in payloads:  # valid against the OCPP JSON schemas
        asyncio.run(validate_payload(Call("1", "SetChargingProfile", payload), version))


def test_without_a_transaction_only_the_default_is_sent_and_equal_limits_are_one_period() -> None:
    (call,) = commitment_requests(
        decision(13.3, 13.3, T0 + 30),
        send_t=T0 + 0.7,
        clock_skew_s=10,
        connector_id=2,
        transaction_id=None,
        version="1.6",
        stack_level=0,
    )
    profile = request_json(call)["csChargingProfiles"]
    assert (request_json(call)["connectorId"], profile["chargingProfileId"]) == (2, 102)
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 13.3}
    ]


def test_lease_ends_are_rounded_to_the_safe_side() -> None:
    def fallback_offset(limit_a: float, fallback_a: float) -> int:
        (call,) = commitment_requests(
            decision(limit_a, fallback_a, T0 + 30.5),
            send_t=T0,
            clock_skew_s=10,
            connector_id=1,
            transaction_id=None,
            version="1.6",
            stack_level=0,
        )
        periods = request_json(call)["csChargingProfiles"]["chargingSchedule"]
        return int(periods["chargingSchedulePeriod"][1]["startPeriod"])

    assert fallback_offset(20, 13.3) == 41  # the higher limit ends early
    assert fallback_offset(6, 13.3) == 42  # the higher fallback begins late


def test_a_charger_that_takes_only_watts_gets_amps_times_volts_times_phases() -> None:
    (call,) = commitment_requests(
        decision(16, 10, T0 + 30),
        send_t=T0,
        clock_skew_s=10,
        connector_id=1,
        transaction_id=None,
        version="2.0.1",
        stack_level=0,
        rate_unit="W",
        voltage_v=VOLTAGE_V,
        phases=3,
    )
    schedule = request_json(call)["chargingProfile"]["chargingSchedule"][0]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11040.0, "numberPhases": 3},
        {"startPeriod": 41, "limit": 6900.0, "numberPhases": 3},
    ]
    (profile,) = received("2.0.1", (call,))
    assert profile.schedule.periods == ((0.0, 16.0), (41.0, 10.0))


@given(
    limit_a=st.floats(0, 80),
    fallback_a=st.floats(0, 48),
    lease_s=st.one_of(st.floats(-20, 120), st.just(math.inf)),
    skew_s=st.floats(0, 30),
    offset_share=st.floats(-1, 1),
    after_s=st.floats(0, 200),
    send_t=st.floats(T0, T0 + 10),
    version=st.sampled_from(["1.6", "2.0.1"]),
    in_transaction=st.booleans(),
)
def test_what_a_skewed_charger_obeys_stays_within_the_envelope_and_is_never_unprofiled(
    limit_a: float,
    fallback_a: float,
    lease_s: float,
    skew_s: float,
    offset_share: float,
    after_s: float,
    send_t: float,
    version: Version,
    in_transaction: bool,
) -> None:
    """From receipt on, a charger whose clock is off by up to the bound has our profile in force
    and obeys at most the limit before the lease end less the bound, at most the fallback after
    it plus the bound, and the higher of the two in between."""
    d = decision(limit_a, fallback_a, send_t + lease_s)
    calls = commitment_requests(
        d,
        send_t=send_t,
        clock_skew_s=skew_s,
        connector_id=1,
        transaction_id=(5 if version == "1.6" else "t5") if in_transaction else None,
        version=version,
        stack_level=0,
    )
    held = received(version, calls)
    true_t = send_t + after_s
    charger_t = true_t + offset_share * skew_s
    purpose = "tx" if in_transaction else "tx_default"
    assert any(p.purpose == purpose and p.schedule.limit_at(charger_t) is not None for p in held)
    obeyed = composite_limit_a(held, charger_t, in_transaction=in_transaction, unit_max_a=1000)
    allowed = Commitment.of(d).envelope_a(true_t, true_t, skew_s)
    assert obeyed <= allowed + 1e-9


@given(
    previous_s=st.floats(0, 60),
    gap_s=st.floats(0, 60),
    offset_share=st.floats(-1, 1),
    # Below the 30 s lease: a clock a whole lease ahead sees the lease over on receipt.
    skew_s=st.floats(0, 30, exclude_max=True),
)
def test_a_replacement_leaves_no_moment_without_a_valid_profile(
    previous_s: float, gap_s: float, offset_share: float, skew_s: float
) -> None:
    """Whenever the replacement lands, the charger (clock within the bound) has it in force."""
    first_t = T0 + previous_s
    second_t = first_t + gap_s
    calls = commitment_requests(
        decision(20, 10, second_t + 30),
        send_t=second_t,
        clock_skew_s=skew_s,
        connector_id=1,
        transaction_id=None,
        version="1.6",
        stack_level=0,
    )
    (profile,) = received("1.6", calls)
    assert profile.schedule.limit_at(second_t + offset_share * skew_s) == 20.0


def test_profile_settings_come_from_the_charger_or_the_safe_defaults() -> None:
    v16 = SimpleNamespace(
        configuration_key=[
            {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "5"},
            {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Power"},
        ]
    )
    v201 = SimpleNamespace(
        get_variable_result=[
            {"attribute_status": "Accepted", "attribute_value": "2",
             "variable": {"name": "ProfileStackLevel"}},
            {"attribute_status": "Accepted", "attribute_value": "A,W",
             "variable": {"name": "RateUnit"}},
        ]
    )  # fmt: skip
    nonsense = SimpleNamespace(
        configuration_key=[{"key": "ChargeProfileMaxStackLevel", "value": "many"}, "x"]
    )

    assert parse_profile_settings("1.6", v16) == ProfileSettings(5, "W")
    assert parse_profile_settings("2.0.1", v201) == ProfileSettings(2, "A")
    assert parse_profile_settings("1.6", nonsense) == ProfileSettings(0, "A")


def test_a_composite_above_the_commitment_is_found_with_the_skew_counted() -> None:
    commitment = Commitment(20.0, 10.0, T0 + 30)
    told = [(0.0, 20.0), (30.0, 10.0)]
    assert composite_excess(told, 41, commitment, T0, 10) is None
    # Switching down 9 s late is within the bound; staying at 20 A past it is not.
    assert composite_excess([(0.0, 20.0), (39.0, 10.0)], 41, commitment, T0, 10) is None
    assert composite_excess([(0.0, 20.0)], 41, commitment, T0, 10) is not None
    assert composite_excess([(0.0, 48.0)], 41, commitment, T0, 10) is not None


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_station_cap_is_station_wide_and_starts_in_the_past(version: Version) -> None:
    call = station_cap_request(48, send_t=T0 + 0.5, clock_skew_s=10, version=version, stack_level=2)
    payload = request_json(call)
    assert payload.get("connectorId", payload.get("evseId")) == 0
    (profile,) = received(version, (call,), connector_id=0)
    assert (profile.purpose, profile.stack_level, profile.profile_id) == ("max", 2, 1)
    assert profile.schedule == Schedule(T0 - 11, ((0.0, 48.0),))
    asyncio.run(validate_payload(Call("1", "SetChargingProfile", payload), version))
