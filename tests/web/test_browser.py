"""Browser tests in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Set PANELPILOT_SCREENSHOTS=docs/screenshots to refresh the screenshots in the docs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.web.helpers import INSTALLER_PASSWORD, OWNER_PASSWORD, WC4_PASSWORD
from tests.web.live_server import LiveServer, live_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXPECT_MS = 30_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (apt-get install chromium)"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(live_service(tmp_path)).start()
    yield live
    live.stop()


@pytest.fixture
def page(server: LiveServer) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server.url, viewport={"width": 1200, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(EXPECT_MS)
        yield tab
        context.close()
        browser.close()


def shots(tmp_path: Path) -> Path:
    target = os.environ.get("PANELPILOT_SCREENSHOTS")
    folder = Path(target) if target else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Page, name: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("#version")).to_be_visible()


def test_installer_commissions_the_network_and_sees_the_new_allocation_live(
    page: Page, tmp_path: Path
) -> None:
    out = shots(tmp_path)
    page.goto("/login")
    page.screenshot(path=str(out / "login.png"))
    sign_in(page, "ivan", INSTALLER_PASSWORD)
    page.screenshot(path=str(out / "home.png"), full_page=True)

    page.goto("/sharing/garage-net")
    page.click("#disable")
    expect(page.locator("#network-state")).to_have_attribute("data-state", "Disabled")

    page.fill("#network-limit-a", "12")
    page.click("#save-limit")
    expect(page.locator(".error")).to_contain_text("6 A x 3")
    page.screenshot(path=str(out / "sharing-refused.png"), full_page=True)

    page.fill("#network-limit-a", "64")
    page.click("#save-limit")
    expect(page.locator(".notice")).to_contain_text("Max network current saved.")
    expect(page.locator("#last-change")).to_contain_text("limit set to 64 A")

    page.fill("#add-id", "wc4")
    page.fill("#add-password", WC4_PASSWORD)
    page.click("#add-charger")
    expect(page.locator(".notice")).to_contain_text("Charger added to the network.")
    expect(page.locator("#last-change")).to_contain_text("charger wc4 added")
    expect(page.locator("#device-count")).to_have_text("4 / 4 Devices")

    page.click("#enable")
    expect(page.locator("#network-state")).to_have_attribute("data-state", "Enabled")
    page.screenshot(path=str(out / "sharing.png"), full_page=True)

    page.goto("/live")
    expect(page.locator("#live-state")).to_have_text("live")
    # 64 A shared by four cars that each want 32 A: 16 A each, over the WebSocket.
    for cid in ("wc1", "wc2", "wc3", "wc4"):
        expect(page.locator(f"tr[data-charger={cid}] .limit")).to_have_text("16 A")
    expect(page.locator("tr[data-charger=wc4] .draw")).to_have_text("16.0 A")
    page.screenshot(path=str(out / "live.png"), full_page=True)

    page.goto("/chargers/wc4")
    expect(page.locator("#draw")).to_have_text("16A / 16A")
    page.screenshot(path=str(out / "charger.png"), full_page=True)

    page.goto("/pcs")
    page.fill("#license-number", "EC-4711")
    page.click("#verify-license")
    expect(page.locator(".notice")).to_contain_text("License number accepted")
    page.fill("#panel-limit-a", "90")
    page.click("#save-pcs")
    expect(page.locator(".notice")).to_contain_text("PCS limits saved.")
    expect(page.locator("#last-change")).to_contain_text("PCS: Panel Limit 100 A -> 90 A")
    expect(page.locator("#last-change")).to_contain_text("license EC-4711")
    page.screenshot(path=str(out / "pcs.png"), full_page=True)

    page.goto("/events")
    expect(page.locator("#history")).to_contain_text("EC-4711")
    page.screenshot(path=str(out / "events.png"), full_page=True)
    page.goto("/access")
    page.screenshot(path=str(out / "access.png"), full_page=True)


def test_an_owner_cannot_open_the_pcs_settings(page: Page, tmp_path: Path) -> None:
    sign_in(page, "olive", OWNER_PASSWORD)
    page.goto("/pcs")
    expect(page.locator("#forbidden")).to_contain_text("qualified personnel")
    expect(page.locator("#panel-limit-a")).to_have_count(0)
    page.screenshot(path=str(shots(tmp_path) / "pcs-owner.png"), full_page=True)


def test_signing_out_in_one_tab_ends_the_live_view_in_another(page: Page) -> None:
    sign_in(page, "olive", OWNER_PASSWORD)
    page.goto("/live")
    expect(page.locator("#live-state")).to_have_text("live")
    other = page.context.new_page()
    other.goto("/access")
    other.click("header form.signout button[type=submit]")
    expect(other.locator("input[name=password]")).to_be_visible()
    expect(page.locator("#live-state")).to_have_text("signed out")


def test_a_token_is_made_listed_and_revoked_on_the_access_page(page: Page) -> None:
    sign_in(page, "olive", OWNER_PASSWORD)
    page.goto("/access")
    expect(page.locator("#no-tokens")).to_be_visible()
    page.fill("#token-name", "grafana")
    page.fill("#token-days", "30")
    page.click("#create-token")
    expect(page.locator("#token")).to_contain_text("pp_")
    expect(page.locator("#tokens .name")).to_have_text("grafana")
    page.click("#tokens .revoke")
    expect(page.locator(".notice")).to_contain_text("API token revoked")
    expect(page.locator("#no-tokens")).to_be_visible()
