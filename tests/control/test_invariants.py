"""Property tests: the invariants of DESIGN.md section 3 on every decision of random runs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panelpilot.control import ChargerStatus, Controller, Decision, Snapshot
from panelpilot.control.state import firm_a
from tests.control.strategies import World, sites, snapshot, steps

TOL = 1e-6
RUNS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _below(world: World, circuit_id: str) -> list[str]:
    from tests.control.strategies import _within

    return [c.id for c in world.site.chargers if _within(world.parents, c.circuit, circuit_id)]


@given(data=st.data())
@RUNS
def test_sum_of_limits_never_exceeds_any_circuit_or_network(data: st.DataObject) -> None:
    world = data.draw(sites())
    plan = data.draw(steps(world, data.draw(st.integers(1, 12))))
    controller = Controller(world.site)
    limits: dict[str, float] = {}
    t = 0.0
    previous: Decision | None = None
    prev_online: set[str] = set()
    for step in plan:
        t += step["dt"]
        snap = snapshot(world, t, step, limits)
        d = controller.decide(snap)
        online = {k for k, r in snap.chargers.items() if r.online}
        members = {nid: net.members for nid, net in controller.state.networks.items()}
        _check_limits_in_range(world, snap, d)
        _check_circuits(world, snap, d, previous, online, prev_online)
        _check_networks(controller, snap, d, previous, online, prev_online, members)
        _check_fallbacks(world, controller, d, members, online)
        limits = {k: v.limit_a for k, v in d.chargers.items()}
        previous, prev_online = d, online


def _check_limits_in_range(world: World, snap: Snapshot, d: Decision) -> None:
    for c in world.site.chargers:
        cd = d.chargers[c.id]
        assert cd.limit_a == 0 or c.min_a - TOL <= cd.limit_a <= c.max_a + TOL, (c.id, cd)
        if c.id not in snap.chargers:
            assert cd.status is ChargerStatus.UNRESPONSIVE
            # An offline charger is reserved at (at least) its fallback.
            assert cd.limit_a >= cd.fallback_a - TOL


def _check_circuits(
    world: World,
    snap: Snapshot,
    d: Decision,
    previous: Decision | None,
    online: set[str],
    prev_online: set[str],
) -> None:
    margin = world.site.control.margin_a
    for circuit, _ in world.site.all_circuits():
        below = _below(world, circuit.id)
        if not below:
            continue
        reserved = sum(d.chargers[c].limit_a for c in below if c not in online)
        on = [c for c in below if c in online]
        total = sum(d.chargers[c].limit_a for c in on)
        if circuit.meter:
            reading = snap.meters.get(circuit.meter)
            if reading is None:
                # A lost meter never raises anything below it.
                if previous is not None:
                    for c in on:
                        if c in prev_online:
                            assert d.chargers[c].limit_a <= previous.chargers[c].limit_a + TOL
                continue
            drawn = sum(snap.chargers[c].current_a for c in on)
            uncontrolled = max(0.0, reading - drawn)
            cap = circuit.limit_a - margin - uncontrolled - reserved
        else:
            cap = circuit.limit_a - reserved
        # Never over the limit (with the measured uncontrolled load and the reservations).
        assert total <= max(0.0, cap) + TOL, (circuit.id, total, cap)
        # Raises only into real room: sum of max(old, new) within the limit.
        if previous is not None:
            _check_transition(circuit.id, on, prev_online, d, previous, cap)


def _check_transition(
    label: str,
    on: list[str],
    prev_online: set[str],
    d: Decision,
    previous: Decision,
    cap: float,
) -> None:
    """If any charger under a constraint was raised, sum of max(old, new) fits its capacity."""
    new = {c: d.chargers[c].limit_a for c in on}
    old = {c: previous.chargers[c].limit_a for c in on if c in prev_online}
    if any(new[c] > old[c] + TOL for c in old):
        both = sum(max(new[c], old.get(c, 0.0)) for c in on)
        assert both <= cap + TOL, (label, both, cap)


def _check_networks(
    controller: Controller,
    snap: Snapshot,
    d: Decision,
    previous: Decision | None,
    online: set[str],
    prev_online: set[str],
    members: dict[str, tuple[str, ...]],
) -> None:
    for nid, net in d.networks.items():
        if not net.enabled:
            continue
        reserved = sum(d.chargers[c].limit_a for c in members[nid] if c not in online)
        on = [c for c in members[nid] if c in online]
        total = sum(d.chargers[c].limit_a for c in on)
        assert total <= max(0.0, net.limit_a - reserved) + TOL, (nid, total, net.limit_a)
        if previous is not None and previous.networks[nid].enabled:
            _check_transition(nid, on, prev_online, d, previous, net.limit_a - reserved)


def _check_fallbacks(
    world: World,
    controller: Controller,
    d: Decision,
    members: dict[str, tuple[str, ...]],
    online: set[str],
) -> None:
    by_id = {c.id: c for c in world.site.chargers}
    in_net = {c: nid for nid, ms in members.items() for c in ms}
    for cid, cd in d.chargers.items():
        c = by_id[cid]
        if cid not in online:
            continue  # a silent charger keeps the fallback it holds (checked in test_commitments)
        if cid in controller.state.removed:
            assert cd.fallback_a == 6.0
        elif cid in in_net:
            net = d.networks[in_net[cid]]
            expect = min(c.max_a, max(c.min_a, net.limit_a / net.size))
            # network limit / size bounded to the unit, rounded down to 0.1 A; never above
            # it, and lower while silent members still hold a higher one (a limit lowered
            # while they were away) or while a higher one waits for room to be committed
            assert cd.fallback_a <= expect + TOL
        else:
            own = c.fallback_a if c.fallback_a is not None else c.min_a
            assert cd.fallback_a <= own + TOL


@given(data=st.data())
@RUNS
def test_allocation_is_max_min_fair_and_pauses_only_when_minimum_does_not_fit(
    data: st.DataObject,
) -> None:
    world = data.draw(sites())
    plan = data.draw(steps(world, data.draw(st.integers(1, 8))))
    controller = Controller(world.site)
    limits: dict[str, float] = {}
    t = 0.0
    res = world.site.control.resolution_a
    for step in plan:
        step = {**step, "command": None}
        t += step["dt"]
        snap = snapshot(world, t, step, limits)
        d = controller.decide(snap)
        limits = {k: v.limit_a for k, v in d.chargers.items()}
        online = [c for c in world.site.chargers if c.id in snap.chargers]
        fixed = {c for c in controller.state.removed}
        fixed |= {
            m for net in controller.state.networks.values() if not net.enabled for m in net.members
        }
        cons = _constraints(world, controller, d)
        for c in online:
            cd = d.chargers[c.id]
            if c.id in fixed or cd.demand_a <= 0 or not snap.chargers[c.id].connected:
                continue
            mine = [k for k, (ms, _) in cons.items() if c.id in ms]
            if cd.target_a == 0:
                # Paused: some constraint cannot fit one more minimum; for a car that does
                # not draw (standby), not even in what is left once the others have theirs.
                standby = controller.state.chargers[c.id].idle_car
                used = {
                    k: sum(
                        (d.chargers[m].target_a if standby else 6.0)
                        for m in cons[k][0]
                        if m in snap.chargers and d.chargers[m].target_a
                    )
                    for k in mine
                }
                assert any(used[k] + c.min_a > cons[k][1] - 1e-3 for k in mine), (
                    c.id,
                    {k: (used[k], cons[k][1]) for k in mine},
                )
            elif cd.target_a < cd.demand_a - res:
                # Wants more: some constraint above it is full (within a step).
                slack = {
                    k: cons[k][1]
                    - sum(d.chargers[m].target_a for m in cons[k][0] if m in snap.chargers)
                    for k in mine
                }
                assert any(slack[k] < res + 1e-3 for k in mine), (c.id, cd, slack)
        # Max-min fair within the resolution: nobody admitted gets less than its share in the
        # exact (continuous) max-min fair allocation, less one step. A capped car's headroom
        # comes only from what is left, so its fair demand is what it was seen able to draw.
        admitted = {
            c.id: (c.min_a, firm_a(controller.state.chargers[c.id], c.min_a))
            for c in online
            if c.id not in fixed and d.chargers[c.id].target_a > 0
        }
        fair = _max_min_oracle(admitted, cons, {m: d.chargers[m].target_a for m in fixed})
        for cid, level in fair.items():
            assert d.chargers[cid].target_a >= level - res - 1e-3, (cid, level, d.chargers[cid])


def _max_min_oracle(
    admitted: dict[str, tuple[float, float]],
    cons: dict[str, tuple[list[str], float]],
    fixed_a: dict[str, float],
) -> dict[str, float]:
    """Exact progressive filling, written plainly (O(n^2)): every admitted charger starts at
    its minimum and rises with the others until its demand or a full constraint stops it."""
    alloc = {cid: lo for cid, (lo, _) in admitted.items()}
    caps = {k: cap - sum(fixed_a.get(m, 0.0) for m in ms) for k, (ms, cap) in cons.items()}
    active = {cid for cid, (lo, hi) in admitted.items() if hi > lo}
    while active:
        steps = [admitted[cid][1] - alloc[cid] for cid in active]
        for k, (ms, _) in cons.items():
            n = sum(1 for m in ms if m in active)
            if n:
                used = sum(alloc[m] for m in ms if m in alloc)
                steps.append(max(0.0, caps[k] - used) / n)
        step = min(steps)
        for cid in active:
            alloc[cid] += step
        done = {cid for cid in active if alloc[cid] >= admitted[cid][1] - 1e-9}
        for k, (ms, _) in cons.items():
            used = sum(alloc[m] for m in ms if m in alloc)
            if used >= caps[k] - 1e-9:
                done |= {m for m in ms if m in active}
        active -= done
    return alloc


def _constraints(
    world: World, controller: Controller, d: Decision
) -> dict[str, tuple[list[str], float]]:
    out: dict[str, tuple[list[str], float]] = {}
    for circuit, _ in world.site.all_circuits():
        ms = _below(world, circuit.id)
        if ms:
            out[f"circuit:{circuit.id}"] = (ms, d.circuits[circuit.id].available_a)
    for nid, net in controller.state.networks.items():
        if net.enabled:
            out[f"network:{nid}"] = (list(net.members), d.networks[nid].available_a)
    return out
