"""Handshake bookkeeping: per-address backoff with a cap, cleared by a success; bounded
pending checks and memory; a cache of verified credentials that trusts nothing stale."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panelpilot.drivers.ocpp.handshake import (
    HandshakePolicy,
    HandshakeThrottle,
    VerifiedCredentials,
    client_key,
)
from tests.drivers.ocpp.conftest import ManualClock

POLICY = HandshakePolicy(
    free_failures=5, backoff_base_s=1.0, backoff_cap_s=60.0, max_pending_per_address=16
)


def test_after_the_free_failures_the_wait_doubles_up_to_the_cap() -> None:
    clock = ManualClock(0.0)
    throttle = HandshakeThrottle(POLICY, clock)
    backoffs = [throttle.failure("10.0.0.9") for _ in range(14)]
    assert backoffs == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert throttle.wait_s("10.0.0.9") == 60.0
    assert throttle.wait_s("10.0.0.10") is None  # another address is not touched
    clock.advance(59.5)
    assert throttle.wait_s("10.0.0.9") == pytest.approx(0.5)
    clock.advance(0.5)
    assert throttle.wait_s("10.0.0.9") is None  # it may try again, once
    assert throttle.failure("10.0.0.9") == 60.0


def test_a_success_clears_the_address() -> None:
    clock = ManualClock(0.0)
    throttle = HandshakeThrottle(POLICY, clock)
    for _ in range(8):
        throttle.failure("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") is not None
    throttle.success("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") is None
    # The count starts again: the free failures are free again.
    assert [throttle.failure("10.0.0.9") for _ in range(6)] == [0, 0, 0, 0, 0, 1]


def test_an_address_is_forgotten_after_a_quiet_spell() -> None:
    clock = ManualClock(0.0)
    throttle = HandshakeThrottle(POLICY, clock)
    for _ in range(4):
        throttle.failure("10.0.0.9")
    clock.advance(POLICY.forget_after_s)
    assert throttle.wait_s("10.0.0.9") is None
    assert len(throttle) == 0
    assert throttle.failure("10.0.0.9") == 0  # its four failures no longer count


def test_pending_checks_per_address_are_bounded_and_end_books_the_verdict() -> None:
    clock = ManualClock(0.0)
    throttle = HandshakeThrottle(POLICY, clock)
    for _ in range(POLICY.max_pending_per_address):
        assert throttle.wait_s("10.0.0.9") is None
        throttle.begin("10.0.0.9")
    assert throttle.wait_s("10.0.0.9") == POLICY.backoff_base_s
    assert throttle.wait_s("10.0.0.10") is None
    assert throttle.end("10.0.0.9", ok=None) == 0.0  # no verdict: no failure booked
    assert throttle.pending("10.0.0.9") == POLICY.max_pending_per_address - 1
    assert throttle.wait_s("10.0.0.9") is None
    for _ in range(5):
        throttle.end("10.0.0.9", ok=False)
    assert throttle.end("10.0.0.9", ok=False) == 1.0
    assert throttle.backoff_s("10.0.0.9") == 1.0
    throttle.end("10.0.0.9", ok=True)
    assert throttle.backoff_s("10.0.0.9") is None


# One step: (address index, what happens to it).
steps = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(["fail", "ok", "begin", "end", "wait"])),
    max_size=300,
)


@given(steps)
def test_memory_stays_bounded_and_waits_within_the_cap(ops: list[tuple[int, str]]) -> None:
    policy = HandshakePolicy(max_addresses=8, backoff_cap_s=30.0)
    clock = ManualClock(0.0)
    throttle = HandshakeThrottle(policy, clock)
    begun: dict[str, int] = {}
    for index, op in ops:
        address = f"10.0.0.{index}"
        clock.advance(0.25)
        if op == "fail":
            assert 0 <= throttle.failure(address) <= policy.backoff_cap_s
        elif op == "ok":
            throttle.success(address)
            assert throttle.wait_s(address) is None or throttle.pending(address) > 0
        elif op == "begin":
            throttle.begin(address)
            begun[address] = begun.get(address, 0) + 1
        elif op == "end" and begun.get(address):
            begun[address] -= 1
            throttle.end(address, ok=False)
        wait_s = throttle.wait_s(address)
        assert wait_s is None or 0 < wait_s <= policy.backoff_cap_s
        assert throttle.pending(address) == begun.get(address, 0)  # never forgotten in flight
        in_flight = sum(1 for n in begun.values() if n > 0)
        assert len(throttle) <= policy.max_addresses + in_flight


@pytest.mark.parametrize(
    ("remote", "key"),
    [
        (("192.0.2.7", 40000), "192.0.2.7"),
        (("::ffff:192.0.2.7", 40000, 0, 0), "192.0.2.7"),
        (("2001:db8:1:2:aaaa::1", 40000, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:ffff::9", 40000, 0, 0), "2001:db8:1:2::/64"),
        (("fe80::1%eth0", 40000, 0, 2), "fe80::/64"),
        (None, "unknown"),
        ("/run/socket", "unknown"),
    ],
)
def test_clients_are_throttled_by_ipv4_address_or_ipv6_64(remote: object, key: str) -> None:
    assert client_key(remote) == key


def test_the_cache_lets_in_only_the_verified_password_within_its_ttl() -> None:
    clock = ManualClock(0.0)
    cache = VerifiedCredentials(ttl_s=600.0, clock=clock)
    cache.remember("cp1", "correct-horse-battery", "$argon2id$stored")
    assert cache.candidate("cp1", "correct-horse-battery") == "$argon2id$stored"
    assert cache.candidate("cp1", "correct-horse-batterx") is None
    assert cache.candidate("cp2", "correct-horse-battery") is None
    clock.advance(599.0)
    assert cache.candidate("cp1", "correct-horse-battery") == "$argon2id$stored"
    clock.advance(1.0)
    assert cache.candidate("cp1", "correct-horse-battery") is None
    assert len(cache) == 0
    cache.remember("cp1", "correct-horse-battery", "$argon2id$stored")
    cache.forget("cp1")
    assert cache.candidate("cp1", "correct-horse-battery") is None


def test_the_cache_keeps_keyed_digests_not_passwords() -> None:
    clock = ManualClock(0.0)
    one, other = VerifiedCredentials(600.0, clock), VerifiedCredentials(600.0, clock)
    one.remember("cp1", "correct-horse-battery", "h")
    other.remember("cp1", "correct-horse-battery", "h")
    assert "correct-horse-battery" not in repr(list(one._entries.values()))
    # A per-process random key: the same password gives different digests elsewhere.
    assert one._entries["cp1"].digest != other._entries["cp1"].digest


def test_expired_entries_are_dropped_as_others_are_remembered() -> None:
    clock = ManualClock(0.0)
    cache = VerifiedCredentials(ttl_s=60.0, clock=clock)
    for i in range(100):
        cache.remember(f"cp{i}", "correct-horse-battery", "h")
    clock.advance(60.0)
    cache.remember("cp-new", "correct-horse-battery", "h")
    assert len(cache) == 1
