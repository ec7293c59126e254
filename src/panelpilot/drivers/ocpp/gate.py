"""The central system's door: security profile 1 at the HTTP upgrade, and its limits.

Chargers connect to `ws://HOST:PORT/ocpp/<charge-point-id>` with HTTP Basic Auth (user = charge
point id). Unknown ids and wrong passwords get HTTP 401; an address that keeps failing, or has
too many checks in flight, gets 429; a full server gets 503; a charger that verified recently
is let in without an Argon2 check. The bookkeeping (backoff, the cache of verified credentials)
is `handshake.py`, the fair sharing of Argon2 turns `checks.py`; this module does the I/O.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from urllib.parse import unquote

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from panelpilot.drivers.base import DriverError
from panelpilot.drivers.ocpp.checks import CheckDropped, FairChecks
from panelpilot.drivers.ocpp.credentials import CHARGE_POINT_ID, CredentialStore
from panelpilot.drivers.ocpp.handshake import (
    Clock,
    HandshakePolicy,
    HandshakeThrottle,
    VerifiedCredentials,
    client_key,
)

LOG = logging.getLogger(__name__)
PATH_PREFIX = "/ocpp/"


class Gate:
    """Decides, at each handshake, whether a charge point is let in (None) or what it is told.

    `open()` makes the two small thread pools it checks passwords in (the Argon2 checks, and
    the stored-hash look-ups of recently verified chargers), `close()` ends them.
    """

    def __init__(
        self,
        credentials: CredentialStore,
        policy: HandshakePolicy,
        monotonic: Clock,
        *,
        max_connections: int,
        max_concurrent_handshakes: int,
    ) -> None:
        self._credentials = credentials
        self._throttle = HandshakeThrottle(policy, monotonic)
        self._verified = VerifiedCredentials(policy.cache_ttl_s, monotonic)
        self._max_connections = max_connections
        self._max_checks = max_concurrent_handshakes
        self._checks: set[asyncio.Task[bool | None]] = set()
        self._auth_pool: FairChecks | None = None
        self._lookup_pool: ThreadPoolExecutor | None = None

    def open(self) -> None:
        """Make the pools (the central system is about to listen)."""
        # Password checks get their own small pool, its turns shared round-robin by address:
        # a flood of handshakes then costs at most two Argon2 computations at a time, never
        # delays message validation (the loop's default executor), and never makes a charger
        # elsewhere wait behind it. A recently verified charger's stored hash is read in
        # another pool, so it never queues behind Argon2 (nor blocks the loop on SQLite).
        self._auth_pool = FairChecks(2, self._max_checks, thread_name_prefix="ocpp-auth")
        self._lookup_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ocpp-lookup")

    def close(self) -> None:
        """End the pools."""
        if self._auth_pool is not None:
            self._auth_pool.shutdown()
        if self._lookup_pool is not None:
            self._lookup_pool.shutdown(wait=False, cancel_futures=True)
        self._auth_pool = self._lookup_pool = None

    async def admit(
        self, connection: ServerConnection, request: Request, connected: Collection[str]
    ) -> Response | None:
        """Security profile 1 at the HTTP upgrade: path, Basic Auth, per-address limits.

        `connected` holds the ids with a session now (and its size is the server's load).
        """
        charge_point_id = charge_point_id_of(request.path)
        if charge_point_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "use /ocpp/<charge-point-id>\n")
        auth_pool, lookup_pool = self._auth_pool, self._lookup_pool
        load = len(connected)
        full = load >= self._max_connections and charge_point_id not in connected
        if auth_pool is None or lookup_pool is None or full:
            LOG.warning("%s: refused, server busy (%d chargers)", charge_point_id, load)
            return _busy(connection, HTTPStatus.SERVICE_UNAVAILABLE, 1.0)
        user, password = _basic_auth(request.headers)
        if user is None or password is None:  # the challenge a client answers with credentials
            return _unauthorized(connection)
        address = client_key(connection.remote_address)
        if user == charge_point_id:
            recent = await self._recently_verified(connection, lookup_pool, user, password)
            if isinstance(recent, Response):
                return recent
            if recent:
                self._throttle.success(address)
                LOG.info("%s: verified recently, let in from %s", user, address)
                return None
        return await self._check_password(
            connection, auth_pool, address, charge_point_id, user, password
        )

    async def _recently_verified(
        self,
        connection: ServerConnection,
        lookup_pool: ThreadPoolExecutor,
        charge_point_id: str,
        password: str,
    ) -> Response | bool:
        """True: verified within the cache's time, its stored hash unchanged (let in); False:
        not known to be (checked in full); a Response: the database cannot be read."""
        verified_hash = self._verified.candidate(charge_point_id, password)
        if not verified_hash:
            return False
        loop = asyncio.get_running_loop()
        try:
            stored = await loop.run_in_executor(
                lookup_pool, self._credentials.password_hash, charge_point_id
            )
        except Exception as exc:  # the database cannot be read: nobody can be checked
            LOG.error("%s: cannot read the stored password: %s", charge_point_id, exc)
            return _busy(connection, HTTPStatus.SERVICE_UNAVAILABLE, 5.0)
        if stored == verified_hash:
            return True
        self._verified.forget(charge_point_id)  # its password was replaced or removed
        return False

    async def _check_password(
        self,
        connection: ServerConnection,
        pool: FairChecks,
        address: str,
        charge_point_id: str,
        user: str,
        password: str,
    ) -> Response | None:
        """An Argon2 check in the address's turn, unless it is backing off; the answer."""
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
        check = asyncio.create_task(self._check(pool, address, user, password))
        self._checks.add(check)
        check.add_done_callback(self._check_done)
        try:
            ok = await asyncio.shield(check)
        except DriverError as exc:
            LOG.error("%s: %s", user, exc.message)
            return _busy(connection, HTTPStatus.SERVICE_UNAVAILABLE, 5.0)
        except CheckDropped:
            LOG.warning(
                "%s: refused from %s, %d password checks already waiting",
                user,
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


def charge_point_id_of(path: str) -> str | None:
    """The charge point id in a connection's path, or None when it names none."""
    if not path.startswith(PATH_PREFIX):
        return None
    candidate = unquote(path[len(PATH_PREFIX) :].split("?", 1)[0])
    return candidate if CHARGE_POINT_ID.fullmatch(candidate) else None


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
