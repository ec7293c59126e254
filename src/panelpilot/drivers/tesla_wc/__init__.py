"""Tesla Gen 3 Wall Connector over its local HTTP API (vitals), for monitoring only.

The Gen 3 local API is read-only: it reports vitals, version, lifetime and Wi-Fi status but
takes no current limit, so this driver offers `read()` and no `apply()`. A Wall Connector is
limited by its own power sharing network or by its installation's max output current, never
by panelpilot over this API.
"""

from panelpilot.drivers.tesla_wc.reader import (
    ChargerMonitor,
    TeslaWallConnector,
    TeslaWcConfig,
    WallConnectorInfo,
    build_tesla_wc_driver,
)

__all__ = [
    "ChargerMonitor",
    "TeslaWallConnector",
    "TeslaWcConfig",
    "WallConnectorInfo",
    "build_tesla_wc_driver",
]
