"""One policy's run through a world: the devices' state and the one way steps are advanced.

A run advances in stretches of `n >= 1` steps under the pilots the chargers hold at the first
of them; a single step is a stretch of one, so the per-step arithmetic (cars, loads, solar,
batteries, circuit currents, breakers, fairness, trace) is written once, in `Run._advance`.
A stretch ends before the next car event, fault or scheduled setting, at the step a breaker
trips, at the first step a lease ends on (where a charger's pilot falls to its fallback), and
at the first decision that changes what a device holds (that decision is delivered as the
next stretch begins) but for one that only renews leases: the pilots stay as they are, so it
is delivered at once and the stretch goes on to the renewed leases' ends. Sites with
batteries, `blocks=False`, a fault under way or a controller that is down go one step at a
time (a battery answers every step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.breaker import BreakerBank
from panelpilot.sim.chargers import Change, ChargerBank
from panelpilot.sim.devices import dynamics_of, ramped
from panelpilot.sim.ev import Fleet, Trajectory
from panelpilot.sim.metrics import Fairness
from panelpilot.sim.policies import Orders, Policy, Readings, reports_change
from panelpilot.sim.world import Trace, World, battery_bank

FloatArray = NDArray[np.float64]
Progress = Callable[[int, int], None]

# The longest stretch of steady steps tried at once (bounds the stretch arrays' size).
MAX_BLOCK_STEPS = 3600
# How many steps a remote policy's first stretch tries, and the fewest it tries after a
# stretch its decisions cut short (the next try doubles what the last one kept).
FIRST_GUESS_STEPS = 64
MIN_GUESS_STEPS = 16


class Run:
    """One policy's run through a world: the devices' state and the step loop."""

    def __init__(
        self, world: World, policy: Policy, progress: Progress | None, blocks: bool
    ) -> None:
        site, scenario, topo = world.loaded.site, world.loaded.scenario, world.topo
        self.world, self.policy, self.topo, self.progress = world, policy, topo, progress
        self.dt = scenario.step_s
        self.n_steps = len(world.times)
        self.times = world.times.tolist()
        self.fleet = Fleet(world.cars, len(topo.charger_ids), site.voltage_v)
        self.chargers = ChargerBank(topo.fair_a, topo.fair_a)
        self.batteries = battery_bank(world)
        self.breakers = BreakerBank.of(topo.breaker_ratings_a)
        self.below_ev = topo.below(topo.charger_circuit)
        self.below_solar = topo.below(topo.solar_circuit)
        self.below_batt = topo.below(topo.battery_circuit)
        self.below_load = topo.below(world.load_circuit)
        self.has_batteries = len(topo.battery_ids) > 0
        self.has_solar = len(topo.solar_ids) > 0
        self.fairness = Fairness()
        self.trace = Trace.empty(topo, world.times)
        self.traced = self.trace.pilot_a.shape[0]
        self.energized = np.ones(len(topo.circuit_ids), dtype=bool)
        self._energize()
        self.current = np.zeros(len(topo.circuit_ids))
        self.solar_out = np.zeros(len(topo.solar_ids))
        self.caps_solar = np.full(len(topo.solar_ids), np.inf)
        self.caps_discharge = np.full(len(topo.battery_ids), np.inf)
        self.charge_request = np.zeros(len(topo.battery_ids))
        self.trips: list[dict[str, Any]] = []
        self.tick = max(1, self.n_steps // 100)
        # Baselines are settings stored in the chargers: set once, never renewed.
        period_steps = max(1, round(site.control.period_s / self.dt))
        self.decide_every = period_steps if policy.remote else self.n_steps + 1
        # How many steps the next stretch tries (the policy decides how far it really goes).
        self._guess = FIRST_GUESS_STEPS if policy.remote else MAX_BLOCK_STEPS
        # Real PCS devices (latency, response, ramps, noise), None when all are ideal.
        self.dyn = dynamics_of(world)
        self.meter_rows = np.array(list(topo.meter_circuit.values()), dtype=np.int64)
        if self.dyn is not None:
            self.batteries.rate_a = self.dyn.battery_rate
        # A battery answers every step, and so does a device that lags or ramps.
        self.blocks = blocks and not self.has_batteries and self.dyn is None
        # A decision made inside a stretch that ended there: (step, readings, orders).
        self._pending: tuple[int, Readings, Orders] | None = None

    def _energize(self) -> None:
        topo = self.topo
        self.ev_on = self.energized[topo.charger_circuit]
        self.solar_on = self.energized[topo.solar_circuit]
        self.batt_on = self.energized[topo.battery_circuit]
        self.load_on = self.energized[self.world.load_circuit]

    def loop(self) -> None:
        """Every step, in stretches where the site is steady."""
        k = 0
        while k < self.n_steps:
            self.fleet.advance_to(self.times[k])
            before, k = k, k + self._advance(k)
            if self.progress is not None and (
                k // self.tick != before // self.tick or k == self.n_steps
            ):
                self.progress(k, self.n_steps)

    def _readings(
        self,
        t: float,
        current: FloatArray | None = None,
        draw: FloatArray | None = None,
        solar: FloatArray | None = None,
    ) -> Readings:
        """What is measured at `t`: meters read `current` (the step before's circuit currents),
        chargers report `draw` (their cars' draw in it) and inverters `solar` (their output
        in it); by default, as they are now."""
        world, policy = self.world, self.policy
        reach = world.faults.reachable(t) if policy.remote else None
        ch_reach = self.ev_on if reach is None else self.ev_on & reach.chargers
        current = self.current if current is None else current
        battery = self.batteries.current_a
        solar = self.solar_out if solar is None else solar
        if self.dyn is not None:
            meters, battery, solar = self.dyn.reported()
            current = current.copy()
            current[self.meter_rows] = meters
        return Readings(
            t_s=t,
            meters=world.faults.meters(t, current) if policy.remote else {},
            charger_online=ch_reach,
            charger_connected=self.fleet.connected,
            charger_current_a=self.fleet.draw_a if draw is None else draw,
            charger_pilot_a=self.chargers.pilot_a(t),
            battery_online=self.batt_on if reach is None else self.batt_on & reach.batteries,
            battery_current_a=battery,
            battery_soc=self.batteries.soc,
            solar_online=self.solar_on if reach is None else self.solar_on & reach.solar,
            solar_current_a=solar,
        )

    def _advance(self, k: int) -> int:
        """Steps `k` on, in order: decide (when due), pilots, cars, sources, circuits,
        breakers; as many as the pilots of step `k` certainly hold (`_span`), less where a
        breaker trips or a decision changes what a device holds. Returns how many were taken.

        A stretch of several steps gives what single steps would, up to rounding in the last
        digits (a steady car's energy is added once, circuit currents as one matrix product).
        """
        t = self.times[k]
        up = not self.policy.remote or self.world.faults.controller_up(t)
        if up and k % self.decide_every == 0:
            self._decide_now(k, t)
        if self.dyn is not None:
            self.dyn.sent(self.caps_discharge, self.charge_request, self.caps_solar)
        n = self._span(k, t, up)
        pilot = self.chargers.pilot_a(t)
        path = self.fleet.trajectory(pilot, self.ev_on, n, self.dt)
        current = self._ev_and_load_a(k, n, path)
        solar = self._solar(k, n, current)
        battery = self._battery(t, current) if self.has_batteries else None
        horizon, heat = self.breakers.block(current[self.topo.breaker_circuits], self.dt)
        kept = tried = min(n, horizon + 1)  # the step a breaker trips on is the last
        if self.policy.remote:
            kept = self._lapse_column(k, tried)
        if self.policy.remote and kept > 1:
            kept = self._decide_in(
                k, tried, kept, current, path, None if solar is None else solar[0]
            )
            # Size the next stretch on how far the policy went this time.
            self._guess = min(
                MAX_BLOCK_STEPS, 2 * tried if kept == tried else max(MIN_GUESS_STEPS, 2 * kept)
            )
        draws = path.all_draws_a(kept)
        self._take(k, kept, path, draws, current, heat)
        self._record(k, kept, pilot, draws, current)
        if solar is not None:
            self._take_solar(k, kept, *solar)
        if battery is not None:
            self.trace.battery_a[:, k] = battery
            self.trace.battery_wanted_a[:, k] = self.batteries.wanted_a
        if self.dyn is not None:
            self.dyn.measured(
                self.current[self.meter_rows], self.batteries.current_a, self.solar_out
            )
        return kept

    def _decide_now(self, k: int, t: float) -> None:
        """The decision due at step `k` (made already when a stretch ended on it), delivered."""
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == k:
            _, readings, orders = pending
        else:
            readings = self._readings(t)
            orders = self.policy.decide(readings)
        self._apply(readings, orders)

    def _span(self, k: int, t: float, up: bool) -> int:
        """How many steps from `k` the pilots may hold: before the next car event, scheduled
        setting or fault (1 when steps go one at a time). Lease ends are `_lapse_column`'s:
        a renewal in the stretch moves them."""
        if not self.blocks or not up:
            return 1
        end_t = min(self.fleet.next_event_t(), self.policy.next_change_t())
        if self.policy.remote:
            end_t = min(end_t, self.world.faults.quiet_until(t))
        n = min(self._guess, self.n_steps - k)
        n = int(np.searchsorted(self.world.times[k : k + n], end_t, side="left"))
        return max(n, 1)

    def _ev_and_load_a(self, k: int, n: int, path: Trajectory) -> FloatArray:
        """Circuit currents (circuits x steps) of the cars along `path` and of the loads."""
        loads = self.world.loads_a[:, k : k + n] * self.load_on[:, None]
        current: FloatArray = (self.below_ev @ path.draw_a)[:, None] + self.below_load @ loads
        moving = path.moving
        if len(moving):
            current += self.below_ev[:, moving] @ (path.draws_a - path.draw_a[moving, None])
        return current

    def _solar(self, k: int, n: int, current: FloatArray) -> tuple[FloatArray, FloatArray] | None:
        """Solar output under the caps held (taken off `current`) and what was available."""
        if not self.has_solar:
            return None
        available = self.world.solar_a[:, k : k + n] * self.solar_on[:, None]
        if self.dyn is None:
            out = np.minimum(available, self.caps_solar[:, None])
        else:  # one step: the cap it acts on, and its ramp from what it gave
            cap = self.dyn.acting()[2]
            out = ramped(self.solar_out, np.minimum(available[:, 0], cap), self.dyn.solar_rate)
            out = out[:, None]
        current -= self.below_solar @ out
        return out, available

    def _battery(self, t: float, current: FloatArray) -> FloatArray:
        """The batteries' answer to the site's current in this (single) step, taken off it."""
        discharge, request = self.caps_discharge, self.charge_request
        if self.dyn is not None:
            discharge, request, _ = self.dyn.acting()
        batt = self.batteries.step(
            float(current[0, 0]), discharge, request, self.batt_on, t, self.dt
        )
        current[:, 0] -= self.below_batt @ batt
        return batt

    def _lapse_column(self, k: int, n: int) -> int:
        """How many of the `n` steps from `k` come before the first step on which some
        charger's lease has ended and its pilot falls to its fallback (`n`: none)."""
        end_t = self.chargers.next_lapse_s(self.times[k])
        return max(1, int(np.searchsorted(self.world.times[k : k + n], end_t, side="left")))

    def _decide_in(
        self,
        k: int,
        n: int,
        lapse: int,
        current: FloatArray,
        path: Trajectory,
        solar: FloatArray | None,
    ) -> int:
        """Run the policy's decisions due in steps k+1..k+n-1, on what the meters and chargers
        report there (but for those it says repeat the last one: `_quiet_to`); return how many
        steps the stretch keeps: up to the first decision that changes what a device holds
        (kept in `_pending`, delivered as the next one begins) but for renewals, which are
        delivered at once, and up to the first lease end (`lapse`: `_lapse_column`)."""
        p = self.decide_every
        j = k + 1 + (-(k + 1)) % p
        moving = path.moving
        changes = reports_change(path.draws_a if len(path.moving) else None, n)
        while j < k + lapse:
            column = j - k
            # A meter reads what flowed in the step before, a charger what its car drew in it.
            draw = path.draw_a
            if len(moving):
                draw = draw.copy()
                draw[moving] = path.draws_a[:, column - 1]
            out = None if solar is None else solar[:, column - 1]
            readings = self._readings(self.times[j], current[:, column - 1], draw, out)
            orders = self.policy.decide(readings)
            change = self._change(readings, orders)
            if change is Change.OTHER:
                self._pending = (j, readings, orders)
                return column
            if change is Change.RENEWAL:
                self._apply(readings, orders)  # the same pilots, on later lease ends
                lapse = self._lapse_column(k, n)
            # The decisions to come while the chargers report what they report now.
            same_to = k + 1 + int(changes[np.searchsorted(changes, column - 1, side="right")])
            j = self._quiet_to(j, min(k + lapse, same_to), current, k)
            j += p
        return lapse

    def _quiet_to(self, j: int, end: int, current: FloatArray, k: int) -> int:
        """The last of the decision steps after `j` (up to `end`) that the policy says repeat
        the one at `j` (`Policy.quiet`), left out (`Policy.skip` brings its state to the last
        of them, as deciding them all would); `j` when there is none."""
        quiet = self.policy.quiet()
        p = self.decide_every
        steps = range(j + p, end, p)
        if quiet is None or not steps:
            return j
        columns = slice(j + p - k - 1, end - k - 1, p)
        rows = self.topo.meter_circuit
        readings = {m: current[rows[m], columns].tolist() for m in quiet.meters}
        q = quiet.cycles(self.times[j + p : end : p], readings)
        if q == 0:
            return j
        self.policy.skip(self.times[steps[q - 1]], {m: v[q - 1] for m, v in readings.items()})
        return steps[q - 1]

    def _take(
        self,
        k: int,
        n: int,
        path: Trajectory,
        draws: FloatArray,
        current: FloatArray,
        heat: FloatArray | None,
    ) -> None:
        """Commit the first `n` steps: cars, fairness, breakers (the last step one by one,
        so a trip is found by the single step's arithmetic), circuit currents."""
        dt, fleet = self.dt, self.fleet
        accept = fleet.accept_path_a(path, n, dt) * self.ev_on[:, None]
        fleet.follow(path, n, dt)
        if heat is not None and n > 1:
            self.breakers.heat = heat[:, n - 2].copy()
        t_last = self.times[k + n - 1]
        tripped = self.breakers.step(current[self.topo.breaker_circuits, n - 1], dt, t_last)
        if tripped.any():
            self._trip(tripped, t_last)
            # The step a breaker trips on counts the chargers still energised after it.
            accept[:, n - 1] *= self.ev_on
        self.fairness.add_block(draws, accept)
        self.current = current[:, n - 1].copy()

    def _record(
        self, k: int, n: int, pilot: FloatArray, draws: FloatArray, current: FloatArray
    ) -> None:
        """The trace of the first `n` steps (`draws`: every car's draw after each)."""
        trace = self.trace
        trace.circuit_a[:, k : k + n] = current[:, :n]
        trace.network_a[:, k : k + n] = self.topo.network_members @ draws
        trace.pilot_a[:, k : k + n] = pilot[: self.traced, None]
        trace.draw_a[:, k : k + n] = draws[: self.traced]
        trace.battery_cap_a[:, k : k + n] = self.caps_discharge[:, None]
        trace.solar_cap_a[:, k : k + n] = self.caps_solar[:, None]

    def _take_solar(self, k: int, n: int, out: FloatArray, available: FloatArray) -> None:
        trace = self.trace
        trace.solar_a[:, k : k + n] = out[:, :n]
        trace.solar_available_a[:, k : k + n] = available[:, :n]
        self.solar_out = out[:, n - 1].copy()

    @staticmethod
    def _to_chargers(
        readings: Readings, orders: Orders
    ) -> tuple[NDArray[np.bool_], FloatArray, FloatArray, FloatArray]:
        """What `orders` tell the chargers in contact: (reached, limit, fallback, lease end)."""
        reached = orders.charger_reached & readings.charger_online
        return reached, orders.charger_limit_a, orders.charger_fallback_a, orders.charger_until_s

    def _change(self, readings: Readings, orders: Orders) -> Change:
        """What delivering `orders` changes in what the devices hold."""
        if self.has_solar:
            caps = np.where(readings.solar_online, orders.solar_max_a, self.caps_solar)
            if not np.array_equal(caps, self.caps_solar):
                return Change.OTHER
        return self.chargers.change(*self._to_chargers(readings, orders), readings.t_s)

    def _apply(self, readings: Readings, orders: Orders) -> None:
        """Deliver a decision to the devices in contact."""
        self.chargers.receive(*self._to_chargers(readings, orders))
        if self.has_solar:
            self.caps_solar = np.where(readings.solar_online, orders.solar_max_a, self.caps_solar)
        if self.has_batteries:
            self.caps_discharge = np.where(
                readings.battery_online, orders.battery_max_discharge_a, self.caps_discharge
            )
            self.charge_request = np.where(
                readings.battery_online, orders.battery_charge_request_a, self.charge_request
            )

    def _trip(self, tripped: NDArray[np.bool_], t: float) -> None:
        topo = self.topo
        for b in np.flatnonzero(tripped):
            circuit = int(topo.breaker_circuits[b])
            self.trips.append({"circuit": topo.circuit_ids[circuit], "t_s": t})
        open_circuits = np.zeros(len(topo.circuit_ids), dtype=bool)
        open_circuits[topo.breaker_circuits[self.breakers.tripped]] = True
        self.energized = topo.energized(open_circuits)
        self._energize()
