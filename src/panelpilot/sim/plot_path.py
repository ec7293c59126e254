"""Where `panelpilot sim --plot` may write: checked before a run that may take minutes."""

from __future__ import annotations

from pathlib import Path


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
