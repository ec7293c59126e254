"""A capped car's headroom comes only from what is left (docs/control.md section 2).

A car that draws less than it is offered (its on-board charger, a tapering battery) claims
what it was seen able to draw; the `headroom_a` above that, which lets it show it could take
more, is served last. A car denied only its headroom that draws all it is given, no more than it
was seen able to draw, has shown nothing new and stays capped; a probe offers it its whole
demand, headroom included, now and then. A car given all of its (capped) demand that draws it
all is uncapped at once.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from panelpilot.control import ChargerStatus
from panelpilot.control.demand import update
from panelpilot.control.sharing import Claim, allocate
from panelpilot.control.state import ChargerMemory
from panelpilot.control.types import ChargerReading
from panelpilot.site.model import Charger, ControlSettings
from tests.control.harness import Loop, network_site

RES = 1.0


def test_the_headroom_goes_to_a_car_that_can_use_it_and_only_leftover_to_the_capped_car() -> None:
    capped = Claim("capped", 29.5, 6.0, 0, (0,), spare_a=2.0)  # draws 27.5, +2 A headroom
    other = Claim("other", 32.0, 6.0, 0, (0,))
    tight = allocate([capped, other], [58.0], RES)
    assert tight.targets_a == {"capped": 27.0, "other": 31.0}  # 27.5 rounded down
    roomy = allocate([capped, other], [70.0], RES)
    assert roomy.targets_a == {"capped": 29.5, "other": 32.0}  # the headroom from what is left
    between = allocate([capped, other], [60.0], RES)
    assert between.targets_a == {"capped": 28.0, "other": 32.0}  # 1 A left: one whole step
    assert 0 in between.active  # the constraint cut the headroom: it shaped the result


@st.composite
def capped_sets(draw: st.DrawFn) -> tuple[list[Claim], list[float]]:
    n = draw(st.integers(1, 8))
    claims = []
    for i in range(n):
        demand = draw(st.sampled_from([0.0, 6.0, 8.5, 16.0, 29.5, 32.0]))
        spare = draw(st.sampled_from([0.0, 0.5, 2.0])) if demand > 8 else 0.0
        ks = draw(st.sampled_from([(0,), (0, 1)]))
        claims.append(Claim(f"c{i}", demand, 6.0, 0, ks, spare_a=spare))
    return claims, [draw(st.floats(-10.0, 150.0)), draw(st.floats(0.0, 80.0))]


@given(capped_sets())
def test_headroom_keeps_every_limit_and_takes_no_current_another_car_could_draw(
    case: tuple[list[Claim], list[float]],
) -> None:
    claims, caps = case
    got = allocate(claims, caps, RES).targets_a
    for k, cap in enumerate(caps):
        used = sum(got[c.key] for c in claims if k in c.constraints)
        assert used <= max(0.0, cap) + 1e-6  # never over a limit
    for c in claims:
        v = got[c.key]
        assert v == 0 or c.min_a - 1e-9 <= v <= max(c.min_a, c.demand_a) + 1e-9
    # Without the headroom the same claims share what they can draw: each car gets at least
    # that (headroom is only ever given from what is left), and a car short of its whole
    # demand by a step or more sits under a constraint with less than a step left.
    firm = allocate(
        [replace(c, demand_a=c.demand_a - c.spare_a, spare_a=0.0) for c in claims], caps, RES
    )
    for c in claims:
        assert got[c.key] >= firm.targets_a[c.key] - 1e-9, c
        if got[c.key] > 0 and got[c.key] < c.demand_a - RES:
            left = [
                caps[k] - sum(got[o.key] for o in claims if k in o.constraints)
                for k in c.constraints
            ]
            assert min(left) < RES + 1e-6, (c, left)


def test_a_car_at_its_own_limit_stays_capped_and_a_probe_finds_it_can_take_more() -> None:
    site = network_site(limit_a=60, size=2, max_a=40)
    loop = Loop(site)
    loop.wants_a = {"wc1": 27.5, "wc2": 40.0}  # wc1's on-board charger takes 27.5 A
    d = loop.settle(30)
    assert (d.chargers["wc1"].limit_a, d.chargers["wc2"].limit_a) == (27, 33)
    assert d.chargers["wc1"].status is ChargerStatus.CHARGING  # it draws all it can
    # Steady: drawing all of 27 A (no more than it was seen able to) does not undo the cap.
    for _ in range(20):
        d = loop.step()
        assert (d.chargers["wc1"].limit_a, d.chargers["wc2"].limit_a) == (27, 33)
    # Its charger now takes 32 A: the next probe (probe_s after it was capped) offers it
    # its whole demand (27.5 + headroom_a, 30 A); it draws all of it, so it is taken to want
    # its max again, and the two share max-min.
    loop.wants_a["wc1"] = 40.0
    d = loop.settle(site.control.probe_s + 30)
    assert (d.chargers["wc1"].limit_a, d.chargers["wc2"].limit_a) == (30, 30)


CFG = ControlSettings()
CAR = Charger.model_validate({"id": "wc1", "circuit": "panel", "max_a": 32.0})


def capped_car(limit_a: float, demand_a: float) -> ChargerMemory:
    """A car capped at `demand_a` since t=0 that was once seen drawing 30 A; its limit last
    changed at t=0."""
    return ChargerMemory(
        limit_a=limit_a,
        changed_t=0.0,
        demand_a=demand_a,
        capped_since_t=0.0,
        able_a=30.0,
        charged=True,
        connected=True,
        admitted=True,
    )


def test_a_car_given_all_of_a_stale_cap_that_draws_it_all_is_uncapped() -> None:
    # Capped at 6 A from a moment it drew next to nothing, though it was seen taking 30 A:
    # given its whole demand (6 A) it draws all 6. That may mean it wants more, so the cap
    # goes at once (held, it would keep 6 A until its next probe while others take the rest).
    mem = update(capped_car(6.0, 6.0), CAR, ChargerReading(True, True, 6.0), 10.0, CFG)
    assert (mem.demand_a, mem.capped_since_t) == (CAR.max_a, None)


def test_a_car_denied_only_its_headroom_stays_capped() -> None:
    # Capped at 31.5 A (27.5 drawn + 4 A headroom), given 27 A because the headroom went to
    # others: drawing all 27 says nothing new.
    old = capped_car(27.0, 31.5)._replace(able_a=27.5)
    assert update(old, CAR, ChargerReading(True, True, 27.0), 10.0, CFG) is old


@given(st.integers(65, 299))
def test_a_car_capped_afresh_claims_its_draw_and_headroom_up_to_a_whole_step(tenths: int) -> None:
    drawn = tenths / 10
    uncapped = ChargerMemory(
        limit_a=32.0, changed_t=0.0, demand_a=32.0, connected=True, admitted=True, charged=True
    )
    mem = update(uncapped, CAR, ChargerReading(True, True, drawn), 10.0, CFG)
    assert mem.capped_since_t == 10.0
    assert mem.demand_a == int(mem.demand_a)  # limits are given in whole steps
    want = drawn + CFG.headroom_a
    assert min(CAR.max_a, want) - 1e-9 <= mem.demand_a < want + CFG.resolution_a
    assert mem.demand_a <= CAR.max_a
    assert mem.able_a == drawn


def test_a_reading_that_wanders_within_a_step_changes_nothing_and_a_fall_of_a_step_does() -> None:
    old = capped_car(30.0, 30.0)._replace(able_a=28.0)  # drew 28 A, given 28 + 2
    for drawn in (27.1, 27.5, 28.0, 28.3, 28.5):  # a real charger's meter, within a step
        assert update(old, CAR, ChargerReading(True, True, drawn), 10.0, CFG) is old
    fell = update(old, CAR, ChargerReading(True, True, 27.0), 10.0, CFG)  # a tapering battery
    assert (fell.demand_a, fell.able_a, fell.capped_since_t) == (29.0, 27.0, 0.0)
    rose = update(old, CAR, ChargerReading(True, True, 28.6), 10.0, CFG)  # more than half up
    assert (rose.demand_a, rose.able_a) == (31.0, 28.6)
