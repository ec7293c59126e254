"""Browser tests in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), each
at desktop width (1200 x 900) and on a phone (390 x 844).

Set PANELPILOT_SCREENSHOTS=docs/screenshots to refresh the screenshots in the docs: every page
at both widths (`<page>.png` and `<page>-390.png`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from panelpilot.drivers.sim import World
from tests.service.helpers import SITE_YAML
from tests.web.helpers import INSTALLER_PASSWORD, OWNER_PASSWORD, WC4_PASSWORD
from tests.web.live_server import LiveServer, live_world

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
NBSP = "\u00a0"
WIDTHS = {"desktop": (1200, 900), "phone": (390, 844)}
# wc1 hangs off a 40 A branch circuit without a meter: Live shows the sum of its chargers.
BRANCH_SITE = SITE_YAML.replace(
    "        limit_a: 80\n        meter: garage\n",
    "        limit_a: 80\n        meter: garage\n        children:\n"
    "          - {id: branch1, limit_a: 40}\n",
).replace(
    "{id: wc1, circuit: garage, network: garage-net, max_a: 32}",
    "{id: wc1, circuit: branch1, network: garage-net, max_a: 32}",
)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (apt-get install chromium)"
)


@dataclass
class Site:
    server: LiveServer
    world: World


@dataclass
class Tab:
    """A browser tab at one width, and where its screenshots go."""

    page: Page
    width: str
    shots: Path

    def shot(self, name: str) -> None:
        suffix = "" if self.width == "desktop" else "-390"
        self.page.screenshot(path=str(self.shots / f"{name}{suffix}.png"), full_page=True)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    service, world = live_world(tmp_path, site_yaml=BRANCH_SITE)
    live = LiveServer(service).start()
    yield Site(live, world)
    live.stop()


def _shots(tmp_path: Path) -> Path:
    target = os.environ.get("PANELPILOT_SCREENSHOTS")
    folder = Path(target) if target else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(params=sorted(WIDTHS))
def tab(request: pytest.FixtureRequest, site: Site, tmp_path: Path) -> Iterator[Tab]:
    width, height = WIDTHS[request.param]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=site.server.url, viewport={"width": width, "height": height}
        )
        page = context.new_page()
        page.set_default_timeout(EXPECT_MS)
        yield Tab(page, request.param, _shots(tmp_path))
        context.close()
        browser.close()


def sign_in(page: Page, name: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("#version")).to_be_visible()


def _fits(tab: Tab) -> None:
    """On a phone nothing is wider than the screen (no sideways scrolling of the page)."""
    if tab.width == "phone":
        wide = tab.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= WIDTHS["phone"][0], f"the page is {wide} px wide"


def _one_line(tab: Tab, selector: str) -> None:
    """Every element matching `selector` is on one line: a number never split from its unit."""
    heights = tab.page.eval_on_selector_all(
        selector,
        "els => els.map(e => [e.getClientRects().length, e.textContent])",
    )
    assert heights, selector
    for rects, text in heights:
        assert rects == 1, f"{text!r} wraps over {rects} lines"


def test_installer_commissions_the_network_and_sees_the_new_allocation_live(tab: Tab) -> None:
    page = tab.page
    page.goto("/login")
    tab.shot("login")
    sign_in(page, "ivan", INSTALLER_PASSWORD)
    if tab.width == "phone":  # a compact header: brand, sign-out and one row of links
        header = page.locator("header").bounding_box()
        assert header is not None and header["height"] <= 90, header
    tab.shot("home")
    _one_line(tab, ".num")

    page.goto("/sharing/garage-net")
    page.click("#disable")
    expect(page.locator("#network-state")).to_have_attribute("data-state", "Disabled")

    page.fill("#network-limit-a", "12")
    page.click("#save-limit")
    expect(page.locator(".error")).to_contain_text("6 A x 3")
    expect(page.locator("#network-limit-a")).to_have_value("12")  # as typed, not the old 72
    tab.shot("sharing-refused")

    page.fill("#network-limit-a", "64")
    page.click("#save-limit")
    expect(page.locator(".notice")).to_contain_text("Max network current saved.")
    expect(page.locator("#last-change")).to_contain_text("limit set to 64 A")

    page.fill("#add-id", "wc4")
    page.fill("#add-password", WC4_PASSWORD)
    page.click("#add-charger")
    expect(page.locator(".notice")).to_contain_text("Charger added to the network.")
    expect(page.locator("#last-change")).to_contain_text("charger wc4 added")
    expect(page.locator("#device-count")).to_have_text("4 / 6 Devices")
    expect(page.locator("h3", has_text="Add Wall Connector")).to_be_visible()

    page.click("#enable")
    expect(page.locator("#network-state")).to_have_attribute("data-state", "Enabled")
    # The status card follows the stream: no "Disabled" a cycle after Enable, no reload.
    expect(page.locator("#network-status")).to_have_text("Limited")
    expect(page.locator("#network-why")).to_contain_text(
        "Limited by network garage-net at its Max network current (64 A shared by 4)"
    )
    expect(page.locator("#member-wc2 .why")).to_contain_text("network garage-net")
    _one_line(tab, ".num")
    _fits(tab)
    tab.shot("sharing")

    page.goto("/live")
    expect(page.locator("#live-state")).to_have_text("live")
    # 64 A shared by four cars that each want 32 A: 16 A each, over the WebSocket.
    for cid in ("wc1", "wc2", "wc3", "wc4"):
        expect(page.locator(f"tr[data-charger={cid}] .limit")).to_have_text(f"16{NBSP}A")
    expect(page.locator("tr[data-charger=wc4] .draw")).to_have_text(f"16.0{NBSP}A")
    expect(page.locator("tr[data-charger=wc4] .kw")).to_have_text(f"3.8{NBSP}kW")
    expect(page.locator("tr[data-charger=wc4] .why")).to_contain_text("network garage-net")
    # The branch circuit has no meter: the sum of its chargers, marked as computed.
    branch = page.locator("tr[data-circuit=branch1]")
    expect(branch.locator(".amps")).to_have_text(f"16.0{NBSP}A")
    expect(branch.locator(".computed")).to_have_text("Σ chargers")
    expect(page.locator("#circuits thead th").nth(3)).to_have_text("Load vs limit")
    _one_line(tab, "#chargers-live .limit, #chargers-live .draw, #circuits .amps")
    _fits(tab)
    tab.shot("live")

    page.goto("/chargers/wc4")
    expect(page.locator("#draw")).to_have_text(f"16{NBSP}A / 16{NBSP}A")
    expect(page.locator("#max-output")).to_have_text(f"32{NBSP}A")
    expect(page.locator("#why")).to_contain_text("network garage-net")
    expect(page.locator("#firmware")).to_have_text("1.0.0-sim")  # what the unit reports
    expect(page.locator("#serial")).to_have_text("SIM-wc4")
    tab.shot("charger")

    page.goto("/pcs")
    expect(page.locator("#conductor-limit-a")).to_have_count(0)  # no conductor meter here
    page.fill("#license-number", "EC-4711")
    page.click("#verify-license")
    expect(page.locator(".notice")).to_contain_text("License number accepted")
    page.fill("#panel-limit-a", "250")
    page.click("#save-pcs")
    expect(page.locator(".error")).to_have_text("Panel Limit 250 A: allowed 10-200 A")
    expect(page.locator("#panel-limit-a")).to_have_value("250")
    page.fill("#panel-limit-a", "100")
    page.fill("#export-limit-a", "20")
    page.click("#save-pcs")
    expect(page.locator("#last-change")).to_contain_text("Site Export Limit")
    page.click("#save-pcs")  # the same values again: nothing changes, nothing recorded
    expect(page.locator(".notice")).to_contain_text("PCS limits unchanged")
    page.fill("#panel-limit-a", "90")
    page.click("#save-pcs")
    expect(page.locator(".notice")).to_contain_text("PCS limits saved.")
    expect(page.locator("#last-change")).to_contain_text("PCS: Panel Limit 100 A -> 90 A")
    expect(page.locator("#last-change")).to_contain_text("license EC-4711")
    _fits(tab)
    tab.shot("pcs")

    page.goto("/events")
    expect(page.locator("#history")).to_contain_text("EC-4711")
    expect(page.locator("#history")).not_to_contain_text("no change")
    _fits(tab)
    if tab.width == "phone":  # Who and License are on the screen, not cut off
        for cell in ("#history tbody tr:first-child .who-cell", "#history .license >> nth=0"):
            box = page.locator(cell).bounding_box()
            assert box is not None and box["x"] + box["width"] <= WIDTHS["phone"][0], cell
    tab.shot("events")
    page.goto("/access")
    tab.shot("access")


def test_the_event_log_pages_filters_and_shows_an_alert_as_one_row(tab: Tab, site: Site) -> None:
    storage = site.server.service.storage
    storage.add_event(1000.0, "alert", "meter garage lost", severity="critical",
                      code="meter_lost", device="garage")  # fmt: skip
    storage.add_event(1192.0, "alert_cleared", "cleared: meter garage lost",
                      code="meter_lost", device="garage")  # fmt: skip
    for i in range(60):
        storage.add_event(2000.0 + i, "auth", f"ivan signed in from 192.0.2.{i} (test)", who="ivan")
    page = tab.page
    sign_in(page, "olive", OWNER_PASSWORD)
    page.goto("/events?show=alerts")
    # The live site raises alerts of its own as it runs: look at this one.
    row = page.locator("#events tr[data-duration]", has_text="meter garage lost")
    expect(row).to_have_count(1)  # start and clear: one row
    expect(row).to_contain_text(f"(3{NBSP}min 12{NBSP}s)")
    expect(page.locator("#events tr[data-kind=auth]")).to_have_count(0)
    page.click("#filters a[data-filter=sign-ins]")
    expect(page.locator("#events tbody tr")).to_have_count(50)
    expect(page.locator("#events")).to_contain_text("192.0.2.59")
    page.click("#older")
    expect(page.locator("#events")).not_to_contain_text("192.0.2.59")
    expect(page.locator("#events")).to_contain_text("192.0.2.0 ")
    _fits(tab)
    page.goto("/events")
    tab.shot("events-alerts")


def test_an_owner_sees_pcs_read_only_and_disabled_controls(tab: Tab) -> None:
    page = tab.page
    sign_in(page, "olive", OWNER_PASSWORD)
    page.click("header nav a[href='/pcs']")  # offered in the navigation, and it opens
    expect(page.locator("#read-only")).to_contain_text("qualified personnel")
    expect(page.locator("#panel-limit-a")).to_be_disabled()
    expect(page.locator("#panel-limit-a")).to_have_value("100")
    expect(page.locator("#license-number")).to_have_count(0)
    tab.shot("pcs-owner")
    page.goto("/sharing/garage-net")
    expect(page.locator("#disable")).to_be_disabled()
    expect(page.locator("#disable")).to_have_attribute("title", "only an installer may change "
                                                       "power sharing settings")  # fmt: skip
    expect(page.locator("#members .remove").first).to_be_disabled()
    tab.shot("sharing-owner")


def test_unknown_pages_and_bad_forms_are_pages_not_json(tab: Tab) -> None:
    page = tab.page
    sign_in(page, "ivan", INSTALLER_PASSWORD)
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.locator("#error-title")).to_have_text("Not found")
    expect(page.locator("header nav")).to_be_visible()
    tab.shot("not-found")
    page.goto("/chargers/nope")
    expect(page.locator("#error-reason")).to_contain_text("Unknown charger 'nope'")
    # A form without its field (a stale page, a hand-made post): the page, not a 422 dump.
    page.goto("/sharing/garage-net")
    page.evaluate(
        "() => { const f = document.querySelector('form[action$=\"/remove\"]');"
        " f.querySelector('[name=charger_id]').remove(); f.submit(); }"
    )
    expect(page.locator("#error-title")).to_have_text("The form was refused")
    expect(page.locator("#error-reason")).to_contain_text("charger_id")
    assert "detail" not in page.content()
    api = page.request.get("/api/nope")
    assert api.status == 404 and api.json() == {"detail": "Not Found"}


def test_a_car_held_by_a_full_circuit_says_so_live(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(page, "ivan", INSTALLER_PASSWORD)
    page.goto("/sharing/garage-net")
    # wc4, outside the network, shares the garage circuit: the circuit binds, not 72 A.
    expect(page.locator("#member-wc2 .why")).to_have_text(
        f"Limited by circuit garage at its limit (80{NBSP}A)"
    )
    site.world.loads_a["garage"] = 40.0  # the garage circuit fills up with other loads
    expect(page.locator("#member-wc2 .why")).to_contain_text(
        f"circuit garage at its limit (80{NBSP}A, other loads 40"
    )
    page.goto("/")
    expect(page.locator("#network-card-garage-net .why")).to_contain_text("circuit garage")
    tab.shot("home-limited")


def test_signing_out_in_one_tab_ends_the_live_view_in_another(tab: Tab) -> None:
    page = tab.page
    sign_in(page, "olive", OWNER_PASSWORD)
    page.goto("/live")
    expect(page.locator("#live-state")).to_have_text("live")
    other = page.context.new_page()
    other.goto("/access")
    other.click("header form.signout button[type=submit]")
    expect(other.locator("input[name=password]")).to_be_visible()
    expect(page.locator("#live-state")).to_have_text("signed out")


def test_a_token_is_made_listed_and_revoked_on_the_access_page(tab: Tab) -> None:
    page = tab.page
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
