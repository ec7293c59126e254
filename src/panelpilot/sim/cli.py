"""The `panelpilot sim` command's body: load, run with a progress bar, print, plot."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from panelpilot.control.validate import SnapshotError
from panelpilot.sim.engine import Progress as StepCallback
from panelpilot.sim.loader import ScenarioError, load_scenario
from panelpilot.sim.report import render_table
from panelpilot.sim.runner import CONTROLLERS, SimReport, simulate
from panelpilot.site import Problem

# Runs expected to take longer than this get a progress bar (issue 3: "longer than a second").
PROGRESS_AFTER_S = 1.0


@contextmanager
def _bar(console: Console, enabled: bool) -> Iterator[dict[str, StepCallback]]:
    """Step callbacks per controller that show a bar once a run has taken a second."""
    callbacks: dict[str, StepCallback] = {}
    if not enabled:
        yield callbacks
        return
    progress = Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    started = time.monotonic()
    shown = False
    with progress:
        for name in CONTROLLERS:
            task = progress.add_task(name, total=1, visible=False)

            def update(done: int, total: int, task: TaskID = task) -> None:
                nonlocal shown
                if not shown and time.monotonic() - started > PROGRESS_AFTER_S:
                    shown = True
                if shown:
                    progress.update(task, completed=done, total=total, visible=True)

            callbacks[name] = update
        yield callbacks


class PlotError(Exception):
    """The plot cannot be written where `--plot` says; the message names the path and why."""


def check_plot_path(plot: Path) -> None:
    """Refuse a plot path that cannot work before a run that may take minutes."""
    if plot.is_dir():
        raise PlotError(f"--plot {plot}: is a directory; give a file name such as run.png")
    if not plot.parent.is_dir():
        raise PlotError(f"--plot {plot}: no such directory {str(plot.parent)!r}")
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    kind = plot.suffix.lower().lstrip(".")
    if kind and kind not in formats:
        raise PlotError(
            f"--plot {plot}: unknown image type .{kind}; use one of "
            + ", ".join(f".{k}" for k in sorted(formats))
        )


def run_sim(
    scenario: Path,
    as_json: bool,
    plot: Path | None,
    controllers: tuple[str, ...] = CONTROLLERS,
) -> SimReport:
    """Load and run a scenario; print the table (or JSON) and write the plot.

    Raises `ScenarioError` for a scenario that cannot be used (also one whose world the
    controller refuses to read, such as currents beyond any meter) and `PlotError`."""
    loaded = load_scenario(scenario)
    if plot is not None:
        check_plot_path(plot)
    console = Console(stderr=as_json)
    try:
        with _bar(console, console.is_terminal) as callbacks:
            report = simulate(loaded, controllers, progress=callbacks.get)
    except SnapshotError as exc:
        problem = (
            f"the simulated site gives the controller a reading it refuses ({exc}); "
            "keep the scenario's currents within what a meter can read"
        )
        raise ScenarioError([Problem("", problem, None, loaded.file)]) from None
    if as_json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        render_table(report, console)
    if plot is not None:
        from panelpilot.sim.plot import plot_report

        try:
            plot_report(report, plot)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise PlotError(f"--plot {plot}: cannot write the plot: {reason}") from None
        if not as_json:
            console.print(f"plot written to {plot}")
    return report
