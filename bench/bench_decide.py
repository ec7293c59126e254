"""Benchmark: one `Controller.decide` for 6, 60 and 1,000 chargers (`make bench`).

The 1,000 chargers hang off 50 metered circuits under one service, 20 per circuit, each
circuit one sharing network. Every car is plugged in and draws what it was given, so the
controller does the whole job each cycle: estimates, admission, water-filling, sequencing.
Results are written up in docs/performance.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from panelpilot.control import ChargerReading, Controller, Snapshot
from panelpilot.site import Site, parse_site


def garage(chargers: int, circuits: int) -> Site:
    """A service with `circuits` metered sub-panels, each a network of its chargers."""
    per = chargers // circuits
    children: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    devices: list[dict[str, Any]] = []
    for c in range(circuits):
        cid = f"panel{c}"
        children.append({"id": cid, "limit_a": 16 * per, "meter": f"m{c}"})
        networks.append({"id": f"net{c}", "circuit": cid, "network_limit_a": 14 * per})
        for i in range(per):
            devices.append({"id": f"ev{c}-{i}", "circuit": cid, "network": f"net{c}", "max_a": 32})
    service = {
        "id": "service",
        "limit_a": max(14 * chargers, 16 * per),
        "meter": "site",
        "children": children,
    }
    return parse_site(
        {
            "name": f"{chargers} chargers",
            "circuits": [service],
            "networks": networks,
            "chargers": devices,
        }
    )


def readings_of(
    site: Site, circuits: int, limits: dict[str, float], t: float, slower_a: float = 0.0
) -> Snapshot:
    """Every car drawing what it was given, up to 24 A (the first `slower_a` less), and the
    meters reading those draws plus 5 A of other load per circuit."""
    readings = {c.id: ChargerReading(True, True, min(limits[c.id], 24.0)) for c in site.chargers}
    first = site.chargers[0].id
    if slower_a:
        readings[first] = ChargerReading(True, True, max(0.0, readings[first].current_a - slower_a))
    per_circuit: dict[str, float] = {}
    for c in site.chargers:
        per_circuit[c.circuit] = per_circuit.get(c.circuit, 0.0) + readings[c.id].current_a
    meters: dict[str, float | None] = {
        f"m{i}": per_circuit.get(f"panel{i}", 0.0) + 5.0 for i in range(circuits)
    }
    meters["site"] = sum(per_circuit.values()) + 5.0 * circuits
    return Snapshot(t, meters, readings)


def settled(site: Site, circuits: int, clock: Iterator[int]) -> tuple[Controller, dict[str, float]]:
    """A controller that has decided ten cycles on the site, and the limits it gave."""
    controller = Controller(site)
    limits = {c.id: 0.0 for c in site.chargers}
    for _ in range(10):  # reach a steady state first
        d = controller.decide(readings_of(site, circuits, limits, float(next(clock))))
        limits = {k: v.limit_a for k, v in d.chargers.items()}
    return controller, limits


@pytest.mark.parametrize(("chargers", "circuits"), [(6, 1), (60, 3), (1000, 50)])
def test_decide(benchmark: Any, chargers: int, circuits: int) -> None:
    site = garage(chargers, circuits)
    clock = itertools.count(1)
    controller, limits = settled(site, circuits, clock)
    snap = readings_of(site, circuits, limits, 0.0)

    def one() -> None:
        controller.decide(Snapshot(float(next(clock)), snap.meters, snap.chargers))

    benchmark(one)


def _changing(benchmark: Any, chargers: int, circuits: int, incremental: bool) -> None:
    """Decide, cycle after cycle, snapshots in which the first car's reading moves by 0.1 A
    at its limit, after ten settling cycles."""
    site = garage(chargers, circuits)
    clock = itertools.count(1)
    settled_controller, limits = settled(site, circuits, clock)
    controller = Controller(site, settled_controller.state, incremental=incremental)
    if incremental:
        controller = settled_controller  # (its fixed point carried on)
    snaps = [readings_of(site, circuits, limits, 0.0, slower_a) for slower_a in (0.0, 0.1)]
    turn = itertools.count()

    def one() -> None:
        snap = snaps[next(turn) % 2]
        controller.decide(Snapshot(float(next(clock)), snap.meters, snap.chargers))

    benchmark(one)


@pytest.mark.parametrize(("chargers", "circuits"), [(6, 1), (1000, 50)])
def test_decide_changing(benchmark: Any, chargers: int, circuits: int) -> None:
    """The same site, but one car's reading moves by 0.1 A every cycle, at its limit: what
    the cycle decides does not move, so the fixed point holds (`control/moved.py`)."""
    _changing(benchmark, chargers, circuits, incremental=True)


@pytest.mark.parametrize(("chargers", "circuits"), [(6, 1), (1000, 50)])
def test_decide_every_step(benchmark: Any, chargers: int, circuits: int) -> None:
    """The changing snapshots of `test_decide_changing`, decided by every step every cycle
    (`incremental=False`): the cost of a cycle in which a car's demand, a limit or a
    commitment changes."""
    _changing(benchmark, chargers, circuits, incremental=False)
