"""Decisions to charging profiles: the start-up sequence, one commitment at a time per connector,
verification, and fail-safe handling of chargers that refuse.

At every connection, before a transaction can draw, each registered connector gets the station
cap at the unit max and its lease profile (the last decision, or the hold: 0 A), after reading
what stack levels and rate units the charger allows. Afterwards a connector's profiles are sent
whenever its commitment (limit, fallback, lease end, each rounded as sent) or its transaction
changes; the controller renews leases by moving the lease end. A commitment counts as
acknowledged only when every profile carrying it was accepted, and, with `verify_composite`,
once the charger's GetCompositeSchedule stays within it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call
from websockets.exceptions import ConnectionClosed

from panelpilot.control.alerts import alert
from panelpilot.control.types import Alert, ChargerDecision
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp.profiles import (
    DEFAULT_NUMBER_PHASES,
    HOLD,
    STATION_CAP_PROFILE_ID,
    TX_PROFILE_ID_BASE,
    Commitment,
    Profile,
    RateUnit,
    RateUnits,
    Version,
    cap_schedule,
    commitment_profiles,
    floor_tenth_a,
    schedule_start_t,
    set_profile_request,
)
from panelpilot.drivers.ocpp.state import AckedCommitment, ChargePointState, ProfileSettings

if TYPE_CHECKING:
    from panelpilot.drivers.ocpp.central import CentralSystem
    from panelpilot.drivers.ocpp.session import V16Session, V201Session

    Session = V16Session | V201Session

LOG = logging.getLogger(__name__)
Clock = Callable[[], float]

# Alert code raised for a charger that rejects profiles or lacks smart charging; the
# controller sees its limit in effect as its max until it complies (fail safe).
PROFILE_REJECTED = "charger_profile_rejected"
# Alert code raised when the composite schedule a charger reports is above its commitment.
PROFILE_MISMATCH = "charger_profile_mismatch"
# A charger that refused is asked again at most this often.
RETRY_REFUSED_S = 60.0
# A charger turning watts back into amps rounds; this much above the commitment is not a lie.
COMPOSITE_TOLERANCE_A = 0.1
# How far ahead GetCompositeSchedule is asked about a commitment whose lease never ends.
COMPOSITE_OPEN_S = 60
# 1.6 configuration keys and 2.0.1 SmartChargingCtrlr variables read at every connection.
V16_KEYS = ("ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit")
V201_COMPONENT = "SmartChargingCtrlr"
V201_VARIABLES = ("ProfileStackLevel", "RateUnit")
_UNIT_NAMES: dict[str, RateUnit] = {"Current": "A", "Power": "W", "A": "A", "W": "W"}


@dataclass(frozen=True, slots=True)
class CommitmentOptions:
    """How one connector's commitments are written.

    `decision_clock` is the clock decisions' `lease_until_t` are on (None: the central
    system's own); a lease end is moved onto the central system's clock when it is sent.
    """

    max_a: float
    clock_skew_s: float = 10.0
    voltage_v: float = 240.0
    phases: int = 1
    verify_composite: bool = True
    decision_clock: Clock | None = None


@dataclass(slots=True)
class _Connector:
    options: CommitmentOptions
    decision: ChargerDecision | None = None  # the last one applied, kept across connections
    failed_check: AckedCommitment | None = None  # the last one its composite was found above


@dataclass(slots=True)
class _Charger:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connectors: dict[int, _Connector] = field(default_factory=dict)
    install: tuple[object, asyncio.Task[None]] | None = None  # (session, its start-up task)
    late: set[asyncio.Task[None]] = field(default_factory=set)  # registered while connected


def parse_profile_settings(version: str, result: Any) -> ProfileSettings:
    """The stack level and rate unit a GetConfiguration (1.6) / GetVariables (2.0.1) answer
    allows; what it does not say takes the spec's safe default (level 0, amps)."""
    values: dict[str, str] = {}
    if version == "1.6":
        for item in getattr(result, "configuration_key", None) or ():
            if isinstance(item, Mapping) and isinstance(item.get("value"), str):
                values[str(item.get("key"))] = item["value"]
        level_text, units_text = (values.get(k) for k in V16_KEYS)
    else:
        for item in getattr(result, "get_variable_result", None) or ():
            variable = item.get("variable") if isinstance(item, Mapping) else None
            if (
                isinstance(variable, Mapping)
                and item.get("attribute_status") == "Accepted"
                and isinstance(item.get("attribute_value"), str)
            ):
                values[str(variable.get("name"))] = item["attribute_value"]
        level_text, units_text = (values.get(k) for k in V201_VARIABLES)
    try:
        level = max(0, int(level_text or "0"))
    except ValueError:
        level = 0
    units = {_UNIT_NAMES.get(u.strip()) for u in (units_text or "").split(",")} - {None}
    # Amps when allowed (or when it does not say); watts only for a charger that allows nothing
    # else.
    return ProfileSettings(level, "W" if units == {"W"} else "A")


def composite_excess(
    periods: list[tuple[float, float]],
    duration_s: float,
    commitment: Commitment,
    t: float,
    clock_skew_s: float,
) -> str | None:
    """Where a composite schedule (offsets from `t`, amps) goes above a commitment, or None."""
    ordered = sorted(periods)
    edges_t = (
        commitment.lease_until_t - clock_skew_s,
        commitment.lease_until_t + clock_skew_s,
    )
    for i, (start_s, limit_a) in enumerate(ordered):
        end_s = ordered[i + 1][0] if i + 1 < len(ordered) else max(duration_s, start_s)
        # A period must fit the envelope at every instant it covers; the envelope changes
        # only at the edges of the skew window.
        instants = [t + start_s, *(e for e in edges_t if t + start_s < e < t + end_s)]
        allowed_a = min(commitment.envelope_a(x, x, clock_skew_s) for x in instants)
        if limit_a > allowed_a + COMPOSITE_TOLERANCE_A:
            return f"{limit_a:g} A from {start_s:g} s where it was told {allowed_a:g} A"
    return None


class SmartCharging:
    """Sends profiles through the central system's sessions and remembers who complies."""

    def __init__(self, central: CentralSystem) -> None:
        """Bound to one central system."""
        self._central = central
        self._chargers: dict[str, _Charger] = {}
        self._changed = asyncio.Condition()  # an acknowledgement or a refusal

    # -- what drivers and sessions call -----------------------------------------------------

    def register(self, charge_point_id: str, connector_id: int, options: CommitmentOptions) -> None:
        """A connector panelpilot drives: it gets profiles at every connection from now on
        (at once, if its charger is connected already)."""
        charger = self._chargers.setdefault(charge_point_id, _Charger())
        known = charger.connectors.get(connector_id)
        charger.connectors[connector_id] = _Connector(
            options, None if known is None else known.decision
        )
        session = self._central.session(charge_point_id)
        if session is not None and session.ready_signalled:
            task = asyncio.create_task(self._install(session, charger, [connector_id]))
            charger.late.add(task)
            task.add_done_callback(charger.late.discard)

    async def apply(
        self, charge_point_id: str, connector_id: int, max_a: float, decision: ChargerDecision
    ) -> None:
        """Bring the connector's profiles in line with a decision; DriverError when offline.

        The decision is kept even when the charger is away: it is what is installed when it
        connects again.
        """
        charger = self._chargers.setdefault(charge_point_id, _Charger())
        entry = charger.connectors.get(connector_id)
        if entry is None:
            entry = charger.connectors[connector_id] = _Connector(CommitmentOptions(max_a))
        elif entry.options.max_a != max_a:
            entry.options = dataclasses.replace(entry.options, max_a=max_a)
        entry.decision = decision
        async with charger.lock:  # one charger, one exchange at a time; others in parallel
            session = self._central.require_session(charge_point_id)
            await self._sync(session, charger, connector_id)

    def connection_ready(self, session: Session) -> None:
        """The charger may be spoken to on this connection: start the start-up sequence once."""
        charger = self._chargers.get(session.state.charge_point_id)
        if charger is None or not charger.connectors:
            return  # not a charger of this site: nothing to install
        if charger.install is not None and charger.install[0] is session:
            return
        task = asyncio.create_task(self._install(session, charger, list(charger.connectors)))
        charger.install = (session, task)

    async def wait_ready(self, charge_point_id: str, connector_id: int) -> None:
        """Return once the connector holds an acknowledged lease profile on this connection,
        or refuses profiles, or after the response timeout (a transaction start waits here)."""
        charger = self._chargers.get(charge_point_id)
        if charger is None or connector_id not in charger.connectors:
            return
        state = self._central.state(charge_point_id)

        def ready() -> bool:
            refused_here = state.refusal is not None and state.refused_t != -math.inf
            return not state.connected or connector_id in state.commitments or refused_here

        try:
            async with self._changed:
                await asyncio.wait_for(
                    self._changed.wait_for(ready), self._central.response_timeout_s
                )
        except TimeoutError:
            LOG.warning(
                "%s: connector %d has no acknowledged profile; its transaction starts anyway "
                "and it is counted at its max",
                charge_point_id,
                connector_id,
            )

    async def settled(self, charge_point_id: str) -> None:
        """Return once the exchanges started on their own (the start-up sequence, installs for
        connectors registered while connected) have run (tests)."""
        charger = self._chargers.get(charge_point_id)
        while charger is not None:
            tasks = [*charger.late, *([] if charger.install is None else [charger.install[1]])]
            pending = [t for t in tasks if not t.done()]
            if not pending:
                return
            await asyncio.gather(*(asyncio.shield(t) for t in pending))

    # -- the exchanges --------------------------------------------------------------------

    async def _install(self, session: Session, charger: _Charger, connectors: list[int]) -> None:
        cp_id = session.state.charge_point_id
        try:
            async with charger.lock:
                for connector_id in connectors:
                    if self._central.session(cp_id) is not session:
                        return  # replaced or gone: the next connection starts over
                    await self._sync(session, charger, connector_id)
        except DriverError as error:
            LOG.warning("%s: start-up profiles not installed: %s", cp_id, error.args[-1])
        finally:
            await self._notify()

    async def _sync(self, session: Session, charger: _Charger, connector_id: int) -> None:
        state = session.state
        entry = charger.connectors[connector_id]
        options = entry.options
        t = self._central.clock()
        if state.refusal is not None and t - state.refused_t < RETRY_REFUSED_S:
            return
        if state.profile_settings is None:
            state.profile_settings = await self._read_settings(session)
        settings = state.profile_settings
        units = RateUnits(settings.rate_unit, options.voltage_v, options.phases)
        level = settings.max_stack_level  # ours win over anything lower within a purpose
        cap_a = floor_tenth_a(sum(c.options.max_a for c in charger.connectors.values()))
        if state.cap_acked_a != cap_a:
            start_t = schedule_start_t(t, options.clock_skew_s)
            cap = Profile(STATION_CAP_PROFILE_ID, "max", level, cap_schedule(cap_a, start_t))
            if not await self._send(session, 0, cap, units, t):
                return
            state.cap_acked_a = cap_a
        transaction_id = state.connector(connector_id).transaction_id
        if transaction_id is None and connector_id not in state.stale_tx_cleared:
            # A transaction this connection knows nothing of may still hold our TxProfile of
            # an older commitment; it would override the TxDefault. Only our id is cleared.
            await self._clear(session, TX_PROFILE_ID_BASE + connector_id)
            state.stale_tx_cleared.add(connector_id)
        commitment, decision_end_t = self._commitment(entry, t)
        key = (
            commitment.limit_a,
            commitment.fallback_a,
            decision_end_t,
            transaction_id,
            level,
            settings.rate_unit,
        )
        acked = state.commitments.get(connector_id)
        if acked is None or acked.key != key:
            profiles = commitment_profiles(
                commitment,
                send_t=t,
                clock_skew_s=options.clock_skew_s,
                connector_id=connector_id,
                transaction_id=transaction_id,
                stack_level=level,
            )
            for profile in profiles:
                if not await self._send(session, connector_id, profile, units, t):
                    return
            acked = AckedCommitment(commitment, decision_end_t, key)
            state.commitments[connector_id] = acked
            if state.refusal is not None:
                LOG.info("%s: accepts charging profiles again", state.charge_point_id)
            state.refusal = None
            await self._notify()
        if state.verified.get(connector_id) is acked or entry.failed_check is acked:
            return  # checked already; a mismatch is checked again with the next commitment
        if options.verify_composite and not state.composite_unsupported and commitment != HOLD:
            excess = await self._composite_excess(session, connector_id, commitment, units, t)
            if excess is not None:
                if connector_id not in state.mismatch:
                    LOG.warning("%s: composite schedule %s", state.charge_point_id, excess)
                state.mismatch[connector_id] = excess
                entry.failed_check = acked
                return
        state.mismatch.pop(connector_id, None)
        state.verified[connector_id] = acked

    def _commitment(self, entry: _Connector, t: float) -> tuple[Commitment, float]:
        decision = entry.decision
        if decision is None:
            return HOLD, math.inf
        end_t = decision.lease_until_t
        if end_t == -math.inf:
            # A controller's "never leased" (its memory's initial value): the decision gives
            # no lease end, so the limit holds until the next one, like an endless lease.
            end_t = math.inf
        clock = entry.options.decision_clock
        if clock is not None and math.isfinite(end_t):
            end_t = end_t - clock() + t  # the same instant on the central system's clock
        return Commitment.of(decision, end_t), decision.lease_until_t

    async def _read_settings(self, session: Session) -> ProfileSettings:
        state = session.state
        request: Any
        if state.version == "1.6":
            request = v16_call.GetConfiguration(key=list(V16_KEYS))
        else:
            request = v201_call.GetVariables(
                get_variable_data=[
                    {"component": {"name": V201_COMPONENT}, "variable": {"name": name}}
                    for name in V201_VARIABLES
                ]
            )
        try:
            result = await self._request(session, request, "the profile settings")
        except (OCPPError, ValueError) as error:
            LOG.info(
                "%s: profile settings not readable (%s): spec defaults",
                state.charge_point_id,
                error,
            )
            return ProfileSettings()
        return parse_profile_settings(state.version, result)

    async def _clear(self, session: Session, profile_id: int) -> None:
        request: Any
        if session.state.version == "1.6":
            request = v16_call.ClearChargingProfile(id=profile_id)
        else:
            request = v201_call.ClearChargingProfile(charging_profile_id=profile_id)
        try:
            await self._request(session, request, "ClearChargingProfile")
        except (OCPPError, ValueError) as error:  # nothing to clear, or it cannot: not fatal
            LOG.info(
                "%s: ClearChargingProfile %d: %s", session.state.charge_point_id, profile_id, error
            )

    async def _composite_excess(
        self,
        session: Session,
        connector_id: int,
        commitment: Commitment,
        units: RateUnits,
        t: float,
    ) -> str | None:
        state = session.state
        skew_s = self._chargers[state.charge_point_id].connectors[connector_id].options.clock_skew_s
        ahead_s = commitment.lease_until_t - t
        duration_s = math.ceil(ahead_s + skew_s) + 1 if math.isfinite(ahead_s) else COMPOSITE_OPEN_S
        duration_s = max(1, min(duration_s, 86_400))
        request: Any
        if state.version == "1.6":
            request = v16_call.GetCompositeSchedule(connector_id, duration_s, "A")
        else:
            request = v201_call.GetCompositeSchedule(duration_s, connector_id, "A")
        try:
            result = await self._request(session, request, "GetCompositeSchedule")
            raw = result.charging_schedule if state.version == "1.6" else result.schedule
            if str(result.status) != "Accepted" or not isinstance(raw, Mapping):
                raise ValueError(f"status {result.status}")
            periods = _composite_periods_a(raw, units)
        except (OCPPError, ValueError, KeyError, TypeError, AttributeError) as error:
            LOG.info(
                "%s: no composite schedule (%s): its acknowledgements are trusted",
                state.charge_point_id,
                error,
            )
            state.composite_unsupported = True
            return None
        return composite_excess(periods, duration_s, commitment, t, skew_s)

    async def _request(self, session: Session, request: Any, what: str) -> Any:
        """A CALL; OCPPError for a CALLERROR, ValueError for a malformed reply, DriverError
        when the charger does not answer in time or goes away."""
        cp_id = session.state.charge_point_id
        try:
            return await session.request(request, self._central.response_timeout_s)
        except OCPPError:
            raise
        except TimeoutError:
            raise DriverError(cp_id, f"no answer to {what}") from None
        except ConnectionClosed:
            raise DriverError(cp_id, f"disconnected during {what}") from None
        except Exception as error:  # a reply that is not this action's answer, whatever it is
            raise ValueError(f"malformed reply to {what}: {error!r}") from None

    async def _send(
        self, session: Session, connector_id: int, profile: Profile, units: RateUnits, t: float
    ) -> bool:
        state = session.state
        version: Version = "1.6" if state.version == "1.6" else "2.0.1"
        request = set_profile_request(version, connector_id, profile, units)
        try:
            result = await self._request(session, request, "SetChargingProfile")
        except OCPPError as error:  # NotImplemented / NotSupported: no smart charging
            await self._refused(state, t, f"answers SetChargingProfile with {error.code}")
            return False
        except ValueError:
            LOG.warning("%s: malformed SetChargingProfile reply", state.charge_point_id)
            await self._refused(state, t, "answers SetChargingProfile with a malformed reply")
            return False
        status = str(getattr(result, "status", ""))
        if status != "Accepted":
            what = f"{profile.purpose} profile" if profile.purpose != "max" else "station cap"
            await self._refused(state, t, f"answers SetChargingProfile ({what}) with {status}")
            return False
        return True

    async def _refused(self, state: ChargePointState, t: float, why: str) -> None:
        if state.refusal is None:
            LOG.warning("%s: %s; counted at its max until it complies", state.charge_point_id, why)
        state.refusal, state.refused_t = why, t
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- alerts ---------------------------------------------------------------------------

    def alerts(self) -> tuple[Alert, ...]:
        """Alerts for every connected charger that refuses or misreports smart charging."""
        return tuple(a for cp_id in self._chargers for a in self.alerts_for(cp_id))

    def alerts_for(
        self, charge_point_id: str, connector_id: int | None = None
    ) -> tuple[Alert, ...]:
        """Alerts about one charge point (one of its connectors, when given)."""
        session = self._central.session(charge_point_id)
        if session is None:
            return ()
        state = session.state
        out: list[Alert] = []
        if state.refusal is not None:
            out.append(
                alert(
                    PROFILE_REJECTED,
                    f"{charge_point_id} {state.refusal}: counted at its max until it complies",
                    charge_point_id,
                )
            )
        for connector, excess in sorted(state.mismatch.items()):
            if connector_id is None or connector == connector_id:
                out.append(
                    alert(
                        PROFILE_MISMATCH,
                        f"{charge_point_id} connector {connector} reports a composite schedule "
                        f"above its commitment ({excess}): counted at its max",
                        charge_point_id,
                    )
                )
        return tuple(out)


def _composite_periods_a(raw: Mapping[str, Any], units: RateUnits) -> list[tuple[float, float]]:
    """A composite schedule's periods as (start_s, amps); watts back to amps."""
    unit = raw.get("charging_rate_unit", "A")
    periods: list[tuple[float, float]] = []
    for period in raw["charging_schedule_period"]:
        limit = float(period["limit"])
        if unit == "W":
            limit /= units.voltage_v * int(period.get("number_phases", DEFAULT_NUMBER_PHASES))
        elif unit != "A":
            raise ValueError(f"rate unit {unit}")
        periods.append((float(period["start_period"]), limit))
    if not periods:
        raise ValueError("no periods")
    return periods
