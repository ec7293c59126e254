"""Each charging session's need, put into every snapshot (`ChargerReading.need`).

The first known of: the car's (ISO 15118 over OCPP 2.0.1: the reading's own need), the
owner's (set on the charger's page or through the API for the session now plugged in), the
site file's default for the session's id tag, then for the charger (`needs:`), and an estimate
learned from the charger's finished sessions (median stay and energy), marked `estimate`.

The energy a need says is what was wanted when it was set: what the charger delivered since
(its measured current x the site's voltage, cycle by cycle, as `energy.py` counts it) is
subtracted, never below 0. Departures are wall-clock times for people and the site file; the
snapshot's clock is the runtime's monotonic one, so each is moved onto it every cycle.

A `NeedBook` runs on the control thread (`apply`, a few operations per charger per cycle); the
owner's needs come from the web's threads (`set_owner`), and what the pages show is published
as immutable views (`views`), both under one lock.
"""

from __future__ import annotations

import statistics
import threading
import zoneinfo
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from panelpilot.control.types import ChargerReading, ChargingNeed, NeedSource
from panelpilot.service.views import NeedView
from panelpilot.site.needs import NeedDefault, NeedsConfig, minutes_of_day

WH_PER_KWH = 1000.0
S_PER_H = 3600.0
IdTagOf = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class OwnerNeed:
    """What the owner (or installer) said for the session now plugged in: leaving at
    `departure_wall_s` (epoch seconds), wanting `energy_wh`; either may be None."""

    departure_wall_s: float | None
    energy_wh: float | None
    who: str = ""


@dataclass(frozen=True, slots=True)
class FinishedSession:
    """A session that ended: how long the car stayed and what it was given."""

    charger: str
    stay_s: float
    energy_wh: float


@dataclass(slots=True)
class _Session:
    plugged_wall_s: float
    delivered_wh: float = 0.0
    last: tuple[float, float] | None = None  # (t, current_a) of the last connected reading
    owner: OwnerNeed | None = None
    key: object = None  # the need the baseline belongs to
    baseline_wh: float = 0.0


@dataclass(frozen=True, slots=True)
class _Raw:
    source: NeedSource
    departure_wall_s: float | None
    wanted_wh: float | None
    key: object


def next_time_of_day(hhmm: str, after_wall_s: float, zone: zoneinfo.ZoneInfo | None) -> float:
    """The first `HH:MM` (on `zone`'s clock; None: the host's) after `after_wall_s`."""
    start = datetime.fromtimestamp(after_wall_s, zone).astimezone(zone)
    minutes = minutes_of_day(hhmm)
    moment = start.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
    if moment.timestamp() <= after_wall_s:
        moment = (moment + timedelta(days=1)).replace(hour=minutes // 60, minute=minutes % 60)
    return moment.timestamp()


@dataclass
class NeedBook:
    """The needs of every charger's session (see the module's docstring)."""

    config: NeedsConfig
    voltage_v: float
    max_gap_s: float
    id_tag_of: IdTagOf = lambda _charger: None
    on_session_end: Callable[[FinishedSession], None] | None = None
    _sessions: dict[str, _Session] = field(default_factory=dict)
    _history: dict[str, deque[FinishedSession]] = field(default_factory=dict)
    _owner_waiting: dict[str, OwnerNeed | None] = field(default_factory=dict)
    _views: Mapping[str, NeedView] = field(default_factory=lambda: MappingProxyType({}))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        tz = self.config.timezone
        self._zone = zoneinfo.ZoneInfo(tz) if tz is not None else None

    def learn(self, sessions: Iterable[FinishedSession]) -> None:
        """Add finished sessions, oldest first (the stored history at start-up)."""
        for finished in sessions:
            self._remember(finished)

    def set_owner(self, charger_id: str, need: OwnerNeed | None) -> None:
        """The owner's need for the session plugged in now (None clears it); it ends with the
        session. Taken by the next cycle."""
        with self._lock:
            self._owner_waiting[charger_id] = need

    def views(self) -> Mapping[str, NeedView]:
        """Every charger's need as the last cycle left it (chargers with none are absent)."""
        with self._lock:
            return self._views

    def apply(
        self, t: float, wall_s: float, chargers: Mapping[str, ChargerReading]
    ) -> dict[str, ChargerReading]:
        """The readings with each session's need; counts the cycle's energy."""
        with self._lock:
            waiting, self._owner_waiting = self._owner_waiting, {}
        out: dict[str, ChargerReading] = {}
        views: dict[str, NeedView] = {}
        for cid, reading in chargers.items():
            session = self._track(cid, t, wall_s, reading)
            if session is None:
                out[cid] = reading
                continue
            if cid in waiting:
                session.owner = waiting[cid]
            raw = self._raw(cid, session, reading, t, wall_s)
            if raw is None:
                out[cid] = reading
                continue
            need, views[cid] = self._need(session, raw, t, wall_s)
            out[cid] = replace(reading, need=need)
        with self._lock:
            self._views = MappingProxyType(views)
        return out

    def _track(self, cid: str, t: float, wall_s: float, reading: ChargerReading) -> _Session | None:
        session = self._sessions.get(cid)
        if not reading.online:  # a blip of contact ends no session and counts nothing
            if session is not None:
                session.last = None
            return session
        if not reading.connected:
            if session is not None:
                self._end(cid, session, wall_s)
            return None
        if session is None:
            session = self._sessions[cid] = _Session(plugged_wall_s=wall_s)
        if session.last is not None and 0.0 < t - session.last[0] <= self.max_gap_s:
            session.delivered_wh += (
                session.last[1] * self.voltage_v * (t - session.last[0]) / S_PER_H
            )
        session.last = (t, max(0.0, reading.current_a))
        return session

    def _end(self, cid: str, session: _Session, wall_s: float) -> None:
        del self._sessions[cid]
        finished = FinishedSession(
            cid, max(0.0, wall_s - session.plugged_wall_s), session.delivered_wh
        )
        self._remember(finished)
        if self.on_session_end is not None:
            self.on_session_end(finished)

    def _remember(self, finished: FinishedSession) -> None:
        kept = self.config.estimate.sessions
        self._history.setdefault(finished.charger, deque(maxlen=kept)).append(finished)

    def _raw(
        self, cid: str, session: _Session, reading: ChargerReading, t: float, wall_s: float
    ) -> _Raw | None:
        car = reading.need
        if car is not None and car.source == "ev":
            departure = None if car.departure_t is None else wall_s + car.departure_t - t
            return _Raw("ev", departure, car.energy_wh, ("ev", car.energy_wh))
        if session.owner is not None:
            owner = session.owner
            return _Raw("owner", owner.departure_wall_s, owner.energy_wh, owner)
        default = self._default(cid)
        if default is not None:
            departure = (
                None
                if default.departure is None
                else next_time_of_day(default.departure, session.plugged_wall_s, self._zone)
            )
            wanted = None if default.energy_kwh is None else default.energy_kwh * WH_PER_KWH
            return _Raw("default", departure, wanted, default)
        return self._estimate(cid, session)

    def _default(self, cid: str) -> NeedDefault | None:
        tag = self.id_tag_of(cid)
        if tag is not None and tag in self.config.id_tags:
            return self.config.id_tags[tag]
        return self.config.chargers.get(cid)

    def _estimate(self, cid: str, session: _Session) -> _Raw | None:
        settings = self.config.estimate
        history = self._history.get(cid, ())
        if not settings.enabled or len(history) < settings.min_sessions:
            return None
        stay_s = statistics.median(s.stay_s for s in history)
        energy_wh = statistics.median(s.energy_wh for s in history)
        return _Raw("estimate", session.plugged_wall_s + stay_s, energy_wh, "estimate")

    def _need(
        self, session: _Session, raw: _Raw, t: float, wall_s: float
    ) -> tuple[ChargingNeed, NeedView]:
        if raw.key != session.key:  # a new need counts what is delivered from now
            session.key, session.baseline_wh = raw.key, session.delivered_wh
        delivered_wh = session.delivered_wh - session.baseline_wh
        remaining = None if raw.wanted_wh is None else max(0.0, raw.wanted_wh - delivered_wh)
        departure_t = None if raw.departure_wall_s is None else t + raw.departure_wall_s - wall_s
        need = ChargingNeed(departure_t=departure_t, energy_wh=remaining, source=raw.source)
        view = NeedView(raw.source, raw.departure_wall_s, raw.wanted_wh, delivered_wh, remaining)
        return need, view
