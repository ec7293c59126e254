"""The field charger core: strict defaults, skewed clocks, reboots, rejections, the car's lag."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.field.charger import CLOCK_SPREAD_S, FieldCharger, sample_times
from tests.field.profiles import v16, v201

T = 1_798_761_600.0  # 1 Jan 2027 00:00 UTC


def charger(**kw: Any) -> FieldCharger:
    """A 1.6 charger with an exact clock unless the test says otherwise."""
    kw.setdefault("clock_offset_s", 0.0)
    kw.setdefault("drift_ppm", 0.0)
    return FieldCharger(**kw)


def default(limit_a: float, start_s: float, profile_id: int = 1, **kw: Any) -> dict[str, Any]:
    return v16(1, profile_id, "TxDefaultProfile", [(0, limit_a)], start_s=start_s, **kw)


def schema(version: str, name: str) -> dict[str, Any]:
    folder = "v16" if version == "1.6" else "v201"
    text = resources.files("ocpp").joinpath(folder, "schemas", name).read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def test_strict_charger_reads_the_default_only_when_a_transaction_starts() -> None:
    # 1.6 7.10: "When a new transaction is started, this profile SHALL be used".
    strict, lax = charger(strict_tx_default=True), charger()
    for cp in (strict, lax):
        cp.boot(T)
        assert cp.set_charging_profile(T + 1, default(10, T)) == "Accepted"
        cp.start_transaction(T + 2, 41)
        # The allocation changes mid-session with a TxDefaultProfile on the same level.
        assert cp.set_charging_profile(T + 3, default(20, T + 3, profile_id=2)) == "Accepted"
    assert [h.profile_id for h in strict.held] == [2]  # stored ...
    assert strict.effective_limit_a(T + 4) == 10  # ... but ignored until the next transaction
    assert lax.effective_limit_a(T + 4) == 20
    strict.stop_transaction(T + 5)
    strict.start_transaction(T + 6, 42)
    assert strict.effective_limit_a(T + 7) == 20
    # A TxProfile is obeyed at once, strict or not.
    tx = v16(1, 9, "TxProfile", [(0, 8)], kind="Relative", transaction_id=42, stack_level=1)
    assert strict.set_charging_profile(T + 8, tx) == "Accepted"
    assert strict.effective_limit_a(T + 8) == 8


def test_a_car_plugged_in_at_boot_of_a_strict_charger_runs_at_the_maximum_all_session() -> None:
    cp = charger(strict_tx_default=True, max_a=48.0)
    cp.boot(T, car_plugged=True)
    assert cp.may_draw_a(T) == 48.0
    assert cp.set_charging_profile(T + 0.8, default(12, T)) == "Accepted"
    assert cp.may_draw_a(T + 3600) == 48.0


def test_a_profile_starting_now_on_the_central_clock_leaves_a_slow_clock_a_gap() -> None:
    # 1.6 3.13.2: a replacement "with a validFrom in the future" reverts the charger to default
    # behaviour until then; on a clock 1 s slow, "now" is 1 s in the future.
    slow, fast = charger(clock_offset_s=-1.0), charger(clock_offset_s=+1.0)
    for cp in (slow, fast):
        cp.boot(T, car_plugged=True)
        cp.set_charging_profile(T + 10, default(10, T + 10, valid_from_s=T + 10))
    assert slow.effective_limit_a(T + 10) == 32.0
    assert slow.effective_limit_a(T + 10.99) == 32.0
    assert slow.effective_limit_a(T + 11) == 10
    assert fast.effective_limit_a(T + 10) == 10
    # A start in the past ("RECOMMENDED to prevent gaps") closes it.
    slow.set_charging_profile(T + 20, default(12, T + 20 - 60, profile_id=2))
    assert slow.effective_limit_a(T + 20) == 12


def test_clocks_are_spread_and_drift() -> None:
    offsets = [FieldCharger(seed=seed).clock_offset_s for seed in range(40)]
    assert all(o is not None and abs(o) <= CLOCK_SPREAD_S for o in offsets)
    assert max(o for o in offsets if o is not None) > 5 and min(o for o in offsets if o) < -5
    cp = charger(drift_ppm=100.0)
    cp.boot(T)
    assert cp.clock_s(T) == T
    assert cp.clock_s(T + 10_000) == pytest.approx(T + 10_001)  # 100 ppm: 1 s in 10^4 s
    cp.sync_clock(T + 10_000, T + 10_000)  # BootNotification.conf currentTime, if it listens
    assert cp.clock_s(T + 10_000) == T + 10_000


@pytest.mark.parametrize("keeps", [True, False], ids=["profiles-kept", "profiles-lost"])
def test_a_reboot_keeps_or_loses_the_profiles_and_always_ends_tx_profiles(keeps: bool) -> None:
    cp = charger(keeps_profiles=keeps)
    cp.boot(T, car_plugged=True)
    cp.set_charging_profile(T + 1, default(10, T))
    tx = v16(1, 5, "TxProfile", [(0, 8)], kind="Relative", stack_level=1)
    assert cp.set_charging_profile(T + 1, tx) == "Accepted"
    assert cp.effective_limit_a(T + 2) == 8
    cp.boot(T + 3, car_plugged=True)
    assert cp.effective_limit_a(T + 4) == (10 if keeps else 32.0)
    assert [h.profile_id for h in cp.held] == ([1] if keeps else [])


def test_the_car_follows_a_decrease_only_after_its_response_time_a_raise_at_once() -> None:
    cp = charger()
    cp.boot(T, car_plugged=True)
    cp.set_charging_profile(T + 1, default(20, T))
    cp.set_charging_profile(T + 10, default(10, T, profile_id=2))
    assert cp.may_draw_a(T + 10) == 20
    assert cp.may_draw_a(T + 14.9) == 20
    assert cp.may_draw_a(T + 15) == 10
    cp.set_charging_profile(T + 20, default(16, T, profile_id=3))
    assert cp.may_draw_a(T + 20) == 16
    # A schedule's own step down counts the same way.
    cp.set_charging_profile(
        T + 30, v16(1, 4, "TxDefaultProfile", [(0, 16), (2, 6)], start_s=T + 30)
    )
    assert cp.may_draw_a(T + 36.9) == 16
    assert cp.may_draw_a(T + 37) == 6
    cp.stop_transaction(T + 40)
    assert cp.may_draw_a(T + 40) == 0  # unplugged: the contactor opens at once


def test_a_limit_below_the_pilot_minimum_is_offered_as_six_amperes() -> None:
    cp = charger()
    cp.boot(T, car_plugged=True)
    cp.set_charging_profile(T, default(3, T - 1))
    assert cp.effective_limit_a(T + 10) == 3
    assert cp.may_draw_a(T + 10) == 6
    cp.set_charging_profile(T + 20, default(0, T, profile_id=2))
    assert cp.may_draw_a(T + 30) == 0


@pytest.mark.parametrize(
    ("payload", "transaction"),
    [
        (v16(1, 1, "TxProfile", [(0, 10)], kind="Relative"), False),  # no transaction
        (v16(1, 1, "TxProfile", [(0, 10)], kind="Relative", transaction_id=99), True),
        (v16(0, 1, "TxProfile", [(0, 10)], kind="Relative"), True),  # connector 0
        (v16(1, 1, "ChargePointMaxProfile", [(0, 10)], start_s=T), False),  # not connector 0
        (v16(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T, stack_level=4), False),
        (v16(1, 1, "TxDefaultProfile", [(0, 2300)], start_s=T, unit="W"), False),
        (v16(1, 1, "TxDefaultProfile", [(5, 10)], start_s=T), False),  # first period not 0
        (v16(1, 1, "TxDefaultProfile", [(0, 10), (60, 8), (30, 6)], start_s=T), False),
        (v16(2, 1, "TxDefaultProfile", [(0, 10)], start_s=T), False),  # no connector 2
        (v16(1, 1, "TxDefaultProfile", [(0, 10)], kind="Recurring", start_s=T), False),
        (v201(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T), False),  # wrong version
    ],
    ids=[
        "tx-without-transaction",
        "tx-for-another-transaction",
        "tx-on-connector-0",
        "station-cap-on-connector-1",
        "stack-level-above-max",
        "watts-not-allowed",
        "first-period-not-0",
        "periods-out-of-order",
        "unknown-connector",
        "recurring-without-recurrency",
        "2.0.1-payload",
    ],
)
def test_v16_rejections(payload: dict[str, Any], transaction: bool) -> None:
    cp = charger(max_stack_level=3)
    cp.boot(T, car_plugged=transaction)
    assert cp.set_charging_profile(T + 1, payload) == "Rejected"
    assert cp.held == ()
    assert cp.rejections and cp.rejections[-1][0] == T + 1


def test_v16_accepts_what_the_rules_allow() -> None:
    cp = charger(max_stack_level=3, rate_units=("A", "W"))
    cp.boot(T, car_plugged=True)
    ok = [
        v16(1, 1, "TxProfile", [(0, 10)], kind="Relative", transaction_id=1, stack_level=3),
        v16(0, 2, "ChargePointMaxProfile", [(0, 30)], start_s=T),
        v16(0, 3, "TxDefaultProfile", [(0, 6900)], start_s=T, unit="W"),
        v16(1, 4, "TxDefaultProfile", [(0, 10)], kind="Recurring", recurrency="Daily", start_s=T),
    ]
    assert [cp.set_charging_profile(T + 1, p) for p in ok] == ["Accepted"] * 4


def test_v201_rejections() -> None:
    cp = charger(version="2.0.1")
    cp.boot(T)
    cp.start_transaction(T, "tx-a")
    base = v201(1, 1, "TxDefaultProfile", [(0, 10)], start_s=T)
    assert cp.set_charging_profile(T, base) == "Accepted"
    refused = [
        # K01.FR.06: the same level and purpose on the EVSE, valid at the same time.
        v201(1, 2, "TxDefaultProfile", [(0, 12)], start_s=T),
        v201(0, 3, "ChargingStationExternalConstraints", [(0, 12)], start_s=T),  # K01.FR.22
        v201(0, 4, "ChargingStationMaxProfile", [(0, 12)], kind="Relative"),  # K01.FR.38
        v201(1, 5, "TxDefaultProfile", [(0, 12)], stack_level=1),  # K01.FR.40
        v201(1, 6, "TxDefaultProfile", [(0, 12)], kind="Relative", start_s=T, stack_level=1),
        v201(1, 7, "TxProfile", [(0, 12)], kind="Relative"),  # K01.FR.03: no transactionId
        v201(1, 8, "TxProfile", [(0, 12)], kind="Relative", transaction_id="tx-b"),  # FR.33
    ]
    assert [cp.set_charging_profile(T + 1, p) for p in refused] == ["Rejected"] * len(refused)
    # The same id replaces (K01.FR.05); the same level with validity that does not overlap is
    # a second profile beside it.
    assert cp.set_charging_profile(T + 2, v201(1, 1, "TxDefaultProfile", [(0, 9)], start_s=T)) == (
        "Accepted"
    )
    later = v201(1, 9, "TxDefaultProfile", [(0, 7)], start_s=T, valid_from_s=T + 3600)
    assert cp.set_charging_profile(T + 2, later) == "Rejected"  # the first runs forever
    tx = v201(1, 10, "TxProfile", [(0, 16)], kind="Relative", transaction_id="tx-a")
    assert cp.set_charging_profile(T + 3, tx) == "Accepted"
    assert cp.effective_limit_a(T + 3) == 16
    cp.set_external_constraint(
        T + 4, v201(0, 11, "ChargingStationExternalConstraints", [(0, 13)], start_s=T)
    )
    assert cp.effective_limit_a(T + 4) == 13


def test_clear_charging_profile_by_id_by_criteria_or_unknown() -> None:
    cp = charger()
    cp.boot(T, car_plugged=True)
    cp.set_charging_profile(T, default(10, T))
    cp.set_charging_profile(T, v16(0, 2, "ChargePointMaxProfile", [(0, 20)], start_s=T))
    cp.set_charging_profile(T, v16(1, 3, "TxProfile", [(0, 8)], kind="Relative", stack_level=2))
    assert cp.clear_charging_profile(T + 1, {"id": 3}) == "Accepted"
    assert cp.clear_charging_profile(T + 1, {"id": 3}) == "Unknown"
    assert cp.effective_limit_a(T + 1) == 10
    assert cp.clear_charging_profile(T + 2, {"chargingProfilePurpose": "TxDefaultProfile"}) == (
        "Accepted"
    )
    assert cp.effective_limit_a(T + 2) == 20
    assert cp.clear_charging_profile(T + 3, {"connectorId": 1}) == "Unknown"
    assert cp.clear_charging_profile(T + 3, {}) == "Accepted"
    assert cp.held == ()


def test_get_configuration_reports_the_smart_charging_keys() -> None:
    cp = charger(max_stack_level=1, rate_units=("A",), max_periods=5)
    answer = cp.get_configuration({"key": ["ChargeProfileMaxStackLevel", "Nonsense"]})
    assert answer == {
        "configurationKey": [{"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "1"}],
        "unknownKey": ["Nonsense"],
    }
    everything = {kv["key"]: kv["value"] for kv in cp.get_configuration({})["configurationKey"]}
    assert everything["ChargingScheduleAllowedChargingRateUnit"] == "Current"
    assert everything["ChargingScheduleMaxPeriods"] == "5"
    jsonschema.validate(answer, schema("1.6", "GetConfigurationResponse.json"))


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_composite_schedule_says_what_it_will_obey(version: str) -> None:
    cp = charger(version=version, strict_tx_default=True, clock_offset_s=-2.0, voltage_v=230)
    cp.boot(T)
    cp.start_transaction(T, "tx" if version == "2.0.1" else 5)
    build = v16 if version == "1.6" else v201
    lease = build(1, 1, "TxDefaultProfile", [(0, 16.4)], start_s=T - 60, duration_s=120)
    cp.set_charging_profile(T + 1, lease)  # strict: stored, not obeyed this transaction
    where = "connectorId" if version == "1.6" else "evseId"
    answer = cp.get_composite_schedule(T + 10, {where: 1, "duration": 300})
    name = "GetCompositeScheduleResponse.json"
    jsonschema.validate(answer, schema(version, name))
    body = answer["chargingSchedule"] if version == "1.6" else answer["schedule"]
    assert body["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 32.0}]
    start = answer["scheduleStart"] if version == "1.6" else body["scheduleStart"]
    assert start == "2027-01-01T00:00:08.000Z"  # its own clock, 2 s slow
    cp.stop_transaction(T + 11)
    cp.start_transaction(T + 12, "tx2" if version == "2.0.1" else 6)
    answer = cp.get_composite_schedule(T + 12, {where: 1, "duration": 300, "chargingRateUnit": "W"})
    jsonschema.validate(answer, schema(version, name))
    body = answer["chargingSchedule"] if version == "1.6" else answer["schedule"]
    # The lease runs until T + 60 on its clock (T + 62 real), then the unit maximum.
    assert body["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11316.0},  # 16.4 A x 230 V x 3 phases
        {"startPeriod": 50, "limit": 22080.0},
    ]
    assert cp.get_composite_schedule(T + 13, {where: 3, "duration": 60}) == {"status": "Rejected"}


def test_events_out_of_time_order_are_refused() -> None:
    cp = charger()
    cp.boot(T)
    with pytest.raises(ValueError, match="time order"):
        cp.start_transaction(T - 1, 1)


events = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=8),  # seconds since the previous event
        st.sampled_from(["default", "lease", "tx", "cap", "clear", "start", "stop", "boot"]),
        st.integers(min_value=0, max_value=48),
        st.integers(min_value=-10, max_value=10),  # profile start relative to real time
    ),
    max_size=25,
)


@settings(max_examples=120, deadline=None)
@given(
    events,
    st.booleans(),
    st.booleans(),
    st.floats(min_value=-CLOCK_SPREAD_S, max_value=CLOCK_SPREAD_S),
)
def test_what_the_car_may_draw_covers_the_limit_of_the_last_five_seconds(
    script: list[tuple[float, str, int, int]], strict: bool, keeps: bool, offset_s: float
) -> None:
    cp = charger(strict_tx_default=strict, keeps_profiles=keeps, clock_offset_s=offset_s)
    t = T
    cp.boot(t, car_plugged=True)
    ids = iter(range(1, 1000))
    for wait, kind, limit_a, start in script:
        t += wait
        if kind == "default":
            cp.set_charging_profile(t, default(limit_a, t + start, profile_id=next(ids)))
        elif kind == "lease":
            lease = default(limit_a, t + start, next(ids), stack_level=1, duration_s=10)
            cp.set_charging_profile(t, lease)
        elif kind == "tx":
            tx = v16(1, next(ids), "TxProfile", [(0, limit_a)], kind="Relative", stack_level=2)
            cp.set_charging_profile(t, tx)
        elif kind == "cap":
            cap = v16(0, next(ids), "ChargePointMaxProfile", [(0, limit_a)], start_s=t + start)
            cp.set_charging_profile(t, cap)
        elif kind == "clear":
            cp.clear_charging_profile(t, {"stackLevel": 1})
        elif kind == "start" and cp.transaction is None:
            cp.start_transaction(t, next(ids))
        elif kind == "stop":
            cp.stop_transaction(t)
        elif kind == "boot":
            cp.boot(t, car_plugged=limit_a % 2 == 0)
    for at in sample_times(t - 10, t + 10, 0.5):
        drawn = cp.may_draw_a(at)
        assert 0 <= drawn <= cp.max_a
        if drawn == 0:
            continue
        # Every instant of the last 5 s of this transaction is at or below what it may draw.
        for j in range(0, 11):
            back = at - j / 2
            started = cp.transaction_start_s(at)
            if started is not None and started <= back:
                assert cp.effective_limit_a(back) <= drawn
