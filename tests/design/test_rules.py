"""Every rule, table-driven: a passing and a failing site each, with the seeds' numbers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from panelpilot.design.checker import RULES
from tests.design.conftest import Edit, add, check, put, rules_of

H = "pw3-home.yaml"  # Gateway 3, 2 Powerwall 3 + 1 Expansion, 160 A Panel Limit, 2 WCs
C = "conductor-limit.yaml"  # seed Conductor Limit Example 2: 32 A for a 40 A OCPD
L = "leader-network.yaml"  # seed leader page: 4 units sharing 150 A
F = "follower-network.yaml"  # seed follower page: 3 units sharing 110 A
P = "home-panel-limit.yaml"  # seed Panel Limit example: 200 A panel, 160 A limit

PW3 = {"model": "powerwall-3", "ocpd": {"kind": "breaker", "rating_a": 60}}
EXPANSION = {"model": "powerwall-3-expansion"}
CTS_40 = {"count": 2, "oriented_like_site_cts": True, "ocpd_a": 40}
BATT0 = "installation.batteries.0"
RELAY = "installation.site_relay"
SERVICE = "installation.service"
PANEL0 = "installation.panels.0"


def relay(kind: str, interconnection: str = "direct", **more: object) -> Edit:
    return put(RELAY, {"type": kind, "interconnection": interconnection, **more})


def ocpd(setting: float, rating: float, boost: bool = False) -> tuple[Edit, ...]:
    return (
        put(f"{BATT0}.max_continuous_a", setting),
        put(f"{BATT0}.off_grid_boost", boost),
        put(f"{BATT0}.ocpd", {"kind": "breaker", "rating_a": rating}),
    )


def fuse(rating: float, part: str | None, fuse_class: str = "RK1") -> Edit:
    value = {"kind": "fuse", "rating_a": rating, "fuse_class": fuse_class, "part": part}
    return put("installation.batteries.1.ocpd", value)


def fault(
    kind: str, available: float, family: str = "other", ka: float = 10, j: bool = False
) -> tuple[Edit, ...]:
    return (
        relay(kind, j_class_fuse_upstream=j, downstream_loads_a=180),
        put(f"{SERVICE}.available_fault_current_ka", available),
        put(f"{SERVICE}.main_breaker", {"rating_a": 200, "family": family, "interrupting_ka": ka}),
    )


def main_panel(*supply: float, limit: float | None = None, **more: object) -> Edit:
    panel = {"id": "main-panel", "busbar_a": 200, "main_breaker_a": 200}
    panel |= {"supply_breakers_a": list(supply), "panel_limit_a": limit, **more}
    return put("installation.panels", [panel])


def network(
    limit: float | None, size: int, enabled: bool = True, max_a: float = 32
) -> tuple[Edit, ...]:
    chargers = [
        {"id": f"wc{i}", "circuit": "garage", "network": "n", "max_a": max_a} for i in range(size)
    ]
    return (
        put(
            "networks",
            [{"id": "n", "circuit": "garage", "network_limit_a": limit, "enabled": enabled}],
        ),
        put("chargers", chargers),
    )


def unit(firmware: str | None, max_a: float = 48, breaker_a: float = 60) -> Edit:
    return put(
        "installation.ev_chargers.0",
        {"id": "wc1", "firmware": firmware, "max_a": max_a, "breaker_a": breaker_a},
    )


@dataclass(frozen=True)
class Case:
    rule: str
    base: str
    passing: tuple[Edit, ...]
    failing: tuple[Edit, ...]
    name: str = ""


# fmt: off
CASES = (
    Case("PW3-COUNT", H, (add("installation.batteries", PW3, PW3),),
         (add("installation.batteries", PW3, PW3, PW3),), "4 ok, 5 not"),
    Case("PW3-EXPANSION-COUNT", H, (add("installation.batteries", EXPANSION, EXPANSION),),
         (add("installation.batteries", EXPANSION, EXPANSION, EXPANSION),), "3 ok, 4 not"),
    Case("PW3-EXPANSION-ALONE", H, (), (put("installation.batteries", [EXPANSION]),)),
    Case("PW3-RELAY", H, (), (put(RELAY, None),)),
    Case("PW3-CANADA", H, (put("installation.country", "CA"),),
         (put("installation.country", "CA"), relay("backup-switch"))),
    Case("PW3-OPTIMIZERS", H, (), (put("installation.pv.optimizers", True),)),
    Case("PW3-NEURIO", H, (), (put("installation.meters", ["neurio"]),)),
    Case("PW3-OTHER-BATTERIES", H,
         # the seed's Panel Limit example (2 Powerwall+ and 1 Powerwall 2) has no Powerwall 3
         (put("installation.batteries", [{"model": "powerwall-plus"}, {"model": "powerwall-plus"},
                                         {"model": "powerwall-2"}]),),
         (add("installation.batteries", {"model": "powerwall-2"}),)),
    Case("PW3-NON-BACKUP", H, (), (put("installation.backup", False),)),
    Case("PW3-LOCATION", H, (put(f"{BATT0}.habitable_location", False),),
         (put(f"{BATT0}.habitable_location", True),)),
    Case("PV-DC-MAX", H, (put("installation.pv.dc_kw", 40),),
         (put("installation.pv.dc_kw", 40.5),), "20 kW x 2 units"),
    Case("PV-MPPT", H, (put("installation.pv.strings", [{"mcis": 2}] * 12),),
         (put("installation.pv.strings", [{"mcis": 2}] * 13),), "6 MPPTs x 2 units"),
    Case("PV-MCI", H, (), (add("installation.pv.strings", {"mcis": 0}),)),
    Case("PV-MCI-1", H, (), (add("installation.pv.strings", {"mcis": 1, "mci_model": "MCI-2"}),)),
    Case("MONITOR-SITE", H, (put("installation.meters", []),),
         (relay("other"), put("installation.meters", []))),
    Case("MONITOR-SOLAR", H, (put("installation.ac_solar", [{"rating_a": 40, "metered": True}]),),
         (put("installation.ac_solar", [{"rating_a": 40, "metered": False}]),)),
    Case("MONITOR-SOLAR-UNKNOWN", H,
         (put("installation.ac_solar", [{"rating_a": 40, "metered": True}]),),
         (put("installation.ac_solar", [{"rating_a": 40}]),)),
    Case("TIE-TESLA-ONLY", H, (), (relay("other"),)),
    Case("TIE-BACKUP-SWITCH-SERVICE", H, (relay("backup-switch"),),
         (relay("backup-switch"), put(f"{SERVICE}.rating_a", 225))),
    Case("TIE-BACKUP-SWITCH-SOCKET", H, (relay("backup-switch"),),
         (relay("backup-switch"), put(f"{SERVICE}.meter_socket", "1S"))),
    Case("TIE-VOLTAGE", H, (), (put(f"{SERVICE}.voltage", "120/208"),)),
    Case("TIE-GATEWAY-SERVICE", H,
         (put(f"{SERVICE}.rating_a", 200), relay("gateway-3", downstream_loads_a=180)),
         (put(f"{SERVICE}.rating_a", 400), relay("gateway-3", downstream_loads_a=150)),
         "400 A service: loads behind do not excuse it"),
    Case("TIE-GATEWAY-SERVICE", H, (put(f"{SERVICE}.rating_a", None),),
         (put(f"{SERVICE}.rating_a", None), relay("backup-gateway-2", downstream_loads_a=220)),
         "no service rating"),
    Case("TIE-LINE-SIDE-TAP", H, (relay("backup-switch", "line-side-tap"),),
         (relay("gateway-3", "line-side-tap"),), "allowed only with Backup Switch"),
    Case("TIE-LOAD-SIDE-TAP", H, (relay("backup-gateway-2", "direct"),),
         (relay("backup-gateway-2", "load-side-tap"),)),
    Case("TIE-BACKUP-SWITCH-TAP", H, (relay("gateway-3", "service-feeders"),),
         (relay("backup-switch", "load-side-tap"),)),
    Case("TIE-NON-UL1741", H,
         (put("installation.other_sources", [{"kind": "generator", "isolated": True}]),),
         (put("installation.other_sources", [{"kind": "generator", "ul1741": False}]),)),
    Case("BACKUP-LOAD-SUPPLY", H,
         (add("installation.backup_loads", {"name": "heat pump", "current_a": 79.7}),),
         (add("installation.backup_loads", {"name": "heat pump", "current_a": 80}),),
         "48 + 31.7 = 79.7 A"),
    Case("BACKUP-LOAD-SUPPLY", H,
         (add("installation.backup_loads", {"name": "ev", "current_a": 90, "automatic": False}),),
         (add("installation.backup_loads", {"name": "ev", "current_a": 90}),), "manual loads"),
    Case("OCPD-REQUIRED", H, (), (put(f"{BATT0}.ocpd", None),)),
    Case("OCPD-OPTION", H, ocpd(41.7, 60), ocpd(40, 60)),
    Case("OCPD-SIZE", H, ocpd(48, 60), ocpd(48, 50), "48 A / 11.5 kW -> 60 A"),
    Case("OCPD-SIZE", H, ocpd(41.7, 60), ocpd(41.7, 50), "41.7 A / 10 kW -> 60 A"),
    Case("OCPD-SIZE", H, ocpd(31.7, 40), ocpd(31.7, 60), "31.7 A / 7.6 kW -> 40 A"),
    Case("OCPD-SIZE", H, ocpd(24, 30), ocpd(24, 40), "24 A / 5.8 kW -> 30 A"),
    Case("OCPD-SIZE", H, ocpd(48, 80, boost=True), ocpd(48, 60, boost=True), "off-grid -> 80 A"),
    Case("OCPD-OFF-GRID", H, ocpd(48, 80, boost=True), ocpd(41.7, 80, boost=True),
         "15.4 kW off-grid needs 48 A on-grid"),
    Case("FUSE-RK1", H, (fuse(40, "KTN-R-40"),), (fuse(40, "KTN-R-40", "J"),)),
    Case("FUSE-PART", H, (fuse(40, "A2K40R"),), (fuse(40, "XYZ-40"),)),
    Case("FUSE-PART-RATING", H, (fuse(40, "KLNR040"),), (fuse(40, "KLNR060"),)),
    Case("FAULT-CURRENT", H, fault("backup-gateway-2", 10), fault("backup-gateway-2", 11),
         "10 kA base"),
    Case("FAULT-CURRENT", H, fault("backup-gateway-2", 22, j=True),
         fault("backup-gateway-2", 23, j=True), "Backup Gateway 2 + J-class fuse: 22 kA"),
    Case("FAULT-CURRENT", H, fault("backup-switch", 22, ka=22), fault("backup-switch", 22, ka=10),
         "Backup Switch + 22 kA main: 22 kA"),
    Case("FAULT-CURRENT", H, fault("gateway-3", 25, "eaton-csr"),
         fault("gateway-3", 26, "eaton-csr"), "Gateway 3 + Eaton CSR: 25 kA"),
    Case("FAULT-CURRENT", H, fault("gateway-3", 25, "eaton-bwh"), fault("gateway-3", 25, "other"),
         "Gateway 3 + Eaton BWH: 25 kA, other breaker 10 kA"),
    Case("FAULT-CURRENT", H, fault("gateway-3", 22, "square-d-qo"),
         fault("gateway-3", 25, "square-d-qo"), "Gateway 3 + Square D QO: 22 kA"),
    Case("FAULT-CURRENT-UNKNOWN", H, (), (put(f"{SERVICE}.available_fault_current_ka", None),)),
    Case("BUSBAR-120", H, (main_panel(40),), (main_panel(60),),
         "200 A busbar, 200 A main: 40 A allowed"),
    Case("BUSBAR-120", H, (main_panel(40, limit=160, controlled_supply_breakers_a=[60, 60]),),
         (main_panel(40, controlled_supply_breakers_a=[60, 60]), put("pcs", {})),
         "seed Panel Limit example: controlled sources drop out with a 160 A limit"),
    Case("BUSBAR-120", H,
         (main_panel(), put("installation.ev_chargers.0.panel", "main-panel"),
          put("installation.ev_chargers.0.powershare", True),
          put("installation.ev_chargers.0.breaker_a", 40),
          put("installation.ev_chargers.0.on_backup", True)),
         (main_panel(), put("installation.ev_chargers.0.panel", "main-panel"),
          put("installation.ev_chargers.0.powershare", True),
          put("installation.ev_chargers.0.on_backup", True)),
         "a Powershare charger on backup counts as a source"),
    Case("BACKFEED-POWERSHARE", H,
         (put("installation.ev_chargers.0.powershare", True),
          put("installation.ev_chargers.0.on_backup", True),
          put("installation.ev_chargers.0.panel", "main-panel")),
         (put("installation.ev_chargers.0.powershare", True),
          put("installation.ev_chargers.0.on_backup", True))),
    Case("BACKUP-PANEL-OCPD", H, (main_panel(backup=True),),
         (main_panel(backup=True, main_breaker_a=None),)),
    Case("PANEL-LIMIT-RANGE", H, (put(f"{PANEL0}.panel_limit_a", 10),),
         (put(f"{PANEL0}.panel_limit_a", 9),), "10 A is the lowest"),
    Case("PANEL-LIMIT-RANGE", H,
         (put(f"{PANEL0}.busbar_a", 400), put(f"{PANEL0}.panel_limit_a", 200),
          put("pcs.panel_limit_a", 200)),
         (put(f"{PANEL0}.busbar_a", 400), put(f"{PANEL0}.panel_limit_a", 201)),
         "200 A is the highest"),
    Case("PANEL-LIMIT-RATING", H, (put(f"{PANEL0}.panel_limit_a", 160),),
         (put(f"{PANEL0}.busbar_a", 150),), "160 A over a 150 A controlled panel"),
    Case("PANEL-LIMIT-UNSET", H, (),
         (put(f"{PANEL0}.panel_limit_a", None), put("pcs", {})),),
    Case("PANEL-LIMIT-MATCH", H, (), (put(f"{PANEL0}.panel_limit_a", 150),)),
    Case("CONDUCTOR-CT-COUNT", C, (put("installation.conductor_cts", CTS_40),),
         (put("installation.conductor_cts", {**CTS_40, "count": 1}),)),
    Case("CONDUCTOR-CT-ORIENTATION", C, (put("installation.conductor_cts", CTS_40),),
         (put("installation.conductor_cts", {**CTS_40, "oriented_like_site_cts": False}),)),
    Case("CONDUCTOR-LIMIT-OCPD", C,
         (put("installation.conductor_cts", {**CTS_40, "ocpd_a": 200}),
          put("pcs.conductor_limit_a", 200)),
         (put("installation.conductor_cts", CTS_40), put("pcs.conductor_limit_a", 41)),
         "seed Example 1: 200 A limit under a 200 A main breaker"),
    Case("CONDUCTOR-LIMIT-CONTINUOUS", C, (put("installation.conductor_cts", CTS_40),),
         (put("installation.conductor_cts", CTS_40), put("pcs.conductor_limit_a", 33)),
         "seed Example 2: 40 A x 0.8 = 32 A"),
    Case("CONDUCTOR-CTS-MISSING", C, (put("installation.conductor_cts", CTS_40),),
         (put("installation.conductor_cts", None),)),
    Case("CONDUCTOR-LIMIT-UNSET", C, (put("installation.conductor_cts", CTS_40),),
         (put("installation.conductor_cts", CTS_40), put("pcs", {}))),
    Case("SHARING-SIZE", F, network(36, 6), network(42, 7), "at most 6 units"),
    Case("SHARING-LEADER-FOLLOWERS", F, network(36, 2), network(36, 1)),
    Case("SHARING-MIN-6A", F, network(36, 6), network(30, 6), "6 A x 6 = 36 A"),
    Case("SHARING-MIN-6A", L, (), (put("networks.0.network_limit_a", 23),), "4 units at 150 A"),
    Case("SHARING-LIMIT-SET", F, network(None, 3, enabled=False), network(None, 3)),
    Case("SHARING-LIMIT-CIRCUIT", L, (put("networks.0.network_limit_a", 160),),
         (put("networks.0.network_limit_a", 161),), "dedicated 160 A EV panel"),
    Case("SHARING-UNIT-BREAKER", H, (unit("21.55.2", 48, 60),), (unit("21.55.2", 48, 50),),
         "48 A needs a 60 A breaker"),
    Case("SHARING-FIRMWARE", H, (unit("21.18.0"),), (unit("21.17.9"),), "21.18.0 or higher"),
    Case("SHARING-FIRMWARE", H, (unit("21.55.2 (0)"),), (unit("20.99.99"),), "seed page version"),
    Case("SHARING-FIRMWARE-UNKNOWN", H, (unit("21.55.2"),), (unit(None),)),
)
# fmt: on


def _id(case: Case) -> str:
    return f"{case.rule}:{case.name}" if case.name else case.rule


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_rule_passes_on_the_passing_site(case: Case) -> None:
    edits = case.passing
    if case.base == C:
        edits = (put("installation.country", "US"), *edits)
    report = check(case.base, *edits)
    assert case.rule not in rules_of(report), [f.message for f in report.findings]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_rule_fires_on_the_failing_site(case: Case) -> None:
    edits = case.failing
    if case.base == C:
        edits = (put("installation.country", "US"), *edits)
    report = check(case.base, *edits)
    assert case.rule in rules_of(report), [f.message for f in report.findings]


def test_every_rule_has_a_case() -> None:
    assert {r.id for r in RULES} == {c.rule for c in CASES}


def test_rule_ids_are_unique_and_documented() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.checks and rule.document and rule.section
        assert rule.document in {
            "powerwall-3-design-considerations",
            "panel-limit",
            "conductor-limit",
            "wall-connector-power-sharing",
        }


def test_the_passing_example_has_no_findings() -> None:
    assert check(H).findings == ()
