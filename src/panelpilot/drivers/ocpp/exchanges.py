"""The requests smart charging makes of a charger, and how their answers are read.

Reading what stack levels and rate units it allows (GetConfiguration / GetVariables), clearing
a profile, asking its composite schedule and checking it against a commitment. A CALL that
gets no answer in time, or loses the connection, is a `DriverError` naming the charge point;
a CALLERROR is the `OCPPError` the caller decides about; a reply that is not the action's
answer is a `ValueError`. `smart_charging.py` decides what to send and when.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call
from websockets.exceptions import ConnectionClosed

from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp.profiles import DEFAULT_NUMBER_PHASES, RateUnit, RateUnits
from panelpilot.drivers.ocpp.schedules import Commitment
from panelpilot.drivers.ocpp.state import ProfileSettings

if TYPE_CHECKING:
    from panelpilot.drivers.ocpp.session import V16Session, V201Session

    Session = V16Session | V201Session

LOG = logging.getLogger(__name__)

# A charger turning watts back into amps rounds; this much above the commitment is not a lie.
COMPOSITE_TOLERANCE_A = 0.1


# How far ahead GetCompositeSchedule is asked about a commitment whose lease never ends.
COMPOSITE_OPEN_S = 60


# 1.6 configuration keys and 2.0.1 SmartChargingCtrlr variables read at every connection.
V16_KEYS = ("ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit")


V201_COMPONENT = "SmartChargingCtrlr"


V201_VARIABLES = ("ProfileStackLevel", "RateUnit")


_UNIT_NAMES: dict[str, RateUnit] = {"Current": "A", "Power": "W", "A": "A", "W": "W"}


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


async def request(session: Session, payload: Any, what: str, timeout_s: float) -> Any:
    """A CALL; OCPPError for a CALLERROR, ValueError for a malformed reply, DriverError
    when the charger does not answer in time or goes away."""
    cp_id = session.state.charge_point_id
    try:
        return await session.request(payload, timeout_s)
    except OCPPError:
        raise
    except TimeoutError:
        raise DriverError(cp_id, f"no answer to {what}") from None
    except ConnectionClosed:
        raise DriverError(cp_id, f"disconnected during {what}") from None
    except Exception as error:  # a reply that is not this action's answer, whatever it is
        raise ValueError(f"malformed reply to {what}: {error!r}") from None


async def read_settings(session: Session, timeout_s: float) -> ProfileSettings:
    """The stack level and rate unit the charger allows; the spec's defaults when it cannot
    say."""
    state = session.state
    payload: Any
    if state.version == "1.6":
        payload = v16_call.GetConfiguration(key=list(V16_KEYS))
    else:
        payload = v201_call.GetVariables(
            get_variable_data=[
                {"component": {"name": V201_COMPONENT}, "variable": {"name": name}}
                for name in V201_VARIABLES
            ]
        )
    try:
        result = await request(session, payload, "the profile settings", timeout_s)
    except (OCPPError, ValueError) as error:
        LOG.info(
            "%s: profile settings not readable (%s): spec defaults", state.charge_point_id, error
        )
        return ProfileSettings()
    return parse_profile_settings(state.version, result)


async def clear_profile(session: Session, profile_id: int, timeout_s: float) -> None:
    """ClearChargingProfile by id; a refusal is logged, not fatal (there may be nothing)."""
    payload: Any
    if session.state.version == "1.6":
        payload = v16_call.ClearChargingProfile(id=profile_id)
    else:
        payload = v201_call.ClearChargingProfile(charging_profile_id=profile_id)
    try:
        await request(session, payload, "ClearChargingProfile", timeout_s)
    except (OCPPError, ValueError) as error:  # nothing to clear, or it cannot: not fatal
        LOG.info(
            "%s: ClearChargingProfile %d: %s", session.state.charge_point_id, profile_id, error
        )


async def composite_excess_of(
    session: Session,
    connector_id: int,
    commitment: Commitment,
    units: RateUnits,
    t: float,
    *,
    clock_skew_s: float,
    timeout_s: float,
) -> str | None:
    """Where the charger's composite schedule goes above a commitment, or None (also when it
    cannot report one: it is then marked `composite_unsupported` and its acknowledgements are
    trusted)."""
    state = session.state
    ahead_s = commitment.lease_until_t - t
    duration_s = (
        math.ceil(ahead_s + clock_skew_s) + 1 if math.isfinite(ahead_s) else COMPOSITE_OPEN_S
    )
    duration_s = max(1, min(duration_s, 86_400))
    payload: Any
    if state.version == "1.6":
        payload = v16_call.GetCompositeSchedule(connector_id, duration_s, "A")
    else:
        payload = v201_call.GetCompositeSchedule(duration_s, connector_id, "A")
    try:
        result = await request(session, payload, "GetCompositeSchedule", timeout_s)
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
    return composite_excess(periods, duration_s, commitment, t, clock_skew_s)
