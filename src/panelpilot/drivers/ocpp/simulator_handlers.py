"""What the simulated charge point answers the central system (OCPP 1.6J and 2.0.1): the
library's client classes with the handlers of the calls smart charging makes, and what the
charge point reports (its smart-charging configuration, its composite schedule). The profiles
themselves are held and obeyed by its `SimulatedChargePoint`.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from ocpp.v16 import ChargePoint as _V16ChargePoint
from ocpp.v16 import call_result as v16_result
from ocpp.v201 import ChargePoint as _V201ChargePoint
from ocpp.v201 import call_result as v201_result
from websockets.asyncio.client import ClientConnection

from panelpilot.drivers.ocpp.profiles import iso_utc
from panelpilot.drivers.ocpp.session import handles

if TYPE_CHECKING:
    from panelpilot.drivers.ocpp.simulator import SimulatedChargePoint


def _set_validation(route_map: dict[str, dict[str, Any]], validate: bool) -> None:
    for routes in route_map.values():
        routes["_skip_schema_validation"] = not validate


def _is_gated_set_profile(cp: SimulatedChargePoint, raw: str | bytes) -> bool:
    # A slow charger answers SetChargingProfile later but keeps reading its socket.
    if cp.profile_gate is None or not isinstance(raw, str) or "SetChargingProfile" not in raw:
        return False
    message = json.loads(raw)
    return isinstance(message, list) and message[:1] == [2] and message[2] == "SetChargingProfile"


class _Gated:
    """Both versions' client: the owner it answers for, and SetChargingProfile answers that a
    slow charger gives later while it keeps reading its socket."""

    owner: SimulatedChargePoint
    _answers: set[asyncio.Task[None]]
    route_map: dict[str, dict[str, Any]]

    def __init__(self, owner: SimulatedChargePoint, connection: ClientConnection) -> None:
        super().__init__(owner.charge_point_id, connection, response_timeout=60)  # type: ignore[call-arg]
        self.owner = owner
        self._answers = set()
        _set_validation(self.route_map, owner.validate_schemas)

    async def route_message(self, raw_msg: str | bytes) -> None:
        if _is_gated_set_profile(self.owner, raw_msg):
            task = asyncio.create_task(super().route_message(raw_msg))  # type: ignore[misc]
            self._answers.add(task)
            task.add_done_callback(self._answers.discard)
            return
        await super().route_message(raw_msg)  # type: ignore[misc]


class V16Client(_Gated, _V16ChargePoint):  # type: ignore[misc]
    @handles("SetChargingProfile")
    async def on_set_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        status = await self.owner.answer_profile(connector_id, cs_charging_profiles)
        return v16_result.SetChargingProfile(status=status)

    @handles("ClearChargingProfile")
    def on_clear_profile(self, id: int | None = None, **_: Any) -> Any:
        return v16_result.ClearChargingProfile(status=self.owner.clear_profile(id))

    @handles("GetConfiguration")
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        known = configuration(self.owner)
        wanted = key if key is not None else list(known)
        return v16_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": True, "value": known[k]} for k in wanted if k in known
            ],
            unknown_key=[k for k in wanted if k not in known] or None,
        )

    @handles("GetCompositeSchedule")
    def on_composite(self, connector_id: int, duration: int, **_: Any) -> Any:
        periods = composite_periods(self.owner, connector_id, duration)
        now = iso_utc(self.owner.now())
        schedule = {
            "duration": duration,
            "start_schedule": now,
            "charging_rate_unit": "A",
            "charging_schedule_period": periods,
        }
        return v16_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=now,
            charging_schedule=schedule,
        )


class V201Client(_Gated, _V201ChargePoint):  # type: ignore[misc]
    @handles("SetChargingProfile")
    async def on_set_profile(self, evse_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        status = await self.owner.answer_profile(evse_id, charging_profile)
        return v201_result.SetChargingProfile(status=status)

    @handles("ClearChargingProfile")
    def on_clear_profile(self, charging_profile_id: int | None = None, **_: Any) -> Any:
        return v201_result.ClearChargingProfile(
            status=self.owner.clear_profile(charging_profile_id)
        )

    @handles("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        known = configuration(self.owner)
        results = []
        for item in get_variable_data:
            component, variable = item["component"], item["variable"]
            value = (
                known.get(variable["name"]) if component["name"] == "SmartChargingCtrlr" else None
            )
            result: dict[str, Any] = {
                "attribute_status": "Accepted" if value is not None else "UnknownVariable",
                "component": component,
                "variable": variable,
            }
            if value is not None:
                result["attribute_value"] = value
            results.append(result)
        return v201_result.GetVariables(get_variable_result=results)

    @handles("GetCompositeSchedule")
    def on_composite(self, duration: int, evse_id: int, **_: Any) -> Any:
        periods = composite_periods(self.owner, evse_id, duration)
        schedule = {
            "evse_id": evse_id,
            "duration": duration,
            "schedule_start": iso_utc(self.owner.now()),
            "charging_rate_unit": "A",
            "charging_schedule_period": periods,
        }
        return v201_result.GetCompositeSchedule(status="Accepted", schedule=schedule)


def configuration(cp: SimulatedChargePoint) -> dict[str, str]:
    """What it reports of its smart-charging limits (1.6 keys and 2.0.1 variables)."""
    names = {"A": "Current", "W": "Power"}
    return {
        "ChargeProfileMaxStackLevel": str(cp.max_stack_level),
        "ChargingScheduleAllowedChargingRateUnit": ",".join(names[u] for u in cp.rate_units),
        "ProfileStackLevel": str(cp.max_stack_level),
        "RateUnit": ",".join(cp.rate_units),
    }


def composite_periods(
    cp: SimulatedChargePoint, connector_id: int, duration_s: int
) -> list[dict[str, Any]]:
    """The composite schedule from now (its own clock) for `duration_s`, as OCPP periods."""
    now = cp.now()
    edges = {now}
    for profile in cp.profiles.values():
        for start_s, _ in profile.schedule.periods:
            edge = profile.schedule.start_t + start_s
            if now < edge < now + duration_s:
                edges.add(edge)
    periods: list[dict[str, Any]] = []
    for edge in sorted(edges):
        limit = cp.limit_a(connector_id, edge - cp.clock_offset_s)
        if not periods or periods[-1]["limit"] != limit:
            periods.append({"start_period": int(edge - now), "limit": limit})
    return periods
