"""A cycle after a fixed point in which chargers' currents moved, and nothing they drive did.

Real chargers' readings wander by a tenth of an ampere from one reading to the next, so the
fixed point's condition "the same charger readings" (`steady.Steady.holds`) would hold for
hardly a cycle in the field. A reading whose current alone moved changes what a cycle decides
only through these steps, each checked here for the chargers that moved, with the step's own
function:

* the acknowledgements (`presence`: a car measured at a lower limit it acknowledged has
  followed it, which can retire the commitment it replaced);
* the demand estimate (`demand.update`: the charger's memory must come out itself);
* the status reported (`status.charger_status`: drawing or not);
* the plausibility of the reading and the circuits' load estimates (`loads.plausible` and
  `loads.per_circuit`, run whole: a sum in the site's order gives the same figure as a full
  cycle's);
* the charger's timers (`steady.listening_times`: a hold counts while its car draws above the new
  limit; a response time where the settled reading moves the demand).

Where every check passes, the claims, the allocation, the sequencing, the commitments and the
memory come out as the fixed point's, so the cycle repeats its charger decisions; the meters
and capacities are the steady cycle's own, and the Power Sharing networks' figures (their
current is the sum of the readings) are made anew. Anything else, and a cycle that must also
rerun a step (`rerun`), is decided by every step. The property tests of steady cycles hold this
to `Controller(site, incremental=False)` on random sites whose cars' readings move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from panelpilot.control.commitments import Bounds
from panelpilot.control.demand import update
from panelpilot.control.loads import per_circuit, plausible
from panelpilot.control.presence import acknowledged_now, online_of
from panelpilot.control.state import ChargerMemory
from panelpilot.control.status import charger_status
from panelpilot.control.steady import Fixed, Steady, early, listening_times
from panelpilot.control.topology import Topology
from panelpilot.control.types import ChargerReading, Snapshot
from panelpilot.site.model import ControlSettings

IMPLAUSIBLE = "charger_reading_implausible"
# A charger reading's fields but its current.
_BUT_CURRENT = tuple(f.name for f in fields(ChargerReading) if f.name != "current_a")


@dataclass(frozen=True, slots=True)
class Moved:
    """The fixed point's conditions with the new readings, and the chargers' current per
    circuit as this cycle counts it."""

    steady: Steady
    drawn: dict[str, float]


def moved(
    steady: Steady,
    snap: Snapshot,
    chargers: Mapping[str, ChargerMemory],
    topology: Topology,
    bounds: Bounds,
    cfg: ControlSettings,
) -> Moved | None:
    """The cycle at `snap.t` after `steady`, whose readings differ from the fixed point's only
    in some chargers' current (see the module), or None."""
    fixed, t = steady.fixed, snap.t
    if fixed is None or steady.renewing or not t < steady.other_t:
        return None
    changed = _changed(steady.readings, snap.chargers)
    if changed is None:
        return None
    until_t, other_t = steady.until_t, steady.other_t
    for cid in changed:
        mem, reading = chargers[cid], snap.chargers[cid]
        if not _unmoved(mem, topology, cid, reading, steady, fixed, snap, bounds, cfg):
            return None
        for x in listening_times(mem, topology.chargers[cid], reading, t, cfg):
            if t < x:
                other_t = min(other_t, early(x))
    currents, implausible = plausible(topology, chargers, snap, online_of(snap), bounds)
    if implausible or any(a.code == IMPLAUSIBLE for a in steady.charger_alerts):
        return None
    again = replace(
        steady,
        readings=dict(snap.chargers),  # a copy: the caller's mapping may change later
        until_t=min(until_t, other_t),
        other_t=other_t,
    )
    return Moved(again, per_circuit(topology, currents))


def _changed(
    before: Mapping[str, ChargerReading], now: Mapping[str, ChargerReading]
) -> list[str] | None:
    """The chargers whose reading differs from `before` only in its current; None when a
    reading differs otherwise, or the chargers reporting are not the same."""
    if before.keys() != now.keys():
        return None
    changed = []
    for cid, r in now.items():
        was = before[cid]
        if r == was:
            continue
        if any(getattr(r, name) != getattr(was, name) for name in _BUT_CURRENT):
            return None
        changed.append(cid)
    return changed


def _unmoved(
    mem: ChargerMemory,
    topology: Topology,
    cid: str,
    reading: ChargerReading,
    steady: Steady,
    fixed: Fixed,
    snap: Snapshot,
    bounds: Bounds,
    cfg: ControlSettings,
) -> bool:
    """Whether the charger's new reading leaves its acknowledgements, its memory and its
    status as the fixed point's."""
    if not reading.online:
        return True  # (a silent charger's reading says nothing)
    if acknowledged_now(mem, reading, snap.t, bounds) is not mem:
        return False
    if update(mem, topology.chargers[cid], reading, snap.t, cfg) is not mem:
        return False
    decision = steady.decisions[cid]
    status = charger_status(
        mem, True, cid in fixed.paused, decision.target_a, reading, cfg.resolution_a
    )
    return status == decision.status
