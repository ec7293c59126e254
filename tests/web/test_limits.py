"""Bounded bodies, requests in flight, streams and password hashing (web/limits.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from panelpilot.web.limits import HASH_NICENESS, Busy, HashGate, RequestLimits
from panelpilot.web.options import WebOptions
from tests.web.helpers import csrf_of
from tests.web.live_server import LiveServer, live_service

LIMIT = 64 * 1024
CHUNK = 16 * 1024
BLOCK_S = 60.0  # a safety net: a blocked check gives up after this, the test has failed then


class _Echo:
    """An ASGI app that reads its body and answers its length; it may wait on `gate`."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.gate = gate
        self.inside = 0
        self.entered = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            self.inside += 1
            self.entered.set()
            await send({"type": "websocket.accept"})
            assert self.gate is not None
            await self.gate.wait()
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.inside += 1
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


def _scope(headers: list[tuple[bytes, bytes]] | None = None, kind: str = "http") -> dict[str, Any]:
    return {"type": kind, "method": "POST", "path": "/", "headers": headers or []}


async def _call(app: Any, scope: dict[str, Any], receive: Any) -> tuple[int, list[Any]]:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0].get("status", 0), sent


def test_a_declared_body_over_the_limit_is_refused_without_reading_it() -> None:
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    limits = RequestLimits(_Echo())
    big = [(b"content-length", str(800 * 1024 * 1024).encode())]
    status, _ = asyncio.run(_call(limits, _scope(big), receive))
    assert (status, reads) == (413, 0)
    bad = [(b"content-length", b"12, 12")]
    assert asyncio.run(_call(limits, _scope(bad), receive))[0] == 413


def test_a_streamed_body_is_refused_once_it_passes_the_limit() -> None:
    reads = 0

    async def endless() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    status, _ = asyncio.run(_call(RequestLimits(_Echo()), _scope(), endless))
    assert status == 413
    assert reads == LIMIT // CHUNK + 1  # not one chunk more than needed to know


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    chunks = [b"a" * CHUNK] * 3 + [b"b" * 10]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    status, sent = asyncio.run(_call(RequestLimits(_Echo()), _scope(), receive))
    assert (status, sent[1]["body"]) == (200, str(3 * CHUNK + 10).encode())


def test_a_body_that_never_arrives_is_answered_408() -> None:
    async def never() -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError

    limits = RequestLimits(_Echo(), body_timeout_s=0.01)
    assert asyncio.run(_call(limits, _scope(), never))[0] == 408


def test_requests_over_the_bound_get_503_at_once_not_a_queue() -> None:
    async def scenario() -> tuple[list[int], int]:
        gate = asyncio.Event()
        echo = _Echo(gate)
        limits = RequestLimits(echo, max_in_flight=3)

        async def empty() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        held = [asyncio.create_task(_call(limits, _scope(), empty)) for _ in range(3)]
        while echo.inside < 3:
            echo.entered.clear()
            await echo.entered.wait()
        # Answered while the three are still held: nothing waits for a slot.
        refused, sent = await _call(limits, _scope(), empty)
        headers = dict(sent[0]["headers"])
        gate.set()
        statuses = [status for status, _ in await asyncio.gather(*held)]
        after, _ = await _call(limits, _scope(), empty)
        assert headers[b"retry-after"] == b"1"
        return [*statuses, after], refused

    held, refused = asyncio.run(scenario())
    assert refused == 503
    assert held == [200, 200, 200, 200]


def test_one_client_cannot_hold_every_slot() -> None:
    async def scenario() -> tuple[int, int, int, int]:
        gate = asyncio.Event()
        echo = _Echo(gate)
        limits = RequestLimits(echo, max_in_flight=10, max_in_flight_per_client=2)

        async def empty() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        def scope(address: str, forwarded: str | None = None) -> dict[str, Any]:
            headers = [] if forwarded is None else [(b"x-forwarded-for", forwarded.encode())]
            return {**_scope(headers), "client": (address, 5000)}

        held = [asyncio.create_task(_call(limits, scope("10.0.0.1"), empty)) for _ in range(2)]
        while echo.inside < 2:
            echo.entered.clear()
            await echo.entered.wait()
        same, _ = await _call(limits, scope("10.0.0.1"), empty)
        # Behind a proxy every request comes from the proxy: the client is its report.
        behind = RequestLimits(echo, max_in_flight_per_client=1, behind_proxy=True)
        proxied = asyncio.create_task(_call(behind, scope("127.0.0.1", "10.0.0.3"), empty))
        while echo.inside < 3:
            echo.entered.clear()
            await echo.entered.wait()
        assert behind.by_client == {"10.0.0.3": 1}  # not the proxy's 127.0.0.1
        again, _ = await _call(behind, scope("127.0.0.1", "10.0.0.3"), empty)
        gate.set()  # the others pass straight through now
        other, _ = await _call(limits, scope("10.0.0.2"), empty)
        another, _ = await _call(behind, scope("127.0.0.1", "10.0.0.4"), empty)
        await asyncio.gather(*held, proxied)
        return same, other, again, another

    assert asyncio.run(scenario()) == (503, 200, 503, 200)


def test_streams_over_the_bound_are_closed_with_try_again_later() -> None:
    async def scenario() -> list[Any]:
        gate = asyncio.Event()
        echo = _Echo(gate)
        limits = RequestLimits(echo, max_streams=2)

        async def connect() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        held = [
            asyncio.create_task(_call(limits, _scope(kind="websocket"), connect)) for _ in range(2)
        ]
        while echo.inside < 2:
            echo.entered.clear()
            await echo.entered.wait()
        _, sent = await _call(limits, _scope(kind="websocket"), connect)
        gate.set()
        await asyncio.gather(*held)
        return sent

    sent = asyncio.run(scenario())
    assert sent == [{"type": "websocket.close", "code": 1013, "reason": "too many streams"}]


# -- the password checks -----------------------------------------------------------------


class _Blocked:
    """A password check that waits until released, counting how many run at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.started = threading.Semaphore(0)

    def __call__(self) -> str:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.started.release()
        self.release.wait(BLOCK_S)
        with self.lock:
            self.running -= 1
        return "checked"


def test_password_checks_are_bounded_overall_and_per_client() -> None:
    async def scenario(check: _Blocked) -> tuple[list[str], list[str], list[str]]:
        gate = HashGate(workers=2, queue=3, per_client=2)
        admitted = [asyncio.ensure_future(gate.run(f"10.0.0.{i // 2}", check)) for i in range(4)]
        refusals = []
        try:
            await gate.run("10.0.0.0", check)  # a third from one address
        except Busy as exc:
            refusals.append(str(exc))
        admitted.append(asyncio.ensure_future(gate.run("10.0.0.9", check)))
        try:
            await gate.run("10.0.0.10", check)  # the sixth overall
        except Busy as exc:
            refusals.append(str(exc))
        check.release.set()
        results = await asyncio.gather(*admitted)
        again = [await gate.run("10.0.0.0", check)]  # slots come back
        gate.close()
        return results, refusals, again

    check = _Blocked()
    results, refusals, again = asyncio.run(scenario(check))
    assert results == ["checked"] * 5 and again == ["checked"]
    assert "still being checked" in refusals[0] and "too many sign-ins" in refusals[1]
    assert check.most == 2  # two threads: two Argon2 checks in memory at most


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(live_service(tmp_path), WebOptions(hash_workers=2, hash_queue=6)).start()
    yield live
    live.stop()


def _raw_post(port: int, head: str, body: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = conn.recv(4096)
            if not data:
                break
            answer += data
    return answer


def test_a_huge_body_without_credentials_is_refused_over_a_real_socket(server: LiveServer) -> None:
    head = (
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {800 * 1024 * 1024}\r\n\r\n"
    )
    assert _raw_post(server.port, head, b"n" * 4096).startswith(b"HTTP/1.1 413")
    chunked = (
        "POST /api/settings/pcs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/json\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (CHUNK, b" " * CHUNK)
    assert _raw_post(server.port, chunked, chunk * 6).startswith(b"HTTP/1.1 413")
    assert httpx.get(f"{server.url}/metrics").status_code == 200  # still serving


def test_forty_concurrent_sign_ins_take_few_threads_and_stall_nothing(server: LiveServer) -> None:
    service = server.service
    check = _Blocked()
    real = service.accounts.authenticate

    def blocked(name: str, password: str) -> Any:
        check()
        return real(name, password)

    service.accounts.authenticate = blocked  # type: ignore[method-assign]

    async def scenario() -> tuple[list[int], int, list[int]]:
        clients = [
            httpx.AsyncClient(
                base_url=server.url,
                transport=httpx.AsyncHTTPTransport(local_address=f"127.0.0.{i + 2}"),
                timeout=BLOCK_S,
            )
            for i in range(40)
        ]
        try:
            forms = []
            for client in clients:
                page = await client.get("/login")
                forms.append({"name": "olive", "password": "wrong-one", "csrf": csrf_of(page.text)})
            posts = [
                asyncio.ensure_future(client.post("/login", data=form))
                for client, form in zip(clients, forms, strict=True)
            ]
            refused = []
            for done in asyncio.as_completed(posts):
                refused.append((await done).status_code)
                if len(refused) == 40 - 8:
                    break
            # Eight checks are admitted and held; everything else is answered meanwhile.
            metrics = await clients[0].get("/metrics")
            check.release.set()
            held = [(await p).status_code for p in posts]
            return refused, metrics.status_code, held
        finally:
            for client in clients:
                await client.aclose()

    refused, metrics_status, held = asyncio.run(scenario())
    assert refused == [503] * 32
    assert metrics_status == 200
    assert sorted(held) == [401] * 8 + [503] * 32
    assert check.most <= 2


def test_password_checks_run_at_a_lower_priority_than_the_event_loop() -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    async def scenario() -> int:
        gate = HashGate(workers=1)
        try:
            return await gate.run("10.0.0.1", niceness)
        finally:
            gate.close()

    assert asyncio.run(scenario()) == min(19, niceness() + HASH_NICENESS)


@given(st.lists(st.integers(0, 40_000), max_size=12), st.integers(1, 100_000))
def test_a_body_reaches_the_app_whole_exactly_when_it_fits(sizes: list[int], limit: int) -> None:
    chunks = [b"x" * n for n in sizes] or [b""]
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {
            "type": "http.request",
            "body": chunks[pulled - 1],
            "more_body": pulled < len(chunks),
        }

    status, sent = asyncio.run(
        _call(RequestLimits(_Echo(), max_body_bytes=limit), _scope(), receive)
    )
    total = sum(sizes)
    if total <= limit:
        assert (status, sent[1]["body"]) == (200, str(total).encode())
    else:
        assert status == 413
        # Stopped at the first chunk that passed the limit.
        assert sum(sizes[:pulled]) > limit and sum(sizes[: pulled - 1]) <= limit
