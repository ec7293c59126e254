"""What a site publishes over MQTT, as data: its topics, their payloads, and the Home
Assistant discovery config of each (docs/integrations.md lists them all).

Pure: the read models in (`SiteState`, taken from `service.reads`), topic -> payload out. Each
kind of device declares its entities as a table of `Entity` records (the Home Assistant
integrations' `EntityDescription`, STYLE.md): the topic level, the name, the device class,
the unit, the state class, and how to read the value from its read model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from panelpilot.control.types import ChargerStatus, NetworkStatus
from panelpilot.service.views import (
    BatteryView,
    ChargerView,
    CircuitView,
    NetworkView,
    PanelView,
    SiteAlertView,
    SolarView,
)

V = TypeVar("V")
NONE = "None"  # Home Assistant reads this payload as "unknown"
ONLINE, OFFLINE = "online", "offline"


def amps(value: float | None) -> str:
    """A current with 2 decimals at most (`12.5`, `0`), or `None`."""
    return NONE if value is None else _trim(f"{value:.2f}")


def watts(value: float | None) -> str:
    """A power in whole watts."""
    return NONE if value is None else _trim(f"{value:.0f}")


def kwh(value: float | None) -> str:
    """An energy with 3 decimals at most (watt-hours)."""
    return NONE if value is None else _trim(f"{value:.3f}")


def _trim(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class Entity(Generic[V]):
    """One value of a device: its topic level and how Home Assistant shows it."""

    key: str  # the last topic level
    name: str
    value: Callable[[V], str]
    device_class: str | None = None
    unit: str | None = None
    state_class: str | None = "measurement"
    component: str = "sensor"
    options: tuple[str, ...] = ()  # an enum sensor's states


@dataclass(frozen=True, slots=True)
class SiteState:
    """Everything one publish is made from: the read models of the last cycle."""

    site_id: str
    name: str
    version: str
    voltage_v: float
    chargers: tuple[ChargerView, ...]
    circuits: tuple[CircuitView, ...]
    networks: tuple[NetworkView, ...]
    batteries: Mapping[str, BatteryView | None]
    solar: Mapping[str, SolarView | None]
    panel: PanelView
    alerts: tuple[SiteAlertView, ...]


@dataclass(frozen=True, slots=True)
class Battery:
    """A battery's values (None before a decision, or while it does not report)."""

    current_a: float | None
    power_w: float | None
    soc_pct: float | None
    max_discharge_a: float | None
    charge_request_a: float | None
    max_charge_a: float | None

    @classmethod
    def of(cls, view: BatteryView | None, voltage_v: float) -> Battery:
        """From its read model and the site's voltage."""
        if view is None:
            return cls(None, None, None, None, None, None)
        current_a, soc = view.current_a, view.soc
        power_w = None if current_a is None else current_a * voltage_v
        soc_pct = None if soc is None else 100.0 * soc
        caps = (view.max_discharge_a, view.charge_request_a, view.max_charge_a)
        return cls(current_a, power_w, soc_pct, *caps)


@dataclass(frozen=True, slots=True)
class Solar:
    """A solar inverter's values (None before a decision, or while it does not report)."""

    current_a: float | None
    power_w: float | None
    max_a: float | None

    @classmethod
    def of(cls, view: SolarView | None, voltage_v: float) -> Solar:
        """From its read model and the site's voltage."""
        if view is None:
            return cls(None, None, None)
        current_a = view.current_a
        return cls(current_a, None if current_a is None else current_a * voltage_v, view.max_a)


CHARGER: tuple[Entity[ChargerView], ...] = (
    Entity("current", "Current", lambda c: amps(c.current_a), "current", "A"),
    Entity("power", "Power", lambda c: watts(c.power_w), "power", "W"),
    Entity("limit", "Limit", lambda c: amps(c.limit_a), "current", "A"),
    Entity("fallback", "Fallback limit", lambda c: amps(c.fallback_a), "current", "A"),
    Entity(
        "status",
        "Status",
        lambda c: c.status,
        "enum",
        state_class=None,
        options=tuple(s.value for s in ChargerStatus),
    ),
    Entity(
        "session_energy",
        "Session energy",
        lambda c: kwh(c.session_energy_kwh),
        "energy",
        "kWh",
        # Starts again at 0 with each car: Home Assistant reads a drop as a new cycle.
        "total_increasing",
    ),
    Entity(
        "connected",
        "Car connected",
        lambda c: "ON" if c.connected else "OFF",
        "plug",
        state_class=None,
        component="binary_sensor",
    ),
)
CIRCUIT: tuple[Entity[CircuitView], ...] = (
    Entity("current", "Current", lambda c: amps(c.current_a), "current", "A"),
    Entity("limit", "Limit", lambda c: amps(c.limit_a), "current", "A"),
)
NETWORK: tuple[Entity[NetworkView], ...] = (
    Entity("current", "Current", lambda n: amps(n.current_a), "current", "A"),
    Entity("limit", "Max network current", lambda n: amps(n.network_limit_a), "current", "A"),
    Entity(
        "status",
        "Status",
        lambda n: n.status,
        "enum",
        state_class=None,
        options=tuple(s.value for s in NetworkStatus),
    ),
    Entity("connections", "Connections", lambda n: str(n.connections)),
)
BATTERY: tuple[Entity[Battery], ...] = (
    Entity("current", "Output current", lambda b: amps(b.current_a), "current", "A"),
    Entity("power", "Output power", lambda b: watts(b.power_w), "power", "W"),
    Entity("soc", "State of charge", lambda b: watts(b.soc_pct), "battery", "%"),
    Entity("max_discharge", "Discharge cap", lambda b: amps(b.max_discharge_a), "current", "A"),
    Entity("charge_request", "Charge request", lambda b: amps(b.charge_request_a), "current", "A"),
    Entity("max_charge", "Charge cap", lambda b: amps(b.max_charge_a), "current", "A"),
)
SOLAR: tuple[Entity[Solar], ...] = (
    Entity("current", "Output current", lambda s: amps(s.current_a), "current", "A"),
    Entity("power", "Output power", lambda s: watts(s.power_w), "power", "W"),
    Entity("max", "Output cap", lambda s: amps(s.max_a), "current", "A"),
)
PANEL: tuple[Entity[PanelView], ...] = (
    Entity("current", "Panel current", lambda p: amps(p.current_a), "current", "A"),
    Entity("limit", "Panel Limit", lambda p: amps(p.panel_limit_a), "current", "A"),
)
ALERT_COUNT: Entity[tuple[SiteAlertView, ...]] = Entity(
    "count", "Active alerts", lambda alerts: str(len(alerts))
)


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic layout of one site: panelpilot/<site_id>/..., homeassistant/..."""

    site_id: str
    prefix: str = "panelpilot"
    discovery_prefix: str = "homeassistant"
    base: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", f"{self.prefix}/{self.site_id}")

    @property
    def status(self) -> str:
        """Availability: `online` while connected, `offline` (the last will) when not."""
        return f"{self.base}/status"

    @property
    def info(self) -> str:
        """The site's name, version and devices (JSON)."""
        return f"{self.base}/info"

    @property
    def alerts(self) -> str:
        """The active alerts (JSON)."""
        return f"{self.base}/alerts"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth message: discovery is sent again when it says `online`."""
        return f"{self.discovery_prefix}/status"

    def device(self, kind: str, device_id: str | None, key: str) -> str:
        """The state topic of one value (`charger/wc1/current`, `panel/current`)."""
        middle = kind if device_id is None else f"{kind}/{device_id}"
        return f"{self.base}/{middle}/{key}"


def _rows(state: SiteState) -> Iterator[tuple[str, str | None, tuple[Entity[Any], ...], Any]]:
    """Every device: its kind, its id (None for the site's own), its entities, its value."""
    for c in state.chargers:
        yield "charger", c.id, CHARGER, c
    for cv in state.circuits:
        yield "circuit", cv.id, CIRCUIT, cv
    for n in state.networks:
        yield "network", n.id, NETWORK, n
    for bid, b in state.batteries.items():
        yield "battery", bid, BATTERY, Battery.of(b, state.voltage_v)
    for sid, s in state.solar.items():
        yield "solar", sid, SOLAR, Solar.of(s, state.voltage_v)
    if state.panel.panel is not None:
        yield "panel", None, PANEL, state.panel
    yield "alerts", None, (ALERT_COUNT,), state.alerts


def state_messages(topics: Topics, state: SiteState) -> dict[str, str]:
    """Every state topic and its payload now (all retained)."""
    out = {
        topics.info: json.dumps(_info(state), sort_keys=True),
        topics.alerts: json.dumps(
            {
                "count": len(state.alerts),
                "alerts": [
                    {
                        "code": a.code,
                        "severity": a.severity,
                        "message": a.message,
                        "device": a.device,
                    }
                    for a in state.alerts
                ],
            }
        ),
    }
    for kind, device_id, entities, value in _rows(state):
        for entity in entities:
            out[topics.device(kind, device_id, entity.key)] = entity.value(value)
    return out


def _info(state: SiteState) -> dict[str, Any]:
    return {
        "site_id": state.site_id,
        "name": state.name,
        "version": state.version,
        "chargers": [c.id for c in state.chargers],
        "circuits": [c.id for c in state.circuits],
        "networks": [n.id for n in state.networks],
        "batteries": list(state.batteries),
        "solar": list(state.solar),
        "panel": state.panel.panel,
    }


def _object_id(text: str) -> str:
    """An id in discovery's alphabet (letters, digits, _ and -): `.` and `:` become `_`."""
    return "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in text)


def discovery_messages(topics: Topics, state: SiteState) -> dict[str, str]:
    """Home Assistant discovery: one config per entity, a device per charger and one for
    the site (retained; an empty payload would remove an entity)."""
    node = f"panelpilot_{topics.site_id}"
    site_device = {
        "identifiers": [node],
        "name": state.name,
        "manufacturer": "panelpilot",
        "model": "panelpilot site controller",
        "sw_version": state.version,
    }
    out: dict[str, str] = {}
    for kind, device_id, entities, _ in _rows(state):
        device = site_device
        if kind == "charger" and device_id is not None:
            device = {
                "identifiers": [f"{node}_charger_{_object_id(device_id)}"],
                "name": f"{device_id} ({state.name})",
                "manufacturer": "panelpilot",
                "model": "EV charger controlled by panelpilot",
                "via_device": node,
            }
        for entity in entities:
            obj = "_".join(p for p in (kind, _object_id(device_id or ""), entity.key) if p)
            config = _config(topics, entity, kind, device_id, device, f"{node}_{obj}", state)
            out[f"{topics.discovery_prefix}/{entity.component}/{node}/{obj}/config"] = config
    return out


def _config(
    topics: Topics,
    entity: Entity[Any],
    kind: str,
    device_id: str | None,
    device: Mapping[str, Any],
    unique_id: str,
    state: SiteState,
) -> str:
    on_site = kind != "charger" and kind != "alerts"
    name = (
        f"{kind.capitalize()} {device_id} {entity.name.lower()}"
        if on_site and device_id
        else entity.name
    )
    config: dict[str, Any] = {
        "name": name,
        "unique_id": unique_id,
        "state_topic": topics.device(kind, device_id, entity.key),
        "availability_topic": topics.status,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": device,
        "origin": {"name": "panelpilot", "sw_version": state.version},
    }
    optional = {
        "device_class": entity.device_class,
        "unit_of_measurement": entity.unit,
        "state_class": entity.state_class,
    }
    config.update({k: v for k, v in optional.items() if v is not None})
    if entity.options:
        config["options"] = list(entity.options)
    if entity.component == "binary_sensor":
        config["payload_on"], config["payload_off"] = "ON", "OFF"
    if entity is ALERT_COUNT:
        config["json_attributes_topic"] = topics.alerts
    return json.dumps(config, sort_keys=True)
