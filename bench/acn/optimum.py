"""The offline optimum: the most energy any schedule could deliver, as one LP (scipy's HiGHS).

Knowing every session in advance, choose a rate r[s, t] for each session s and period t of its
stay [arrival, departure) to maximise the energy delivered, subject to

* the infrastructure: sum over sessions of r[s, t] <= limit_a in every period;
* each EVSE's max pilot and the car's own on-board charger: 0 <= r[s, t] <= min(max pilot,
  max_power / voltage) (an ideal battery's bound: no taper);
* the request: sum over t of r[s, t] x kWh-per-amp-period <= energy_kwh.

The J1772 6 A minimum is relaxed (a rate may be anywhere in 0..max). With ideal batteries this
bounds every algorithm on either battery model from above.

`solve(events, taper_soc=0.8)` adds ACN's two-stage battery (`Linear2StageBattery`): above
`taper_soc` the most a car can take falls linearly to 0 at full, rate <= max_rate x (1 - soc)
/ (1 - taper_soc), whatever the pilot (ACN's continuous model keeps exactly this line for any
pilot). With D[s, t] the energy delivered to session s before period t (one more variable per
session-period, tied by D[s, t+1] = D[s, t] + r[s, t] x kWh-per-amp-period), each period adds

* r[s, t] + max_rate / ((1 - taper_soc) x capacity) x D[s, t]
  <= max_rate x (1 - init / capacity) / (1 - taper_soc).

The bound is taken at the start of each period, where the line is highest, so this is still an
upper bound on anything ACN's two-stage battery can be made to draw: the best any algorithm
could do on that battery model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

from bench.acn.events import EventSet

# ACN's `Linear2StageBattery` default `transition_soc`, the one the benchmark's cars have.
TWO_STAGE_TAPER_SOC = 0.8


class OptimumError(RuntimeError):
    """The LP solver did not reach an optimum (it always should: r = 0 is feasible)."""


@dataclass(frozen=True, slots=True)
class Optimum:
    """The optimal schedule's per-session energy and aggregate current per period."""

    delivered_kwh: tuple[float, ...]  # in the order of `EventSet.sessions`
    aggregate_a: NDArray[np.float64]  # one value per period, 0..horizon
    solve_s: float


def solve(events: EventSet, taper_soc: float | None = None) -> Optimum:
    """Solve the offline LP for `events`, with ideal batteries or, given `taper_soc`, ACN's
    two-stage batteries (see the module docstring)."""
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
    bounds = np.column_stack([np.zeros(n), np.asarray(upper)])
    cost = np.full(n, -k)
    a_eq = b_eq = None
    if taper_soc is not None:
        a_ub, b_ub, a_eq, b_eq, bounds, cost = _with_taper(
            events, taper_soc, sess, a_ub, b_ub, bounds, cost
        )
    start = time.perf_counter()
    result = linprog(
        c=cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
    )
    solve_s = time.perf_counter() - start
    if result.status != 0:
        raise OptimumError(f"HiGHS did not solve the offline LP: {result.message}")
    rates = np.asarray(result.x, dtype=float)[:n]
    delivered = np.bincount(sess, weights=rates * k, minlength=len(events.sessions))
    aggregate = np.asarray(np.bincount(period, weights=rates, minlength=horizon), np.float64)
    return Optimum(tuple(float(d) for d in delivered), aggregate, solve_s)


def _with_taper(
    events: EventSet,
    taper_soc: float,
    sess: NDArray[np.int64],
    a_ub: Any,
    b_ub: NDArray[np.float64],
    bounds: NDArray[np.float64],
    cost: NDArray[np.float64],
) -> tuple[Any, NDArray[np.float64], Any, NDArray[np.float64], NDArray[np.float64], Any]:
    """The LP's matrices with the two-stage taper added: D variables after the n rates (one per
    rate, the energy before that period), their chain as equalities, one taper row per rate."""
    if not 0.0 <= taper_soc < 1.0:
        raise ValueError(f"taper_soc {taper_soc}: allowed is 0 <= taper_soc < 1")
    k = events.energy_per_amp_period_kwh()
    n = len(sess)
    var = np.arange(n)
    sessions = events.sessions
    max_a = np.array([s.max_power_kw * 1000.0 / events.voltage_v for s in sessions])[sess]
    capacity = np.array([s.capacity_kwh for s in sessions])[sess]
    init = np.array([s.init_kwh for s in sessions])[sess]
    slope = max_a / ((1.0 - taper_soc) * capacity)
    # Rates are laid out session by session, periods in order: a rate's successor is the next
    # variable when it belongs to the same session.
    first = np.ones(n, dtype=bool)
    first[1:] = sess[1:] != sess[:-1]
    # Equalities: D[first] = 0; D[i] - D[i-1] - k r[i-1] = 0 for the others.
    rest = var[~first]
    eq_rows = np.concatenate([var, rest, rest])
    eq_cols = np.concatenate([n + var, n + rest - 1, rest - 1])
    eq_data = np.concatenate([np.ones(n), -np.ones(len(rest)), np.full(len(rest), -k)])
    a_eq = coo_matrix((eq_data, (eq_rows, eq_cols)), shape=(n, 2 * n)).tocsr()
    b_eq = np.zeros(n)
    # Taper rows: r[i] + slope D[i] <= max_a (1 - init / capacity) / (1 - taper_soc).
    taper = coo_matrix(
        (np.concatenate([np.ones(n), slope]), (np.concatenate([var, var]), np.r_[var, n + var])),
        shape=(n, 2 * n),
    )
    widened = coo_matrix(a_ub)
    widened = coo_matrix((widened.data, (widened.row, widened.col)), shape=(a_ub.shape[0], 2 * n))
    a_ub = vstack([widened, taper]).tocsr()
    b_ub = np.concatenate([b_ub, max_a * (1.0 - init / capacity) / (1.0 - taper_soc)])
    bounds = np.vstack([bounds, np.column_stack([np.zeros(n), np.full(n, np.inf)])])
    cost = np.concatenate([cost, np.zeros(n)])
    return a_ub, b_ub, a_eq, b_eq, bounds, cost
