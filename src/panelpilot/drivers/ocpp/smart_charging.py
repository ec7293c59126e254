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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ocpp.exceptions import OCPPError

from panelpilot.control.types import Alert, ChargerDecision
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp import exchanges
from panelpilot.drivers.ocpp.alerts import compliance_alerts
from panelpilot.drivers.ocpp.profiles import (
    RateUnits,
    Version,
    set_profile_request,
)
from panelpilot.drivers.ocpp.schedules import (
    HOLD,
    STATION_CAP_PROFILE_ID,
    TX_PROFILE_ID_BASE,
    Commitment,
    Profile,
    cap_schedule,
    commitment_profiles,
    decision_commitment,
    floor_tenth_a,
    schedule_start_t,
)
from panelpilot.drivers.ocpp.state import AckedCommitment, ChargePointState, ProfileSettings

if TYPE_CHECKING:
    from panelpilot.drivers.ocpp.central import CentralSystem
    from panelpilot.drivers.ocpp.session import V16Session, V201Session

    Session = V16Session | V201Session

LOG = logging.getLogger(__name__)
Clock = Callable[[], float]

# A charger that refused is asked again at most this often.
RETRY_REFUSED_S = 60.0


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


@dataclass(frozen=True, slots=True)
class _Round:
    """One connector's sync: what it works with, read once at its start."""

    session: Session
    connector_id: int
    entry: _Connector
    settings: ProfileSettings
    units: RateUnits
    t: float


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
        """One connector brought in line: the station cap, a stale TxProfile cleared, the
        commitment's profiles, their check against the composite schedule; each step only
        when what it carries changed, and none while the charger is refusing."""
        state = session.state
        entry = charger.connectors[connector_id]
        t = self._central.clock()
        if state.refusal is not None and t - state.refused_t < RETRY_REFUSED_S:
            return
        if state.profile_settings is None:
            timeout_s = self._central.response_timeout_s
            state.profile_settings = await exchanges.read_settings(session, timeout_s)
        settings = state.profile_settings
        units = RateUnits(settings.rate_unit, entry.options.voltage_v, entry.options.phases)
        r = _Round(session, connector_id, entry, settings, units, t)
        if not await self._install_cap(r, charger):
            return
        transaction_id = state.connector(connector_id).transaction_id
        await self._clear_stale_tx(r, transaction_id)
        clock = entry.options.decision_clock
        commitment, decision_end_t = decision_commitment(entry.decision, t, clock)
        acked = await self._commit(r, commitment, decision_end_t, transaction_id)
        if acked is not None:
            await self._verify(r, commitment, acked)

    async def _install_cap(self, r: _Round, charger: _Charger) -> bool:
        """The station cap at the sum of the connectors' max; False when it is refused."""
        state = r.session.state
        cap_a = floor_tenth_a(sum(c.options.max_a for c in charger.connectors.values()))
        if state.cap_acked_a == cap_a:
            return True
        start_t = schedule_start_t(r.t, r.entry.options.clock_skew_s)
        level = r.settings.max_stack_level  # ours win over anything lower within a purpose
        cap = Profile(STATION_CAP_PROFILE_ID, "max", level, cap_schedule(cap_a, start_t))
        if not await self._send(r.session, 0, cap, r.units, r.t):
            return False
        state.cap_acked_a = cap_a
        return True

    async def _clear_stale_tx(self, r: _Round, transaction_id: str | None) -> None:
        """A transaction this connection knows nothing of may still hold our TxProfile of an
        older commitment; it would override the TxDefault. Only our id is cleared, once."""
        state = r.session.state
        if transaction_id is not None or r.connector_id in state.stale_tx_cleared:
            return
        profile_id = TX_PROFILE_ID_BASE + r.connector_id
        await exchanges.clear_profile(r.session, profile_id, self._central.response_timeout_s)
        state.stale_tx_cleared.add(r.connector_id)

    async def _commit(
        self,
        r: _Round,
        commitment: Commitment,
        decision_end_t: float,
        transaction_id: str | None,
    ) -> AckedCommitment | None:
        """The commitment's profiles, sent when it (as sent) or its transaction changed; the
        acknowledged commitment, or None when the charger refused a profile."""
        state = r.session.state
        level = r.settings.max_stack_level
        key = (
            commitment.limit_a,
            commitment.fallback_a,
            decision_end_t,
            transaction_id,
            level,
            r.settings.rate_unit,
        )
        acked = state.commitments.get(r.connector_id)
        if acked is not None and acked.key == key:
            return acked
        profiles = commitment_profiles(
            commitment,
            send_t=r.t,
            clock_skew_s=r.entry.options.clock_skew_s,
            connector_id=r.connector_id,
            transaction_id=transaction_id,
            stack_level=level,
        )
        # A refused TxProfile (a 2.0.1 station that does not know the transaction named yet)
        # must not keep the TxDefaultProfile from going out: every transaction that starts
        # meanwhile is held by it. The refusal is recorded only after it, so a transaction
        # start waiting for it is answered with the TxDefaultProfile in force.
        why = None
        for profile in profiles:
            failed = await self._try(r.session, r.connector_id, profile, r.units)
            why = why or failed
            if failed is not None and profile.purpose != "tx":
                break
        if why is not None:
            await self._refused(state, r.t, why)
            return None
        acked = AckedCommitment(commitment, decision_end_t, key)
        state.commitments[r.connector_id] = acked
        if state.refusal is not None:
            LOG.info("%s: accepts charging profiles again", state.charge_point_id)
        state.refusal = None
        await self._notify()
        return acked

    async def _verify(self, r: _Round, commitment: Commitment, acked: AckedCommitment) -> None:
        """With `verify_composite`, the charger's composite schedule checked against the
        acknowledged commitment, once per commitment; a mismatch is checked again with the
        next one."""
        state, options = r.session.state, r.entry.options
        if state.verified.get(r.connector_id) is acked or r.entry.failed_check is acked:
            return
        if options.verify_composite and not state.composite_unsupported and commitment != HOLD:
            # The connector's options now (it may have been registered again meanwhile).
            now = self._chargers[state.charge_point_id].connectors[r.connector_id].options
            excess = await exchanges.composite_excess_of(
                r.session,
                r.connector_id,
                commitment,
                r.units,
                r.t,
                clock_skew_s=now.clock_skew_s,
                timeout_s=self._central.response_timeout_s,
            )
            if excess is not None:
                if r.connector_id not in state.mismatch:
                    LOG.warning("%s: composite schedule %s", state.charge_point_id, excess)
                state.mismatch[r.connector_id] = excess
                r.entry.failed_check = acked
                return
        state.mismatch.pop(r.connector_id, None)
        state.verified[r.connector_id] = acked

    async def _send(
        self, session: Session, connector_id: int, profile: Profile, units: RateUnits, t: float
    ) -> bool:
        """One profile sent; False (and the refusal recorded) when it is not accepted."""
        why = await self._try(session, connector_id, profile, units)
        if why is not None:
            await self._refused(session.state, t, why)
        return why is None

    async def _try(
        self, session: Session, connector_id: int, profile: Profile, units: RateUnits
    ) -> str | None:
        """One profile sent; why it was not accepted, or None."""
        state = session.state
        version: Version = "1.6" if state.version == "1.6" else "2.0.1"
        request = set_profile_request(version, connector_id, profile, units)
        try:
            timeout_s = self._central.response_timeout_s
            result = await exchanges.request(session, request, "SetChargingProfile", timeout_s)
        except OCPPError as error:  # NotImplemented / NotSupported: no smart charging
            return f"answers SetChargingProfile with {error.code}"
        except ValueError:
            LOG.warning("%s: malformed SetChargingProfile reply", state.charge_point_id)
            return "answers SetChargingProfile with a malformed reply"
        status = str(getattr(result, "status", ""))
        if status != "Accepted":
            what = f"{profile.purpose} profile" if profile.purpose != "max" else "station cap"
            return f"answers SetChargingProfile ({what}) with {status}"
        return None

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
        return compliance_alerts(session.state, connector_id)
