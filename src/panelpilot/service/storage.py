"""Durable storage: settings as versions, events and alerts, telemetry, users and sessions.

SQLite with a rollback journal and `synchronous=FULL` by default, so a change is on disk when
its transaction commits; any SQLAlchemy URL (PostgreSQL) works too. Every method is one
transaction: a settings change and its event are committed together, before the caller
acknowledges it.

No WAL and no memory-mapped I/O: WAL maps its `-shm` index into memory, and a `-shm` that
cannot grow (a full disk, an immutable file) ends the process with SIGBUS instead of an error.
A rollback journal fails a write with an error the service can turn into an alert. The file
is created 0600 (it holds password hashes and the site's history), `open` refuses a damaged
file in one line, and `ServiceLock` keeps a second service off the same database.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    Engine,
    Integer,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from panelpilot.service import schema

DAY_S = 86_400.0
DOWNSAMPLE_STEP_S = 60


class StorageError(Exception):
    """The database could not be opened or written; says which URL and why."""


@dataclass(frozen=True, slots=True)
class SettingVersion:
    """One change of one setting: who, when, with which license number, from what to what."""

    id: int
    key: str
    old: Any
    new: Any
    who: str
    license_number: str | None
    at_s: float
    summary: str


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One line of the event log."""

    id: int
    at_s: float
    kind: str
    severity: str
    code: str | None
    device: str | None
    who: str | None
    message: str


class EventRow(NamedTuple):
    """One event waiting to be written."""

    at_s: float
    kind: str
    severity: str
    code: str | None
    device: str | None
    who: str | None
    message: str


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # A rollback journal and no mmap: no shared-memory file whose failure is a SIGBUS.
    cursor.execute("PRAGMA journal_mode=DELETE")
    cursor.execute("PRAGMA mmap_size=0")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def sqlite_url(path: str) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def display_url(url: str) -> str:
    """A database URL fit for a message: the file of a SQLite URL, never a password."""
    db = sqlite_path(url)
    if db is not None:
        return str(db)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "the database URL given"


def reason(exc: BaseException) -> str:
    """The database's own words for a failure, on one line (without SQLAlchemy's advert)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    return " ".join(text.split()) or type(exc).__name__


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds password hashes)."""
    if path.exists():
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


class ServiceLock:
    """One service per database: an exclusive lock on `<database>.lock`, naming the holder.

    `flock` is released by the kernel when the process ends however it ends, so a killed
    service never leaves a stale lock; the pid in the file is only there to name the holder.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, url: str) -> ServiceLock | None:
        """Lock the database at `url` for this process; None for non-SQLite databases.

        Raises `StorageError` naming the other process when it is already locked.
        """
        db = sqlite_path(url)
        if db is None:
            return None
        path = db.with_name(db.name + ".lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(f"cannot lock database {db}: {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f"pid {holder}" if holder.isdigit() else "a process"
            raise StorageError(
                f"database {db} is in use by another panelpilot service ({who}); stop it "
                "first, or give this one its own --db"
            ) from None
        # Naming the holder is best effort: on a full disk the lock holds without it.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Let another service open the database."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Storage:
    """The service's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, check: bool = False) -> Storage:
        """Open (and create the tables of) the database at `url`.

        With `check`, a SQLite file is also read through (`PRAGMA quick_check`) so damage is
        found at start, not in the middle of a write. Raises `StorageError` in one line.
        """
        db = sqlite_path(url)
        try:
            if db is not None:
                _create_private(db)
            engine = create_engine(url)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            schema.metadata.create_all(engine)
        except (SQLAlchemyError, OSError, ImportError) as exc:  # ImportError: no DB driver
            raise StorageError(f"cannot open database {display_url(url)}: {reason(exc)}") from None
        storage = cls(engine)
        if check and engine.dialect.name == "sqlite":
            storage._quick_check(str(db))
        return storage

    def _quick_check(self, name: str) -> None:
        try:
            with self.engine.connect() as conn:
                rows = [
                    " ".join(str(r[0]).split())
                    for r in conn.exec_driver_sql("PRAGMA quick_check(1)")
                ]
        except SQLAlchemyError as exc:
            raise StorageError(f"database {name} is damaged: {reason(exc)}") from None
        if rows != ["ok"]:
            raise StorageError(
                f"database {name} is damaged ({'; '.join(rows)}): restore a backup or move it "
                "aside to start afresh"
            )

    def check_writable(self, at_s: float) -> None:
        """Prove a write commits now (the start-up event); `StorageError` says why not."""
        try:
            self.add_event(at_s, "service", "service starting")
        except SQLAlchemyError as exc:
            name = display_url(self.engine.url.render_as_string(hide_password=True))
            raise StorageError(f"cannot write to database {name}: {reason(exc)}") from None

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # settings ---------------------------------------------------------------------------

    def record_setting(
        self,
        key: str,
        old: Any,
        new: Any,
        *,
        who: str,
        license_number: str | None,
        at_s: float,
        summary: str,
    ) -> int:
        """Commit one settings version and its event; returns the version id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(schema.setting_versions).values(
                    key=key,
                    old_json=None if old is None else json.dumps(old),
                    new_json=json.dumps(new),
                    who=who,
                    license_number=license_number,
                    at_s=at_s,
                    summary=summary,
                )
            )
            self._event(conn, at_s, "setting", "info", None, None, who, summary)
            pk = result.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def latest_settings(self) -> dict[str, Any]:
        """The newest value of every setting ever changed."""
        newest = (
            select(schema.setting_versions.c.key, func.max(schema.setting_versions.c.id))
            .group_by(schema.setting_versions.c.key)
            .subquery()
        )
        query = select(schema.setting_versions.c.key, schema.setting_versions.c.new_json).where(
            schema.setting_versions.c.id.in_(select(newest.c[1]))
        )
        with self.engine.connect() as conn:
            return {row.key: json.loads(row.new_json) for row in conn.execute(query)}

    def setting_history(self, key: str | None = None, limit: int = 100) -> list[SettingVersion]:
        """Settings versions, newest first."""
        t = schema.setting_versions
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if key is not None:
            query = query.where(t.c.key == key)
        with self.engine.connect() as conn:
            return [
                SettingVersion(
                    r.id,
                    r.key,
                    None if r.old_json is None else json.loads(r.old_json),
                    json.loads(r.new_json),
                    r.who,
                    r.license_number,
                    r.at_s,
                    r.summary,
                )
                for r in conn.execute(query)
            ]

    # events -----------------------------------------------------------------------------

    @staticmethod
    def _event(
        conn: Connection,
        at_s: float,
        kind: str,
        severity: str,
        code: str | None,
        device: str | None,
        who: str | None,
        message: str,
    ) -> int:
        result = conn.execute(
            insert(schema.events).values(
                at_s=at_s,
                kind=kind,
                severity=severity,
                code=code,
                device=device,
                who=who,
                message=message,
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def add_event(
        self,
        at_s: float,
        kind: str,
        message: str,
        *,
        severity: str = "info",
        code: str | None = None,
        device: str | None = None,
        who: str | None = None,
    ) -> int:
        """Commit one event; returns its id."""
        with self.engine.begin() as conn:
            return self._event(conn, at_s, kind, severity, code, device, who, message)

    def events(self, limit: int = 100, before_id: int | None = None) -> list[EventRecord]:
        """Events, newest first (page backwards with `before_id`)."""
        t = schema.events
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(t.c.id < before_id)
        with self.engine.connect() as conn:
            return [
                EventRecord(r.id, r.at_s, r.kind, r.severity, r.code, r.device, r.who, r.message)
                for r in conn.execute(query)
            ]

    # telemetry --------------------------------------------------------------------------

    def add_telemetry(self, at_s: float, data: Mapping[str, Any]) -> None:
        """Store one cycle's measurements."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(schema.telemetry).values(at_s=at_s, step_s=0, data_json=json.dumps(data))
            )

    def write_rows(
        self, events: Sequence[EventRow], telemetry: Sequence[tuple[float, Mapping[str, Any]]]
    ) -> None:
        """Commit buffered events and telemetry rows in one transaction (the writer's)."""
        with self.engine.begin() as conn:
            if events:
                conn.execute(insert(schema.events), [e._asdict() for e in events])
            if telemetry:
                conn.execute(
                    insert(schema.telemetry),
                    [
                        {"at_s": at_s, "step_s": 0, "data_json": json.dumps(data)}
                        for at_s, data in telemetry
                    ],
                )

    def telemetry(self, since_s: float, limit: int = 10_000) -> list[tuple[float, int, Any]]:
        """Telemetry rows since a time, oldest first: (at_s, step_s, data)."""
        t = schema.telemetry
        query = select(t).where(t.c.at_s >= since_s).order_by(t.c.at_s).limit(limit)
        with self.engine.connect() as conn:
            return [(r.at_s, r.step_s, json.loads(r.data_json)) for r in conn.execute(query)]

    def downsample(self, now_s: float, keep_s: float = DAY_S) -> int:
        """Replace per-cycle rows older than `keep_s` by one row a minute (the last of each).

        Returns how many rows were removed.
        """
        t = schema.telemetry
        cutoff = now_s - keep_s
        bucket = cast(t.c.at_s / DOWNSAMPLE_STEP_S, Integer)
        keep = (
            select(func.max(t.c.id))
            .where(t.c.step_s == 0, t.c.at_s < cutoff)
            .group_by(bucket)
            .scalar_subquery()
        )
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.step_s == 0, t.c.at_s < cutoff, t.c.id.in_(keep))
                .values(step_s=DOWNSAMPLE_STEP_S)
            )
            result = conn.execute(delete(t).where(t.c.step_s == 0, t.c.at_s < cutoff))
            return int(result.rowcount)
