"""The meter readings under which the next cycles repeat the last one, so a caller that knows
them ahead (the simulator) need not run those cycles.

After a steady cycle (`steady.Steady`: a fixed point, or a cycle that repeated one) the next
cycles decide the same while their charger readings are the same, no command comes, no timer
falls due and each constraint's capacity stays in its region. The capacity of a metered
circuit moves with its meter; `Quiet` states the readings that keep it in the region, worked
out with the very expressions `capacity.base_caps` and `loads.uncontrolled` use, and one more
condition that makes skipping those cycles exact:

* each reading is the load estimate itself (`loads.follows`: a fall of less than
  `LOAD_RELEASE_A_PER_S` since the cycle before, with `CHAIN_MARGIN_A` to spare), so the
  estimate after a run of such cycles is the last reading, however many of them were run;
* no meter reads above its circuit's limit less the margin (no overload, nothing held in
  `over_since`);
* the site has nothing for the PCS step to control (`pcs_caps.nothing_to_control`), so its
  memory does not depend on the cycles either.

So `Quiet.cycles(times, readings)` counts the cycles that repeat the last one, and for any
`q` it returns, running only the `q`-th of them leaves the controller exactly as running all
`q` would (the test suite checks both ways give the same decisions and memories).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from panelpilot.control.layout import Index
from panelpilot.control.loads import STEPS_PER_A, follows, load_steps, net_load, uncontrolled
from panelpilot.control.pcs_caps import nothing_to_control
from panelpilot.control.state import ControllerState
from panelpilot.control.steady import Steady
from panelpilot.control.tolerances import EPS
from panelpilot.control.topology import Topology
from panelpilot.site.model import Site

# A reading counts as the estimate only with this much (A) to spare over the decaying one,
# so that the sum of a run's steps can never come out on the other side of a single step.
CHAIN_MARGIN_A = 1e-6
# The most meter steps (0.1 A) the counted load is searched for on either side.
SEARCH_STEPS = 1 << 20


@dataclass(frozen=True, slots=True)
class Band:
    """One meter's readings that keep the cycles repeating."""

    meter: str
    drawn_a: float  # the chargers below its circuit, as the last cycle counted them
    load_a: float  # the circuit's load estimate after the last cycle
    over_a: float  # a reading above this is an overload
    steps: tuple[int, int] | None  # the counted load's whole meter steps allowed (None: any)

    def run(self, times: Sequence[float], column: Sequence[float | None], t: float, n: int) -> int:
        """How many of the first `n` cycles at `times` keep this band's conditions, its meter
        reading `column[i]` in the `i`-th (the last cycle at `t`)."""
        load, before, over, drawn, steps = self.load_a, t, self.over_a, self.drawn_a, self.steps
        for i in range(n):
            reading = column[i]
            if reading is None or reading > over:
                return i
            measured = net_load(reading, drawn)
            at = times[i]
            if not follows(measured - CHAIN_MARGIN_A, load, at - before):
                return i
            if steps is not None and not steps[0] <= load_steps(measured) <= steps[1]:
                return i
            load, before = measured, at
        return n


@dataclass(frozen=True, slots=True)
class Quiet:
    """The conditions under which the cycles after `t` repeat the cycle at `t`."""

    t: float  # the last cycle's time
    until_t: float  # a timer falls due here
    bands: tuple[Band, ...]

    @property
    def meters(self) -> tuple[str, ...]:
        return tuple(b.meter for b in self.bands)

    def cycles(self, times: Sequence[float], readings: Mapping[str, Sequence[float | None]]) -> int:
        """How many of the cycles at `times` (after `t`, in order), with each meter reading
        `readings[meter][i]` (None: lost) and every other input as in the last cycle, repeat
        it."""
        count = bisect_left(times, self.until_t)  # those before the first timer
        for band in self.bands:  # each band's conditions depend only on its own readings
            count = band.run(times, readings[band.meter], self.t, count)
        return count


def quiet(
    steady: Steady | None,
    state: ControllerState,
    drawn: Mapping[str, float],
    topology: Topology,
    index: Index,
    site: Site,
) -> Quiet | None:
    """The readings under which the cycles after the last one, a steady one, repeat it (see
    the module); None after a cycle that was not steady, or where the memory moves with every
    cycle (an overload held, something for the PCS step to control), or a meter is lost."""
    steady = _past_renewals(steady)  # (`acknowledged`: its memory differs only in chargers)
    t, cfg = state.t, site.control
    if (
        steady is None
        or steady.renewing
        or t is None
        or state.over_since
        or not nothing_to_control(site, state.pcs)
        or steady.lost
    ):
        return None
    loads_a = state.uncontrolled_a
    bands = []
    for circuit_id in topology.metered:
        circuit = topology.circuits[circuit_id]
        load = loads_a[circuit_id]
        k = index.circuit_k.get(circuit_id)
        steps = None
        if k is not None:
            steps = _steps(
                load_steps(load),
                circuit.limit_a - cfg.margin_a,
                steady.reserved.amounts[k],
                steady.low_a[k],
                steady.high_a[k],
            )
            if steps is None:
                return None
        bands.append(
            Band(
                circuit.meter or "",
                drawn.get(circuit_id, 0.0),
                load,
                circuit.limit_a - cfg.margin_a + EPS,
                steps,
            )
        )
    return Quiet(t, steady.until_t, tuple(bands))


def acknowledged(
    steady: Steady | None, state: ControllerState
) -> tuple[Steady | None, ControllerState]:
    """After renewals worked out ahead (`steady.Ahead`), the fixed point the next cycle is
    and the memory with them acknowledged: its cycles and those after it repeat that fixed
    point. `steady` and `state` as they are otherwise."""
    after = _past_renewals(steady)
    if after is steady:
        return steady, state
    assert steady is not None and steady.ahead is not None
    return after, replace(state, chargers=steady.ahead.chargers)


def _past_renewals(steady: Steady | None) -> Steady | None:
    """After renewals worked out ahead, the fixed point the next cycle is; else `steady`."""
    if steady is None or not steady.renewing or steady.ahead is None:
        return steady
    return steady.ahead.steady


def skipped(
    steady: Steady | None,
    state: ControllerState,
    topology: Topology,
    meters: Mapping[str, float | None],
    drawn: Mapping[str, float],
    t: float,
) -> ControllerState:
    """The memory a cycle at `t` leaves that repeats the last one (one `Quiet.cycles`
    counted, with these meter readings): its time and the load estimates, as
    `loads.uncontrolled` works them out; nothing else moves in such a cycle (no overload is
    held, the PCS step has nothing to control, the chargers' steps repeat). Raises
    `ValueError` where no such cycle can be: after a cycle that was not steady or renewed
    leases, with an overload held, or at a time not after the last cycle and before the
    first timer."""
    last_t = state.t
    if steady is None or steady.renewing or state.over_since or last_t is None:
        raise ValueError(f"t={t:g}: no quiet cycle to leave out after t={last_t}")
    if not last_t < t < steady.until_t:
        raise ValueError(f"t={t:g}: not between t={last_t:g} and the first timer")
    u = uncontrolled(topology, state.uncontrolled_a, meters, drawn, t - last_t)
    return replace(state, t=t, uncontrolled_a=u)


@lru_cache(maxsize=4096)  # a pure function of its arguments, which recur along a quiet stretch
def _steps(
    now: int, base_a: float, reserved_a: float, low: float, high: float
) -> tuple[int, int] | None:
    """The counted loads (whole meter steps) whose capacity, `base_a - steps / STEPS_PER_A -
    reserved_a` as `capacity` works it out, is in [low, high]: a capacity falls as the load
    rises, so they are one run of steps, around `now` (None if `now` is not one of them)."""

    def room(n: int) -> float:
        return (base_a - n / STEPS_PER_A) - reserved_a

    if not low <= room(now) <= high:
        return None
    # The most steps whose room is still >= low, and the fewest whose room is still <= high;
    # the exact float expression decides, the arithmetic only says where to look first.
    spare = base_a - reserved_a
    top = _last(now, now + SEARCH_STEPS, lambda n: room(n) >= low, (spare - low) * STEPS_PER_A)
    least = math.ceil((spare - high) * STEPS_PER_A) if math.isfinite(high) else 0
    bottom = -_last(-now, 0, lambda n: room(-n) <= high, -least)
    return bottom, top


def _last(start: int, stop: int, ok: Callable[[int], bool], guess: float) -> int:
    """The largest n in [start, stop] with `ok(n)`, given `ok(start)` and that `ok` holds on
    a run from `start`; `guess` (where it is thought to be) only saves steps of the search."""
    lo, hi = start, stop
    if ok(hi):
        return hi
    # ok(lo), not ok(hi): narrow to the guess and its neighbour first, then bisect.
    if math.isfinite(guess):
        g = math.floor(guess)
        if lo < g < hi:
            if ok(g):
                lo = g
                if g + 1 < hi and not ok(g + 1):
                    hi = g + 1
            else:
                hi = g
                if g - 1 > lo and ok(g - 1):
                    lo = g - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo
