"""The REST API, the live stream and the metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.web.helpers import (
    INSTALLER_PASSWORD,
    OWNER_PASSWORD,
    WC4_PASSWORD,
    bearer,
    client_for,
    harness,
    sign_in,
    token_for,
)


def _token(client: TestClient, csrf: str) -> str:
    page = client.post("/access/tokens", data={"csrf": csrf, "name": "ha"}).text
    found = re.search(r'<code id="token">([^<]+)</code>', page)
    assert found
    return found.group(1)


def test_reads_and_writes_need_a_user(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    assert client.get("/api/networks").status_code == 401
    assert client.patch("/api/networks/garage-net", json={"enabled": False}).status_code == 401
    assert client.get("/api/site", headers={"Authorization": "Bearer pp_nope"}).status_code == 401


def test_a_session_cookie_alone_cannot_write_without_the_csrf_header(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    body = {"enabled": False}
    assert client.patch("/api/networks/garage-net", json=body).status_code == 403
    ok = client.patch("/api/networks/garage-net", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["enabled"] is False


def test_an_installer_token_commissions_a_network(tmp_path: Path) -> None:
    h = harness(tmp_path)
    browser = client_for(h)
    token = _token(browser, sign_in(browser, "ivan", INSTALLER_PASSWORD))
    api = client_for(h)
    auth = {"Authorization": f"Bearer {token}"}
    assert api.patch("/api/networks/garage-net", json={"enabled": False}, headers=auth).is_success
    low = api.patch("/api/networks/garage-net", json={"network_limit_a": 10}, headers=auth)
    assert low.status_code == 422 and "6 A x 3" in low.json()["detail"]
    add = api.post(
        "/api/networks/garage-net/chargers",
        json={"charger_id": "wc4", "password": WC4_PASSWORD},
        headers=auth,
    )
    assert add.status_code == 200, add.text
    both = api.patch(
        "/api/networks/garage-net", json={"network_limit_a": 64, "enabled": True}, headers=auth
    )
    assert both.status_code == 200
    assert (both.json()["size"], both.json()["network_limit_a"]) == (4, 64)
    gone = api.delete("/api/networks/garage-net/chargers/wc4", headers=auth)
    assert gone.status_code == 422  # enabled again: the settings lock
    history = api.get("/api/settings", headers=auth).json()["history"]
    assert [v["who"] for v in history] == ["ivan"] * 4
    assert api.get("/api/networks/nope", headers=auth).status_code == 404


def test_pcs_over_the_api_needs_a_license_number(tmp_path: Path) -> None:
    h = harness(tmp_path)
    browser = client_for(h)
    token = _token(browser, sign_in(browser, "ivan", INSTALLER_PASSWORD))
    auth = {"Authorization": f"Bearer {token}"}
    api = client_for(h)
    refused = api.put("/api/settings/pcs", json={"panel_limit_a": 90}, headers=auth)
    assert refused.status_code == 403
    ok = api.put(
        "/api/settings/pcs",
        json={"panel_limit_a": 90, "license_number": "EC-1"},
        headers=auth,
    )
    assert ok.status_code == 200 and "90" in ok.json()["summary"]


def test_an_owner_token_reads_but_cannot_change(tmp_path: Path) -> None:
    h = harness(tmp_path)
    browser = client_for(h)
    token = _token(browser, sign_in(browser, "olive", OWNER_PASSWORD))
    auth = {"Authorization": f"Bearer {token}"}
    api = client_for(h)
    assert api.get("/api/devices", headers=auth).json()["health"]["wc1"]["up"] is True
    assert api.get("/api/site", headers=auth).json()["name"] == "Test garage"
    assert api.get("/api/events", headers=auth).is_success
    assert api.get("/api/decision", headers=auth).json()["networks"]["garage-net"]
    refused = api.patch("/api/networks/garage-net", json={"enabled": False}, headers=auth)
    assert refused.status_code == 403


def test_the_stream_sends_every_cycle_to_a_signed_in_browser(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    sign_in(client, "olive", OWNER_PASSWORD)
    with client.websocket_connect("/api/stream") as ws:
        first = ws.receive_json()  # the latest cycle at once
        h.cycles(1)
        second = ws.receive_json()
    assert second["t"] > first["t"]
    assert set(second["chargers"]) == {"wc1", "wc2", "wc3", "wc4"}


def test_the_stream_refuses_strangers(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/api/stream"):
        pass
    assert refused.value.code == 4401


def test_metrics_with_a_token_are_in_prometheus_format(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.cycles(2)
    auth = bearer(token_for(h, "olive", OWNER_PASSWORD))
    text = client_for(h).get("/metrics", headers=auth).text
    assert "panelpilot_cycles_total 3.0" in text
    assert 'panelpilot_circuit_limit_amps{circuit="garage"} 80.0' in text
    assert 'panelpilot_charger_current_amps{charger="wc1"}' in text


def test_openapi_lists_the_api(tmp_path: Path) -> None:
    h = harness(tmp_path)
    auth = bearer(token_for(h, "olive", OWNER_PASSWORD))
    spec = client_for(h).get("/openapi.json", headers=auth).json()
    assert {"/api/site", "/api/devices", "/api/networks", "/api/settings", "/api/events"} <= set(
        spec["paths"]
    )


def test_the_stream_refuses_another_sites_page(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    sign_in(client, "olive", OWNER_PASSWORD)
    headers = {"origin": "http://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/api/stream", headers=headers),
    ):
        pass
    assert refused.value.code == 4403
