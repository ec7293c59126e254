"""Limited says by what: the binding constraint derived from a cycle's decision
(service/limited.py), on hand-made cycles and on the running service."""

from __future__ import annotations

from pathlib import Path

from panelpilot.control.topology import Topology
from panelpilot.control.types import (
    ChargerDecision,
    ChargerReading,
    ChargerStatus,
    CircuitState,
    NetworkState,
    NetworkStatus,
)
from panelpilot.service.limited import CycleFacts, limit_reason
from panelpilot.site import load_site_text
from tests.service.helpers import SITE_YAML, garage_site
from tests.web.helpers import harness

TOPO = Topology.of(garage_site())
MEMBERS = {"wc1": "garage-net", "wc2": "garage-net", "wc3": "garage-net"}


def _decision(
    limit_a: float, status: ChargerStatus, target_a: float | None = None
) -> ChargerDecision:
    target = limit_a if target_a is None else target_a
    return ChargerDecision(limit_a, 6.0, status, target, 60.0, 32.0)


def _facts(
    limits: dict[str, ChargerDecision],
    garage_available_a: float = 79.0,
    garage_uncontrolled_a: float = 0.0,
    network_available_a: float = 72.0,
    draws: dict[str, float] | None = None,
) -> CycleFacts:
    draws = draws or {}
    readings = {
        cid: ChargerReading(True, True, draws.get(cid, d.limit_a)) for cid, d in limits.items()
    }
    allocated = sum(d.limit_a for d in limits.values())
    circuits = {
        "service": CircuitState(None, 160.0, 0.0, 159.0, allocated),
        "garage": CircuitState(None, 80.0, garage_uncontrolled_a, garage_available_a, allocated),
    }
    network = sum(d.limit_a for cid, d in limits.items() if cid in MEMBERS)
    networks = {
        "garage-net": NetworkState(
            network, 72.0, 3, 3, NetworkStatus.LIMITED, True, network_available_a
        )
    }
    return CycleFacts(TOPO, limits, readings, circuits, networks, MEMBERS, 1.0)


def test_three_cars_sharing_72_a_are_limited_by_the_network() -> None:
    limited = _decision(24.0, ChargerStatus.LIMITED)
    facts = _facts({"wc1": limited, "wc2": limited, "wc3": limited})
    reason = limit_reason(facts, "wc1", 32.0)
    assert reason is not None and (reason.by, reason.where) == ("network", "garage-net")
    assert "Max network current (72\u00a0A shared by 3)" in reason.text


def test_a_circuit_with_other_loads_binds_before_the_network() -> None:
    # The case: the network at 39 A / 72 A, each car at 13 A: the garage circuit
    # (80 A, less the 1 A margin and 40 A of other loads) is what is full.
    limited = _decision(13.0, ChargerStatus.LIMITED)
    facts = _facts(
        {"wc1": limited, "wc2": limited, "wc3": limited},
        garage_available_a=39.0,
        garage_uncontrolled_a=40.0,
    )
    reason = limit_reason(facts, "wc2", 32.0)
    assert reason is not None and (reason.by, reason.where) == ("circuit", "garage")
    assert reason.text == "circuit garage at its limit (80\u00a0A, other loads 40\u00a0A)"


def test_a_paused_car_is_taking_turns_on_the_full_circuit() -> None:
    six = _decision(6.0, ChargerStatus.LIMITED)
    paused = _decision(0.0, ChargerStatus.PAUSED)
    facts = _facts({"wc1": six, "wc2": six, "wc3": paused}, garage_available_a=12.5)
    reason = limit_reason(facts, "wc3", 32.0)
    assert reason is not None and reason.by == "turns" and reason.where == "garage"
    assert reason.text.startswith("taking turns")


def test_a_raise_on_its_way_is_said_as_such() -> None:
    rising = _decision(10.0, ChargerStatus.LIMITED, target_a=24.0)
    facts = _facts({"wc1": rising}, network_available_a=72.0)
    reason = limit_reason(facts, "wc1", 32.0)
    assert reason is not None and reason.by == "ramping" and "24\u00a0A" in reason.text


def test_a_car_that_takes_less_than_it_is_offered_is_its_own_limit() -> None:
    offered = _decision(24.0, ChargerStatus.CHARGING)
    facts = _facts({"wc1": offered}, draws={"wc1": 13.0})
    reason = limit_reason(facts, "wc1", 32.0)
    assert reason is not None and reason.by == "car"
    assert reason.text == "the car takes 13\u00a0A of 24\u00a0A"


def test_nothing_holds_a_car_that_has_all_it_wants() -> None:
    full = _decision(32.0, ChargerStatus.CHARGING)
    assert limit_reason(_facts({"wc1": full}), "wc1", 32.0) is None
    idle = _decision(32.0, ChargerStatus.IDLE)
    assert limit_reason(_facts({"wc1": idle}), "wc1", 32.0) is None


def test_the_running_service_names_the_circuit_on_every_page(tmp_path: Path) -> None:
    h = harness(tmp_path)
    for twin in ("wc1", "wc2", "wc3"):
        h.world.chargers[twin].car_wants_a = 32.0
    h.world.loads_a["garage"] = 40.0
    h.cycles(30)
    wc1 = h.service.reads.charger("wc1")
    assert wc1 is not None and wc1.status == "limited"
    assert wc1.limited_kind == "circuit"
    assert wc1.limited_by is not None and wc1.limited_by.startswith("circuit garage at its limit")
    net = h.service.reads.network("garage-net")
    assert net is not None and net.limited_by == wc1.limited_by

    h.world.loads_a["garage"] = 0.0
    h.cycles(60)
    wc1 = h.service.reads.charger("wc1")
    assert wc1 is not None and wc1.limited_kind == "network"


def test_a_circuit_without_a_meter_shows_the_sum_of_its_chargers(tmp_path: Path) -> None:
    site = load_site_text(
        SITE_YAML.replace(
            "        limit_a: 80\n        meter: garage\n",
            "        limit_a: 80\n        meter: garage\n        children:\n"
            "          - {id: branch1, limit_a: 40}\n",
        ).replace(
            "{id: wc1, circuit: garage, network: garage-net, max_a: 32}",
            "{id: wc1, circuit: branch1, network: garage-net, max_a: 32}",
        ),
        "branch-site.yaml",
    )
    h = harness(tmp_path, site)
    h.world.chargers["wc1"].car_wants_a = 17.0
    h.cycles(20)
    circuits = {c.id: c for c in h.service.reads.live().circuits}
    branch, garage = circuits["branch1"], circuits["garage"]
    assert branch.computed and branch.chargers == ("wc1",)
    assert branch.current_a == 17.0 and branch.power_kw == round(17 * 240 / 1000, 2)
    assert not garage.computed and garage.current_a is not None  # its meter's reading
