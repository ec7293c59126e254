"""A test's own MQTT subscriber (a real aiomqtt client on a thread): every message it receives,
and a way to wait for one. It reconnects when the broker restarts."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

import aiomqtt

DEADLINE_S = 30.0
MARKER = "tests/subscriber/synced"
RECONNECT_S = 0.05  # between connection attempts while the broker is away (polling)


@dataclass(frozen=True)
class Received:
    """One message as it arrived."""

    topic: str
    payload: str
    retain: bool
    session: int  # which of the subscriber's connections received it


class Subscriber:
    """Subscribes to `topics` on the broker at port and keeps everything it receives."""

    def __init__(self, port: int, topics: tuple[str, ...] = ("#",)) -> None:
        self.port = port
        self.topics = topics
        self.received: list[Received] = []
        self.sessions = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: aiomqtt.Client | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> Subscriber:
        self._thread.start()
        assert self.wait_for(lambda: bool(self.of(MARKER))), "the subscriber could not connect"
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(DEADLINE_S)

    def wait_for(self, done: Callable[[], bool], timeout_s: float = DEADLINE_S) -> bool:
        """Wait until `done()` holds for what was received (False when it never did)."""
        with self._cond:
            return self._cond.wait_for(done, timeout_s)

    def latest(self, topic: str) -> str | None:
        """The newest payload of a topic."""
        with self._cond:
            for message in reversed(self.received):
                if message.topic == topic:
                    return message.payload
        return None

    def of(self, prefix: str, session: int | None = None) -> list[Received]:
        """Messages whose topic starts with `prefix` (of one session, if given)."""
        with self._cond:
            return [
                m
                for m in self.received
                if m.topic.startswith(prefix) and (session is None or m.session == session)
            ]

    def publish(self, topic: str, payload: str) -> None:
        """Publish one message from this subscriber's connection (and wait until it is sent)."""
        loop, client = self._loop, self._client
        assert loop is not None and client is not None
        asyncio.run_coroutine_threadsafe(client.publish(topic, payload, qos=1), loop).result(
            DEADLINE_S
        )

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            with contextlib.suppress(aiomqtt.MqttError):
                async with aiomqtt.Client("127.0.0.1", self.port, timeout=5) as client:
                    self._client = client
                    for topic in self.topics:
                        await client.subscribe(topic, qos=1)
                    # The broker sends the retained messages before anything published after
                    # the subscription: once this marker is back, they are all in.
                    await client.subscribe(MARKER, qos=1)
                    await client.publish(MARKER, "synced", qos=1)
                    with self._cond:
                        self.sessions += 1
                        session = self.sessions
                        self._cond.notify_all()
                    await self._read(client, session)
            await asyncio.sleep(RECONNECT_S)

    async def _read(self, client: aiomqtt.Client, session: int) -> None:
        messages = aiter(client.messages)
        while not self._stop.is_set():
            try:
                message = await asyncio.wait_for(anext(messages), 0.1)
            except TimeoutError:
                continue
            payload = message.payload
            text = payload.decode() if isinstance(payload, bytes) else str(payload)
            with self._cond:
                self.received.append(Received(str(message.topic), text, message.retain, session))
                self._cond.notify_all()
