"""The `drivers:` section: how each device is reached (OCPP, SunSpec, Tesla WC, simulated)."""

from __future__ import annotations

from panelpilot.site.base import SiteModel


class DriverConfig(SiteModel):
    """How one device is reached (filled in by the device drivers' work)."""
