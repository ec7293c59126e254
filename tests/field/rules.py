"""When a field charger answers SetChargingProfile with Rejected: the rules as a table.

Each rule is a source and a check that returns why the profile is refused, or None. The 1.6
rules apply to both versions (2.0.1 kept them under other numbers); the 2.0.1 ones follow.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.field.composite import (
    EXTERNAL,
    STATION_MAX,
    TX,
    Held,
    Transaction,
    Version,
    install,
)


@dataclass(frozen=True, slots=True)
class Station:
    """What the rules look at: the charger's settings and state when a profile arrives."""

    version: Version
    connectors: int
    max_stack_level: int  # ChargeProfileMaxStackLevel / SmartChargingCtrlr.ProfileStackLevel
    rate_units: tuple[str, ...]  # ChargingScheduleAllowedChargingRateUnit / RateUnit
    max_periods: int  # ChargingScheduleMaxPeriods / PeriodsPerSchedule
    max_profiles: int  # MaxChargingProfilesInstalled / Entries
    held: tuple[Held, ...]
    transaction: Transaction | None
    now_s: float  # its own clock


Check = Callable[[Held, Station], str | None]


def refusal(new: Held, station: Station) -> str | None:
    """Why `station` refuses `new` (None: it accepts), with the rule's source."""
    rules = COMMON + (V201 if station.version == "2.0.1" else ())
    for source, check in rules:
        reason = check(new, station)
        if reason is not None:
            return f"{reason} ({source})"
    return None


def _version(new: Held, station: Station) -> str | None:
    if new.version != station.version:
        return f"a {new.version} profile sent to a {station.version} charger"
    return None


def _connector(new: Held, station: Station) -> str | None:
    if new.connector_id > station.connectors:
        return f"connector {new.connector_id} does not exist"
    return None


def _station_cap_on_zero(new: Held, station: Station) -> str | None:
    if new.purpose == STATION_MAX and new.connector_id != 0:
        return "the station cap belongs on connector 0"
    return None


def _tx_on_a_connector(new: Held, station: Station) -> str | None:
    if new.purpose == TX and new.connector_id == 0:
        return "TxProfile on connector 0"
    return None


def _tx_has_its_transaction(new: Held, station: Station) -> str | None:
    if new.purpose != TX:
        return None
    if station.version == "2.0.1" and new.transaction_id is None:
        return "TxProfile without transactionId"
    if station.transaction is None:
        return "TxProfile without a transaction on the connector"
    if new.transaction_id not in (None, str(station.transaction.transaction_id)):
        return f"TxProfile for transaction {new.transaction_id}, not the running one"
    return None


def _stack_level(new: Held, station: Station) -> str | None:
    if new.stack_level > station.max_stack_level:
        return f"stackLevel {new.stack_level} > ChargeProfileMaxStackLevel"
    return None


def _rate_unit(new: Held, station: Station) -> str | None:
    if new.rate_unit not in station.rate_units:
        return f"chargingRateUnit {new.rate_unit} not allowed"
    return None


def _periods(new: Held, station: Station) -> str | None:
    starts = [p["startPeriod"] for p in _schedule(new)["chargingSchedulePeriod"]]
    if len(starts) > station.max_periods:
        return f"{len(starts)} periods > ChargingScheduleMaxPeriods"
    if starts[0] != 0 or any(b <= a for a, b in itertools.pairwise(starts)):
        return "the first startPeriod must be 0 and the rest increasing"
    return None


def _recurrence(new: Held, station: Station) -> str | None:
    if new.kind == "Recurring" and (
        "recurrencyKind" not in _profile(new) or new.start_schedule_s is None
    ):
        return "a Recurring profile needs recurrencyKind and startSchedule"
    return None


def _room(new: Held, station: Station) -> str | None:
    if len(install(station.held, new)) > station.max_profiles:
        return "MaxChargingProfilesInstalled reached"
    return None


def _not_external(new: Held, station: Station) -> str | None:
    if new.purpose == EXTERNAL:
        return "ChargingStationExternalConstraints is not the CSMS's to set"
    return None


def _station_cap_absolute(new: Held, station: Station) -> str | None:
    if new.purpose == STATION_MAX and new.kind == "Relative":
        return "a Relative ChargingStationMaxProfile"
    return None


def _start_schedule(new: Held, station: Station) -> str | None:
    if new.kind in ("Absolute", "Recurring") and new.start_schedule_s is None:
        return f"{new.kind} without startSchedule"
    if new.kind == "Relative" and new.start_schedule_s is not None:
        return "Relative with startSchedule"
    return None


def _one_schedule(new: Held, station: Station) -> str | None:
    if new.schedules > 1:
        return "more than one chargingSchedule (no ISO 15118 here)"
    return None


def _no_twin(new: Held, station: Station) -> str | None:
    for old in station.held:
        if old.profile_id == new.profile_id or old.purpose != new.purpose:
            continue
        if old.connector_id != new.connector_id or old.stack_level != new.stack_level:
            continue
        if new.purpose == TX and old.transaction_id == new.transaction_id:
            return "a TxProfile with this stackLevel and transaction exists (K01.FR.39)"
        if new.purpose != TX and _overlap(old, new, station.now_s):
            return "a profile with this stackLevel and purpose is valid then"
    return None


COMMON: tuple[tuple[str, Check], ...] = (
    ("version", _version),
    ("1.6 5.16, K01.FR.28", _connector),
    ("1.6 3.13.1, K01.FR.03", _station_cap_on_zero),
    ("1.6 3.13.1, K01.FR.16", _tx_on_a_connector),
    ("1.6 3.13.1, K01.FR.03/09/33", _tx_has_its_transaction),
    ("1.6 3.13.5 ChargeProfileMaxStackLevel", _stack_level),
    ("1.6 3.13.5 ChargingScheduleAllowedChargingRateUnit, K01.FR.26", _rate_unit),
    ("1.6 7.13, 3.13.5 ChargingScheduleMaxPeriods, K01.FR.31/35", _periods),
    ("1.6 7.8/7.9", _recurrence),
    ("1.6 3.13.5 MaxChargingProfilesInstalled", _room),
)
V201: tuple[tuple[str, Check], ...] = (
    ("K01.FR.22", _not_external),
    ("K01.FR.38", _station_cap_absolute),
    ("K01.FR.40/41", _start_schedule),
    ("K01: chargingSchedule 1..3 only with ISO 15118", _one_schedule),
    ("K01.FR.06/39", _no_twin),
)


def _profile(new: Held) -> Mapping[str, Any]:
    payload = new.payload
    found: Mapping[str, Any] = (
        payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}
    )
    return found


def _schedule(new: Held) -> Mapping[str, Any]:
    schedule = _profile(new)["chargingSchedule"]
    return schedule if new.version == "1.6" else schedule[0]  # type: ignore[no-any-return]


def _overlap(old: Held, new: Held, now_s: float) -> bool:
    """Whether two validity periods meet (validFrom absent: from receipt; validTo: forever)."""
    old_from = -math.inf if old.valid_from_s is None else old.valid_from_s
    new_from = now_s if new.valid_from_s is None else new.valid_from_s
    old_to = math.inf if old.valid_to_s is None else old.valid_to_s
    new_to = math.inf if new.valid_to_s is None else new.valid_to_s
    return old_from < new_to and new_from < old_to
