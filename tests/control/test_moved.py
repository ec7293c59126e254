"""Steady cycles while chargers' currents wander (`control/moved.py`): a reading whose current
alone moved, and moves nothing the cycle decides, keeps the fixed point; one that moves the
car's demand estimate is decided by every step. Both ways the decisions and the memory are a
full controller's."""

from __future__ import annotations

from dataclasses import replace

from panelpilot.control import ChargerReading, Controller, Snapshot
from panelpilot.control.demand import settled, update
from panelpilot.control.state import ChargerMemory
from panelpilot.site import load_site_text
from tests.control.test_steady import Counting

SITE_TEXT = """
circuits:
  - {id: service, limit_a: 100}
networks:
  - {id: net, circuit: service, network_limit_a: 48}
chargers:
  - {id: wc1, circuit: service, network: net, max_a: 32}
  - {id: wc2, circuit: service, network: net, max_a: 32}
"""
SITE = load_site_text(SITE_TEXT, "site.yaml")


def _snap(t: float, wc1_a: float, wc2_a: float) -> Snapshot:
    return Snapshot(
        t, {}, {"wc1": ChargerReading(True, True, wc1_a), "wc2": ChargerReading(True, True, wc2_a)}
    )


def test_a_current_wandering_at_its_limit_keeps_the_fixed_point() -> None:
    fast, full = Counting(SITE), Controller(SITE, incremental=False)
    t = 0.0
    for _ in range(20):  # settle: both at 24 A, using all they get
        t += 1.0
        decided = fast.decide(_snap(t, 24.0, 24.0))
        assert replace(decided, chargers_since_t=t) == full.decide(_snap(t, 24.0, 24.0))
    before = fast.steady_cycles
    for i in range(10):  # wc1 reads 23.9 and 24.1 in turn: within a step of its limit
        t += 1.0
        snap = _snap(t, 24.0 + (0.1 if i % 2 else -0.1), 24.0)
        decided, reference = fast.decide(snap), full.decide(snap)
        assert replace(decided, chargers_since_t=t) == reference
        assert fast.state == full.state
        assert decided.networks["net"].current_a == round(snap.chargers["wc1"].current_a + 24.0, 3)
    assert fast.steady_cycles - before >= 8  # (a timer may fall due on the way)


def test_a_current_that_moves_the_demand_is_decided_in_full() -> None:
    fast, full = Counting(SITE), Controller(SITE, incremental=False)
    t = 0.0
    for _ in range(20):
        t += 1.0
        fast.decide(_snap(t, 24.0, 24.0))
        full.decide(_snap(t, 24.0, 24.0))
    before = fast.steady_cycles
    t += 1.0
    snap = _snap(t, 18.0, 24.0)  # wc1's car now draws well below its limit: it is capped
    decided, reference = fast.decide(snap), full.decide(snap)
    assert fast.steady_cycles == before
    assert replace(decided, chargers_since_t=t) == reference
    assert fast.state == full.state
    assert fast.state.chargers["wc1"].demand_a < 24.0


def test_a_tapering_car_gets_a_new_limit_once_per_step_and_its_readings_keep_the_fixed_point() -> (
    None
):
    # wc1's battery tapers from 20 A to 15 A, 0.1 A every 5 s; wc2 uses all it is given,
    # and the network has room for both (the limit given to wc1 is its demand).
    site = load_site_text(SITE_TEXT.replace("network_limit_a: 48", "network_limit_a: 60"), "s.yaml")
    fast, full = Counting(site), Controller(site, incremental=False)
    t, limits, sent = 0.0, {"wc1": 0.0, "wc2": 0.0}, list[float]()
    for i in range(400):
        t += 1.0
        taper = max(15.0, 20.0 - 0.1 * (max(0, i - 60) // 5))
        snap = _snap(t, min(taper, limits["wc1"]), limits["wc2"])
        decided, reference = fast.decide(snap), full.decide(snap)
        assert replace(decided, chargers_since_t=t) == reference
        assert fast.state == full.state
        limits = {c: d.limit_a for c, d in decided.chargers.items()}
        if not sent or sent[-1] != limits["wc1"]:
            sent.append(limits["wc1"])
        if i > 120 and not fast.state.chargers["wc1"].probing:
            assert limits["wc1"] == int(limits["wc1"])  # whole steps (`resolution_a`)
            assert limits["wc1"] >= taper + site.control.headroom_a - 1e-9
    # Down from 22 A (20 + 2 of headroom) to 17 A once per step, and a probe now and then
    # (offered more, it draws no more), not once per 0.1 A reading: the readings between
    # are steady cycles (`moved`).
    tapering = [a for a in sent if a < 22.0]
    assert [a for i, a in enumerate(tapering) if i == 0 or tapering[i - 1] != a] == [
        21.0,
        20.0,
        19.0,
        18.0,
        17.0,
    ], sent
    assert len(sent) <= 15
    assert fast.steady_cycles >= 300


def test_a_cycle_that_changed_only_demand_estimates_is_a_fixed_point_only_if_they_stay() -> None:
    # (`demand.settled`, which lets such a cycle be a fixed point at once.)
    car, cfg = SITE.chargers[0], SITE.control
    snap = Snapshot(100.0, {}, {"wc1": ChargerReading(True, True, 0.0)})
    # A car just plugged in is taken to want its max; refreshed again from the same reading
    # (it draws nothing under the 16 A it holds) it is capped: not a fixed point.
    away = ChargerMemory(limit_a=16.0, changed_t=0.0, demand_a=0.0, connected=False)
    plugged = update(away, car, snap.chargers["wc1"], 100.0, cfg)
    assert not settled({"wc1": car}, {"wc1": plugged}, {"wc1": away}, snap, 100.0, cfg)
    # A tapering car a step lower: refreshed again, its estimate stays.
    capped = ChargerMemory(
        limit_a=22.0, changed_t=0.0, demand_a=22.0, capped_since_t=90.0, able_a=20.0,
        connected=True, admitted=True, charged=True,
    )  # fmt: skip
    lower = Snapshot(100.0, {}, {"wc1": ChargerReading(True, True, 18.9)})
    stepped = update(capped, car, lower.chargers["wc1"], 100.0, cfg)
    assert (stepped.demand_a, stepped.able_a) == (21.0, 18.9)
    assert settled({"wc1": car}, {"wc1": stepped}, {"wc1": capped}, lower, 100.0, cfg)
