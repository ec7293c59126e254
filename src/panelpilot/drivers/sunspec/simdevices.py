"""Simulated SunSpec devices: a meter, a battery and a solar inverter that obey their caps.

Each holds a `SunSpecImage` and refreshes its measurement points from its own state and
the control points a driver wrote: a capped battery discharges no more than its cap, a
curtailed inverter produces no more than its cap. The `der` flag chooses the DER models
(701/702/704/713) or the older ones (103/121/123/124).
"""

from __future__ import annotations

from dataclasses import dataclass

from panelpilot.drivers.sunspec.simulator import SunSpecImage


@dataclass(frozen=True, slots=True)
class ScaleFactor:
    """A scale factor the simulated device publishes: model, SF point, exponent."""

    model_id: int
    point: str
    exponent: int


SCALE_FACTORS = (  # what our simulated devices publish; any SF a real device uses works
    ScaleFactor(201, "A_SF", -2),
    ScaleFactor(202, "A_SF", -2),
    ScaleFactor(203, "A_SF", -2),
    ScaleFactor(204, "A_SF", -2),
    ScaleFactor(201, "W_SF", 0),
    ScaleFactor(202, "W_SF", 0),
    ScaleFactor(203, "W_SF", 0),
    ScaleFactor(204, "W_SF", 0),
    ScaleFactor(701, "A_SF", -1),
    ScaleFactor(701, "W_SF", 0),
    ScaleFactor(702, "W_SF", 0),
    ScaleFactor(704, "WMaxLimPct_SF", -1),
    ScaleFactor(704, "WSet_SF", 0),
    ScaleFactor(713, "Pct_SF", -1),
    ScaleFactor(103, "A_SF", -1),
    ScaleFactor(103, "W_SF", 0),
    ScaleFactor(121, "WMax_SF", 0),
    ScaleFactor(123, "WMaxLimPct_SF", -1),
    ScaleFactor(124, "WChaMax_SF", 0),
    ScaleFactor(124, "InOutWRte_SF", -1),
    ScaleFactor(124, "ChaState_SF", -1),
)

DER_BATTERY_MODELS = (1, 701, 702, 704, 713)
DER_SOLAR_MODELS = (1, 701, 702, 704)
LEGACY_BATTERY_MODELS = (1, 103, 124)
LEGACY_SOLAR_MODELS = (1, 103, 121, 123)


REVERSION_POINTS_704 = (
    "WMaxLimPctRvrt",
    "WMaxLimPctEnaRvrt",
    "WMaxLimPctRvrtTms",
    "WSetEnaRvrt",
    "WSetRvrtTms",
)


def publish_scale_factors(image: SunSpecImage, model_ids: tuple[int, ...]) -> None:
    """Write the simulated scale factors of the models the image holds."""
    for sf in SCALE_FACTORS:
        if sf.model_id in model_ids:
            image.set_raw(sf.model_id, sf.point, sf.exponent)


class SimMeter:
    """A meter whose current the test sets; + from the grid toward loads."""

    def __init__(
        self,
        model_id: int = 202,
        voltage_v: float = 240.0,
        export_positive: bool = False,
    ) -> None:
        """`export_positive` simulates a meter with the opposite sign convention (or CTs
        installed backwards)."""
        self.model_id = model_id
        self.voltage_v = voltage_v
        self.export_positive = export_positive
        self.current_a = 0.0
        self.image = SunSpecImage((1, model_id))
        publish_scale_factors(self.image, (model_id,))

    def refresh(self) -> None:
        """Publish the current on every phase the model has, and the power's sign."""
        three = ("AphA", "AphB", "AphC")
        phases = {201: ("AphA",), 202: ("AphA", "AphB"), 203: three, 204: three}
        lines = phases[self.model_id]
        magnitude = abs(self.current_a)
        for point in lines:
            self.image.set(self.model_id, point, magnitude)
        self.image.set(self.model_id, "A", magnitude * len(lines))
        power_w = self.current_a * self.voltage_v
        self.image.set(self.model_id, "W", -power_w if self.export_positive else power_w)


class _SimDer:
    """A battery or inverter: its unconstrained current, a rating, and caps from the image."""

    def __init__(self, models: tuple[int, ...], max_power_w: float, voltage_v: float) -> None:
        self.models = models
        self.der = 704 in models
        self.max_power_w = max_power_w
        self.voltage_v = voltage_v
        self.image = SunSpecImage(models)
        publish_scale_factors(self.image, models)
        if self.der:
            self.image.set(702, "WMax", max_power_w)
            self.image.set(702, "WChaRteMax", max_power_w)
            for point in (*REVERSION_POINTS_704, "WMaxLimPctEna", "WSetEna", "WSetMod"):
                self.image.set_raw(704, point, 0)
        if 121 in models:
            self.image.set(121, "WMax", max_power_w)
        if 123 in models:
            self.image.set_raw(123, "WMaxLim_Ena", 0)
        if 124 in models:
            self.image.set(124, "WChaMax", max_power_w)
            self.image.set_raw(124, "StorCtl_Mod", 0)

    @property
    def rating_a(self) -> float:
        """The most current the device can give or take at its voltage."""
        return self.max_power_w / self.voltage_v

    def _pct_of_rating_a(self, pct: float | None) -> float:
        return self.rating_a * (pct or 0.0) / 100.0

    def output_cap_a(self) -> float:
        """The output cap a driver set (the rating when none is set)."""
        if self.der and self.image.get_raw(704, "WMaxLimPctEna") == 1:
            return self._pct_of_rating_a(self.image.get(704, "WMaxLimPct"))
        if 123 in self.models and self.image.get_raw(123, "WMaxLim_Ena") == 1:
            return self._pct_of_rating_a(self.image.get(123, "WMaxLimPct"))
        mode = self.image.get_raw(124, "StorCtl_Mod") if 124 in self.models else 0
        if isinstance(mode, int) and mode & 2:
            return max(0.0, self._pct_of_rating_a(self.image.get(124, "OutWRte")))
        return self.rating_a

    def lapse_reversion_timers(self) -> None:
        """What the device does when panelpilot stopped renewing its caps for the revert time
        (704): every control with a timer set takes its reversion value."""
        if not self.der:
            return
        if self.image.get_raw(704, "WMaxLimPctRvrtTms"):
            self.image.set_raw(704, "WMaxLimPctEna", self.image.get_raw(704, "WMaxLimPctEnaRvrt"))
            self.image.set_raw(704, "WMaxLimPct", self.image.get_raw(704, "WMaxLimPctRvrt"))
        if self.image.get_raw(704, "WSetRvrtTms"):
            self.image.set_raw(704, "WSetEna", self.image.get_raw(704, "WSetEnaRvrt"))

    def _publish(self, current_a: float) -> None:
        measure = 701 if self.der else 103
        self.image.set(measure, "A", abs(current_a))
        self.image.set(measure, "W", current_a * self.voltage_v)


class SimBattery(_SimDer):
    """A battery: `demand_a` is what it would do on its own (+ discharge, - charge)."""

    def __init__(
        self, der: bool = True, max_power_w: float = 11500.0, voltage_v: float = 240.0
    ) -> None:
        super().__init__(
            DER_BATTERY_MODELS if der else LEGACY_BATTERY_MODELS, max_power_w, voltage_v
        )
        self.demand_a = 0.0
        self.soc = 0.5

    def charge_cap_a(self) -> float:
        """The charging cap a driver set (the rating when none is set)."""
        if self.der:
            cap_w = self.image.get(702, "WChaRteMax")
            return self.rating_a if cap_w is None else cap_w / self.voltage_v
        mode = self.image.get_raw(124, "StorCtl_Mod")
        if isinstance(mode, int) and mode & 1:
            return self._pct_of_rating_a(self.image.get(124, "InWRte"))
        return self.rating_a

    def charge_request_a(self) -> float:
        """The charging current a driver requested (0 when none)."""
        if self.der:
            if self.image.get_raw(704, "WSetEna") == 1 and self.image.get_raw(704, "WSetMod") == 1:
                return max(0.0, -(self.image.get(704, "WSet") or 0.0) / self.voltage_v)
            return 0.0
        out_pct = self.image.get(124, "OutWRte") or 0.0
        return self._pct_of_rating_a(-out_pct) if out_pct < 0 else 0.0

    @property
    def current_a(self) -> float:
        """What it does now: a charge request wins, else its demand; both within the caps."""
        charge_cap_a = min(self.charge_cap_a(), self.rating_a)
        request_a = self.charge_request_a()
        if request_a > 0:
            return -min(request_a, charge_cap_a)
        return max(-charge_cap_a, min(self.demand_a, self.output_cap_a()))

    def refresh(self) -> None:
        """Publish current, power and state of charge."""
        self._publish(self.current_a)
        soc_point = (713, "SoC") if self.der else (124, "ChaState")
        self.image.set(*soc_point, self.soc * 100.0)


class SimSolar(_SimDer):
    """A solar inverter: `available_a` is what the sun gives; it produces up to its cap."""

    def __init__(
        self, der: bool = True, max_power_w: float = 9600.0, voltage_v: float = 240.0
    ) -> None:
        super().__init__(DER_SOLAR_MODELS if der else LEGACY_SOLAR_MODELS, max_power_w, voltage_v)
        self.available_a = 0.0

    @property
    def current_a(self) -> float:
        """What it produces now."""
        return max(0.0, min(self.available_a, self.output_cap_a(), self.rating_a))

    def refresh(self) -> None:
        """Publish current and power."""
        self._publish(self.current_a)
