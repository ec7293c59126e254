"""Whole steps left over after the fair share go to the cars plugged in first
(docs/control.md section 2): the allocation stays max-min fair within one step, and of cars
with the same share the one likely to leave first gets the step."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from panelpilot.control.sharing import Claim, allocate
from tests.control.harness import Loop, limits, network_site

RES = 1.0


def test_a_step_left_over_goes_to_the_car_plugged_in_first() -> None:
    # 20 A among three cars: 6 A each and 2 A over, one step each for the two that came first,
    # whatever order the claims are in.
    cars = [
        Claim(k, 32.0, 6.0, 0, (0,), since_t=t) for k, t in (("c", 300.0), ("a", 0.0), ("b", 60.0))
    ]
    assert allocate(cars, [20.0], RES).targets_a == {"c": 6.0, "a": 7.0, "b": 7.0}
    late_first = [
        Claim(k, 32.0, 6.0, 0, (0,), since_t=t) for k, t in (("a", 300.0), ("b", 0.0), ("c", 60.0))
    ]
    assert allocate(late_first, [20.0], RES).targets_a == {"a": 6.0, "b": 7.0, "c": 7.0}


@given(st.lists(st.floats(0.0, 1e5), min_size=1, max_size=8), st.floats(0.0, 100.0))
def test_the_plug_in_order_never_breaks_max_min_within_a_step(
    since: list[float], capacity: float
) -> None:
    cars = [Claim(f"c{i}", 32.0, 6.0, 0, (0,), since_t=t) for i, t in enumerate(since)]
    got = allocate(cars, [capacity], RES).targets_a
    given_a = [v for v in got.values() if v > 0]
    assert sum(got.values()) <= capacity + 1e-9
    if given_a:
        assert max(given_a) - min(given_a) <= RES + 1e-9
        # A car plugged in earlier never gets less than one plugged in later.
        for a in cars:
            for b in cars:
                if got[a.key] > 0 and got[b.key] > 0 and a.since_t < b.since_t:
                    assert got[a.key] >= got[b.key]


def test_in_the_loop_the_first_two_cars_get_the_steps_left_over() -> None:
    loop = Loop(network_site(limit_a=20, size=3, max_a=32))
    for cid in ("wc3", "wc1", "wc2"):  # wc3 plugs in first, then wc1, then wc2
        loop.wants_a[cid] = 32.0
        d = loop.settle(30)
    assert limits(d) == [7, 6, 7]
