"""Cycles the controller says repeat the last one (`Controller.quiet`) can be left out: a caller
that runs only the last of a run of them leaves the controller exactly where running all of
them would, and each cycle left out would have told every charger what the last one did.

Two controllers see the same closed loop: one runs every cycle, the other leaves out every
cycle its `quiet` conditions cover, running only the last one of each such run (and every
cycle they do not cover).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panelpilot.control import ChargerReading, Controller, Decision, Snapshot
from panelpilot.control.loads import STEPS_PER_A
from panelpilot.control.quiet import SEARCH_STEPS, Quiet, _steps
from panelpilot.site import load_site_text
from tests.control.strategies import World, sites, snapshot
from tests.control.test_steady import RUNS, _orders, _step, _world, segments


def _repeats(quiet: Quiet | None, last: Snapshot, run: list[Snapshot]) -> bool:
    """Whether `quiet` says every snapshot of `run` (after `last`) repeats `last`'s cycle."""
    if quiet is None or any(s.commands or s.chargers != last.chargers for s in run):
        return False
    if any(s.meters.keys() != last.meters.keys() for s in run):
        return False
    readings = {m: [s.meters[m] for s in run] for m in quiet.meters}
    return quiet.cycles([s.t for s in run], readings) == len(run)


def run_skipping(world: World, plan: list[dict[str, Any]]) -> int:
    """Step both controllers through `plan`; how many cycles the skipping one left out. Every
    other run's last cycle is left out too (`Controller.skip`): the next cycle decided must
    come out the same either way."""
    every, skipping = Controller(world.site), Controller(world.site)
    limits: dict[str, float] = {}
    t = 0.0
    called: Snapshot | None = None  # the skipping controller's last cycle
    said: Decision | None = None  # ... and what it decided
    left: list[tuple[Snapshot, Decision]] = []  # the cycles it has left out since
    skipped = runs = 0
    for step in plan:
        t += step["dt"]
        snap = snapshot(world, t, step, limits)
        decided = every.decide(snap)
        limits = {k: v.limit_a for k, v in decided.chargers.items()}
        run = [s for s, _ in left] + [snap]
        if called is not None and _repeats(skipping.quiet(), called, run):
            left.append((snap, decided))
            continue
        if left:  # the last cycle of the run it may leave out is run after all, or skipped
            runs += 1
            last, reference = left[-1] if runs % 2 else left.pop()
            skipped += len(left)
            assert said is not None
            for _, d in left:  # each cycle left out told the chargers what `said` did
                assert d.chargers_since_t == said.chargers_since_t, f"t={d.t}"
                assert _orders(d) == _orders(said), f"t={d.t}"
            if runs % 2:
                skipping.skip(last.t, last.meters)
            else:
                said = skipping.decide(last)
                assert said == reference, f"t={last.t}"
            left = []
        said, called = skipping.decide(snap), snap
        assert said == decided, f"t={t}"
        assert skipping.state == every.state, f"t={t}"
    return skipped


@given(data=st.data())
@RUNS
def test_cycles_left_out_under_quiet_change_nothing(data: st.DataObject) -> None:
    world = data.draw(sites(max_chargers=12))
    run_skipping(world, data.draw(segments(world)))


def test_a_settled_network_leaves_out_the_cycles_whose_loads_leave_it_room() -> None:
    """Two cars share the network's 48 A under a 100 A garage whose other loads wander
    between 10 and 47 A: the garage has room for what the cars were given, so the cycles
    between lease renewals are left out. Then 60 A: the cars must come down."""
    loads = [10.0] * 40 + [10.0 + (i * 0.37) % 37 for i in range(100)] + [60.0] * 20
    assert run_skipping(_world(), [_step(x) for x in loads]) >= 60


SHARED = """
circuits:
  - id: service
    limit_a: 100
    meter: site
networks: []
chargers:
  - {id: wc1, circuit: service, max_a: 48}
  - {id: wc2, circuit: service, max_a: 48}
"""


def test_a_circuit_that_shapes_the_allocation_leaves_out_only_cycles_within_its_step() -> None:
    """The service shares what its other loads leave between two cars: its capacity shapes
    the allocation exactly, so a cycle is left out only while the counted load (0.1 A) is
    the same. A load that falls by more than the estimate's release (2 A/s) is followed
    cycle by cycle, never left out across."""
    world = World(
        load_site_text(SHARED, "site.yaml"), {"wc1": 48.0, "wc2": 48.0}, {"service": None}
    )
    loads = [30.0] * 30 + [30.01 + 0.001 * i for i in range(40)] + [25.0, 20.0, 15.0] + [15.0] * 30
    plan: list[dict[str, Any]] = [
        {
            "dt": 1.0,
            "load": {"site": x},
            "lost": set(),
            "offline": set(),
            "unplugged": set(),
            "follow": 1.0,
            "command": None,
        }
        for x in loads
    ]
    assert run_skipping(world, plan) >= 20


def _steps_by_bisection(
    now: int, base_a: float, reserved_a: float, low: float, high: float
) -> tuple[int, int] | None:
    """`quiet._steps` by plain bisection over the same exact expression (the reference)."""

    def room(n: int) -> float:
        return (base_a - n / STEPS_PER_A) - reserved_a

    if not low <= room(now) <= high:
        return None
    top, hi = now, now + SEARCH_STEPS
    if room(hi) >= low:
        top = hi
    else:
        while hi - top > 1:
            mid = (top + hi) // 2
            top, hi = (mid, hi) if room(mid) >= low else (top, mid)
    bottom, lo = now, 0
    if room(lo) <= high:
        bottom = lo
    else:
        while bottom - lo > 1:
            mid = (bottom + lo) // 2
            lo, bottom = (lo, mid) if room(mid) <= high else (mid, bottom)
    return bottom, top


@given(
    st.integers(0, 5_000),
    st.floats(0, 400, allow_nan=False),
    st.floats(0, 50, allow_nan=False),
    st.floats(-5, 400, allow_nan=False),
    st.one_of(st.just(math.inf), st.floats(0, 2, allow_nan=False)),
)
def test_the_load_steps_searched_from_a_guess_are_those_of_a_bisection(
    now: int, base_a: float, reserved_a: float, low: float, above: float
) -> None:
    # (A capacity's region around where it is now, the case `quiet` asks about.)
    room = (base_a - now / STEPS_PER_A) - reserved_a
    lo = min(low, room)
    high = room + above
    assert _steps(now, base_a, reserved_a, lo, high) == _steps_by_bisection(
        now, base_a, reserved_a, lo, high
    )


def test_skip_refuses_a_cycle_quiet_did_not_count() -> None:
    site = load_site_text(
        "circuits: [{id: service, limit_a: 100}]\n"
        "chargers: [{id: wc1, circuit: service, max_a: 32}]\n",
        "site.yaml",
    )
    controller = Controller(site)
    with pytest.raises(ValueError, match="no quiet cycle"):
        controller.skip(1.0, {})  # nothing decided yet
    reading = {"wc1": ChargerReading(True, True, 0.0, None)}
    for t in range(1, 40):
        controller.decide(Snapshot(float(t), {}, reading))
    assert controller.quiet() is not None
    last = controller.state.t
    assert last is not None
    with pytest.raises(ValueError, match="not between"):
        controller.skip(last, {})  # not after the last cycle
    controller.skip(last + 1.0, {})
    assert controller.state.t == last + 1.0
