"""Decisions to SetChargingProfile: a station cap once per connection, a lease profile on change
or renewal, and fail-safe handling of chargers that refuse them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call
from websockets.exceptions import ConnectionClosed

from panelpilot.control.alerts import alert
from panelpilot.control.types import Alert, ChargerDecision
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp.profiles import (
    LEASE_PROFILE_ID_BASE,
    STATION_CAP_PROFILE_ID,
    Profile,
    Version,
    cap_schedule,
    encode_profile,
    floor_tenth_a,
    lease_schedule,
)
from panelpilot.drivers.ocpp.state import ChargePointState, SentLease

if TYPE_CHECKING:
    from panelpilot.drivers.ocpp.central import CentralSystem

LOG = logging.getLogger(__name__)

# Alert code raised for a charger that rejects profiles or lacks smart charging; the
# controller sees its limit in effect as its max until it complies (fail safe).
PROFILE_REJECTED = "charger_profile_rejected"
# A lease is renewed once less than this share of it is left, so one missed control period
# (or a slow charger) still leaves time before the charger falls back.
RENEW_WHEN_LEFT = 0.5
# A charger that refused is asked again at most this often.
RETRY_REFUSED_S = 60.0


def needs_lease(sent: SentLease | None, decision: ChargerDecision, t: float) -> bool:
    """True when the lease profile must be sent: first time, a change, or renewal due."""
    if sent is None:
        return True
    if (sent.limit_a, sent.fallback_a) != (
        floor_tenth_a(decision.limit_a),
        floor_tenth_a(decision.fallback_a),
    ):
        return True
    if sent.lease_s != decision.lease_s:
        return True
    if sent.limit_a == sent.fallback_a:  # nothing lapses; the profile holds for good
        return False
    return t >= sent.schedule.start_t + sent.lease_s * (1 - RENEW_WHEN_LEFT)


def set_profile_request(version: Version, connector_id: int, profile: Profile) -> Any:
    """The SetChargingProfile CALL payload for a version."""
    encoded = encode_profile(version, profile)
    if version == "1.6":
        return v16_call.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=encoded)
    return v201_call.SetChargingProfile(evse_id=connector_id, charging_profile=encoded)


class SmartCharging:
    """Sends profiles through the central system's sessions and remembers who complies."""

    def __init__(self, central: CentralSystem) -> None:
        """Bound to one central system."""
        self._central = central
        self._locks: dict[str, asyncio.Lock] = {}

    async def apply(
        self, charge_point_id: str, connector_id: int, max_a: float, decision: ChargerDecision
    ) -> None:
        """Bring the charger's profiles in line with a decision; raises DriverError when offline."""
        lock = self._locks.setdefault(charge_point_id, asyncio.Lock())
        async with lock:  # one charger, one exchange at a time; others proceed in parallel
            session = self._central.require_session(charge_point_id)
            state = session.state
            t = self._central.clock()
            if state.refusal is not None and t - state.refused_t < RETRY_REFUSED_S:
                return
            if state.cap_acked_a != floor_tenth_a(max_a):
                cap = Profile(STATION_CAP_PROFILE_ID, "max", 0, cap_schedule(max_a, t), 0)
                if not await self._send(session, state, 0, cap, t):
                    return
                state.cap_acked_a = floor_tenth_a(max_a)
            if needs_lease(state.leases.get(connector_id), decision, t):
                schedule = lease_schedule(
                    decision.limit_a, decision.fallback_a, decision.lease_s, t
                )
                lease = Profile(
                    LEASE_PROFILE_ID_BASE + connector_id, "tx_default", 0, schedule, connector_id
                )
                if not await self._send(session, state, connector_id, lease, t):
                    return
                state.leases[connector_id] = SentLease(
                    floor_tenth_a(decision.limit_a),
                    floor_tenth_a(decision.fallback_a),
                    decision.lease_s,
                    schedule,
                )
            if state.refusal is not None:
                LOG.info("%s: accepts charging profiles again", charge_point_id)
            state.refusal = None

    async def _send(
        self, session: Any, state: ChargePointState, connector_id: int, profile: Profile, t: float
    ) -> bool:
        version: Version = "1.6" if state.version == "1.6" else "2.0.1"
        request = set_profile_request(version, connector_id, profile)
        try:
            result = await session.request(request, self._central.response_timeout_s)
        except OCPPError as error:  # NotImplemented / NotSupported: no smart charging
            self._refused(state, t, f"answers SetChargingProfile with {error.code}")
            return False
        except TimeoutError:
            raise DriverError(state.charge_point_id, "no answer to SetChargingProfile") from None
        except ConnectionClosed:
            raise DriverError(
                state.charge_point_id, "disconnected during SetChargingProfile"
            ) from None
        except Exception:  # a reply that is not a SetChargingProfile answer, whatever it is
            LOG.warning(
                "%s: malformed SetChargingProfile reply", state.charge_point_id, exc_info=True
            )
            self._refused(state, t, "answers SetChargingProfile with a malformed reply")
            return False
        status = str(getattr(result, "status", ""))
        if status != "Accepted":
            self._refused(state, t, f"answers SetChargingProfile with {status or 'nothing'}")
            return False
        return True

    def _refused(self, state: ChargePointState, t: float, why: str) -> None:
        if state.refusal is None:
            LOG.warning("%s: %s; counted at its max until it complies", state.charge_point_id, why)
        state.refusal, state.refused_t = why, t

    def alerts(self) -> tuple[Alert, ...]:
        """One alert per connected charger that refuses smart charging."""
        return tuple(
            alert(
                PROFILE_REJECTED,
                f"{state.charge_point_id} {state.refusal}: counted at its max until it complies",
                state.charge_point_id,
            )
            for state in self._central_states()
            if state.refusal is not None
        )

    def _central_states(self) -> list[ChargePointState]:
        return [s.state for s in (self._central.session(cp) for cp in self._locks) if s is not None]
