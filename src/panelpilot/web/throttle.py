"""The sign-in throttle: guessing is slowed, nobody is locked out.

Failed sign-ins are counted under three keys, each with its own exponential backoff and cap:

* the client address and the name together (someone guessing one user's password);
* the client address alone (someone trying many names from one place);
* the name alone (many places guessing one user's password). It holds back only addresses
  that have themselves failed for that name and that the name has not signed in from in the
  last 30 days: the real user, from an address they use or one that has not guessed wrong,
  gets in at once while strangers flood the name. (So each new address a guesser brings gets
  one guess while the name is held back; a user who mistypes from a new address during such
  a flood waits like the guessers.)

After `free` failures under a key, each further attempt waits `base_s * 2 ** (failures - free)`
from the last failure, never more than `cap_s`. A success clears the address-and-name and the
name counts; a quiet `forget_s` clears any key. Attempts made while waiting are refused without
checking the password, so they cost the service nothing and do not extend the wait. Every table
is bounded (least recently used entries go first), so a flood of made-up names cannot grow it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

MAX_KEYS = 10_000
KNOWN_ADDRESSES_PER_NAME = 16


@dataclass(frozen=True, slots=True)
class Backoff:
    """How one key slows down: `free` failures, then doubling waits from `base_s` to `cap_s`."""

    free: int
    base_s: float
    cap_s: float

    def wait_s(self, failures: int) -> float:
        """The wait after `failures` consecutive failures (0 = may try now)."""
        if failures < self.free:
            return 0.0
        # The exponent is bounded before the power so a huge count cannot overflow a float.
        steps = min(failures - self.free, 64)
        return float(min(self.base_s * 2.0**steps, self.cap_s))


PER_ADDRESS_AND_NAME = Backoff(free=3, base_s=1.0, cap_s=60.0)
PER_ADDRESS = Backoff(free=10, base_s=1.0, cap_s=300.0)
PER_NAME = Backoff(free=5, base_s=1.0, cap_s=60.0)
FORGET_S = 3600.0
# An address stays known for a name for 30 days after its last sign-in there (a phone at home).
KNOWN_FOR_S = 30 * 86_400.0


@dataclass(slots=True)
class _Count:
    failures: int
    last_s: float


class _Table:
    """Failure counts under one kind of key, least recently used first, at most `MAX_KEYS`."""

    def __init__(self, backoff: Backoff, forget_s: float, max_keys: int) -> None:
        self.backoff = backoff
        self.forget_s = forget_s
        self.max_keys = max_keys
        self.counts: OrderedDict[tuple[str, ...], _Count] = OrderedDict()

    def wait_s(self, key: tuple[str, ...], now_s: float) -> float:
        count = self.counts.get(key)
        if count is None:
            return 0.0
        if now_s - count.last_s >= self.forget_s:
            del self.counts[key]
            return 0.0
        return max(0.0, count.last_s + self.backoff.wait_s(count.failures) - now_s)

    def failed(self, key: tuple[str, ...], now_s: float) -> None:
        count = self.counts.pop(key, None)
        if count is None or now_s - count.last_s >= self.forget_s:
            count = _Count(0, now_s)
        count.failures += 1
        count.last_s = now_s
        self.counts[key] = count
        while len(self.counts) > self.max_keys:
            self.counts.popitem(last=False)

    def clear(self, key: tuple[str, ...]) -> None:
        self.counts.pop(key, None)


class SignInThrottle:
    """Per address, per name and per address-and-name backoff for the sign-in form."""

    def __init__(
        self,
        per_address_and_name: Backoff = PER_ADDRESS_AND_NAME,
        per_address: Backoff = PER_ADDRESS,
        per_name: Backoff = PER_NAME,
        forget_s: float = FORGET_S,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.pair = _Table(per_address_and_name, forget_s, max_keys)
        self.address = _Table(per_address, forget_s, max_keys)
        self.name = _Table(per_name, forget_s, max_keys)
        self.forget_s = forget_s
        self.max_keys = max_keys
        # name -> addresses it signed in from (most recent last) and when.
        self.known: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()

    def _known(self, name: str, address: str, now_s: float) -> bool:
        addresses = self.known.get(name)
        seen = None if addresses is None else addresses.get(address)
        return seen is not None and now_s - seen < KNOWN_FOR_S

    def wait_s(self, address: str, name: str, now_s: float) -> float:
        """How long this address must wait before trying this name again (0 = now)."""
        waits = [
            self.pair.wait_s((address, name), now_s),
            self.address.wait_s((address,), now_s),
        ]
        if self._suspect(address, name, now_s):
            waits.append(self.name.wait_s((name,), now_s))
        return max(waits)

    def _suspect(self, address: str, name: str, now_s: float) -> bool:
        """Whether the name's own count holds this address back: it failed for the name
        recently and the name has not signed in from it."""
        failed_here = self.pair.counts.get((address, name))
        recent = failed_here is not None and now_s - failed_here.last_s < self.forget_s
        return recent and not self._known(name, address, now_s)

    def failed(self, address: str, name: str, now_s: float) -> None:
        """Count one failed sign-in."""
        self.pair.failed((address, name), now_s)
        self.address.failed((address,), now_s)
        if not self._known(name, address, now_s):
            self.name.failed((name,), now_s)

    def succeeded(self, address: str, name: str, now_s: float) -> None:
        """A sign-in worked: forget this name's failures and remember the address for it."""
        self.pair.clear((address, name))
        self.name.clear((name,))
        addresses = self.known.pop(name, None) or OrderedDict()
        addresses.pop(address, None)
        addresses[address] = now_s
        while len(addresses) > KNOWN_ADDRESSES_PER_NAME:
            addresses.popitem(last=False)
        self.known[name] = addresses
        while len(self.known) > self.max_keys:
            self.known.popitem(last=False)

    def size(self) -> int:
        """How many keys the throttle holds (bounded)."""
        return len(self.pair.counts) + len(self.address.counts) + len(self.name.counts)
