"""`panelpilot sim`: a scenario with panelpilot and the `static` and `none` baselines side by side
(the simulator's own command line is `panelpilot.sim.cli`; this module only declares it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def sim(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).", show_default=False)],
    json_out: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write a timeline plot (PNG).")] = None,
) -> None:
    """Simulate a scenario with panelpilot and the `static` and `none` baselines side by side."""
    from panelpilot.sim.cli import run_sim

    run_sim(scenario, json_out, plot)  # ScenarioError, PlotError: the boundary
