"""Commitments: the sum of what chargers may draw stays within every limit at every instant,
whatever fails next (issue 11).

The chargers here are the controller's counterparts at their worst within the bounds the
site file states: clocks off by up to `clock_skew_s` either way, decisions that reach them
late or not at all, links that drop, a car that follows a lower pilot only after
`response_s`; and the controller is killed at a random instant. What they may draw is
computed from what each charger holds on its own clock, not from the controller's envelope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panelpilot.control import ChargerReading, Command, Controller, Snapshot
from panelpilot.control.commitments import (
    Bounds,
    Commitment,
    StepSum,
    acknowledge,
    envelope,
    merged_envelope,
    settle,
    with_new,
)
from panelpilot.control.leases import Leases
from panelpilot.site import load_site_text
from panelpilot.site.model import ControlSettings

TOL = 1e-6


def site_yaml(n: int, network_a: float, circuit_a: float, max_a: float = 48) -> str:
    chargers = "".join(
        f"  - {{id: wc{i}, circuit: garage, network: net, max_a: {max_a}}}\n" for i in range(n)
    )
    return (
        f"circuits:\n  - id: garage\n    limit_a: {circuit_a}\n"
        f"networks:\n  - {{id: net, circuit: garage, network_limit_a: {network_a}}}\n"
        f"chargers:\n{chargers}"
    )


@dataclass
class FieldCharger:
    """One charger on its own clock, with its car: the worst car within J1772, which takes
    all it is offered at once and follows a lower pilot only `response_s` later."""

    clock_error_s: float  # its clock reads real time + this
    delay_cycles: int  # how many cycles a decision takes to reach it (and its answer us)
    max_a: float = 48.0
    applied: list[tuple[float, float, float, float]] = field(default_factory=list)
    # (real time applied, limit, fallback, lease end on the controller's clock)
    inbox: list[tuple[int, float, float, float, float]] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)  # when each applied one was decided
    online: bool = True
    want_a: float = 0.0  # what the car would take
    draw_a: float = 0.0  # what the car draws
    pilots: list[tuple[float, float]] = field(default_factory=list)  # (t, pilot) history

    def pilot_at(self, t: float) -> float:
        """Its pilot at real time `t`: the newest commitment applied by then, on its clock.
        Before any, 0: the driver holds a new transaction back until our first profile is in
        force (tests/drivers/ocpp check that start-up sequence on the wire)."""
        held = [a for a in self.applied if a[0] <= t]
        if not held:
            return 0.0
        _, limit_a, fallback_a, until_t = held[-1]
        return limit_a if t + self.clock_error_s < until_t else fallback_a

    def step(self, t: float, response_s: float) -> None:
        """The car at `t`: up at once, down only once the lower pilot is `response_s` old."""
        pilot = self.pilot_at(t)
        self.pilots.append((t, pilot))
        lagged = max(p for at, p in self.pilots if at >= t - response_s - 1e-9)
        offered = min(self.want_a, pilot)
        self.draw_a = max(offered, min(self.draw_a, lagged, self.want_a))

    def acknowledged(self) -> float | None:
        return self.applied[-1][3] if self.applied else None


@given(
    n=st.integers(2, 6),
    network=st.integers(0, 40),
    errors=st.lists(st.floats(-10, 10), min_size=6, max_size=6),
    delays=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    wants=st.lists(st.sampled_from([0.0, 6.0, 16.0, 48.0]), min_size=6, max_size=6),
    events=st.lists(
        st.tuples(
            st.integers(0, 119),
            st.sampled_from(["drop", "back", "want", "limit"]),
            st.integers(0, 5),
            st.sampled_from([0.0, 6.0, 16.0, 48.0]),
        ),
        max_size=12,
    ),
    kill_at=st.integers(1, 120),
)
@settings(max_examples=60, deadline=None)
def test_sum_of_what_cars_draw_never_exceeds_the_network_even_when_killed(
    n: int,
    network: int,
    errors: list[float],
    delays: list[int],
    wants: list[float],
    events: list[tuple[int, str, int, float]],
    kill_at: int,
) -> None:
    """Random clocks (+-10 s), late deliveries (0-3 cycles), links that drop and come back,
    cars that come and go, the network limit changed; killed at a random cycle. From the
    first instant on, sampled every 0.25 s until every lease has lapsed, the cars on the
    network never draw more than its limit: the one in force, or one in force until a car
    could have followed its change (a lowered limit reaches a charger up to 3 cycles late,
    and its car follows up to `response_s` later); after the kill, the last one set."""
    limit_a = 6 * n + network
    site = load_site_text(site_yaml(n, limit_a, 200), "site.yaml")
    response = site.control.response_s
    ids = [c.id for c in site.chargers]
    chargers = {cid: FieldCharger(errors[i], delays[i]) for i, cid in enumerate(ids)}
    for i, cid in enumerate(ids):
        chargers[cid].want_a = wants[i]
    controller = Controller(site)
    netlimit = float(limit_a)
    in_force: list[tuple[float, float]] = [(0.0, netlimit)]  # (from t, network limit)
    end = kill_at + 4 * site.control.lease_s
    step_s = 0.25
    t = 0.0
    while t <= end:
        cycle = int(t)
        if abs(t - cycle) < 1e-9:
            # What was sent before the kill is on its way and still arrives.
            for fc in chargers.values():
                due = [m for m in fc.inbox if m[0] <= cycle]
                fc.inbox = [m for m in fc.inbox if m[0] > cycle]
                if fc.online:
                    fc.applied += [(t, limit, fb, until) for _, limit, fb, until, _ in due]
                    fc.sent += [m[4] for m in due]
        if abs(t - cycle) < 1e-9 and cycle < kill_at:
            commands: tuple[Command, ...] = ()
            for when, what, who, amps in events:
                if when != cycle:
                    continue
                fc = chargers[ids[who % n]]
                if what == "drop":
                    fc.online = False
                elif what == "back":
                    fc.online = True
                elif what == "want":
                    fc.want_a = amps
                elif what == "limit":
                    netlimit = max(6.0 * n, min(limit_a, float(6 * n + int(amps))))
                    commands = (
                        Command("net", enabled=False),
                        Command("net", network_limit_a=netlimit),
                        Command("net", enabled=True),
                    )
            readings = {
                cid: ChargerReading(
                    True,
                    fc.want_a > 0,
                    fc.draw_a,
                    limit_a=fc.pilot_at(t) if fc.applied else fc.max_a,
                    commitment_t=fc.acknowledged(),
                )
                for cid, fc in chargers.items()
                if fc.online
            }
            d = controller.decide(Snapshot(t, {}, readings, commands=commands))
            if d.networks["net"].limit_a != in_force[-1][1]:
                in_force.append((t, d.networks["net"].limit_a))
            for cid, cd in d.chargers.items():
                fc = chargers[cid]
                if cid in readings:
                    fc.inbox.append(
                        (cycle + fc.delay_cycles, cd.limit_a, cd.fallback_a, cd.lease_until_t, t)
                    )
        for fc in chargers.values():
            fc.step(t, response)
        total = sum(fc.draw_a for fc in chargers.values())
        # The limits a car may still be following: those in force since the oldest
        # commitment any charger holds was decided (less its car's response and a cycle).
        oldest = min((fc.sent[-1] for fc in chargers.values() if fc.sent), default=0.0)
        since = min(t - (response + 3 + 1), oldest - 1)
        cap = max(
            v
            for n_, (at, v) in enumerate(in_force)
            if at <= t and (n_ + 1 == len(in_force) or in_force[n_ + 1][0] > since)
        )
        assert total <= cap + TOL, (t, total, cap)
        t += step_s


def test_an_offline_charger_is_reserved_at_the_fallback_it_holds_after_the_limit_drops() -> None:
    # 12 chargers on 150 A fall back to 12.5 A; two go offline; the installer lowers the
    # limit to 120 A (fallback 10 A). The two still hold 12.5 A: the ten others fall back to
    # (120 - 25) / 10 = 9.5 A, so the fallbacks never sum above 120 A.
    site = load_site_text(site_yaml(12, 150, 200), "site.yaml")
    controller = Controller(site)
    everyone = {f"wc{i}": ChargerReading(True, True, 0.0) for i in range(12)}
    for t in range(3):
        d = controller.decide(Snapshot(float(t), {}, everyone))
    assert d.chargers["wc0"].fallback_a == 12.5
    online = {k: v for k, v in everyone.items() if k not in ("wc10", "wc11")}
    lower = (
        Command("net", enabled=False),
        Command("net", network_limit_a=120),
        Command("net", enabled=True),
    )
    for t in range(3, 200):
        d = controller.decide(Snapshot(float(t), {}, online, commands=lower if t == 3 else ()))
    assert d.chargers["wc10"].fallback_a == 12.5  # what it holds
    assert d.chargers["wc10"].limit_a >= 12.5  # reserved at least at that
    assert d.chargers["wc0"].fallback_a == 9.5
    assert sum(c.fallback_a for c in d.chargers.values()) <= 120 + TOL


def test_current_freed_by_a_lease_end_is_reused_only_after_skew_and_response() -> None:
    # wc1 alone takes the network's 40 A (its fallback 20 A). A car arrives at wc0 as wc1's
    # link goes silent: wc1's commitment binds until its lease end plus the clock error plus
    # the car's response, so wc0 waits (paused) until then, and then gets 40 - 20 = 20 A.
    site = load_site_text(site_yaml(2, 40, 100), "site.yaml")
    controller = Controller(site)
    d = None
    for second in range(0, 3):
        d = controller.decide(
            Snapshot(
                float(second),
                {},
                {"wc0": ChargerReading(True, False), "wc1": ChargerReading(True, True, 40.0)},
            )
        )
    assert d is not None and d.chargers["wc1"].limit_a == 40
    until = d.chargers["wc1"].lease_until_t
    free_at = until + site.control.clock_skew_s + site.control.response_s
    seen: list[tuple[float, float, float]] = []
    t = 3.0
    while t < free_at + 3:
        d = controller.decide(Snapshot(t, {}, {"wc0": ChargerReading(True, True, 0.0)}))
        seen.append((t, d.chargers["wc0"].limit_a, d.chargers["wc1"].limit_a))
        t += 1.0
    for when, wc0, wc1 in seen:
        if when < free_at:
            assert (wc0, wc1) == (0, 40), when
    assert seen[-1][1:] == (20, 20)


def test_envelope_counts_a_replaced_commitment_until_acknowledged_and_followed() -> None:
    bounds = Bounds(skew_s=10, response_s=5)
    old = Commitment(40, 20, until_t=100, sent_t=0, acked_t=0)
    new = Commitment(10, 20, until_t=150, sent_t=50)
    held = (old, new)
    # Sent, not acknowledged: both possible.
    assert envelope(held, 50, bounds) == ((50, 40), (115, 20))
    acked = acknowledge(held, 150, 52)
    # Acknowledged at 52: the car may take 5 s to come down from 40 A.
    assert envelope(acked, 53, bounds) == ((53, 40), (57, 10), (140, 20))
    assert len(settle(acked, 57, bounds)) == 1
    assert len(settle(acked, 53, bounds, followed=True)) == 1


def test_step_sum_refuses_only_where_a_change_adds_beyond_the_capacity() -> None:
    total = StepSum(0, [((0, 20), (50, 10)), ((0, 10), (40, 30))])
    assert total.values == [30, 50, 40]
    assert total.fits(((0, 10), (40, 0)), 40)  # adds only before 40 s, where 30 + 10 fits
    assert not total.fits(((0, 0), (40, 5)), 44)  # 50 + 5 > 44 at 40..50 s
    total.add(((0, 10), (40, 0)))
    assert total.values == [40, 50, 40]
    assert envelope((), 0, Bounds(1, 1)) == ((0, 0.0),)  # nothing held: nothing drawn


GARAGE = """
circuits:
  - id: garage
    limit_a: 80
    meter: garage
chargers:
  - {id: wc0, circuit: garage, max_a: 32, fallback_a: 0}
  - {id: wc1, circuit: garage, max_a: 32, fallback_a: 0}
  - {id: wc2, circuit: garage, max_a: 32, fallback_a: 0}
  - {id: wc3, circuit: garage, max_a: 32, fallback_a: 0}
control: {margin_a: 0}
"""


@pytest.mark.parametrize(
    "lie",
    [
        lambda real, t: 999.0,  # a broken or hostile meter
        lambda real, t: 0.0,  # under-reports
        lambda real, t: 20.0,  # frozen at an old value
        lambda real, t: real * 3,  # over-reports in proportion
    ],
    ids=["999 A", "under-reports", "frozen", "triple"],
)
def test_a_lying_charger_meter_cannot_keep_a_metered_circuit_over_its_limit(lie: Any) -> None:
    """30 A of other load on an 80 A garage, four cars that take 32 A each, and wc1's meter
    lies: within two cycles plus the car's response the real current is under the limit,
    and stays there."""
    site = load_site_text(GARAGE, "garage.yaml")
    controller = Controller(site)
    cars = {f"wc{i}": FieldCharger(0.0, 0) for i in range(4)}
    for fc in cars.values():
        fc.want_a = 32.0
    other = 30.0
    settle_by = 2 * site.control.period_s + site.control.response_s
    real_seen: list[tuple[float, float]] = []
    t = 0.0
    while t <= 120:
        if abs(t - round(t)) < 1e-9:
            for fc in cars.values():
                fc.applied += [(t, lim, fb, until) for _, lim, fb, until, _ in fc.inbox]
                fc.inbox = []
            readings = {
                cid: ChargerReading(
                    True,
                    True,
                    lie(fc.draw_a, t) if cid == "wc1" else fc.draw_a,
                    commitment_t=fc.acknowledged(),
                )
                for cid, fc in cars.items()
            }
            metered = other + sum(fc.draw_a for fc in cars.values())
            d = controller.decide(Snapshot(t, {"garage": metered}, readings))
            for cid, cd in d.chargers.items():
                cars[cid].inbox.append((0, cd.limit_a, cd.fallback_a, cd.lease_until_t, t))
        for fc in cars.values():
            fc.step(t, site.control.response_s)
        real_seen.append((t, other + sum(fc.draw_a for fc in cars.values())))
        t += 0.25
    over = [(at, a) for at, a in real_seen if a > 80 + TOL]
    # The first profiles need a cycle to arrive; after that, never over for longer than
    # two cycles plus the response time.
    assert all(at <= settle_by + 1 for at, _ in over), [o for o in over if o[0] > settle_by + 1][
        ::8
    ]
    assert real_seen[-1][1] <= 80 + TOL


# A commitment as a charger may hold it: sent at 0 s, acknowledged at 5 s, 20 s or not yet.
HELD = st.builds(
    Commitment,
    st.sampled_from([0.0, 6.0, 16.0, 32.0]),
    st.sampled_from([0.0, 6.0, 16.0]),
    st.sampled_from([10.0, 25.0, 40.0, 55.0]),
    st.just(0.0),
    st.sampled_from([None, 5.0, 20.0]),
)


@given(
    limit=st.sampled_from([0.0, 6.0, 16.0, 32.0]),
    fallback=st.sampled_from([0.0, 6.0, 16.0, 32.0]),
    until=st.floats(-100, 100),
    acked=st.booleans(),
    t=st.floats(-100, 100),
)
def test_one_commitments_envelope_is_the_general_merge(
    limit: float, fallback: float, until: float, acked: bool, t: float
) -> None:
    c = Commitment(limit, fallback, until, -200.0, -150.0 if acked else None)
    bounds = Bounds(10.0, 5.0)
    assert envelope((c,), t, bounds) == merged_envelope((c,), t, bounds)


@given(
    held=st.lists(HELD, min_size=1, max_size=3),
    times=st.lists(
        st.sampled_from([0.0, 1.0, 4.9, 5.0, 14.0, 15.0, 29.0, 44.99, 60.0]), max_size=8
    ),
)
def test_a_remembered_envelope_is_the_envelope(held: list[Commitment], times: list[float]) -> None:
    """Reused from the last cycle while nothing in it has stepped, recomputed otherwise."""
    leases = Leases(ControlSettings.model_validate({"clock_skew_s": 10.0, "response_s": 5.0}))
    pair = tuple(held)
    for t in sorted(times):
        assert leases.held_envelope("wc1", pair, t) == envelope(pair, t, leases.bounds), t


@given(
    held=st.lists(HELD, max_size=3),
    new=st.builds(
        Commitment,
        st.sampled_from([0.0, 6.0, 16.0, 32.0]),
        st.sampled_from([0.0, 6.0, 16.0]),
        st.sampled_from([10.0, 25.0, 40.0, 70.0]),
        st.just(0.0),
        st.none(),  # a commitment about to be sent: nobody has acknowledged it
    ),
    t=st.sampled_from([0.0, 1.0, 5.0, 14.0, 15.0, 30.0, 50.0]),
)
def test_adding_a_new_commitment_is_the_general_merge(
    held: list[Commitment], new: Commitment, t: float
) -> None:
    bounds = Bounds(10.0, 5.0)
    old = envelope(tuple(held), t, bounds)
    assert with_new(old, new, t, bounds) == merged_envelope((*held, new), t, bounds)
