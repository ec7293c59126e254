"""Snapshots and decisions as JSON: the line formats of `panelpilot decide` (docs/formats.md).

Parsing is strict: an unknown key or a value of the wrong type is a `SnapshotError` that names
the field (`chargers.wc1.current_a`) and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from panelpilot.control.types import (
    Alert,
    BatteryReading,
    ChargerReading,
    CircuitState,
    Command,
    Decision,
    NetworkState,
    Snapshot,
    SolarReading,
)
from panelpilot.control.validate import SnapshotError

T = TypeVar("T")


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise SnapshotError(f"{field}: expected an object {{...}}, got {type(value).__name__}")
    return value


def _number(value: Any, field: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        allowed = "a number or null" if optional else "a number"
        raise SnapshotError(f"{field}: {value!r} is not {allowed}")
    return float(value)


def _required_number(value: Any, field: str) -> float:
    number = _number(value, field)
    assert number is not None
    return number


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise SnapshotError(f"{field}: {value!r} is not true or false")
    return value


def _keys(obj: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> None:
    for key in obj:
        if key not in allowed:
            where = f"{field}.{key}" if field else key
            raise SnapshotError(f"{where}: unknown field; allowed: {', '.join(allowed)}")


def _devices(
    obj: Mapping[str, Any], section: str, parse: Callable[[Mapping[str, Any], str], T]
) -> dict[str, T]:
    raw = _mapping(obj.get(section, {}), section)
    return {
        key: parse(_mapping(v, f"{section}.{key}"), f"{section}.{key}") for key, v in raw.items()
    }


def _charger(obj: Mapping[str, Any], field: str) -> ChargerReading:
    _keys(obj, field, ("online", "connected", "current_a", "limit_a", "commitment_t"))
    return ChargerReading(
        online=_bool(obj.get("online", True), f"{field}.online"),
        connected=_bool(obj.get("connected", False), f"{field}.connected"),
        current_a=_required_number(obj.get("current_a", 0.0), f"{field}.current_a"),
        limit_a=_number(obj.get("limit_a"), f"{field}.limit_a", optional=True),
        commitment_t=_number(obj.get("commitment_t"), f"{field}.commitment_t", optional=True),
    )


def _battery(obj: Mapping[str, Any], field: str) -> BatteryReading:
    _keys(obj, field, ("online", "current_a", "soc"))
    return BatteryReading(
        online=_bool(obj.get("online", True), f"{field}.online"),
        current_a=_required_number(obj.get("current_a", 0.0), f"{field}.current_a"),
        soc=_number(obj.get("soc"), f"{field}.soc", optional=True),
    )


def _solar(obj: Mapping[str, Any], field: str) -> SolarReading:
    _keys(obj, field, ("online", "current_a"))
    return SolarReading(
        online=_bool(obj.get("online", True), f"{field}.online"),
        current_a=_required_number(obj.get("current_a", 0.0), f"{field}.current_a"),
    )


def _command(obj: Any, field: str) -> Command:
    cmd = _mapping(obj, field)
    _keys(cmd, field, ("network", "enabled", "network_limit_a", "add", "remove"))
    network = cmd.get("network")
    if not isinstance(network, str):
        raise SnapshotError(f"{field}.network: a network id is required")
    enabled = cmd.get("enabled")
    add, remove = cmd.get("add"), cmd.get("remove")
    for name, value in (("add", add), ("remove", remove)):
        if value is not None and not isinstance(value, str):
            raise SnapshotError(f"{field}.{name}: {value!r} is not a charger id")
    return Command(
        network=network,
        enabled=None if enabled is None else _bool(enabled, f"{field}.enabled"),
        network_limit_a=_number(
            cmd.get("network_limit_a"), f"{field}.network_limit_a", optional=True
        ),
        add=add,
        remove=remove,
    )


def snapshot_from_json(obj: Any) -> Snapshot:
    """Parse one snapshot object (a decoded JSON line)."""
    snap = _mapping(obj, "snapshot")
    _keys(snap, "", ("t", "meters", "chargers", "batteries", "solar", "commands"))
    if "t" not in snap:
        raise SnapshotError("t: required (the time of the snapshot in seconds)")
    meters_raw = _mapping(snap.get("meters", {}), "meters")
    meters = {k: _number(v, f"meters.{k}", optional=True) for k, v in meters_raw.items()}
    commands_raw = snap.get("commands", [])
    if not isinstance(commands_raw, list):
        raise SnapshotError("commands: expected a list of settings changes")
    return Snapshot(
        t=_required_number(snap["t"], "t"),
        meters=meters,
        chargers=_devices(snap, "chargers", _charger),
        batteries=_devices(snap, "batteries", _battery),
        solar=_devices(snap, "solar", _solar),
        commands=tuple(_command(c, f"commands[{i}]") for i, c in enumerate(commands_raw)),
    )


def _alert(a: Alert) -> dict[str, Any]:
    out: dict[str, Any] = {"code": a.code, "severity": a.severity, "message": a.message}
    if a.device is not None:
        out["device"] = a.device
    return out


def _network(n: NetworkState) -> dict[str, Any]:
    return {
        "current_a": n.current_a,
        "limit_a": n.limit_a,
        "connections": n.connections,
        "size": n.size,
        "status": n.status.value,
        "enabled": n.enabled,
        "available_a": n.available_a,
    }


def _circuit(c: CircuitState) -> dict[str, Any]:
    return {
        "current_a": c.current_a,
        "limit_a": c.limit_a,
        "uncontrolled_a": c.uncontrolled_a,
        "available_a": c.available_a,
        "allocated_a": c.allocated_a,
    }


def decision_to_json(d: Decision) -> dict[str, Any]:
    """One decision as the JSON object `panelpilot decide` prints."""
    return {
        "t": d.t,
        "chargers": {
            k: {
                "limit_a": c.limit_a,
                "fallback_a": c.fallback_a,
                "status": c.status.value,
                "target_a": c.target_a,
                "demand_a": c.demand_a,
                "lease_s": c.lease_s,
                "lease_until_t": c.lease_until_t,
            }
            for k, c in d.chargers.items()
        },
        "batteries": {
            k: {
                "max_discharge_a": b.max_discharge_a,
                "charge_request_a": b.charge_request_a,
                "max_charge_a": b.max_charge_a,
            }
            for k, b in d.batteries.items()
        },
        "solar": {k: {"max_a": s.max_a} for k, s in d.solar.items()},
        "networks": {k: _network(n) for k, n in d.networks.items()},
        "circuits": {k: _circuit(c) for k, c in d.circuits.items()},
        "alerts": [_alert(a) for a in d.alerts],
    }
