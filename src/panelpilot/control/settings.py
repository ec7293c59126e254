"""Network settings and the settings lock (seed: "the network must be disabled before you may
make any changes"): limit and members change only while a network is disabled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from panelpilot.control.state import ControllerState, NetworkMemory
from panelpilot.control.topology import Topology
from panelpilot.control.types import Command
from panelpilot.field import J1772_MIN_A
from panelpilot.site.rules import (
    fair_fallback_a,
    fallback_overloads,
    minimum_message,
    network_above_circuit,
)


class SettingsError(Exception):
    """A settings change that was refused, with the reason and what is allowed."""


def membership(state: ControllerState) -> dict[str, str]:
    """Which network each charger belongs to now."""
    return {cid: nid for nid, net in state.networks.items() for cid in net.members}


def fallback_a(
    topology: Topology, state: ControllerState, charger_id: str, network_id: str | None
) -> float:
    """The fallback (fair) limit: network limit / network size, bounded to the unit.

    A charger removed from a network is held at 6 A until power-cycled; one outside any
    network falls back to its own `fallback_a`, or its minimum.
    """
    charger = topology.chargers[charger_id]
    if charger_id in state.removed:
        return min(charger.max_a, max(J1772_MIN_A, charger.min_a))
    if network_id is None:
        return charger.fallback_a if charger.fallback_a is not None else charger.min_a
    net = state.networks[network_id]
    if net.limit_a is None:
        return charger.min_a
    return fair_fallback_a(net.limit_a, len(net.members), charger.min_a, charger.max_a)


def network_of(state: ControllerState, charger_id: str) -> NetworkMemory | None:
    """The network a charger belongs to now, if any (a scan: not for the hot path)."""
    for net in state.networks.values():
        if charger_id in net.members:
            return net
    return None


def apply_commands(
    topology: Topology, state: ControllerState, commands: tuple[Command, ...]
) -> tuple[ControllerState, list[tuple[Command, str]]]:
    """Apply each command the settings lock allows, in order: the new state, and the reason
    for each refused one."""
    refused: list[tuple[Command, str]] = []
    for cmd in commands:
        try:
            state, _ = apply_command(topology, state, cmd)
        except SettingsError as exc:
            refused.append((cmd, str(exc)))
    return state, refused


def apply_command(
    topology: Topology, state: ControllerState, cmd: Command
) -> tuple[ControllerState, str]:
    """The state with one settings change made, and what was done; or `SettingsError`."""
    net = state.networks.get(cmd.network)
    if net is None:
        known = ", ".join(sorted(state.networks)) or "none"
        raise SettingsError(f"unknown network {cmd.network!r}; known: {known}")
    changes = [x for x in (cmd.enabled, cmd.network_limit_a, cmd.add, cmd.remove) if x is not None]
    if len(changes) != 1:
        raise SettingsError(
            "a command changes exactly one of: enabled, network_limit_a, add, remove"
        )
    if cmd.enabled is not None:
        return _enable(topology, state, cmd.network, net, cmd.enabled)
    if net.enabled:
        raise SettingsError(
            f"network {cmd.network} is enabled; disable it before changing its settings"
        )
    if cmd.network_limit_a is not None:
        return _set_limit(topology, state, cmd.network, net, cmd.network_limit_a)
    if cmd.add is not None:
        return _add(topology, state, cmd.network, net, cmd.add)
    assert cmd.remove is not None
    return _remove(state, cmd.network, net, cmd.remove)


def _enable(
    topology: Topology, state: ControllerState, nid: str, net: NetworkMemory, enabled: bool
) -> tuple[ControllerState, str]:
    if enabled:
        _check_limit(topology, net.limit_a, net.members, nid)
        _check_wiring(topology, state, nid, net)
    done = f"network {nid} {'enabled' if enabled else 'disabled'}"
    return _with(state, nid, replace(net, enabled=enabled)), done


def _set_limit(
    topology: Topology, state: ControllerState, nid: str, net: NetworkMemory, limit_a: float
) -> tuple[ControllerState, str]:
    _check_limit(topology, limit_a, net.members, nid)
    _check_silent(topology, state, limit_a, net.members, nid)
    changed = replace(net, limit_a=limit_a)
    _check_wiring(topology, state, nid, changed)
    return _with(state, nid, changed), f"network {nid} limit set to {limit_a:g} A"


def _add(
    topology: Topology, state: ControllerState, nid: str, net: NetworkMemory, cid: str
) -> tuple[ControllerState, str]:
    charger = topology.chargers.get(cid)
    if charger is None:
        raise SettingsError(f"unknown charger {cid!r}")
    if network_of(state, cid) is not None:
        raise SettingsError(f"charger {cid} is already in a network; remove it first")
    circuit = topology.network_circuits.get(nid)
    if circuit is not None and not topology.within(charger.circuit, circuit):
        raise SettingsError(
            f"charger {cid} is on circuit {charger.circuit}, not fed from the "
            f"network's circuit {circuit}"
        )
    members = (*net.members, cid)
    if net.limit_a is not None:
        _check_limit(topology, net.limit_a, members, nid)
    changed = replace(net, members=members)
    _check_wiring(topology, state, nid, changed)
    removed = {k: v for k, v in state.removed.items() if k != cid}
    return _with(state, nid, changed, removed), f"charger {cid} added to network {nid}"


def _remove(
    state: ControllerState, nid: str, net: NetworkMemory, cid: str
) -> tuple[ControllerState, str]:
    if cid not in net.members:
        raise SettingsError(f"charger {cid!r} is not in network {nid}")
    members = tuple(m for m in net.members if m != cid)
    removed = {**state.removed, cid: False}
    done = f"charger {cid} removed from network {nid}; held at 6 A"
    return _with(state, nid, replace(net, members=members), removed), done


def _with(
    state: ControllerState,
    network_id: str,
    net: NetworkMemory,
    removed: Mapping[str, bool] | None = None,
) -> ControllerState:
    networks = {**state.networks, network_id: net}
    if removed is None:
        return replace(state, networks=networks)
    return replace(state, networks=networks, removed=removed)


def _check_limit(
    topology: Topology, limit_a: float | None, members: tuple[str, ...], network_id: str
) -> None:
    if limit_a is None:
        raise SettingsError(f"network {network_id} has no network current limit set")
    if limit_a <= 0:
        raise SettingsError(f"network limit {limit_a:g} A must be above 0 A")
    mins = [topology.chargers[m].min_a for m in members]
    if mins and limit_a < sum(mins):
        raise SettingsError(f"network {network_id}: {minimum_message(limit_a, mins)}")


def _check_wiring(
    topology: Topology, state: ControllerState, network_id: str, changed: NetworkMemory
) -> None:
    """Refuse a network setting whose limit is above its circuit or a circuit above it, or
    whose fallbacks, with every other charger's, would overload a circuit (DESIGN 3.4)."""
    limits = {cid: c.limit_a for cid, c in topology.circuits.items()}
    circuit = topology.network_circuits.get(network_id)
    if changed.limit_a is not None and circuit is not None:
        why = network_above_circuit(network_id, changed.limit_a, circuit, topology.parents, limits)
        if why is not None:
            raise SettingsError(why)
    after = ControllerState(
        networks={**state.networks, network_id: changed}, removed=dict(state.removed)
    )
    member_of = membership(after)
    fallbacks = {
        cid: fallback_a(topology, after, cid, member_of.get(cid)) for cid in topology.chargers
    }
    circuits = {cid: c.circuit for cid, c in topology.chargers.items()}
    overloads = fallback_overloads(fallbacks, circuits, topology.parents, limits)
    if overloads:
        raise SettingsError(f"network {network_id}: {overloads[0][1]}")


def _check_silent(
    topology: Topology,
    state: ControllerState,
    limit_a: float,
    members: tuple[str, ...],
    network_id: str,
) -> None:
    """Refuse a limit below what silent members still hold: a charger that is offline keeps
    the fallback it was last given until it reconnects, so the limit can go no lower than
    those fallbacks and the others' minimum."""
    silent = {}
    for m in members:
        mem = state.chargers.get(m)
        if mem is not None and m not in state.online and mem.held:
            silent[m] = max(c.fallback_a for c in mem.held)
    if not silent:
        return
    need = sum(silent.values()) + sum(
        topology.chargers[m].min_a for m in members if m not in silent
    )
    if limit_a < need - 1e-9:
        held = ", ".join(f"{m} {a:g} A" for m, a in sorted(silent.items()))
        raise SettingsError(
            f"network {network_id}: {limit_a:g} A is below what its offline chargers still "
            f"hold as their fallback ({held}) plus the others' minimum: allowed from "
            f"{need:g} A until they reconnect"
        )
