"""The figures compared per scenario and algorithm (pure numpy).

Energy share and fairness come from each session's delivered and requested kWh; violations and
peak from the aggregate current on the one infrastructure constraint, period by period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Amps over a limit that still count as within it (float noise in ACN's summed rates).
VIOLATION_TOL_A = 1e-3

Floats = Sequence[float] | NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Metrics:
    """One algorithm on one scenario."""

    energy_pct: float  # delivered / requested, all sessions
    violations: int  # periods with the aggregate current over the limit
    max_over_a: float  # the most it was over (0 when never)
    peak_a: float
    jain: float  # Jain's index of delivered/requested per session
    decision_us: float | None  # median time per decision (None: offline, solved once)


def jain(values: Floats) -> float:
    """Jain's fairness index (sum x)^2 / (n sum x^2): 1 when all equal, 1/n when one has all."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return 1.0
    squares = float(np.sum(x * x))
    if squares == 0.0:
        return 1.0
    return float(np.sum(x)) ** 2 / (x.size * squares)


def over_limit(aggregate_a: Floats, limit_a: float) -> tuple[int, float]:
    """How many periods the aggregate current was over `limit_a`, and by how much at most."""
    over = np.asarray(aggregate_a, dtype=float) - limit_a
    bad = over > VIOLATION_TOL_A
    return int(np.count_nonzero(bad)), float(over[bad].max()) if bad.any() else 0.0


def metrics_of(
    delivered_kwh: Sequence[float],
    requested_kwh: Sequence[float],
    aggregate_a: Floats,
    limit_a: float,
    decision_us: float | None,
) -> Metrics:
    """The figures from per-session energies and the aggregate current per period."""
    delivered = np.asarray(delivered_kwh, dtype=float)
    requested = np.asarray(requested_kwh, dtype=float)
    count, most = over_limit(aggregate_a, limit_a)
    peak = float(np.max(aggregate_a)) if len(aggregate_a) else 0.0
    return Metrics(
        energy_pct=100.0 * float(delivered.sum()) / float(requested.sum()),
        violations=count,
        max_over_a=most,
        peak_a=peak,
        jain=jain(delivered / requested),
        decision_us=decision_us,
    )
