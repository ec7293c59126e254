"""The scenario loader on random and hostile input: a scenario or `ScenarioError`, one line each."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panelpilot.sim import ScenarioError, load_scenario_text
from panelpilot.sim.loader import LoadedScenario
from panelpilot.site.base import MAX_MAGNITUDE
from panelpilot.site.loader import field_name, plain_yaml, yaml_document
from tests.site.strategies import (
    bad_numbers,
    get,
    hostile_text,
    leaf_paths,
    replaced,
    to_yaml,
    wrong_values,
)
from tests.site.test_limits import billion_laughs

EXAMPLES = Path(__file__).parents[2] / "examples"
SCENARIOS = EXAMPLES / "scenarios"


def _example_with_inline_site() -> Any:
    """The shared-panel scenario with its site inline, so one text holds every field."""
    scenario = plain_yaml(
        yaml_document((SCENARIOS / "shared-panel.yaml").read_text(), "shared-panel.yaml")
    )
    site = plain_yaml(
        yaml_document((EXAMPLES / "shared-panel.yaml").read_text(), "shared-panel.yaml")
    )
    return {**scenario, "site": site}


SCENARIO = _example_with_inline_site()
NUMERIC = [
    p
    for p in leaf_paths(SCENARIO)
    if isinstance(get(SCENARIO, p), int | float) and not isinstance(get(SCENARIO, p), bool)
]
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(text: str) -> LoadedScenario | ScenarioError:
    """What loading gave: a scenario, or the error whose every problem is one located line."""
    try:
        return load_scenario_text(text, "s.yaml", SCENARIOS)
    except ScenarioError as exc:
        assert exc.problems
        for problem in exc.problems:
            line = str(problem)
            assert "\n" not in line and len(line) < 400, line
        return exc


def test_the_example_with_its_site_inline_loads() -> None:
    assert isinstance(outcome(to_yaml(SCENARIO)), LoadedScenario)


@PROPERTY
@given(hostile_text())
def test_any_text_is_a_scenario_or_one_located_line_per_problem(text: str) -> None:
    outcome(text)


@PROPERTY
@given(st.sampled_from(NUMERIC), bad_numbers())
def test_a_bad_number_in_any_numeric_field_is_refused_naming_that_field(
    path: tuple[str | int, ...], value: float
) -> None:
    result = outcome(to_yaml(replaced(SCENARIO, path, value)))
    if isinstance(value, float) and math.isfinite(value) and abs(value) <= MAX_MAGNITUDE:
        return  # within the bound; the field's own range may or may not allow it
    if isinstance(result, LoadedScenario):
        # Integer-only fields keep exact integers (the seed, a charger's priority).
        assert isinstance(value, int) and path[-1] in ("seed", "priority"), (path, value)
        return
    assert any(p.field == field_name(path) for p in result.problems), (path, result)


@PROPERTY
@given(st.sampled_from(leaf_paths(SCENARIO)), wrong_values())
def test_any_value_in_any_field_is_a_scenario_or_located_problems(
    path: tuple[str | int, ...], value: Any
) -> None:
    outcome(to_yaml(replaced(SCENARIO, path, value)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (billion_laughs() + "site: x\n", "s.yaml:5: more than 50,000 values once aliases"),
        ("evs: " + "[" * 20000 + "\n", "s.yaml:1: nested deeper than 64 levels"),
        ("site: x\nduration_s: .inf\n", "s.yaml:2: duration_s: Infinity: not a finite number"),
        (
            "site: x\nloads: [{circuit: garage, base_a: 1e400}]\n",
            "s.yaml:2: loads[0].base_a: Infinity: not a finite number",
        ),
        (
            "site: x\nevs: [{charger: wc1, energy_kwh: .nan}]\n",
            "s.yaml:2: evs[0].energy_kwh: NaN: not a finite number",
        ),
        ("site: x\nseed: -1\n", "s.yaml:2: seed: -1: Input should be greater than or equal to 0"),
        (
            "site: x\nduration_s: 86400\nstep_s: 0.001\n",
            "s.yaml:1: duration_s 86400 s in steps of 0.001 s is 86,400,000 steps; "
            "a run has at most 2,678,400",
        ),
    ],
)
def test_hostile_scenarios_are_refused_in_one_line(text: str, message: str) -> None:
    result = outcome(text)
    assert isinstance(result, ScenarioError)
    assert any(str(p).startswith(message) for p in result.problems), result
