"""Charging profiles as plain data: the lease schedule, its OCPP encodings, the composite limit.

Sans-I/O: both the central system (what it sent) and the simulated charge point (what it
obeys) use these functions, so both sides agree on what a schedule means at a time `t`
(epoch seconds). OCPP 1.6 section 3.13 and 2.0.1 section K: a TxDefaultProfile applies to
new transactions, a ChargePointMaxProfile (1.6) / ChargingStationMaxProfile (2.0.1) caps the
whole station, and the composite limit is the minimum of what the purposes allow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Version = Literal["1.6", "2.0.1"]
Purpose = Literal["max", "tx_default", "tx"]

# Profile ids panelpilot owns on a charger; re-sending the same id replaces the profile.
STATION_CAP_PROFILE_ID = 1
LEASE_PROFILE_ID_BASE = 100  # + connector id

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


def lease_schedule(limit_a: float, fallback_a: float, lease_s: float, start_t: float) -> Schedule:
    """The allocation for the lease, then the fallback for as long as nobody renews it."""
    limit_a, fallback_a = floor_tenth_a(limit_a), floor_tenth_a(fallback_a)
    if limit_a == fallback_a:
        return Schedule(start_t, ((0.0, limit_a),))
    return Schedule(start_t, ((0.0, limit_a), (float(math.floor(lease_s)), fallback_a)))


def cap_schedule(max_a: float, start_t: float) -> Schedule:
    """A station-wide cap at the unit's max, indefinitely."""
    return Schedule(start_t, ((0.0, floor_tenth_a(max_a)),))


@dataclass(frozen=True, slots=True)
class Profile:
    """One charging profile a charger holds."""

    profile_id: int
    purpose: Purpose
    stack_level: int
    schedule: Schedule
    connector_id: int = 0


def encode_profile(version: Version, profile: Profile) -> dict[str, Any]:
    """The profile as the OCPP payload field (snake_case keys; the library camelCases them)."""
    periods = [
        {"start_period": int(start_s), "limit": limit_a}
        for start_s, limit_a in profile.schedule.periods
    ]
    schedule: dict[str, Any] = {
        "start_schedule": iso_utc(profile.schedule.start_t),
        "charging_rate_unit": "A",
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
        return {**body, "charging_profile_id": profile.profile_id, "charging_schedule": schedule}
    return {**body, "id": profile.profile_id, "charging_schedule": [{"id": 1, **schedule}]}


def decode_profile(version: Version, connector_id: int, data: Mapping[str, Any]) -> Profile:
    """A received profile (snake_case keys) as plain data; raises ValueError when unusable.

    Only absolute schedules in amps are understood (what panelpilot sends); anything else
    is refused, so a charger never silently ignores part of a limit.
    """
    names = {v: k for k, v in _PURPOSE_NAMES[version].items()}
    purpose = names.get(str(data.get("charging_profile_purpose")))
    if purpose is None:
        raise ValueError("unknown charging profile purpose")
    if data.get("charging_profile_kind") != "Absolute":
        raise ValueError("only Absolute profiles are supported")
    raw = data.get("charging_schedule")
    schedule_data = raw[0] if isinstance(raw, list) and raw else raw
    if not isinstance(schedule_data, Mapping) or schedule_data.get("charging_rate_unit") != "A":
        raise ValueError("only schedules in A are supported")
    start = schedule_data.get("start_schedule")
    if not isinstance(start, str):
        raise ValueError("an Absolute schedule needs start_schedule")
    periods = tuple(
        sorted(
            (float(p["start_period"]), float(p["limit"]))
            for p in schedule_data["charging_schedule_period"]
        )
    )
    if not periods or periods[0][0] != 0:
        raise ValueError("the first period must start at 0")
    duration = schedule_data.get("duration")
    profile_id = data["charging_profile_id"] if version == "1.6" else data["id"]
    return Profile(
        profile_id=int(profile_id),
        purpose=purpose,
        stack_level=int(data["stack_level"]),
        schedule=Schedule(parse_iso(start), periods, None if duration is None else float(duration)),
        connector_id=connector_id,
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
    profiles: Iterable[Profile], t: float, *, in_transaction: bool, unit_max_a: float
) -> float:
    """The limit a connector obeys at `t`: the station cap and (Tx or TxDefault), at most max."""
    held = list(profiles)
    limits = [unit_max_a, _purpose_limit(held, "max", t)]
    tx = _purpose_limit(held, "tx", t) if in_transaction else None
    limits.append(tx if tx is not None else _purpose_limit(held, "tx_default", t))
    return min(limit for limit in limits if limit is not None)
