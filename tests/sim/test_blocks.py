"""Steady stretches are advanced in blocks; the results must be those of stepping one by one."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from panelpilot.sim.breaker import BreakerBank
from panelpilot.sim.engine import build_world, run
from panelpilot.sim.loader import load_scenario_text
from panelpilot.sim.policies import POLICIES
from tests.sim.test_scenarios import SCENARIOS, variant


def _close(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=2e-3), (path, a, b)
    else:
        assert a == b, (path, a, b)


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        # Cars share a panel whose other loads rise until some pause; none trips a breaker.
        ("shared-panel.yaml", {"duration_s": 7200}),
        # A follower loses the controller for two minutes.
        ("follower-offline.yaml", {}),
        # The night of the seed's day: cars charging, one arriving, tapering as they fill.
        ("seed-day.yaml", {"duration_s": 10800}),
        # No car yet: the first step is steady, and still each controller's first decision
        # (a baseline's only one) must be made before anything is coasted.
        ("garage-200.yaml", {"duration_s": 600}),
    ],
)
def test_blocks_give_the_step_by_step_results(name: str, changes: dict[str, Any]) -> None:
    loaded = variant(name, **changes)
    world = build_world(loaded)
    for controller, make in POLICIES.items():
        stepped = run(world, make(loaded.site, world.topo), blocks=False)
        blocked = run(world, make(loaded.site, world.topo))
        _close(blocked.metrics, stepped.metrics, controller)
        np.testing.assert_allclose(blocked.trace.circuit_a, stepped.trace.circuit_a, atol=1e-6)
        np.testing.assert_array_equal(blocked.trace.pilot_a, stepped.trace.pilot_a)


@pytest.mark.parametrize("controller", ["none", "static"])
def test_a_stretch_ends_on_the_step_a_breaker_trips_as_single_steps_do(controller: str) -> None:
    # The baselines overload the shared panel's garage breaker: it trips within the first
    # two hours, inside what would otherwise be one long stretch.
    loaded = variant("shared-panel.yaml", duration_s=7200)
    world = build_world(loaded)
    make = POLICIES[controller]
    stepped = run(world, make(loaded.site, world.topo), blocks=False)
    blocked = run(world, make(loaded.site, world.topo))
    assert stepped.metrics["trips"], "the scenario must trip a breaker"
    assert blocked.metrics["trips"] == stepped.metrics["trips"]
    _close(blocked.metrics, stepped.metrics, controller)
    np.testing.assert_allclose(blocked.trace.circuit_a, stepped.trace.circuit_a, atol=1e-6)


def test_a_breaker_block_heats_and_trips_where_single_steps_do() -> None:
    ratings = [20.0, 40.0, 100.0]
    rng = np.random.default_rng(3)
    # Below pickup, then 200 % on the 20 A breaker, with cooling spells in between.
    current = np.vstack(
        [
            np.concatenate(
                [np.full(50, 10.0), np.full(30, 40.0), np.full(40, 5.0), np.full(400, 40.0)]
            ),
            rng.uniform(0, 60, 520),
            rng.uniform(0, 90, 520),
        ]
    )
    single = BreakerBank.of(ratings)
    heats, first = [], None
    for j in range(current.shape[1]):
        tripped = single.step(current[:, j], 1.0, float(j))
        heats.append(single.heat.copy())
        if tripped.any():
            first = j
            break
    block = BreakerBank.of(ratings)
    taken, heat = block.block(current, 1.0)
    assert first is not None and taken == first  # the step that trips is left to step()
    assert heat is not None
    np.testing.assert_allclose(heat[:, :taken], np.array(heats[:taken]).T, atol=1e-12)


def test_a_cold_breaker_below_pickup_stays_cold_through_a_block() -> None:
    bank = BreakerBank.of([20.0])
    taken, heat = bank.block(np.full((1, 1000), 21.9), 1.0)  # just under 110 % pickup
    assert (taken, heat) == (1000, None)


def test_the_controller_sees_charger_currents_to_a_tenth_of_an_amp() -> None:
    from panelpilot.sim.policies import PanelpilotPolicy, Readings

    loaded = variant("follower-offline.yaml")
    topo = build_world(loaded).topo
    policy = PanelpilotPolicy(loaded.site, topo)
    n = len(topo.charger_ids)
    on = np.ones(n, dtype=bool)
    drawn = np.linspace(0.0, 31.87, n) + 0.04
    snap = policy.snapshot(
        Readings(
            t_s=0.0,
            meters={},
            charger_online=on,
            charger_connected=on,
            charger_current_a=drawn,
            charger_pilot_a=np.full(n, 32.0),
            battery_online=np.zeros(0, dtype=bool),
            battery_current_a=np.zeros(0),
            battery_soc=np.zeros(0),
            solar_online=np.zeros(0, dtype=bool),
            solar_current_a=np.zeros(0),
        )
    )
    reported = [snap.chargers[cid].current_a for cid in topo.charger_ids]
    assert reported == [round(float(x), 1) for x in drawn]
    assert any(r != float(x) for r, x in zip(reported, drawn, strict=True))


SOLAR_HOME = {
    "name": "solar under a Panel Limit, no battery",
    "voltage_v": 240,
    "circuits": [
        {
            "id": "main-panel",
            "limit_a": 160,
            "breaker_a": 200,
            "busbar_a": 200,
            "meter": "site",
            "children": [{"id": "ev-branch", "limit_a": 48, "breaker_a": 60}],
        }
    ],
    "solar": [
        {"id": "roof", "circuit": "main-panel", "max_a": 48, "controllable": True},
        {"id": "standalone-pv", "circuit": "main-panel", "max_a": 40, "controllable": False},
    ],
    "chargers": [{"id": "wc1", "circuit": "ev-branch", "max_a": 48}],
    "pcs": {"panel": "main-panel", "panel_limit_a": 60, "export_limit_a": 20},
}


def test_decisions_inside_a_stretch_see_that_steps_solar_output() -> None:
    """Solar without a battery is advanced in stretches; a decision made inside one must see
    the solar output of the step before it (as single steps do), not the stretch's first:
    the caps for the Panel and export limits follow the sun as it rises."""
    scenario = {
        "name": "a morning of sun under the limits",
        "site": SOLAR_HOME,
        "duration_s": 3600,
        "seed": 4,
        "evs": [{"charger": "wc1", "arrive_s": 0, "depart_s": 3600, "energy_kwh": 20}],
        "loads": [{"circuit": "main-panel", "base_a": 5, "noise_a": 1}],
        "solar": {
            "roof": {"peak_a": 48, "sunrise_s": 0, "sunset_s": 14400, "clouds": 0.3},
            "standalone-pv": {"peak_a": 40, "sunrise_s": 0, "sunset_s": 14400},
        },
    }
    loaded = load_scenario_text(json.dumps(scenario), "solar-home.yaml", SCENARIOS)
    world = build_world(loaded)
    make = POLICIES["panelpilot"]
    stepped = run(world, make(loaded.site, world.topo), blocks=False)
    blocked = run(world, make(loaded.site, world.topo))
    np.testing.assert_allclose(blocked.trace.solar_a, stepped.trace.solar_a, atol=1e-6)
    np.testing.assert_allclose(blocked.trace.circuit_a, stepped.trace.circuit_a, atol=1e-6)
    _close(blocked.metrics, stepped.metrics, "panelpilot")


def test_a_stretch_knows_where_the_chargers_reports_change() -> None:
    """A decision inside a stretch may leave out the ones after it only while every charger
    reports what it reports there (to 0.1 A): a car ramping below that resolution still
    reads the same, one crossing it does not."""
    from panelpilot.sim.policies import reports_change

    draws = np.array(
        [
            [10.01, 10.02, 10.03, 10.04, 10.06, 10.07, 10.2, 10.2],  # 10.0 to col 3, then 10.1
            [6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 5.96],  # 6.0 throughout
        ]
    )
    assert reports_change(draws, 8).tolist() == [4, 6, 8]
    assert reports_change(draws, 4).tolist() == [4]
    assert reports_change(None, 5).tolist() == [5]  # no car moves
