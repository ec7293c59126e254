"""Step 3 of a cycle: what the chargers draw, and the other loads on each metered circuit.

A meter measures everything below it; what is not a charger is *uncontrolled* load (meter
minus chargers). Generation below a circuit can vanish in a cloud's shadow, so a negative
value counts as 0. A rise counts at once; a fall is followed at `LOAD_RELEASE_A_PER_S`, so
noisy loads do not make the chargers' limits jitter every cycle. A lost meter holds the last
estimate (or the whole limit if there never was one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from panelpilot.control.alerts import alert
from panelpilot.control.commitments import Bounds, envelope, value_at
from panelpilot.control.state import ChargerMemory
from panelpilot.control.topology import Topology
from panelpilot.control.types import Alert, Snapshot
from panelpilot.field import CURRENT_STEP_A

# An uncontrolled load estimate follows a fall at this rate (A/s).
LOAD_RELEASE_A_PER_S = 2.0
# A charger's reading above what it may draw by more than this (A, or this share of it) is a
# broken or hostile meter, not a car (a car draws at most its pilot, plus meter error).
PLAUSIBLE_OVER_A = 1.0
PLAUSIBLE_OVER_SHARE = 0.05


# Meter steps per ampere (the meters' resolution is `CURRENT_STEP_A`).
STEPS_PER_A = 1 / CURRENT_STEP_A


def load_steps(load_a: float) -> int:
    """An uncontrolled load as a circuit's capacity counts it, in whole meter steps: up to the
    next 0.1 A (with a hair's tolerance, so a load of 2.3 A held as 2.3000000000000003 is not
    counted as 2.4)."""
    return math.ceil(load_a * STEPS_PER_A - 1e-6)


def counted_load(load_a: float) -> float:
    """An uncontrolled load as a circuit's capacity counts it (amperes; see `load_steps`)."""
    return load_steps(load_a) / STEPS_PER_A


def net_load(reading_a: float, drawn_a: float) -> float:
    """What a meter measures that is not a charger below it (generation counts as 0)."""
    return max(0.0, reading_a - drawn_a)


def follows(measured_a: float, before_a: float, dt: float) -> bool:
    """Whether the estimate after `before_a`, `dt` later, is the measured load itself (not
    the earlier estimate, decaying)."""
    return measured_a > before_a - LOAD_RELEASE_A_PER_S * dt


def plausible(
    topology: Topology,
    chargers: Mapping[str, ChargerMemory],
    snap: Snapshot,
    online: frozenset[str],
    bounds: Bounds,
) -> tuple[dict[str, float], list[Alert]]:
    """What each online charger draws, as its circuits' load estimates count it: its reading,
    unless that is more than it could really draw (its unit max, or what its commitments or
    its reported limit allow now, with a tolerance). A broken or hostile meter (999 A from a
    32 A unit) would make the other loads on its circuits look smaller than they are: such a
    reading counts as 0 A, so whatever the charger really draws counts as other load (never
    less: any other figure could be too high). Its reading still informs its status and
    demand; only the load estimate ignores it."""
    out: dict[str, float] = {}
    alerts: list[Alert] = []
    for cid, charger in topology.chargers.items():  # the site's order: alerts in a fixed order
        if cid not in online:
            continue
        reading = snap.chargers[cid]
        drawn = out[cid] = reading.current_a
        if drawn <= min(charger.max_a, charger.min_a) + PLAUSIBLE_OVER_A:
            continue  # the common case, cheaply
        mem = chargers[cid]
        allowed = charger.max_a
        if mem.held:
            # The newest commitment is always in force, so the envelope allows at least it:
            # a reading within that needs no envelope.
            newest = mem.held[-1]
            floor = min(allowed, value_at(newest, snap.t, bounds))
            if drawn <= floor + max(PLAUSIBLE_OVER_A, PLAUSIBLE_OVER_SHARE * floor):
                continue
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
    return out, alerts


def per_circuit(topology: Topology, current_a: Mapping[str, float]) -> dict[str, float]:
    """Totals per circuit, everything below it included."""
    own: dict[str, float] = {}
    # In the site's order, not the snapshot's: the same readings give the same sums.
    for cid, charger in topology.chargers.items():
        value = current_a.get(cid)
        if value is not None:
            circuit = charger.circuit
            own[circuit] = own.get(circuit, 0.0) + value
    return topology.roll_up(own)


def uncontrolled(
    topology: Topology,
    previous: Mapping[str, float],
    meters: Mapping[str, float | None],
    drawn: Mapping[str, float],
    dt: float,
) -> dict[str, float]:
    """Load on each metered circuit that is not a charger (see the module's docstring)."""
    out: dict[str, float] = {}
    for circuit_id in topology.metered:
        circuit = topology.circuits[circuit_id]
        reading = meters.get(circuit.meter or "")
        before = previous.get(circuit_id)
        if reading is None:
            value = before if before is not None else circuit.limit_a
        else:
            measured = net_load(reading, drawn.get(circuit_id, 0.0))
            if before is None or follows(measured, before, dt):
                value = measured
            else:
                value = before - LOAD_RELEASE_A_PER_S * dt
        out[circuit_id] = value
    return out
