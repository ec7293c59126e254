"""The alerts of OCPP chargers that do not comply with smart charging, from what the central
system knows of them (`state.py`); the controller counts such a charger at its max (fail safe).
"""

from __future__ import annotations

from panelpilot.control.alerts import alert
from panelpilot.control.types import Alert
from panelpilot.drivers.ocpp.state import ChargePointState

# Alert code raised for a charger that rejects profiles or lacks smart charging; the
# controller sees its limit in effect as its max until it complies (fail safe).
PROFILE_REJECTED = "charger_profile_rejected"
# Alert code raised when the composite schedule a charger reports is above its commitment.
PROFILE_MISMATCH = "charger_profile_mismatch"


def compliance_alerts(state: ChargePointState, connector_id: int | None) -> tuple[Alert, ...]:
    """Alerts about one connected charge point (one of its connectors, when given)."""
    cp_id = state.charge_point_id
    out: list[Alert] = []
    if state.refusal is not None:
        message = f"{cp_id} {state.refusal}: counted at its max until it complies"
        out.append(alert(PROFILE_REJECTED, message, cp_id))
    for connector, excess in sorted(state.mismatch.items()):
        if connector_id is None or connector == connector_id:
            message = (
                f"{cp_id} connector {connector} reports a composite schedule above its "
                f"commitment ({excess}): counted at its max"
            )
            out.append(alert(PROFILE_MISMATCH, message, cp_id))
    return tuple(out)
