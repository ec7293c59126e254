"""The scenario file: a site, a stretch of time, the cars, loads, sun and faults to play on it.

Field names are the contract of issue 3 (`docs/simulator.md` documents every one). Single-field
checks are pydantic constraints; checks that relate the scenario to its site (does `wc2`
exist?) live in `panelpilot.sim.rules` so each problem names its field and line.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from panelpilot.field import J1772_RESPONSE_S
from panelpilot.site.base import SiteModel

# Currents of loads and the sun: above any service a building has (the largest are some
# thousands of amps), and far enough below the controller's bound on a meter (1e6 A) that a
# world of many of them still reads as a meter could.
MAX_SCENARIO_A = 10_000.0
# A scenario's steps: 31 days at 1 s. A finer step over a long run would only exhaust memory.
MAX_STEPS = 31 * 86400

Seconds = Annotated[float, Field(ge=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]
Amps = Annotated[float, Field(ge=0, le=MAX_SCENARIO_A)]
Kwh = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Ident = Annotated[str, Field(min_length=1, max_length=64)]

# SAE J1772: an EV follows a pilot change within 5 s; no car in a scenario may be slower.
# A day at 1 s steps, the default run.
DAY_S = 86400.0


def _ordered_pair(value: Any, name: str) -> Any:
    if isinstance(value, list | tuple) and len(value) == 2:
        low, high = value
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            raise ValueError(f"{name}: [{low}, {high}] must be [low, high] with low <= high")
    return value


class Ev(SiteModel):
    """One car: where and when it plugs in, how much energy it wants, how it charges."""

    charger: Ident
    arrive_s: Seconds = 0.0
    depart_s: Seconds | None = Field(default=None, description="Default: end of the run.")
    energy_kwh: Annotated[float, Field(gt=0, le=500)]
    max_a: Annotated[float, Field(gt=0, le=80)] = Field(
        default=48.0, description="On-board charger limit."
    )
    response_s: Annotated[float, Field(gt=0, le=J1772_RESPONSE_S)] = J1772_RESPONSE_S

    @model_validator(mode="after")
    def _departs_after_arrival(self) -> Ev:
        if self.depart_s is not None and self.depart_s <= self.arrive_s:
            raise ValueError(
                f"depart_s {self.depart_s:g} s must be after arrive_s {self.arrive_s:g} s"
            )
        return self


class EvArrivals(SiteModel):
    """Random cars: a Poisson stream per charger, drawn from `seed`."""

    per_charger_per_day: Annotated[float, Field(ge=0, le=1440)] = 1.0
    energy_kwh: tuple[Kwh, Kwh] = (10.0, 60.0)
    dwell_s: tuple[PositiveSeconds, PositiveSeconds] = (2 * 3600.0, 10 * 3600.0)
    max_a: tuple[Annotated[float, Field(gt=0, le=80)], ...] = Field(
        default=(32.0, 48.0), min_length=1, description="On-board charger limits to draw from."
    )
    response_s: tuple[PositiveSeconds, PositiveSeconds] = (1.0, J1772_RESPONSE_S)
    window_s: tuple[Seconds, Seconds] | None = Field(
        default=None, description="Arrivals only in [start, end) (default: the whole run)."
    )
    chargers: tuple[Ident, ...] | None = Field(
        default=None, description="Chargers that get random cars (default: every one)."
    )

    @model_validator(mode="before")
    @classmethod
    def _pairs_ordered(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("energy_kwh", "dwell_s", "response_s", "window_s"):
                _ordered_pair(data.get(name), name)
            response = data.get("response_s")
            if isinstance(response, list) and len(response) == 2:
                if isinstance(response[1], int | float) and response[1] > J1772_RESPONSE_S:
                    raise ValueError(
                        f"response_s: {response[1]} s is slower than J1772 allows "
                        f"({J1772_RESPONSE_S:g} s)"
                    )
        return data


class LoadEvent(SiteModel):
    """An appliance switching on for a while (dryer, oven, heat pump)."""

    start_s: Seconds
    duration_s: PositiveSeconds
    current_a: Annotated[float, Field(ge=-MAX_SCENARIO_A, le=MAX_SCENARIO_A)] = Field(
        description="Added while on; negative for a load switching off."
    )
    ramp_s: Seconds = Field(default=0.0, description="Rise and fall time (0 = a step).")


class Load(SiteModel):
    """Uncontrolled load on a circuit: a base, slow noise, and scheduled events."""

    circuit: Ident
    base_a: Amps = 0.0
    noise_a: Amps = Field(default=0.0, description="Standard deviation of slow random wander.")
    events: tuple[LoadEvent, ...] = ()


class Device(SiteModel):
    """How a real meter, battery or inverter answers (sim/devices.py): late, slowly, noisily.
    All 0 is an ideal device, read and obeyed at once."""

    latency_s: Annotated[float, Field(ge=0, le=10)] = Field(
        default=0.0, description="A reading reports the value this long ago (0-10 s)."
    )
    response_s: Annotated[float, Field(ge=0, le=30)] = Field(
        default=0.0, description="A new cap is acted on this long after it is sent (0-30 s)."
    )
    ramp_s: Annotated[float, Field(ge=0, le=300)] = Field(
        default=0.0, description="Time to move from 0 to the rating (0 = at once; 0-300 s)."
    )
    noise_a: Annotated[float, Field(ge=0, le=20)] = Field(
        default=0.0, description="Standard deviation of the reading's noise (0-20 A)."
    )


class SolarProfile(Device):
    """A clear-sky half sine between sunrise and sunset, dimmed by passing clouds."""

    peak_a: Amps
    sunrise_s: Seconds = 6 * 3600.0
    sunset_s: Seconds = 20 * 3600.0
    clouds: Fraction = Field(default=0.0, description="0 clear .. 1 heavily overcast.")

    @model_validator(mode="after")
    def _sun_sets_after_rise(self) -> SolarProfile:
        if self.sunset_s <= self.sunrise_s:
            raise ValueError(
                f"sunset_s {self.sunset_s:g} s must be after sunrise_s {self.sunrise_s:g} s"
            )
        return self


class BatteryProfile(Device):
    """A battery's energy and how it is operated (self-consumption, export windows)."""

    # Powerwall 3 nominal energy, 13.5 kWh (Tesla Powerwall 3 datasheet).
    capacity_kwh: Annotated[float, Field(gt=0, le=10000)] = 13.5
    soc: Fraction = Field(default=0.5, description="State of charge at the start.")
    export_windows: tuple[tuple[Seconds, Seconds], ...] = Field(
        default=(),
        description="[start_s, end_s) when it discharges at full power (e.g. a VPP event).",
    )


class Fault(SiteModel):
    """One scheduled fault. Exactly one of `device`, `controller_down_s`, `meter`."""

    at_s: Seconds
    device: Ident | None = Field(default=None, description="A device losing the controller.")
    offline_s: PositiveSeconds | None = None
    controller_down_s: PositiveSeconds | None = None
    meter: Ident | None = None
    lost_s: PositiveSeconds | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Fault:
        kinds = [
            ("device", self.device is not None, self.offline_s, "offline_s"),
            ("controller_down_s", self.controller_down_s is not None, 1.0, ""),
            ("meter", self.meter is not None, self.lost_s, "lost_s"),
        ]
        present = [k for k in kinds if k[1]]
        if len(present) != 1:
            raise ValueError(
                "a fault is one of {device, offline_s}, {controller_down_s}, {meter, lost_s}"
            )
        name, _, duration, duration_name = present[0]
        if duration is None:
            raise ValueError(f"a {name} fault needs {duration_name}")
        return self


class SettingsChange(SiteModel):
    """A settings change an installer makes at `at_s` (the settings lock applies).

    Exactly one of `enabled`, `network_limit_a`, `add`, `remove`, on `network`.
    """

    at_s: Seconds
    network: Ident
    enabled: bool | None = None
    network_limit_a: Annotated[float, Field(gt=0)] | None = None
    add: Ident | None = None
    remove: Ident | None = None

    @model_validator(mode="after")
    def _one_change(self) -> SettingsChange:
        given = [self.enabled, self.network_limit_a, self.add, self.remove]
        if sum(x is not None for x in given) != 1:
            raise ValueError("a change sets exactly one of enabled, network_limit_a, add, remove")
        return self


class Scenario(SiteModel):
    """A whole scenario. `site` is a path (relative to the scenario file) or an inline site."""

    name: str | None = None
    site: str | dict[str, Any]
    duration_s: Annotated[float, Field(gt=0, le=31 * DAY_S)] = DAY_S
    step_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    seed: int = Field(
        default=0,
        ge=0,
        le=1_000_000_000,
        description="Random draws start from this (0 to 1,000,000,000).",
    )
    evs: tuple[Ev, ...] = ()
    ev_arrivals: EvArrivals | None = None
    loads: tuple[Load, ...] = ()
    solar: dict[Ident, SolarProfile] = Field(default_factory=dict)
    batteries: dict[Ident, BatteryProfile] = Field(default_factory=dict)
    meters: dict[Ident, Device] = Field(
        default_factory=dict, description="Meters' latency and noise (response and ramp unused)."
    )
    faults: tuple[Fault, ...] = ()
    settings: tuple[SettingsChange, ...] = Field(
        default=(), description="Settings changes at given times (panelpilot only)."
    )

    @model_validator(mode="after")
    def _bounded_steps(self) -> Scenario:
        steps = self.duration_s / self.step_s
        if steps > MAX_STEPS:
            raise ValueError(
                f"duration_s {self.duration_s:g} s in steps of {self.step_s:g} s is "
                f"{steps:,.0f} steps; a run has at most {MAX_STEPS:,} (31 days at 1 s)"
            )
        return self
