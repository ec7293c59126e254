"""The need book of a running service: the site's `needs:` defaults, the id tags the drivers
know, and the learned estimate's history, kept in the event log (one `charging_session`
event per finished session, about its charger) so it survives a restart."""

from __future__ import annotations

import re
from collections.abc import Iterable

from panelpilot.drivers.base import DriverSet, SessionTagged
from panelpilot.service.clock import Clock
from panelpilot.service.needs import FinishedSession, IdTagOf, NeedBook
from panelpilot.service.recorder import StorageWriter
from panelpilot.service.storage import EventRecord, Storage
from panelpilot.site.model import Site

SESSION_EVENT = "charging_session"
_SESSION = re.compile(r"^session ended: stayed (\d+) s, (\d+) Wh$")
# How many stored sessions are read at start-up, newest first (all chargers together).
STORED_SESSIONS_READ = 5000


def session_message(finished: FinishedSession) -> str:
    """The event log's line for a finished session (read back by `stored_sessions`)."""
    return f"session ended: stayed {finished.stay_s:.0f} s, {finished.energy_wh:.0f} Wh"


def finished_session(record: EventRecord) -> FinishedSession | None:
    """The session an event records; None for any other event."""
    match = _SESSION.match(record.message)
    if record.kind != SESSION_EVENT or record.device is None or match is None:
        return None
    return FinishedSession(record.device, float(match[1]), float(match[2]))


def stored_sessions(storage: Storage) -> list[FinishedSession]:
    """The sessions the event log holds, oldest first."""
    records = storage.events(STORED_SESSIONS_READ, kinds=(SESSION_EVENT,))
    found = (finished_session(r) for r in reversed(records))
    return [f for f in found if f is not None]


def id_tags_of(drivers: DriverSet) -> IdTagOf:
    """Each charger's running session's id tag, from the drivers that know it."""
    tagged = {cid: d for cid, d in drivers.chargers.items() if isinstance(d, SessionTagged)}

    def id_tag(charger_id: str) -> str | None:
        driver = tagged.get(charger_id)
        return driver.id_tag() if driver is not None else None

    return id_tag


def need_book(
    site: Site,
    drivers: DriverSet,
    writer: StorageWriter,
    clock: Clock,
    history: Iterable[FinishedSession],
    max_gap_s: float,
) -> NeedBook:
    """A need book for the site, its finished sessions written to the event log."""

    def record(finished: FinishedSession) -> None:
        writer.add_event(
            clock.wall_s(), SESSION_EVENT, session_message(finished), device=finished.charger
        )

    book = NeedBook(
        site.needs,
        site.voltage_v,
        max_gap_s,
        id_tag_of=id_tags_of(drivers),
        on_session_end=record,
    )
    book.learn(history)
    return book
