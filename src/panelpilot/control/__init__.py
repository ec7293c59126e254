"""The control core: pure decision logic (no clock, no I/O, no threads).

`Controller.decide(snapshot) -> Decision` allocates EV current (power sharing), applies the
PCS limits to batteries and solar, orders changes safely, and reports statuses and alerts.
"""

from panelpilot.control.controller import Controller
from panelpilot.control.settings import SettingsError
from panelpilot.control.state import initial_state
from panelpilot.control.types import (
    Alert,
    BatteryDecision,
    BatteryReading,
    ChargerDecision,
    ChargerReading,
    ChargerStatus,
    ChargingNeed,
    CircuitState,
    Command,
    Decision,
    NetworkState,
    NetworkStatus,
    Snapshot,
    SolarDecision,
    SolarReading,
)
from panelpilot.control.validate import SnapshotError

__all__ = [
    "Alert",
    "BatteryDecision",
    "BatteryReading",
    "ChargerDecision",
    "ChargerReading",
    "ChargerStatus",
    "ChargingNeed",
    "CircuitState",
    "Command",
    "Controller",
    "Decision",
    "NetworkState",
    "NetworkStatus",
    "SettingsError",
    "Snapshot",
    "SnapshotError",
    "SolarDecision",
    "SolarReading",
    "initial_state",
]
