"""A SunSpec device over Modbus TCP: find its map, read a model's points, write points.

Discovery follows the SunSpec Modbus spec: the map starts with the marker "SunS" at one of
the base addresses 40000, 0 or 50000; the common model (1) follows, then each model as
`ID`, `L`, `L` registers, until the end model 0xFFFF. Values are returned scaled by their
scale factors (value x 10^sf) in the model's own units.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from panelpilot.drivers.base import DriverError
from panelpilot.drivers.sunspec.models import (
    END_MODEL_ID,
    SUNSPEC_MARKER,
    ModelLayout,
    PointLayout,
    UnknownModelError,
    Value,
    decode_point,
    encode_point,
    fits,
    load_model_layout,
)

log = logging.getLogger(__name__)

BASE_ADDRESSES = (40000, 0, 50000)  # SunSpec Modbus spec: where a map may start
MAX_READ_REGISTERS = 125  # Modbus: a read holding registers request carries at most 125


class DeviceUnreachableError(DriverError):
    """The device did not answer (refused, timed out, closed): it reads as offline."""


class ModbusExceptionReplyError(DriverError):
    """The device answered a request with a Modbus exception (e.g. illegal address)."""


@dataclass(frozen=True, slots=True)
class ModelLocation:
    """One model found in a device's map."""

    model_id: int
    address: int  # of its ID register
    length: int  # its L


@dataclass(frozen=True, slots=True)
class ModelValues:
    """The top-level points of one model as read: raw values and scaled numbers."""

    layout: ModelLayout
    raw: Mapping[str, Value | None]

    def number(self, point: str) -> float | None:
        """`point` scaled by its scale factor; None if the device does not implement it."""
        raw = self.raw[point]
        if raw is None or isinstance(raw, str):
            return None
        exponent = self.exponent(self.layout.points[point])
        return None if exponent is None else float(raw) * 10.0**exponent

    def exponent(self, point: PointLayout) -> int | None:
        """The power of ten `point` is scaled by; None if its scale factor is not implemented."""
        if point.sf is None:
            return 0
        if isinstance(point.sf, int):
            return point.sf
        sf = self.raw.get(point.sf)
        return sf if isinstance(sf, int) else None


class SunSpecClient:
    """One SunSpec device (unit) behind a Modbus TCP address; discovers its map once."""

    def __init__(
        self,
        device_id: str,
        host: str,
        port: int,
        unit_id: int = 1,
        timeout_s: float = 1.0,
        base_address: int | None = None,
    ) -> None:
        self.device_id = device_id
        self.unit_id = unit_id
        self._bases = (base_address,) if base_address is not None else BASE_ADDRESSES
        self._host, self._port, self._timeout_s = host, port, timeout_s
        self._modbus_client: AsyncModbusTcpClient | None = None  # made in the running loop
        self._map: dict[int, ModelLocation] | None = None
        self._lock = asyncio.Lock()
        self._where = f"{host}:{port} unit {unit_id}"

    @property
    def _modbus(self) -> AsyncModbusTcpClient:
        # pymodbus binds its client to the running event loop, so it is made on first use.
        if self._modbus_client is None:
            self._modbus_client = AsyncModbusTcpClient(
                self._host, port=self._port, timeout=self._timeout_s, retries=0, reconnect_delay=0
            )
        return self._modbus_client

    async def close(self) -> None:
        """Close the TCP connection (it is reopened on the next request)."""
        if self._modbus_client is not None:
            self._modbus_client.close()
            self._modbus_client = None

    async def model_map(self) -> Mapping[int, ModelLocation]:
        """The models the device holds, by id (the first instance of each)."""
        if self._map is None:
            self._map = await self._discover()
        return self._map

    async def find(self, model_ids: Sequence[int]) -> ModelLocation | None:
        """The first of `model_ids` the device holds, or None."""
        found = await self.model_map()
        return next((found[m] for m in model_ids if m in found), None)

    async def read_model(self, model_id: int) -> ModelValues:
        """Read every top-level point of `model_id` (DriverError if the device lacks it)."""
        location, layout = await self._locate(model_id)
        registers = await self._read(location.address, location.length + 2)
        if registers[0] != model_id:
            raise DriverError(
                self.device_id,
                f"register {location.address} holds model {registers[0]}, expected {model_id}",
            )
        raw = {
            p.name: decode_point(p, registers[p.offset : p.offset + p.size])
            for p in layout.points.values()
        }
        return ModelValues(layout=layout, raw=raw)

    async def write(self, model_id: int, values: Mapping[str, float]) -> None:
        """Write points of `model_id` given in engineering units (scaled by the device's SFs)."""
        current = await self.read_model(model_id)
        location = (await self.model_map())[model_id]
        encoded: dict[int, int] = {}
        for name, value in values.items():
            point = current.layout.points[name]
            if not point.writable:
                raise DriverError(self.device_id, f"model {model_id} point {name} is read-only")
            exponent = current.exponent(point)
            if exponent is None:
                raise DriverError(
                    self.device_id, f"model {model_id} point {name}: scale factor not implemented"
                )
            raw = round(value / 10.0**exponent)
            if not fits(point, raw):
                raise DriverError(
                    self.device_id,
                    f"model {model_id} point {name}: {value} does not fit a {point.type} "
                    f"at scale 10^{exponent}",
                )
            for i, register in enumerate(encode_point(point, raw)):
                encoded[location.address + point.offset + i] = register
        for start, run in _contiguous_runs(encoded):
            await self._write(start, run)

    async def _locate(self, model_id: int) -> tuple[ModelLocation, ModelLayout]:
        location = (await self.model_map()).get(model_id)
        if location is None:
            raise DriverError(self.device_id, f"SunSpec map has no model {model_id}")
        layout = load_model_layout(model_id)
        return location, layout

    async def _discover(self) -> dict[int, ModelLocation]:
        refused = 0
        for base in self._bases:
            try:
                marker = await self._read(base, 2)
            except ModbusExceptionReplyError:
                refused += 1
                continue
            if tuple(marker) == SUNSPEC_MARKER:
                return await self._walk(base + 2)
        bases = ", ".join(str(b) for b in self._bases)
        hint = (
            f"; every read was refused: is unit_id {self.unit_id} right?"
            if refused == len(self._bases)
            else ""
        )
        raise DriverError(
            self.device_id, f"no SunSpec marker 'SunS' at {bases} ({self._where}{hint})"
        )

    async def _walk(self, address: int) -> dict[int, ModelLocation]:
        found: dict[int, ModelLocation] = {}
        first = True
        while True:
            if address > 0xFFFF - 2:  # Modbus addresses are 16-bit: the map never ended
                raise DriverError(self.device_id, "SunSpec map has no end model 0xFFFF")
            model_id, length = await self._read(address, 2)
            if model_id == END_MODEL_ID:
                return found
            if first and model_id != 1:
                raise DriverError(
                    self.device_id,
                    f"expected the common model 1 after 'SunS', found model {model_id}",
                )
            first = False
            self._check_length(model_id, length)
            found.setdefault(model_id, ModelLocation(model_id, address, length))
            address += 2 + length

    def _check_length(self, model_id: int, length: int) -> None:
        try:
            layout = load_model_layout(model_id)
        except UnknownModelError:
            return  # a vendor model: skipped over by its length
        if length < layout.points_length:
            raise DriverError(
                self.device_id,
                f"model {model_id} ({layout.name}) is {length} registers long, "
                f"its definition needs {layout.points_length}",
            )

    async def _request(self, send: Callable[[], Awaitable[ModbusPDU]], what: str) -> ModbusPDU:
        """One request on the (re)opened connection; one at a time per device."""
        async with self._lock:
            try:
                if not self._modbus.connected and not await self._modbus.connect():
                    raise DeviceUnreachableError(self.device_id, f"no answer from {self._where}")
                reply = await send()
            except (ModbusException, OSError, TimeoutError) as exc:
                await self.close()
                self._map = None  # a device coming back may have been reconfigured
                raise DeviceUnreachableError(self.device_id, f"{self._where}: {exc}") from exc
        if reply.isError():
            raise ModbusExceptionReplyError(self.device_id, f"{what} refused: {reply}")
        return reply

    async def _read(self, address: int, count: int) -> list[int]:
        registers: list[int] = []
        while count > 0:
            chunk = min(count, MAX_READ_REGISTERS)
            reply = await self._request(
                partial(
                    self._modbus.read_holding_registers,
                    address,
                    count=chunk,
                    device_id=self.unit_id,
                ),
                f"read of {chunk} registers at {address}",
            )
            if len(reply.registers) != chunk:
                got = len(reply.registers)
                raise DriverError(
                    self.device_id, f"asked {chunk} registers at {address}, got {got}"
                )
            registers.extend(reply.registers)
            address += chunk
            count -= chunk
        return registers

    async def _write(self, address: int, registers: list[int]) -> None:
        await self._request(
            partial(self._modbus.write_registers, address, registers, device_id=self.unit_id),
            f"write of {len(registers)} registers at {address}",
        )


def _contiguous_runs(registers: Mapping[int, int]) -> list[tuple[int, list[int]]]:
    """Group register writes into runs of consecutive addresses, one request each."""
    runs: list[tuple[int, list[int]]] = []
    for address in sorted(registers):
        if runs and runs[-1][0] + len(runs[-1][1]) == address:
            runs[-1][1].append(registers[address])
        else:
            runs.append((address, [registers[address]]))
    return runs
