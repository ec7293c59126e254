"""The OCPP central system: a websocket server chargers dial in to, with security profile 1.

Chargers connect to `ws://HOST:PORT/ocpp/<charge-point-id>` offering subprotocol `ocpp1.6`
or `ocpp2.0.1`, with HTTP Basic Auth (user = charge point id), let in or refused at the
handshake by `gate.py`. Frames over `max_frame_bytes` close the socket (1009). Each connection
is a session (`session.py`); what the drivers ask goes to the charge point's state
(`state.py`) or to smart charging (`smart_charging.py`). Nothing a peer sends stops the server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from types import TracebackType

from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from panelpilot.control.types import Alert, ChargerDecision, ChargerReading
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp.credentials import CredentialStore
from panelpilot.drivers.ocpp.gate import PATH_PREFIX, Gate, charge_point_id_of
from panelpilot.drivers.ocpp.handshake import HandshakePolicy
from panelpilot.drivers.ocpp.profiles import Version
from panelpilot.drivers.ocpp.session import V16Session, V201Session
from panelpilot.drivers.ocpp.smart_charging import SmartCharging
from panelpilot.drivers.ocpp.state import ChargePointState

LOG = logging.getLogger(__name__)
Clock = Callable[[], float]
SUBPROTOCOLS: dict[str, Version] = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1"}


class ListenError(DriverError):
    """The central system cannot listen where it was told (port in use, no such address)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        self.host, self.port = host, port
        super().__init__("OCPP central system", f"cannot listen on {host}:{port}: {reason}")


class CentralSystem:
    """Accepts registered charge points and keeps their state; applies decisions to them."""

    def __init__(
        self,
        credentials: CredentialStore,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.time,
        heartbeat_interval_s: int = 60,
        response_timeout_s: float = 30.0,
        max_connections: int = 2000,
        max_frame_bytes: int = 64 * 1024,
        max_concurrent_handshakes: int = 64,
        handshake_policy: HandshakePolicy | None = None,
        monotonic: Clock = time.monotonic,
    ) -> None:
        """Configure; nothing listens until `start()`.

        `clock` is wall time in epoch seconds; `monotonic` times the handshake backoff and the
        cache of verified credentials. `max_concurrent_handshakes` bounds the Argon2 checks
        waiting for a thread, over all addresses.
        """
        self._host, self._port = host, port
        self.clock = clock
        self.heartbeat_interval_s = heartbeat_interval_s
        self.response_timeout_s = response_timeout_s
        self._max_frame_bytes = max_frame_bytes
        self._gate = Gate(
            credentials,
            handshake_policy or HandshakePolicy(),
            monotonic,
            max_connections=max_connections,
            max_concurrent_handshakes=max_concurrent_handshakes,
        )
        self._server: Server | None = None
        self._states: dict[str, ChargePointState] = {}
        self._sessions: dict[str, V16Session | V201Session] = {}
        self._changed = asyncio.Condition()  # notified when a charge point comes or goes
        self.smart_charging = SmartCharging(self)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen; `port` is known afterwards (port 0 picks a free one).

        Raises ListenError (one line naming the address and port) when it cannot.
        """
        self._gate.open()
        try:
            self._server = await serve(
                self._serve,
                self._host,
                self._port,
                subprotocols=list(SUBPROTOCOLS),  # type: ignore[arg-type]
                process_request=self._handshake,
                max_size=self._max_frame_bytes,
                # OCPP frames are small; per-connection deflate state would cost ~100 KiB of
                # memory per charger and CPU on every message for little gain.
                compression=None,
                open_timeout=10,
                ping_interval=20,
                ping_timeout=20,
            )
        except OSError as exc:  # in use, not an address of this machine, not allowed
            self._gate.close()
            raise ListenError(self._host, self._port, exc.strerror or str(exc)) from None
        self._port = (
            self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port
        )

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._gate.close()

    async def __aenter__(self) -> CentralSystem:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._port

    def url(self, charge_point_id: str) -> str:
        """Where a charge point connects."""
        return f"ws://{self._host}:{self._port}{PATH_PREFIX}{charge_point_id}"

    # -- what the drivers use -------------------------------------------------------------

    def state(self, charge_point_id: str) -> ChargePointState:
        """The state of a charge point (created empty for one never seen)."""
        return self._states.setdefault(charge_point_id, ChargePointState(charge_point_id))

    def session(self, charge_point_id: str) -> V16Session | V201Session | None:
        """The live session of a charge point, None while it is not connected."""
        session = self._sessions.get(charge_point_id)
        return session if session is not None and session.state.connected else None

    async def wait_connected(self, charge_point_id: str) -> None:
        """Return once the charge point is connected (no timeout: wrap it if needed)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.session(charge_point_id) is not None)

    async def wait_disconnected(self, charge_point_id: str) -> None:
        """Return once the charge point is not connected."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.session(charge_point_id) is None)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def reading(
        self,
        charge_point_id: str,
        connector_id: int,
        *,
        max_a: float,
        offline_after_s: float,
        clock_skew_s: float = 10.0,
    ) -> ChargerReading:
        """What one connector reports now."""
        return self.state(charge_point_id).reading(
            connector_id,
            t=self.clock(),
            offline_after_s=offline_after_s,
            max_a=max_a,
            clock_skew_s=clock_skew_s,
        )

    async def apply(
        self, charge_point_id: str, connector_id: int, max_a: float, decision: ChargerDecision
    ) -> None:
        """Send the profiles of the decision's commitment when it changed (SmartCharging)."""
        await self.smart_charging.apply(charge_point_id, connector_id, max_a, decision)

    async def composite_schedule(
        self, charge_point_id: str, connector_id: int, duration_s: int = 3600
    ) -> list[tuple[int, float]]:
        """Ask the charger what it will obey (GetCompositeSchedule): (start_s, limit_a) periods."""
        session = self.require_session(charge_point_id)
        if session.state.version == "1.6":
            request = v16_call.GetCompositeSchedule(connector_id, duration_s, "A")
        else:
            request = v201_call.GetCompositeSchedule(duration_s, connector_id, "A")
        try:
            result = await session.request(request, self.response_timeout_s)
            raw = result.charging_schedule if session.state.version == "1.6" else result.schedule
            if result.status != "Accepted" or not isinstance(raw, dict):
                raise ValueError(f"status {result.status}")
            return [
                (int(p["start_period"]), float(p["limit"]))
                for p in raw.get("charging_schedule_period", [])
            ]
        except Exception as exc:  # whatever the charger answered, it is not a schedule
            raise DriverError(charge_point_id, f"GetCompositeSchedule: {exc!r}") from None

    def alerts(self) -> tuple[Alert, ...]:
        """Alerts about chargers that refuse or misreport smart charging."""
        return self.smart_charging.alerts()

    def require_session(self, charge_point_id: str) -> V16Session | V201Session:
        """The live session, or DriverError naming the charger."""
        session = self.session(charge_point_id)
        if session is None:
            raise DriverError(charge_point_id, "not connected to the OCPP central system")
        return session

    # -- the socket edge ------------------------------------------------------------------

    async def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        """Let the charge point in (None) or refuse it: the gate decides."""
        return await self._gate.admit(connection, request, self._sessions)

    async def _serve(self, connection: ServerConnection) -> None:
        charge_point_id = charge_point_id_of(connection.request.path if connection.request else "")
        version = SUBPROTOCOLS.get(connection.subprotocol or "")
        if charge_point_id is None or version is None:
            await connection.close(1002, "no OCPP subprotocol")
            return
        previous = self._sessions.get(charge_point_id)
        if previous is not None:  # the newest connection of an identity wins
            await previous.close(1000, "replaced by a new connection")
        state = self.state(charge_point_id)
        state.on_disconnect()
        state.version, state.connected = version, True
        state.seen(self.clock())
        cls = V16Session if version == "1.6" else V201Session
        session = cls(state, connection, self.clock, self.heartbeat_interval_s)
        session.commitments = self.smart_charging  # the start-up sequence and held answers
        self._sessions[charge_point_id] = session
        LOG.info("%s: connected (OCPP %s)", charge_point_id, version)
        await self._notify()
        try:
            await session.serve()
        except ConnectionClosed:
            pass
        except Exception:  # never let one charger's failure reach the server
            LOG.exception("%s: session failed", charge_point_id)
        finally:
            if self._sessions.get(charge_point_id) is session:
                del self._sessions[charge_point_id]
                state.on_disconnect()
            LOG.info("%s: disconnected", charge_point_id)
            await self._notify()
