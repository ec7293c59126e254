"""The Power Sharing page and the API refuse a network limit above its circuit (issue 11)."""

from __future__ import annotations

from pathlib import Path

from tests.web.helpers import INSTALLER_PASSWORD, client_for, harness, sign_in


def test_the_page_refuses_a_network_limit_above_the_garage_circuit(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    client.post("/sharing/garage-net/state", data={"csrf": csrf, "enabled": "false"})
    page = client.post("/sharing/garage-net/limit", data={"csrf": csrf, "network_limit_a": "9999"})
    assert page.status_code == 422
    assert "9999 A is above the 80 A limit of circuit garage" in page.text
    assert "up to 80 A, circuit garage" in page.text


def test_the_api_refuses_a_network_limit_above_the_garage_circuit(tmp_path: Path) -> None:
    client = client_for(harness(tmp_path))
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    headers = {"X-CSRF-Token": csrf}
    off = client.patch("/api/networks/garage-net", json={"enabled": False}, headers=headers)
    assert off.status_code == 200
    refused = client.patch(
        "/api/networks/garage-net", json={"network_limit_a": 9999}, headers=headers
    )
    assert refused.status_code == 422
    assert "9999 A is above the 80 A limit of circuit garage" in refused.json()["detail"]
    assert client.get("/api/networks/garage-net").json()["network_limit_a"] == 72
