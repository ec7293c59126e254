"""The composite-schedule rules of OCPP, as pure functions over the profiles a charge point holds.

Written from the specifications, not from any sender: OCPP 1.6 edition 2 (section 3.13 Smart
Charging, 5.16 SetChargingProfile, 7.8-7.14 the data types) and OCPP 2.0.1 part 2 (section K,
the `ocpp` package's `v201/schemas/SetChargingProfileRequest.json` descriptions). Every time
is a float of epoch seconds **on the charge point's own clock**; every limit is amperes per
phase. The input is the SetChargingProfile request payloads as OCPP JSON (camelCase):
`{"connectorId": 1, "csChargingProfiles": {...}}` (1.6) or `{"evseId": 1, "chargingProfile":
{...}}` (2.0.1).

The rules, with where each comes from:

* Purposes (1.6 3.13.1, 3.13.3): the limit is the minimum of the leading ChargePointMaxProfile
  (2.0.1 ChargingStationMaxProfile, on connector 0) and the leading TxProfile, or the leading
  TxDefaultProfile when no TxProfile leads. 2.0.1 adds ChargingStationExternalConstraints (on
  EVSE 0 and on the EVSE), which enters the minimum too. The station cap is the limit of all
  connectors together (3.13.3): for one connector it is an upper bound.
* TxProfile applies only during a transaction, and only to the one its transactionId names
  (7.8, 7.10; a 1.6 TxProfile without transactionId applies to the connector's transaction).
* TxDefaultProfile on connector 0 applies to every connector; one set on the connector
  replaces it there (3.13.1: "replaced only for that specific connector"). Here a connector
  that holds any TxDefaultProfile of its own ignores those of connector 0.
* Stacking (1.6 3.13.2, 2.0.1 K "stacking"): within a purpose the profile with the highest
  stackLevel among those valid (validFrom <= t < validTo) leads. A profile whose schedule does
  not cover the instant (before its start, after its duration) lets a lower level lead
  ("If you use Stacking without a duration, on the highest stack level, the Charge Point will
  never fall back to a lower stack level profile" - so with a duration it does). The worst
  reading of 1.6, where the prevailing profile is chosen by validity alone and a schedule that
  does not cover the instant means no limit from that purpose, is `gaps="unlimited"`.
* A profile with validFrom in the future is not valid yet: "the Charge Point SHALL replace the
  installed profile and SHALL revert to default behavior until validFrom is reached" (3.13.2).
* Kinds (7.9): Absolute starts at startSchedule; Relative at the start of the transaction (with
  none, at the instant asked about: what a transaction starting then would get); Recurring
  restarts at startSchedule every day or week (recurrencyKind) and never applies before the
  first startSchedule. A schedule without startSchedule is relative to the start of charging
  (7.13). duration ends the schedule; without one the last period runs on (7.13).
* Periods (7.14): each runs from its startPeriod to the next one's.
* Units (7.12): A is amperes per phase; W is the total power, per phase current =
  W / (voltage x phases), phases = numberPhases (3 when absent), but never more than the unit
  has: a single-phase unit draws the whole power on one phase (3.13.7 note).
* No valid profile: the unit's maximum (3.13.6 "as if no constraints apply").
* Replacement (1.6 5.16.3/5.16.4): a profile with the same chargingProfileId, or the same
  stackLevel and purpose on the same connector, replaces the one held; 2.0.1: the same id
  (K01.FR.05). `install` applies it; `effective_limit_a` folds the payloads it is given in
  order, so a list of everything a charger accepted works as well as what it holds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Payload = Mapping[str, Any]
Version = Literal["1.6", "2.0.1"]
Gaps = Literal["fall_through", "unlimited"]

DAY_S = 86_400.0
WEEK_S = 7 * DAY_S
DEFAULT_PHASES = 3  # 1.6 7.14 / 2.0.1 numberPhases: "numberPhases=3 will be assumed"

STATION_MAX = "StationMax"
TX_DEFAULT = "TxDefault"
TX = "Tx"
EXTERNAL = "External"
PURPOSES = {
    "ChargePointMaxProfile": STATION_MAX,
    "ChargingStationMaxProfile": STATION_MAX,
    "TxDefaultProfile": TX_DEFAULT,
    "TxProfile": TX,
    "ChargingStationExternalConstraints": EXTERNAL,
}
PERIOD_OF = {"Daily": DAY_S, "Weekly": WEEK_S}


class ProfileError(ValueError):
    """A payload that is not a charging profile this evaluator can read (names the field)."""


@dataclass(frozen=True, slots=True)
class Unit:
    """The hardware: its maximum current per phase, nominal voltage and phases wired."""

    max_a: float
    voltage_v: float = 230.0
    phases: int = 3


@dataclass(frozen=True, slots=True)
class Transaction:
    """A running transaction: its id (int in 1.6, string in 2.0.1) and start, charger clock."""

    transaction_id: int | str | None
    start_s: float


@dataclass(frozen=True, slots=True)
class Period:
    """One schedule period: from `start_s` after the schedule start, `limit` in its unit."""

    start_s: float
    limit: float
    phases: int | None


@dataclass(frozen=True, slots=True)
class Held:
    """One installed charging profile, read out of its SetChargingProfile payload."""

    version: Version
    connector_id: int  # 1.6 connectorId, 2.0.1 evseId; 0 is the whole station
    profile_id: int
    stack_level: int
    purpose: str  # STATION_MAX, TX_DEFAULT, TX or EXTERNAL
    kind: str  # Absolute, Relative, Recurring
    recurrency_s: float | None
    valid_from_s: float | None
    valid_to_s: float | None
    transaction_id: str | None
    start_schedule_s: float | None
    duration_s: float | None
    rate_unit: str  # "A" or "W"
    periods: tuple[Period, ...]
    schedules: int  # how many chargingSchedule entries the payload had (2.0.1 allows 1..3)
    payload: Payload


def parse_time_s(text: object, field: str) -> float:
    """An ISO 8601 date-time (1.6 3.15: fractions and offsets allowed) as epoch seconds."""
    if not isinstance(text, str):
        raise ProfileError(f"{field}: expected an ISO 8601 date-time, got {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ProfileError(f"{field}: {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:  # 3.14: UTC is "strongly recommended"; a bare time is read so
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def format_time(t_s: float) -> str:
    """Epoch seconds as the ISO 8601 UTC text OCPP messages carry (milliseconds, `Z`)."""
    moment = datetime.fromtimestamp(t_s, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(payload: Payload) -> Held:
    """Read a SetChargingProfile request (1.6 or 2.0.1 JSON); ProfileError names what is wrong."""
    if "csChargingProfiles" in payload:
        version: Version = "1.6"
        where, profile = payload.get("connectorId"), payload["csChargingProfiles"]
        id_key, schedules = "chargingProfileId", [profile.get("chargingSchedule")]
    elif "chargingProfile" in payload:
        version = "2.0.1"
        where, profile = payload.get("evseId"), payload["chargingProfile"]
        id_key, schedules = "id", list(profile.get("chargingSchedule") or [None])
    else:
        raise ProfileError("neither csChargingProfiles (1.6) nor chargingProfile (2.0.1)")
    if not isinstance(where, int) or where < 0:
        raise ProfileError(f"connectorId/evseId: {where!r} is not a connector")
    purpose = PURPOSES.get(profile.get("chargingProfilePurpose"))
    if purpose is None:
        raise ProfileError(f"chargingProfilePurpose: {profile.get('chargingProfilePurpose')!r}")
    kind = profile.get("chargingProfileKind")
    if kind not in ("Absolute", "Relative", "Recurring"):
        raise ProfileError(f"chargingProfileKind: {kind!r}")
    schedule = schedules[0]
    if not isinstance(schedule, Mapping):
        raise ProfileError("chargingSchedule: missing")
    unit = schedule.get("chargingRateUnit")
    if unit not in ("A", "W"):
        raise ProfileError(f"chargingRateUnit: {unit!r}")
    raw_periods = schedule.get("chargingSchedulePeriod") or []
    periods = tuple(
        sorted(
            (
                Period(float(p["startPeriod"]), float(p["limit"]), p.get("numberPhases"))
                for p in raw_periods
            ),
            key=lambda p: p.start_s,
        )
    )
    if not periods:
        raise ProfileError("chargingSchedulePeriod: empty")
    recurrency = profile.get("recurrencyKind")
    transaction_id = profile.get("transactionId")
    return Held(
        version=version,
        connector_id=where,
        profile_id=int(profile[id_key]),
        stack_level=int(profile["stackLevel"]),
        purpose=purpose,
        kind=kind,
        # Recurring without recurrencyKind is read as Daily; the field charger rejects it.
        recurrency_s=PERIOD_OF.get(recurrency or "Daily") if kind == "Recurring" else None,
        valid_from_s=_optional_time(profile.get("validFrom"), "validFrom"),
        valid_to_s=_optional_time(profile.get("validTo"), "validTo"),
        transaction_id=None if transaction_id is None else str(transaction_id),
        start_schedule_s=_optional_time(schedule.get("startSchedule"), "startSchedule"),
        duration_s=None if schedule.get("duration") is None else float(schedule["duration"]),
        rate_unit=unit,
        periods=periods,
        schedules=len(schedules),
        payload=payload,
    )


def _optional_time(text: object, field: str) -> float | None:
    return None if text is None else parse_time_s(text, field)


def replaces(new: Held, old: Held) -> bool:
    """Whether installing `new` removes `old` (1.6 5.16.3/5.16.4; 2.0.1 K01.FR.05)."""
    if new.profile_id == old.profile_id:
        return True
    return (
        new.version == "1.6"
        and new.connector_id == old.connector_id
        and new.stack_level == old.stack_level
        and new.purpose == old.purpose
    )


def install(held: Sequence[Held], new: Held) -> tuple[Held, ...]:
    """The profiles held after `new` is installed: those it replaces go, it is added last."""
    return (*(old for old in held if not replaces(new, old)), new)


def holdings(profiles: Iterable[Held | Payload]) -> tuple[Held, ...]:
    """Profiles (payloads or parsed) installed one after another, replacements applied."""
    held: tuple[Held, ...] = ()
    for item in profiles:
        held = install(held, item if isinstance(item, Held) else parse(item))
    return held


def effective_limit_a(
    profiles: Iterable[Held | Payload],
    *,
    connector_id: int,
    now_s: float,
    unit: Unit,
    transaction: Transaction | None = None,
    gaps: Gaps = "fall_through",
) -> float:
    """The current per phase the connector may draw at `now_s` (charger clock), in A."""
    held = holdings(profiles)
    anchor_s = transaction.start_s if transaction is not None else now_s
    return _limit_at(held, connector_id, now_s, transaction, anchor_s, unit, gaps)


def change_times_s(
    profiles: Iterable[Held | Payload],
    *,
    start_s: float,
    end_s: float,
    transaction: Transaction | None = None,
) -> list[float]:
    """Every instant in (start_s, end_s] at which a held profile's limit or validity may change.

    Between two of these (and the ends) the effective limit is constant, so its maximum over
    an interval is the largest value at the interval's start and at these instants. Without a
    transaction, relative schedules are anchored at `start_s` (a transaction starting then).
    """
    anchor_s = transaction.start_s if transaction is not None else start_s
    found: set[float] = set()
    for held in holdings(profiles):
        found.update(_edges(held, start_s, end_s, anchor_s))
    return sorted(t for t in found if start_s < t <= end_s)


def max_limit_a(
    profiles: Iterable[Held | Payload],
    *,
    connector_id: int,
    start_s: float,
    end_s: float,
    unit: Unit,
    transaction: Transaction | None = None,
    gaps: Gaps = "fall_through",
) -> float:
    """The largest effective limit at any instant of [start_s, end_s] (charger clock), in A."""
    held = holdings(profiles)
    anchor_s = transaction.start_s if transaction is not None else start_s
    instants = [
        start_s,
        *change_times_s(held, start_s=start_s, end_s=end_s, transaction=transaction),
    ]
    return max(
        _limit_at(held, connector_id, t, transaction, anchor_s, unit, gaps) for t in instants
    )


def composite_schedule(
    profiles: Iterable[Held | Payload],
    *,
    connector_id: int,
    start_s: float,
    duration_s: float,
    unit: Unit,
    transaction: Transaction | None = None,
    gaps: Gaps = "fall_through",
) -> list[tuple[int, float]]:
    """(startPeriod, limit A) from `start_s` for `duration_s`, as GetCompositeSchedule reports it.

    1.6 5.7: "from the moment the request PDU is received: Time X, up to X + Duration". The
    report has whole seconds; a change between two is reported where it errs high (a raise at
    the earlier second, a decrease at the later one), so the report never claims less than the
    charger obeys.
    """
    held = holdings(profiles)
    anchor_s = transaction.start_s if transaction is not None else start_s
    end_s = start_s + duration_s
    instants = [start_s]
    instants += [
        t
        for t in change_times_s(held, start_s=start_s, end_s=end_s, transaction=transaction)
        if t < end_s
    ]
    report: dict[int, float] = {}
    previous = -math.inf
    for t in instants:
        limit = _limit_at(held, connector_id, t, transaction, anchor_s, unit, gaps)
        offset = t - start_s
        second = math.floor(offset) if limit >= previous else math.ceil(offset)
        previous = limit
        if second >= duration_s:  # a decrease in the last second: past the report's end
            continue
        report[second] = max(report.get(second, -math.inf), limit)
    periods: list[tuple[int, float]] = []
    for second in sorted(report):
        if not periods or periods[-1][1] != report[second]:
            periods.append((second, report[second]))
    return periods


# -- the rules ------------------------------------------------------------------------------


def _limit_at(
    held: Sequence[Held],
    connector_id: int,
    t: float,
    transaction: Transaction | None,
    anchor_s: float,
    unit: Unit,
    gaps: Gaps,
) -> float:
    """The minimum over the purposes that lead at `t`, within the unit's maximum."""
    own_default = [h for h in held if h.purpose == TX_DEFAULT and h.connector_id == connector_id]
    defaults = own_default or [h for h in held if h.purpose == TX_DEFAULT and h.connector_id == 0]
    tx_limit = None
    if transaction is not None:
        tx_profiles = [
            h
            for h in held
            if h.purpose == TX
            and h.connector_id == connector_id
            and (h.transaction_id is None or h.transaction_id == str(transaction.transaction_id))
        ]
        tx_limit = _leading(tx_profiles, t, anchor_s, unit, gaps)
    if tx_limit is None:  # 3.13.1: TxProfile overrules TxDefaultProfile while it is present
        tx_limit = _leading(defaults, t, anchor_s, unit, gaps)
    station = [h for h in held if h.purpose == STATION_MAX and h.connector_id == 0]
    external_station = [h for h in held if h.purpose == EXTERNAL and h.connector_id == 0]
    external_own = [h for h in held if h.purpose == EXTERNAL and h.connector_id == connector_id]
    limits = [
        tx_limit,
        _leading(station, t, anchor_s, unit, gaps),
        _leading(external_station, t, anchor_s, unit, gaps),
        _leading(external_own, t, anchor_s, unit, gaps) if connector_id != 0 else None,
    ]
    limit = min((x for x in limits if x is not None), default=math.inf)
    return max(0.0, min(limit, unit.max_a))


def _leading(
    group: Sequence[Held], t: float, anchor_s: float, unit: Unit, gaps: Gaps
) -> float | None:
    """The limit of the purpose at `t`: None = no profile leads, inf = a profile says no limit."""
    valid = [h for h in group if _valid(h, t)]
    if not valid:
        return None
    if gaps == "unlimited":
        top = max(h.stack_level for h in valid)
        limits = [_schedule_a(h, t, anchor_s, unit) for h in valid if h.stack_level == top]
        return (
            math.inf if any(x is None for x in limits) else max(x for x in limits if x is not None)
        )
    best_level, best = -1, None
    for h in valid:
        limit = _schedule_a(h, t, anchor_s, unit)
        if limit is None or h.stack_level < best_level:
            continue
        # Two profiles on one level should not exist (3.13.2); if they do, assume the higher.
        best = limit if h.stack_level > best_level or best is None else max(best, limit)
        best_level = h.stack_level
    return best


def _valid(h: Held, t: float) -> bool:
    """7.8: valid from validFrom (absent: on receipt) until validTo (absent: until replaced)."""
    return (h.valid_from_s is None or h.valid_from_s <= t) and (
        h.valid_to_s is None or t < h.valid_to_s
    )


def _schedule_start(h: Held, anchor_s: float) -> float:
    if h.kind == "Relative" or h.start_schedule_s is None:
        return anchor_s
    return h.start_schedule_s


def _schedule_a(h: Held, t: float, anchor_s: float, unit: Unit) -> float | None:
    """The schedule's limit at `t` in A per phase, or None when the schedule does not cover t."""
    offset = t - _schedule_start(h, anchor_s)
    if offset < 0:
        return None
    if h.recurrency_s is not None:
        offset %= h.recurrency_s
    if h.duration_s is not None and offset >= h.duration_s:
        return None
    current: Period | None = None
    for period in h.periods:
        if period.start_s > offset:
            break
        current = period
    if current is None:
        return None
    return _amps(current, h.rate_unit, unit)


def _amps(period: Period, rate_unit: str, unit: Unit) -> float:
    """7.12: A is per phase; W / (voltage x phases), the phases the unit can really use."""
    if rate_unit == "A":
        return period.limit
    phases = min(period.phases or DEFAULT_PHASES, unit.phases)
    return period.limit / (unit.voltage_v * max(phases, 1))


def _edges(h: Held, start_s: float, end_s: float, anchor_s: float) -> Iterable[float]:
    """Instants where `h` may change what it says, near [start_s, end_s]."""
    for t in (h.valid_from_s, h.valid_to_s):
        if t is not None:
            yield t
    begin = _schedule_start(h, anchor_s)
    offsets = [p.start_s for p in h.periods]
    if h.duration_s is not None:
        offsets.append(h.duration_s)
    if h.recurrency_s is None:
        bases = [begin]
    else:
        first = max(0, math.floor((start_s - begin) / h.recurrency_s) - 1)
        last = max(first, math.floor((end_s - begin) / h.recurrency_s) + 1)
        bases = [begin + k * h.recurrency_s for k in range(first, last + 1)]
    for base in bases:
        yield base
        for offset in offsets:
            if h.recurrency_s is None or offset < h.recurrency_s:
                yield base + offset
