"""The panels of the run plot, one function each: what it draws, from which part of the trace.

Every panel takes the axes and the `PlotContext` and sets its own title with the unit; each
line carries a label for the legend (placed outside the data by `sim/plot.py`), and the lines
a test or a reader looks for by name carry a gid (`panel-limit`, `stage-90`, `stage-95`,
`export-limit`, `limit-<circuit>`, `trend-<charger>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from panelpilot.sim.breaker import PICKUP_X_RATING
from panelpilot.sim.engine import RunResult
from panelpilot.sim.plot_series import (
    PcsSeries,
    breaker_heat,
    limit_trend,
    pcs_series,
    thin,
)
from panelpilot.sim.runner import SimReport
from panelpilot.sim.topology import Topology
from panelpilot.site import Site

FloatArray = NDArray[np.float64]

# Points per line: a 1,400 px wide image shows no more, and a month of 1 s steps stays quick.
MAX_POINTS = 4000
# Up to this many cars the energy panel has a group of bars per car; beyond, a curve.
MAX_CAR_BARS = 30
BASELINE = {"color": "0.55", "lw": 0.8, "ls": ":"}
STAGES = ((1.0, "panel-limit", "Panel Limit", "tab:red", "-"),
          (0.95, "stage-95", "95 %", "tab:orange", "--"),
          (0.9, "stage-90", "90 %", "goldenrod", ":"))  # fmt: skip
# A breaker heated to this share of its trip point is worth a line on the heat panel.
HEATED = 0.01
CONTROLLER_COLOURS = {"panelpilot": "tab:blue", "static": "tab:orange", "none": "tab:gray"}


@dataclass(frozen=True)
class PlotContext:
    """One run and what every panel needs to draw it on a shared time axis."""

    report: SimReport
    run: RunResult
    site: Site
    topo: Topology
    x: FloatArray  # time in `x_unit`
    x_unit: str
    step_s: float
    pcs: PcsSeries

    @classmethod
    def of(cls, report: SimReport, run: RunResult) -> PlotContext:
        """The context of one controller's run."""
        site, trace = report.loaded.site, run.trace
        hours = report.loaded.scenario.duration_s >= 2 * 3600
        scale = 3600.0 if hours else 60.0
        return cls(
            report=report,
            run=run,
            site=site,
            topo=report.world.topo,
            x=trace.t_s / scale,
            x_unit="h" if hours else "min",
            step_s=report.loaded.scenario.step_s,
            pcs=pcs_series(site, report.world.topo, trace),
        )

    @cached_property
    def heat(self) -> dict[str, FloatArray]:
        """Per controller, each breaker's heat after every step (0 cold, 1 trips)."""
        return {
            name: breaker_heat(self.topo, run.trace, self.step_s)
            for name, run in self.report.runs.items()
        }

    def line(self, ax: Axes, y: FloatArray, **style: Any) -> Line2D:
        """Plot `y` against time, thinned to `MAX_POINTS` (each bin's largest value)."""
        xs, ys = thin(self.x, np.asarray(y, dtype=np.float64), MAX_POINTS)
        (drawn,) = ax.plot(xs, ys, **style)
        return drawn


def draw_circuits(ax: Axes, ctx: PlotContext) -> None:
    """Each circuit's current against its limit (dashed, same colour); breaker trips in red."""
    trace = ctx.run.trace
    for i, cid in enumerate(ctx.topo.circuit_ids):
        limit = float(ctx.topo.circuit_limit_a[i])
        drawn = ctx.line(ax, trace.circuit_a[i], lw=0.9, label=f"{cid} (limit {limit:g} A)")
        ax.axhline(limit, color=drawn.get_color(), ls="--", lw=0.9, gid=f"limit-{cid}")
    for n, trip in enumerate(ctx.run.metrics["trips"]):
        ax.axvline(
            trip["t_s"] / (3600.0 if ctx.x_unit == "h" else 60.0),
            color="red",
            lw=1.6,
            label="breaker trip" if n == 0 else None,
        )
    ax.set_title("Circuits: current (A) against each limit (dashed)", loc="left")
    ax.set_ylabel("A")


def draw_breaker_load(ax: Axes, ctx: PlotContext) -> None:
    """Each breaker's current as a share of its rating, against the thermal pickup above
    which it heats: the margin left before its trip curve starts."""
    trace = ctx.run.trace
    pickup = PICKUP_X_RATING * 100.0
    for b, c in enumerate(ctx.topo.breaker_circuits):
        cid, rating = ctx.topo.circuit_ids[int(c)], ctx.topo.breaker_ratings_a[b]
        share = np.abs(trace.circuit_a[int(c)]) / rating * 100.0
        peak = float(share.max()) if len(share) else 0.0
        label = f"{cid} {rating:g} A (peak {peak:.0f} %, margin {pickup - peak:.0f} %)"
        ctx.line(ax, share, lw=0.9, label=label)
    ax.axhline(pickup, color="red", lw=1.2, gid="breaker-pickup",
               label=f"thermal pickup ({pickup:.0f} %): heats above")  # fmt: skip
    ax.set_ylim(0.0, max(pickup * 1.1, ax.get_ylim()[1]))
    ax.set_title("Breakers: current (% of rating) against the start of the trip curve", loc="left")
    ax.set_ylabel("% of rating")


def heated(ctx: PlotContext) -> bool:
    """True when some controller's run heated some breaker (to 1 % of its trip point or more)."""
    return any(float(h.max(initial=0.0)) >= HEATED for h in ctx.heat.values())


def draw_breaker_heat(ax: Axes, ctx: PlotContext) -> None:
    """Each breaker's heat as a percentage of its trip point, under this run (solid) and under
    each baseline that heated it (dotted, dash-dot): 100 % trips."""
    styles = iter((":", "-."))
    names = [ctx.run.policy, *(n for n in ctx.heat if n != ctx.run.policy)]
    colours: dict[int, Any] = {}
    for name in names:
        heat = ctx.heat[name] * 100.0
        style = "-" if name == ctx.run.policy else next(styles, ":")
        for b, c in enumerate(ctx.topo.breaker_circuits):
            peak = float(heat[b].max(initial=0.0))
            if name != ctx.run.policy and peak < HEATED * 100.0:
                continue  # a baseline that left this breaker cold adds nothing
            cid = ctx.topo.circuit_ids[int(c)]
            label = f"{name}: {cid} (peak {peak:.0f} %)"
            drawn = ctx.line(ax, heat[b], lw=0.9, ls=style, color=colours.get(b), label=label)
            colours[b] = drawn.get_color()
    ax.axhline(100.0, color="red", lw=1.2, label="trips", gid="breaker-trip")
    ax.set_ylim(0.0, 110.0)
    ax.set_title(
        "Breakers: heat (% of the trip point; inverse-time curve fitted to UL 489)", loc="left"
    )
    ax.set_ylabel("% of trip")


def draw_cars(ax: Axes, ctx: PlotContext) -> None:
    """Each traced car's draw (solid) and its pilot limit without the probes (dashed); dots
    where a probe offered it more for a few seconds."""
    trace = ctx.run.trace
    for j in range(trace.pilot_a.shape[0]):
        charger = ctx.topo.charger_ids[j]
        trend = limit_trend(trace.pilot_a[j].astype(np.float64), ctx.step_s)
        drawn = ctx.line(ax, trace.draw_a[j], lw=1.0, label=charger)
        colour = drawn.get_color()
        ctx.line(ax, trend.limit_a, lw=0.8, ls="--", color=colour, gid=f"trend-{charger}")
        if len(trend.probe_index):
            ax.plot(
                ctx.x[trend.probe_index], trend.probe_a, ls="none", marker=".", ms=3,
                color=colour, alpha=0.6, gid=f"probes-{charger}",
            )  # fmt: skip
    ax.plot([], [], color="0.3", lw=1.0, label="draw")
    ax.plot([], [], color="0.3", lw=0.8, ls="--", label="pilot limit")
    ax.plot([], [], color="0.3", ls="none", marker=".", ms=4, label="probe (a few s)")
    shown, total = trace.pilot_a.shape[0], len(ctx.topo.charger_ids)
    of = f" (first {shown} of {total} chargers)" if shown < total else ""
    ax.set_title(f"Cars: draw and pilot limit (A){of}", loc="left")
    ax.set_ylabel("A")


def draw_panel(ax: Axes, ctx: PlotContext) -> None:
    """The panel current against the Panel Limit and its 90 % and 95 % stage marks."""
    limit = ctx.site.pcs.panel_limit_a
    if ctx.pcs.panel_a is None or limit is None:
        return
    ctx.line(ax, ctx.pcs.panel_a, lw=1.0, color="tab:blue", label="panel current")
    if ctx.pcs.panel_baseline_a is not None:
        ctx.line(ax, ctx.pcs.panel_baseline_a, label="nothing held back", **BASELINE)
    for share, gid, name, colour, style in STAGES:
        ax.axhline(
            share * limit, color=colour, ls=style, lw=1.1, gid=gid,
            label=f"{name} ({share * limit:g} A)",
        )  # fmt: skip
    ax.set_title(
        f"Panel {ctx.site.pcs.panel}: max(site, 0) + solar + max(battery, 0) (A) "
        "against the Panel Limit",
        loc="left",
    )
    ax.set_ylabel("A")


def _finite(values: FloatArray, ceiling: float) -> FloatArray:
    """A cap for the plot: no cap (inf) drawn at the device's rating."""
    return np.where(np.isfinite(values), np.minimum(values, ceiling), ceiling)


def draw_solar(ax: Axes, ctx: PlotContext) -> None:
    """Each inverter's output, the cap it was sent and what the sun gave (the baseline)."""
    trace = ctx.run.trace
    for k, inverter in enumerate(ctx.site.solar):
        drawn = ctx.line(ax, trace.solar_a[k], lw=1.0, label=f"{inverter.id} output")
        ctx.line(
            ax, _finite(trace.solar_cap_a[k], inverter.max_a), lw=0.8, ls="--",
            color=drawn.get_color(), label=f"{inverter.id} cap (rating {inverter.max_a:g} A)",
        )  # fmt: skip
        ctx.line(ax, trace.solar_available_a[k], label=f"{inverter.id} available", **BASELINE)
    ax.set_title("Solar: output, cap sent and what the sun gave (A)", loc="left")
    ax.set_ylabel("A")


def draw_batteries(ax: Axes, ctx: PlotContext) -> None:
    """Each battery's output (+ discharge), its discharge cap and what it wanted to give."""
    trace = ctx.run.trace
    for k, battery in enumerate(ctx.site.batteries):
        drawn = ctx.line(ax, trace.battery_a[k], lw=1.0, label=f"{battery.id} output")
        ctx.line(
            ax, _finite(trace.battery_cap_a[k], battery.max_discharge_a), lw=0.8, ls="--",
            color=drawn.get_color(),
            label=f"{battery.id} discharge cap (rating {battery.max_discharge_a:g} A)",
        )  # fmt: skip
        ctx.line(ax, trace.battery_wanted_a[k], label=f"{battery.id} wanted", **BASELINE)
    ax.axhline(0.0, color="0.2", lw=0.5)
    ax.set_title("Batteries: output (A, + discharge), discharge cap sent, wanted", loc="left")
    ax.set_ylabel("A")


def draw_export(ax: Axes, ctx: PlotContext) -> None:
    """Export at the service (or export) meter against the Site Export Limit."""
    ctx.line(ax, ctx.pcs.export_a, lw=1.0, color="tab:green", label="export (- import)")
    ctx.line(ax, ctx.pcs.export_baseline_a, label="nothing held back", **BASELINE)
    limit = ctx.site.pcs.export_limit_a
    if limit is not None:
        ax.axhline(
            limit, color="tab:red", lw=1.1, gid="export-limit",
            label=f"Site Export Limit ({limit:g} A)",
        )  # fmt: skip
    ax.axhline(0.0, color="0.2", lw=0.5)
    title = "Export (A) against the Site Export Limit" if limit is not None else "Export (A)"
    ax.set_title(title, loc="left")
    ax.set_ylabel("A")


def car_energy(report: SimReport) -> dict[str, list[float]]:
    """Per controller, each car's delivered energy (kWh), and `wanted` (the same cars)."""
    runs = report.runs
    first = next(iter(runs.values()))
    out = {"wanted": [float(c["wanted_kwh"]) for c in first.metrics["cars"]]}
    for name, run in runs.items():
        out[name] = [float(c["delivered_kwh"]) for c in run.metrics["cars"]]
    return out


def draw_energy(ax: Axes, ctx: PlotContext) -> None:
    """Energy per car under each controller against what it wanted: bars for a few cars (in
    the order they arrived), for many the share of its energy each car got, sorted."""
    energy = car_energy(ctx.report)
    cars = ctx.run.metrics["cars"]
    order = sorted(range(len(cars)), key=lambda i: (cars[i]["arrive_s"], cars[i]["charger"]))
    energy = {name: [kwh[i] for i in order] for name, kwh in energy.items()}
    cars = [cars[i] for i in order]
    wanted = np.array(energy.pop("wanted"))
    n = len(wanted)
    if n <= MAX_CAR_BARS:
        width = 0.8 / max(len(energy), 1)
        slots = np.arange(n)
        ax.bar(slots, wanted, 0.9, fill=False, edgecolor="0.3", label="wanted")
        for k, (name, kwh) in enumerate(energy.items()):
            offset = (k - (len(energy) - 1) / 2) * width
            ax.bar(slots + offset, kwh, width * 0.95, label=name,
                   color=CONTROLLER_COLOURS.get(name))  # fmt: skip
        ax.set_xticks(slots, [f"{c['charger']}\n{c['arrive_s'] / 3600:.1f} h" for c in cars],
                      fontsize="x-small")  # fmt: skip
        ax.set_title("Energy per car (kWh) under each controller; outline: wanted", loc="left")
        ax.set_ylabel("kWh")
        return
    for name, kwh in energy.items():
        share = np.sort(np.divide(kwh, wanted, out=np.ones(n), where=wanted > 0)) * 100.0
        total = sum(kwh)
        ax.plot(np.arange(1, n + 1), share, lw=1.2, color=CONTROLLER_COLOURS.get(name),
                label=f"{name} ({total:,.0f} kWh)")  # fmt: skip
    ax.set_title(f"Energy per car: % of what it wanted, {n} cars sorted", loc="left")
    ax.set_xlabel("car (sorted by share)")
    ax.set_ylabel("% of wanted")
    ax.set_ylim(0.0, 105.0)
