"""The OCPP central system: a websocket server chargers dial in to, with security profile 1.

Chargers connect to `ws://HOST:PORT/ocpp/<charge-point-id>` offering subprotocol `ocpp1.6`
or `ocpp2.0.1`, with HTTP Basic Auth (user = charge point id). Unknown ids and wrong
passwords get HTTP 401 at the handshake; an address that keeps failing, or has too many
checks in flight, gets 429; a full server gets 503; a charger that verified recently is let in
without an Argon2 check (`handshake.py`). Frames over `max_frame_bytes` close the socket
(1009). Nothing a peer sends stops the server.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from types import TracebackType
from urllib.parse import unquote

from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from panelpilot.control.types import Alert, ChargerDecision, ChargerReading
from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp.checks import CheckDropped, FairChecks
from panelpilot.drivers.ocpp.credentials import CHARGE_POINT_ID, CredentialStore
from panelpilot.drivers.ocpp.handshake import (
    HandshakePolicy,
    HandshakeThrottle,
    VerifiedCredentials,
    client_key,
)
from panelpilot.drivers.ocpp.profiles import Version
from panelpilot.drivers.ocpp.session import V16Session, V201Session
from panelpilot.drivers.ocpp.smart_charging import SmartCharging
from panelpilot.drivers.ocpp.state import ChargePointState

LOG = logging.getLogger(__name__)
Clock = Callable[[], float]
PATH_PREFIX = "/ocpp/"
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
        self._credentials = credentials
        self._host, self._port = host, port
        self.clock = clock
        self.heartbeat_interval_s = heartbeat_interval_s
        self.response_timeout_s = response_timeout_s
        self._max_connections = max_connections
        self._max_frame_bytes = max_frame_bytes
        self._max_checks = max_concurrent_handshakes
        policy = handshake_policy or HandshakePolicy()
        self._throttle = HandshakeThrottle(policy, monotonic)
        self._verified = VerifiedCredentials(policy.cache_ttl_s, monotonic)
        self._checks: set[asyncio.Task[bool | None]] = set()
        # Password checks get their own small pool, its turns shared round-robin by address:
        # a flood of handshakes then costs at most two Argon2 computations at a time, never
        # delays message validation (the loop's default executor), and never makes a charger
        # elsewhere wait behind it. A recently verified charger's stored hash is read in
        # another pool, so it never queues behind Argon2 (nor blocks the loop on SQLite).
        self._auth_pool: FairChecks | None = None
        self._lookup_pool: ThreadPoolExecutor | None = None
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
        self._auth_pool = FairChecks(2, self._max_checks, thread_name_prefix="ocpp-auth")
        self._lookup_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ocpp-lookup")
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
            self._shutdown_pools()
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
        self._shutdown_pools()

    def _shutdown_pools(self) -> None:
        if self._auth_pool is not None:
            self._auth_pool.shutdown()
        if self._lookup_pool is not None:
            self._lookup_pool.shutdown(wait=False, cancel_futures=True)
        self._auth_pool = self._lookup_pool = None

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
        """Security profile 1 at the HTTP upgrade: path, Basic Auth, per-address limits."""
        charge_point_id = _charge_point_id(request.path)
        if charge_point_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "use /ocpp/<charge-point-id>\n")
        auth_pool, lookup_pool = self._auth_pool, self._lookup_pool
        full = len(self._sessions) >= self._max_connections
        if (
            auth_pool is None
            or lookup_pool is None
            or (full and charge_point_id not in self._sessions)
        ):
            LOG.warning(
                "%s: refused, server busy (%d chargers)", charge_point_id, len(self._sessions)
            )
            return _busy(connection, HTTPStatus.SERVICE_UNAVAILABLE, 1.0)
        user, password = _basic_auth(request.headers)
        if user is None or password is None:  # the challenge a client answers with credentials
            return _unauthorized(connection)
        address = client_key(connection.remote_address)
        loop = asyncio.get_running_loop()
        if user == charge_point_id and (
            verified_hash := self._verified.candidate(charge_point_id, password)
        ):
            try:
                stored = await loop.run_in_executor(
                    lookup_pool, self._credentials.password_hash, charge_point_id
                )
            except Exception as exc:  # the database cannot be read: nobody can be checked
                LOG.error("%s: cannot read the stored password: %s", charge_point_id, exc)
                return _busy(connection, HTTPStatus.SERVICE_UNAVAILABLE, 5.0)
            if stored == verified_hash:
                self._throttle.success(address)
                LOG.info("%s: verified recently, let in from %s", charge_point_id, address)
                return None
            self._verified.forget(charge_point_id)  # its password was replaced or removed
        wait_s = self._throttle.wait_s(address)
        if wait_s is not None:
            LOG.debug("%s: refused, %s backs off %.1f s", charge_point_id, address, wait_s)
            return _busy(connection, HTTPStatus.TOO_MANY_REQUESTS, wait_s)
        if user != charge_point_id:
            backoff_s = self._throttle.failure(address)
            _log_failure(charge_point_id, address, backoff_s, "user name is not the id")
            return _unauthorized(connection)
        # Booked before the check is scheduled, so the next handshake from the address sees it.
        # The check runs to its end even if the client hangs up, so hanging up early neither
        # dodges the backoff nor leaks a slot.
        self._throttle.begin(address)
        check = asyncio.create_task(self._check(auth_pool, address, charge_point_id, password))
        self._checks.add(check)
        check.add_done_callback(self._check_done)
        try:
            ok = await asyncio.shield(check)
        except DriverError as exc:
            LOG.error("%s: %s", charge_point_id, exc.message)
            return _busy(connection, HTTPStatus.SERVICE_UNAVAILABLE, 5.0)
        except CheckDropped:
            LOG.warning(
                "%s: refused from %s, %d password checks already waiting",
                charge_point_id,
                address,
                self._max_checks,
            )
            return _busy(connection, HTTPStatus.SERVICE_UNAVAILABLE, 1.0)
        if ok is None:  # the address started backing off while this check waited its turn
            backoff_s = self._throttle.backoff_s(address) or 1.0
            return _busy(connection, HTTPStatus.TOO_MANY_REQUESTS, backoff_s)
        return None if ok else _unauthorized(connection)

    def _check_done(self, check: asyncio.Task[bool | None]) -> None:
        self._checks.discard(check)
        if not check.cancelled():
            check.exception()  # seen here when the client hung up before its answer

    async def _check(
        self, pool: FairChecks, address: str, charge_point_id: str, password: str
    ) -> bool | None:
        """One Argon2 check in the bounded pool once the address's turn comes, its outcome
        booked for the address (which `begin` was called for). None: not checked, because
        the address is backing off by then. Raises CheckDropped when there is no room."""
        verdict: bool | None = None
        stored: str | None = None
        try:
            async with pool.turn(address):
                if self._throttle.backoff_s(address) is not None:
                    return None
                stored, verdict = await pool.execute(
                    self._credentials.check, charge_point_id, password
                )
        except (asyncio.CancelledError, CheckDropped):  # stopping, or no room to wait
            raise
        except Exception as exc:  # the database cannot be read: no verdict, nobody blamed
            raise DriverError(charge_point_id, f"cannot check the password: {exc}") from None
        finally:
            backoff_s = self._throttle.end(address, ok=verdict)
        if verdict and stored is not None:
            self._verified.remember(charge_point_id, password, stored)
            LOG.info("%s: password verified, from %s", charge_point_id, address)
        else:
            _log_failure(charge_point_id, address, backoff_s, "unknown id or wrong password")
        return verdict

    async def _serve(self, connection: ServerConnection) -> None:
        charge_point_id = _charge_point_id(connection.request.path if connection.request else "")
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


def _unauthorized(connection: ServerConnection) -> Response:
    response = connection.respond(
        HTTPStatus.UNAUTHORIZED, "unknown charge point or wrong password\n"
    )
    response.headers["WWW-Authenticate"] = 'Basic realm="panelpilot OCPP"'
    return response


def _busy(connection: ServerConnection, status: HTTPStatus, retry_after_s: float) -> Response:
    response = connection.respond(status, "busy, retry later\n")
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    return response


def _log_failure(charge_point_id: str, address: str, backoff_s: float, why: str) -> None:
    if backoff_s > 0:
        LOG.warning(
            "%s: refused from %s, %s; that address backs off %g s",
            charge_point_id,
            address,
            why,
            backoff_s,
        )
    else:
        LOG.warning("%s: refused from %s, %s", charge_point_id, address, why)


def _charge_point_id(path: str) -> str | None:
    if not path.startswith(PATH_PREFIX):
        return None
    candidate = unquote(path[len(PATH_PREFIX) :].split("?", 1)[0])
    return candidate if CHARGE_POINT_ID.fullmatch(candidate) else None


def _basic_auth(headers: Headers) -> tuple[str | None, str | None]:
    value = headers.get("Authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)
