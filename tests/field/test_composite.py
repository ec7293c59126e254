"""The evaluator against worked examples derived from the OCPP text (section cited per test)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.field.composite import (
    Gaps,
    Payload,
    ProfileError,
    Transaction,
    Unit,
    change_times_s,
    composite_schedule,
    effective_limit_a,
    holdings,
    max_limit_a,
    parse,
    parse_time_s,
)
from tests.field.profiles import v16, v201

UNIT = Unit(max_a=32.0, voltage_v=230.0, phases=3)
T = parse_time_s("2027-01-04T12:00:00Z", "t")  # a Monday
TX = Transaction(transaction_id=7, start_s=T)


def limit(
    profiles: Sequence[Payload],
    t: float = T,
    *,
    connector_id: int = 1,
    transaction: Transaction | None = TX,
    unit: Unit = UNIT,
    gaps: Gaps = "fall_through",
) -> float:
    return effective_limit_a(
        profiles,
        connector_id=connector_id,
        now_s=t,
        unit=unit,
        transaction=transaction,
        gaps=gaps,
    )


def test_daily_default_profile_of_the_example_data_structure() -> None:
    # 1.6 3.13.7: a daily TxDefaultProfile, 11 kW, 6 kW 08:00-20:00, 3 phases; 230 V gives
    # 11000 / (230 x 3) = 15.94 A and 6000 / 690 = 8.70 A per phase.
    start = parse_time_s("2013-01-01T00:00Z", "start")
    daily = v16(
        0,
        100,
        "TxDefaultProfile",
        [(0, 11000), (28800, 6000), (72000, 11000)],
        kind="Recurring",
        recurrency="Daily",
        unit="W",
        start_s=start,
        duration_s=86400,
        number_phases=3,
    )
    day = 86400 * 4000  # any day after the first: the schedule recurs
    assert limit([daily], start + day + 9 * 3600) == pytest.approx(6000 / 690)
    assert limit([daily], start + day + 8 * 3600 - 1) == pytest.approx(11000 / 690)
    assert limit([daily], start + day + 20 * 3600) == pytest.approx(11000 / 690)
    # Before the first startSchedule a recurring schedule does not apply: the unit maximum.
    assert limit([daily], start - 3600) == 32.0


def test_weekly_profile_with_a_holiday_exception_on_a_higher_stack_level() -> None:
    # 1.6 3.13.2: a weekly TxDefaultProfile (full current at night and at weekends) and an
    # exception for a holiday on a higher stack level, valid only that day.
    monday = parse_time_s("2027-01-04T00:00Z", "monday")
    weekly = v16(
        0,
        1,
        "TxDefaultProfile",
        # Mon 00:00-06:00 full, 06:00-23:00 reduced, then full until Tuesday 06:00, ...
        [(0, 32), (6 * 3600, 10), (23 * 3600, 32), (30 * 3600, 10), (5 * 86400, 32)],
        kind="Recurring",
        recurrency="Weekly",
        start_s=monday,
        duration_s=7 * 86400,
    )
    holiday = v16(
        0,
        2,
        "TxDefaultProfile",
        [(0, 32)],
        stack_level=1,
        start_s=monday + 7 * 86400,
        valid_from_s=monday + 7 * 86400,
        valid_to_s=monday + 8 * 86400,
    )
    noon = 12 * 3600
    assert limit([weekly, holiday], monday + noon) == 10  # an ordinary Monday
    assert limit([weekly, holiday], monday + 5 * 86400 + noon) == 32  # Saturday
    assert limit([weekly, holiday], monday + 7 * 86400 + noon) == 32  # the holiday Monday
    assert limit([weekly, holiday], monday + 14 * 86400 + noon) == 10  # a Monday after it


def test_an_update_valid_from_the_future_reverts_to_default_until_then() -> None:
    # 1.6 3.13.2 note: an updated profile (same stackLevel and purpose) with validFrom in the
    # future replaces the installed one; the charge point "SHALL revert to default behavior
    # until validFrom is reached": here, the unit maximum.
    old = v16(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T - 60)
    new = v16(1, 2, "TxDefaultProfile", [(0, 12)], start_s=T + 1, valid_from_s=T + 1)
    assert limit([old], T) == 10
    assert limit([old, new], T) == 32.0
    assert limit([old, new], T + 1) == 12
    # "It is RECOMMENDED to provide a start time in the past to prevent gaps."
    safe = v16(1, 2, "TxDefaultProfile", [(0, 12)], start_s=T - 10, valid_from_s=T - 10)
    assert limit([old, safe], T) == 12


def test_a_higher_level_without_duration_never_falls_back_with_one_it_does() -> None:
    # 1.6 3.13.2: "If you use Stacking without a duration, on the highest stack level, the
    # Charge Point will never fall back to a lower stack level profile."
    base = v16(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T - 60)
    endless = v16(1, 2, "TxDefaultProfile", [(0, 20)], stack_level=1, start_s=T)
    lease = v16(1, 3, "TxDefaultProfile", [(0, 20)], stack_level=2, start_s=T, duration_s=30)
    assert limit([base, endless], T + 10**6) == 20
    assert limit([base, lease], T + 29) == 20
    assert limit([base, lease], T + 30) == 10  # the lease ended: level 0 leads again


def test_the_worst_reading_of_the_prevailing_profile_gives_no_limit_in_its_gaps() -> None:
    # 1.6 3.13.2 chooses "the charging profile with the highest stackLevel among the profiles
    # that are valid at that point in time, as determined by their validFrom and validTo": read
    # literally, a prevailing profile whose schedule has ended limits nothing.
    base = v16(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T - 60)
    lease = v16(1, 3, "TxDefaultProfile", [(0, 20)], stack_level=2, start_s=T, duration_s=30)
    assert limit([base, lease], T + 30, gaps="unlimited") == 32.0
    assert limit([base, lease], T + 29, gaps="unlimited") == 20
    # A schedule that starts after its validFrom: not covered yet.
    early = v16(1, 4, "TxDefaultProfile", [(0, 6)], stack_level=3, start_s=T + 5, valid_from_s=T)
    assert limit([base, early], T + 1) == 10
    assert limit([base, early], T + 1, gaps="unlimited") == 32.0


def test_the_station_cap_and_the_transaction_limit_combine_by_the_minimum() -> None:
    # 1.6 3.13.3: the composite is the minimum of ChargePointMaxProfile and TxDefaultProfile
    # (or TxProfile) at every instant.
    cap = v16(0, 1, "ChargePointMaxProfile", [(0, 16)], start_s=T - 60)
    assert limit([cap, v16(1, 2, "TxDefaultProfile", [(0, 20)], start_s=T - 60)]) == 16
    assert limit([cap, v16(1, 2, "TxDefaultProfile", [(0, 10)], start_s=T - 60)]) == 10
    assert limit([cap]) == 16


def test_a_tx_profile_overrules_the_default_for_its_transaction_only() -> None:
    # 1.6 3.13.1: TxProfile "SHALL overrule the default charging profile with purpose
    # TxDefaultProfile for the duration of the current transaction only"; 7.8: transactionId
    # matches it to a transaction.
    default = v16(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T - 60)
    mine = v16(1, 2, "TxProfile", [(0, 20)], kind="Relative", transaction_id=7)
    other = v16(1, 3, "TxProfile", [(0, 6)], kind="Relative", stack_level=1, transaction_id=8)
    assert limit([default, mine]) == 20  # higher than the default, still it rules
    assert limit([default, mine, other]) == 20  # transaction 8 is not running
    assert limit([default, mine], transaction=None) == 10  # no transaction: the default
    untagged = v16(1, 4, "TxProfile", [(0, 14)], kind="Relative", stack_level=2)
    assert limit([default, untagged]) == 14  # without transactionId: this connector's


def test_a_default_on_connector_zero_applies_to_every_connector_unless_it_has_its_own() -> None:
    # 1.6 3.13.1: "If TxDefaultProfile is set to ConnectorId 0, the TxDefaultProfile is
    # applicable to all Connectors ... the TxDefaultProfile SHALL be replaced only for that
    # specific connector."
    everywhere = v16(0, 1, "TxDefaultProfile", [(0, 10)], start_s=T - 60)
    own = v16(1, 2, "TxDefaultProfile", [(0, 24)], start_s=T - 60)
    assert limit([everywhere, own], connector_id=1) == 24
    assert limit([everywhere, own], connector_id=2) == 10


def test_relative_periods_count_from_the_start_of_the_transaction() -> None:
    # 1.6 7.9: Relative "Schedule periods are relative to a situation-specific start point
    # (such as the start of a Transaction)"; 7.14: startPeriod "also defines the stop time of
    # the previous period".
    relative = v16(1, 1, "TxDefaultProfile", [(0, 32), (600, 16)], kind="Relative")
    started = Transaction(7, T - 300)
    assert limit([relative], T + 299, transaction=started) == 32
    assert limit([relative], T + 300, transaction=started) == 16
    # Without a transaction: what one starting now would get.
    assert limit([relative], T + 300, transaction=None) == 32


def test_duration_ends_a_schedule_without_it_the_last_period_runs_on() -> None:
    # 1.6 7.13: "If the duration is left empty, the last period will continue indefinitely".
    open_ended = v16(1, 1, "TxDefaultProfile", [(0, 20), (60, 12)], start_s=T)
    limited = v16(1, 1, "TxDefaultProfile", [(0, 20), (60, 12)], start_s=T, duration_s=120)
    assert limit([open_ended], T + 10**7) == 12
    assert limit([limited], T + 119) == 12
    assert limit([limited], T + 120) == 32.0  # nothing else held: no constraint


def test_no_profile_means_the_unit_maximum() -> None:
    # 1.6 3.13.6: without charging profiles "execute a transaction as if no constraints apply".
    assert limit([]) == 32.0
    assert limit([v16(1, 1, "TxDefaultProfile", [(0, 40)], start_s=T - 1)]) == 32.0


def test_watts_become_amperes_per_phase_with_the_phases_the_unit_uses() -> None:
    # 1.6 7.12: "Current per phase = Power / (Line Voltage * Number of Phases)"; numberPhases
    # absent means 3. A single-phase unit uses one phase whatever the profile assumes.
    watts = v16(1, 1, "TxDefaultProfile", [(0, 6900)], unit="W", start_s=T - 1)
    one = v16(1, 1, "TxDefaultProfile", [(0, 2300)], unit="W", start_s=T - 1, number_phases=1)
    assert limit([watts]) == pytest.approx(10.0)
    assert limit([one]) == pytest.approx(10.0)
    single_phase = Unit(max_a=32.0, voltage_v=230.0, phases=1)
    assert limit([watts], unit=single_phase) == pytest.approx(30.0)


def test_replacement_by_id_or_by_stack_level_and_purpose_on_the_connector() -> None:
    # 1.6 5.16.3: "If a charging profile with the same chargingProfileId, or the same
    # combination of stackLevel / ChargingProfilePurpose, exists on the Charge Point, the new
    # charging profile SHALL replace the existing charging profile".
    first = v16(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T - 60)
    same_id = v16(1, 1, "TxDefaultProfile", [(0, 6)], stack_level=3, start_s=T - 60)
    same_level = v16(1, 2, "TxDefaultProfile", [(0, 20)], start_s=T - 60)
    other_connector = v16(2, 3, "TxDefaultProfile", [(0, 8)], start_s=T - 60)
    assert [h.profile_id for h in holdings([first, same_id])] == [1]
    assert limit([first, same_id]) == 6
    assert [h.profile_id for h in holdings([first, same_level])] == [2]
    assert limit([first, same_level]) == 20
    assert len(holdings([first, other_connector])) == 2
    # 2.0.1 K01.FR.05: only the id replaces; the same level stays beside it.
    a = v201(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T - 60, valid_to_s=T)
    b = v201(1, 2, "TxDefaultProfile", [(0, 20)], start_s=T - 60, valid_from_s=T)
    assert len(holdings([a, b])) == 2
    assert limit([a, b], T - 1) == 10
    assert limit([a, b], T) == 20


def test_external_constraints_enter_the_minimum_in_2_0_1() -> None:
    # 2.0.1 part 2 K (combining purposes): the composite is the lowest of the leading
    # ChargingStationMaxProfile, ChargingStationExternalConstraints and Tx(Default)Profile.
    default = v201(0, 1, "TxDefaultProfile", [(0, 24)], start_s=T - 60)
    cap = v201(0, 2, "ChargingStationMaxProfile", [(0, 20)], start_s=T - 60)
    site = v201(0, 3, "ChargingStationExternalConstraints", [(0, 16)], start_s=T - 60)
    evse = v201(1, 4, "ChargingStationExternalConstraints", [(0, 12)], start_s=T - 60)
    tx = Transaction("tx-1", T - 10)
    assert limit([default, cap], transaction=tx) == 20
    assert limit([default, cap, site], transaction=tx) == 16
    assert limit([default, cap, site, evse], transaction=tx) == 12
    assert limit([default, cap, site, evse], connector_id=2, transaction=tx) == 16
    mine = v201(1, 5, "TxProfile", [(0, 30)], kind="Relative", transaction_id="tx-1")
    assert limit([default, mine], transaction=tx) == 30


def test_the_maximum_over_a_window_sees_a_raise_inside_it() -> None:
    # A decrease at T and a raise at T + 3: the maximum over [T - 5, T + 5] is the higher
    # limit, over [T, T + 2] the lower one.
    low = v16(1, 1, "TxDefaultProfile", [(0, 8), (3, 24)], start_s=T)
    base = v16(1, 2, "TxDefaultProfile", [(0, 16)], stack_level=0, start_s=T - 60)
    held = [base, v16(1, 1, "TxDefaultProfile", [(0, 8), (3, 24)], start_s=T, stack_level=1)]
    assert parse(low).periods[1].start_s == 3

    def top(start_s: float, end_s: float) -> float:
        return max_limit_a(
            held, connector_id=1, start_s=start_s, end_s=end_s, unit=UNIT, transaction=TX
        )

    assert top(T - 5, T - 1) == 16
    assert top(T, T + 2.5) == 8
    assert top(T, T + 3) == 24
    assert change_times_s(held, start_s=T - 1, end_s=T + 5) == [T, T + 3]


def test_the_composite_schedule_reports_what_it_will_obey() -> None:
    # 1.6 5.7: the composite "from the moment the request PDU is received: Time X, up to X +
    # Duration"; here a default of 16 A, a lease of 24 A for 60 s from X + 10, a cap of 20 A.
    held = [
        v16(0, 1, "ChargePointMaxProfile", [(0, 20)], start_s=T - 60),
        v16(1, 2, "TxDefaultProfile", [(0, 16)], start_s=T - 60),
        v16(1, 3, "TxDefaultProfile", [(0, 24)], stack_level=1, start_s=T + 10, duration_s=60),
    ]
    report = composite_schedule(
        held, connector_id=1, start_s=T, duration_s=300, unit=UNIT, transaction=TX
    )
    assert report == [(0, 16), (10, 20), (70, 16)]
    # Off-second changes are reported where they err high: the raise early, the drop late.
    late = composite_schedule(
        held, connector_id=1, start_s=T - 0.5, duration_s=300, unit=UNIT, transaction=TX
    )
    assert late == [(0, 16), (10, 20), (71, 16)]
    # A decrease inside the last second is past the report's end, not moved into it.
    short = composite_schedule(
        held, connector_id=1, start_s=T - 0.5, duration_s=71, unit=UNIT, transaction=TX
    )
    assert short == [(0, 16), (10, 20)]


@pytest.mark.parametrize(
    "payload",
    [
        {"connectorId": 1},
        {"connectorId": -1, "csChargingProfiles": {}},
        {"connectorId": 1, "csChargingProfiles": {"chargingProfilePurpose": "Bogus"}},
    ],
)
def test_unreadable_payloads_raise_profile_error(payload: dict[str, Any]) -> None:
    with pytest.raises(ProfileError):
        parse(payload)


def test_bad_times_name_the_field() -> None:
    bad = v16(1, 1, "TxDefaultProfile", [(0, 10)])
    bad["csChargingProfiles"]["validFrom"] = "yesterday"
    with pytest.raises(ProfileError, match="validFrom"):
        parse(bad)


limits = st.integers(min_value=0, max_value=600).map(lambda x: x / 10)
offsets = st.integers(min_value=-120, max_value=120)


@st.composite
def stacks(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A few 1.6 profiles of every purpose around T, with lease-like durations."""
    profiles = []
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        purpose = draw(st.sampled_from(["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]))
        connector = 0 if purpose == "ChargePointMaxProfile" else draw(st.sampled_from([0, 1]))
        if purpose == "TxProfile":
            connector = 1
        periods = [(0, draw(limits))]
        if draw(st.booleans()):
            periods.append((draw(st.integers(min_value=1, max_value=90)), draw(limits)))
        profiles.append(
            v16(
                connector,
                i + 1,
                purpose,
                periods,
                stack_level=draw(st.integers(min_value=0, max_value=3)),
                kind=draw(st.sampled_from(["Absolute", "Relative"])),
                start_s=T + draw(offsets),
                duration_s=draw(st.none() | st.integers(min_value=1, max_value=200)),
                valid_from_s=draw(st.none() | offsets.map(lambda o: T + o)),
                transaction_id=7 if purpose == "TxProfile" else None,
            )
        )
    return profiles


@settings(max_examples=150, deadline=None)
@given(
    stacks(),
    st.floats(min_value=-150, max_value=150),
    st.floats(min_value=0, max_value=30),
    st.sampled_from(["fall_through", "unlimited"]),
)
def test_the_window_maximum_bounds_every_instant_and_the_unit_bounds_all(
    held: list[Payload], start: float, width: float, gaps: Gaps
) -> None:
    top = max_limit_a(
        held,
        connector_id=1,
        start_s=T + start,
        end_s=T + start + width,
        unit=UNIT,
        transaction=TX,
        gaps=gaps,
    )
    assert 0 <= top <= UNIT.max_a
    for k in range(11):
        t = T + start + width * k / 10
        assert limit(held, t, gaps=gaps) <= top


@settings(max_examples=150, deadline=None)
@given(stacks(), st.floats(min_value=-150, max_value=150), limits)
def test_a_station_cap_on_top_bounds_the_connector_and_only_lowers_it(
    held: list[Payload], at: float, cap_a: float
) -> None:
    # 3.13.3: the composite is the minimum over the purposes; a cap on the highest level
    # leads its purpose at every instant.
    cap = v16(0, 99, "ChargePointMaxProfile", [(0, cap_a)], stack_level=9, start_s=T - 1000)
    capped = limit([*held, cap], T + at)
    assert capped <= cap_a
    if not any(h.purpose == "StationMax" for h in holdings(held)):
        assert capped == min(limit(held, T + at), cap_a)


@settings(max_examples=100, deadline=None)
@given(stacks(), st.floats(min_value=-150, max_value=150))
def test_the_composite_report_is_never_below_what_the_charger_obeys(
    held: list[Payload], start: float
) -> None:
    report = composite_schedule(
        held, connector_id=1, start_s=T + start, duration_s=200, unit=UNIT, transaction=TX
    )
    assert report[0][0] == 0
    for k in range(0, 200 * 4):
        t = T + start + k / 4
        reported = [lim for second, lim in report if second <= k / 4][-1]
        assert limit(held, t) <= reported + 1e-9
