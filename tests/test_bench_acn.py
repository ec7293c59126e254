"""The ACN-Sim benchmark's own parts (bench/acn/): the event sets, the offline optimum, the
metrics, and, where acnportal is installed, the adapter around `Controller.decide`."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from bench.acn.events import SPECS, EventSet, Session, generate
from bench.acn.metrics import jain, metrics_of, over_limit
from bench.acn.optimum import solve
from bench.acn.site import pilot_of, site_for

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
