"""Lease renewals come in rounds (leases.py): a cycle that renews one lease renews with it every
lease that falls due within `lease_s / 4`, so a settled site has one round of renewals per
`lease_s / 2`, whatever the moments its chargers' leases began."""

from __future__ import annotations

from panelpilot.control.commitments import Commitment
from panelpilot.control.layout import Layout
from panelpilot.control.leases import Job, Leases
from panelpilot.control.sharing import Claim
from panelpilot.control.state import ChargerMemory
from panelpilot.site.model import ControlSettings

# Three chargers at 30 A (fallback 20 A) under one 100 A circuit, their leases ending 15 s
# apart: with the defaults (lease_s 60, clock_skew_s 10) each falls due 40 s before its end,
# at 60, 75 and 90 s.
ENDS = {"a": 100.0, "b": 115.0, "c": 130.0}


def _commit(t: float) -> dict[str, Commitment]:
    leases = Leases(ControlSettings())
    chargers = {
        cid: ChargerMemory(limit_a=30.0, held=(Commitment(30.0, 20.0, end, end - 60, end - 59),))
        for cid, end in ENDS.items()
    }
    layout = Layout(
        fallbacks={cid: 20.0 for cid in ENDS},
        constraints={cid: (0,) for cid in ENDS},
        fixed={},
        members=(tuple(ENDS),),
        circuits=1,
    )
    job = Job(
        t=t,
        chargers=chargers,
        claims=[Claim(cid, 30.0, 6.0, 0, (0,)) for cid in ENDS],
        limits={cid: 30.0 for cid in ENDS},
        fallbacks=layout.fallbacks,
        envelopes={},
        defiant={},
        caps=[100.0],
        layout=layout,
    )
    return leases.commit(job).commitments


def test_a_round_renews_every_lease_falling_due_within_a_quarter_lease() -> None:
    sent = _commit(60.0)  # a falls due; b does 15 s later; c 30 s later
    assert set(sent) == {"a", "b"}
    # Both on one fresh lease end: a lease_s from now, up on the lease_s / 4 grid.
    assert {c.until_t for c in sent.values()} == {120.0}
    assert all((c.limit_a, c.fallback_a) == (30.0, 20.0) for c in sent.values())


def test_nothing_is_renewed_early_in_a_cycle_that_renews_nothing() -> None:
    assert _commit(59.0) == {}  # b falls due within 16 s, but no lease is due now
    assert set(_commit(75.0)) == {"a", "b", "c"}  # at 75 s b is due, and c within 15 s
