"""A simulated SunSpec device on Modbus TCP: a register image laid out from pysunspec2's
model definitions, served by a pymodbus server on loopback.

The image is the device's truth: before every read the device behind it refreshes its
measurements (so a battery that was capped reads back its capped current), and every write
lands in the image and is seen by the device at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import SimData, SimDevice
from pymodbus.simulator.simutils import DataType

from panelpilot.drivers.sunspec.models import (
    END_MODEL_ID,
    SUNSPEC_MARKER,
    ModelLayout,
    decode_point,
    encode_point,
    load_model_layout,
)

# Modbus function codes that write holding registers (single, multiple, mask, read/write).
_WRITE_CODES = frozenset({6, 16, 22, 23})


class SunSpecImage:
    """The holding registers of one simulated SunSpec device, with scaled get and set."""

    def __init__(
        self,
        model_ids: Sequence[int],
        base_address: int = 40000,
        marker: tuple[int, int] = SUNSPEC_MARKER,
        lengths: Mapping[int, int] | None = None,
    ) -> None:
        """Lay out `model_ids` in order after the marker; `lengths` overrides a model's L
        (to simulate a malformed map). Every point starts as 'not implemented'."""
        self.base_address = base_address
        self.registers: list[int] = list(marker)
        self._layouts: dict[int, ModelLayout] = {}
        self._addresses: dict[int, int] = {}
        for model_id in model_ids:
            layout = load_model_layout(model_id)
            length = (lengths or {}).get(model_id, layout.length)
            start = len(self.registers)
            block = [0] * (2 + max(length, layout.points_length))
            for point in layout.points.values():
                fill = 0 if point.type in ("sunssf", "pad") else None
                block[point.offset : point.offset + point.size] = encode_point(point, fill)
            block[0:2] = [model_id, length]
            self.registers.extend(block[: 2 + length])
            self._layouts[model_id] = layout
            self._addresses[model_id] = start
        self.registers.extend([END_MODEL_ID, 0])

    def _slot(self, model_id: int, point: str) -> tuple[int, int]:
        layout = self._layouts[model_id]
        spec = layout.points[point]
        start = self._addresses[model_id] + spec.offset
        return start, start + spec.size

    def get_raw(self, model_id: int, point: str) -> int | float | str | None:
        """The raw value of a point (None when not implemented)."""
        start, end = self._slot(model_id, point)
        return decode_point(self._layouts[model_id].points[point], self.registers[start:end])

    def set_raw(self, model_id: int, point: str, raw: int | float | str | None) -> None:
        """Store a raw value (None marks the point not implemented)."""
        start, end = self._slot(model_id, point)
        self.registers[start:end] = encode_point(self._layouts[model_id].points[point], raw)

    def get(self, model_id: int, point: str) -> float | None:
        """A point scaled by its scale factor; None when not implemented."""
        raw = self.get_raw(model_id, point)
        if raw is None or isinstance(raw, str):
            return None
        return float(raw) * 10.0 ** self._exponent(model_id, point)

    def set(self, model_id: int, point: str, value: float | None) -> None:
        """Store an engineering value, encoded with the point's scale factor."""
        raw = None if value is None else round(value / 10.0 ** self._exponent(model_id, point))
        self.set_raw(model_id, point, raw)

    def _exponent(self, model_id: int, point: str) -> int:
        sf = self._layouts[model_id].points[point].sf
        if sf is None or isinstance(sf, int):
            return sf or 0
        exponent = self.get_raw(model_id, sf)
        return exponent if isinstance(exponent, int) else 0

    def write(self, address: int, values: Sequence[int]) -> None:
        """Apply a Modbus write at a protocol address."""
        offset = address - self.base_address
        self.registers[offset : offset + len(values)] = list(values)


class SimulatedSunSpecDevice(Protocol):
    """A device model behind an image: refreshes its measurements before every read."""

    image: SunSpecImage

    def refresh(self) -> None:
        """Write the device's present measurements into its image."""
        ...


class StaticDevice:
    """A device whose image never changes by itself (for hand-made, even malformed, maps)."""

    def __init__(self, image: SunSpecImage) -> None:
        self.image = image

    def refresh(self) -> None:
        """Nothing to refresh."""


class SunSpecServer:
    """A pymodbus TCP server on loopback serving one simulated device under `unit_id`."""

    def __init__(
        self,
        device: SimulatedSunSpecDevice,
        unit_id: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`port=0` picks a free port; `start()` returns the one in use."""
        self.device = device
        self.unit_id = unit_id
        self.host = host
        self.port = port
        self._server: ModbusTcpServer | None = None

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        image = self.device.image
        if set_values and function_code in _WRITE_CODES:
            image.write(address, [int(v) for v in set_values])
        else:
            self.device.refresh()
        current_registers[:] = image.registers

    async def start(self) -> int:
        """Listen on `host` (on a free port unless one was given); returns the port."""
        image = self.device.image
        block = SimData(
            address=image.base_address,
            count=len(image.registers),
            values=0,
            datatype=DataType.REGISTERS,
        )
        sim = SimDevice(id=self.unit_id, simdata=[block], action=self._action)
        self._server = ModbusTcpServer(sim, address=(self.host, self.port))
        await self._server.serve_forever(background=True)
        listener: asyncio.Server = self._server.transport  # type: ignore[assignment]
        self.port = int(listener.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None

    async def __aenter__(self) -> SunSpecServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
