"""Scenario files: every example loads; every mistake is named with file, line and field."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from panelpilot.cli import app
from panelpilot.sim import ScenarioError, load_scenario, load_scenario_text

SCENARIOS = Path(__file__).parents[2] / "examples" / "scenarios"
EXAMPLES = sorted(p for p in SCENARIOS.glob("*.yaml") if not p.name.endswith("-site.yaml"))

INLINE_SITE = """\
site:
  circuits:
    - id: garage
      limit_a: 40
      breaker_a: 50
      meter: garage
  networks:
    - {id: n, circuit: garage, network_limit_a: 40}
  chargers:
    - {id: wc1, circuit: garage, network: n, max_a: 32}
    - {id: wc2, circuit: garage, network: n, max_a: 32}
duration_s: 600
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml", SCENARIOS)
    return [str(p) for p in info.value.problems]


def test_there_are_example_scenarios() -> None:
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_scenario_loads(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.site.chargers


def test_an_inline_site_loads() -> None:
    loaded = load_scenario_text(INLINE_SITE, "s.yaml")
    assert [c.id for c in loaded.site.chargers] == ["wc1", "wc2"]


def test_an_unknown_charger_is_named_with_its_line() -> None:
    text = INLINE_SITE + "evs:\n  - {charger: wc9, arrive_s: 0, energy_kwh: 10}\n"
    assert problems(text) == ["s.yaml:14: evs[0].charger: unknown charger 'wc9'; known: wc1, wc2"]


def test_a_slow_car_is_refused_with_the_j1772_bound() -> None:
    text = INLINE_SITE + "evs:\n  - {charger: wc1, energy_kwh: 10, response_s: 8}\n"
    [problem] = problems(text)
    assert problem.startswith("s.yaml:14: evs[0].response_s: 8: ")
    assert "less than or equal to 5" in problem


def test_departure_before_arrival_is_refused() -> None:
    text = INLINE_SITE + "evs:\n  - {charger: wc1, arrive_s: 50, depart_s: 10, energy_kwh: 5}\n"
    [problem] = problems(text)
    assert problem.startswith("s.yaml:14: evs[0]: ")
    assert "depart_s 10 s must be after arrive_s 50 s" in problem


def test_two_cars_on_one_charger_at_once_are_refused() -> None:
    text = INLINE_SITE + (
        "evs:\n"
        "  - {charger: wc1, arrive_s: 0, depart_s: 300, energy_kwh: 5}\n"
        "  - {charger: wc1, arrive_s: 100, energy_kwh: 5}\n"
    )
    assert problems(text) == [
        "s.yaml:15: evs[1].arrive_s: 100 s: charger 'wc1' still has evs[0] plugged in "
        "until 300 s; one car per charger at a time"
    ]


def test_unknown_fields_and_bad_faults_are_named() -> None:
    text = INLINE_SITE + (
        "faults:\n"
        "  - {at_s: 10, device: wc1}\n"
        "  - {at_s: 10, meter: nowhere, lost_s: 5}\n"
        "loadz: []\n"
    )
    found = problems(text)
    assert "s.yaml:14: faults[0]: a device fault needs offline_s" in found
    assert "s.yaml:16: loadz: unknown field; see docs/simulator.md for the scenario format" in (
        found
    )


def test_cross_checks_name_the_field() -> None:
    text = INLINE_SITE + (
        "faults:\n  - {at_s: 10, meter: nowhere, lost_s: 5}\n"
        "loads:\n  - {circuit: attic, base_a: 3}\n"
    )
    assert problems(text) == [
        "s.yaml:16: loads[0].circuit: unknown circuit 'attic'; known: garage",
        "s.yaml:14: faults[0].meter: unknown meter 'nowhere'; known: garage",
    ]


def test_an_inline_site_error_is_prefixed_with_site() -> None:
    text = INLINE_SITE.replace("network_limit_a: 40", "network_limit_a: 10")
    assert problems(text) == [
        "s.yaml:8: site.networks[0].network_limit_a: 10 A is below 6 A x 2 chargers = 12 A"
    ]


def test_a_missing_site_file_is_named() -> None:
    [problem] = problems("site: nowhere.yaml\n")
    assert problem.startswith("s.yaml:1: site: no such site file")


def test_a_site_that_is_neither_path_nor_mapping_is_named() -> None:
    assert problems("site: 5\n") == [
        "s.yaml:1: site: 5: a site file path or an inline site mapping"
    ]


def test_yaml_syntax_errors_have_a_line() -> None:
    [problem] = problems("site: x.yaml\nevs: [\n")
    assert problem.startswith("s.yaml:3: YAML syntax")


def test_cli_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(INLINE_SITE + "evs:\n  - {charger: wc9, energy_kwh: 10}\n")
    result = CliRunner().invoke(app, ["sim", str(path)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"panelpilot: {path}:14: evs[0].charger: unknown charger 'wc9'; known: wc1, wc2"
    )
