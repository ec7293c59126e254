"""Bounds on what the web may take: body sizes, requests in flight, streams, password hashing.

The service sits on a building's network day and night, and nothing a client sends may take
its memory or its event loop. `RequestLimits` is the outermost ASGI middleware:

* a body over `max_body_bytes` (64 KiB: forms and JSON are small) is answered 413 before more
  than that is read: at once when `Content-Length` says so, else when the streamed bytes pass
  the limit; a body that does not arrive within `body_timeout_s` is answered 408;
* more than `max_in_flight` requests at once, or `max_in_flight_per_client` from one client
  address (so one client sending slow bodies cannot hold every slot): 503 at once, never a
  queue;
* more than `max_streams` live streams: the WebSocket is closed with 1013 (try again later).

`HashGate` runs Argon2 (64 MiB and tens of milliseconds per check) on its own small thread pool,
with at most `workers + queue` checks admitted and `per_client` per client address; the rest
are refused at once (`Busy`), so a crowd of sign-ins cannot take the memory or the threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

MAX_BODY_BYTES = 64 * 1024
MAX_IN_FLIGHT = 64
MAX_IN_FLIGHT_PER_CLIENT = 16
MAX_STREAMS = 32
BODY_TIMEOUT_S = 10.0
HASH_NICENESS = 10  # Linux: priority is per thread, and threads started from it inherit it


class _BodyTooLarge(Exception):
    pass


async def _plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """ASGI middleware: bounded bodies, bounded requests in flight, bounded live streams."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_streams: int = MAX_STREAMS,
        body_timeout_s: float = BODY_TIMEOUT_S,
        max_in_flight_per_client: int = MAX_IN_FLIGHT_PER_CLIENT,
        behind_proxy: bool = False,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_in_flight = max_in_flight
        self.max_in_flight_per_client = max_in_flight_per_client
        self.max_streams = max_streams
        self.body_timeout_s = body_timeout_s
        self.behind_proxy = behind_proxy
        self.in_flight = 0
        self.by_client: dict[str, int] = {}
        self.streams = 0
        self.refused_busy = 0
        self.refused_too_large = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply the bounds, then hand the request on."""
        if scope["type"] == "websocket":
            await self._stream(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.streams >= self.max_streams:
            self.refused_busy += 1
            await send({"type": "websocket.close", "code": 1013, "reason": "too many streams"})
            return
        self.streams += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.streams -= 1

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = client_of_scope(scope, self.behind_proxy)
        if (
            self.in_flight >= self.max_in_flight
            or self.by_client.get(client, 0) >= self.max_in_flight_per_client
        ):
            self.refused_busy += 1
            await _plain(send, 503, "busy: too many requests at once; try again\n", [
                (b"retry-after", b"1"),
            ])  # fmt: skip
            return
        self.in_flight += 1
        self.by_client[client] = self.by_client.get(client, 0) + 1
        try:
            declared = _content_length(scope)
            if declared is None or declared > self.max_body_bytes:
                self.refused_too_large += 1
                await _plain(send, 413, self._too_large(declared), [])
                return
            try:
                async with asyncio.timeout(self.body_timeout_s):
                    body = await self._read_body(receive)
            except _BodyTooLarge:
                self.refused_too_large += 1
                await _plain(send, 413, self._too_large(-1), [])
                return
            except TimeoutError:
                await _plain(send, 408, "the request body did not arrive in time\n", [])
                return
            if body is None:
                return  # the client went away before its body arrived
            await self.app(scope, _replay(body, receive), send)
        finally:
            self.in_flight -= 1
            left = self.by_client[client] - 1
            if left:
                self.by_client[client] = left
            else:
                del self.by_client[client]

    def _too_large(self, declared: int | None) -> str:
        if declared is None:
            return "bad Content-Length header\n"
        return f"request body over {self.max_body_bytes} bytes\n"

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body (None if the client left), refused as soon as it passes the limit:
        nothing more is read."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def client_of_scope(scope: Scope, behind_proxy: bool) -> str:
    """The client's address: the peer, or behind the HTTPS proxy the last `X-Forwarded-For`
    entry (the one the proxy appended; earlier ones came from the client), or "proxy" for a
    request without one (not passed on by the proxy, so never loopback)."""
    if behind_proxy:
        forwarded: list[bytes] = [v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
        if forwarded:
            last: str = forwarded[-1].decode("latin-1").split(",")[-1].strip()
            return last[:64] or "unknown"
        return "proxy"
    peer = scope.get("client")
    return str(peer[0]) if peer else "unknown"


def _content_length(scope: Scope) -> int | None:
    """The declared body length (0 when none is declared), None when the header is not a
    number."""
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isdigit() or len(text) > 18:
                return None
            return int(text)
    return 0


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the buffered body once, then whatever the client sends next."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _lower_priority() -> None:
    """Run this thread (and the threads Argon2 starts for its lanes) at a lower priority, so
    a crowd of sign-ins leaves the CPU to the event loop and the control loop first."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


class Busy(Exception):
    """Too many password checks at once (overall or from this client); try again shortly."""


class HashGate:
    """Argon2 checks on a small thread pool, bounded overall and per client address."""

    def __init__(self, workers: int = 2, queue: int = 6, per_client: int = 2) -> None:
        self.capacity = workers + queue
        self.per_client = per_client
        self.executor = ThreadPoolExecutor(
            workers, thread_name_prefix="panelpilot-argon2", initializer=_lower_priority
        )
        self._lock = threading.Lock()
        self.admitted = 0
        self.by_client: dict[str, int] = {}

    def _admit(self, client: str) -> None:
        with self._lock:
            if self.admitted >= self.capacity:
                raise Busy("too many sign-ins at once; try again in a moment")
            if self.by_client.get(client, 0) >= self.per_client:
                raise Busy("a sign-in from here is still being checked; try again in a moment")
            self.admitted += 1
            self.by_client[client] = self.by_client.get(client, 0) + 1

    def _release(self, client: str) -> None:
        with self._lock:
            self.admitted -= 1
            left = self.by_client[client] - 1
            if left:
                self.by_client[client] = left
            else:
                del self.by_client[client]

    def run(self, client: str, check: Callable[[], T]) -> asyncio.Future[T]:
        """Run `check` on the pool for `client` (await the result); `Busy`, raised at once,
        when the bounds are reached."""
        self._admit(client)

        def job() -> T:
            # Released by the thread itself: a request given up on still holds its slot until
            # its check really ends, so the pool never has more work than it admitted.
            try:
                return check()
            finally:
                self._release(client)

        try:
            future = self.executor.submit(job)
        except RuntimeError:
            self._release(client)
            raise
        return asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the pool once its checks are done."""
        self.executor.shutdown(wait=False, cancel_futures=True)
