"""Simulator benchmarks: a day at 1 s steps of the seed's 7-charger site and the 200-charger garage.

`make bench` runs them under pytest-benchmark (one round each: a day is long). Run as a script
(`python bench/bench_sim.py`) to print CPU seconds per controller, with the time spent inside
`Controller.decide` split out, as written up in docs/performance.md.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from panelpilot.sim import load_scenario
from panelpilot.sim.engine import build_world, run
from panelpilot.sim.policies import POLICIES, PanelpilotPolicy

SCENARIOS = Path(__file__).parents[1] / "examples" / "scenarios"
DAYS = ("seed-day.yaml", "garage-200.yaml")


def timed_run(name: str, controller: str) -> dict[str, Any]:
    """CPU seconds of one controller's run on a scenario and of its decide() calls; metrics."""
    loaded = load_scenario(SCENARIOS / name)
    world = build_world(loaded)
    policy = POLICIES[controller](loaded.site, world.topo)
    spent = {"decide": 0.0}
    calls = {"decide": 0, "steady": 0}
    if isinstance(policy, PanelpilotPolicy):
        ctl = policy.controller
        inner: Callable[..., Any] = ctl.decide

        def timed(*args: Any, _inner: Callable[..., Any] = inner) -> Any:
            start = time.process_time()
            try:
                decision = _inner(*args)
            finally:
                spent["decide"] += time.process_time() - start
            calls["decide"] += 1
            calls["steady"] += decision.steady_until_t > decision.t
            return decision

        ctl.decide = timed  # type: ignore[method-assign,assignment]
    start = time.process_time()
    result = run(world, policy)
    total = time.process_time() - start
    return {
        "total_s": total,
        "controller_s": spent["decide"],
        "decide_calls": float(calls["decide"]),
        "steady_calls": float(calls["steady"]),
        "steps": float(len(world.times)),
        "cars": len(world.cars),
        "metrics": result.metrics,
    }


def test_seed_day_none(benchmark: Any) -> None:
    benchmark.pedantic(timed_run, args=("seed-day.yaml", "none"), rounds=1, iterations=1)


def test_seed_day_panelpilot(benchmark: Any) -> None:
    benchmark.pedantic(timed_run, args=("seed-day.yaml", "panelpilot"), rounds=1, iterations=1)


def test_garage_200_day_none(benchmark: Any) -> None:
    benchmark.pedantic(timed_run, args=("garage-200.yaml", "none"), rounds=1, iterations=1)


def test_garage_200_day_panelpilot(benchmark: Any) -> None:
    benchmark.pedantic(timed_run, args=("garage-200.yaml", "panelpilot"), rounds=1, iterations=1)


def main() -> None:
    """Print a table of CPU seconds per scenario and controller."""
    names = sys.argv[1:] or list(DAYS)
    print(
        "| scenario | controller | steps | cars | CPU s total | in decide() | decide() calls "
        "| steady | simulator | us/step | kWh delivered | trips | overload A·s "
        "| longest overload s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        for controller in ("none", "static", "panelpilot"):
            r = timed_run(name, controller)
            sim_s = r["total_s"] - r["controller_s"]
            m = r["metrics"]
            print(
                f"| {name} | {controller} | {r['steps']:.0f} | {r['cars']} | {r['total_s']:.1f} | "
                f"{r['controller_s']:.1f} | {r['decide_calls']:.0f} | "
                f"{r['steady_calls']:.0f} | {sim_s:.1f} | "
                f"{1e6 * sim_s / r['steps']:.0f} | "
                f"{m['energy_delivered_kwh']:.1f} | {m['breaker_trips']} | "
                f"{m['overload_amp_s']:.1f} | {m['longest_overload_s']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
