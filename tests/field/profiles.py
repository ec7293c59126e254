"""Builders of SetChargingProfile payloads (OCPP JSON, camelCase) for the field tests."""

from __future__ import annotations

from typing import Any

from tests.field.composite import format_time


def v16(
    connector_id: int,
    profile_id: int,
    purpose: str,
    periods: list[tuple[int, float]],
    *,
    stack_level: int = 0,
    kind: str = "Absolute",
    unit: str = "A",
    start_s: float | None = None,
    duration_s: int | None = None,
    valid_from_s: float | None = None,
    valid_to_s: float | None = None,
    recurrency: str | None = None,
    transaction_id: int | None = None,
    number_phases: int | None = None,
) -> dict[str, Any]:
    """A 1.6 SetChargingProfile.req."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [_period(s, limit, number_phases) for s, limit in periods],
    }
    if start_s is not None:
        schedule["startSchedule"] = format_time(start_s)
    if duration_s is not None:
        schedule["duration"] = duration_s
    profile: dict[str, Any] = {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    _validity(profile, valid_from_s, valid_to_s, recurrency)
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return {"connectorId": connector_id, "csChargingProfiles": profile}


def v201(
    evse_id: int,
    profile_id: int,
    purpose: str,
    periods: list[tuple[int, float]],
    *,
    stack_level: int = 0,
    kind: str = "Absolute",
    unit: str = "A",
    start_s: float | None = None,
    duration_s: int | None = None,
    valid_from_s: float | None = None,
    valid_to_s: float | None = None,
    recurrency: str | None = None,
    transaction_id: str | None = None,
    number_phases: int | None = None,
) -> dict[str, Any]:
    """A 2.0.1 SetChargingProfileRequest."""
    schedule: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [_period(s, limit, number_phases) for s, limit in periods],
    }
    if start_s is not None:
        schedule["startSchedule"] = format_time(start_s)
    if duration_s is not None:
        schedule["duration"] = duration_s
    profile: dict[str, Any] = {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
    }
    _validity(profile, valid_from_s, valid_to_s, recurrency)
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return {"evseId": evse_id, "chargingProfile": profile}


def _period(start_s: int, limit: float, number_phases: int | None) -> dict[str, Any]:
    period: dict[str, Any] = {"startPeriod": start_s, "limit": limit}
    if number_phases is not None:
        period["numberPhases"] = number_phases
    return period


def _validity(
    profile: dict[str, Any],
    valid_from_s: float | None,
    valid_to_s: float | None,
    recurrency: str | None,
) -> None:
    if valid_from_s is not None:
        profile["validFrom"] = format_time(valid_from_s)
    if valid_to_s is not None:
        profile["validTo"] = format_time(valid_to_s)
    if recurrency is not None:
        profile["recurrencyKind"] = recurrency
