"""`ChargerDriver` for one connector of an OCPP charge point, over the central system."""

from __future__ import annotations

from dataclasses import replace

from panelpilot.control.types import Alert, ChargerDecision, ChargerReading
from panelpilot.drivers.ocpp.central import CentralSystem
from panelpilot.site.drivers import OcppDriverConfig

# Grace beyond two missed heartbeats before a silent charger counts as offline.


class OcppChargerDriver:
    """A site charger reached through OCPP; implements `panelpilot.drivers.base.ChargerDriver`."""

    def __init__(self, central: CentralSystem, config: OcppDriverConfig, max_a: float) -> None:
        """`max_a` is the charger's installation max (the station cap and the fail-safe value)."""
        self.device_id = config.device
        self.charge_point_id = config.identity
        self.connector_id = config.connector_id
        self.max_a = max_a
        self.offline_after_s = config.detection_s
        self._central = central

    async def read(self) -> ChargerReading:
        """Online, plugged in, measured current and the limit in effect (max while refusing)."""
        return self._central.reading(
            self.charge_point_id,
            self.connector_id,
            max_a=self.max_a,
            offline_after_s=self.offline_after_s,
        )

    async def apply(self, decision: ChargerDecision) -> None:
        """Send the profiles a decision needs; DriverError when the charger is not connected."""
        await self._central.apply(self.charge_point_id, self.connector_id, self.max_a, decision)

    def alerts(self) -> tuple[Alert, ...]:
        """Alerts about this charger (refusing smart charging), naming the site device."""
        return tuple(
            replace(a, device=self.device_id)
            for a in self._central.alerts()
            if a.device == self.charge_point_id
        )
