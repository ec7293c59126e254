"""One run: a scenario, a policy, and the world stepped forward one `step_s` at a time.

Each step, in order: cars arrive and leave; meters report what flowed in the previous step
(a meter samples, it does not foresee); the policy decides when its period comes (unless the
controller is down) and the decision reaches the chargers that are in contact; each charger
offers its pilot (limit, or fallback once its lease has run out); cars ramp toward it;
solar and batteries respond; circuit currents are summed; breakers heat, cool or trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from panelpilot.sim.battery import BatteryBank
from panelpilot.sim.breaker import BreakerBank
from panelpilot.sim.chargers import ChargerBank
from panelpilot.sim.ev import Car, Fleet, Trajectory
from panelpilot.sim.faults import FaultSchedule
from panelpilot.sim.loader import LoadedScenario
from panelpilot.sim.metrics import (
    JOULES_PER_KWH,
    Fairness,
    excess_amp_s,
    limit_figures,
    summary,
)
from panelpilot.sim.policies import Orders, Policy, Readings
from panelpilot.sim.profiles import load_profiles, scenario_cars, solar_profiles, step_times
from panelpilot.sim.topology import Topology, topology_of
from panelpilot.site import Site

FloatArray = NDArray[np.float64]
Progress = Callable[[int, int], None]

# Chargers whose pilot and draw are kept for the plot (a 200-charger plot says nothing).
TRACED_CHARGERS = 8


@dataclass
class Trace:
    """Per-step history: every circuit, network, inverter and battery; a few chargers."""

    t_s: FloatArray
    circuit_a: FloatArray  # (circuits, steps)
    network_a: FloatArray  # (networks, steps)
    solar_a: FloatArray  # (inverters, steps), produced
    solar_available_a: FloatArray  # (inverters, steps), available while energised
    battery_a: FloatArray  # (batteries, steps), + discharge
    pilot_a: NDArray[np.float32]  # (traced chargers, steps)
    draw_a: NDArray[np.float32]  # (traced chargers, steps)

    @classmethod
    def empty(cls, topo: Topology, times: FloatArray) -> Trace:
        """Zeroed arrays for a run over `times`."""
        n = len(times)
        traced = min(TRACED_CHARGERS, len(topo.charger_ids))
        return cls(
            t_s=times,
            circuit_a=np.zeros((len(topo.circuit_ids), n)),
            network_a=np.zeros((len(topo.network_ids), n)),
            solar_a=np.zeros((len(topo.solar_ids), n)),
            solar_available_a=np.zeros((len(topo.solar_ids), n)),
            battery_a=np.zeros((len(topo.battery_ids), n)),
            pilot_a=np.zeros((traced, n), dtype=np.float32),
            draw_a=np.zeros((traced, n), dtype=np.float32),
        )


@dataclass
class RunResult:
    """The metrics of one policy on one scenario, and its trace."""

    policy: str
    metrics: dict[str, Any]
    trace: Trace


@dataclass(frozen=True)
class World:
    """Everything fixed before the first step, shared by every policy run on a scenario."""

    loaded: LoadedScenario
    topo: Topology
    times: FloatArray
    cars: list[Car]
    loads_a: FloatArray  # (loads, steps)
    load_circuit: NDArray[np.int64]
    solar_a: FloatArray  # (inverters, steps), available
    faults: FaultSchedule


def build_world(loaded: LoadedScenario) -> World:
    """Draw the cars, loads and sunshine of a scenario once, from its seed."""
    scenario, site = loaded.scenario, loaded.site
    topo = topology_of(site)
    times = step_times(scenario)
    index = {cid: i for i, cid in enumerate(topo.charger_ids)}
    circuit_index = {cid: i for i, cid in enumerate(topo.circuit_ids)}
    return World(
        loaded=loaded,
        topo=topo,
        times=times,
        cars=scenario_cars(scenario, index),
        loads_a=load_profiles(scenario, times),
        load_circuit=np.array([circuit_index[x.circuit] for x in scenario.loads], dtype=np.int64),
        solar_a=solar_profiles(scenario, topo.solar_ids, [s.max_a for s in site.solar], times),
        faults=FaultSchedule.of(scenario.faults, topo),
    )


def _battery_bank(world: World) -> BatteryBank:
    site, scenario = world.loaded.site, world.loaded.scenario
    profiles = [scenario.batteries.get(b.id) for b in site.batteries]
    return BatteryBank(
        max_discharge_a=[b.max_discharge_a for b in site.batteries],
        max_charge_a=[b.max_charge_a for b in site.batteries],
        capacity_kwh=[p.capacity_kwh if p else 13.5 for p in profiles],
        soc=[p.soc if p else 0.5 for p in profiles],
        export_windows=[p.export_windows if p else () for p in profiles],
        voltage_v=site.voltage_v,
    )


# The longest block of steady steps tried at once (bounds the block arrays' size).
MAX_BLOCK_STEPS = 3600


class _Run:
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
        self.batteries = _battery_bank(world)
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
        # How many steps the next block tries (the policy decides how far it really goes).
        self._guess = 64 if policy.remote else MAX_BLOCK_STEPS
        self.blocks = blocks and not self.has_batteries  # a battery answers every step
        # A decision made inside a block that ended there: (step, readings, orders).
        self._pending: tuple[int, Readings, Orders] | None = None

    def _energize(self) -> None:
        topo = self.topo
        self.ev_on = self.energized[topo.charger_circuit]
        self.solar_on = self.energized[topo.solar_circuit]
        self.batt_on = self.energized[topo.battery_circuit]
        self.load_on = self.energized[self.world.load_circuit]

    def loop(self) -> None:
        """Every step, in blocks where the site is steady."""
        k = 0
        while k < self.n_steps:
            t = self.times[k]
            self.fleet.advance_to(t)
            taken = self._block(k) if self.blocks else 0
            if taken == 0:
                self._step(k)
                taken = 1
            before, k = k, k + taken
            if self.progress is not None and (
                k // self.tick != before // self.tick or k == self.n_steps
            ):
                self.progress(k, self.n_steps)

    def _readings(
        self, t: float, current: FloatArray | None = None, draw: FloatArray | None = None
    ) -> Readings:
        """What is measured at `t`: meters read `current` (the step before's circuit currents)
        and chargers report `draw` (their cars' draw in it); by default, as they are now."""
        world, policy = self.world, self.policy
        reach = world.faults.reachable(t) if policy.remote else None
        ch_reach = self.ev_on if reach is None else self.ev_on & reach.chargers
        current = self.current if current is None else current
        return Readings(
            t_s=t,
            meters=world.faults.meters(t, current) if policy.remote else {},
            charger_online=ch_reach,
            charger_connected=self.fleet.connected,
            charger_current_a=self.fleet.draw_a if draw is None else draw,
            charger_pilot_a=self.chargers.pilot_a(t),
            battery_online=self.batt_on if reach is None else self.batt_on & reach.batteries,
            battery_current_a=self.batteries.current_a,
            battery_soc=self.batteries.soc,
            solar_online=self.solar_on if reach is None else self.solar_on & reach.solar,
            solar_current_a=self.solar_out,
        )

    def _step(self, k: int) -> None:
        """One step, in order: decide (when due), pilots, cars, sources, circuits, breakers."""
        world, policy, topo, dt = self.world, self.policy, self.topo, self.dt
        t = self.times[k]
        if k % self.decide_every == 0 and (not policy.remote or world.faults.controller_up(t)):
            pending, self._pending = self._pending, None
            if pending is not None and pending[0] == k:
                _, readings, orders = pending  # decided already, at the end of a block
            else:
                readings = self._readings(t)
                orders = policy.decide(readings)
            self._apply(readings, orders)
        pilot = self.chargers.pilot_a(t)
        accept = self.fleet.accept_a()
        draw = self.fleet.step(pilot, accept, self.ev_on, dt)
        current = self.below_ev @ draw + self.below_load @ (world.loads_a[:, k] * self.load_on)
        trace = self.trace
        if self.has_solar:
            available = world.solar_a[:, k] * self.solar_on
            self.solar_out = np.minimum(available, self.caps_solar)
            current -= self.below_solar @ self.solar_out
            trace.solar_a[:, k] = self.solar_out
            trace.solar_available_a[:, k] = available
        if self.has_batteries:
            batt = self.batteries.step(
                float(current[0]), self.caps_discharge, self.charge_request, self.batt_on, t, dt
            )
            current -= self.below_batt @ batt
            trace.battery_a[:, k] = batt
        self.current = current
        tripped = self.breakers.step(current[topo.breaker_circuits], dt, t)
        if tripped.any():
            self._trip(tripped, t)
        self.fairness.add(draw, accept * self.ev_on)
        trace.circuit_a[:, k] = current
        trace.network_a[:, k] = topo.network_members @ draw
        trace.pilot_a[:, k] = pilot[: self.traced]
        trace.draw_a[:, k] = draw[: self.traced]

    def _changes(self, readings: Readings, orders: Orders) -> bool:
        """Whether delivering `orders` changes what any device holds."""
        if self.chargers.changes(
            orders.charger_reached & readings.charger_online,
            orders.charger_limit_a,
            orders.charger_fallback_a,
            orders.charger_until_s,
        ):
            return True
        if self.has_solar:
            caps = np.where(readings.solar_online, orders.solar_max_a, self.caps_solar)
            return not np.array_equal(caps, self.caps_solar)
        return False

    def _apply(self, readings: Readings, orders: Orders) -> None:
        """Deliver a decision to the devices in contact."""
        self.chargers.receive(
            orders.charger_reached & readings.charger_online,
            orders.charger_limit_a,
            orders.charger_fallback_a,
            orders.charger_until_s,
        )
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

    def _block(self, k: int) -> int:
        """Advance the steps from `k` on in one go while no car comes or goes, no fault or
        setting is due, the pilots stay as they are (the policy would decide what it decided
        last) and no breaker trips. Cars may ramp and taper meanwhile: the fleet follows
        them with single steps' arithmetic. Returns how many steps were taken (0: step `k`
        needs the step-by-step path).

        The result is what `_step` would compute, up to rounding in the last digits of
        the energy totals (a block adds a steady car's energy once, not step by step).
        """
        world, policy, topo, dt, fleet = self.world, self.policy, self.topo, self.dt, self.fleet
        t = self.times[k]
        remote = policy.remote
        if not remote and k % self.decide_every == 0:
            return 0  # a baseline's one decision (its settings) is made by _step
        if remote and not world.faults.controller_up(t):
            return 0
        if self._pending is not None:
            return 0  # a decision made at the end of the last block is delivered by _step
        end_t = min(fleet.next_event_t(), policy.next_change_t())
        if remote:
            end_t = min(end_t, world.faults.quiet_until(t))
        if remote:
            # A lease lapsing changes a pilot: a block ends before the first lease end.
            end_t = min(end_t, self.chargers.next_lapse_s())
        n = min(self._guess, self.n_steps - k)
        n = min(n, int(np.searchsorted(world.times[k : k + n], end_t, side="left")))
        if n < 2:
            return 0
        pilot = self.chargers.pilot_a(t)
        path = fleet.trajectory(pilot, self.ev_on, n, dt)
        moving = path.moving
        loads = world.loads_a[:, k : k + n] * self.load_on[:, None]
        current = (self.below_ev @ path.draw_a)[:, None] + self.below_load @ loads
        if len(moving):
            current += self.below_ev[:, moving] @ (path.draws_a - path.draw_a[moving, None])
        if self.has_solar:
            available = world.solar_a[:, k : k + n] * self.solar_on[:, None]
            solar_out = np.minimum(available, self.caps_solar[:, None])
            current -= self.below_solar @ solar_out
        # Breakers first (without changing them): the policy must not run past a trip.
        n, heat = self.breakers.block(current[topo.breaker_circuits, :n], dt)
        if remote and n > 0:
            tried = n
            n = self._decide_in_block(k, n, current, path)
            # Size the next block on how far the policy went this time.
            self._guess = min(MAX_BLOCK_STEPS, 2 * tried if n == tried else max(16, 2 * n))
        if n == 0:
            return 0
        if heat is not None:
            self.breakers.heat = heat[:, n - 1].copy()
        draws = path.all_draws_a(n)
        self.fairness.add_block(draws, fleet.accept_path_a(path, n, dt) * self.ev_on[:, None])
        fleet.follow(path, n, dt)
        trace = self.trace
        trace.circuit_a[:, k : k + n] = current[:, :n]
        trace.network_a[:, k : k + n] = topo.network_members @ draws
        trace.pilot_a[:, k : k + n] = pilot[: self.traced, None]
        trace.draw_a[:, k : k + n] = draws[: self.traced]
        if self.has_solar:
            trace.solar_a[:, k : k + n] = solar_out[:, :n]
            trace.solar_available_a[:, k : k + n] = available[:, :n]
            self.solar_out = solar_out[:, n - 1].copy()
        self.current = current[:, n - 1].copy()
        return n

    def _decide_in_block(self, k: int, n: int, current: FloatArray, path: Trajectory) -> int:
        """Run the policy's decisions due in steps k..k+n-1, on what the meters and chargers
        report there; return how many steps the block keeps: up to the first decision that
        changes what a device holds (kept in `_pending`, delivered by `_step`)."""
        p = self.decide_every
        due = range(k + (-k) % p, k + n, p)
        if not due:
            return n
        # A meter reads what flowed in the step before (the first: the last step's current),
        # and a charger reports what its car drew in it.
        before = np.concatenate((self.current[:, None], current[:, : n - 1]), axis=1)
        moving = path.moving
        drew = np.concatenate((path.draw_a[moving, None], path.draws_a[:, : n - 1]), axis=1)
        for j in due:
            column = j - k
            draw = path.draw_a
            if len(moving):
                draw = draw.copy()
                draw[moving] = drew[:, column]
            readings = self._readings(self.times[j], before[:, column], draw)
            orders = self.policy.decide(readings)
            if self._changes(readings, orders):
                self._pending = (j, readings, orders)
                return column
        return n


def run(
    world: World, policy: Policy, progress: Progress | None = None, blocks: bool = True
) -> RunResult:
    """Run one policy through the whole scenario.

    `blocks=False` takes every step one by one (the reference the block path is tested
    against); the results agree up to rounding in the last digits.
    """
    site, topo = world.loaded.site, world.topo
    r = _Run(world, policy, progress, blocks)
    r.loop()
    dt, trace, fleet = r.dt, r.trace, r.fleet
    delivered = fleet.delivered_kwh()
    unmet = fleet.unmet_kwh()
    cars = [
        {
            "charger": topo.charger_ids[c.charger],
            "arrive_s": c.arrive_s,
            "depart_s": c.depart_s,
            "wanted_kwh": round(c.energy_kwh, 3),
            "delivered_kwh": round(float(delivered[i]), 3),
            "unmet_kwh": round(float(unmet[i]), 3),
        }
        for i, c in enumerate(world.cars)
    ]
    curtailed_a_s = float((trace.solar_available_a - trace.solar_a).sum()) * dt
    metrics = summary(
        circuits=limit_figures(topo.circuit_ids, topo.circuit_limit_a, trace.circuit_a, dt),
        networks=limit_figures(topo.network_ids, topo.network_limit_a, trace.network_a, dt),
        fairness=r.fairness,
        solar_curtailed_kwh=curtailed_a_s * site.voltage_v / JOULES_PER_KWH,
        pcs_amp_s=pcs_excess_amp_s(site, topo, trace, dt),
        delivered_kwh=delivered,
        unmet_kwh=unmet,
        cars=cars,
        trips=r.trips,
    )
    return RunResult(policy=policy.name, metrics=metrics, trace=trace)


def pcs_excess_amp_s(site: Site, topo: Topology, trace: Trace, dt_s: float) -> dict[str, float]:
    """Amp-seconds over the Panel, Conductor and Site Export limits (DESIGN.md section 3)."""
    pcs = site.pcs
    out: dict[str, float] = {}
    index = {cid: i for i, cid in enumerate(topo.circuit_ids)}
    if pcs.panel_limit_a is not None and pcs.panel in index:
        # Panel current = max(site, 0) + solar + max(battery, 0) (seeds/panel-limit.txt).
        p = index[pcs.panel]
        panel_a = (
            np.maximum(trace.circuit_a[p], 0.0)
            + topo.below(topo.solar_circuit)[p] @ trace.solar_a
            + topo.below(topo.battery_circuit)[p] @ np.maximum(trace.battery_a, 0.0)
        )
        out["panel"] = excess_amp_s(panel_a, pcs.panel_limit_a, dt_s)
    if pcs.conductor_limit_a is not None and pcs.conductor_meter in topo.meter_circuit:
        conductor_a = np.abs(trace.circuit_a[topo.meter_circuit[pcs.conductor_meter]])
        out["conductor"] = excess_amp_s(conductor_a, pcs.conductor_limit_a, dt_s)
    export_meter = pcs.export_meter or site.circuits[0].meter
    if pcs.export_limit_a is not None:
        row = topo.meter_circuit.get(export_meter, 0) if export_meter else 0
        out["export"] = excess_amp_s(-trace.circuit_a[row], pcs.export_limit_a, dt_s)
    return out
