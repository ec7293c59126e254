"""The values that cross the control core's boundary: what is measured, what is decided.

Signs: a meter reads + when current flows from the grid toward loads; a battery reads +
when discharging and - when charging. Every current is in amps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, NamedTuple

Severity = Literal["info", "warning", "critical"]


NeedSource = Literal["ev", "owner", "default", "estimate"]


@dataclass(frozen=True, slots=True)
class ChargingNeed:
    """What the session on a charger still needs: `energy_wh` more by `departure_t` (on the
    snapshot's clock). Either may be unknown. `source` says where it came from: the car (OCPP
    2.0.1 NotifyEVChargingNeeds, ISO 15118), the owner, a default for the id tag or charger,
    or an estimate learned from the charger's history."""

    departure_t: float | None = None
    energy_wh: float | None = None  # still wanted from `t`, after what was delivered
    source: NeedSource = "owner"


@dataclass(frozen=True, slots=True)
class ChargerReading:
    """One charger as measured. A charger missing from a snapshot is offline."""

    online: bool = True
    connected: bool = False
    current_a: float = 0.0
    limit_a: float | None = None  # the limit the charger reports in effect, when it does
    # The lease end (`ChargerDecision.lease_until_t`) of the newest commitment the charger has
    # acknowledged; None when the source does not say (the last decision counts as applied).
    commitment_t: float | None = None
    need: ChargingNeed | None = None  # the session's charging need, when anything is known


@dataclass(frozen=True, slots=True)
class BatteryReading:
    """One battery inverter as measured: + discharge, - charge; soc 0..1."""

    online: bool = True
    current_a: float = 0.0
    soc: float | None = None


@dataclass(frozen=True, slots=True)
class SolarReading:
    """One solar inverter's output current."""

    online: bool = True
    current_a: float = 0.0


@dataclass(frozen=True, slots=True)
class Command:
    """A settings change fed to the controller with a snapshot (the settings lock applies).

    `network` with one of: `enabled`, `network_limit_a`, `add` (a charger id), `remove`.
    """

    network: str
    enabled: bool | None = None
    network_limit_a: float | None = None
    add: str | None = None
    remove: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything measured at time `t` (seconds, any epoch, increasing)."""

    t: float
    meters: Mapping[str, float | None] = field(default_factory=dict)
    chargers: Mapping[str, ChargerReading] = field(default_factory=dict)
    batteries: Mapping[str, BatteryReading] = field(default_factory=dict)
    solar: Mapping[str, SolarReading] = field(default_factory=dict)
    commands: tuple[Command, ...] = ()


class ChargerStatus(StrEnum):
    """Charger statuses as the seed's pages show them."""

    CHARGING = "charging"  # drawing, and offered all it would draw
    LIMITED = "limited"  # drawing, and offered less than it would draw
    IDLE = "idle"  # no car, or a car that is not drawing
    PAUSED = "paused"  # a car that wants current, held at 0 for lack of capacity
    UNRESPONSIVE = "unresponsive"  # lost contact with the controller


class NetworkStatus(StrEnum):
    """Network statuses."""

    DISABLED = "disabled"
    IDLE = "idle"
    CHARGING = "charging"
    LIMITED = "limited"


class ChargerDecision(NamedTuple):
    """What one charger is told: its pilot limit now, and what it falls back to.

    A named tuple rather than a frozen dataclass: a site makes a thousand of these a second,
    and a tuple is built several times faster; it is just as immutable.
    """

    limit_a: float  # 0 = paused, else min_a..max_a
    fallback_a: float  # what it runs at if it loses the controller
    status: ChargerStatus
    target_a: float  # the fair allocation `limit_a` is moving toward (safe transitions)
    lease_s: float  # the limit holds this long from the decision's `t`, then fallback_a applies
    demand_a: float  # what the charger is estimated to draw if offered more (0 = nothing)
    # When the limit ends and the fallback begins, on the snapshot's clock (t + lease_s). A
    # driver sends a new commitment whenever limit, fallback or this changes.
    lease_until_t: float = float("inf")


@dataclass(frozen=True, slots=True)
class BatteryDecision:
    """Caps for one battery: discharge at most this; charge at this when > 0 (best effort)."""

    max_discharge_a: float
    charge_request_a: float
    max_charge_a: float


@dataclass(frozen=True, slots=True)
class SolarDecision:
    """Cap for one solar inverter's output."""

    max_a: float


@dataclass(frozen=True, slots=True)
class NetworkState:
    """A power sharing network as the seed's Network Status card shows it."""

    current_a: float
    limit_a: float
    connections: int
    size: int
    status: NetworkStatus
    enabled: bool
    available_a: float  # network limit less offline members' reservations


@dataclass(frozen=True, slots=True)
class CircuitState:
    """A circuit's measured current against its limit, and what chargers may use of it."""

    current_a: float | None  # None when the circuit has no meter or the meter is lost
    limit_a: float
    uncontrolled_a: float  # measured load that is not a charger (held when the meter is lost)
    available_a: float  # limit - margin - uncontrolled - offline reservations, for chargers
    allocated_a: float  # sum of the limits of the online chargers below it


@dataclass(frozen=True, slots=True)
class Alert:
    """A condition worth telling someone about; `code` is stable (docs/alerts.md)."""

    code: str
    severity: Severity
    message: str
    device: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """Everything decided at time `t`."""

    t: float
    chargers: Mapping[str, ChargerDecision]
    batteries: Mapping[str, BatteryDecision]
    solar: Mapping[str, SolarDecision]
    networks: Mapping[str, NetworkState]
    circuits: Mapping[str, CircuitState]
    alerts: tuple[Alert, ...]
    # With the same charger readings and no settings change, what the chargers are told stays
    # as it is until this time (`t`: the next cycle may change it), while each constraint's
    # capacity stays where this cycle's allocation comes out the same (control.md, "Steady
    # cycles"). For information: the service and simulator call `decide` every cycle anyway.
    steady_until_t: float = float("inf")
    # The time of the cycle whose charger decisions these repeat (only the lease time left is
    # brought up to date): `t` when this cycle decided them. Two decisions with the same value
    # tell every charger the same limit, fallback and lease end.
    chargers_since_t: float = float("-inf")
