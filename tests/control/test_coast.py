"""`Controller.coast` runs settled cycles without building decisions: it must be exact.

Two controllers see the same closed loop. One decides every cycle; the other coasts whenever
it can and decides otherwise. Their memories must be equal after every cycle, and every cycle
the second one coasted through must be one where the first decided exactly what it had
decided the cycle before (so a simulator may keep the last orders).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panelpilot.control import ChargerReading, Controller, Snapshot
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
        for i in range(draw(st.integers(1, 40))):
            out.append(
                {
                    **shared,
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
            and ahead[run].chargers == first.chargers
            and not ahead[run].commands
            and all(v is not None for v in ahead[run].meters.values())
        ):
            run += 1
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
            else coaster.coast([s.t for s in ahead[:run]], meters, first.chargers)
        )
        for snap in ahead[: max(n, 1)]:
            decision = every.decide(snap)
            if n:
                assert last is not None
                assert decision.chargers == last.chargers, "coasted through a changed decision"
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
    assert (
        controller.coast(times, {"site": [g + 20 for g in garage], "garage": garage}, chargers) == 4
    )
    assert controller.state.t == times[3]
    assert controller.state.uncontrolled_a["garage"] == 50.0
    lease_s = controller.site.control.lease_s
    assert controller.state.chargers["wc1"].lease_until_t == times[3] + lease_s
    # A reading that changed, or a cycle in the past, coasts nothing.
    moved = {**chargers, "wc1": ChargerReading(True, True, 23.0)}
    assert controller.coast([times[4]], {"site": [70.0], "garage": [50.0]}, moved) == 0
    assert controller.coast([times[2]], {"site": [70.0], "garage": [50.0]}, chargers) == 0


def test_a_controller_made_without_coasting_never_coasts() -> None:
    controller, chargers, t = _settle(coasting=False)
    assert controller.coast([t + 1], {"site": [98.0], "garage": [58.0]}, chargers) == 0
