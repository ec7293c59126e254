"""What a charging profile means at a time: commitments, schedules, the composite limit.

Plain data and pure functions (sans-I/O): the central system (what it sends), the simulated
charge point (what it obeys) and the tests' field chargers use them, so every side agrees on
what a schedule means at a time `t` (epoch seconds). OCPP 1.6 section 3.13 and 2.0.1 section
K: a TxProfile governs a running transaction, a TxDefaultProfile applies where there is none,
a ChargePointMaxProfile (1.6) / ChargingStationMaxProfile (2.0.1) caps the whole station, and
the composite limit is the minimum of what the purposes allow. How profiles are written on the
wire is `profiles.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from panelpilot.control.types import ChargerDecision

Purpose = Literal["max", "tx_default", "tx"]

# Profile ids panelpilot owns on a charger; re-sending the same id replaces the profile.
STATION_CAP_PROFILE_ID = 1
LEASE_PROFILE_ID_BASE = 100  # TxDefaultProfile: + connector id
TX_PROFILE_ID_BASE = 200  # TxProfile of the running transaction: + connector id
# A profile starts this much before (send time - skew bound): a charger whose clock is the
# whole bound behind, and whose clock ticked while the message travelled, already has it.
START_MARGIN_S = 1.0


def floor_tenth_a(current_a: float) -> float:
    """Round a limit down to 0.1 A (the 1.6 schema's resolution; down is the safe side)."""
    return round(math.floor(current_a * 10 + 1e-6) / 10, 1)


@dataclass(frozen=True, slots=True)
class Commitment:
    """What a charger is told: `limit_a` until `lease_until_t`, then `fallback_a` for good.

    Limits are already rounded down to 0.1 A; `lease_until_t` is on the clock of the schedule
    it is written into (the central system's).
    """

    limit_a: float
    fallback_a: float
    lease_until_t: float

    @classmethod
    def of(cls, decision: ChargerDecision, lease_until_t: float | None = None) -> Commitment:
        """The commitment a decision asks for (its lease end moved to another clock if given)."""
        return cls(
            floor_tenth_a(decision.limit_a),
            floor_tenth_a(decision.fallback_a),
            decision.lease_until_t if lease_until_t is None else lease_until_t,
        )

    def envelope_a(self, from_t: float, to_t: float, clock_skew_s: float) -> float:
        """The most a charger holding this may be allowed between `from_t` and `to_t`.

        Its clock may be `clock_skew_s` off either way, so the lease end counts anywhere in
        `lease_until_t +- clock_skew_s`.
        """
        high = max(self.limit_a, self.fallback_a)
        if to_t < self.lease_until_t - clock_skew_s:
            return self.limit_a
        if from_t >= self.lease_until_t + clock_skew_s:
            return self.fallback_a
        return high


# Before any decision: nothing may draw until the controller says so.
HOLD = Commitment(0.0, 0.0, math.inf)


def decision_commitment(
    decision: ChargerDecision | None, t: float, decision_clock: Callable[[], float] | None
) -> tuple[Commitment, float]:
    """What a decision commits a connector to, its lease end moved onto the clock of `t` (the
    central system's) from `decision_clock` (None: the same clock); and the decision's own
    lease end (what tells one commitment from the next). `HOLD` before any decision."""
    if decision is None:
        return HOLD, math.inf
    end_t = decision.lease_until_t
    if end_t == -math.inf:
        # A controller's "never leased" (its memory's initial value): the decision gives
        # no lease end, so the limit holds until the next one, like an endless lease.
        end_t = math.inf
    if decision_clock is not None and math.isfinite(end_t):
        end_t = end_t - decision_clock() + t  # the same instant on the central system's clock
    return Commitment.of(decision, end_t), decision.lease_until_t


@dataclass(frozen=True, slots=True)
class Schedule:
    """An absolute schedule: from `start_t`, each period's limit holds until the next one."""

    start_t: float
    periods: tuple[tuple[float, float], ...]  # (start_period_s, limit_a), first at 0
    duration_s: float | None = None  # None: the last period holds indefinitely

    def limit_at(self, t: float) -> float | None:
        """The limit at time `t`, or None when the schedule does not cover `t`."""
        offset_s = t - self.start_t
        if offset_s < 0 or (self.duration_s is not None and offset_s >= self.duration_s):
            return None
        limit: float | None = None
        for start_s, limit_a in self.periods:
            if start_s <= offset_s:
                limit = limit_a
        return limit


def schedule_start_t(send_t: float, clock_skew_s: float) -> float:
    """Where a schedule sent at `send_t` starts: in the past by the skew bound and a margin.

    Whole seconds, so a charger that drops fractions of a second reads the same start.
    """
    return float(math.floor(send_t - clock_skew_s - START_MARGIN_S))


def commitment_schedule(commitment: Commitment, start_t: float) -> Schedule:
    """The limit from `start_t`, then the fallback from the lease end, for good.

    Periods start on whole seconds (both schemas say integer); the lease end is rounded to the
    safe side: down when the fallback is lower (the higher limit ends early), up when it is
    higher (the higher fallback begins late). One period when they are equal or the lease
    never ends.
    """
    limit_a, fallback_a = commitment.limit_a, commitment.fallback_a
    if limit_a == fallback_a or commitment.lease_until_t == math.inf:
        return Schedule(start_t, ((0.0, limit_a),))
    offset_s = max(commitment.lease_until_t - start_t, 0.0)  # -inf: ended long ago
    rounded_s = math.floor(offset_s) if limit_a > fallback_a else math.ceil(offset_s)
    if rounded_s <= 0:  # the lease is over already: the fallback now
        return Schedule(start_t, ((0.0, fallback_a),))
    return Schedule(start_t, ((0.0, limit_a), (float(rounded_s), fallback_a)))


def cap_schedule(max_a: float, start_t: float) -> Schedule:
    """A station-wide cap at the unit's max, indefinitely."""
    return Schedule(start_t, ((0.0, floor_tenth_a(max_a)),))


@dataclass(frozen=True, slots=True)
class Profile:
    """One charging profile a charger holds (limits in amps whatever unit it was sent in)."""

    profile_id: int
    purpose: Purpose
    stack_level: int
    schedule: Schedule
    connector_id: int = 0
    transaction_id: str | None = None  # TxProfile only


def commitment_profiles(
    commitment: Commitment,
    *,
    send_t: float,
    clock_skew_s: float,
    connector_id: int,
    transaction_id: int | str | None,
    stack_level: int,
) -> tuple[Profile, ...]:
    """The profiles carrying a commitment, in the order they must be sent.

    A running transaction gets a TxProfile first (it governs the transaction, so a decrease
    takes effect as soon as it is accepted), then the TxDefaultProfile every new transaction
    starts with. Both have fixed ids, so each replaces its predecessor whole, and both start
    in the past, so the replacement is in force whatever the charger's clock within the bound.
    """
    schedule = commitment_schedule(commitment, schedule_start_t(send_t, clock_skew_s))
    default = Profile(
        LEASE_PROFILE_ID_BASE + connector_id, "tx_default", stack_level, schedule, connector_id
    )
    if transaction_id is None:
        return (default,)
    tx = Profile(
        TX_PROFILE_ID_BASE + connector_id,
        "tx",
        stack_level,
        schedule,
        connector_id,
        str(transaction_id),
    )
    return (tx, default)


def _purpose_limit(profiles: Iterable[Profile], purpose: Purpose, t: float) -> float | None:
    # Within a purpose the highest stack level that covers `t` wins.
    best: tuple[int, float] | None = None
    for profile in profiles:
        if profile.purpose != purpose:
            continue
        limit = profile.schedule.limit_at(t)
        if limit is not None and (best is None or profile.stack_level > best[0]):
            best = (profile.stack_level, limit)
    return None if best is None else best[1]


def composite_limit_a(
    profiles: Iterable[Profile],
    t: float,
    *,
    in_transaction: bool,
    unit_max_a: float,
    tx_defaults: Iterable[Profile] | None = None,
) -> float:
    """The limit a connector obeys at `t`: the station cap and (Tx or TxDefault), at most max.

    A TxProfile governs a running transaction; where none covers `t` the TxDefaultProfiles do:
    the ones held now, or `tx_defaults` for a charger that fixes them when a transaction
    starts.
    """
    held = list(profiles)
    limits = [unit_max_a, _purpose_limit(held, "max", t)]
    tx = _purpose_limit(held, "tx", t) if in_transaction else None
    defaults = held if tx_defaults is None else list(tx_defaults)
    limits.append(tx if tx is not None else _purpose_limit(defaults, "tx_default", t))
    return min(limit for limit in limits if limit is not None)
