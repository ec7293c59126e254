"""The seeds' own worked examples, checked end to end."""

from __future__ import annotations

import pytest

from panelpilot.design.checker import Report
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


# Powerwall 3 design considerations, System Tie-in: a Backup Gateway 2 / Gateway 3 goes with a
# service of 200 A or smaller; 200 A of downstream loads (NEC load calculation) stands in only
# when there is no service rating. Larger services: multiple Backup Gateways (application note).
GATEWAY_CASES = [
    # relay, service rating, downstream loads, flagged
    ("gateway-3", 400, 150, True),
    ("backup-gateway-2", 400, 150, True),
    ("gateway-3", 225, 200, True),
    ("gateway-3", 201, None, True),
    ("gateway-3", 200, 150, False),
    ("backup-gateway-2", 200, None, False),
    ("gateway-3", 100, 90, False),
    ("gateway-3", None, 200, False),
    ("backup-gateway-2", None, 150, False),
    ("gateway-3", None, 201, True),
    ("backup-gateway-2", None, 250, True),
    ("gateway-3", None, None, True),
]


def gateway_site(relay: str, rating: float | None, loads: float | None) -> Report:
    # pw3-home has 22 kA available: a Backup Gateway 2 gets its J-class fuse, so that this is
    # the only rule that can fire.
    site_relay = {
        "type": relay,
        "interconnection": "service-feeders",
        "j_class_fuse_upstream": relay == "backup-gateway-2",
        "downstream_loads_a": loads,
    }
    return check(
        "pw3-home.yaml",
        put("installation.service.rating_a", rating),
        put("installation.site_relay", {k: v for k, v in site_relay.items() if v is not None}),
    )


@pytest.mark.parametrize(("relay", "rating", "loads", "flagged"), GATEWAY_CASES)
def test_gateway_service_over_200_a_is_flagged_whatever_the_loads_behind_it(
    relay: str, rating: float | None, loads: float | None, flagged: bool
) -> None:
    report = gateway_site(relay, rating, loads)
    hits = [f for f in report.findings if f.rule == "TIE-GATEWAY-SERVICE"]
    assert bool(hits) == flagged, [f.message for f in report.findings]
    assert report.has_errors == flagged  # pw3-home is otherwise clean
    for hit in hits:
        assert hit.severity is Severity.ERROR
        assert "Multiple Backup Gateways on a Single Site" in hit.message


def test_a_400_a_service_finding_names_the_service_and_why_the_loads_do_not_count() -> None:
    report = gateway_site("gateway-3", 400, 150)
    (hit,) = [f for f in report.findings if f.rule == "TIE-GATEWAY-SERVICE"]
    assert hit.field == "installation.service.rating_a"
    assert hit.message.startswith("400 A service with a Gateway 3; ")
    assert "150 A of downstream loads does not change that" in hit.message
    assert "only when the service has no rating" in hit.message


def test_without_a_service_rating_the_finding_names_the_downstream_loads() -> None:
    report = gateway_site("backup-gateway-2", None, 250)
    (hit,) = [f for f in report.findings if f.rule == "TIE-GATEWAY-SERVICE"]
    assert hit.field == "installation.site_relay.downstream_loads_a"
    assert hit.message.startswith(
        "no service rating and 250 A of loads behind the Backup Gateway 2; "
    )
