"""Step 9: a charger's memory after a cycle, and `mem` itself exactly when nothing changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from panelpilot.control.commitments import Commitment
from panelpilot.control.record import record
from panelpilot.control.state import ChargerMemory

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
        hold_a=max(hold, limit) if lower else hold,
        hold_until_t=t + RESPONSE_S if lower else hold_until,
        changed_t=t if new != limit else mem.changed_t,
        held=mem.held if sent is None else (*mem.held, sent),
        admitted=now_admitted,
        turn_since_t=t if now_admitted != admitted else mem.turn_since_t,
    )
    assert out == expected
    assert (out is mem) == (expected == mem)
