"""The SunSpec points panelpilot uses, as tables, and the code that reads and writes them.

Each point is a small record (our key with its unit, the models that carry it, the SunSpec
point name, how we use it); the walkers below read or write a whole table, one model read
per model. docs/drivers-sunspec.md shows the same tables for installers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from panelpilot.drivers.base import DriverError
from panelpilot.drivers.sunspec.client import ModelValues, SunSpecClient

METER_MODELS = (201, 202, 203, 204)  # single phase, split phase, wye, delta
DER_MEASURE_MODELS = (701,)
LEGACY_INVERTER_MODELS = (101, 102, 103)  # single, split, three phase (integer + SF)


@dataclass(frozen=True, slots=True)
class SunSpecPoint:
    """One SunSpec point as panelpilot uses it."""

    key: str  # our name for it, unit in the name
    model_ids: tuple[int, ...]  # models that carry it; the first the device holds is used
    point: str  # the SunSpec point name in that model
    unit: str
    note: str  # how we read or write it
    required: bool = True
    persistent: bool = False  # a stored setting: written only when it changes (flash wear)


# Meters (models 201-204). The current is the most loaded conductor's (a breaker trips on
# it); SunSpec meters report W + for import (grid -> loads), which gives the current's sign.
METER_POINTS = (
    SunSpecPoint("phase_a_current_a", METER_MODELS, "AphA", "A", "magnitude", required=False),
    SunSpecPoint("phase_b_current_a", METER_MODELS, "AphB", "A", "magnitude", required=False),
    SunSpecPoint("phase_c_current_a", METER_MODELS, "AphC", "A", "magnitude", required=False),
    SunSpecPoint("total_current_a", METER_MODELS, "A", "A", "used when no phase is implemented"),
    SunSpecPoint("power_w", METER_MODELS, "W", "W", "sign: + import, - export"),
)

# Inverters and batteries with the DER models (IEEE 1547-2018 information model).
DER_MEASURE_POINTS = (
    SunSpecPoint("current_a", DER_MEASURE_MODELS, "A", "A", "magnitude"),
    SunSpecPoint("power_w", DER_MEASURE_MODELS, "W", "W", "sign: + generation/discharge"),
    SunSpecPoint("soc_pct", (713,), "SoC", "%", "state of charge", required=False),
)
DER_RATING_POINT = SunSpecPoint("max_power_w", (702,), "WMax", "W", "100 % of every % cap")
DER_LIMIT_POINTS = (
    SunSpecPoint("limit_enabled", (704,), "WMaxLimPctEna", "", "1 while a cap is set"),
    SunSpecPoint("limit_pct", (704,), "WMaxLimPct", "% WMax", "output cap"),
)
DER_CHARGE_CAP_POINT = SunSpecPoint(
    "max_charge_w", (702,), "WChaRteMax", "W", "charge cap (a setting)", persistent=True
)
DER_CHARGE_POINTS = (
    SunSpecPoint("set_enabled", (704,), "WSetEna", "", "1 while a charge is requested"),
    SunSpecPoint("set_mode", (704,), "WSetMod", "", "1: setpoint in watts"),
    SunSpecPoint("set_w", (704,), "WSet", "W", "- charge request (absorb)"),
)

# Fail-safe reversion (704): if panelpilot stops writing, the device reverts after a timer.
DER_LIMIT_REVERSION_POINTS = (
    SunSpecPoint("limit_revert_enabled", (704,), "WMaxLimPctEnaRvrt", "", "1: cap on reversion"),
    SunSpecPoint("limit_revert_pct", (704,), "WMaxLimPctRvrt", "% WMax", "cap once it lapses"),
    SunSpecPoint("limit_revert_s", (704,), "WMaxLimPctRvrtTms", "s", "restarted by each write"),
)
DER_SET_REVERSION_POINTS = (
    SunSpecPoint("set_revert_enabled", (704,), "WSetEnaRvrt", "", "0: stop a forced charge"),
    SunSpecPoint("set_revert_s", (704,), "WSetRvrtTms", "s", "restarted by each write"),
)

# Older devices: inverter models 101-103, settings 121, immediate controls 123, storage 124.
LEGACY_MEASURE_POINTS = (
    SunSpecPoint("current_a", LEGACY_INVERTER_MODELS, "A", "A", "magnitude"),
    SunSpecPoint("power_w", LEGACY_INVERTER_MODELS, "W", "W", "sign: + generation/discharge"),
    SunSpecPoint("soc_pct", (124,), "ChaState", "% AhrRtg", "state of charge", required=False),
)
LEGACY_RATING_POINT = SunSpecPoint("max_power_w", (121,), "WMax", "W", "100 % of 123 caps")
LEGACY_LIMIT_POINTS = (
    SunSpecPoint("limit_enabled", (123,), "WMaxLim_Ena", "", "1 while a cap is set"),
    SunSpecPoint("limit_pct", (123,), "WMaxLimPct", "% WMax", "output cap"),
)
LEGACY_STORAGE_RATING_POINT = SunSpecPoint(
    "max_power_w", (124,), "WChaMax", "W", "100 % of 124 rates (charge and discharge)"
)
LEGACY_STORAGE_POINTS = (
    SunSpecPoint("storage_mode", (124,), "StorCtl_Mod", "bits", "bit 0 charge, bit 1 discharge"),
    SunSpecPoint("discharge_pct", (124,), "OutWRte", "% WChaMax", "cap; negative forces charge"),
    SunSpecPoint("charge_pct", (124,), "InWRte", "% WChaMax", "charge cap"),
)


def _model_names(points: Sequence[SunSpecPoint]) -> str:
    ids = sorted({m for p in points for m in p.model_ids})
    return "/".join(str(m) for m in ids)


async def require_models(client: SunSpecClient, points: Sequence[SunSpecPoint]) -> None:
    """DriverError naming the device and the model when a required point has no model."""
    for point in points:
        if point.required and await client.find(point.model_ids) is None:
            raise DriverError(
                client.device_id,
                f"SunSpec map lacks model {_model_names([point])} (needed for {point.point})",
            )


async def read_points(
    client: SunSpecClient, points: Sequence[SunSpecPoint]
) -> dict[str, float | None]:
    """Scaled values by key; None for a point the device does not implement or hold."""
    await require_models(client, points)
    models: dict[int, ModelValues] = {}
    values: dict[str, float | None] = {}
    for point in points:
        location = await client.find(point.model_ids)
        if location is None:
            values[point.key] = None
            continue
        if location.model_id not in models:
            models[location.model_id] = await client.read_model(location.model_id)
        values[point.key] = models[location.model_id].number(point.point)
    return values


async def write_points(
    client: SunSpecClient, points: Sequence[SunSpecPoint], values: Mapping[str, float]
) -> None:
    """Write values by key, one request per run of consecutive registers in each model."""
    await require_models(client, points)
    by_model: dict[int, dict[str, float]] = {}
    for point in points:
        if point.key not in values:
            continue
        location = await client.find(point.model_ids)
        if location is None:
            continue
        by_model.setdefault(location.model_id, {})[point.point] = values[point.key]
    for model_id, model_values in by_model.items():
        await client.write(model_id, model_values)
