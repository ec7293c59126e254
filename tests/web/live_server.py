"""A real service (control loop + uvicorn) on a background thread, for browser tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

from panelpilot.drivers.sim import World, sim_driver_set
from panelpilot.service.clock import SystemClock
from panelpilot.service.database import sqlite_url
from panelpilot.service.service import Service, build_service, serve
from panelpilot.service.storage import Storage
from panelpilot.site import load_site_text
from panelpilot.web import create_app
from panelpilot.web.options import WebOptions
from tests.service.helpers import SITE_YAML
from tests.web.helpers import INSTALLER_PASSWORD, OWNER_PASSWORD, WC4_PASSWORD

START_DEADLINE_S = 30.0


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """Serves one service at `url` until `stop()`."""

    def __init__(self, service: Service, options: WebOptions | None = None) -> None:
        self.service = service
        self.options = options
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            app = create_app(self.service, self.options)
            await serve(self.service, app, "127.0.0.1", self.port, self._stop)

        asyncio.run(main())

    def start(self) -> LiveServer:
        """Start, and return once the port accepts connections."""
        self._thread.start()
        self._ready.wait(START_DEADLINE_S)
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline or not self._thread.is_alive():
                    raise RuntimeError("the live server did not start") from None
                time.sleep(0.05)  # polling interval while the port opens

    def stop(self) -> None:
        """Stop (chargers go to their fallback) and wait for the thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_DEADLINE_S)


def live_service(tmp_path: Path, period_s: float = 0.5, site_yaml: str = SITE_YAML) -> Service:
    """A service on simulated devices and the system clock, with an owner and an installer."""
    return live_world(tmp_path, period_s, site_yaml)[0]


def live_world(
    tmp_path: Path, period_s: float = 0.5, site_yaml: str = SITE_YAML
) -> tuple[Service, World]:
    """`live_service` and its simulated world (cars, loads)."""
    site = load_site_text(site_yaml + f"control:\n  period_s: {period_s}\n", "live-site.yaml")
    clock = SystemClock()
    world = World.of(site, clock.monotonic_s, {"wc4": WC4_PASSWORD})
    for twin in world.chargers.values():
        twin.car_wants_a = 32.0
    storage = Storage.open(sqlite_url(str(tmp_path / "live.db")))
    service = build_service(site, sim_driver_set(world), storage, clock)
    service.accounts.add_user("olive", "owner", OWNER_PASSWORD, clock.wall_s())
    service.accounts.add_user("ivan", "installer", INSTALLER_PASSWORD, clock.wall_s())
    return service, world
