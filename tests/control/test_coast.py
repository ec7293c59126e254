"""`Controller.coast` runs settled cycles without building decisions: it must be exact.

Two controllers see the same closed loop. One decides every cycle; the other coasts whenever
it can and decides otherwise. Their memories must be equal after every cycle, and every cycle
the second one coasted through must be one where the first decided exactly what it had
decided the cycle before (so a simulator may keep the last orders).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panelpilot.control import ChargerReading, Controller, Decision, Snapshot
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
        }
        command = draw(st.none() | _commands(site)) if draw(st.integers(0, 3)) == 0 else None
        # Cars whose on-board charger accepts less (tapering as they fill) or more, step by
        # step, reported to 0.1 A as the simulator's chargers do.
        tapering = {
            c.id: (
                draw(st.sampled_from([4.0, 12.0, 30.0, 48.0])),
                draw(st.sampled_from([0.05, 0.1, 0.3, 1.0, 3.0, -0.2])),
            )
            for c in site.chargers
            if draw(st.integers(0, 2)) == 0
        }
        # Cars that stay above their limit for a few steps once the load jumps (still ramping
        # down to a lower limit, which the controller holds room for).
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


def _run_both(world: World, plan: list[dict[str, Any]]) -> int:
    """Step both controllers through `plan`; return how many cycles were coasted."""
    # The one that decides every cycle makes no plans: planning must not change deciding.
    every, coaster = Controller(world.site), Controller(world.site, coasting=True)
    limits: dict[str, float] = {}
    t, coasted, last = 0.0, 0, None
    i = 0
    while i < len(plan):
        # The cycles ahead, as they would be if the limits stay as they are.
        ahead: list[Snapshot] = []
        tt = t
        for step in plan[i:]:
            tt += step["dt"]
            ahead.append(snapshot(world, tt, step, limits))
        first = ahead[0]
        run = 1
        while (
            run < len(ahead)
            and _same_but_current(ahead[run].chargers, first.chargers)
            and not ahead[run].commands
            and all(v is not None for v in ahead[run].meters.values())
        ):
            run += 1
        currents = {
            cid: [s.chargers[cid].current_a for s in ahead[:run]]
            for cid in first.chargers
            if any(s.chargers[cid].current_a != first.chargers[cid].current_a for s in ahead[:run])
        }
        meters = {
            m: [
                float(s.meters[m] or 0.0) if s.meters[m] is not None else float("nan")
                for s in ahead[:run]
            ]
            for m in first.meters
        }
        n = (
            0
            if first.commands
            else coaster.coast([s.t for s in ahead[:run]], meters, first.chargers, currents)
        )
        for snap in ahead[: max(n, 1)]:
            decision = every.decide(snap)
            if n:
                assert last is not None
                # What the devices are told is the same (a car's demand estimate and status,
                # which only inform, may follow its changing current).
                assert _orders(decision) == _orders(last), "coasted through a changed decision"
                assert decision.batteries == last.batteries
                assert decision.solar == last.solar
            else:
                assert coaster.decide(snap) == decision
            last = decision
        if n:
            coasted += n
        assert dataclasses.asdict(coaster.state) == dataclasses.asdict(every.state)
        step_count = max(n, 1)
        t = ahead[step_count - 1].t
        i += step_count
        limits = {k: v.limit_a for k, v in last.chargers.items()} if last else {}
    return coasted


def _same_but_current(a: Mapping[str, ChargerReading], b: Mapping[str, ChargerReading]) -> bool:
    return a.keys() == b.keys() and all(
        (a[c].online, a[c].connected, a[c].limit_a) == (b[c].online, b[c].connected, b[c].limit_a)
        for c in a
    )


def _orders(decision: Decision) -> dict[str, tuple[float, float, float, float]]:
    return {
        cid: (d.limit_a, d.fallback_a, d.target_a, d.lease_until_t)
        for cid, d in decision.chargers.items()
    }


@given(data=st.data())
@RUNS
def test_coasting_leaves_the_controller_exactly_where_deciding_would(data: st.DataObject) -> None:
    world = data.draw(sites(max_chargers=12))
    _run_both(world, data.draw(segments(world)))


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


def _settle(coasting: bool) -> tuple[Controller, dict[str, ChargerReading], float]:
    """Two cars sharing the network's 48 A for 30 cycles; the controller, the chargers'
    readings from then on, and the time of the last cycle."""
    site = load_site_text(SITE, "site.yaml")
    world = World(
        site, {"wc1": 48.0, "wc2": 48.0, "wc3": 0.0}, {"service": None, "garage": "service"}
    )
    controller = Controller(site, coasting=coasting)
    step = {
        "dt": 1.0,
        "load": {"site": 20.0, "garage": 10.0},
        "lost": set(),
        "offline": set(),
        "unplugged": {"wc3"},
        "follow": 1.0,
        "command": None,
    }
    limits: dict[str, float] = {}
    for t in range(1, 31):
        d = controller.decide(snapshot(world, float(t), step, limits))
        limits = {k: v.limit_a for k, v in d.chargers.items()}
    assert limits == {"wc1": 24.0, "wc2": 24.0, "wc3": 0.0}
    return controller, dict(snapshot(world, 31.0, step, limits).chargers), 30.0


def test_a_settled_network_coasts_until_a_load_takes_its_room() -> None:
    controller, chargers, t = _settle(coasting=True)
    # The garage shaped nothing (the network did): it may lose room down to what the cars
    # were given, one step each on top, and a spare 1 A and one step: up to 100 - 1 margin
    # - (24 + 1) x 2 - 1 - 1 = 47 A of other load coasts on that alone. Past it, allocate()
    # is asked: at 50 A the garage still has 49 A for the cars (they were given 48 A), at
    # 60 A only 39 A, and the cars would be lowered: coasting stops there.
    garage = [58.0, 60.0, 95.0, 98.0, 108.0, 58.0]  # 48 A of cars + 10, 12, 47, 50, 60, 10
    times = [t + 1 + i for i in range(len(garage))]
    lease_until_t = controller.state.chargers["wc1"].lease_until_t
    assert (
        controller.coast(times, {"site": [g + 20 for g in garage], "garage": garage}, chargers) == 4
    )
    assert controller.state.t == times[3]
    assert controller.state.uncontrolled_a["garage"] == 50.0
    # Coasting renews no lease: it stops before one falls due (the controller renews them).
    assert controller.state.chargers["wc1"].lease_until_t == lease_until_t
    # A car now drawing well below its limit would be capped (its memory moves), or a cycle
    # in the past: nothing is coasted.
    moved = {**chargers, "wc1": ChargerReading(True, True, 20.0)}
    assert controller.coast([times[4]], {"site": [70.0], "garage": [50.0]}, moved) == 0
    assert controller.coast([times[2]], {"site": [70.0], "garage": [50.0]}, chargers) == 0


def test_a_controller_made_without_coasting_never_coasts() -> None:
    controller, chargers, t = _settle(coasting=False)
    assert controller.coast([t + 1], {"site": [98.0], "garage": [58.0]}, chargers) == 0


def test_a_car_ramping_down_coasts_only_once_its_limit_decrease_has_settled() -> None:
    """A load takes the garage's room: the cars' limits go down while they still draw the old
    ones, and the controller holds room for that (hold). When the cars come down the hold
    ends, which is a change in memory: coasting must hand that cycle to decide."""
    site = load_site_text(SITE, "site.yaml")
    world = World(
        site, {"wc1": 48.0, "wc2": 48.0, "wc3": 0.0}, {"service": None, "garage": "service"}
    )
    every, coaster = Controller(site), Controller(site, coasting=True)
    limits: dict[str, float] = {}
    coasted = 0
    for t in range(1, 60):
        step = {
            "dt": 1.0,
            "load": {"site": 20.0, "garage": 10.0 if t < 30 else 75.0},
            "lost": set(),
            "offline": set(),
            "unplugged": {"wc3"},
            "follow": 1.0,
            "command": None,
            # From the cycle that lowers them, the cars take three cycles to come down.
            "over": {"wc1": 24.0 - limits["wc1"], "wc2": 24.0 - limits["wc2"]}
            if 30 < t <= 33
            else {},
        }
        snap = snapshot(world, float(t), step, limits)
        meters = {m: [float(v or 0.0)] for m, v in snap.meters.items()}
        decision = every.decide(snap)
        if coaster.coast([float(t)], meters, snap.chargers) == 1:
            coasted += 1
        else:
            assert coaster.decide(snap) == decision
        assert dataclasses.asdict(coaster.state) == dataclasses.asdict(every.state), t
        limits = {k: v.limit_a for k, v in decision.chargers.items()}
    assert limits["wc1"] + limits["wc2"] <= 100 - 1 - 75
    assert coasted > 30
