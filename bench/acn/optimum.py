"""The offline optimum: the most energy any schedule could deliver, as one LP (scipy's HiGHS).

Knowing every session in advance, choose a rate r[s, t] for each session s and period t of its
stay [arrival, departure) to maximise the energy delivered, subject to

* the infrastructure: sum over sessions of r[s, t] <= limit_a in every period;
* each EVSE's max pilot and the car's own on-board charger: 0 <= r[s, t] <= min(max pilot,
  max_power / voltage) (an ideal battery's bound: no taper);
* the request: sum over t of r[s, t] x kWh-per-amp-period <= energy_kwh.

The J1772 6 A minimum is relaxed (a rate may be anywhere in 0..max) and batteries are ideal,
so this bounds every algorithm on either battery model from above.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from bench.acn.events import EventSet


class OptimumError(RuntimeError):
    """The LP solver did not reach an optimum (it always should: r = 0 is feasible)."""


@dataclass(frozen=True, slots=True)
class Optimum:
    """The optimal schedule's per-session energy and aggregate current per period."""

    delivered_kwh: tuple[float, ...]  # in the order of `EventSet.sessions`
    aggregate_a: NDArray[np.float64]  # one value per period, 0..horizon
    solve_s: float


def solve(events: EventSet) -> Optimum:
    """Solve the offline LP for `events` (see the module docstring)."""
    k = events.energy_per_amp_period_kwh()
    horizon = events.horizon()
    columns: list[tuple[int, int]] = []  # (session index, period) per variable
    upper: list[float] = []
    for s, session in enumerate(events.sessions):
        bound = min(events.max_pilot_a, session.max_power_kw * 1000.0 / events.voltage_v)
        for t in range(session.arrival, session.departure):
            columns.append((s, t))
            upper.append(bound)
    n = len(columns)
    if n == 0:
        return Optimum((0.0,) * len(events.sessions), np.zeros(horizon, np.float64), 0.0)
    sess = np.fromiter((c[0] for c in columns), dtype=np.int64, count=n)
    period = np.fromiter((c[1] for c in columns), dtype=np.int64, count=n)
    var = np.arange(n)
    # Rows 0..horizon-1: the limit in each period; then one row per session: its request.
    rows = np.concatenate([period, horizon + sess])
    data = np.concatenate([np.ones(n), np.full(n, k)])
    a_ub = coo_matrix(
        (data, (rows, np.concatenate([var, var]))), shape=(horizon + len(events.sessions), n)
    ).tocsr()
    b_ub = np.concatenate(
        [np.full(horizon, events.limit_a), [s.energy_kwh for s in events.sessions]]
    )
    start = time.perf_counter()
    result = linprog(
        c=np.full(n, -k),
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=np.column_stack([np.zeros(n), np.asarray(upper)]),
        method="highs",
    )
    solve_s = time.perf_counter() - start
    if result.status != 0:
        raise OptimumError(f"HiGHS did not solve the offline LP: {result.message}")
    rates = np.asarray(result.x, dtype=float)
    delivered = np.bincount(sess, weights=rates * k, minlength=len(events.sessions))
    aggregate = np.asarray(np.bincount(period, weights=rates, minlength=horizon), np.float64)
    return Optimum(tuple(float(d) for d in delivered), aggregate, solve_s)
