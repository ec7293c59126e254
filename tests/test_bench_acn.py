"""The ACN-Sim benchmark's own parts (bench/acn/): the event sets, the offline optimum, the
metrics, and, where acnportal is installed, the adapter around `Controller.decide`."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from bench.acn.cadence import MAX_FOLLOW_UPS, followed, settle
from bench.acn.events import SPECS, EventSet, Session, generate
from bench.acn.metrics import jain, metrics_of, over_limit
from bench.acn.optimum import solve
from bench.acn.site import pilot_of, site_for

from panelpilot.control import ChargerReading, Controller, Snapshot
from panelpilot.site import SiteFileError


def tiny(limit_a: float) -> EventSet:
    """Two cars on one limit, 1-minute periods at 240 V (1 A for a period is 0.004 kWh).

    a: periods 0-9, wants 0.8 kWh (200 A-periods); b: periods 0-4, wants 0.8 kWh; both 32 A.
    """
    a = Session("a", "s0", 0, 10, 0.8, 7.68, 40.0)
    b = Session("b", "s1", 0, 5, 0.8, 7.68, 40.0)
    return EventSet("tiny", ("s0", "s1"), limit_a, 240.0, 1.0, 32.0, (a, b), 0)


def test_optimum_bound_by_rate_and_window() -> None:
    # 40 A: b can take at most 32 A x 5 periods = 0.64 kWh before it leaves; a gets its
    # 0.8 kWh (8 A while b charges, then 32 A). Total 1.44 of 1.6 kWh.
    best = solve(tiny(40.0))
    a, b = best.delivered_kwh
    assert a == pytest.approx(0.8, abs=1e-6)
    assert b == pytest.approx(0.64, abs=1e-6)
    assert best.aggregate_a.max() <= 40.0 + 1e-6


def test_optimum_bound_by_the_limit() -> None:
    # 30 A for 10 periods is 300 A-periods = 1.2 kWh, and all of it can be used: b takes
    # 100 A-periods before it leaves, a the rest.
    best = solve(tiny(30.0))
    assert sum(best.delivered_kwh) == pytest.approx(1.2, abs=1e-6)
    assert best.delivered_kwh[1] <= 0.6 + 1e-6  # b: 30 A x 5 periods at most
    assert best.aggregate_a.max() <= 30.0 + 1e-6
    m = metrics_of(best.delivered_kwh, [0.8, 0.8], best.aggregate_a, 30.0, None)
    assert m.energy_pct == pytest.approx(75.0, abs=1e-4)
    assert m.violations == 0


def test_optimum_respects_the_car_own_charger() -> None:
    # A 3.84 kW on-board charger is 16 A at 240 V: 16 x 10 periods = 0.64 kWh, whatever the limit.
    slow = dataclasses.replace(tiny(80.0).sessions[0], max_power_kw=3.84)
    events = dataclasses.replace(tiny(80.0), sessions=(slow,))
    assert solve(events).delivered_kwh[0] == pytest.approx(0.64, abs=1e-6)


def one_car(stay: int, limit_a: float = 80.0) -> EventSet:
    """A 10 kWh car with a 7.68 kW (32 A) on-board charger, empty on arrival, alone."""
    car = Session("a", "s0", 0, stay, 10.0, 7.68, 10.0)
    return EventSet("one", ("s0",), limit_a, 240.0, 1.0, 32.0, (car,), 0)


def test_tapered_optimum_follows_the_two_stage_line() -> None:
    # 32 A fills 8 kWh (80 %) in 62.5 min; then the most the battery takes falls linearly with
    # the charge left: 2 kWh left decay with the time constant 0.2 x 10 kWh / 7.68 kW =
    # 15.625 min, so after 90 min 10 - 2 exp(-27.5 / 15.625) = 9.656 kWh. The LP takes the
    # line at the start of each 1-min period: a little above that, never below.
    ideal = solve(one_car(90)).delivered_kwh[0]
    tapered = solve(one_car(90), 0.8).delivered_kwh[0]
    exact = 10.0 - 2.0 * float(np.exp(-27.5 / 15.625))
    assert ideal == pytest.approx(10.0, abs=1e-6)
    assert exact <= tapered <= exact + 0.05


def test_tapered_optimum_is_the_ideal_one_before_the_taper() -> None:
    # 60 min at 32 A is 7.68 kWh: still below 80 % of 10 kWh, the taper never binds.
    assert solve(one_car(60), 0.8).delivered_kwh[0] == pytest.approx(7.68, abs=1e-6)


def test_tapered_optimum_shares_the_limit_and_bounds_below_the_ideal() -> None:
    # Two tapering cars: the limit still holds every period, each car's chain of energies is
    # its own (a car's taper does not slow the other), and the ideal LP bounds the tapered one.
    full_at_request = tuple(dataclasses.replace(s, capacity_kwh=0.8) for s in tiny(40.0).sessions)
    events = dataclasses.replace(tiny(40.0), sessions=full_at_request)
    ideal, tapered = solve(events), solve(events, 0.8)
    assert tapered.aggregate_a.max() <= 40.0 + 1e-6
    assert sum(tapered.delivered_kwh) <= sum(ideal.delivered_kwh) + 1e-9
    assert sum(tapered.delivered_kwh) < sum(ideal.delivered_kwh) - 0.01
    for d, s in zip(tapered.delivered_kwh, events.sessions, strict=True):
        assert d <= s.energy_kwh + 1e-9


def test_tapered_optimum_refuses_a_taper_outside_0_to_1() -> None:
    with pytest.raises(ValueError, match="taper_soc"):
        solve(one_car(10), 1.0)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_event_sets_are_reproducible_and_physical(name: str) -> None:
    spec = SPECS[name]
    one, again, other = generate(spec, 14), generate(spec, 14), generate(spec, 15)
    assert one == again
    assert one.sessions != other.sessions
    assert len(one.stations) == spec.evses and one.limit_a == spec.limit_a
    by_station: dict[str, list[Session]] = {}
    for s in one.sessions:
        assert s.arrival < s.departure
        lo, hi = spec.energy_kwh
        assert lo <= s.energy_kwh <= hi
        assert s.init_kwh == 0.0 and s.capacity_kwh == s.energy_kwh
        by_station.setdefault(s.station_id, []).append(s)
    for stays in by_station.values():  # one car at a time on an EVSE
        stays.sort(key=lambda s: s.arrival)
        for before, after in itertools.pairwise(stays):
            assert before.departure <= after.arrival
    assert len(one.sessions) + one.dropped == spec.days * spec.sessions_per_day


def test_metrics() -> None:
    assert jain([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert jain([1.0, 0.0]) == pytest.approx(0.5)
    count, most = over_limit(np.array([10.0, 12.5, 9.0, 11.0]), 11.0)
    assert count == 1 and most == pytest.approx(1.5)
    assert over_limit([10.0, 11.0], 11.0) == (0, 0.0)


def test_the_panelpilot_site_matches_the_acn_infrastructure() -> None:
    events = tiny(30.0)
    site = site_for(events)
    assert site.networks and site.networks[0].network_limit_a == 30.0  # 2 x 6 A fits 30 A
    assert [c.id for c in site.chargers] == ["s0", "s1"]
    assert site.control.period_s == 60.0 and site.control.lease_s == 300.0
    narrow = site_for(dataclasses.replace(events, limit_a=11.0))  # 2 x 6 A do not fit
    assert not narrow.networks and all(c.fallback_a == 0 for c in narrow.chargers)
    assert site_for(events, {"rotation_s": 300.0}).control.rotation_s == 300.0
    with pytest.raises(SiteFileError, match="rotation_s"):
        site_for(events, {"rotation_s": -1.0})


def test_a_limit_becomes_a_j1772_pilot() -> None:
    assert pilot_of(5.9, 32.0) == 0.0
    assert pilot_of(6.0, 32.0) == 6.0
    assert pilot_of(27.9, 32.0) == 27.0  # rounded down: never above the limit
    assert pilot_of(40.0, 32.0) == 32.0


def test_panelpilot_in_acn_sim_stays_within_the_limit() -> None:
    pytest.importorskip("acnportal")
    from bench.acn.runner import simulate

    events = tiny(30.0)
    r = simulate(events, "ideal", "panelpilot")
    assert r.metrics.violations == 0 and r.metrics.peak_a <= 30.0
    assert 0.0 < r.metrics.energy_pct <= 75.0 + 1e-6  # never above the offline optimum
    assert r.counters is not None and len(r.counters.decide_ns) == events.horizon() + 1
    with_needs = simulate(events, "ideal", "panelpilot-needs")
    assert with_needs.metrics.violations == 0 and with_needs.metrics.peak_a <= 30.0
    assert 0.0 < with_needs.metrics.energy_pct <= 75.0 + 1e-6


def test_follow_up_cycles_place_a_raise_within_the_period() -> None:
    # Two EVSEs on 40 A, the service's cadence inside one ACN period (bench/acn/cadence.py):
    # car a charges alone at 32 A, then car b plugs in. The first cycle lowers a and must
    # leave b's raise waiting until a's reading shows the decrease; the follow-up cycle, with
    # a reading what it draws at its lower pilot, gives b its share within the same period.
    events = tiny(40.0)
    period_s = events.period_min * 60.0

    def draws(sid: str, pilot: float) -> float:
        return pilot  # both cars take whatever their pilot allows

    def snapshot(t: float, a_a: float, b_plugged: bool) -> Snapshot:
        return Snapshot(
            t,
            {},
            {
                "s0": ChargerReading(True, True, a_a),
                "s1": ChargerReading(True, b_plugged, 0.0),
            },
        )

    single, settled = Controller(site_for(events)), Controller(site_for(events))
    for k in range(4):
        for c in (single, settled):
            c.decide(snapshot(k * period_s, 32.0 if k else 0.0, False))
    late = single.decide(snapshot(4 * period_s, 32.0, True))
    assert late.chargers["s1"].limit_a < late.chargers["s1"].target_a  # waits a whole minute
    now, cycles = settle(settled, snapshot(4 * period_s, 32.0, True), draws, events.max_pilot_a)
    pilots = {sid: pilot_of(d.limit_a, 32.0) for sid, d in now.chargers.items()}
    assert pilots == {"s0": 20.0, "s1": 20.0}
    assert 2 <= cycles <= 1 + MAX_FOLLOW_UPS
    assert sum(d.limit_a for d in now.chargers.values()) <= 40.0 + 1e-9


def test_a_full_car_test_turn_gives_the_current_back_within_the_period() -> None:
    # Two EVSEs on 36 A: car a takes all it is offered (its 32 A max), car b charged and is
    # full (draws nothing), so it waits at 0 A and gets a test turn at 6 A every
    # `standby_test_max_s`. The turn lowers a to 30 A first, raises b, waits out b's
    # response, finds it unused and ends it, and only then can a have its 32 A back: with
    # the follow-up cycles, that happens within the period, so the pilots ACN gets for it
    # are a at 32 A and b at 0, and the turn cost a nothing for the minute.
    events = tiny(36.0)
    period_s = events.period_min * 60.0
    controller = Controller(site_for(events))
    decisions = []
    decide = controller.decide

    def recording(snap: Snapshot) -> object:
        decisions.append(decide(snap))
        return decisions[-1]

    controller.decide = recording  # type: ignore[method-assign,assignment]

    def draws(sid: str, pilot: float) -> float:
        return pilot if sid == "s0" else 0.0

    pilots = {"s0": 0.0, "s1": 0.0}
    turns = 0
    for k in range(75):
        b_draws = 6.0 if k < 3 else 0.0  # b charges a little first, then is full
        snap = Snapshot(
            k * period_s,
            {},
            {
                "s0": ChargerReading(True, True, pilots["s0"]),
                "s1": ChargerReading(True, True, min(b_draws, pilots["s1"])),
            },
        )
        decisions.clear()
        last, cycles = settle(controller, snap, draws, events.max_pilot_a)
        pilots = {sid: pilot_of(d.limit_a, 32.0) for sid, d in last.chargers.items()}
        if k >= 10:
            turns += any(d.chargers["s1"].limit_a >= 6.0 for d in decisions)
            assert pilots == {"s0": 32.0, "s1": 0.0}, (k, cycles)
        assert all(sum(d.limit_a for d in x.chargers.values()) <= 36.0 + 1e-9 for x in decisions)
    assert turns >= 1  # b did get a test turn (an hour after it was paused)


def test_follow_up_cycles_stay_within_a_short_period() -> None:
    # 15 s ACN periods (`--period-min 0.25`): the follow-ups, `response_s` apart, stop before
    # the next period's decision, so the snapshots stay in time order (the controller refuses
    # any other) even where a test turn would want a fourth one.
    events = dataclasses.replace(tiny(36.0), period_min=0.25)
    period_s = events.period_min * 60.0
    controller = Controller(site_for(events))
    times: list[float] = []
    decide = controller.decide

    def recording(snap: Snapshot) -> object:
        times.append(snap.t)
        return decide(snap)

    controller.decide = recording  # type: ignore[method-assign,assignment]
    pilots = {"s0": 0.0, "s1": 0.0}
    most = 0
    for k in range(300):  # 75 minutes: the full car gets its test turn after an hour
        snap = Snapshot(
            k * period_s,
            {},
            {
                "s0": ChargerReading(True, True, pilots["s0"]),
                "s1": ChargerReading(True, True, min(6.0 if k < 12 else 0.0, pilots["s1"])),
            },
        )
        times.clear()
        last, cycles = settle(controller, snap, lambda sid, p: p if sid == "s0" else 0.0, 32.0)
        pilots = {sid: pilot_of(d.limit_a, 32.0) for sid, d in last.chargers.items()}
        assert all(snap.t <= t < snap.t + period_s for t in times)
        most = max(most, cycles)
    assert most == 4  # the period's decision and three follow-ups: all that fit in 15 s


def test_followed_reads_the_battery_model_at_the_new_pilot() -> None:
    events = tiny(40.0)
    c = Controller(site_for(events))
    snap = Snapshot(
        0.0, {}, {"s0": ChargerReading(True, True, 3.0), "s1": ChargerReading(True, False, 0.0)}
    )
    decision = c.decide(snap)
    pilot = pilot_of(decision.chargers["s0"].limit_a, 32.0)
    after = followed(snap, decision, 5.0, lambda sid, p: min(p, 16.04), 32.0)
    assert after.t == pytest.approx(5.0, abs=0.01)
    assert after.chargers["s0"].current_a == round(min(pilot, 16.04), 1)
    assert after.chargers["s1"] == snap.chargers["s1"]  # no car: nothing read


def test_a_period_is_a_whole_number_of_seconds_of_at_least_15(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("acnportal")
    from bench.bench_acn import parse

    assert parse(["--period-min", "0.25"]).period_min == 0.25
    for bad in ("0.2", "0.0125", "x"):
        with pytest.raises(SystemExit) as info:
            parse(["--period-min", bad])
        assert info.value.code == 2
        assert "--period-min" in capsys.readouterr().err
