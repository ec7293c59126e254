"""Strict numbers and types: NaN, infinities, overflow and coercions refused with the field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panelpilot.control.settings import SettingsError
from panelpilot.web.numbers import MAX_AMPS, form_amps
from tests.web.helpers import (
    INSTALLER_PASSWORD,
    bearer,
    client_for,
    harness,
    sign_in,
    token_for,
)

NOT_AMPS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "1_0", "0x30", "12 A", "", "-1"]


@given(st.text(max_size=40))
def test_form_amps_is_finite_in_range_or_names_the_field(text: str) -> None:
    try:
        value = form_amps("Max network current", text)
    except SettingsError as exc:
        assert str(exc).startswith("Max network current: ") and "\n" not in str(exc)
        return
    assert math.isfinite(value) and 0 <= value <= MAX_AMPS


@given(st.floats(0, MAX_AMPS))
def test_form_amps_reads_back_any_amps_it_is_given(value: float) -> None:
    assert form_amps("x", repr(value)) == value
    assert form_amps("x", f" {value:g} ") == float(f"{value:g}")


@pytest.mark.parametrize("text", NOT_AMPS)
def test_the_page_refuses_what_is_not_amps_and_names_the_field(tmp_path: Path, text: str) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    client.post("/sharing/garage-net/state", data={"csrf": csrf, "enabled": "false"})
    refused = client.post("/sharing/garage-net/limit", data={"csrf": csrf, "network_limit_a": text})
    assert refused.status_code == 422
    assert "Max network current" in refused.text and 'class="error"' in refused.text
    h.cycles(1)
    assert h.service.runtime.controller.state.networks["garage-net"].limit_a == 72


def test_the_pcs_page_refuses_non_finite_limits(tmp_path: Path) -> None:
    h = harness(tmp_path)
    client = client_for(h)
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    client.post("/pcs/license", data={"csrf": csrf, "license_number": "EC-4711"})
    for field, label in (("panel_limit_a", "Panel Limit"), ("export_limit_a", "Site Export")):
        refused = client.post("/pcs", data={"csrf": csrf, field: "inf"})
        assert refused.status_code == 422 and label in refused.text
    odd = client.post("/sharing/garage-net/state", data={"csrf": csrf, "enabled": "maybe"})
    assert odd.status_code == 422 and "network state" in odd.text
    assert h.service.runtime.site.pcs.panel_limit_a == 100


RAW_LIMITS = ["NaN", "Infinity", "-Infinity", "1e400", '"10"', "true", "-5", "[10]"]


@pytest.mark.parametrize("raw", RAW_LIMITS)
def test_the_api_answers_422_naming_the_field_for_what_is_not_amps(
    tmp_path: Path, raw: str
) -> None:
    h = harness(tmp_path)
    auth = {**bearer(token_for(h, "ivan", INSTALLER_PASSWORD)), "content-type": "application/json"}
    api = client_for(h)
    api.patch("/api/networks/garage-net", json={"enabled": False}, headers=auth)
    body = '{"network_limit_a": ' + raw + "}"
    refused = api.patch("/api/networks/garage-net", content=body, headers=auth)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("network_limit_a: ")
    assert refused.json()["errors"][0]["field"] == "network_limit_a"
    pcs = '{"panel_limit_a": ' + raw + ', "license_number": "EC-4711"}'
    refused = api.put("/api/settings/pcs", content=pcs, headers=auth)
    assert refused.status_code == 422 and "panel_limit_a" in refused.json()["detail"]
    assert api.get("/api/networks/garage-net", headers=auth).json()["network_limit_a"] == 72
    assert h.service.runtime.site.pcs.panel_limit_a == 100


@pytest.mark.parametrize("raw", ['"true"', "1", "null"])
def test_the_api_takes_only_true_or_false_for_enabled(tmp_path: Path, raw: str) -> None:
    h = harness(tmp_path)
    auth = {**bearer(token_for(h, "ivan", INSTALLER_PASSWORD)), "content-type": "application/json"}
    api = client_for(h)
    response = api.patch(
        "/api/networks/garage-net", content='{"enabled": ' + raw + "}", headers=auth
    )
    if raw == "null":  # null means: leave it as it is
        assert response.status_code == 200 and response.json()["enabled"] is True
    else:
        assert response.status_code == 422 and "enabled" in response.json()["detail"]


def test_the_api_checks_the_license_number_and_keeps_it_in_the_history(tmp_path: Path) -> None:
    h = harness(tmp_path)
    auth = bearer(token_for(h, "ivan", INSTALLER_PASSWORD))
    api = client_for(h)
    for bad in ("a", " ", ""):
        body = {"panel_limit_a": 90, "license_number": bad}
        refused = api.put("/api/settings/pcs", json=body, headers=auth)
        assert refused.status_code in (403, 422), bad
        assert "license" in refused.json()["detail"]
    body = {"panel_limit_a": 90, "license_number": " EC-4711 "}
    assert api.put("/api/settings/pcs", json=body, headers=auth).status_code == 200
    newest = api.get("/api/settings", headers=auth).json()["history"][0]
    assert (newest["who"], newest["license_number"]) == ("ivan", "EC-4711")
    assert h.service.runtime.site.pcs.panel_limit_a == 90
