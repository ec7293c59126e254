"""HTTP drivers for simulated twins served by `twin.TwinServer` (`panelpilot run --twins URL`).

Each implements the interface of its part in `drivers.base`; one HTTP session is shared by
all of a site's twins. Any answer but a JSON 200 is a `DriverError` naming the device.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from panelpilot.control.types import (
    BatteryDecision,
    BatteryReading,
    ChargerDecision,
    ChargerReading,
    SolarDecision,
    SolarReading,
)
from panelpilot.drivers.base import DriverError, DriverSet
from panelpilot.site.model import Site


class TwinClient:
    """One HTTP session to the twins, shared by their drivers."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def request(self, device_id: str, method: str, path: str, body: Any = None) -> Any:
        """One JSON request; a `DriverError` for anything but a JSON answer."""
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession()
        try:
            async with self.session.request(method, self.base_url + path, json=body) as resp:
                if resp.status != 200:
                    raise DriverError(device_id, f"HTTP {resp.status}: {await resp.text()}")
                return await resp.json()
        except aiohttp.ClientError as exc:
            raise DriverError(device_id, f"cannot reach the twin: {exc}") from None

    async def close(self) -> None:
        """Close the session."""
        if self.session is not None:
            await self.session.close()


class TwinCharger:
    """A charger twin reached over HTTP."""

    def __init__(self, client: TwinClient, device_id: str) -> None:
        self.client = client
        self.device_id = device_id

    async def read(self) -> ChargerReading:
        """The charger's state."""
        r = await self.client.request(self.device_id, "GET", f"/chargers/{self.device_id}")
        return ChargerReading(True, bool(r["connected"]), float(r["current_a"]), r["limit_a"])

    async def apply(self, decision: ChargerDecision) -> None:
        """Send the limit, fallback and lease."""
        body = {
            "limit_a": decision.limit_a,
            "fallback_a": decision.fallback_a,
            "lease_s": decision.lease_s,
            "status": decision.status.value,
        }
        await self.client.request(self.device_id, "POST", f"/chargers/{self.device_id}/apply", body)

    async def verify_password(self, password: str) -> bool:
        """Ask the twin whether the password is its own."""
        path = f"/chargers/{self.device_id}/verify"
        r = await self.client.request(self.device_id, "POST", path, {"password": password})
        return bool(r["ok"])

    async def close(self) -> None:
        """Close the shared session (harmless when done twice)."""
        await self.client.close()


class TwinMeter:
    """A meter twin reached over HTTP."""

    def __init__(self, client: TwinClient, device_id: str) -> None:
        self.client = client
        self.device_id = device_id

    async def read_current_a(self) -> float | None:
        """The metered current."""
        r = await self.client.request(self.device_id, "GET", f"/meters/{self.device_id}")
        value = r["current_a"]
        return None if value is None else float(value)


class TwinBattery:
    """A battery twin reached over HTTP."""

    def __init__(self, client: TwinClient, device_id: str) -> None:
        self.client = client
        self.device_id = device_id

    async def read(self) -> BatteryReading:
        """Current and state of charge."""
        r = await self.client.request(self.device_id, "GET", f"/batteries/{self.device_id}")
        return BatteryReading(True, float(r["current_a"]), r["soc"])

    async def apply(self, decision: BatteryDecision) -> None:
        """Send the caps."""
        body = {
            "max_discharge_a": decision.max_discharge_a,
            "charge_request_a": decision.charge_request_a,
            "max_charge_a": decision.max_charge_a,
        }
        await self.client.request(self.device_id, "POST", f"/batteries/{self.device_id}", body)


class TwinSolar:
    """A solar twin reached over HTTP."""

    def __init__(self, client: TwinClient, device_id: str) -> None:
        self.client = client
        self.device_id = device_id

    async def read(self) -> SolarReading:
        """Output current."""
        r = await self.client.request(self.device_id, "GET", f"/solar/{self.device_id}")
        return SolarReading(True, float(r["current_a"]))

    async def apply(self, decision: SolarDecision) -> None:
        """Send the cap."""
        body = {"max_a": decision.max_a}
        await self.client.request(self.device_id, "POST", f"/solar/{self.device_id}", body)


def twin_driver_set(site: Site, base_url: str) -> DriverSet:
    """HTTP drivers for every device of a site, served as twins at `base_url`."""
    client = TwinClient(base_url)
    return DriverSet(
        chargers={c.id: TwinCharger(client, c.id) for c in site.chargers},
        meters={m: TwinMeter(client, m) for m in sorted(site.meter_ids())},
        batteries={b.id: TwinBattery(client, b.id) for b in site.batteries},
        solar={s.id: TwinSolar(client, s.id) for s in site.solar},
    )
