"""What a run is judged by, accumulated step by step (no per-step history is needed).

Overload is current above a circuit's `limit_a` (its continuous limit) or a network's
`network_limit_a`; amp-seconds integrate the excess over time. Fairness is Jain's index
(Jain, Chiu, Hawe 1984: (sum x)^2 / (n sum x^2), 1 = perfectly fair) of each car's share of
what it would draw (draw / acceptance), over the cars that want current at that step,
averaged over every step with at least two such cars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

JOULES_PER_KWH = 3.6e6
# Currents within this of a limit count as at the limit (floating point, not physics).
TOLERANCE_A = 1e-6


def _longest_run(over: BoolArray) -> NDArray[np.int64]:
    """Per row, the longest run of consecutive True values."""
    rows, _n = over.shape
    out = np.zeros(rows, dtype=np.int64)
    for i in range(rows):
        if not over[i].any():
            continue
        edges = np.diff(np.concatenate(([0], over[i].astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        out[i] = int((ends - starts).max())
    return out


def limit_figures(
    ids: list[str], limit_a: FloatArray, current_a: FloatArray, dt_s: float
) -> dict[str, dict[str, float]]:
    """Per limit (circuit or network), from its current at every step: the excess figures."""
    over = current_a - limit_a[:, None]
    over = np.where(over > TOLERANCE_A, over, 0.0)
    is_over = over > 0
    longest = _longest_run(is_over)
    n = current_a.shape[1]
    return {
        cid: {
            "limit_a": float(limit_a[i]),
            "peak_a": round(float(current_a[i].max()), 3) if n else 0.0,
            "overload_amp_s": round(float(over[i].sum()) * dt_s, 3),
            "peak_overload_a": round(float(over[i].max()), 3) if n else 0.0,
            "seconds_over_limit": float(is_over[i].sum()) * dt_s,
            "longest_overload_s": float(longest[i]) * dt_s,
        }
        for i, cid in enumerate(ids)
    }


def excess_amp_s(current_a: FloatArray, limit_a: float, dt_s: float) -> float:
    """Amp-seconds of `current_a` (one value per step) above `limit_a`."""
    return float(np.maximum(current_a - limit_a, 0.0).sum()) * dt_s


@dataclass
class Fairness:
    """Jain's index of draw / acceptance among cars that want current, step by step."""

    total: float = 0.0
    steps: int = 0

    def add_block(self, draw_a: FloatArray, accept_a: FloatArray) -> None:
        """Count a block of steps: `draw_a` and `accept_a` per charger and step."""
        wanting = accept_a > 0
        n = np.count_nonzero(wanting, axis=0)
        share = np.divide(draw_a, accept_a, out=np.zeros_like(accept_a), where=wanting)
        square = (share * share).sum(axis=0)
        s = share.sum(axis=0)
        counted = n >= 2
        index = np.divide(s * s, n * square, out=np.ones_like(s), where=counted & (square > 0))
        self.total += float(index[counted].sum())
        self.steps += int(np.count_nonzero(counted))

    def mean(self) -> float | None:
        """The mean index, or None when cars never had to share."""
        return self.total / self.steps if self.steps else None


def summary(
    circuits: dict[str, dict[str, float]],
    networks: dict[str, dict[str, float]],
    fairness: Fairness,
    solar_curtailed_kwh: float,
    pcs_amp_s: dict[str, float],
    delivered_kwh: FloatArray,
    unmet_kwh: FloatArray,
    cars: list[dict[str, Any]],
    trips: list[dict[str, Any]],
) -> dict[str, Any]:
    """The metrics of one controller on one scenario, named as issue 3 names them."""
    limits = [*circuits.values(), *networks.values()]
    jain = fairness.mean()
    return {
        "energy_delivered_kwh": round(float(delivered_kwh.sum()), 3),
        "energy_unmet_kwh": round(float(unmet_kwh.sum()), 3),
        "overload_amp_s": round(sum(x["overload_amp_s"] for x in limits), 3),
        "peak_overload_a": round(max((x["peak_overload_a"] for x in limits), default=0.0), 3),
        "seconds_over_limit": max((x["seconds_over_limit"] for x in limits), default=0.0),
        "longest_overload_s": max((x["longest_overload_s"] for x in limits), default=0.0),
        "breaker_trips": len(trips),
        "jain_fairness": None if jain is None else round(jain, 4),
        "solar_curtailed_kwh": round(solar_curtailed_kwh, 3),
        "panel_limit_amp_s": round(pcs_amp_s.get("panel", 0.0), 3),
        "conductor_limit_amp_s": round(pcs_amp_s.get("conductor", 0.0), 3),
        "export_limit_amp_s": round(pcs_amp_s.get("export", 0.0), 3),
        "circuits": circuits,
        "networks": networks,
        "trips": trips,
        "cars": cars,
    }
