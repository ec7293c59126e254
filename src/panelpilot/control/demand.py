"""What each car would draw if offered more, and whose turn it is when current is short.

A car that draws less than it is offered (a full battery, a small on-board charger) is capped
near its real draw so its spare current goes to the others, and a car that uses all it is
offered is taken to want its charger's max again. A capped car is re-probed (offered its max)
`probe_s` after it was capped; each probe it leaves unused doubles the wait before the next, up
to `probe_max_s`, because a probe takes current from the cars that are charging for the
seconds it lasts. A car seen using all it is offered starts again from `probe_s`.
"""

from __future__ import annotations

from panelpilot.control.sharing import Claim
from panelpilot.control.state import ChargerMemory
from panelpilot.control.types import ChargerReading
from panelpilot.site.model import Charger, ControlSettings

# Below this a car counts as not drawing (a full battery, a scheduled charge not started).
DRAWING_A = 1.0


def update(
    mem: ChargerMemory, charger: Charger, reading: ChargerReading, t: float, cfg: ControlSettings
) -> None:
    """Refresh `mem.demand_a` from what the car drew once its last change has settled."""
    if not reading.connected:
        mem.connected = False
        mem.demand_a = 0.0
        mem.capped_since_t = None
        mem.idle_car = False
        mem.probes_unused = 0
        mem.probing = False
        return
    if not mem.connected:  # a car just plugged in: assume it wants everything
        mem.connected = True
        mem.demand_a = charger.max_a
        mem.capped_since_t = None
        mem.idle_car = False
        mem.probes_unused = 0
        mem.probing = False
        return
    settled = t - mem.changed_t >= cfg.response_s  # J1772: a car follows within 5 s
    if settled and mem.limit_a >= charger.min_a:
        drawn = reading.current_a
        if drawn >= mem.limit_a - cfg.resolution_a:
            mem.demand_a = charger.max_a  # uses all it gets: it may want more
            mem.capped_since_t = None
            mem.idle_car = False
            mem.probes_unused = 0
        else:
            mem.demand_a = min(charger.max_a, max(charger.min_a, drawn + cfg.headroom_a))
            if mem.capped_since_t is None:
                mem.capped_since_t = t
            mem.idle_car = drawn < DRAWING_A
            if mem.probing:
                mem.probes_unused += 1  # offered more, it still drew less than it had
        mem.probing = False
    if mem.capped_since_t is not None and t >= probe_due_t(mem, cfg):
        mem.demand_a = charger.max_a  # re-probe: does it want more again?
        mem.capped_since_t = None
        mem.probing = True
    if mem.idle_car and not mem.admitted and t - mem.turn_since_t >= cfg.rotation_s:
        mem.idle_car = False  # a paused idle car gets a turn now and then to show it wants


def probe_due_t(mem: ChargerMemory, cfg: ControlSettings) -> float:
    """When a capped car is next offered its max (inf when it is not capped)."""
    if mem.capped_since_t is None:
        return float("inf")
    # (The exponent is bounded: a car parked for weeks must not overflow a float.)
    wait = min(cfg.probe_s * 2.0 ** min(mem.probes_unused, 40), max(cfg.probe_s, cfg.probe_max_s))
    return mem.capped_since_t + wait


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
