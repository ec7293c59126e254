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

from panelpilot.sim.engine import Progress as StepCallback
from panelpilot.sim.loader import load_scenario
from panelpilot.sim.report import render_table
from panelpilot.sim.runner import CONTROLLERS, SimReport, simulate

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


def run_sim(
    scenario: Path,
    as_json: bool,
    plot: Path | None,
    controllers: tuple[str, ...] = CONTROLLERS,
) -> SimReport:
    """Load and run a scenario; print the table (or JSON) and write the plot."""
    loaded = load_scenario(scenario)
    console = Console(stderr=as_json)
    with _bar(console, console.is_terminal) as callbacks:
        report = simulate(loaded, controllers, progress=callbacks.get)
    if as_json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        render_table(report, console)
    if plot is not None:
        from panelpilot.sim.plot import plot_report

        plot_report(report, plot)
        if not as_json:
            console.print(f"plot written to {plot}")
    return report
