"""What the plot draws that a run's trace holds only implicitly, derived from the trace.

* A car's limit without its probes: the controller offers a capped car its headroom back for
  the few seconds of a probe (control/demand.py), which drawn as a line is a comb of spikes
  that hides the trend. `limit_trend` takes out every short excursion above both its neighbours and
  says where it was, so the plot can mark it with a dot.
* Breaker heat: the breakers' thermal state (0 cold, 1 trips) step by step, from the circuit
  currents and the same model the run used (`sim/breaker.py`).
* The Power Control System's currents: the panel current against the Panel Limit, export
  against the Site Export Limit, and what each would have been with nothing held back (the
  baseline: solar at what the sun gave, batteries at what they wanted to discharge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.breaker import BreakerBank
from panelpilot.sim.pcs_metrics import panel_current_a
from panelpilot.sim.topology import Topology
from panelpilot.sim.world import Trace
from panelpilot.site import Site

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# A pilot excursion shorter than this is a probe, not a change of share: a probe lasts until
# the car's next settled reading (its response time plus a cycle, seconds), while taking turns
# changes a pilot every `rotation_s` (900 s by default).
PROBE_MAX_S = 60.0


@dataclass(frozen=True)
class Trend:
    """A pilot with its probes taken out, and where the probes were."""

    limit_a: FloatArray
    probe_index: IntArray  # first step of each probe taken out
    probe_a: FloatArray  # the pilot offered in that probe


def _segments(values: FloatArray) -> tuple[IntArray, IntArray]:
    """Starts and ends (exclusive) of the runs of equal values."""
    change = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate(([0], change)).astype(np.int64)
    ends = np.concatenate((change, [len(values)])).astype(np.int64)
    return starts, ends


def _nearest_long(long: NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """Per segment, the index of the last long segment before it and of the first after it
    (-1 where there is none)."""
    n = len(long)
    index = np.arange(n)
    before = np.maximum.accumulate(np.where(long, index, -1))
    before = np.concatenate(([-1], before[:-1]))
    after_rev = np.maximum.accumulate(np.where(long[::-1], index, -1))
    after = np.where(after_rev >= 0, n - 1 - after_rev, -1)[::-1]
    after = np.concatenate((after[1:], [-1]))
    return before.astype(np.int64), after.astype(np.int64)


def limit_trend(pilot_a: FloatArray, step_s: float, probe_max_s: float = PROBE_MAX_S) -> Trend:
    """The pilot with its probes held at the value before them: every segment shorter than
    `probe_max_s` above both the last longer segment before it and the first one after it (a
    probe is offered in a step or two, then taken back; see the module)."""
    values = np.asarray(pilot_a, dtype=np.float64)
    starts, ends = _segments(values)
    level = values[starts]
    long = (ends - starts) * step_s >= probe_max_s
    before, after = _nearest_long(long)
    floor = np.maximum(
        np.where(before >= 0, level[before], np.inf), np.where(after >= 0, level[after], -np.inf)
    )
    spike = ~long & (before >= 0) & (level > floor)
    out = values.copy()
    for i in np.flatnonzero(spike):
        out[starts[i] : ends[i]] = level[before[i]]
    # One dot per probe: at its first segment, at the most it offered.
    first = spike & ~np.concatenate(([False], spike[:-1]))
    groups = np.cumsum(first) - 1
    peaks = np.full(int(first.sum()), -np.inf)
    np.maximum.at(peaks, groups[spike], level[spike])
    return Trend(out, starts[first], peaks)


def reversals(values: FloatArray) -> int:
    """How often a series turns (up then down, or down then up): a comb turns at every tooth."""
    d = np.diff(np.asarray(values, dtype=np.float64))
    signs = np.sign(d[d != 0])
    return int(np.count_nonzero(signs[1:] != signs[:-1]))


def breaker_heat(topo: Topology, trace: Trace, step_s: float) -> FloatArray:
    """Each breaker's heat (0 cold, 1 trips) after every step, as `sim/breaker.py` models it."""
    current = trace.circuit_a[topo.breaker_circuits]
    bank = BreakerBank.of(topo.breaker_ratings_a)
    _steps, heat = bank.block(current, step_s)
    if heat is None:
        return np.zeros_like(current)
    return np.minimum(heat, 1.0)


@dataclass(frozen=True)
class PcsSeries:
    """The PCS currents of one run, each with its baseline (nothing held back)."""

    panel_a: FloatArray | None  # None without a Panel Limit
    panel_baseline_a: FloatArray | None
    export_a: FloatArray  # the export meter's export (minus its reading)
    export_baseline_a: FloatArray


def _held_back_a(site: Site, trace: Trace) -> tuple[FloatArray, FloatArray]:
    """Per inverter and battery, what the caps held back at each step."""
    controllable = np.array([s.controllable for s in site.solar], dtype=bool)
    solar_cut = (trace.solar_available_a - trace.solar_a) * controllable[:, None]
    battery_cut = np.maximum(trace.battery_wanted_a - np.maximum(trace.battery_a, 0.0), 0.0)
    return np.maximum(solar_cut, 0.0), battery_cut


def export_row(site: Site, topo: Topology) -> int:
    """The circuit whose meter measures export (the export meter, else the service's)."""
    meter = site.pcs.export_meter or site.circuits[0].meter
    return topo.meter_circuit.get(meter, 0) if meter else 0


def pcs_series(site: Site, topo: Topology, trace: Trace) -> PcsSeries:
    """The panel current and export, and their baselines, from one run's trace.

    The panel current is `max(site, 0) + solar + max(battery, 0)` (seeds/panel-limit.txt),
    which is `max(load, sources)` at the panel; with nothing held back the sources would have
    been larger by what the caps held back, and every amp held back would have been exported
    (Kirchhoff at the service), as `sim/pcs_metrics.py` counts the least curtailment."""
    solar_cut, battery_cut = _held_back_a(site, trace)
    export = -trace.circuit_a[export_row(site, topo)]
    cut = solar_cut.sum(axis=0) + battery_cut.sum(axis=0)
    panel = panel_current_a(site, topo, trace)
    baseline = None
    if panel is not None:
        p = topo.circuit_ids.index(site.pcs.panel or "")
        below_solar = topo.below(topo.solar_circuit)[p]
        below_batt = topo.below(topo.battery_circuit)[p]
        sources = below_solar @ trace.solar_a + below_batt @ np.maximum(trace.battery_a, 0.0)
        held = below_solar @ solar_cut + below_batt @ battery_cut
        load = trace.circuit_a[p] + sources
        baseline = np.maximum(np.maximum(load, sources + held), 0.0)
    return PcsSeries(panel, baseline, export, export + cut)


def thin(x: FloatArray, y: FloatArray, max_points: int) -> tuple[FloatArray, FloatArray]:
    """At most `max_points` points: the largest value of each bin, so no peak is lost."""
    n = len(x)
    if n <= max_points:
        return x, y
    size = -(-n // max_points)
    cut = n - n % size
    xs = x[:cut:size]
    ys = y[:cut].reshape(-1, size).max(axis=1)
    if cut < n:
        xs = np.append(xs, x[cut])
        ys = np.append(ys, y[cut:].max())
    return xs, ys
