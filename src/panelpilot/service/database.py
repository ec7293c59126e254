"""The service's database as a file: where it is, how it is opened, who holds it.

SQLite with a rollback journal and `synchronous=FULL` by default, so a change is on disk when
its transaction commits; PostgreSQL through psycopg 3 (`postgresql+psycopg://user@host/db`)
as well, with connections checked before use (a restarted server costs no failed write) and a
bounded connect time.

No WAL and no memory-mapped I/O: WAL maps its `-shm` index into memory, and a `-shm` that
cannot grow (a full disk, an immutable file) ends the process with SIGBUS instead of an error.
A rollback journal fails a write with an error the service can turn into an alert. The file
is created 0600 (it holds password hashes and the site's history), `open_engine` refuses a
damaged file in one line, and `ServiceLock` keeps a second service off the same database.
What is stored in it is `service/storage.py`'s; its tables are `service/schema.py`, brought up
to date by `service/migrate.py`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

CONNECT_TIMEOUT_S = 10


class StorageError(Exception):
    """The database could not be opened or written; says which URL and why."""


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


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # pool_pre_ping: a connection the server closed (a restart) is replaced, not failed.
        told = "connect_timeout" in parsed.query
        timeout = {} if told else {"connect_timeout": CONNECT_TIMEOUT_S}
        return create_engine(url, pool_pre_ping=True, connect_args=timeout)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_engine(url: str, *, check: bool = False) -> Engine:
    """The engine of the database at `url`, a SQLite file created private (its tables are
    `migrate.upgrade`'s).

    With `check`, a SQLite file is also read through (`PRAGMA quick_check`) so damage is
    found at start, not in the middle of a write. Raises `StorageError` in one line.
    """
    db = sqlite_path(url)
    try:
        if db is not None:
            _create_private(db)
        engine = _engine(url)
    except (SQLAlchemyError, OSError, ImportError) as exc:  # ImportError: no DB driver
        raise StorageError(f"cannot open database {display_url(url)}: {reason(exc)}") from None
    if check and engine.dialect.name == "sqlite":
        _quick_check(engine, str(db))
    return engine


def _quick_check(engine: Engine, name: str) -> None:
    try:
        with engine.connect() as conn:
            rows = [
                " ".join(str(r[0]).split()) for r in conn.exec_driver_sql("PRAGMA quick_check(1)")
            ]
    except SQLAlchemyError as exc:
        raise StorageError(f"database {name} is damaged: {reason(exc)}") from None
    if rows != ["ok"]:
        raise StorageError(
            f"database {name} is damaged ({'; '.join(rows)}): restore a backup or move it "
            "aside to start afresh"
        )


# pg_try_advisory_lock's key for "one service per database": "pp-serve" in ASCII (not the
# key `migrate.py` takes while migrating, which the service itself takes after this one).
PG_SERVICE_LOCK_KEY = 0x70702D7365727665
_HOLDER = re.compile(r"panelpilot pid (\d+)")


def _in_use(name: str, holder: str) -> StorageError:
    who = f"pid {holder}" if holder.isdigit() else "a process"
    return StorageError(
        f"database {name} is in use by another panelpilot service ({who}); stop it "
        "first, or give this one its own --db"
    )


class ServiceLock:
    """One service per database, naming the holder when refused.

    A SQLite file: an exclusive `flock` on `<database>.lock`, released by the kernel when the
    process ends however it ends, so a killed service never leaves a stale lock (the pid in the
    file is only there to name the holder). PostgreSQL: a session-level advisory lock
    (`pg_try_advisory_lock`) on a connection of its own, held for the service's life and
    released by the server when that connection ends, however the process ends; the holder
    is named by that connection's `application_name`.
    """

    def __init__(self, name: str, fd: int | None = None, conn: Connection | None = None) -> None:
        self.name = name
        self._fd = fd
        self._conn = conn

    @classmethod
    def acquire(cls, url: str) -> ServiceLock | None:
        """Lock the database at `url` for this process; None for in-memory SQLite.

        Raises `StorageError` naming the other process when it is already locked.
        """
        try:
            backend = make_url(url).get_backend_name()
        except ArgumentError:  # not a URL: opening the database says so
            return None
        if backend == "postgresql":
            return cls._acquire_postgres(url)
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
            raise _in_use(str(db), holder) from None
        # Naming the holder is best effort: on a full disk the lock holds without it.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(str(path), fd=fd)

    @classmethod
    def _acquire_postgres(cls, url: str) -> ServiceLock:
        shown = display_url(url)
        parsed = make_url(url)
        args: dict[str, Any] = {"application_name": f"panelpilot pid {os.getpid()}"}
        if "connect_timeout" not in parsed.query:
            args["connect_timeout"] = CONNECT_TIMEOUT_S
        try:
            engine = create_engine(url, poolclass=NullPool, connect_args=args)
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_SERVICE_LOCK_KEY}
            ).scalar()
            holder = "" if got else _pg_holder(conn)
        except (SQLAlchemyError, ImportError) as exc:
            raise StorageError(f"cannot lock database {shown}: {reason(exc)}") from None
        if not got:
            conn.close()
            raise _in_use(shown, holder)
        return cls(shown, conn=conn)

    def release(self) -> None:
        """Let another service open the database."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            # Closing the session releases its advisory locks; the unlock says so at once.
            with contextlib.suppress(SQLAlchemyError):
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_SERVICE_LOCK_KEY})
            with contextlib.suppress(SQLAlchemyError):
                conn.close()


def _pg_holder(conn: Connection) -> str:
    """The pid of the panelpilot holding the service lock, '' when it cannot be told."""
    name = conn.execute(
        text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid::bigint = :high AND l.objid::bigint = :low AND l.objsubid = 1"
        ),
        {"high": PG_SERVICE_LOCK_KEY >> 32, "low": PG_SERVICE_LOCK_KEY & 0xFFFFFFFF},
    ).scalar()
    found = _HOLDER.fullmatch(str(name or ""))
    return found.group(1) if found else ""
