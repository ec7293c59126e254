"""Charging profiles on the wire: the SetChargingProfile payloads of OCPP 1.6 and 2.0.1, in amps
or watts, and the profiles a charger receives read back as plain data (`schedules.py`).

Sans-I/O, like `schedules.py`: the central system encodes with these functions and the
simulated charge point decodes with them, so both sides read one payload alike.

`commitment_requests` is the one function that turns a decision into what is sent: the
SetChargingProfile calls, in order, for a connector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call

from panelpilot.control.types import ChargerDecision
from panelpilot.drivers.ocpp.schedules import (
    STATION_CAP_PROFILE_ID,
    Commitment,
    Profile,
    Purpose,
    Schedule,
    cap_schedule,
    commitment_profiles,
    floor_tenth_a,
    schedule_start_t,
)

Version = Literal["1.6", "2.0.1"]
RateUnit = Literal["A", "W"]
# `ocpp.v16.call.SetChargingProfile` or `ocpp.v201.call.SetChargingProfile` (the library has
# no type information).
SetChargingProfileCall: TypeAlias = Any

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
