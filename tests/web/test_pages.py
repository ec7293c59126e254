"""The pages: sign-in, Power Sharing with its settings lock, PCS for qualified personnel."""

from __future__ import annotations

from pathlib import Path

import pytest

from panelpilot.site import SiteFileError, load_site_text
from panelpilot.web.options import WebOptions
from tests.service.helpers import SITE_YAML
from tests.web.helpers import (
    INSTALLER_PASSWORD,
    OWNER_PASSWORD,
    WC4_PASSWORD,
    client_for,
    csrf_of,
    harness,
    sign_in,
)


def test_pages_need_a_sign_in(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    response = client.get("/sharing/garage-net", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/sharing/garage-net"


def test_wrong_password_is_refused_and_logged(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"name": "ivan", "password": "nope-nope", "csrf": csrf_of(page.text)},
    )
    assert response.status_code == 401
    assert "Wrong name or password" in response.text
    assert any("failed sign-in" in e.message for e in h.service.storage.events())


def test_sign_in_form_needs_its_csrf_token(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    client.get("/login")
    response = client.post(
        "/login", data={"name": "ivan", "password": INSTALLER_PASSWORD, "csrf": "forged"}
    )
    assert response.status_code == 403


def test_home_shows_version_max_output_and_the_network(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    sign_in(client, "olive", OWNER_PASSWORD)
    html = client.get("/").text
    # Each charger with its own Max output current, not one for the whole site.
    assert html.count('<td class="max-output num">32&nbsp;A</td>') == 4
    assert 'Devices in network: <span class="devices num">3 / 6</span>' in html
    assert '<span class="limit num">72&nbsp;A</span>' in html


def test_installer_commissions_a_network_through_the_settings_lock(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)

    locked = client.post("/sharing/garage-net/limit", data={"csrf": csrf, "network_limit_a": "60"})
    assert locked.status_code == 422
    assert "disable it before changing its settings" in locked.text

    client.post("/sharing/garage-net/state", data={"csrf": csrf, "enabled": "false"})
    page = client.get("/sharing/garage-net").text
    assert '<span class="status" id="network-status">Disabled</span>' in page  # at once
    too_low = client.post("/sharing/garage-net/limit", data={"csrf": csrf, "network_limit_a": "12"})
    assert too_low.status_code == 422
    assert "6 A x 3" in too_low.text

    ok = client.post("/sharing/garage-net/limit", data={"csrf": csrf, "network_limit_a": "60"})
    assert ok.status_code == 200 and "Max network current saved." in ok.text
    assert "Last change: network garage-net limit set to 60 A (ivan" in ok.text

    wrong = client.post(
        "/sharing/garage-net/add", data={"csrf": csrf, "charger_id": "wc4", "password": "x"}
    )
    assert wrong.status_code == 422 and "wrong password" in wrong.text
    added = client.post(
        "/sharing/garage-net/add",
        data={"csrf": csrf, "qr": f"WIFI:T:WPA;S:wc4;P:{WC4_PASSWORD};;"},
    )
    assert "Charger added to the network." in added.text
    assert "charger wc4 added" in added.text  # the last change, from the settings history
    # The network's maximum size (six Gen 3 Wall Connectors), not the site file's count.
    assert "Add Wall Connector <span" in added.text and "4 / 6 Devices" in added.text

    client.post("/sharing/garage-net/state", data={"csrf": csrf, "enabled": "true"})
    h.cycles(3)
    state = h.service.runtime.controller.state.networks["garage-net"]
    assert (state.enabled, state.limit_a, state.members) == (
        True,
        60.0,
        ("wc1", "wc2", "wc3", "wc4"),
    )
    history = h.service.storage.setting_history()
    assert {v.who for v in history} == {"ivan"}
    assert history[0].new["enabled"] is True


def test_forms_without_the_session_csrf_token_are_refused(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    sign_in(client, "ivan", INSTALLER_PASSWORD)
    response = client.post("/sharing/garage-net/state", data={"csrf": "x", "enabled": "false"})
    assert response.status_code == 403


def test_an_owner_sees_the_pcs_settings_read_only_and_cannot_change_them(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "olive", OWNER_PASSWORD)
    response = client.get("/pcs")
    assert response.status_code == 200
    assert 'id="read-only"' in response.text and "qualified personnel" in response.text
    assert "<fieldset disabled>" in response.text and 'value="100"' in response.text
    assert 'id="license-number"' not in response.text  # an owner enters no license
    posted = client.post("/pcs", data={"csrf": csrf, "panel_limit_a": "90"})
    assert posted.status_code == 422 and "qualified personnel" in posted.text
    assert h.service.runtime.site.pcs.panel_limit_a == 100
    network = client.get("/sharing/garage-net").text
    # Disable and Remove are shown disabled, saying why, rather than failing after a click.
    assert 'id="disable"' in network and network.count('title="only an installer') == 5
    refused = client.post("/sharing/garage-net/state", data={"csrf": csrf, "enabled": "false"})
    assert refused.status_code == 422
    assert "only an installer" in refused.text


def test_pcs_needs_a_license_number_that_lasts_until_sign_out(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    first = client.get("/pcs").text
    assert "License number" in first and "<fieldset disabled>" in first
    refused = client.post("/pcs", data={"csrf": csrf, "panel_limit_a": "120"})
    assert refused.status_code == 422 and "license number" in refused.text

    client.post("/pcs/license", data={"csrf": csrf, "license_number": "EC-4711"})
    out_of_range = client.post("/pcs", data={"csrf": csrf, "panel_limit_a": "250"})
    assert out_of_range.status_code == 422 and "200" in out_of_range.text
    ok = client.post("/pcs", data={"csrf": csrf, "panel_limit_a": "120"})
    assert ok.status_code == 200
    assert h.service.runtime.site.pcs.panel_limit_a == 120
    cleared = client.post("/pcs", data={"csrf": csrf, "panel_limit_a": ""})
    assert cleared.status_code == 200
    assert h.service.runtime.site.pcs.panel_limit_a is None
    newest = h.service.storage.setting_history("pcs")[0]
    assert (newest.who, newest.license_number) == ("ivan", "EC-4711")

    client.post("/logout", data={"csrf": csrf})
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    assert "<fieldset disabled>" in client.get("/pcs").text


def test_charger_live_and_event_pages_render(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.world.chargers["wc1"].car_wants_a = 32
    h.cycles(5)
    client = client_for(h)
    sign_in(client, "olive", OWNER_PASSWORD)
    charger = client.get("/chargers/wc1").text
    assert "Controlled by: panelpilot, network garage-net" in charger
    assert 'Status: <span id="status">Charging</span>' in charger
    assert client.get("/chargers/nope").status_code == 404
    live = client.get("/live").text
    assert 'Firmware: <span id="firmware">1.0.0-sim</span>' in charger
    assert 'Serial number: <span id="serial">SIM-wc1</span>' in charger
    assert 'data-circuit="garage"' in live and 'data-charger="wc4"' in live
    assert "signed in" in client.get("/events").text


def test_a_notice_comes_from_a_fixed_table_never_from_the_query_string(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    sign_in(client, "olive", OWNER_PASSWORD)
    faked = client.get("/sharing/garage-net", params={"done": "Call 555-0100 for support"}).text
    assert "555-0100" not in faked and 'class="notice"' not in faked
    coded = client.get("/sharing/garage-net", params={"done": "disabled"}).text
    assert "Power sharing disabled: every charger runs at its fallback limit." in coded


def test_a_license_number_must_look_like_one_and_is_kept_in_the_history(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    for bad in ("a", " ", "   ", "no-digits", "x" * 40 + "1"):
        refused = client.post("/pcs/license", data={"csrf": csrf, "license_number": bad})
        assert refused.status_code == 422, bad
        assert "license number" in refused.text
    assert "<fieldset disabled>" in client.get("/pcs").text
    client.post("/pcs/license", data={"csrf": csrf, "license_number": "  C-10 123456 "})
    client.post("/pcs", data={"csrf": csrf, "panel_limit_a": "120"})
    newest = h.service.storage.setting_history("pcs")[0]
    assert newest.license_number == "C-10 123456"
    assert "license C-10 123456" in client.get("/pcs").text


def test_a_configured_license_pattern_is_the_one_checked(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h, options=WebOptions(license_pattern=r"CA-[0-9]{6}"))
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    refused = client.post("/pcs/license", data={"csrf": csrf, "license_number": "EC-4711"})
    assert refused.status_code == 422 and "CA-[0-9]{6}" in refused.text
    ok = client.post("/pcs/license", data={"csrf": csrf, "license_number": "CA-123456"})
    assert ok.status_code == 200 and "License number accepted" in ok.text


def test_a_charger_that_does_not_say_its_serial_number_shows_unknown(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.world.chargers["wc2"].serial_number = None
    h.world.chargers["wc2"].firmware = None
    h.cycles(1)
    client = client_for(h)
    sign_in(client, "olive", OWNER_PASSWORD)
    page = client.get("/chargers/wc2").text
    assert 'Firmware: <span id="firmware">Unknown</span>' in page
    assert 'Serial number: <span id="serial">Unknown</span>' in page
    view = h.service.reads.charger("wc1")
    assert view is not None and view.serial_number == "SIM-wc1"  # the API's record too


def test_a_network_at_its_max_size_refuses_one_more_in_the_seeds_words(tmp_path: Path) -> None:
    site = load_site_text(
        SITE_YAML.replace(
            "{id: garage-net, circuit: garage, network_limit_a: 72}",
            "{id: garage-net, circuit: garage, network_limit_a: 72, max_size: 3}",
        ),
        "site.yaml",
    )
    h = harness(tmp_path, site)
    client = client_for(h)
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    client.post("/sharing/garage-net/state", data={"csrf": csrf, "enabled": "false"})
    page = client.get("/sharing/garage-net").text
    assert "3 / 3 Devices" in page  # the network's max_size, not the default six
    full = client.post(
        "/sharing/garage-net/add",
        data={"csrf": csrf, "qr": f"WIFI:T:WPA;S:wc4;P:{WC4_PASSWORD};;"},
    )
    assert full.status_code == 422
    assert (
        "network garage-net is full: 3 / 3 Devices; remove a charger first, or raise the "
        "network&#39;s max_size in the site file (Gen 3 Wall Connectors: at most 6)"
    ) in full.text
    assert "wc4" not in h.service.settings.network("garage-net").members


def test_a_site_file_with_more_members_than_max_size_names_the_field() -> None:
    with pytest.raises(SiteFileError) as info:
        load_site_text(
            SITE_YAML.replace(
                "{id: garage-net, circuit: garage, network_limit_a: 72}",
                "{id: garage-net, circuit: garage, network_limit_a: 72, max_size: 2}",
            ),
            "site.yaml",
        )
    assert "networks[0].max_size: 3 chargers are in network garage-net, above its max_size 2" in (
        str(info.value)
    )
