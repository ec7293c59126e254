"""The helpful numbers, with the seeds' own examples."""

from __future__ import annotations

import pytest

from panelpilot.design.arithmetic import (
    allowed_backfeed_breaker_a,
    allowed_supply_a,
    conductor_limit_for_ocpd,
    continuous_a,
    fallback_a,
    fault_rating,
    parse_version,
    required_ocpd_a,
    suggested_panel_limit_a,
)
from panelpilot.design.checker import check_design
from panelpilot.design.computed import computed
from panelpilot.design.findings import Design
from tests.design.conftest import build, check, computed_item, computed_items, put


def test_120_percent_rule_on_a_200_a_panel_with_a_200_a_main() -> None:
    # conductor-limit Example 2 / panel-limit Example: 240 A of supply, a 40 A breaker, 32 A.
    assert allowed_supply_a(200) == pytest.approx(240)
    assert allowed_backfeed_breaker_a(200, 200) == pytest.approx(40)
    assert continuous_a(allowed_backfeed_breaker_a(200, 200)) == pytest.approx(32)


def test_conductor_limit_for_a_40_a_ocpd_is_32_a() -> None:
    assert conductor_limit_for_ocpd(40) == pytest.approx(32)


def test_suggested_panel_limit_for_a_200_a_panel_is_160_a() -> None:
    assert suggested_panel_limit_a(200) == pytest.approx(160)
    assert suggested_panel_limit_a(400) == pytest.approx(200)  # never above 200 A
    assert suggested_panel_limit_a(10) == pytest.approx(10)  # never below 10 A
    assert suggested_panel_limit_a(200, (125,)) == pytest.approx(125)  # controlled panel


@pytest.mark.parametrize(
    ("setting_a", "boost", "breaker_a"),
    [(48, False, 60), (41.7, False, 60), (31.7, False, 40), (24, False, 30), (48, True, 80)],
)
def test_table_1_breaker_for_each_output_option(
    setting_a: float, boost: bool, breaker_a: float
) -> None:
    assert required_ocpd_a(setting_a, boost) == breaker_a


def test_an_unlisted_output_setting_has_no_breaker() -> None:
    assert required_ocpd_a(40, False) is None


@pytest.mark.parametrize(
    ("relay", "j_fuse", "family", "interrupting_ka", "rating_ka"),
    [
        ("backup-gateway-2", False, None, None, 10),
        ("backup-gateway-2", True, None, None, 22),
        ("backup-switch", False, "other", 10, 10),
        ("backup-switch", False, "other", 22, 22),
        ("gateway-3", False, "eaton-csr", None, 25),
        ("gateway-3", False, "eaton-bwh", None, 25),
        ("gateway-3", False, "square-d-qo", None, 22),
        ("gateway-3", False, "other", 65, 10),
        ("other", False, None, None, 10),
    ],
)
def test_fault_current_rating_per_relay_and_main_breaker(
    relay: str, j_fuse: bool, family: str | None, interrupting_ka: float | None, rating_ka: float
) -> None:
    assert fault_rating(relay, j_fuse, family, interrupting_ka).rating_ka == rating_ka


def test_fallback_limit_is_network_limit_over_size_within_the_unit() -> None:
    assert fallback_a(150, 4, 6, 40) == pytest.approx(37.5)  # leader page
    assert fallback_a(110, 3, 6, 40) == pytest.approx(110 / 3)  # follower page
    assert fallback_a(30, 7, 6, 32) == 6  # bounded below by 6 A
    assert fallback_a(200, 2, 6, 48) == 48  # bounded above by the unit's max


def test_firmware_versions_parse_like_the_seed_pages_show_them() -> None:
    assert parse_version("21.55.2 (0)") == (21, 55, 2)
    assert parse_version("21.18.0") >= (21, 18, 0)  # type: ignore[operator]
    assert parse_version("beta") is None


def test_computed_values_of_the_seed_panel_limit_example() -> None:
    values = computed(Design(build("home-panel-limit.yaml"), None))
    assert isinstance(values["panels"], list)
    panels = {p["id"]: p for p in values["panels"]}
    main = panels["main-panel"]
    assert main["allowed_backfeed_breaker_a"] == pytest.approx(40)
    assert main["allowed_backfeed_continuous_a"] == pytest.approx(32)
    assert main["suggested_panel_limit_a"] == pytest.approx(160)
    assert "200 A x 1.2 - 200 A main = 40 A breaker" in main["backfeed_arithmetic"]


def test_computed_values_name_breakers_conductor_limit_and_fallbacks() -> None:
    report = check("pw3-home.yaml")
    assert [b["required_ocpd_a"] for b in computed_items(report, "batteries")] == [60, 40]
    assert computed_item(report, "fault_current")["rating_ka"] == 25
    assert computed_items(report, "networks")[0]["fallback_a"] == {"wc1": 40, "wc2": 40}
    cts = {"count": 2, "oriented_like_site_cts": True, "ocpd_a": 40}
    conductor = check("conductor-limit.yaml", put("installation.conductor_cts", cts))
    assert computed_item(conductor, "conductor") == {
        "ocpd_a": 40,
        "conductor_limit_a": pytest.approx(32),
        "arithmetic": "40 A x 0.8 = 32 A",
        "set_a": 32,
    }


def test_busbar_message_names_every_number() -> None:
    site = build("pw3-home.yaml", put("installation.panels.0.panel_limit_a", None), put("pcs", {}))
    messages = [f.message for f in check_design(site).findings if f.rule == "BUSBAR-120"]
    assert messages == [
        "panel 'main-panel': 200 A busbar x 1.2 = 240 A allowed; 200 A main + 60 A controlled "
        "supply + 40 A controlled supply = 300 A, 60 A over; allowed backfeed beside the 200 A "
        "main: 240 - 200 = 40 A of breakers (32 A continuous); or set a Panel Limit of 160 A "
        "(0.8 x 200 A busbar) so the PCS controls Powerwall backfeed (705.13), or a Conductor "
        "Limit"
    ]


def test_sharing_minimum_message_names_the_seed_arithmetic() -> None:
    site = build("follower-network.yaml", put("networks.0.network_limit_a", 17))
    messages = [f.message for f in check_design(site).findings if f.rule == "SHARING-MIN-6A"]
    assert messages == ["network 'follower-net': 17 A is below 6 A x 3 units = 18 A"]
