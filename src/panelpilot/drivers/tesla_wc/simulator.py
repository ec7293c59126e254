"""A simulated Gen 3 Wall Connector: the local HTTP API (/api/1/vitals, version, lifetime,
wifi_status) on loopback, with the field names the `tesla-wall-connector` package reads.

The test (or the demo) sets the car's state; each request reports it. `garbled_body` makes
every endpoint answer that text instead, to test malformed responses.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web


class SimWallConnector:
    """The state a Wall Connector reports: a car, its current, the grid."""

    def __init__(self, split_phase: bool = True, grid_v: float = 240.0) -> None:
        self.split_phase = split_phase  # US 240 V: lines A and B carry the car's current
        self.grid_v = grid_v
        self.vehicle_connected = False
        self.current_a = 0.0
        self.session_energy_wh = 0.0
        self.firmware_version = "24.36.3+gc9a7e4d9f7b3e0"
        self.serial_number = "PGT22137007ZZZ"
        self.garbled_body: str | None = None

    def vitals(self) -> dict[str, Any]:
        """The /api/1/vitals body."""
        charging = self.vehicle_connected and self.current_a > 0
        current_a = self.current_a if charging else 0.0
        line_c_a = 0.0 if self.split_phase else current_a  # split phase: lines A and B only
        return {
            "contactor_closed": charging,
            "vehicle_connected": self.vehicle_connected,
            "session_s": 0,
            "grid_v": self.grid_v,
            "grid_hz": 60.0,
            "vehicle_current_a": current_a,
            "currentA_a": current_a,
            "currentB_a": current_a,
            "currentC_a": line_c_a,
            "currentN_a": 0.0,
            "voltageA_v": self.grid_v / 2 if self.split_phase else self.grid_v,
            "voltageB_v": self.grid_v / 2 if self.split_phase else self.grid_v,
            "voltageC_v": 0.0 if self.split_phase else self.grid_v,
            "relay_coil_v": 11.9,
            "pcba_temp_c": 31.2,
            "handle_temp_c": 24.0,
            "mcu_temp_c": 38.5,
            "uptime_s": 86400,
            "input_thermopile_uv": -176,
            "prox_v": 0.0,
            "pilot_high_v": 6.0 if self.vehicle_connected else 12.0,
            "pilot_low_v": -12.0,
            "session_energy_wh": self.session_energy_wh,
            "config_status": 5,
            "evse_state": 11 if charging else (4 if self.vehicle_connected else 1),
            "current_alerts": [],
            "evse_not_ready_reasons": [],
        }

    def version(self) -> dict[str, Any]:
        """The /api/1/version body."""
        return {
            "firmware_version": self.firmware_version,
            "git_branch": "HEAD",
            "part_number": "1734412-02-E",
            "serial_number": self.serial_number,
            "web_service": "",
        }

    def lifetime(self) -> dict[str, Any]:
        """The /api/1/lifetime body."""
        return {
            "contactor_cycles": 120,
            "contactor_cycles_loaded": 3,
            "alert_count": 0,
            "thermal_foldbacks": 0,
            "avg_startup_temp": 22.5,
            "charge_starts": 120,
            "energy_wh": 1_250_000,
            "connector_cycles": 80,
            "uptime_s": 3_000_000,
            "charging_time_s": 900_000,
        }

    def wifi_status(self) -> dict[str, Any]:
        """The /api/1/wifi_status body (the SSID is base64, as the unit sends it)."""
        return {
            "wifi_ssid": base64.b64encode(b"garage").decode(),
            "wifi_signal_strength": 70,
            "wifi_rssi": -55,
            "wifi_snr": 30,
            "wifi_connected": True,
            "wifi_infra_ip": "127.0.0.1",
            "internet": False,
            "wifi_mac": "02:00:00:00:00:01",
        }


class WallConnectorServer:
    """An aiohttp server on loopback serving one `SimWallConnector`."""

    def __init__(self, unit: SimWallConnector, host: str = "127.0.0.1") -> None:
        self.unit = unit
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None

    def _endpoint(self, name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(_request: web.Request) -> web.Response:
            if self.unit.garbled_body is not None:
                return web.Response(text=self.unit.garbled_body, content_type="application/json")
            body = getattr(self.unit, name)()
            return web.Response(text=json.dumps(body), content_type="application/json")

        return handle

    async def start(self) -> int:
        """Listen on a free port of `host`; returns the port."""
        app = web.Application()
        for name in ("vitals", "version", "lifetime", "wifi_status"):
            app.router.add_get(f"/api/1/{name}", self._endpoint(name))
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        """Stop the server and close its connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WallConnectorServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
