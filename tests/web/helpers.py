"""A web app over a service on simulated devices, with an owner and an installer."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from panelpilot.drivers.sim import World, sim_driver_set
from panelpilot.service.clock import ManualClock
from panelpilot.service.database import sqlite_url
from panelpilot.service.service import Service, build_service
from panelpilot.service.storage import Storage
from panelpilot.site import Site
from panelpilot.web import create_app
from panelpilot.web.options import WebOptions
from tests.service.helpers import garage_site

OWNER_PASSWORD = "owner-password-1"
# Test clients come from documentation addresses (RFC 5737): not loopback, one per person.
STRANGER = "203.0.113.66"
HOME = "192.0.2.10"
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


def harness(tmp_path: Path, site: Site | None = None) -> Harness:
    """A fresh service (on the test garage unless told) with two users and one cycle run."""
    site = site or garage_site()
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


def try_sign_in(client: TestClient, name: str, password: str) -> int:
    """Post the sign-in form once; returns the status (200 = signed in, on Home)."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/"},
    )
    status: int = response.status_code
    return status


def sign_in(client: TestClient, name: str, password: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    assert try_sign_in(client, name, password) == 200
    return csrf_of(client.get("/").text)


def client_for(
    h: Harness, address: str = HOME, options: WebOptions | None = None, app: object = None
) -> TestClient:
    """A test client of the app (cookies kept between requests) from `address`; pass `app`
    to share one app (its throttle and streams) between clients. Behind the HTTPS proxy the
    client speaks HTTPS, as the proxy's clients do (Secure cookies are sent only then)."""
    base_url = (
        "https://testserver" if options and options.behind_https_proxy else "http://testserver"
    )
    web = app or create_app(h.service, options)
    return TestClient(web, base_url=base_url, client=(address, 50000))  # type: ignore[arg-type]


def bearer(token: str) -> dict[str, str]:
    """The header of an API token."""
    return {"Authorization": f"Bearer {token}"}


def token_for(h: Harness, name: str, password: str, days: int = 90) -> str:
    """An API token of a user, made directly in the accounts."""
    user = h.service.accounts.authenticate(name, password)
    assert user is not None
    return h.service.accounts.add_token(user, "test", h.clock.wall_s(), days)
