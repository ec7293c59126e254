"""The run plot (`panelpilot sim --plot`): the panels a scenario has, on one shared time axis.

Panels are chosen by what the site has (`PANELS`, drawn by `sim/plot_panels.py`): circuits
against their limits always; breakers' load against their thermal pickup where a circuit has a
breaker, and their heat where any controller heated one; cars where there are chargers; the
Panel Limit where one is set; solar and batteries where the site has them; export where a Site
Export Limit is set or a source could export; and below the time axis the energy each car got
under every controller. Legends sit to the right of the data, never on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window: the CLI runs headless

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from panelpilot.sim.plot_panels import (
    PlotContext,
    draw_batteries,
    draw_breaker_heat,
    draw_breaker_load,
    draw_cars,
    draw_circuits,
    draw_energy,
    draw_export,
    draw_panel,
    draw_solar,
    heated,
)
from panelpilot.sim.runner import SimReport

WIDTH_IN = 14.0
PANEL_HEIGHT_IN = 2.4
DPI = 100


@dataclass(frozen=True)
class Panel:
    """One panel: its name (the axes' label), when the scenario has it, how it is drawn."""

    name: str
    shown: Callable[[PlotContext], bool]
    draw: Callable[[Axes, PlotContext], None]


def _has_sources(ctx: PlotContext) -> bool:
    return bool(ctx.site.solar or ctx.site.batteries)


PANELS: tuple[Panel, ...] = (
    Panel("circuits", lambda ctx: True, draw_circuits),
    Panel("breakers", lambda ctx: len(ctx.topo.breaker_circuits) > 0, draw_breaker_load),
    Panel("breaker-heat", heated, draw_breaker_heat),
    Panel("cars", lambda ctx: ctx.run.trace.pilot_a.shape[0] > 0, draw_cars),
    Panel("panel", lambda ctx: ctx.pcs.panel_a is not None, draw_panel),
    Panel("solar", lambda ctx: bool(ctx.site.solar), draw_solar),
    Panel("batteries", lambda ctx: bool(ctx.site.batteries), draw_batteries),
    Panel(
        "export",
        lambda ctx: ctx.site.pcs.export_limit_a is not None or _has_sources(ctx),
        draw_export,
    ),
)
ENERGY = Panel("energy", lambda ctx: bool(ctx.run.metrics["cars"]), draw_energy)


def _legend_outside(ax: Axes) -> None:
    """The legend to the right of the data (constrained layout keeps room for it)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
            fontsize="small", frameon=False, borderaxespad=0.0,
        )  # fmt: skip


def _duration(duration_s: float) -> str:
    """A run's length as a reader says it: `25 min`, `4 h`, `24 h`."""
    if duration_s < 2 * 3600:
        return f"{duration_s / 60:.3g} min"
    return f"{duration_s / 3600:.3g} h"


def build_figure(report: SimReport, controller: str = "panelpilot") -> Figure:
    """The figure of one controller's run (default panelpilot, else the first run)."""
    run = report.runs.get(controller) or next(iter(report.runs.values()))
    ctx = PlotContext.of(report, run)
    timed = [p for p in PANELS if p.shown(ctx)]
    rows = [*timed, *([ENERGY] if ENERGY.shown(ctx) else [])]
    fig = Figure(figsize=(WIDTH_IN, PANEL_HEIGHT_IN * len(rows) + 0.8), layout="constrained")
    grid = fig.add_gridspec(len(rows), 1)
    first: Axes | None = None
    for i, panel in enumerate(rows):
        ax = fig.add_subplot(grid[i], sharex=first if panel is not ENERGY else None)
        ax.set_label(panel.name)
        panel.draw(ax, ctx)
        ax.grid(True, lw=0.3, alpha=0.5)
        _legend_outside(ax)
        if panel is not ENERGY:
            first = first or ax
            last_timed = i == len(timed) - 1
            ax.tick_params(labelbottom=last_timed)
            if last_timed:
                ax.set_xlabel(f"time ({ctx.x_unit})")
    scenario = report.as_json()["scenario"]
    fig.suptitle(
        f"{scenario['name']}: {run.policy} ({_duration(scenario['duration_s'])} "
        f"at {scenario['step_s']:g} s steps, seed {scenario['seed']})",
        fontsize="large",
    )
    return fig


def plot_report(report: SimReport, out: Path, controller: str = "panelpilot") -> None:
    """Write the figure of one controller's run (default panelpilot) to `out` (PNG, SVG...)."""
    build_figure(report, controller).savefig(out, dpi=DPI)
