"""Message intake shared by both OCPP versions, server side: every frame a charge point sends
is read defensively, and anything malformed is answered with the protocol's error (CALLERROR)
and counted as a strike instead of failing the session; too many strikes close the socket.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
from collections.abc import Callable
from typing import Any

from ocpp.exceptions import OCPPError, ProtocolError
from ocpp.messages import Call, CallError
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from panelpilot.drivers.ocpp.frames import FrameError, error_answer, format_violation, parse_frame
from panelpilot.drivers.ocpp.identity import boot_identity, refused_boot
from panelpilot.drivers.ocpp.state import ChargePointState

LOG = logging.getLogger(__name__)
Clock = Callable[[], float]

# After this many malformed messages (unknown actions included) within STRIKE_WINDOW_S on one
# connection the socket is closed (1008). The window lets a real charger that sends the odd
# vendor message panelpilot does not handle stay connected; a peer sending garbage does not.
MAX_PROTOCOL_ERRORS = 10
STRIKE_WINDOW_S = 60.0
# OCPP-J: a message whose unique id cannot be read is answered with this id.
UNKNOWN_MESSAGE_ID = "-1"


class GuardedIntake:
    """Message intake shared by both versions: liveness, error answers, strike counting."""

    id: str
    state: ChargePointState
    _connection: ServerConnection
    _clock: Clock
    _ocpp_version: str
    _strikes: collections.deque[float]
    _pending_ids: set[str]
    _ids: itertools.count[int]
    heartbeat_interval_s: int

    async def route_message(self, raw_msg: str | bytes) -> None:  # overrides the library's
        """Handle one frame; never raises for anything the peer sent."""
        self.state.seen(self._clock())
        if isinstance(raw_msg, bytes):
            await self._reject(UNKNOWN_MESSAGE_ID, ProtocolError(details={"cause": "binary frame"}))
            return
        try:
            message = parse_frame(raw_msg)
        except FrameError as exc:
            await self._reject(UNKNOWN_MESSAGE_ID, format_violation(self._ocpp_version, str(exc)))
            return
        if not isinstance(message, list) or len(message) < 3 or not isinstance(message[1], str):
            await self._reject(
                UNKNOWN_MESSAGE_ID, ProtocolError(details={"cause": "not an OCPP-J frame"})
            )
            return
        kind, unique_id = message[0], message[1]
        if kind in (3, 4):
            if unique_id in self._pending_ids:
                await super().route_message(raw_msg)  # type: ignore[misc]
            else:  # a reply to nothing we asked: dropped (it would clog the reply queue)
                LOG.warning("%s: unsolicited reply %r dropped", self.id, unique_id[:40])
            return
        if (
            kind != 2
            or len(message) != 4
            or not isinstance(message[2], str)
            or not isinstance(message[3], dict)
        ):
            await self._reject(unique_id, ProtocolError(details={"cause": "malformed CALL"}))
            return
        action = message[2]
        try:
            # The library's own intake would parse the frame again and log a traceback for
            # every unknown action or schema violation; its dispatch is called directly so
            # those become one line and a strike here.
            await self._dispatch(Call(unique_id, action, message[3]))
        except OCPPError as error:  # unknown action, payload against the schema
            await self._reject(unique_id, error, action)
        except ConnectionClosed:
            raise
        except Exception:  # a handler bug must not end the session
            LOG.exception("%s: error handling %s", self.id, action[:40])
            await self._send(CallError(unique_id, "InternalError", "", {}).to_json())

    async def _dispatch(self, call: Call) -> None:
        """The library's dispatch; a BootNotification also records the charger's identity
        (`identity.py`), or why the schema refused it."""
        boot = call.action == "BootNotification"
        try:
            await self._handle_call(call)  # type: ignore[attr-defined]
        except OCPPError:
            if boot:
                self.state.identity_problem = refused_boot(
                    self.id, self._ocpp_version, call.payload
                )
            raise
        if boot:
            self.state.identity, self.state.identity_problem = boot_identity(
                self._ocpp_version, call.payload
            )
            if self.state.identity_problem is not None:
                LOG.warning("%s: %s; left out", self.id, self.state.identity_problem)

    async def _reject(self, unique_id: str, error: OCPPError, action: str = "") -> None:
        """Answer a CALLERROR and count a strike; too many within the window close the socket."""
        now = self._clock()
        self._strikes.append(now)
        while self._strikes and self._strikes[0] <= now - STRIKE_WINDOW_S:
            self._strikes.popleft()
        code, description, details = error_answer(self._ocpp_version, error)
        LOG.warning(
            "%s: malformed message%s (%d in %g s, %d close the connection): %s %s",
            self.id,
            f" {action[:40]!r}" if action else "",
            len(self._strikes),
            STRIKE_WINDOW_S,
            MAX_PROTOCOL_ERRORS,
            code,
            details.get("cause", ""),
        )
        await self._send(CallError(unique_id[:36], code, description, details).to_json())
        if len(self._strikes) >= MAX_PROTOCOL_ERRORS:
            await self._connection.close(1008, "too many malformed messages")

    async def _send(self, message: str) -> None:
        await self._connection.send(message)

    async def request(self, payload: Any, timeout_s: float) -> Any:
        """Send a CALL and return its result; raises OCPPError for a CALLERROR, TimeoutError,
        and TypeError for a reply whose fields do not match the action."""
        unique_id = str(next(self._ids))
        self._pending_ids.add(unique_id)
        try:
            # Our own requests are valid by construction, and a reply is read defensively by
            # the caller, so the per-message JSON-schema round trip is skipped here: at 500
            # chargers it was most of the time from a limit change to every acknowledgement.
            reply = super().call(  # type: ignore[misc]
                payload, suppress=False, unique_id=unique_id, skip_schema_validation=True
            )
            return await asyncio.wait_for(reply, timeout_s)
        finally:
            self._pending_ids.discard(unique_id)

    async def close(self, code: int, reason: str) -> None:
        """Close the websocket."""
        await self._connection.close(code, reason)

    async def serve(self) -> None:
        """Read frames until the socket closes."""
        async for raw in self._connection:
            await self.route_message(raw)

    def _setup(self, state: ChargePointState, clock: Clock, heartbeat_interval_s: int) -> None:
        self.state = state
        self._clock = clock
        self._strikes = collections.deque()
        self._pending_ids = set()
        self._ids = itertools.count(1)
        self.heartbeat_interval_s = heartbeat_interval_s


def call_of(raw_msg: str | bytes) -> tuple[str, dict[str, Any]] | None:
    """The action and payload of a well-formed CALL frame, else None (the guard answers it)."""
    if not isinstance(raw_msg, str):
        return None
    try:
        message = parse_frame(raw_msg)  # bounded depth and numbers, as the guard reads it
    except (FrameError, ValueError, RecursionError):
        return None
    if (
        isinstance(message, list)
        and len(message) == 4
        and message[0] == 2
        and isinstance(message[2], str)
        and isinstance(message[3], dict)
    ):
        return message[2], message[3]
    return None
