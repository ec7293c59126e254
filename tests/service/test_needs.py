"""Each session's need in the snapshot: the order of sources, the energy delivered since a need
was set subtracted, the departure on the snapshot's clock, the learned estimate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panelpilot.control.types import ChargerReading, ChargingNeed
from panelpilot.service.needs import FinishedSession, NeedBook, OwnerNeed, next_time_of_day
from panelpilot.site.needs import NeedDefault, NeedsConfig

# 2 Dec 2026 18:00 UTC, a car plugged in for the night; the snapshot's clock is far from it.
WALL0 = datetime(2026, 12, 2, 18, 0, tzinfo=UTC).timestamp()
T0 = 500.0
WANTED_0730 = datetime(2026, 12, 3, 7, 30, tzinfo=UTC).timestamp()
PLUGGED = ChargerReading(online=True, connected=True, current_a=24.0)
UNPLUGGED = ChargerReading(online=True, connected=False)


def book(**config: object) -> NeedBook:
    return NeedBook(
        NeedsConfig.model_validate({"timezone": "UTC", **config}), voltage_v=240.0, max_gap_s=5
    )


def run(
    b: NeedBook, seconds: int, reading: ChargerReading = PLUGGED, start: float = 0
) -> dict[str, ChargerReading]:
    """Cycles of 1 s from `start`; the last cycle's readings."""
    out: dict[str, ChargerReading] = {}
    for i in range(seconds + 1):
        out = b.apply(T0 + start + i, WALL0 + start + i, {"wc1": reading})
    return out


def need_of(readings: dict[str, ChargerReading]) -> ChargingNeed:
    """wc1's need, which must be there."""
    need = readings["wc1"].need
    assert need is not None
    return need


def test_a_charger_default_departs_at_the_next_0730_on_the_snapshot_clock() -> None:
    b = book(chargers={"wc1": {"departure": "07:30", "energy_kwh": 25}})
    need = run(b, 0)["wc1"].need
    assert need == ChargingNeed(
        departure_t=T0 + WANTED_0730 - WALL0, energy_wh=25_000.0, source="default"
    )


def test_the_id_tag_default_comes_before_the_chargers() -> None:
    b = book(chargers={"wc1": {"energy_kwh": 25}}, id_tags={"TAG1": {"energy_kwh": 30}})
    b.id_tag_of = lambda cid: "TAG1"
    assert need_of(run(b, 0)).energy_wh == 30_000.0
    b.id_tag_of = lambda cid: "OTHER"
    assert need_of(run(b, 0, start=1)).energy_wh == 25_000.0


def test_the_owner_comes_before_defaults_and_the_car_before_the_owner() -> None:
    b = book(chargers={"wc1": {"energy_kwh": 25}})
    run(b, 0)
    b.set_owner("wc1", OwnerNeed(WALL0 + 3600, 10_000.0, "olive"))
    need = run(b, 0, start=1)["wc1"].need
    assert need == ChargingNeed(departure_t=T0 + 3600, energy_wh=10_000.0, source="owner")
    car = ChargingNeed(departure_t=T0 + 7200, energy_wh=40_000.0, source="ev")
    reading = ChargerReading(online=True, connected=True, current_a=24.0, need=car)
    assert need_of(run(b, 0, reading, start=2)).source == "ev"


def test_energy_delivered_since_the_need_was_set_is_subtracted() -> None:
    b = book()
    run(b, 600)  # 10 minutes before the owner says anything: not counted against the need
    b.set_owner("wc1", OwnerNeed(None, 10_000.0))
    run(b, 0, start=601)
    need = need_of(run(b, 3600, start=601))  # an hour at 24 A x 240 V = 5,760 Wh
    assert need.energy_wh == pytest.approx(10_000.0 - 5_760.0)
    view = b.views()["wc1"]
    assert (view.wanted_wh, view.source) == (10_000.0, "owner")
    assert view.delivered_wh == pytest.approx(5_760.0)


def test_the_owners_need_ends_with_the_session() -> None:
    b = book()
    run(b, 0)
    b.set_owner("wc1", OwnerNeed(WALL0 + 3600, 10_000.0))
    assert run(b, 0, start=1)["wc1"].need is not None
    run(b, 0, UNPLUGGED, start=2)
    assert run(b, 0, start=3)["wc1"].need is None
    assert "wc1" not in b.views()


def test_an_offline_blip_ends_no_session() -> None:
    b = book()
    run(b, 0)
    b.set_owner("wc1", OwnerNeed(None, 10_000.0))
    run(b, 0, start=1)
    run(b, 0, ChargerReading(online=False), start=2)
    assert need_of(run(b, 0, start=3)).source == "owner"


def test_the_estimate_is_the_median_of_the_chargers_sessions_once_there_are_enough() -> None:
    ended: list[FinishedSession] = []
    b = book(estimate={"min_sessions": 3, "sessions": 20})
    b.on_session_end = ended.append
    b.learn([FinishedSession("wc1", 36_000, 20_000), FinishedSession("wc2", 1, 1)])
    start = 0
    for stay_s in (3600, 7200):
        run(b, stay_s, start=start)
        assert (
            b.apply(T0 + start + stay_s + 1, WALL0 + start + stay_s + 1, {"wc1": UNPLUGGED})[
                "wc1"
            ].need
            is None
        )
        start += stay_s + 2
    assert [round(s.stay_s) for s in ended] == [3601, 7201]
    assert ended[0].energy_wh == pytest.approx(24 * 240)  # the last second is not yet counted
    need = need_of(run(b, 0, start=start))  # wc1 has 3 sessions now: 10 h, 1 h, 2 h
    assert need.source == "estimate"
    assert need.departure_t == T0 + start + 7201
    assert need.energy_wh == ended[1].energy_wh


def test_no_estimate_below_the_minimum() -> None:
    b = book()
    b.learn([FinishedSession("wc1", 3600, 10_000)] * 2)
    assert run(b, 0)["wc1"].need is None


@given(
    wanted_wh=st.floats(0, 100_000),
    current_a=st.floats(0, 80),
    seconds=st.integers(0, 7200),
)
def test_the_energy_still_wanted_is_never_below_0_nor_above_what_was_wanted(
    wanted_wh: float, current_a: float, seconds: int
) -> None:
    b = book()
    reading = ChargerReading(online=True, connected=True, current_a=current_a)
    run(b, 0, reading)
    b.set_owner("wc1", OwnerNeed(None, wanted_wh))
    for i in range(1, seconds + 2, 600):
        need = b.apply(T0 + i, WALL0 + i, {"wc1": reading})["wc1"].need
        assert need is not None and need.energy_wh is not None
        assert 0.0 <= need.energy_wh <= wanted_wh


def test_next_time_of_day() -> None:
    assert next_time_of_day("07:30", WALL0, None) > WALL0
    zone = NeedsConfig(timezone="UTC")
    assert zone.timezone == "UTC"
    from zoneinfo import ZoneInfo

    assert next_time_of_day("07:30", WALL0, ZoneInfo("UTC")) == WANTED_0730
    assert next_time_of_day("18:00", WALL0, ZoneInfo("UTC")) == WALL0 + 86_400
    assert NeedDefault(energy_kwh=1).departure is None
