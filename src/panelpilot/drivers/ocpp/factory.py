"""The `kind: ocpp` factory: one central system for every OCPP charger of the site.

The chargers dial in to it (`CentralSystem`, started and stopped beside the control loop);
their passwords are in the service's SQLite database (`panelpilot chargers add`), which the
same store reads for pairing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from panelpilot.drivers.base import DriverError, DriverSet
from panelpilot.drivers.factory import BuildContext, Built, DeviceEntry
from panelpilot.drivers.ocpp.central import CentralSystem
from panelpilot.drivers.ocpp.credentials import CredentialStore
from panelpilot.drivers.ocpp.driver import OcppChargerDriver, PairableOcppCharger
from panelpilot.site.drivers import OcppDriverConfig
from panelpilot.site.model import Site


def ocpp_driver(
    site: Site,
    central: CentralSystem,
    config: OcppDriverConfig,
    *,
    decision_clock: Callable[[], float] | None = None,
) -> OcppChargerDriver:
    """The driver of one `kind: ocpp` entry: the charger's max, the site's clock-skew bound
    (`control.clock_skew_s`) and voltage; `decision_clock` is the clock of the controller's
    snapshots when it is not the central system's."""
    max_a = {c.id: c.max_a for c in site.chargers}[config.device]
    return OcppChargerDriver(
        central,
        config,
        max_a,
        clock_skew_s=site.control.clock_skew_s,
        voltage_v=site.voltage_v,
        decision_clock=decision_clock,
    )


def build_ocpp(entries: Sequence[DeviceEntry], context: BuildContext) -> Built:
    """The central system and a pairable driver per OCPP charger (all chargers: the registry
    refuses other parts)."""
    configs = [e.config for e in entries if isinstance(e.config, OcppDriverConfig)]
    if context.ocpp is None:
        devices = ", ".join(c.device for c in configs)
        raise DriverError(devices, "OCPP chargers need the service's database for their passwords")
    store = CredentialStore(context.ocpp.credentials_url)
    central = CentralSystem(
        store,
        host=context.ocpp.host,
        port=context.ocpp.port,
        clock=context.wall_s,
        # The shortest asked for: every charger is told the same interval at boot.
        heartbeat_interval_s=min(c.heartbeat_interval_s for c in configs),
    )
    chargers = {
        # The snapshots' `t` (so decisions' lease ends) is on the monotonic clock.
        c.device: PairableOcppCharger(
            ocpp_driver(context.site, central, c, decision_clock=context.monotonic_s), store
        )
        for c in configs
    }
    return Built(DriverSet(chargers=chargers), (central,))
