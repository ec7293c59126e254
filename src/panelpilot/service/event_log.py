"""The event log as the Events page reads it: a page at a time, by category, and an alert's
start and clear together as one row with how long it lasted.

The storage keeps an alert's start (`alert`) and its end (`alert_cleared`) as two events; a
log that shows both buries everything else (a flapping meter is two rows a minute). Here an
alert that has cleared is one row, placed where it cleared (newest first) and saying from
when to when; an alert still active is one row saying since when.
"""

from __future__ import annotations

from dataclasses import dataclass

from panelpilot.service.storage import EventRecord, Storage

PAGE_EVENTS = 50

# The filters the page offers: name -> (event kinds, only events about a device).
FILTERS: dict[str, tuple[tuple[str, ...] | None, bool]] = {
    "all": (None, False),
    "settings": (("setting",), False),
    "alerts": (("alert", "alert_cleared"), False),
    "sign-ins": (("auth",), False),
    "devices": (None, True),
}


@dataclass(frozen=True, slots=True)
class LogRow:
    """One row of the event log; an alert with its clear is one row (`until_s`)."""

    id: int  # the newest event of the row (paging goes on below it)
    at_s: float  # when it happened; for an alert, when it started
    kind: str
    severity: str
    code: str | None
    device: str | None
    who: str | None
    message: str
    until_s: float | None = None  # an alert's clear
    active: bool = False  # an alert that has not cleared

    @property
    def duration_s(self) -> float | None:
        """How long a cleared alert lasted."""
        return None if self.until_s is None else max(0.0, self.until_s - self.at_s)


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of the log, newest first, and where the next (older) page starts."""

    show: str
    rows: tuple[LogRow, ...]
    older_than: int | None  # the `before` of the next page; None on the last page


def duration_text(seconds: float) -> str:
    """3 s, 4 min 10 s, 2 h 5 min: short, for a phone."""
    s = round(seconds)
    if s < 60:
        return f"{s}\u00a0s"
    if s < 3600:
        return f"{s // 60}\u00a0min {s % 60}\u00a0s"
    return f"{s // 3600}\u00a0h {s % 3600 // 60}\u00a0min"


def _row(e: EventRecord, **extra: object) -> LogRow:
    fields = {
        "id": e.id, "at_s": e.at_s, "kind": e.kind, "severity": e.severity, "code": e.code,
        "device": e.device, "who": e.who, "message": e.message,
    }  # fmt: skip
    fields.update(extra)
    return LogRow(**fields)  # type: ignore[arg-type]


def _paired(storage: Storage, e: EventRecord) -> LogRow | None:
    """An event as its row: None for an alert's start shown at its clear."""
    if e.kind == "alert_cleared":
        start = storage.alert_edge("alert", e.code, e.device, e.id)
        if start is None:  # its start is older than the log keeps
            return _row(e, message=e.message.removeprefix("cleared: "), until_s=e.at_s)
        return _row(start, id=e.id, until_s=e.at_s)
    if e.kind == "alert":
        clear = storage.alert_edge("alert_cleared", e.code, e.device, e.id)
        if clear is None:
            return _row(e, active=True)
        shown_at_clear = storage.alert_edge("alert", e.code, e.device, clear.id)
        if shown_at_clear is not None and shown_at_clear.id == e.id:
            return None
        return _row(e)  # repeated while active (a refused command): one event each
    return _row(e)


def log_page(
    storage: Storage, show: str, before_id: int | None, limit: int = PAGE_EVENTS
) -> LogPage:
    """A page of the log (`show` one of `FILTERS`; an unknown one is "all")."""
    show = show if show in FILTERS else "all"
    kinds, with_device = FILTERS[show]
    events = storage.events(limit, before_id, kinds, with_device)
    rows = tuple(r for e in events if (r := _paired(storage, e)) is not None)
    older = events[-1].id if len(events) == limit else None
    return LogPage(show, rows, older)
