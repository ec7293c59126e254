"""`ChargerDriver` for one connector of an OCPP charge point, over the central system; with
the charge points' credentials, a `Pairable` one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from panelpilot.control.types import Alert, ChargerDecision, ChargerReading
from panelpilot.drivers.base import DeviceIdentity
from panelpilot.drivers.ocpp.central import CentralSystem
from panelpilot.drivers.ocpp.credentials import CredentialStore
from panelpilot.drivers.ocpp.needs import charging_need
from panelpilot.drivers.ocpp.smart_charging import CommitmentOptions
from panelpilot.site.drivers import OcppDriverConfig


class OcppChargerDriver:
    """A site charger reached through OCPP; implements `panelpilot.drivers.base.ChargerDriver`."""

    def __init__(
        self,
        central: CentralSystem,
        config: OcppDriverConfig,
        max_a: float,
        *,
        clock_skew_s: float = 10.0,
        voltage_v: float = 240.0,
        decision_clock: Callable[[], float] | None = None,
    ) -> None:
        """`max_a` is the charger's installation max (the station cap and the fail-safe value).

        `clock_skew_s` bounds how far the charger's clock may be off (the site's
        `control.clock_skew_s`); `voltage_v` turns amps into watts for a charger that takes
        only W; `decision_clock` is the clock of decisions' `lease_until_t` (default: the
        central system's). Registering makes the central system install this connector's
        profiles whenever the charger connects.
        """
        self.device_id = config.device
        self.charge_point_id = config.identity
        self.connector_id = config.connector_id
        self.max_a = max_a
        self.offline_after_s = config.detection_s
        self.clock_skew_s = clock_skew_s
        self._central = central
        self._decision_clock = decision_clock if decision_clock is not None else central.clock
        central.smart_charging.register(
            self.charge_point_id,
            self.connector_id,
            CommitmentOptions(
                max_a,
                clock_skew_s=clock_skew_s,
                voltage_v=voltage_v,
                phases=config.phases,
                verify_composite=config.verify_composite,
                decision_clock=decision_clock,
            ),
        )

    async def read(self) -> ChargerReading:
        """Online, plugged in, measured current, the limit in effect (max while refusing) and
        the acknowledged commitment; the car's charging need when it sent one (2.0.1)."""
        reading = self._central.reading(
            self.charge_point_id,
            self.connector_id,
            max_a=self.max_a,
            offline_after_s=self.offline_after_s,
            clock_skew_s=self.clock_skew_s,
        )
        return self._with_ev_need(reading)

    def _with_ev_need(self, reading: ChargerReading) -> ChargerReading:
        if not reading.connected:
            return reading
        ev_need = self._central.state(self.charge_point_id).connector(self.connector_id).ev_need
        if ev_need is None:
            return reading
        need = charging_need(ev_need, self._central.clock(), self._decision_clock())
        return replace(reading, need=need)

    def id_tag(self) -> str | None:
        """The id tag the running session started with (`SessionTagged`)."""
        connector = self._central.state(self.charge_point_id).connector(self.connector_id)
        return connector.id_tag if connector.connected else None

    async def apply(self, decision: ChargerDecision) -> None:
        """Send the profiles a decision needs; DriverError when the charger is not connected
        (the decision is still kept, and installed when it connects)."""
        await self._central.apply(self.charge_point_id, self.connector_id, self.max_a, decision)

    def alerts(self) -> tuple[Alert, ...]:
        """Alerts about this connector (refusing or misreporting smart charging), naming the
        site device."""
        return tuple(
            replace(a, device=self.device_id)
            for a in self._central.smart_charging.alerts_for(
                self.charge_point_id, self.connector_id
            )
        )

    def identity(self) -> DeviceIdentity | None:
        """What the charge point said in its last BootNotification (kept across
        reconnections); None before it booted."""
        return self._central.state(self.charge_point_id).identity

    def identity_problem(self) -> str | None:
        """Why its last BootNotification was refused or had a field left out."""
        return self._central.state(self.charge_point_id).identity_problem


class PairableOcppCharger:
    """An OCPP charger whose pairing password is the one it authenticates with."""

    def __init__(self, driver: OcppChargerDriver, store: CredentialStore) -> None:
        self.driver = driver
        self.store = store
        self.device_id = driver.device_id

    async def read(self) -> ChargerReading:
        """As the OCPP driver reads it."""
        return await self.driver.read()

    async def apply(self, decision: ChargerDecision) -> None:
        """As the OCPP driver applies it."""
        await self.driver.apply(decision)

    def alerts(self) -> tuple[Alert, ...]:
        """The OCPP driver's alerts (a charger refusing smart charging)."""
        return self.driver.alerts()

    def id_tag(self) -> str | None:
        """As the OCPP driver knows it."""
        return self.driver.id_tag()

    def identity(self) -> DeviceIdentity | None:
        """As the OCPP driver knows it (its BootNotification)."""
        return self.driver.identity()

    def identity_problem(self) -> str | None:
        """As the OCPP driver knows it."""
        return self.driver.identity_problem()

    async def verify_password(self, password: str) -> bool:
        """Whether the password is the charge point's registered one (Argon2, off the loop)."""
        cp_id = self.driver.charge_point_id
        return await asyncio.to_thread(self.store.verify, cp_id, password)
