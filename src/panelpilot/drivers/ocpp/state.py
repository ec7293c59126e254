"""What the central system knows of one charge point, and how OCPP messages update it.

Plain data and pure functions (no sockets): the session handlers call these, the driver reads
the result as a `ChargerReading`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from panelpilot.control.types import ChargerReading
from panelpilot.drivers.base import DeviceIdentity
from panelpilot.drivers.ocpp.needs import EvNeed
from panelpilot.drivers.ocpp.profiles import RateUnit
from panelpilot.drivers.ocpp.schedules import HOLD, Commitment

# Connector states in which a car is plugged in (1.6 ChargePointStatus; 2.0.1 "Occupied").
CONNECTED_STATUSES = frozenset(
    {"Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Occupied"}
)
# A measured current above this is a broken or hostile meter, not a car: ignored.
PLAUSIBLE_MAX_A = 1000.0


@dataclass(slots=True)
class ConnectorState:
    """One connector (1.6) or EVSE (2.0.1)."""

    status: str = "Unknown"
    connected: bool = False
    current_a: float = 0.0
    transaction_id: str | None = None
    ev_need: EvNeed | None = None  # NotifyEVChargingNeeds of this session (2.0.1)
    id_tag: str | None = None  # the id tag (1.6) or idToken (2.0.1) the session started with


@dataclass(frozen=True, slots=True)
class ProfileSettings:
    """What a charger allows in its profiles, read once per connection (spec defaults if not)."""

    max_stack_level: int = 0
    rate_unit: RateUnit = "A"


@dataclass(frozen=True, slots=True)
class AckedCommitment:
    """A commitment every profile carrying it was accepted for, on this connection.

    `commitment` is on the central system's clock (what the charger's schedules say);
    `decision_lease_until_t` is the decision's own lease end, on the controller's clock, which
    is what `ChargerReading.commitment_t` reports back. `key` says what was sent, so an
    unchanged decision is not sent again.
    """

    commitment: Commitment
    decision_lease_until_t: float
    key: tuple[object, ...]


@dataclass(slots=True)
class ChargePointState:
    """Everything known about one charge point, kept across reconnections."""

    charge_point_id: str
    version: str = "1.6"
    connected: bool = False  # the websocket is open
    last_seen_t: float = -math.inf
    vendor: str = ""
    model: str = ""
    firmware: str = ""
    # From the last BootNotification (identity.py), kept across reconnections; why the last
    # one was refused or had a field left out.
    identity: DeviceIdentity | None = None
    identity_problem: str | None = None
    connectors: dict[int, ConnectorState] = field(default_factory=dict)
    cap_acked_a: float | None = None  # the station cap acknowledged on this connection
    profile_settings: ProfileSettings | None = None  # read on this connection
    composite_unsupported: bool = False  # it answers GetCompositeSchedule with an error
    # The newest commitment acknowledged per connector on this connection, and the newest that
    # was also verified (what the reading reports).
    commitments: dict[int, AckedCommitment] = field(default_factory=dict)
    verified: dict[int, AckedCommitment] = field(default_factory=dict)
    stale_tx_cleared: set[int] = field(default_factory=set)  # connectors done on this connection
    mismatch: dict[int, str] = field(default_factory=dict)  # composite above the commitment
    refusal: str | None = None  # why it refuses smart charging; None when it complies
    refused_t: float = -math.inf

    def connector(self, connector_id: int) -> ConnectorState:
        """The connector's state, created on first mention."""
        return self.connectors.setdefault(connector_id, ConnectorState())

    def seen(self, t: float) -> None:
        """Any message from the charger proves it is alive."""
        self.last_seen_t = t

    def on_disconnect(self) -> None:
        """The websocket closed: what it acknowledged on that connection is no longer sure."""
        self.connected = False
        self.refused_t = -math.inf  # a new connection asks again at once
        self.cap_acked_a = None
        self.profile_settings = None
        self.composite_unsupported = False
        self.commitments.clear()
        self.verified.clear()
        self.stale_tx_cleared.clear()

    def on_boot(self) -> None:
        """A BootNotification: the charger restarted, so no transaction of before runs on."""
        for connector in self.connectors.values():
            connector.transaction_id, connector.ev_need = None, None

    def set_status(self, connector_id: int, status: str) -> None:
        """A StatusNotification."""
        if connector_id == 0:  # 1.6: connector 0 is the whole charge point
            return
        state = self.connector(connector_id)
        state.status = status
        state.connected = status in CONNECTED_STATUSES
        if not state.connected:  # unplugged: the session and the car's need are over
            state.current_a, state.ev_need, state.id_tag = 0.0, None, None

    def set_current(self, connector_id: int, meter_values: Iterable[Mapping[str, Any]]) -> None:
        """MeterValues (snake_case keys): the latest Current.Import, largest phase."""
        current = import_current_a(meter_values)
        if current is not None and connector_id != 0:
            self.connector(connector_id).current_a = current

    def reading(
        self,
        connector_id: int,
        *,
        t: float,
        offline_after_s: float,
        max_a: float,
        clock_skew_s: float = 10.0,
    ) -> ChargerReading:
        """The connector as the controller sees it at `t`.

        A charger that refuses profiles, holds no acknowledged (and, where asked, verified)
        commitment on this connection, only the start-up hold, or whose composite schedule was
        found above what it was told, reports
        its unit max as the limit in effect and no `commitment_t`, so the controller reserves
        all of it (fail safe) until it complies. Otherwise the limit is what the commitment
        allows at `t`, the higher of limit and fallback within the skew bound of the lease end.
        """
        if not self.connected or t - self.last_seen_t > offline_after_s:
            return ChargerReading(online=False)
        state = self.connector(connector_id)
        acked = self.verified.get(connector_id)
        limit_a, commitment_t = max_a, None
        if (
            self.refusal is None
            and acked is not None
            and acked.commitment != HOLD
            and connector_id not in self.mismatch
            and self.cap_acked_a is not None
        ):
            allowed_a = acked.commitment.envelope_a(t, t, clock_skew_s)
            limit_a = min(max_a, self.cap_acked_a, allowed_a)
            commitment_t = acked.decision_lease_until_t
        return ChargerReading(
            online=True,
            connected=state.connected,
            current_a=state.current_a,
            limit_a=limit_a,
            commitment_t=commitment_t,
        )


def import_current_a(meter_values: Iterable[Mapping[str, Any]]) -> float | None:
    """The current drawn from the grid in a MeterValues list, or None when it has none.

    Current.Import per phase; the largest phase is what the branch circuit carries. Values
    that are not finite numbers, negative or implausible are ignored.
    """
    found: float | None = None
    for meter_value in meter_values:
        for sample in (
            meter_value.get("sampled_value", ()) if isinstance(meter_value, Mapping) else ()
        ):
            if not isinstance(sample, Mapping) or sample.get("measurand") != "Current.Import":
                continue
            if _unit(sample) != "A":
                continue
            try:
                value = float(sample.get("value", "nan"))
            except (TypeError, ValueError):
                continue
            if math.isfinite(value) and 0 <= value <= PLAUSIBLE_MAX_A:
                found = value if found is None else max(found, value)
    return found


def _unit(sample: Mapping[str, Any]) -> object:
    # 1.6: `unit`; 2.0.1: `unit_of_measure.unit`; both default to A for currents.
    measure = sample.get("unit_of_measure")
    if isinstance(measure, Mapping):
        return measure.get("unit", "A")
    return sample.get("unit", "A")
