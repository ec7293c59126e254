"""A web app over a service on simulated devices, with an owner and an installer."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from panelpilot.drivers.sim import World
from panelpilot.service.clock import ManualClock
from panelpilot.service.launch import sim_driver_set
from panelpilot.service.service import Service, build_service
from panelpilot.service.storage import Storage, sqlite_url
from panelpilot.web import create_app
from tests.service.helpers import garage_site

OWNER_PASSWORD = "owner-password-1"
INSTALLER_PASSWORD = "installer-password-1"
WC4_PASSWORD = "wc4-sticker"


@dataclass
class Harness:
    """A service, its world and clock, and a way to run cycles."""

    service: Service
    world: World
    clock: ManualClock

    def cycles(self, n: int = 1) -> None:
        """Run `n` control cycles (the manual clock moves a period each)."""

        async def run() -> None:
            for _ in range(n):
                self.clock.advance(self.service.runtime.site.control.period_s)
                await self.service.runtime.cycle()

        asyncio.run(run())


def harness(tmp_path: Path) -> Harness:
    """A fresh service with two users and one cycle run."""
    site = garage_site()
    clock = ManualClock()
    world = World.of(site, clock.monotonic_s, {"wc4": WC4_PASSWORD})
    storage = Storage.open(sqlite_url(str(tmp_path / "web.db")))
    service = build_service(site, sim_driver_set(world), storage, clock)
    service.accounts.add_user("olive", "owner", OWNER_PASSWORD, clock.wall_s())
    service.accounts.add_user("ivan", "installer", INSTALLER_PASSWORD, clock.wall_s())
    h = Harness(service, world, clock)
    h.cycles(1)
    return h


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no csrf field on the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/"},
    )
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def client_for(h: Harness) -> TestClient:
    """A test client of the app (cookies kept between requests)."""
    return TestClient(create_app(h.service))
