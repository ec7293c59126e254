"""The service's database as the account commands and `run` open it, and its times as text."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from panelpilot.service.database import ServiceLock
    from panelpilot.service.storage import Storage


def _make_folder(db: str) -> None:
    """A SQLite file's folder (the per-user data directory the first time) is made."""
    if db.startswith("sqlite:///") and db != "sqlite:///:memory:":
        Path(db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def open_storage(db: str, *, check: bool = False, quiet: bool = True) -> Storage:
    """The database at `db` (a `StorageError` when it cannot be used: one line, exit 2);
    `quiet=False` shows a bar on a terminal while it opens (and migrates)."""
    from panelpilot.cli.progress import working

    with working("database", quiet):
        from panelpilot.service.storage import Storage

        _make_folder(db)
        storage = Storage.open(db, check=check)
    if check:
        # A full disk or a read-only file is found now, not in the first cycle.
        storage.check_writable(time.time())
    return storage


def lock_database(db: str) -> ServiceLock | None:
    """One service per database: the lock, or a `StorageError` naming the other process."""
    from panelpilot.service.database import ServiceLock

    _make_folder(db)
    return ServiceLock.acquire(db)


def utc(at_s: float) -> str:
    """A stored time as the account commands print it: `2026-01-31 17:05:00` (UTC)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%d %H:%M:%S")
