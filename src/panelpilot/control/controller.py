"""The controller: one cycle, read then write. `decide(snapshot) -> Decision`, nothing else.

Pure: no clock (time comes from the snapshot), no I/O, no threads. Its memory is
`ControllerState`, plain data. A cycle:

1. apply settings commands (the settings lock may refuse them);
2. note which chargers are online, and power cycles of removed chargers;
3. estimate each metered circuit's uncontrolled load (fast up, slow down; held if the meter
   is lost) and reserve each silent charger's fallback (or its unexpired limit);
4. update each car's demand estimate (capped near its real draw, re-probed periodically);
5. allocate max-min fair targets with the 6 A minimum and rotation (`sharing.allocate`);
6. move limits toward targets safely (`sequencer.sequence`);
7. apply the PCS limits to batteries and solar (`pcs.apply_pcs`);
8. report statuses and alerts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter

from panelpilot.control import demand
from panelpilot.control.alerts import alert
from panelpilot.control.commitments import (
    Bounds,
    Commitment,
    Steps,
    StepSum,
    acknowledge,
    adds,
    difference,
    envelope,
    final_a,
    peak_a,
    settle,
)
from panelpilot.control.pcs import apply_pcs
from panelpilot.control.sequencer import Step, sequence
from panelpilot.control.settings import SettingsError, apply_command, fallback_a, membership
from panelpilot.control.sharing import Allocation, Claim, allocate
from panelpilot.control.state import ChargerMemory, ControllerState, NetworkMemory
from panelpilot.control.status import charger_status, circuit_states, network_states
from panelpilot.control.topology import Topology
from panelpilot.control.types import Alert, ChargerDecision, ChargerReading, Decision, Snapshot
from panelpilot.control.validate import KnownDevices, check_snapshot
from panelpilot.site.model import Charger, Site

# A fixed allocation (a disabled network's member, a removed unit) is served before any
# priority a site file can give, but still within every circuit limit.
FIXED_PRIORITY = 1 << 30
# An uncontrolled load estimate follows a rise at once and a fall at this rate, so noisy
# loads do not make the chargers' limits jitter every cycle.
LOAD_RELEASE_A_PER_S = 2.0
EPS = 1e-9
# A car measured within this of a lower limit it acknowledged has followed it (meters read
# to 0.1 A); until then, or `response_s`, it may still draw what it was allowed before.
FOLLOWED_A = 0.1
# Lease ends of one charger's commitments differ by at least this (s), so each is named by it.
DISTINCT_S = 0.001
# A charger's reading above what it may draw by more than this (A, or this share of it) is a
# broken or hostile meter, not a car (a car draws at most its pilot, plus meter error).
PLAUSIBLE_OVER_A = 1.0
PLAUSIBLE_OVER_SHARE = 0.05
# An uncontrolled load takes room in steps of 1/LOAD_STEPS_PER_A (0.1 A), rounded up: meters
# report to 0.1 A or coarser, and a limit need not follow every last digit of their noise.
LOAD_STEPS_PER_A = 10
# A room no allocation reaches: stands for a circuit that shapes nothing.
UNBOUNDED_A = 1e9
# A circuit that shaped nothing stays out of the way for `coast` while its room exceeds what
# its chargers were given (one step each on top) by at least this much and one more step.
COAST_SPARE_A = 1.0
# What a cycle may change in a charger's memory that can make the next cycle, with the same
# readings, change something again: its limit and the timers a limit change starts, its turn,
# its contact, a probe started (its answer comes in the next settled cycle). The rest is
# settled by the cycle itself: a demand estimate follows the reading (the next cycle computes
# the same one), a hold on a decrease collapses once the car is down (and stays collapsed).
# A cycle that moved none of these leaves a coast plan.
_MOVES = attrgetter(
    "limit_a",
    "held",
    "probing",
    "hold_until_t",
    "changed_t",
    "connected",
    "online",
    "admitted",
    "turn_since_t",
    "defiant_since_t",
)


@dataclass(frozen=True)
class Layout:
    """What follows from the settings alone: recomputed only when they change."""

    member_of: dict[str, str]
    fallbacks: dict[str, float]
    constraints: dict[str, tuple[int, ...]]
    fixed: dict[str, float]  # chargers held at a fixed limit (removed, disabled network)


@dataclass(frozen=True)
class CoastPlan:
    """What a settled cycle leaves for `Controller.coast`: the conditions it holds under.

    Set by a cycle that changed nothing in the controller's memory and raised nobody.
    Further cycles decide the same for as long as the chargers report the same, no timer
    falls due and the allocation comes out the same: certainly while each metered circuit's
    uncontrolled load stays at or below its bound (a circuit that shaped nothing keeps
    shaping nothing), and otherwise when `allocate` on the new capacities says so.
    """

    state: ControllerState
    chargers: dict[str, ChargerReading]
    drawn_a: dict[str, float]  # chargers' measured current per metered circuit
    bound_a: dict[str, float]  # per metered circuit: the highest uncontrolled load allowed
    until_t: float  # the first time a timer could change a decision
    claims: list[Claim]  # in admission order, as the cycle built them
    claim_of: dict[str, Claim]  # the same, by charger
    capacities: list[float]  # per constraint, as the cycle computed them
    room_a: dict[str, tuple[int, float]]  # metered circuit -> (constraint, limit - margin)
    targets_a: dict[str, float]
    paused: frozenset[str]
    active: frozenset[int]  # constraints that shaped the allocation (Allocation.active)
    settling: tuple[str, ...]  # chargers whose last change settles while coasting
    shaped_capacities: tuple[float, ...]  # capacities of the metered circuits in `active`
    # _shaped_same's answers by those circuits' capacities (the plan's claims are fixed).
    verdicts: dict[tuple[float, ...], bool] = field(default_factory=dict)


@dataclass(slots=True)
class _Moving:
    """A charger whose current changes while `Controller.coast` runs, and what it may do."""

    cid: str
    values: Sequence[float]  # its current at each of the coasted cycles
    mem: ChargerMemory
    charger: Charger
    claim: Claim
    target: float
    free: bool  # its target came from its demand alone, no constraint shaped it
    # As of the last cycle run: its reading, whether its last change had settled, the demand
    # estimate, and whether that demand certainly leaves the plan's targets as they are.
    reading: float
    settled: bool
    demand: float
    known: bool = True


def counted_load(load_a: float) -> float:
    """An uncontrolled load as a circuit's capacity counts it: up to the next 0.1 A (with a
    hair's tolerance, so a load of 2.3 A held as 2.3000000000000003 is not counted as 2.4)."""
    return math.ceil(load_a * LOAD_STEPS_PER_A - 1e-6) / LOAD_STEPS_PER_A


def _known(claim: Claim, target: float, free: bool, demand_a: float, resolution: float) -> bool:
    """Whether a claim with this demand instead of its own certainly gets the same target
    (with every other claim's the same): its own demand, or for a claim no constraint shaped,
    a lower one that rounds down to the same target (as _quantize rounds its level)."""
    if demand_a == claim.demand_a:
        return True
    if demand_a > claim.demand_a or not free:
        return False
    top = demand_a if demand_a > claim.min_a else claim.min_a
    step = math.floor(top / resolution + EPS) * resolution
    return (step if step > claim.min_a else claim.min_a) == target


def _demands(
    moving: list[_Moving], pending: list[tuple[_Moving, float, bool, float, bool]]
) -> dict[str, float]:
    """Each moving charger's demand estimate with this cycle's changes."""
    out = {mv.cid: mv.demand for mv in moving}
    for mv, _, _, demand_a, _ in pending:
        out[mv.cid] = demand_a
    return out


def _same(a: Commitment, b: Commitment) -> bool:
    """Whether two commitments tell a charger the same thing."""
    return (
        abs(a.limit_a - b.limit_a) <= EPS
        and abs(a.fallback_a - b.fallback_a) <= EPS
        and a.until_t == b.until_t
    )


def _distinct(c: Commitment, held: tuple[Commitment, ...]) -> Commitment:
    """`c` with a lease end no commitment in `held` has, moved by a millisecond at a time to
    the safe side (earlier where the fallback is lower, later where it is higher): a
    charger's acknowledgement names the commitment by its lease end."""
    ends = {h.until_t for h in held}
    until = c.until_t
    step = -DISTINCT_S if c.limit_a > c.fallback_a else DISTINCT_S
    while until in ends:
        until = round(until + step, 6)
    return c if until == c.until_t else replace(c, until_t=until)


def initial_state(site: Site) -> ControllerState:
    """The memory of a controller that has seen nothing yet."""
    state = ControllerState()
    for c in site.chargers:
        state.chargers[c.id] = ChargerMemory(demand_a=c.max_a)
    for n in site.networks:
        members = tuple(c.id for c in site.network_members(n.id))
        state.networks[n.id] = NetworkMemory(n.enabled, n.network_limit_a, members)
    return state


class Controller:
    """Decides, every cycle, every charger's limit and every battery's and inverter's caps."""

    def __init__(
        self, site: Site, state: ControllerState | None = None, coasting: bool = False
    ) -> None:
        """`coasting=True` makes every settled cycle leave a plan for `coast` (a simulator's
        shortcut; it costs each cycle a little, so the service leaves it off)."""
        self.site = site
        self.topology = Topology.of(site)
        self.state = state if state is not None else initial_state(site)
        self._meters = sorted(site.meter_ids())
        # Constraint index of each circuit that has a charger below it.
        used = {cid for path in self.topology.paths.values() for cid in path}
        self._circuit_k = {
            cid: k for k, cid in enumerate(c for c in self.topology.order if c in used)
        }
        base = len(self._circuit_k)
        self._network_k = {nid: base + i for i, nid in enumerate(self.state.networks)}
        self._cached: tuple[object, Layout] | None = None
        self._known = KnownDevices.of(site)
        pcs = site.pcs
        # Coasting skips the PCS step, so it needs a site where that step has nothing to do.
        self._coastable = (
            coasting
            and not site.batteries
            and (
                pcs.panel_limit_a is None
                and pcs.conductor_limit_a is None
                and pcs.export_limit_a is None
            )
        )
        self._plan: CoastPlan | None = None
        cfg = site.control
        self._bounds = Bounds(cfg.clock_skew_s, cfg.response_s)
        # A charger whose limit is below its fallback gets a longer lease, so that its rise to
        # the fallback comes after every lower-at-lease-end charger renewed up to two cycles
        # later has come down: both sides of the clock error and the car's response apart.
        self._low_extra_s = 2 * cfg.clock_skew_s + cfg.response_s + 2 * cfg.period_s
        # Lease ends fall on a grid, so chargers renew together and a settled site has long
        # stretches with nothing to renew.
        self._lease_grid_s = cfg.lease_s / 4
        self._members: tuple[object, list[list[str]]] | None = None
        self._first_t: float | None = None

    def decide(self, snap: Snapshot) -> Decision:
        """One control cycle: take what is measured, return what every device is told."""
        check_snapshot(self._known, self.state.t, snap)
        st, cfg, topo = self.state, self.site.control, self.topology
        self._plan = None
        # A cycle can leave a coast plan only if nothing that could move again moves in it.
        before = None
        if self._coastable and not snap.commands and not st.removed:
            before = [_MOVES(m) for m in st.chargers.values()]
        dt = 0.0 if st.t is None else snap.t - st.t
        alerts: list[Alert] = []
        for cid, mem in st.chargers.items():
            reading = snap.chargers.get(cid)
            mem.online = reading is not None and reading.online  # the settings lock asks
        for cmd in snap.commands:
            try:
                apply_command(topo, st, cmd)
            except SettingsError as exc:
                alerts.append(alert("setting_rejected", str(exc), cmd.network))

        online = {cid for cid, r in snap.chargers.items() if r.online}
        self._track_power_cycles(online)
        if self._first_t is None:
            self._first_t = snap.t
        bounds = self._bounds
        for cid, mem in st.chargers.items():
            if not mem.held:
                continue
            held = mem.held
            followed = False
            if cid in online:
                reading = snap.chargers[cid]
                held = acknowledge(held, reading.commitment_t, snap.t)
                if len(held) > 1:
                    acked = next((c for c in reversed(held) if c.acked_t is not None), None)
                    # Measured at (or below) the limit it acknowledged: the car has followed.
                    followed = acked is not None and reading.current_a <= acked.limit_a + FOLLOWED_A
            if len(held) > 1:
                held = settle(held, snap.t, bounds, followed)
            mem.held = held
        meters = {m: snap.meters.get(m) for m in self._meters}
        lost = {m for m, v in meters.items() if v is None}
        layout = self._layout()
        fallbacks, constraints = layout.fallbacks, layout.constraints

        # Constraints: each circuit with chargers below, each enabled network.
        ncon = len(self._circuit_k) + len(self._network_k)
        caps = [0.0] * ncon
        reserved = [0.0] * ncon
        drawn = self._current_per_circuit(self._plausible(snap, online, alerts))
        uncontrolled = self._estimate_uncontrolled(meters, drawn, dt)
        over: dict[str, float] = {}
        for circuit_id, k in self._circuit_k.items():
            circuit = topo.circuits[circuit_id]
            if circuit.meter:
                caps[k] = circuit.limit_a - cfg.margin_a - counted_load(uncontrolled[circuit_id])
                measured = meters.get(circuit.meter)
                if measured is not None and measured > circuit.limit_a - cfg.margin_a + EPS:
                    over[circuit_id] = measured - (circuit.limit_a - cfg.margin_a)
            else:
                caps[k] = circuit.limit_a
        if over:
            # A metered circuit over its limit: the chargers below it are lowered by the
            # excess, whatever the readings say drew it (the meter is the truth).
            given = self._current_per_circuit(
                {cid: st.chargers[cid].limit_a for cid in online if cid in st.chargers}
            )
            for circuit_id, excess in over.items():
                k = self._circuit_k[circuit_id]
                caps[k] = min(caps[k], max(0.0, given.get(circuit_id, 0.0) - excess))
        for nid, k in self._network_k.items():
            caps[k] = st.networks[nid].limit_a or 0.0
        defiant: dict[str, float] = {}
        envelopes: dict[str, Steps] = {}
        reserves: dict[str, float] = {}
        for cid, mem in st.chargers.items():
            if cid not in online:
                # What a silent charger may draw: the most its commitments allow from now on.
                envelopes[cid] = self._silent_envelope(cid, mem, fallbacks[cid], snap.t)
                reserve = reserves[cid] = peak_a(envelopes[cid])
            else:
                # A charger that says it runs above the limit it was given (it rejected the
                # profile, or has not applied it yet) is counted at what it says, fail safe.
                reported = snap.chargers[cid].limit_a
                if reported is None or reported <= mem.limit_a + EPS:
                    mem.defiant_since_t = None
                    continue
                if mem.defiant_since_t is None:
                    mem.defiant_since_t = snap.t
                reserve = defiant[cid] = reported
            for k in constraints[cid]:
                reserved[k] += reserve
        capacities = [caps[k] - reserved[k] for k in range(ncon)]
        if reserves:
            fallbacks = self._fallbacks_beside_silent(fallbacks, envelopes, online)
        frozen = (
            frozenset(
                self._circuit_k[c]
                for c in self._circuit_k
                if any(m in lost for m in topo.metered_ancestors(c))
            )
            if lost
            else frozenset()
        )

        keyed: list[tuple[tuple[int, int, float, str], Claim]] = []
        t, chargers, readings, fixed_limits = snap.t, st.chargers, snap.chargers, layout.fixed
        for cid, charger in topo.chargers.items():
            if cid not in online or cid in defiant:
                continue
            mem = chargers[cid]
            demand.update(mem, charger, readings[cid], t, cfg)
            fixed = fixed_limits.get(cid)
            if fixed is not None:
                claim = Claim(
                    cid, fixed, min(charger.min_a, fixed), FIXED_PRIORITY, constraints[cid], True
                )
            else:
                want = mem.demand_a if mem.connected else 0.0
                claim = Claim(cid, want, charger.min_a, charger.priority, constraints[cid])
            keyed.append((demand.admission_key(claim, mem, t, cfg), claim))
        keyed.sort(key=lambda pair: pair[0])
        claims = [claim for _, claim in keyed]
        allocation = allocate(claims, capacities, cfg.resolution_a)

        steps = []
        targets, resolution = allocation.targets_a, cfg.resolution_a
        for claim in claims:
            mem, reading = chargers[claim.key], readings[claim.key]
            previous = mem.limit_a
            hold = previous
            if t < mem.hold_until_t and reading.current_a > previous + resolution:
                hold = max(hold, mem.hold_a)  # a decrease still settling
            if reading.limit_a is not None and reading.limit_a > hold:
                hold = reading.limit_a
            mem.hold_a = hold
            steps.append(
                Step(claim.key, previous, hold, targets[claim.key], claim.min_a, claim.constraints)
            )
        limits = sequence(steps, capacities, frozen, cfg.resolution_a)
        sent = self._commit(snap.t, claims, limits, fallbacks, envelopes, defiant, caps)

        decisions: dict[str, ChargerDecision] = {}
        for cid, mem in st.chargers.items():
            if cid in online and cid not in defiant:
                self._remember(mem, limits[cid], cid in allocation.paused, snap.t, sent.get(cid))
                target = allocation.targets_a[cid]
            else:
                new = sent.get(cid)
                if new is not None:  # a first commitment for a charger still counted at more
                    mem.held = (*mem.held, new)
                    mem.lease_until_t = new.until_t
                target = mem.limit_a
            since = mem.defiant_since_t
            if cid in defiant and since is not None and snap.t - since >= cfg.response_s:
                alerts.append(
                    alert(
                        "charger_not_following",
                        f"charger {cid} runs at {defiant[cid]:g} A, above its limit "
                        f"{mem.limit_a:g} A: counted at {defiant[cid]:g} A until it follows",
                        cid,
                    )
                )
            status = charger_status(
                mem,
                cid in online,
                cid in allocation.paused,
                target,
                snap.chargers.get(cid),
                cfg.resolution_a,
            )
            newest = mem.held[-1] if mem.held else None
            until = newest.until_t if newest is not None else snap.t
            decisions[cid] = ChargerDecision(
                limit_a=reserves.get(cid, mem.limit_a),
                fallback_a=newest.fallback_a if newest is not None else fallbacks[cid],
                status=status,
                target_a=target,
                lease_s=max(0.0, until - snap.t),
                lease_until_t=until,
                demand_a=mem.demand_a if mem.connected or cid not in online else 0.0,
            )
            if cid not in online:
                alerts.append(
                    alert(
                        "charger_unresponsive",
                        f"charger {cid} is not reporting; {reserves[cid]:g} A reserved",
                        cid,
                    )
                )
            if cid in st.removed:
                alerts.append(
                    alert(
                        "charger_removed",
                        f"charger {cid} was removed from its network: held at "
                        f"{fallbacks[cid]:g} A until power-cycled",
                        cid,
                    )
                )
        if allocation.paused:
            names = ", ".join(sorted(allocation.paused))
            alerts.append(
                alert(
                    "capacity_shortage",
                    f"{len(allocation.paused)} charger(s) paused for lack of "
                    f"capacity, taking turns: {names}",
                )
            )

        circuits = circuit_states(
            self.site,
            topo,
            meters,
            uncontrolled,
            decisions,
            online,
            {c: capacities[k] for c, k in self._circuit_k.items()},
        )
        networks = network_states(
            st, snap, decisions, {n: capacities[k] for n, k in self._network_k.items()}
        )
        alerts.extend(self._circuit_alerts(meters, reserved, capacities))
        for nid, net in st.networks.items():
            if not net.enabled:
                alerts.append(
                    alert(
                        "network_disabled",
                        f"network {nid} is disabled: members run at their fallback limit",
                        nid,
                    )
                )
        batteries, solar, pcs_alerts = apply_pcs(
            self.site, snap, topo.within, meters, st.export_curtailing
        )
        st.export_curtailing = any(a.code == "export_limit_solar" for a in pcs_alerts) or (
            st.export_curtailing
            and any(solar[s.id].max_a < s.max_a for s in self.site.solar if s.controllable)
        )
        alerts.extend(pcs_alerts)
        st.t = snap.t
        if before is not None and not lost and not defiant and len(online) == len(st.chargers):
            self._plan = self._coast_plan(
                snap, before, claims, allocation, capacities, uncontrolled, drawn
            )
        return Decision(snap.t, decisions, batteries, solar, networks, circuits, tuple(alerts))

    def may_coast(self) -> bool:
        """False when `coast` certainly runs nothing: the last cycle left no plan."""
        return self._plan is not None and self._plan.state is self.state

    def coast(
        self,
        times: Sequence[float],
        meters: Mapping[str, Sequence[float]],
        chargers: Mapping[str, ChargerReading],
        currents: Mapping[str, Sequence[float]] | None = None,
    ) -> int:
        """Run the cycles at `times` that would decide exactly what the last one decided.

        For a simulator stepping a settled site: the chargers report `chargers` at every one
        of `times`, except that a charger `c` in `currents` reports `currents[c][i]` A at
        `times[i]`; meter `m` reads `meters[m][i]`; no settings change. The cycles leave the
        controller's memory exactly as `decide` would, without building decisions. Stops
        before the first cycle that might decide differently (a reading it cannot account
        for, a timer due for a charger it can affect, an allocation that would come out
        different, an unusable value) and returns how many cycles it ran; `decide` takes
        over from there. Runs nothing unless the controller was made with `coasting=True`.

        A charger's current may differ from the last decided cycle's where all that follows
        from it is the car's demand estimate and the circuits' load estimates, and the new
        demand leaves the charger's target where it was (a tapering car drawing well below
        its limit, under constraints that shaped nothing). Anything else about a charger
        (online, plugged in, the limit it reports) must be as the last decided cycle saw it.
        """
        plan, st = self._plan, self.state
        if plan is None or plan.state is not st or len(times) == 0 or st.t is None:
            return 0
        if chargers.keys() != plan.chargers.keys():
            return 0
        moving: list[_Moving] = []
        for cid, seen in chargers.items():
            old = plan.chargers[cid]
            values = None if currents is None else currents.get(cid)
            if values is None:
                if seen == old and cid not in plan.settling:
                    continue
                values = [seen.current_a] * len(times)
            if (seen.online, seen.connected, seen.limit_a) != (
                old.online,
                old.connected,
                old.limit_a,
            ):
                return 0
            tracked = self._moving(plan, cid, values)
            if tracked is None:
                return 0
            moving.append(tracked)
        estimates = []
        for circuit_id, circuit in self.topology.circuits.items():
            if circuit.meter:
                series = meters.get(circuit.meter)
                if series is None:
                    return 0
                # A circuit that shaped the plan (no bound) must keep exactly its capacity.
                bound = plan.bound_a.get(circuit_id, math.inf)
                if bound == -math.inf:
                    k, base = plan.room_a[circuit_id]
                    estimates.append((circuit_id, series, bound, base, plan.capacities[k]))
                else:
                    estimates.append((circuit_id, series, bound, 0.0, 0.0))
        values_a = [st.uncontrolled_a[circuit_id] for circuit_id, *_ in estimates]
        drawn = [plan.drawn_a.get(circuit_id, 0.0) for circuit_id, *_ in estimates]
        response_s = self.site.control.response_s
        previous_t, until_t, count = st.t, plan.until_t, 0
        isfinite, ceil, release = math.isfinite, math.ceil, LOAD_RELEASE_A_PER_S
        unknown = sum(not mv.known for mv in moving)
        step_drawn = drawn
        for i, t in enumerate(times):
            if not (previous_t <= t < until_t):
                break
            # Each moving charger's cycle, unless it reads and stands as in the last one
            # (then that cycle's outcome holds again).
            pending = []
            read_changed = False
            for mv in moving:
                reading = mv.values[i]
                settled = t - mv.mem.changed_t >= response_s
                if reading == mv.reading and settled == mv.settled:
                    continue
                absorbed = self._absorb(mv, reading, t, mv.demand)
                if absorbed is None:
                    break
                pending.append((mv, reading, settled, *absorbed))
                read_changed = read_changed or reading != mv.reading
            else:
                if read_changed:
                    step_drawn = self._drawn_by_meter(plan, moving, pending, estimates)
                new = []
                shaped: list[float] = []  # capacities of the circuits that shaped the plan
                bounded = True  # every other circuit keeps room enough to shape nothing
                dt = t - previous_t
                rows = zip(estimates, values_a, step_drawn, strict=True)
                for (_, series, bound, base, _), previous, own in rows:
                    reading = series[i]
                    if not isfinite(reading):
                        break
                    # The same arithmetic as _estimate_uncontrolled (max() written out, the
                    # same choice on ties): the memory is identical.
                    measured = reading - own
                    measured = measured if measured > 0.0 else 0.0
                    decayed = previous - release * dt
                    value = decayed if decayed > measured else measured
                    # counted_load, written out
                    counted = ceil(value * LOAD_STEPS_PER_A - 1e-6) / LOAD_STEPS_PER_A
                    if bound == -math.inf:
                        shaped.append(base - counted)
                    elif counted > bound:
                        bounded = False
                    new.append(value)
                else:
                    # A demand only allocate can judge is judged at every cycle it holds.
                    ask = unknown > 0 or any(not p[4] for p in pending)
                    if (
                        self._shaped_same(plan, shaped)
                        if bounded and not ask
                        else self._same_allocation(
                            plan, estimates, new, _demands(moving, pending), ask
                        )
                    ):
                        values_a, previous_t, drawn = new, t, step_drawn
                        for mv, reading, settled, demand_a, known in pending:
                            unknown += mv.known - known
                            mv.reading, mv.settled, mv.demand, mv.known = (
                                reading,
                                settled,
                                demand_a,
                                known,
                            )
                        count += 1
                        continue
            break
        if count:
            for (circuit_id, *_), value in zip(estimates, values_a, strict=True):
                st.uncontrolled_a[circuit_id] = value
            st.t = previous_t
            if moving:
                self._moved(plan, moving, estimates, drawn)
        return count

    def _moving(self, plan: CoastPlan, cid: str, values: Sequence[float]) -> _Moving | None:
        """A charger whose current may change while coasting, or None if it may not."""
        claim = plan.claim_of.get(cid)
        if claim is None:
            return None
        target = plan.targets_a[cid]
        # Whether the allocation made its target from its demand alone; only then does a
        # lower demand that rounds to the same target change nothing.
        free = not (
            claim.exact
            or target <= 0
            or cid in plan.paused
            or any(k in plan.active for k in claim.constraints)
        )
        mem = self.state.chargers[cid]
        assert self.state.t is not None
        return _Moving(
            cid,
            values,
            mem,
            self.topology.chargers[cid],
            claim,
            target,
            free,
            plan.chargers[cid].current_a,
            self.state.t - mem.changed_t >= self.site.control.response_s,
            mem.demand_a,
            _known(claim, target, free, mem.demand_a, self.site.control.resolution_a),
        )

    def _absorb(
        self, mv: _Moving, reading: float, t: float, demand_a: float
    ) -> tuple[float, bool] | None:
        """The car's demand estimate after a cycle at `t` that reads `reading` A, and whether
        its target is certainly unchanged (else `allocate` must say); None if that cycle
        might change more than the demand."""
        mem, charger, cfg = mv.mem, mv.charger, self.site.control
        limit, resolution = mem.limit_a, cfg.resolution_a
        if mem.hold_a != limit or reading > limit + resolution:
            return None  # a decrease may still be settling: the hold logic is decide's
        new = demand_a
        if t - mem.changed_t >= cfg.response_s and limit >= charger.min_a:
            # demand.update's settled branch, which must not move anything but the demand.
            if mem.probing:
                return None
            if reading >= limit - resolution:
                if mem.capped_since_t is not None or mem.idle_car or mem.probes_unused:
                    return None
                new = charger.max_a
            else:
                if mem.capped_since_t is None or (reading < demand.DRAWING_A) != mem.idle_car:
                    return None
                new = min(charger.max_a, max(charger.min_a, reading + cfg.headroom_a))
        return new, _known(mv.claim, mv.target, mv.free, new, resolution)

    def _drawn_by_meter(
        self,
        plan: CoastPlan,
        moving: list[_Moving],
        pending: list[tuple[_Moving, float, bool, float, bool]],
        estimates: list[tuple[str, Sequence[float], float, float, float]],
    ) -> list[float]:
        """The chargers' current per metered circuit, summed as decide sums it."""
        currents = {cid: r.current_a for cid, r in plan.chargers.items()}
        for mv in moving:
            currents[mv.cid] = mv.reading
        for mv, reading, *_ in pending:
            currents[mv.cid] = reading
        totals = self._current_per_circuit(currents)
        return [totals.get(circuit_id, 0.0) for circuit_id, *_ in estimates]

    def _moved(
        self,
        plan: CoastPlan,
        moving: list[_Moving],
        estimates: list[tuple[str, Sequence[float], float, float, float]],
        drawn: list[float],
    ) -> None:
        """After coasting through changed currents: the demands, and the readings and sums
        the next coast starts from."""
        chargers = dict(plan.chargers)
        for mv in moving:
            mv.mem.demand_a = mv.demand
            if mv.reading != chargers[mv.cid].current_a:
                chargers[mv.cid] = replace(chargers[mv.cid], current_a=mv.reading)
        # A charger that has settled with its current reading has nothing left to settle.
        assert self.state.t is not None
        settled_by = self.state.t - self.site.control.response_s
        settling = tuple(
            mv.cid for mv in moving if mv.cid in plan.settling and mv.mem.changed_t > settled_by
        )
        drawn_a = dict(plan.drawn_a)
        for (circuit_id, *_), value in zip(estimates, drawn, strict=True):
            drawn_a[circuit_id] = value
        # The claims stay the decided cycle's: every later demand is judged against them.
        self._plan = replace(plan, chargers=chargers, drawn_a=drawn_a, settling=settling)

    def _shaped_same(self, plan: CoastPlan, shaped: list[float]) -> bool:
        """Whether the plan's allocation stands with these capacities of the metered circuits
        that shaped it, every other metered circuit having room enough to shape nothing.

        Such a circuit then shapes nothing whatever its exact room (the water level never
        reaches its capacity, no rounding step is refused there), so it is left out of the
        question: the answer depends on the shaping circuits' capacities alone and is kept
        for the plan's life (loads counted to 0.1 A come back to the same few values).
        """
        key = tuple(shaped)  # in the site's circuit order, as room_a and the estimates are
        if key == plan.shaped_capacities:
            return True
        verdict = plan.verdicts.get(key)
        if verdict is None:
            capacities = list(plan.capacities)
            shaping = iter(key)
            for circuit_id, (k, _) in plan.room_a.items():
                capacities[k] = (
                    next(shaping) if plan.bound_a[circuit_id] == -math.inf else UNBOUNDED_A
                )
            again = allocate(plan.claims, capacities, self.site.control.resolution_a)
            verdict = again.targets_a == plan.targets_a and again.paused == plan.paused
            plan.verdicts[key] = verdict
        return verdict

    def _same_allocation(
        self,
        plan: CoastPlan,
        estimates: list[tuple[str, Sequence[float], float, float, float]],
        values: list[float],
        demands: Mapping[str, float],
        ask: bool = False,
    ) -> bool:
        """Whether `allocate` gives the plan's targets with these loads and demands.

        `ask`: a demand changed in a way only `allocate` can judge, so it is asked even if the
        capacities are the plan's, and must also leave shaping to constraints that shaped the
        plan (the bounds on the other circuits' loads assume they shape nothing).
        """
        capacities = list(plan.capacities)
        for (circuit_id, *_), value in zip(estimates, values, strict=True):
            room = plan.room_a.get(circuit_id)
            if room is not None:
                k, base = room
                # As decide computes it: limit - margin - load.
                capacities[k] = base - counted_load(value)
        if capacities == plan.capacities and not ask:
            return True
        claims = plan.claims
        changed = {cid: d for cid, d in demands.items() if d != plan.claim_of[cid].demand_a}
        if changed:
            claims = [
                replace(c, demand_a=changed[c.key]) if c.key in changed else c for c in claims
            ]
        again = allocate(claims, capacities, self.site.control.resolution_a)
        return (
            again.targets_a == plan.targets_a
            and again.paused == plan.paused
            and (not ask or again.active <= plan.active)
        )

    def _coast_plan(
        self,
        snap: Snapshot,
        before: list[tuple[object, ...]],
        claims: list[Claim],
        allocation: Allocation,
        capacities: list[float],
        uncontrolled: dict[str, float],
        drawn: dict[str, float],
    ) -> CoastPlan | None:
        """The conditions under which the next cycles would decide what this one did."""
        st, cfg = self.state, self.site.control
        if st.export_curtailing:
            return None
        for mem, old in zip(st.chargers.values(), before, strict=True):
            if _MOVES(mem) != old:
                return None  # something moved: the next cycle may move again
        chargers = st.chargers
        targets, active = allocation.targets_a, allocation.active
        ncircuits = len(self._circuit_k)
        # Each circuit that shaped nothing may gain room, or lose some down to what its
        # chargers were given: the allocation is the same as if it were not there. (A target
        # is at most one step below the level water-filling reached, so that is counted too.)
        given = [0.0] * ncircuits
        resolution = cfg.resolution_a
        for claim in claims:
            target = targets[claim.key]
            if target > chargers[claim.key].limit_a + EPS:
                return None  # a raise waits for room: more room would release it
            if target > 0:
                for k in claim.constraints:
                    if k < ncircuits:
                        given[k] += target + resolution
        spare = COAST_SPARE_A + cfg.resolution_a
        bound: dict[str, float] = {}
        room: dict[str, tuple[int, float]] = {}
        for circuit_id, k in self._circuit_k.items():
            circuit = self.topology.circuits[circuit_id]
            if circuit.meter:
                room[circuit_id] = (k, circuit.limit_a - cfg.margin_a)
                # capacity = limit - margin - uncontrolled must stay >= given + spare; a
                # circuit that shaped the allocation has no such bound (allocate decides).
                bound[circuit_id] = (
                    -math.inf if k in active else circuit.limit_a - cfg.margin_a - given[k] - spare
                )
        # Timers compare `t - since >= period`: one due a hair before now may not have fired
        # yet, and a millisecond short of its time keeps rounding on the safe side.
        # Two timers only matter to some chargers, and are left out for the others: a change
        # settling re-estimates a car's demand, which for a car that uses all it is given and
        # is already taken to want its max changes nothing; a hold on a decrease only counts
        # while the car still draws above its limit.
        until, now = math.inf, snap.t - 0.01
        inf = math.inf
        settling: list[str] = []
        for cid, mem in chargers.items():
            if len(mem.held) != 1 or mem.held[0].acked_t is None:
                return None  # a commitment not yet acknowledged, or one replaced settling
            charger, reading = self.topology.chargers[cid], snap.chargers[cid]
            settles = not (
                not mem.connected
                or mem.limit_a < charger.min_a
                or (
                    reading.current_a >= mem.limit_a - resolution
                    and mem.demand_a == charger.max_a
                    and mem.capped_since_t is None
                    and not mem.idle_car
                    and not mem.probing
                    and mem.probes_unused == 0
                )
            )
            settle_t = mem.changed_t + cfg.response_s if settles else inf
            if (
                settle_t > now
                and mem.hold_a == mem.limit_a
                and reading.current_a <= mem.limit_a + resolution
            ):
                # `coast` follows this charger's settling cycle by cycle instead (_absorb).
                settling.append(cid)
                settle_t = inf
            for due in (
                settle_t,
                mem.hold_until_t if reading.current_a > mem.limit_a + resolution else inf,
                mem.turn_since_t + cfg.rotation_s,
                demand.probe_due_t(mem, cfg),
                self._renewal_due_t(mem.held[0]),
            ):
                if now < due < until:
                    until = due
        metered = [c for c, circuit in self.topology.circuits.items() if circuit.meter]
        return CoastPlan(
            state=st,
            chargers=dict(snap.chargers),
            drawn_a={c: drawn.get(c, 0.0) for c in metered},
            bound_a=bound,
            until_t=until - 1e-3,
            claims=claims,
            claim_of={c.key: c for c in claims},
            capacities=list(capacities),
            room_a=room,
            targets_a=targets,
            paused=allocation.paused,
            active=active,
            settling=tuple(settling),
            shaped_capacities=tuple(
                capacities[k] for c, (k, _) in room.items() if bound[c] == -math.inf
            ),
        )

    # -- the steps, one idea each --------------------------------------------------------

    def _track_power_cycles(self, online: set[str]) -> None:
        # Seed: a removed unit stays at 6 A until its breaker is cycled. We see a power
        # cycle as the unit going silent and coming back.
        st = self.state
        for cid in list(st.removed):
            if cid not in online:
                st.removed[cid] = True
            elif st.removed[cid]:
                del st.removed[cid]
        for cid, mem in st.chargers.items():
            mem.online = cid in online

    def _current_per_circuit(self, current_a: Mapping[str, float]) -> dict[str, float]:
        own: dict[str, float] = {}
        # In the site's order, not the snapshot's: the same readings give the same sums.
        for cid, charger in self.topology.chargers.items():
            value = current_a.get(cid)
            if value is not None:
                circuit = charger.circuit
                own[circuit] = own.get(circuit, 0.0) + value
        return self.topology.roll_up(own)

    def _estimate_uncontrolled(
        self, meters: dict[str, float | None], drawn: dict[str, float], dt: float
    ) -> dict[str, float]:
        """Load on each metered circuit that is not a charger: meter minus chargers.

        Generation below a circuit can vanish in a cloud's shadow, so a negative value counts
        as 0. A rise counts at once; a fall is followed at LOAD_RELEASE_A_PER_S. A lost meter
        holds the last estimate (or the whole limit if there never was one).
        """
        st = self.state
        out: dict[str, float] = {}
        for circuit_id, circuit in self.topology.circuits.items():
            if not circuit.meter:
                out[circuit_id] = 0.0
                continue
            reading = meters.get(circuit.meter)
            previous = st.uncontrolled_a.get(circuit_id)
            if reading is None:
                value = previous if previous is not None else circuit.limit_a
            else:
                measured = max(0.0, reading - drawn.get(circuit_id, 0.0))
                decayed = -math.inf if previous is None else previous - LOAD_RELEASE_A_PER_S * dt
                value = max(measured, decayed)
            st.uncontrolled_a[circuit_id] = value
            out[circuit_id] = value
        return out

    def _plausible(self, snap: Snapshot, online: set[str], alerts: list[Alert]) -> dict[str, float]:
        """What each online charger draws, as its circuits' load estimates count it: its
        reading, unless that is more than it could really draw (its unit max, or what its
        commitments or its reported limit allow now, with a tolerance). A broken or hostile
        meter (999 A from a 32 A unit) would make the other loads on its circuits look
        smaller than they are: such a reading counts as 0 A, so whatever the charger really
        draws counts as other load (never less: any other figure could be too high). Its
        reading still informs its status and demand; only the load estimate ignores it."""
        out: dict[str, float] = {}
        bounds = self._bounds
        for cid in online:
            reading = snap.chargers[cid]
            out[cid] = reading.current_a
            charger = self.topology.chargers[cid]
            if reading.current_a <= min(charger.max_a, charger.min_a) + PLAUSIBLE_OVER_A:
                continue  # the common case, cheaply
            mem = self.state.chargers[cid]
            allowed = charger.max_a
            if mem.held:
                # What it may draw now (with the car's response to a lower pilot).
                allowed = min(allowed, envelope(mem.held, snap.t, bounds)[0][1])
                if reading.limit_a is not None:
                    allowed = max(allowed, min(charger.max_a, reading.limit_a))
            slack = max(PLAUSIBLE_OVER_A, PLAUSIBLE_OVER_SHARE * allowed)
            if reading.current_a <= allowed + slack:
                continue
            out[cid] = 0.0
            alerts.append(
                alert(
                    "charger_reading_implausible",
                    f"charger {cid} reports {reading.current_a:g} A, more than the "
                    f"{allowed:g} A it may draw: its reading is not used, and what it draws "
                    "counts as other load on its circuit's meter",
                    cid,
                )
            )
        return out

    def _silent_envelope(self, cid: str, mem: ChargerMemory, fallback: float, t: float) -> Steps:
        """What a silent charger may draw from `t` on: what its commitments allow. One not
        heard from since this controller started may hold a commitment of an earlier one, up to
        its max until that could have lapsed, then (at most) its fallback."""
        if mem.held:
            return envelope(mem.held, t, self._bounds)
        assert self._first_t is not None
        cfg = self.site.control
        lapsed_t = (
            self._first_t
            + cfg.lease_s
            + self._lease_grid_s
            + self._low_extra_s
            + cfg.clock_skew_s
            + cfg.response_s
        )
        if t < lapsed_t:
            return ((t, self.topology.chargers[cid].max_a), (lapsed_t, fallback))
        return ((t, fallback),)

    def _fallbacks_beside_silent(
        self, fallbacks: dict[str, float], envelopes: dict[str, Steps], online: set[str]
    ) -> dict[str, float]:
        """Fallbacks lowered where silent members still hold a higher one (the network limit
        was lowered while they were away): with them at what they hold, the fallbacks of all
        members still sum to at most the network limit."""
        adjusted: dict[str, float] | None = None
        for net in self.state.networks.values():
            if net.limit_a is None:
                continue
            silent = [c for c in net.members if c not in online and c in envelopes]
            if not silent or all(final_a(envelopes[c]) <= fallbacks[c] + EPS for c in silent):
                continue
            present = [c for c in net.members if c in online]
            if not present:
                continue
            held = sum(final_a(envelopes[c]) for c in silent)
            share = math.floor((net.limit_a - held) / len(present) * 10 + 1e-9) / 10
            adjusted = dict(fallbacks) if adjusted is None else adjusted
            for c in present:
                low = self.topology.chargers[c].min_a
                adjusted[c] = min(fallbacks[c], max(low, share))
        return fallbacks if adjusted is None else adjusted

    def _lease_end(self, t: float, limit_a: float, fallback_a: float) -> float:
        """A fresh lease's end: on the grid, later for a charger below its fallback."""
        grid = self._lease_grid_s
        until = math.ceil((t + self.site.control.lease_s) / grid - 1e-9) * grid
        return until + self._low_extra_s if limit_a < fallback_a - EPS else until

    def _renewal_due(self, c: Commitment, t: float) -> bool:
        """Whether a lease must be renewed now: with the clock error on top of half a lease
        left, one that lapses even on a charger whose clock runs fast is renewed in time."""
        return t >= self._renewal_due_t(c)

    def _renewal_due_t(self, c: Commitment) -> float:
        """When a lease falls due for renewal (never, where nothing changes at its end)."""
        if abs(c.limit_a - c.fallback_a) <= EPS:
            return math.inf
        cfg = self.site.control
        left = cfg.lease_s / 2 + cfg.clock_skew_s
        if c.limit_a < c.fallback_a:
            left += self._low_extra_s
        return c.until_t - left

    def _commit(
        self,
        t: float,
        claims: list[Claim],
        limits: dict[str, float],
        fallbacks: dict[str, float],
        envelopes: dict[str, Steps],
        defiant: dict[str, float],
        caps: list[float],
    ) -> dict[str, Commitment]:
        """The commitments to send this cycle.

        One that adds to what a charger may draw at some future instant is sent only if every
        constraint above it keeps the sum of its chargers' envelopes within its capacity
        wherever it adds (on a metered circuit whose other loads leave less than the chargers'
        fallbacks, within those fallbacks: what the circuit carries anyway once leases lapse).
        Otherwise the charger gets the most of its change that adds nothing: the new limit on
        its old lease, or its old limit (put back in `limits`); and the chargers below their
        fallback on that constraint renew now, so that their rise moves out of the way of the
        next cycle's try."""
        st, bounds = self.state, self._bounds
        layout = self._layout()
        out: dict[str, Commitment] = {}
        adding: list[tuple[str, list[Commitment]]] = []
        for claim in claims:
            cid = claim.key
            mem = st.chargers[cid]
            new_l, new_f = limits[cid], fallbacks[cid]
            newest = mem.held[-1] if mem.held else None
            due = newest is None or self._renewal_due(newest, t)
            if (
                newest is not None
                and not due
                and abs(newest.limit_a - new_l) <= EPS
                and abs(newest.fallback_a - new_f) <= EPS
            ):
                continue
            fresh = Commitment(new_l, new_f, self._lease_end(t, new_l, new_f), t)
            tries = [fresh]
            if newest is not None:
                # What else to try: the change on its old lease, the new limit with the old
                # fallback (a decrease always gets this far: it adds nothing), the old limit
                # with the new fallback. Best first: a fresh lease when one is due or for a
                # decrease below the fallback (safe either way), else the old lease's end.
                kept = [
                    Commitment(new_l, new_f, newest.until_t, t),
                    Commitment(new_l, newest.fallback_a, newest.until_t, t),
                    Commitment(newest.limit_a, new_f, newest.until_t, t),
                ]
                if due or (new_l < newest.limit_a - EPS and new_l < new_f - EPS):
                    tries += kept
                else:
                    tries = [kept[0], fresh, *kept[1:]]
                tries = [p if _same(p, newest) else _distinct(p, mem.held) for p in tries]
            old = envelope(mem.held, t, bounds)
            for n, proposal in enumerate(tries):
                if newest is not None and _same(proposal, newest):
                    limits[cid] = newest.limit_a  # nothing to send: keep what it has
                    if n:
                        adding.append((cid, tries[:n]))
                    break
                new = envelope((*mem.held, proposal), t, bounds)
                if not adds(difference(new, old)):
                    out[cid] = proposal
                    envelopes[cid] = new
                    limits[cid] = proposal.limit_a
                    if n:  # the best try adds: it may still fit
                        adding.append((cid, tries[:n]))
                    break
            else:
                adding.append((cid, tries))
                if newest is not None:
                    limits[cid] = newest.limit_a
        for cid in defiant:
            mem = st.chargers[cid]
            if not mem.held:  # a first commitment, safe under what it is counted at now
                f = fallbacks[cid]
                out[cid] = Commitment(0.0, f, self._lease_end(t, 0.0, f), t)
        if not adding:
            return out
        # The sums, over every constraint a change touches, of what every charger may draw,
        # with this cycle's changes that add nothing; and the capacity each is held to.
        members = self._constraint_members(layout)
        sums: dict[int, StepSum] = {}
        bound: dict[int, float] = {}
        ncircuits = len(self._circuit_k)
        for cid, _ in adding:
            for k in layout.constraints[cid]:
                if k in sums:
                    continue
                envs = [self._envelope_now(c, t, envelopes, defiant) for c in members[k]]
                sums[k] = StepSum(t, envs)
                bound[k] = caps[k]
                if k < ncircuits:
                    bound[k] = max(
                        caps[k],
                        sum(
                            fallbacks.get(c, final_a(e))
                            for c, e in zip(members[k], envs, strict=True)
                        ),
                    )
        # Renewals of unchanged limits first (a lapse drops a car to its fallback), then raises.
        adding.sort(key=lambda item: abs(item[1][0].limit_a - st.chargers[item[0]].limit_a) > EPS)
        refused: set[int] = set()
        for cid, tries in adding:
            mem = st.chargers[cid]
            ks = layout.constraints[cid]
            base = envelopes[cid] if cid in out else envelope(mem.held, t, bounds)
            for proposal in tries:
                new = envelope((*mem.held, proposal), t, bounds)
                delta = difference(new, base)
                misfits = [k for k in ks if not sums[k].fits(delta, bound[k])]
                if not misfits:
                    for k in ks:
                        sums[k].add(delta)
                    out[cid] = proposal
                    envelopes[cid] = new
                    limits[cid] = proposal.limit_a
                    break
                refused.update(misfits)
        fresh_low = self._lease_end(t, 0.0, 1.0)
        for k in refused:
            for cid in members[k]:
                mem = st.chargers[cid]
                newest = mem.held[-1] if mem.held else None
                if (
                    cid in out
                    or cid not in limits
                    or newest is None
                    or newest.limit_a >= newest.fallback_a - EPS
                    or newest.until_t >= fresh_low - EPS
                ):
                    continue
                out[cid] = _distinct(
                    Commitment(newest.limit_a, newest.fallback_a, fresh_low, t), mem.held
                )
        return out

    def _envelope_now(
        self, cid: str, t: float, envelopes: dict[str, Steps], defiant: dict[str, float]
    ) -> Steps:
        env = envelopes.get(cid)
        if env is None:
            env = envelopes[cid] = envelope(self.state.chargers[cid].held, t, self._bounds)
        if cid in defiant:
            return ((t, max(defiant[cid], peak_a(env))),)
        return env

    def _constraint_members(self, layout: Layout) -> list[list[str]]:
        """The chargers under each constraint (rebuilt with the layout)."""
        if self._members is not None and self._members[0] is layout:
            return self._members[1]
        ncon = len(self._circuit_k) + len(self._network_k)
        members: list[list[str]] = [[] for _ in range(ncon)]
        for cid, ks in layout.constraints.items():
            for k in ks:
                members[k].append(cid)
        self._members = (layout, members)
        return members

    def _layout(self) -> Layout:
        """Membership, fallbacks and constraint paths; rebuilt only when settings change."""
        st = self.state
        signature = (
            tuple((nid, n.enabled, n.limit_a, n.members) for nid, n in st.networks.items()),
            frozenset(st.removed),
        )
        if self._cached is not None and self._cached[0] == signature:
            return self._cached[1]
        member_of = membership(st)
        fallbacks: dict[str, float] = {}
        constraints: dict[str, tuple[int, ...]] = {}
        fixed: dict[str, float] = {}
        for cid in st.chargers:
            nid = member_of.get(cid)
            fallbacks[cid] = fallback_a(self.topology, st, cid, nid)
            ks = [self._circuit_k[c] for c in self.topology.paths[cid]]
            if nid is not None and st.networks[nid].enabled:
                ks.append(self._network_k[nid])
            constraints[cid] = tuple(ks)
            # A removed unit, or a member of a disabled network, runs at its fallback.
            if cid in st.removed or (nid is not None and not st.networks[nid].enabled):
                fixed[cid] = fallbacks[cid]
        layout = Layout(member_of, fallbacks, constraints, fixed)
        self._cached = (signature, layout)
        return layout

    def _remember(
        self, mem: ChargerMemory, new: float, paused: bool, t: float, sent: Commitment | None
    ) -> None:
        cfg = self.site.control
        if new < mem.limit_a:
            mem.hold_a = max(mem.hold_a, mem.limit_a)
            mem.hold_until_t = t + cfg.response_s
        if new != mem.limit_a:
            mem.changed_t = t
        mem.limit_a = new
        if sent is not None:
            mem.held = (*mem.held, sent)
            mem.lease_until_t = sent.until_t
        admitted = new > 0 or (not paused and mem.connected and mem.demand_a > 0)
        if admitted != mem.admitted:
            mem.admitted = admitted
            mem.turn_since_t = t

    def _circuit_alerts(
        self, meters: dict[str, float | None], reserved: list[float], capacities: list[float]
    ) -> list[Alert]:
        alerts = []
        for circuit_id in self.topology.order:
            circuit = self.topology.circuits[circuit_id]
            if not circuit.meter:
                continue
            reading = meters.get(circuit.meter)
            if reading is None:
                alerts.append(
                    alert(
                        "meter_lost",
                        f"meter {circuit.meter} of circuit {circuit_id} lost: "
                        "chargers below it are not raised",
                        circuit_id,
                    )
                )
            elif reading > circuit.limit_a:
                alerts.append(
                    alert(
                        "circuit_overload",
                        f"circuit {circuit_id}: {reading:.1f} A > limit {circuit.limit_a:g} A",
                        circuit_id,
                    )
                )
        for circuit_id, k in self._circuit_k.items():
            if reserved[k] > 0 and capacities[k] < 0:
                alerts.append(
                    alert(
                        "circuit_fixed_load",
                        f"circuit {circuit_id}: {reserved[k]:g} A reserved for silent "
                        "chargers leaves no room for the others",
                        circuit_id,
                    )
                )
        return alerts
