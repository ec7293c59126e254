"""Charging profiles as plain data: commitments, their schedules and OCPP encodings, the composite.

Sans-I/O: the central system (what it sends), the simulated charge point (what it obeys) and
the tests' field chargers use these functions, so every side agrees on what a schedule means
at a time `t` (epoch seconds). OCPP 1.6 section 3.13 and 2.0.1 section K: a TxProfile governs a
running transaction, a TxDefaultProfile applies where there is none, a ChargePointMaxProfile
(1.6) / ChargingStationMaxProfile (2.0.1) caps the whole station, and the composite limit is
the minimum of what the purposes allow.

`commitment_requests` is the one function that turns a decision into what is sent: the
SetChargingProfile calls, in order, for a connector.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call

from panelpilot.control.types import ChargerDecision

Version = Literal["1.6", "2.0.1"]
Purpose = Literal["max", "tx_default", "tx"]
RateUnit = Literal["A", "W"]
# `ocpp.v16.call.SetChargingProfile` or `ocpp.v201.call.SetChargingProfile` (the library has
# no type information).
SetChargingProfileCall: TypeAlias = Any

# Profile ids panelpilot owns on a charger; re-sending the same id replaces the profile.
STATION_CAP_PROFILE_ID = 1
LEASE_PROFILE_ID_BASE = 100  # TxDefaultProfile: + connector id
TX_PROFILE_ID_BASE = 200  # TxProfile of the running transaction: + connector id
# A profile starts this much before (send time - skew bound): a charger whose clock is the
# whole bound behind, and whose clock ticked while the message travelled, already has it.
START_MARGIN_S = 1.0
# OCPP 1.6 and 2.0.1: a period without numberPhases means three phases.
DEFAULT_NUMBER_PHASES = 3

_PURPOSE_NAMES: dict[Version, dict[Purpose, str]] = {
    "1.6": {"max": "ChargePointMaxProfile", "tx_default": "TxDefaultProfile", "tx": "TxProfile"},
    "2.0.1": {
        "max": "ChargingStationMaxProfile",
        "tx_default": "TxDefaultProfile",
        "tx": "TxProfile",
    },
}


def floor_tenth_a(current_a: float) -> float:
    """Round a limit down to 0.1 A (the 1.6 schema's resolution; down is the safe side)."""
    return round(math.floor(current_a * 10 + 1e-6) / 10, 1)


def iso_utc(t: float) -> str:
    """Epoch seconds as an OCPP dateTime (UTC)."""
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """An OCPP dateTime as epoch seconds; a time without zone is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


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


@dataclass(frozen=True, slots=True)
class RateUnits:
    """How limits are written: amps, or watts at `voltage_v` across each of `phases`."""

    unit: RateUnit = "A"
    voltage_v: float = 240.0
    phases: int = 1

    def encode(self, limit_a: float) -> float:
        """A limit in amps as the number sent (watts rounded down to 0.1 W)."""
        if self.unit == "A":
            return limit_a
        return floor_tenth_a(limit_a * self.voltage_v * self.phases)


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


def commitment_requests(
    decision: ChargerDecision,
    *,
    send_t: float,
    clock_skew_s: float,
    connector_id: int,
    transaction_id: int | str | None,
    version: Version,
    stack_level: int,
    rate_unit: RateUnit = "A",
    voltage_v: float = 240.0,
    phases: int = 1,
) -> tuple[SetChargingProfileCall, ...]:
    """The SetChargingProfile calls that carry a decision to one connector, in sending order.

    They are the `ocpp` library's call objects (`ocpp.v16.call.SetChargingProfile` or
    `ocpp.v201.call.SetChargingProfile`, snake_case fields); `request_json` gives each as the
    camelCase OCPP JSON payload the library puts on the wire. `decision.lease_until_t` and
    `send_t` are on the same clock. Limits are rounded down to 0.1 A; in W they are the amps
    times `voltage_v` times `phases`, rounded down to 0.1 W.
    """
    profiles = commitment_profiles(
        Commitment.of(decision),
        send_t=send_t,
        clock_skew_s=clock_skew_s,
        connector_id=connector_id,
        transaction_id=transaction_id,
        stack_level=stack_level,
    )
    units = RateUnits(rate_unit, voltage_v, phases)
    return tuple(set_profile_request(version, p.connector_id, p, units) for p in profiles)


def station_cap_request(
    max_a: float,
    *,
    send_t: float,
    clock_skew_s: float,
    version: Version,
    stack_level: int,
    rate_unit: RateUnit = "A",
    voltage_v: float = 240.0,
    phases: int = 1,
) -> SetChargingProfileCall:
    """The station cap sent once per connection before any lease profile (connector 0), as
    the `ocpp` library's call object; it starts in the past like every profile."""
    start_t = schedule_start_t(send_t, clock_skew_s)
    cap = Profile(STATION_CAP_PROFILE_ID, "max", stack_level, cap_schedule(max_a, start_t))
    return set_profile_request(version, 0, cap, RateUnits(rate_unit, voltage_v, phases))


def request_json(request: SetChargingProfileCall) -> dict[str, Any]:
    """An `ocpp` call object as the camelCase JSON payload the library sends."""
    payload = remove_nones(snake_to_camel_case(serialize_as_dict(request)))
    assert isinstance(payload, dict)
    return payload


def encode_profile(
    version: Version, profile: Profile, units: RateUnits | None = None
) -> dict[str, Any]:
    """The profile as the OCPP payload field (snake_case keys; the library camelCases them)."""
    units = units or RateUnits()
    periods: list[dict[str, Any]] = []
    for start_s, limit_a in profile.schedule.periods:
        period: dict[str, Any] = {"start_period": int(start_s), "limit": units.encode(limit_a)}
        if units.unit == "W":  # the charger turns watts into amps per phase with this
            period["number_phases"] = units.phases
        periods.append(period)
    schedule: dict[str, Any] = {
        "start_schedule": iso_utc(profile.schedule.start_t),
        "charging_rate_unit": units.unit,
        "charging_schedule_period": periods,
    }
    if profile.schedule.duration_s is not None:
        schedule["duration"] = int(profile.schedule.duration_s)
    body: dict[str, Any] = {
        "stack_level": profile.stack_level,
        "charging_profile_purpose": _PURPOSE_NAMES[version][profile.purpose],
        "charging_profile_kind": "Absolute",
    }
    if version == "1.6":
        if profile.transaction_id is not None:
            body["transaction_id"] = int(profile.transaction_id)  # 1.6: an integer
        return {**body, "charging_profile_id": profile.profile_id, "charging_schedule": schedule}
    if profile.transaction_id is not None:
        body["transaction_id"] = profile.transaction_id  # 2.0.1: a string
    return {**body, "id": profile.profile_id, "charging_schedule": [{"id": 1, **schedule}]}


def set_profile_request(
    version: Version, connector_id: int, profile: Profile, units: RateUnits | None = None
) -> SetChargingProfileCall:
    """The SetChargingProfile CALL payload for a version."""
    encoded = encode_profile(version, profile, units)
    if version == "1.6":
        return v16_call.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=encoded)
    return v201_call.SetChargingProfile(evse_id=connector_id, charging_profile=encoded)


def decode_profile(
    version: Version,
    connector_id: int,
    data: Mapping[str, Any],
    *,
    voltage_v: float | None = None,
) -> Profile:
    """A received profile (snake_case keys) as plain data; raises ValueError when unusable.

    Only absolute schedules are understood (what panelpilot sends), in A, or in W when
    `voltage_v` says how to turn watts into amps; anything else is refused, so a charger
    never silently ignores part of a limit.
    """
    names = {v: k for k, v in _PURPOSE_NAMES[version].items()}
    purpose = names.get(str(data.get("charging_profile_purpose")))
    if purpose is None:
        raise ValueError("unknown charging profile purpose")
    if data.get("charging_profile_kind") != "Absolute":
        raise ValueError("only Absolute profiles are supported")
    raw = data.get("charging_schedule")
    schedule_data = raw[0] if isinstance(raw, list) and raw else raw
    if not isinstance(schedule_data, Mapping):
        raise ValueError("no charging schedule")
    unit = schedule_data.get("charging_rate_unit")
    if unit not in ("A", "W") or (unit == "W" and voltage_v is None):
        raise ValueError(f"schedules in {unit} are not supported")
    start = schedule_data.get("start_schedule")
    if not isinstance(start, str):
        raise ValueError("an Absolute schedule needs start_schedule")
    periods: list[tuple[float, float]] = []
    for p in schedule_data["charging_schedule_period"]:
        limit = float(p["limit"])
        if unit == "W":
            assert voltage_v is not None
            limit /= voltage_v * int(p.get("number_phases", DEFAULT_NUMBER_PHASES))
        periods.append((float(p["start_period"]), limit))
    periods.sort()
    if not periods or periods[0][0] != 0:
        raise ValueError("the first period must start at 0")
    duration = schedule_data.get("duration")
    profile_id = data["charging_profile_id"] if version == "1.6" else data["id"]
    transaction_id = data.get("transaction_id")
    if purpose == "tx" and transaction_id is None:
        raise ValueError("a TxProfile needs a transactionId")
    return Profile(
        profile_id=int(profile_id),
        purpose=purpose,
        stack_level=int(data["stack_level"]),
        schedule=Schedule(
            parse_iso(start), tuple(periods), None if duration is None else float(duration)
        ),
        connector_id=connector_id,
        transaction_id=None if transaction_id is None else str(transaction_id),
    )


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
