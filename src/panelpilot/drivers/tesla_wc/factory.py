"""The `kind: tesla_wc` entries: vitals monitors. The Gen 3 local API takes no limit, so the
registry lets this kind drive nothing (`TESLA_WC_REFUSAL`); `tesla_wc_monitors` builds the
monitors for whoever watches them."""

from __future__ import annotations

from panelpilot.drivers.tesla_wc.reader import (
    TeslaWallConnector,
    TeslaWcConfig,
    build_tesla_wc_driver,
)
from panelpilot.site.drivers import TeslaWcDriverConfig
from panelpilot.site.model import Site

TESLA_WC_REFUSAL = (
    "the Tesla Wall Connector's local API reports vitals only and cannot take a limit; "
    "drive it over OCPP (kind: ocpp) or simulate it"
)


def tesla_wc_monitors(site: Site) -> dict[str, TeslaWallConnector]:
    """One vitals monitor per `kind: tesla_wc` entry, keyed by charger id."""
    return {
        entry.device: build_tesla_wc_driver(
            TeslaWcConfig(entry.device, entry.host, entry.port, entry.timeout_s)
        )
        for entry in site.drivers
        if isinstance(entry, TeslaWcDriverConfig)
    }
