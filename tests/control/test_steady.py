"""A steady cycle skips the chargers' steps: it must decide exactly what they would.

Two controllers see the same closed loop: one incremental (the service's and simulator's), one
made with `incremental=False`, which runs every step of every cycle. Their decisions and their
memories must be equal after every cycle, whatever the loads, the cars, the links and the
settings do.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panelpilot.control import ChargerReading, Controller, Decision, Snapshot, rerun
from panelpilot.control.report import at, decisions_at
from panelpilot.control.types import ChargerDecision, ChargerStatus
from panelpilot.site import load_site_text
from tests.control.strategies import World, _commands, sites, snapshot

RUNS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def segments(draw: st.DrawFn, world: World) -> list[dict[str, Any]]:
    """Steps in stretches that keep who is online, plugged in and following; loads vary."""
    site = world.site
    meters = sorted(site.meter_ids())
    out: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 6))):
        base = {m: draw(st.floats(0, 150)) for m in meters}
        noise = draw(st.sampled_from([0.0, 0.5, 3.0, 20.0]))
        # A load that switches on part-way: the room the chargers had is taken while their
        # readings stay the same.
        jump_at = draw(st.integers(0, 40))
        jump = {m: draw(st.sampled_from([0.0, 10.0, 50.0, 120.0])) for m in meters}
        shared = {
            "lost": {m for m in meters if draw(st.integers(0, 9)) == 0},
            "offline": {c.id for c in site.chargers if draw(st.integers(0, 9)) == 0},
            "unplugged": {c.id for c in site.chargers if draw(st.integers(0, 3)) == 0},
            "follow": draw(st.sampled_from([1.0, 1.0, 0.5, 0.0])),
            # What chargers say they hold: nothing (each decision counts as applied), the
            # last decision's lease, or the one before (an acknowledgement a cycle late).
            "ack": draw(st.sampled_from([None, 1, 2])),
        }
        command = draw(st.none() | _commands(site)) if draw(st.integers(0, 3)) == 0 else None
        # Cars whose on-board charger accepts less (tapering as they fill) or more, reported
        # to 0.1 A as real chargers do.
        tapering = {
            c.id: (
                draw(st.sampled_from([4.0, 12.0, 30.0, 48.0])),
                draw(st.sampled_from([0.05, 0.1, 0.3, 1.0, 3.0, -0.2])),
            )
            for c in site.chargers
            if draw(st.integers(0, 2)) == 0
        }
        # Cars that stay above their limit for a few steps once the load jumps.
        over = {
            c.id: 0.1 * draw(st.integers(1, 40))
            for c in site.chargers
            if draw(st.integers(0, 3)) == 0
        }
        over_s = draw(st.integers(0, 8))
        for i in range(draw(st.integers(1, 40))):
            out.append(
                {
                    **shared,
                    "over": over if jump_at <= i < jump_at + over_s else {},
                    "accept": {
                        cid: round(max(0.0, start - rate * i), 1)
                        for cid, (start, rate) in tapering.items()
                    },
                    "dt": draw(st.sampled_from([1.0, 1.0, 1.0, 2.0, 5.0, 60.0])),
                    "load": {
                        m: base[m]
                        + draw(st.floats(-noise, noise))
                        + (jump[m] if i >= jump_at else 0.0)
                        for m in meters
                    },
                    "command": command if i == 0 else None,
                }
            )
    return out


class Counting(Controller):
    """An incremental controller that counts the cycles it took on a fixed point."""

    steady_cycles = 0

    def _steady_cycle(self, *args: Any) -> Decision | None:
        decision = super()._steady_cycle(*args)
        self.steady_cycles += decision is not None
        return decision


def run_both(world: World, plan: list[dict[str, Any]]) -> int:
    """Step both controllers through `plan` in a closed loop; how many cycles were steady."""
    fast, full = Counting(world.site), Controller(world.site, incremental=False)
    limits: dict[str, float] = {}
    t = 0.0
    last: Decision | None = None
    leases: list[dict[str, float]] = [{}, {}]  # the last two decisions' lease ends
    for step in plan:
        t += step["dt"]
        ack = step.get("ack")
        snap = snapshot(world, t, step, limits, None if ack is None else leases[-ack])
        decided = fast.decide(snap)
        reference = full.decide(snap)
        # Only the step-by-step controller decides its charger decisions anew every cycle.
        assert reference.chargers_since_t == t
        # A cycle whose readings moved keeps the earlier conditions' timers (`moved`): one that
        # the new reading makes moot (a hold on a decrease whose car now draws below its new
        # limit) still names its time, so the incremental controller may say it looks again
        # sooner than every step would, never later; everything else is the same.
        assert decided.steady_until_t <= reference.steady_until_t, f"t={t}"
        same = replace(decided, chargers_since_t=t, steady_until_t=reference.steady_until_t)
        assert same == reference, f"t={t}"
        assert fast.state == full.state, f"t={t}"
        if last is not None and decided.chargers_since_t == last.chargers_since_t:
            assert _orders(decided) == _orders(last), f"t={t}: said to repeat, but differs"
        last = decided
        limits = {k: v.limit_a for k, v in decided.chargers.items()}
        leases = [leases[-1], {k: v.lease_until_t for k, v in decided.chargers.items()}]
    return fast.steady_cycles


def _orders(decision: Decision) -> dict[str, tuple[float, float, float]]:
    return {c: (d.limit_a, d.fallback_a, d.lease_until_t) for c, d in decision.chargers.items()}


@given(data=st.data())
@RUNS
def test_a_steady_cycle_decides_and_remembers_what_every_step_would(data: st.DataObject) -> None:
    world = data.draw(sites(max_chargers=12))
    run_both(world, data.draw(segments(world)))


SITE = """
circuits:
  - id: service
    limit_a: 200
    meter: site
    children:
      - {id: garage, limit_a: 100, meter: garage}
networks:
  - {id: net, circuit: garage, network_limit_a: 48}
chargers:
  - {id: wc1, circuit: garage, network: net, max_a: 48}
  - {id: wc2, circuit: garage, network: net, max_a: 48}
  - {id: wc3, circuit: garage, network: net, max_a: 48}
"""


def _world() -> World:
    site = load_site_text(SITE, "site.yaml")
    return World(
        site, {"wc1": 48.0, "wc2": 48.0, "wc3": 0.0}, {"service": None, "garage": "service"}
    )


def _step(garage_load_a: float) -> dict[str, Any]:
    return {
        "dt": 1.0,
        "load": {"site": 20.0, "garage": garage_load_a},
        "lost": set(),
        "offline": set(),
        "unplugged": {"wc3"},
        "follow": 1.0,
        "command": None,
    }


def test_a_settled_network_is_steady_while_other_loads_leave_it_room() -> None:
    """Two cars share the network's 48 A under a 100 A garage: the network shapes the
    allocation, the garage does not. Other loads on the garage moving between 10 and 47 A
    leave it room for what the cars were given (100 - 1 margin - 48 = 51 A): those cycles are
    steady. At 60 A the cars must come down: those are decided step by step, and agree."""
    loads = [10.0] * 40 + [10.0 + (i * 7) % 38 for i in range(60)] + [60.0] * 20
    steady = run_both(_world(), [_step(x) for x in loads])
    # The first cycles settle (limits, then the demand estimates); a lease renewal now and
    # then is a change, decided in full; everything else is steady.
    assert steady >= 80


RENEWING_SITE = """
circuits:
  - id: service
    limit_a: 200
    meter: site
    children:
      - {id: garage, limit_a: 150, meter: garage}
networks:
  - {id: net, circuit: garage, network_limit_a: 110}
chargers:
  - {id: wc1, circuit: garage, network: net, max_a: 40}
  - {id: wc2, circuit: garage, network: net, max_a: 40}
  - {id: wc3, circuit: garage, network: net, max_a: 40}
"""


Kind = tuple[bool, bool, bool]  # (capacities within the region, renewing, sent or pending)


@pytest.fixture
def reruns(monkeypatch: pytest.MonkeyPatch) -> Counter[Kind]:
    """The cycles after a fixed point that ran only some steps again (`rerun`), by kind."""
    kinds: Counter[Kind] = Counter()
    real = rerun.rerun

    def counted(steady: Any, *args: Any) -> Any:
        again = real(steady, *args)
        if again is not None:
            kinds[args[-1], steady.renewing, again.steady.renewing] += 1
        return again

    monkeypatch.setattr("panelpilot.control.controller.rerun", counted)
    return kinds


@pytest.mark.parametrize("ack", [None, 1, 2])
def test_leases_falling_due_at_a_fixed_point_are_renewed_without_the_other_steps(
    ack: int | None, reruns: Counter[Kind]
) -> None:
    """Two cars at 40 A and an empty charger share 110 A, so each falls back to 36.6 A. A
    renewal of the two cars' leases adds 3.4 A after their old ends, where the empty
    charger's rise to its fallback leaves no room: it renews first, the cars a cycle later
    (leases.py). Those cycles run the commit step alone (rerun.py); the one that sees the
    cars' renewals acknowledged, where the chargers do not say which lease they hold, was
    worked out with them; all decide what every step decides."""
    site = load_site_text(RENEWING_SITE, "site.yaml")
    world = World(
        site, {"wc1": 40.0, "wc2": 40.0, "wc3": 0.0}, {"service": None, "garage": "service"}
    )
    step = {**_step(10.0), "unplugged": {"wc3"}, "ack": ack}
    steady = run_both(world, [step] * 400)
    assert reruns[True, False, True] >= 12  # leases fell due at a fixed point: renewals sent
    if ack is None:
        assert reruns[True, True, True] >= 12  # the cars' renewals, after the empty charger's
        # Their acknowledgement was worked out with them (`rerun.acknowledged_ahead`): that
        # cycle is the fixed point it leads to, with no step run again.
        assert reruns[True, True, False] == 0
        assert 400 - steady <= 5  # only the first cycles, settling, ran every step
    else:
        # A charger that says which lease it holds changes its reading when it takes a new
        # one: the cycles around that run every step.
        assert 400 - steady <= 5 + 3 * reruns[True, False, True]


def test_a_capacity_that_moves_without_moving_the_allocation_reruns_the_allocation_alone(
    reruns: Counter[Kind],
) -> None:
    """Three cars want 80 A on an 80 A garage whose other loads creep up from 20 A: the
    garage shapes the allocation, so its region is its capacity exactly, and each 0.1 A the
    counted load moves leaves it. Where the targets come out the same (the whole steps the
    cars get do not move) the allocation alone runs again, and the cycle is a fixed point in
    the new region; where they move, every step runs."""
    site = load_site_text(
        SITE.replace("limit_a: 100, meter: garage", "limit_a: 80, meter: garage")
        .replace("network: net, max_a: 48}", "max_a: 32}")
        .replace("networks:\n  - {id: net, circuit: garage, network_limit_a: 48}\n", ""),
        "site.yaml",
    )
    world = World(
        site, {"wc1": 32.0, "wc2": 32.0, "wc3": 32.0}, {"service": None, "garage": "service"}
    )
    plan = [{**_step(20.0 + 0.013 * i), "unplugged": set()} for i in range(300)]
    steady = run_both(world, plan)
    assert reruns[False, False, False] >= 20
    assert steady >= 250


def test_a_charger_reading_changed_in_place_is_seen() -> None:
    """The caller reuses one mapping and changes a reading in it: not steady."""
    world = _world()
    controller = Controller(world.site)
    limits: dict[str, float] = {}
    for t in range(1, 40):
        d = controller.decide(snapshot(world, float(t), _step(10.0), limits))
        limits = {k: v.limit_a for k, v in d.chargers.items()}
    snap = snapshot(world, 40.0, _step(10.0), limits)
    chargers = dict(snap.chargers)
    controller.decide(Snapshot(40.0, snap.meters, chargers))
    assert limits["wc1"] == 24.0
    chargers["wc3"] = ChargerReading(True, True, 0.0)  # a car plugged in at wc3
    d = controller.decide(Snapshot(41.0, snap.meters, chargers))
    assert d.chargers["wc3"].demand_a == 48.0  # seen: it wants its max
    assert d.steady_until_t == 41.0  # and the cycle changed something


@given(
    ends=st.lists(st.floats(-100.0, 100.0) | st.just(-math.inf), min_size=0, max_size=6),
    t=st.floats(-100.0, 100.0),
    read_first=st.sampled_from(["item", "items", "values", "eq", "repr"]),
)
def test_a_steady_cycles_lazy_decisions_are_what_at_makes(
    ends: list[float], t: float, read_first: str
) -> None:
    decisions = {
        f"c{i}": ChargerDecision(6.0 + i, 6.0, ChargerStatus.CHARGING, 6.0 + i, 0.0, 32.0, end)
        for i, end in enumerate(ends)
    }
    lazy, made = decisions_at(decisions, t), at(decisions, t)
    assert len(lazy) == len(made) and list(lazy) == list(made)
    assert all(cid in lazy for cid in made) and "other" not in lazy
    first: dict[str, Any] = {
        "item": lambda: {c: lazy[c] for c in made},
        "items": lambda: dict(lazy.items()),
        "values": lambda: dict(zip(made, lazy.values(), strict=True)),
        "eq": lambda: made if lazy == made else None,
        "repr": lambda: made if repr(lazy) == repr(made) else None,
    }
    assert first[read_first]() == made
    assert dict(lazy) == made and lazy == made
    assert all(lazy[c].lease_s == max(0.0, d.lease_until_t - t) for c, d in decisions.items())
