"""A progress bar on standard error for the commands that can take more than a second.

The bar is shown only when standard error is a terminal and `--quiet` is not given, and only
once the work has taken `PROGRESS_AFTER_S` (a quick command shows nothing); it is drawn on
standard error and erased when the work ends, so standard output, a pipe or a file get exactly
what they got without it. `PANELPILOT_PROGRESS_AFTER_S` sets that delay (0: at once).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

# Issue 16: "a progress bar on every command that runs longer than a second".
PROGRESS_AFTER_S = 1.0
AFTER_ENV = "PANELPILOT_PROGRESS_AFTER_S"

Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Show no progress bar on standard error.")
]
# A task's callback: (done, total); total None while the amount of work is not known.
Advance = Callable[[float, float | None], None]


def _after_s() -> float:
    """The delay before a bar shows: `PANELPILOT_PROGRESS_AFTER_S`, else one second."""
    raw = os.environ.get(AFTER_ENV, "")
    try:
        return max(float(raw), 0.0) if raw else PROGRESS_AFTER_S
    except ValueError:
        return PROGRESS_AFTER_S


def wanted(quiet: bool) -> bool:
    """A bar is drawn only on a terminal, and never with `--quiet`."""
    return not quiet and sys.stderr.isatty()


class Bars:
    """The tasks of one bar display; `task` gives a task's callback (a no-op when hidden)."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: list[TaskID] = []
        self._shown = False
        self._lock = threading.Lock()

    def task(self, description: str, total: float | None = None) -> Advance:
        """A new task; call what it returns with (done, total) as the work goes on."""
        progress = self._progress
        if progress is None:
            return lambda done, total: None
        with self._lock:
            task = progress.add_task(description, total=total, visible=self._shown)
            self._tasks.append(task)

        def advance(done: float, total: float | None, task: TaskID = task) -> None:
            progress.update(task, completed=done, total=total)

        return advance

    def show(self) -> None:
        """Make every task visible (the delay has passed)."""
        with self._lock:
            self._shown = True
            if self._progress is not None:
                for task in self._tasks:
                    self._progress.update(task, visible=True)


@contextmanager
def progress_bars(quiet: bool) -> Iterator[Bars]:
    """A bar display on standard error for the duration of the block (see the module)."""
    if not wanted(quiet):
        yield Bars(None)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("{task.description:>12}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, soft_wrap=True),  # an error line is never broken
        transient=True,
        # What a command prints goes where it always went; an error line on standard error
        # is written above the bar, and stays when the bar is erased.
        redirect_stdout=False,
        redirect_stderr=True,
    )
    bars = Bars(progress)
    after_s = _after_s()
    timer = threading.Timer(after_s, bars.show)
    timer.daemon = True
    with progress:
        if after_s == 0:
            bars.show()
        else:
            timer.start()
        try:
            yield bars
        finally:
            timer.cancel()


@contextmanager
def working(description: str, quiet: bool) -> Iterator[None]:
    """One bar of unknown length (a pulse) while the block runs."""
    with progress_bars(quiet) as bars:
        bars.task(description)
        yield
