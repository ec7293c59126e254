"""Snapshots and decisions as JSON: the line formats of `panelpilot decide` (docs/formats.md).

Parsing is strict: an unknown key or a value of the wrong type is a `SnapshotError` that names
the field (`chargers.wc1.current_a`) and what is allowed. Numbers are finite and bounded
(currents within +-`MAX_CURRENT_A`, times within +-`MAX_TIME_S`), and a line is at most
`MAX_LINE_BYTES` long and nested at most `MAX_DEPTH` deep, so no line can make the parser or
the arithmetic after it fail in any other way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from panelpilot.control.types import (
    Alert,
    BatteryReading,
    ChargerReading,
    ChargingNeed,
    CircuitState,
    Command,
    Decision,
    NetworkState,
    Snapshot,
    SolarReading,
)
from panelpilot.control.validate import MAX_CURRENT_A, MAX_TIME_S, SnapshotError

T = TypeVar("T")

# A snapshot line of 10,000 chargers is about 1 MB; nothing real comes near these.
MAX_LINE_BYTES = 4 * 1024 * 1024
# A snapshot nests 4 deep (`chargers.wc1.need.energy_wh`); the parser recurses once per level.
MAX_DEPTH = 32
# The longest id a site file allows, and its characters (`panelpilot.site.model.Ident`).
MAX_ID_CHARS = 64
_IDENT = re.compile(r"[A-Za-z0-9_.:-]+")
_OPEN = frozenset(b"[{")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _nesting(raw: bytes) -> int:
    """How deep the brackets of a line nest (strings not told apart: brackets in a string only
    make it look deeper, and no field of a snapshot holds one)."""
    depth = deepest = 0
    for byte in raw.translate(None, _NOT_BRACKETS):
        if byte in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        elif depth:
            depth -= 1
    return deepest


def _int(text: str) -> int | float:
    # Python refuses to read integers of more than 4300 digits (ValueError); as a float such a
    # number is infinite, and the field it is in refuses it with its name.
    return int(text) if len(text) <= 20 else float(text)


def decode_line(raw: bytes) -> Any:
    """One JSON line, decoded; `SnapshotError` when it is too long, not UTF-8, nested too deep
    or not JSON. NaN and Infinity decode as floats, for the field that gets one to refuse."""
    if len(raw) > MAX_LINE_BYTES:
        raise SnapshotError(
            f"line longer than {MAX_LINE_BYTES:,} bytes; a snapshot line may be at most that"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"not UTF-8 text: {exc.reason} at byte {exc.start + 1}") from None
    too_deep = f"nested deeper than {MAX_DEPTH} levels of [ and {{; a snapshot nests 4"
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _nesting(raw) > MAX_DEPTH:
        raise SnapshotError(too_deep)
    try:
        return json.loads(text, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"not JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        # Brackets hidden from `_nesting` between string quotes; the parser's own guard.
        raise SnapshotError(too_deep) from None


def snapshot_from_line(raw: bytes) -> Snapshot:
    """Parse one line of `panelpilot decide`'s input (bytes, without the limits' surprises)."""
    return snapshot_from_json(decode_line(raw))


def _shown(value: Any) -> str:
    """A value as JSON writes it (`true`, `"noon"`, `NaN`), short enough for one line."""
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    shown = json.dumps(value)
    return shown if len(shown) <= 40 else f"{shown[:30]}... ({len(shown):,} characters)"


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise SnapshotError(f"{field}: expected an object {{...}}, got {type(value).__name__}")
    return value


# What a number may be, by kind: the largest size and how the message names it.
_AMPS = (MAX_CURRENT_A, "amps", "1e6")
_SECONDS = (MAX_TIME_S, "seconds", "1e12")
# A session wanting more than 10 MWh is a mistake (the largest packs hold about 0.2 MWh).
MAX_ENERGY_WH = 1e7
NEED_SOURCES = ("ev", "owner", "default", "estimate")


def _number(
    value: Any,
    field: str,
    *,
    optional: bool = False,
    kind: tuple[float, str, str] = _AMPS,
) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        allowed = "a number or null" if optional else "a number"
        raise SnapshotError(f"{field}: {_shown(value)} is not {allowed}")
    bound, unit, bound_text = kind
    # Compared before any float(): an integer too large for a float fails here (NaN fails too).
    if not -bound <= value <= bound:
        raise SnapshotError(
            f"{field}: {_shown(value)} is out of range; allowed: a finite number of {unit} "
            f"within +-{bound_text}"
        )
    return float(value)


def _required_number(value: Any, field: str, kind: tuple[float, str, str] = _AMPS) -> float:
    number = _number(value, field, kind=kind)
    assert number is not None
    return number


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise SnapshotError(f"{field}: {_shown(value)} is not true or false")
    return value


def _keys(obj: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> None:
    for key in obj:
        if key not in allowed:
            where = f"{field}.{_id(key, field)}" if field else _id(key, "")
            raise SnapshotError(f"{where}: unknown field; allowed: {', '.join(allowed)}")


def _id(key: str, section: str) -> str:
    """A key as a message names it: as written when it looks like a site id, else quoted
    (a newline stays on the line); longer than any site id (`MAX_ID_CHARS`) is an error."""
    if len(key) > MAX_ID_CHARS:
        where = f"{section}: " if section else ""
        raise SnapshotError(
            f"{where}a key of {len(key):,} characters; ids are at most {MAX_ID_CHARS}"
        )
    return key if _IDENT.fullmatch(key) else json.dumps(key)


def _devices(
    obj: Mapping[str, Any], section: str, parse: Callable[[Mapping[str, Any], str], T]
) -> dict[str, T]:
    raw = _mapping(obj.get(section, {}), section)
    out: dict[str, T] = {}
    for key, v in raw.items():
        field = f"{section}.{_id(key, section)}"
        out[key] = parse(_mapping(v, field), field)
    return out


def _need(value: Any, field: str) -> ChargingNeed | None:
    """`chargers.<id>.need`: departure (s, snapshot clock), energy still wanted (Wh), source."""
    if value is None:
        return None
    obj = _mapping(value, field)
    _keys(obj, field, ("departure_t", "energy_wh", "source"))
    energy = obj.get("energy_wh")
    if energy is not None and (
        isinstance(energy, bool)
        or not isinstance(energy, int | float)
        or not 0 <= energy <= MAX_ENERGY_WH
    ):
        raise SnapshotError(
            f"{field}.energy_wh: {_shown(energy)} is not allowed; allowed: null or a number of "
            f"watt-hours within 0..1e7"
        )
    source = obj.get("source", "owner")
    if source not in NEED_SOURCES:
        raise SnapshotError(
            f"{field}.source: {_shown(source)} is not allowed; allowed: {', '.join(NEED_SOURCES)}"
        )
    return ChargingNeed(
        departure_t=_number(
            obj.get("departure_t"), f"{field}.departure_t", optional=True, kind=_SECONDS
        ),
        energy_wh=None if energy is None else float(energy),
        source=source,
    )


def _charger(obj: Mapping[str, Any], field: str) -> ChargerReading:
    _keys(obj, field, ("online", "connected", "current_a", "limit_a", "commitment_t", "need"))
    return ChargerReading(
        online=_bool(obj.get("online", True), f"{field}.online"),
        connected=_bool(obj.get("connected", False), f"{field}.connected"),
        current_a=_required_number(obj.get("current_a", 0.0), f"{field}.current_a"),
        limit_a=_number(obj.get("limit_a"), f"{field}.limit_a", optional=True),
        commitment_t=_number(
            obj.get("commitment_t"), f"{field}.commitment_t", optional=True, kind=_SECONDS
        ),
        need=_need(obj.get("need"), f"{field}.need"),
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
    _id(network, f"{field}.network")
    enabled = cmd.get("enabled")
    add, remove = cmd.get("add"), cmd.get("remove")
    for name, value in (("add", add), ("remove", remove)):
        if value is not None and not isinstance(value, str):
            raise SnapshotError(f"{field}.{name}: {_shown(value)} is not a charger id")
        if value is not None:
            _id(value, f"{field}.{name}")
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
    meters = {
        k: _number(v, f"meters.{_id(k, 'meters')}", optional=True) for k, v in meters_raw.items()
    }
    commands_raw = snap.get("commands", [])
    if not isinstance(commands_raw, list):
        raise SnapshotError("commands: expected a list of settings changes")
    return Snapshot(
        t=_required_number(snap["t"], "t", _SECONDS),
        meters=meters,
        chargers=_devices(snap, "chargers", _charger),
        batteries=_devices(snap, "batteries", _battery),
        solar=_devices(snap, "solar", _solar),
        commands=tuple(_command(c, f"commands[{i}]") for i, c in enumerate(commands_raw)),
    )


def _reading_to_json(r: ChargerReading) -> dict[str, Any]:
    out: dict[str, Any] = {"online": r.online, "connected": r.connected, "current_a": r.current_a}
    if r.limit_a is not None:
        out["limit_a"] = r.limit_a
    if r.commitment_t is not None:
        out["commitment_t"] = r.commitment_t
    if r.need is not None:
        n = r.need
        out["need"] = {"departure_t": n.departure_t, "energy_wh": n.energy_wh, "source": n.source}
    return out


def snapshot_to_json(s: Snapshot) -> dict[str, Any]:
    """One snapshot as the JSON object `snapshot_from_json` reads back to an equal one."""
    out: dict[str, Any] = {
        "t": s.t,
        "meters": dict(s.meters),
        "chargers": {k: _reading_to_json(r) for k, r in s.chargers.items()},
        "batteries": {
            k: {"online": b.online, "current_a": b.current_a, "soc": b.soc}
            for k, b in s.batteries.items()
        },
        "solar": {k: {"online": v.online, "current_a": v.current_a} for k, v in s.solar.items()},
    }
    if s.commands:
        out["commands"] = [_command_to_json(c) for c in s.commands]
    return out


def _command_to_json(c: Command) -> dict[str, Any]:
    fields = {
        "network": c.network,
        "enabled": c.enabled,
        "network_limit_a": c.network_limit_a,
        "add": c.add,
        "remove": c.remove,
    }
    return {k: v for k, v in fields.items() if v is not None}


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
                # JSON has no infinity: a lease with no finite end is written null.
                "lease_until_t": c.lease_until_t if math.isfinite(c.lease_until_t) else None,
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
