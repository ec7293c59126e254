"""Step 5 of a cycle: each listening charger's claim, in turn order.

A claim is what a car would draw (`demand.update`, refreshed here) with what sharing needs to
know of it: its minimum, priority and constraints; a car plugged in that does not draw is a
standby claim (its minimum only from what is left); a car with a known need (departure and
energy still wanted) claims `required_a`, the current that delivers the energy by departure
at the site's voltage, and is ordered by its laxity (`sharing`). When current is short the
claims' order says who gets a minimum first: priority, then the turn order of
docs/control.md section 3 (`admission_key`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from operator import itemgetter

from panelpilot.control.demand import update
from panelpilot.control.layout import Layout
from panelpilot.control.sharing import Claim
from panelpilot.control.state import ChargerMemory, firm_a
from panelpilot.control.topology import Topology
from panelpilot.control.types import ChargingNeed, Snapshot
from panelpilot.site.model import Charger, ControlSettings


def required_a(need: ChargingNeed | None, t: float, voltage_v: float) -> float | None:
    """The current that delivers `need`'s energy by its departure (inf once it is due);
    None when either is unknown."""
    if need is None or need.departure_t is None or need.energy_wh is None:
        return None
    if need.energy_wh <= 0:
        return 0.0
    left_s = need.departure_t - t
    if left_s <= 0:
        return math.inf
    return need.energy_wh * 3600.0 / (voltage_v * left_s)


def admission_key(
    claim: Claim, mem: ChargerMemory, t: float, cfg: ControlSettings
) -> tuple[int, int, float, str]:
    """Order in which chargers get their minimum when there is not enough for all.

    Higher priority first; then cars that hold a turn not yet used up; then cars that have
    waited at least `rotation_s` (longest first); then cars whose turn is up (the one whose
    turn began last yields first: the cars charging longest came first and mostly leave
    first, so the turns go round the rest); then cars paused less than `rotation_s` ago (they
    just had a turn: ahead of the cars whose turn is up they would take it back from the next
    one, and each such swap is a pause and a restart); cars that are plugged in but do not
    draw come last.
    """
    if mem.idle_car:
        group, since = 4, mem.turn_since_t
    elif not mem.admitted:
        group = 1 if t - mem.turn_since_t >= cfg.rotation_s else 3
        since = mem.turn_since_t
    elif t - mem.turn_since_t < cfg.rotation_s:
        group, since = 0, mem.turn_since_t
    else:
        group, since = 2, mem.turn_since_t
    return (-claim.priority, group, since, claim.key)


# A fixed allocation (a disabled network's member, a removed unit) is served before any
# priority a site file can give, but still within every circuit limit.
FIXED_PRIORITY = 1 << 30


def claims(
    topology: Topology,
    chargers: dict[str, ChargerMemory],
    snap: Snapshot,
    listening: frozenset[str],
    layout: Layout,
    cfg: ControlSettings,
    previous: Mapping[str, Claim],
) -> list[Claim]:
    """Each listening charger's claim, in admission order; `chargers` gets the refreshed
    demand estimates. A claim equal to the one in `previous` is that one (claims are never
    changed once made), so a settled charger costs no new claim."""
    keyed: list[tuple[tuple[int, int, float, str], Claim]] = []
    t, readings, fixed_limits, constraints = snap.t, snap.chargers, layout.fixed, layout.constraints
    volts, before = topology.voltage_v, previous.get
    for cid, charger in topology.chargers.items():
        if cid not in listening:
            continue
        reading = readings[cid]
        mem = chargers[cid] = update(chargers[cid], charger, reading, t, cfg)
        fixed = fixed_limits.get(cid)
        ks = constraints[cid]
        if fixed is not None:
            claim = Claim(cid, fixed, min(charger.min_a, fixed), FIXED_PRIORITY, ks, True)
        else:
            claim = _claim(charger, mem, reading.need, ks, t, cfg, volts, before(cid))
        keyed.append((admission_key(claim, mem, t, cfg), claim))
    keyed.sort(key=itemgetter(0))
    ordered = [claim for _, claim in keyed]
    if any(c.laxity_s is not None for c in ordered):
        order_by_laxity(ordered)
    return ordered


def _claim(
    charger: Charger,
    mem: ChargerMemory,
    need: ChargingNeed | None,
    ks: tuple[int, ...],
    t: float,
    cfg: ControlSettings,
    volts: float,
    old: Claim | None,
) -> Claim:
    """A charger's claim: its demand, and what its need requires and allows; `old` itself
    when it claims the same (claims are never changed once made, so a settled charger costs
    no new one)."""
    want = mem.demand_a if mem.connected else 0.0
    standby = mem.idle_car and mem.connected
    spare = want - firm_a(mem, charger.min_a) if want > 0 and not standby else 0.0
    required = laxity = None
    deferred = False
    if need is not None and not standby:
        required = required_a(need, t, volts)
        if required is not None:
            rate = min(want, mem.able_a)
            laxity = _laxity_s(need, rate, charger.min_a, mem.admitted, t, volts, cfg.rotation_s)
            # A car drawing less than it is offered (capped) is never deferred: while its
            # battery tapers, its time to finish at what it draws now is a lower bound.
            deferred = laxity > cfg.period_s and mem.capped_since_t is None
    if (
        old is not None
        and old.demand_a == want
        and old.constraints is ks
        and not old.exact
        and old.standby == standby
        and old.required_a == required
        and old.laxity_s == laxity
        and old.deferred == deferred
        and old.spare_a == spare
        and old.since_t == mem.plugged_t
    ):
        return old
    return Claim(
        charger.id,
        want,
        charger.min_a,
        charger.priority,
        ks,
        False,
        required,
        standby,
        laxity,
        deferred,
        spare,
        mem.plugged_t,
    )


def order_by_laxity(ordered: list[Claim]) -> None:
    """Within each priority, the places held by cars with a known need go to those cars in
    order of least laxity (the time they can still wait and finish at their rate); every car
    without a need keeps its place in the turn order, so a need never starves it."""
    places: dict[int, list[int]] = {}
    for i, c in enumerate(ordered):
        if c.laxity_s is not None and c.demand_a > 0:  # (one that wants nothing takes none)
            places.setdefault(c.priority, []).append(i)
    for slots in places.values():
        group = sorted((ordered[i] for i in slots), key=lambda c: (c.laxity_s, c.key))
        for i, claim in zip(slots, group, strict=True):
            ordered[i] = claim


def _laxity_s(
    need: ChargingNeed,
    rate_a: float,
    min_a: float,
    admitted: bool,
    t: float,
    volts: float,
    hysteresis_s: float,
) -> float:
    """How long the car can still wait and finish at `rate_a`, less `hysteresis_s` while it
    holds a turn (so a car charging keeps its turn until a waiting car's laxity is that much
    lower: every swap is a pause, a restart and a contactor cycle); `need` has both its
    departure and its energy."""
    assert need.departure_t is not None and need.energy_wh is not None
    rate = max(rate_a, min_a)
    laxity = need.departure_t - t - need.energy_wh * 3600.0 / (volts * rate)
    return laxity - hysteresis_s if admitted else laxity
