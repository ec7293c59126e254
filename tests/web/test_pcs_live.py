"""The Live page's Power Control System rows (issue 15): the panel current against the
Panel Limit with its stage marks, and each battery's and inverter's output against its cap."""

from __future__ import annotations

import re
from pathlib import Path

from panelpilot.service.demo import demo_site
from panelpilot.site.model import Pcs
from tests.web.helpers import OWNER_PASSWORD, client_for, harness, sign_in


def _row(html: str, attr: str, key: str) -> str:
    found = re.search(rf'<tr {attr}="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert found, f"no row {attr}={key}"
    return found.group(1)


def test_live_shows_the_panel_current_against_the_panel_limit_and_the_sources(
    tmp_path: Path,
) -> None:
    h = harness(tmp_path, demo_site())  # 100 A Panel Limit on the service; pw1 48 A, pv1 40 A
    h.world.loads_a["service"] = 30.0
    h.world.solar["pv1"].available_a = 25.0
    h.world.batteries["pw1"].soc = 0.8
    h.cycles(3)
    panel = h.service.reads.panel()
    assert panel.current_a is not None
    client = client_for(h)
    sign_in(client, "olive", OWNER_PASSWORD)
    live = client.get("/live").text
    row = _row(live, "data-pcs-limit", "Panel Limit (service)")
    # The same sum the Panel Limit acts on: the site meter (>= 0) + solar + battery output.
    assert f"{panel.current_a:.1f}&nbsp;A" in row
    assert "100&nbsp;A" in row and "24.0&nbsp;kW" in row  # the limit, in A and kW at 240 V
    assert "left: 90.0%" in row and "left: 95.0%" in row  # the stage marks
    battery = _row(live, "data-pcs-source", "pw1")
    solar = _row(live, "data-pcs-source", "pv1")
    decision = h.service.reads.devices()
    pw1, pv1 = decision.batteries["pw1"], decision.solar["pv1"]
    assert pw1 is not None and pv1 is not None
    assert f"{pw1.max_discharge_a:g}&nbsp;A" in battery and "48&nbsp;A" in battery
    assert f"{pv1.max_a:g}&nbsp;A" in solar
    assert pv1.current_a is not None and f"{pv1.current_a:.1f}&nbsp;A" in solar


def test_live_has_no_pcs_section_on_a_site_without_pcs(tmp_path: Path) -> None:
    site = demo_site()
    bare = site.model_copy(update={"batteries": (), "solar": (), "pcs": Pcs()})
    client = client_for(harness(tmp_path, bare))
    sign_in(client, "olive", OWNER_PASSWORD)
    assert "Power Control System" not in client.get("/live").text
