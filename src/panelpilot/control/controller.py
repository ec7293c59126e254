"""The controller: one cycle, read then write. `decide(snapshot) -> Decision`, nothing else.

Pure: no clock (time comes from the snapshot), no I/O, no threads. Its memory is a frozen
`ControllerState`; a cycle is a pipeline of named steps, each a module, each returning new
records, and `decide` alone puts the new state in force:

1. `settings.apply_commands`: settings changes (the settings lock may refuse them);
2. `presence`: who reported, power cycles of removed units, acknowledgements, defiance;
3. `loads`: what the chargers draw, each metered circuit's uncontrolled load;
4. `capacity`: each constraint's room, less what silent and defiant chargers may take;
5. `claims.claims`: each car's demand estimate and its place in the admission order;
6. `sharing.allocate`: max-min fair targets with the 6 A minimum and turns;
7. `sequencer.sequence`: decreases now, raises only into room that is really free;
8. `leases.commit`: the commitments that keep every future instant within every constraint;
9. `record`: each charger's memory after the cycle;
10. `report`: what each charger is told, statuses, alerts;
11. `pcs.apply_pcs`: the Panel, Conductor and Site Export limits on batteries and solar;
12. `steady`: whether this cycle is a fixed point, and the conditions it holds under.

A cycle after a fixed point whose conditions hold (same charger readings, no command, no timer
due, capacities within the region) skips steps 2 and 5-10: it decides for the chargers what
the fixed point did, which is what those steps would compute again; where a capacity left its
region or leases fall due, it runs step 6 or 8 alone (`rerun`). (`incremental=False` runs
every step anyway; the test suite checks both give the same decisions and memories.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from panelpilot.control import claims as claiming
from panelpilot.control import demand
from panelpilot.control.alerts import alert
from panelpilot.control.capacity import (
    Reserved,
    base_caps,
    capacities,
    correct_overloads,
    fallbacks_beside_silent,
    frozen,
    overloads,
    reserve,
)
from panelpilot.control.layout import Index, Layout, signature
from panelpilot.control.leases import Job, Leases
from panelpilot.control.loads import per_circuit, plausible, uncontrolled
from panelpilot.control.moved import moved
from panelpilot.control.pcs import apply_pcs
from panelpilot.control.presence import observe, online_of, power_cycles
from panelpilot.control.quiet import Quiet, acknowledged, quiet, skipped
from panelpilot.control.record import record, record_sent
from panelpilot.control.report import (
    charger_alerts,
    charger_decisions,
    circuit_alerts,
    decisions_at,
    network_alerts,
    overload_alerts,
)
from panelpilot.control.rerun import rerun
from panelpilot.control.sequencer import pending_raises, sequence, steps_for
from panelpilot.control.settings import apply_commands
from panelpilot.control.sharing import Allotted, Claim, allot
from panelpilot.control.state import ControllerState, initial_state
from panelpilot.control.status import allocated_a, circuit_states_later, network_states
from panelpilot.control.steady import Fixed, Steady, quiet_until, region
from panelpilot.control.topology import Topology
from panelpilot.control.types import (
    Alert,
    ChargerDecision,
    Decision,
    NetworkState,
    Snapshot,
)
from panelpilot.control.validate import KnownDevices, check_snapshot
from panelpilot.site.model import Site


class Controller:
    """Decides, every cycle, every charger's limit and every battery's and inverter's caps."""

    def __init__(
        self, site: Site, state: ControllerState | None = None, incremental: bool = True
    ) -> None:
        """`incremental=False` runs every step of every cycle (the reference the fast path
        of a steady cycle is tested against)."""
        self.site = site
        self.topology = Topology.of(site)
        self.state = state if state is not None else initial_state(site)
        self._meters = sorted(site.meter_ids())
        self._index = Index.of(self.topology, self.state.networks)
        self._layout: tuple[object, Layout] | None = None
        self._known = KnownDevices.of(site)
        self._leases = Leases(site.control)
        self._incremental = incremental
        self._steady: Steady | None = None
        self._drawn: dict[str, float] = {}  # chargers' current per circuit, as last counted
        self._claims: dict[str, Claim] = {}  # the last cycle's claims, reused where equal
        self._allocated: Allotted | None = None  # the last full cycle's allocation

    def decide(self, snap: Snapshot) -> Decision:
        """One control cycle: take what is measured, return what every device is told."""
        st = self.state
        check_snapshot(self._known, st.t, snap)
        meters = {m: snap.meters.get(m) for m in self._meters}
        lost = frozenset(m for m, v in meters.items() if v is None)
        dt = 0.0 if st.t is None else snap.t - st.t
        steady = self._steady if self._incremental and not snap.commands else None
        if steady is not None:
            decision = self._steady_cycle(steady, snap, meters, lost, dt)
            if decision is not None:
                return decision
        self._steady = None
        return self._full_cycle(snap, meters, lost, dt)

    def quiet(self) -> Quiet | None:
        """The meter readings under which the next cycles repeat the last one (`quiet`), or
        None where it cannot say."""
        if not self._incremental:
            return None
        return quiet(self._steady, self.state, self._drawn, self.topology, self._index, self.site)

    def skip(self, t: float, meters: Mapping[str, float | None]) -> None:
        """Leave out the cycle at `t`, one that `quiet()` counted as repeating the last one
        (`Quiet.cycles`, with these meter readings and every other input as before): the
        memory becomes what deciding it would leave (`quiet.skipped`)."""
        steady, state = acknowledged(self._steady, self.state)
        self.state = skipped(steady, state, self.topology, meters, self._drawn, t)
        self._steady = steady

    def _steady_cycle(
        self,
        steady: Steady,
        snap: Snapshot,
        meters: dict[str, float | None],
        lost: frozenset[str],
        dt: float,
    ) -> Decision | None:
        """A cycle after a fixed point: None unless its conditions hold."""
        st, topo, cfg, index = self.state, self.topology, self.site.control, self._index
        if overloads(index, topo, cfg, meters) or lost != steady.lost:
            return None
        currents, ahead = None, steady.ahead
        # (After renewals worked out ahead, that cycle's conditions are the ones that hold.)
        if not (ahead.steady if ahead else steady).holds(snap.t, snap.chargers, lost):  # `moved`
            currents = moved(steady, snap, st.chargers, topo, self._leases.bounds, cfg)
            if currents is None:
                return None
        drawn = self._drawn if currents is None else currents.drawn
        u = uncontrolled(topo, st.uncontrolled_a, meters, drawn, dt)
        caps = base_caps(index, topo, cfg, u, st.networks)
        room = capacities(caps, steady.reserved)
        until_t, since_t, within = steady.until_t, steady.t, steady.within(room)
        if ahead is not None and currents is None:  # renewals acknowledged, as worked out ahead
            if not ahead.steady.within(room) or snap.t >= ahead.steady.until_t:
                return None
            st, steady = replace(st, chargers=ahead.chargers), ahead.steady
            self._steady, until_t, since_t = steady, steady.until_t, steady.t
        elif not within or snap.t >= until_t or steady.renewing:  # the `rerun` module
            again = (
                None if currents else rerun(steady, snap, st, self._leases, cfg, caps, room, within)
            )
            if again is None:
                return None
            st, steady, until_t, since_t = again.state, again.steady, again.until_t, snap.t
            self._steady = steady
        elif currents is not None:
            available = {n: room[k] for n, k in index.network_k.items()}
            networks = network_states(st.networks, snap, steady.decisions, available)
            steady = self._steady = replace(currents.steady, networks=networks)
            until_t, self._drawn = steady.until_t, drawn
        return self._finish(
            snap,
            st,
            decisions_at(steady.decisions, snap.t),
            u,
            meters,
            room,
            steady.reserved,
            [*steady.charger_alerts],
            steady.network_alerts,
            steady.networks,
            steady.allocated,
            until_t,
            since_t,
        )

    def _full_cycle(
        self, snap: Snapshot, meters: dict[str, float | None], lost: frozenset[str], dt: float
    ) -> Decision:
        """Every step, in order (see the module's docstring)."""
        before, topo, cfg, index, leases = (
            self.state,
            self.topology,
            self.site.control,
            self._index,
            self._leases,
        )
        t = snap.t
        online = online_of(snap)
        first_t = before.first_t if before.first_t is not None else t
        # 1. Settings (the lock asks who is online now).
        st = before if before.online == online else replace(before, online=online)
        alerts: list[Alert] = []
        if snap.commands:
            st, refused = apply_commands(topo, st, snap.commands)
            alerts += [alert("setting_rejected", why, cmd.network) for cmd, why in refused]
        # 2. Presence.
        removed = power_cycles(st.removed, online)
        if removed is not st.removed:
            st = replace(st, removed=removed)
        presence = observe(st.chargers, snap, online, leases.bounds)
        chargers, defiant = presence.chargers, presence.defiant
        # What the readings alone changed (acknowledgements, retired commitments, defiance):
        # done again on the result, that step changes nothing (it is idempotent), so a cycle
        # that changed only this much is still a fixed point.
        observed = dict(chargers)
        layout = self._layout_of(st)
        # 3. Loads.
        currents, implausible = plausible(topo, chargers, snap, online, leases.bounds)
        alerts += implausible
        drawn = per_circuit(topo, currents)
        u = uncontrolled(topo, st.uncontrolled_a, meters, drawn, dt)
        # 4. Capacity.
        caps = base_caps(index, topo, cfg, u, st.networks)
        over = overloads(index, topo, cfg, meters)
        if over:
            correct_overloads(caps, over, index, topo, chargers, online)
        reserved = reserve(layout, leases, topo, chargers, online, defiant, t, first_t)
        room = capacities(caps, reserved)
        fallbacks = layout.fallbacks
        if reserved.reserves:
            fallbacks = fallbacks_beside_silent(
                topo, st.networks, fallbacks, reserved.envelopes, online
            )
        # 5.-7. Claims, allocation, sequencing.
        listening = online.difference(defiant)
        claims = claiming.claims(topo, chargers, snap, listening, layout, cfg, self._claims)
        self._claims = {c.key: c for c in claims}
        estimated = dict(chargers)  # (a demand estimate refreshed again here stays: `settled`)
        allocation, self._allocated = allot(self._allocated, claims, room, cfg.resolution_a)
        targets, paused = allocation.targets_a, allocation.paused
        steps = steps_for(claims, chargers, snap.chargers, targets, t, cfg.resolution_a)
        limits = sequence(steps, room, frozen(index, topo, lost), cfg.resolution_a)
        # 8.-9. Commitments, memory.
        envelopes = dict(reserved.envelopes)
        sent = leases.commit(
            Job(t, chargers, claims, limits, fallbacks, envelopes, defiant, caps, layout)
        )
        commitments = sent.commitments
        for s in steps:
            cid = s.key
            chargers[cid] = record(
                chargers[cid],
                sent.limits[cid],
                s.hold_a,
                cid in paused,
                t,
                commitments.get(cid),
                cfg.response_s,
            )
        for cid in chargers.keys() - listening:
            chargers[cid] = record_sent(chargers[cid], commitments.get(cid))
        # 10. Report.
        decisions = charger_decisions(
            chargers, snap, online, listening, targets, paused, reserved.reserves, fallbacks, cfg
        )
        about_chargers = charger_alerts(
            chargers, t, online, defiant, reserved.reserves, st.removed, fallbacks, paused, cfg
        )
        about_networks = tuple(network_alerts(st.networks))
        networks = network_states(
            st.networks, snap, decisions, {n: room[k] for n, k in index.network_k.items()}
        )
        allocated = allocated_a(topo, decisions, online)
        unchanged = all(chargers[c] is m for c, m in before.chargers.items())
        settled = unchanged or all(chargers[c] is m for c, m in observed.items())
        if not settled and all(chargers[c] is m for c, m in estimated.items()):
            settled = demand.settled(topo.chargers, estimated, observed, snap, t, cfg)
        st = replace(st, chargers=before.chargers if unchanged else chargers, first_t=first_t)
        # 12. Steady: a fixed point's conditions (before step 11, which runs every cycle).
        until = t
        self._drawn = drawn
        if (
            settled
            and not snap.commands
            and st.removed is before.removed
            and before.first_t is not None
            and not commitments
            and not sent.pending
            and not over
            and not pending_raises(steps, sent.limits)
            and not any(c.required_a is not None for c in claims)  # time alone moves a need
        ):
            other_t, renew_t = quiet_until(
                st.chargers, snap.chargers, topo.chargers, online, defiant, leases, cfg, t, first_t
            )
            until = min(other_t, renew_t)
            low, high = region(allocation, room, layout)
            fixed = None
            if not reserved.reserves and not defiant:
                fixed = Fixed(
                    tuple(claims), sent.limits, fallbacks, paused, allocation, layout, topo.chargers
                )
            self._steady = Steady(
                t,
                until,
                other_t if fixed is not None else until,
                low,
                high,
                dict(snap.chargers),  # a copy: the caller's mapping may change later
                lost,
                reserved,
                decisions,
                (*implausible, *about_chargers),
                about_networks,
                networks,
                allocated,
                fixed,
            )
        return self._finish(
            snap,
            st,
            decisions,
            u,
            meters,
            room,
            reserved,
            [*alerts, *about_chargers],
            about_networks,
            networks,
            allocated,
            until,
            t,
        )

    def _finish(
        self,
        snap: Snapshot,
        st: ControllerState,
        decisions: Mapping[str, ChargerDecision],
        u: dict[str, float],
        meters: dict[str, float | None],
        room: list[float],
        reserved: Reserved,
        alerts: list[Alert],
        about_networks: tuple[Alert, ...],
        networks: Mapping[str, NetworkState],
        allocated: Mapping[str, float],
        steady_until_t: float,
        chargers_since_t: float,
    ) -> Decision:
        """What every cycle does: circuits, PCS, the new state in force."""
        topo, index, site = self.topology, self._index, self.site
        circuits = circuit_states_later(site, topo, meters, u, allocated, room, index.circuit_k)
        alerts += circuit_alerts(topo, index, meters, reserved.amounts, room)
        ctl = site.control
        over_alerts, over_since = overload_alerts(
            topo, meters, st.over_since, snap.t, ctl.period_s + ctl.response_s
        )
        alerts += over_alerts
        alerts += about_networks
        # 11. PCS.
        dt = 0.0 if st.t is None else snap.t - st.t
        pcs = apply_pcs(site, snap, topo.within, meters, st.pcs, dt)
        alerts += pcs.alerts
        self.state = ControllerState(
            snap.t,
            st.chargers,
            st.networks,
            st.removed,
            u,
            pcs.memory,
            st.online,
            st.first_t,
            over_since,
        )
        return Decision(
            snap.t,
            decisions,
            pcs.batteries,
            pcs.solar,
            networks,
            circuits,
            tuple(alerts),
            steady_until_t,
            chargers_since_t,
        )

    def _layout_of(self, state: ControllerState) -> Layout:
        """The layout of `state`'s settings, rebuilt only when they change."""
        key = signature(state)
        if self._layout is not None and self._layout[0] == key:
            return self._layout[1]
        layout = Layout.of(self.topology, self._index, state)
        self._layout = (key, layout)
        return layout
