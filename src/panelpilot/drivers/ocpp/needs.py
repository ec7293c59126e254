"""OCPP 2.0.1 NotifyEVChargingNeeds (ISO 15118): what the car says it needs for its session.

The car tells the station its departure time and the energy it wants (K17: `chargingNeeds`
with `departureTime` and `acChargingParameters.energyAmount` or
`dcChargingParameters.energyAmount`, Wh); the station forwards it to the central system. The
schema is checked by the library; what it cannot check (a readable, future departure time, a
plausible energy) is checked here: a need that fails is answered Rejected with the reason,
logged naming the charger, and not kept. A kept need lasts for the EVSE's session: it ends
with the transaction or when the car is unplugged (`state.py`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ocpp.v201 import call_result as v201_result

from panelpilot.control.types import ChargingNeed
from panelpilot.drivers.ocpp.profiles import parse_iso

LOG = logging.getLogger(__name__)

# No car battery holds this much: a larger energyAmount is a broken or hostile station.
PLAUSIBLE_MAX_WH = 500_000.0
# A departure further away than this is not a session's (a week).
PLAUSIBLE_STAY_S = 7 * 24 * 3600.0
# OCPP 2.0.1 StatusInfoType.reasonCode is at most 20 characters.
REASON_CODE = "InvalidValue"


@dataclass(frozen=True, slots=True)
class EvNeed:
    """What the car said, on the central system's (wall) clock: `energy_wh` wanted from
    `received_t`, departing at `departure_t`; either may be unknown."""

    departure_t: float | None
    energy_wh: float | None
    received_t: float


class NeedProblem(ValueError):
    """A NotifyEVChargingNeeds whose values cannot be a car's need (the reason)."""


def parse_charging_needs(charging_needs: Mapping[str, Any], now_t: float) -> EvNeed:
    """The need in a `chargingNeeds` object (snake_case keys, as the library hands it over).

    Raises `NeedProblem` naming the field for a departure that is unreadable, past or more
    than a week away, or an energy that is negative, not finite or implausible.
    """
    return EvNeed(
        departure_t=_departure_t(charging_needs.get("departure_time"), now_t),
        energy_wh=_energy_wh(charging_needs),
        received_t=now_t,
    )


def _departure_t(text: object, now_t: float) -> float | None:
    if text is None:
        return None
    try:
        departure_t = parse_iso(str(text))
    except ValueError:
        raise NeedProblem(f"departureTime {str(text)[:40]!r} is not a date-time") from None
    if departure_t < now_t:
        raise NeedProblem(f"departureTime {text} is in the past")
    if departure_t > now_t + PLAUSIBLE_STAY_S:
        raise NeedProblem(f"departureTime {text} is more than a week away")
    return departure_t


def _energy_wh(charging_needs: Mapping[str, Any]) -> float | None:
    for key, name in (
        ("ac_charging_parameters", "acChargingParameters"),
        ("dc_charging_parameters", "dcChargingParameters"),
    ):
        parameters = charging_needs.get(key)
        if isinstance(parameters, Mapping) and parameters.get("energy_amount") is not None:
            value = parameters["energy_amount"]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise NeedProblem(f"{name}.energyAmount {value!r} is not a number")
            if not math.isfinite(value) or not 0 <= value <= PLAUSIBLE_MAX_WH:
                raise NeedProblem(
                    f"{name}.energyAmount {value} Wh is outside 0..{PLAUSIBLE_MAX_WH:g} Wh"
                )
            return float(value)
    return None


def answer_charging_needs(
    charge_point_id: str, evse_id: int, charging_needs: Mapping[str, Any], now_t: float
) -> tuple[EvNeed | None, Any]:
    """The need to keep (None when refused) and the answer to send: Accepted (the central
    system takes the need into its schedules), or Rejected with the reason."""
    try:
        if evse_id < 1:
            raise NeedProblem(f"evseId {evse_id}: a need belongs to an EVSE (1 or more)")
        need = parse_charging_needs(charging_needs, now_t)
    except NeedProblem as problem:
        LOG.warning(
            "%s EVSE %d: NotifyEVChargingNeeds refused: %s", charge_point_id, evse_id, problem
        )
        info = {"reason_code": REASON_CODE, "additional_info": str(problem)[:512]}
        return None, v201_result.NotifyEVChargingNeeds(status="Rejected", status_info=info)
    return need, v201_result.NotifyEVChargingNeeds(status="Accepted")


def charging_need(need: EvNeed, central_t: float, snapshot_t: float) -> ChargingNeed:
    """The car's need as the controller reads it: the departure moved from the central
    system's clock (`central_t` now) onto the snapshots' (`snapshot_t` now). The energy is
    what the car asked for when it said so; the service subtracts what was delivered since."""
    departure_t = None if need.departure_t is None else snapshot_t + need.departure_t - central_t
    return ChargingNeed(departure_t=departure_t, energy_wh=need.energy_wh, source="ev")
