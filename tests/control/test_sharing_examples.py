"""Power sharing with the seed's own numbers, as cycle-by-cycle tables."""

from __future__ import annotations

from itertools import pairwise

import pytest

from panelpilot.control import ChargerStatus, Command, NetworkStatus
from panelpilot.site import SiteFileError, load_site, load_site_text
from tests.control.harness import Loop, limits, network_site

EXAMPLES = "examples"


def test_leader_page_150_a_4_units_40_a_each_share_the_network_limit() -> None:
    loop = Loop(load_site(f"{EXAMPLES}/leader-network.yaml"))
    loop.wants_a = {f"wc{i}": 48.0 for i in range(1, 5)}  # every car wants more than 40 A
    d = loop.settle()
    assert sum(limits(d)) == 150
    assert sorted(limits(d)) == [37, 37, 38, 38]  # fair within 1 A
    assert d.networks["leader-net"].status is NetworkStatus.LIMITED
    assert all(c.status is ChargerStatus.LIMITED for c in d.chargers.values())
    # Car 2 unplugs: the other three get their 40 A max, 120 A <= 150 A.
    del loop.wants_a["wc2"]
    d = loop.settle()
    assert limits(d) == [40, 0, 40, 40]
    assert d.chargers["wc2"].status is ChargerStatus.IDLE
    assert d.networks["leader-net"].status is NetworkStatus.CHARGING


def test_follower_page_110_a_3_units_fallback_is_36_6_and_one_unit_gets_38() -> None:
    loop = Loop(load_site(f"{EXAMPLES}/follower-network.yaml"))
    loop.wants_a = {"wc1": 40.0, "wc2": 40.0, "wc3": 40.0}
    d = loop.settle()
    assert sorted(limits(d)) == [36, 37, 37]
    # 110 / 3 = 36.67 A, bounded to the unit (6..40 A), rounded down to 0.1 A.
    assert {c.fallback_a for c in d.chargers.values()} == {36.6}
    # One car's on-board charger takes only 32 A: its spare current goes to the others.
    loop.wants_a["wc3"] = 32.0
    d = loop.settle(30)
    # Capped at its real draw: its 2 A headroom comes only from what is left, and nothing is.
    assert d.chargers["wc3"].limit_a == 32
    assert d.chargers["wc3"].status is ChargerStatus.CHARGING
    assert sorted([d.chargers["wc1"].limit_a, d.chargers["wc2"].limit_a]) == [39, 39]
    net = d.networks["follower-net"]
    assert net.size == 3 and net.connections == 3 and net.limit_a == 110


def test_fallback_is_network_limit_over_size_bounded_to_the_unit() -> None:
    # 80 A / 6 = 13.3 A; 200 A / 2 = 100 A bounded to a 48 A unit; 12 A / 2 = 6 A.
    cases = [(80, 6, 48, 13.3), (200, 2, 48, 48.0), (12, 2, 48, 6.0), (150, 4, 40, 37.5)]
    for limit, size, max_a, expect in cases:
        loop = Loop(network_site(limit, size, max_a))
        d = loop.step()
        assert {c.fallback_a for c in d.chargers.values()} == {expect}, (limit, size)


def test_network_limit_below_6_a_per_unit_is_refused_in_the_site_file() -> None:
    with pytest.raises(SiteFileError) as info:
        network_site(30, 6, 32)
    assert "30 A is below 6 A x 6 chargers = 36 A" in str(info.value)


def test_network_limit_below_6_a_per_unit_is_refused_as_a_setting() -> None:
    loop = Loop(network_site(80, 6, 32))
    loop.step(commands=(Command("net", enabled=False),))
    d = loop.step(commands=(Command("net", network_limit_a=30),))
    assert [a.code for a in d.alerts if a.code == "setting_rejected"] == ["setting_rejected"]
    assert "30 A is below 6 A x 6 chargers = 36 A" in d.alerts[0].message
    assert d.networks["net"].limit_a == 80


def test_settings_change_only_while_the_network_is_disabled() -> None:
    loop = Loop(network_site(80, 4, 32))
    loop.wants_a = {f"wc{i}": 32.0 for i in range(1, 5)}
    d = loop.step(commands=(Command("net", network_limit_a=60),))
    assert d.networks["net"].limit_a == 80
    assert any(a.code == "setting_rejected" and "disable it" in a.message for a in d.alerts)
    # Disabled: every member runs at its fallback, 80 / 4 = 20 A.
    loop.step(commands=(Command("net", enabled=False),))
    d = loop.settle()
    assert d.networks["net"].status is NetworkStatus.DISABLED
    assert limits(d) == [20, 20, 20, 20]
    d = loop.step(commands=(Command("net", network_limit_a=60),))
    assert d.networks["net"].limit_a == 60
    loop.step(commands=(Command("net", enabled=True),))
    d = loop.settle()
    assert limits(d) == [15, 15, 15, 15]


def test_disabled_network_runs_every_member_at_its_fallback() -> None:
    loop = Loop(load_site(f"{EXAMPLES}/follower-network.yaml"))
    loop.wants_a = {"wc1": 40.0}  # one car; the other two units have none
    loop.step(commands=(Command("follower-net", enabled=False),))
    d = loop.settle()
    assert limits(d) == [36.6, 36.6, 36.6]  # 110 A / 3, not shared any more
    assert any(a.code == "network_disabled" for a in d.alerts)


def test_removed_unit_is_held_at_6_a_until_power_cycled() -> None:
    loop = Loop(network_site(80, 3, 32))
    loop.wants_a = {"wc1": 32.0, "wc2": 32.0, "wc3": 32.0}
    loop.settle()
    loop.step(commands=(Command("net", enabled=False),))
    d = loop.step(commands=(Command("net", remove="wc3"),))
    assert d.networks["net"].size == 2
    d = loop.settle()
    assert d.chargers["wc3"].limit_a == 6 and d.chargers["wc3"].fallback_a == 6
    assert any(a.code == "charger_removed" for a in d.alerts)
    # Power cycle: the unit goes silent, then comes back with its own configuration.
    loop.offline = {"wc3"}
    loop.step()
    loop.offline = set()
    d = loop.settle()
    assert d.chargers["wc3"].limit_a == 32
    assert not any(a.code == "charger_removed" for a in d.alerts)


def test_lowers_first_and_raises_only_when_the_freed_current_is_really_free() -> None:
    site = network_site(80, 2, 48)
    loop = Loop(site)
    loop.wants_a = {"wc1": 48.0}
    d = loop.settle()
    assert limits(d) == [48, 0]
    # A second car arrives: wc1 is lowered at once; wc2 gets only what is free while wc1
    # may still draw its old 48 A (48 + 32 = 80 A), and the rest once wc1 follows.
    loop.wants_a["wc2"] = 48.0
    d = loop.step()
    assert limits(d) == [40, 32]
    assert d.chargers["wc2"].target_a == 40
    d = loop.step()  # wc1 now draws 40 A (the harness follows in one step)
    assert limits(d) == [40, 40]


def test_a_car_that_does_not_follow_is_waited_for_up_to_the_j1772_bound() -> None:
    loop = Loop(network_site(80, 2, 48))
    loop.wants_a = {"wc1": 48.0}
    loop.settle()
    controller = loop.controller
    assert controller is not None
    from panelpilot.control import ChargerReading, Snapshot

    seen: list[tuple[float, float]] = []
    wc2 = 0.0
    for t in range(1, 8):  # wc1 keeps drawing 48 A, ignoring its lower pilot
        snap = Snapshot(
            loop.t + t,
            {"site": 48.0 + wc2},
            {
                "wc1": ChargerReading(True, True, 48.0 if t < 7 else 40.0),
                "wc2": ChargerReading(True, True, wc2),
            },
        )
        d = controller.decide(snap)
        wc2 = d.chargers["wc2"].limit_a
        seen.append((d.chargers["wc1"].limit_a, wc2))
    # 40 A for wc1 at once; wc2 gets 80 - 48 = 32 A while wc1 may still draw 48 A, and
    # its fair 40 A once the J1772 bound (5 s) has passed.
    assert all(pair == (40, 32) for pair in seen[:5])
    assert seen[5] == (40, 40)


def test_shared_panel_other_loads_rise_cars_pause_and_take_turns() -> None:
    site = load_site_text("""
circuits:
  - {id: panel, limit_a: 40, meter: panel}
chargers:
  - {id: a, circuit: panel, max_a: 32}
  - {id: b, circuit: panel, max_a: 32}
  - {id: c, circuit: panel, max_a: 32}
control: {margin_a: 1, rotation_s: 600}
""")
    loop = Loop(site)
    loop.wants_a = {"a": 32.0, "b": 32.0, "c": 32.0}
    d = loop.settle()
    assert sorted(limits(d)) == [13, 13, 13]  # 39 A among 3
    loop.load_a = {"panel": 30.0}  # an oven and a dryer: 9 A left for chargers
    d = loop.settle()
    assert sorted(limits(d)) == [0, 0, 9]  # room for one 6 A minimum, not two
    paused = {k for k, v in d.chargers.items() if v.status is ChargerStatus.PAUSED}
    assert len(paused) == 2
    assert any(a.code == "capacity_shortage" for a in d.alerts)
    charging_before = {k for k, v in d.chargers.items() if v.limit_a > 0}
    served: set[str] = set(charging_before)
    for _ in range(3):
        d = loop.settle(610)
        served |= {k for k, v in d.chargers.items() if v.limit_a > 0}
    assert served == {"a", "b", "c"}  # nobody waits forever


def test_offline_charger_is_reserved_at_its_fallback() -> None:
    loop = Loop(network_site(80, 4, 48))
    loop.wants_a = {f"wc{i}": 48.0 for i in range(1, 5)}
    d = loop.settle()
    assert sum(limits(d)) == 80
    loop.offline = {"wc4"}
    d = loop.settle(40)  # past the lease: wc4 is at its 20 A fallback
    assert d.chargers["wc4"].status is ChargerStatus.UNRESPONSIVE
    assert d.chargers["wc4"].limit_a == 20
    assert sum(d.chargers[c].limit_a for c in ("wc1", "wc2", "wc3")) == 60


def test_lost_meter_never_raises_and_alerts() -> None:
    site = load_site_text("""
circuits:
  - {id: panel, limit_a: 80, meter: panel}
chargers:
  - {id: a, circuit: panel, max_a: 48}
  - {id: b, circuit: panel, max_a: 48}
""")
    loop = Loop(site)
    loop.wants_a = {"a": 48.0}
    before = loop.settle()
    loop.lost = {"panel"}
    loop.wants_a["b"] = 48.0
    for _ in range(10):
        d = loop.step()
        assert d.chargers["a"].limit_a <= before.chargers["a"].limit_a
        assert d.chargers["b"].limit_a == 0
        assert any(a.code == "meter_lost" for a in d.alerts)


def test_a_charger_that_ignores_its_limit_is_counted_at_what_it_reports() -> None:
    from panelpilot.control import ChargerReading, Controller, Snapshot

    controller = Controller(network_site(80, 3, 48))
    seen = []
    for t in range(1, 10):
        # wc1 rejected its profile: it runs at its 48 A max whatever it is told.
        d = controller.decide(
            Snapshot(
                float(t),
                {"site": 48.0},
                {
                    "wc1": ChargerReading(True, True, 48.0, limit_a=48.0),
                    "wc2": ChargerReading(True, True, 0.0),
                    "wc3": ChargerReading(True, True, 0.0),
                },
            )
        )
        seen.append(d)
    last = seen[-1]
    assert last.chargers["wc2"].limit_a + last.chargers["wc3"].limit_a <= 80 - 48
    assert any(a.code == "charger_not_following" for a in last.alerts)
    assert not any(a.code == "charger_not_following" for a in seen[0].alerts)  # not at once


def _probes(
    loop: Loop, cid: str, seconds: int, beside: tuple[str, float] | None = None
) -> list[float]:
    """Times at which the car's limit rises (a probe), over `seconds` cycles; with `beside`
    (a charger, the least it may be left), also checks that car never gives way further."""
    times = []
    for _ in range(seconds):
        before = loop.limits.get(cid, 0.0)
        d = loop.step()
        if d.chargers[cid].limit_a > before + 1:
            times.append(loop.t)
        if beside is not None:
            other, least_a = beside
            assert d.chargers[other].limit_a >= least_a, (loop.t, d.chargers[other])
    return times


def test_a_capped_car_that_never_takes_a_probe_is_probed_half_as_often_each_time() -> None:
    # 50 A for wc1 (wants 40) and wc2 (a small on-board charger, 12 A): wc2 is capped at
    # 14 A (its draw + headroom_a), of which it claims the 12 it draws; wc1 has the 38 left.
    site = network_site(limit_a=50, size=2, max_a=40)
    loop = Loop(site)
    loop.wants_a = {"wc1": 40.0, "wc2": 12.0}
    d = loop.settle(30)
    assert (d.chargers["wc1"].limit_a, d.chargers["wc2"].limit_a) == (38, 12)
    # A probe offers wc2 its whole demand, headroom included (14 A), not its charger's 40:
    # wc1 gives way by the 2 A of headroom only (never below 36 A).
    probes = _probes(loop, "wc2", 4000, beside=("wc1", 50 - 14))
    gaps = [b - a for a, b in pairwise(probes)]
    # Each probe waits a cycle for wc1's lower reading, settles (5 s) and caps the car
    # again; the wait after that doubles, from probe_s (60 s) up to probe_max_s (900 s).
    assert [round(g) for g in gaps[:5]] == [126, 246, 486, 906, 906]
    assert loop.limits == {"wc1": 38, "wc2": 12}


def test_a_car_that_uses_all_it_is_offered_is_probed_every_probe_s_again() -> None:
    site = network_site(limit_a=50, size=2, max_a=40)
    loop = Loop(site)
    loop.wants_a = {"wc1": 40.0, "wc2": 12.0}
    loop.settle(30)
    _probes(loop, "wc2", 1500)  # the wait has grown to 900 s
    loop.wants_a["wc2"] = 40.0  # at its next probe it draws all of its 14 A: it may want more
    loop.settle(960)
    assert loop.limits == {"wc1": 25, "wc2": 25}
    loop.wants_a["wc2"] = 12.0  # and is full again
    probes = _probes(loop, "wc2", 600)
    gaps = [b - a for a, b in pairwise(probes)]
    assert [round(g) for g in gaps[:2]] == [126, 246]


def test_a_car_plugged_in_waits_for_its_turn_from_then_first_come_first_served() -> None:
    # 12 A holds two 6 A minimums. a and b charge; then z plugs in, and y 60 s later.
    site = load_site_text("""
circuits:
  - {id: panel, limit_a: 12}
chargers:
  - {id: a, circuit: panel, max_a: 32, fallback_a: 0}
  - {id: b, circuit: panel, max_a: 32, fallback_a: 0}
  - {id: y, circuit: panel, max_a: 32, fallback_a: 0}
  - {id: z, circuit: panel, max_a: 32, fallback_a: 0}
control: {rotation_s: 600}
""")
    loop = Loop(site)
    loop.wants_a = {"a": 32.0, "b": 32.0}
    loop.settle(1000)  # both turns are long up, and nobody waited
    z_plugged_t = loop.t
    loop.wants_a["z"] = 32.0
    loop.settle(59)
    loop.wants_a["y"] = 32.0
    first_current_t: dict[str, float] = {}
    while len(first_current_t) < 2:
        d = loop.step()
        assert sum(limits(d)) <= 12
        for cid in ("y", "z"):
            if d.chargers[cid].limit_a > 0:
                first_current_t.setdefault(cid, loop.t)
        assert loop.t < z_plugged_t + 2000
    # Each new car's wait counts from its own plug-in, not from when its charger last had a
    # car (never, here): neither jumps ahead of a and b at once, z goes before y, and each
    # waits no more than `rotation_s` and the few seconds a pause and a start take.
    assert first_current_t["z"] < first_current_t["y"]
    assert 600 <= first_current_t["z"] - z_plugged_t <= 620
    assert 600 <= first_current_t["y"] - (z_plugged_t + 60) <= 620
