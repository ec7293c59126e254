"""Charging needs in the allocation: standby cars, deferred needs, the fair-share floors."""

from __future__ import annotations

import math
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from panelpilot.control import ChargingNeed
from panelpilot.control.claims import order_by_laxity, required_a
from panelpilot.control.demand import update
from panelpilot.control.sharing import Claim, allocate
from panelpilot.control.state import ChargerMemory
from panelpilot.control.types import ChargerReading
from panelpilot.site.model import Charger, ControlSettings
from tests.control.harness import Loop, network_site

RES = 1.0
CFG = ControlSettings()
CAR = Charger.model_validate({"id": "wc1", "circuit": "panel", "max_a": 40.0})


def test_25_kwh_by_0730_from_2200_at_240_v_needs_about_11_a() -> None:
    need = ChargingNeed(departure_t=9.5 * 3600, energy_wh=25_000)
    assert required_a(need, 0.0, 240.0) == 25_000 * 3600 / (240 * 9.5 * 3600)  # 10.96 A
    assert required_a(ChargingNeed(departure_t=None, energy_wh=25_000), 0.0, 240.0) is None
    assert required_a(ChargingNeed(departure_t=100.0, energy_wh=0.0), 0.0, 240.0) == 0.0
    assert required_a(need, 10 * 3600, 240.0) == math.inf  # past its departure, still here


def test_a_car_that_draws_nothing_gets_its_minimum_only_from_what_is_left() -> None:
    charging = Claim("a", 40.0, 6.0, 0, (0,))
    full = Claim("b", 6.0, 6.0, 0, (0,), standby=True)
    short = allocate([full, charging], [40.0], RES)  # the full car comes first in order
    assert short.targets_a == {"b": 0.0, "a": 40.0} and short.paused == {"b"}
    roomy = allocate([full, charging], [50.0], RES)
    assert roomy.targets_a == {"b": 6.0, "a": 40.0} and not roomy.paused


def test_deferred_needs_are_served_least_laxity_first_in_whole_steps() -> None:
    now = Claim("now", 32.0, 6.0, 0, (0,))  # no need known: served first, max-min fair
    soon = Claim("soon", 32.0, 6.0, 0, (0,), required_a=20.0, laxity_s=600.0, deferred=True)
    late = Claim("late", 32.0, 6.0, 0, (0,), required_a=5.0, laxity_s=9000.0, deferred=True)
    got = allocate([now, late, soon], [60.5], RES)  # order_by_laxity puts soon first
    assert got.targets_a["now"] == 32.0
    order = [now, late, soon]
    order_by_laxity(order)
    got = allocate(order, [60.5], RES)
    assert got.targets_a == {"now": 32.0, "soon": 28.0, "late": 0.0}
    assert got.paused == {"late"}  # 0.5 A left: below its minimum


def test_a_deferred_probe_is_judged_only_once_its_raise_was_sent() -> None:
    # Probing since t=100 (offered 40 A), but the raise waits for room: the limit is still the
    # 14 A cap set at t=50 and the car draws 12 A of it. That is no answer to the probe.
    mem = ChargerMemory(
        limit_a=14.0,
        changed_t=50.0,
        demand_a=40.0,
        probing=True,
        probe_t=100.0,
        connected=True,
        able_a=12.0,  # seen drawing 12 A of more: the most it draws now
        charged=True,
    )
    reading = ChargerReading(True, True, 12.0)
    assert update(mem, CAR, reading, 110.0, CFG) is mem
    # Raised at t=112; settled at 117 it still draws 12 A: now the probe counts as unused.
    raised = mem._replace(limit_a=20.0, changed_t=112.0)
    after = update(raised, CAR, reading, 117.0, CFG)
    assert after.probes_unused == 1 and not after.probing and after.demand_a == 14.0
    # A probe never offered gives up after probe_s and is judged as it stands.
    assert update(mem, CAR, reading, 100.0 + CFG.probe_s, CFG).probes_unused == 1


def _test_turns(loop: Loop, cid: str, seconds: int) -> list[float]:
    """When `cid` was given current after none, over `seconds` one-second cycles."""
    starts, before = [], 0.0
    for _ in range(seconds):
        now = loop.step().chargers[cid].limit_a
        if now > 0 and before == 0:
            starts.append(loop.t)
        before = now
    return starts


def test_a_full_car_is_asked_once_an_hour_while_the_others_use_every_amp() -> None:
    site = network_site(limit_a=40, size=3, max_a=32)
    loop = Loop(site)
    loop.wants_a = {"wc1": 32.0, "wc2": 32.0, "wc3": 32.0}
    loop.settle(30)
    loop.wants_a["wc3"] = 0.0  # it charged, and now it is full
    full_t = loop.t
    starts = _test_turns(loop, "wc3", 4 * 3600)
    # Not once in its first hour (a car waiting for its own timer is asked 6 times).
    assert len(starts) == 3 and starts[0] - full_t >= 3600, (full_t, starts)
    gaps = [round(b - a) for a, b in pairwise(starts)]
    assert all(3600 + 5 <= g <= 3600 + 5 + site.control.lease_s / 2 for g in gaps), gaps


def test_a_paused_car_that_draws_nothing_gets_test_turns_ever_further_apart() -> None:
    site = network_site(limit_a=40, size=3, max_a=32)
    loop = Loop(site)
    loop.wants_a = {"wc1": 32.0, "wc2": 32.0, "wc3": 0.0}  # wc3: waits for its own timer
    loop.settle(30)
    starts = _test_turns(loop, "wc3", 12000)
    gaps = [round(b - a) for a, b in pairwise(starts)]
    # probe_s (60 s) doubling up to standby_test_max_s (3600 s); from one test turn to the
    # next is the wait since its pause plus
    # the few seconds a test turn takes (given once the others have lowered, the car's 5 s
    # response, judged) and, once a commitment must wait for the lease grid, up to a grid step.
    waits = [120.0, 240.0, 480.0, 960.0, 1920.0, 3600.0]  # from the second test turn on
    assert len(gaps) >= len(waits)
    for gap, wait in zip(gaps, waits, strict=False):
        assert wait + 5 <= gap <= wait + 5 + site.control.lease_s / 2, (gaps, waits)
    assert loop.limits["wc1"] + loop.limits["wc2"] == 40  # the charging cars have it all


def test_with_needs_the_car_leaving_first_finishes_and_the_other_still_charges() -> None:
    site = network_site(limit_a=40, size=2, max_a=32)
    loop = Loop(site)
    loop.wants_a = {"wc1": 32.0, "wc2": 32.0}
    # wc1 leaves in an hour wanting 7 kWh (29 A); wc2 stays 10 h wanting 20 kWh (8.3 A).
    loop.needs = {
        "wc1": ChargingNeed(departure_t=3600.0, energy_wh=7000.0, source="ev"),
        "wc2": ChargingNeed(departure_t=36000.0, energy_wh=20000.0, source="ev"),
    }
    d = loop.settle(30)
    assert d.chargers["wc1"].limit_a >= 29 and d.chargers["wc2"].limit_a >= 6
    assert d.chargers["wc1"].limit_a + d.chargers["wc2"].limit_a == 40
    loop.needs = {}  # needs unknown: max-min fair again
    d = loop.settle(30)
    assert d.chargers["wc1"].limit_a == d.chargers["wc2"].limit_a == 20


@st.composite
def claim_sets(draw: st.DrawFn) -> tuple[list[Claim], float]:
    n = draw(st.integers(1, 8))
    claims = []
    for i in range(n):
        demand = draw(st.sampled_from([0.0, 6.0, 10.0, 16.0, 32.0]))
        kind = draw(st.sampled_from(["none", "standby", "need"]))
        if kind == "need":
            required = draw(st.floats(0.0, 60.0))
            laxity = draw(st.floats(-3600.0, 36000.0))
            claims.append(
                Claim(f"c{i}", demand, 6.0, 0, (0,), False, required, False, laxity, laxity > 1.0)
            )
        else:
            claims.append(Claim(f"c{i}", demand, 6.0, 0, (0,), standby=kind == "standby"))
    return claims, draw(st.floats(0.0, 120.0))


@given(claim_sets())
def test_needs_keep_every_limit_and_the_fair_share_of_cars_without_one(
    case: tuple[list[Claim], float],
) -> None:
    claims, cap = case
    order = list(claims)
    order_by_laxity(order)
    got = allocate(order, [cap], RES)
    total = sum(got.targets_a.values())
    assert total <= max(0.0, cap) + 1e-6  # never over the limit
    for c in claims:
        v = got.targets_a[c.key]
        assert v == 0 or c.min_a - 1e-9 <= v <= max(c.min_a, c.demand_a) + 1e-9  # 0 or 6 A+

    # The same claims with nothing known: plain max-min fairness (standby cars as they are),
    # in the turn order (as given) and in the order the needs made.
    def plain(claims_in_order: list[Claim]) -> dict[str, float]:
        bare = [
            Claim(c.key, c.demand_a, c.min_a, 0, (0,), standby=c.standby) for c in claims_in_order
        ]
        return allocate(bare, [cap], RES).targets_a

    as_given, as_ordered = plain(claims), plain(order)
    # A car that can wait for its need (deferred) gives up its place: the cars without a need
    # then share what it held, and one turned away before may come in.
    waiting = any(c.deferred for c in claims)
    without = plain([c for c in claims if not c.deferred]) if waiting else as_given
    ordered_without = plain([c for c in order if not c.deferred]) if waiting else as_ordered
    for c in claims:
        if c.required_a is None and not c.standby:
            # A car without a need keeps its fair share: needs only move the cars with one.
            fair = min(as_given[c.key], without[c.key])
            assert got.targets_a[c.key] >= fair - RES - 1e-6, c
        if c.required_a is not None and not c.deferred and c.required_a >= c.demand_a:
            # A car that cannot finish keeps its fair share in its place in that order.
            fair = min(as_ordered[c.key], ordered_without[c.key])
            assert got.targets_a[c.key] >= fair - RES - 1e-6, c


def test_a_car_that_draws_less_than_it_is_offered_is_never_deferred() -> None:
    site = network_site(limit_a=40, size=2, max_a=32)
    loop = Loop(site)
    loop.wants_a = {"wc1": 32.0, "wc2": 10.0}  # wc2 draws 10 A of more (its battery tapers)
    d = loop.settle(30)
    assert loop.controller is not None
    assert loop.controller.state.chargers["wc2"].capped_since_t is not None
    assert (d.chargers["wc1"].limit_a, d.chargers["wc2"].limit_a) == (30, 10)
    # Both could wait hours: wc1 leaves in 10 h wanting 20 kWh, wc2 in 12 h wanting 2 kWh.
    loop.needs = {
        "wc1": ChargingNeed(departure_t=36000.0, energy_wh=20000.0, source="ev"),
        "wc2": ChargingNeed(departure_t=43200.0, energy_wh=2000.0, source="ev"),
    }
    d = loop.settle(30)
    # wc1, deferred, is served after everyone else; wc2, capped at its draw, is not deferred
    # (its time to finish at what it draws now is a lower bound while it tapers) and keeps
    # all it draws. Deferred too, it would come after wc1 (more laxity) and get the 8 A left.
    assert (d.chargers["wc1"].limit_a, d.chargers["wc2"].limit_a) == (30, 10)
