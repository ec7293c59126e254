"""Simulated twins over loopback HTTP: a `World` served by one process, driven by another.

The end-to-end test runs the world in the test process and `panelpilot run --twins URL` in a
real subprocess, so killing the service leaves the simulated chargers behind, holding
whatever limit and fallback they were last given (the seed's fallback behaviour).

Routes (JSON): `GET /chargers/{id}`, `POST /chargers/{id}/apply`, `POST /chargers/{id}/verify`,
`GET /meters/{id}`, `GET|POST /batteries/{id}`, `GET|POST /solar/{id}`.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import aiohttp
from aiohttp import web

from panelpilot.control.types import (
    BatteryDecision,
    BatteryReading,
    ChargerDecision,
    ChargerReading,
    ChargerStatus,
    SolarDecision,
    SolarReading,
)
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.sim.devices import SimBattery, SimCharger, SimMeter, SimSolar
from panelpilot.drivers.sim.world import World

APPLIED = web.AppKey("applied", dict[str, list[float]])


def twin_app(world: World, lock: threading.Lock) -> web.Application:
    """An aiohttp app serving a world's devices (`lock` guards the world)."""
    chargers = {cid: SimCharger(world, cid) for cid in world.chargers}
    meters = {mid: SimMeter(world, mid) for mid in world.meters_online}
    batteries = {bid: SimBattery(world, bid) for bid in world.batteries}
    solar = {sid: SimSolar(world, sid) for sid in world.solar}
    applied: dict[str, list[float]] = {cid: [] for cid in world.chargers}

    def device(table: dict[str, Any], request: web.Request) -> Any:
        found = table.get(request.match_info["id"])
        if found is None:
            raise web.HTTPNotFound(text="unknown device")
        return found

    async def read_charger(request: web.Request) -> web.Response:
        drv = device(chargers, request)
        with lock:
            twin = world.chargers[drv.device_id]
            if not twin.online:
                raise web.HTTPServiceUnavailable(text="offline")
            r = await drv.read()
        return web.json_response(
            {"connected": r.connected, "current_a": r.current_a, "limit_a": r.limit_a}
        )

    async def apply_charger(request: web.Request) -> web.Response:
        drv = device(chargers, request)
        body = await request.json()
        with lock:
            await drv.apply(
                ChargerDecision(
                    limit_a=float(body["limit_a"]),
                    fallback_a=float(body["fallback_a"]),
                    status=ChargerStatus(body.get("status", "idle")),
                    target_a=float(body["limit_a"]),
                    lease_s=float(body["lease_s"]),
                    demand_a=0.0,
                )
            )
            applied[drv.device_id].append(world.chargers[drv.device_id].limit_a)
        return web.json_response({"ok": True})

    async def verify(request: web.Request) -> web.Response:
        drv = device(chargers, request)
        body = await request.json()
        return web.json_response({"ok": await drv.verify_password(str(body["password"]))})

    async def read_meter(request: web.Request) -> web.Response:
        drv = device(meters, request)
        with lock:
            return web.json_response({"current_a": await drv.read_current_a()})

    async def battery(request: web.Request) -> web.Response:
        drv = device(batteries, request)
        with lock:
            if request.method == "POST":
                b = await request.json()
                await drv.apply(
                    BatteryDecision(b["max_discharge_a"], b["charge_request_a"], b["max_charge_a"])
                )
            r = await drv.read()
        return web.json_response({"current_a": r.current_a, "soc": r.soc})

    async def inverter(request: web.Request) -> web.Response:
        drv = device(solar, request)
        with lock:
            if request.method == "POST":
                await drv.apply(SolarDecision((await request.json())["max_a"]))
            r = await drv.read()
        return web.json_response({"current_a": r.current_a})

    app = web.Application()
    app[APPLIED] = applied
    app.add_routes(
        [
            web.get("/chargers/{id}", read_charger),
            web.post("/chargers/{id}/apply", apply_charger),
            web.post("/chargers/{id}/verify", verify),
            web.get("/meters/{id}", read_meter),
            web.get("/batteries/{id}", battery),
            web.post("/batteries/{id}", battery),
            web.get("/solar/{id}", inverter),
            web.post("/solar/{id}", inverter),
        ]
    )
    return app


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


class TwinServer:
    """Serves a world on 127.0.0.1 from a background thread (tests, demos)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lock = threading.Lock()
        self.app = twin_app(world, self.lock)
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(self.app)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def applied(self, charger_id: str) -> list[float]:
        """Every limit a charger has been given, oldest first (a copy)."""
        with self.lock:
            return list(self.app[APPLIED][charger_id])

    def start(self) -> str:
        """Start serving; returns the base URL."""
        self._thread.start()

        async def up() -> str:
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
            port = self._runner.addresses[0][1]
            return f"http://127.0.0.1:{port}"

        self.url = asyncio.run_coroutine_threadsafe(up(), self._loop).result()
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
