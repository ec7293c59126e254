"""Run every controller on one scenario, the same world for each, and collect the results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from panelpilot.control.types import Command
from panelpilot.sim.engine import Progress, RunResult, World, build_world, run
from panelpilot.sim.loader import LoadedScenario
from panelpilot.sim.policies import POLICIES, PanelpilotPolicy, Policy

# The controllers compared side by side, panelpilot first (issue 3).
CONTROLLERS: tuple[str, ...] = ("panelpilot", "static", "none")


@dataclass
class SimReport:
    """Every controller's run on one scenario."""

    loaded: LoadedScenario
    world: World
    runs: dict[str, RunResult]

    def as_json(self) -> dict[str, Any]:
        """`{"scenario": ..., "controllers": {name: metrics}}` (issue 3's JSON shape)."""
        scenario = self.loaded.scenario
        return {
            "scenario": {
                "file": self.loaded.file,
                "name": scenario.name or self.loaded.site.name,
                "site": self.loaded.site.name,
                "duration_s": scenario.duration_s,
                "step_s": scenario.step_s,
                "seed": scenario.seed,
                "chargers": len(self.loaded.site.chargers),
                "cars": len(self.world.cars),
            },
            "controllers": {name: r.metrics for name, r in self.runs.items()},
        }


def simulate(
    loaded: LoadedScenario,
    controllers: tuple[str, ...] = CONTROLLERS,
    progress: Callable[[str], Progress | None] | None = None,
) -> SimReport:
    """Run each named controller on the scenario; `progress(name)` may give a step callback."""
    world = build_world(loaded)
    runs = {}
    for name in controllers:
        if name == "panelpilot":
            # Settings changes are made on panelpilot; the baselines have no settings.
            settings = [
                (c.at_s, Command(c.network, c.enabled, c.network_limit_a, c.add, c.remove))
                for c in loaded.scenario.settings
            ]
            policy: Policy = PanelpilotPolicy(loaded.site, world.topo, settings=settings)
        else:
            policy = POLICIES[name](loaded.site, world.topo)
        runs[name] = run(world, policy, progress(name) if progress else None)
    return SimReport(loaded=loaded, world=world, runs=runs)
