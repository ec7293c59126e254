"""Settings changes on a schedule: an installer lowers a network limit mid-run."""

import numpy as np
import pytest

from panelpilot.sim import ScenarioError, load_scenario_text, simulate

SCENARIO = """
site:
  circuits:
    - {id: panel, limit_a: 160}
  networks:
    - {id: net, circuit: panel, network_limit_a: 80}
  chargers:
    - {id: a, circuit: panel, network: net, max_a: 48}
    - {id: b, circuit: panel, network: net, max_a: 48}
duration_s: 200
evs:
  - {charger: a, arrive_s: 0, depart_s: 200, energy_kwh: 80, max_a: 48, response_s: 2}
  - {charger: b, arrive_s: 0, depart_s: 200, energy_kwh: 80, max_a: 48, response_s: 2}
settings:
  - {at_s: 60, network: net, enabled: false}
  - {at_s: 61, network: net, network_limit_a: 40}
  - {at_s: 62, network: net, enabled: true}
"""


def test_a_network_limit_lowered_through_the_settings_lock_holds_from_then_on() -> None:
    report = simulate(load_scenario_text(SCENARIO, "s.yaml"), controllers=("panelpilot",))
    trace = report.runs["panelpilot"].trace
    t, net = trace.t_s, trace.network_a[0]
    assert net[(t > 20) & (t < 60)].max() == pytest.approx(80, abs=1.0)  # two cars share 80 A
    after = net[t > 62 + 1 + 5 + 1]  # the new limit, once the cars have followed (J1772)
    assert after.max() <= 40 + 1e-6
    assert np.mean(after) > 38


def test_a_settings_change_must_name_the_network() -> None:
    bad = SCENARIO.replace("{at_s: 61, network: net,", "{at_s: 61, network: garage,")
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(bad, "s.yaml")
    assert "s.yaml:16: settings[1].network: unknown network 'garage'; known: net" in str(info.value)
