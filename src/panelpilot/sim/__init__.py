"""The site simulator: a scenario played faster than real time with the controller in the loop.

Models (EVs, loads, solar, batteries, breakers, the chargers' own fallback), scenario files,
baseline controllers, metrics, and the report (table, JSON, plot). `panelpilot sim` runs it.
"""

from panelpilot.sim.loader import LoadedScenario, ScenarioError, load_scenario, load_scenario_text
from panelpilot.sim.runner import CONTROLLERS, SimReport, simulate

__all__ = [
    "CONTROLLERS",
    "LoadedScenario",
    "ScenarioError",
    "SimReport",
    "load_scenario",
    "load_scenario_text",
    "simulate",
]
