"""The service's database for tests that need its tables without its storage: made and
migrated as `run` makes it (`Storage.open`), then closed; the URL is what callers keep."""

from __future__ import annotations

from pathlib import Path

from panelpilot.service.database import sqlite_url
from panelpilot.service.storage import Storage


def migrated(url: str) -> str:
    """The database at `url` brought to this release's schema; returns `url`."""
    Storage.open(url).close()
    return url


def sqlite_database(path: Path) -> str:
    """A SQLite file of the service with this release's schema; returns its URL."""
    return migrated(sqlite_url(str(path)))
