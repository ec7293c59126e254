"""Steady cycles while chargers' currents wander (`control/moved.py`): a reading whose current
alone moved, and moves nothing the cycle decides, keeps the fixed point; one that moves the
car's demand estimate is decided by every step. Both ways the decisions and the memory are a
full controller's."""

from __future__ import annotations

from dataclasses import replace

from panelpilot.control import ChargerReading, Controller, Snapshot
from panelpilot.site import load_site_text
from tests.control.test_steady import Counting

SITE = load_site_text(
    """
circuits:
  - {id: service, limit_a: 100}
networks:
  - {id: net, circuit: service, network_limit_a: 48}
chargers:
  - {id: wc1, circuit: service, network: net, max_a: 32}
  - {id: wc2, circuit: service, network: net, max_a: 32}
""",
    "site.yaml",
)


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
