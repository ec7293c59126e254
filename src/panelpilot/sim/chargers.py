"""The chargers' own side of power sharing: the last limit received, its lease, the fallback.

A charger applies `limit_a` from the last decision that reached it. If none reaches it for
`lease_s` (it lost the controller, or the controller is down) it runs at `fallback_a`, the
fair limit (DESIGN.md section 3.4-3.5; seed: "Fallback (Fair) Limit").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class ChargerBank:
    """Every charger's device-side state, stepped together."""

    def __init__(self, boot_limit_a: FloatArray, boot_fallback_a: FloatArray) -> None:
        n = len(boot_limit_a)
        self.limit_a = np.asarray(boot_limit_a, dtype=np.float64).copy()
        self.fallback_a = np.asarray(boot_fallback_a, dtype=np.float64).copy()
        self.received_s = np.full(n, -np.inf)
        self.lease_s = np.zeros(n)

    def receive(
        self,
        reached: BoolArray,
        limit_a: FloatArray,
        fallback_a: FloatArray,
        lease_s: FloatArray,
        t_s: float,
    ) -> None:
        """Chargers in `reached` take a new decision at `t_s`; the others keep their last."""
        if reached.all():
            self.limit_a, self.fallback_a, self.lease_s = limit_a, fallback_a, lease_s
            self.received_s = np.full(len(reached), t_s)
            return
        self.limit_a = np.where(reached, limit_a, self.limit_a)
        self.fallback_a = np.where(reached, fallback_a, self.fallback_a)
        self.lease_s = np.where(reached, lease_s, self.lease_s)
        self.received_s = np.where(reached, t_s, self.received_s)

    def pilot_a(self, t_s: float) -> FloatArray:
        """Each charger's pilot at `t_s`: its limit while the lease holds, else its fallback."""
        return np.where(t_s - self.received_s < self.lease_s, self.limit_a, self.fallback_a)
