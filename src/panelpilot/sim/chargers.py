"""The chargers' own side of power sharing: the last limit received, its lease, the fallback.

A charger applies `limit_a` from the last decision that reached it until that decision's lease
ends (`until_s`, on the controller's clock: a simulated charger's clock is exact). After that
(it lost the controller, or the controller is down) it runs at `fallback_a`, the fair limit
(DESIGN.md section 3.4-3.5; seed: "Fallback (Fair) Limit").
"""

from __future__ import annotations

from enum import Enum

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class Change(Enum):
    """What a decision changes in what the devices hold."""

    NONE = "none"
    RENEWAL = "renewal"  # only lease ends still ahead move: every pilot stays as it is
    OTHER = "other"  # a limit, a fallback, a pilot now (or an inverter's cap)


class ChargerBank:
    """Every charger's device-side state, stepped together."""

    def __init__(self, boot_limit_a: FloatArray, boot_fallback_a: FloatArray) -> None:
        n = len(boot_limit_a)
        self.limit_a = np.asarray(boot_limit_a, dtype=np.float64).copy()
        self.fallback_a = np.asarray(boot_fallback_a, dtype=np.float64).copy()
        self.until_s = np.full(n, -np.inf)  # no lease yet: the fallback applies

    def after(
        self, reached: BoolArray, limit_a: FloatArray, fallback_a: FloatArray, until_s: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """What the chargers would hold once those in `reached` take a decision."""
        if reached.all():
            return limit_a, fallback_a, until_s
        return (
            np.where(reached, limit_a, self.limit_a),
            np.where(reached, fallback_a, self.fallback_a),
            np.where(reached, until_s, self.until_s),
        )

    def change(
        self,
        reached: BoolArray,
        limit_a: FloatArray,
        fallback_a: FloatArray,
        until_s: FloatArray,
        t_s: float,
    ) -> Change:
        """What taking a decision at `t_s` would change in what the chargers hold."""
        limit, fallback, until = self.after(reached, limit_a, fallback_a, until_s)
        if limit is self.limit_a and fallback is self.fallback_a and until is self.until_s:
            # The very arrays they hold (a policy repeats its orders' arrays while its
            # decisions repeat), and a decision's figures are never NaN: nothing changes.
            return Change.NONE
        if not (np.array_equal(limit, self.limit_a) and np.array_equal(fallback, self.fallback_a)):
            return Change.OTHER
        if np.array_equal(until, self.until_s):
            return Change.NONE
        # A lease renewed after it ended is not a renewal: that pilot rises from the fallback.
        return Change.RENEWAL if np.array_equal(t_s < until, t_s < self.until_s) else Change.OTHER

    def receive(
        self, reached: BoolArray, limit_a: FloatArray, fallback_a: FloatArray, until_s: FloatArray
    ) -> None:
        """Chargers in `reached` take a new decision; the others keep their last."""
        self.limit_a, self.fallback_a, self.until_s = self.after(
            reached, limit_a, fallback_a, until_s
        )

    def pilot_a(self, t_s: float) -> FloatArray:
        """Each charger's pilot at `t_s`: its limit while the lease holds, else its fallback."""
        return np.where(t_s < self.until_s, self.limit_a, self.fallback_a)

    def next_lapse_s(self, t_s: float) -> float:
        """The first lease end after `t_s` at which some charger's pilot changes (one whose
        limit is not its fallback)."""
        ahead = self.until_s[(self.until_s > t_s) & (self.limit_a != self.fallback_a)]
        return float(ahead.min()) if len(ahead) else float("inf")
