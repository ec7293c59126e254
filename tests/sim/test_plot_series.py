"""What the plot derives from a trace: the pilot without its probes, thinned lines."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from panelpilot.sim.plot_series import PROBE_MAX_S, limit_trend, reversals, thin

# A share held for at least two probe lengths, so a probe inside it leaves both sides long.
SHARE = st.tuples(st.integers(0, 40), st.integers(int(2 * PROBE_MAX_S) + 12, 400))
PROBE = st.tuples(st.booleans(), st.integers(1, 10))


@given(st.lists(st.tuples(SHARE, PROBE), min_size=1, max_size=12))
def test_the_trend_is_the_pilot_with_every_probe_taken_out(
    shares: list[tuple[tuple[int, int], tuple[bool, int]]],
) -> None:
    pilot: list[float] = []
    expected: list[float] = []
    probes = 0
    for (level_a, held_s), (probed, probe_s) in shares:
        before = held_s // 2
        pilot += [float(level_a)] * before
        if probed:
            # Offered the max (48 A) in two steps, as the controller ramps a probe in.
            pilot += [44.0] + [48.0] * probe_s
            probes += 1
        pilot += [float(level_a)] * (held_s - before)
        expected += [float(level_a)] * (held_s + (probe_s + 1 if probed else 0))
    trend = limit_trend(np.array(pilot), 1.0)
    assert np.array_equal(trend.limit_a, expected)
    assert len(trend.probe_index) == probes
    assert all(p == 48.0 for p in trend.probe_a)
    assert reversals(trend.limit_a) <= reversals(np.array(pilot))


def test_reversals_count_every_turn() -> None:
    assert reversals(np.array([0.0, 1, 1, 2, 3])) == 0
    assert reversals(np.array([0.0, 6, 0, 6, 0])) == 3


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=500), st.integers(2, 50))
def test_thinning_keeps_every_peak(values: list[float], points: int) -> None:
    x = np.arange(len(values), dtype=np.float64)
    y = np.array(values)
    xs, ys = thin(x, y, points)
    assert len(xs) == len(ys) <= points + 1
    assert ys.max() == y.max()
