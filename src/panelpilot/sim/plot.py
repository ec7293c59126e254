"""The timeline plot: circuit currents against their limits, and each car's pilot and draw."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window: the CLI runs headless

import matplotlib.pyplot as plt

from panelpilot.sim.runner import SimReport


def plot_report(report: SimReport, out: Path, controller: str = "panelpilot") -> None:
    """Write a PNG of one controller's run (default panelpilot, else the first run)."""
    run = report.runs.get(controller) or next(iter(report.runs.values()))
    topo = report.world.topo
    trace = run.trace
    hours = trace.t_s / 3600.0
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    for i, cid in enumerate(topo.circuit_ids):
        (line,) = top.plot(hours, trace.circuit_a[i], lw=0.8, label=f"{cid}")
        top.axhline(topo.circuit_limit_a[i], color=line.get_color(), ls="--", lw=0.8)
    for trip in run.metrics["trips"]:
        top.axvline(trip["t_s"] / 3600.0, color="red", lw=1.5)
    top.set_ylabel("current (A); dashed: limit")
    top.set_title(f"{report.as_json()['scenario']['name']} — {run.policy}")
    top.legend(loc="upper right", fontsize="small", ncol=2)
    for j in range(trace.pilot_a.shape[0]):
        (line,) = bottom.plot(hours, trace.draw_a[j], lw=0.9, label=topo.charger_ids[j])
        bottom.plot(hours, trace.pilot_a[j], lw=0.6, ls=":", color=line.get_color())
    bottom.set_ylabel("car draw (A); dotted: pilot")
    bottom.set_xlabel("time (h)")
    bottom.legend(loc="upper right", fontsize="small", ncol=4)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
