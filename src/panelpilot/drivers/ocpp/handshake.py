"""Handshake limits: per-address backoff for failed password checks, and a short-lived cache of
verified credentials, so a flood of wrong passwords cannot keep a registered charger out.

Pure bookkeeping on an injected monotonic clock; `central.CentralSystem` does the I/O. The
order at a handshake: a charger whose id and password verified within `cache_ttl_s` is let in
at once (after checking its stored hash is still the one it verified against); anyone else
waits for an Argon2 check, which an address gets only while it is not backing off; up to
`max_pending_per_address` checks of one address wait their turn (chargers behind one router
reconnecting together) and any more are refused. The turns are shared out by `checks.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class HandshakePolicy:
    """How hard an address may push at the handshake, and how long a verification is trusted."""

    # Checks running or waiting per address; past it the address is told to retry.
    max_pending_per_address: int = 16
    # Failures an address may have before it backs off (a charger with a stale password
    # retrying, a person typing): then it waits base, 2 x base, ... up to the cap.
    free_failures: int = 5
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    # An address with no failure for this long is forgotten (its count starts again).
    forget_after_s: float = 600.0
    # Addresses tracked at once; past it the least recently failing idle one is forgotten.
    max_addresses: int = 10_000
    # How long a verified id and password are let in without Argon2.
    cache_ttl_s: float = 600.0


def client_key(remote_address: object) -> str:
    """The address a client is throttled by: its IPv4 address, or its IPv6 /64.

    One IPv6 host usually holds a whole /64, so throttling single addresses would give it
    2^64 fresh starts. Anything unreadable (a Unix socket) shares the key "unknown".
    """
    host = remote_address[0] if isinstance(remote_address, tuple) and remote_address else None
    try:
        address = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(slots=True)
class _Address:
    failures: int = 0
    pending: int = 0
    blocked_until_s: float = 0.0
    last_failure_s: float = 0.0


class HandshakeThrottle:
    """Per-address password-check budget: concurrency, and backoff after failures."""

    def __init__(self, policy: HandshakePolicy, clock: Clock) -> None:
        """`clock` is monotonic seconds."""
        self.policy = policy
        self._clock = clock
        self._addresses: dict[str, _Address] = {}

    def __len__(self) -> int:
        return len(self._addresses)

    def wait_s(self, address: str) -> float | None:
        """Seconds the address must wait before asking for a check; None when it may ask now
        (it is not backing off and has room for one more pending check)."""
        record = self._addresses.get(address)
        if record is None:
            return None
        now = self._clock()
        if self._forgettable(record, now):
            del self._addresses[address]
            return None
        if record.blocked_until_s > now:
            return record.blocked_until_s - now
        if record.pending >= self.policy.max_pending_per_address:
            return self.policy.backoff_base_s
        return None

    def backoff_s(self, address: str) -> float | None:
        """Seconds the address is still backing off, None when it is not (a waiting check
        asks again when its turn comes: failures meanwhile may have started a backoff)."""
        record = self._addresses.get(address)
        now = self._clock()
        if record is None or record.blocked_until_s <= now:
            return None
        return record.blocked_until_s - now

    def pending(self, address: str) -> int:
        """Checks of the address begun and not yet ended."""
        record = self._addresses.get(address)
        return 0 if record is None else record.pending

    def begin(self, address: str) -> None:
        """A check for the address is asked for (call `end` exactly once afterwards)."""
        self._record(address).pending += 1

    def end(self, address: str, *, ok: bool | None) -> float:
        """A check ended (`ok` None: without a verdict, the store failed); returns the backoff
        now in force for the address (0 when none)."""
        record = self._addresses.get(address)
        if record is not None:  # never forgotten while in flight; checked all the same
            record.pending = max(0, record.pending - 1)
        if ok is None:
            return 0.0
        return self.success(address) if ok else self.failure(address)

    def failure(self, address: str) -> float:
        """A failed check (or a refusal that needed none); returns the backoff in force."""
        record = self._record(address)
        now = self._clock()
        record.failures += 1
        record.last_failure_s = now
        # Most recently failing last, so eviction takes the quietest address first.
        self._addresses[address] = self._addresses.pop(address)
        excess = record.failures - self.policy.free_failures
        if excess <= 0:
            return 0.0
        backoff_s = min(
            self.policy.backoff_cap_s, self.policy.backoff_base_s * 2.0 ** min(excess - 1, 60)
        )
        record.blocked_until_s = now + backoff_s
        return backoff_s

    def success(self, address: str) -> float:
        """A charger at the address proved its password: its failures are forgiven."""
        record = self._addresses.get(address)
        if record is not None:
            record.failures, record.blocked_until_s = 0, 0.0
            if record.pending == 0:
                del self._addresses[address]
        return 0.0

    def _forgettable(self, record: _Address, now: float) -> bool:
        return (
            record.pending == 0
            and record.blocked_until_s <= now
            and now - record.last_failure_s >= self.policy.forget_after_s
        )

    def _record(self, address: str) -> _Address:
        record = self._addresses.get(address)
        if record is not None:
            return record
        if len(self._addresses) >= self.policy.max_addresses:
            self._make_room()
        record = self._addresses[address] = _Address()
        return record

    def _make_room(self) -> None:
        now = self._clock()
        for key in [k for k, r in self._addresses.items() if self._forgettable(r, now)]:
            del self._addresses[key]
        if len(self._addresses) < self.policy.max_addresses:
            return
        # Still full (a flood from more addresses than we track): forget the idle address
        # that failed longest ago. It may start its free failures again; bounded memory wins.
        for key, record in self._addresses.items():
            if record.pending == 0:
                del self._addresses[key]
                return


@dataclass(frozen=True, slots=True)
class _Verified:
    digest: bytes
    password_hash: str
    expires_s: float


class VerifiedCredentials:
    """Ids whose password verified recently, kept as a keyed digest (never the password).

    The key is random per process, so the digests are useless outside it. Each entry also
    keeps the stored Argon2 hash it verified against: a password replaced or removed (even
    by another process, `panelpilot chargers add --replace`) changes or drops that hash, and
    the caller compares it before trusting an entry.
    """

    def __init__(self, ttl_s: float, clock: Clock, key: bytes | None = None) -> None:
        """`clock` is monotonic seconds; `key` is for tests (default: 32 random bytes)."""
        self.ttl_s = ttl_s
        self._clock = clock
        self._key = key if key is not None else secrets.token_bytes(32)
        self._entries: dict[str, _Verified] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _digest(self, charge_point_id: str, password: str) -> bytes:
        message = charge_point_id.encode() + b"\0" + password.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def remember(self, charge_point_id: str, password: str, password_hash: str) -> None:
        """The password verified against `password_hash` just now."""
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires_s <= now]:
            del self._entries[key]
        self._entries[charge_point_id] = _Verified(
            self._digest(charge_point_id, password), password_hash, now + self.ttl_s
        )

    def candidate(self, charge_point_id: str, password: str) -> str | None:
        """The stored hash this id and password verified against within the TTL, else None.

        The caller lets the charger in only if that is still the stored hash.
        """
        entry = self._entries.get(charge_point_id)
        if entry is None:
            return None
        if entry.expires_s <= self._clock():
            del self._entries[charge_point_id]
            return None
        if not hmac.compare_digest(entry.digest, self._digest(charge_point_id, password)):
            return None
        return entry.password_hash

    def forget(self, charge_point_id: str) -> None:
        """Drop an id's entry (its password changed or it was removed)."""
        self._entries.pop(charge_point_id, None)
