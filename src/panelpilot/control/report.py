"""Step 10 of a cycle: what every charger is told, and the alerts about chargers and circuits."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from panelpilot.control.alerts import alert
from panelpilot.control.later import Later
from panelpilot.control.layout import Index
from panelpilot.control.state import ChargerMemory, NetworkMemory
from panelpilot.control.status import charger_status
from panelpilot.control.topology import Topology
from panelpilot.control.types import Alert, ChargerDecision, Snapshot
from panelpilot.site.model import ControlSettings


def _decision(fields: tuple[object, ...]) -> ChargerDecision:
    # A named tuple built from its fields in order, without the keyword-taking constructor
    # (a thousand of these a cycle): (limit, fallback, status, target, lease_s, demand, until).
    return tuple.__new__(ChargerDecision, fields)


def charger_decisions(
    chargers: Mapping[str, ChargerMemory],
    snap: Snapshot,
    online: frozenset[str],
    listening: frozenset[str],
    targets_a: Mapping[str, float],
    paused: frozenset[str],
    reserves: Mapping[str, float],
    fallbacks: Mapping[str, float],
    cfg: ControlSettings,
) -> dict[str, ChargerDecision]:
    """Each charger's limit (a silent one: what is reserved for it), fallback and status."""
    out: dict[str, ChargerDecision] = {}
    t, readings, resolution_a, new = snap.t, snap.chargers, cfg.resolution_a, _decision
    for cid, mem in chargers.items():
        limit_a = mem.limit_a
        target = targets_a[cid] if cid in listening else limit_a
        is_online = cid in online
        status = charger_status(
            mem, is_online, cid in paused, target, readings.get(cid), resolution_a
        )
        held = mem.held
        if held:
            newest = held[-1]
            until, fallback_a = newest.until_t, newest.fallback_a
        else:
            # No commitment yet (a charger silent since start): no lease, the fallback applies.
            until, fallback_a = -math.inf, fallbacks[cid]
        left = until - t
        out[cid] = new(
            (
                reserves.get(cid, limit_a),
                fallback_a,
                status,
                target,
                left if left > 0.0 else 0.0,
                mem.demand_a if mem.connected or not is_online else 0.0,
                until,
            )
        )
    return out


def at(decisions: Mapping[str, ChargerDecision], t: float) -> dict[str, ChargerDecision]:
    """The same decisions made at `t`: only the lease time left changes."""
    new = _decision
    out = {}
    for cid, d in decisions.items():
        left = d[6] - t
        out[cid] = new((d[0], d[1], d[2], d[3], left if left > 0.0 else 0.0, d[5], d[6]))
    return out


def decisions_at(decisions: Mapping[str, ChargerDecision], t: float) -> Later[ChargerDecision]:
    """`at(decisions, t)`, made when first read (`Later`): a steady cycle's charger decisions.
    A reader that knows they repeat the last ones (`Decision.chargers_since_t`, as the
    simulator does) reads only the keys and pays nothing for the lease times; any other read
    sees exactly what `at` makes. `decisions` is never changed once made (a steady cycle keeps
    it)."""
    return Later(decisions, lambda: at(decisions, t))


def charger_alerts(
    chargers: Mapping[str, ChargerMemory],
    t: float,
    online: frozenset[str],
    defiant: Mapping[str, float],
    reserves: Mapping[str, float],
    removed: Iterable[str],
    fallbacks: Mapping[str, float],
    paused: frozenset[str],
    cfg: ControlSettings,
) -> list[Alert]:
    """Chargers that do not follow, do not report, or wait for a power cycle; a shortage."""
    out: list[Alert] = []
    gone = set(removed)
    for cid, mem in chargers.items():
        since = mem.defiant_since_t
        if cid in defiant and since is not None and t - since >= cfg.response_s:
            out.append(
                alert(
                    "charger_not_following",
                    f"charger {cid} runs at {defiant[cid]:g} A, above its limit "
                    f"{mem.limit_a:g} A: counted at {defiant[cid]:g} A until it follows",
                    cid,
                )
            )
        if cid not in online:
            out.append(
                alert(
                    "charger_unresponsive",
                    f"charger {cid} is not reporting; {reserves[cid]:g} A reserved",
                    cid,
                )
            )
        if cid in gone:
            out.append(
                alert(
                    "charger_removed",
                    f"charger {cid} was removed from its network: held at "
                    f"{fallbacks[cid]:g} A until power-cycled",
                    cid,
                )
            )
    if paused:
        names = ", ".join(sorted(paused))
        out.append(
            alert(
                "capacity_shortage",
                f"{len(paused)} charger(s) paused for lack of capacity, taking turns: {names}",
            )
        )
    return out


def network_alerts(networks: Mapping[str, NetworkMemory]) -> list[Alert]:
    """Each disabled network."""
    return [
        alert(
            "network_disabled",
            f"network {nid} is disabled: members run at their fallback limit",
            nid,
        )
        for nid, net in networks.items()
        if not net.enabled
    ]


def overload_alerts(
    topology: Topology,
    meters: Mapping[str, float | None],
    over_since: Mapping[str, float],
    t: float,
    bound_s: float,
) -> tuple[list[Alert], dict[str, float]]:
    """Metered circuits over their limit, and since when (the state's `over_since`).

    A circuit's other loads may step up faster than chargers can follow: control.md states
    the bound, an overshoot of at most the step for `bound_s` (one period plus the car's
    response). Within it the overshoot is `circuit_load_step` (info); past it, or above the
    circuit's breaker rating at any moment, it is `circuit_overload` (critical).
    """
    out: list[Alert] = []
    since: dict[str, float] = {}
    for circuit_id in topology.metered:
        circuit = topology.circuits[circuit_id]
        reading = meters.get(circuit.meter or "")
        if reading is None or reading <= circuit.limit_a:
            continue
        start = since[circuit_id] = over_since.get(circuit_id, t)
        over = f"circuit {circuit_id}: {reading:.1f} A > limit {circuit.limit_a:g} A"
        if circuit.breaker_a is not None and reading > circuit.breaker_a:
            out.append(
                alert(
                    "circuit_overload",
                    f"{over}, above its {circuit.breaker_a:g} A breaker",
                    circuit_id,
                )
            )
        elif t - start > bound_s:
            out.append(alert("circuit_overload", f"{over} for {t - start:.0f} s", circuit_id))
        else:
            out.append(
                alert(
                    "circuit_load_step",
                    f"{over} after its other loads rose; chargers coming down "
                    f"(within {bound_s:g} s)",
                    circuit_id,
                )
            )
    return out, since


def circuit_alerts(
    topology: Topology,
    index: Index,
    meters: Mapping[str, float | None],
    reserved: Sequence[float],
    capacities: Sequence[float],
) -> list[Alert]:
    """Lost meters, circuits whose silent chargers fill them (overloads: `overload_alerts`)."""
    out = []
    for circuit_id in topology.metered:
        circuit = topology.circuits[circuit_id]
        reading = meters.get(circuit.meter or "")
        if reading is None:
            out.append(
                alert(
                    "meter_lost",
                    f"meter {circuit.meter} of circuit {circuit_id} lost: "
                    "chargers below it are not raised",
                    circuit_id,
                )
            )
    for circuit_id, k in index.circuit_k.items():
        if reserved[k] > 0 and capacities[k] < 0:
            out.append(
                alert(
                    "circuit_fixed_load",
                    f"circuit {circuit_id}: {reserved[k]:g} A reserved for silent "
                    "chargers leaves no room for the others",
                    circuit_id,
                )
            )
    return out
