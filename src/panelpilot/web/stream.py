"""The live stream (`/api/stream`): every cycle to a signed-in user, until they sign out.

Each message is sent only while the session or token that opened the stream still works, so
a stream ends within a cycle when its session expires, its token is revoked or its user's
password changes (also when the change is made by `panelpilot` commands in another process).
Signing out in this service closes the session's streams at once, cycle or no cycle.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import WebSocket, WebSocketDisconnect

from panelpilot.web.auth import SESSION_COOKIE, bearer_token, service_of_connection

SIGNED_OUT = 4401
CROSS_ORIGIN = 4403


@dataclass(eq=False)
class _Open:
    loop: asyncio.AbstractEventLoop
    cookie: str | None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def close(self) -> None:
        # The sign-out may run on another event loop (the test client's): hand it over.
        self.loop.call_soon_threadsafe(self.closed.set)


class Streams:
    """The open streams, so that signing out closes the session's streams at once."""

    def __init__(self) -> None:
        self.open: set[_Open] = set()

    def end_session(self, cookie: str) -> int:
        """Close the streams of one session; returns how many."""
        ended = [s for s in self.open if s.cookie == cookie]
        for s in ended:
            s.close()
        return len(ended)


def _same_origin(origin: str | None, host: str | None) -> bool:
    """No Origin (not a browser) or an Origin naming this host."""
    if origin is None:
        return True
    return host is not None and urlsplit(origin).netloc == host


async def stream(websocket: WebSocket) -> None:
    """Every cycle's decision and readings as JSON, for a signed-in user."""
    service = service_of_connection(websocket)
    streams: Streams = websocket.app.state.streams
    token = websocket.query_params.get("token") or bearer_token(websocket)
    cookie = None if token is not None else websocket.cookies.get(SESSION_COOKIE)

    def allowed() -> bool:
        now = service.clock.wall_s()
        if token is not None:
            return service.accounts.token_user(token, now) is not None
        return cookie is not None and service.accounts.session(cookie, now) is not None

    if not allowed():
        await websocket.close(code=SIGNED_OUT, reason="sign in first")
        return
    if not _same_origin(websocket.headers.get("origin"), websocket.headers.get("host")):
        # A page on another site must not read the stream with this browser's cookie.
        await websocket.close(code=CROSS_ORIGIN, reason="cross-origin")
        return
    await websocket.accept()
    entry = _Open(asyncio.get_running_loop(), cookie)
    streams.open.add(entry)
    queue = service.hub.subscribe()
    try:
        if service.hub.latest is not None:
            await websocket.send_json(service.hub.latest)
        while True:
            get = asyncio.ensure_future(queue.get())
            ended = asyncio.ensure_future(entry.closed.wait())
            await asyncio.wait({get, ended}, return_when=asyncio.FIRST_COMPLETED)
            for task in (get, ended):
                task.cancel()
            if entry.closed.is_set() or not allowed():
                await websocket.close(code=SIGNED_OUT, reason="signed out")
                return
            await websocket.send_json(get.result())
    except WebSocketDisconnect:
        return
    finally:
        streams.open.discard(entry)
        service.hub.unsubscribe(queue)
