"""The read models: exactly what the pages and the REST API show, as frozen values.

Built by `reads.Reads` once per published change (a cycle, a command, a new site) and shared
by every request until the next. The API's JSON is these records as they are (FastAPI
serialises them: the field names are the JSON keys), so a field added here appears in the
API and its OpenAPI schema at once, and a page shows nothing the API could not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from panelpilot.control.types import NeedSource
from panelpilot.service.event_log import FILTERS, LogPage, LogRow, duration_text
from panelpilot.service.storage import EventRecord, SettingVersion

# The event log and the settings history are shown as storage keeps them.
__all__ = [
    "FILTERS",
    "AlertView",
    "BatteryView",
    "ChargerView",
    "CircuitView",
    "DevicesView",
    "EventRecord",
    "HealthView",
    "LiveView",
    "LogPage",
    "LogRow",
    "MeterView",
    "Nav",
    "NetworkBrief",
    "NetworkView",
    "Overview",
    "PanelView",
    "PcsView",
    "SettingVersion",
    "SettingsView",
    "SiteAlertView",
    "SolarView",
    "duration_text",
]


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert of the last cycle, on one charger's card (its device is the charger)."""

    code: str
    severity: str
    message: str


@dataclass(frozen=True, slots=True)
class SiteAlertView:
    """An alert of the last cycle on the Home page, with the device it is about."""

    code: str
    severity: str
    message: str
    device: str | None


@dataclass(frozen=True, slots=True)
class ChargerView:
    """One charger: who controls it, current draw x A / y A, alerts, status."""

    id: str
    circuit: str
    network: str | None
    controlled_by: str
    max_a: float
    current_a: float  # 0 while offline
    power_w: float  # current_a x the site's voltage_v
    # Measured current x voltage_v summed since the car was plugged in (service/energy.py).
    session_energy_kwh: float
    limit_a: float  # the last decision's (0 before the first)
    fallback_a: float | None  # None before the first decision
    status: str
    online: bool
    connected: bool
    alerts: tuple[AlertView, ...]
    driver_error: str | None
    # What holds it below what its car would take (`service/limited.py`), when something does:
    # "circuit garage at its limit (80 A, other loads 12 A)", "taking turns: ...".
    limited_by: str | None = None
    limited_kind: str | None = None  # charger_max, circuit, network, turns, ramping, car
    power_kw: float = 0.0  # current_a at the site's voltage
    # As the device reports them (OCPP BootNotification, a Wall Connector's version); None
    # when its driver does not say.
    firmware: str | None = None
    serial_number: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkView:
    """A Power Sharing network: its settings as they stand (queued changes included), its
    members with their fallbacks, and its status from the last cycle."""

    id: str
    enabled: bool
    state: str  # "Enabled" or "Disabled", as the page's toggle says it
    network_limit_a: float | None
    size: int
    # The most it may hold: the site file's networks[].max_size, six Gen 3 Wall Connectors
    # by default (the seed; site/sharing_limits.network_max_size).
    max_devices: int
    # The lowest limit the settings lock accepts: the sum of the members' min_a (site file
    # `chargers[].min_a`, at least the J1772 6 A each).
    min_limit_a: float
    members: tuple[ChargerView, ...]
    addable: tuple[str, ...]  # chargers fed from its circuit, not yet in it
    current_a: float
    connections: int
    # The settings are newer than the last decision by up to a cycle: a disabled network
    # says so at once.
    status: str
    active_alerts: int
    fallbacks_a: Mapping[str, float]  # by member
    limited_by: str | None = None  # the members' binding constraint, when they are held
    power_kw: float = 0.0  # current_a at the site's voltage
    device_kind: str = "Wall Connector"  # what "Add ..." adds


@dataclass(frozen=True, slots=True)
class NetworkBrief:
    """A network on the Home page's card."""

    id: str
    size: int
    limit_a: float | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class Overview:
    """The Home page: software, installation, power sharing summary, alerts."""

    site_name: str
    version: str
    max_output: str  # "32 A", "16 A to 48 A" or "none"
    chargers: int
    networks: tuple[NetworkBrief, ...]
    alerts: tuple[SiteAlertView, ...]


@dataclass(frozen=True, slots=True)
class CircuitView:
    """A circuit's current against its limit (Live page), with its depth in the tree."""

    id: str
    depth: int
    limit_a: float
    # Measured by its meter; without one, the sum of the chargers below it (`computed`).
    # None before the first cycle, or while its meter is lost.
    current_a: float | None
    allocated_a: float
    computed: bool = False  # current_a is the sum of its chargers' draw, not a meter's
    chargers: tuple[str, ...] = ()  # the chargers below it (what a computed current sums)
    power_kw: float | None = None  # current_a at the site's voltage


@dataclass(frozen=True, slots=True)
class PcsLimitRow:
    """One PCS limit on the Live page: what it measures against the limit, in A and kW."""

    name: str
    current_a: float | None  # None before a cycle or while its meter is lost
    power_kw: float | None
    limit_a: float
    limit_kw: float


@dataclass(frozen=True, slots=True)
class PcsSourceRow:
    """A battery (discharge +) or solar inverter on the Live page: output against its cap."""

    id: str
    kind: str  # battery | solar
    current_a: float | None  # None while not reporting
    power_kw: float | None
    cap_a: float | None  # None before a decision, or solar that is not controllable
    rating_a: float


@dataclass(frozen=True, slots=True)
class PcsLive:
    """The Live page's Power Control System section (`service/pcs_live.py`)."""

    limits: tuple[PcsLimitRow, ...]
    sources: tuple[PcsSourceRow, ...]
    marks: tuple[float, ...]  # the Panel Limit's stages as shares of the limit


@dataclass(frozen=True, slots=True)
class LiveView:
    """The Live page as first drawn (the stream updates it): circuits parents first."""

    circuits: tuple[CircuitView, ...]
    chargers: tuple[ChargerView, ...]
    voltage_v: float = 240.0  # the site's, for kW beside A
    pcs: PcsLive | None = None  # None on a site without PCS devices or limits


@dataclass(frozen=True, slots=True)
class PcsView:
    """The PCS settings in effect."""

    panel: str | None
    panel_limit_a: float | None
    panel_limit_default_a: float
    panel_limit_min_a: float  # the setting's range (seeds/panel-limit.txt)
    panel_limit_max_a: float
    conductor_limit_a: float | None
    conductor_meter: str | None
    export_limit_a: float | None


@dataclass(frozen=True, slots=True)
class MeterView:
    """A meter's last reading."""

    current_a: float | None


@dataclass(frozen=True, slots=True)
class BatteryView:
    """A battery's caps from the last decision, and what it was measured doing."""

    max_discharge_a: float
    charge_request_a: float
    max_charge_a: float
    current_a: float | None = None  # + discharge, - charge; None while not reporting
    soc: float | None = None  # 0..1, when the battery says


@dataclass(frozen=True, slots=True)
class SolarView:
    """A solar inverter's cap from the last decision, and its measured output."""

    max_a: float
    current_a: float | None = None  # None while not reporting


@dataclass(frozen=True, slots=True)
class PanelView:
    """The Panel Limit's panel: its current as the Panel Limit counts it (the panel meter's
    current, at least 0, plus every solar inverter's and battery's output below it, rated
    where not reporting: seeds/panel-limit.txt), against the limit."""

    panel: str | None  # None: no Panel Limit
    panel_limit_a: float | None
    current_a: float | None  # None without a Panel Limit, before a cycle, or meter lost


@dataclass(frozen=True, slots=True)
class HealthView:
    """A device's driver: up, failures in a row, the last error."""

    up: bool
    failures: int
    error: str | None


@dataclass(frozen=True, slots=True)
class DevicesView:
    """Every device with its last reading, decision and driver health (`/api/devices`)."""

    chargers: tuple[ChargerView, ...]
    meters: Mapping[str, MeterView]
    batteries: Mapping[str, BatteryView | None]
    solar: Mapping[str, SolarView | None]
    health: Mapping[str, HealthView]


@dataclass(frozen=True, slots=True)
class SettingsView:
    """The settings in effect and their history (`/api/settings`)."""

    pcs: PcsView
    networks: Mapping[str, NetworkView]
    history: tuple[SettingVersion, ...]


@dataclass(frozen=True, slots=True)
class Nav:
    """What every page's header links to."""

    network_ids: tuple[str, ...]
    charger_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NeedView:
    """A charger's need as its page shows it: `wanted_wh` when it was set, `delivered_wh`
    since, `remaining_wh` (what the snapshot carries); the departure on the wall clock."""

    source: NeedSource
    departure_wall_s: float | None
    wanted_wh: float | None
    delivered_wh: float
    remaining_wh: float | None
