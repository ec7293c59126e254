"""Alert codes as data: the stable code, its severity, and what it means (docs/alerts.md)."""

from __future__ import annotations

from dataclasses import dataclass

from panelpilot.control.types import Alert, Severity


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """One kind of alert."""

    code: str
    severity: Severity
    meaning: str


ALERTS: tuple[AlertSpec, ...] = (
    AlertSpec(
        "panel_limit_battery",
        "warning",
        "Panel current at or above 90 % of the Panel Limit: battery output reduced.",
    ),
    AlertSpec(
        "panel_limit_solar",
        "warning",
        "Panel current at or above 95 % of the Panel Limit: controllable solar limited.",
    ),
    AlertSpec(
        "panel_limit_exceeded",
        "critical",
        "Panel current above the Panel Limit: every controlled source curtailed to 0.",
    ),
    AlertSpec(
        "conductor_limit",
        "warning",
        "Conductor CT current at the Conductor Limit: battery output (or charging) reduced.",
    ),
    AlertSpec(
        "export_limit_battery",
        "info",
        "Export near the Site Export Limit: batteries asked to stop discharging or to charge.",
    ),
    AlertSpec(
        "export_limit_solar",
        "warning",
        "Export above what batteries can absorb: controllable solar curtailed.",
    ),
    AlertSpec(
        "meter_lost",
        "critical",
        "A meter a limit depends on is not reporting: what that limit controls is held or "
        "curtailed to its safe value, never raised.",
    ),
    AlertSpec(
        "circuit_overload",
        "critical",
        "A circuit's measured current is above its limit for longer than the chargers take to "
        "come down (one period plus the car's response), or above its breaker rating.",
    ),
    AlertSpec(
        "circuit_load_step",
        "info",
        "A circuit's other loads stepped up past its limit: the chargers below it are coming "
        "down, within one period plus the car's response.",
    ),
    AlertSpec(
        "circuit_fixed_load",
        "warning",
        "Fixed reservations (offline chargers, disabled networks, removed units) leave no "
        "room on a circuit: the other chargers are paused.",
    ),
    AlertSpec(
        "capacity_shortage",
        "warning",
        "Not every car can get its minimum current: some are paused and take turns.",
    ),
    AlertSpec(
        "charger_unresponsive",
        "warning",
        "A charger is not reporting: its fallback limit is reserved for it.",
    ),
    AlertSpec(
        "charger_not_following",
        "warning",
        "A charger reports a limit above the one it was given (it rejected the profile or "
        "ignores it): it is counted at what it reports, and the others make room.",
    ),
    AlertSpec(
        "charger_reading_implausible",
        "warning",
        "A charger reports drawing more than it may (its unit max, or what its limit allows): "
        "its reading is not used and what it draws counts as other load on its circuit's "
        "meter, and a metered circuit over its limit is lowered by the excess whatever the "
        "readings say.",
    ),
    AlertSpec(
        "charger_profile_rejected",
        "warning",
        "An OCPP charger rejected a charging profile or does not support smart charging: it is "
        "reported at its max until it accepts.",
    ),
    AlertSpec("charger_profile_mismatch", "warning", "OCPP composite schedule above commitment."),
    AlertSpec(
        "charger_removed",
        "info",
        "A charger removed from its network is held at 6 A until it is power-cycled.",
    ),
    AlertSpec(
        "network_disabled",
        "info",
        "A power sharing network is disabled: every member runs at its fallback limit.",
    ),
    AlertSpec(
        "setting_rejected",
        "warning",
        "A settings change was refused (network enabled, or a value out of range).",
    ),
    AlertSpec(
        "driver_down",
        "warning",
        "A device driver failed (an error or a timeout): the device reads as offline or lost, "
        "and the driver is retried with backoff (raised by the service).",
    ),
    AlertSpec(
        "cycle_overrun",
        "warning",
        "A control cycle started late or took longer than `period_s`, or the loop stalled "
        "(raised by the service's watchdog).",
    ),
    AlertSpec(
        "storage_failed",
        "warning",
        "Database writes fail (disk full, read-only, I/O error): control goes on, telemetry and "
        "events wait in a bounded buffer and are retried, settings changes are refused "
        "(raised by the service).",
    ),
    AlertSpec(
        "battery_unresponsive",
        "warning",
        "A battery is not reporting: its rated output is assumed in the PCS limits.",
    ),
    AlertSpec(
        "solar_unresponsive",
        "warning",
        "A solar inverter is not reporting: its rated output is assumed in the PCS limits.",
    ),
)

BY_CODE: dict[str, AlertSpec] = {spec.code: spec for spec in ALERTS}


def alert(code: str, message: str, device: str | None = None) -> Alert:
    """Make an alert of a declared code; an undeclared code is a programming error."""
    return Alert(code=code, severity=BY_CODE[code].severity, message=message, device=device)
