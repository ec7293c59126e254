"""One connected charge point, server side: the OCPP handlers of 1.6J and 2.0.1, over the
guarded intake of `intake.py` (malformed input is answered with the protocol's error), and the
session's side of the start-up sequence (a transaction start waits for its lease profile).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as _V16ChargePoint
from ocpp.v16 import call_result as v16_result
from ocpp.v201 import ChargePoint as _V201ChargePoint
from ocpp.v201 import call_result as v201_result
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from panelpilot.drivers.ocpp.intake import GuardedIntake, call_of
from panelpilot.drivers.ocpp.needs import answer_charging_needs
from panelpilot.drivers.ocpp.profiles import iso_utc
from panelpilot.drivers.ocpp.state import ChargePointState

Handler = TypeVar("Handler", bound=Callable[..., Any])
Clock = Callable[[], float]

# Transaction starts waiting for their lease profile at once on one connection; a charger
# sending more is answered in turn (its reads wait), so a flood cannot pile up tasks.
MAX_HELD_ANSWERS = 8


def handles(action: str) -> Callable[[Handler], Handler]:
    """The library's `@on(action)`, typed."""
    return cast(Callable[[Handler], Handler], on(action))


def handles_after(action: str) -> Callable[[Handler], Handler]:
    """The library's `@after(action)` (runs once the answer is sent), typed."""
    return cast(Callable[[Handler], Handler], after(action))


class CommitmentHooks(Protocol):
    """What the sessions ask of smart charging (`SmartCharging` implements it)."""

    def connection_ready(self, session: Any) -> None:
        """The charger may be spoken to on this connection."""
        ...

    async def wait_ready(self, charge_point_id: str, connector_id: int) -> None:
        """Return once the connector holds an acknowledged lease profile (bounded)."""
        ...


async def _answer_quietly(answer: Awaitable[None]) -> None:
    with contextlib.suppress(ConnectionClosed):  # the charger left while its answer waited
        await answer


class _Commitments:
    """Session side of the start-up sequence: say when the charger may be spoken to, and answer
    a transaction start in its own task, so it can wait for the lease profile's acknowledgement
    while the replies to our SetChargingProfile are still read."""

    id: str
    commitments: CommitmentHooks | None = None  # set by the central system
    _ready_signalled: bool
    _held: set[asyncio.Task[None]]

    def _setup_commitments(self) -> None:
        self._ready_signalled = False
        self._held = set()

    @property
    def ready_signalled(self) -> bool:
        """The charger booted (or spoke as booted) on this connection: it may be spoken to."""
        return self._ready_signalled

    def _holds(self, action: str, payload: dict[str, Any]) -> bool:
        raise NotImplementedError

    async def _route(
        self, route: Callable[[str | bytes], Awaitable[None]], raw_msg: str | bytes
    ) -> None:
        hooks = self.commitments
        if hooks is None:
            await route(raw_msg)
            return
        call = None
        if not self._ready_signalled or (isinstance(raw_msg, str) and "Transaction" in raw_msg):
            call = call_of(raw_msg)
        if call is not None and not self._ready_signalled and call[0] != "BootNotification":
            # It sends without booting on this connection: it counts itself accepted.
            self._signal_ready(hooks)
        if call is not None and self._holds(*call) and len(self._held) < MAX_HELD_ANSWERS:
            task = asyncio.create_task(_answer_quietly(route(raw_msg)))
            self._held.add(task)
            task.add_done_callback(self._held.discard)
            return
        await route(raw_msg)

    def _signal_ready(self, hooks: CommitmentHooks) -> None:
        if not self._ready_signalled:
            self._ready_signalled = True
            hooks.connection_ready(self)

    async def _wait_ready(self, connector_id: int) -> None:
        if self.commitments is not None:
            await self.commitments.wait_ready(self.id, connector_id)


class V16Session(GuardedIntake, _Commitments, _V16ChargePoint):  # type: ignore[misc]
    """A charge point speaking OCPP 1.6J."""

    def __init__(
        self,
        state: ChargePointState,
        connection: ServerConnection,
        clock: Clock,
        heartbeat_interval_s: int,
    ) -> None:
        super().__init__(state.charge_point_id, connection, response_timeout=3600)
        self._setup(state, clock, heartbeat_interval_s)
        self._setup_commitments()
        self._transaction_ids = itertools.count(1)

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Handle one frame; a StartTransaction is answered in its own task (it may wait)."""
        await self._route(super().route_message, raw_msg)

    def _holds(self, action: str, payload: dict[str, Any]) -> bool:
        return action == "StartTransaction"

    @handles("BootNotification")
    def on_boot(self, charge_point_vendor: str, charge_point_model: str, **extra: Any) -> Any:
        """Accept the boot; the heartbeat interval is how offline is detected."""
        self.state.vendor, self.state.model = charge_point_vendor, charge_point_model
        self.state.firmware = str(extra.get("firmware_version", ""))
        self.state.on_boot()
        return v16_result.BootNotification(
            current_time=iso_utc(self._clock()),
            interval=self.heartbeat_interval_s,
            status="Accepted",
        )

    @handles_after("BootNotification")
    def after_boot(self, **_: Any) -> None:
        """Accepted: now its profiles are installed (OCPP 1.6: not before the boot is)."""
        if self.commitments is not None:
            self._signal_ready(self.commitments)

    @handles("Heartbeat")
    def on_heartbeat(self) -> Any:
        """Liveness (recorded for every message)."""
        return v16_result.Heartbeat(current_time=iso_utc(self._clock()))

    @handles("StatusNotification")
    def on_status(self, connector_id: int, error_code: str, status: str, **_: Any) -> Any:
        """Connector status: is a car plugged in."""
        self.state.set_status(connector_id, status)
        return v16_result.StatusNotification()

    @handles("MeterValues")
    def on_meter_values(
        self, connector_id: int, meter_value: list[Any], transaction_id: int | None = None, **_: Any
    ) -> Any:
        """Measured current; the transaction it names (one running across a reconnection)."""
        self.state.set_current(connector_id, meter_value)
        if transaction_id is not None and connector_id != 0:
            self.state.connector(connector_id).transaction_id = str(transaction_id)
        return v16_result.MeterValues()

    @handles("StartTransaction")
    async def on_start(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> Any:
        """A session starts once the connector holds our lease profile (bounded wait); every
        id tag is accepted (authorisation is not panelpilot's job)."""
        connector = self.state.connector(connector_id)
        connector.connected, connector.id_tag = True, id_tag[:36]
        await self._wait_ready(connector_id)
        transaction_id = next(self._transaction_ids)
        connector.transaction_id = str(transaction_id)
        return v16_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": "Accepted"}
        )

    @handles("StopTransaction")
    def on_stop(self, meter_stop: int, timestamp: str, transaction_id: int, **_: Any) -> Any:
        """A session ends."""
        for connector in self.state.connectors.values():
            if connector.transaction_id == str(transaction_id):
                connector.transaction_id, connector.current_a = None, 0.0
        return v16_result.StopTransaction()


class V201Session(GuardedIntake, _Commitments, _V201ChargePoint):  # type: ignore[misc]
    """A charging station speaking OCPP 2.0.1."""

    def __init__(
        self,
        state: ChargePointState,
        connection: ServerConnection,
        clock: Clock,
        heartbeat_interval_s: int,
    ) -> None:
        super().__init__(state.charge_point_id, connection, response_timeout=3600)
        self._setup(state, clock, heartbeat_interval_s)
        self._setup_commitments()

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Handle one frame; a TransactionEvent Started is answered in its own task (it may
        wait)."""
        await self._route(super().route_message, raw_msg)

    def _holds(self, action: str, payload: dict[str, Any]) -> bool:
        return action == "TransactionEvent" and payload.get("eventType") == "Started"

    @handles("BootNotification")
    def on_boot(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        """Accept the boot; the heartbeat interval is how offline is detected."""
        self.state.vendor = str(charging_station.get("vendor_name", ""))
        self.state.model = str(charging_station.get("model", ""))
        self.state.firmware = str(charging_station.get("firmware_version", ""))
        self.state.on_boot()
        return v201_result.BootNotification(
            current_time=iso_utc(self._clock()),
            interval=self.heartbeat_interval_s,
            status="Accepted",
        )

    @handles_after("BootNotification")
    def after_boot(self, **_: Any) -> None:
        """Accepted: now its profiles are installed."""
        if self.commitments is not None:
            self._signal_ready(self.commitments)

    @handles("Heartbeat")
    def on_heartbeat(self, **_: Any) -> Any:
        """Liveness (recorded for every message)."""
        return v201_result.Heartbeat(current_time=iso_utc(self._clock()))

    @handles("StatusNotification")
    def on_status(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **_: Any
    ) -> Any:
        """EVSE status: Occupied means a car is plugged in."""
        self.state.set_status(evse_id, connector_status)
        return v201_result.StatusNotification()

    @handles("MeterValues")
    def on_meter_values(self, evse_id: int, meter_value: list[Any], **_: Any) -> Any:
        """Measured current."""
        self.state.set_current(evse_id, meter_value)
        return v201_result.MeterValues()

    @handles("TransactionEvent")
    async def on_transaction(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        **extra: Any,
    ) -> Any:
        """Started/Updated/Ended: the 2.0.1 form of Start/StopTransaction and MeterValues.

        The answer to Started waits until the EVSE holds our lease profile (bounded); the
        station knows its transaction id already, so a TxProfile may name it meanwhile."""
        evse = extra.get("evse")
        evse_id = (
            int(evse.get("id", 1)) if isinstance(evse, dict) else self._evse_of(transaction_info)
        )
        connector = self.state.connector(evse_id)
        if event_type == "Ended":
            connector.transaction_id, connector.current_a, connector.ev_need = None, 0.0, None
        else:
            connector.transaction_id = str(transaction_info.get("transaction_id", ""))
            connector.connected = True
            token = extra.get("id_token")
            if isinstance(token, dict) and token.get("id_token"):
                connector.id_tag = str(token["id_token"])[:36]
            self.state.set_current(evse_id, extra.get("meter_value") or ())
            if event_type == "Started":
                await self._wait_ready(evse_id)
        return v201_result.TransactionEvent()

    @handles("NotifyEVChargingNeeds")
    def on_charging_needs(self, charging_needs: dict[str, Any], evse_id: int, **_: Any) -> Any:
        """ISO 15118 departure and energy for the EVSE's session (`needs.py`)."""
        need, answer = answer_charging_needs(self.id, evse_id, charging_needs, self._clock())
        if need is not None:
            self.state.connector(evse_id).ev_need = need
        return answer

    def _evse_of(self, transaction_info: dict[str, Any]) -> int:
        wanted = str(transaction_info.get("transaction_id", ""))
        for evse_id, connector in self.state.connectors.items():
            if connector.transaction_id == wanted:
                return evse_id
        return 1
