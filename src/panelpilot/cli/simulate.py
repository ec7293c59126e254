"""`panelpilot sim`: a scenario with panelpilot and the `static` and `none` baselines side by side.

The simulator's layer loads, runs, tabulates and plots (`panelpilot.sim`); this module declares
the command and shows each controller's run as a bar on standard error (`cli/progress.py`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from panelpilot.cli.progress import Quiet, progress_bars, working

if TYPE_CHECKING:  # the simulator is imported when the command runs
    from panelpilot.sim.runner import SimReport


def _simulate(scenario: Path, plot: Path | None, quiet: bool) -> SimReport:
    """Load and run the scenario, each controller's steps as a bar."""
    from panelpilot.control.validate import SnapshotError
    from panelpilot.sim.loader import ScenarioError, load_scenario
    from panelpilot.sim.plot_path import check_plot_path
    from panelpilot.sim.runner import CONTROLLERS, simulate
    from panelpilot.site import Problem

    loaded = load_scenario(scenario)
    if plot is not None:
        check_plot_path(plot)
    with progress_bars(quiet) as bars:
        steps = {name: bars.task(name) for name in CONTROLLERS}
        try:
            return simulate(loaded, CONTROLLERS, progress=steps.get)
        except SnapshotError as exc:
            problem = (
                f"the simulated site gives the controller a reading it refuses ({exc}); "
                "keep the scenario's currents within what a meter can read"
            )
            raise ScenarioError([Problem("", problem, None, loaded.file)]) from None


def sim(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).", show_default=False)],
    json_out: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write a timeline plot (PNG).")] = None,
    quiet: Quiet = False,
) -> None:
    """Simulate a scenario with panelpilot and the `static` and `none` baselines side by side."""
    from rich.console import Console

    from panelpilot.sim.plot_path import PlotError
    from panelpilot.sim.report import render_table

    report = _simulate(scenario, plot, quiet)  # ScenarioError, PlotError: the boundary
    console = Console(stderr=json_out)
    if json_out:
        print(json.dumps(report.as_json(), indent=2))
    else:
        render_table(report, console)
    if plot is None:
        return
    from panelpilot.sim.plot import plot_report

    try:
        with working("plot", quiet):
            plot_report(report, plot)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise PlotError(f"--plot {plot}: cannot write the plot: {reason}") from None
    if not json_out:
        console.print(f"plot written to {plot}")
