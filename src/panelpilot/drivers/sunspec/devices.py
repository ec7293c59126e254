"""SunSpec meters, batteries and solar inverters behind panelpilot's driver interfaces.

Signs: a meter's current is + from the grid toward loads (SunSpec meters report W + for
import; `invert=True` flips a meter whose CTs face the other way). A battery's or inverter's
current is + when it discharges or generates (SunSpec DER W is + for generation). Currents
are magnitudes in SunSpec (`A`), so the sign comes from the power `W`.

Caps in amps become a percentage of the device's maximum power at the site voltage:
`pct = cap_a x voltage_v / WMax x 100`, clamped to 0..100.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from panelpilot.control.types import (
    BatteryDecision,
    BatteryReading,
    SolarDecision,
    SolarReading,
)
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.sunspec import points as pt
from panelpilot.drivers.sunspec.client import DeviceUnreachableError, SunSpecClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Caps:
    """What a device is told, in amps: output cap, charge request, charge cap."""

    output_a: float
    charge_request_a: float = 0.0
    max_charge_a: float = 0.0


@dataclass(frozen=True, slots=True)
class Reversion:
    """Fail safe: the cap a device falls back to if panelpilot stops renewing it (704 only)."""

    after_s: int  # the device's reversion timer, restarted by every write of the caps
    cap_a: float = 0.0  # output cap once it lapses (0: no discharge, no solar: always safe)


Setpoints = Callable[[Caps, float, float], dict[str, float]]


@dataclass(frozen=True, slots=True)
class ControlProfile:
    """How one family of SunSpec models is read and capped; chosen by `control_model`."""

    name: str
    control_model: int  # a device holding this model is driven with this profile
    measure: tuple[pt.SunSpecPoint, ...]
    rating: pt.SunSpecPoint
    controls: tuple[pt.SunSpecPoint, ...]
    setpoints: Setpoints  # (caps, voltage_v, max_power_w) -> control values by key
    reversion: tuple[pt.SunSpecPoint, ...] = ()  # the fail-safe points, if the models have any


def _pct(current_a: float, voltage_v: float, max_power_w: float) -> float:
    return min(100.0, max(0.0, current_a * voltage_v / max_power_w * 100.0))


def _der_battery(caps: Caps, voltage_v: float, max_w: float) -> dict[str, float]:
    values = {
        "limit_enabled": 1.0,
        "limit_pct": _pct(caps.output_a, voltage_v, max_w),
        "max_charge_w": max(0.0, caps.max_charge_a) * voltage_v,
    }
    request_a = min(caps.charge_request_a, caps.max_charge_a)
    if request_a > 0:  # model 704 WSet: negative watts absorb, i.e. charge
        return values | {"set_enabled": 1.0, "set_mode": 1.0, "set_w": -request_a * voltage_v}
    return values | {"set_enabled": 0.0}


def _legacy_battery(caps: Caps, voltage_v: float, max_w: float) -> dict[str, float]:
    values = {"storage_mode": 3.0, "charge_pct": _pct(caps.max_charge_a, voltage_v, max_w)}
    request_a = min(caps.charge_request_a, caps.max_charge_a)
    if request_a > 0:  # 124: a negative discharge rate forces charging (common practice)
        return values | {"discharge_pct": -_pct(request_a, voltage_v, max_w)}
    return values | {"discharge_pct": _pct(caps.output_a, voltage_v, max_w)}


def _der_reversion(reversion: Reversion, voltage_v: float, max_w: float) -> dict[str, float]:
    return {
        "limit_revert_enabled": 1.0,
        "limit_revert_pct": _pct(reversion.cap_a, voltage_v, max_w),
        "limit_revert_s": float(reversion.after_s),
        "set_revert_enabled": 0.0,
        "set_revert_s": float(reversion.after_s),
    }


def _solar(caps: Caps, voltage_v: float, max_w: float) -> dict[str, float]:
    return {"limit_enabled": 1.0, "limit_pct": _pct(caps.output_a, voltage_v, max_w)}


BATTERY_PROFILES = (
    ControlProfile(
        "DER 701/702/704/713",
        704,
        pt.DER_MEASURE_POINTS,
        pt.DER_RATING_POINT,
        (*pt.DER_LIMIT_POINTS, pt.DER_CHARGE_CAP_POINT, *pt.DER_CHARGE_POINTS),
        _der_battery,
        (*pt.DER_LIMIT_REVERSION_POINTS, *pt.DER_SET_REVERSION_POINTS),
    ),
    ControlProfile(
        "storage 101-103/124",
        124,
        pt.LEGACY_MEASURE_POINTS,
        pt.LEGACY_STORAGE_RATING_POINT,
        pt.LEGACY_STORAGE_POINTS,
        _legacy_battery,
    ),
)
SOLAR_PROFILES = (
    ControlProfile(
        "DER 701/702/704",
        704,
        pt.DER_MEASURE_POINTS,
        pt.DER_RATING_POINT,
        pt.DER_LIMIT_POINTS,
        _solar,
        pt.DER_LIMIT_REVERSION_POINTS,
    ),
    ControlProfile(
        "inverter 101-103/121/123",
        123,
        pt.LEGACY_MEASURE_POINTS,
        pt.LEGACY_RATING_POINT,
        pt.LEGACY_LIMIT_POINTS,
        _solar,
    ),
)


def signed_current_a(device: str, current_a: float | None, power_w: float | None) -> float:
    """A SunSpec current magnitude with the sign of the power (+ when W is not implemented).

    A device that implements no current point is misconfigured: DriverError, never a guess.
    """
    if current_a is None:
        raise DriverError(device, "the SunSpec current point (A) is not implemented")
    magnitude = abs(current_a)
    return -magnitude if power_w is not None and power_w < 0 else magnitude


class SunSpecMeter:
    """A SunSpec meter (models 201-204): the current through its measurement point."""

    def __init__(self, client: SunSpecClient, invert: bool = False) -> None:
        self.device_id = client.device_id
        self._client = client
        self._invert = invert

    async def read_current_a(self) -> float | None:
        """The most loaded conductor's current, + from the grid; None when it does not answer."""
        try:
            values = await pt.read_points(self._client, pt.METER_POINTS)
        except DeviceUnreachableError as exc:
            log.warning("meter offline: %s", exc)
            return None
        phases = [
            abs(v)
            for key in ("phase_a_current_a", "phase_b_current_a", "phase_c_current_a")
            if (v := values[key]) is not None
        ]
        magnitude = max(phases) if phases else values["total_current_a"]
        current_a = signed_current_a(self.device_id, magnitude, values["power_w"])
        return -current_a if self._invert else current_a

    async def close(self) -> None:
        """Close the connection."""
        await self._client.close()


class _SunSpecDer:
    """What batteries and solar inverters share: a profile chosen from the device's map."""

    def __init__(
        self,
        client: SunSpecClient,
        profiles: Sequence[ControlProfile],
        voltage_v: float,
        reversion: Reversion | None,
    ) -> None:
        self.device_id = client.device_id
        self._client = client
        self._profiles = profiles
        self._voltage_v = voltage_v
        self._reversion = reversion
        self._settings_written: dict[str, float] = {}  # persistent points as last written

    async def profile(self) -> ControlProfile:
        """The profile matching the device's models (DriverError naming them if none)."""
        found = await self._client.model_map()
        for profile in self._profiles:
            if profile.control_model in found:
                return profile
        wanted = " or ".join(str(p.control_model) for p in self._profiles)
        raise DriverError(self.device_id, f"SunSpec map lacks model {wanted} (controls)")

    async def _measure(self) -> Mapping[str, float | None] | None:
        try:
            profile = await self.profile()
            return await pt.read_points(self._client, profile.measure)
        except DeviceUnreachableError as exc:
            log.warning("%s offline: %s", self.device_id, exc)
            return None

    async def _cap(self, caps: Caps) -> None:
        profile = await self.profile()
        rating = await pt.read_points(self._client, (profile.rating,))
        max_power_w = rating[profile.rating.key]
        if max_power_w is None or max_power_w <= 0 or not math.isfinite(max_power_w):
            raise DriverError(
                self.device_id,
                f"model {profile.rating.model_ids[0]} {profile.rating.point} is not set; "
                "a cap in amps needs the maximum power",
            )
        values = profile.setpoints(caps, self._voltage_v, max_power_w)
        controls = profile.controls
        if self._reversion is not None and profile.reversion:
            # the device restarts its timer on every write: a lease renewed each cycle
            values |= _der_reversion(self._reversion, self._voltage_v, max_power_w)
            controls = (*profile.reversion, *controls)
        elif self._reversion is not None:
            log.warning("%s: %s models have no reversion timer", self.device_id, profile.name)
        settings = {p.key for p in controls if p.persistent}
        written = self._settings_written
        values = {k: v for k, v in values.items() if k not in settings or written.get(k) != v}
        try:
            await pt.write_points(self._client, controls, values)
        except DriverError:
            self._settings_written.clear()  # unknown what landed: write them all next time
            raise
        self._settings_written |= {k: v for k, v in values.items() if k in settings}

    async def close(self) -> None:
        """Close the connection."""
        await self._client.close()


class SunSpecBattery(_SunSpecDer):
    """A battery inverter: model 704 DER controls, or 124 storage controls on older units."""

    def __init__(
        self, client: SunSpecClient, voltage_v: float = 240.0, reversion: Reversion | None = None
    ) -> None:
        super().__init__(client, BATTERY_PROFILES, voltage_v, reversion)

    async def read(self) -> BatteryReading:
        """Current (+ discharge, - charge) and state of charge; offline if it does not answer."""
        values = await self._measure()
        if values is None:
            return BatteryReading(online=False)
        soc_pct = values["soc_pct"]
        return BatteryReading(
            current_a=signed_current_a(self.device_id, values["current_a"], values["power_w"]),
            soc=None if soc_pct is None else soc_pct / 100.0,
        )

    async def apply(self, decision: BatteryDecision) -> None:
        """Cap discharge at `max_discharge_a` and charge at `max_charge_a`; request charging
        at `charge_request_a` (never above `max_charge_a`) when > 0."""
        await self._cap(
            Caps(decision.max_discharge_a, decision.charge_request_a, decision.max_charge_a)
        )


class SunSpecSolar(_SunSpecDer):
    """A solar inverter: model 704 DER controls, or 123 immediate controls on older units."""

    def __init__(
        self, client: SunSpecClient, voltage_v: float = 240.0, reversion: Reversion | None = None
    ) -> None:
        super().__init__(client, SOLAR_PROFILES, voltage_v, reversion)

    async def read(self) -> SolarReading:
        """Output current; offline if it does not answer."""
        values = await self._measure()
        if values is None:
            return SolarReading(online=False)
        current_a = signed_current_a(self.device_id, values["current_a"], values["power_w"])
        return SolarReading(current_a=current_a)

    async def apply(self, decision: SolarDecision) -> None:
        """Cap the output current at `max_a`."""
        await self._cap(Caps(decision.max_a))
