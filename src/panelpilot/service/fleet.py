"""A fleet of sites as their controllers publish it to one broker (`panelpilot fleet`).

Each site's controller keeps its own safety loop and publishes its state (`service/mqtt.py`);
the collector subscribes to the status, info, alerts, network and panel topics of every site
under the prefix and keeps the newest of each, and `sites()` gives the read model the fleet
page shows. It only reads: it publishes nothing and no site depends on it. A payload that is
not what a panelpilot site publishes is ignored; the number of sites and of alerts per site
kept is bounded, so a broker full of strangers cannot fill memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from panelpilot.site.mqtt import BrokerUrl

MAX_SITES = 10_000
MAX_ALERTS = 200  # per site
MAX_PAYLOAD_BYTES = 1 << 20
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0


@dataclass(frozen=True, slots=True)
class FleetAlert:
    """An alert a site reports."""

    code: str
    severity: str
    message: str
    device: str | None


@dataclass(frozen=True, slots=True)
class FleetNetwork:
    """A site's power sharing network: its current against its limit, its status."""

    id: str
    current_a: float | None
    limit_a: float | None
    status: str | None


@dataclass(frozen=True, slots=True)
class FleetSite:
    """One site as the fleet page shows it (`status`: online, offline or unknown)."""

    site_id: str
    name: str
    status: str
    version: str | None
    alerts: tuple[FleetAlert, ...]
    networks: tuple[FleetNetwork, ...]
    panel_current_a: float | None
    panel_limit_a: float | None
    updated_wall_s: float  # when the collector last heard from it


@dataclass(frozen=True, slots=True)
class FleetView:
    """The fleet page: every site, and whether the collector is connected to the broker."""

    broker: str
    connected: bool
    last_error: str | None
    sites: tuple[FleetSite, ...]


@dataclass
class _Site:
    status: str = "unknown"
    info: dict[str, Any] = field(default_factory=dict)
    alerts: tuple[FleetAlert, ...] = ()
    networks: dict[str, dict[str, str]] = field(default_factory=dict)
    panel: dict[str, str] = field(default_factory=dict)
    updated_wall_s: float = 0.0


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _alerts(payload: str) -> tuple[FleetAlert, ...] | None:
    try:
        data = json.loads(payload)
        items = data["alerts"][:MAX_ALERTS]
        return tuple(
            FleetAlert(
                str(a["code"]),
                str(a["severity"]),
                str(a["message"]),
                None if a.get("device") is None else str(a["device"]),
            )
            for a in items
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class FleetCollector:
    """Keeps the newest state of every site under `prefix` on one broker (its own thread)."""

    def __init__(
        self,
        broker: BrokerUrl,
        *,
        prefix: str = "panelpilot",
        username: str | None = None,
        password: str | None = None,
        wall_s: Callable[[], float] = time.time,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self.broker = broker
        self.prefix = prefix
        self._credentials = (username, password)
        self.wall_s = wall_s
        self.retry_first_s, self.retry_max_s = retry_first_s, retry_max_s
        self._lock = threading.Lock()
        self._sites: dict[str, _Site] = {}
        self.connected = False
        self.last_error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # -- what the page reads (any thread) -----------------------------------------------------

    def view(self) -> FleetView:
        """Every site heard from, by site id."""
        with self._lock:
            sites = tuple(self._site_view(sid, s) for sid, s in sorted(self._sites.items()))
            return FleetView(str(self.broker), self.connected, self.last_error, sites)

    @staticmethod
    def _site_view(site_id: str, s: _Site) -> FleetSite:
        networks = tuple(
            FleetNetwork(
                nid,
                _number(values.get("current")),
                _number(values.get("limit")),
                values.get("status"),
            )
            for nid, values in sorted(s.networks.items())
        )
        name, version = s.info.get("name"), s.info.get("version")
        return FleetSite(
            site_id=site_id,
            name=name if isinstance(name, str) else site_id,
            status=s.status,
            version=version if isinstance(version, str) else None,
            alerts=s.alerts,
            networks=networks,
            panel_current_a=_number(s.panel.get("current")),
            panel_limit_a=_number(s.panel.get("limit")),
            updated_wall_s=s.updated_wall_s,
        )

    # -- what the broker says -----------------------------------------------------------------

    def receive(self, topic: str, payload: str) -> None:
        """One message: kept when it is a panelpilot site's, ignored otherwise."""
        levels = topic.split("/")
        depth = len(self.prefix.split("/"))
        rest = levels[depth:]
        if levels[:depth] != self.prefix.split("/") or len(rest) < 2:
            return
        site_id, what = rest[0], rest[1:]
        with self._lock:
            site = self._sites.get(site_id)
            if site is None:
                if len(self._sites) >= MAX_SITES:
                    return
                site = self._sites[site_id] = _Site()
            self._apply(site, what, payload)
            site.updated_wall_s = self.wall_s()

    @staticmethod
    def _apply(site: _Site, what: list[str], payload: str) -> None:
        if what == ["status"] and payload in ("online", "offline"):
            site.status = payload
        elif what == ["info"]:
            with contextlib.suppress(ValueError):
                info = json.loads(payload)
                site.info = info if isinstance(info, dict) else {}
        elif what == ["alerts"]:
            alerts = _alerts(payload)
            if alerts is not None:
                site.alerts = alerts
        elif len(what) == 3 and what[0] == "network" and what[2] in ("current", "limit", "status"):
            if what[1] in site.networks or len(site.networks) < MAX_ALERTS:
                site.networks.setdefault(what[1], {})[what[2]] = payload[:64]
        elif len(what) == 2 and what[0] == "panel" and what[1] in ("current", "limit"):
            site.panel[what[1]] = payload[:64]

    # -- the collector's thread ---------------------------------------------------------------

    def start(self) -> None:
        """Subscribe on a thread of its own from now on."""
        ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._main(ready)), name="panelpilot-fleet", daemon=True
        )
        self._thread.start()
        ready.wait(5.0)

    def stop(self) -> None:
        """Disconnect and end the thread."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stop.set)
        thread.join(15.0)
        self._thread = None

    async def _main(self, ready: threading.Event) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        ready.set()
        failures = 0
        while not self._stop.is_set():
            session = asyncio.ensure_future(self._session())
            stopped = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({session, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            session.cancel()
            results = await asyncio.gather(session, return_exceptions=True)
            failures = 0 if self.connected else failures
            self.connected = False
            error = results[0]
            if isinstance(error, aiomqtt.MqttError | OSError):
                failures += 1
                self.last_error = str(error) or type(error).__name__
            delay_s = min(
                self.retry_max_s, self.retry_first_s * 2.0 ** min(max(failures - 1, 0), 16)
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay_s)

    async def _session(self) -> None:
        username, password = self._credentials
        async with aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            username=username,
            password=password,
            timeout=10.0,
            tls_context=ssl.create_default_context() if self.broker.tls else None,
        ) as client:
            for level in ("status", "info", "alerts", "network/+/+", "panel/+"):
                await client.subscribe(f"{self.prefix}/+/{level}", qos=1)
            self.connected, self.last_error = True, None
            async for message in client.messages:
                raw = message.payload
                if isinstance(raw, bytes) and len(raw) <= MAX_PAYLOAD_BYTES:
                    with contextlib.suppress(UnicodeDecodeError):
                        self.receive(str(message.topic), raw.decode("utf-8"))
