"""The seeds' own worked examples, checked end to end."""

from __future__ import annotations

import pytest

from panelpilot.design.findings import Severity
from tests.design.conftest import check, computed_item, computed_items, put


def test_conductor_example_1_a_200_a_limit_under_a_200_a_main_breaker_is_no_error() -> None:
    # >200 A of sources in a 225 A generation panel with a 200 A main breaker protecting the
    # Backup Gateway; the Conductor Limit is set to 200 A so that breaker does not trip.
    report = check(
        "conductor-limit.yaml",
        put("pcs.conductor_limit_a", 200),
        put("installation.conductor_cts", {"count": 2, "ocpd_a": 200}),
        put("installation.panels", [{"id": "gen", "busbar_a": 225, "main_breaker_a": 200}]),
    )
    assert not report.has_errors
    (warning,) = report.findings
    assert warning.rule == "CONDUCTOR-LIMIT-CONTINUOUS"
    assert "200 A x 0.8 = 160 A" in warning.message
    assert "Example 1" in warning.message


def test_conductor_example_2_is_clean_and_computes_32_a() -> None:
    report = check("conductor-limit.yaml")
    assert report.findings == ()
    assert computed_item(report, "conductor")["conductor_limit_a"] == pytest.approx(32)
    (panel,) = computed_items(report, "panels")
    assert panel["allowed_backfeed_breaker_a"] == pytest.approx(40)
    assert panel["suggested_panel_limit_a"] == pytest.approx(160)


def test_panel_limit_example_two_powerwall_plus_one_powerwall_2_and_40_a_pv() -> None:
    installation = {
        "site_relay": {"type": "backup-gateway-2", "downstream_loads_a": 180},
        "service": {"rating_a": 200, "available_fault_current_ka": 10},
        "batteries": [
            {"model": "powerwall-plus"},
            {"model": "powerwall-plus"},
            {"model": "powerwall-2"},
        ],
        "ac_solar": [{"kind": "standalone", "rating_a": 40, "metered": True}],
        "meters": ["tesla-remote-energy-meter"],
        "panels": [
            {
                "id": "main-panel",
                "busbar_a": 200,
                "main_breaker_a": 200,
                "supply_breakers_a": [40],  # the uncontrolled PV inverter
                "controlled_supply_breakers_a": [100],  # the backup load center's feed
                "pcs_controlled": True,
            }
        ],
    }
    report = check("home-panel-limit.yaml", put("installation", installation))
    assert report.findings == ()
    (main,) = computed_items(report, "panels")
    assert main["supply_arithmetic"] == (
        "200 A busbar x 1.2 = 240 A allowed; 200 A main + 40 A supply = 240 A"
    )
    assert main["suggested_panel_limit_a"] == pytest.approx(160)


def test_panel_limit_example_without_the_limit_fails_the_120_percent_rule() -> None:
    report = check(
        "home-panel-limit.yaml",
        put("pcs", {}),
        put(
            "installation.panels",
            [
                {
                    "id": "main-panel",
                    "busbar_a": 200,
                    "main_breaker_a": 200,
                    "supply_breakers_a": [40],
                    "controlled_supply_breakers_a": [100],
                }
            ],
        ),
    )
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert [f.rule for f in errors] == ["BUSBAR-120"]
    assert "set a Panel Limit of 160 A" in errors[0].message


@pytest.mark.parametrize(
    ("example", "fallback_a"),
    [("leader-network.yaml", 37.5), ("follower-network.yaml", 36.67)],
)
def test_sharing_pages_4_units_at_150_a_and_3_units_at_110_a(
    example: str, fallback_a: float
) -> None:
    report = check(example)
    assert report.findings == ()
    (network,) = computed_items(report, "networks")
    assert set(network["fallback_a"].values()) == {fallback_a}
