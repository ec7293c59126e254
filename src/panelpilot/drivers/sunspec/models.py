"""SunSpec model layouts, taken from pysunspec2's JSON model definitions, and the point codec.

A model is a block of 16-bit registers: `ID`, `L` (the length after those two), then its
points in order. We lay out the top-level points of a model (offset from the `ID` register,
size, type, scale-factor point) from the definitions shipped with pysunspec2 instead of
typing register maps by hand, and decode or encode one point's registers. SunSpec marks a
point a device does not implement with a sentinel (0x8000 for int16, 0xFFFF for uint16, ...);
those decode to None.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sunspec2 import mdef

# The first register of the map ("SunS", big-endian ASCII) and the end-of-map model id.
SUNSPEC_MARKER = (0x5375, 0x6E53)
END_MODEL_ID = mdef.END_MODEL_ID

_INT_TYPES: Mapping[str, tuple[int, bool]] = {  # type -> (registers, signed)
    "int16": (1, True),
    "sunssf": (1, True),
    "uint16": (1, False),
    "count": (1, False),
    "acc16": (1, False),
    "enum16": (1, False),
    "bitfield16": (1, False),
    "pad": (1, False),
    "int32": (2, True),
    "uint32": (2, False),
    "acc32": (2, False),
    "enum32": (2, False),
    "bitfield32": (2, False),
    "ipaddr": (2, False),
    "int64": (4, True),
    "uint64": (4, False),
    "acc64": (4, False),
}

Value = int | float | str


class UnknownModelError(LookupError):
    """pysunspec2 has no definition for this model id (a vendor model, for instance)."""


@dataclass(frozen=True, slots=True)
class PointLayout:
    """Where one point of a model sits and how it is encoded."""

    name: str
    offset: int  # registers from the model's ID register
    size: int  # registers
    type: str  # SunSpec point type: int16, uint16, sunssf, string, ...
    sf: str | int | None  # the scale-factor point's name, a fixed exponent, or none
    writable: bool


@dataclass(frozen=True, slots=True)
class ModelLayout:
    """The top-level points of one SunSpec model, in register order."""

    model_id: int
    name: str
    points: Mapping[str, PointLayout]
    length: int  # the model's `L`: registers after ID and L, fixed groups included

    @property
    def points_length(self) -> int:
        """Registers after ID and L taken by the top-level points (what we read)."""
        return sum(p.size for p in self.points.values()) - 2


def _point_size(point: Mapping[str, Any]) -> int:
    size = mdef.point_type_info[point["type"]]["len"]
    return int(size if size is not None else point["size"])


def _group_size(group: Mapping[str, Any]) -> int:
    """Registers of a group and its fixed-count subgroups (count given by a point: 1)."""
    size = sum(_point_size(p) for p in group.get("points", []))
    for sub in group.get("groups", []):
        count = sub.get("count", 1)
        size += _group_size(sub) * (count if isinstance(count, int) else 1)
    return size


def load_model_layout(model_id: int) -> ModelLayout:
    """The layout of `model_id` from pysunspec2's JSON definition (UnknownModelError if none)."""
    source = resources.files("sunspec2") / "models" / "json" / f"model_{model_id}.json"
    try:
        definition = json.loads(source.read_text())
    except FileNotFoundError as exc:
        raise UnknownModelError(model_id) from exc
    group = definition["group"]
    points: dict[str, PointLayout] = {}
    offset = 0
    for point in group["points"]:
        size = _point_size(point)
        points[point["name"]] = PointLayout(
            name=point["name"],
            offset=offset,
            size=size,
            type=point["type"],
            sf=point.get("sf"),
            writable=point.get("access") == "RW",
        )
        offset += size
    return ModelLayout(
        model_id=model_id, name=group["name"], points=points, length=_group_size(group) - 2
    )


def decode_point(point: PointLayout, registers: Sequence[int]) -> Value | None:
    """The raw value of `point` from its registers; None when the device marks it absent."""
    if point.type == "string":
        raw = b"".join(r.to_bytes(2, "big") for r in registers)
        text = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
        return text or None
    if point.type == "float32":
        number: float = struct.unpack(">f", struct.pack(">HH", *registers))[0]
        return None if math.isnan(number) else number
    size, signed = _INT_TYPES[point.type]
    raw_int = 0
    for register in registers[:size]:
        raw_int = (raw_int << 16) | register
    bits = 16 * size
    if signed:
        if raw_int == 1 << (bits - 1):
            return None
        if raw_int >= 1 << (bits - 1):
            raw_int -= 1 << bits
        return raw_int
    if point.type.startswith("acc"):
        return None if raw_int == 0 else raw_int
    return None if raw_int == (1 << bits) - 1 else raw_int


def fits(point: PointLayout, raw: int) -> bool:
    """Whether an integer raw value fits `point` without colliding with its sentinel."""
    if point.type not in _INT_TYPES:
        return True
    size, signed = _INT_TYPES[point.type]
    bits = 16 * size
    if signed:
        return -(1 << (bits - 1)) < raw < 1 << (bits - 1)
    return 0 <= raw < (1 << bits) - 1


def encode_point(point: PointLayout, value: Value | None) -> list[int]:
    """The registers for a raw value of `point` (None writes the not-implemented sentinel)."""
    if point.type == "string":
        data = str(value or "").encode()[: 2 * point.size].ljust(2 * point.size, b"\0")
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if point.type == "float32":
        packed = struct.pack(">f", math.nan if value is None else float(value))
        return list(struct.unpack(">HH", packed))
    size, signed = _INT_TYPES[point.type]
    bits = 16 * size
    if value is None:
        raw_int = 1 << (bits - 1) if signed else (0 if point.type.startswith("acc") else -1)
    else:
        raw_int = int(value)
    raw_int &= (1 << bits) - 1
    return [(raw_int >> (16 * (size - 1 - i))) & 0xFFFF for i in range(size)]
