"""Hypothesis strategies: random sites (1-3 levels, 1-60 chargers) and snapshot sequences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from panelpilot.control import ChargerReading, Command, Snapshot
from panelpilot.site import Site, parse_site


@dataclass
class World:
    """A random site and the hidden truth the snapshots are generated from."""

    site: Site
    car_max_a: dict[str, float]  # what each car would draw at most (its on-board charger)
    parents: dict[str, str | None] = field(default_factory=dict)


@st.composite
def sites(draw: st.DrawFn, max_chargers: int = 60) -> World:
    """A random valid site: a tree of 1-3 levels, networks, chargers with random limits."""
    circuits: list[dict[str, Any]] = []
    parents: dict[str, str | None] = {}
    root_limit = draw(st.integers(40, 400))
    root: dict[str, Any] = {"id": "c0", "limit_a": root_limit, "meter": "m0", "children": []}
    parents["c0"] = None
    flat = [(root, 1)]
    levels = draw(st.integers(1, 3))
    frontier = [root]
    count = 1
    for _level in range(1, levels):
        nxt = []
        for parent in frontier:
            for _ in range(draw(st.integers(0, 3))):
                cid = f"c{count}"
                count += 1
                child: dict[str, Any] = {
                    "id": cid,
                    "limit_a": draw(st.integers(6, int(parent["limit_a"]))),
                    "children": [],
                }
                if draw(st.booleans()):
                    child["meter"] = f"m{cid[1:]}"
                parent["children"].append(child)
                parents[cid] = parent["id"]
                flat.append((child, 0))
                nxt.append(child)
        frontier = nxt
    circuits.append(root)
    ids = [c["id"] for c, _ in flat]
    n = draw(st.integers(1, max_chargers))
    chargers: list[dict[str, Any]] = []
    for i in range(n):
        max_a = draw(st.sampled_from([6, 16, 24, 32, 40, 48, 80]))
        chargers.append(
            {"id": f"ev{i}", "circuit": draw(st.sampled_from(ids)), "max_a": max_a, "min_a": 6}
        )
    networks: list[dict[str, Any]] = []
    for j in range(draw(st.integers(0, 3))):
        home = draw(st.sampled_from(ids))
        below = [c for c in chargers if _within(parents, c["circuit"], home) and "network" not in c]
        members = below[: draw(st.integers(0, len(below)))] if below else []
        if not members:
            continue
        # A network limit fits its circuit and every circuit above it (the site file refuses
        # more); networks that cannot give each member 6 A within that are not drawn.
        room = int(min(_limits(flat)[c] for c in _path(parents, home)))
        if room < 6 * len(members):
            continue
        limit = draw(st.integers(6 * len(members), int(min(room, 6 * len(members) + 200))))
        enabled = draw(st.booleans()) or draw(st.booleans())
        for m in members:
            m["network"] = f"n{j}"
        networks.append(
            {"id": f"n{j}", "circuit": home, "network_limit_a": limit, "enabled": enabled}
        )
    _fit_fallbacks(chargers, networks, parents, _limits(flat))
    site = parse_site(
        {
            "name": "random",
            "circuits": circuits,
            "networks": networks,
            "chargers": chargers,
            "control": {"margin_a": draw(st.sampled_from([0.0, 1.0, 2.0]))},
        }
    )
    car_max = {c["id"]: float(draw(st.sampled_from([0, 3, 10, 16, 32, 48, 80]))) for c in chargers}
    return World(site, car_max, parents)


def _limits(flat: list[tuple[dict[str, Any], int]]) -> dict[str, float]:
    return {c["id"]: float(c["limit_a"]) for c, _ in flat}


def _path(parents: dict[str, str | None], node: str | None) -> list[str]:
    out = []
    while node is not None:
        out.append(node)
        node = parents[node]
    return out


def _fit_fallbacks(
    chargers: list[dict[str, Any]],
    networks: list[dict[str, Any]],
    parents: dict[str, str | None],
    limits: dict[str, float],
) -> None:
    """Make every circuit carry its chargers' fallbacks (the site file refuses more): chargers
    outside networks fall back to 0 where 6 A each would not fit, and a network whose
    fallbacks still overload a circuit is dissolved."""

    def totals() -> dict[str, float]:
        out = dict.fromkeys(limits, 0.0)
        for c in chargers:
            net = next((n for n in networks if n["id"] == c.get("network")), None)
            if net is None:
                share = float(c.get("fallback_a", c["min_a"]))
            else:
                size = sum(1 for x in chargers if x.get("network") == net["id"])
                share = min(c["max_a"], max(6.0, net["network_limit_a"] / size))
            for cid in _path(parents, c["circuit"]):
                out[cid] += share
        return out

    for c in chargers:
        if "network" not in c and any(t > limits[k] for k, t in totals().items()):
            c["fallback_a"] = 0
    while networks and any(t > limits[k] for k, t in totals().items()):
        gone = networks.pop()
        for c in chargers:
            if c.get("network") == gone["id"]:
                del c["network"]
                c["fallback_a"] = 0


def _within(parents: dict[str, str | None], node: str | None, ancestor: str) -> bool:
    while node is not None:
        if node == ancestor:
            return True
        node = parents[node]
    return False


@st.composite
def steps(draw: st.DrawFn, world: World, count: int) -> list[dict[str, Any]]:
    """Per-step random conditions: time step, uncontrolled loads, who is online/connected."""
    out = []
    site = world.site
    meters = sorted(site.meter_ids())
    for _ in range(count):
        out.append(
            {
                "dt": draw(st.sampled_from([1.0, 1.0, 2.0, 5.0, 30.0])),
                "load": {m: draw(st.floats(0, 150)) for m in meters},
                "lost": {m for m in meters if draw(st.integers(0, 19)) == 0},
                "offline": {c.id for c in site.chargers if draw(st.integers(0, 14)) == 0},
                "unplugged": {c.id for c in site.chargers if draw(st.integers(0, 5)) == 0},
                "follow": draw(st.floats(0.0, 1.0)),
                "command": draw(st.none() | _commands(site)),
            }
        )
    return out


def _commands(site: Site) -> st.SearchStrategy[Command]:
    if not site.networks:
        return st.nothing()
    ids = [n.id for n in site.networks]
    chargers = [c.id for c in site.chargers]
    return st.one_of(
        st.builds(Command, network=st.sampled_from(ids), enabled=st.booleans()),
        st.builds(
            Command, network=st.sampled_from(ids), network_limit_a=st.floats(1, 400).map(round)
        ),
        st.builds(Command, network=st.sampled_from(ids), remove=st.sampled_from(chargers)),
        st.builds(Command, network=st.sampled_from(ids), add=st.sampled_from(chargers)),
    )


def snapshot(
    world: World,
    t: float,
    step: dict[str, Any],
    limits: dict[str, float],
    acked: Mapping[str, float] | None = None,
) -> Snapshot:
    """A consistent snapshot: cars draw at most their limit and their own max; meters add
    the random uncontrolled load to the chargers' draw below them. `acked`: the lease end
    each charger reports it holds (`commitment_t`; None: the source does not say)."""
    site = world.site
    readings: dict[str, ChargerReading] = {}
    for c in site.chargers:
        if c.id in step["offline"]:
            continue
        connected = c.id not in step["unplugged"]
        # A step may say what a car accepts now (one tapering as it fills); else its max.
        accepts = step.get("accept", {}).get(c.id, world.car_max_a[c.id])
        draw = min(limits.get(c.id, 0.0), accepts) if connected else 0.0
        if draw < 6.0:
            draw = 0.0
        elif c.id in step.get("over", {}):
            draw += step["over"][c.id]  # a car still above a lower limit, ramping down
        ack = None if acked is None else acked.get(c.id)
        readings[c.id] = ChargerReading(
            True, connected, round(draw * step["follow"], 2), commitment_t=ack
        )
    meters: dict[str, float | None] = {}
    for circuit, _ in site.all_circuits():
        if not circuit.meter:
            continue
        if circuit.meter in step["lost"]:
            meters[circuit.meter] = None
            continue
        below = sum(
            r.current_a
            for cid, r in readings.items()
            if _within(
                world.parents, next(x.circuit for x in site.chargers if x.id == cid), circuit.id
            )
        )
        meters[circuit.meter] = below + step["load"][circuit.meter]
    cmds = (step["command"],) if step["command"] is not None else ()
    return Snapshot(t=t, meters=meters, chargers=readings, commands=cmds)
