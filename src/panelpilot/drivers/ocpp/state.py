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
from panelpilot.drivers.ocpp.profiles import Schedule

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


@dataclass(frozen=True, slots=True)
class SentLease:
    """The lease profile a charger acknowledged: what it obeys from `schedule.start_t` on."""

    limit_a: float
    fallback_a: float
    lease_s: float
    schedule: Schedule


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
    connectors: dict[int, ConnectorState] = field(default_factory=dict)
    cap_acked_a: float | None = None  # the station cap acknowledged on this connection
    leases: dict[int, SentLease] = field(default_factory=dict)
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
        self.cap_acked_a = None
        self.leases.clear()

    def set_status(self, connector_id: int, status: str) -> None:
        """A StatusNotification."""
        if connector_id == 0:  # 1.6: connector 0 is the whole charge point
            return
        state = self.connector(connector_id)
        state.status = status
        state.connected = status in CONNECTED_STATUSES
        if not state.connected:
            state.current_a = 0.0

    def set_current(self, connector_id: int, meter_values: Iterable[Mapping[str, Any]]) -> None:
        """MeterValues (snake_case keys): the latest Current.Import, largest phase."""
        current = import_current_a(meter_values)
        if current is not None and connector_id != 0:
            self.connector(connector_id).current_a = current

    def reading(
        self, connector_id: int, *, t: float, offline_after_s: float, max_a: float
    ) -> ChargerReading:
        """The connector as the controller sees it at `t`.

        A charger that refuses profiles, or has not yet acknowledged one on this connection,
        reports its unit max as the limit in effect, so the controller reserves all of it
        (fail safe) until it complies.
        """
        if not self.connected or t - self.last_seen_t > offline_after_s:
            return ChargerReading(online=False)
        state = self.connector(connector_id)
        lease = self.leases.get(connector_id)
        limit_a = max_a
        if self.refusal is None and lease is not None and self.cap_acked_a is not None:
            leased = lease.schedule.limit_at(t)
            limit_a = min(max_a, self.cap_acked_a, max_a if leased is None else leased)
        return ChargerReading(
            online=True, connected=state.connected, current_a=state.current_a, limit_a=limit_a
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
