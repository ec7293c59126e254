"""The MQTT publisher: a follower of the control loop, like storage (docs/integrations.md).

It runs on a thread and event loop of its own. After each cycle the runtime calls
`on_cycle`, which only marks that there is something new (at most one wake-up is ever
pending, so a slow broker makes the publisher skip to the latest state, never a queue that
grows); the publisher then reads the read models (`service.reads`) and publishes what changed.
A broker that is down, refuses us or stops answering never delays a cycle: the publisher
reconnects with backoff, publishes its availability, discovery and every retained state
again, and raises `mqtt_disconnected` while it is not connected.

Nothing received over MQTT changes anything: the only subscription is Home Assistant's
birth message (`homeassistant/status`), which makes the publisher send discovery again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import aiomqtt

from panelpilot.control.types import Alert
from panelpilot.service.mqtt_topics import (
    OFFLINE,
    ONLINE,
    SiteState,
    Topics,
    discovery_messages,
    state_messages,
)
from panelpilot.service.reads import Reads
from panelpilot.service.runtime import CycleResult, Runtime
from panelpilot.site.mqtt import BrokerUrl

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0
TIMEOUT_S = 10.0  # a connect or publish not acknowledged in this long is a lost connection
STOP_S = 5.0  # what a stop gives the broker to take `offline`
QOS = 1  # at least once: a retained state or config must arrive
IN_FLIGHT = 10  # publishes awaiting their acknowledgement at once (aiomqtt warns above)


@dataclass(frozen=True, slots=True)
class MqttOptions:
    """Where to publish and how; the password never appears in `repr`."""

    broker: BrokerUrl
    site_id: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    topic_prefix: str = "panelpilot"
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    keepalive_s: int = 30
    retry_first_s: float = RETRY_FIRST_S
    retry_max_s: float = RETRY_MAX_S
    timeout_s: float = TIMEOUT_S


@dataclass(frozen=True, slots=True)
class MqttStatus:
    """What the publisher knows: connected or not, since when, why, how often."""

    connected: bool
    sessions: int  # connections made since start
    publishes: int  # state passes published since start
    published_t: float | None  # the newest cycle (its snapshot's t) published in full
    down_since_s: float | None
    last_error: str | None


def site_state(reads: Reads, site_id: str) -> SiteState:
    """The read models one publish is made of."""
    site, devices, overview = reads.site(), reads.devices(), reads.overview()
    return SiteState(
        site_id=site_id,
        name=site.name,
        version=overview.version,
        voltage_v=site.voltage_v,
        chargers=devices.chargers,
        circuits=reads.live().circuits,
        networks=reads.networks(),
        batteries=devices.batteries,
        solar=devices.solar,
        panel=reads.panel(),
        alerts=overview.alerts,
    )


class MqttPublisher:
    """Publishes one site's state to one broker, behind the control loop."""

    def __init__(
        self, reads: Reads, options: MqttOptions, *, now_s: Callable[[], float] = time.monotonic
    ) -> None:
        self.reads = reads
        self.options = options
        self.topics = Topics(options.site_id, options.topic_prefix, options.discovery_prefix)
        self.now_s = now_s
        self._cond = threading.Condition()
        self._status = MqttStatus(False, 0, 0, None, None, None)
        self._cycle_t: float | None = None  # the newest cycle's t
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._wake_pending = False
        self._rediscover = False
        self._thread: threading.Thread | None = None

    def attach(self, runtime: Runtime) -> MqttPublisher:
        """Follow `runtime`: told after each cycle, `mqtt_disconnected` among its alerts."""
        runtime.listeners.append(self.on_cycle)
        runtime.alert_sources.append(self.alerts)
        return self

    # -- the control thread -------------------------------------------------------------------

    def on_cycle(self, result: CycleResult) -> None:
        """A cycle was published: wake the publisher unless a wake-up is already pending."""
        with self._cond:
            self._cycle_t = result.snapshot.t
            loop, wake = self._loop, self._wake
            if self._wake_pending or loop is None or wake is None:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # its loop has closed: stopping
            loop.call_soon_threadsafe(wake.set)

    def alerts(self) -> tuple[Alert, ...]:
        """`mqtt_disconnected` while the broker cannot be reached (an alert source)."""
        status = self.status()
        if status.connected or status.down_since_s is None:
            return ()
        # Not in control/alerts.py's table (the service raises it, like storage_failed);
        # docs/alerts.md lists it.
        message = (
            f"not connected to the MQTT broker {self.options.broker} ({status.last_error}); "
            "retrying with backoff, control goes on"
        )
        return (Alert("mqtt_disconnected", "warning", message),)

    # -- any thread ---------------------------------------------------------------------------

    def status(self) -> MqttStatus:
        """The publisher's state now."""
        with self._cond:
            return self._status

    def wait_for(self, done: Callable[[MqttStatus], bool], timeout_s: float) -> bool:
        """Wait until `done(status)` holds (False when `timeout_s` passed first)."""
        with self._cond:
            return self._cond.wait_for(lambda: done(self._status), timeout_s)

    def _update(self, **changes: Any) -> None:
        with self._cond:
            self._status = replace(self._status, **changes)
            self._cond.notify_all()

    def start(self) -> None:
        """Connect and publish on a thread of its own from now on."""
        if self._thread is not None:
            return
        ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._main(ready)), name="panelpilot-mqtt", daemon=True
        )
        self._thread.start()
        ready.wait(STOP_S)

    def stop(self, timeout_s: float = STOP_S) -> None:
        """Say `offline`, disconnect and end the thread (within about `timeout_s`)."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout_s + self.options.timeout_s)
        self._thread = None

    # -- the publisher's thread ---------------------------------------------------------------

    async def _main(self, ready: threading.Event) -> None:
        with self._cond:
            self._loop = asyncio.get_running_loop()
            self._wake, self._stop = asyncio.Event(), asyncio.Event()
        ready.set()
        stop = self._stop
        failures = 0
        while not stop.is_set():
            try:
                await self._session(stop)
                failures = 0
            except (aiomqtt.MqttError, OSError) as exc:  # ssl.SSLError is an OSError
                failures += 1
                self._lost(str(exc) or type(exc).__name__)
            except Exception as exc:  # a bug of ours: the publisher's, never the loop's
                failures += 1
                self._lost(f"publisher error {type(exc).__name__}: {exc}")
            if stop.is_set():
                break
            delay_s = self._backoff_s(failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay_s)
        with self._cond:
            self._loop = None

    def _backoff_s(self, failures: int) -> float:
        o = self.options
        return float(min(o.retry_max_s, o.retry_first_s * 2.0 ** min(max(failures - 1, 0), 16)))

    def _lost(self, reason: str) -> None:
        status = self.status()
        since = status.down_since_s if status.down_since_s is not None else self.now_s()
        self._update(connected=False, down_since_s=since, last_error=reason)

    def _client(self) -> aiomqtt.Client:
        o = self.options
        tls = ssl.create_default_context(cafile=o.ca_file) if o.broker.tls else None
        return aiomqtt.Client(
            o.broker.host,
            o.broker.port,
            username=o.username,
            password=o.password,
            identifier=f"panelpilot-{o.site_id}",
            will=aiomqtt.Will(self.topics.status, OFFLINE, qos=QOS, retain=True),
            keepalive=o.keepalive_s,
            timeout=o.timeout_s,
            tls_context=tls,
        )

    async def _session(self, stop: asyncio.Event) -> None:
        """One connection: availability, discovery, then every change until it is lost."""
        async with self._client() as client:
            await client.publish(self.topics.status, ONLINE, qos=QOS, retain=True)
            if self.options.discovery:
                await client.subscribe(self.topics.ha_status, qos=QOS)
            s = self.status()
            self._update(connected=True, sessions=s.sessions + 1, down_since_s=None)
            listen = asyncio.create_task(self._listen(client))
            try:
                await self._publish_until_lost(client, stop, listen)
            finally:
                listen.cancel()
                await asyncio.gather(listen, return_exceptions=True)
                # A clean disconnect sends no will: say it ourselves, also when the session
                # ends in an error while the service stops (its read models going away).
                if stop.is_set():
                    with contextlib.suppress(aiomqtt.MqttError):
                        await client.publish(
                            self.topics.status, OFFLINE, qos=QOS, retain=True, timeout=STOP_S
                        )
        if stop.is_set():
            self._update(connected=False)

    async def _listen(self, client: aiomqtt.Client) -> None:
        """Home Assistant came online: send discovery again. Raises when the link is lost."""
        async for message in client.messages:
            if message.topic.matches(self.topics.ha_status) and message.payload == b"online":
                self._rediscover = True
                if self._wake is not None:
                    self._wake.set()

    async def _publish_until_lost(
        self, client: aiomqtt.Client, stop: asyncio.Event, listen: asyncio.Task[None]
    ) -> None:
        assert self._wake is not None
        sent: dict[str, str] = {}  # a new connection sends every retained state again
        self._rediscover = self.options.discovery
        while not stop.is_set():
            with self._cond:
                self._wake_pending = False
            self._wake.clear()
            await self._publish(client, sent)
            waits = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
            done, _ = await asyncio.wait({*waits, listen}, return_when=asyncio.FIRST_COMPLETED)
            for task in waits:
                task.cancel()
            if listen in done:
                listen.result()  # the link is lost: its MqttError ends the session
                raise aiomqtt.MqttError("the broker closed the connection")

    async def _publish(self, client: aiomqtt.Client, sent: dict[str, str]) -> None:
        with self._cond:
            cycle_t = self._cycle_t  # taken before the read models: they are at least as new
        state = site_state(self.reads, self.options.site_id)
        messages: dict[str, str] = {}
        if self._rediscover:
            self._rediscover = False
            messages.update(discovery_messages(self.topics, state))
            for topic in [t for t in sent if t.startswith(self.options.discovery_prefix + "/")]:
                del sent[topic]
        messages.update(state_messages(self.topics, state))
        changed = [(t, p) for t, p in messages.items() if sent.get(t) != p]
        for start in range(0, len(changed), IN_FLIGHT):
            batch = changed[start : start + IN_FLIGHT]
            await asyncio.gather(*(client.publish(t, p, qos=QOS, retain=True) for t, p in batch))
            sent.update(batch)
        self._update(publishes=self.status().publishes + 1, published_t=cycle_t)
