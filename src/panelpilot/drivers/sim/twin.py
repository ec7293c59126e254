"""Simulated twins over loopback HTTP: a `World` served by one process, driven by another.

The end-to-end test runs the world in the test process and `panelpilot run --twins URL` in a
real subprocess (its drivers are in `twin_client.py`), so killing the service leaves the
simulated chargers behind, holding whatever limit and fallback they were last given (the
seed's fallback behaviour).

Routes (JSON): `GET /chargers/{id}`, `POST /chargers/{id}/apply`, `POST /chargers/{id}/verify`,
`GET /meters/{id}`, `GET|POST /batteries/{id}`, `GET|POST /solar/{id}`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import TypeVar

from aiohttp import web

from panelpilot.control.types import (
    BatteryDecision,
    ChargerDecision,
    ChargerStatus,
    SolarDecision,
)
from panelpilot.drivers.sim.devices import SimBattery, SimCharger, SimMeter, SimSolar
from panelpilot.drivers.sim.world import World

APPLIED = web.AppKey("applied", dict[str, list[float]])
Device = TypeVar("Device")


class _Routes:
    """The twins' HTTP handlers over one world (`lock` guards the world)."""

    def __init__(self, world: World, lock: threading.Lock) -> None:
        self.world = world
        self.lock = lock
        self.chargers = {cid: SimCharger(world, cid) for cid in world.chargers}
        self.meters = {mid: SimMeter(world, mid) for mid in world.meters_online}
        self.batteries = {bid: SimBattery(world, bid) for bid in world.batteries}
        self.solar = {sid: SimSolar(world, sid) for sid in world.solar}
        self.applied: dict[str, list[float]] = {cid: [] for cid in world.chargers}

    async def read_charger(self, request: web.Request) -> web.Response:
        drv = _device(self.chargers, request)
        with self.lock:
            if not self.world.chargers[drv.device_id].online:
                raise web.HTTPServiceUnavailable(text="offline")
            r = await drv.read()
        return web.json_response(
            {"connected": r.connected, "current_a": r.current_a, "limit_a": r.limit_a}
        )

    async def apply_charger(self, request: web.Request) -> web.Response:
        drv = _device(self.chargers, request)
        body = await request.json()
        with self.lock:
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
            self.applied[drv.device_id].append(self.world.chargers[drv.device_id].limit_a)
        return web.json_response({"ok": True})

    async def verify(self, request: web.Request) -> web.Response:
        drv = _device(self.chargers, request)
        body = await request.json()
        return web.json_response({"ok": await drv.verify_password(str(body["password"]))})

    async def read_meter(self, request: web.Request) -> web.Response:
        drv = _device(self.meters, request)
        with self.lock:
            return web.json_response({"current_a": await drv.read_current_a()})

    async def battery(self, request: web.Request) -> web.Response:
        drv = _device(self.batteries, request)
        with self.lock:
            if request.method == "POST":
                b = await request.json()
                await drv.apply(
                    BatteryDecision(b["max_discharge_a"], b["charge_request_a"], b["max_charge_a"])
                )
            r = await drv.read()
        return web.json_response({"current_a": r.current_a, "soc": r.soc})

    async def inverter(self, request: web.Request) -> web.Response:
        drv = _device(self.solar, request)
        with self.lock:
            if request.method == "POST":
                await drv.apply(SolarDecision((await request.json())["max_a"]))
            r = await drv.read()
        return web.json_response({"current_a": r.current_a})


def _device(table: Mapping[str, Device], request: web.Request) -> Device:
    found = table.get(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text="unknown device")
    return found


def twin_app(world: World, lock: threading.Lock) -> web.Application:
    """An aiohttp app serving a world's devices (`lock` guards the world)."""
    routes = _Routes(world, lock)
    app = web.Application()
    app[APPLIED] = routes.applied
    app.add_routes(
        [
            web.get("/chargers/{id}", routes.read_charger),
            web.post("/chargers/{id}/apply", routes.apply_charger),
            web.post("/chargers/{id}/verify", routes.verify),
            web.get("/meters/{id}", routes.read_meter),
            web.get("/batteries/{id}", routes.battery),
            web.post("/batteries/{id}", routes.battery),
            web.get("/solar/{id}", routes.inverter),
            web.post("/solar/{id}", routes.inverter),
        ]
    )
    return app


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
