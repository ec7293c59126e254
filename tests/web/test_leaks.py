"""Nothing leaks: metrics, docs and the spec for signed-in users; Secure cookies behind HTTPS."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from panelpilot.web import create_app
from panelpilot.web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from panelpilot.web.options import WebOptions
from panelpilot.web.pages.signin import safe_next
from tests.web.helpers import (
    INSTALLER_PASSWORD,
    OWNER_PASSWORD,
    STRANGER,
    bearer,
    client_for,
    csrf_of,
    harness,
    sign_in,
    token_for,
)

PROXY = WebOptions(behind_https_proxy=True)


def test_metrics_need_a_token_and_loopback_sees_no_device(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.cycles(2)
    stranger = client_for(h, STRANGER).get("/metrics")
    assert stranger.status_code == 401 and "panelpilot_" not in stranger.text
    local = client_for(h, "127.0.0.1").get("/metrics")
    assert local.status_code == 200
    assert "panelpilot_cycles_total 3.0" in local.text
    assert "{" not in local.text  # no labels: no charger, circuit or device
    full = client_for(h, STRANGER).get(
        "/metrics", headers=bearer(token_for(h, "olive", OWNER_PASSWORD))
    )
    assert 'panelpilot_charger_current_amps{charger="wc1"}' in full.text


def test_behind_the_proxy_loopback_means_the_proxys_client_not_the_proxy(tmp_path: Path) -> None:
    h = harness(tmp_path)
    via_proxy = client_for(h, "127.0.0.1", options=PROXY)
    assert via_proxy.get("/metrics", headers={"X-Forwarded-For": STRANGER}).status_code == 401
    assert via_proxy.get("/metrics").status_code == 401  # not passed on by the proxy
    local = via_proxy.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert local.status_code == 200


def test_the_throttle_sees_the_address_the_proxy_reports(tmp_path: Path) -> None:
    h = harness(tmp_path)
    app = create_app(h.service, PROXY)
    guesser = client_for(h, "127.0.0.1", PROXY, app)
    user = client_for(h, "127.0.0.1", PROXY, app)
    guesser.headers["X-Forwarded-For"] = f"10.9.9.9, {STRANGER}"  # the first is made up
    user.headers["X-Forwarded-For"] = "192.0.2.10"
    for _ in range(6):
        page = guesser.get("/login")
        guesser.post(
            "/login", data={"name": "ivan", "password": "guess", "csrf": csrf_of(page.text)}
        )
    assert h.service.storage.events()[0].message.endswith(f"from {STRANGER}")
    assert sign_in(user, "ivan", INSTALLER_PASSWORD)


def test_the_docs_and_the_spec_are_for_signed_in_users(tmp_path: Path) -> None:
    h = harness(tmp_path)
    stranger = client_for(h, STRANGER)
    assert stranger.get("/openapi.json").status_code == 401
    docs = stranger.get("/docs", follow_redirects=False)
    assert (docs.status_code, docs.headers["location"]) == (303, "/login?next=/docs")
    assert stranger.get("/redoc").status_code == 404
    browser = client_for(h)
    sign_in(browser, "olive", OWNER_PASSWORD)
    assert "swagger-ui" in browser.get("/docs").text
    assert "/api/networks" in browser.get("/openapi.json").json()["paths"]


def _cookie_headers(client: TestClient) -> list[str]:
    page = client.get("/login")
    signed_in = client.post(
        "/login",
        data={"name": "olive", "password": OWNER_PASSWORD, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    headers: list[str] = [*page.headers.get_list("set-cookie")]
    headers += signed_in.headers.get_list("set-cookie")
    return headers


def test_cookies_are_secure_behind_the_https_proxy_or_over_https(tmp_path: Path) -> None:
    h = harness(tmp_path)
    plain = _cookie_headers(client_for(h))
    assert not any("Secure" in c for c in plain)
    for client in (
        client_for(h, options=PROXY),
        TestClient(create_app(h.service), base_url="https://panel.example"),
    ):
        cookies = _cookie_headers(client)
        for name in (LOGIN_CSRF_COOKIE, SESSION_COOKIE):
            (header,) = [c for c in cookies if c.startswith(f"{name}=") and "Max-Age=0" not in c]
            assert "; Secure" in header and "HttpOnly" in header and "SameSite=strict" in header


@given(st.text(max_size=300))
def test_after_sign_in_only_a_plain_local_path_is_followed(path: str) -> None:
    followed = safe_next(path)
    assert followed in (path, "/")
    assert followed.startswith("/") and not followed.startswith("//")
    assert all(c.isascii() and (c.isalnum() or c in "._~/-") for c in followed)


def test_the_sign_in_page_keeps_no_text_of_a_links_choosing(tmp_path: Path) -> None:
    page = client_for(harness(tmp_path)).get("/login", params={"next": '/x" onfocus="y'}).text
    assert 'name="next" value="/"' in page and "onfocus" not in page
