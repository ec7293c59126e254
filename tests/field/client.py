"""A field charge point on the wire: the `ocpp` library as the client, driving a `FieldCharger`.

It dials `ws://HOST:PORT/ocpp/<id>` with HTTP Basic Auth (user = id), offers `ocpp1.6` or
`ocpp2.0.1`, and leaves the library's strict schema validation on in both directions; every
CallError it sends or receives is kept in `errors`. Times come from an injected clock (a
callable of epoch seconds), so tests move time instead of sleeping. The field behaviours, each
with its source:

* everything `FieldCharger` does (clock offset and drift, strict TxDefaultProfile, lost
  profiles, the specification's rejections, the car's 5 s response; see `charger.py`).
* a car plugged in at boot (issue 11, start-up): right after BootNotification is Accepted it
  sends StatusNotification Preparing, StartTransaction (2.0.1: StatusNotification Occupied,
  TransactionEvent Started) and StatusNotification Charging, and the car starts drawing when
  StartTransaction (TransactionEvent) is answered, whatever profiles it holds.
* slow acknowledgements: SetChargingProfile is answered after `ack_delay_s` of real time, or
  when the test releases acknowledgements it held (`hold_acks` / `release_acks`); the profile
  applies at answer time, on the injected clock. Like most embedded stacks it handles one
  message at a time, so a held acknowledgement delays everything it receives after it.
* a dropped link (`drop`: the socket closes) and a half-open one (`half_open`: it stops
  reading and writing without closing, as when a cellular modem loses its carrier).
* reconnects (`reconnect`): the link alone, or a reboot, keeping or losing its profiles.
* BootNotification.conf currentTime used to set the clock only if `sync_clock_at_boot` (1.6
  4.2: only RECOMMENDED).
* a car that arrives and leaves (`plug_in`, `unplug`), and Heartbeat on demand (`heartbeat`).
* MeterValues Current.Import with what the car draws (the most it may draw: the worst car,
  capped by `car_max_a`), or a lie (`meter_lie`): "fixed" (999 A, a broken meter or a hostile
  device), "frozen" (the first value forever), "negative", "nan" (issue 11, item 6).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.routing import on
from ocpp.v16 import ChargePoint as V16ChargePoint
from ocpp.v16 import call as v16_call
from ocpp.v16 import call_result as v16_result
from ocpp.v201 import ChargePoint as V201ChargePoint
from ocpp.v201 import call as v201_call
from ocpp.v201 import call_result as v201_result
from websockets.asyncio.client import ClientConnection, connect

from tests.field.charger import RESPONSE_S, FieldCharger
from tests.field.composite import format_time, parse_time_s

Clock = Callable[[], float]
Handler = TypeVar("Handler", bound=Callable[..., Any])
MeterLie = Literal["fixed", "frozen", "negative", "nan"]
LIAR_A = 999.0


class FieldClient:
    """One field charge point: the protocol edge around a `FieldCharger` core."""

    def __init__(
        self,
        core: FieldCharger,
        charge_point_id: str,
        password: str,
        *,
        clock: Clock = time.time,
        car_plugged: bool = True,
        ack_delay_s: float = 0.0,
        sync_clock_at_boot: bool = False,
        meter_lie: MeterLie | None = None,
        car_max_a: float = math.inf,
        response_s: float = RESPONSE_S,
        response_timeout_s: float = 30.0,
    ) -> None:
        """Configure; nothing happens until `connect`."""
        self.core, self.charge_point_id, self.password = core, charge_point_id, password
        self.clock = clock
        self.car_plugged = car_plugged
        self.ack_delay_s = ack_delay_s
        self.sync_clock_at_boot = sync_clock_at_boot
        self.meter_lie = meter_lie
        self.car_max_a = car_max_a
        self.response_s = response_s
        self.response_timeout_s = response_timeout_s
        self.errors: list[str] = []  # CallErrors sent or received (id "-1" too), invalid answers
        self.acks_pending = 0
        self._acks_open = asyncio.Event()
        self._acks_open.set()
        self._ack_waiters = asyncio.Condition()
        self._frozen_a: float | None = None
        self._link: _V16Link | _V201Link | None = None
        self._connection: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._muted = False

    # -- the link -------------------------------------------------------------------------

    async def connect(self, url: str, *, boot: bool = True) -> None:
        """Open the websocket; with `boot`, power on: BootNotification and the car's session."""
        token = base64.b64encode(f"{self.charge_point_id}:{self.password}".encode()).decode()
        subprotocol = "ocpp1.6" if self.core.version == "1.6" else "ocpp2.0.1"
        self._connection = await connect(
            url,
            additional_headers={"Authorization": f"Basic {token}"},
            subprotocols=[subprotocol],  # type: ignore[list-item]
        )
        kind = _V16Link if self.core.version == "1.6" else _V201Link
        self._link = kind(self, self._connection)
        self._muted = False
        self._reader = asyncio.create_task(self._read())
        if boot:
            await self.power_on()

    async def power_on(self) -> None:
        """Boot the core, send BootNotification, and start the plugged-in car's session."""
        self.core.boot(self.clock())
        link = self._require_link()
        accepted, current_time = await link.boot_notification()
        if not accepted:
            return
        if self.sync_clock_at_boot and current_time is not None:
            self.core.sync_clock(self.clock(), parse_time_s(current_time, "currentTime"))
        if self.car_plugged:
            await link.start_session(True)

    async def drop(self) -> None:
        """The link drops: the socket closes (the charger keeps running and holding)."""
        if self._connection is not None:
            if self._muted:  # a half-open link has no closing handshake to wait for
                self._connection.transport.abort()
            else:
                await self._connection.close()
        await self._stop_reader()

    def half_open(self) -> None:
        """The link goes half-open: nothing is read or written, and nothing closes it."""
        self._muted = True
        if self._connection is not None:
            self._connection.transport.pause_reading()

    async def reconnect(
        self, url: str, *, reboot: bool = False, keep_profiles: bool = True
    ) -> None:
        """Drop the link and dial again; `reboot` power-cycles first, keeping profiles or not."""
        await self.drop()
        if reboot:
            kept = self.core.keeps_profiles
            self.core.keeps_profiles = keep_profiles
            await self.connect(url, boot=True)
            self.core.keeps_profiles = kept
        else:
            await self.connect(url, boot=False)

    async def close(self) -> None:
        """Close for good (end of test)."""
        self.release_acks()
        await self.drop()

    # -- acknowledgements -----------------------------------------------------------------

    def hold_acks(self) -> None:
        """Answer no SetChargingProfile until `release_acks` (profiles apply when answered)."""
        self._acks_open.clear()

    def release_acks(self) -> None:
        """Answer the held SetChargingProfile requests (and the next ones at once)."""
        self._acks_open.set()

    async def wait_acks_pending(self, count: int) -> None:
        """Return once `count` SetChargingProfile answers are being held."""
        async with self._ack_waiters:
            await self._ack_waiters.wait_for(lambda: self.acks_pending >= count)

    async def _ack_gate(self) -> None:
        async with self._ack_waiters:
            self.acks_pending += 1
            self._ack_waiters.notify_all()
        try:
            await self._acks_open.wait()
            if self.ack_delay_s > 0:
                await asyncio.sleep(self.ack_delay_s)  # the device is slow, not the test
        finally:
            self.acks_pending -= 1

    # -- the car's meter ------------------------------------------------------------------

    def metered_a(self) -> float:
        """What its MeterValues say now: the car's draw, or the configured lie."""
        drawn = min(self.car_max_a, self.core.may_draw_a(self.clock(), self.response_s))
        if self.meter_lie == "fixed":
            return LIAR_A
        if self.meter_lie == "frozen":
            if self._frozen_a is None:
                self._frozen_a = drawn
            return self._frozen_a
        if self.meter_lie == "negative":
            return -max(drawn, 1.0)
        if self.meter_lie == "nan":
            return math.nan
        return drawn

    async def report_meter_values(self) -> None:
        """Send one MeterValues with Current.Import."""
        await self._require_link().meter_values(self.metered_a())

    async def heartbeat(self) -> None:
        """Send one Heartbeat (the central system's liveness check)."""
        await self._require_link().heartbeat()

    async def plug_in(self, status_first: bool = True) -> None:
        """A car arrives: its session starts as at boot (the car draws once it is answered);
        `status_first=False` sends the transaction's start before any StatusNotification (a
        station back on a new connection, reporting what it was doing)."""
        await self._require_link().start_session(status_first)

    async def unplug(self) -> None:
        """The car leaves: it stops drawing at once, then StopTransaction (Ended) is sent."""
        self.core.stop_transaction(self.clock())
        await self._require_link().end_session()

    # -- inside ---------------------------------------------------------------------------

    def now_text(self) -> str:
        """The charger's clock, as its messages carry it."""
        return format_time(self.core.clock_s(self.clock()))

    def _require_link(self) -> _V16Link | _V201Link:
        if self._link is None:
            raise RuntimeError(f"{self.charge_point_id} is not connected")
        return self._link

    async def _read(self) -> None:
        link = self._require_link()
        with contextlib.suppress(Exception):  # the link closing ends the reader, nothing else
            await link.start()

    async def _stop_reader(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    def _received(self, message: str | bytes) -> None:
        """Keep a CALLERROR for a frame the central system could not read (its id is "-1",
        so the library matches it to no call and would only log it)."""
        with contextlib.suppress(ValueError, TypeError, IndexError):
            frame = json.loads(message)
            if frame[0] == 4 and frame[1] == "-1":
                self.errors.append(f"received CALLERROR -1 {frame[2]}: {frame[4]}")

    async def _send(self, connection: ClientConnection, message: str) -> None:
        if self._muted:
            return
        frame = json.loads(message)
        if frame[0] == 4:
            self.errors.append(f"sent {frame[2]}: {frame[3]}")
        await connection.send(message)

    async def _call(self, link: V16ChargePoint | V201ChargePoint, request: Any) -> Any:
        try:
            return await link.call(request, suppress=False)
        except Exception as exc:  # a CallError or an answer that fails the schema
            self.errors.append(f"{type(request).__name__}: {exc!r}")
            raise


def handles(action: str) -> Callable[[Handler], Handler]:
    """The library's `@on(action)`, typed."""
    return cast(Callable[[Handler], Handler], on(action))


class _V16Link(V16ChargePoint):  # type: ignore[misc]
    """The OCPP 1.6J side."""

    def __init__(self, owner: FieldClient, connection: ClientConnection) -> None:
        super().__init__(owner.charge_point_id, connection, owner.response_timeout_s)
        self.owner = owner
        self._transaction_id = 0

    async def _send(self, message: str) -> None:
        await self.owner._send(self._connection, message)

    async def route_message(self, raw_msg: str | bytes) -> None:
        """The library's intake, after noting a CALLERROR for an unreadable frame."""
        self.owner._received(raw_msg)
        await super().route_message(raw_msg)

    async def boot_notification(self) -> tuple[bool, str | None]:
        """BootNotification: (accepted, the central system's currentTime)."""
        request = v16_call.BootNotification(
            charge_point_vendor="Field", charge_point_model="WorstWithinSpec"
        )
        result = await self.owner._call(self, request)
        return result.status == "Accepted", result.current_time

    async def start_session(self, status_first: bool) -> None:
        """The car's session starts; the car draws once the start is answered."""
        owner = self.owner
        if status_first:
            await owner._call(self, v16_call.StatusNotification(1, "NoError", "Preparing"))
        result = await owner._call(self, v16_call.StartTransaction(1, "FIELD", 0, owner.now_text()))
        owner.core.start_transaction(owner.clock(), int(result.transaction_id))
        self._transaction_id = int(result.transaction_id)
        await owner._call(self, v16_call.StatusNotification(1, "NoError", "Charging"))

    async def end_session(self) -> None:
        """The car's session has ended: tell the central system."""
        owner = self.owner
        stop = v16_call.StopTransaction(0, owner.now_text(), self._transaction_id)
        await owner._call(self, stop)
        await owner._call(self, v16_call.StatusNotification(1, "NoError", "Available"))

    async def heartbeat(self) -> None:
        """One Heartbeat."""
        await self.owner._call(self, v16_call.Heartbeat())

    async def meter_values(self, current_a: float) -> None:
        """One MeterValues with Current.Import per phase."""
        transaction = self.owner.core.transaction
        sample = {"value": _text(current_a), "measurand": "Current.Import", "unit": "A"}
        request = v16_call.MeterValues(
            connector_id=1,
            meter_value=[{"timestamp": self.owner.now_text(), "sampled_value": [sample]}],
            transaction_id=None if transaction is None else int(transaction.transaction_id or 0),
        )
        await self.owner._call(self, request)

    @handles("SetChargingProfile")
    async def on_set_charging_profile(self, **kwargs: Any) -> Any:
        """Answered when acknowledgements are open; applied at answer time."""
        await self.owner._ack_gate()
        status = self.owner.core.set_charging_profile(self.owner.clock(), _camel(kwargs))
        return v16_result.SetChargingProfile(status=status)

    @handles("ClearChargingProfile")
    def on_clear_charging_profile(self, **kwargs: Any) -> Any:
        """Clears what matches; Unknown when nothing does."""
        status = self.owner.core.clear_charging_profile(self.owner.clock(), _camel(kwargs))
        return v16_result.ClearChargingProfile(status=status)

    @handles("GetConfiguration")
    def on_get_configuration(self, **kwargs: Any) -> Any:
        """The smart-charging keys (1.6 3.13.5)."""
        answer = self.owner.core.get_configuration(_camel(kwargs))
        return v16_result.GetConfiguration(**camel_to_snake_case(answer))

    @handles("ChangeConfiguration")
    def on_change_configuration(self, **_: Any) -> Any:
        """Its settings are read-only."""
        return v16_result.ChangeConfiguration(status="Rejected")  # its settings are read-only

    @handles("GetCompositeSchedule")
    def on_get_composite_schedule(self, **kwargs: Any) -> Any:
        """What it will obey from now, on its own clock."""
        answer = self.owner.core.get_composite_schedule(self.owner.clock(), _camel(kwargs))
        return v16_result.GetCompositeSchedule(**camel_to_snake_case(answer))


class _V201Link(V201ChargePoint):  # type: ignore[misc]
    """The OCPP 2.0.1 side."""

    def __init__(self, owner: FieldClient, connection: ClientConnection) -> None:
        super().__init__(owner.charge_point_id, connection, owner.response_timeout_s)
        self.owner = owner
        self._seq = 0
        self._transaction_id = ""

    async def _send(self, message: str) -> None:
        await self.owner._send(self._connection, message)

    async def route_message(self, raw_msg: str | bytes) -> None:
        """The library's intake, after noting a CALLERROR for an unreadable frame."""
        self.owner._received(raw_msg)
        await super().route_message(raw_msg)

    async def boot_notification(self) -> tuple[bool, str | None]:
        """BootNotification: (accepted, the central system's currentTime)."""
        request = v201_call.BootNotification(
            charging_station={"model": "WorstWithinSpec", "vendor_name": "Field"},
            reason="PowerUp",
        )
        result = await self.owner._call(self, request)
        return result.status == "Accepted", result.current_time

    async def start_session(self, status_first: bool) -> None:
        """The car's session starts; the car draws once the start is answered."""
        owner = self.owner
        if status_first:
            status = v201_call.StatusNotification(owner.now_text(), "Occupied", 1, 1)
            await owner._call(self, status)
        transaction_id = str(uuid.uuid4())  # in 2.0.1 the station names its transactions
        await owner._call(
            self,
            v201_call.TransactionEvent(
                event_type="Started",
                timestamp=owner.now_text(),
                trigger_reason="CablePluggedIn",
                seq_no=self._next_seq(),
                transaction_info={"transaction_id": transaction_id, "charging_state": "Charging"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "FIELD", "type": "Central"},
            ),
        )
        owner.core.start_transaction(owner.clock(), transaction_id)
        self._transaction_id = transaction_id

    async def end_session(self) -> None:
        """The car's session has ended: tell the central system."""
        owner = self.owner
        ended = v201_call.TransactionEvent(
            event_type="Ended",
            timestamp=owner.now_text(),
            trigger_reason="EVCommunicationLost",
            seq_no=self._next_seq(),
            transaction_info={
                "transaction_id": self._transaction_id,
                "stopped_reason": "EVDisconnected",
            },
            evse={"id": 1, "connector_id": 1},
        )
        await owner._call(self, ended)
        await owner._call(self, v201_call.StatusNotification(owner.now_text(), "Available", 1, 1))

    async def heartbeat(self) -> None:
        """One Heartbeat."""
        await self.owner._call(self, v201_call.Heartbeat())

    async def meter_values(self, current_a: float) -> None:
        """One MeterValues with Current.Import per phase."""
        sample = {
            "value": current_a,
            "measurand": "Current.Import",
            "unit_of_measure": {"unit": "A"},
        }
        request = v201_call.MeterValues(
            evse_id=1,
            meter_value=[{"timestamp": self.owner.now_text(), "sampled_value": [sample]}],
        )
        await self.owner._call(self, request)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq - 1

    @handles("SetChargingProfile")
    async def on_set_charging_profile(self, **kwargs: Any) -> Any:
        """Answered when acknowledgements are open; applied at answer time."""
        await self.owner._ack_gate()
        status = self.owner.core.set_charging_profile(self.owner.clock(), _camel(kwargs))
        return v201_result.SetChargingProfile(status=status)

    @handles("ClearChargingProfile")
    def on_clear_charging_profile(self, **kwargs: Any) -> Any:
        """Clears what matches; Unknown when nothing does."""
        status = self.owner.core.clear_charging_profile(self.owner.clock(), _camel(kwargs))
        return v201_result.ClearChargingProfile(status=status)

    @handles("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        """SmartChargingCtrlr variables (the 1.6 keys' counterparts)."""
        known = self.owner.core.variables()
        results = []
        for item in get_variable_data:
            key = (item["component"]["name"], item["variable"]["name"])
            found = known.get(key)
            result: dict[str, Any] = {
                "attribute_status": "Accepted" if found is not None else "UnknownVariable",
                "component": item["component"],
                "variable": item["variable"],
            }
            if found is not None:
                result["attribute_value"] = found
            results.append(result)
        return v201_result.GetVariables(get_variable_result=results)

    @handles("GetCompositeSchedule")
    def on_get_composite_schedule(self, **kwargs: Any) -> Any:
        """What it will obey from now, on its own clock."""
        answer = self.owner.core.get_composite_schedule(self.owner.clock(), _camel(kwargs))
        return v201_result.GetCompositeSchedule(**camel_to_snake_case(answer))


def as_payload(request: Any) -> dict[str, Any]:
    """An `ocpp` call object (a SetChargingProfile a driver built) as OCPP JSON for the core."""
    return snake_to_camel_case(remove_nones(serialize_as_dict(request)))  # type: ignore[no-any-return]


def _camel(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request as OCPP JSON again (the library hands handlers snake_case)."""
    return snake_to_camel_case(kwargs)  # type: ignore[no-any-return]


def _text(value: float) -> str:
    """A 1.6 SampledValue.value (a string): NaN stays NaN, the rest one decimal."""
    return "NaN" if math.isnan(value) else f"{value:.1f}"
