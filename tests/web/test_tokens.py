"""API tokens with names and expiries, sessions that end: sign-out, new passwords, removal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from panelpilot.service.accounts import DAY_S, AccountError
from panelpilot.web.auth import SESSION_COOKIE
from tests.web.helpers import (
    INSTALLER_PASSWORD,
    OWNER_PASSWORD,
    Harness,
    bearer,
    client_for,
    harness,
    sign_in,
    token_for,
)


def _ok(client: TestClient, token: str) -> int:
    status: int = client.get("/api/networks", headers=bearer(token)).status_code
    return status


def _page_token(client: TestClient, csrf: str, name: str, days: str = "90") -> str:
    page = client.post("/access/tokens", data={"csrf": csrf, "name": name, "days": days}).text
    found = re.search(r'<code id="token">([^<]+)</code>', page)
    assert found, page
    return found.group(1)


def test_a_token_stops_working_when_it_expires(tmp_path: Path) -> None:
    h = harness(tmp_path)
    api = client_for(h)
    token = token_for(h, "olive", OWNER_PASSWORD, days=1)
    assert _ok(api, token) == 200
    h.clock.advance(DAY_S)
    assert _ok(api, token) == 401
    listed = h.service.accounts.tokens("olive")
    assert [t.expired(h.clock.wall_s()) for t in listed] == [True]


def test_a_token_lasts_ninety_days_unless_told_and_a_year_at_most(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "olive", OWNER_PASSWORD)
    _page_token(client, csrf, "home-assistant")
    (made,) = h.service.accounts.tokens("olive")
    assert made.expires_s - made.created_s == 90 * DAY_S
    for days in ("366", "0", "ten", "1e3", "-5", "٣"):
        refused = client.post("/access/tokens", data={"csrf": csrf, "name": "x", "days": days})
        assert refused.status_code == 422, days
        assert "Expires after (days)" in refused.text
    blank = client.post("/access/tokens", data={"csrf": csrf, "name": "  ", "days": "30"})
    assert blank.status_code == 422 and "name has 1 to 64 characters" in blank.text
    with pytest.raises(AccountError, match="1 to 365 days"):
        token_for(h, "olive", OWNER_PASSWORD, days=366)


def test_tokens_are_listed_and_revoked_on_the_access_page(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "olive", OWNER_PASSWORD)
    kept = _page_token(client, csrf, "grafana")
    gone = _page_token(client, csrf, "home-assistant", days="7")
    page = client.get("/access").text
    assert page.count('class="revoke"') == 2 and "grafana" in page and "home-assistant" in page
    assert gone not in page and kept not in page  # secrets are shown once, never listed
    (ha,) = [t for t in h.service.accounts.tokens("olive") if t.name == "home-assistant"]
    revoked = client.post(f"/access/tokens/{ha.id}/revoke", data={"csrf": csrf})
    assert "API token revoked: it no longer works." in revoked.text
    assert (_ok(client_for(h), gone), _ok(client_for(h), kept)) == (401, 200)
    # Someone else's token cannot be revoked from this account.
    other = token_for(h, "ivan", INSTALLER_PASSWORD)
    (theirs,) = h.service.accounts.tokens("ivan")
    refused = client.post(f"/access/tokens/{theirs.id}/revoke", data={"csrf": csrf})
    assert refused.status_code == 404 and _ok(client_for(h), other) == 200
    forged = client.post(f"/access/tokens/{theirs.id}/revoke", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert (
        client.post("/access/tokens/99999999999999999999/revoke", data={"csrf": csrf}).status_code
        == 422
    )


def test_sign_out_ends_the_session_on_the_server(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "olive", OWNER_PASSWORD)
    cookie = client.cookies[SESSION_COOKIE]
    client.post("/logout", data={"csrf": csrf})
    replay = client_for(h)
    replay.cookies.set(SESSION_COOKIE, cookie)
    assert replay.get("/", follow_redirects=False).status_code == 303
    assert replay.get("/api/networks").status_code == 401


def _signed_in_with_a_token(h: Harness) -> tuple[TestClient, str]:
    client = client_for(h)
    sign_in(client, "ivan", INSTALLER_PASSWORD)
    return client, token_for(h, "ivan", INSTALLER_PASSWORD)


def test_a_new_password_ends_the_users_sessions_and_tokens(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client, token = _signed_in_with_a_token(h)
    olive_token = token_for(h, "olive", OWNER_PASSWORD)
    h.service.accounts.add_user("ivan", "installer", "a-new-password", h.clock.wall_s())
    assert client.get("/", follow_redirects=False).status_code == 303
    assert _ok(client_for(h), token) == 401
    assert _ok(client_for(h), olive_token) == 200  # other users keep theirs
    assert sign_in(client_for(h), "ivan", "a-new-password")


def test_removing_a_user_ends_their_sessions_and_tokens_but_not_the_last_owner(
    tmp_path: Path,
) -> None:
    h = harness(tmp_path)
    client, token = _signed_in_with_a_token(h)
    h.service.accounts.remove_user("ivan")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert _ok(client_for(h), token) == 401
    assert h.service.accounts.tokens("ivan") == []
    with pytest.raises(AccountError, match="only owner"):
        h.service.accounts.remove_user("olive")
    with pytest.raises(AccountError, match="no user"):
        h.service.accounts.remove_user("nobody")


def test_the_live_stream_closes_when_its_session_signs_out(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "olive", OWNER_PASSWORD)
    with client.websocket_connect("/api/stream") as ws:
        ws.receive_json()
        client.post("/logout", data={"csrf": csrf})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()  # no cycle has run since: the sign-out alone closes it
    assert closed.value.code == 4401


def test_the_live_stream_of_a_revoked_token_closes_at_the_next_cycle(tmp_path: Path) -> None:
    h = harness(tmp_path)
    token = token_for(h, "olive", OWNER_PASSWORD)
    with client_for(h).websocket_connect(f"/api/stream?token={token}") as ws:
        ws.receive_json()
        h.cycles(1)
        ws.receive_json()
        (record,) = h.service.accounts.tokens("olive")
        h.service.accounts.revoke_token(record.id)  # e.g. `panelpilot tokens revoke` elsewhere
        h.cycles(1)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401
