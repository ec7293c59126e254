"""`sharing.allot`: the last allocation again only for the very same claims and capacities."""

from __future__ import annotations

from panelpilot.control.sharing import Claim, allocate, allot


def _claims() -> list[Claim]:
    return [Claim("a", 32.0, 6.0, 0, (0,)), Claim("b", 20.0, 6.0, 0, (0,))]


def test_the_same_claims_and_capacities_give_the_last_allocation_itself() -> None:
    claims = _claims()
    first, last = allot(None, claims, [40.0], 0.1)
    assert first == allocate(claims, [40.0], 0.1)
    again, kept = allot(last, list(claims), [40.0], 0.1)
    assert again is first and kept is last


def test_anything_else_is_allocated_again() -> None:
    claims = _claims()
    first, last = allot(None, claims, [40.0], 0.1)
    # Equal claims that are other objects (a claim that changed is a new one).
    other, _ = allot(last, _claims(), [40.0], 0.1)
    assert other is not first and other == first
    less, _ = allot(last, claims, [30.0], 0.1)
    assert less.targets_a != first.targets_a and less == allocate(claims, [30.0], 0.1)
    fewer, _ = allot(last, claims[:1], [40.0], 0.1)
    assert fewer.targets_a == {"a": 32.0}
    # A capacity of zero, whose sign `==` does not tell, is allocated again.
    _, zero = allot(None, claims, [0.0], 0.1)
    assert allot(zero, claims, [-0.0], 0.1)[0] is not zero.allocation
