"""A field charge point, sans-I/O: what a unit within the OCPP specifications does at its worst.

`FieldCharger` is fed events at real times (epoch seconds the test chooses; nothing here reads
a clock) and answers what the charger would answer and what its car may draw. It keeps the
history of what it held, so the limit in effect can be asked for any past instant, and what
the car may draw follows the car's response time. Field behaviours (each one a flag or a
number):

* its own clock: an offset (by default drawn from +-10 s by `seed`) and a drift in ppm (by
  default drawn from +-100 ppm, a cheap RTC crystal); profiles are read on this clock.
  BootNotification.conf's currentTime is only RECOMMENDED to be used (1.6 4.2): `sync_clock`
  is the charger that does.
* strict TxDefaultProfile (`strict_tx_default`): 1.6 7.10 "When a new transaction is started,
  this profile SHALL be used": one read at the start of the transaction, so changes during it
  are stored but ignored until the next transaction.
* profiles lost on reboot (`keeps_profiles=False`); TxProfiles end with their transaction
  (1.6 3.13.1 "After the transaction is stopped, the profile SHOULD be deleted").
* rejections, Accepted or Rejected as the specifications say (the table is `rules.py`):
  TxProfile without a transaction on the connector or for another transaction (1.6 3.13.1,
  2.0.1 K01.FR.09/33), TxProfile on connector 0 or ChargePointMaxProfile elsewhere (3.13.1),
  a stackLevel above ChargeProfileMaxStackLevel, a chargingRateUnit not allowed, more periods
  than ChargingScheduleMaxPeriods (3.13.5), a first startPeriod other than 0 or periods out of
  order (7.13), more than MaxChargingProfilesInstalled; in 2.0.1 also
  ChargingStationExternalConstraints from the CSMS (K01.FR.22), a Relative station cap
  (K01.FR.38), missing or extraneous startSchedule (K01.FR.40/41), and a second profile with
  the same stackLevel and purpose on the EVSE valid at overlapping times (K01.FR.06/39).
* the car: a lower limit is followed only after up to `response_s` (SAE J1772: 5 s), a higher
  one at once; a limit between 0 and `min_a` is offered as `min_a` (the pilot cannot signal
  less than 6 A, IEC 61851-1); it stops drawing at once when the transaction ends.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.field.composite import (
    EXTERNAL,
    PURPOSES,
    TX,
    TX_DEFAULT,
    Gaps,
    Held,
    Payload,
    ProfileError,
    Transaction,
    Unit,
    Version,
    composite_schedule,
    effective_limit_a,
    format_time,
    install,
    max_limit_a,
    parse,
)
from tests.field.rules import Station, refusal

CLOCK_SPREAD_S = 10.0  # field clocks: seconds off (issue 11), here up to +-10 s
DRIFT_SPREAD_PPM = 100.0  # a cheap 32 kHz crystal: up to +-100 ppm, 8.6 s a day
RESPONSE_S = 5.0  # SAE J1772: the EV follows a pilot change within 5 s
PILOT_MIN_A = 6.0  # IEC 61851-1: the pilot cannot signal less than 6 A
UNIT_NAMES = {"A": "Current", "W": "Power"}  # 1.6 ChargingScheduleAllowedChargingRateUnit


@dataclass(frozen=True, slots=True)
class Epoch:
    """What the charger held and did from `real_from_s` until the next epoch."""

    real_from_s: float
    obeyed: tuple[Held, ...]  # what the evaluator is given (strict: the defaults of tx start)
    transaction: Transaction | None
    tx_real_start_s: float | None
    offset_s: float
    drift_ppm: float
    origin_s: float

    def clock_s(self, real_s: float) -> float:
        """The charger's clock at real time `real_s`."""
        return real_s + self.offset_s + self.drift_ppm * 1e-6 * (real_s - self.origin_s)


@dataclass
class FieldCharger:
    """One charge point with one connector (1), fed events at real times in order."""

    version: Version = "1.6"
    max_a: float = 32.0
    voltage_v: float = 230.0
    phases: int = 3
    clock_offset_s: float | None = None  # None: drawn from +-CLOCK_SPREAD_S by `seed`
    drift_ppm: float | None = None  # None: drawn from +-DRIFT_SPREAD_PPM by `seed`
    seed: int = 0
    strict_tx_default: bool = False
    keeps_profiles: bool = True
    max_stack_level: int = 3
    rate_units: tuple[str, ...] = ("A",)
    max_periods: int = 24
    max_profiles: int = 16
    gaps: Gaps = "fall_through"
    min_a: float = PILOT_MIN_A
    connectors: int = 1
    rejections: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        offset = rng.uniform(-CLOCK_SPREAD_S, CLOCK_SPREAD_S)
        drift = rng.uniform(-DRIFT_SPREAD_PPM, DRIFT_SPREAD_PPM)
        self.clock_offset_s = offset if self.clock_offset_s is None else self.clock_offset_s
        self.drift_ppm = drift if self.drift_ppm is None else self.drift_ppm
        self.unit = Unit(self.max_a, self.voltage_v, self.phases)
        self._held: tuple[Held, ...] = ()
        self._defaults_at_start: tuple[Held, ...] = ()
        self._epochs: list[Epoch] = []
        self._epoch_starts: list[float] = []  # the epochs' real_from_s, for bisect
        self._origin_s: float | None = None
        self._last_s = -math.inf
        self._local_tx = 0

    # -- the clock ----------------------------------------------------------------------

    def clock_s(self, real_s: float) -> float:
        """The charger's clock at real time `real_s` (as it runs now)."""
        assert self.clock_offset_s is not None and self.drift_ppm is not None
        origin = real_s if self._origin_s is None else self._origin_s
        return real_s + self.clock_offset_s + self.drift_ppm * 1e-6 * (real_s - origin)

    def sync_clock(self, real_s: float, central_time_s: float) -> None:
        """Set the clock to the central system's time (BootNotification.conf currentTime)."""
        self._advance(real_s)
        self.clock_offset_s = central_time_s - real_s
        self._origin_s = real_s
        self._record(real_s)

    # -- events -------------------------------------------------------------------------

    @property
    def held(self) -> tuple[Held, ...]:
        """The profiles stored now."""
        return self._held

    @property
    def transaction(self) -> Transaction | None:
        """The running transaction (charger clock), None when none runs."""
        return self._epochs[-1].transaction if self._epochs else None

    def boot(self, real_s: float, *, car_plugged: bool = False) -> None:
        """Power on or reboot: the transaction ends; profiles survive only if kept.

        A car plugged in at boot starts a transaction at once (with a local id) and draws as
        the profiles held allow (the unit maximum when none applies).
        """
        self._advance(real_s)
        if not self.keeps_profiles:
            self._held = ()
        self._held = tuple(h for h in self._held if h.purpose != TX)
        self._begin(real_s, None, None)
        if car_plugged:
            self._local_tx += 1
            local = self._local_tx if self.version == "1.6" else f"local-{self._local_tx}"
            self.start_transaction(real_s, local)

    def start_transaction(self, real_s: float, transaction_id: int | str) -> None:
        """A transaction starts (the car draws from now); strict mode reads its defaults now."""
        self._advance(real_s)
        self._defaults_at_start = tuple(h for h in self._held if h.purpose == TX_DEFAULT)
        self._begin(real_s, Transaction(transaction_id, self.clock_s(real_s)), real_s)

    def stop_transaction(self, real_s: float) -> None:
        """The transaction ends (the car stops drawing); its TxProfiles are deleted."""
        self._advance(real_s)
        self._held = tuple(h for h in self._held if h.purpose != TX)
        self._begin(real_s, None, None)

    def set_charging_profile(self, real_s: float, payload: Payload) -> str:
        """SetChargingProfile at `real_s`: "Accepted" (installed now) or "Rejected"."""
        self._advance(real_s)
        try:
            new = parse(payload)
            reason = refusal(new, self._station(real_s))
        except (ProfileError, KeyError, TypeError, ValueError) as exc:
            reason = f"unreadable: {exc}"
        if reason is not None:
            self.rejections.append((real_s, reason))
            return "Rejected"
        self._held = install(self._held, new)
        self._record(real_s)
        return "Accepted"

    def set_external_constraint(self, real_s: float, payload: Payload) -> None:
        """2.0.1: a local energy manager sets ChargingStationExternalConstraints (K01)."""
        self._advance(real_s)
        self._held = install(self._held, parse(payload))
        self._record(real_s)

    def clear_charging_profile(self, real_s: float, payload: Payload) -> str:
        """ClearChargingProfile: "Accepted" when something matched, else "Unknown" (7.21)."""
        self._advance(real_s)
        if self.version == "1.6":
            profile_id = payload.get("id")
            criteria: Mapping[str, Any] = payload
            connector_key = "connectorId"
        else:
            profile_id = payload.get("chargingProfileId")
            criteria = payload.get("chargingProfileCriteria") or {}
            connector_key = "evseId"
        purpose = PURPOSES.get(criteria.get("chargingProfilePurpose", ""))

        def matches(h: Held) -> bool:
            """1.6 5.5: the id alone, or every criterion given (absent ones match all)."""
            if h.purpose == EXTERNAL:  # set by the local system, not the CSMS's to clear
                return False
            if profile_id is not None:
                return bool(h.profile_id == profile_id)
            return bool(
                criteria.get(connector_key) in (None, h.connector_id)
                and purpose in (None, h.purpose)
                and criteria.get("stackLevel") in (None, h.stack_level)
            )

        gone = [h for h in self._held if matches(h)]
        if not gone:
            return "Unknown"
        self._held = tuple(h for h in self._held if h not in gone)
        self._record(real_s)
        return "Accepted"

    # -- what it reports ------------------------------------------------------------------

    def configuration(self) -> dict[str, str]:
        """The smart-charging configuration keys (1.6 3.13.5) and their values."""
        return {
            "ChargeProfileMaxStackLevel": str(self.max_stack_level),
            "ChargingScheduleAllowedChargingRateUnit": ",".join(
                UNIT_NAMES[u] for u in self.rate_units
            ),
            "ChargingScheduleMaxPeriods": str(self.max_periods),
            "MaxChargingProfilesInstalled": str(self.max_profiles),
        }

    def get_configuration(self, payload: Payload) -> dict[str, Any]:
        """GetConfiguration.conf for a GetConfiguration.req (1.6 5.8): known keys, unknown keys."""
        values = self.configuration()
        keys = list(payload.get("key") or values)
        known = [{"key": k, "readonly": True, "value": values[k]} for k in keys if k in values]
        unknown = [k for k in keys if k not in values]
        answer: dict[str, Any] = {"configurationKey": known}
        if unknown:
            answer["unknownKey"] = unknown
        return answer

    def variables(self) -> dict[tuple[str, str], str]:
        """2.0.1 device model: SmartChargingCtrlr variables (the 1.6 keys' counterparts)."""
        return {
            ("SmartChargingCtrlr", "ProfileStackLevel"): str(self.max_stack_level),
            ("SmartChargingCtrlr", "RateUnit"): ",".join(self.rate_units),
            ("SmartChargingCtrlr", "PeriodsPerSchedule"): str(self.max_periods),
            ("SmartChargingCtrlr", "Entries"): str(len(self._held)),
        }

    def get_composite_schedule(self, real_s: float, payload: Payload) -> dict[str, Any]:
        """GetCompositeSchedule response at `real_s`: what it will obey from now (1.6 5.7)."""
        where = payload.get("connectorId" if self.version == "1.6" else "evseId", -1)
        duration = int(payload.get("duration", 0))
        unit = payload.get("chargingRateUnit") or "A"
        if not 0 <= where <= self.connectors or duration <= 0:
            return {"status": "Rejected"}
        now = self.clock_s(real_s)
        epoch = self._epoch_at(real_s)
        obeyed = epoch.obeyed if epoch else self._held
        transaction = epoch.transaction if epoch else None
        periods = composite_schedule(
            obeyed,
            connector_id=max(where, 1),
            start_s=now,
            duration_s=duration,
            unit=self.unit,
            transaction=transaction,
            gaps=self.gaps,
        )
        scale = self.voltage_v * self.phases if unit == "W" else 1.0
        rows = [{"startPeriod": s, "limit": _tenth_up(limit * scale)} for s, limit in periods]
        if self.version == "1.6":
            return {
                "status": "Accepted",
                "connectorId": where,
                "scheduleStart": format_time(now),
                "chargingSchedule": {
                    "duration": duration,
                    "startSchedule": format_time(now),
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": rows,
                },
            }
        return {
            "status": "Accepted",
            "schedule": {
                "evseId": where,
                "duration": duration,
                "scheduleStart": format_time(now),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": rows,
            },
        }

    def effective_limit_a(self, real_s: float) -> float:
        """The limit in effect at `real_s` (on its own clock), for the running transaction.

        With no transaction, the limit one starting then would get.
        """
        epoch = self._epoch_at(real_s)
        if epoch is None:
            return self.max_a
        return effective_limit_a(
            epoch.obeyed,
            connector_id=1,
            now_s=epoch.clock_s(real_s),
            unit=self.unit,
            transaction=epoch.transaction,
            gaps=self.gaps,
        )

    def transaction_start_s(self, real_s: float) -> float | None:
        """The real time the transaction running at `real_s` started (None: none ran)."""
        epoch = self._epoch_at(real_s)
        return None if epoch is None else epoch.tx_real_start_s

    def may_draw_a(self, real_s: float, response_s: float = RESPONSE_S) -> float:
        """The most the car may draw at `real_s`: the highest limit of the last `response_s`.

        A lower limit is followed only after up to `response_s`, a higher one at once; 0 when
        no transaction runs (the contactor is open).
        """
        at = self._epoch_at(real_s)
        if at is None or at.transaction is None or at.tx_real_start_s is None:
            return 0.0
        lo = max(real_s - response_s, at.tx_real_start_s)
        first = max(bisect.bisect_right(self._epoch_starts, lo) - 1, 0)
        top = 0.0
        for i in range(first, len(self._epochs)):
            epoch = self._epochs[i]
            if epoch.real_from_s > real_s:
                break
            end = self._epochs[i + 1].real_from_s if i + 1 < len(self._epochs) else real_s
            a, b = max(lo, epoch.real_from_s), min(real_s, end)
            if b < a:
                continue
            top = max(
                top,
                max_limit_a(
                    epoch.obeyed,
                    connector_id=1,
                    start_s=epoch.clock_s(a),
                    end_s=epoch.clock_s(b),
                    unit=self.unit,
                    transaction=epoch.transaction,
                    gaps=self.gaps,
                ),
            )
        return self.min_a if 0 < top < self.min_a else top

    # -- inside ---------------------------------------------------------------------------

    def _advance(self, real_s: float) -> None:
        if real_s < self._last_s:
            raise ValueError(f"events must come in time order: {real_s} after {self._last_s}")
        self._last_s = real_s
        if self._origin_s is None:
            self._origin_s = real_s

    def _station(self, real_s: float) -> Station:
        """What the rejection rules look at now."""
        return Station(
            version=self.version,
            connectors=self.connectors,
            max_stack_level=self.max_stack_level,
            rate_units=self.rate_units,
            max_periods=self.max_periods,
            max_profiles=self.max_profiles,
            held=self._held,
            transaction=self.transaction,
            now_s=self.clock_s(real_s),
        )

    def _obeyed(self, transaction: Transaction | None) -> tuple[Held, ...]:
        """What the evaluator is given: strict mode swaps in the defaults of the tx start."""
        if not self.strict_tx_default or transaction is None:
            return self._held
        kept = tuple(h for h in self._held if h.purpose != TX_DEFAULT)
        return kept + self._defaults_at_start

    def _record(self, real_s: float) -> None:
        """A new epoch from `real_s`, the running transaction kept."""
        previous = self._epochs[-1] if self._epochs else None
        if previous is None:
            self._begin(real_s, None, None)
        else:
            self._begin(real_s, previous.transaction, previous.tx_real_start_s)

    def _begin(
        self, real_s: float, transaction: Transaction | None, tx_real_start_s: float | None
    ) -> None:
        """A new epoch from `real_s` with this transaction (None: none runs)."""
        assert self.clock_offset_s is not None and self.drift_ppm is not None
        assert self._origin_s is not None
        self._epoch_starts.append(real_s)
        self._epochs.append(
            Epoch(
                real_s,
                self._obeyed(transaction),
                transaction,
                tx_real_start_s,
                self.clock_offset_s,
                self.drift_ppm,
                self._origin_s,
            )
        )

    def _epoch_at(self, real_s: float) -> Epoch | None:
        i = bisect.bisect_right(self._epoch_starts, real_s) - 1
        return self._epochs[i] if i >= 0 else None


def _tenth_up(x: float) -> float:
    """Round up to 0.1 (limits in OCPP carry at most one decimal), never reporting less."""
    return math.ceil(round(x * 10, 6)) / 10


def sample_times(start_s: float, end_s: float, step_s: float) -> Sequence[float]:
    """Instants from `start_s` to `end_s` every `step_s` (for tests that sample a run)."""
    count = math.floor((end_s - start_s) / step_s + 1e-9)
    return [start_s + k * step_s for k in range(count + 1)]
