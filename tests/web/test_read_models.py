"""The pages and the API read the service's read models: built once per published change,
and showing what the settings lock enforces."""

from __future__ import annotations

from pathlib import Path

from panelpilot.control.state import ControllerState
from panelpilot.control.types import Command
from panelpilot.service.access import Actor
from panelpilot.site import load_site_text
from tests.service.helpers import SITE_YAML
from tests.web.helpers import (
    INSTALLER_PASSWORD,
    OWNER_PASSWORD,
    bearer,
    client_for,
    harness,
    sign_in,
    token_for,
)

# wc1 needs 10 A to charge at all (site file `chargers[].min_a`): 10 + 6 + 6 = 22 A, not 18.
MIN_A_SITE = SITE_YAML.replace(
    "{id: wc1, circuit: garage, network: garage-net, max_a: 32}",
    "{id: wc1, circuit: garage, network: garage-net, max_a: 32, min_a: 10}",
)


def test_the_minimum_network_limit_shown_is_the_one_the_lock_enforces(tmp_path: Path) -> None:
    h = harness(tmp_path, load_site_text(MIN_A_SITE, "min-a-site.yaml"))
    client = client_for(h)
    csrf = sign_in(client, "ivan", INSTALLER_PASSWORD)
    auth = bearer(token_for(h, "ivan", INSTALLER_PASSWORD))
    assert client.get("/api/networks/garage-net", headers=auth).json()["min_limit_a"] == 22
    assert '<span id="min-limit">22&nbsp;A</span> for 3' in client.get("/sharing/garage-net").text

    client.post("/sharing/garage-net/state", data={"csrf": csrf, "enabled": "false"})
    below = client.post("/sharing/garage-net/limit", data={"csrf": csrf, "network_limit_a": "20"})
    assert below.status_code == 422 and "= 22 A" in below.text  # 6 A x 3 = 18 A would pass
    at = client.post("/sharing/garage-net/limit", data={"csrf": csrf, "network_limit_a": "22"})
    assert at.status_code == 200 and "Max network current saved." in at.text


def test_views_are_built_once_per_change_and_rebuilt_after_one(tmp_path: Path) -> None:
    h = harness(tmp_path)
    settings = h.service.settings
    copies = 0
    state_view = settings.state_view

    def counted() -> ControllerState:
        nonlocal copies
        copies += 1
        return state_view()

    settings.state_view = counted  # type: ignore[method-assign]
    client = client_for(h)
    sign_in(client, "olive", OWNER_PASSWORD)
    h.cycles(1)
    copies = 0
    for path in ("/", "/sharing/garage-net", "/live", "/chargers/wc1", "/chargers/wc2"):
        assert client.get(path).status_code == 200
    assert copies == 1  # one copy of the settings for every page of this cycle
    first = h.service.reads.network("garage-net")
    assert h.service.reads.network("garage-net") is first

    h.cycles(1)
    assert h.service.reads.network("garage-net") is not first
    assert copies == 2
    settings.change_network(Actor("ivan", "installer"), Command("garage-net", enabled=False))
    checked = copies  # the settings lock checks the change on a copy of its own
    after = h.service.reads.network("garage-net")
    assert after is not None and not after.enabled and after.status == "disabled"  # at once
    assert h.service.reads.network("garage-net") is after
    assert copies == checked + 1
