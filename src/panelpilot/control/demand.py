"""What each car would draw if offered more, and whose turn it is when current is short.

A car that draws less than it is offered (a full battery, a small on-board charger) is capped
near its real draw so its spare current goes to the others, and a car that uses all it is
offered is taken to want its charger's max again. A capped car is re-probed (offered its max)
`probe_s` after it was capped; each probe it leaves unused doubles the wait before the next, up
to `probe_max_s`, because a probe takes current from the cars that are charging for the
seconds it lasts. A car seen using all it is offered starts again from `probe_s`.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter

from panelpilot.control.layout import Layout
from panelpilot.control.sharing import Claim
from panelpilot.control.state import ChargerMemory
from panelpilot.control.topology import Topology
from panelpilot.control.types import ChargerReading, Snapshot
from panelpilot.field import DRAWING_A
from panelpilot.site.model import Charger, ControlSettings


def update(
    mem: ChargerMemory, charger: Charger, reading: ChargerReading, t: float, cfg: ControlSettings
) -> ChargerMemory:
    """`mem` with its demand estimate refreshed from what the car drew once its last change
    has settled (`mem` itself when nothing changes)."""
    if not reading.connected or not mem.connected:
        return _plugged(mem, charger, reading.connected)
    demand_a, capped, idle, unused, probing = _observed(mem, charger, reading.current_a, t, cfg)
    if capped is not None and t >= _probe_due(capped, unused, cfg):
        demand_a, capped, probing = charger.max_a, None, True  # re-probe: does it want more?
    if idle and not mem.admitted and t - mem.turn_since_t >= cfg.rotation_s:
        idle = False  # a paused idle car gets a turn now and then to show it wants
    new = (demand_a, capped, idle, unused, probing)
    if new == (mem.demand_a, mem.capped_since_t, mem.idle_car, mem.probes_unused, mem.probing):
        return mem
    return mem._replace(
        demand_a=demand_a,
        capped_since_t=capped,
        idle_car=idle,
        probes_unused=unused,
        probing=probing,
    )


def _plugged(mem: ChargerMemory, charger: Charger, connected: bool) -> ChargerMemory:
    """A car unplugged wants nothing; one just plugged in is assumed to want everything."""
    demand_a = charger.max_a if connected else 0.0
    if mem.connected == connected and mem.demand_a == demand_a and _reset(mem):
        return mem
    return mem._replace(
        connected=connected,
        demand_a=demand_a,
        capped_since_t=None,
        idle_car=False,
        probes_unused=0,
        probing=False,
    )


def _observed(
    mem: ChargerMemory, charger: Charger, drawn_a: float, t: float, cfg: ControlSettings
) -> tuple[float, float | None, bool, int, bool]:
    """(demand, capped since, idle, probes unused, probing) from what the car draws, once its
    last change has settled (J1772: a car follows within 5 s); as they were before that."""
    unused = mem.probes_unused
    if t - mem.changed_t < cfg.response_s or mem.limit_a < charger.min_a:
        return mem.demand_a, mem.capped_since_t, mem.idle_car, unused, mem.probing
    if drawn_a >= mem.limit_a - cfg.resolution_a:
        return charger.max_a, None, False, 0, False  # uses all it gets: it may want more
    demand_a = min(charger.max_a, max(charger.min_a, drawn_a + cfg.headroom_a))
    capped = t if mem.capped_since_t is None else mem.capped_since_t
    if mem.probing:
        unused += 1  # offered more, it still drew less than it had
    return demand_a, capped, drawn_a < DRAWING_A, unused, False


def _reset(mem: ChargerMemory) -> bool:
    return (
        mem.capped_since_t is None
        and not mem.idle_car
        and mem.probes_unused == 0
        and not mem.probing
    )


def _probe_due(capped_since_t: float, probes_unused: int, cfg: ControlSettings) -> float:
    # (The exponent is bounded: a car parked for weeks must not overflow a float.)
    wait = min(cfg.probe_s * 2.0 ** min(probes_unused, 40), max(cfg.probe_s, cfg.probe_max_s))
    return capped_since_t + wait


def probe_due_t(mem: ChargerMemory, cfg: ControlSettings) -> float:
    """When a capped car is next offered its max (inf when it is not capped)."""
    if mem.capped_since_t is None:
        return float("inf")
    return _probe_due(mem.capped_since_t, mem.probes_unused, cfg)


def admission_key(
    claim: Claim, mem: ChargerMemory, t: float, cfg: ControlSettings
) -> tuple[int, int, float, str]:
    """Order in which chargers get their minimum when there is not enough for all.

    Higher priority first; then cars that hold a turn not yet used up; then cars waiting
    (longest first); then cars whose turn is up (the longest charging last); cars that are
    plugged in but do not draw come last.
    """
    if mem.idle_car:
        group, since = 3, mem.turn_since_t
    elif not mem.admitted:
        group, since = 1, mem.turn_since_t
    elif t - mem.turn_since_t < cfg.rotation_s:
        group, since = 0, mem.turn_since_t
    else:
        group, since = 2, -mem.turn_since_t
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
    for cid, charger in topology.chargers.items():
        if cid not in listening:
            continue
        mem = chargers[cid] = update(chargers[cid], charger, readings[cid], t, cfg)
        fixed = fixed_limits.get(cid)
        ks = constraints[cid]
        if fixed is not None:
            claim = Claim(cid, fixed, min(charger.min_a, fixed), FIXED_PRIORITY, ks, True)
        else:
            want = mem.demand_a if mem.connected else 0.0
            old = previous.get(cid)
            if old is not None and old.demand_a == want and old.constraints is ks and not old.exact:
                claim = old
            else:
                claim = Claim(cid, want, charger.min_a, charger.priority, ks)
        keyed.append((admission_key(claim, mem, t, cfg), claim))
    keyed.sort(key=itemgetter(0))
    return [claim for _, claim in keyed]
