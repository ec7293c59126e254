"""Step 9: a charger's memory after a cycle, and `mem` itself exactly when nothing changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from panelpilot.control.commitments import Commitment
from panelpilot.control.record import record
from panelpilot.control.sequencer import steps_for
from panelpilot.control.sharing import Claim
from panelpilot.control.state import ChargerMemory
from panelpilot.control.types import ChargerReading

AMPS = st.sampled_from([0.0, 6.0, 6.1, 16.0, 32.0])
RESPONSE_S = 5.0


@given(
    limit=AMPS,
    new=AMPS,
    hold=AMPS,
    mem_hold=AMPS,
    hold_until=st.sampled_from([float("-inf"), 3.0, 15.0]),
    demand=AMPS,
    connected=st.booleans(),
    admitted=st.booleans(),
    paused=st.booleans(),
    sent=st.none() | st.just(Commitment(16.0, 6.0, 40.0, 10.0)),
)
def test_record_keeps_the_memory_itself_exactly_when_nothing_it_records_changes(
    limit: float,
    new: float,
    hold: float,
    mem_hold: float,
    hold_until: float,
    demand: float,
    connected: bool,
    admitted: bool,
    paused: bool,
    sent: Commitment | None,
) -> None:
    t = 10.0
    mem = ChargerMemory(
        limit_a=limit,
        hold_a=mem_hold,
        hold_until_t=hold_until,
        changed_t=1.0,
        demand_a=demand,
        connected=connected,
        admitted=admitted,
        turn_since_t=2.0,
    )
    out = record(mem, new, hold, paused, t, sent, RESPONSE_S)
    lower = new < limit
    now_admitted = new > 0 or (not paused and connected and demand > 0)
    expected = mem._replace(
        limit_a=new,
        hold_a=max(hold, limit) if lower else mem_hold,
        hold_until_t=t + RESPONSE_S if lower else hold_until,
        changed_t=t if new != limit else mem.changed_t,
        held=mem.held if sent is None else (*mem.held, sent),
        admitted=now_admitted,
        turn_since_t=t if now_admitted != admitted else mem.turn_since_t,
    )
    assert out == expected
    assert (out is mem) == (expected == mem)


def test_a_decrease_holds_the_old_limit_whenever_the_car_is_above_the_new_in_its_time() -> None:
    """32 -> 16 A at t = 10: the car is measured at 16 A at t = 11 (that cycle records
    nothing), and above it again at t = 12: still counted at 32 A until t = 15."""
    claim = Claim("c", 16.0, 6.0, 0, (0,))
    mem = record(ChargerMemory(limit_a=32.0, connected=True), 16.0, 32.0, False, 10.0, None, 5.0)
    at_new = steps_for([claim], {"c": mem}, {"c": ChargerReading(True, True, 16.0)}, {"c": 16.0},
                       11.0, 0.1)[0]  # fmt: skip
    assert at_new.hold_a == 16.0
    after = record(mem, 16.0, at_new.hold_a, False, 11.0, None, 5.0)
    assert after is mem  # a cycle that measured the car at its new limit changed nothing
    above = ChargerReading(True, True, 20.0)
    assert steps_for([claim], {"c": after}, {"c": above}, {"c": 16.0}, 12.0, 0.1)[0].hold_a == 32.0
    assert steps_for([claim], {"c": after}, {"c": above}, {"c": 16.0}, 15.0, 0.1)[0].hold_a == 16.0
