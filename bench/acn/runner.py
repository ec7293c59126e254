"""Run one algorithm on one event set in ACN-Sim, with ACN's own models and analysis.

Every run builds its network, EVs and batteries afresh from the `EventSet` (ACN mutates them),
so each algorithm sees the same events from the same state. EVSEs are ACN `FiniteRatesEVSE`s
with the J1772 pilots 0, 6..32 A (the rule every algorithm here must obey: no pilot between 0
and 6 A); one `Current` constraint over all of them at the scenario's limit; batteries ACN's
`Linear2StageBattery` (tapering above 80 % state of charge) or its ideal `Battery`.
"""

from __future__ import annotations

import statistics
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from acnportal import acnsim, algorithms

from bench.acn.adapter import Counters, PanelpilotAlgo
from bench.acn.events import MAX_PILOT_A, MIN_PILOT_A, EventSet
from bench.acn.metrics import Metrics, metrics_of
from bench.acn.optimum import TWO_STAGE_TAPER_SOC, solve

BATTERIES = ("two-stage", "ideal")
START = datetime(2026, 12, 1)
CONSTRAINT = "service"
# An algorithm from the event set and panelpilot's control overrides (ACN's ignore them).
Factory = Callable[[EventSet, Mapping[str, float]], Any]


@dataclass(frozen=True, slots=True)
class Result:
    """One algorithm on one scenario and battery model."""

    metrics: Metrics
    counters: Counters | None  # panelpilot's only
    invalid_schedules: int  # ACN's own "Invalid schedule provided" warnings
    solve_s: float | None = None  # the offline LP's one solve
    period_us: float | None = None  # median time of a whole period (panelpilot: all its cycles)


class StationRampdown(algorithms.SimpleRampdown):
    """ACN's SimpleRampdown with its bounds keyed by EVSE. In acnportal 0.3.3 the estimator
    keys them by session id while `apply_upper_bound_estimate` looks them up by station id,
    so the estimate is never applied (the runs come out identical to the plain algorithms);
    this re-keys them and changes nothing else."""

    def get_maximum_rates(self, sessions: list[Any]) -> dict[str, float]:
        by_session: dict[str, float] = super().get_maximum_rates(sessions)
        return {s.station_id: by_session[s.session_id] for s in sessions}


def _sorted(sort_fn: Any, rampdown: bool, robin: bool = False) -> Factory:
    """An ACN sorted algorithm; with `rampdown`, ACN's SimpleRampdown estimate of each car's
    max rate from what it really draws (as `StationRampdown`), with which ACN's algorithms
    stop reserving 32 A for a car that tapers or has a smaller on-board charger."""

    def build(events: EventSet, control: Mapping[str, float]) -> Any:
        kind = algorithms.RoundRobin if robin else algorithms.SortedSchedulingAlgo
        if not rampdown:
            return kind(sort_fn)
        return kind(sort_fn, estimate_max_rate=True, max_rate_estimator=StationRampdown())

    return build


def _panelpilot(events: EventSet, control: Mapping[str, float]) -> Any:
    return PanelpilotAlgo(events, control=control)


def _panelpilot_needs(events: EventSet, control: Mapping[str, float]) -> Any:
    return PanelpilotAlgo(events, with_needs=True, control=control)


# Name -> factory; "optimum" is solved offline, not simulated.
ALGORITHMS: dict[str, Factory] = {
    "panelpilot": _panelpilot,
    "roundrobin": _sorted(algorithms.first_come_first_served, False, robin=True),
    "edf": _sorted(algorithms.earliest_deadline_first, False),
    "llf": _sorted(algorithms.least_laxity_first, False),
    "roundrobin-rampdown": _sorted(algorithms.first_come_first_served, True, robin=True),
    "edf-rampdown": _sorted(algorithms.earliest_deadline_first, True),
    "llf-rampdown": _sorted(algorithms.least_laxity_first, True),
    "panelpilot-needs": _panelpilot_needs,
}
DEFAULT_ALGORITHMS = (
    "panelpilot",
    "panelpilot-needs",
    "roundrobin",
    "edf",
    "llf",
    "roundrobin-rampdown",
    "edf-rampdown",
    "llf-rampdown",
    "optimum",
)


def battery_of(kind: str, capacity_kwh: float, init_kwh: float, max_power_kw: float) -> Any:
    """ACN's battery model for `kind` ("two-stage" or "ideal")."""
    if kind == "two-stage":
        return acnsim.Linear2StageBattery(capacity_kwh, init_kwh, max_power_kw)
    if kind == "ideal":
        return acnsim.Battery(capacity_kwh, init_kwh, max_power_kw)
    raise ValueError(f"battery model {kind!r}: allowed are {', '.join(BATTERIES)}")


def network_of(events: EventSet) -> Any:
    """ACN's charging network: J1772 EVSEs under one current constraint."""
    network = acnsim.ChargingNetwork()
    rates = [0, *range(MIN_PILOT_A, MAX_PILOT_A + 1)]
    for sid in events.stations:
        network.register_evse(acnsim.FiniteRatesEVSE(sid, rates), events.voltage_v, 0)
    network.add_constraint(acnsim.Current(list(events.stations)), events.limit_a, name=CONSTRAINT)
    return network


def queue_of(events: EventSet, battery: str) -> Any:
    """ACN's event queue: one plug-in per session (ACN adds the unplug at departure)."""
    plugins = []
    for s in events.sessions:
        ev = acnsim.EV(
            s.arrival,
            s.departure,
            s.energy_kwh,
            s.station_id,
            s.session_id,
            battery_of(battery, s.capacity_kwh, s.init_kwh, s.max_power_kw),
        )
        plugins.append(acnsim.PluginEvent(s.arrival, ev))
    return acnsim.EventQueue(plugins)


def simulate(
    events: EventSet, battery: str, algorithm: str, control: Mapping[str, float] | None = None
) -> Result:
    """Run `algorithm` in ACN-Sim on `events` and measure it with ACN's analysis functions
    (`control`: panelpilot's `control:` settings overridden)."""
    if algorithm == "optimum":
        return optimum(events, battery)
    scheduler = ALGORITHMS[algorithm](events, control or {})
    sim = acnsim.Simulator(
        network_of(events),
        scheduler,
        queue_of(events, battery),
        START,
        period=events.period_min,
        verbose=False,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim.run()
    invalid = sum("Invalid schedule" in str(w.message) for w in caught)
    evs = [sim.ev_history[s.session_id] for s in events.sessions]
    aggregate = acnsim.constraint_currents(sim)[CONSTRAINT]
    # Periods with no car to charge cost every algorithm next to nothing: left out.
    counters = scheduler.counters if isinstance(scheduler, PanelpilotAlgo) else None
    cycles = counters.cycles if counters is not None else [1] * len(scheduler.solve_stats)
    stats = list(zip(scheduler.solve_stats, cycles, strict=True))
    periods = [float(s["solve_time"]) for s, _ in stats if s["active_sessions"]]
    # A decision is one `decide` (panelpilot runs 1 + its follow-up cycles in a period).
    times = [float(s["solve_time"]) / n for s, n in stats if s["active_sessions"]]
    m = metrics_of(
        [ev.energy_delivered for ev in evs],
        [ev.requested_energy for ev in evs],
        np.asarray(aggregate, dtype=float),
        events.limit_a,
        1e6 * statistics.median(times) if times else None,
    )
    assert abs(m.energy_pct - 100.0 * acnsim.proportion_of_energy_delivered(sim)) < 1e-6
    period_us = 1e6 * statistics.median(periods) if periods else None
    return Result(m, counters, invalid, period_us=period_us)


def optimum(events: EventSet, battery: str) -> Result:
    """The offline LP's figures for `battery`: ACN's two-stage taper, or ideal batteries."""
    if battery not in BATTERIES:
        raise ValueError(f"battery model {battery!r}: allowed are {', '.join(BATTERIES)}")
    best = solve(events, TWO_STAGE_TAPER_SOC if battery == "two-stage" else None)
    m = metrics_of(
        best.delivered_kwh,
        [s.energy_kwh for s in events.sessions],
        best.aggregate_a,
        events.limit_a,
        None,
    )
    return Result(m, None, 0, best.solve_s)
